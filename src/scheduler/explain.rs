//! Why a pod waits: one record per scheduling attempt (`clustersim run --explain`), built
//! only when asked for, so a run without it does no extra work.
//!
//! For every attempt, each node the attempt examined is judged again with the filters in
//! upstream's order (`kubernetes/kubernetes:pkg/scheduler/apis/config/v1/default_plugins.go`:
//! NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit, PodTopologySpread,
//! InterPodAffinity) and counted under the first that rejects it, as upstream's
//! `framework.Diagnosis` does (`RunFilterPlugins` stops at the first failure); so the
//! per-plugin counts and the feasible nodes add up to the nodes examined. NodeResourcesFit
//! also counts each insufficient resource, which is what upstream's message lists
//! (`"0/5000 nodes are available: 3000 Insufficient cpu, …"`, `FitError.Error` in
//! `pkg/scheduler/framework/types.go`, its reasons sorted as strings). For a placement, the
//! chosen node's and the runner-up's weighted score per plugin.

use super::{Scheduler, plugins, topology};
use crate::cluster::{ClusterState, NodeId, PodId, TemplateId};
use crate::engine::SimTime;
use std::collections::BTreeMap;

/// The filter plugins, in upstream order.
pub const FILTERS: [&str; 6] = [
    "NodeUnschedulable",
    "TaintToleration",
    "NodeAffinity",
    "NodeResourcesFit",
    "PodTopologySpread",
    "InterPodAffinity",
];

/// The score plugins whose weighted scores an attempt records; `GpuSharing` is the
/// `scheduler.gpuSharing` policy (0 without one). A plugin that is off scores 0 (with a GPU
/// policy and no `keepDefaultScores`, the six default ones).
pub const SCORES: [&str; 7] = [
    "NodeResourcesFit",
    "NodeResourcesBalancedAllocation",
    "TaintToleration",
    "NodeAffinity",
    "PodTopologySpread",
    "InterPodAffinity",
    "GpuSharing",
];

/// One node's weighted score per plugin of [`SCORES`].
pub type Scores = [i64; SCORES.len()];

/// One scheduling attempt.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attempt {
    pub time: SimTime,
    pub pod: u32,
    pub template: u32,
    /// The pod's attempts so far, this one included.
    pub attempt: u32,
    /// The chosen node, for a placement.
    pub node: Option<NodeId>,
    /// Nodes examined (as the summary counts them).
    pub examined: usize,
    /// Examined nodes that passed every filter.
    pub feasible: u32,
    /// Per filter plugin ([`FILTERS`]): examined nodes it rejected first.
    pub rejected: [u32; 6],
    /// Per upstream reason text: how many examined nodes gave it (a node short of cpu and
    /// memory gives both).
    pub reasons: BTreeMap<String, u32>,
    /// For a placement: the chosen node's weighted score per plugin ([`SCORES`]), and the
    /// runner-up's node and scores when there was one.
    pub chosen_scores: Option<Scores>,
    pub runner_up: Option<(NodeId, Scores)>,
    /// For a failure after which preemption nominated the pod: the node, and its victims.
    pub nominated: Option<(NodeId, usize)>,
}

impl Attempt {
    /// Upstream's `FitError` message for a failure: "0/N nodes are available: reasons."
    pub fn message(&self) -> String {
        if self.node.is_some() {
            return String::new();
        }
        let mut parts: Vec<String> = self.reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        parts.sort();
        let mut m = format!("0/{} nodes are available", self.examined);
        if parts.is_empty() {
            m.push('.');
        } else {
            m.push_str(&format!(": {}.", parts.join(", ")));
        }
        m
    }
}

/// Where attempts go as they happen (the CLI streams them to `scheduling-attempts.csv`).
pub trait AttemptSink {
    fn record(&mut self, cluster: &ClusterState, attempt: &Attempt);
    /// Called once after the run: flush, and report a failure to write.
    fn finish(self: Box<Self>) -> Result<(), String> {
        Ok(())
    }
}

/// What the scheduler saw in the attempt it just made, for [`Scheduler::explain_attempt`].
#[derive(Clone, Debug, Default)]
pub(super) struct Walk {
    /// The nodes in walk order (rotating from the start index) that the attempt examined,
    /// unless it examined one node only: the nominated node, or a DaemonSet pod's node.
    pub start: usize,
    pub processed: usize,
    pub only_node: Option<NodeId>,
    /// Per candidate (feasible node scored): node and the six weighted scores.
    pub scored: Vec<(NodeId, Scores)>,
}

