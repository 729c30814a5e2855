//! The arenas and the only functions that change them.

use super::gpu::Assignment;
use super::resources::{PodRequests, Resources};
use super::selectors::{Labels, Placement, Taint};
use crate::engine::{SimDuration, SimTime};

macro_rules! typed_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

typed_id!(
    /// Index of a node in [`ClusterState::nodes`].
    NodeId
);
typed_id!(
    /// Index of a pod in [`ClusterState::pods`].
    PodId
);
typed_id!(
    /// Index of a node pool in [`ClusterState::pools`].
    PoolId
);
typed_id!(
    /// Index of a pod template in [`ClusterState::templates`].
    TemplateId
);
typed_id!(
    /// Index of a Deployment in [`ClusterState::deployments`].
    DeploymentId
);
typed_id!(
    /// Index of a churn generator (short-lived pods/jobs) in the scenario.
    ChurnId
);
typed_id!(
    /// Index of a pod trace (`podTraces[]`) in the scenario.
    TraceId
);
typed_id!(
    /// Index of a DaemonSet in [`ClusterState::daemon_sets`].
    DaemonSetId
);
typed_id!(
    /// Index of a (node pool, zone) label set in [`ClusterState::label_sets`].
    LabelSetId
);

/// Where a pod came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Deployment(DeploymentId),
    Churn(ChurnId),
    /// A pod-trace replay (`podTraces[]`); like churn pods, nobody replaces it.
    Trace(TraceId),
    /// A DaemonSet's pod for one node: the node its controller pins it to with a
    /// `metadata.name` node affinity (upstream `ReplaceDaemonSetPodNodeNameNodeAffinity`,
    /// `pkg/controller/daemon/util/daemonset_util.go`), so the scheduler only ever
    /// considers that node.
    DaemonSet(DaemonSetId, NodeId),
    /// A bare pod (no ownerReferences) that started the run on its node (`initialPods`):
    /// nothing recreates it.
    Bare,
}

impl Owner {
    /// True for a DaemonSet's pod.
    pub fn is_daemon_set(self) -> bool {
        matches!(self, Owner::DaemonSet(..))
    }
}

/// Pod lifecycle. `Bound` is upstream's Pending-with-nodeName: the scheduler has placed
/// the pod and the kubelet is pulling images and starting containers. `Deleted` records a
/// pod whose object was deleted (e.g. by a scale-down) before its containers ended; it is
/// not an upstream phase, but clustersim counts every pod it ever created, so each ends in
/// exactly one of these states. `Terminating` is upstream's pod with a deletion timestamp
/// whose containers have not exited yet: it still holds its node's resources, but its owner
/// no longer counts it (the pod ends `Deleted`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodPhase {
    Pending,
    Bound,
    Running,
    Succeeded,
    Failed,
    Deleted,
    Terminating,
}

impl PodPhase {
    pub const ALL: [PodPhase; 7] = [
        PodPhase::Pending,
        PodPhase::Bound,
        PodPhase::Running,
        PodPhase::Succeeded,
        PodPhase::Failed,
        PodPhase::Deleted,
        PodPhase::Terminating,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Bound => "Bound",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
            PodPhase::Deleted => "Deleted",
            PodPhase::Terminating => "Terminating",
        }
    }

    /// True for phases in which the pod holds resources on a node.
    pub fn holds_node(self) -> bool {
        matches!(self, PodPhase::Bound | PodPhase::Running | PodPhase::Terminating)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, PodPhase::Succeeded | PodPhase::Failed | PodPhase::Deleted)
    }

    /// Neither ended nor being deleted: what an owner counts (upstream controllers skip
    /// pods with a deletion timestamp, `controller.FilterActivePods`).
    pub fn is_active(self) -> bool {
        !self.is_terminal() && self != PodPhase::Terminating
    }
}

/// What every pod made from one template shares.
#[derive(Clone, Debug)]
pub struct PodTemplate {
    /// `deployment/<name>` or `churn/<name>/<index>`.
    pub name: String,
    pub requests: PodRequests,
    pub placement: Placement,
    pub priority: i32,
    /// PriorityClass `preemptionPolicy: Never`: the pod never preempts others.
    pub preempt_never: bool,
    /// `terminationGracePeriodSeconds`.
    pub termination_grace_period: SimDuration,
    /// A deleted pod of this template may stay Terminating (its termination time is not
    /// always 0 and its grace period is not 0).
    pub graceful_termination: bool,
    /// A pod that fails its scheduling attempt is deleted instead of waiting in the queue
    /// (the FGD study's protocol, `podTraces[].inflation`).
    pub give_up_unschedulable: bool,
}

/// Why a pod is being disrupted: upstream's `DisruptionTarget` pod condition reasons
/// (`k8s.io/api/core/v1/types.go`), set on the pods that go through graceful termination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisruptionReason {
    /// The scheduler preempted the pod (`PreemptionByScheduler`).
    PreemptionByScheduler,
    /// A drain evicted the pod through the eviction API (`EvictionByEvictionAPI`).
    EvictionByEvictionAPI,
}

impl DisruptionReason {
    pub fn name(self) -> &'static str {
        match self {
            DisruptionReason::PreemptionByScheduler => "PreemptionByScheduler",
            DisruptionReason::EvictionByEvictionAPI => "EvictionByEvictionAPI",
        }
    }
}

