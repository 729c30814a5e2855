//! The cluster autoscaler's loop (`RunOnce` of
//! `kubernetes/autoscaler:cluster-autoscaler/core/static_autoscaler.go`), run every
//! `scan-interval`. It reads the cluster and the scheduler's unschedulable pods and returns
//! [`Action`]s that the simulation carries out (request nodes, delete empty nodes, drain one
//! node); it never changes the cluster itself.
//!
//! One scan:
//! 1. **Health** (`clusterstate/clusterstate.go` `IsClusterHealthy`): with more unready
//!    nodes than `max(ok-total-unready-count, max-total-unready-percentage % of nodes)`
//!    the autoscaler does nothing.
//! 2. **Scale-up** (`core/scaleup/orchestrator/orchestrator.go`, FAQ "How does scale-up
//!    work?"): the unschedulable pods (older than `new-pod-scale-up-delay`) that would fit
//!    neither the free space of existing Ready nodes nor the nodes already requested
//!    ("upcoming") are binpacked onto each group's template node ([`super::estimator`]),
//!    capped by the group's `maxSize` and `max-nodes-total`; the expander chain
//!    ([`super::expander`]) picks one group, which is grown at once. Groups whose last
//!    request timed out are backed off (5 min doubling to 30 min). A scan that scales up
//!    ends there.
//! 3. **Scale-down** (`core/scaledown/planner/planner.go`, FAQ "How does scale-down
//!    work?"): a node of a group above `minSize` is *unneeded* when its utilisation
//!    `max(Σcpu requests / allocatable, Σmemory requests / allocatable)` is below
//!    `scale-down-utilization-threshold` and every pod on it can move: Deployment pods go
//!    first-fit onto other Ready, schedulable, not-removed nodes with the scheduler's
//!    filters (destinations remembered across the nodes checked in the same scan), each
//!    Deployment's `minAvailable` budget must allow the eviction, and churn (bare/Job) pods
//!    block. An unready node is unneeded whatever its utilisation. At most
//!    `scale-down-non-empty-candidates-count` non-empty nodes are checked per scan. A node
//!    unneeded for `scale-down-unneeded-time` (`scale-down-unready-time` if unready) is
//!    deleted, unless the scale-down is in cooldown (`scale-down-delay-after-add`,
//!    `-after-delete`, `-after-failure`): empty nodes in bulk (`max-empty-bulk-delete`),
//!    plus one non-empty node at a time, drained through the eviction API (given up after
//!    `max-pod-eviction-time`, which counts as a failure).
//!
//! DaemonSet pods (`cluster-autoscaler/simulator/drain.go` `GetPodsToMove` sets them apart,
//! `simulator/drainability/rules/daemonset/rule.go`): they never trigger a scale-up
//! (`core/podlistprocessor/filter_out_daemon_sets.go`: only their own node can take them),
//! each group's template node carries those that should run on it ([`estimator`]), they
//! count in a node's utilisation (`--ignore-daemonsets-utilization` defaults to false), and
//! they are neither moved nor waited for when a node is removed: a node with nothing but
//! DaemonSet pods is empty, and they are deleted with it. Bare pods (`initialPods`) block a
//! scale-down like churn pods (nothing would recreate them).
//!
//! Simplifications (documented in docs/scenario.md): no local-storage pods;
//! non-empty scale-down evicts at once (no graceful termination); `balance-similar-node-groups`
//! and `scale-down-candidates-pool-*` are not modelled; the "unremovable node" recheck
//! timeout is the scan interval.

use super::devices::SimDevices;
use super::estimator::{self, PendingPod, TemplateNode, Topology};
use super::expander::{self, ExpansionOption};
use crate::cluster::{
    ClusterState, DeploymentId, NodeId, Owner, PodId, PodPhase, PoolId, Resources, TemplateId,
};
use crate::engine::{RngStream, SimDuration, SimTime};
use crate::scenario::distribution::Sampler;
use crate::scenario::schema::ClusterAutoscalerSpec;
use crate::scheduler::plugins::{fit, node_affinity, node_unschedulable, taint_toleration};
use crate::scheduler::topology::{Overlay, OverlayCycle, SimNode};
use rand_core::Rng;
use std::collections::BTreeMap;

/// The flags, in simulation units.
#[derive(Clone, Debug)]
pub struct Config {
    pub scan_interval: SimDuration,
    pub expanders: Vec<String>,
    pub scale_down_enabled: bool,
    pub delay_after_add: SimDuration,
    pub delay_after_delete: SimDuration,
    pub delay_after_failure: SimDuration,
    pub unneeded_time: SimDuration,
    pub unready_time: SimDuration,
    pub utilization_threshold: f64,
    /// `--scale-down-gpu-utilization-threshold`, for nodes with GPUs.
    pub gpu_utilization_threshold: f64,
    pub non_empty_candidates: u32,
    pub max_node_provision_time: SimDuration,
    pub max_empty_bulk_delete: u32,
    pub max_pod_eviction_time: SimDuration,
    pub max_total_unready_percentage: f64,
    pub ok_total_unready_count: u32,
    pub max_nodes_total: u32,
    pub new_pod_scale_up_delay: SimDuration,
    pub initial_backoff: SimDuration,
    pub max_backoff: SimDuration,
}

