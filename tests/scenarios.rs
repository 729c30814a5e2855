//! End-to-end checks of `clustersim run` on the shipped scenarios: the output files exist,
//! the columns are the documented ones and the numbers make sense.

mod common;
use common::*;

#[test]
fn quickstart_runs_and_writes_every_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scen = repo().join("scenarios/quickstart.yaml");
    let o = run_in(dir.path(), &["run", &scen.to_string_lossy(), "--out", "out", "--pods"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let out = dir.path().join("out");
    for f in ["summary.csv", "timeseries.csv", "pods.csv", "run.json"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let s = summary(&out);
    assert_eq!(num(&s, "seed"), 42.0);
    assert_eq!(num(&s, "simulated_s"), 3600.0);
    assert_eq!(num(&s, "nodes"), 12.0);
    // 40 web replicas plus about 0.12/s × 3600 s = 432 batch jobs.
    let created = num(&s, "pods_created");
    assert!((380.0..=520.0).contains(&created), "pods_created {created}");
    let ended = num(&s, "pods_running_end")
        + num(&s, "pods_starting_end")
        + num(&s, "pods_pending_end")
        + num(&s, "pods_succeeded")
        + num(&s, "pods_failed");
    assert_eq!(ended, created, "every pod is in exactly one phase");
    assert!(num(&s, "unschedulable_attempts") > 0.0, "the batch jobs overfill the cluster at times");
    assert!(num(&s, "pod_startup_p50_s") >= 1.0, "start-up includes the 1 s container start");
    assert!(num(&s, "pod_startup_p99_s") >= num(&s, "pod_startup_p50_s"));
    assert!(num(&s, "cpu_allocation_peak") <= 1.0 && num(&s, "cpu_allocation_peak") > 0.9);
    assert!((num(&s, "node_hours") - 12.0).abs() < 1e-9);
    assert!((num(&s, "cost") - 12.0 * 0.19).abs() < 1e-6);
    assert!((num(&s, "cost_pool_general") - num(&s, "cost")).abs() < 1e-9);
    let ts = std::fs::read_to_string(out.join("timeseries.csv")).expect("timeseries");
    assert_eq!(ts.lines().count(), 1 + 121, "rows at 0, 30 s, …, 3600 s");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).expect("run.json"))
            .expect("json");
    assert_eq!(json["seed"], 42);
    assert_eq!(json["scenario"]["nodePools"][0]["allocatable"]["pods"], "110");
    assert!(json["wall_clock_s"].is_number());
    assert!(!ts.contains("wall"), "wall-clock figures never go to CSVs");
    // The time series' cumulative cost ends at the summary's cost.
    let last_cost: f64 =
        ts.lines().last().and_then(|l| l.split(',').nth(9)).and_then(|c| c.parse().ok()).expect("cost");
    assert!((last_cost - num(&s, "cost")).abs() < 1e-6);
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    for entry in std::fs::read_dir(repo().join("scenarios")).expect("scenarios/") {
        let path = entry.expect("entry").path();
        // scenarios/sweeps/ (sweep files) and scenarios/studies/ (study scripts) are not scenarios.
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        if text.contains("shared/data/") && !repo().join("../shared/data").is_dir() {
            eprintln!("SKIPPED {}: ../shared/data is absent", path.display());
            continue;
        }
        let o = run_in(&repo(), &["validate", &path.to_string_lossy()]);
        assert_eq!(o.code, 0, "{}: {}", path.display(), o.stderr);
    }
}

#[test]
fn set_and_seed_overrides_apply() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scen = repo().join("scenarios/quickstart.yaml");
    let o = run_in(
        dir.path(),
        &[
            "run",
            &scen.to_string_lossy(),
            "--out",
            "o",
            "--quiet",
            "--seed",
            "5",
            "--set",
            "nodePools.0.count=30",
            "--set",
            "scheduler.scoringStrategy=MostAllocated",
            "--duration",
            "10m",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let s = summary(&dir.path().join("o"));
    assert_eq!(num(&s, "seed"), 5.0);
    assert_eq!(num(&s, "nodes"), 30.0);
    assert_eq!(num(&s, "simulated_s"), 600.0);
}

#[test]
fn cost_per_million_requests_divides_cost_by_successes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scen = repo().join("scenarios/web-service.yaml");
    let o =
        run_in(dir.path(), &["run", &scen.to_string_lossy(), "--out", "o", "--quiet", "--duration", "30m"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let s = summary(&dir.path().join("o"));
    let expected = num(&s, "cost") / num(&s, "requests_succeeded") * 1e6;
    assert!((num(&s, "cost_per_million_requests") - expected).abs() < 1e-6 * expected.max(1.0));
}
