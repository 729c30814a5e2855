//! `clustersim sweep` and `merge`: grid order and seeds, byte-identical outputs whatever
//! the parallelism, shards, interruptions and resume, CI checks, baselines, and bad input.

mod common;
use common::*;
use std::path::Path;

/// A temporary folder holding the tiny scenario as `s.yaml`.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), VALID).expect("write");
    dir
}

fn ok(dir: &Path, args: &[&str]) -> Outcome {
    let o = run_in(dir, args);
    assert_eq!(o.code, 0, "clustersim {args:?}: {}", o.stderr);
    o
}

/// Runs `args`, expecting exit 2 and every `expect` substring in the message.
fn bad(dir: &Path, args: &[&str], expect: &[&str]) {
    let o = run_in(dir, args);
    assert_eq!(o.code, 2, "clustersim {args:?}: expected exit 2, got {}:\n{}", o.code, o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    for e in expect {
        assert!(o.stderr.contains(e), "clustersim {args:?}: expected {e:?} in:\n{}", o.stderr);
    }
}

fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

fn rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines().map(|l| l.split(',').map(String::from).collect()).collect()
}

const GRID: &[&str] =
    &["-L", "deployments.0.replicas", "3,20", "-P", "nodePools.0.count", "1", "3", "-r", "3"];

fn sweep(dir: &Path, out: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["sweep", "s.yaml", "--out", out, "-q"];
    args.extend_from_slice(GRID);
    args.extend_from_slice(extra);
    ok(dir, &args)
}

#[test]
fn grid_order_and_seeds() {
    let d = setup();
    sweep(d.path(), "out", &["--seed", "100"]);
    let runs = rows(&read(d.path().join("out/runs.csv")));
    assert_eq!(
        runs[0][..5],
        [
            "parameter_deployments.0.replicas",
            "parameter_nodePools.0.count",
            "replication",
            "seed",
            "simulated_s"
        ]
    );
    assert_eq!(runs.iter().filter(|r| r.contains(&"seed".to_string())).count(), 1, "seed once");
    // 2 × 3 points × 3 replications, first parameter outermost, replications innermost.
    assert_eq!(runs.len(), 1 + 18);
    let keys: Vec<String> = runs[1..].iter().map(|r| r[..4].join(" ")).collect();
    assert_eq!(keys[..4], ["3 1 0 100", "3 1 1 101", "3 1 2 102", "3 2 0 100"]);
    assert_eq!(keys[17], "20 3 2 102");
    // The summary of a sweep run is the one `run` gives for the same overrides and seed.
    let (_t, out) = run_yaml(
        VALID,
        &["--set", "deployments.0.replicas=20", "--set", "nodePools.0.count=3", "--seed", "101"],
    );
    let single = rows(&read(out.join("summary.csv")));
    let row = &runs[1 + 16];
    assert_eq!(&row[3..], &single[1][..], "run 16 = replication 1 of point (20, 3)");
    let points = rows(&read(d.path().join("out/points.csv")));
    assert_eq!(points.len(), 1 + 6);
    assert_eq!(
        points[0][..4],
        [
            "parameter_deployments.0.replicas",
            "parameter_nodePools.0.count",
            "replications",
            "simulated_s_mean"
        ]
    );
    assert!(!points[0].iter().any(|c| c.starts_with("seed_")), "the seed is not aggregated");
    assert_eq!(points[6][..3], ["20", "3", "3"]);
    let json = read(d.path().join("out/sweep.json"));
    assert!(json.contains("\"replications\": 3") && json.contains("\"seed\": 100"), "{json}");
}

#[test]
fn jobs_do_not_change_the_bytes() {
    let d = setup();
    sweep(d.path(), "j1", &["--jobs", "1"]);
    sweep(d.path(), "j2", &["--jobs", "2"]);
    for f in ["runs.csv", "points.csv", "sweep.json"] {
        assert_eq!(read(d.path().join("j1").join(f)), read(d.path().join("j2").join(f)), "{f}");
    }
}