impl Scheduler {
    /// The first filter plugin that rejects `node` for `pod` (index into [`FILTERS`]) with
    /// its reason texts, or `None` when every filter passes.
    fn judge(
        &self,
        cluster: &ClusterState,
        pod: PodId,
        node: NodeId,
        cycle: Option<&topology::Cycle>,
    ) -> Option<(usize, Vec<String>)> {
        let tmpl = cluster.pod_template(pod);
        let placement = &tmpl.placement;
        let n = cluster.node(node);
        if !plugins::node_unschedulable::filter(n.unschedulable, &placement.tolerations) {
            return Some((0, vec!["node(s) were unschedulable".into()]));
        }
        // A NotReady node carries the node-lifecycle controller's `unreachable` NoSchedule
        // taint, which pods do not tolerate by default.
        let taints = cluster.node_taints(node);
        if let Some(t) = taints.iter().find(|t| {
            matches!(
                t.effect,
                crate::cluster::TaintEffect::NoSchedule | crate::cluster::TaintEffect::NoExecute
            ) && !crate::cluster::tolerated(t, &placement.tolerations)
        }) {
            return Some((1, vec![format!("node(s) had untolerated taint {{{}: {}}}", t.key, t.value)]));
        }
        if !n.ready {
            return Some((
                1,
                vec!["node(s) had untolerated taint {node.kubernetes.io/unreachable: }".into()],
            ));
        }
        if !placement.has_no_node_constraints()
            && !plugins::node_affinity::filter(cluster.node_labels(node), placement)
        {
            return Some((2, vec!["node(s) didn't match Pod's node affinity/selector".into()]));
        }
        // NodeResourcesFit with the nominated pods of at least this priority held.
        let held = n.requested + self.nominated_load(cluster, node.index(), Some(pod), tmpl.priority);
        let req = tmpl.requests.actual;
        if !plugins::fit::fits(&req, &n.allocatable, &held) {
            let mut r = Vec::new();
            if held.pods + 1 > n.allocatable.pods {
                r.push("Too many pods".to_string());
            }
            if req.cpu_milli > 0 && req.cpu_milli > n.allocatable.cpu_milli - held.cpu_milli {
                r.push("Insufficient cpu".into());
            }
            if req.mem_bytes > 0 && req.mem_bytes > n.allocatable.mem_bytes - held.mem_bytes {
                r.push("Insufficient memory".into());
            }
            if req.gpu_milli > 0 && req.gpu_milli > n.allocatable.gpu_milli - held.gpu_milli {
                r.push("Insufficient nvidia.com/gpu".into());
            }
            return Some((3, r));
        }
        if let Some(c) = cycle
            && let Err(why) = c.filter(node)
        {
            let plugin = match why {
                topology::Rejection::SpreadNodeLabel | topology::Rejection::SpreadSkew => 4,
                _ => 5,
            };
            return Some((plugin, vec![why.reason().to_string()]));
        }
        None
    }

    /// The record of the attempt just made for `pod` (after `schedule_one`).
    pub(super) fn explain_attempt(
        &self,
        cluster: &ClusterState,
        pod: PodId,
        now: SimTime,
        node: Option<NodeId>,
        examined: usize,
    ) -> Attempt {
        let template = cluster.pod(pod).template;
        let rules = cluster.topology_rules.get(template.index()).filter(|r| r.has_filters());
        let cycle = rules.map(|r| topology::Cycle::new(cluster, TemplateId(template.0), r));
        let mut a = Attempt {
            time: now,
            pod: pod.0,
            template: template.0,
            attempt: cluster.pod(pod).attempts,
            node,
            examined,
            ..Attempt::default()
        };
        let judge_one = |a: &mut Attempt, id: NodeId| match self.judge(cluster, pod, id, cycle.as_ref()) {
            None => a.feasible += 1,
            Some((plugin, reasons)) => {
                a.rejected[plugin] += 1;
                for r in reasons {
                    *a.reasons.entry(r).or_insert(0) += 1;
                }
            }
        };
        let walk = &self.walk;
        if let Some(id) = walk.only_node {
            judge_one(&mut a, id);
        } else {
            let n = cluster.nodes.len();
            for k in 0..walk.processed {
                let i = (walk.start + k) % n.max(1);
                if cluster.nodes[i].removed_at.is_some() {
                    continue;
                }
                judge_one(&mut a, NodeId(i as u32));
            }
        }
        if let Some(chosen) = node {
            let total = |s: &Scores| s.iter().sum::<i64>();
            a.chosen_scores = walk.scored.iter().find(|(n, _)| *n == chosen).map(|(_, s)| *s);
            // The runner-up: the best total among the other candidates (the first of equals).
            let mut best: Option<(NodeId, Scores)> = None;
            for (n, s) in &walk.scored {
                if *n != chosen && best.as_ref().is_none_or(|(_, b)| total(s) > total(b)) {
                    best = Some((*n, *s));
                }
            }
            a.runner_up = best;
        }
        a
    }
}
