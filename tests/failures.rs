//! Failures and recovery against the upstream timeline and closed forms: detection after
//! the grace period, eviction after tolerationSeconds, the per-zone taint rate limits and
//! zone states, long-run node availability MTBF / (MTBF + MTTR), and bad fault input.

mod common;
use clustersim::cluster::{Owner, PodPhase};
use clustersim::engine::SimTime;
use clustersim::scenario;
use clustersim::sim::{RunOutput, Simulation};
use common::*;
use std::path::Path;

fn run(yaml: &str, seed: u64) -> RunOutput {
    let mut s = scenario::parse_str(yaml, Path::new("inline.yaml")).expect("parses");
    scenario::validate::validate(&s).expect("valid");
    s.seed = seed;
    Simulation::new(&s, seed).expect("builds").run()
}

fn col(out: &RunOutput, k: &str) -> f64 {
    out.summary.iter().find(|(n, _)| n == k).and_then(|(_, v)| v.as_f64()).unwrap_or(f64::NAN)
}

const SEC: u64 = 1_000_000_000;

/// The first eviction time of each node that lost pods, sorted.
fn first_evictions_per_node(out: &RunOutput) -> Vec<u64> {
    let mut first: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
    for p in out.cluster.pods.all().filter(|p| p.phase == PodPhase::Deleted) {
        let t = p.finished_at.expect("evicted").0;
        first.entry(p.node.expect("node").0).and_modify(|x| *x = (*x).min(t)).or_insert(t);
    }
    let mut times: Vec<u64> = first.values().copied().collect();
    times.sort();
    times
}

#[test]
fn one_node_failure_follows_the_default_timeline() {
    // Failure at t = 600 s. The last lease renewal was in (590, 600] s; the first 5 s
    // monitor tick more than 50 s later is in (640, 655] s; the zone is healthy, so the
    // NoExecute taint lands at once and the pods are deleted 300 s later, in (940, 955] s,
    // when their replacements are created; they run 1 s later (container start).
    for seed in 1..=20 {
        let out = run(
            "
duration: 20m
nodePools: [{name: p, count: 3, allocatable: {cpu: 4, memory: 16Gi}, kubelet: {containerStart: {constant: 1s}}}]
deployments: [{name: web, replicas: 6, template: {requests: {cpu: 1}}}]
faults: [{at: 10m, fail: {node: p-1}}]
",
            seed,
        );
        let c = &out.cluster;
        let on_failed: Vec<usize> = (0..6).filter(|&i| c.pods[i].node.map(|n| n.0) == Some(1)).collect();
        assert!(!on_failed.is_empty());
        let replacements: Vec<usize> = (6..c.pods.len()).collect();
        assert_eq!(replacements.len(), on_failed.len(), "seed {seed}: one replacement per lost pod");
        for &i in &on_failed {
            let evicted = c.pods[i].finished_at.expect("evicted").0;
            assert_eq!(c.pods[i].phase, PodPhase::Deleted);
            assert!(evicted > 940 * SEC && evicted <= 955 * SEC, "seed {seed}: evicted at {evicted}");
            assert_eq!(evicted % (5 * SEC), 0, "detection happens on a 5 s monitor tick");
        }
        for &i in &replacements {
            let p = &c.pods[i];
            assert!(matches!(p.owner, Owner::Deployment(_)));
            assert!(p.created_at.0 > 940 * SEC && p.created_at.0 <= 955 * SEC, "seed {seed}");
            let running = p.running_at.expect("replacement running").0;
            assert!(running >= p.created_at.0 + SEC && running < p.created_at.0 + SEC + 10_000_000);
        }
        assert_eq!(col(&out, "pods_evicted"), on_failed.len() as f64);
        let lat = col(&out, "replacement_latency_max_s");
        assert!(lat > 341.0 && lat < 356.1, "seed {seed}: replacement latency {lat}");
    }
}

