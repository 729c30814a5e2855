//! Threads inside a run (`run --threads N`) make the same decisions as one thread: the
//! tie-break draws generated ahead (`src/scheduler/draws.rs`) and the chunked scoring
//! (`src/scheduler/parallel.rs`, here with the pool used for every attempt, no size
//! threshold). Every shipped scenario (shrunk as in `tests/determinism.rs`) and random
//! clusters (taints, node affinity, spread constraints, pod (anti-)affinity, GPUs,
//! priorities and preemption) give byte-identical CSVs and the same pod for pod placements
//! on one thread and on two, through the packed cycle and through the generic one.

mod common;
use clustersim::output;
use clustersim::scheduler::parallel::{Threads, Workers};
use clustersim::sim::{RunOutput, Simulation};
use common::shrink::SHRINK;
use common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::path::Path;

/// Every CSV a run writes (`pods.csv` included), by name.
fn csvs(out: &RunOutput) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("summary.csv", output::summary_csv(&out.summary).expect("summary")),
        (
            "timeseries.csv",
            output::timeseries_csv(&out.metrics, &out.timeseries_columns).expect("timeseries"),
        ),
        ("startup-cdf.csv", output::startup_cdf_csv(&out.metrics.startup_quantiles_s()).expect("cdf")),
        ("pods.csv", output::pods_csv(&out.cluster).expect("pods")),
        (
            "autoscaler-events.csv",
            output::autoscaler_events_csv(&out.hpa_decisions, &out.ca_decisions).expect("ca"),
        ),
    ]
}

/// Runs `s` on one thread (with the packed cycle), or with the draws ahead and a pool of
/// `threads` used by every attempt (the packed cycle off: it does not use the pool, so
/// every attempt is scored on the pool's path).
fn run_on(s: &clustersim::scenario::Scenario, threads: usize) -> (RunOutput, u64) {
    run_with(s, threads, threads == 1).0
}

/// [`run_on`], with the packed cycle on or off; also how many attempts took it.
fn run_with(s: &clustersim::scenario::Scenario, threads: usize, packed: bool) -> ((RunOutput, u64), u64) {
    let mut sim = Simulation::new(s, s.seed).expect("builds");
    if threads > 1 {
        sim.scheduler.use_threads(Threads::exactly(threads)).expect("threads");
        sim.scheduler.workers = Workers::with_threads(threads).expect("pool").with_min_parallel(1);
    }
    sim.scheduler.packed_path = packed;
    let out = sim.run();
    let packed_attempts = out.packed_attempts;
    assert!(out.failure.is_none(), "{:?}", out.failure);
    let attempts = sim_attempts(&out);
    ((out, attempts), packed_attempts)
}

fn sim_attempts(out: &RunOutput) -> u64 {
    out.cluster.pods.all().map(|p| u64::from(p.attempts)).sum()
}

fn assert_same_decisions(a: &RunOutput, b: &RunOutput, what: &str) {
    assert_eq!(a.cluster.pods.len(), b.cluster.pods.len(), "{what}: pods created");
    for (i, (x, y)) in a.cluster.pods.all().zip(b.cluster.pods.all()).enumerate() {
        assert_eq!(
            (x.phase, x.node, x.scheduled_at, x.running_at, x.finished_at, x.attempts),
            (y.phase, y.node, y.scheduled_at, y.running_at, y.finished_at, y.attempts),
            "{what}: pod {i}"
        );
    }
    for ((name, x), (_, y)) in csvs(a).iter().zip(&csvs(b)) {
        assert!(x == y, "{what}: {name} differs");
    }
}

/// The `--set` overrides of a SHRINK entry (`--duration D` is `duration=D`).
fn overrides(args: &[&str]) -> Vec<String> {
    args.chunks(2)
        .map(|kv| match kv {
            ["--set", v] => v.to_string(),
            ["--duration", d] => format!("duration={d}"),
            other => panic!("unexpected SHRINK arguments {other:?}"),
        })
        .collect()
}

fn needs_absent_shared_data(file: &str) -> bool {
    let text = std::fs::read_to_string(repo().join("scenarios").join(file)).unwrap_or_default();
    text.contains("shared/data/") && !repo().join("../shared/data").is_dir()
}