/// A node pool: identical nodes with a price.
#[derive(Clone, Debug)]
pub struct NodePool {
    pub name: String,
    pub allocatable: Resources,
    pub taints: Vec<Taint>,
    /// Price of one node for one hour, its GPUs included (`NodePoolSpec::node_price_per_hour`):
    /// the cost columns and the cluster autoscaler's `price` expander use it.
    pub price_per_hour: f64,
    /// The nodes' names by index in the pool, for pools made from a node list that names
    /// them (empty: nodes are `<pool>-<index>`).
    pub node_names: std::sync::Arc<[String]>,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub pool: PoolId,
    /// Index of the node within its pool (its name is `<pool>-<index>`).
    pub index_in_pool: u32,
    pub zone: u16,
    pub labels: LabelSetId,
    pub allocatable: Resources,
    /// Sum of the actual requests of the pods bound to the node (scheduler-assumed pods
    /// included).
    pub requested: Resources,
    /// The same with the non-zero defaults for unspecified cpu/memory (for scoring).
    pub non_zero_requested: Resources,
    pub unschedulable: bool,
    /// The node's Ready condition as the API shows it (what the scheduler and controllers
    /// see). It turns false only when the node-lifecycle controller notices a failure.
    pub ready: bool,
    /// The machine works. False from a failure until its repair.
    pub up: bool,
    /// Failures so far; events about one failure carry it, so stale ones are ignored.
    pub failures: u32,
    pub created_at: SimTime,
    /// When the node was deleted from the cluster (cluster-autoscaler scale-down); a
    /// removed node keeps its id (ids stay dense) but is never Ready again.
    pub removed_at: Option<SimTime>,
    /// Bumped on every change of the node's requests or allocatable, so the scheduler can
    /// memoise per-node scores (a score is a pure function of the node's state and the
    /// pod's template).
    pub generation: u32,
}

#[derive(Clone, Debug)]
pub struct Pod {
    pub template: TemplateId,
    pub owner: Owner,
    pub phase: PodPhase,
    pub node: Option<NodeId>,
    pub created_at: SimTime,
    /// When the scheduler picked a node (the pod was assumed onto it).
    pub scheduled_at: Option<SimTime>,
    pub bound_at: Option<SimTime>,
    pub running_at: Option<SimTime>,
    pub finished_at: Option<SimTime>,
    /// How long the pod runs before it completes on its own; `None` runs forever.
    pub run_for: Option<SimDuration>,
    /// Scheduling attempts, successful or not.
    pub attempts: u32,
    /// When graceful termination began (upstream `metadata.deletionTimestamp`, minus the
    /// grace period); `None` for a pod that never was Terminating.
    pub terminating_at: Option<SimTime>,
    /// The `DisruptionTarget` condition of a Terminating pod, if it has one.
    pub disruption: Option<DisruptionReason>,
    /// The image pull the kubelet drew when the pod was bound (the pod startup SLI leaves
    /// it out).
    pub image_pull: SimDuration,
    /// When its last scheduling attempt failed (the scheduler's backoff starts there).
    pub last_failure: SimTime,
    /// Things not yet done that will read the pod ([`ClusterState::pin`]): its storage is
    /// released only once it has ended and nothing holds it.
    pins: u8,
}

/// What [`ClusterState::pod`] returns for a pod whose storage was released: ended
/// (`Deleted`), on no node, owned by nobody. Only code that checks the phase first reads
/// it (an event about a pod that has ended since it was scheduled).
static RELEASED: Pod = Pod {
    template: TemplateId(0),
    owner: Owner::Bare,
    phase: PodPhase::Deleted,
    node: None,
    created_at: SimTime::ZERO,
    scheduled_at: None,
    bound_at: None,
    running_at: None,
    finished_at: None,
    run_for: None,
    attempts: 0,
    terminating_at: None,
    disruption: None,
    image_pull: SimDuration::ZERO,
    last_failure: SimTime::ZERO,
    pins: 0,
};

impl Default for Pod {
    fn default() -> Pod {
        RELEASED.clone()
    }
}

impl Pod {
    /// A Pending pod created at `now`.
    pub fn new(template: TemplateId, owner: Owner, run_for: Option<SimDuration>, now: SimTime) -> Pod {
        Pod { template, owner, phase: PodPhase::Pending, created_at: now, run_for, ..RELEASED }
    }

