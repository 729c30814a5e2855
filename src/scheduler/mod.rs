//! kube-scheduler: the scheduling queue ([`queue`]), the filter and score plugins
//! ([`plugins`], pure functions with the upstream formulas), node sampling ([`sampling`])
//! and the scheduling cycle that ties them together (this file), after
//! `kubernetes/kubernetes:pkg/scheduler/schedule_one.go`.
//!
//! One pod at a time: pop the best pod, filter nodes starting at the rotating
//! `nextStartNodeIndex` until `numFeasibleNodesToFind` feasible nodes are found, score them,
//! pick the best (ties broken by a seeded stream, like upstream's reservoir sampling in
//! `selectHost`), assume the pod onto the node, and bind it after the cycle's cost. The
//! scheduler is busy for `perPod + perNodeExamined × examined` per attempt, which makes its
//! throughput finite.

pub mod draws;
pub mod explain;
pub mod gpu;
pub mod key_hash;
pub mod noise;
pub mod packed;
pub mod parallel;
pub mod plugins;
pub mod preemption;
pub mod queue;
pub mod sampling;
pub mod topology;
pub mod victim_memo;

use crate::cluster::{ClusterState, NodeId, PodId, PodPhase, ResourceName};
use crate::engine::{RngStream, SimDuration, SimTime};
use crate::sim::{Ctx, Event};
use plugins::fit::{ResourceWeight, ScoringStrategy};
use queue::{SchedulingQueue, UNSCHEDULABLE_FLUSH_PERIOD};

/// Resolved scheduler configuration (from the scenario's `scheduler` block).
#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    pub strategy: ScoringStrategy,
    pub fit_resources: Vec<ResourceWeight>,
    pub balanced_resources: Vec<ResourceName>,
    pub percentage_of_nodes_to_score: i64,
    pub initial_backoff: SimDuration,
    pub max_backoff: SimDuration,
    pub max_in_unschedulable: SimDuration,
    pub weight_taint_toleration: i64,
    pub weight_node_affinity: i64,
    pub weight_fit: i64,
    pub weight_balanced: i64,
    /// PodTopologySpread and InterPodAffinity score weights (upstream 2 and 2).
    pub weight_topology_spread: i64,
    pub weight_inter_pod_affinity: i64,
    pub cost_per_pod: SimDuration,
    pub cost_per_node: SimDuration,
    /// Machine noise on the cost: (sigma, period); `None` for none.
    pub cost_noise: Option<(f64, SimDuration)>,
    /// DefaultPreemption runs for pods no node fits (PostFilter).
    pub preemption: bool,
    /// Reference paths instead of the indexes: a linear filter scan, the plain dry run
    /// for every preemption. Same decisions, slower; for differential tests only (not a
    /// scenario field).
    pub plain: bool,
}

/// Counters the metrics read at the end of a run.
#[derive(Clone, Debug, Default)]
pub struct SchedulerStats {
    pub attempts: u64,
    pub unschedulable_attempts: u64,
    pub scheduled: u64,
    pub nodes_examined: u64,
    /// Scheduling attempts that ended in a preemption.
    pub preemptions: u64,
}

/// A feasible node with its plugin scores before normalisation.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    node: NodeId,
    /// Scored on a worker: its resource score was not memoised and is to be written to the
    /// memo after the parallel pass.
    fresh: bool,
    base: i64,
    taint_raw: i64,
    affinity_raw: i64,
}

/// Memoised resource score of one node for one template at one node generation.
#[derive(Clone, Copy, Debug)]
struct CachedScore {
    template: u32,
    generation: u32,
    base: i64,
}

const NO_TEMPLATE: u32 = u32::MAX;

/// At most this many cached resource scores per node (one per request class, modulo).
const SCORE_CACHE_MAX_WAYS: usize = 32;

/// The filters that depend on the node's state and labels but not on its pods: Ready and
/// not removed, NodeUnschedulable, TaintToleration and NodeAffinity (the node selector and
/// required affinity).
fn passes_label_filters(cluster: &ClusterState, id: NodeId, placement: &crate::cluster::Placement) -> bool {
    let n = cluster.node(id);
    n.ready
        && n.removed_at.is_none()
        && plugins::node_unschedulable::filter(n.unschedulable, &placement.tolerations)
        && plugins::taint_toleration::filter(cluster.node_taints(id), &placement.tolerations)
        && (placement.has_no_node_constraints()
            || plugins::node_affinity::filter(cluster.node_labels(id), placement))
}

/// The outcome of one scheduling attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub node: Option<NodeId>,
    pub examined: usize,
}

/// A decision with the GPU devices the pod gets on its node.
pub struct Placed {
    pub node: Option<NodeId>,
    pub examined: usize,
    /// The devices (by the GPU policy's pick, else the tightest); `None` without a node.
    pub devices: Option<crate::cluster::gpu::Assignment>,
}

pub struct Scheduler {
    pub cfg: SchedulerConfig,
    pub queue: SchedulingQueue,
    pub stats: SchedulerStats,
    busy: bool,
    next_start_node_index: usize,
    tie_rng: draws::TieDraws,
    backoff_wakeup: Option<SimTime>,
    flush_scheduled: bool,
    candidates: Vec<Candidate>,
    /// Scratch for the topology plugins' scores of the candidates.
    topology_scores: (Vec<NodeId>, Vec<i64>, Vec<i64>),
    /// Per node: the last NodeResourcesFit + BalancedAllocation weighted score computed.
    /// Both are pure functions of (node requests, allocatable, template), so a hit is
    /// exact; it saves the integer and float divisions that dominate the cycle.
    /// `score_ways` rows of `score_stride` entries (row w, node i at `w × stride + i`): one
    /// entry per node and class modulo the ways, so pods of a few alternating shapes keep
    /// each other's scores; a row is walked in node order like the candidates.
    score_cache: Vec<CachedScore>,
    score_ways: usize,
    score_stride: usize,
    /// Per template: the first template with the same requests (the resource scores depend
    /// on nothing else of it), the key of `score_cache`.
    score_class: Vec<u32>,
    /// Pods whose last attempt failed (PodScheduled=False, reason Unschedulable), pruned
    /// lazily; what the cluster autoscaler lists.
    unschedulable_pods: std::collections::BTreeSet<PodId>,
    /// Each Deployment's PodDisruptionBudget `minAvailable` (preemption respects it).
    pub min_available: Vec<Option<u32>>,
    /// Preemptors and the node each was nominated to (`status.nominatedNodeName`), with
    /// their priority and requests.
    nominated_on: Vec<Vec<(PodId, i32, crate::cluster::Resources)>>,
    /// Each nominated pod's node.
    nominated_of: std::collections::BTreeMap<PodId, NodeId>,
    /// The nodes preemption may consider for a template, and the (template, filter epoch)
    /// they were computed for.
    preempt_nodes: Vec<NodeId>,
    preempt_nodes_key: Option<(u32, u64)>,
    /// Priorities of the entries of `nominated_on`, with their counts.
    nominated_priorities: std::collections::BTreeMap<i32, u32>,
    /// Nodes whose nominated list changed since their load was last given to the cluster.
    nominated_dirty: Vec<NodeId>,
    /// `ClusterState::pending_deleted_epoch` when the lists were last pruned.
    pending_deleted_seen: u64,
    /// The streamed preemption dry run's memo, per node and per block of nodes.
    victims: victim_memo::VictimMemo,
    /// Machine noise on the cycle cost, if configured.
    noise: Option<noise::CostNoise>,
    /// Record every attempt (`--explain`): [`CycleOutcome::attempt`].
    pub explain: bool,
    /// Some template's PodTopologySpread or InterPodAffinity rules can reject a node: a
    /// bound pod may then help unschedulable pods ([`Scheduler::on_pod_assigned`]).
    pub topology_filters: bool,
    /// The last attempt's walk over the nodes and its candidates' scores (with `explain`).
    walk: explain::Walk,
    /// The GPU-sharing score policy (`scheduler.gpuSharing`), if any.
    pub gpu: Option<gpu::GpuScoring>,
    /// Scratch for the GPU policy: the candidates and their weighted scores.
    gpu_scratch: (Vec<NodeId>, Vec<i64>),
    /// Worker threads for the score work of attempts with many candidates (`--threads`);
    /// the decisions do not depend on them.
    pub workers: parallel::Workers,
    /// Attempts that qualify take the packed cycle ([`packed`]); off only in tests that
    /// compare it with the generic one (same decisions).
    pub packed_path: bool,
    /// Attempts that took the packed cycle (for tests; no output reads it).
    pub packed_attempts: u64,
    /// Scratch of the packed cycle.
    packed: packed::Packed,
}