/// Every shipped scenario, shrunk (those reading an absent `../shared/data` skipped).
fn shipped() -> Vec<(&'static str, clustersim::scenario::Scenario)> {
    let mut v = Vec::new();
    for (file, shrink) in SHRINK {
        if needs_absent_shared_data(file) {
            eprintln!("SKIPPED {file}: ../shared/data is absent");
            continue;
        }
        let path = if file.contains('/') { repo().join(file) } else { repo().join("scenarios").join(file) };
        v.push((*file, clustersim::runner::load(&path, &overrides(shrink), None).expect("scenario loads")));
    }
    v
}

#[test]
fn every_shipped_scenario_decides_the_same_on_two_threads() {
    for (file, s) in shipped() {
        let (one, attempts) = run_on(&s, 1);
        let (two, _) = run_on(&s, 2);
        assert!(attempts > 0 || file == "cl2-density.yaml" || file.contains("trace"), "{file}: no attempt");
        assert_same_decisions(&one, &two, file);
        // The packed cycle with its draws ahead.
        let ((ahead, _), _) = run_with(&s, 2, true);
        assert_same_decisions(&one, &ahead, file);
    }
}

#[test]
fn every_shipped_scenario_decides_the_same_without_the_packed_cycle() {
    let mut packed_somewhere = 0;
    for (file, s) in shipped() {
        let ((packed, _), used) = run_with(&s, 1, true);
        let ((generic, _), unused) = run_with(&s, 1, false);
        assert_eq!(unused, 0, "{file}: the packed cycle ran while off");
        packed_somewhere += usize::from(used > 0);
        assert_same_decisions(&packed, &generic, file);
    }
    assert!(packed_somewhere >= 10, "the packed cycle ran in only {packed_somewhere} scenarios");
}

