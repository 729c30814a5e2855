//! PodTopologySpread and InterPodAffinity in the cluster autoscaler's simulations.
//!
//! 1. Differential: [`OverlayCycle::filter`] (the cluster plus a simulated snapshot
//!    [`Overlay`]: virtual nodes, pods added on real and virtual nodes, pods taken off real
//!    nodes) against [`Cycle::filter`] on a cluster that really has those nodes (added through
//!    `ClusterState::add_node`) and pods (assumed), and lacks the removed ones (deleted), for
//!    every template on every real and virtual node, on random small clusters. Then the
//!    estimator (`estimate_with_topology`, `place_on_nodes`) on such a snapshot against the
//!    same binpacking run on the equivalent cluster, with [`Cycle::filter`] and new nodes
//!    and pods added for real.
//! 2. Black-box runs through the CLI: a Deployment with required hostname anti-affinity makes
//!    the autoscaler add one node per pod; a zone DoNotSchedule constraint makes it pick the
//!    node group of the zone that is short; a node whose pods could move by resources but
//!    whose move would break a required hostname anti-affinity is not scaled down.

mod common;

use common::topology_gen::*;

use clustersim::autoscaler::estimator::{self, Estimate, PendingPod, TemplateNode, Topology};
use clustersim::cluster::label_selector::LabelSelector;
use clustersim::cluster::pod_affinity::{PodAffinity, PodAffinityTerm, PodAntiAffinity};
use clustersim::cluster::spread::{TopologySpreadConstraint, WhenUnsatisfiable};
use clustersim::cluster::{
    ChurnId, ClusterState, Labels, NodeAffinity, NodeId, NodePool, NodeSelector, NodeSelectorRequirement,
    NodeSelectorTerm, Owner, Placement, PodId, PodPhase, PodRequests, PodTemplate, PoolId, Resources,
    SelectorOperator, Taint, TaintEffect, TemplateId, Toleration, TolerationOperator,
};
use clustersim::engine::{SimDuration, SimTime};
use clustersim::scheduler::plugins::fit;
use clustersim::scheduler::plugins::topology_spread as ts;
use clustersim::scheduler::topology::{
    self as topo, Config, Cycle, Overlay, OverlayCycle, Rejection, SimNode, TemplateSource,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

const NAMESPACES: [&str; 2] = ["default", "ns1"];

// =============================================================================================
// 1. Differential test: OverlayCycle against Cycle on the equivalent cluster.
// =============================================================================================

/// A node, real or virtual.
#[derive(Clone, Debug)]
struct GNode {
    /// Zone `z<i>`: for a real node taken modulo the case's zone count; for a virtual node
    /// as is, so that values from the zone count on are zones no real node has.
    zone: Option<u8>,
    /// `rack` label value; `None`: no rack label.
    rack: Option<u8>,
    /// `tier: a` (0) or `tier: b` (1), for node selectors.
    tier: u8,
    /// Tainted `dedicated=x:NoSchedule`.
    tainted: bool,
    /// Real nodes only. 0: stays; 1: removed before the rules are built; 2: after, before
    /// any pod; 3: after the pods are placed (it is kept empty).
    removed: u8,
    /// Real nodes only. 0: Ready; 1: NotReady; 2: cordoned (`spec.unschedulable`).
    condition: u8,
}

#[derive(Clone, Debug)]
struct GTemplate {
    namespace: usize,
    labels: Labels,
    /// A controller (ReplicaSet) selects it with its labels: the default constraints apply.
    owner: bool,
    constraints: Vec<TopologySpreadConstraint>,
    affinity: Vec<PodAffinityTerm>,
    anti_affinity: Vec<PodAffinityTerm>,
    /// 0: none; 1: nodeSelector `tier: a`; 2: required node affinity zone In [z0, z3].
    node_selector: u8,
    tolerate: bool,
}

/// A change to the simulated snapshot.
#[derive(Clone, Debug)]
enum Op {
    /// A virtual node (a node group's template node).
    AddNode(GNode),
    /// A pod of a template on a node (index, modulo the snapshot's nodes so far: the live
    /// real nodes, then the virtual ones).
    AddPod { template: usize, node: usize },
    /// A pod of the cluster taken off its node (index, modulo the pods still there).
    RemovePod(usize),
}

#[derive(Clone, Debug)]
struct Case {
    zones: u8,
    nodes: Vec<GNode>,
    templates: Vec<GTemplate>,
    /// (template, node, state 0 Bound / 1 Running / 2 Terminating).
    pods: Vec<(usize, usize, u8)>,
    /// 0: System; 1: List of `list`.
    defaulting: u8,
    list: Vec<TopologySpreadConstraint>,
    ops: Vec<Op>,
}

fn constraint() -> impl Strategy<Value = TopologySpreadConstraint> {
    (
        prop::sample::select(vec![0usize, 0, 1, 1, 2]),
        prop::bool::weighted(0.85),
        1i32..=3,
        selector(8),
        prop::option::weighted(0.35, 1i32..=5),
        policy(),
        policy(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(k, hard, skew, sel, min_domains, na, nt, mlk)| {
            let when =
                if hard { WhenUnsatisfiable::DoNotSchedule } else { WhenUnsatisfiable::ScheduleAnyway };
            let mut c = TopologySpreadConstraint::new(skew, KEYS[k], when);
            c.min_domains = if hard { min_domains } else { None };
            c.node_affinity_policy = na;
            c.node_taints_policy = nt;
            if mlk
                && let Some(s) = &sel
                && let Some((key, _)) = VOCAB.iter().find(|(key, _)| !uses_key(s, key))
            {
                c.match_label_keys.push(key.to_string());
            }
            c.label_selector = sel;
            c
        })
}

fn term() -> impl Strategy<Value = PodAffinityTerm> {
    (selector(8), prop::sample::select(vec![0usize, 0, 1, 1, 2]), 0u8..6).prop_map(|(sel, k, ns)| {
        PodAffinityTerm {
            label_selector: sel,
            namespaces: if ns == 4 { vec!["ns1".to_string()] } else { vec![] },
            topology_key: KEYS[k].to_string(),
            namespace_selector: (ns == 5).then(LabelSelector::default),
            match_label_keys: vec![],
            mismatch_label_keys: vec![],
        }
    })
}

fn template() -> impl Strategy<Value = GTemplate> {
    (
        prop::sample::select(vec![0usize, 0, 0, 1]),
        pod_labels(),
        prop::bool::weighted(0.5),
        prop::option::weighted(0.7, prop::collection::vec(constraint(), 1..=3)),
        prop::option::weighted(0.3, prop::collection::vec(term(), 1..=2)),
        prop::option::weighted(0.4, prop::collection::vec(term(), 1..=2)),
        prop::sample::select(vec![0u8, 0, 0, 1, 2]),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(namespace, labels, owner, cs, affinity, anti_affinity, node_selector, tolerate)| {
            GTemplate {
                namespace,
                labels,
                owner,
                constraints: dedup(cs.unwrap_or_default()),
                affinity: affinity.unwrap_or_default(),
                anti_affinity: anti_affinity.unwrap_or_default(),
                node_selector,
                tolerate,
            }
        })
}

fn real_node() -> impl Strategy<Value = GNode> {
    (
        prop::option::weighted(0.9, 0u8..3),
        prop::option::weighted(0.6, 0u8..2),
        0u8..2,
        prop::bool::weighted(0.25),
        prop::sample::select(vec![0u8, 0, 0, 0, 0, 0, 0, 1, 2, 3]),
        prop::sample::select(vec![0u8, 0, 0, 0, 0, 0, 0, 0, 1, 2]),
    )
        .prop_map(|(zone, rack, tier, tainted, removed, condition)| GNode {
            zone,
            rack,
            tier,
            tainted,
            removed,
            condition,
        })
}

fn virtual_node() -> impl Strategy<Value = GNode> {
    (
        prop::option::weighted(0.9, 0u8..5),
        prop::option::weighted(0.6, 0u8..3),
        0u8..2,
        prop::bool::weighted(0.25),
    )
        .prop_map(|(zone, rack, tier, tainted)| GNode {
            zone,
            rack,
            tier,
            tainted,
            removed: 0,
            condition: 0,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => virtual_node().prop_map(Op::AddNode),
        5 => (0usize..5, 0usize..32).prop_map(|(template, node)| Op::AddPod { template, node }),
        2 => (0usize..64).prop_map(Op::RemovePod),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        1u8..=3,
        prop::collection::vec(real_node(), 1..=8),
        prop::collection::vec(template(), 1..=4),
        prop::collection::vec((0usize..4, 0usize..8, 0u8..3), 0..=24),
        (0u8..2, prop::collection::vec(constraint(), 1..=2)),
        prop::collection::vec(op(), 0..=16),
    )
        .prop_map(|(zones, nodes, templates, pods, (defaulting, list), ops)| Case {
            zones,
            nodes,
            templates,
            pods,
            defaulting,
            list: dedup(list),
            ops,
        })
}

fn placement_of(t: &GTemplate) -> Placement {
    let mut p = Placement::default();
    match t.node_selector {
        1 => p.node_selector = labels(&[("tier", "a")]),
        2 => {
            p.node_affinity = NodeAffinity {
                required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: vec![NodeSelectorRequirement {
                            key: ZONE.into(),
                            operator: SelectorOperator::In,
                            values: vec!["z0".into(), "z3".into()],
                        }],
                    }],
                }),
                preferred_during_scheduling_ignored_during_execution: vec![],
            };
        }
        _ => {}
    }
    if t.tolerate {
        p.tolerations = vec![Toleration {
            key: "dedicated".into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: None,
            toleration_seconds: None,
        }];
    }
    p
}

