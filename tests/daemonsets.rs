//! DaemonSets and initial (bare, `spec.nodeName`) pods in a run: one DaemonSet pod per node
//! its template can run on (selectors, affinity, taints and the automatic tolerations), a
//! DaemonSet pod that does not fit its node stays Pending there, DaemonSet pods on nodes the
//! cluster autoscaler adds and gone with the nodes it removes, the estimator counting them
//! on the template node, node failures and drains that leave them alone, initial pods
//! Running from the start with their resources accounted, and determinism.

mod common;
use clustersim::cluster::{Owner, PodPhase};
use clustersim::engine::{SimDuration, SimTime};
use clustersim::scenario;
use clustersim::sim::Simulation;
use common::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `pods.csv` of an output folder.
fn pods(out: &Path) -> Vec<BTreeMap<String, String>> {
    csv_rows(&out.join("pods.csv"))
}

/// Per owner, the nodes its pods in `phase` are on (one entry per pod).
fn nodes_by_owner(rows: &[BTreeMap<String, String>], phase: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r["phase"] == phase) {
        out.entry(r["owner"].clone()).or_default().push(r["node"].clone());
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const PLACEMENT: &str = "
name: ds-placement
duration: 2m
nodePools:
  - {name: plain, count: 3, zones: [a, b, c], allocatable: {cpu: 4, memory: 16Gi}}
  - {name: ssd, count: 2, labels: {disk: ssd}, allocatable: {cpu: 4, memory: 16Gi}}
  - name: gpu
    count: 2
    allocatable: {cpu: 8, memory: 32Gi}
    taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
  - {name: cordoned, count: 1, unschedulable: true, allocatable: {cpu: 4, memory: 16Gi}}
  - name: noexec
    count: 1
    allocatable: {cpu: 4, memory: 16Gi}
    taints: [{key: special, effect: NoExecute}]
  - name: soft
    count: 1
    allocatable: {cpu: 4, memory: 16Gi}
    taints: [{key: pref, effect: PreferNoSchedule}]
daemonSets:
  - name: everywhere
    namespace: kube-system
    template: {requests: {cpu: 100m}, tolerations: [{operator: Exists}]}
  - name: default
    template: {requests: {cpu: 100m, memory: 64Mi}}
  - name: ssd-only
    template: {requests: {cpu: 100m}, nodeSelector: {disk: ssd}}
  - name: gpu-only
    template:
      requests: {cpu: 100m}
      tolerations: [{key: dedicated, value: gpu, effect: NoSchedule}]
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms: [{matchExpressions: [{key: clustersim.io/node-pool, operator: In, values: [gpu]}]}]
  - name: zone-a
    template: {nodeSelector: {topology.kubernetes.io/zone: a}}
deployments:
  - {name: web, replicas: 4, template: {requests: {cpu: 1, memory: 1Gi}}}
";

#[test]
fn one_pod_per_node_its_template_can_run_on() {
    let (_d, out) = run_yaml(PLACEMENT, &["--pods", "--no-charts"]);
    let rows = pods(&out);
    let running = nodes_by_owner(&rows, "Running");
    let all = [
        "cordoned-0",
        "gpu-0",
        "gpu-1",
        "noexec-0",
        "plain-0",
        "plain-1",
        "plain-2",
        "soft-0",
        "ssd-0",
        "ssd-1",
    ];
    assert_eq!(running["DaemonSet/everywhere"], strings(&all), "tolerates every taint");
    // No toleration: every node but the tainted ones (NoSchedule, NoExecute); a cordoned node
    // is tolerated automatically, PreferNoSchedule does not keep the pod off.
    assert_eq!(
        running["DaemonSet/default"],
        strings(&["cordoned-0", "plain-0", "plain-1", "plain-2", "soft-0", "ssd-0", "ssd-1"])
    );
    assert_eq!(running["DaemonSet/ssd-only"], strings(&["ssd-0", "ssd-1"]));
    assert_eq!(running["DaemonSet/gpu-only"], strings(&["gpu-0", "gpu-1"]));
    assert_eq!(running["DaemonSet/zone-a"], strings(&["plain-0"]), "node i of a pool is in zone i mod 3");
    // Nothing else: every DaemonSet pod is Running, each took one scheduling attempt.
    let ds: Vec<_> = rows.iter().filter(|r| r["owner"].starts_with("DaemonSet/")).collect();
    assert_eq!(ds.len(), 10 + 7 + 2 + 2 + 1);
    assert!(ds.iter().all(|r| r["phase"] == "Running" && r["scheduling_attempts"] == "1"));
    assert!(ds.iter().all(|r| r["template"] == format!("daemonset/{}", &r["owner"]["DaemonSet/".len()..])));
    // DaemonSet pods are queued before the Deployment's at the start.
    let first_web = rows.iter().position(|r| r["owner"] == "Deployment/web").expect("web pods");
    assert_eq!(first_web, ds.len());
    assert_eq!(num(&summary(&out), "pods_scheduled"), (ds.len() + 4) as f64);
}

const FULL: &str = "
name: ds-full
duration: 10m
nodePools:
  - name: small
    count: 2
    allocatable: {cpu: 1, memory: 4Gi}
    autoscaling: {minSize: 2, maxSize: 4, provisioningDelay: {constant: 30s}}
clusterAutoscaler: {}
initialPods:
  - {name: hog, nodeName: small-0, template: {requests: {cpu: 1, memory: 1Gi}}}
daemonSets:
  - {name: agent, template: {requests: {cpu: 200m, memory: 128Mi}}}
";

/// A DaemonSet pod whose node lacks room stays Pending for that node (resources are
/// checked as for any pod): it never goes to the node with room, and the cluster
/// autoscaler does not add a node for it.
#[test]
fn a_daemon_set_pod_that_does_not_fit_stays_pending_on_its_node() {
    let (_d, out) = run_yaml(FULL, &["--pods", "--no-charts"]);
    let rows = pods(&out);
    let agent: Vec<_> = rows.iter().filter(|r| r["owner"] == "DaemonSet/agent").collect();
    assert_eq!(agent.len(), 2, "one pod per node, none created elsewhere");
    let states: BTreeSet<(String, String)> =
        agent.iter().map(|r| (r["phase"].clone(), r["node"].clone())).collect();
    assert_eq!(
        states,
        [("Pending".to_string(), String::new()), ("Running".to_string(), "small-1".to_string())].into()
    );
    let pending = agent.iter().find(|r| r["phase"] == "Pending").expect("pending");
    // Retried when it has been unschedulable for 5 minutes, on its own node again.
    assert!(num(pending, "scheduling_attempts") >= 2.0, "it keeps trying its own node");
    let s = summary(&out);
    assert_eq!(num(&s, "ca_scale_ups"), 0.0, "scale-up cannot help a DaemonSet pod");
    assert_eq!(num(&s, "nodes"), 2.0);
    assert_eq!(num(&s, "pods_pending_end"), 1.0);
}

/// With `--explain`, a DaemonSet pod's attempt examines its own node only.
#[test]
fn a_daemon_set_attempt_examines_one_node() {
    let (_d, out) = run_yaml(FULL, &["--explain", "--no-charts"]);
    let rows = csv_rows(&out.join("scheduling-attempts.csv"));
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r["nodes_examined"], "1", "{r:?}");
    }
}