#[test]
fn shards_merge_to_the_unsharded_sweep() {
    let d = setup();
    sweep(d.path(), "full", &[]);
    for k in 1..=3 {
        sweep(d.path(), &format!("s{k}"), &["--shard", &format!("{k}/3")]);
        assert!(!d.path().join(format!("s{k}/runs.csv")).exists(), "a shard writes run files only");
        assert!(read(d.path().join(format!("s{k}/sweep.json"))).contains("\"count\": 3"));
    }
    ok(d.path(), &["merge", "s1", "s2", "s3", "--out", "merged", "-q"]);
    for f in ["runs.csv", "points.csv"] {
        assert_eq!(read(d.path().join("full").join(f)), read(d.path().join("merged").join(f)), "{f}");
    }
    // A missing shard is named.
    bad(d.path(), &["merge", "s1", "s3", "--out", "m2"], &["6 of 18 runs are missing", "shard 2/3"]);
    // Shards of another sweep definition are refused, naming the difference.
    let mut args = vec!["sweep", "s.yaml", "--out", "other", "-q", "--shard", "2/3"];
    args.extend_from_slice(GRID);
    args.extend_from_slice(&["--set", "duration=2m"]);
    ok(d.path(), &args);
    bad(d.path(), &["merge", "s1", "other", "s3", "--out", "m3"], &["different sweeps", "overrides"]);
    // Merging into a folder with content needs --force.
    bad(d.path(), &["merge", "s1", "s2", "s3", "--out", "merged"], &["--force"]);
    ok(d.path(), &["merge", "s1", "s2", "s3", "--out", "merged", "-q", "--force"]);
}

#[test]
fn resume_after_lost_runs_equals_an_uninterrupted_sweep() {
    let d = setup();
    sweep(d.path(), "full", &[]);
    sweep(d.path(), "cut", &[]);
    // As if the sweep had been killed: some runs never finished, and nothing was assembled.
    for i in [1, 7, 8, 17] {
        std::fs::remove_file(d.path().join(format!("cut/runs/run-{i:06}.csv"))).expect("run file");
    }
    std::fs::remove_file(d.path().join("cut/runs.csv")).expect("runs.csv");
    std::fs::remove_file(d.path().join("cut/points.csv")).expect("points.csv");
    let mut args = vec!["sweep", "s.yaml", "--out", "cut", "--resume"];
    args.extend_from_slice(GRID);
    let o = ok(d.path(), &args);
    assert!(o.stderr.contains("(4 now, 14 resumed, 0 failed)"), "{}", o.stderr);
    for f in ["runs.csv", "points.csv", "sweep.json"] {
        assert_eq!(read(d.path().join("full").join(f)), read(d.path().join("cut").join(f)), "{f}");
    }
    // A resume with another definition is refused, naming the difference.
    let mut args = vec!["sweep", "s.yaml", "--out", "cut", "--resume"];
    args.extend_from_slice(GRID);
    args.extend_from_slice(&["--duration", "2m"]);
    bad(d.path(), &args, &["--resume", "different sweep", "overrides: [\"duration=2m\"] vs []"]);
}