impl Scheduler {
    /// Whole blocks of candidates the packed cycle scored by their states (for tests; no
    /// output reads it).
    pub fn packed_blocks(&self) -> u64 {
        self.packed.by_state
    }

    /// Whole blocks of nodes the streamed preemption dry run took from their summaries (for
    /// tests; no output reads it).
    pub fn preemption_blocks(&self) -> u64 {
        self.victims.blocks_taken
    }
}

/// What a failed attempt writes through the API (upstream `handleSchedulingFailure`,
/// `pkg/scheduler/schedule_one.go`): a `FailedScheduling` event and, through `updatePod`, a
/// pod status patch when the `PodScheduled` condition changes or a preemption sets a new
/// `nominatedNodeName`. Counted here as the lower bound: the condition changes on the
/// pod's first failure only (upstream also patches when the condition's message changes,
/// e.g. its node counts), and the event is created once per pod (the events library folds
/// later isomorphic events into the first one's series).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureUpdate {
    pub pod: PodId,
    /// The pod's first failure: the condition changes and the event is created.
    pub first: bool,
}

/// What one `Event::ScheduleNext` leaves for the simulation to carry out.
#[derive(Debug, Default)]
pub struct CycleOutcome {
    /// The pods a preemption chose to evict (the caller deletes them).
    pub victims: Vec<PodId>,
    /// What a failed attempt writes through the API, if anything.
    pub failure: Option<FailureUpdate>,
    /// With `explain`: the attempt's record.
    pub attempt: Option<explain::Attempt>,
    /// The pod attempted and whether it got a node.
    pub attempted: Option<(PodId, bool)>,
    /// The pod failed and gives up (`PodTemplate::give_up_unschedulable`): the caller
    /// deletes it; it is in no queue.
    pub gave_up: Option<PodId>,
}

impl Scheduler {
    /// Spreads the scheduling work of a run over threads ([`parallel::Threads`]): the
    /// tie-break stream generated ahead ([`draws`]), the chunked scoring of attempts with
    /// thousands of candidates ([`parallel::Workers`]). The decisions are the same at any
    /// count. Fails only if the OS refuses the threads.
    pub fn use_threads(&mut self, threads: parallel::Threads) -> Result<(), String> {
        if threads.draws_ahead() {
            self.tie_rng.go_ahead()?;
        }
        self.workers = parallel::Workers::with_threads(threads.scoring())?;
        Ok(())
    }

    pub fn new(cfg: SchedulerConfig, tie_rng: RngStream) -> Self {
        let queue = SchedulingQueue::new(cfg.initial_backoff, cfg.max_backoff, cfg.max_in_unschedulable);
        Scheduler {
            cfg,
            queue,
            stats: SchedulerStats::default(),
            busy: false,
            next_start_node_index: 0,
            tie_rng: draws::TieDraws::here(tie_rng),
            backoff_wakeup: None,
            flush_scheduled: false,
            candidates: Vec::new(),
            topology_scores: (Vec::new(), Vec::new(), Vec::new()),
            score_cache: Vec::new(),
            score_ways: 1,
            score_stride: 0,
            score_class: Vec::new(),
            unschedulable_pods: std::collections::BTreeSet::new(),
            min_available: Vec::new(),
            nominated_on: Vec::new(),
            nominated_of: std::collections::BTreeMap::new(),
            preempt_nodes: Vec::new(),
            preempt_nodes_key: None,
            victims: victim_memo::VictimMemo::default(),
            nominated_priorities: std::collections::BTreeMap::new(),
            nominated_dirty: Vec::new(),
            pending_deleted_seen: 0,
            noise: None,
            explain: false,
            walk: explain::Walk::default(),
            topology_filters: false,
            gpu: None,
            gpu_scratch: (Vec::new(), Vec::new()),
            workers: parallel::Workers::sequential(),
            packed_path: true,
            packed_attempts: 0,
            packed: packed::Packed::default(),
        }
    }

    /// Turns on `cfg.cost_noise` for a run with seed `seed` (its factors come from the
    /// `stream` key).
    pub fn with_noise(mut self, seed: u64, stream: crate::engine::StreamId) -> Self {
        self.noise =
            self.cfg.cost_noise.map(|(sigma, period)| noise::CostNoise::new(sigma, period, seed, stream));
        self
    }

    /// A new pod was created: it enters activeQ.
    pub fn enqueue(&mut self, cluster: &ClusterState, pod: PodId, ctx: &mut Ctx) {
        let prio = cluster.pod_template(pod).priority;
        self.queue.push_active(pod, prio, ctx.now);
        self.wake(ctx);
    }

    /// Something changed that may let unschedulable pods fit (a pod freed resources, a
    /// node was added): upstream `MoveAllToActiveOrBackoffQueue`.
    pub fn on_cluster_change(&mut self, cluster: &ClusterState, ctx: &mut Ctx) {
        if self.queue.unschedulable_len() == 0 {
            return;
        }
        self.queue.move_all_to_active_or_backoff(ctx.now, backoff_state(cluster));
        self.arm_backoff_wakeup(ctx);
        self.wake(ctx);
    }

    /// A pod's binding took effect (the scheduler's informer sees it assigned): upstream
    /// `AssignedPodAdded`, which moves the unschedulable pods this pod may help, by the
    /// queueing hints of PodTopologySpread (`podtopologyspread/plugin.go`
    /// `isSchedulableAfterPodChange`: the pod matches a constraint's selector) and
    /// InterPodAffinity (`interpodaffinity/plugin.go` `isSchedulableAfterPodChange`: the pod
    /// matches a required affinity term). Only pods whose own rules can reject a node are
    /// considered: an added pod never helps the other filters (a deleted pod frees
    /// resources: [`Scheduler::on_cluster_change`]).
    pub fn on_pod_assigned(&mut self, cluster: &ClusterState, pod: PodId, ctx: &mut Ctx) {
        if self.queue.unschedulable_len() == 0 || !self.topology_filters {
            return;
        }
        let assigned = cluster.pod(pod).template.index();
        let ix = &cluster.topology;
        let helps = |p: PodId| {
            let Some(r) = cluster.topology_rules.get(cluster.pod(p).template.index()) else { return false };
            r.spread.iter().any(|s| s.hard && ix.is_member(s.set, assigned))
                || r.affinity.iter().any(|t| ix.is_member(t.set, assigned))
        };
        self.queue.move_to_active_or_backoff_if(ctx.now, helps, backoff_state(cluster));
        self.arm_backoff_wakeup(ctx);
        self.wake(ctx);
    }

