//! The node-lifecycle controller with upstream timing
//! (`kubernetes/kubernetes:pkg/controller/nodelifecycle/node_lifecycle_controller.go`):
//!
//! 1. A failed node's kubelet stops renewing its lease (every `nodeStatusUpdateFrequency`,
//!    10 s, at a per-node phase). At the first monitor tick (every `nodeMonitorPeriod`, 5 s)
//!    more than `nodeMonitorGracePeriod` (50 s) after the last renewal, the controller sets
//!    Ready to Unknown: the node leaves the scheduler's view, its pods are marked NotReady
//!    (endpoints drop them), and it is queued for the `node.kubernetes.io/unreachable:NoExecute`
//!    taint.
//! 2. The taint queue of each zone is drained at a rate set by the zone's state
//!    (`ComputeZoneState`, `setLimiterInZone`, `handleDisruption`): Normal →
//!    `nodeEvictionRate` (0.1/s); PartialDisruption (more than 2 NotReady nodes and at least
//!    `unhealthyZoneThreshold` of the zone) → `secondaryNodeEvictionRate` (0.01/s) if the zone
//!    has more than `largeClusterSizeThreshold` nodes, else 0; FullDisruption (no Ready node) →
//!    the normal rate; every zone fully disrupted → 0 everywhere. A token bucket with burst 1
//!    (`RateLimitedTimedQueue`, `SwapLimiter` drains a new bucket if the old one was empty).
//! 3. The taint-eviction controller deletes each pod when its toleration of the taint
//!    expires (`tolerationSeconds`, 300 s by DefaultTolerationSeconds admission); the
//!    ReplicaSet controller replaces it.
//!
//! 4. Control-plane faults (`faults[].fail.apiserver`/`etcd`): while writes cannot be stored
//!    the controller can change nothing (detections, taints and evictions wait for the
//!    return) and no kubelet renews its lease. At the first monitor tick after the return,
//!    every node whose lease has not been renewed since and whose last renewal before the
//!    fault is older than the grace period is marked NotReady and queued for the taint, like
//!    a failed node; its next renewal makes it Ready again (taint and evictions cancelled).
//!    When every zone is then fully disrupted, `handleDisruption` enters the master
//!    disruption mode: no taints anywhere and the taints already placed are removed
//!    (`markNodeAsReachable`), so a cluster that only looked down is not evicted.
//!
//! Simplifications: the controller's monitor ticks are at multiples of its period from
//! t = 0 (lease renewals have a random phase per node); the taint queue is drained the instant a token is available (upstream polls every
//! 100 ms); a repaired node is Ready and untainted at once; the "all zones fully disrupted"
//! mode removes the taints placed (their nodes are queued again) but pods already marked
//! NotReady stay so; pods on a node marked NotReady only because its lease went stale
//! during a control-plane fault keep their endpoints.

use crate::cluster::{ClusterState, NodeId, PodId, Taint, TaintEffect};
use crate::engine::{RngStream, SimDuration, SimTime, StreamId, rng};
use crate::scenario::schema::NodeLifecycleSpec;
use crate::sim::{Ctx, Event};
use rand_core::Rng;
use std::collections::VecDeque;

pub const UNREACHABLE_TAINT_KEY: &str = "node.kubernetes.io/unreachable";
/// Heartbeat phases use this stream.
pub const LIFECYCLE_STREAM: StreamId = StreamId(3);
/// Lease phases of nodes the cluster autoscaler adds.
pub const ADDED_NODES_STREAM: StreamId = StreamId(5);

/// Upstream `ZoneState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneState {
    Normal,
    PartialDisruption,
    FullDisruption,
}

/// Upstream `ComputeZoneState`.
pub fn compute_zone_state(ready: u32, not_ready: u32, unhealthy_threshold: f64) -> ZoneState {
    if ready == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2 && not_ready as f64 / (not_ready + ready) as f64 >= unhealthy_threshold {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    }
}

struct ZoneTainter {
    queue: VecDeque<(NodeId, u32)>,
    state: ZoneState,
    qps: f64,
    /// Token bucket (burst 1): tokens at `refilled_at`.
    tokens: f64,
    refilled_at: SimTime,
    pass_at: Option<SimTime>,
}

