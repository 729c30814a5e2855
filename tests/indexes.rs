//! The scheduler's indexes (free-capacity segment trees, nominated loads held, memoised
//! preemption dry runs; `src/cluster/room.rs`, `src/scheduler/mod.rs`) only skip work: a run
//! with them and a run on the reference paths (`SchedulerConfig::plain`: a linear filter
//! scan and the plain dry run of `preemption::dry_run_preemption` + `pick_one_node` for
//! every preemption) make the same decisions at the same times, and count the same.

use clustersim::scenario;
use clustersim::sim::{RunOutput, Simulation};
use std::path::Path;

fn run(text: &str, plain: bool) -> RunOutput {
    let s = scenario::parse_str(text, Path::new("indexes.yaml")).expect("valid scenario");
    let mut sim = Simulation::new(&s, s.seed).expect("builds");
    sim.scheduler.cfg.plain = plain;
    sim.run()
}

/// Every pod's node and timestamps, and every summary cell.
fn assert_same(text: &str, what: &str) {
    let fast = run(text, false);
    let plain = run(text, true);
    assert_eq!(fast.cluster.pods.len(), plain.cluster.pods.len(), "{what}: pods created");
    for (i, (a, b)) in fast.cluster.pods.all().zip(plain.cluster.pods.all()).enumerate() {
        assert_eq!(
            (a.phase, a.node, a.scheduled_at, a.running_at, a.finished_at, a.attempts),
            (b.phase, b.node, b.scheduled_at, b.running_at, b.finished_at, b.attempts),
            "{what}: pod {i}"
        );
    }
    assert_eq!(format!("{:?}", fast.summary), format!("{:?}", plain.summary), "{what}: summary");
}

#[test]
fn gke_phases_at_2_percent_scale_decide_the_same() {
    // scenarios/gke-65k.yaml with 1,300 nodes: training, inference preempting it,
    // nominations, rescheduling, deletion.
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/gke-65k.yaml");
    let text = std::fs::read_to_string(file).expect("scenario");
    let text = text.replace("65000", "1300").replace("50000", "1000").replace("15000", "300");
    assert_same(&text, "gke-65k at 1,300 nodes");
}

/// Three priority tiers of mixed sizes on nodes that fit several pods, a churn of small
/// low-priority pods, graceful termination on the lowest tier, a tainted pool and a cordon:
/// preemptors of different priorities, nominations that hold or do not hold for a pod.
const MIXED: &str = "
seed: 7
duration: 30m
sampleInterval: 10s
priorityClasses:
  - {name: low, value: 0}
  - {name: mid, value: 500}
  - {name: high, value: 1000}
nodePools:
  - name: small
    count: 30
    zones: [a, b]
    allocatable: {cpu: 4, memory: 16Gi, pods: 8}
  - name: big
    count: 10
    allocatable: {cpu: 8, memory: 32Gi, pods: 16}
    taints: [{key: dedicated, value: x, effect: PreferNoSchedule}]
deployments:
  - name: batch
    replicas: 90
    template:
      priorityClassName: low
      requests: {cpu: 1500m, memory: 2Gi}
      terminationTime: {uniform: {min: 0s, max: 20s}}
  - name: api
    replicas: 0
    scale: [{at: 3m, replicas: 25}, {at: 12m, replicas: 40}, {at: 20m, replicas: 10}]
    createRate: 5
    template: {priorityClassName: mid, requests: {cpu: 2500m, memory: 4Gi}}
  - name: critical
    replicas: 0
    scale: [{at: 5m, replicas: 12}, {at: 15m, replicas: 20}, {at: 25m, replicas: 0}]
    template: {priorityClassName: high, requests: {cpu: 3, memory: 8Gi}, nodeSelector: {topology.kubernetes.io/zone: a}}
churn:
  - name: jobs
    arrivalRate: 0.5
    lifetime: {exponential: {mean: 120s}}
    templates:
      - {weight: 1, template: {priorityClassName: low, requests: {cpu: 500m, memory: 1Gi}}}
      - {weight: 1, template: {priorityClassName: mid, requests: {cpu: 1, memory: 1Gi}}}
maintenance: [{at: 8m, drain: small-3, duration: 5m}]
";

#[test]
fn mixed_priorities_decide_the_same() {
    let out = run(MIXED, false);
    let preempted = out.summary.iter().find(|(k, _)| k == "pods_preempted").map(|(_, v)| format!("{v:?}"));
    assert!(preempted.as_deref().is_some_and(|v| v != "Int(0)"), "the scenario must preempt: {preempted:?}");
    assert_same(MIXED, "mixed priorities");
    assert_same(&format!("{MIXED}controlPlane: {{}}\n"), "mixed priorities, control plane on");
}

/// Mid-priority preemptors are nominated to the nodes their victims freed and wait out their
/// backoff; high-priority pods arriving meanwhile may take those nodes (a nomination holds
/// only against pods of at most its priority), low-priority ones may not.
const NOMINATED_WINDOW: &str = "
seed: 3
duration: 10m
priorityClasses:
  - {name: low, value: 0}
  - {name: mid, value: 500}
  - {name: high, value: 1000}
