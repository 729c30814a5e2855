//! `--baseline OLD/points.csv --tolerance 5%`: compares every `<column>_mean` of the grid
//! points found in both files (matched by their parameter values) and reports the ones
//! that moved in the bad direction by more than the tolerance, relative to the baseline:
//! a regression is `new > old + tol·|old|` for a lower-is-better column and
//! `new < old − tol·|old|` for a higher-is-better one (so from a baseline of 0, any change
//! in the bad direction counts).
//!
//! Direction: the columns in [`HIGHER_IS_BETTER`] (and the per-service `svc_<name>_…`
//! forms of them) are better when higher; the ones in [`NOT_COMPARED`] describe the
//! workload or the run rather than its quality and are not compared; every other column
//! (latencies, costs, failures, rejections, pending pods, recovery time…) is better lower.

use super::check::render_table;
use super::store::Table;

/// Columns (or per-service suffixes) where higher is better.
pub const HIGHER_IS_BETTER: &[&str] = &[
    "availability",
    "slo_attainment",
    "node_availability",
    "time_available",
    "requests_succeeded",
    "succeeded",
    "pods_scheduled",
    "pods_succeeded",
    "pods_running_end",
    "scheduling_throughput_pods_per_s",
];

/// Columns (or per-service suffixes) that are not compared.
pub const NOT_COMPARED: &[&str] = &[
    "seed",
    "simulated_s",
    "events_processed",
    "nodes",
    "pods_created",
    "scheduling_attempts",
    "nodes_examined",
    "requests",
    "arrival_rate_per_s",
    "cpu_allocation_mean",
    "cpu_allocation_peak",
    "memory_allocation_mean",
    "memory_allocation_peak",
    "utilisation",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    NotCompared,
}

/// The direction of a summary column (without the `_mean` suffix).
pub fn direction(column: &str) -> Direction {
    let base = match column.strip_prefix("svc_") {
        // svc_<name>_<metric>: try every split, since names may contain '_'.
        Some(rest) => {
            let suffixes: Vec<&str> = rest.match_indices('_').map(|(i, _)| &rest[i + 1..]).collect();
            let known = |list: &[&str]| suffixes.iter().copied().find(|s| list.contains(s));
            if let Some(s) = known(HIGHER_IS_BETTER) {
                s
            } else if let Some(s) = known(NOT_COMPARED) {
                s
            } else {
                column
            }
        }
        None => column,
    };
    if HIGHER_IS_BETTER.contains(&base) {
        Direction::HigherIsBetter
    } else if NOT_COMPARED.contains(&base) {
        Direction::NotCompared
    } else {
        Direction::LowerIsBetter
    }
}

/// Parses `5%` or `0.05` into a fraction.
pub fn parse_tolerance(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    };
    v.ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| {
        format!("--tolerance {s}: expected a non-negative percentage or fraction, e.g. 5% or 0.05")
    })
}

/// A metric of a grid point that regressed.
#[derive(Clone, Debug, PartialEq)]
pub struct Regression {
    pub point: Vec<String>,
    pub column: String,
    pub old: f64,
    pub new: f64,
}

/// The outcome of a comparison.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    pub points_matched: usize,
    pub points_new: usize,
    pub metrics_compared: usize,
    pub regressions: Vec<Regression>,
}

/// Compares `new` (this sweep's points.csv) with `old` (the baseline at `old_path`).
/// Errors (exit 2) when the files have different parameters or no point in common.
pub fn compare(old: &Table, old_path: &str, new: &Table, tolerance: f64) -> Result<Comparison, String> {
    let params = |t: &Table| -> Vec<String> {
        t.header.iter().filter(|h| h.starts_with("parameter_")).cloned().collect()
    };
    let (po, pn) = (params(old), params(new));
    if po != pn {
        return Err(format!(
            "--baseline {old_path}: its parameters ({}) differ from this sweep's ({}); expected the points.csv \
             of a sweep over the same parameters",
            if po.is_empty() { "none".to_string() } else { po.join(", ") },
            if pn.is_empty() { "none".to_string() } else { pn.join(", ") }
        ));
    }
    if old.column("replications").is_none() {
        return Err(format!("--baseline {old_path}: no column `replications`; expected a points.csv file"));
    }
    let key = |t: &Table, row: &[String]| -> Vec<String> {
        pn.iter().map(|p| t.cell(row, p).unwrap_or("").to_string()).collect()
    };
    let mut out = Comparison::default();
    for row in &new.rows {
        let k = key(new, row);
        let Some(orow) = old.rows.iter().find(|r| key(old, r) == k) else {
            out.points_new += 1;
            continue;
        };
        out.points_matched += 1;
        for col in new.header.iter().filter(|h| h.ends_with("_mean")) {
            let metric = &col[..col.len() - "_mean".len()];
            let dir = direction(metric);
            if dir == Direction::NotCompared {
                continue;
            }
            let (Some(n), Some(o)) = (
                new.cell(row, col).and_then(|v| v.parse::<f64>().ok()),
                old.cell(orow, col).and_then(|v| v.parse::<f64>().ok()),
            ) else {
                continue;
            };
            out.metrics_compared += 1;
            let allowed = tolerance * o.abs();
            let worse = match dir {
                Direction::LowerIsBetter => n - o > allowed,
                Direction::HigherIsBetter => o - n > allowed,
                Direction::NotCompared => false,
            };
            if worse {
                out.regressions.push(Regression { point: k.clone(), column: col.clone(), old: o, new: n });
            }
        }
    }
    if out.points_matched == 0 {
        return Err(format!(
            "--baseline {old_path}: no grid point of this sweep is in the baseline (points are matched by \
             their parameter values); expected a baseline from a sweep over the same values"
        ));
    }
    Ok(out)
}