    /// The only node the scheduler may place the pod on: a DaemonSet pod's node (its
    /// `metadata.name` node affinity); `None` for any other pod.
    #[inline]
    pub fn required_node(&self) -> Option<NodeId> {
        match self.owner {
            Owner::DaemonSet(_, node) => Some(node),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Deployment {
    pub name: String,
    pub template: TemplateId,
    pub replicas: u32,
    /// Pods of this Deployment that are active (neither terminal nor Terminating).
    pub live_pods: u32,
}

/// A DaemonSet: one pod of `template` on every node the template can run on
/// ([`crate::workload::daemonset`]).
#[derive(Clone, Debug)]
pub struct DaemonSet {
    pub name: String,
    /// Its pods' template, with the DaemonSet tolerations added.
    pub template: TemplateId,
}

/// Cluster-wide counters kept in step with every change.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub allocatable_ready: Resources,
    pub requested: Resources,
    pub nodes_ready: u32,
    pub nodes_down: u32,
    /// Nodes deleted from the cluster (their ids stay).
    pub nodes_removed: u32,
    pub pods_created: u64,
    pub pods_in_phase: [u64; 7],
    /// The largest number of pods that existed at once (created and not ended).
    pub pods_alive_peak: u64,
}

/// [`ClusterState::node_flags`]: `spec.unschedulable` is set.
pub const NODE_CORDONED: u8 = 1;
/// [`ClusterState::node_flags`]: the node's pool has taints.
pub const NODE_TAINTED: u8 = 2;

/// The whole cluster.
#[derive(Clone, Debug, Default)]
pub struct ClusterState {
    pub pools: Vec<NodePool>,
    pub label_sets: Vec<Labels>,
    pub zones: Vec<String>,
    pub templates: Vec<PodTemplate>,
    pub nodes: Vec<Node>,
    /// The pods stored now, by id ([`super::pods::PodStore`]): every pod ever created while
    /// [`Self::release_ended_pods`] is off, else the pods that have not ended or that
    /// something still holds.
    pub pods: super::pods::PodStore,
    /// Release the storage of ended pods ([`Self::take_released`]).
    release_ended: bool,
    /// Ended pods nothing holds any more, to be taken out by [`Self::take_released`].
    released: Vec<PodId>,
    /// Per phase: the pods taken out of the store.
    released_in_phase: [u64; 7],
    /// Where changes to a released pod go ([`Self::pod_mut`]).
    scratch: Pod,
    pub deployments: Vec<Deployment>,
    /// Names of the pod traces (`podTraces[]`), by [`TraceId`].
    pub trace_names: Vec<String>,
    pub daemon_sets: Vec<DaemonSet>,
    /// Pods holding resources on each node (Bound or Running), unordered; see
    /// [`ClusterState::pods_on_node`].
    node_pods: Vec<Vec<PodId>>,
    /// Free capacity of the Ready nodes by node id: lets the scheduler see at once that no
    /// node can fit a pod, and jump to the next node that may (see [`room::RoomIndex`]).
    room: super::room::RoomIndex,
    /// Bumped whenever a node is added or removed, or changes Ready or cordon state: what
    /// decides which nodes pass the filters other than resource fit (taints and labels are
    /// fixed per pool).
    pub filter_epoch: u64,
    /// Ids of removed nodes, ascending.
    removed: Vec<u32>,
    /// Node-holding (Bound or Running) pods by priority: how many of each.
    held_priorities: std::collections::BTreeMap<i32, u32>,
    /// Per node: the lowest priority of its node-holding pods (`i32::MAX` when empty).
    min_priority: Vec<i32>,
    /// Per node, packed for the scheduler's filter loop: its `generation`, and flags
    /// ([`NODE_CORDONED`], [`NODE_TAINTED`]).
    node_generation: Vec<u32>,
    node_flags: Vec<u8>,
    /// Per block of [`super::room::BLOCK`] node ids: bumped whenever a node of the block
    /// changes anything a score reads (its generation, flags, or its pods as topology
    /// counts them), so the scheduler can memoise a whole block's scores. `refresh_room`
    /// bumps it (every bind and release goes through it); a pod turning Terminating, which
    /// changes only the live counts, bumps it on its own.
    block_epoch: Vec<u32>,
    /// Per node: requests of the Pending pods a preemption nominated to it (set by the
    /// scheduler), and a second free-capacity index with that load held: see
    /// [`ClusterState::first_node_with_room_held`].
    nominated_load: Vec<Resources>,
    /// Built at the first non-zero nominated load (runs without preemption never pay for it).
    room_held: Option<super::room::RoomIndex>,
    /// Bumped whenever a Pending pod is deleted (a nominated one may be among them).
    pub pending_deleted_epoch: u64,
    /// Per node: bumped on every change of its pods (placed, started, bound, gone), so a
    /// per-node result that depends on the pods can be memoised.
    pods_epoch: Vec<u32>,
    /// Per block of [`super::room::BLOCK`] node ids: bumped with every bump of one of its
    /// nodes' `pods_epoch`, so a result over a whole block's pods can be memoised.
    pods_block_epoch: Vec<u32>,
    /// Pods counted by topology domain for PodTopologySpread and InterPodAffinity (empty
    /// unless some template has rules; see [`super::topology`]).
    pub topology: super::topology::TopologyIndex,
    /// Per template: its topology spread and pod affinity rules (empty: none anywhere).
    pub topology_rules: Vec<super::topology::TemplateRules>,
    /// GPU devices: per node the free milli of each device, per pod the devices it holds.
    pub gpu: super::gpu::GpuDevices,
    pub totals: Totals,
}

/// Bumps the entry of node `node`'s block in a per-block epoch array (sized by
/// `ClusterState::add_node`).
#[inline]
fn bump_block(epochs: &mut [u32], node: usize) {
    if let Some(e) = epochs.get_mut(node / super::room::BLOCK) {
        *e = e.wrapping_add(1);
    }
}

impl ClusterState {
    /// True when pod `pod` is Pending (same as `pod(pod).phase == Pending`, from a packed
    /// array).
    #[inline]
    pub fn is_pending(&self, pod: PodId) -> bool {
        self.pods.is_pending(pod)
    }

    /// Node `node`'s generation (as `Node::generation`, from a packed array).
    #[inline]
    pub fn node_generation(&self, node: usize) -> u32 {
        self.node_generation[node]
    }

    /// Node `node`'s [`NODE_CORDONED`] and [`NODE_TAINTED`] flags.
    #[inline]
    pub fn node_flags(&self, node: usize) -> u8 {
        self.node_flags[node]
    }

    /// Every node's generation, by id (packed: what the scheduler's score memo checks).
    #[inline]
    pub fn node_generations(&self) -> &[u32] {
        &self.node_generation
    }

    /// Every node's flags, by id.
    #[inline]
    pub fn all_node_flags(&self) -> &[u8] {
        &self.node_flags
    }

    /// Every block's epoch, by block (node id / [`super::room::BLOCK`]): equal epochs mean
    /// that no node of the block changed its generation, flags or pods in between.
    #[inline]
    pub fn block_epochs(&self) -> &[u32] {
        &self.block_epoch
    }

    /// Bumps the epoch of node `node`'s block.
    #[inline]
    fn touch_block(&mut self, node: usize) {
        bump_block(&mut self.block_epoch, node);
    }

    /// Whether [`Self::room_index_held`] is the index with the nominated loads held (built
    /// at the first nominated load) rather than the plain one.
    #[inline]
    pub fn holds_nominated_loads(&self) -> bool {
        self.room_held.is_some()
    }

    /// The free-capacity index with the nominated loads held (the plain one while no node
    /// has a nominated pod): what [`Self::first_node_with_room_held`] searches.
    #[inline]
    pub fn room_index_held(&self) -> &super::room::RoomIndex {
        self.room_held.as_ref().unwrap_or(&self.room)
    }

    /// Recomputes node `node`'s entry of the free-capacity index, and its packed
    /// generation and flags.
    fn refresh_room(&mut self, node: NodeId) {
        let n = &self.nodes[node.index()];
        if let Some(h) = &mut self.room_held {
            h.set(node.index(), Self::held_room(n, &self.nominated_load[node.index()]));
        }
        self.node_generation[node.index()] = n.generation;
        self.touch_block(node.index());
        let n = &self.nodes[node.index()];
        self.node_flags[node.index()] = if n.unschedulable { NODE_CORDONED } else { 0 }
            | if self.pools[n.pool.index()].taints.is_empty() { 0 } else { NODE_TAINTED };
        let room =
            if n.ready { super::room::room_of(&n.allocatable, &n.requested) } else { super::room::NO_ROOM };
        self.room.set(node.index(), room);
    }

    /// A node's entry in the held index: free capacity with its nominated load held.
    fn held_room(n: &Node, nominated: &Resources) -> super::room::Room {
        if n.ready {
            super::room::room_of(&n.allocatable, &(n.requested + *nominated))
        } else {
            super::room::NO_ROOM
        }
    }

    /// A pod of priority `prio` was placed on `node`: lowest priority and pod epoch.
    fn pods_added(&mut self, node: NodeId, prio: i32) {
        let i = node.index();
        self.min_priority[i] = self.min_priority[i].min(prio);
        self.bump_pods(i);
    }

    /// Bumps node `i`'s pod epoch and its block's.
    #[inline]
    fn bump_pods(&mut self, i: usize) {
        self.pods_epoch[i] = self.pods_epoch[i].wrapping_add(1);
        bump_block(&mut self.pods_block_epoch, i);
    }

    /// A pod of priority `prio` left `node`: the lowest priority is recomputed only when it
    /// may have been that pod's.
    fn pods_removed(&mut self, node: NodeId, prio: i32) {
        if prio <= self.min_priority[node.index()] {
            self.refresh_pods(node);
        } else {
            self.bump_pods(node.index());
        }
    }

    /// Recomputes node `node`'s lowest pod priority and bumps its pod epoch.
    fn refresh_pods(&mut self, node: NodeId) {
        let i = node.index();
        let templates = &self.templates;
        let pods = &self.pods;
        self.min_priority[i] = self.node_pods[i]
            .iter()
            .map(|q| templates[pods.get(*q).unwrap_or(&RELEASED).template.index()].priority)
            .min()
            .unwrap_or(i32::MAX);
        self.bump_pods(i);
    }

    /// True when no Ready node has the free capacity for a pod requesting `req` (each
    /// dimension checked on its own: a necessary condition for the NodeResourcesFit filter
    /// to fail on every Ready node).
    pub fn no_ready_node_has_room(&self, req: &Resources) -> bool {
        !self.room.any_may_fit(&super::room::need_of(req))
    }

    /// The first node id in `lo..hi` whose free capacity may fit `need` (exactly the
    /// NodeResourcesFit filter on a Ready node; nodes that are not Ready never match).
    #[inline]
    pub fn first_node_with_room(&self, lo: usize, hi: usize, need: &super::room::Room) -> Option<usize> {
        self.room.first_fit(lo, hi, need)
    }

    /// Sets the requests of the Pending pods nominated to `node` (the scheduler's
    /// `status.nominatedNodeName` bookkeeping).
    pub fn set_nominated_load(&mut self, node: NodeId, load: Resources) {
        if self.nominated_load[node.index()] != load {
            self.nominated_load[node.index()] = load;
            if self.room_held.is_none() {
                let mut h = super::room::RoomIndex::default();
                for (n, nominated) in self.nodes.iter().zip(&self.nominated_load) {
                    h.push(Self::held_room(n, nominated));
                }
                self.room_held = Some(h);
            }
            self.refresh_room(node);
        }
    }

    /// As [`Self::first_node_with_room`], with each node's nominated load held: exactly the
    /// NodeResourcesFit filter with nominated pods added, for a pod that is not itself
    /// nominated and whose priority is at most that of every nominated pod.
    #[inline]
    pub fn first_node_with_room_held(&self, lo: usize, hi: usize, need: &super::room::Room) -> Option<usize> {
        self.room_index_held().first_fit(lo, hi, need)
    }

    /// As [`Self::no_ready_node_has_room`], with each node's nominated load held.
    pub fn no_ready_node_has_room_held(&self, req: &Resources) -> bool {
        !self.room_held.as_ref().unwrap_or(&self.room).any_may_fit(&super::room::need_of(req))
    }

    /// Removed node ids in `lo..hi`.
    pub fn removed_in(&self, lo: usize, hi: usize) -> usize {
        if self.removed.is_empty() || lo >= hi {
            return 0;
        }
        let a = self.removed.partition_point(|&r| (r as usize) < lo);
        let b = self.removed.partition_point(|&r| (r as usize) < hi);
        b - a
    }

    /// True when some node-holding pod has a priority below `priority` (else preemption by
    /// a pod of `priority` has no victims anywhere).
    pub fn any_pod_below_priority(&self, priority: i32) -> bool {
        self.held_priorities.first_key_value().is_some_and(|(p, _)| *p < priority)
    }

    /// Per node id, the lowest priority of its node-holding pods (`i32::MAX` when none).
    pub fn min_priorities(&self) -> &[i32] {
        &self.min_priority
    }

    /// Node `node`'s pod epoch: changes whenever one of its pods is placed, bound, started
    /// or gone.
    pub fn pods_epoch(&self, node: usize) -> u32 {
        self.pods_epoch[node]
    }

    /// The pod epoch of block `block` (node ids `block * BLOCK ..`): equal epochs mean that
    /// no pod of any of its nodes changed in between.
    #[inline]
    pub fn pods_block_epoch(&self, block: usize) -> u32 {
        self.pods_block_epoch.get(block).copied().unwrap_or(0)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }
    /// The pod; a pod whose storage was released reads as ended (`Deleted`) on no node.
    #[inline]
    pub fn pod(&self, id: PodId) -> &Pod {
        self.pods.get(id).unwrap_or(&RELEASED)
    }

    /// The stored pod, to change it; a released pod's changes go to a scratch copy
    /// (nothing changes an ended pod that nothing holds).
    #[inline]
    fn pod_mut(&mut self, id: PodId) -> &mut Pod {
        match self.pods.get_mut(id) {
            Some(p) => p,
            None => {
                debug_assert!(false, "pod {} changed after its storage was released", id.0);
                self.scratch = RELEASED.clone();
                &mut self.scratch
            }
        }
    }

    /// Counts a scheduling attempt of the pod.
    pub fn count_attempt(&mut self, pod: PodId) {
        self.pod_mut(pod).attempts += 1;
    }

    /// Records that the pod's scheduling attempt failed at `now`.
    pub fn set_last_failure(&mut self, pod: PodId, now: SimTime) {
        self.pod_mut(pod).last_failure = now;
    }

    /// Records the image pull the kubelet drew for the pod.
    pub fn set_image_pull(&mut self, pod: PodId, pull: SimDuration) {
        self.pod_mut(pod).image_pull = pull;
    }

    /// Something not yet done will read the pod (an in-flight binding, a status update
    /// waited for, the scheduler queue holding a deleted Pending pod): its storage stays
    /// until [`Self::unpin`].
    pub fn pin(&mut self, pod: PodId) {
        if self.pods.get(pod).is_some() {
            let p = self.pod_mut(pod);
            p.pins = p.pins.saturating_add(1);
        }
    }

    /// Undoes one [`Self::pin`]; an ended pod nothing holds any more is released.
    pub fn unpin(&mut self, pod: PodId) {
        if self.pods.get(pod).is_none() {
            return;
        }
        let p = self.pod_mut(pod);
        p.pins = p.pins.saturating_sub(1);
        let free = p.pins == 0 && p.phase.is_terminal();
        if free && self.release_ended {
            self.released.push(pod);
        }
    }

    /// Turns on the release of ended pods' storage: from now on an ended pod nothing
    /// holds is handed out by [`Self::take_released`] (its `pods.csv` row and summary
    /// contributions taken) and removed from the store.
    pub fn release_ended_pods(&mut self) {
        self.release_ended = true;
        let ended: Vec<PodId> = self
            .pods
            .iter()
            .filter(|(_, p)| p.phase.is_terminal() && p.pins == 0)
            .map(|(id, _)| id)
            .collect();
        self.released.extend(ended);
    }

    /// True when some ended pods wait for [`Self::take_released`].
    #[inline]
    pub fn has_released(&self) -> bool {
        !self.released.is_empty()
    }

    /// Takes the ended pods nothing holds out of the store, in the order they ended, with
    /// their GPU devices (what their `pods.csv` row shows). Their slots go to later pods.
    pub fn take_released(&mut self) -> Vec<(PodId, Pod, super::gpu::Assignment)> {
        let ids = std::mem::take(&mut self.released);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(p) = self.pods.remove(id) {
                self.released_in_phase[p.phase as usize] += 1;
                let a = self.gpu.forget(id.index());
                out.push((id, p, a));
            }
        }
        out
    }

    /// Pod storage slots: the largest number of pods stored at once (with
    /// [`Self::release_ended_pods`], about the largest number alive at once).
    pub fn pod_slots(&self) -> usize {
        self.pods.slots()
    }
    pub fn template(&self, id: TemplateId) -> &PodTemplate {
        &self.templates[id.index()]
    }
    pub fn pod_template(&self, id: PodId) -> &PodTemplate {
        &self.templates[self.pod(id).template.index()]
    }
    /// Whether some template's PodTopologySpread or InterPodAffinity rules can reject a
    /// node (a `DoNotSchedule` constraint or a required term): only then may a bound pod
    /// help an unschedulable one, and only then do the cluster autoscaler's simulations
    /// keep a topology snapshot.
    pub fn has_topology_filters(&self) -> bool {
        self.topology_rules.iter().any(|r| r.has_filters())
    }

    pub fn node_labels(&self, id: NodeId) -> &Labels {
        &self.label_sets[self.nodes[id.index()].labels.index()]
    }
    pub fn node_taints(&self, id: NodeId) -> &[Taint] {
        &self.pools[self.nodes[id.index()].pool.index()].taints
    }
    pub fn node_name(&self, id: NodeId) -> String {
        let n = &self.nodes[id.index()];
        let pool = &self.pools[n.pool.index()];
        match pool.node_names.get(n.index_in_pool as usize) {
            Some(name) => name.clone(),
            None => format!("{}-{}", pool.name, n.index_in_pool),
        }
    }
    pub fn pods_in(&self, phase: PodPhase) -> u64 {
        self.totals.pods_in_phase[phase as usize]
    }

    pub fn add_template(&mut self, t: PodTemplate) -> TemplateId {
        self.gpu.add_template(t.requests.actual.gpu_milli, &t.placement);
        self.templates.push(t);
        TemplateId((self.templates.len() - 1) as u32)
    }

    pub fn add_label_set(&mut self, labels: Labels) -> LabelSetId {
        self.label_sets.push(labels);
        LabelSetId((self.label_sets.len() - 1) as u32)
    }

    /// Adds a Ready node of `pool`.
    pub fn add_node(
        &mut self,
        pool: PoolId,
        index_in_pool: u32,
        zone: u16,
        labels: LabelSetId,
        unschedulable: bool,
        now: SimTime,
    ) -> NodeId {
        let allocatable = self.pools[pool.index()].allocatable;
        self.nodes.push(Node {
            pool,
            index_in_pool,
            zone,
            labels,
            allocatable,
            requested: Resources::ZERO,
            non_zero_requested: Resources::ZERO,
            unschedulable,
            ready: true,
            up: true,
            failures: 0,
            created_at: now,
            removed_at: None,
            generation: 0,
        });
        self.node_pods.push(Vec::new());
        self.min_priority.push(i32::MAX);
        self.pods_epoch.push(0);
        // Both per-block epochs are sized here, for the blocks' first nodes, and bumped (a
        // node joins its block).
        let blocks = self.pods_epoch.len().div_ceil(super::room::BLOCK);
        self.block_epoch.resize(blocks, 0);
        self.pods_block_epoch.resize(blocks, 0);
        self.bump_pods(self.pods_epoch.len() - 1);
        self.node_generation.push(0);
        self.node_flags.push(0);
        self.nominated_load.push(Resources::ZERO);
        self.room.push(super::room::NO_ROOM);
        if let Some(h) = &mut self.room_held {
            h.push(super::room::NO_ROOM);
        }
        self.refresh_room(NodeId((self.nodes.len() - 1) as u32));
        self.gpu.add_node(allocatable.gpu_milli, &self.label_sets[labels.index()]);
        self.topology.add_node(&self.label_sets[labels.index()]);
        self.filter_epoch += 1;
        self.totals.allocatable_ready += allocatable;
        self.totals.nodes_ready += 1;
        NodeId((self.nodes.len() - 1) as u32)
    }

    /// Deletes an empty node from the cluster (the cluster autoscaler's scale-down). It
    /// stops being Ready and schedulable; its id stays. Returns false if it still holds pods
    /// or was already removed.
    pub fn remove_node(&mut self, node: NodeId, now: SimTime) -> bool {
        if self.nodes[node.index()].removed_at.is_some() || !self.node_pods[node.index()].is_empty() {
            return false;
        }
        self.set_node_ready(node, false);
        let n = &mut self.nodes[node.index()];
        n.unschedulable = true;
        n.removed_at = Some(now);
        n.generation = n.generation.wrapping_add(1);
        self.totals.nodes_removed += 1;
        self.filter_epoch += 1;
        if !n.up {
            n.up = true;
            self.totals.nodes_down -= 1;
        }
        self.refresh_room(node);
        self.topology.remove_node(node.index());
        let at = self.removed.partition_point(|&r| r < node.0);
        self.removed.insert(at, node.0);
        true
    }

    /// Nodes that exist now (not removed).
    pub fn live_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes.iter().enumerate().filter(|(_, n)| n.removed_at.is_none()).map(|(i, _)| NodeId(i as u32))
    }