/// The cluster autoscaler's estimate counts the DaemonSet pod each new node gets: 11 pods
/// of 1 CPU, 3 on the first node beside its 500m agent, so 8 pending need 3 new 4-CPU nodes
/// (3 a node), not the 2 a bare template would give. The new nodes get their agents, the
/// pods all run after the one scale-up, and when the Deployment is gone the nodes left with
/// nothing but their agent are empty: deleted, their agents with them.
const AUTOSCALED: &str = "
name: ds-autoscaled
duration: 40m
nodePools:
  - name: general
    count: 1
    allocatable: {cpu: 4, memory: 16Gi}
    autoscaling: {minSize: 1, maxSize: 10, provisioningDelay: {constant: 60s}}
clusterAutoscaler: {}
daemonSets:
  - {name: agent, namespace: kube-system, template: {requests: {cpu: 500m, memory: 256Mi}}}
deployments:
  - name: web
    replicas: 11
    template: {requests: {cpu: 1, memory: 1Gi}}
    scale: [{at: 5m, replicas: 0}]
";

#[test]
fn autoscaled_nodes_get_daemon_set_pods_and_the_estimate_counts_them() {
    let (_d, out) = run_yaml(AUTOSCALED, &["--pods", "--no-charts"]);
    let s = summary(&out);
    assert_eq!(num(&s, "ca_scale_ups"), 1.0, "one scale-up places every pod");
    assert_eq!(num(&s, "ca_nodes_requested"), 3.0, "3 pods a node beside the agent");
    assert_eq!(num(&s, "nodes_peak"), 4.0);
    let rows = pods(&out);
    let web: Vec<_> = rows.iter().filter(|r| r["owner"] == "Deployment/web").collect();
    assert_eq!(web.len(), 11);
    assert!(web.iter().all(|r| !r["running_s"].is_empty()), "every web pod ran");
    let agents: BTreeMap<String, (String, String)> = rows
        .iter()
        .filter(|r| r["owner"] == "DaemonSet/agent")
        .map(|r| (r["node"].clone(), (r["phase"].clone(), r["finished_s"].clone())))
        .collect();
    assert_eq!(agents.len(), 4, "one agent per node: {agents:?}");
    let deleted =
        agents.values().filter(|(phase, finished)| phase == "Deleted" && !finished.is_empty()).count();
    assert_eq!(deleted, 3, "gone with their nodes: {agents:?}");
    // Scale-down: the nodes with only their agent were deleted (min size 1).
    assert_eq!(num(&s, "nodes"), 1.0);
    assert_eq!(num(&s, "ca_nodes_removed"), 3.0);
    assert_eq!(num(&s, "pods_pending_end"), 0.0);
    let events = csv_rows(&out.join("autoscaler-events.csv"));
    assert_eq!(
        events.iter().filter(|e| e["reason"].contains(" empty (utilisation 0.125)")).count(),
        3,
        "a node holding only its DaemonSet pod is empty (its 500m counts in the utilisation): {events:?}"
    );
}

