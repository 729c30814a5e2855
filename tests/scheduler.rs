//! The scheduling cycle end to end on hand-built clusters: node sampling and the rotating
//! start index, backoff and the unschedulable queue, priority order, the cost model, and
//! the plugins acting together. Each case is a short inline scenario.

use clustersim::cluster::{ClusterState, PodPhase};
use clustersim::engine::{SimDuration, SimTime};
use clustersim::scenario;
use clustersim::sim::{RunOutput, Simulation};
use std::collections::BTreeSet;
use std::path::Path;

fn run(yaml: &str) -> RunOutput {
    let s = scenario::parse_str(yaml, Path::new("inline.yaml")).expect("parses");
    scenario::validate::validate(&s).expect("valid");
    Simulation::new(&s, s.seed).expect("builds").run()
}

fn summary(out: &RunOutput, key: &str) -> f64 {
    out.summary.iter().find(|(k, _)| *k == key).and_then(|(_, v)| v.as_f64()).expect("column")
}

fn pool_of(c: &ClusterState, pod: usize) -> String {
    let n = c.pods[pod].node.expect("bound");
    c.pools[c.node(n).pool.index()].name.clone()
}

const MS: u64 = 1_000_000;

#[test]
fn sampling_examines_num_feasible_nodes_to_find_and_rotates() {
    // 5,000 identical nodes: numFeasibleNodesToFind = 500, so each pod examines exactly
    // 500 nodes, the first from [0, 500) and the second from [500, 1000).
    let out = run("
duration: 10s
nodePools: [{name: p, count: 5000, allocatable: {cpu: 4, memory: 32Gi}}]
deployments: [{name: d, replicas: 2, template: {requests: {cpu: 100m}}}]
");
    assert_eq!(summary(&out, "nodes_examined"), 1000.0);
    let c = &out.cluster;
    let first = c.pods[0].node.expect("bound").0;
    let second = c.pods[1].node.expect("bound").0;
    assert!(first < 500, "first pod examined nodes 0..500, got {first}");
    assert!((500..1000).contains(&second), "second pod examined nodes 500..1000, got {second}");
}

#[test]
fn percentage_of_nodes_to_score_100_examines_every_node() {
    let out = run("
duration: 10s
scheduler: {percentageOfNodesToScore: 100}
nodePools: [{name: p, count: 5000, allocatable: {cpu: 4, memory: 32Gi}}]
deployments: [{name: d, replicas: 3, template: {requests: {cpu: 100m}}}]
");
    assert_eq!(summary(&out, "nodes_examined"), 15000.0);
}

#[test]
fn an_unschedulable_pod_is_retried_after_the_leftover_flush() {
    // One 1-CPU node and two 1-CPU pods: the second fails at t0 (after the first pod's
    // 0.5015 ms cycle) and, with no cluster event, waits in unschedulablePods until it
    // has been there longer than 5 min; flushes run every 30 s from t0, so it is retried
    // at t0 + 330 s and t0 + 660 s.
    let out = run("
duration: 700s
nodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 4Gi}}]
deployments: [{name: d, replicas: 2, template: {requests: {cpu: 1}}}]
");
    assert_eq!(summary(&out, "unschedulable_attempts"), 3.0);
    assert_eq!(summary(&out, "scheduling_attempts"), 4.0);
    assert_eq!(out.cluster.pods[1].attempts, 3);
    assert_eq!(out.cluster.pods[1].phase, PodPhase::Pending);
}

#[test]
fn freed_resources_requeue_unschedulable_pods_at_once() {
    // Job A arrives at 4 s, runs from 5 s (1 s container start) to 15 s. Job B arrives at
    // 8 s and does not fit. A's completion at 15 s moves B out of unschedulablePods; its
    // 1 s backoff (from 8 s) has expired, so it is scheduled at exactly 15 s.
    let out = run("
duration: 60s
nodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 4Gi}}]
churn:
  - name: jobs
    interArrival: {constant: 4s}
    lifetime: {constant: 10s}
    maxPods: 2
    templates: [{template: {requests: {cpu: 1}}}]
");
    let c = &out.cluster;
    assert_eq!(c.pods.len(), 2);
    assert_eq!(
        c.pods[0].running_at,
        Some(SimTime::ZERO + SimDuration::from_secs(5) + SimDuration(MS / 2 + 1500))
    );
    let done_a = c.pods[0].finished_at.expect("A completed");
    assert_eq!(c.pods[1].scheduled_at, Some(done_a));
    assert_eq!(c.pods[1].attempts, 2);
}

#[test]
fn higher_priority_pods_are_scheduled_first() {
    let out = run("
duration: 10s
nodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 4Gi}}]
deployments:
  - {name: low, replicas: 1, template: {priority: 0, requests: {cpu: 1}}}
  - {name: high, replicas: 1, template: {priority: 100, requests: {cpu: 1}}}
");
    let c = &out.cluster;
    assert_eq!(c.pods[0].phase, PodPhase::Pending, "low priority waits");
    assert_eq!(c.pods[1].phase, PodPhase::Running, "high priority wins the node");
}

