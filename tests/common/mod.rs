//! Helpers shared by the integration tests: run the binary in a temporary folder.

#![allow(dead_code)]

pub mod shrink;
pub mod topology_gen;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_clustersim"))
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `clustersim ARGS` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Outcome {
    let out = Command::new(bin()).args(args).current_dir(dir).output().expect("the test binary runs");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A minimal valid scenario to start bad-input cases from.
pub const VALID: &str = "\
name: tiny
duration: 60s
nodePools:
  - name: pool
    count: 2
    allocatable: {cpu: 4, memory: 8Gi}
deployments:
  - name: web
    replicas: 3
    template:
      requests: {cpu: 500m, memory: 1Gi}
";

/// `summary.csv` of an output folder as column → value.
pub fn summary(dir: &Path) -> BTreeMap<String, String> {
    let mut rows = csv_rows(&dir.join("summary.csv"));
    assert_eq!(rows.len(), 1, "summary.csv has exactly one row");
    rows.remove(0)
}

/// The rows of a CSV file written by clustersim (no quoted cells), each as column → value.
pub fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().expect("header").split(',').map(String::from).collect();
    lines
        .map(|l| {
            let row: Vec<String> = l.split(',').map(String::from).collect();
            assert_eq!(header.len(), row.len(), "{l}");
            header.iter().cloned().zip(row).collect()
        })
        .collect()
}

/// A numeric summary column.
pub fn num(s: &BTreeMap<String, String>, k: &str) -> f64 {
    s.get(k).unwrap_or_else(|| panic!("column {k}")).parse().unwrap_or_else(|_| panic!("{k} = {:?}", s[k]))
}

/// Writes `yaml` as `s.yaml` in a new temporary folder and runs it (plus `extra` flags),
/// expecting success; returns the folder (keep it alive) and the output folder.
pub fn run_yaml(yaml: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), yaml).expect("write");
    let mut args = vec!["run", "s.yaml", "--out", "out", "--quiet"];
    args.extend_from_slice(extra);
    let o = run_in(dir.path(), &args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let out = dir.path().join("out");
    (dir, out)
}

/// Writes `yaml` as `s.yaml` with `files` beside it in a new temporary folder and runs it,
/// expecting exit 2 (bad input) without a panic; returns stderr.
pub fn fails_with(files: &[(&str, &str)], yaml: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    std::fs::write(dir.path().join("s.yaml"), yaml).expect("write");
    let o = run_in(dir.path(), &["run", "s.yaml", "--out", "out", "--quiet"]);
    assert_eq!(o.code, 2, "expected exit 2, got {}:\n{}{}", o.code, o.stdout, o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    o.stderr
}
