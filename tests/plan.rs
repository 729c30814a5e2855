//! `clustersim plan`: the answer on a case with a known answer (Erlang C), the monotone
//! search against enumeration on real scenarios, determinism (resume, --jobs), bad input
//! (exit 2 before any run) and no feasible configuration (exit 3).

mod common;
#[path = "common/queueing.rs"]
mod theory;

use common::*;
use std::collections::BTreeMap;
use std::path::Path;

/// One pod whose `concurrency` workers share one FCFS queue: M/M/c with λ = 350/s and
/// μ = 100/s (exponential 10 ms), 200 simulated seconds (about 70,000 requests a run).
const MMC: &str = "\
name: mmc
seed: 1
duration: 200s
sampleInterval: 200s
scheduler: {cost: {perPod: 0s, perNodeExamined: 0s}}
nodePools:
  - name: p
    count: 1
    allocatable: {cpu: 64, memory: 256Gi}
    kubelet: {imagePull: {constant: 0s}, containerStart: {constant: 0s}}
deployments:
  - name: web
    replicas: 1
    template: {requests: {cpu: 100m}}
    service:
      concurrency: 1
      serviceTime: {exponential: {mean: 10ms}}
      load: {poisson: {rate: 350}}
";
const LAMBDA: f64 = 350.0;
const MU: f64 = 100.0;
/// The bound on the mean wait, ms: between Erlang C's 2.52 ms (c = 5) and 0.71 ms (c = 6).
const BOUND_MS: f64 = 1.2;

fn setup(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

/// The rows of plan.csv keyed by the value of `var`, for the first variant.
fn decisions(out: &Path, var: &str) -> BTreeMap<i64, BTreeMap<String, String>> {
    csv_rows(&out.join("plan.csv"))
        .into_iter()
        .map(|r| (r[&format!("var_{var}")].parse::<i64>().expect("integer"), r))
        .collect()
}

fn plan_json(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).expect("plan.json")).expect("json")
}

/// The smallest c whose M/M/c mean wait meets the bound, by Erlang C.
fn erlang_answer() -> u32 {
    (1..64)
        .find(|&c| f64::from(c) * MU > LAMBDA && theory::mmc_mean_wait(c, LAMBDA, MU) * 1e3 < BOUND_MS)
        .expect("c")
}

/// `clustersim plan s.yaml` over the workers 'concurrency' FROM..=TO, declared monotone,
/// with one requirement, into `out` (no charts), plus `extra` flags.
fn mmc_plan(dir: &Path, (from, to): (&str, &str), require: &str, out: &str, extra: &[&str]) -> Outcome {
    let mut args = vec![
        "plan",
        "s.yaml",
        "-P",
        "deployments.0.service.concurrency",
        from,
        to,
        "--monotone",
        "deployments.0.service.concurrency=increasing",
        "--require",
        require,
        "--out",
        out,
        "--no-charts",
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args)
}

