//! Memory that follows the pods alive (#18): a run that releases ended pods keeps as many
//! pod slots as the most pods alive at once, gives the same results as one that keeps every
//! pod, and writes the same `pods.csv` through the streamed, spilled and merged path.

use clustersim::output::pods::PodsCsv;
use clustersim::runner;
use clustersim::sim::{RunOutput, Simulation};
use std::path::Path;

fn load(file: &str, sets: &[&str]) -> clustersim::scenario::Scenario {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    runner::load(Path::new(file), &sets, None).expect("scenario loads")
}

/// A week of churn on 50 nodes: about 700,000 pods, about 700 alive at a time.
#[test]
fn a_long_churn_keeps_slots_for_the_pods_alive_only() {
    let s =
        load("scenarios/churn-1day.yaml", &["nodePools.0.count=50", "duration=168h", "sampleInterval=1h"]);
    let mut sim = Simulation::new(&s, s.seed).expect("builds");
    sim.release_ended_pods(None);
    // Check the books now and then along the way, with pods released.
    let end = sim.end();
    let mut t = clustersim::engine::SimTime::ZERO;
    while sim.step_until(t) {
        sim.cluster.check_invariants().expect("invariants hold with released pods");
        t += clustersim::engine::SimDuration::from_secs(6 * 3600);
        if t > end {
            t = end;
        }
    }
    let out = sim.finish();
    let c = &out.cluster;
    c.check_invariants().expect("invariants at the end");
    let created = c.totals.pods_created;
    let peak = c.totals.pods_alive_peak;
    let slots = c.pod_slots() as u64;
    assert!(created > 600_000, "{created} pods created");
    assert!(peak > 0 && peak < 2_000, "peak alive {peak}");
    assert!(slots <= peak, "{slots} slots for at most {peak} pods alive at once");
    assert!(c.pods.stored() as u64 <= peak, "{} stored", c.pods.stored());
    // The id index holds only the pages with a pod still stored (and the one being filled).
    assert!(c.pods.index_pages() <= 8, "{} index pages", c.pods.index_pages());
    let pods_created = out.summary.iter().find(|(k, _)| k == "pods_created").map(|(_, v)| v.render());
    assert_eq!(pods_created, Some(created.to_string()));
}

/// Runs `s` keeping every pod and releasing them (rows spilled every `limit`): the same
/// summary and time series, the same `pods.csv` bytes. Returns the releasing run.
fn same_both_ways(s: &clustersim::scenario::Scenario, limit: usize) -> (RunOutput, u64) {
    let kept = Simulation::new(s, s.seed).expect("builds").run();
    let reference = clustersim::output::pods_csv(&kept.cluster).expect("renders");
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = PodsCsv::new(dir.path(), limit);
    let mut released =
        runner::simulate_with(s, s.seed, None, None, Some(rows), runner::Threads::ONE).expect("runs");
    assert_eq!(kept.summary, released.summary, "summary");
    let ts =
        |o: &RunOutput| clustersim::output::timeseries_csv(&o.metrics, &o.timeseries_columns).expect("ts");
    assert_eq!(ts(&kept), ts(&released), "timeseries.csv");
    let rows = released.pods_csv.take().expect("rows handed back");
    let spilled = rows.spilled_rows;
    let path = dir.path().join("pods.csv");
    rows.write(&released.cluster, &path).expect("writes");
    let streamed = std::fs::read(&path).expect("reads");
    assert!(streamed == reference, "pods.csv differs from the whole table rendered at once");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("lists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec!["pods.csv".to_string()], "spilled runs are removed");
    assert!(released.cluster.pods.stored() as u64 <= kept.cluster.totals.pods_created);
    (released, spilled)
}

/// Churn pods end out of id order (exponential lifetimes); with a buffer of 7 rows the
/// rows go through many runs and the merge of runs into one (64 at a time).
#[test]
fn streamed_pods_csv_is_the_same_bytes_through_spills_and_merges() {
    let s = load("scenarios/churn-1day.yaml", &["nodePools.0.count=20", "duration=2h"]);
    let (out, spilled) = same_both_ways(&s, 7);
    assert!(spilled > 7 * 64, "{spilled} rows spilled: more than 64 runs, so runs were merged");
    assert!(out.cluster.totals.pods_created > 5_000);
}

/// Deployments with graceful termination, node failures and their replacements, evictions.
#[test]
fn streamed_pods_csv_is_the_same_with_failures_and_termination() {
    for file in ["scenarios/node-failure.yaml", "scenarios/zone-outage.yaml", "scenarios/hpa-spike.yaml"] {
        let s = load(file, &[]);
        same_both_ways(&s, 5);
    }
}

/// GPU devices (the `gpu_devices` column), pods that give up (deleted while Pending).
#[test]
fn streamed_pods_csv_is_the_same_with_gpus_and_give_ups() {
    let s = load("scenarios/gpu-sharing-fgd.yaml", &["duration=10800s"]);
    same_both_ways(&s, 11);
}

/// With a control plane: creations, bindings and status updates in flight when pods end.
#[test]
fn streamed_pods_csv_is_the_same_with_a_control_plane() {
    let s = load("scenarios/cl2-density.yaml", &[]);
    same_both_ways(&s, 13);
}