impl From<&ClusterAutoscalerSpec> for Config {
    fn from(s: &ClusterAutoscalerSpec) -> Self {
        Config {
            scan_interval: s.scan_interval.0,
            expanders: s.expander.split(',').map(|e| e.trim().to_string()).collect(),
            scale_down_enabled: s.scale_down_enabled,
            delay_after_add: s.scale_down_delay_after_add.0,
            delay_after_delete: s.scale_down_delay_after_delete.0,
            delay_after_failure: s.scale_down_delay_after_failure.0,
            unneeded_time: s.scale_down_unneeded_time.0,
            unready_time: s.scale_down_unready_time.0,
            utilization_threshold: s.scale_down_utilization_threshold,
            gpu_utilization_threshold: s.scale_down_gpu_utilization_threshold,
            non_empty_candidates: s.scale_down_non_empty_candidates_count,
            max_node_provision_time: s.max_node_provision_time.0,
            max_empty_bulk_delete: s.max_empty_bulk_delete,
            max_pod_eviction_time: s.max_pod_eviction_time.0,
            max_total_unready_percentage: s.max_total_unready_percentage,
            ok_total_unready_count: s.ok_total_unready_count,
            max_nodes_total: s.max_nodes_total,
            new_pod_scale_up_delay: s.new_pod_scale_up_delay.0,
            initial_backoff: s.initial_node_group_backoff_duration.0,
            max_backoff: s.max_node_group_backoff_duration.0,
        }
    }
}

/// A node pool the autoscaler may resize.
pub struct NodeGroup {
    pub pool: PoolId,
    pub name: String,
    pub min_size: u32,
    pub max_size: u32,
    pub priority: i64,
    pub price_per_hour: f64,
    pub template: TemplateNode,
    pub provisioning: Sampler,
    pub provisioning_rng: RngStream,
    /// Live (registered, not removed) nodes of the group.
    pub registered: u32,
    /// Requested nodes not registered yet.
    pub upcoming: u32,
    /// No scale-up of this group before this time (after a provisioning timeout).
    pub backoff_until: SimTime,
    pub backoff: SimDuration,
}

impl NodeGroup {
    /// The cloud's target size: registered plus upcoming nodes.
    pub fn target_size(&self) -> u32 {
        self.registered + self.upcoming
    }
}

/// What one scan asks the simulation to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Request `count` nodes of group `group`; each arrives after `delays[i]`, or never
    /// (`None`: longer than `max-node-provision-time`).
    ScaleUp { group: usize, delays: Vec<Option<SimDuration>> },
    /// Delete these empty nodes now.
    DeleteEmpty(Vec<NodeId>),
    /// Cordon and drain this node, then delete it.
    Drain(NodeId),
}

/// One row of `autoscaler-events.csv` from the cluster autoscaler.
#[derive(Clone, Debug, PartialEq)]
pub struct CaDecision {
    pub time: SimTime,
    pub group: String,
    pub current: u32,
    /// Unschedulable pods considered (scale-up) or pods on the node (scale-down).
    pub pods: u64,
    /// Nodes the estimator asked for (scale-up; empty otherwise).
    pub raw: String,
    pub final_size: u32,
    pub reason: String,
}

/// Counters for `summary.csv`.
#[derive(Clone, Debug, Default)]
pub struct CaStats {
    pub scale_ups: u64,
    pub nodes_requested: u64,
    pub nodes_registered: u64,
    pub nodes_removed: u64,
    pub provision_timeouts: u64,
    pub drain_failures: u64,
}

/// What the autoscaler needs to know about disruption budgets: for each Deployment with a
/// `minAvailable`, how many of its pods are healthy now.
pub struct Budgets {
    pub min_available: Vec<Option<u32>>,
    pub healthy: Vec<i64>,
}

pub struct ClusterAutoscaler {
    pub cfg: Config,
    pub groups: Vec<NodeGroup>,
    /// Pool index → group index.
    pub group_of_pool: Vec<Option<usize>>,
    expander_rng: RngStream,
    /// Unneeded nodes and since when.
    unneeded_since: BTreeMap<NodeId, SimTime>,
    last_scale_up: Option<SimTime>,
    last_scale_down: Option<SimTime>,
    last_failure: Option<SimTime>,
    /// The node being drained for deletion, and when its drain gives up.
    pub draining: Option<(NodeId, SimTime)>,
    /// The last "nothing to do" reason logged, so a steady state logs once.
    last_idle_reason: String,
    pub decisions: Vec<CaDecision>,
    pub stats: CaStats,
}

/// A node's utilisation for scale-down, and whether it is a GPU node
/// (`cluster-autoscaler/simulator/utilization/info.go` `Calculate`): on a node with GPUs,
/// its GPU requests / allocatable alone (upstream: "Skips cpu and memory utilization
/// calculation for node with GPU"), else max(Σcpu / allocatable, Σmemory / allocatable).
fn utilization(cluster: &ClusterState, node: NodeId) -> (f64, bool) {
    let n = cluster.node(node);
    let frac = |req: i64, alloc: i64| if alloc > 0 { req as f64 / alloc as f64 } else { 0.0 };
    if n.allocatable.gpu_milli > 0 {
        return (frac(n.requested.gpu_milli, n.allocatable.gpu_milli), true);
    }
    let cpu_mem = frac(n.requested.cpu_milli, n.allocatable.cpu_milli)
        .max(frac(n.requested.mem_bytes, n.allocatable.mem_bytes));
    (cpu_mem, false)
}