fn dedicated() -> Taint {
    Taint { key: "dedicated".into(), value: "x".into(), effect: TaintEffect::NoSchedule }
}

/// The labels of a node (`zone` already resolved to its value index).
fn node_labels(zone: Option<u8>, n: &GNode) -> Labels {
    let mut l = Labels::new();
    if let Some(z) = zone {
        l.insert(ZONE.into(), format!("z{z}"));
    }
    if let Some(r) = n.rack {
        l.insert(RACK.into(), format!("r{r}"));
    }
    l.insert("tier".into(), if n.tier == 0 { "a" } else { "b" }.into());
    l
}

/// The cluster of a case (its real nodes and pods), with the rules built.
fn build(case: &Case) -> ClusterState {
    let now = SimTime::ZERO;
    let mut c = ClusterState::default();
    let alloc = Resources::new(1_000_000, 1 << 40, 0, 1000);
    c.pools.push(NodePool {
        name: "p".into(),
        allocatable: alloc,
        taints: vec![],
        price_per_hour: 0.0,
        node_names: Default::default(),
    });
    c.pools.push(NodePool {
        name: "t".into(),
        allocatable: alloc,
        taints: vec![dedicated()],
        price_per_hour: 0.0,
        node_names: Default::default(),
    });
    let mut in_pool = [0u32; 2];
    let mut ids = Vec::new();
    for n in &case.nodes {
        let zone = n.zone.map(|z| z % case.zones);
        let ls = c.add_label_set(node_labels(zone, n));
        let pool = usize::from(n.tainted);
        let id = c.add_node(PoolId(pool as u32), in_pool[pool], u16::from(zone.unwrap_or(0)), ls, false, now);
        in_pool[pool] += 1;
        match n.condition {
            1 => c.set_node_ready(id, false),
            2 => c.set_unschedulable(id, true),
            _ => {}
        }
        ids.push(id);
    }
    for (t, g) in case.templates.iter().enumerate() {
        c.add_template(PodTemplate {
            name: format!("t{t}"),
            requests: PodRequests::from_container(Some(10), Some(1 << 20), 0),
            placement: placement_of(g),
            priority: 0,
            preempt_never: false,
            termination_grace_period: SimDuration::from_secs(30),
            graceful_termination: true,
            give_up_unschedulable: false,
        });
    }
    let remove = |c: &mut ClusterState, stage: u8| {
        for (n, id) in case.nodes.iter().zip(&ids) {
            if n.removed == stage {
                c.remove_node(*id, now);
            }
        }
    };
    remove(&mut c, 1);
    let sources: Vec<TemplateSource> = case
        .templates
        .iter()
        .map(|g| TemplateSource {
            namespace: NAMESPACES[g.namespace].to_string(),
            labels: g.labels.clone(),
            constraints: g.constraints.clone(),
            pod_affinity: (!g.affinity.is_empty()).then(|| PodAffinity {
                required_during_scheduling_ignored_during_execution: g.affinity.clone(),
                preferred_during_scheduling_ignored_during_execution: vec![],
            }),
            pod_anti_affinity: (!g.anti_affinity.is_empty()).then(|| PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: g.anti_affinity.clone(),
                preferred_during_scheduling_ignored_during_execution: vec![],
            }),
            owner_selector: g.owner.then(|| LabelSelector::of(&g.labels)),
        })
        .collect();
    let cfg = Config {
        defaulting: match case.defaulting {
            0 => ts::Defaulting::System,
            _ => ts::Defaulting::List(case.list.clone()),
        },
        hard_pod_affinity_weight: 1,
        ignore_preferred_terms_of_existing_pods: false,
        namespaces: [("default".to_string(), labels(&[("team", "a")]))].into_iter().collect(),
    };
    c.topology_rules = topo::build(&mut c, &sources, &cfg);
    remove(&mut c, 2);
    let hosts: Vec<NodeId> =
        case.nodes.iter().zip(&ids).filter(|(n, _)| n.removed == 0).map(|(_, id)| *id).collect();
    if !hosts.is_empty() {
        for &(t, node, state) in &case.pods {
            let t = t % case.templates.len();
            let node = hosts[node % hosts.len()];
            let pod = c.create_pod(TemplateId(t as u32), Owner::Churn(ChurnId(0)), None, now);
            c.assume_pod(pod, node, now);
            if state >= 1 {
                c.mark_running(pod, now);
            }
            if state == 2 {
                assert!(c.begin_termination(pod, now, None));
            }
        }
    }
    remove(&mut c, 3);
    c
}