#[test]
fn evictions_in_a_zone_are_spaced_by_the_rate_limit() {
    // Zone b (4 nodes) fails entirely while zones a and c are healthy: FullDisruption keeps
    // the normal 0.1 node/s, so the four nodes are tainted 10 s apart (after the detection
    // ticks, which differ by the nodes' lease phases).
    let out = run(
        "
duration: 30m
nodePools: [{name: p, count: 12, zones: [a, b, c], allocatable: {cpu: 4, memory: 16Gi}}]
deployments: [{name: web, replicas: 12, template: {requests: {cpu: 1}}}]
faults: [{at: 5m, fail: {zone: b}}]
",
        3,
    );
    let times = first_evictions_per_node(&out);
    assert_eq!(times.len(), 4, "every node of zone b had pods evicted");
    for w in times.windows(2) {
        assert!(w[1] - w[0] >= 10 * SEC - 1, "taints at most 0.1 node/s: {:?}", times);
    }
}

#[test]
fn a_partially_disrupted_small_zone_stops_evicting() {
    // 10 nodes in one zone (≤ 50, a "small" zone); 7 fail at once. Once 3 or more are
    // NotReady and at least 55 % of the zone, the zone is PartialDisruption and its taint
    // rate drops to 0: only the nodes tainted before that (at most 2, 10 s apart) lose
    // their pods.
    let out = run(
        "
duration: 1h
nodePools: [{name: p, count: 10, zones: [a], allocatable: {cpu: 4, memory: 16Gi}}]
deployments: [{name: web, replicas: 10, template: {requests: {cpu: 1}}}]
faults: [{at: 5m, fail: {pool: {name: p, fraction: 0.7}}}]
",
        2,
    );
    let evicted_nodes: std::collections::BTreeSet<u32> = out
        .cluster
        .pods
        .all()
        .filter(|p| p.phase == PodPhase::Deleted)
        .map(|p| p.node.expect("node").0)
        .collect();
    assert!(evicted_nodes.len() <= 2, "evictions stop in partial disruption: {evicted_nodes:?}");
    assert_eq!(col(&out, "node_failures"), 7.0);
}

#[test]
fn long_run_node_availability_is_mtbf_over_mtbf_plus_mttr() {
    // Exponential TTF (mean 2 h) and TTR (mean 20 min): availability 6/7 ≈ 0.857.
    let yaml = "
duration: 200h
sampleInterval: 1h
nodePools:
  - name: p
    count: 50
    allocatable: {cpu: 4, memory: 16Gi}
    failures: {timeToFailure: {exponential: {mean: 2h}}, timeToRepair: {exponential: {mean: 20m}}}
";
    let xs: Vec<f64> = (1..=6).map(|seed| col(&run(yaml, seed), "node_availability")).collect();
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt();
    let se = sd / (xs.len() as f64).sqrt();
    let exact = 120.0 / 140.0;
    // Tolerance: 4 standard errors across replications (≈ 0.002 for 50 nodes × 200 h,
    // about 4,300 failure/repair cycles per run).
    assert!((mean - exact).abs() <= 4.0 * se + 1e-4, "availability {mean} ± {se} vs {exact}");
}

#[test]
fn repaired_nodes_come_back_empty_and_ready() {
    // p-0 fails at 60 s and is repaired at 120 s, before anything is evicted: its pods are
    // lost (Failed) at the repair, replaced, and the node takes pods again.
    let out = run(
        "
duration: 10m
nodePools: [{name: p, count: 2, allocatable: {cpu: 2, memory: 8Gi}}]
deployments: [{name: web, replicas: 4, template: {requests: {cpu: 1}}}]
faults: [{at: 60s, duration: 60s, fail: {node: p-0}}]
",
        1,
    );
    let c = &out.cluster;
    let failed: Vec<_> = c.pods.all().filter(|p| p.phase == PodPhase::Failed).collect();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|p| p.finished_at == Some(SimTime(120 * SEC))));
    assert_eq!(c.pods_in(PodPhase::Running), 4, "replacements run on the repaired node");
    assert_eq!(col(&out, "pods_evicted"), 0.0);
    assert!(c.nodes.iter().all(|n| n.up && n.ready));
}

struct Bad {
    name: &'static str,
    yaml: &'static str,
    expect: &'static [&'static str],
}

const BASE: &str = "duration: 10m\nnodePools:\n  - name: p\n    count: 3\n    zones: [a]\n    allocatable: {cpu: 4, memory: 16Gi}\n";