    /// `Event::FlushUnschedulable`.
    pub fn on_flush(&mut self, cluster: &ClusterState, ctx: &mut Ctx) {
        self.flush_scheduled = false;
        self.queue.flush_unschedulable_leftover(ctx.now, backoff_state(cluster));
        self.arm_backoff_wakeup(ctx);
        self.arm_flush(ctx);
        self.wake(ctx);
    }

    /// `Event::BackoffExpired`.
    pub fn on_backoff_expired(&mut self, ctx: &mut Ctx) {
        self.backoff_wakeup = None;
        self.queue.flush_backoff_completed(ctx.now);
        self.arm_backoff_wakeup(ctx);
        self.wake(ctx);
    }

    /// `Event::ScheduleNext`: the scheduler is free; try the next pod.
    pub fn on_schedule_next(&mut self, cluster: &mut ClusterState, ctx: &mut Ctx) -> CycleOutcome {
        let mut out = CycleOutcome::default();
        self.busy = false;
        self.queue.flush_backoff_completed(ctx.now);
        let pod = loop {
            match self.queue.pop_active() {
                None => {
                    self.arm_backoff_wakeup(ctx);
                    return out;
                }
                Some(p) => {
                    let pod = cluster.pod(p);
                    if pod.phase == PodPhase::Pending {
                        break p;
                    }
                    // Deleted while queued: the queue no longer holds it.
                    cluster.unpin(p);
                }
            }
        };
        let decision = self.schedule_one(cluster, pod, ctx.now);
        let mut attempt = self
            .explain
            .then(|| self.explain_attempt(cluster, pod, ctx.now, decision.node, decision.examined));
        let mut cost =
            self.cfg.cost_per_pod + self.cfg.cost_per_node.saturating_mul(decision.examined as u64);
        if let Some(n) = &mut self.noise {
            cost = n.scale(cost, ctx.now);
        }
        match decision.node {
            Some(node) => {
                self.unschedulable_pods.remove(&pod);
                if !self.nominated_of.is_empty() {
                    // Bound: its nomination is over.
                    self.clear_nomination(cluster, pod);
                }
                cluster.assume_pod_on(pod, node, decision.devices, ctx.now);
                ctx.after(cost, Event::Bind { pod, node });
                out.attempted = Some((pod, true));
            }
            None if cluster.pod_template(pod).give_up_unschedulable => {
                self.unschedulable_pods.remove(&pod);
                out.attempted = Some((pod, false));
                out.gave_up = Some(pod);
            }
            None => {
                out.attempted = Some((pod, false));
                cluster.set_last_failure(pod, ctx.now);
                // PodScheduled turns False on the first failure (until the pod is bound).
                let first = self.unschedulable_pods.insert(pod);
                let prio = cluster.pod_template(pod).priority;
                self.queue.add_unschedulable(pod, prio, ctx.now);
                self.arm_flush(ctx);
                if self.cfg.preemption && self.eligible_to_preempt(cluster, pod) {
                    out.victims = self.preempt(cluster, pod);
                    self.stats.preemptions += u64::from(!out.victims.is_empty());
                }
                if first || !out.victims.is_empty() {
                    out.failure = Some(FailureUpdate { pod, first });
                }
                if let Some(a) = &mut attempt
                    && !out.victims.is_empty()
                {
                    a.nominated = self.nominated_of.get(&pod).map(|&n| (n, out.victims.len()));
                }
            }
        }
        out.attempt = attempt;
        self.busy = true;
        ctx.after(cost, Event::ScheduleNext);
        out
    }

    /// [`nominated_load_of`] of this scheduler's nominations.
    fn nominated_load(
        &self,
        cluster: &ClusterState,
        node: usize,
        except: Option<PodId>,
        priority: i32,
    ) -> crate::cluster::Resources {
        nominated_load_of(&self.nominated_on, cluster, node, except, priority)
    }

    /// The free milli of `node`'s GPU devices with the Pending pods nominated to it (other
    /// than `except`, of at least `priority`) holding theirs by the default pick, as the
    /// device filter sees the node when upstream adds those pods before running the filters
    /// (`RunFilterPluginsWithNominatedPods`).
    fn devices_with_nominated(
        &self,
        cluster: &ClusterState,
        node: usize,
        except: Option<PodId>,
        priority: i32,
    ) -> Vec<u16> {
        let mut free = cluster.gpu.node_free(node).to_vec();
        for &(q, p, _) in self.nominated_on.get(node).map_or(&[][..], Vec::as_slice) {
            if Some(q) != except && p >= priority && cluster.is_pending(q) {
                let demand = cluster.gpu.template(cluster.pod(q).template.index()).demand;
                crate::cluster::gpu::take_default(&mut free, demand);
            }
        }
        free
    }

    /// The device filter for a pod of `template` on `node`, with the nominated pods of at
    /// least `priority` (other than `except`) holding their devices there.
    fn gpu_fits(
        &self,
        cluster: &ClusterState,
        node: usize,
        template: usize,
        except: PodId,
        priority: i32,
    ) -> bool {
        if self.nominated_on.get(node).is_none_or(Vec::is_empty) {
            return cluster.gpu.fits(node, template);
        }
        let free = self.devices_with_nominated(cluster, node, Some(except), priority);
        cluster.gpu.template(template).demand.is_some_and(|d| crate::cluster::gpu::can_host(&free, d))
    }

    /// Ends `pod`'s nomination, and those of pods on the same node that are no longer
    /// Pending (bound elsewhere or deleted).
    fn clear_nomination(&mut self, cluster: &ClusterState, pod: PodId) {
        let Some(node) = self.nominated_of.remove(&pod) else { return };
        let noms = &mut self.nominated_on[node.index()];
        let mut gone = Vec::new();
        noms.retain(|&(q, prio, _)| {
            let keep = q != pod && cluster.is_pending(q);
            if !keep {
                gone.push((q, prio));
            }
            keep
        });
        let listed = !noms.is_empty();
        self.victims.set_nominated(node.index(), listed);
        for (q, prio) in gone {
            if q != pod {
                self.nominated_of.remove(&q);
            }
            self.forget_nominated_priority(prio);
        }
        self.nominated_dirty.push(node);
    }

    fn forget_nominated_priority(&mut self, prio: i32) {
        if let Some(c) = self.nominated_priorities.get_mut(&prio) {
            *c -= 1;
            if *c == 0 {
                self.nominated_priorities.remove(&prio);
            }
        }
    }

    /// Gives the cluster each changed node's nominated load (requests of its Pending
    /// nominated pods), after dropping the entries of pods deleted while Pending.
    fn sync_nominated_loads(&mut self, cluster: &mut ClusterState) {
        if cluster.pending_deleted_epoch != self.pending_deleted_seen {
            self.pending_deleted_seen = cluster.pending_deleted_epoch;
            let stale: Vec<PodId> =
                self.nominated_of.keys().copied().filter(|&q| !cluster.is_pending(q)).collect();
            for q in stale {
                self.clear_nomination(cluster, q);
            }
        }
        while let Some(node) = self.nominated_dirty.pop() {
            let load = self.nominated_load(cluster, node.index(), None, i32::MIN);
            cluster.set_nominated_load(node, load);
        }
    }