    /// Creates a Pending pod.
    pub fn create_pod(
        &mut self,
        template: TemplateId,
        owner: Owner,
        run_for: Option<SimDuration>,
        now: SimTime,
    ) -> PodId {
        let id = self.pods.push(Pod::new(template, owner, run_for, now), true);
        self.totals.pods_created += 1;
        self.totals.pods_in_phase[PodPhase::Pending as usize] += 1;
        let ended: u64 = PodPhase::ALL.iter().filter(|p| p.is_terminal()).map(|&p| self.pods_in(p)).sum();
        self.totals.pods_alive_peak = self.totals.pods_alive_peak.max(self.totals.pods_created - ended);
        if let Owner::Deployment(d) = owner {
            self.deployments[d.index()].live_pods += 1;
        }
        id
    }

    fn set_phase(&mut self, pod: PodId, phase: PodPhase) {
        let p = self.pod_mut(pod);
        let was = p.phase;
        p.phase = phase;
        let free = phase.is_terminal() && p.pins == 0;
        self.totals.pods_in_phase[was as usize] -= 1;
        self.totals.pods_in_phase[phase as usize] += 1;
        self.pods.set_pending(pod, phase == PodPhase::Pending);
        if free && !was.is_terminal() && self.release_ended {
            self.released.push(pod);
        }
    }

