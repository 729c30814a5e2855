//! Results a user can trust: an output folder holds one run's files only, merges refuse
//! duplicated runs, a sweep's folder is locked, run files carry their identity, a closed
//! pipe or a full disk gets a clear outcome, and long commands report progress without a
//! terminal.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};

fn ok(dir: &Path, args: &[&str]) -> Outcome {
    let o = run_in(dir, args);
    assert_eq!(o.code, 0, "clustersim {args:?}: {}", o.stderr);
    o
}

/// Runs `args`, expecting exit `code` and every `expect` substring on stderr.
fn fails(dir: &Path, code: i32, args: &[&str], expect: &[&str]) -> Outcome {
    let o = run_in(dir, args);
    assert_eq!(o.code, code, "clustersim {args:?}: expected exit {code}, got {}:\n{}", o.code, o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    for e in expect {
        assert!(o.stderr.contains(e), "clustersim {args:?}: expected {e:?} in:\n{}", o.stderr);
    }
    o
}

fn read(p: impl AsRef<Path>) -> String {
    std::fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

fn ls(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every file under `p` (relative path → bytes).
fn tree(p: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![p.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(p).expect("prefix").display().to_string();
                out.push((rel, std::fs::read(&path).expect("read")));
            }
        }
    }
    out.sort();
    out
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), VALID).expect("write");
    dir
}

fn scenario(name: &str) -> String {
    repo().join("scenarios").join(name).display().to_string()
}

#[test]
fn a_run_folder_holds_only_that_run() {
    let d = tempfile::tempdir().expect("tmp");
    let hpa = scenario("hpa-spike.yaml");
    let quick = scenario("quickstart.yaml");
    ok(d.path(), &["run", &hpa, "--pods", "--out", "X", "-q"]);
    assert!(d.path().join("X/pods.csv").exists() && d.path().join("X/autoscaler-events.csv").exists());
    ok(d.path(), &["run", &quick, "--out", "X", "-q"]);
    let files = ls(&d.path().join("X"));
    assert_eq!(
        files,
        ["charts", "index.html", "run.json", "startup-cdf.csv", "summary.csv", "timeseries.csv"]
    );
    let page = read(d.path().join("X/index.html"));
    assert!(!page.contains("pods.csv") && !page.contains("autoscaler-events.csv"), "stale links");
    assert!(read(d.path().join("X/run.json")).contains("quickstart"));
    // Nothing is left beside it.
    assert_eq!(ls(d.path()), ["X"], "no staging folder or lock left");
}

#[test]
fn a_run_never_removes_what_it_did_not_write() {
    let d = tempfile::tempdir().expect("tmp");
    let quick = scenario("quickstart.yaml");
    std::fs::create_dir(d.path().join("mine")).expect("mkdir");
    std::fs::write(d.path().join("mine/thesis.tex"), "keep").expect("w");
    for extra in [&[][..], &["--force"][..]] {
        let args = [&["run", quick.as_str(), "--out", "mine", "-q"][..], extra].concat();
        fails(d.path(), 2, &args, &["mine", "thesis.tex", "did not write"]);
    }
    assert_eq!(ls(&d.path().join("mine")), ["thesis.tex"]);
    // A sweep's folder is replaced only with --force.
    let s = setup();
    ok(s.path(), &["sweep", "s.yaml", "--out", "sw", "-q", "-r", "2", "--no-charts"]);
    fails(s.path(), 2, &["run", "s.yaml", "--out", "sw", "-q"], &["sweep", "--force"]);
    ok(s.path(), &["run", "s.yaml", "--out", "sw", "-q", "--force", "--no-charts"]);
    assert_eq!(ls(&s.path().join("sw")), ["run.json", "startup-cdf.csv", "summary.csv", "timeseries.csv"]);
}

#[test]
fn an_interrupted_run_leaves_the_previous_results() {
    let d = tempfile::tempdir().expect("tmp");
    let quick = scenario("quickstart.yaml");
    ok(d.path(), &["run", &quick, "--out", "X", "-q", "--no-charts"]);
    let before = tree(&d.path().join("X"));
    // A run long enough to be killed in the middle: a day of churn on 1,000 nodes, a year long.
    let churn = scenario("churn-1day.yaml");
    let mut child = Command::new(bin())
        .args(["run", &churn, "--out", "X", "-q", "--duration", "30d", "--no-limits"])
        .current_dir(d.path())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait until it is building its folder beside X, then kill it.
    let started = std::time::Instant::now();
    while !ls(d.path()).iter().any(|f| f.contains(".staging-")) && started.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(child.try_wait().expect("wait").is_none(), "the run was still going when killed");
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert_eq!(tree(&d.path().join("X")), before, "the previous results are intact");
    assert!(ls(d.path()).len() > 1, "the killed run left its staging folder");
    // The next run into X removes what the killed one left.
    ok(d.path(), &["run", &quick, "--out", "X", "-q", "--no-charts", "--seed", "5"]);
    assert_eq!(ls(d.path()), ["X"]);
}