/// True when `pod` passes the scheduler's filters on `node` with `extra` already placed there
/// and the GPU devices `devices` leaves it.
fn fits_on(
    cluster: &ClusterState,
    node: NodeId,
    pod: PodId,
    extra: &Resources,
    devices: &SimDevices,
) -> bool {
    let n = cluster.node(node);
    if !n.ready || n.removed_at.is_some() {
        return false;
    }
    let t = cluster.pod_template(pod);
    if !fit::fits(&t.requests.actual, &n.allocatable, &(n.requested + *extra))
        || !devices.fits(cluster, node, cluster.pod(pod).template)
    {
        return false;
    }
    let tol = &t.placement.tolerations;
    if !node_unschedulable::filter(n.unschedulable, tol) {
        return false;
    }
    let taints = cluster.node_taints(node);
    if !taints.is_empty() && !taint_toleration::filter(taints, tol) {
        return false;
    }
    t.placement.has_no_node_constraints() || node_affinity::filter(cluster.node_labels(node), &t.placement)
}

/// A removable node's moves (destination and requests per pod) and, with topology filters,
/// the simulated snapshot with the pods moved.
type PlannedMoves = (Vec<(NodeId, Resources)>, Option<Overlay>, SimDevices);

impl CaDecision {
    /// A row in [`crate::hpa::controller::EVENT_COLUMNS`] order.
    pub fn render(&self) -> Vec<String> {
        vec![
            format!("{:.3}", self.time.as_secs_f64()),
            "cluster-autoscaler".to_string(),
            self.group.clone(),
            self.current.to_string(),
            String::new(),
            String::new(),
            String::new(),
            self.raw.clone(),
            String::new(),
            String::new(),
            self.final_size.to_string(),
            self.reason.clone(),
        ]
    }
}

impl ClusterAutoscaler {
    pub fn new(cfg: Config, groups: Vec<NodeGroup>, pools: usize, expander_rng: RngStream) -> Self {
        let mut group_of_pool = vec![None; pools];
        for (g, grp) in groups.iter().enumerate() {
            group_of_pool[grp.pool.index()] = Some(g);
        }
        ClusterAutoscaler {
            cfg,
            groups,
            group_of_pool,
            expander_rng,
            unneeded_since: BTreeMap::new(),
            last_scale_up: None,
            last_scale_down: None,
            last_failure: None,
            draining: None,
            last_idle_reason: String::new(),
            decisions: Vec::new(),
            stats: CaStats::default(),
        }
    }

    fn group_of(&self, cluster: &ClusterState, node: NodeId) -> Option<usize> {
        self.group_of_pool[cluster.node(node).pool.index()]
    }

    fn log(&mut self, now: SimTime, group: usize, pods: u64, raw: String, final_size: u32, reason: String) {
        let current = self.groups[group].target_size();
        self.log_from(now, group, current, pods, raw, final_size, reason);
    }

    #[allow(clippy::too_many_arguments)]
    fn log_from(
        &mut self,
        now: SimTime,
        group: usize,
        current: u32,
        pods: u64,
        raw: String,
        final_size: u32,
        reason: String,
    ) {
        self.decisions.push(CaDecision {
            time: now,
            group: self.groups[group].name.clone(),
            current,
            pods,
            raw,
            final_size,
            reason,
        });
    }

    /// Logs a cluster-wide "nothing done" reason once per change of reason.
    fn idle(&mut self, now: SimTime, reason: &str) {
        if self.last_idle_reason != reason {
            self.last_idle_reason = reason.to_string();
            self.decisions.push(CaDecision {
                time: now,
                group: String::new(),
                current: self.groups.iter().map(NodeGroup::target_size).sum(),
                pods: 0,
                raw: String::new(),
                final_size: self.groups.iter().map(NodeGroup::target_size).sum(),
                reason: reason.to_string(),
            });
        }
    }

    /// A requested node registered (it is now in the cluster).
    pub fn on_registered(&mut self, group: usize) {
        let g = &mut self.groups[group];
        g.upcoming -= 1;
        g.registered += 1;
        g.backoff = SimDuration::ZERO;
        self.stats.nodes_registered += 1;
    }

    /// A requested node did not register within `max-node-provision-time`: the request is
    /// cancelled and the group backed off (`clusterstate.go` `RegisterFailedScaleUp`).
    pub fn on_provision_timeout(&mut self, group: usize, now: SimTime) {
        let (initial, max) = (self.cfg.initial_backoff, self.cfg.max_backoff);
        let g = &mut self.groups[group];
        g.upcoming -= 1;
        g.backoff =
            if g.backoff == SimDuration::ZERO { initial } else { g.backoff.saturating_mul(2).min(max) };
        g.backoff_until = now + g.backoff;
        let size = g.target_size();
        let backoff = g.backoff;
        self.stats.provision_timeouts += 1;
        self.log(
            now,
            group,
            0,
            String::new(),
            size,
            format!(
                "ScaleUpTimedOut: a node did not register within max-node-provision-time; group backed off for {} s",
                backoff.as_secs_f64()
            ),
        );
    }

    /// A node of a group left the cluster.
    pub fn on_removed(&mut self, cluster: &ClusterState, node: NodeId, now: SimTime) {
        self.unneeded_since.remove(&node);
        if let Some(g) = self.group_of(cluster, node) {
            self.groups[g].registered -= 1;
            self.stats.nodes_removed += 1;
            self.last_scale_down = Some(now);
        }
    }