    /// The scheduler's "assume": reserves the pod's requests on `node` at decision time so
    /// that the next scheduling cycle sees them, its GPUs on the devices of the default pick
    /// ([`super::gpu::GpuDevices::tightest`]). The pod moves to `Bound`.
    pub fn assume_pod(&mut self, pod: PodId, node: NodeId, now: SimTime) {
        let template = self.pod(pod).template.index();
        let devices = self.gpu.tightest(node.index(), template);
        self.assume_pod_on(pod, node, devices, now);
    }

    /// [`Self::assume_pod`] with the devices chosen by the caller (a GPU score policy).
    /// `devices` is `None` only for a pod whose GPU demand the node's devices cannot hold,
    /// which the filters rule out; such a pod binds without devices and `check_invariants`
    /// reports it.
    pub fn assume_pod_on(&mut self, pod: PodId, node: NodeId, devices: Option<Assignment>, now: SimTime) {
        if let Some(a) = devices {
            self.gpu.bind(pod.index(), node.index(), a);
        }
        let req = self.templates[self.pod(pod).template.index()].requests;
        let n = &mut self.nodes[node.index()];
        n.requested += req.actual;
        n.non_zero_requested += req.non_zero;
        n.generation = n.generation.wrapping_add(1);
        if n.ready {
            self.totals.requested += req.actual;
        }
        self.refresh_room(node);
        self.node_pods[node.index()].push(pod);
        let template = self.pod(pod).template.index();
        let prio = self.templates[template].priority;
        *self.held_priorities.entry(prio).or_insert(0) += 1;
        self.pods_added(node, prio);
        if !self.topology.is_empty() {
            self.topology.pod_moved(template, node.index(), 1, true);
        }
        let p = self.pod_mut(pod);
        debug_assert!(p.phase == PodPhase::Pending && p.node.is_none());
        // Held until its binding is done (`Event::Bind`, see [`Self::unpin`]).
        p.pins = p.pins.saturating_add(1);
        p.node = Some(node);
        p.scheduled_at = Some(now);
        self.set_phase(pod, PodPhase::Bound);
    }