impl ZoneTainter {
    fn refill(&mut self, now: SimTime) {
        let dt = now.saturating_since(self.refilled_at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.qps).min(1.0);
        self.refilled_at = now;
    }

    /// `SwapLimiter`.
    fn swap_limiter(&mut self, qps: f64, now: SimTime) {
        if qps == self.qps {
            return;
        }
        self.refill(now);
        let old_empty = self.tokens < 1.0;
        self.qps = qps;
        self.tokens = if qps > 0.0 && !old_empty { 1.0 } else { 0.0 };
        self.pass_at = None;
    }
}

/// What the simulation must do after a lifecycle step.
#[derive(Debug, Default)]
pub struct Effects {
    /// Pods whose endpoints go away (marked NotReady).
    pub not_ready: Vec<PodId>,
}

pub struct NodeLifecycle {
    cfg: NodeLifecycleSpec,
    heartbeat_phase: Vec<u64>,
    /// Lease phases of nodes added during the run.
    added_rng: RngStream,
    zones: Vec<ZoneTainter>,
    pub evicted: u64,
    pub failures: u64,
    /// The API cannot store writes (a control-plane fault): the controller waits.
    api_down: bool,
    /// When the API last became unable to store writes.
    api_down_since: SimTime,
    /// Events that came while the API was down, replayed at its return.
    deferred: Vec<Event>,
    /// Per node: marked NotReady because its lease was not renewed after a fault.
    stale: Vec<bool>,
    /// Per node: its lease was renewed since the API returned.
    renewed: Vec<bool>,
    /// Per node: when its NoExecute taint was placed, and for which failure.
    tainted: Vec<Option<(SimTime, u32)>>,
    /// Every zone is fully disrupted (master disruption mode).
    all_full: bool,
    /// Nodes marked NotReady after control-plane faults.
    pub stale_marked: u64,
    /// Evictions once a control-plane fault had begun (`None`: no such fault yet).
    pub evicted_since_cp_fault: Option<u64>,
}

impl NodeLifecycle {
    pub fn new(cfg: NodeLifecycleSpec, cluster: &ClusterState, seed: u64) -> Self {
        let mut r: RngStream = rng::stream(seed, LIFECYCLE_STREAM);
        let hb = cfg.node_status_update_frequency.0.as_nanos().max(1);
        let heartbeat_phase = cluster.nodes.iter().map(|_| r.next_u64() % hb).collect();
        let zones = cluster
            .zones
            .iter()
            .map(|_| ZoneTainter {
                queue: VecDeque::new(),
                state: ZoneState::Normal,
                qps: cfg.node_eviction_rate,
                tokens: 1.0,
                refilled_at: SimTime::ZERO,
                pass_at: None,
            })
            .collect();
        let added_rng = rng::stream(seed, ADDED_NODES_STREAM);
        let n = cluster.nodes.len();
        NodeLifecycle {
            cfg,
            heartbeat_phase,
            added_rng,
            zones,
            evicted: 0,
            failures: 0,
            api_down: false,
            api_down_since: SimTime::ZERO,
            deferred: Vec::new(),
            stale: vec![false; n],
            renewed: vec![false; n],
            tainted: vec![None; n],
            all_full: false,
            stale_marked: 0,
            evicted_since_cp_fault: None,
        }
    }

    /// The node-lifecycle controller is blind while the API cannot store writes: `ev` (a
    /// detection, a taint pass or an eviction) waits for the return. True if deferred.
    pub fn defer(&mut self, ev: Event) -> bool {
        if self.api_down {
            self.deferred.push(ev);
        }
        self.api_down
    }

    /// The API can no longer store writes.
    pub fn on_api_unavailable(&mut self, cluster: &ClusterState, now: SimTime) {
        if !self.api_down {
            self.api_down = true;
            self.api_down_since = now;
        }
        self.evicted_since_cp_fault.get_or_insert(0);
        self.grow(cluster);
        self.renewed.iter_mut().for_each(|r| *r = false);
    }

    /// The API stores writes again: what waited happens now, and the first monitor tick
    /// from now looks at the leases.
    pub fn on_api_available(&mut self, ctx: &mut Ctx) {
        self.api_down = false;
        for ev in std::mem::take(&mut self.deferred) {
            ctx.at(ctx.now, ev);
        }
        // Taint passes that fell in the fault are superseded: each zone's queue goes on now.
        for z in 0..self.zones.len() {
            self.zones[z].pass_at = None;
            self.arm(z, ctx);
        }
        let period = self.cfg.node_monitor_period.0.as_nanos().max(1);
        let tick = ctx.now.0.div_ceil(period) * period;
        ctx.at(SimTime(tick), Event::LeaseCheck);
    }

