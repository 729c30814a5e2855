//! Same scenario + seed ⇒ byte-identical CSVs; a different seed ⇒ different results.
//! Every scenario in `scenarios/` is covered (small `--set` overrides keep the big ones
//! fast); a scenario missing from the table fails the test, so new ones get covered too.

mod common;
use common::shrink::SHRINK;
use common::*;
use std::path::Path;

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