#[test]
fn resume_after_a_real_kill() {
    // A sweep whose runs take tens of milliseconds each, run one at a time and killed
    // after a few runs have finished.
    let d = tempfile::tempdir().expect("temp dir");
    let scenario = repo().join("scenarios/web-service.yaml");
    let scenario = scenario.to_str().expect("utf-8 path");
    let args = ["sweep", scenario, "--duration", "30m", "-r", "16", "-q"];
    let mut child = std::process::Command::new(bin())
        .args(args)
        .args(["--out", "killed", "--jobs", "1"])
        .current_dir(d.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let runs = d.path().join("killed/runs");
    let count = || {
        std::fs::read_dir(&runs)
            .map(|r| r.flatten().filter(|e| !e.file_name().to_string_lossy().starts_with('.')).count())
            .unwrap_or(0)
    };
    let started = std::time::Instant::now();
    while count() < 3 && started.elapsed().as_secs() < 60 {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let done = count();
    assert!(done >= 3, "the sweep wrote its first runs");
    if done < 16 {
        assert!(!d.path().join("killed/runs.csv").exists(), "killed before the end");
    }
    let resumed = ok(d.path(), &[&args[..], &["--out", "killed", "--resume"]].concat());
    let _ = resumed;
    ok(d.path(), &[&args[..], &["--out", "whole", "--jobs", "2"]].concat());
    for f in ["runs.csv", "points.csv"] {
        assert_eq!(read(d.path().join("killed").join(f)), read(d.path().join("whole").join(f)), "{f}");
    }
}

#[test]
fn an_existing_folder_needs_force_or_resume() {
    let d = setup();
    sweep(d.path(), "out", &[]);
    let mut args = vec!["sweep", "s.yaml", "--out", "out"];
    args.extend_from_slice(GRID);
    bad(d.path(), &args, &["not empty", "--force", "--resume"]);
    std::fs::create_dir(d.path().join("mine")).expect("mkdir");
    std::fs::write(d.path().join("mine/notes.txt"), "keep").expect("write");
    let mut args = vec!["sweep", "s.yaml", "--out", "mine", "--resume"];
    args.extend_from_slice(GRID);
    bad(d.path(), &args, &["no sweep.json"]);
    ok(d.path(), &["sweep", "s.yaml", "--out", "out", "-q", "--force", "-L", "nodePools.0.count", "2,3"]);
    assert_eq!(rows(&read(d.path().join("out/runs.csv"))).len(), 1 + 2);
    assert!(!d.path().join("out/runs/run-000017.csv").exists(), "--force removed the old runs");
    assert_eq!(read(d.path().join("mine/notes.txt")), "keep");
}

#[test]
fn checks_pass_and_fail() {
    let d = setup();
    sweep(
        d.path(),
        "pass",
        &["--check", "pods_running_end >= 1", "--check", "points: nodes_mean <= 3 and nodes_sd == 0"],
    );
    // 20 replicas × 500m do not fit on one or two 4-CPU nodes.
    let mut args = vec!["sweep", "s.yaml", "--out", "fail", "-q", "--check", "pods_pending_end == 0"];
    args.extend_from_slice(GRID);
    let o = run_in(d.path(), &args);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(
        o.stderr.contains("check failed: pods_pending_end == 0 (6 of 18 runs violate it)"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("parameter_deployments.0.replicas"), "{}", o.stderr);
    assert!(o.stderr.contains("== 0"), "{}", o.stderr);
    assert!(d.path().join("fail/points.csv").exists(), "results are written before the checks");
    // Merge evaluates checks too.
    let o = run_in(
        d.path(),
        &["merge", "fail", "--out", "m", "-q", "--check", "points: pods_pending_end_mean < 1"],
    );
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("2 of 6 grid points violate it"), "{}", o.stderr);
}

#[test]
fn run_accepts_checks() {
    let d = setup();
    let o = ok(d.path(), &["run", "s.yaml", "--out", "a", "-q", "--check", "pods_running_end == 3"]);
    assert!(o.stderr.is_empty());
    let o = run_in(d.path(), &["run", "s.yaml", "--out", "b", "-q", "--check", "pods_running_end > 3"]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("pods_running_end  3      > 3"), "{}", o.stderr);
    bad(
        d.path(),
        &["run", "s.yaml", "--out", "c", "--check", "pods_runing_end > 3"],
        &["did you mean pods_running_end"],
    );
    bad(
        d.path(),
        &["run", "s.yaml", "--out", "d", "--check", "points: nodes_mean > 3"],
        &["`points:` checks apply to sweeps"],
    );
    bad(d.path(), &["run", "s.yaml", "--out", "d", "--check", "nodes >"], &["--check \"nodes >\""]);
    assert!(!d.path().join("d").exists(), "checks that do not parse are caught before the run");
}

#[test]
fn baseline_regressions() {
    let d = setup();
    sweep(d.path(), "old", &[]);
    // The same sweep is within any tolerance.
    let o = sweep(d.path(), "same", &["--baseline", "old/points.csv", "--tolerance", "0%"]);
    assert!(o.stderr.contains("none regressed beyond 0.00%"), "{}", o.stderr);
    // Ten times the CPU per pod: more pods pending (lower is better), fewer running.
    let mut args =
        vec!["sweep", "s.yaml", "--out", "new", "-q", "--baseline", "old/points.csv", "--tolerance", "5%"];
    args.extend_from_slice(GRID);
    args.extend_from_slice(&["--set", "deployments.0.template.requests.cpu=2"]);
    let o = run_in(d.path(), &args);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("regressed beyond 5.00%"), "{}", o.stderr);
    assert!(
        o.stderr.contains("pods_pending_end_mean") && o.stderr.contains("lower is better"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("pods_running_end_mean") && o.stderr.contains("higher is better"),
        "{}",
        o.stderr
    );
    // A baseline over other parameters is bad input.
    ok(d.path(), &["sweep", "s.yaml", "--out", "one", "-q", "-L", "nodePools.0.count", "2,3"]);
    let mut args = vec!["sweep", "s.yaml", "--out", "x", "--baseline", "one/points.csv"];
    args.extend_from_slice(GRID);
    bad(d.path(), &args, &["--baseline", "parameters"]);
}

#[test]
fn bad_sweep_input() {
    let d = setup();
    let s = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut a = vec!["sweep", "s.yaml", "--out", "out"];
        a.extend_from_slice(extra);
        a
    };
    bad(
        d.path(),
        &s(&["-P", "nodePools.0.cont", "1", "3"]),
        &["parameter nodePools.0.cont", "unknown field `cont`", "count"],
    );
    bad(
        d.path(),
        &s(&["-L", "nodePools.9.count", "1,2"]),
        &["parameter nodePools.9.count", "index 9 does not exist"],
    );
    bad(
        d.path(),
        &s(&["-P", "nodePools.0.count", "3", "1"]),
        &["-P nodePools.0.count 3 1", "empty", "start ≤ end"],
    );
    bad(
        d.path(),
        &s(&["-P", "nodePools.0.count", "1", "3", "0"]),
        &["-P nodePools.0.count 1 3 0", "step is 0"],
    );
    bad(d.path(), &s(&["-L", "nodePools.0.count", "1,x"]), &["parameter nodePools.0.count", "\"x\""]);
    bad(
        d.path(),
        &s(&["--check", "latency <"]),
        &["--check \"latency <\"", "expected `[points:] COLUMN OP NUMBER"],
    );
    bad(
        d.path(),
        &s(&["--check", "pods_runing_end > 1"]),
        &["no column \"pods_runing_end\"", "did you mean pods_running_end"],
    );
    bad(
        d.path(),
        &s(&["--check", "points: pods_running_end > 1"]),
        &["grid-point rows", "pods_running_end_mean"],
    );
    bad(d.path(), &s(&["--shard", "0/3"]), &["--shard 0/3", "numbered from 1"]);
    bad(d.path(), &s(&["--shard", "4/3"]), &["--shard 4/3", "larger than N"]);
    bad(d.path(), &s(&["--jobs", "0"]), &["--jobs 0"]);
    bad(d.path(), &s(&["-r", "0"]), &["--replications 0"]);
    bad(d.path(), &s(&["-L", "seed", "1,2", "--seed", "3"]), &["--seed", "drop one"]);
    bad(
        d.path(),
        &s(&["-L", "nodePools.0.count", "1,2", "--set", "nodePools.0.count=4"]),
        &["--set", "drop one"],
    );
    bad(d.path(), &s(&["-L", "nodePools.0.count", "1,1"]), &["listed twice"]);
    bad(d.path(), &s(&["--baseline", "nope.csv"]), &["--baseline", "nope.csv"]);
    bad(d.path(), &s(&["--tolerance", "5%"]), &["--tolerance needs --baseline"]);
    std::fs::write(
        d.path().join("sw.yaml"),
        "parameters:\n  - {path: nodePools.0.count, range: {start: 1}}\n",
    )
    .expect("write");
    bad(d.path(), &s(&["--sweep-file", "sw.yaml"]), &["sw.yaml:2:", "missing field `end`"]);
    assert!(!d.path().join("out").exists(), "bad input wrote nothing");
}

#[test]
fn a_sweep_file_and_flags_combine() {
    let d = setup();
    std::fs::write(
        d.path().join("sw.yaml"),
        "parameters:\n  - {path: deployments.0.replicas, values: [3, 20]}\n  - path: nodePools.0.count\n    range: {start: 1, end: 3, step: 2}\nreplications: 2\nchecks: ['nodes >= 1']\n",
    )
    .expect("write");
    ok(
        d.path(),
        &[
            "sweep",
            "s.yaml",
            "--sweep-file",
            "sw.yaml",
            "-L",
            "scheduler.scoringStrategy",
            "MostAllocated,LeastAllocated",
            "--out",
            "out",
            "-q",
        ],
    );
    let runs = rows(&read(d.path().join("out/runs.csv")));
    assert_eq!(
        runs[0][..3],
        [
            "parameter_deployments.0.replicas",
            "parameter_nodePools.0.count",
            "parameter_scheduler.scoringStrategy"
        ]
    );
    assert_eq!(runs.len(), 1 + 2 * 2 * 2 * 2);
    assert_eq!(runs[3][..4], ["3", "1", "LeastAllocated", "0"]);
}

#[test]
fn flags_keep_their_command_line_order() {
    let d = setup();
    ok(
        d.path(),
        &[
            "sweep",
            "s.yaml",
            "-P",
            "nodePools.0.count",
            "1",
            "2",
            "-L",
            "deployments.0.replicas",
            "3,4",
            "--out",
            "a",
            "-q",
        ],
    );
    ok(
        d.path(),
        &[
            "sweep",
            "s.yaml",
            "-L",
            "deployments.0.replicas",
            "3,4",
            "-P",
            "nodePools.0.count",
            "1",
            "2",
            "--out",
            "b",
            "-q",
        ],
    );
    assert!(
        read(d.path().join("a/runs.csv"))
            .starts_with("parameter_nodePools.0.count,parameter_deployments.0.replicas,")
    );
    assert!(
        read(d.path().join("b/runs.csv"))
            .starts_with("parameter_deployments.0.replicas,parameter_nodePools.0.count,")
    );
}

#[test]
fn progress_slices_do_not_change_a_run() {
    use clustersim::{runner, scenario};
    for file in ["scenarios/node-failure.yaml", "scenarios/quickstart.yaml"] {
        let s = scenario::load(&repo().join(file), &["duration=20m".to_string()]).expect("loads");
        let whole = runner::simulate(&s, s.seed, None).expect("runs");
        let mut calls = 0;
        let mut cb = |_now: clustersim::engine::SimTime, _end: clustersim::engine::SimTime| calls += 1;
        let sliced = runner::simulate(&s, s.seed, Some(&mut cb)).expect("runs");
        assert!(calls >= 100, "{file}: {calls} progress calls");
        let render = |o: &clustersim::sim::RunOutput| -> Vec<(String, String)> {
            o.summary.iter().map(|(k, v)| (k.clone(), v.render())).collect()
        };
        assert_eq!(render(&whole), render(&sliced), "{file}");
    }
}
