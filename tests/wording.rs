//! Paths and names as users write them: `--set` and sweep parameters accept list indexes
//! in brackets (`nodePools[0].count`, as validation errors print them) as well as dotted
//! (`nodePools.0.count`); a scenario's name is a safe folder name, and the name made from
//! a file name is made safe.

mod common;
use clustersim::scenario::{self, validate};
use common::*;
use std::path::Path;

#[test]
fn set_accepts_bracketed_list_indexes() {
    let (_d1, dotted) = run_yaml(
        VALID,
        &["--no-charts", "--set", "nodePools.0.count=3", "--set", "deployments.0.replicas=5"],
    );
    let (_d2, bracketed) = run_yaml(
        VALID,
        &["--no-charts", "--set", "nodePools[0].count=3", "--set", "deployments[0].replicas=5"],
    );
    let s = summary(&bracketed);
    assert_eq!(s["nodes"], "3");
    assert_eq!(s["pods_running_end"], "5");
    assert_eq!(
        std::fs::read(dotted.join("summary.csv")).expect("summary"),
        std::fs::read(bracketed.join("summary.csv")).expect("summary"),
        "both forms set the same fields"
    );
}

#[test]
fn sweep_parameters_accept_bracketed_list_indexes() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), VALID).expect("write");
    let o = run_in(
        dir.path(),
        &[
            "sweep",
            "s.yaml",
            "--out",
            "sw",
            "-q",
            "-P",
            "nodePools[0].count",
            "2",
            "3",
            "-L",
            "deployments[0].replicas",
            "1,2",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let points = csv_rows(&dir.path().join("sw/points.csv"));
    assert_eq!(points.len(), 4);
    let nodes: Vec<&str> = points.iter().map(|r| r["nodes_mean"].as_str()).collect();
    assert!(nodes.iter().all(|n| n.starts_with('2') || n.starts_with('3')), "{nodes:?}");
}

#[test]
fn default_names_from_file_names_are_safe() {
    for (stem, name) in [
        ("web-service", "web-service"),
        ("my scenario", "my-scenario"),
        (".hidden", "hidden"),
        ("..", "scenario"),
        ("", "scenario"),
        ("café v2.1", "caf--v2.1"),
        ("ü", "scenario"),
    ] {
        assert_eq!(scenario::name_from_file_stem(stem), name, "{stem:?}");
        assert_eq!(validate::check_name(&scenario::name_from_file_stem(stem)), Ok(()), "{stem:?}");
    }
    let long = "x".repeat(300);
    assert_eq!(scenario::name_from_file_stem(&long).len(), 100);

    // A scenario without `name:` in a file whose name has a space writes to results/my-scenario/.
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml = VALID.replace("name: tiny\n", "");
    std::fs::write(dir.path().join("my scenario.yaml"), yaml).expect("write");
    let o = run_in(dir.path(), &["run", "my scenario.yaml", "--quiet", "--no-charts"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(dir.path().join("results/my-scenario/summary.csv").is_file());
}

#[test]
fn names_are_checked_and_the_shipped_scenarios_pass() {
    for ok in ["web-service", "a", "A.b_c-9", &"n".repeat(100), "-x"] {
        assert_eq!(validate::check_name(ok), Ok(()), "{ok:?}");
    }
    for bad in ["", "..", ".", ".x", "../x", "/abs", "a/b", "a\\b", "a b", "é", &"n".repeat(101), "a:b"] {
        let e = validate::check_name(bad).expect_err(bad);
        assert!(e.contains("expected 1 to 100 ASCII letters, digits, '.', '_' or '-'"), "{bad:?}: {e}");
    }
    let dir = repo().join("scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).expect("read");
            let s = scenario::parse_str(&text, Path::new(&path)).expect("parses");
            if let Some(name) = &s.name {
                assert_eq!(validate::check_name(name), Ok(()), "{}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} scenarios");
}