#[test]
fn scheduling_cost_bounds_throughput() {
    // 1,000 pods at once, 1 ms per pod and nothing per node: one pod per millisecond.
    let out = run("
duration: 10s
scheduler: {cost: {perPod: 1ms, perNodeExamined: 0s}}
nodePools: [{name: p, count: 1, allocatable: {cpu: 64, memory: 256Gi, pods: 1000}}]
deployments: [{name: d, replicas: 1000, template: {requests: {cpu: 10m}}}]
");
    let last = out.cluster.pods.all().filter_map(|p| p.scheduled_at).max().expect("scheduled");
    assert_eq!(last, SimTime(999 * MS));
    let bound = out.cluster.pods.all().filter_map(|p| p.bound_at).max().expect("bound");
    assert_eq!(bound, SimTime(1000 * MS));
}

#[test]
fn taints_selectors_and_preferences_steer_pods() {
    let out = run("
duration: 30s
nodePools:
  - {name: tainted, count: 3, zones: [a], taints: [{key: gpu, effect: NoSchedule}], allocatable: {cpu: 8, memory: 32Gi}}
  - {name: plain-a, count: 3, zones: [a], allocatable: {cpu: 8, memory: 32Gi}}
  - {name: plain-b, count: 3, zones: [b], labels: {disk: ssd}, allocatable: {cpu: 8, memory: 32Gi}}
deployments:
  - {name: any, replicas: 20, template: {requests: {cpu: 100m}}}
  - name: zone-a
    replicas: 10
    template: {nodeSelector: {topology.kubernetes.io/zone: a}, requests: {cpu: 100m}}
  - name: gpu
    replicas: 10
    template:
      tolerations: [{key: gpu, operator: Exists, effect: NoSchedule}]
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms: [{matchExpressions: [{key: clustersim.io/node-pool, operator: In, values: [tainted]}]}]
      requests: {cpu: 100m}
  - name: prefers-ssd
    replicas: 10
    template:
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - {weight: 100, preference: {matchExpressions: [{key: disk, operator: In, values: [ssd]}]}}
      requests: {cpu: 100m}
");
    let c = &out.cluster;
    let pools = |owner: usize| -> BTreeSet<String> {
        (0..c.pods.len())
            .filter(|&i| matches!(c.pods[i].owner, clustersim::cluster::Owner::Deployment(d) if d.index() == owner))
            .map(|i| pool_of(c, i))
            .collect()
    };
    assert!(!pools(0).contains("tainted"), "untolerated NoSchedule taint");
    assert_eq!(pools(1), BTreeSet::from(["plain-a".to_string()]), "zone a without the taint");
    assert_eq!(pools(2), BTreeSet::from(["tainted".to_string()]));
    // NodeAffinity weight 2 × 100 outweighs the resource scores' differences.
    assert_eq!(pools(3), BTreeSet::from(["plain-b".to_string()]));
}

#[test]
fn most_allocated_packs_and_least_allocated_spreads() {
    // Without default topology spreading (`defaultingType: List` with no list) the resource
    // scores decide alone.
    let yaml = |strategy: &str, defaulting: &str| {
        format!(
            "
duration: 10s
scheduler: {{scoringStrategy: {strategy}, podTopologySpread: {{defaultingType: {defaulting}}}}}
nodePools: [{{name: p, count: 10, allocatable: {{cpu: 4, memory: 16Gi}}}}]
deployments: [{{name: d, replicas: 10, template: {{requests: {{cpu: 200m, memory: 512Mi}}}}}}]
"
        )
    };
    let used = |out: &RunOutput| out.cluster.pods.all().filter_map(|p| p.node).collect::<BTreeSet<_>>().len();
    assert_eq!(used(&run(&yaml("MostAllocated", "List"))), 1);
    assert_eq!(used(&run(&yaml("LeastAllocated", "List"))), 10);
    // With the system defaults (hostname maxSkew 3, ScheduleAnyway, weight 2) a
    // Deployment's pods spread even under MostAllocated: a node holding pods of the
    // Deployment scores lower for the next one.
    assert!(used(&run(&yaml("MostAllocated", "System"))) > 1);
    assert_eq!(used(&run(&yaml("LeastAllocated", "System"))), 10);
}

#[test]
fn scaling_down_deletes_pending_pods_first_and_scaling_up_refills() {
    // A 3-CPU node and 5 one-CPU replicas: 3 Running, 2 Pending. Scaling to 2 at 60 s
    // deletes the 2 Pending pods (unassigned first) and 1 Running pod (all three Running
    // pods are on one node and ready for the same log2 time bucket, so upstream's UID
    // tie-break picks it). Scaling to 4 at 120 s creates 2 pods: one fits, one waits.
    let out = run("
duration: 180s
nodePools: [{name: p, count: 1, allocatable: {cpu: 3, memory: 8Gi}}]
deployments:
  - name: d
    replicas: 5
    template: {requests: {cpu: 1}}
    scale: [{at: 60s, replicas: 2}, {at: 120s, replicas: 4}]
");
    let c = &out.cluster;
    assert_eq!(c.pods.len(), 7);
    let phase = |i: usize| c.pods[i].phase;
    // Pods 3 and 4 never got a node and were deleted at 60 s.
    assert_eq!((phase(3), phase(4)), (PodPhase::Deleted, PodPhase::Deleted));
    assert_eq!(c.pods[3].finished_at, Some(SimTime(60_000 * MS)));
    let running_first = (0..3).filter(|&i| phase(i) == PodPhase::Running).count();
    assert_eq!(running_first, 2, "one of the three Running pods was deleted");
    assert_eq!((0..3).filter(|&i| phase(i) == PodPhase::Deleted).count(), 1);
    assert_eq!(phase(5), PodPhase::Running, "the first new pod fits in the freed CPU");
    assert_eq!(phase(6), PodPhase::Pending);
    assert_eq!(summary(&out, "pods_deleted"), 3.0);
    assert_eq!(c.deployments[0].live_pods, 4);
    c.check_invariants().expect("invariants hold");
}