nodePools:
  - name: p
    count: 10
    allocatable: {cpu: 4, memory: 16Gi}
deployments:
  - name: low
    replicas: 10
    template: {priorityClassName: low, requests: {cpu: 3, memory: 1Gi}}
  - name: mid
    replicas: 0
    scale: [{at: 120s, replicas: 6}]
    template: {priorityClassName: mid, requests: {cpu: 3, memory: 1Gi}}
  - name: high
    replicas: 0
    scale: [{at: 120.5s, replicas: 3}]
    template: {priorityClassName: high, requests: {cpu: 3, memory: 1Gi}}
";

#[test]
fn nominations_hold_only_against_lower_or_equal_priorities() {
    assert_same(NOMINATED_WINDOW, "nominated window");
}

/// Three nodes each full with one low-priority pod; two high-priority preemptors, at 1 s
/// and at 100 s. Every candidate ties on PDB violations, priorities and victim count, so
/// the last criterion of `pickOneNodeForPreemption` decides: the node whose victim started
/// latest. At 1 s the victims are bound but not Running (their start is the binding); by
/// 100 s the two left are Running, and their order by start time has flipped. A memoised
/// dry run that kept the 1-s start times would pick the other node (leaving out the pod-epoch
/// bump in `ClusterState::mark_running` makes this test fail).
const START_TIME_TIE_BREAK: &str = "
seed: 3
duration: 3m
sampleInterval: 10s
priorityClasses:
  - {name: low, value: 0}
  - {name: high, value: 1000}
nodePools:
  - name: p
    count: 3
    allocatable: {cpu: 2, memory: 8Gi, pods: 10}
    kubelet:
      imagePull: {constant: 0s}
      containerStart: {uniform: {min: 5s, max: 60s}}
deployments:
  - name: old
    replicas: 3
    template: {priorityClassName: low, requests: {cpu: 2, memory: 1Gi}}
  - name: urgent
    replicas: 0
    scale: [{at: 1s, replicas: 1}, {at: 100s, replicas: 2}]
    template: {priorityClassName: high, requests: {cpu: 2, memory: 1Gi}}
";

#[test]
fn the_start_time_tie_break_sees_pods_that_started_running() {
    assert_same(START_TIME_TIE_BREAK, "start-time tie-break");
    let out = run(START_TIME_TIE_BREAK, false);
    let pods = &out.cluster.pods;
    // Pods 0..3 are the first "old" replicas; the second preemptor is created at 100 s
    // exactly (the replacements of victims are created a cycle's cost later).
    let second = pods.all().find(|p| p.created_at.0 == 100_000_000_000).expect("second preemptor");
    let node = second.node.expect("scheduled");
    // The two old pods left at 100 s: the second preemptor took the node of the one that
    // started Running later, although it was bound earlier.
    let left: Vec<_> = pods.all().take(3).filter(|p| p.running_at.is_some()).collect();
    assert_eq!(left.len(), 2, "one old pod was preempted at 1 s, two ran");
    let (victim, other) = if left[0].node == Some(node) { (left[0], left[1]) } else { (left[1], left[0]) };
    assert_eq!(victim.node, Some(node));
    assert!(victim.running_at > other.running_at, "the later start wins");
    assert!(victim.bound_at < other.bound_at, "bound earlier: the binding order would pick the other node");
}

/// PodTopologySpread and InterPodAffinity: zone spread (DoNotSchedule, with and without a
/// node selector so both the index's counts and the per-attempt recount are used), hostname
/// anti-affinity (the walk jumps over occupied nodes and over blocked zones), required zone
/// affinity, preferred terms, default constraints, a cordon and preemption by a pod with
/// its own constraints.
const TOPOLOGY: &str = "
seed: 11
duration: 20m
sampleInterval: 10s
priorityClasses:
  - {name: low, value: 0}
  - {name: high, value: 1000}
nodePools:
  - name: p
    count: 24
    zones: [a, b, c]
    allocatable: {cpu: 4, memory: 16Gi, pods: 20}
  - name: q
    count: 6
    zones: [a, b]
    labels: {disk: ssd}
    allocatable: {cpu: 8, memory: 32Gi, pods: 20}
deployments:
  - name: web
    replicas: 40
    createRate: 10
    scale: [{at: 8m, replicas: 20}, {at: 12m, replicas: 45}]
    template:
      priorityClassName: low
      labels: {app: web}
      requests: {cpu: 500m, memory: 1Gi}
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}
  - name: cache
    replicas: 12
    template:
      priorityClassName: low
      labels: {app: cache}
      nodeSelector: {disk: ssd}
      requests: {cpu: 1, memory: 2Gi}
      topologySpreadConstraints:
        - {maxSkew: 2, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: cache}}}
      affinity:
        podAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 50
              podAffinityTerm: {topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: web}}}
  - name: sidecar
    replicas: 10
    startAt: 2m
    template:
      priorityClassName: low
      requests: {cpu: 250m, memory: 256Mi}
      affinity:
        podAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - {topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: cache}}}
  - name: plain
    replicas: 30
    template: {priorityClassName: low, requests: {cpu: 300m, memory: 512Mi}}
  - name: urgent
    replicas: 0
    scale: [{at: 10m, replicas: 8}]
    template:
      priorityClassName: high
      labels: {app: urgent}
      requests: {cpu: 3, memory: 4Gi}
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: urgent}}}
maintenance:
  - {at: 6m, drain: p-3, duration: 5m}