#[test]
fn the_threads_flag_gives_the_same_bytes_and_refuses_zero() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = repo().join("scenarios/density-5k-spread.yaml").to_string_lossy().into_owned();
    let args = |out: &'static str, threads: &'static str| -> Vec<String> {
        [file.as_str(), "--out", out, "--pods", "-q", "--no-charts", "--threads", threads]
            .iter()
            .chain(&["--set", "nodePools.0.count=300", "--duration", "300s"])
            .map(|s| s.to_string())
            .collect()
    };
    for (out, threads) in [("t1", "1"), ("t2", "2"), ("t3", "3")] {
        let mut a = vec!["run".to_string()];
        a.extend(args(out, threads));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = run_in(dir.path(), &a);
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    // The default: every core.
    let mut a = vec!["run".to_string()];
    a.extend(args("t0", "1").into_iter().take_while(|s| s != "--threads"));
    a.extend(["--set", "nodePools.0.count=300", "--duration", "300s"].map(String::from));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = run_in(dir.path(), &a);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for f in ["summary.csv", "timeseries.csv", "pods.csv", "startup-cdf.csv"] {
        let x = std::fs::read(dir.path().join("t1").join(f)).expect("t1");
        for other in ["t2", "t3", "t0"] {
            let y = std::fs::read(dir.path().join(other).join(f)).expect("other");
            assert!(x == y, "{f} differs between --threads 1 and {other}");
        }
    }
    let o = run_in(dir.path(), &["run", &file, "--threads", "0", "-q"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--threads") && o.stderr.contains("1.."), "{}", o.stderr);
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
}

/// A random cluster and workload: pools with zones, a tainted pool, a GPU pool; Deployments
/// with priorities, tolerations, node selectors, spread constraints (hard and soft, zone and
/// hostname), pod (anti-)affinity, GPU requests; a scale step that makes high-priority pods
/// preempt; churn.
#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    pools: Vec<(u32, u32, bool, bool)>,
    deployments: Vec<Dep>,
    percentage: u32,
}

#[derive(Clone, Debug)]
struct Dep {
    replicas: u32,
    cpu_m: u32,
    prio: u8,
    app: u8,
    tolerate: bool,
    selector: bool,
    spread: u8,
    anti: u8,
    gpu: u8,
    late: bool,
}

fn dep() -> impl Strategy<Value = Dep> {
    (1u32..40, 100u32..3000, 0u8..3, 0u8..3, any::<bool>(), 0u8..4, 0u8..5, 0u8..4, 0u8..4, any::<bool>())
        .prop_map(|(replicas, cpu_m, prio, app, tolerate, selector, spread, anti, gpu, late)| Dep {
            replicas,
            cpu_m,
            prio,
            app,
            tolerate,
            selector: selector == 0,
            spread,
            anti,
            gpu,
            late,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        prop::collection::vec((3u32..30, 1u32..4, any::<bool>(), any::<bool>()), 1..4),
        prop::collection::vec(dep(), 1..5),
        prop_oneof![Just(0u32), Just(30), Just(100)],
    )
        .prop_map(|(seed, pools, deployments, percentage)| Case { seed, pools, deployments, percentage })
}

fn yaml(c: &Case) -> String {
    let mut y = format!(
        "seed: {}\nduration: 12m\nsampleInterval: 30s\nscheduler: {{percentageOfNodesToScore: {}}}\n\
         priorityClasses:\n  - {{name: p0, value: 0}}\n  - {{name: p1, value: 500}}\n  - {{name: p2, value: 1000}}\n\
         nodePools:\n",
        c.seed % 1000,
        c.percentage
    );
    let zones = ["a", "b", "c"];
    for (i, (count, nz, tainted, gpu)) in c.pools.iter().enumerate() {
        let zs: Vec<&str> = zones[..*nz as usize].to_vec();
        y += &format!("  - name: pool{i}\n    count: {count}\n    zones: [{}]\n", zs.join(", "));
        y += &format!("    labels: {{tier: t{}}}\n", i % 2);
        if *gpu {
            y += "    allocatable: {cpu: 8, memory: 32Gi, pods: 20, nvidia.com/gpu: 2}\n";
        } else {
            y += "    allocatable: {cpu: 4, memory: 16Gi, pods: 12}\n";
        }
        if *tainted {
            y += "    taints: [{key: dedicated, value: x, effect: NoSchedule}, {key: soft, value: y, effect: PreferNoSchedule}]\n";
        }
    }
    y += "deployments:\n";
    for (i, d) in c.deployments.iter().enumerate() {
        let app = ["web", "db", "cache"][d.app as usize];
        y += &format!("  - name: d{i}\n");
        if d.late {
            y += &format!("    replicas: 0\n    scale: [{{at: 4m, replicas: {}}}]\n", d.replicas);
        } else {
            y += &format!("    replicas: {}\n", d.replicas);
        }
        y += &format!(
            "    template:\n      priorityClassName: p{}\n      labels: {{app: {app}}}\n",
            if d.late { 2 } else { d.prio }
        );
        match d.gpu {
            1 => y += &format!("      requests: {{cpu: {}m, memory: 1Gi, nvidia.com/gpu: 1}}\n", d.cpu_m),
            2 => {
                y += &format!(
                    "      requests: {{cpu: {}m, memory: 1Gi, nvidia.com/gpu: 1, alibabacloud.com/gpu-milli: 400}}\n",
                    d.cpu_m
                )
            }
            _ => y += &format!("      requests: {{cpu: {}m, memory: 1Gi}}\n", d.cpu_m),
        }
        if d.tolerate {
            y += "      tolerations: [{key: dedicated, operator: Exists}]\n";
        }
        if d.selector {
            y += "      nodeSelector: {tier: t0}\n";
        }
        let key = |k: u8| {
            if k.is_multiple_of(2) { "topology.kubernetes.io/zone" } else { "kubernetes.io/hostname" }
        };
        match d.spread {
            1 | 2 => {
                y += &format!(
                    "      topologySpreadConstraints:\n        - {{maxSkew: {}, topologyKey: {}, whenUnsatisfiable: DoNotSchedule, labelSelector: {{matchLabels: {{app: {app}}}}}}}\n",
                    d.spread,
                    key(d.spread)
                )
            }
            3 => {
                y += &format!(
                    "      topologySpreadConstraints:\n        - {{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {{matchLabels: {{app: {app}}}}}}}\n"
                )
            }
            _ => {}
        }
        match d.anti {
            1 => {
                y += &format!(
                    "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - {{topologyKey: kubernetes.io/hostname, labelSelector: {{matchLabels: {{app: {app}}}}}}}\n"
                )
            }
            2 => {
                y += "      affinity:\n        podAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n            - weight: 50\n              podAffinityTerm: {topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: web}}}\n"
            }
            3 => {
                y += "      affinity:\n        nodeAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n            - weight: 20\n              preference: {matchExpressions: [{key: tier, operator: In, values: [t1]}]}\n"
            }
            _ => {}
        }
    }
    y += "churn:\n  - name: jobs\n    arrivalRate: 0.3\n    lifetime: {exponential: {mean: 60s}}\n    templates:\n      - {weight: 1, template: {priorityClassName: p0, requests: {cpu: 500m, memory: 1Gi}}}\n";
    y
}

/// The two runs placed every pod alike and wrote the same summary.
fn same_pods(a: &RunOutput, b: &RunOutput, what: &str, text: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.cluster.pods.len(), b.cluster.pods.len());
    for (i, (x, y)) in a.cluster.pods.all().zip(b.cluster.pods.all()).enumerate() {
        prop_assert_eq!(
            (x.phase, x.node, x.scheduled_at, x.attempts),
            (y.phase, y.node, y.scheduled_at, y.attempts),
            "{}, pod {}\n{}",
            what,
            i,
            text
        );
    }
    prop_assert_eq!(format!("{:?}", a.summary), format!("{:?}", b.summary));
    Ok(())
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let text = yaml(c);
    let s = match clustersim::scenario::parse_str(&text, Path::new("parallel.yaml")) {
        Ok(s) => s,
        // Validation may refuse a combination (e.g. a GPU share on a pool without devices);
        // such a case says nothing about the scheduler.
        Err(_) => return Ok(()),
    };
    let (one, _) = run_on(&s, 1);
    let (two, _) = run_on(&s, 2);
    same_pods(&one, &two, "one thread against two", &text)?;
    let ((ahead, _), _) = run_with(&s, 2, true);
    same_pods(&one, &ahead, "the packed cycle with its draws ahead", &text)?;
    // The packed cycle against the generic one, on one thread.
    let ((generic, _), _) = run_with(&s, 1, false);
    same_pods(&one, &generic, "packed against generic", &text)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, .. ProptestConfig::default() })]

    /// Random clusters decide the same on one thread and two, and without the packed cycle.
    fn random_clusters_decide_the_same(c in case()) {
        check(&c)?;
    }
}

