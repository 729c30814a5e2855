//! The pods that waited longest, from `scheduling-attempts.csv` (`run --explain`), for the
//! report: each pod's wait from its first attempt to its placement (or to the end of the
//! run, if it never was placed), its attempts and the last reason it did not fit. The file
//! is read row by row, so its size does not matter; memory follows the pods.

use std::path::Path;

/// One pod's wait.
#[derive(Clone, Debug, PartialEq)]
pub struct Wait {
    pub pod: u64,
    pub template: String,
    /// Seconds from its first attempt to its placement or to the end.
    pub waited_s: f64,
    pub attempts: u64,
    /// When it was placed (`None`: still waiting at the end).
    pub scheduled_s: Option<f64>,
    /// The message of its last failed attempt.
    pub last_reason: String,
}

#[derive(Clone, Debug, Default)]
struct Entry {
    template: String,
    first: f64,
    attempts: u64,
    scheduled: Option<f64>,
    last_reason: String,
}

/// The `top` pods that waited longest (ties: lower pod index first), or `Err` with a message
/// for a malformed file. `end_s` is the run's end (from `summary.csv`).
pub fn longest(path: &Path, end_s: f64, top: usize) -> Result<Vec<Wait>, String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let header = r.headers().map_err(|e| format!("{}: {e}", path.display()))?.clone();
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| format!("{}: no column {name}", path.display()))
    };
    let (c_time, c_pod, c_tmpl, c_result, c_msg) =
        (col("time_s")?, col("pod")?, col("template")?, col("result")?, col("message")?);
    let mut pods: Vec<Option<Entry>> = Vec::new();
    let mut rec = csv::StringRecord::new();
    while r.read_record(&mut rec).map_err(|e| format!("{}: {e}", path.display()))? {
        let get = |i: usize| rec.get(i).unwrap_or("");
        let bad = |what: &str| {
            format!("{}: line {}: bad {what}", path.display(), rec.position().map_or(0, |p| p.line()))
        };
        let t: f64 = get(c_time).parse().map_err(|_| bad("time_s"))?;
        let pod: usize = get(c_pod).parse().map_err(|_| bad("pod"))?;
        if pods.len() <= pod {
            pods.resize(pod + 1, None);
        }
        let e = pods[pod].get_or_insert_with(|| Entry {
            template: get(c_tmpl).to_string(),
            first: t,
            ..Entry::default()
        });
        e.attempts += 1;
        if get(c_result) == "Scheduled" {
            e.scheduled.get_or_insert(t);
        } else {
            e.last_reason = get(c_msg).to_string();
        }
    }
    let mut waits: Vec<Wait> = pods
        .into_iter()
        .enumerate()
        .filter_map(|(i, e)| e.map(|e| (i, e)))
        .map(|(i, e)| Wait {
            pod: i as u64,
            waited_s: (e.scheduled.unwrap_or(end_s) - e.first).max(0.0),
            template: e.template,
            attempts: e.attempts,
            scheduled_s: e.scheduled,
            last_reason: e.last_reason,
        })
        .filter(|w| w.attempts > 1 || w.scheduled_s.is_none())
        .collect();
    waits.sort_by(|a, b| b.waited_s.total_cmp(&a.waited_s).then(a.pod.cmp(&b.pod)));
    waits.truncate(top);
    Ok(waits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_waits_first() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("a.csv");
        std::fs::write(
            &p,
            "time_s,pod,template,result,message\n\
             0,0,t,Unschedulable,0/3 nodes are available: 3 Insufficient cpu.\n\
             1,1,t,Scheduled,\n\
             2,0,t,Unschedulable,0/3 nodes are available: 2 Insufficient cpu.\n\
             5,2,u,Unschedulable,x\n\
             9,0,t,Scheduled,\n",
        )
        .expect("w");
        let w = longest(&p, 20.0, 10).expect("parses");
        assert_eq!(w.len(), 2, "pod 1 was placed at its first attempt");
        assert_eq!((w[0].pod, w[0].waited_s, w[0].attempts), (2, 15.0, 1), "still waiting at the end");
        assert_eq!((w[1].pod, w[1].waited_s, w[1].scheduled_s), (0, 9.0, Some(9.0)));
        assert_eq!(w[1].last_reason, "0/3 nodes are available: 2 Insufficient cpu.");
    }
}