    fn grow(&mut self, cluster: &ClusterState) {
        let n = cluster.nodes.len();
        self.stale.resize(n, false);
        self.renewed.resize(n, false);
        self.tainted.resize(n, None);
    }

    /// The last lease renewal of `node` at or before `t` (renewals every
    /// `nodeStatusUpdateFrequency` at the node's phase).
    fn last_renewal(&self, node: NodeId, t: SimTime) -> u64 {
        let hb = self.cfg.node_status_update_frequency.0.as_nanos().max(1);
        let phase = self.heartbeat_phase.get(node.index()).copied().unwrap_or(0);
        let t = t.0;
        if t < phase { 0 } else { t - (t - phase) % hb }
    }

    /// `Event::LeaseCheck`: the first monitor pass after a control-plane fault. Every live,
    /// running, Ready node whose lease was not renewed since the return and whose last
    /// renewal before the fault is older than the grace period goes NotReady and is queued
    /// for the taint. Returns how many.
    pub fn on_lease_check(&mut self, cluster: &mut ClusterState, ctx: &mut Ctx) -> u64 {
        if self.api_down {
            return 0; // another fault began meanwhile: its return checks again
        }
        self.grow(cluster);
        let grace = self.cfg.node_monitor_grace_period.0.as_nanos();
        let mut marked = 0;
        for i in 0..cluster.nodes.len() {
            let node = NodeId(i as u32);
            let n = cluster.node(node);
            if n.removed_at.is_none() && n.up && n.ready && !self.renewed[i] {
                let last = self.last_renewal(node, self.api_down_since);
                if ctx.now.0.saturating_sub(last) > grace {
                    let (zone, epoch) = (n.zone as usize, n.failures);
                    self.stale[i] = true;
                    cluster.set_node_ready(node, false);
                    self.zones[zone].queue.push_back((node, epoch));
                    marked += 1;
                }
            }
        }
        self.stale_marked += marked;
        self.update_zone_states(cluster, ctx.now);
        for z in 0..self.zones.len() {
            self.arm(z, ctx);
        }
        marked
    }

    /// A kubelet's lease renewal after a control-plane fault is stored: a node marked
    /// NotReady for its stale lease is Ready again (its taint goes, evictions are cancelled).
    /// Returns true when the node became Ready.
    pub fn on_lease_renewed(&mut self, cluster: &mut ClusterState, node: NodeId, ctx: &mut Ctx) -> bool {
        self.grow(cluster);
        self.renewed[node.index()] = true;
        if !self.stale[node.index()] {
            return false;
        }
        self.stale[node.index()] = false;
        self.tainted[node.index()] = None;
        if cluster.node(node).up && cluster.node(node).removed_at.is_none() {
            cluster.set_node_ready(node, true);
        }
        self.update_zone_states(cluster, ctx.now);
        for z in 0..self.zones.len() {
            self.arm(z, ctx);
        }
        true
    }

    /// The controller thinks the node is down: it failed, or its lease went stale.
    fn unhealthy(&self, cluster: &ClusterState, node: NodeId) -> bool {
        !cluster.node(node).up || self.stale.get(node.index()).copied().unwrap_or(false)
    }

    /// When the controller notices a node that failed at `failed_at`: the first monitor tick
    /// more than the grace period after the last lease renewal.
    pub fn detection_time(&self, node: NodeId, failed_at: SimTime) -> SimTime {
        let hb = self.cfg.node_status_update_frequency.0.as_nanos().max(1);
        let phase = self.heartbeat_phase[node.index()];
        let t = failed_at.0;
        let last_renewal = if t < phase { 0 } else { t - (t - phase) % hb };
        let period = self.cfg.node_monitor_period.0.as_nanos().max(1);
        let limit = last_renewal + self.cfg.node_monitor_grace_period.0.as_nanos();
        SimTime((limit / period + 1) * period)
    }