#[test]
fn random_clusters_decide_the_same_on_two_threads() {
    random_clusters_decide_the_same();
}

#[test]
fn the_random_clusters_are_valid_and_busy() {
    // The generator must mostly produce valid scenarios that schedule, preempt and score
    // (else the property above proves little).
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut valid, mut preempting, mut packed) = (0, 0, 0);
    for _ in 0..24 {
        let c = case().new_tree(&mut runner).expect("case").current();
        if let Ok(s) = clustersim::scenario::parse_str(&yaml(&c), Path::new("parallel.yaml")) {
            valid += 1;
            let ((out, attempts), used) = run_with(&s, 2, true);
            assert!(attempts > 0);
            packed += usize::from(used > 0);
            let preempted =
                out.summary.iter().find(|(k, _)| k == "pods_preempted").map(|(_, v)| format!("{v:?}"));
            preempting += usize::from(preempted.as_deref().is_some_and(|v| v != "Int(0)"));
        }
    }
    assert!(valid >= 18, "only {valid} of 24 generated scenarios are valid");
    assert!(preempting >= 1, "no generated scenario preempts");
    assert!(packed >= 6, "the packed cycle ran in only {packed} generated scenarios");
}

/// A cluster of a few hundred nodes, so that whole blocks of 64 candidates are scored by
/// their states (`scheduler/packed.rs` `BlockStates`) and those states go stale: churn of
/// two request shapes (no spread terms), Deployments under the system default spreading,
/// scale-downs with graceful termination, tainted pools.
#[derive(Clone, Debug)]
struct Big {
    seed: u64,
    /// (nodes, zones, tainted, pods per node)
    pools: Vec<(u32, u32, bool, u32)>,
    /// (replicas, cpu milli, app, tolerates the taint, scaled down at 5 min)
    deployments: Vec<(u32, u32, u8, bool, bool)>,
    percentage: u32,
    termination: bool,
}

fn big() -> impl Strategy<Value = Big> {
    (
        any::<u64>(),
        prop::collection::vec(
            (64u32..260, 1u32..4, any::<bool>(), prop_oneof![Just(40u32), Just(110)]),
            1..3,
        ),
        prop::collection::vec((50u32..1500, 5u32..400, 0u8..3, any::<bool>(), any::<bool>()), 1..4),
        prop_oneof![Just(0u32), Just(30), Just(100)],
        any::<bool>(),
    )
        .prop_map(|(seed, pools, deployments, percentage, termination)| Big {
            seed,
            pools,
            deployments,
            percentage,
            termination,
        })
}