const BAD: &[Bad] = &[
    Bad {
        name: "repair before failure",
        yaml: "faults: [{at: 1m, duration: 0s, fail: {node: p-0}}]",
        expect: &["faults[0].duration", "after the failure"],
    },
    Bad {
        name: "negative repair time",
        yaml: "faults: [{at: 1m, duration: -5m, fail: {node: p-0}}]",
        expect: &["scenario.yaml:"],
    },
    Bad {
        name: "unknown node",
        yaml: "faults: [{at: 1m, fail: {node: p-7}}]",
        expect: &["faults[0].fail.node", "p-7"],
    },
    Bad {
        name: "unknown zone",
        yaml: "faults: [{at: 1m, fail: {zone: z}}]",
        expect: &["faults[0].fail.zone", "\"z\""],
    },
    Bad {
        name: "unknown pool",
        yaml: "faults: [{at: 1m, fail: {pool: {name: q}}}]",
        expect: &["faults[0].fail.pool.name", "\"q\""],
    },
    Bad {
        name: "fraction above 1",
        yaml: "faults: [{at: 1m, fail: {pool: {name: p, fraction: 1.5}}}]",
        expect: &["faults[0].fail.pool.fraction", "from 0 to 1"],
    },
    Bad {
        name: "fraction below 0",
        yaml: "faults: [{at: 1m, fail: {pool: {name: p, fraction: -0.1}}}]",
        expect: &["faults[0].fail.pool.fraction"],
    },
    Bad {
        name: "drain of an unknown node",
        yaml: "maintenance: [{at: 1m, drain: q-0}]",
        expect: &["maintenance[0].drain", "q-0"],
    },
    Bad {
        name: "chaos failure rate above 1",
        yaml: "chaos: {failureRate: 2, interval: 5m, simulatedDowntime: 1m}",
        expect: &["chaos.failureRate", "from 0 to 1"],
    },
    Bad {
        name: "negative crash time",
        yaml: "deployments: [{name: d, replicas: 1, template: {crashes: {timeToCrash: {exponential: {mean: 0s}}}}}]",
        expect: &["deployments[0].template.crashes.timeToCrash"],
    },
    Bad {
        name: "negative eviction rate",
        yaml: "nodeLifecycle: {nodeEvictionRate: -1}",
        expect: &["nodeLifecycle.nodeEvictionRate", "rate"],
    },
];

#[test]
fn bad_fault_input_exits_2_with_the_field_path() {
    let zero_rate = "duration: 10m\nnodePools:\n  - name: p\n    count: 3\n    allocatable: {cpu: 4, memory: 16Gi}\n    failures: {timeToFailure: {exponential: {mean: 0s}}, timeToRepair: {constant: 1m}}\n";
    let mut cases: Vec<(String, String, Vec<&str>)> =
        BAD.iter().map(|b| (b.name.to_string(), format!("{BASE}{}\n", b.yaml), b.expect.to_vec())).collect();
    cases.push(("zero failure rate".into(), zero_rate.into(), vec!["nodePools[0].failures.timeToFailure"]));
    for (name, yaml, expect) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("scenario.yaml"), yaml).expect("write");
        let o = run_in(dir.path(), &["validate", "scenario.yaml"]);
        assert_eq!(o.code, 2, "{name}: {}", o.stderr);
        assert!(o.stderr.contains("scenario.yaml"), "{name}: {}", o.stderr);
        for e in expect {
            assert!(o.stderr.contains(e), "{name}: expected {e:?} in {}", o.stderr);
        }
    }
}

#[test]
fn k_pinned_replicas_are_available_unless_all_nodes_are_down() {
    // 3 replicas on 3 nodes that hold one pod each, so a lost replica cannot move and comes
    // back only when its node is repaired. The service is up while any node is: availability
    // 1 − (MTTR / (MTBF + MTTR))^3 = 1 − (1/4)^3 = 0.984375 with MTBF 3 h, MTTR 1 h.
    // Tolerance: 4 standard errors across 8 replications of 2,000 h, plus 3e-4 for the
    // scheduler's up-to-10 s backoff before a replica is placed again after a repair.
    let yaml = "
duration: 2000h
sampleInterval: 10h
scheduler: {cost: {perPod: 0s, perNodeExamined: 0s}}
nodePools:
  - name: p
    count: 3
    allocatable: {cpu: 4, memory: 16Gi, pods: 1}
    kubelet: {imagePull: {constant: 0s}, containerStart: {constant: 0s}}
    failures: {timeToFailure: {exponential: {mean: 3h}}, timeToRepair: {exponential: {mean: 1h}}}
deployments:
  - name: web
    replicas: 3
    template: {requests: {cpu: 1}}
    service:
      serviceTime: {constant: 1ms}
      load: {poisson: {rate: 0.01}}
";
    let xs: Vec<f64> = (1..=8).map(|seed| col(&run(yaml, seed), "svc_web_time_available")).collect();
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt();
    let se = sd / (xs.len() as f64).sqrt();
    let exact = 1.0 - 0.25f64.powi(3);
    assert!((mean - exact).abs() <= 4.0 * se + 3e-4, "availability {mean} ± {se} vs {exact}");
}