    /// A pending pod that already runs on `node` (a bare pod with `spec.nodeName` at the
    /// start of the run): its requests are placed there as [`Self::assume_pod`] does, and it
    /// is bound and Running at `now`, without a scheduling decision (`scheduled_at` stays
    /// `None`).
    pub fn place_running(&mut self, pod: PodId, node: NodeId, now: SimTime) {
        self.assume_pod(pod, node, now);
        self.unpin(pod);
        self.pod_mut(pod).scheduled_at = None;
        self.mark_bound(pod, now);
        self.mark_running(pod, now);
    }

    /// The binding API call completed: the kubelet on the node now sees the pod.
    pub fn mark_bound(&mut self, pod: PodId, now: SimTime) {
        self.pod_mut(pod).bound_at = Some(now);
        if let Some(node) = self.pod(pod).node {
            self.bump_pods(node.index());
        }
    }

    /// The kubelet started the pod's containers.
    pub fn mark_running(&mut self, pod: PodId, now: SimTime) {
        self.pod_mut(pod).running_at = Some(now);
        self.set_phase(pod, PodPhase::Running);
        if let Some(node) = self.pod(pod).node {
            self.bump_pods(node.index());
        }
    }

    /// Releases the pod's requests from its node, if it holds any.
    fn release(&mut self, pod: PodId) {
        let p = self.pod(pod);
        if !p.phase.holds_node() {
            return;
        }
        let Some(node) = p.node else { return };
        if !self.topology.is_empty() {
            self.topology.pod_moved(p.template.index(), node.index(), -1, p.phase != PodPhase::Terminating);
        }
        let p = self.pod(pod);
        let tmpl = &self.templates[p.template.index()];
        let (req, prio) = (tmpl.requests, tmpl.priority);
        self.gpu.release(pod.index(), node.index());
        let n = &mut self.nodes[node.index()];
        n.requested -= req.actual;
        n.non_zero_requested -= req.non_zero;
        n.generation = n.generation.wrapping_add(1);
        if n.ready {
            self.totals.requested -= req.actual;
        }
        self.refresh_room(node);
        let on_node = &mut self.node_pods[node.index()];
        if let Some(i) = on_node.iter().position(|&q| q == pod) {
            on_node.swap_remove(i);
        }
        if let Some(c) = self.held_priorities.get_mut(&prio) {
            *c -= 1;
            if *c == 0 {
                self.held_priorities.remove(&prio);
            }
        }
        self.pods_removed(node, prio);
    }