fn big_yaml(c: &Big) -> String {
    let mut y = format!(
        "seed: {}\nduration: 10m\nsampleInterval: 1m\nscheduler: {{percentageOfNodesToScore: {}}}\nnodePools:\n",
        c.seed % 1000,
        c.percentage
    );
    for (i, (count, nz, tainted, pods)) in c.pools.iter().enumerate() {
        let zs = ["a", "b", "c"][..*nz as usize].join(", ");
        y += &format!(
            "  - name: pool{i}\n    count: {count}\n    zones: [{zs}]\n    allocatable: {{cpu: 8, memory: 32Gi, pods: {pods}}}\n"
        );
        if *tainted {
            y += "    taints: [{key: dedicated, value: x, effect: NoSchedule}]\n";
        }
    }
    y += "deployments:\n";
    for (i, (replicas, cpu_m, app, tolerate, scale)) in c.deployments.iter().enumerate() {
        y += &format!("  - name: d{i}\n    replicas: {replicas}\n");
        if *scale {
            y += &format!("    scale: [{{at: 5m, replicas: {}}}]\n", replicas / 3);
        }
        y += &format!(
            "    template:\n      labels: {{app: a{app}}}\n      requests: {{cpu: {cpu_m}m, memory: 64Mi}}\n"
        );
        if c.termination {
            y += "      terminationTime: 40s\n";
        }
        if *tolerate {
            y += "      tolerations: [{key: dedicated, operator: Exists}]\n";
        }
    }
    y += "churn:\n  - name: jobs\n    arrivalRate: 3\n    lifetime: {exponential: {mean: 60s}}\n    templates:\n      - {weight: 1, template: {requests: {cpu: 50m, memory: 64Mi}}}\n      - {weight: 1, template: {requests: {cpu: 120m, memory: 128Mi}}}\n";
    y
}

/// Runs `text` with the packed cycle and without: the same pods, and how many blocks the
/// packed cycle scored by their states.
fn packed_against_generic(text: &str) -> u64 {
    let s = clustersim::scenario::parse_str(text, Path::new("blocks.yaml")).expect("valid scenario");
    let ((packed, _), used) = run_with(&s, 1, true);
    let ((generic, _), _) = run_with(&s, 1, false);
    assert!(used > 0, "the packed cycle never ran\n{text}");
    if let Err(e) = same_pods(&packed, &generic, "packed against generic", text) {
        panic!("{e}");
    }
    assert_eq!(csvs(&packed), csvs(&generic), "{text}");
    packed.packed_blocks
}

#[test]
fn large_clusters_score_whole_blocks_by_state_with_the_same_decisions() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut by_state = 0;
    for _ in 0..10 {
        let c = big().new_tree(&mut runner).expect("case").current();
        by_state += packed_against_generic(&big_yaml(&c));
    }
    assert!(by_state > 1000, "only {by_state} blocks were scored by their states");
}

#[test]
fn nodes_past_the_spread_memo_score_the_same() {
    // 140 pods of one Deployment per node: past the memo's 128 pod counts, a block's nodes
    // are scored one by one (and the blocks before that by their states).
    let text = "seed: 3\nduration: 30m\nnodePools:\n  - name: big\n    count: 130\n    zones: [a, b]\n    allocatable: {cpu: 64, memory: 256Gi, pods: 300}\ndeployments:\n  - name: many\n    replicas: 18200\n    template:\n      requests: {cpu: 1m, memory: 1Mi}\n";
    assert!(packed_against_generic(text) > 0);
}

#[test]
fn terminating_pods_renew_their_blocks() {
    // A scale-down leaves pods Terminating (they hold their nodes but no longer count for
    // spreading) while the scale-up after it schedules: with 1m requests the resource scores
    // tie and the system default spreading decides, from live counts that changed without
    // any request changing.
    let text = "seed: 5\nduration: 10m\nnodePools:\n  - name: flat\n    count: 256\n    zones: [a]\n    allocatable: {cpu: 8, memory: 32Gi, pods: 110}\ndeployments:\n  - name: web\n    replicas: 2000\n    scale: [{at: 3m, replicas: 600}, {at: 3m10s, replicas: 2400}]\n    template:\n      requests: {cpu: 1m, memory: 1Mi}\n      terminationTime: 2m\n";
    assert!(packed_against_generic(text) > 0);
}