    /// A node failed: schedule its detection.
    pub fn on_node_failed(&mut self, cluster: &ClusterState, node: NodeId, ctx: &mut Ctx) {
        self.failures += 1;
        let epoch = cluster.node(node).failures;
        ctx.at(self.detection_time(node, ctx.now), Event::NodeDetected { node, epoch });
    }

    /// `Event::NodeDetected`: Ready → Unknown, pods NotReady, queued for the NoExecute taint.
    pub fn on_detected(
        &mut self,
        cluster: &mut ClusterState,
        node: NodeId,
        epoch: u32,
        ctx: &mut Ctx,
    ) -> Effects {
        let n = cluster.node(node);
        if n.up || n.failures != epoch {
            return Effects::default();
        }
        let zone = n.zone as usize;
        cluster.set_node_ready(node, false);
        self.zones[zone].queue.push_back((node, epoch));
        self.update_zone_states(cluster, ctx.now);
        self.arm(zone, ctx);
        Effects { not_ready: cluster.pods_on_node(node) }
    }

    /// A node joined the cluster (cluster-autoscaler scale-up): its lease phase, then zone states.
    pub fn on_node_added(&mut self, cluster: &ClusterState, ctx: &mut Ctx) {
        let hb = self.cfg.node_status_update_frequency.0.as_nanos().max(1);
        while self.heartbeat_phase.len() < cluster.nodes.len() {
            self.heartbeat_phase.push(self.added_rng.next_u64() % hb);
        }
        self.on_node_repaired(cluster, ctx);
    }

    /// A node came back (or one left the cluster): zone states change.
    pub fn on_node_repaired(&mut self, cluster: &ClusterState, ctx: &mut Ctx) {
        self.update_zone_states(cluster, ctx.now);
        for z in 0..self.zones.len() {
            self.arm(z, ctx);
        }
    }

    /// `handleDisruption`: recompute every zone's state and swap limiters.
    fn update_zone_states(&mut self, cluster: &ClusterState, now: SimTime) {
        let mut ready = vec![0u32; self.zones.len()];
        let mut not_ready = vec![0u32; self.zones.len()];
        for n in cluster.nodes.iter().filter(|n| n.removed_at.is_none()) {
            if n.ready {
                ready[n.zone as usize] += 1;
            } else {
                not_ready[n.zone as usize] += 1;
            }
        }
        let states: Vec<ZoneState> = (0..self.zones.len())
            .map(|z| compute_zone_state(ready[z], not_ready[z], self.cfg.unhealthy_zone_threshold))
            .collect();
        let all_full = !states.is_empty() && states.iter().all(|s| *s == ZoneState::FullDisruption);
        if all_full && !self.all_full {
            // Entering the master disruption mode: upstream `markNodeAsReachable` on every
            // node removes the taints placed; the nodes still down are queued again.
            for i in 0..self.tainted.len() {
                if let Some((_, epoch)) = self.tainted[i].take() {
                    let node = NodeId(i as u32);
                    if self.unhealthy(cluster, node) && cluster.node(node).failures == epoch {
                        self.zones[cluster.node(node).zone as usize].queue.push_back((node, epoch));
                    }
                }
            }
        }
        self.all_full = all_full;
        for (z, state) in states.into_iter().enumerate() {
            let size = ready[z] + not_ready[z];
            let qps = if all_full {
                0.0
            } else {
                match state {
                    ZoneState::Normal | ZoneState::FullDisruption => self.cfg.node_eviction_rate,
                    ZoneState::PartialDisruption => {
                        if size > self.cfg.large_cluster_size_threshold {
                            self.cfg.secondary_node_eviction_rate
                        } else {
                            0.0
                        }
                    }
                }
            };
            self.zones[z].state = state;
            self.zones[z].swap_limiter(qps, now);
        }
    }

    /// Schedules the zone's next taint pass when a token will be available.
    fn arm(&mut self, zone: usize, ctx: &mut Ctx) {
        let zt = &mut self.zones[zone];
        if zt.queue.is_empty() || zt.qps <= 0.0 || zt.pass_at.is_some() {
            return;
        }
        zt.refill(ctx.now);
        let wait = if zt.tokens >= 1.0 { 0.0 } else { (1.0 - zt.tokens) / zt.qps };
        let at = ctx.now + SimDuration::from_secs_f64(wait);
        zt.pass_at = Some(at);
        ctx.at(at, Event::ZoneTaintPass { zone: zone as u16 });
    }