    fn owner_lost_pod(&mut self, pod: PodId) {
        if let Owner::Deployment(d) = self.pod(pod).owner {
            self.deployments[d.index()].live_pods -= 1;
        }
    }

    /// The pod's containers exited: `Succeeded` or `Failed` (a Terminating pod, whose
    /// object is being deleted, ends `Deleted`). Its resources are freed.
    pub fn finish_pod(&mut self, pod: PodId, phase: PodPhase, now: SimTime) {
        debug_assert!(phase.is_terminal());
        let was = self.pod(pod).phase;
        if was.is_terminal() {
            return;
        }
        self.release(pod);
        if was != PodPhase::Terminating {
            self.owner_lost_pod(pod);
        }
        self.pod_mut(pod).finished_at = Some(now);
        self.set_phase(pod, if was == PodPhase::Terminating { PodPhase::Deleted } else { phase });
    }

    /// Graceful deletion of a Running pod: it becomes Terminating, keeps its node's
    /// resources until [`Self::delete_pod`] ends it, and its owner stops counting it.
    /// Returns false (and does nothing) for a pod that is not Running.
    pub fn begin_termination(&mut self, pod: PodId, now: SimTime, reason: Option<DisruptionReason>) -> bool {
        if self.pod(pod).phase != PodPhase::Running {
            return false;
        }
        self.owner_lost_pod(pod);
        if !self.topology.is_empty()
            && let Some(node) = self.pod(pod).node
        {
            self.topology.pod_terminating(self.pod(pod).template.index(), node.index());
            // The node's requests stay (no `refresh_room`), but its live counts changed.
            self.touch_block(node.index());
        }
        let p = self.pod_mut(pod);
        p.terminating_at = Some(now);
        p.disruption = reason;
        self.set_phase(pod, PodPhase::Terminating);
        true
    }

    /// Deletes a pod that has not ended: a Pending pod is dropped by the scheduler when it
    /// surfaces, a bound, running or terminating one frees its node. Returns true when the
    /// pod held resources on a node (a cluster change for the scheduler). Deleting an ended
    /// pod does nothing.
    pub fn delete_pod(&mut self, pod: PodId, now: SimTime) -> bool {
        let phase = self.pod(pod).phase;
        if phase.is_terminal() {
            return false;
        }
        let held = phase.holds_node();
        if phase == PodPhase::Pending {
            self.pending_deleted_epoch += 1;
            // The scheduling queue (or the creation on its way to it) still holds the pod
            // until it surfaces there; see [`Self::unpin`].
            self.pin(pod);
        }
        let terminating = phase == PodPhase::Terminating;
        self.release(pod);
        if !terminating {
            self.owner_lost_pod(pod);
        }
        self.pod_mut(pod).finished_at = Some(now);
        self.set_phase(pod, PodPhase::Deleted);
        held
    }

    /// The machine fails: it stops running pods, but the API still shows it Ready until the
    /// node-lifecycle controller notices. Returns false if it was already down.
    pub fn fail_node(&mut self, node: NodeId) -> bool {
        let n = &mut self.nodes[node.index()];
        if !n.up {
            return false;
        }
        n.up = false;
        n.failures += 1;
        self.totals.nodes_down += 1;
        true
    }

    /// The machine is repaired (empty; the caller ends the pods it held) and reports Ready.
    pub fn repair_node(&mut self, node: NodeId) -> bool {
        if self.nodes[node.index()].up {
            return false;
        }
        self.nodes[node.index()].up = true;
        self.totals.nodes_down -= 1;
        self.set_node_ready(node, true);
        true
    }

    /// Cordons (true) or uncordons a node (`spec.unschedulable`).
    pub fn set_unschedulable(&mut self, node: NodeId, unschedulable: bool) {
        let n = &mut self.nodes[node.index()];
        n.unschedulable = unschedulable;
        n.generation = n.generation.wrapping_add(1);
        self.filter_epoch += 1;
        self.refresh_room(node);
    }

    /// Changes the node's Ready condition and the cluster totals that count Ready nodes.
    pub fn set_node_ready(&mut self, node: NodeId, ready: bool) {
        let n = &mut self.nodes[node.index()];
        if n.ready == ready {
            return;
        }
        n.ready = ready;
        n.generation = n.generation.wrapping_add(1);
        let (alloc, req) = (n.allocatable, n.requested);
        self.refresh_room(node);
        self.filter_epoch += 1;
        if ready {
            self.totals.allocatable_ready += alloc;
            self.totals.requested += req;
            self.totals.nodes_ready += 1;
        } else {
            self.totals.allocatable_ready -= alloc;
            self.totals.requested -= req;
            self.totals.nodes_ready -= 1;
        }
    }

    /// Pods holding resources on `node`, in pod order.
    pub fn pods_on_node(&self, node: NodeId) -> Vec<PodId> {
        let mut pods = self.node_pods[node.index()].clone();
        pods.sort_unstable();
        pods
    }

    /// Pods holding resources on `node`, in an order fixed by the run's history (no
    /// allocation; [`Self::pods_on_node`] gives pod order).
    pub fn pods_on_node_unordered(&self, node: NodeId) -> &[PodId] {
        &self.node_pods[node.index()]
    }

    /// Number of pods holding resources on `node`.
    pub fn pod_count_on_node(&self, node: NodeId) -> usize {
        self.node_pods[node.index()].len()
    }

