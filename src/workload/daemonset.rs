//! The DaemonSet controller: one pod of each DaemonSet on every node its template can run
//! on, after `kubernetes/kubernetes:pkg/controller/daemon/daemon_controller.go` (`manage`,
//! `podsShouldBeOnNode`, `NodeShouldRunDaemonPod`) and
//! `pkg/controller/daemon/util/daemonset_util.go`.
//!
//! - **Which nodes** ([`should_run`]): the node's labels match the template's nodeSelector
//!   and required node affinity, and the pod tolerates every `NoSchedule` and `NoExecute`
//!   taint of the node, with the tolerations every DaemonSet pod gets
//!   ([`add_daemon_pod_tolerations`], upstream `AddOrUpdateDaemonPodTolerations`). A pool's
//!   taints and labels never change, so a node that should run a pod always should; a
//!   cordoned node (`node.kubernetes.io/unschedulable`) does too.
//! - **When**: at the start of the run for every node (`Event::DaemonSetsStart`), for
//!   every node added later (a cluster-autoscaler scale-up), and whenever one of its pods
//!   is gone (failed with its node, deleted with it, preempted). A pod that is Terminating
//!   still counts: its replacement is created once it is gone (upstream: the node still has
//!   a daemon pod, so `podsShouldBeOnNode` neither creates nor deletes).
//! - **Where**: the controller creates the pod and the scheduler places it; the pod is
//!   pinned to its node ([`crate::cluster::Owner::DaemonSet`] carries it, upstream's
//!   `metadata.name` node affinity from `ReplaceDaemonSetPodNodeNameNodeAffinity`), so the
//!   scheduler examines that node only (NodeAffinity's PreFilter result), checks its
//!   resources like any pod's, and leaves the pod Pending while it does not fit.
//! - **Gone with the node**: a deleted node's pods are deleted with it, and its DaemonSet
//!   pods still Pending too (upstream `getUnscheduledPodsWithoutNode`).
//!
//! Not modelled: rolling updates, `maxSurge`, the failed-pod backoff, `hostNetwork` (so
//! no automatic `network-unavailable` toleration).

use crate::cluster::{
    ClusterState, DaemonSet, DaemonSetId, Labels, NodeId, Owner, Placement, PodId, PodPhase, Taint,
    TaintEffect, Toleration, TolerationOperator,
};
use crate::engine::SimTime;
use crate::scenario::schema::{DaemonSetSpec, PriorityClassSpec};
use crate::scheduler::plugins::{node_affinity, taint_toleration};

/// The tolerations upstream gives every DaemonSet pod (`AddOrUpdateDaemonPodTolerations`,
/// `pkg/controller/daemon/util/daemonset_util.go`): `not-ready` and `unreachable`
/// `NoExecute` without `tolerationSeconds` (the pods survive taint-based eviction), and
/// `disk-pressure`, `memory-pressure`, `pid-pressure` and `unschedulable` `NoSchedule`.
/// (`network-unavailable` is added only for `hostNetwork` pods, not modelled.)
pub fn daemon_pod_tolerations() -> Vec<Toleration> {
    let exists = |key: &str, effect: TaintEffect| Toleration {
        key: key.to_string(),
        operator: TolerationOperator::Exists,
        value: String::new(),
        effect: Some(effect),
        toleration_seconds: None,
    };
    vec![
        exists("node.kubernetes.io/not-ready", TaintEffect::NoExecute),
        exists("node.kubernetes.io/unreachable", TaintEffect::NoExecute),
        exists("node.kubernetes.io/disk-pressure", TaintEffect::NoSchedule),
        exists("node.kubernetes.io/memory-pressure", TaintEffect::NoSchedule),
        exists("node.kubernetes.io/pid-pressure", TaintEffect::NoSchedule),
        exists("node.kubernetes.io/unschedulable", TaintEffect::NoSchedule),
    ]
}

/// Adds [`daemon_pod_tolerations`] to `tolerations` as upstream's
/// `AddOrUpdateTolerationInPodSpec` does (`pkg/apis/core/v1/helper`): a toleration with the
/// same key, operator, value and effect is replaced in place (it may differ in
/// `tolerationSeconds`), otherwise the new one is appended.
pub fn add_daemon_pod_tolerations(tolerations: &mut Vec<Toleration>) {
    for t in daemon_pod_tolerations() {
        let same = |u: &Toleration| {
            u.key == t.key && u.operator == t.operator && u.value == t.value && u.effect == t.effect
        };
        match tolerations.iter_mut().find(|u| same(u)) {
            Some(u) => *u = t,
            None => tolerations.push(t),
        }
    }
}

/// Upstream `NodeShouldRunDaemonPod`'s `shouldRun` for a pod with `placement` (the
/// DaemonSet tolerations included) on a node with `labels` and `taints`: required node
/// affinity and nodeSelector match, and every `NoSchedule` / `NoExecute` taint is tolerated.
pub fn should_run(placement: &Placement, labels: &Labels, taints: &[Taint]) -> bool {
    (placement.has_no_node_constraints() || node_affinity::filter(labels, placement))
        && taint_toleration::filter(taints, &placement.tolerations)
}

