//! The GPU-sharing score plugin in the scheduling cycle (`scheduler.gpuSharing`): one of the
//! six policies of the FGD paper ([`plugins::gpushare`], where each formula cites its source
//! in the paper's simulator) scores the feasible nodes, and the policy's device pick chooses
//! the chosen node's devices. The paper's profile (`scripts/generate_config_and_run.py`)
//! disables every default score plugin and gives the policy weight 1000; so does a scenario
//! unless `keepDefaultScores`.
//!
//! FGD's score is the costly one (the node's expected fragmentation under the target
//! workload, before and after the placement on each device that fits). It is a pure function
//! of the node's free CPU, GPU model and multiset of free device milli and of the pod's type,
//! so it is memoised twice: per (pod class, node) while the node's generation is unchanged,
//! and per (pod class, node state) across nodes, since most nodes of a cluster share a few
//! shapes and states. Both only skip work: a hit returns what the computation would.

use super::key_hash::KeyMap;

use super::plugins::gpushare::{self, NodeView, PodRequest, Policy, TargetWorkload};
use crate::cluster::gpu::{Assignment, GpuClassSet, GpuDemand, ModelSet};
use crate::cluster::{ClusterState, NodeId};
use crate::engine::RngStream;
use rand_core::Rng;

/// The scheduler's view of a node for the policies: free CPU and memory from its requests,
/// its model and devices, and (with `classes`) the GPU classes of its pods.
pub fn node_view(cluster: &ClusterState, node: usize, classes: bool) -> NodeView<'_> {
    let n = &cluster.nodes[node];
    let gpu_classes = if classes {
        cluster.pods_on_node(NodeId(node as u32)).iter().fold(GpuClassSet::EMPTY, |set, &p| {
            match cluster.gpu.template(cluster.pod(p).template.index()).demand {
                Some(d) => set.with(d),
                None => set,
            }
        })
    } else {
        GpuClassSet::EMPTY
    };
    NodeView {
        cpu_free_milli: n.allocatable.cpu_milli - n.requested.cpu_milli,
        cpu_total_milli: n.allocatable.cpu_milli,
        mem_free_bytes: n.allocatable.mem_bytes - n.requested.mem_bytes,
        mem_total_bytes: n.allocatable.mem_bytes,
        model: cluster.gpu.node_model(node),
        gpu_free_milli: cluster.gpu.node_free(node),
        gpu_classes,
    }
}

/// A template's requests as the policies see them: CPU as upstream's `GetPodResource`
/// counts it (the non-zero request, `GetNonzeroRequests`), memory as requested, the GPU
/// demand and models. `None` for a GPU amount no device layout holds.
pub fn pod_request(cluster: &ClusterState, template: usize) -> Option<PodRequest> {
    let t = &cluster.templates[template];
    let g = cluster.gpu.template(template);
    Some(PodRequest {
        cpu_milli: t.requests.non_zero.cpu_milli,
        mem_bytes: t.requests.actual.mem_bytes,
        gpu: g.demand?,
        models: g.models,
    })
}

/// The target workload from a scenario's pods: the rows of its pod traces (each shape
/// weighted by its rows), or, without traces, the Deployments' templates weighted by their
/// replicas and the initial pods, with upstream's `GetTypicalPods` cut at
/// `threshold_percent`.
pub fn target_workload(
    s: &crate::scenario::Scenario,
    cluster: &ClusterState,
    threshold_percent: u64,
) -> TargetWorkload {
    let config =
        gpushare::TypicalPodsConfig { popularity_threshold_pct: threshold_percent, ..Default::default() };
    // Templates in order: Deployments, churn, DaemonSets, initial pods, trace shapes.
    let mut weights: Vec<(usize, u64)> = Vec::new();
    let churn: usize = s.churn.iter().map(|c| c.templates.len()).sum();
    let before_traces = s.deployments.len() + churn + s.daemon_sets.len() + s.initial_pods.len();
    if s.pod_traces.is_empty() {
        weights.extend(s.deployments.iter().enumerate().map(|(i, d)| (i, u64::from(d.replicas))));
        let first = s.deployments.len() + churn + s.daemon_sets.len();
        weights.extend((0..s.initial_pods.len()).map(|i| (first + i, 1)));
    } else {
        let mut next = before_traces;
        for i in 0..s.pod_traces.len() {
            if let Some(idx) = s.inputs.pod_trace(s, i) {
                weights.extend(idx.shape_rows.iter().enumerate().map(|(k, &n)| (next + k, n)));
                next += idx.shapes.len();
            }
        }
    }
    let types = weights.into_iter().filter(|&(t, _)| t < cluster.templates.len()).flat_map(|(t, n)| {
        pod_request(cluster, t).map(|r| std::iter::repeat_n(r.pod_type(), n as usize)).into_iter().flatten()
    });
    TargetWorkload::from_pods(types, &config)
}