    /// `Event::ZoneTaintPass`: taints as many queued nodes as tokens allow and starts the
    /// toleration timers of their pods.
    pub fn on_taint_pass(&mut self, cluster: &ClusterState, zone: u16, ctx: &mut Ctx) {
        let z = zone as usize;
        if self.zones[z].pass_at != Some(ctx.now) {
            return; // superseded by a limiter swap
        }
        self.zones[z].pass_at = None;
        self.zones[z].refill(ctx.now);
        while self.zones[z].tokens >= 1.0 - 1e-9 {
            let Some((node, epoch)) = self.zones[z].queue.pop_front() else { break };
            if !self.unhealthy(cluster, node) || cluster.node(node).failures != epoch {
                continue; // repaired or renewed meanwhile: no taint, no token spent
            }
            self.zones[z].tokens -= 1.0;
            self.taint(cluster, node, epoch, ctx);
        }
        self.arm(z, ctx);
    }

    /// The NoExecute taint lands: each pod is evicted when its toleration runs out.
    fn taint(&mut self, cluster: &ClusterState, node: NodeId, epoch: u32, ctx: &mut Ctx) {
        self.grow(cluster);
        self.tainted[node.index()] = Some((ctx.now, epoch));
        for pod in cluster.pods_on_node(node) {
            if let Some(after) = self.toleration(cluster, pod) {
                ctx.after(after, Event::EvictPod { pod, node, epoch });
            }
        }
    }

    /// How long `pod` tolerates the unreachable NoExecute taint; `None` = forever. A pod
    /// with no toleration for it gets the DefaultTolerationSeconds admission plugin's one;
    /// otherwise the shortest `tolerationSeconds` among the tolerations that match wins
    /// (taint eviction's `getMinTolerationTime`; a toleration without seconds is forever).
    fn toleration(&self, cluster: &ClusterState, pod: PodId) -> Option<SimDuration> {
        let taint = Taint {
            key: UNREACHABLE_TAINT_KEY.to_string(),
            value: String::new(),
            effect: TaintEffect::NoExecute,
        };
        let matching: Vec<_> =
            cluster.pod_template(pod).placement.tolerations.iter().filter(|t| t.tolerates(&taint)).collect();
        if matching.is_empty() {
            return Some(SimDuration::from_secs(self.cfg.default_toleration_seconds));
        }
        matching
            .iter()
            .map(|t| t.toleration_seconds.map(|s| SimDuration::from_secs(s.max(0) as u64)))
            .min_by_key(|d| d.unwrap_or(SimDuration(u64::MAX)))
            .flatten()
    }

    /// `Event::EvictPod`: true when the pod is still on the failed node and must go.
    pub fn should_evict(
        &mut self,
        cluster: &ClusterState,
        pod: PodId,
        node: NodeId,
        epoch: u32,
        now: SimTime,
    ) -> bool {
        let p = cluster.pod(pod);
        let n = cluster.node(node);
        // The taint this timer belongs to is still there (not removed by the master
        // disruption mode or a renewal, nor placed again later).
        let taint_holds = self.tainted.get(node.index()).copied().flatten().is_some_and(|(at, e)| {
            e == epoch && self.toleration(cluster, pod).is_some_and(|tol| at + tol <= now)
        });
        let go = p.node == Some(node)
            && p.phase.holds_node()
            && self.unhealthy(cluster, node)
            && n.failures == epoch
            && taint_holds;
        if go {
            self.evicted += 1;
            if let Some(e) = self.evicted_since_cp_fault.as_mut() {
                *e += 1;
            }
        }
        go
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upstream `TestComputeZoneState`-style cases.
    #[test]
    fn zone_states() {
        assert_eq!(compute_zone_state(3, 0, 0.55), ZoneState::Normal);
        assert_eq!(compute_zone_state(0, 1, 0.55), ZoneState::FullDisruption);
        assert_eq!(compute_zone_state(1, 2, 0.55), ZoneState::Normal, "needs more than 2 NotReady");
        assert_eq!(compute_zone_state(2, 3, 0.55), ZoneState::PartialDisruption);
        assert_eq!(compute_zone_state(3, 3, 0.55), ZoneState::Normal, "0.5 < 0.55");
    }
}