#[test]
fn merge_refuses_a_run_given_twice() {
    let d = setup();
    let grid = ["-P", "nodePools.0.count", "1", "3", "-r", "2", "-q", "--no-charts"];
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let out = format!("s{k}");
        ok(d.path(), &[&["sweep", "s.yaml", "--shard", &shard, "--out", &out][..], &grid].concat());
    }
    ok(d.path(), &["merge", "s1", "s2", "--out", "m", "-q", "--no-charts"]);
    // The same folder twice.
    fails(d.path(), 2, &["merge", "s1", "s2", "s1", "--out", "m2"], &["s1", "same folder"]);
    fails(d.path(), 2, &["merge", "s1", "s2", "./s1/", "--out", "m2"], &["same folder"]);
    // A copy of a shard, even a differing one: the result would depend on the order.
    let copy = d.path().join("s1copy");
    std::fs::create_dir_all(copy.join("runs")).expect("mkdir");
    for f in ["sweep.json", "runs/run-000000.csv"] {
        std::fs::copy(d.path().join("s1").join(f), copy.join(f)).expect("copy");
    }
    let o = fails(
        d.path(),
        2,
        &["merge", "s1", "s2", "s1copy", "--out", "m2"],
        &["run 0", "s1", "s1copy", "both"],
    );
    assert!(o.stderr.contains("replication 0"), "{}", o.stderr);
    assert!(!d.path().join("m2").exists(), "a refused merge writes nothing");
    // The whole unsharded folder and a shard of it overlap too.
    ok(d.path(), &[&["sweep", "s.yaml", "--out", "full"][..], &grid].concat());
    fails(d.path(), 2, &["merge", "full", "s2", "--out", "m3"], &["is in both"]);
}