/// Node failures and drains leave DaemonSet pods alone: they tolerate the unreachable taint
/// for ever (no eviction), come back when their node is repaired (the lost pod is
/// replaced there), and `kubectl drain` (like `--ignore-daemonsets`) does not evict them.
#[test]
fn failures_and_drains_leave_daemon_set_pods_on_their_node() {
    let yaml = "
name: ds-failure
duration: 30m
nodePools:
  - {name: pool, count: 3, allocatable: {cpu: 4, memory: 16Gi}}
daemonSets:
  - {name: agent, template: {requests: {cpu: 100m}}}
deployments:
  - {name: web, replicas: 3, template: {requests: {cpu: 1, memory: 1Gi}}}
faults:
  - {at: 1m, duration: 10m, fail: {node: pool-0}}
maintenance:
  - {at: 15m, drain: pool-1, duration: 5m}
";
    let (_d, out) = run_yaml(yaml, &["--pods", "--no-charts"]);
    let rows = pods(&out);
    let agents: Vec<_> = rows.iter().filter(|r| r["owner"] == "DaemonSet/agent").collect();
    let on = |n: &str| agents.iter().filter(|r| r["node"] == n).collect::<Vec<_>>();
    // pool-0: the first agent failed when the node came back empty (11 min), a new one ran.
    let first = on("pool-0");
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!((first[0]["phase"].as_str(), first[0]["finished_s"].as_str()), ("Failed", "660.000000"));
    assert_eq!(first[1]["phase"], "Running");
    assert_eq!(first[1]["created_s"], "660.000000");
    // pool-1: drained, its agent stays.
    assert_eq!(on("pool-1").len(), 1);
    assert_eq!(on("pool-1")[0]["phase"], "Running");
    let s = summary(&out);
    assert!(num(&s, "pods_evicted") >= 1.0, "the web pod on pool-0 was evicted");
    assert!(num(&s, "pods_drained") >= 1.0);
    let web_drained = rows.iter().filter(|r| r["owner"] == "Deployment/web").count() as f64 - 3.0;
    assert!(num(&s, "pods_drained") <= web_drained, "only web pods were drained");
}