#[test]
fn the_smallest_c_meeting_a_mean_wait_is_erlang_cs() {
    let c_star = erlang_answer();
    assert_eq!(c_star, 6, "the case is built for c* = 6");
    let dir = setup(&[("s.yaml", MMC)]);
    let req = format!("svc_web_mean_wait_ms < {BOUND_MS}");
    let o = mmc_plan(dir.path(), ("1", "16"), &req, "out", &[]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("recommendation: deployments.0.service.concurrency=6"), "{}", o.stdout);
    let j = plan_json(&dir.path().join("out"));
    assert_eq!(j["recommendation"]["values"]["deployments.0.service.concurrency"], "6");
    // The search decided c* − 1 itself (to know c* is the smallest) and got it right.
    let d = decisions(&dir.path().join("out"), "deployments.0.service.concurrency");
    assert_eq!(d[&5]["config_verdict"], "fail");
    assert_eq!(d[&6]["config_verdict"], "pass");
    assert!(d.len() < 16, "a search, not the grid: {} configurations", d.len());
    // Enumerated instead: every c from 4 to 8 is decided as Erlang C says, and the
    // recommendation is the same.
    // Not the bare `cost` column: no cost bound, so every c is run (all cost 0).
    let enumerated =
        ["-P", "deployments.0.service.concurrency", "4", "8", "--require", &req, "--objective", "cost + 0"];
    let o = run_in(
        dir.path(),
        &[&["plan", "s.yaml", "--out", "all", "--no-charts"][..], &enumerated[..]].concat(),
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let d = decisions(&dir.path().join("all"), "deployments.0.service.concurrency");
    for c in 4..=8u32 {
        let theory_ms = theory::mmc_mean_wait(c, LAMBDA, MU) * 1e3;
        let want = if theory_ms < BOUND_MS { "pass" } else { "fail" };
        let row = &d[&i64::from(c)];
        assert_eq!(
            row["config_verdict"], want,
            "c = {c}: Erlang C {theory_ms:.3} ms, simulated {}",
            row["svc_web_mean_wait_ms_mean"]
        );
        let sim: f64 = row["svc_web_mean_wait_ms_mean"].parse().expect("mean");
        assert!((sim - theory_ms).abs() < 0.15 * theory_ms + 0.02, "c = {c}: {sim} vs {theory_ms}");
    }
    assert_eq!(
        plan_json(&dir.path().join("all"))["recommendation"]["config"],
        2,
        "c = 6 is the third of 4..8"
    );
}

/// A cluster to size: 10 pods of 1 CPU on `count` nodes of a shape; the requirement is
/// that none stays Pending (deterministic), the objective the nodes' cost.
const NODES: &str = "\
name: nodes
seed: 3
duration: 10m
sampleInterval: 1m
nodePools:
  - name: p
    count: 1
    zones: [zone-a, zone-b, zone-c]
    allocatable: {cpu: 2, memory: 8Gi}
    pricePerHour: 0.1
deployments:
  - name: web
    replicas: 10
    template: {requests: {cpu: 900m, memory: 1Gi}}
";

const NODES_PLAN: &str = "\
variables:
  - name: shape
    choices:
      - {name: small, set: {nodePools.0.allocatable.cpu: 2, nodePools.0.pricePerHour: 0.1}}
      - {name: large, set: {nodePools.0.allocatable.cpu: 8, nodePools.0.pricePerHour: 0.35}}
  - set: nodePools.0.count
    range: [1, 12]
    monotone: increasing
requirements: ['pods_pending_end < 1']
replications: {min: 2, max: 2}
under:
  - {name: as-is}
  - {name: zone-a-down, faults: [{at: 1m, fail: {zone: zone-a}}]}
";

#[test]
fn monotone_search_equals_enumeration_on_a_real_scenario() {
    let dir = setup(&[
        ("s.yaml", NODES),
        ("plan.yaml", NODES_PLAN),
        // Enumerated, and exhaustive: `cost + 0` has no bound without running.
        (
            "all.yaml",
            &NODES_PLAN
                .replace("    monotone: increasing\n", "")
                .replace("requirements:", "objective: cost + 0\nrequirements:"),
        ),
    ]);
    let o = run_in(
        dir.path(),
        &["plan", "s.yaml", "--plan-file", "plan.yaml", "--out", "m", "--no-charts", "-q"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o =
        run_in(dir.path(), &["plan", "s.yaml", "--plan-file", "all.yaml", "--out", "e", "--no-charts", "-q"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let (m, e) = (plan_json(&dir.path().join("m")), plan_json(&dir.path().join("e")));
    assert_eq!(m["recommendation"]["values"], e["recommendation"]["values"]);
    assert_eq!(m["recommendation"]["objective"], e["recommendation"]["objective"]);
    // Small nodes hold 2 pods: 5 needed, and with a zone of 3 down 8 nodes (zone-a has 3).
    assert_eq!(
        m["recommendation"]["values"],
        serde_json::json!({"shape": "small", "nodePools.0.count": "8"})
    );
    let runs = |j: &serde_json::Value| j["search"]["runs_used"].as_u64().expect("runs");
    assert!(runs(&m) < runs(&e) / 2, "search {} runs, enumeration {}", runs(&m), runs(&e));
    assert_eq!(e["search"]["full_grid_runs"], 24 * 2 * 2);
    assert_eq!(runs(&e), 24 * 2 * 2, "the enumeration ran the whole grid");
    // What stops 7 small nodes: the zone outage.
    let weaker = &m["recommendation"]["one_step_weaker"][0];
    assert_eq!(weaker["value"], "7");
    assert_eq!(weaker["misses"][0]["variant"], "zone-a-down");
    // The static cost bound prunes the large shape's expensive counts without running them.
    let large_runs =
        csv_rows(&dir.path().join("m/plan.csv")).iter().filter(|r| r["var_shape"] == "large").count();
    assert!(large_runs <= 4, "{large_runs} rows of large");
}

fn folder_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for sub in ["", "runs", "charts"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else { continue };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_file() && !name.starts_with('.') {
                out.insert(format!("{sub}/{name}"), std::fs::read(e.path()).expect("read"));
            }
        }
    }
    out
}

#[test]
fn resume_and_jobs_give_the_same_bytes() {
    let dir = setup(&[("s.yaml", MMC)]);
    let base = |out: &'static str, jobs: &'static str| -> Vec<&'static str> {
        vec![
            "plan",
            "s.yaml",
            "-P",
            "deployments.0.service.concurrency",
            "3",
            "10",
            "--monotone",
            "deployments.0.service.concurrency=increasing",
            "--require",
            "svc_web_mean_wait_ms < 1.2",
            "--require",
            "svc_web_latency_p99_ms < 80",
            "-r",
            "2..6",
            "--out",
            out,
            "--jobs",
            jobs,
            "-q",
        ]
    };
    for (out, jobs) in [("a", "1"), ("b", "2")] {
        let o = run_in(dir.path(), &base(out, jobs));
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    let a = folder_bytes(&dir.path().join("a"));
    assert!(
        a.contains_key("/plan.csv")
            && a.contains_key("/index.html")
            && a.keys().any(|k| k.starts_with("charts/"))
    );
    assert_eq!(a, folder_bytes(&dir.path().join("b")), "--jobs 1 and 2 differ");
    // Interrupted: the results and half the run files are gone; --resume makes them again.
    let b = dir.path().join("b");
    for f in ["plan.csv", "runs.csv", "index.html"] {
        std::fs::remove_file(b.join(f)).expect("rm");
    }
    let mut runs: Vec<_> =
        std::fs::read_dir(b.join("runs")).expect("runs").flatten().map(|e| e.path()).collect();
    runs.sort();
    for r in runs.iter().skip(runs.len() / 2) {
        std::fs::remove_file(r).expect("rm");
    }
    let o = run_in(dir.path(), &base("b", "2"));
    assert_eq!(o.code, 2, "a folder with content needs --resume: {}", o.stderr);
    assert!(o.stderr.contains("--resume"), "{}", o.stderr);
    let mut resume = base("b", "2");
    resume.push("--resume");
    let o = run_in(dir.path(), &resume);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(a, folder_bytes(&b), "resumed output differs");
    // Another scenario is not resumed into the folder.
    std::fs::write(dir.path().join("s.yaml"), MMC.replace("seed: 1", "seed: 2")).expect("write");
    let o = run_in(dir.path(), &resume);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("plan of other runs"), "{}", o.stderr);
}

#[test]
fn bad_input_is_refused_before_any_run() {
    let plan = |body: &str| {
        format!(
            "variables:\n  - set: nodePools.0.count\n    range: [1, 4]\n    monotone: increasing\nrequirements: ['pods_pending_end < 1']\n{body}"
        )
    };
    let cases: Vec<(String, &str)> = vec![
        (
            "variables:\n  - set: nodePools.0.colour\n    range: [1, 4]\nrequirements: ['pods_pending_end < 1']\n".into(),
            "plan.yaml:2:5: variable nodePools.0.colour, value 1: override \"nodePools.0.colour=1\"",
        ),
        ("variables:\n  - set: nodePools.0.count\n    range: [4, 1]\nrequirements: [x < 1]\n".into(), "plan.yaml:2:5: range: from 4 to 1 is empty"),
        (
            "variables:\n  - set: nodePools.0.count\n    range: [1, 4]\nrequirements: ['pods_pendng_end < 1']\n".into(),
            "plan.yaml:4:16: requirement \"pods_pendng_end < 1\": no column \"pods_pendng_end\"",
        ),
        (plan("under:\n  - {name: broken, faults: [{at: 1m, fail: {zone: zone-q}}]}\n"), "plan.yaml:7:5: variant broken"),
        (plan("objective: nodes_hours\n"), "plan.yaml:6:12: objective \"nodes_hours\": no column \"nodes_hours\""),
        (plan("objective: 'cost +'\n"), "plan.yaml:6:12: objective"),
        (plan("rule: majority\n"), "plan.yaml:6:7"),
    ];
    for (text, want) in cases {
        let dir = setup(&[("s.yaml", NODES), ("plan.yaml", &text)]);
        let o = run_in(dir.path(), &["plan", "s.yaml", "--plan-file", "plan.yaml", "--out", "out"]);
        assert_eq!(o.code, 2, "{text}: {}", o.stderr);
        assert!(o.stderr.contains(want), "{text}\nwanted {want}\ngot {}", o.stderr);
        assert!(!dir.path().join("out").exists(), "{text}: nothing written");
    }
    // The same through flags: the message names the flag.
    let dir = setup(&[("s.yaml", NODES)]);
    for (args, want) in [
        (
            vec!["-P", "nodePools.0.count", "3", "1", "--require", "pods_pending_end < 1"],
            "-P nodePools.0.count 3 1",
        ),
        (vec!["-P", "nodePools.0.count", "1", "3", "--require", "nope < 1"], "--require \"nope < 1\""),
        (
            vec!["--require", "pods_pending_end < 1", "--under", "{name: x, set: {nodePools.0.count: -1}}"],
            "--under",
        ),
        (
            vec!["--require", "pods_pending_end < 1", "--objective", "cost_total"],
            "--objective \"cost_total\"",
        ),
    ] {
        let mut all = vec!["plan", "s.yaml", "--out", "out"];
        all.extend(args);
        let o = run_in(dir.path(), &all);
        assert_eq!(o.code, 2, "{all:?}: {}", o.stderr);
        assert!(o.stderr.contains(want), "{all:?}\nwanted {want}\ngot {}", o.stderr);
        assert!(!dir.path().join("out").exists());
    }
}

#[test]
fn no_feasible_configuration_is_exit_3_with_the_closest() {
    let dir = setup(&[("s.yaml", MMC)]);
    let o = mmc_plan(dir.path(), ("4", "6"), "svc_web_mean_wait_ms < 0.01", "out", &[]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("no plan: no configuration"), "{}", o.stderr);
    assert!(
        o.stderr.contains("deployments.0.service.concurrency=6")
            && o.stderr.contains("misses svc_web_mean_wait_ms < 0.01"),
        "{}",
        o.stderr
    );
    let j = plan_json(&dir.path().join("out"));
    assert_eq!(j["status"], "no-plan");
    assert_eq!(j["closest"][0]["values"]["deployments.0.service.concurrency"], "6");
}

#[test]
fn every_replication_rule_finds_the_same_c() {
    let dir = setup(&[("s.yaml", MMC)]);
    let o = mmc_plan(
        dir.path(),
        ("4", "8"),
        "svc_web_mean_wait_ms < 1.2",
        "out",
        &["--rule", "every-replication", "-r", "2..4", "-q"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let d = decisions(&dir.path().join("out"), "deployments.0.service.concurrency");
    assert_eq!(d[&6]["recommended"], "yes");
    assert_eq!(d[&6]["replications"], "4", "a pass needs every one of max replications");
    assert_eq!(d[&5]["replications"], "2", "a miss is decided by the first round");
    let j = plan_json(&dir.path().join("out"));
    assert!(j["plan"]["decision_rule"].as_str().expect("text").starts_with("every-replication"));
}

#[test]
fn the_cost_bound_is_the_cost_a_run_reports() {
    // Nodes cost while down: the bound the search prunes with equals the run's cost.
    let yaml = NODES.replace("count: 1\n", "count: 7\n")
        + "faults: [{at: 1m, duration: 3m, fail: {zone: zone-b}}]\n";
    let s = clustersim::scenario::parse_str(&yaml, Path::new("s.yaml")).expect("parses");
    clustersim::scenario::validate::validate(&s).expect("valid");
    let out = clustersim::sim::Simulation::new(&s, s.seed).expect("builds").run();
    let cost = out.summary.iter().find(|(k, _)| k == "cost").and_then(|(_, v)| v.as_f64()).expect("cost");
    let bound = clustersim::plan::space::static_cost(&s).expect("fixed pools");
    assert!((cost - bound).abs() < 1e-6, "run {cost}, bound {bound}");
}
