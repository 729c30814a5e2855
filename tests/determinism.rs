//! Same scenario + seed ⇒ byte-identical CSVs; a different seed ⇒ different results.
//! Every scenario in `scenarios/` is covered (small `--set` overrides keep the big ones
//! fast); a scenario missing from the table fails the test, so new ones get covered too.

mod common;
use common::*;
use std::path::Path;

/// Overrides per scenario file that keep each run to a fraction of a second.
const SHRINK: &[(&str, &[&str])] = &[
    ("quickstart.yaml", &[]),
    (
        "density-5k.yaml",
        &["--set", "nodePools.0.count=200", "--set", "deployments.0.replicas=3000", "--duration", "300s"],
    ),
    ("density-5k-spread.yaml", &["--set", "nodePools.0.count=300", "--duration", "300s"]),
    ("churn-1day.yaml", &["--set", "nodePools.0.count=50", "--duration", "3h"]),
    ("web-service.yaml", &["--duration", "90m"]),
    ("trace-replay-genai.yaml", &["--duration", "3d"]),
    // The trace's last 10 days (≈ 3,000 of its 8,152 pods; its first weeks are sparse).
    ("trace-replay-pods.yaml", &["--set", "podTraces.0.window={from: 139d}", "--duration", "11d"]),
    ("tests/fixtures/alibaba-gpu-mini/scenario.yaml", &[]),
    // The FGD protocol up to 20 % of the GPUs (≈ 1,700 pods instead of 10,780).
    ("gpu-sharing-fgd.yaml", &["--set", "podTraces.0.inflation.gpuPercent=20", "--duration", "1h"]),
    ("tests/fixtures/alibaba-gpu-mini/fgd.yaml", &[]),
    ("node-failure.yaml", &["--set", "deployments.0.service.load.poisson.rate=100", "--duration", "20m"]),
    ("zone-outage.yaml", &["--set", "deployments.0.service.load.poisson.rate=100", "--duration", "30m"]),
    ("zone-spread.yaml", &["--duration", "40m"]),
    ("hpa-spike.yaml", &[]),
    ("autoscale-diurnal.yaml", &["--duration", "5h"]),
    ("sweep-capacity.yaml", &["--duration", "2h"]),
    // The capacity plan's scenario (scenarios/plans/ is not scanned; listed here to be covered).
    ("scenarios/plans/web-zones.yaml", &["--duration", "1h"]),
    ("cl2-density.yaml", &[]),
    (
        "gke-65k.yaml",
        &[
            "--set",
            "nodePools.0.count=650",
            "--set",
            "deployments.0.replicas=650",
            "--set",
            "sampleInterval=1s",
            "--set",
            "deployments.0.scale=[{at: 15m, replicas: 0}, {at: 15m, replicas: 500}, {at: 60m, replicas: 0}]",
            "--set",
            "deployments.1.scale=[{at: 15m, replicas: 150}, {at: 30m, replicas: 650}, {at: 45m, replicas: 150}]",
        ],
    ),
    (
        "scheduler-perf-basic-10k.yaml",
        &[
            "--set",
            "nodePools.0.count=200",
            "--set",
            "deployments.0.replicas=100",
            "--set",
            "deployments.1.replicas=3000",
            "--duration",
            "15s",
        ],
    ),
    (
        "scheduler-perf-basic-50k.yaml",
        &[
            "--set",
            "nodePools.0.count=200",
            "--set",
            "deployments.0.replicas=500",
            "--set",
            "deployments.1.replicas=3000",
            "--duration",
            "15s",
        ],
    ),
    (
        "scheduler-perf-unschedulable-10k.yaml",
        &[
            "--set",
            "nodePools.0.count=200",
            "--set",
            "deployments.0.replicas=10",
            "--set",
            "deployments.1.replicas=3000",
            "--duration",
            "15s",
        ],
    ),
    (
        "density-100k.yaml",
        &[
            "--set",
            "nodePools.0.count=100",
            "--set",
            "deployments.0.replicas=3000",
            "--set",
            "sampleInterval=10s",
            "--duration",
            "330s",
        ],
    ),
];

/// Scenarios that read `../shared/data/`, which may be absent (the trace-replay code path
/// is then covered by `tests/fixtures/trace-replay.yaml`).
fn needs_shared_data(file: &str) -> bool {
    std::fs::read_to_string(repo().join("scenarios").join(file)).is_ok_and(|t| t.contains("shared/data/"))
}

fn shared_data_present() -> bool {
    repo().join("../shared/data").is_dir()
}

fn run_scenario(dir: &Path, file: &str, extra: &[&str], out: &str) -> Vec<(String, Vec<u8>)> {
    let path = if file.contains('/') { repo().join(file) } else { repo().join("scenarios").join(file) };
    let path = path.to_string_lossy().into_owned();
    let mut args = vec!["run", &path, "--out", out, "--pods", "--quiet"];
    args.extend_from_slice(extra);
    let o = run_in(dir, &args);
    assert_eq!(o.code, 0, "{file}: {}", o.stderr);
    ["summary.csv", "timeseries.csv", "pods.csv", "autoscaler-events.csv"]
        .iter()
        .filter(|f| **f != "autoscaler-events.csv" || dir.join(out).join(f).exists())
        .map(|f| (f.to_string(), std::fs::read(dir.join(out).join(f)).expect("output file")))
        .collect()
}

#[test]
fn every_scenario_is_in_the_table() {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    files.sort();
    for f in &files {
        assert!(
            SHRINK.iter().any(|(n, _)| n == f),
            "scenarios/{f} has no entry in tests/determinism.rs SHRINK"
        );
    }
}

#[test]
fn same_seed_same_bytes_different_seed_different_results() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (file, shrink) in SHRINK {
        if needs_shared_data(file) && !shared_data_present() {
            eprintln!("SKIPPED {file}: ../shared/data is absent");
            continue;
        }
        let a = run_scenario(dir.path(), file, shrink, "a");
        let b = run_scenario(dir.path(), file, shrink, "b");
        for ((name, x), (_, y)) in a.iter().zip(&b) {
            assert!(x == y, "{file}: {name} differs between two runs with the same seed");
        }
        let mut other = shrink.to_vec();
        other.extend_from_slice(&["--seed", "987654321"]);
        let c = run_scenario(dir.path(), file, &other, "c");
        assert_ne!(a[1].1, c[1].1, "{file}: timeseries.csv identical under another seed");
        // The summary must differ beyond the seed column itself.
        let strip = |v: &[u8]| {
            String::from_utf8_lossy(v).lines().nth(1).map(|l| l.split_once(',').map(|x| x.1.to_string()))
        };
        assert_ne!(strip(&a[0].1), strip(&c[0].1), "{file}: summary identical under another seed");
    }
}

#[test]
fn the_trace_replay_fixture_is_deterministic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = "tests/fixtures/trace-replay.yaml";
    let a = run_scenario(dir.path(), file, &[], "a");
    let b = run_scenario(dir.path(), file, &[], "b");
    assert!(a == b, "{file}: outputs differ between two runs with the same seed");
}
