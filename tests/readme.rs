//! The README's sweep examples and shard recipe, run as printed: the command text is taken
//! from README.md itself, so an edit that breaks them fails here.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).expect("README.md")
}

/// The fenced blocks of `section` (from its `## ` heading to the next), as (language, text).
fn blocks(section: &str) -> Vec<(String, String)> {
    let text = readme();
    let start = text.find(&format!("## {section}\n")).unwrap_or_else(|| panic!("section {section}"));
    let rest = &text[start + 3..];
    let body = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut out = Vec::new();
    let mut lines = body.lines();
    while let Some(l) = lines.next() {
        if let Some(lang) = l.strip_prefix("```")
            && !lang.is_empty()
        {
            let mut b = String::new();
            for l in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
                b.push_str(l);
                b.push('\n');
            }
            out.push((lang.to_string(), b));
        }
    }
    out
}

/// The README's `sweep.yaml`.
fn sweep_yaml() -> String {
    blocks("Sweeps and CI")
        .into_iter()
        .find(|(lang, b)| lang == "yaml" && b.starts_with("# sweep.yaml"))
        .expect("the sweep.yaml block")
        .1
}

/// A folder with `clustersim` on PATH (the binary under test), the README's sweep.yaml,
/// and the repository's scenarios.
fn workspace() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::create_dir(d.path().join("bin")).expect("mkdir");
    std::os::unix::fs::symlink(bin(), d.path().join("bin/clustersim")).expect("symlink");
    std::os::unix::fs::symlink(repo().join("scenarios"), d.path().join("scenarios")).expect("symlink");
    std::fs::write(d.path().join("sweep.yaml"), sweep_yaml()).expect("w");
    d
}

/// Runs `script` with bash (`set -euo pipefail`) in `dir` with its `bin/` first on PATH.
fn bash(dir: &Path, script: &str) -> (i32, String) {
    let path = format!("{}:{}", dir.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let o = Command::new("bash")
        .args(["-c", &format!("set -euo pipefail\n{script}")])
        .env("PATH", path)
        .current_dir(dir)
        .output()
        .expect("bash");
    let all = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code().unwrap_or(-1), all)
}

fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

#[test]
fn the_two_sweep_examples_run_in_order() {
    let d = workspace();
    let (_, first) =
        blocks("Sweeps and CI").into_iter().find(|(lang, _)| lang == "sh").expect("the sh block");
    assert!(first.matches("clustersim sweep").count() == 2, "two examples:\n{first}");
    let (code, out) = bash(d.path(), &first);
    assert_eq!(code, 0, "the README's sweep examples, as printed:\n{first}\n{out}");
    // The first answers its question: the grid points differ, and 3 slots miss the SLO.
    let points = csv_rows(&d.path().join("results/web-slots/points.csv"));
    assert_eq!(points.len(), 8);
    let p99: Vec<f64> = points.iter().map(|r| num(r, "latency_p99_ms_mean")).collect();
    assert!(p99[0] > 250.0 && p99[1] > 250.0, "3 slots miss 250 ms: {p99:?}");
    assert!(p99[2..].iter().all(|&v| v < 250.0), "4 slots and up meet it: {p99:?}");
    assert!(p99[2] > p99[3], "at 4 slots LeastOutstanding beats Random: {p99:?}");
    assert_eq!(csv_rows(&d.path().join("results/web-peak/points.csv")).len(), 6);
}

/// A small service scenario for the shard recipe.
const SERVICE: &str = "\
name: s
seed: 3
duration: 5m
nodePools: [{name: p, count: 4, allocatable: {cpu: 8, memory: 32Gi}}]
deployments:
  - name: web
    replicas: 4
    template: {requests: {cpu: 2, memory: 4Gi}}
    service:
      concurrency: 4
      serviceTime: {lognormal: {median: 40ms, sigma: 0.5}}
      load: {poisson: {rate: 100}}
";

#[test]
fn the_gnu_parallel_shard_recipe_runs_as_printed() {
    let d = workspace();
    std::fs::write(d.path().join("s.yaml"), SERVICE).expect("w");
    let (_, recipes) = blocks("Sweeps and CI")
        .into_iter()
        .find(|(lang, b)| lang == "sh" && b.contains("GNU parallel"))
        .expect("the shard recipes block");
    let mut lines = recipes.lines();
    lines.find(|l| l.starts_with("# GNU parallel")).expect("the GNU parallel recipe");
    let recipe: Vec<&str> = lines.filter(|l| !l.starts_with('#') && !l.trim().is_empty()).collect();
    assert_eq!(recipe.len(), 2, "parallel, then merge: {recipe:?}");
    assert!(recipe[0].starts_with("parallel clustersim sweep") && recipe[1].starts_with("clustersim merge"));
    let script = recipe.join("\n");
    let (code, out) = bash(d.path(), &script);
    assert_eq!(code, 0, "{script}\n{out}");
    assert!(out.contains("2 checks applied"), "merge applies the sweep file's checks: {out}");
    // The merged files are the unsharded sweep's.
    let (code, out) =
        bash(d.path(), "clustersim sweep s.yaml --sweep-file sweep.yaml --out whole -q --no-charts");
    assert_eq!(code, 0, "{out}");
    for f in ["runs.csv", "points.csv"] {
        assert_eq!(read(d.path().join("results/sweep").join(f)), read(d.path().join("whole").join(f)), "{f}");
    }
    // With a slow service the sweep file's grid-point check fails at the merge (exit 3),
    // though every shard passed its own run checks.
    let slow = SERVICE.replace("median: 40ms", "median: 300ms").replace("rate: 100", "rate: 20");
    std::fs::write(d.path().join("s.yaml"), slow).expect("w");
    let (code, out) = bash(d.path(), &format!("rm -rf shard-* results\n{}", recipe[0]));
    assert_eq!(code, 0, "each shard passes: {out}");
    let (code, out) = bash(d.path(), recipe[1]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("points: latency_p99_ms_mean < 250"), "{out}");
}