    /// The drain of a node for deletion gave up (pods could not be evicted in time).
    pub fn on_drain_failed(&mut self, cluster: &ClusterState, node: NodeId, now: SimTime) {
        self.draining = None;
        self.last_failure = Some(now);
        self.unneeded_since.remove(&node);
        self.stats.drain_failures += 1;
        if let Some(g) = self.group_of(cluster, node) {
            let size = self.groups[g].target_size();
            self.log(
                now,
                g,
                cluster.pods_to_drain_on_node(node) as u64,
                String::new(),
                size,
                format!(
                    "ScaleDownFailed: {} still had pods after max-pod-eviction-time",
                    cluster.node_name(node)
                ),
            );
        }
    }

    /// One loop (`RunOnce`). `unschedulable` are the pods the scheduler failed to place.
    pub fn scan(
        &mut self,
        cluster: &ClusterState,
        unschedulable: &[PodId],
        budgets: &Budgets,
        now: SimTime,
    ) -> Vec<Action> {
        // 1. Cluster health: unready = registered, not removed, not Ready.
        let live = cluster.nodes.len() as u32 - cluster.totals.nodes_removed;
        let unready = live - cluster.totals.nodes_ready;
        let allowed = (self.cfg.max_total_unready_percentage / 100.0 * f64::from(live))
            .max(self.cfg.ok_total_unready_count as f64);
        if f64::from(unready) > allowed {
            self.idle(
                now,
                &format!("ClusterUnhealthy: {unready} of {live} nodes unready; autoscaler paused"),
            );
            return Vec::new();
        }

        // 2. Scale-up.
        let pending: Vec<PodId> = unschedulable
            .iter()
            .copied()
            .filter(|&p| {
                let pod = cluster.pod(p);
                !pod.owner.is_daemon_set()
                    && now.saturating_since(pod.created_at) >= self.cfg.new_pod_scale_up_delay
            })
            .collect();
        if !pending.is_empty()
            && let Some(action) = self.scale_up(cluster, &pending, now)
        {
            self.last_scale_up = Some(now);
            return vec![action];
        }

        // 3. Scale-down.
        if !self.cfg.scale_down_enabled {
            return Vec::new();
        }
        self.update_unneeded(cluster, budgets, now);
        let cooldown = |last: Option<SimTime>, d: SimDuration| last.is_some_and(|t| now < t + d);
        if cooldown(self.last_scale_up, self.cfg.delay_after_add)
            || cooldown(self.last_scale_down, self.cfg.delay_after_delete)
            || cooldown(self.last_failure, self.cfg.delay_after_failure)
        {
            return Vec::new();
        }
        self.scale_down(cluster, now)
    }