/// Registers the scenario's DaemonSets in the cluster, each with its pod template (named
/// `daemonset/<name>`, the DaemonSet tolerations added).
pub fn add_daemon_sets(cluster: &mut ClusterState, specs: &[DaemonSetSpec], classes: &[PriorityClassSpec]) {
    for d in specs {
        let mut t = crate::sim::template_from_spec(format!("daemonset/{}", d.name), &d.template, classes);
        add_daemon_pod_tolerations(&mut t.placement.tolerations);
        let template = cluster.add_template(t);
        cluster.daemon_sets.push(DaemonSet { name: d.name.clone(), template });
    }
}

/// The DaemonSet controller's state: the pod it made for each (DaemonSet, node).
#[derive(Debug, Default)]
pub struct DaemonSetController {
    /// Per DaemonSet, per node id: the node's current (or last) pod.
    pods: Vec<Vec<Option<PodId>>>,
}

impl DaemonSetController {
    pub fn new(daemon_sets: usize) -> Self {
        DaemonSetController { pods: vec![Vec::new(); daemon_sets] }
    }

    /// `Event::DaemonSetsStart`: a pod for every (DaemonSet, node that should run it), in
    /// DaemonSet order, then node order.
    pub fn on_start(&mut self, cluster: &mut ClusterState, now: SimTime) -> Vec<PodId> {
        let nodes: Vec<NodeId> = cluster.live_nodes().collect();
        let mut created = Vec::new();
        for ds in 0..self.pods.len() {
            for &node in &nodes {
                created.extend(self.sync(cluster, DaemonSetId(ds as u32), node, now));
            }
        }
        created
    }

    /// A node joined the cluster: each DaemonSet that should run on it gets its pod.
    pub fn on_node_added(&mut self, cluster: &mut ClusterState, node: NodeId, now: SimTime) -> Vec<PodId> {
        (0..self.pods.len()).filter_map(|ds| self.sync(cluster, DaemonSetId(ds as u32), node, now)).collect()
    }

    /// Pods that ended or were deleted (any owner): the DaemonSet pods among them are
    /// replaced when their node should still run one. Returns the new pods.
    pub fn on_pods_gone(&mut self, cluster: &mut ClusterState, gone: &[PodId], now: SimTime) -> Vec<PodId> {
        let mut slots: Vec<(DaemonSetId, NodeId)> = gone
            .iter()
            .filter_map(|&p| match cluster.pod(p).owner {
                Owner::DaemonSet(ds, node) => Some((ds, node)),
                _ => None,
            })
            .collect();
        slots.sort();
        slots.dedup();
        slots.into_iter().filter_map(|(ds, node)| self.sync(cluster, ds, node, now)).collect()
    }

    /// A node was deleted (its pods with it): the DaemonSet pods made for it that are still
    /// Pending are deleted too (upstream `getUnscheduledPodsWithoutNode`). Returns them.
    pub fn on_node_removed(&mut self, cluster: &mut ClusterState, node: NodeId, now: SimTime) -> Vec<PodId> {
        let mut deleted = Vec::new();
        for per_node in &self.pods {
            if let Some(Some(p)) = per_node.get(node.index())
                && cluster.pod(*p).phase == PodPhase::Pending
            {
                cluster.delete_pod(*p, now);
                deleted.push(*p);
            }
        }
        deleted
    }

    /// `podsShouldBeOnNode` for one (DaemonSet, node): creates the pod when the node is in
    /// the cluster, should run it, and holds no pod of the DaemonSet (a Terminating one
    /// counts until it is gone).
    fn sync(
        &mut self,
        cluster: &mut ClusterState,
        ds: DaemonSetId,
        node: NodeId,
        now: SimTime,
    ) -> Option<PodId> {
        if cluster.node(node).removed_at.is_some() {
            return None;
        }
        let slots = &mut self.pods[ds.index()];
        if slots.len() <= node.index() {
            slots.resize(node.index() + 1, None);
        }
        if let Some(p) = slots[node.index()]
            && !cluster.pod(p).phase.is_terminal()
        {
            return None;
        }
        let template = cluster.daemon_sets[ds.index()].template;
        let placement = &cluster.template(template).placement;
        if !should_run(placement, cluster.node_labels(node), cluster.node_taints(node)) {
            return None;
        }
        let pod = cluster.create_pod(template, Owner::DaemonSet(ds, node), None, now);
        self.pods[ds.index()][node.index()] = Some(pod);
        Some(pod)
    }
}