/// The snapshot of a case: the overlay on `base`, and `real`, the cluster that really has
/// the overlay's nodes and pods. Every node of the snapshot as (overlay node, real node).
struct Snapshot {
    overlay: Overlay,
    real: ClusterState,
    nodes: Vec<(SimNode, NodeId)>,
}

fn snapshot(case: &Case, base: &ClusterState) -> Snapshot {
    let now = SimTime::ZERO;
    let mut overlay = Overlay::default();
    let mut real = base.clone();
    let mut nodes: Vec<(SimNode, NodeId)> = base.live_nodes().map(|n| (SimNode::Real(n), n)).collect();
    let mut on_nodes: Vec<PodId> = (0..base.pods.len() as u32)
        .map(PodId)
        .filter(|&p| base.pod(p).phase.holds_node() && base.pod(p).node.is_some())
        .collect();
    let mut in_pool = [0u32; 2];
    for n in &base.nodes {
        in_pool[n.pool.index()] += 1;
    }
    for op in &case.ops {
        match op {
            Op::AddNode(g) => {
                let l = node_labels(g.zone, g);
                let pool = usize::from(g.tainted);
                let taints = if g.tainted { vec![dedicated()] } else { vec![] };
                let v = overlay.add_node(base, &l, &taints);
                let ls = real.add_label_set(l);
                let id = real.add_node(PoolId(pool as u32), in_pool[pool], 0, ls, false, now);
                in_pool[pool] += 1;
                assert_eq!(v, SimNode::Virtual(overlay.virtual_nodes() as u32 - 1));
                nodes.push((v, id));
            }
            Op::AddPod { template, node } => {
                if nodes.is_empty() {
                    continue;
                }
                let t = TemplateId((template % case.templates.len()) as u32);
                let (v, id) = nodes[node % nodes.len()];
                overlay.add_pod(base, t, v);
                let pod = real.create_pod(t, Owner::Churn(ChurnId(0)), None, now);
                real.assume_pod(pod, id, now);
                real.mark_running(pod, now);
            }
            Op::RemovePod(k) => {
                if on_nodes.is_empty() {
                    continue;
                }
                let p = on_nodes.remove(k % on_nodes.len());
                let pod = base.pod(p);
                let node = pod.node.expect("on a node");
                overlay.remove_pod(base, pod.template, node, pod.phase == PodPhase::Terminating);
                assert!(real.delete_pod(p, now));
            }
        }
    }
    Snapshot { overlay, real, nodes }
}