    /// Upstream `PodEligibleToPreemptOthers`
    /// (`pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go`, called
    /// by `Evaluator.Preempt` in `pkg/scheduler/framework/preemption/preemption.go`): a pod
    /// still nominated to a node where a lower-priority pod is Terminating because the
    /// scheduler preempted it (`podTerminatingByPreemption`: deletion timestamp and
    /// `DisruptionTarget` reason `PreemptionByScheduler`) waits for it instead of preempting
    /// again, unless the filters now reject that node for good (NotReady, cordoned, taints,
    /// node affinity: `UnschedulableAndUnresolvable`). Its nomination stays either way.
    fn eligible_to_preempt(&self, cluster: &ClusterState, pod: PodId) -> bool {
        let tmpl = cluster.pod_template(pod);
        let nominated =
            self.nominated_of.get(&pod).copied().filter(|&n| cluster.node(n).removed_at.is_none());
        let Some(node) = nominated else {
            return preemption::eligible_to_preempt_others(tmpl.preempt_never, tmpl.priority, None);
        };
        let n = cluster.node(node);
        let placement = &tmpl.placement;
        let unresolvable = !n.ready
            || !plugins::node_unschedulable::filter(n.unschedulable, &placement.tolerations)
            || !plugins::taint_toleration::filter(cluster.node_taints(node), &placement.tolerations)
            || !(placement.has_no_node_constraints()
                || plugins::node_affinity::filter(cluster.node_labels(node), placement));
        let pods: Vec<(i32, bool)> = cluster
            .pods_on_node_unordered(node)
            .iter()
            .map(|&q| {
                let p = cluster.pod(q);
                let by_preemption = p.phase == PodPhase::Terminating
                    && p.disruption == Some(crate::cluster::DisruptionReason::PreemptionByScheduler);
                (cluster.pod_template(q).priority, by_preemption)
            })
            .collect();
        preemption::eligible_to_preempt_others(tmpl.preempt_never, tmpl.priority, Some((unresolvable, &pods)))
    }

    /// DefaultPreemption's PostFilter (`framework/preemption/preemption.go` `Preempt`): the
    /// nodes that pass every filter but resource fit are dry-run from a random offset
    /// ([`preemption::dry_run_preemption`], at least 10 % / 100 of them), the best
    /// candidate is picked ([`preemption::pick_one_node`]) and its victims returned. The
    /// preemptor is nominated to the node and stays unschedulable until the victims'
    /// deletion (after their graceful termination, if any) moves it back.
    fn preempt(&mut self, cluster: &ClusterState, pod: PodId) -> Vec<PodId> {
        let tmpl = cluster.pod_template(pod);
        if tmpl.preempt_never {
            return Vec::new();
        }
        let (prio, req) = (tmpl.priority, tmpl.requests.actual);
        let placement = &tmpl.placement;
        let passes = |id: NodeId| passes_label_filters(cluster, id, placement);
        let template_id = cluster.pod(pod).template.0;
        // A DaemonSet pod's only candidate is its own node (the other nodes fail its
        // `metadata.name` node affinity: UnschedulableAndUnresolvable).
        let pinned = cluster.pod(pod).required_node();
        let nodes: Vec<NodeId> = match pinned {
            Some(node) => passes(node).then_some(node).into_iter().collect(),
            None => {
                // The nodes that pass every filter but resource fit depend only on the
                // template and on which nodes are Ready, cordoned or removed: kept until
                // either changes.
                if self.preempt_nodes_key != Some((template_id, cluster.filter_epoch)) {
                    self.preempt_nodes =
                        (0..cluster.nodes.len() as u32).map(NodeId).filter(|&id| passes(id)).collect();
                    self.preempt_nodes_key = Some((template_id, cluster.filter_epoch));
                }
                std::mem::take(&mut self.preempt_nodes)
            }
        };
        let rules = cluster.topology_rules.get(template_id as usize).filter(|r| r.has_filters());
        let victims = match rules {
            Some(rules) => {
                // PodTopologySpread / InterPodAffinity: nodes they reject for good
                // (UnschedulableAndUnresolvable) are not candidates, and the dry run re-runs
                // them with the victims off the node.
                let cycle = topology::Cycle::new(cluster, crate::cluster::TemplateId(template_id), rules);
                let candidates: Vec<NodeId> = nodes
                    .iter()
                    .copied()
                    .filter(|&n| !matches!(cycle.filter(n), Err(r) if r.is_unresolvable()))
                    .collect();
                self.preempt_on(cluster, pod, prio, req, &candidates, Some(&cycle))
            }
            None => self.preempt_on(cluster, pod, prio, req, &nodes, None),
        };
        if pinned.is_none() {
            self.preempt_nodes = nodes;
        }
        victims
    }