/// The DaemonSet pods a fresh node with `labels` and `taints` gets: the templates of the
/// DaemonSets that should run on it, in DaemonSet order (the cluster autoscaler's template
/// node, `cluster-autoscaler/simulator/node_info_utils.go` `podsExpectedOnFreshNode` with
/// `cluster-autoscaler/utils/daemonset/daemonset.go` `GetDaemonSetPodsForNode`).
pub fn pods_on_fresh_node(
    cluster: &ClusterState,
    labels: &Labels,
    taints: &[Taint],
) -> Vec<crate::cluster::TemplateId> {
    cluster
        .daemon_sets
        .iter()
        .map(|d| d.template)
        .filter(|&t| should_run(&cluster.template(t).placement, labels, taints))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::NodeAffinity;

    fn taint(key: &str, effect: TaintEffect) -> Taint {
        Taint { key: key.into(), value: "v".into(), effect }
    }

    fn with_daemon_tolerations(mut tolerations: Vec<Toleration>) -> Placement {
        add_daemon_pod_tolerations(&mut tolerations);
        Placement { tolerations, ..Default::default() }
    }

    #[test]
    fn the_daemon_tolerations_are_added_once_and_replace_their_match() {
        let mut t = vec![Toleration {
            key: "node.kubernetes.io/unreachable".into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: Some(TaintEffect::NoExecute),
            toleration_seconds: Some(30),
        }];
        add_daemon_pod_tolerations(&mut t);
        assert_eq!(t.len(), 6);
        // Replaced in place: the DaemonSet pod tolerates unreachable forever.
        assert_eq!(t[0].key, "node.kubernetes.io/unreachable");
        assert_eq!(t[0].toleration_seconds, None);
        let again = t.clone();
        add_daemon_pod_tolerations(&mut t);
        assert_eq!(t, again);
    }

    /// `NodeShouldRunDaemonPod` cases after upstream `TestNodeShouldRunDaemonPod`
    /// (`pkg/controller/daemon/daemon_controller_test.go`): selectors, taints by effect,
    /// the automatic tolerations.
    #[test]
    fn should_run_table() {
        let labels: Labels = [("disk".to_string(), "ssd".to_string())].into_iter().collect();
        let selector = |v: &str| -> Labels { [("disk".to_string(), v.to_string())].into_iter().collect() };
        let custom = Toleration {
            key: "dedicated".into(),
            operator: TolerationOperator::Equal,
            value: "v".into(),
            effect: None,
            toleration_seconds: None,
        };
        struct Row {
            name: &'static str,
            placement: Placement,
            taints: Vec<Taint>,
            want: bool,
        }
        let rows = vec![
            Row { name: "no constraints", placement: with_daemon_tolerations(vec![]), taints: vec![], want: true },
            Row {
                name: "nodeSelector matches",
                placement: Placement { node_selector: selector("ssd"), ..with_daemon_tolerations(vec![]) },
                taints: vec![],
                want: true,
            },
            Row {
                name: "nodeSelector does not match",
                placement: Placement { node_selector: selector("hdd"), ..with_daemon_tolerations(vec![]) },
                taints: vec![],
                want: false,
            },
            Row {
                name: "required node affinity does not match",
                placement: Placement {
                    node_affinity: serde_json::from_str::<NodeAffinity>(
                        r#"{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"disk","operator":"In","values":["hdd"]}]}]}}"#,
                    )
                    .expect("affinity"),
                    ..with_daemon_tolerations(vec![])
                },
                taints: vec![],
                want: false,
            },
            Row {
                name: "untolerated NoSchedule taint",
                placement: with_daemon_tolerations(vec![]),
                taints: vec![taint("dedicated", TaintEffect::NoSchedule)],
                want: false,
            },
            Row {
                name: "untolerated NoExecute taint",
                placement: with_daemon_tolerations(vec![]),
                taints: vec![taint("dedicated", TaintEffect::NoExecute)],
                want: false,
            },
            Row {
                name: "PreferNoSchedule does not keep the pod off",
                placement: with_daemon_tolerations(vec![]),
                taints: vec![taint("dedicated", TaintEffect::PreferNoSchedule)],
                want: true,
            },
            Row {
                name: "tolerated taint",
                placement: with_daemon_tolerations(vec![custom]),
                taints: vec![taint("dedicated", TaintEffect::NoSchedule)],
                want: true,
            },
            Row {
                name: "the condition taints are tolerated automatically",
                placement: with_daemon_tolerations(vec![]),
                taints: vec![
                    taint("node.kubernetes.io/unschedulable", TaintEffect::NoSchedule),
                    taint("node.kubernetes.io/not-ready", TaintEffect::NoExecute),
                    taint("node.kubernetes.io/unreachable", TaintEffect::NoExecute),
                    taint("node.kubernetes.io/memory-pressure", TaintEffect::NoSchedule),
                    taint("node.kubernetes.io/disk-pressure", TaintEffect::NoSchedule),
                    taint("node.kubernetes.io/pid-pressure", TaintEffect::NoSchedule),
                ],
                want: true,
            },
            Row {
                name: "network-unavailable needs hostNetwork",
                placement: with_daemon_tolerations(vec![]),
                taints: vec![taint("node.kubernetes.io/network-unavailable", TaintEffect::NoSchedule)],
                want: false,
            },
        ];
        for r in &rows {
            assert_eq!(should_run(&r.placement, &labels, &r.taints), r.want, "{}", r.name);
        }
    }
}
