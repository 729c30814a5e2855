//! Time-series charts from `timeseries.csv`: pods, nodes, allocation (GPUs included when
//! the cluster has some), GPU fragmentation, scheduling throughput, cost, and per service
//! request rate, latency percentiles, utilisation and replicas.

use super::ChartError;
use super::csvdata::Table;
use super::render::{Chart, Marks, Series};
use std::path::Path;

/// The time axis unit, picked by the run length.
struct TimeUnit {
    divisor: f64,
    label: &'static str,
}

fn time_unit(max_s: f64) -> TimeUnit {
    if max_s > 3.0 * 3600.0 {
        TimeUnit { divisor: 3600.0, label: "time (h)" }
    } else if max_s > 600.0 {
        TimeUnit { divisor: 60.0, label: "time (min)" }
    } else {
        TimeUnit { divisor: 1.0, label: "time (s)" }
    }
}

/// Per-service column suffixes of `timeseries.csv` (after `svc_<name>_`).
const SVC_ARRIVALS: &str = "_arrivals";

/// The charts for `timeseries.csv` (read from `path`), titled with `scenario`.
pub fn charts(table: &Table, path: &Path, scenario: &str) -> Result<Vec<Chart>, ChartError> {
    let time = table.numbers("time_s").ok_or_else(|| ChartError::BadInput {
        path: path.to_path_buf(),
        msg: "no time_s column".to_string(),
    })?;
    let max_t = time.iter().flatten().fold(0.0f64, |a, b| a.max(*b));
    let unit = time_unit(max_t);
    let xs: Vec<Option<f64>> = time.iter().map(|t| t.map(|t| t / unit.divisor)).collect();

    // One series from a column, or None if the column is absent.
    let col = |name: &str, label: &str| -> Option<Series> {
        let ys = table.numbers(name)?;
        let points = xs.iter().zip(ys).filter_map(|(x, y)| x.map(|x| (x, y))).collect();
        Some(Series::new(label, points))
    };
    let chart = |name: &str, what: &str, y_label: &str, series: Vec<Series>| Chart {
        name: name.to_string(),
        title: format!("{scenario}: {what}"),
        x_label: unit.label.to_string(),
        y_label: y_label.to_string(),
        series,
        x_categories: None,
        y_from_zero: true,
        y_integer: matches!(y_label, "pods" | "nodes"),
        marks: Marks::Lines,
    };

    let mut out = Vec::new();
    let pods = [
        ("pods_running", "running"),
        ("pods_pending", "pending"),
        ("pods_starting", "starting"),
        ("pods_terminating", "terminating"),
    ];
    out.push(chart("pods", "pods", "pods", pods.iter().filter_map(|(c, l)| col(c, l)).collect()));

    let mut nodes: Vec<Series> =
        [("nodes_ready", "ready"), ("nodes_down", "down")].iter().filter_map(|(c, l)| col(c, l)).collect();
    for h in &table.header {
        if let Some(pool) = h.strip_prefix("nodes_")
            && h != "nodes_ready"
            && h != "nodes_down"
            && let Some(s) = col(h, &format!("pool {pool}"))
        {
            nodes.push(s);
        }
    }
    out.push(chart("nodes", "nodes", "nodes", nodes));

    let alloc = [
        ("cpu_allocation", "CPU requested / allocatable"),
        ("memory_allocation", "memory requested / allocatable"),
        ("gpu_allocation", "GPU requested / allocatable"),
    ];
    out.push(chart(
        "allocation",
        "allocation",
        "fraction",
        alloc.iter().filter_map(|(c, l)| col(c, l)).collect(),
    ));
    // The FGD paper's fragmentation (clusters with GPUs).
    let frag = [
        ("gpu_frag_ratio_of_free", "fragmented / free GPU milli"),
        ("gpu_frag_ratio_of_total", "fragmented / all GPU milli"),
    ];
    out.push(chart(
        "gpu-fragmentation",
        "GPU fragmentation",
        "fraction",
        frag.iter().filter_map(|(c, l)| col(c, l)).collect(),
    ));
    out.extend(
        col("scheduling_throughput_pods_per_s", "pods bound")
            .map(|s| chart("scheduling-throughput", "scheduling throughput", "pods/s", vec![s])),
    );
    out.extend(
        col("cost", "cost since the start").map(|s| chart("cost", "cost", "cost (price units)", vec![s])),
    );

    let services: Vec<String> = table
        .header
        .iter()
        .filter_map(|h| h.strip_prefix("svc_")?.strip_suffix(SVC_ARRIVALS).map(str::to_string))
        .collect();
    if !services.is_empty() {
        let mut rates = Vec::new();
        let mut latency = Vec::new();
        let mut util = Vec::new();
        let many = services.len() > 1;
        let name = |svc: &str, what: &str| if many { format!("{svc} {what}") } else { what.to_string() };
        for svc in &services {
            rates.push(rate_series(
                table,
                &xs,
                &time,
                &[&format!("svc_{svc}_arrivals")],
                &name(svc, "arrivals"),
            ));
            let errors: Vec<String> =
                ["rejected", "timed_out", "failed"].iter().map(|o| format!("svc_{svc}_{o}")).collect();
            let refs: Vec<&str> = errors.iter().map(String::as_str).collect();
            let err = rate_series(table, &xs, &time, &refs, &name(svc, "rejected, timed out or failed"));
            if err.points.iter().any(|(_, y)| y.is_some_and(|y| y > 0.0)) {
                rates.push(err);
            }
            for p in ["p50", "p90", "p99"] {
                latency.extend(col(&format!("svc_{svc}_latency_{p}_ms"), &name(svc, p)));
            }
            util.extend(col(&format!("svc_{svc}_utilisation"), &name(svc, "busy / ready workers")));
        }
        out.push(chart("requests", "request rate", "requests/s", rates));
        out.push(chart("latency", "request latency (succeeded requests)", "latency (ms)", latency));
        out.push(chart("utilisation", "service utilisation", "fraction", util));
    }

    // Replicas: Deployments, HPA recommendations and pods serving each service.
    let mut replicas = Vec::new();
    for h in &table.header {
        let label = if let Some(d) = h.strip_prefix("deploy_").and_then(|r| r.strip_suffix("_replicas")) {
            format!("{d} replicas")
        } else if let Some(d) = h.strip_prefix("hpa_").and_then(|r| r.strip_suffix("_desired")) {
            format!("{d} HPA desired")
        } else if let Some(d) = h.strip_prefix("svc_").and_then(|r| r.strip_suffix("_ready_pods")) {
            format!("{d} ready pods")
        } else {
            continue;
        };
        replicas.extend(col(h, &label));
    }
    out.push(chart("replicas", "replicas", "pods", replicas));
    Ok(out.into_iter().filter(Chart::has_data).collect())
}