";

#[test]
fn topology_rules_decide_the_same() {
    assert_same(TOPOLOGY, "topology spread and pod affinity");
}

/// A cluster of `nodes` nodes (not a multiple of 64) where a fraction is held by
/// high-priority system pods, so the preemption dry run's candidates are spread over many
/// blocks of node ids: low- and mid-priority pods of two shapes with graceful termination
/// (nominations that last while other preemptors walk), a churn of small low-priority jobs
/// (pod epochs change between walks), and two tiers of preemptors of different shapes that
/// scale up and down in waves.
fn spread_candidates(seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut draw = |lo: u64, hi: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        lo + x % (hi - lo + 1)
    };
    let mut nodes = draw(140, 700);
    if nodes % 64 == 0 {
        nodes += 7;
    }
    let system = nodes * draw(40, 80) / 100;
    let low = (nodes - system) * draw(60, 90) / 100;
    let mid = (nodes - system - low) * draw(50, 100) / 100 + draw(0, 4);
    let grace = draw(5, 60);
    let wave1 = draw(20, nodes / 4);
    let wave2 = draw(wave1, nodes / 3 + wave1);
    let rate = draw(2, 40);
    let churn = draw(5, 30) as f64 / 10.0;
    format!(
        "
seed: {seed}
duration: 25m
sampleInterval: 10s
priorityClasses:
  - {{name: low, value: 0}}
  - {{name: low1, value: 10}}
  - {{name: low2, value: 20}}
  - {{name: mid, value: 100}}
  - {{name: urgent, value: 1000}}
  - {{name: critical, value: 1500}}
  - {{name: system, value: 2000}}
nodePools:
  - name: p
    count: {nodes}
    zones: [a, b, c]
    allocatable: {{cpu: 4, memory: 16Gi, pods: 20}}
    kubelet:
      imagePull: {{constant: 0s}}
      containerStart: {{uniform: {{min: 1s, max: 30s}}}}
deployments:
  - name: system
    replicas: {system}
    template: {{priorityClassName: system, requests: {{cpu: 3500m, memory: 2Gi}}}}
  - name: low
    replicas: 0
    scale: [{{at: 1m, replicas: {low}}}]
    template:
      priorityClassName: low
      requests: {{cpu: 1500m, memory: 2Gi}}
      terminationTime: {{uniform: {{min: 0s, max: {grace}s}}}}
  - name: mid
    replicas: 0
    scale: [{{at: 2m, replicas: {mid}}}]
    template:
      priorityClassName: mid
      requests: {{cpu: 2, memory: 4Gi}}
      terminationTime: {{constant: {grace}s}}
  - name: urgent
    replicas: 0
    scale: [{{at: 5m, replicas: {wave1}}}, {{at: 12m, replicas: 3}}, {{at: 16m, replicas: {wave2}}}]
    createRate: {rate}
    template: {{priorityClassName: urgent, requests: {{cpu: 3, memory: 8Gi}}}}
  - name: critical
    replicas: 0
    scale: [{{at: 8m, replicas: {wave1}}}, {{at: 20m, replicas: 0}}]
    createRate: {rate}
    template: {{priorityClassName: critical, requests: {{cpu: 3500m, memory: 4Gi}}}}
churn:
  - name: jobs
    arrivalRate: {churn}
    lifetime: {{exponential: {{mean: 90s}}}}
    templates:
      - {{weight: 2, template: {{priorityClassName: low, requests: {{cpu: 500m, memory: 1Gi}}}}}}
      - {{weight: 1, template: {{priorityClassName: low1, requests: {{cpu: 1, memory: 1Gi}}}}}}
      - {{weight: 1, template: {{priorityClassName: low2, requests: {{cpu: 1500m, memory: 1Gi}}}}}}
"
    )
}

/// The streamed dry run takes whole blocks of nodes from their summaries
/// (`src/scheduler/victim_memo.rs`): blocks with nominated nodes, stale summaries, the
/// block where the walk stops and the partial block at the offset all decide as the plain
/// dry run does.
#[test]
fn preemption_over_blocks_of_nodes_decides_the_same() {
    let mut blocks = 0;
    let mut preempted = 0;
    for seed in 1..=8 {
        let text = spread_candidates(seed);
        let out = run(&text, false);
        blocks += out.preemption_blocks;
        preempted += match out.summary.iter().find(|(k, _)| k == "pods_preempted") {
            Some((_, clustersim::metrics::Cell::Int(n))) => *n,
            other => panic!("seed {seed}: pods_preempted is {other:?}"),
        };
        assert_same(&text, &format!("spread candidates, seed {seed}"));
    }
    assert!(preempted > 500, "the clusters must preempt: {preempted}");
    assert!(blocks > 1000, "whole blocks must be taken: {blocks}");
}