    fn preempt_on(
        &mut self,
        cluster: &ClusterState,
        pod: PodId,
        prio: i32,
        req: crate::cluster::Resources,
        nodes: &[NodeId],
        cycle: Option<&topology::Cycle>,
    ) -> Vec<PodId> {
        use preemption::{NodeState, VictimPod};
        if nodes.is_empty() {
            return Vec::new();
        }
        let has_pdbs = self.min_available.iter().any(Option::is_some);
        // PodDisruptionBudgets: allowed disruptions per Deployment = Running pods − minAvailable.
        let mut allowed: Vec<i64> = vec![i64::MAX; self.min_available.len()];
        if has_pdbs {
            let mut running = vec![0i64; self.min_available.len()];
            for (_, p) in cluster.pods.iter() {
                if let crate::cluster::Owner::Deployment(d) = p.owner
                    && p.phase == PodPhase::Running
                    && d.index() < running.len()
                {
                    running[d.index()] += 1;
                }
            }
            for (d, m) in self.min_available.iter().enumerate() {
                if let Some(m) = m {
                    allowed[d] = running[d] - i64::from(*m);
                }
            }
        }
        let min_available = &self.min_available;
        let victim = |q: PodId| {
            let p = cluster.pod(q);
            let t = cluster.pod_template(q);
            let pdb = match p.owner {
                crate::cluster::Owner::Deployment(d)
                    if min_available.get(d.index()).is_some_and(Option::is_some) =>
                {
                    Some(d.index())
                }
                _ => None,
            };
            let start = p.running_at.or(p.bound_at).or(p.scheduled_at).unwrap_or(p.created_at);
            VictimPod {
                id: q.0,
                priority: t.priority,
                requests: t.requests.actual,
                start_time_ns: start.0,
                pdb,
            }
        };
        let info = |id: u32| {
            let v = victim(PodId(id));
            (v.priority, v.start_time_ns)
        };
        let k = preemption::num_candidates(
            nodes.len(),
            preemption::MIN_CANDIDATE_NODES_PERCENTAGE,
            preemption::MIN_CANDIDATE_NODES_ABSOLUTE,
        );
        let offset = self.tie_rng.uniform_below(nodes.len() as u64) as usize;
        // No pod anywhere has a lower priority: every node's dry run finds nothing.
        if !self.cfg.plain && !cluster.any_pod_below_priority(prio) {
            return Vec::new();
        }
        // A GPU pod's dry run also re-runs the device filter with the victims' devices given
        // back, as upstream re-runs every filter after each RemovePod / AddPod.
        let gpu = match cluster
            .gpu
            .any_devices()
            .then(|| cluster.gpu.template(cluster.pod(pod).template.index()))
        {
            Some(t) if t.wants_gpu() => match t.demand {
                Some(d) => Some(d),
                // No device layout holds it: no eviction helps.
                None => return Vec::new(),
            },
            _ => None,
        };
        let mut pods: Vec<VictimPod> = Vec::new();
        let chosen: Option<(NodeId, Vec<u32>)> =
            if has_pdbs || self.cfg.plain || cycle.is_some() || gpu.is_some() {
                // Budgets change as pods start and stop: the plain dry run.
                let candidates = preemption::dry_run_preemption(nodes.len(), offset, k, |i| {
                    let n = cluster.node(nodes[i]);
                    let on_node = cluster.pods_on_node_unordered(nodes[i]);
                    // Nothing of lower priority on the node: nothing to preempt.
                    let lowest = if self.cfg.plain {
                        on_node.iter().map(|&q| cluster.pod_template(q).priority).min().unwrap_or(i32::MAX)
                    } else {
                        cluster.min_priorities()[nodes[i].index()]
                    };
                    if lowest >= prio {
                        return None;
                    }
                    pods.clear();
                    pods.extend(on_node.iter().map(|&q| victim(q)));
                    let requested =
                        n.requested + self.nominated_load(cluster, nodes[i].index(), Some(pod), prio);
                    let state = NodeState { allocatable: n.allocatable, requested, pods: &pods };
                    match (cycle, gpu) {
                        (None, None) => preemption::select_victims_on_node(prio, &req, &state, &allowed),
                        _ => {
                            let node = nodes[i];
                            let mut others = |removed: &[usize]| {
                                if let Some(d) = gpu {
                                    let mut free =
                                        self.devices_with_nominated(cluster, node.index(), Some(pod), prio);
                                    for &k in removed {
                                        cluster.gpu.assignment(on_node[k].index()).release(&mut free);
                                    }
                                    if !crate::cluster::gpu::can_host(&free, d) {
                                        return false;
                                    }
                                }
                                let Some(c) = cycle else { return true };
                                let off: Vec<(usize, usize, bool)> = removed
                                    .iter()
                                    .map(|&k| {
                                        let q = on_node[k];
                                        let p = cluster.pod(q);
                                        (p.template.index(), node.index(), p.phase == PodPhase::Terminating)
                                    })
                                    .collect();
                                c.filter_with(node, &off).is_ok()
                            };
                            preemption::select_victims_on_node_with(
                                prio,
                                &req,
                                &state,
                                &allowed,
                                Some(&mut others),
                            )
                        }
                    }
                });
                preemption::pick_one_node(&candidates, info).and_then(|chosen| {
                    candidates.into_iter().find(|(i, _)| *i == chosen).map(|(i, v)| (nodes[i], v.pods))
                })
            } else {
                // The same dry run and pick, streamed and memoised (`victim_memo`).
                let p = victim_memo::Preemptor {
                    pod,
                    priority: prio,
                    requests: req,
                    k,
                    allowed: &allowed,
                    nominated_on: &self.nominated_on,
                    any_nominated: !self.nominated_of.is_empty(),
                };
                self.victims.walk(cluster, nodes, offset, &p, &victim)
            };
        let Some((node, victims)) = chosen else { return Vec::new() };
        let victims: Vec<PodId> = victims.into_iter().map(PodId).collect();
        if !victims.is_empty() {
            // The preemptor is nominated to the node: lower-priority pods cannot take the
            // space its victims free.
            self.clear_nomination(cluster, pod);
            if self.nominated_on.len() <= node.index() {
                self.nominated_on.resize(node.index() + 1, Vec::new());
            }
            self.nominated_on[node.index()].push((pod, prio, req));
            self.victims.set_nominated(node.index(), true);
            self.nominated_of.insert(pod, node);
            *self.nominated_priorities.entry(prio).or_insert(0) += 1;
            self.nominated_dirty.push(node);
        }
        victims
    }

    /// Pending pods whose last scheduling attempt failed, in pod order (upstream: pods with
    /// condition PodScheduled=False, reason Unschedulable).
    pub fn unschedulable_pods(&mut self, cluster: &ClusterState) -> Vec<PodId> {
        self.unschedulable_pods.retain(|p| cluster.pod(*p).phase == PodPhase::Pending);
        self.unschedulable_pods.iter().copied().collect()
    }

    /// Starts a cycle now if the scheduler is idle and has work.
    fn wake(&mut self, ctx: &mut Ctx) {
        if !self.busy && self.queue.active_len() > 0 {
            self.busy = true;
            ctx.after(SimDuration::ZERO, Event::ScheduleNext);
        }
    }

    fn arm_backoff_wakeup(&mut self, ctx: &mut Ctx) {
        if let Some(t) = self.queue.next_backoff_expiry()
            && self.backoff_wakeup.is_none_or(|w| t < w)
        {
            self.backoff_wakeup = Some(t);
            ctx.at(t, Event::BackoffExpired);
        }
    }

    fn arm_flush(&mut self, ctx: &mut Ctx) {
        if !self.flush_scheduled && self.queue.unschedulable_len() > 0 {
            self.flush_scheduled = true;
            ctx.after(UNSCHEDULABLE_FLUSH_PERIOD, Event::FlushUnschedulable);
        }
    }

    /// One scheduling attempt for `pod` against the current cluster: filters with
    /// sampling, scores, selects. Does not change the cluster.
    pub fn schedule_one(&mut self, cluster: &mut ClusterState, pod: PodId, _now: SimTime) -> Placed {
        self.stats.attempts += 1;
        cluster.count_attempt(pod);
        self.sync_nominated_loads(cluster);
        let decision = self.find_node(cluster, pod);
        self.stats.nodes_examined += decision.examined as u64;
        if decision.node.is_some() {
            self.stats.scheduled += 1;
        } else {
            self.stats.unschedulable_attempts += 1;
        }
        let template = cluster.pod(pod).template.index();
        let devices = decision.node.and_then(|node| match &mut self.gpu {
            Some(g) => g.devices(cluster, template, node.index()),
            None => cluster.gpu.tightest(node.index(), template),
        });
        Placed { node: decision.node, examined: decision.examined, devices }
    }

    /// The score memo's key for the pod of `template_id` (its request class) and the start
    /// of its row, sized for `n` nodes (grown, and cleared, as templates and nodes come).
    fn score_row(&mut self, cluster: &ClusterState, template_id: u32, n: usize) -> (u32, usize) {
        if self.score_class.len() < cluster.templates.len() {
            // Each template's class: templates with the same requests share one (numbered
            // densely in order of first appearance; a hash lookup each, so a million trace
            // shapes cost a million lookups, not 10¹² compares).
            let mut first: std::collections::HashMap<crate::cluster::PodRequests, u32> =
                std::collections::HashMap::with_capacity(cluster.templates.len());
            self.score_class = (0..cluster.templates.len())
                .map(|t| {
                    let next = first.len() as u32;
                    *first.entry(cluster.templates[t].requests).or_insert(next)
                })
                .collect();
            let ways = first.len().next_power_of_two().clamp(1, SCORE_CACHE_MAX_WAYS);
            if ways != self.score_ways {
                self.score_ways = ways;
                self.score_cache.clear();
            }
        }
        let ways = self.score_ways;
        if self.score_stride < n || self.score_cache.len() < self.score_stride * ways {
            self.score_stride = self.score_stride.max(n).max(n + n / 4);
            self.score_cache.clear();
            self.score_cache.resize(
                self.score_stride * ways,
                CachedScore { template: NO_TEMPLATE, generation: 0, base: 0 },
            );
        }
        let class = self.score_class[template_id as usize];
        (class, (class as usize & (ways - 1)) * self.score_stride)
    }