/// A DaemonSet pod of a higher priority that finds its node full preempts there, and only
/// there: the lower-priority initial pod on its node goes (nothing recreates it), although
/// the other node has room.
#[test]
fn a_daemon_set_pod_preempts_on_its_own_node_only() {
    let yaml = "
name: ds-preempt
duration: 2m
nodePools: [{name: p, count: 2, allocatable: {cpu: 1, memory: 4Gi}}]
priorityClasses: [{name: node-critical, value: 1000000}]
initialPods:
  - {name: low, nodeName: p-0, template: {requests: {cpu: 900m}}}
daemonSets:
  - {name: agent, template: {requests: {cpu: 200m}, priorityClassName: node-critical}}
";
    let (_d, out) = run_yaml(yaml, &["--pods", "--no-charts"]);
    let rows = pods(&out);
    let phase = |t: &str, node: &str| {
        rows.iter()
            .find(|r| r["template"] == t && (node.is_empty() || r["node"] == node))
            .map(|r| r["phase"].clone())
            .unwrap_or_default()
    };
    assert_eq!(phase("initial/low", ""), "Deleted");
    assert_eq!(phase("daemonset/agent", "p-0"), "Running");
    assert_eq!(phase("daemonset/agent", "p-1"), "Running");
    let s = summary(&out);
    assert_eq!((num(&s, "preemptions"), num(&s, "pods_preempted")), (1.0, 1.0));
    assert_eq!(num(&s, "pods_created"), 3.0, "neither the victim nor the agents are recreated");
}

const INITIAL: &str = "
name: initial
duration: 10m
nodePools:
  - {name: big, count: 2, zones: [a, b], allocatable: {cpu: 8, memory: 32Gi, pods: 10}, labels: {disk: ssd}}
  - name: tainted
    count: 1
    allocatable: {cpu: 4, memory: 16Gi}
    taints: [{key: dedicated, value: x, effect: NoSchedule}]
initialPods:
  - {name: db, namespace: data, nodeName: big-1, template: {requests: {cpu: 3, memory: 8Gi}, priority: 100}}
  - {name: cache, nodeName: big-1, template: {requests: {cpu: 2, memory: 4Gi}, nodeSelector: {topology.kubernetes.io/zone: b}}}
  - {name: debug, nodeName: tainted-0, template: {requests: {cpu: 500m}}}
  - name: flaky
    nodeName: big-0
    template: {requests: {cpu: 1}, crashes: {timeToCrash: {constant: 2m}}}
daemonSets:
  - {name: agent, template: {requests: {cpu: 1}}}
deployments:
  - {name: web, replicas: 6, template: {requests: {cpu: 2, memory: 1Gi}}}
";