/// The policy's state in the scheduler.
pub struct GpuScoring {
    pub policy: Policy,
    pub weight: i64,
    /// The default score plugins run too.
    pub keep_default_scores: bool,
    workload: TargetWorkload,
    /// Random's node draw and device draw.
    rng: RngStream,
    fgd: FgdCache,
    /// Scratch: the raw scores of one cycle.
    raw: Vec<i64>,
    /// With `tieBreak: NodeOrder`: each node's rank in the run's node order (ties go to the
    /// lowest); nodes added later rank after the first ones, in order of addition.
    tie_rank: Option<Vec<u32>>,
}

impl GpuScoring {
    pub fn new(
        policy: Policy,
        weight: i64,
        keep_default_scores: bool,
        workload: TargetWorkload,
        rng: RngStream,
    ) -> Self {
        GpuScoring {
            policy,
            weight,
            keep_default_scores,
            workload,
            rng,
            fgd: FgdCache::default(),
            raw: Vec::new(),
            tie_rank: None,
        }
    }

    /// Breaks ties by a node order drawn from `rng` over the first `nodes` nodes (a uniform
    /// permutation, Fisher–Yates).
    pub fn with_node_order(mut self, nodes: usize, mut rng: RngStream) -> Self {
        let mut order: Vec<u32> = (0..nodes as u32).collect();
        for i in (1..order.len()).rev() {
            let j = ((u128::from(rng.next_u64()) * (i as u128 + 1)) >> 64) as usize;
            order.swap(i, j);
        }
        let mut rank = vec![0u32; nodes];
        for (r, &node) in order.iter().enumerate() {
            rank[node as usize] = r as u32;
        }
        self.tie_rank = Some(rank);
        self
    }

    /// The node's rank for ties, with `tieBreak: NodeOrder`.
    pub fn tie_rank(&self, node: usize) -> Option<u32> {
        self.tie_rank.as_ref().map(|r| r.get(node).copied().unwrap_or(node as u32))
    }

    /// True when ties go to the lowest [`Self::tie_rank`].
    pub fn breaks_ties_by_order(&self) -> bool {
        self.tie_rank.is_some()
    }

    pub fn workload(&self) -> &TargetWorkload {
        &self.workload
    }

    /// Adds `weight × score` of the policy to `scores[k]` for each candidate `nodes[k]` (all
    /// feasible for the pod of `template`).
    pub fn add_scores(
        &mut self,
        cluster: &ClusterState,
        template: usize,
        nodes: &[NodeId],
        scores: &mut [i64],
    ) {
        let Some(pod) = pod_request(cluster, template) else { return };
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        match self.policy {
            Policy::Random => {
                let picked = gpushare::random_pick(nodes.len(), self.rng.next_u64());
                raw.extend((0..nodes.len()).map(|k| gpushare::random_score(k, picked)));
            }
            Policy::DotProd => raw.extend(
                nodes
                    .iter()
                    .map(|n| gpushare::dot_product_score(&node_view(cluster, n.index(), false), &pod)),
            ),
            Policy::GpuClustering => raw.extend(
                nodes
                    .iter()
                    .map(|n| gpushare::gpu_clustering_score(&node_view(cluster, n.index(), true), &pod)),
            ),
            Policy::GpuPacking => raw.extend(
                nodes
                    .iter()
                    .map(|n| gpushare::gpu_packing_score(&node_view(cluster, n.index(), false), &pod)),
            ),
            Policy::BestFit => {
                raw.extend(
                    nodes
                        .iter()
                        .map(|n| gpushare::best_fit_score(&node_view(cluster, n.index(), false), &pod)),
                );
                gpushare::normalize_min_max(&mut raw);
            }
            Policy::Fgd => {
                let class = self.fgd.class_of(template, &pod);
                raw.extend(
                    nodes.iter().map(|n| self.fgd.score(cluster, n.index(), class, &pod, &self.workload)),
                );
            }
        }
        for (s, r) in scores.iter_mut().zip(&raw) {
            *s += self.weight * r;
        }
        self.raw = raw;
    }

    /// The devices the pod of `template` gets on `node` by the policy's pick; `None` when
    /// they do not fit.
    pub fn devices(&mut self, cluster: &ClusterState, template: usize, node: usize) -> Option<Assignment> {
        let pod = pod_request(cluster, template)?;
        if pod.gpu == GpuDemand::None {
            return Some(Assignment::NONE);
        }
        let view = node_view(cluster, node, false);
        let draw = if self.policy == Policy::Random { self.rng.next_u64() } else { 0 };
        gpushare::assign_devices(&view, &pod, self.policy.device_pick(draw, &self.workload))
    }
}

/// The class of a pod for FGD's score: what the score reads of the pod.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct ClassKey {
    cpu_milli: i64,
    gpu: GpuDemand,
    models: ModelSet,
    requests_nothing: bool,
}