    fn scale_up(&mut self, cluster: &ClusterState, pending: &[PodId], now: SimTime) -> Option<Action> {
        // Each template node with the DaemonSet pods it would get (upstream rebuilds the
        // template node infos every loop).
        if !cluster.daemon_sets.is_empty() {
            for g in &mut self.groups {
                g.template.set_daemon_sets(cluster);
            }
        }
        // The simulated snapshot of PodTopologySpread and InterPodAffinity, when some
        // template has their filters. The upcoming nodes are in it from the start, empty
        // (upstream `static_autoscaler.go` adds them to the cluster snapshot as template
        // nodes before the pod list processors run).
        let mut overlay = cluster.has_topology_filters().then(Overlay::default);
        let upcoming: Vec<Vec<SimNode>> = self
            .groups
            .iter()
            .map(|g| match &mut overlay {
                Some(ov) => {
                    (0..g.upcoming).map(|_| estimator::add_template_node(ov, cluster, &g.template)).collect()
                }
                None => Vec::new(),
            })
            .collect();
        // Pods that fit the free space of existing nodes wait for the scheduler
        // (`FilterOutSchedulable`, `core/podlistprocessor/filter_out_schedulable.go`):
        // first-fit with the space they take remembered, and with both topology filters on
        // the snapshot that counts the pods placed so far.
        let mut extra: BTreeMap<NodeId, Resources> = BTreeMap::new();
        let mut devices = SimDevices::default();
        let mut remaining: Vec<PodId> = Vec::new();
        for &p in pending {
            let req = cluster.pod_template(p).requests.actual;
            let template = cluster.pod(p).template;
            let mut placed = None;
            {
                let cycle = overlay.as_ref().and_then(|ov| OverlayCycle::for_template(cluster, template, ov));
                for node in cluster.live_nodes() {
                    let e = extra.get(&node).copied().unwrap_or(Resources::ZERO);
                    if fits_on(cluster, node, p, &e, &devices)
                        && cycle.as_ref().is_none_or(|c| c.filter(SimNode::Real(node)).is_ok())
                    {
                        extra.insert(node, e + req);
                        devices.place(cluster, node, template);
                        placed = Some(node);
                        break;
                    }
                }
            }
            match placed {
                Some(node) => {
                    if let Some(ov) = &mut overlay {
                        ov.add_pod(cluster, template, SimNode::Real(node));
                    }
                }
                None => remaining.push(p),
            }
        }
        // Then onto the nodes already requested.
        for (gi, g) in self.groups.iter().enumerate() {
            if g.upcoming == 0 || remaining.is_empty() {
                continue;
            }
            let pods: Vec<PendingPod> =
                remaining.iter().map(|&p| PendingPod::of(cluster, cluster.pod(p).template)).collect();
            let placed = match &mut overlay {
                None => estimator::estimate(&g.template, &pods, g.upcoming).scheduled,
                Some(ov) => {
                    let templates: Vec<TemplateId> =
                        remaining.iter().map(|&p| cluster.pod(p).template).collect();
                    let topo = Topology { cluster, templates: &templates };
                    estimator::place_on_nodes(&g.template, &pods, &upcoming[gi], &topo, ov)
                }
            };
            let mut keep = Vec::with_capacity(remaining.len() - placed.len());
            for (i, &p) in remaining.iter().enumerate() {
                if placed.binary_search(&i).is_err() {
                    keep.push(p);
                }
            }
            remaining = keep;
        }
        if remaining.is_empty() {
            return None;
        }
        let pods: Vec<PendingPod> =
            remaining.iter().map(|&p| PendingPod::of(cluster, cluster.pod(p).template)).collect();
        let templates: Vec<TemplateId> = remaining.iter().map(|&p| cluster.pod(p).template).collect();
        let topo = Topology { cluster, templates: &templates };
        let total: u32 = self.groups.iter().map(NodeGroup::target_size).sum::<u32>()
            + (live_fixed_nodes(cluster, &self.group_of_pool));
        let total_room = if self.cfg.max_nodes_total == 0 {
            u32::MAX
        } else {
            self.cfg.max_nodes_total.saturating_sub(total)
        };
        let mut options = Vec::new();
        let mut skipped = Vec::new();
        for (gi, g) in self.groups.iter().enumerate() {
            if now < g.backoff_until {
                skipped.push(format!("{} backed off", g.name));
                continue;
            }
            let room = g.max_size.saturating_sub(g.target_size()).min(total_room);
            if room == 0 {
                skipped.push(format!("{} at max size", g.name));
                continue;
            }
            let est = match &overlay {
                None => estimator::estimate(&g.template, &pods, room),
                // Each group's estimate runs on its own fork of the snapshot (upstream
                // `Estimate` forks and reverts the cluster snapshot).
                Some(ov) => {
                    estimator::estimate_with_topology(&g.template, &pods, room, &topo, &mut ov.clone())
                }
            };
            if est.nodes == 0 || est.scheduled.is_empty() {
                continue;
            }
            let (mut cpu, mut mem) = (0i64, 0i64);
            for &i in &est.scheduled {
                cpu += pods[i].requests.actual.cpu_milli;
                mem += pods[i].requests.actual.mem_bytes;
            }
            options.push(ExpansionOption {
                group: gi,
                node_count: est.nodes,
                pods: est.scheduled,
                price_per_hour: g.price_per_hour,
                template_cpu_milli: g.template.allocatable.cpu_milli,
                template_mem_bytes: g.template.allocatable.mem_bytes,
                requested_cpu_milli: cpu,
                requested_mem_bytes: mem,
            });
        }
        if options.is_empty() {
            let why = if skipped.is_empty() {
                format!("NoScaleUp: {} unschedulable pods fit no node group's template node", remaining.len())
            } else {
                format!("NoScaleUp: {} unschedulable pods; {}", remaining.len(), skipped.join("; "))
            };
            self.idle(now, &why);
            return None;
        }
        let chosen = self.expand(&options)?;
        let o = &options[chosen];
        let gi = o.group;
        let max_time = self.cfg.max_node_provision_time;
        let g = &mut self.groups[gi];
        let delays: Vec<Option<SimDuration>> = (0..o.node_count)
            .map(|_| {
                let d = g.provisioning.sample(&mut g.provisioning_rng);
                (d <= max_time).then_some(d)
            })
            .collect();
        let before = g.target_size();
        g.upcoming += o.node_count;
        let after = g.target_size();
        self.stats.scale_ups += 1;
        self.stats.nodes_requested += u64::from(o.node_count);
        self.last_idle_reason.clear();
        let oldest = remaining.iter().map(|&p| cluster.pod(p).created_at).min().unwrap_or(now);
        let reason = format!(
            "ScaleUp: {} unschedulable pods; expander {} chose {} of {} options; oldest pod waited {:.1} s",
            remaining.len(),
            self.cfg.expanders.join("+"),
            self.groups[gi].name,
            options.len(),
            now.saturating_since(oldest).as_secs_f64()
        );
        self.decisions.push(CaDecision {
            time: now,
            group: self.groups[gi].name.clone(),
            current: before,
            pods: options[chosen].pods.len() as u64,
            raw: options[chosen].node_count.to_string(),
            final_size: after,
            reason,
        });
        Some(Action::ScaleUp { group: gi, delays })
    }

    /// Runs the expander chain; the random strategy breaks the remaining ties.
    fn expand(&mut self, options: &[ExpansionOption]) -> Option<usize> {
        let mut cands: Vec<usize> = (0..options.len()).collect();
        for e in &self.cfg.expanders {
            if cands.len() <= 1 {
                break;
            }
            let sub: Vec<ExpansionOption> = cands.iter().map(|&i| options[i].clone()).collect();
            let best = match e.as_str() {
                "least-waste" => expander::least_waste_best(&sub),
                "most-pods" => expander::most_pods_best(&sub),
                "price" => expander::price_best(&sub),
                "priority" => {
                    let prios: Vec<(usize, i64)> =
                        sub.iter().map(|o| (o.group, self.groups[o.group].priority)).collect();
                    expander::priority_best(&sub, &prios)
                }
                _ => (0..sub.len()).collect(), // "random": keep all, the draw below picks
            };
            if best.is_empty() {
                continue;
            }
            cands = best.into_iter().map(|i| cands[i]).collect();
        }
        let rng = &mut self.expander_rng;
        let mut pick = |n: usize| ((rng.next_u64() as u128 * n as u128) >> 64) as usize;
        expander::random_among(&cands, &mut pick)
    }