#[test]
fn a_second_sweep_into_the_same_folder_is_refused() {
    let d = setup();
    let web = scenario("web-service.yaml");
    let long = [
        "sweep",
        web.as_str(),
        "--out",
        "same",
        "--duration",
        "30m",
        "-r",
        "60",
        "-q",
        "--no-charts",
        "--jobs",
        "1",
    ];
    let mut first =
        Command::new(bin()).args(long).current_dir(d.path()).stderr(Stdio::piped()).spawn().expect("spawn");
    let started = std::time::Instant::now();
    while !d.path().join("same/sweep.json").exists() && started.elapsed().as_secs() < 30 {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let second = run_in(d.path(), &["sweep", "s.yaml", "--out", "same", "-r", "3", "-q"]);
    let resume = run_in(d.path(), &[&long[..], &["--resume"]].concat());
    let still_running = first.try_wait().expect("wait").is_none();
    let status = first.wait().expect("wait");
    assert!(still_running, "the first sweep ended before the second started; make it longer");
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(second.stderr.contains("another clustersim sweep"), "{}", second.stderr);
    assert_eq!(resume.code, 2, "a resume while it runs is refused too: {}", resume.stderr);
    assert!(status.success());
    let rows = read(d.path().join("same/runs.csv")).lines().count();
    assert_eq!(rows, 61, "the first sweep's runs only");
}

#[test]
fn run_files_carry_their_identity() {
    let d = setup();
    let grid = ["-P", "nodePools.0.count", "1", "3", "-r", "2", "-q", "--no-charts"];
    let sweep = |out: &str, extra: &[&str]| {
        [&["sweep", "s.yaml", "--out", out][..], &grid, extra]
            .concat()
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    };
    fn args(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let a = sweep("a", &[]);
    ok(d.path(), &args(&a));
    let head = read(d.path().join("a/runs/run-000003.csv"));
    assert!(head.starts_with("sweep,run,parameter_nodePools.0.count,replication,seed,"), "{head}");
    assert!(!read(d.path().join("a/runs.csv")).contains("sweep,run"), "runs.csv leaves the identity out");
    // A run file from another sweep (another scenario seed) is refused on resume.
    let b = sweep("b", &["--seed", "9"]);
    ok(d.path(), &args(&b));
    std::fs::remove_file(d.path().join("a/runs/run-000002.csv")).expect("rm");
    std::fs::copy(d.path().join("b/runs/run-000002.csv"), d.path().join("a/runs/run-000002.csv"))
        .expect("cp");
    let resume = sweep("a", &["--resume"]);
    fails(d.path(), 2, &args(&resume), &["run-000002.csv", "another sweep", "--resume"]);
    // A misplaced one (run 2's file as run 4) too.
    std::fs::copy(d.path().join("b/runs/run-000002.csv"), d.path().join("b/runs/run-000004.csv"))
        .expect("cp");
    let resume_b = sweep("b", &["--seed", "9", "--resume"]);
    fails(d.path(), 2, &args(&resume_b), &["run-000004.csv", "run 2", "not run 4"]);
    // And merge checks them the same way.
    fails(d.path(), 2, &["merge", "b", "--out", "mb"], &["run-000004.csv"]);
    // A file of an older format says so.
    std::fs::write(
        d.path().join("b/runs/run-000004.csv"),
        "parameter_nodePools.0.count,replication,seed\n3,0,9\n",
    )
    .expect("w");
    fails(d.path(), 2, &args(&resume_b), &["run-000004.csv", "does not say which sweep"]);
}

#[test]
fn the_scenario_is_its_content_not_its_path() {
    let d = setup();
    let abs = d.path().join("s.yaml").display().to_string();
    let grid = ["-P", "nodePools.0.count", "1", "2", "-r", "2", "-q", "--no-charts"];
    ok(d.path(), &[&["sweep", "s.yaml", "--out", "rel", "--shard", "1/2"][..], &grid].concat());
    ok(d.path(), &[&["sweep", abs.as_str(), "--out", "abs", "--shard", "2/2"][..], &grid].concat());
    ok(d.path(), &["merge", "rel", "abs", "--out", "m", "-q", "--no-charts"]);
    std::fs::remove_file(d.path().join("rel/runs/run-000002.csv")).expect("rm");
    ok(
        d.path(),
        &[&["sweep", abs.as_str(), "--out", "rel", "--shard", "1/2", "--resume"][..], &grid].concat(),
    );
    // An edit, even a comment, is another sweep.
    std::fs::write(d.path().join("s.yaml"), format!("# edited\n{VALID}")).expect("w");
    fails(
        d.path(),
        2,
        &[&["sweep", "s.yaml", "--out", "rel", "--shard", "1/2", "--resume"][..], &grid].concat(),
        &["different sweep", "scenario_fnv1a"],
    );
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let quick = scenario("quickstart.yaml");
    let d = tempfile::tempdir().expect("tmp");
    for args in [
        vec!["run", quick.as_str(), "--out", "X", "--no-charts"],
        vec!["validate", quick.as_str()],
        vec!["--help"],
    ] {
        let mut child = Command::new(bin())
            .args(&args)
            .current_dir(d.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take()); // the reader is gone, as with `| head -0`
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
    assert!(d.path().join("X/summary.csv").exists(), "the results were written");
    // Through a shell, as users type it.
    let line = format!(
        "'{}' run '{quick}' --out Y --no-charts | head -1; echo status ${{PIPESTATUS[0]}}",
        bin().display()
    );
    let o = Command::new("bash").args(["-c", &line]).current_dir(d.path()).output().expect("bash");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stdout.starts_with("seed") && stdout.contains("status 0"), "{stdout}{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn run_checks_are_validated_before_the_run() {
    let d = setup();
    let o = fails(
        d.path(),
        2,
        &["run", "s.yaml", "--out", "out", "--check", "latency_p99_ms < 250"],
        &["latency_p99_ms"],
    );
    assert!(!d.path().join("out").exists(), "nothing was written: {}", o.stderr);
    // A column that exists passes, with the run.
    ok(d.path(), &["run", "s.yaml", "--out", "out", "-q", "--check", "pods_running_end >= 3"]);
}

#[test]
fn jobs_beyond_the_runs_are_capped_and_huge_grids_start_at_once() {
    let d = setup();
    ok(d.path(), &["sweep", "s.yaml", "--out", "j", "-q", "-r", "2", "-j", "5000", "--no-charts"]);
    assert_eq!(read(d.path().join("j/runs.csv")).lines().count(), 3);
    // A million grid points: planning is lazy (about 10 KB per point held before would be
    // 10 GB), so one shard's single run starts at once, within 2 GB of address space.
    let o = Command::new("prlimit")
        .args(["--as=2000000000", "--"])
        .arg(bin())
        .args(["sweep", "s.yaml", "--out", "big", "-P", "deployments.0.replicas", "1", "1000"])
        .args(["-P", "nodePools.0.count", "1", "1000", "--shard", "1/1000000", "--jobs", "1"])
        .current_dir(d.path())
        .output()
        .expect("prlimit (util-linux) runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("shard 1/1000000 of 1000000 runs: 1 runs"), "{stderr}");
    assert_eq!(ls(&d.path().join("big/runs")), ["run-000000.csv"]);
    // A bad value of a large grid is still found before anything runs.
    fails(
        d.path(),
        2,
        &[
            "sweep",
            "s.yaml",
            "--out",
            "big2",
            "-P",
            "deployments.0.replicas",
            "1",
            "1000",
            "-L",
            "nodePools.0.count",
            "1,2,x",
        ],
        &["nodePools.0.count", "\"x\""],
    );
    assert!(!d.path().join("big2").exists());
}

#[test]
fn progress_lines_without_a_terminal() {
    let d = setup();
    let quick = scenario("quickstart.yaml");
    let out = Command::new(bin())
        .args(["run", &quick, "--out", "X", "--no-charts"])
        .env("CLUSTERSIM_PROGRESS_INTERVAL", "0")
        .current_dir(d.path())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines = stderr.lines().filter(|l| l.contains("% of simulated time")).count();
    assert!(lines >= 10, "progress lines on stderr:\n{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("simulated time"), "stdout stays data only");
    let out = Command::new(bin())
        .args(["sweep", "s.yaml", "--out", "sw", "-r", "4", "--no-charts"])
        .env("CLUSTERSIM_PROGRESS_INTERVAL", "0")
        .current_dir(d.path())
        .output()
        .expect("sweep");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("4 of 4 runs (0 failed)"), "{stderr}");
    // Quiet means quiet; the default interval keeps a short run silent.
    let out = Command::new(bin())
        .args(["run", &quick, "--out", "Y", "--no-charts", "-q"])
        .env("CLUSTERSIM_PROGRESS_INTERVAL", "0")
        .current_dir(d.path())
        .output()
        .expect("run");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_grid_point_beyond_the_limits_is_recorded_and_the_others_run() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(
        d.path().join("s.yaml"),
        "name: svc\nduration: 60s\nnodePools: [{name: p, count: 2, allocatable: {cpu: 8, memory: 32Gi}}]\n\
         deployments:\n  - name: web\n    replicas: 2\n    template: {requests: {cpu: 1, memory: 1Gi}}\n    \
         service: {concurrency: 4, serviceTime: {constant: 10ms}, load: {poisson: {rate: 50}}}\n",
    )
    .expect("w");
    // run and validate refuse it, naming the field.
    for sub in ["run", "validate"] {
        fails(
            d.path(),
            2,
            &[sub, "s.yaml", "--set", "deployments.0.service.concurrency=2147483648"],
            &["deployments[0].service.concurrency", "--no-limits"],
        );
    }
    let o = fails(
        d.path(),
        2,
        &[
            "sweep",
            "s.yaml",
            "--out",
            "sw",
            "-q",
            "-L",
            "deployments.0.service.concurrency",
            "2,2147483648,8",
        ],
        &["1 run refused", "deployments[0].service.concurrency"],
    );
    let _ = o;
    assert_eq!(ls(&d.path().join("sw/runs")), ["run-000000.csv", "run-000001.failed", "run-000002.csv"]);
    assert_eq!(read(d.path().join("sw/runs.csv")).lines().count(), 3, "the other runs are assembled");
}

#[test]
fn two_spellings_of_a_path_are_one_parameter() {
    let d = setup();
    fails(
        d.path(),
        2,
        &[
            "sweep",
            "s.yaml",
            "--out",
            "o",
            "-P",
            "nodePools[0].count",
            "1",
            "2",
            "-L",
            "nodePools.0.count",
            "3,4",
        ],
        &["nodePools.0.count is given twice"],
    );
    fails(
        d.path(),
        2,
        &[
            "sweep",
            "s.yaml",
            "--out",
            "o",
            "-P",
            "nodePools[0].count",
            "1",
            "2",
            "--set",
            "nodePools.0.count=3",
        ],
        &["fixes the swept parameter nodePools.0.count"],
    );
    ok(
        d.path(),
        &["sweep", "s.yaml", "--out", "o", "-q", "--no-charts", "-P", "nodePools[0].count", "1", "2"],
    );
    assert!(read(d.path().join("o/runs.csv")).starts_with("parameter_nodePools.0.count,"));
}