    fn find_node(&mut self, cluster: &ClusterState, pod: PodId) -> Decision {
        let n = cluster.nodes.len();
        if n == 0 {
            return Decision { node: None, examined: 0 };
        }
        let template_id = cluster.pod(pod).template.0;
        let tmpl = cluster.pod_template(pod);
        let req = tmpl.requests;
        let placement = &tmpl.placement;
        // PodTopologySpread and InterPodAffinity, when this template has rules.
        let cycle = cluster
            .topology_rules
            .get(template_id as usize)
            .filter(|r| r.has_filters() || r.has_scores())
            .map(|r| topology::Cycle::new(cluster, crate::cluster::TemplateId(template_id), r));
        let topo_filters =
            cycle.as_ref().is_some_and(|_| cluster.topology_rules[template_id as usize].has_filters());
        // The GPU devices filter (a share on one device, whole GPUs on wholly free ones).
        let gpu_filter = cluster.gpu.any_devices() && cluster.gpu.template(template_id as usize).wants_gpu();
        // PreferNominatedNode (GA in 1.24, `schedule_one.go` `evaluateNominatedNode`): a pod
        // nominated by an earlier preemption tries that node first and takes it if it passes
        // the filters (with the other nominated pods of at least its priority held there).
        // One node through every filter, with the other nominated pods of at least this
        // pod's priority held there.
        let feasible = |node: NodeId| {
            let nd = cluster.node(node);
            let held = nd.requested + self.nominated_load(cluster, node.index(), Some(pod), tmpl.priority);
            passes_label_filters(cluster, node, placement)
                && plugins::fit::fits(&req.actual, &nd.allocatable, &held)
                && (!gpu_filter
                    || self.gpu_fits(cluster, node.index(), template_id as usize, pod, tmpl.priority))
                && (!topo_filters || cycle.as_ref().is_none_or(|c| c.filter(node).is_ok()))
        };
        let nominated = self.nominated_of.get(&pod).copied().filter(|&node| feasible(node));
        // A DaemonSet pod: NodeAffinity's PreFilter narrows the nodes to the one its
        // `metadata.name` affinity names, and only that node is filtered (`schedule_one.go`
        // `findNodesThatFitPod` with a `PreFilterResult`; `nextStartNodeIndex` moves on by the
        // nodes processed). A single feasible node is taken without scoring.
        let pinned = cluster.pod(pod).required_node().map(|node| (node, feasible(node)));
        if let Some(node) = nominated {
            if self.explain {
                self.walk = explain::Walk { only_node: Some(node), ..explain::Walk::default() };
            }
            return Decision { node: Some(node), examined: 1 };
        }
        if let Some((node, ok)) = pinned {
            if cluster.node(node).removed_at.is_some() {
                if self.explain {
                    self.walk = explain::Walk::default();
                }
                return Decision { node: None, examined: 0 };
            }
            self.next_start_node_index = (self.next_start_node_index % n + 1) % n;
            if self.explain {
                self.walk = explain::Walk { only_node: Some(node), ..explain::Walk::default() };
            }
            return Decision { node: ok.then_some(node), examined: 1 };
        }
        let no_label_constraints = placement.has_no_node_constraints();
        // Removed nodes (cluster-autoscaler scale-down) keep their ids but are not in the
        // scheduler's snapshot: they are skipped and not counted.
        let live = n - cluster.totals.nodes_removed as usize;
        let want = sampling::num_feasible_nodes_to_find(live, self.cfg.percentage_of_nodes_to_score);

        // Filter (schedule_one.go findNodesThatPassFilters): stop at `want` feasible nodes.
        self.candidates.clear();
        let start = self.next_start_node_index % n;
        // No Ready node has the room: the loop below would examine every live node and find
        // none (same count, same next start index), so skip it.
        // Held mode: the pod is not nominated and no nominated pod has a lower priority, so
        // every nominated pod holds its place on its node for it, and the index with the
        // nominated loads held answers the whole fit filter.
        let plain = self.cfg.plain;
        let held_mode = !plain
            && !self.nominated_of.contains_key(&pod)
            && self.nominated_priorities.first_key_value().is_none_or(|(p, _)| tmpl.priority <= *p);
        if !plain
            && if held_mode {
                cluster.no_ready_node_has_room_held(&req.actual)
            } else {
                cluster.no_ready_node_has_room(&req.actual)
            }
        {
            if self.explain {
                self.walk = explain::Walk { start, processed: n, ..explain::Walk::default() };
            }
            return Decision { node: None, examined: live };
        }
        // Walk the nodes in rotating order from `start`, jumping straight to the next node
        // whose free capacity fits (the free-capacity index answers exactly the
        // NodeResourcesFit filter on Ready nodes): the nodes jumped over fail the filter, and
        // they are counted as examined like upstream, except removed ones.
        let need = crate::cluster::room::need_of(&req.actual);
        // The packed cycle (`packed.rs`) when the attempt's only filters are the fit, the
        // cordon and the taints and its scores are the default ones without preferences.
        if self.packed_path
            && held_mode
            && self.nominated_of.is_empty()
            && !topo_filters
            && no_label_constraints
            && !gpu_filter
            && self.gpu.is_none()
            && !self.explain
            && cycle.as_ref().is_none_or(|c| c.affinity_skips() && !c.spread_may_ignore())
        {
            let attempt =
                packed::Attempt { template_id, req, placement, need, start, want, cycle: cycle.as_ref() };
            self.packed_attempts += 1;
            return self.find_node_packed(cluster, &attempt);
        }
        // Nodes a hostname anti-affinity (the pod's own, or an existing pod's against it)
        // rules out: the walk jumps over them as over nodes without room (they would fail
        // InterPodAffinity's filter; they still count as examined).
        // So are the nodes of a domain a DoNotSchedule spread constraint rules out.
        let excluded: Vec<&[u64]> = match (cluster.topology_rules.get(template_id as usize), &cycle) {
            (Some(r), Some(c)) if topo_filters && !plain => {
                let mut v: Vec<&[u64]> = r
                    .anti_affinity
                    .iter()
                    .chain(&r.existing_anti_affinity)
                    .filter(|t| cluster.topology.keys[t.key.0 as usize].hostname)
                    .filter_map(|t| cluster.topology.occupied(t.set))
                    .collect();
                v.extend(c.blocked_domains());
                v
            }
            _ => Vec::new(),
        };
        let jumps_decide = !plain && cycle.as_ref().is_some_and(|c| c.decided_by_jumps());
        let mut k = 0;
        while k < n && self.candidates.len() < want {
            let next = if plain {
                rotating_next(start, k, n, |lo, hi| {
                    (lo..hi).find(|&i| {
                        let nd = &cluster.nodes[i];
                        nd.ready && plugins::fit::fits(&req.actual, &nd.allocatable, &nd.requested)
                    })
                })
            } else if excluded.is_empty() {
                // Nothing ruled out by topology: the room index alone (kept apart so that
                // this, the common walk, stays as tight as before the topology plugins).
                if held_mode {
                    rotating_next(start, k, n, |lo, hi| cluster.first_node_with_room_held(lo, hi, &need))
                } else {
                    rotating_next(start, k, n, |lo, hi| cluster.first_node_with_room(lo, hi, &need))
                }
            } else if held_mode {
                rotating_next(start, k, n, |lo, hi| {
                    first_allowed(lo, hi, &excluded, |lo, hi| {
                        cluster.first_node_with_room_held(lo, hi, &need)
                    })
                })
            } else {
                rotating_next(start, k, n, |lo, hi| {
                    first_allowed(lo, hi, &excluded, |lo, hi| cluster.first_node_with_room(lo, hi, &need))
                })
            };
            let Some(idx) = next else {
                k = n;
                break;
            };
            k = if idx >= start { idx - start } else { idx + n - start } + 1;
            // Pods nominated to this node by a preemption, of at least this pod's priority,
            // hold their place (upstream `addGetNominatedPods` in the filter).
            if !held_mode
                && !self.nominated_of.is_empty()
                && let Some(noms) = self.nominated_on.get(idx)
                && !noms.is_empty()
            {
                let node = &cluster.nodes[idx];
                let held = node.requested + self.nominated_load(cluster, idx, Some(pod), tmpl.priority);
                if !plugins::fit::fits(&req.actual, &node.allocatable, &held) {
                    continue;
                }
            }
            let id = NodeId(idx as u32);
            let flags = cluster.node_flags(idx);
            if flags & crate::cluster::NODE_CORDONED != 0
                && !plugins::node_unschedulable::filter(true, &placement.tolerations)
            {
                continue;
            }
            if flags & crate::cluster::NODE_TAINTED != 0
                && !plugins::taint_toleration::filter(cluster.node_taints(id), &placement.tolerations)
            {
                continue;
            }
            if !no_label_constraints && !plugins::node_affinity::filter(cluster.node_labels(id), placement) {
                continue;
            }
            if topo_filters
                && !jumps_decide
                && let Some(c) = &cycle
                && c.filter(id).is_err()
            {
                continue;
            }
            if gpu_filter && !self.gpu_fits(cluster, idx, template_id as usize, pod, tmpl.priority) {
                continue;
            }
            self.candidates.push(Candidate {
                node: id,
                fresh: false,
                base: 0,
                taint_raw: 0,
                affinity_raw: 0,
            });
        }
        let processed = k;
        let examined = examined(cluster, start, processed);
        self.next_start_node_index = (start + processed) % n;
        if self.explain {
            self.walk = explain::Walk { start, processed, ..explain::Walk::default() };
        }

        match self.candidates.len() {
            0 => return Decision { node: None, examined },
            // schedule_one.go: "When only one node after predicate, just use it."
            1 => {
                return Decision { node: Some(self.candidates[0].node), examined };
            }
            _ => {}
        }

        // Score (framework RunScorePlugins), then NormalizeScore for the plugins that
        // normalise, then Σ weight × score.
        let skip_balanced = plugins::balanced::skip_for(&req, &self.cfg.balanced_resources);
        // A GPU policy without `keepDefaultScores` is the only score plugin.
        let default_scores = self.gpu.as_ref().is_none_or(|g| g.keep_default_scores);
        let mut max_taint = 0;
        let mut max_affinity = 0;
        let (class, row) = self.score_row(cluster, template_id, n);
        let cache = &mut self.score_cache[row..row + n];
        // Per candidate: the weighted resource scores (memoised per node, request class and
        // node generation: `Some(entry)` when computed), the raw TaintToleration and
        // NodeAffinity scores.
        let cfg = &self.cfg;
        let score_one = |c: &mut Candidate, cache: &[CachedScore]| -> Option<CachedScore> {
            let i = c.node.index();
            let generation = cluster.node_generation(i);
            let cached = &cache[i];
            let fresh = if cached.template == class && cached.generation == generation {
                c.base = cached.base;
                None
            } else {
                c.base = packed::resource_score(cfg, cluster, i, &req, skip_balanced);
                Some(CachedScore { template: class, generation, base: c.base })
            };
            if cluster.node_flags(i) & crate::cluster::NODE_TAINTED != 0 {
                let taints = cluster.node_taints(c.node);
                c.taint_raw = plugins::taint_toleration::score(taints, &placement.tolerations);
            }
            if !no_label_constraints {
                c.affinity_raw = plugins::node_affinity::score(cluster.node_labels(c.node), placement);
            }
            fresh
        };
        if default_scores && self.workers.parallel_for(self.candidates.len()) {
            // On the workers, the memo read only; then its writes in candidate order (each
            // node is a candidate once, so every read saw what the sequential loop sees).
            let read: &[CachedScore] = cache;
            let maxima = self.workers.map_chunks(&mut self.candidates, |_, chunk| {
                let (mut taint, mut affinity) = (0, 0);
                for c in chunk {
                    c.fresh = score_one(c, read).is_some();
                    taint = taint.max(c.taint_raw);
                    affinity = affinity.max(c.affinity_raw);
                }
                (taint, affinity)
            });
            for (t, a) in maxima {
                max_taint = max_taint.max(t);
                max_affinity = max_affinity.max(a);
            }
            for c in self.candidates.iter().filter(|c| c.fresh) {
                let i = c.node.index();
                cache[i] =
                    CachedScore { template: class, generation: cluster.node_generation(i), base: c.base };
            }
        } else {
            // On this thread (the loop as it was before the workers: the common case).
            for c in self.candidates.iter_mut().filter(|_| default_scores) {
                let i = c.node.index();
                let generation = cluster.node_generation(i);
                let cached = &mut cache[i];
                if cached.template == class && cached.generation == generation {
                    c.base = cached.base;
                } else {
                    c.base = packed::resource_score(cfg, cluster, i, &req, skip_balanced);
                    *cached = CachedScore { template: class, generation, base: c.base };
                }
                if cluster.node_flags(i) & crate::cluster::NODE_TAINTED != 0 {
                    let taints = cluster.node_taints(c.node);
                    c.taint_raw = plugins::taint_toleration::score(taints, &placement.tolerations);
                    max_taint = max_taint.max(c.taint_raw);
                }
                if !no_label_constraints {
                    c.affinity_raw = plugins::node_affinity::score(cluster.node_labels(c.node), placement);
                    max_affinity = max_affinity.max(c.affinity_raw);
                }
            }
        }

        // PodTopologySpread and InterPodAffinity scores, normalised over the candidates.
        let (topo_nodes, topo_spread, topo_affinity) = &mut self.topology_scores;
        topo_spread.clear();
        topo_affinity.clear();
        if let Some(c) = &cycle
            && default_scores
            && cluster.topology_rules[template_id as usize].has_scores()
        {
            topo_nodes.clear();
            topo_nodes.extend(self.candidates.iter().map(|c| c.node));
            c.scores_on(topo_nodes, topo_spread, topo_affinity, &self.workers);
            for (k, cand) in self.candidates.iter_mut().enumerate() {
                cand.base += self.cfg.weight_topology_spread * topo_spread[k]
                    + self.cfg.weight_inter_pod_affinity * topo_affinity[k];
            }
        }

        // The GPU-sharing policy, weighted.
        if let Some(g) = &mut self.gpu {
            let (nodes, scores) = &mut self.gpu_scratch;
            nodes.clear();
            nodes.extend(self.candidates.iter().map(|c| c.node));
            scores.clear();
            scores.resize(nodes.len(), 0);
            g.add_scores(cluster, template_id as usize, nodes, scores);
            for (c, s) in self.candidates.iter_mut().zip(scores.iter()) {
                c.base += s;
            }
        }

        if self.explain {
            // Each candidate's weighted score per plugin (`explain::SCORES`).
            let gpu_scores = &self.gpu_scratch.1;
            let node_scores: Vec<(NodeId, explain::Scores)> = self
                .candidates
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let gpu = if self.gpu.is_some() { gpu_scores.get(k).copied().unwrap_or(0) } else { 0 };
                    if !default_scores {
                        return (c.node, [0, 0, 0, 0, 0, 0, gpu]);
                    }
                    let node = &cluster.nodes[c.node.index()];
                    let fit = plugins::fit::score(
                        self.cfg.strategy,
                        &req.non_zero,
                        &node.non_zero_requested,
                        &node.allocatable,
                        &self.cfg.fit_resources,
                    );
                    let balanced = if skip_balanced {
                        0
                    } else {
                        plugins::balanced::score(
                            &req.actual,
                            &node.requested,
                            &node.allocatable,
                            &self.cfg.balanced_resources,
                        )
                    };
                    let topo = |v: &Vec<i64>| v.get(k).copied().unwrap_or(0);
                    (
                        c.node,
                        [
                            self.cfg.weight_fit * fit,
                            self.cfg.weight_balanced * balanced,
                            self.cfg.weight_taint_toleration * normalize(c.taint_raw, max_taint, true),
                            self.cfg.weight_node_affinity * normalize(c.affinity_raw, max_affinity, false),
                            self.cfg.weight_topology_spread * topo(&self.topology_scores.1),
                            self.cfg.weight_inter_pod_affinity * topo(&self.topology_scores.2),
                            gpu,
                        ],
                    )
                })
                .collect();
            self.walk.scored = node_scores;
        }

        // selectHost: highest total, ties uniformly at random (reservoir sampling).
        let (w_taint, w_affinity) = (self.cfg.weight_taint_toleration, self.cfg.weight_node_affinity);
        let total_of = |c: &Candidate| {
            c.base
                + w_taint * normalize(c.taint_raw, max_taint, true)
                + w_affinity * normalize(c.affinity_raw, max_affinity, false)
        };
        let parallel_totals = self.workers.parallel_for(self.candidates.len());
        if parallel_totals {
            // The totals on the workers (into `base`, not read again); the draws below.
            self.workers.map_chunks(&mut self.candidates, |_, chunk| {
                for c in chunk {
                    c.base = total_of(c);
                }
            });
        }
        let mut best = self.candidates[0].node;
        let mut best_score = i64::MIN;
        let mut ties: u64 = 0;
        for c in &self.candidates {
            let total = if parallel_totals { c.base } else { total_of(c) };
            if total > best_score {
                best_score = total;
                best = c.node;
                ties = 1;
            } else if total == best_score
                && let Some(g) = &self.gpu
                && g.breaks_ties_by_order()
            {
                if g.tie_rank(c.node.index()) < g.tie_rank(best.index()) {
                    best = c.node;
                }
            } else if total == best_score {
                ties += 1;
                if self.tie_rng.uniform_below(ties) == 0 {
                    best = c.node;
                }
            }
        }
        Decision { node: Some(best), examined }
    }
}