    /// The scale-down utilisation threshold of `node`
    /// (`cluster-autoscaler/core/scaledown/eligibility/eligibility.go`): the GPU one on a node
    /// with GPUs, else the CPU/memory one.
    fn threshold(&self, cluster: &ClusterState, node: NodeId) -> f64 {
        if utilization(cluster, node).1 {
            self.cfg.gpu_utilization_threshold
        } else {
            self.cfg.utilization_threshold
        }
    }

    /// Recomputes the unneeded nodes (`planner.go` `UpdateClusterState`).
    fn update_unneeded(&mut self, cluster: &ClusterState, budgets: &Budgets, now: SimTime) {
        let mut deletable_per_group: Vec<u32> =
            self.groups.iter().map(|g| g.target_size().saturating_sub(g.min_size)).collect();
        let draining = self.draining.map(|(n, _)| n);
        if let Some(n) = draining
            && let Some(g) = self.group_of(cluster, n)
        {
            deletable_per_group[g] = deletable_per_group[g].saturating_sub(1);
        }
        // Previously unneeded nodes are checked first, then the rest in node order.
        let mut order: Vec<NodeId> = self.unneeded_since.keys().copied().collect();
        order.extend(cluster.live_nodes().filter(|n| !self.unneeded_since.contains_key(n)));
        let mut extra: BTreeMap<NodeId, Resources> = BTreeMap::new();
        let mut devices = SimDevices::default();
        let mut removing: Vec<NodeId> = Vec::new();
        let mut disruptions: Vec<i64> = budgets
            .min_available
            .iter()
            .zip(&budgets.healthy)
            .map(|(m, h)| m.map_or(i64::MAX, |m| h - i64::from(m)))
            .collect();
        let mut non_empty_checked = 0u32;
        let mut unneeded: BTreeMap<NodeId, SimTime> = BTreeMap::new();
        // The simulated snapshot of the topology filters, with the moves of the nodes found
        // removable so far (upstream's removal simulator persists successful simulations,
        // `planner.go` `NewRemovalSimulator(..., true)`).
        let mut overlay = cluster.has_topology_filters().then(Overlay::default);
        for node in order {
            let Some(g) = self.group_of(cluster, node) else { continue };
            let n = cluster.node(node);
            // A node already chosen as a destination for another unneeded node's pods stays
            // (upstream re-simulates it with those pods; staying is the conservative reading).
            if n.removed_at.is_some()
                || Some(node) == draining
                || deletable_per_group[g] == 0
                || extra.contains_key(&node)
            {
                continue;
            }
            // A cordoned Ready node (maintenance) is left alone.
            if n.ready && n.unschedulable {
                continue;
            }
            // The pods a removal must move: DaemonSet pods stay and go with the node.
            let pods: Vec<PodId> = cluster
                .pods_on_node(node)
                .into_iter()
                .filter(|&p| !cluster.pod(p).owner.is_daemon_set())
                .collect();
            if n.ready {
                if utilization(cluster, node).0 >= self.threshold(cluster, node) {
                    continue;
                }
                if !pods.is_empty() {
                    if non_empty_checked >= self.cfg.non_empty_candidates {
                        continue;
                    }
                    non_empty_checked += 1;
                    match self.plan_moves(
                        cluster,
                        node,
                        &pods,
                        &removing,
                        &extra,
                        &devices,
                        &mut disruptions,
                        overlay.as_ref(),
                    ) {
                        Some((moves, moved, moved_devices)) => {
                            devices = moved_devices;
                            for (dest, req) in moves {
                                *extra.entry(dest).or_insert(Resources::ZERO) += req;
                            }
                            if moved.is_some() {
                                overlay = moved;
                            }
                        }
                        None => continue,
                    }
                }
            }
            deletable_per_group[g] -= 1;
            removing.push(node);
            unneeded.insert(node, self.unneeded_since.get(&node).copied().unwrap_or(now));
        }
        self.unneeded_since = unneeded;
    }