    /// Number of pods holding resources on `node` other than DaemonSet pods: what a drain
    /// must move (`kubectl drain --ignore-daemonsets`; the cluster autoscaler's
    /// `GetPodsToMove` sets DaemonSet pods apart).
    pub fn pods_to_drain_on_node(&self, node: NodeId) -> usize {
        self.node_pods[node.index()].iter().filter(|&&p| !self.pod(p).owner.is_daemon_set()).count()
    }

    /// Recomputes every sum from the pods and compares with the maintained ones; returns
    /// a description of the first mismatch. Used by tests and debug checks.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut requested = vec![Resources::ZERO; self.nodes.len()];
        let mut non_zero = vec![Resources::ZERO; self.nodes.len()];
        let mut live = vec![0u32; self.deployments.len()];
        let mut on_node: Vec<Vec<PodId>> = vec![Vec::new(); self.nodes.len()];
        self.pods.check()?;
        let mut phases = self.released_in_phase;
        for (id, p) in self.pods.iter() {
            let i = id.index();
            if p.phase.is_terminal() && p.pins == 0 && self.release_ended && !self.released.contains(&id) {
                return Err(format!("pod {i} ended and nothing holds it, but it is still stored"));
            }
            phases[p.phase as usize] += 1;
            if p.phase.holds_node() {
                let Some(n) = p.node else {
                    return Err(format!("pod {i} is {} without a node", p.phase.name()));
                };
                let r = self.templates[p.template.index()].requests;
                requested[n.index()] += r.actual;
                non_zero[n.index()] += r.non_zero;
                on_node[n.index()].push(PodId(i as u32));
            } else if p.phase == PodPhase::Pending && p.node.is_some() {
                return Err(format!("pod {i} is Pending but has a node"));
            }
            if let Owner::Deployment(d) = p.owner
                && p.phase.is_active()
            {
                live[d.index()] += 1;
            }
        }
        let gpu_requested: Vec<i64> = requested.iter().map(|r| r.gpu_milli).collect();
        self.gpu.check(
            self.pods.iter().map(|(id, p)| {
                (
                    id.index(),
                    if p.phase.holds_node() { p.node.map(|n| n.index()) } else { None },
                    p.template.index(),
                )
            }),
            &gpu_requested,
        )?;
        if phases != self.totals.pods_in_phase {
            return Err(format!("phase counts {:?} != maintained {:?}", phases, self.totals.pods_in_phase));
        }
        if phases.iter().sum::<u64>() != self.totals.pods_created
            || self.pods.len() as u64 != self.totals.pods_created
            || self.pods.stored() as u64 + self.released_in_phase.iter().sum::<u64>()
                != self.totals.pods_created
        {
            return Err("pods created does not equal the sum over phases".into());
        }
        let mut total = Resources::ZERO;
        let mut alloc = Resources::ZERO;
        let mut ready = 0;
        for (i, n) in self.nodes.iter().enumerate() {
            if self.pods_on_node(NodeId(i as u32)) != on_node[i] {
                return Err(format!("node {i}: pod index differs from the pods bound to it"));
            }
            if n.removed_at.is_some() && (n.ready || !on_node[i].is_empty()) {
                return Err(format!("node {i} was removed but is Ready or holds pods"));
            }
            if n.requested != requested[i] || n.non_zero_requested != non_zero[i] {
                return Err(format!(
                    "node {i}: requested {:?} != sum over its pods {:?}",
                    n.requested, requested[i]
                ));
            }
            if !n.requested.fits_in(&n.allocatable) {
                return Err(format!(
                    "node {i}: requested {:?} exceeds allocatable {:?}",
                    n.requested, n.allocatable
                ));
            }
            if n.ready {
                total += n.requested;
                alloc += n.allocatable;
                ready += 1;
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let room = if n.ready {
                super::room::room_of(&n.allocatable, &n.requested)
            } else {
                super::room::NO_ROOM
            };
            if self.node_generation[i] != n.generation
                || (self.node_flags[i] & NODE_CORDONED != 0) != n.unschedulable
            {
                return Err(format!("node {i}: packed generation or flags differ from the node"));
            }
            let held = Self::held_room(n, &self.nominated_load[i]);
            let held_index = self.room_held.as_ref().unwrap_or(&self.room);
            if held_index.leaf(i) != held {
                return Err(format!("node {i}: held free-capacity index differs from the node"));
            }
            if self.room.leaf(i) != room {
                return Err(format!("node {i}: free-capacity index differs from the node"));
            }
            let min =
                self.node_pods[i].iter().map(|q| self.pod_template(*q).priority).min().unwrap_or(i32::MAX);
            if min != self.min_priority[i] {
                return Err(format!("node {i}: lowest pod priority {} != {min}", self.min_priority[i]));
            }
        }
        self.room.check_blocks()?;
        if let Some(h) = &self.room_held {
            h.check_blocks()?;
        }
        let held: u32 = self.held_priorities.values().sum();
        if u64::from(held) != self.node_pods.iter().map(|v| v.len() as u64).sum::<u64>() {
            return Err("priority counts differ from the node-holding pods".into());
        }
        if total != self.totals.requested
            || alloc != self.totals.allocatable_ready
            || ready != self.totals.nodes_ready
        {
            return Err("cluster totals differ from the sum over nodes".into());
        }
        for (i, d) in self.deployments.iter().enumerate() {
            if d.live_pods != live[i] {
                return Err(format!("deployment {i}: live pods {} != counted {}", d.live_pods, live[i]));
            }
        }
        if !self.topology.is_empty() {
            let holding: Vec<(usize, usize, bool)> = self
                .pods
                .iter()
                .map(|(_, p)| p)
                .filter(|p| p.phase.holds_node())
                .filter_map(|p| {
                    p.node.map(|n| (p.template.index(), n.index(), p.phase == PodPhase::Terminating))
                })
                .collect();
            let live_nodes: Vec<bool> = self.nodes.iter().map(|n| n.removed_at.is_none()).collect();
            self.topology.check(&holding, &live_nodes)?;
        }
        Ok(())
    }
}