/// Σ of per-interval counts in `columns` divided by the interval length (the row's time
/// minus the previous row's). The first row has no interval and no value.
fn rate_series(
    table: &Table,
    xs: &[Option<f64>],
    time: &[Option<f64>],
    columns: &[&str],
    label: &str,
) -> Series {
    let cols: Vec<Vec<Option<f64>>> = columns.iter().filter_map(|c| table.numbers(c)).collect();
    let mut points = Vec::with_capacity(xs.len());
    for i in 0..xs.len() {
        let Some(x) = xs[i] else { continue };
        let dt = match (i.checked_sub(1).and_then(|j| time[j]), time[i]) {
            (Some(a), Some(b)) if b > a => Some(b - a),
            _ => None,
        };
        let sum: Option<f64> = cols.iter().map(|c| c[i]).sum();
        points.push((x, dt.zip(sum).map(|(dt, n)| n / dt)));
    }
    Series::new(label, points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("timeseries.csv");
        std::fs::write(&p, text).expect("write");
        Table::read_if_exists(&p).expect("reads").expect("exists")
    }

    #[test]
    fn request_rate_is_arrivals_per_second() {
        let t = table(
            "time_s,pods_running,svc_web_arrivals,svc_web_rejected,svc_web_timed_out,svc_web_failed\n\
             0,0,0,0,0,0\n10,1,50,0,0,0\n30,2,100,1,0,1\n",
        );
        let charts = charts(&t, Path::new("timeseries.csv"), "s").expect("charts");
        let req = charts.iter().find(|c| c.name == "requests").expect("requests chart");
        assert_eq!(req.series[0].points, vec![(0.0, None), (10.0, Some(5.0)), (30.0, Some(5.0))]);
        assert_eq!(req.series[1].points[2], (30.0, Some(0.1)));
        assert_eq!(req.title, "s: request rate");
        assert!(charts.iter().any(|c| c.name == "pods"));
        assert!(!charts.iter().any(|c| c.name == "latency"), "no latency columns, no chart");
    }

    #[test]
    fn nodes_per_pool_and_replicas_columns_are_plotted() {
        let t = table(
            "time_s,nodes_ready,nodes_down,nodes_gpu,deploy_web_replicas,hpa_web_desired\n0,1,0,1,2,3\n",
        );
        let charts = charts(&t, Path::new("timeseries.csv"), "s").expect("charts");
        let nodes = charts.iter().find(|c| c.name == "nodes").expect("nodes");
        let labels: Vec<&str> = nodes.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["ready", "down", "pool gpu"]);
        let rep = charts.iter().find(|c| c.name == "replicas").expect("replicas");
        assert_eq!(rep.series.len(), 2);
    }

    #[test]
    fn gpu_columns_give_the_gpu_allocation_and_a_fragmentation_chart() {
        let t = table(
            "time_s,cpu_allocation,memory_allocation,gpu_allocation,gpu_frag_milli,gpu_frag_ratio_of_free,\
             gpu_frag_ratio_of_total\n0,0.1,0.2,0.5,300,0.6,0.3\n60,0.2,0.3,0.75,100,0.4,0.1\n",
        );
        let charts = charts(&t, Path::new("timeseries.csv"), "s").expect("charts");
        let alloc = charts.iter().find(|c| c.name == "allocation").expect("allocation");
        let labels: Vec<&str> = alloc.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            ["CPU requested / allocatable", "memory requested / allocatable", "GPU requested / allocatable"]
        );
        assert_eq!(alloc.series[2].points, vec![(0.0, Some(0.5)), (60.0, Some(0.75))]);
        let frag = charts.iter().find(|c| c.name == "gpu-fragmentation").expect("fragmentation chart");
        assert_eq!(frag.title, "s: GPU fragmentation");
        assert_eq!(frag.y_label, "fraction");
        let labels: Vec<&str> = frag.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["fragmented / free GPU milli", "fragmented / all GPU milli"]);
        assert_eq!(frag.series[0].points, vec![(0.0, Some(0.6)), (60.0, Some(0.4))]);
        assert_eq!(frag.series[1].points, vec![(0.0, Some(0.3)), (60.0, Some(0.1))]);

        // Without GPU columns: two allocation series and no fragmentation chart.
        let t = table("time_s,cpu_allocation,memory_allocation\n0,0.1,0.2\n");
        let without = super::charts(&t, Path::new("timeseries.csv"), "s").expect("charts");
        let alloc = without.iter().find(|c| c.name == "allocation").expect("allocation");
        assert_eq!(alloc.series.len(), 2);
        assert!(!without.iter().any(|c| c.name == "gpu-fragmentation"));
    }

    #[test]
    fn the_time_unit_follows_the_run_length() {
        assert_eq!(time_unit(300.0).label, "time (s)");
        assert_eq!(time_unit(3600.0).label, "time (min)");
        assert_eq!(time_unit(86400.0).label, "time (h)");
    }
}