/// The diff table of the regressions.
pub fn render(c: &Comparison, params: &[String], tolerance: f64) -> String {
    let mut lines = vec![{
        let mut h = params.to_vec();
        h.extend(["column", "baseline", "new", "change", "direction"].map(String::from));
        h
    }];
    for r in &c.regressions {
        let mut l = r.point.clone();
        let change = if r.old != 0.0 {
            format!("{:+.2}%", (r.new - r.old) / r.old.abs() * 100.0)
        } else {
            format!("{:+.6}", r.new - r.old)
        };
        let metric = &r.column[..r.column.len() - "_mean".len()];
        let dir = if direction(metric) == Direction::HigherIsBetter {
            "higher is better"
        } else {
            "lower is better"
        };
        l.extend([
            r.column.clone(),
            format!("{:.6}", r.old),
            format!("{:.6}", r.new),
            change,
            dir.to_string(),
        ]);
        lines.push(l);
    }
    format!(
        "baseline: {} metric{} regressed beyond {:.2}%:\n{}",
        c.regressions.len(),
        if c.regressions.len() == 1 { "" } else { "s" },
        tolerance * 100.0,
        render_table(&lines)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions() {
        assert_eq!(direction("availability"), Direction::HigherIsBetter);
        assert_eq!(direction("svc_web_availability"), Direction::HigherIsBetter);
        assert_eq!(direction("svc_my_api_time_available"), Direction::HigherIsBetter);
        assert_eq!(direction("latency_p99_ms"), Direction::LowerIsBetter);
        assert_eq!(direction("svc_web_latency_p99_ms"), Direction::LowerIsBetter);
        assert_eq!(direction("cost"), Direction::LowerIsBetter);
        assert_eq!(direction("events_processed"), Direction::NotCompared);
        assert_eq!(direction("svc_web_requests"), Direction::NotCompared);
    }

    #[test]
    fn tolerance() {
        assert_eq!(parse_tolerance("5%").unwrap(), 0.05);
        assert_eq!(parse_tolerance("0.1").unwrap(), 0.1);
        assert!(parse_tolerance("-1%").is_err());
        assert!(parse_tolerance("five").is_err());
    }

    #[test]
    fn regressions_in_the_bad_direction_only() {
        let t = |rows: &[[&str; 4]]| Table {
            header: ["parameter_x", "replications", "latency_p99_ms_mean", "availability_mean"]
                .map(String::from)
                .to_vec(),
            rows: rows.iter().map(|r| r.map(String::from).to_vec()).collect(),
        };
        let old = t(&[["1", "3", "100", "0.99"], ["2", "3", "100", "0.99"]]);
        let new = t(&[["1", "3", "104", "0.999"], ["2", "3", "90", "0.90"], ["3", "3", "1", "1"]]);
        let c = compare(&old, "old.csv", &new, 0.05).unwrap();
        assert_eq!(c.points_matched, 2);
        assert_eq!(c.points_new, 1);
        assert_eq!(c.metrics_compared, 4);
        assert_eq!(c.regressions.len(), 1);
        assert_eq!(c.regressions[0].column, "availability_mean");
        assert_eq!(c.regressions[0].point, ["2"]);
        let c = compare(&old, "old.csv", &t(&[["1", "3", "106", "0.99"]]), 0.05).unwrap();
        assert_eq!(c.regressions.len(), 1);
        assert!(render(&c, &["parameter_x".into()], 0.05).contains("+6.00%"));
    }
}
