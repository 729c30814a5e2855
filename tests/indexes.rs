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
    for (i, (a, b)) in fast.cluster.pods.iter().zip(&plain.cluster.pods).enumerate() {
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