/// The first node at rotating offset `k` or later from `start` (of `n`) that `first(lo, hi)`
/// finds in a linear range; one copy per search, so each inlines its own.
#[inline(always)]
fn rotating_next(
    start: usize,
    k: usize,
    n: usize,
    first: impl Fn(usize, usize) -> Option<usize>,
) -> Option<usize> {
    if start + k < n {
        first(start + k, n).or_else(|| if start > 0 { first(0, start) } else { None })
    } else {
        first(start + k - n, start)
    }
}

/// The first node in `lo..hi` that `room` finds and no bitset of `excluded` marks
/// ([`crate::cluster::topology::TopologyIndex::next_free_node`]), alternating the two jumps.
#[inline(always)]
fn first_allowed(
    mut lo: usize,
    hi: usize,
    excluded: &[&[u64]],
    room: impl Fn(usize, usize) -> Option<usize>,
) -> Option<usize> {
    loop {
        let i = room(lo, hi)?;
        if excluded.is_empty() {
            return Some(i);
        }
        let j = crate::cluster::topology::TopologyIndex::next_free_node(excluded, i, hi)?;
        if j == i {
            return Some(i);
        }
        lo = j;
    }
}

/// What the queue needs to compute a pod's backoff: its attempt count and the time of its
/// last failed attempt.
fn backoff_state(cluster: &ClusterState) -> impl FnMut(PodId) -> (u32, SimTime) + '_ {
    move |p| {
        let pod = cluster.pod(p);
        (pod.attempts, pod.last_failure)
    }
}