/// A node's state as FGD's score reads it, packed: free CPU (32 bits), model + 1 (7 bits),
/// device count (4 bits) and the free milli of each device, sorted (10 bits each, at most 8
/// devices). `None` for a node outside that range (it is scored without the shared memo).
fn state_key(view: &NodeView) -> Option<u128> {
    let n = view.gpu_free_milli.len();
    if n > 8 || !(0..=i64::from(u32::MAX)).contains(&view.cpu_free_milli) {
        return None;
    }
    let mut sorted = [0u16; 8];
    sorted[..n].copy_from_slice(view.gpu_free_milli);
    sorted[..n].sort_unstable();
    let mut key = view.cpu_free_milli as u128;
    key |= u128::from(view.model.map_or(0, |m| m.id() + 1)) << 32;
    key |= (n as u128) << 39;
    for (i, &m) in sorted[..n].iter().enumerate() {
        key |= u128::from(m) << (43 + 10 * i);
    }
    Some(key)
}

/// One node's last FGD score for a class, valid while the node's generation is unchanged.
#[derive(Clone, Copy, Default)]
struct NodeEntry {
    generation: u32,
    score: i32,
    valid: bool,
}

/// The shared memo is cleared when it reaches this many entries (about 40 MB).
const MEMO_LIMIT: usize = 1 << 20;

#[derive(Default)]
struct FgdCache {
    /// Per template: its class (`u32::MAX`: not yet known).
    class_of: Vec<u32>,
    classes: KeyMap<ClassKey, u32>,
    /// Per class: per node its last score.
    by_node: Vec<Vec<NodeEntry>>,
    /// (node state, class) → score.
    memo: KeyMap<(u128, u32), i32>,
}

impl FgdCache {
    fn class_of(&mut self, template: usize, pod: &PodRequest) -> u32 {
        if self.class_of.len() <= template {
            self.class_of.resize(template + 1, u32::MAX);
        }
        if self.class_of[template] == u32::MAX {
            let key = ClassKey {
                cpu_milli: pod.cpu_milli,
                gpu: pod.gpu,
                models: pod.models,
                requests_nothing: pod.cpu_milli == 0 && pod.mem_bytes == 0,
            };
            let next = self.classes.len() as u32;
            let c = *self.classes.entry(key).or_insert(next);
            if c as usize >= self.by_node.len() {
                self.by_node.push(Vec::new());
            }
            self.class_of[template] = c;
        }
        self.class_of[template]
    }

    fn score(
        &mut self,
        cluster: &ClusterState,
        node: usize,
        class: u32,
        pod: &PodRequest,
        wl: &TargetWorkload,
    ) -> i64 {
        let generation = cluster.node_generation(node);
        let row = &mut self.by_node[class as usize];
        if row.len() <= node {
            row.resize(cluster.nodes.len().max(node + 1), NodeEntry::default());
        }
        let e = row[node];
        if e.valid && e.generation == generation {
            return i64::from(e.score);
        }
        let view = node_view(cluster, node, false);
        if self.memo.len() >= MEMO_LIMIT {
            self.memo.clear();
        }
        let score = match state_key(&view) {
            Some(key) => {
                *self.memo.entry((key, class)).or_insert_with(|| gpushare::fgd_score(&view, pod, wl) as i32)
            }
            None => gpushare::fgd_score(&view, pod, wl) as i32,
        };
        self.by_node[class as usize][node] = NodeEntry { generation, score, valid: true };
        i64::from(score)
    }
}

/// The GPU policy of `s.scheduler.gpuSharing`, with its target workload, or `None`.
pub fn from_scenario(
    s: &crate::scenario::Scenario,
    cluster: &ClusterState,
    rng: RngStream,
    order_rng: RngStream,
) -> Option<GpuScoring> {
    use crate::scenario::schema::GpuPolicySpec as P;
    let g = s.scheduler.gpu_sharing.as_ref()?;
    let policy = match g.policy {
        P::Random => Policy::Random,
        P::DotProd => Policy::DotProd,
        P::GpuClustering => Policy::GpuClustering,
        P::GpuPacking => Policy::GpuPacking,
        P::BestFit => Policy::BestFit,
        P::Fgd => Policy::Fgd,
    };
    let workload = target_workload(s, cluster, g.popularity_threshold_percent);
    let scoring = GpuScoring::new(policy, g.weight, g.keep_default_scores, workload, rng);
    Some(match g.tie_break {
        crate::scenario::schema::TieBreakSpec::NodeOrder => {
            scoring.with_node_order(cluster.nodes.len(), order_rng)
        }
        crate::scenario::schema::TieBreakSpec::Random => scoring,
    })
}

/// The fragmentation tracker of a run whose nodes have GPUs (its target workload as FGD's,
/// with `gpuSharing.popularityThresholdPercent` or upstream's 95).
pub fn frag_tracker(
    s: &crate::scenario::Scenario,
    cluster: &ClusterState,
) -> Option<crate::metrics::gpufrag::FragTracker> {
    if !cluster.gpu.any_devices() {
        return None;
    }
    let threshold = s.scheduler.gpu_sharing.as_ref().map_or(95, |g| g.popularity_threshold_percent);
    Some(crate::metrics::gpufrag::FragTracker::new(target_workload(s, cluster, threshold)))
}