#[test]
fn time_to_recover_covers_the_default_replacement_timeline() {
    // scenarios/node-failure.yaml: the surviving pods cannot carry the load within the SLO,
    // so the service recovers only once the replacements run, about 6 minutes after the
    // failure (detection ≈ 50 s + tolerationSeconds 300 s + start-up), plus queue drain.
    let dir = tempfile::tempdir().expect("temp dir");
    let scen = repo().join("scenarios/node-failure.yaml");
    let o = run_in(dir.path(), &["run", &scen.to_string_lossy(), "--out", "o", "--quiet"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(dir.path().join("o/summary.csv")).expect("summary");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let row: Vec<&str> = lines.next().expect("row").split(',').collect();
    let get =
        |k: &str| row[header.iter().position(|h| *h == k).expect("column")].parse::<f64>().expect("number");
    let ttr = get("time_to_recover_s");
    assert!((350.0..=600.0).contains(&ttr), "time to recover {ttr} s");
    assert!(get("requests_failed") > 0.0, "requests routed to the dead pods before detection fail");
    assert_eq!(get("node_failures"), 1.0);
}

#[test]
fn crash_loop_backoff_doubles_from_10s_to_5min_and_resets_after_10min() {
    // A container that crashes 1 s after every start (it starts at 1 s): crashes at 2, 13,
    // 34, 75, 156 and 317 s, restarts after 10, 20, 40, 80, 160 and 300 s (the cap), so 6
    // crashes by 600 s and 8 by 1,000 s (next at 618 and 919 s).
    let yaml = |d: &str| {
        format!(
            "
duration: {d}
nodePools: [{{name: p, count: 1, allocatable: {{cpu: 4, memory: 16Gi}}, kubelet: {{containerStart: {{constant: 1s}}}}}}]
scheduler: {{cost: {{perPod: 0s, perNodeExamined: 0s}}}}
deployments: [{{name: web, replicas: 1, template: {{requests: {{cpu: 1}}, crashes: {{timeToCrash: {{constant: 1s}}}}}}}}]
"
        )
    };
    assert_eq!(col(&run(&yaml("600s"), 1), "container_restarts"), 6.0);
    assert_eq!(col(&run(&yaml("1000s"), 1), "container_restarts"), 8.0);
    // Running 700 s (> 10 min) between crashes resets the backoff each time: three 10 s
    // outages in 2,200 s (plus the 1 s start), not 10 + 20 + 40 s.
    let out = run(
        "
duration: 2200s
nodePools: [{name: p, count: 1, allocatable: {cpu: 4, memory: 16Gi}, kubelet: {containerStart: {constant: 1s}}}]
scheduler: {cost: {perPod: 0s, perNodeExamined: 0s}}
deployments:
  - name: web
    replicas: 1
    template: {requests: {cpu: 1}, crashes: {timeToCrash: {constant: 700s}}}
    service: {serviceTime: {constant: 1ms}, load: {poisson: {rate: 0.01}}}
",
        1,
    );
    assert_eq!(col(&out, "container_restarts"), 3.0);
    let available = col(&out, "svc_web_time_available");
    assert!((available - (2200.0 - 31.0) / 2200.0).abs() < 1e-6, "time available {available}");
}

#[test]
fn the_chaos_monkey_fails_ceil_rate_times_nodes_every_interval() {
    // 100 nodes, failureRate 0.05 → 5 nodes per round; rounds at 0, 5, …, 55 min without
    // jitter: 12 rounds, 60 failures of 1 min each → node availability 1 − 60/(100 × 60).
    let out = run(
        "
duration: 1h
nodePools: [{name: p, count: 100, allocatable: {cpu: 4, memory: 16Gi}}]
chaos: {failureRate: 0.05, interval: 5m, jitterFactor: 0, simulatedDowntime: 1m}
",
        9,
    );
    assert_eq!(col(&out, "node_failures"), 60.0);
    assert!((col(&out, "node_availability") - 0.99).abs() < 1e-9);
    // With jitter the rounds are further apart (mean interval 5 min × (1 + 2.0 / 2)).
    let jittered = run(
        "
duration: 10h
nodePools: [{name: p, count: 100, allocatable: {cpu: 4, memory: 16Gi}}]
chaos: {failureRate: 0.01, interval: 5m, jitterFactor: 2.0, simulatedDowntime: 10m}
",
        9,
    );
    let rounds = col(&jittered, "node_failures");
    assert!((45.0..=75.0).contains(&rounds), "about 60 rounds of 1 node in 10 h, got {rounds}");
}

#[test]
fn drains_respect_min_available_and_retry_every_5s() {
    // 6 replicas spread 2/2/2 over 3 nodes, minAvailable 5. Draining p-0 at 60 s evicts
    // one pod at once (6 healthy − 5 ≥ 1); the second must wait until the first one's
    // replacement runs elsewhere (1 s start), and kubectl retries every 5 s: 65 s.
    let yaml = |min: u32| {
        format!(
            "
duration: 10m
scheduler: {{cost: {{perPod: 0s, perNodeExamined: 0s}}}}
nodePools: [{{name: p, count: 3, allocatable: {{cpu: 8, memory: 16Gi}}, kubelet: {{containerStart: {{constant: 1s}}}}}}]
deployments: [{{name: web, replicas: 6, minAvailable: {min}, template: {{requests: {{cpu: 1}}}}}}]
maintenance: [{{at: 60s, drain: p-0, duration: 5m}}]
"
        )
    };
    let out = run(&yaml(5), 1);
    let c = &out.cluster;
    let mut evictions: Vec<u64> = c
        .pods
        .all()
        .filter(|p| p.phase == PodPhase::Deleted && p.node.map(|n| n.0) == Some(0))
        .map(|p| p.finished_at.expect("evicted").0)
        .collect();
    evictions.sort();
    assert_eq!(evictions, vec![60 * SEC, 65 * SEC]);
    assert_eq!(col(&out, "pods_drained"), 2.0);
    assert_eq!(c.pods_in(PodPhase::Running), 6);
    assert!(!c.nodes[0].unschedulable, "uncordoned after 5 min");
    // minAvailable = replicas: the budget never allows an eviction.
    let stuck = run(&yaml(6), 1);
    assert_eq!(col(&stuck, "pods_drained"), 0.0);
}

#[test]
fn a_partially_disrupted_large_zone_taints_at_the_secondary_rate() {
    // 60 nodes in one zone (> 50); 40 fail at once. Once ≥ 55 % are NotReady the zone is
    // PartialDisruption and taints slow to 0.01 node/s: later taints are ≥ 100 s apart.
    let out = run(
        "
duration: 2h
nodePools: [{name: p, count: 60, zones: [a], allocatable: {cpu: 4, memory: 16Gi}}]
deployments: [{name: web, replicas: 60, template: {requests: {cpu: 1}}}]
faults: [{at: 5m, fail: {pool: {name: p, fraction: 0.6667}}}]
",
        4,
    );
    let times = first_evictions_per_node(&out);
    assert!(times.len() >= 3, "evictions continue, slowly: {}", times.len());
    // 40 NotReady nodes at 0.01/s would need 4,000 s; within 2 h minus the first ~6 min,
    // at most about 70 could be tainted at 0.01/s: far fewer than at 0.1/s.
    let slow_gaps = times.windows(2).filter(|w| w[1] - w[0] >= 100 * SEC - 1).count();
    assert!(
        slow_gaps >= times.len().saturating_sub(3),
        "gaps {:?}",
        times.windows(2).map(|w| (w[1] - w[0]) / SEC).collect::<Vec<_>>()
    );
    assert_eq!(col(&out, "node_failures"), 40.0);
}