/// Initial pods are Running on their node at time 0, without the scheduler (a
/// `NoSchedule` taint does not keep them off; the kubelet only checks `NoExecute`), and
/// their resources are accounted: the other pods see the space they take.
#[test]
fn initial_pods_run_on_their_node_from_the_start() {
    let s = scenario::parse_str(INITIAL, Path::new("initial.yaml")).expect("parses");
    scenario::validate::validate(&s).expect("valid");
    let mut sim = Simulation::new(&s, s.seed).expect("builds");
    let c = &sim.cluster;
    c.check_invariants().expect("invariants at the start");
    let initial: Vec<_> = c.pods.all().filter(|p| p.owner == Owner::Bare).collect();
    assert_eq!(initial.len(), 4);
    let node_of = |i: usize| c.node_name(initial[i].node.expect("bound"));
    assert_eq!(
        (node_of(0), node_of(1), node_of(2), node_of(3)),
        ("big-1".into(), "big-1".into(), "tainted-0".into(), "big-0".into())
    );
    for p in &initial {
        assert_eq!(p.phase, PodPhase::Running);
        assert_eq!((p.bound_at, p.running_at), (Some(SimTime::ZERO), Some(SimTime::ZERO)));
        assert_eq!((p.scheduled_at, p.attempts), (None, 0), "the scheduler never saw it");
    }
    let big1 = c.live_nodes().find(|&n| c.node_name(n) == "big-1").expect("big-1");
    assert_eq!(c.node(big1).requested.cpu_milli, 5000);
    assert_eq!(c.node(big1).requested.mem_bytes, 12 << 30);
    assert_eq!(c.node(big1).requested.pods, 2);
    assert_eq!(c.totals.requested.cpu_milli, 6500);
    assert_eq!(c.pods_in(PodPhase::Running), 4);
    // Run it: the invariants hold throughout, the initial pods are still where they were.
    let mut t = SimTime::ZERO;
    while sim.step_until(t + SimDuration::from_secs(10)) {
        t += SimDuration::from_secs(10);
        sim.cluster.check_invariants().unwrap_or_else(|e| panic!("at {t}: {e}"));
    }
    let out = sim.finish();
    let c = &out.cluster;
    c.check_invariants().expect("invariants at the end");
    assert!(c.pods.all().filter(|p| p.owner == Owner::Bare).all(|p| p.phase == PodPhase::Running));
    // big-1 has 3 CPUs left: its agent (1) and one web pod (2); big-0 has 7: agent, 3 web.
    let on = |name: &str, owner: fn(&Owner) -> bool| {
        c.pods
            .all()
            .filter(|p| p.phase == PodPhase::Running && owner(&p.owner))
            .filter(|p| p.node.is_some_and(|n| c.node_name(n) == name))
            .count()
    };
    let web = |o: &Owner| matches!(o, Owner::Deployment(_));
    let agent = |o: &Owner| o.is_daemon_set();
    assert_eq!((on("big-1", agent), on("big-1", web)), (1, 1));
    assert_eq!((on("big-0", agent), on("big-0", web)), (1, 3));
    assert_eq!(on("tainted-0", agent), 0, "the agent does not tolerate the taint");
    // The flaky initial pod's container crashes every 2 minutes and restarts.
    assert!(
        out.summary.iter().any(|(k, v)| k == "container_restarts" && v.as_f64().is_some_and(|n| n >= 2.0))
    );
}

#[test]
fn initial_pods_in_the_output() {
    let (_d, out) = run_yaml(INITIAL, &["--pods", "--no-charts"]);
    let rows = pods(&out);
    let db = rows.iter().find(|r| r["template"] == "initial/db").expect("db");
    assert_eq!(db["owner"], "", "a bare pod has no owner");
    assert_eq!(db["node"], "big-1");
    assert_eq!((db["bound_s"].as_str(), db["running_s"].as_str()), ("0.000000", "0.000000"));
    assert_eq!(db["scheduling_attempts"], "0");
    assert_eq!(db["priority"], "100");
    let s = summary(&out);
    // Created and Running, but neither scheduled nor part of the start-up latency: 4
    // initial pods, 2 agents (not on the tainted node), 6 web pods of which 2 find no room.
    assert_eq!(num(&s, "pods_created"), (4 + 2 + 6) as f64);
    assert_eq!(num(&s, "pods_pending_end"), 2.0);
    assert_eq!(num(&s, "pods_scheduled"), (2 + 4) as f64);
}

#[test]
fn runs_with_daemon_sets_and_initial_pods_are_deterministic() {
    for yaml in [PLACEMENT, AUTOSCALED, INITIAL] {
        let (_a, x) = run_yaml(yaml, &["--pods", "--no-charts"]);
        let (_b, y) = run_yaml(yaml, &["--pods", "--no-charts"]);
        for f in ["summary.csv", "timeseries.csv", "pods.csv"] {
            let (a, b) = (std::fs::read(x.join(f)).expect("a"), std::fs::read(y.join(f)).expect("b"));
            assert!(a == b, "{f} differs between two runs");
        }
    }
}