/// What the compared cases exercised (summed over all cases): per kind of node (real,
/// virtual), the filter results (accepted, then each [`Rejection`]).
static COVERAGE: [[AtomicU64; 6]; 2] = [const { [const { AtomicU64::new(0) }; 6] }; 2];

fn outcome_index(r: Result<(), Rejection>) -> usize {
    match r {
        Ok(()) => 0,
        Err(Rejection::SpreadNodeLabel) => 1,
        Err(Rejection::SpreadSkew) => 2,
        Err(Rejection::Affinity) => 3,
        Err(Rejection::AntiAffinity) => 4,
        Err(Rejection::ExistingAntiAffinity) => 5,
    }
}

/// Compares the two filters for every template on every node of the snapshot; `Err`
/// describes the first difference.
fn differential(case: &Case) -> Result<(), String> {
    let base = build(case);
    base.check_invariants().map_err(|e| format!("invariants of the cluster: {e}"))?;
    let s = snapshot(case, &base);
    s.real.check_invariants().map_err(|e| format!("invariants of the real snapshot: {e}"))?;
    for t in 0..case.templates.len() {
        let template = TemplateId(t as u32);
        let rules = &base.topology_rules[t];
        let sim = OverlayCycle::new(&base, template, rules, &s.overlay);
        let real = Cycle::new(&s.real, template, rules);
        for &(v, id) in &s.nodes {
            let got = sim.filter(v);
            let want = real.filter(id);
            if got != want {
                return Err(format!(
                    "template {t} on {v:?} (node {}): OverlayCycle {got:?}, Cycle {want:?}",
                    s.real.node_name(id)
                ));
            }
            COVERAGE[usize::from(matches!(v, SimNode::Virtual(_)))][outcome_index(got)]
                .fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 6000,
        max_shrink_iters: 20_000,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    /// `OverlayCycle::filter` agrees with `Cycle::filter` on the equivalent cluster. Run by
    /// `the_overlay_filter_agrees_with_the_cycle_on_the_equivalent_cluster`.
    fn overlay_agrees_with_cycle(case in case()) {
        if let Err(e) = differential(&case) {
            prop_assert!(false, "{e}\n{case:#?}");
        }
    }
}

/// The differential property, and what it exercised: every filter result on real and on
/// virtual nodes must occur among the generated cases.
#[test]
fn the_overlay_filter_agrees_with_the_cycle_on_the_equivalent_cluster() {
    overlay_agrees_with_cycle();
    let c: Vec<Vec<u64>> =
        COVERAGE.iter().map(|k| k.iter().map(|x| x.load(Ordering::Relaxed)).collect()).collect();
    eprintln!(
        "filter results (accepted, SpreadNodeLabel, SpreadSkew, Affinity, AntiAffinity, \
         ExistingAntiAffinity): real nodes {:?}, virtual nodes {:?}",
        c[0], c[1]
    );
    for (kind, counts) in ["real", "virtual"].iter().zip(&c) {
        for (i, n) in counts.iter().enumerate() {
            assert!(*n > 0, "no filter result {i} on {kind} nodes: {c:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The estimator on the snapshot against the same algorithm on the equivalent cluster.
// ---------------------------------------------------------------------------------------------

/// A case for the estimator: the snapshot of `base`, a node group's template node, pending
/// pods (template, CPU in units of 100m) and the node limit.
#[derive(Clone, Debug)]
struct EstimateCase {
    base: Case,
    node: GNode,
    /// Template node CPU, in units of 100m.
    node_cpu: i64,
    pods: Vec<(usize, i64)>,
    max_nodes: u32,
}

fn estimate_case() -> impl Strategy<Value = EstimateCase> {
    (case(), virtual_node(), 5i64..=20, prop::collection::vec((0usize..4, 1i64..=8), 1..=10), 1u32..=6)
        .prop_map(|(base, node, node_cpu, pods, max_nodes)| EstimateCase {
            base,
            node,
            node_cpu,
            pods,
            max_nodes,
        })
}

/// Requests of a pending pod of `cpu` × 100m.
fn requests(cpu: i64) -> PodRequests {
    PodRequests::from_container(Some(cpu * 100), Some(cpu << 28), 0)
}

/// Whether a pod of `t` passes both filters on `node` of the real cluster `c`.
fn passes(c: &ClusterState, t: TemplateId, node: NodeId) -> bool {
    let rules = &c.topology_rules[t.index()];
    !rules.has_filters() || Cycle::new(c, t, rules).filter(node).is_ok()
}

/// Adds a node like the template node to the real cluster `c`.
fn add_template_node(c: &mut ClusterState, g: &GNode) -> NodeId {
    let ls = c.add_label_set(node_labels(g.zone, g));
    let pool = u32::from(g.tainted);
    let index = c.nodes.iter().filter(|n| n.pool.0 == pool).count() as u32;
    c.add_node(PoolId(pool), index, 0, ls, false, SimTime::ZERO)
}

/// The estimator's pod order (`DecreasingPodOrderer`), on the pods that pass the filters of
/// an empty template node (and `extra`).
fn pod_order(template: &TemplateNode, pods: &[PendingPod], extra: impl Fn(usize) -> bool) -> Vec<usize> {
    let score = |p: &PendingPod| {
        p.requests.actual.cpu_milli as f64 / template.allocatable.cpu_milli as f64
            + p.requests.actual.mem_bytes as f64 / template.allocatable.mem_bytes as f64
    };
    let mut order: Vec<(usize, f64)> = pods
        .iter()
        .enumerate()
        .filter(|(i, p)| estimator::fits_empty_template(template, p) && extra(*i))
        .map(|(i, p)| (i, score(p)))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    order.into_iter().map(|(i, _)| i).collect()
}

/// [`estimator::estimate_with_topology`]'s algorithm (see its module doc) on a cluster that
/// really gets the new nodes and the pods placed on them.
fn reference_estimate(
    real: &ClusterState,
    g: &GNode,
    template: &TemplateNode,
    pods: &[PendingPod],
    templates: &[TemplateId],
    max_nodes: u32,
) -> Estimate {
    let mut c = real.clone();
    let fresh = |i: usize| {
        let mut fork = c.clone();
        let node = add_template_node(&mut fork, g);
        passes(&fork, templates[i], node)
    };
    let order = pod_order(template, pods, fresh);
    // Per opened node: requested resources, the node, whether it holds a pod.
    let mut opened: Vec<(Resources, NodeId, bool)> = Vec::new();
    let mut scheduled = Vec::new();
    for i in order {
        let req = pods[i].requests.actual;
        let t = templates[i];
        let slot = opened
            .iter()
            .position(|(used, node, _)| fit::fits(&req, &template.allocatable, used) && passes(&c, t, *node));
        let slot = match slot {
            Some(s) => s,
            None => {
                if opened.last().is_some_and(|o| !o.2) || opened.len() as u64 >= u64::from(max_nodes) {
                    continue;
                }
                let node = add_template_node(&mut c, g);
                opened.push((Resources::ZERO, node, false));
                if !passes(&c, t, node) {
                    continue;
                }
                opened.len() - 1
            }
        };
        let o = &mut opened[slot];
        o.0 += Resources { pods: 1, ..req };
        o.2 = true;
        let pod = c.create_pod(t, Owner::Churn(ChurnId(0)), None, SimTime::ZERO);
        c.assume_pod(pod, o.1, SimTime::ZERO);
        scheduled.push(i);
    }
    scheduled.sort_unstable();
    Estimate { nodes: opened.iter().filter(|o| o.2).count() as u32, scheduled }
}

/// [`estimator::place_on_nodes`]'s algorithm on the real cluster: first-fit onto `nodes`.
fn reference_place(
    real: &ClusterState,
    template: &TemplateNode,
    pods: &[PendingPod],
    templates: &[TemplateId],
    nodes: &[NodeId],
) -> Vec<usize> {
    let mut c = real.clone();
    let mut used = vec![Resources::ZERO; nodes.len()];
    let mut scheduled = Vec::new();
    for i in pod_order(template, pods, |_| true) {
        let req = pods[i].requests.actual;
        let t = templates[i];
        let Some(s) = (0..nodes.len())
            .find(|&s| fit::fits(&req, &template.allocatable, &used[s]) && passes(&c, t, nodes[s]))
        else {
            continue;
        };
        used[s] += Resources { pods: 1, ..req };
        let pod = c.create_pod(t, Owner::Churn(ChurnId(0)), None, SimTime::ZERO);
        c.assume_pod(pod, nodes[s], SimTime::ZERO);
        scheduled.push(i);
    }
    scheduled.sort_unstable();
    scheduled
}

/// Estimates that placed a pod (on new nodes, on the snapshot's virtual nodes) and that
/// the topology filters changed (fewer pods than without them), summed over the cases.
static ESTIMATES: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

fn estimate_differential(e: &EstimateCase) -> Result<(), String> {
    let base = build(&e.base);
    let s = snapshot(&e.base, &base);
    let template = TemplateNode {
        allocatable: Resources::new(e.node_cpu * 100, e.node_cpu << 28, 0, 110),
        labels: node_labels(e.node.zone, &e.node),
        taints: if e.node.tainted { vec![dedicated()] } else { vec![] },
        ..TemplateNode::default()
    };
    let n = e.base.templates.len();
    let templates: Vec<TemplateId> = e.pods.iter().map(|&(t, _)| TemplateId((t % n) as u32)).collect();
    let reqs: Vec<PodRequests> = e.pods.iter().map(|&(_, cpu)| requests(cpu)).collect();
    let pods: Vec<PendingPod> = templates
        .iter()
        .zip(&reqs)
        .map(|(t, r)| PendingPod {
            requests: *r,
            placement: &base.template(*t).placement,
            gpu: Some(clustersim::cluster::gpu::GpuDemand::None),
        })
        .collect();
    let topo = Topology { cluster: &base, templates: &templates };
    // On new nodes.
    let got = estimator::estimate_with_topology(&template, &pods, e.max_nodes, &topo, &mut s.overlay.clone());
    let want = reference_estimate(&s.real, &e.node, &template, &pods, &templates, e.max_nodes);
    if got != want {
        return Err(format!("estimate_with_topology: {got:?}, on the real cluster {want:?}"));
    }
    if !got.scheduled.is_empty() {
        ESTIMATES[0].fetch_add(1, Ordering::Relaxed);
    }
    if got.scheduled.len() < estimator::estimate(&template, &pods, e.max_nodes).scheduled.len() {
        ESTIMATES[2].fetch_add(1, Ordering::Relaxed);
    }
    // On the snapshot's virtual nodes, as if they were the group's upcoming nodes.
    let (virt, real_ids): (Vec<SimNode>, Vec<NodeId>) =
        s.nodes.iter().filter(|(v, _)| matches!(v, SimNode::Virtual(_))).copied().unzip();
    let got = estimator::place_on_nodes(&template, &pods, &virt, &topo, &mut s.overlay.clone());
    let want = reference_place(&s.real, &template, &pods, &templates, &real_ids);
    if got != want {
        return Err(format!("place_on_nodes: {got:?}, on the real cluster {want:?}"));
    }
    if !got.is_empty() {
        ESTIMATES[1].fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2500,
        max_shrink_iters: 20_000,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    /// The estimator on the snapshot agrees with its algorithm on the equivalent cluster. Run
    /// by `the_estimator_agrees_with_its_algorithm_on_the_equivalent_cluster`.
    fn estimator_agrees(e in estimate_case()) {
        if let Err(msg) = estimate_differential(&e) {
            prop_assert!(false, "{msg}\n{e:#?}");
        }
    }
}

/// `estimate_with_topology` and `place_on_nodes` (the topology filters on the overlay, the
/// new nodes and the pods they place added to it) give what their algorithm gives on a
/// cluster that really has the snapshot's nodes and pods and really gets the new ones.
#[test]
fn the_estimator_agrees_with_its_algorithm_on_the_equivalent_cluster() {
    estimator_agrees();
    let c: Vec<u64> = ESTIMATES.iter().map(|x| x.load(Ordering::Relaxed)).collect();
    eprintln!(
        "estimates placing pods on new nodes {}, on virtual nodes {}; fewer pods than without the filters {}",
        c[0], c[1], c[2]
    );
    assert!(c.iter().all(|&n| n > 0), "{c:?}");
}

// =============================================================================================
// 2. Black-box runs through the CLI.
// =============================================================================================

/// Rows of a CSV file as column → value maps.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    r.records()
        .map(|rec| header.iter().cloned().zip(rec.expect("record").iter().map(String::from)).collect())
        .collect()
}

fn num(s: &BTreeMap<String, String>, k: &str) -> f64 {
    s.get(k).unwrap_or_else(|| panic!("column {k}")).parse().unwrap_or_else(|_| panic!("{k}: {:?}", s[k]))
}

/// Cluster-autoscaler rows of `autoscaler-events.csv`.
fn ca_events(out: &Path) -> Vec<BTreeMap<String, String>> {
    rows(&out.join("autoscaler-events.csv"))
        .into_iter()
        .filter(|r| r["autoscaler"] == "cluster-autoscaler")
        .collect()
}

/// Running pods per node of the Deployment `web` (pods.csv).
fn web_pods_per_node(out: &Path) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for r in rows(&out.join("pods.csv")) {
        if r["owner"] == "Deployment/web" && r["phase"] == "Running" {
            *n.entry(r["node"].clone()).or_insert(0) += 1;
        }
    }
    n
}

const HOSTNAME_ANTI_AFFINITY: &str = "
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - labelSelector: {matchLabels: {app: web}}
              topologyKey: kubernetes.io/hostname";

/// One 8-CPU node in a node group that may grow to 10, and a Deployment of `replicas`
/// one-CPU pods, with `affinity` (YAML under the pod template, or empty).
fn anti_affinity_scale_up(replicas: u32, affinity: &str) -> String {
    format!(
        "
duration: 15m
sampleInterval: 10s
nodePools:
  - name: general
    count: 1
    allocatable: {{cpu: 8, memory: 32Gi, pods: 110}}
    autoscaling: {{minSize: 1, maxSize: 10, provisioningDelay: {{constant: 60s}}}}
clusterAutoscaler: {{scale-down-enabled: false}}
deployments:
  - name: web
    replicas: {replicas}
    template:
      labels: {{app: web}}
      requests: {{cpu: 1, memory: 1Gi}}{affinity}
"
    )
}

/// Required pod anti-affinity on `kubernetes.io/hostname`: every pod needs a node of its
/// own, so the autoscaler adds one node per pending pod even though one node holds them all
/// by resources; the scans while the nodes are coming count the pods onto the upcoming nodes
/// (one each), so nothing more is requested. Without the anti-affinity, the same pods need
/// one node (6 pods) or two (10 pods).
#[test]
fn hostname_anti_affinity_scales_up_one_node_per_pod() {
    for (replicas, anti, without) in [(6u32, 5.0, 0.0), (10, 9.0, 1.0)] {
        let (_dir, out) = common::run_yaml(
            &anti_affinity_scale_up(replicas, HOSTNAME_ANTI_AFFINITY),
            &["--pods", "--no-charts"],
        );
        let s = common::summary(&out);
        let ca = ca_events(&out);
        assert_eq!(num(&s, "ca_nodes_requested"), anti, "{replicas} pods: {ca:?}");
        assert_eq!(num(&s, "nodes_peak"), anti + 1.0, "{ca:?}");
        assert_eq!((num(&s, "pods_running_end"), num(&s, "pods_pending_end")), (f64::from(replicas), 0.0));
        let per_node = web_pods_per_node(&out);
        assert_eq!(per_node.len(), replicas as usize, "one pod per node: {per_node:?}");
        assert!(per_node.values().all(|&n| n == 1), "{per_node:?}");

        let (_dir, out) = common::run_yaml(&anti_affinity_scale_up(replicas, ""), &["--no-charts"]);
        let s = common::summary(&out);
        assert_eq!(num(&s, "ca_nodes_requested"), without, "without anti-affinity: {:?}", ca_events(&out));
        assert_eq!((num(&s, "pods_running_end"), num(&s, "pods_pending_end")), (f64::from(replicas), 0.0));
    }
}

/// Two node groups, one per zone, each with one 2-CPU node (two one-CPU pods), and six pods
/// spread over the zones with maxSkew 1 (DoNotSchedule): two pods stay pending, and each new
/// node can take only one of them (a second in the same zone would make the skew 2). The
/// `price` expander prefers the cheap zone-a group, but once its node is coming the estimate
/// for zone a places nothing (the upcoming node's pod already makes a = b + 1), so the second
/// scale-up goes to zone b: one node in each zone, every pod Running.
#[test]
fn zone_spread_scales_up_the_zone_that_is_short() {
    let yaml = "
duration: 15m
sampleInterval: 10s
nodePools:
  - name: ga
    count: 1
    zones: [a]
    allocatable: {cpu: 2, memory: 8Gi, pods: 110}
    pricePerHour: 0.1
    autoscaling: {minSize: 1, maxSize: 5, provisioningDelay: {constant: 60s}}
  - name: gb
    count: 1
    zones: [b]
    allocatable: {cpu: 2, memory: 8Gi, pods: 110}
    pricePerHour: 1.0
    autoscaling: {minSize: 1, maxSize: 5, provisioningDelay: {constant: 60s}}
clusterAutoscaler: {expander: price, scale-down-enabled: false}
deployments:
  - name: web
    replicas: 6
    template:
      labels: {app: web}
      requests: {cpu: 1, memory: 1Gi}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: DoNotSchedule
          labelSelector: {matchLabels: {app: web}}
";
    let (_dir, out) = common::run_yaml(yaml, &["--pods", "--no-charts"]);
    let ca = ca_events(&out);
    let ups: Vec<&str> =
        ca.iter().filter(|r| r["reason"].starts_with("ScaleUp:")).map(|r| r["target"].as_str()).collect();
    assert_eq!(ups, vec!["ga", "gb"], "{ca:?}");
    let s = common::summary(&out);
    assert_eq!(num(&s, "ca_nodes_requested"), 2.0, "{ca:?}");
    assert_eq!((num(&s, "pods_running_end"), num(&s, "pods_pending_end")), (6.0, 0.0));
    let last = rows(&out.join("timeseries.csv")).pop().expect("rows");
    assert_eq!((num(&last, "nodes_ga"), num(&last, "nodes_gb")), (2.0, 2.0));
    let per_node = web_pods_per_node(&out);
    let zone = |g: &str| per_node.iter().filter(|(n, _)| n.starts_with(g)).map(|(_, c)| c).sum::<usize>();
    assert_eq!((zone("ga-"), zone("gb-")), (3, 3), "{per_node:?}");
}

/// Three nodes, one small pod each, far below the utilisation threshold: by resources any
/// node's pod could move to another node. With required hostname anti-affinity every other
/// node already holds a pod of the Deployment, so no pod can move and no node goes; without
/// it, nodes are drained and removed down to the group's minimum.
#[test]
fn scale_down_keeps_a_node_whose_pod_has_nowhere_to_go_by_anti_affinity() {
    let yaml = |affinity: &str| {
        format!(
            "
duration: 40m
sampleInterval: 10s
nodePools:
  - name: general
    count: 3
    allocatable: {{cpu: 4, memory: 16Gi, pods: 110}}
    autoscaling: {{minSize: 1, maxSize: 3, provisioningDelay: {{constant: 60s}}}}
clusterAutoscaler: {{}}
deployments:
  - name: web
    replicas: 3
    template:
      labels: {{app: web}}
      requests: {{cpu: 500m, memory: 1Gi}}{affinity}
"
        )
    };
    let (_dir, out) = common::run_yaml(&yaml(HOSTNAME_ANTI_AFFINITY), &["--pods", "--no-charts"]);
    let s = common::summary(&out);
    let ca = ca_events(&out);
    assert_eq!(num(&s, "ca_nodes_removed"), 0.0, "{ca:?}");
    assert!(ca.iter().all(|r| !r["reason"].starts_with("ScaleDown")), "{ca:?}");
    assert_eq!((num(&s, "nodes"), num(&s, "pods_running_end")), (3.0, 3.0));
    assert_eq!(web_pods_per_node(&out).len(), 3);

    let (_dir, out) = common::run_yaml(&yaml(""), &["--no-charts"]);
    let s = common::summary(&out);
    let ca = ca_events(&out);
    assert!(num(&s, "ca_nodes_removed") >= 1.0, "{ca:?}");
    assert!(ca.iter().any(|r| r["reason"].starts_with("ScaleDown: drain")), "{ca:?}");
    assert_eq!((num(&s, "pods_running_end"), num(&s, "pods_pending_end")), (3.0, 0.0));
}