/// The nodes a walk of `processed` nodes from `start` (rotating) counts as examined: all
/// but the removed ones (not in upstream's snapshot).
fn examined(cluster: &ClusterState, start: usize, processed: usize) -> usize {
    let n = cluster.nodes.len();
    processed
        - if start + processed <= n {
            cluster.removed_in(start, start + processed)
        } else {
            cluster.removed_in(start, n) + cluster.removed_in(0, start + processed - n)
        }
}

/// One element of upstream `DefaultNormalizeScore` given the maximum over all nodes.
#[inline]
fn normalize(score: i64, max: i64, reverse: bool) -> i64 {
    let max_score = plugins::MAX_NODE_SCORE;
    if max == 0 {
        return if reverse { max_score } else { score };
    }
    let s = max_score * score / max;
    if reverse { max_score - s } else { s }
}

/// Per node: the Pending preemptors nominated to it, with their priority and requests.
pub type Nominated = [Vec<(PodId, i32, crate::cluster::Resources)>];

/// Requests of the pods nominated to `node` (other than `except`) with at least `priority`
/// that are still Pending: upstream adds them to the node when it runs the filters
/// (`RunFilterPluginsWithNominatedPods`), in scheduling and in the preemption dry run.
pub(crate) fn nominated_load_of(
    nominated_on: &Nominated,
    cluster: &ClusterState,
    node: usize,
    except: Option<PodId>,
    priority: i32,
) -> crate::cluster::Resources {
    let mut held = crate::cluster::Resources::ZERO;
    if let Some(noms) = nominated_on.get(node) {
        for &(q, p, r) in noms {
            if Some(q) != except && p >= priority && cluster.is_pending(q) {
                held += r;
            }
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_matches_default_normalize_score() {
        let mut v = vec![0, 2, 4];
        plugins::default_normalize_score(&mut v, false);
        assert_eq!(v, vec![normalize(0, 4, false), normalize(2, 4, false), normalize(4, 4, false)]);
        let mut v = vec![0, 1, 3];
        plugins::default_normalize_score(&mut v, true);
        assert_eq!(v, vec![normalize(0, 3, true), normalize(1, 3, true), normalize(3, 3, true)]);
        assert_eq!(normalize(0, 0, true), 100);
        assert_eq!(normalize(0, 0, false), 0);
    }
}
