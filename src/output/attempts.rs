//! `scheduling-attempts.csv` (`clustersim run --explain`): one row per scheduling attempt,
//! written as the run goes (a buffered file, never held in memory), so its size follows the
//! attempts but the run's memory does not.
//!
//! Columns: `time_s`, `pod`, `template`, `attempt` (the pod's n-th), `result` (`Scheduled`
//! or `Unschedulable`), `nodes_examined`, `feasible_nodes`, `node` (the chosen one),
//! `rejected_<plugin>` for each filter plugin in upstream order (examined nodes it rejected
//! first: with `feasible_nodes` they add up to `nodes_examined`), `message` (upstream's
//! "0/N nodes are available: …" for a failure), then for a placement `score_<plugin>` (the
//! chosen node's weighted score per score plugin) and `score_total`, `runner_up_node`,
//! `runner_up_score_<plugin>`, `runner_up_score_total`, and for a failure that preempted
//! `nominated_node` and `victims`.

use crate::cluster::ClusterState;
use crate::scheduler::explain::{Attempt, AttemptSink, FILTERS, SCORES, Scores};
use std::path::{Path, PathBuf};

/// The header of `scheduling-attempts.csv`.
pub fn header() -> Vec<String> {
    let mut h: Vec<String> =
        ["time_s", "pod", "template", "attempt", "result", "nodes_examined", "feasible_nodes", "node"]
            .map(String::from)
            .to_vec();
    h.extend(FILTERS.iter().map(|f| format!("rejected_{f}")));
    h.push("message".into());
    h.extend(SCORES.iter().map(|f| format!("score_{f}")));
    h.push("score_total".into());
    h.push("runner_up_node".into());
    h.extend(SCORES.iter().map(|f| format!("runner_up_score_{f}")));
    h.push("runner_up_score_total".into());
    h.push("nominated_node".into());
    h.push("victims".into());
    h
}

/// One row.
pub fn row(cluster: &ClusterState, a: &Attempt) -> Vec<String> {
    let mut r = vec![
        format!("{:.6}", a.time.as_secs_f64()),
        a.pod.to_string(),
        cluster.templates.get(a.template as usize).map(|t| t.name.clone()).unwrap_or_default(),
        a.attempt.to_string(),
        if a.node.is_some() { "Scheduled" } else { "Unschedulable" }.to_string(),
        a.examined.to_string(),
        a.feasible.to_string(),
        a.node.map(|n| cluster.node_name(n)).unwrap_or_default(),
    ];
    r.extend(a.rejected.iter().map(u32::to_string));
    r.push(a.message());
    let scores = |s: Option<&Scores>| -> Vec<String> {
        match s {
            Some(s) => s.iter().map(i64::to_string).chain([s.iter().sum::<i64>().to_string()]).collect(),
            None => vec![String::new(); SCORES.len() + 1],
        }
    };
    r.extend(scores(a.chosen_scores.as_ref()));
    r.push(a.runner_up.map(|(n, _)| cluster.node_name(n)).unwrap_or_default());
    r.extend(scores(a.runner_up.as_ref().map(|(_, s)| s)));
    r.push(a.nominated.map(|(n, _)| cluster.node_name(n)).unwrap_or_default());
    r.push(a.nominated.map(|(_, v)| v.to_string()).unwrap_or_default());
    r
}

/// Streams rows to a file; the first write error is kept and reported by [`CsvSink::close`].
pub struct CsvSink {
    path: PathBuf,
    w: Option<csv::Writer<std::io::BufWriter<std::fs::File>>>,
    error: Option<String>,
}

impl CsvSink {
    /// Creates `path` and writes the header.
    pub fn create(path: &Path) -> std::io::Result<CsvSink> {
        let f = std::fs::File::create(path)?;
        let mut w = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 16, f));
        w.write_record(header()).map_err(std::io::Error::other)?;
        Ok(CsvSink { path: path.to_path_buf(), w: Some(w), error: None })
    }

    /// Flushes and syncs the file; `Err` names it and the first failure.
    pub fn close(mut self) -> Result<(), String> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let Some(w) = self.w.take() else { return Ok(()) };
        let inner = w.into_inner().map_err(|e| format!("{}: {}", self.path.display(), e.error()))?;
        let f = inner.into_inner().map_err(|e| format!("{}: {}", self.path.display(), e.error()))?;
        f.sync_all().map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

impl AttemptSink for CsvSink {
    fn record(&mut self, cluster: &ClusterState, a: &Attempt) {
        if self.error.is_some() {
            return;
        }
        if let Some(w) = &mut self.w
            && let Err(e) = w.write_record(row(cluster, a))
        {
            self.error = Some(format!("{}: {e}", self.path.display()));
        }
    }

    fn finish(self: Box<Self>) -> Result<(), String> {
        self.close()
    }
}

/// Keeps the attempts in memory (tests).
#[derive(Default)]
pub struct MemorySink(pub Vec<Attempt>);

impl AttemptSink for MemorySink {
    fn record(&mut self, _cluster: &ClusterState, a: &Attempt) {
        self.0.push(a.clone());
    }
}