    /// Where each pod of `node` would go, or `None` if one cannot move; with `overlay` (the
    /// topology snapshot so far), the snapshot with the pods moved.
    ///
    /// With topology filters (`simulator/cluster.go` `findPlaceFor`): every pod of the node
    /// is first taken off it (the node itself stays in the snapshot, so its domains still
    /// count), then each pod goes only where PodTopologySpread and InterPodAffinity pass on
    /// the snapshot with the pods already moved (in this simulation and the successful
    /// earlier ones) counted on their new nodes.
    #[allow(clippy::too_many_arguments)]
    fn plan_moves(
        &self,
        cluster: &ClusterState,
        node: NodeId,
        pods: &[PodId],
        removing: &[NodeId],
        extra: &BTreeMap<NodeId, Resources>,
        devices: &SimDevices,
        disruptions: &mut [i64],
        overlay: Option<&Overlay>,
    ) -> Option<PlannedMoves> {
        let mut ov = overlay.cloned();
        let mut devices = devices.clone();
        if let Some(ov) = &mut ov {
            for &p in pods {
                let pod = cluster.pod(p);
                ov.remove_pod(cluster, pod.template, node, pod.phase == PodPhase::Terminating);
            }
        }
        let mut local: BTreeMap<NodeId, Resources> = BTreeMap::new();
        let mut used: Vec<DeploymentId> = Vec::new();
        let mut moves = Vec::with_capacity(pods.len());
        let ok = 'all: {
            // A Terminating pod is moved like any other: upstream skips only pods terminating
            // for longer than their grace period plus `PodLongTerminatingExtraThreshold`
            // (`cluster-autoscaler/utils/drain/drain.go` `IsPodLongTerminating`, the
            // `longterminating` drainability rule), and here a pod is killed at the end of
            // its grace period, so none gets that old.
            for &p in pods {
                let d = match cluster.pod(p).owner {
                    Owner::Deployment(d) => d,
                    // Bare and Job pods are not moved (clustersim does not recreate them);
                    // DaemonSet pods are not in the list.
                    Owner::Churn(_) | Owner::Trace(_) | Owner::Bare | Owner::DaemonSet(..) => {
                        break 'all false;
                    }
                };
                if disruptions[d.index()] - used.iter().filter(|&&u| u == d).count() as i64 <= 0 {
                    break 'all false;
                }
                let req = cluster.pod_template(p).requests.actual;
                let template = cluster.pod(p).template;
                let mut placed = None;
                {
                    let cycle = ov.as_ref().and_then(|o| OverlayCycle::for_template(cluster, template, o));
                    for dest in cluster.live_nodes() {
                        if dest == node || removing.contains(&dest) {
                            continue;
                        }
                        let e = extra.get(&dest).copied().unwrap_or(Resources::ZERO)
                            + local.get(&dest).copied().unwrap_or(Resources::ZERO);
                        if fits_on(cluster, dest, p, &e, &devices)
                            && cycle.as_ref().is_none_or(|c| c.filter(SimNode::Real(dest)).is_ok())
                        {
                            placed = Some(dest);
                            break;
                        }
                    }
                }
                let Some(dest) = placed else { break 'all false };
                *local.entry(dest).or_insert(Resources::ZERO) += req;
                devices.place(cluster, dest, template);
                moves.push((dest, req));
                if let Some(o) = &mut ov {
                    o.add_pod(cluster, template, SimNode::Real(dest));
                }
                used.push(d);
            }
            true
        };
        if !ok {
            return None;
        }
        for d in used {
            disruptions[d.index()] -= 1;
        }
        Some((moves, ov, devices))
    }

    fn scale_down(&mut self, cluster: &ClusterState, now: SimTime) -> Vec<Action> {
        let mut empty = Vec::new();
        let mut drain = None;
        let mut left: Vec<u32> =
            self.groups.iter().map(|g| g.target_size().saturating_sub(g.min_size)).collect();
        let mut deleted = vec![0u32; self.groups.len()];
        if let Some((n, _)) = self.draining
            && let Some(g) = self.group_of(cluster, n)
        {
            left[g] = left[g].saturating_sub(1);
            deleted[g] += 1;
        }
        let candidates: Vec<(NodeId, SimTime)> = self.unneeded_since.iter().map(|(n, t)| (*n, *t)).collect();
        for (node, since) in candidates {
            let n = cluster.node(node);
            let wait = if n.ready { self.cfg.unneeded_time } else { self.cfg.unready_time };
            if now.saturating_since(since) < wait {
                continue;
            }
            let Some(g) = self.group_of(cluster, node) else { continue };
            if left[g] == 0 {
                continue;
            }
            let pods = cluster.pods_to_drain_on_node(node);
            let (util, _) = utilization(cluster, node);
            let threshold = self.threshold(cluster, node);
            if pods == 0 || !n.ready {
                if empty.len() as u32 >= self.cfg.max_empty_bulk_delete {
                    continue;
                }
                left[g] -= 1;
                empty.push(node);
                let current = self.groups[g].target_size() - deleted[g];
                deleted[g] += 1;
                let kind = if n.ready { "empty" } else { "unready" };
                self.log_from(
                    now,
                    g,
                    current,
                    pods as u64,
                    String::new(),
                    current - 1,
                    format!(
                        "ScaleDown: {} {kind} (utilisation {util:.3}) unneeded for {:.0} s",
                        cluster.node_name(node),
                        now.saturating_since(since).as_secs_f64()
                    ),
                );
            } else if drain.is_none() && self.draining.is_none() {
                left[g] -= 1;
                drain = Some(node);
                let current = self.groups[g].target_size() - deleted[g];
                deleted[g] += 1;
                self.log_from(
                    now,
                    g,
                    current,
                    pods as u64,
                    String::new(),
                    current - 1,
                    format!(
                        "ScaleDown: drain {} with {pods} pods (utilisation {util:.3} < {threshold}) unneeded for {:.0} s",
                        cluster.node_name(node),
                        now.saturating_since(since).as_secs_f64()
                    ),
                );
            }
        }
        let mut actions = Vec::new();
        if !empty.is_empty() {
            actions.push(Action::DeleteEmpty(empty));
        }
        if let Some(node) = drain {
            self.draining = Some((node, now + self.cfg.max_pod_eviction_time));
            actions.push(Action::Drain(node));
        }
        if !actions.is_empty() {
            self.last_idle_reason.clear();
        }
        actions
    }

    /// The drain of the node being deleted finished (the node is empty).
    pub fn on_drained(&mut self) {
        self.draining = None;
    }
}

/// Live nodes of pools that are not node groups (they count towards `max-nodes-total`).
fn live_fixed_nodes(cluster: &ClusterState, group_of_pool: &[Option<usize>]) -> u32 {
    cluster.live_nodes().filter(|&n| group_of_pool[cluster.node(n).pool.index()].is_none()).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{StreamId, rng};
    use crate::scenario::distribution::Distribution;
    use crate::scenario::duration::DurationSpec;

    fn autoscaler(groups: usize) -> ClusterAutoscaler {
        let cfg = Config::from(&ClusterAutoscalerSpec::default());
        let groups = (0..groups)
            .map(|g| NodeGroup {
                pool: PoolId(g as u32),
                name: format!("g{g}"),
                min_size: 0,
                max_size: 10,
                priority: g as i64,
                price_per_hour: 1.0 + g as f64,
                template: TemplateNode {
                    allocatable: Resources::new(4000, 16 << 30, 0, 110),
                    ..Default::default()
                },
                provisioning: Distribution::Constant(DurationSpec(SimDuration::from_secs(60)))
                    .sampler()
                    .expect("sampler"),
                provisioning_rng: rng::stream(1, StreamId(9)),
                registered: 1,
                upcoming: 0,
                backoff_until: SimTime::ZERO,
                backoff: SimDuration::ZERO,
            })
            .collect();
        ClusterAutoscaler::new(cfg, groups, 4, rng::stream(1, StreamId(10)))
    }

    #[test]
    fn upstream_defaults_reach_the_config() {
        let c = Config::from(&ClusterAutoscalerSpec::default());
        assert_eq!(c.scan_interval, SimDuration::from_secs(super::super::SCAN_INTERVAL_SECS));
        assert_eq!(c.unneeded_time, SimDuration::from_secs(super::super::SCALE_DOWN_UNNEEDED_TIME_SECS));
        assert_eq!(c.delay_after_add, SimDuration::from_secs(super::super::SCALE_DOWN_DELAY_AFTER_ADD_SECS));
        assert_eq!(c.unready_time, SimDuration::from_secs(super::super::SCALE_DOWN_UNREADY_TIME_SECS));
        assert_eq!(
            c.max_node_provision_time,
            SimDuration::from_secs(super::super::MAX_NODE_PROVISION_TIME_SECS)
        );
        assert_eq!(c.max_empty_bulk_delete, super::super::MAX_EMPTY_BULK_DELETE);
        assert_eq!(c.utilization_threshold, super::super::SCALE_DOWN_UTILIZATION_THRESHOLD);
        assert_eq!(c.gpu_utilization_threshold, super::super::SCALE_DOWN_GPU_UTILIZATION_THRESHOLD);
        assert_eq!(c.ok_total_unready_count, super::super::OK_TOTAL_UNREADY_COUNT);
        assert_eq!(c.max_total_unready_percentage, super::super::MAX_TOTAL_UNREADY_PERCENTAGE);
        assert_eq!(c.expanders, vec!["least-waste".to_string()]);
        assert_eq!(c.delay_after_failure, SimDuration::from_secs(180));
        assert_eq!(
            (c.initial_backoff, c.max_backoff),
            (SimDuration::from_secs(300), SimDuration::from_secs(1800))
        );
    }

    #[test]
    fn provisioning_timeouts_back_off_exponentially_and_a_registration_resets() {
        let mut ca = autoscaler(1);
        let mut backoffs = Vec::new();
        for k in 0..5 {
            ca.groups[0].upcoming += 1;
            let now = SimTime::ZERO + SimDuration::from_secs(10_000 * k);
            ca.on_provision_timeout(0, now);
            backoffs.push(ca.groups[0].backoff.as_secs_f64());
            assert_eq!(ca.groups[0].backoff_until, now + ca.groups[0].backoff);
        }
        assert_eq!(backoffs, vec![300.0, 600.0, 1200.0, 1800.0, 1800.0]);
        assert_eq!((ca.groups[0].upcoming, ca.stats.provision_timeouts), (0, 5));
        ca.groups[0].upcoming += 1;
        ca.on_registered(0);
        assert_eq!((ca.groups[0].backoff, ca.groups[0].registered), (SimDuration::ZERO, 2));
    }

    #[test]
    fn the_expander_chain_filters_ties_in_order() {
        // Two equal options: least-waste ties, price picks the cheaper group 0, priority the
        // higher-ranked group 1; a chain applies them in order.
        let opt = |group: usize| ExpansionOption {
            group,
            node_count: 1,
            pods: vec![0, 1],
            price_per_hour: 1.0 + group as f64,
            template_cpu_milli: 4000,
            template_mem_bytes: 16 << 30,
            requested_cpu_milli: 2000,
            requested_mem_bytes: 4 << 30,
        };
        let options = [opt(0), opt(1)];
        let mut ca = autoscaler(2);
        for (chain, want) in
            [("price", 0), ("priority", 1), ("least-waste,price", 0), ("least-waste,priority", 1)]
        {
            ca.cfg.expanders = chain.split(',').map(String::from).collect();
            assert_eq!(ca.expand(&options), Some(want), "{chain}");
        }
        // least-waste alone leaves a tie: the seeded draw picks, the same way every time.
        ca.cfg.expanders = vec!["least-waste".to_string()];
        let first = ca.expand(&options);
        let mut again = autoscaler(2);
        assert_eq!(again.expand(&options), first);
    }
}
