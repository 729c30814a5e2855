//! GPU sharing: the placement rules, the six score policies and the fragmentation measure of
//! "Beware of Fragmentation: Scheduling GPU-Sharing Workloads with Fragmentation Gradient
//! Descent" (Weng et al., USENIX ATC '23), as pure functions that know nothing of the
//! simulation (issue #16, first part).
//!
//! The paper's simulator is `hkust-adsl/kubernetes-scheduler-simulator` (Go); every formula
//! below cites its file there. Paths are relative to that repository.
//!
//! # Model
//! - A node is seen through a [`NodeView`]: free and total milli-CPU and memory, its GPU
//!   model, the free milli-units of each GPU (a slice, one entry per device, each device
//!   1000 milli; upstream `NodeResource.MilliGpuLeftList`, `pkg/type/resource.go`) and the
//!   set of GPU classes of the pods it holds ([`GpuClassSet`], upstream
//!   `NodeResource.GpuAffinity`, filled in `GetNodeResourceViaNodeInfo`, `pkg/utils/utils.go`).
//! - A pod is a [`PodRequest`]: milli-CPU, memory, its [`GpuDemand`] (`num_gpu` GPUs of
//!   `gpu_milli` each: none, a share of one GPU, or whole GPUs; upstream `PodResource`,
//!   `pkg/type/resource.go`) and the GPU models it accepts ([`ModelSet`]).
//! - GPU models are small integer ids ([`GpuModel`], at most 64) that the caller interns.
//!
//! # Placement on devices
//! - [`fits`]: the filters the paper's runs use: NodeResourcesFit's cpu and memory test and
//!   the `Open-Gpu-Share` filter (`pkg/simulator/plugin/open_gpu_share.go` `Filter`, which
//!   calls `GpuNodeInfo.AllocateGpuId`, `pkg/type/open-gpu-share/cache/gpunodeinfo.go`): a GPU
//!   pod needs a node whose model it accepts (`IsNodeAccessibleToPodByType`,
//!   `pkg/utils/utils.go`) and, for a share, one device with at least `gpu_milli` free, for
//!   whole GPUs, `num_gpu` wholly free devices.
//! - [`assign_devices`] picks the devices the way the simulator's Reserve does
//!   (`GpuSharePlugin.allocateGpuId`, `open_gpu_share.go`), by the pick of the policy
//!   ([`Policy::device_pick`], from `experiments/run_scripts/generate_run_scripts.py` and
//!   `scripts/generate_config_and_run.py`):
//!   - whole GPUs: always the first `num_gpu` wholly free devices in index order
//!     (`AllocateExclusiveGpuId`, `pkg/type/resource.go`);
//!   - a share, pick "best" ([`DevicePick::Tightest`], the default, used by DotProd,
//!     GpuClustering, GpuPacking and BestFit): the device with the least free milli that
//!     still fits, the lowest index on ties (`allocateGpuIdBasedOnBestFit`);
//!   - a share, pick "random" ([`DevicePick::Uniform`], Random): uniform over the devices
//!     that fit (`allocateGpuIdBasedOnRandomFit`, reservoir sampling with `rand.Intn`); here
//!     one draw from the caller chooses among them in index order;
//!   - a share under FGD ([`DevicePick::Fgd`]): the device whose FGD score is highest, the
//!     lowest index on ties of the *integer* score (`allocateGpuIdBasedOnFGDScore`,
//!     `pkg/simulator/plugin/fgd_score.go`).
//! - [`Assignment::apply`] / [`Assignment::release`] take the devices' milli away and give
//!   them back (upstream `NodeResource.Sub` / `Add` with a device list).
//!
//! # Score policies (each returns upstream's score, 0..=100, for a node that passes [`fits`])
//! - Random ([`random_pick`], [`random_score`]): `pkg/simulator/plugin/random_score.go`:
//!   PreScore draws one of the feasible nodes uniformly, Score gives it 100 and the others 0.
//!   The caller supplies the draw.
//! - DotProd ([`dot_product_score`]): `pkg/simulator/plugin/dot_product_score.go` with the
//!   paper's configuration `dimExtMethod: merge`, `normMethod: max` (Tetris' alignment;
//!   `experiments/run_scripts/generate_run_scripts.py`):
//!   `⌊100 · (1 − (free·req)/2)⌋` over the vectors (cpu, all GPU milli) each divided by
//!   (`MaxSpecCpu` 128000, `MaxSpecGpu` 8000) (`pkg/utils/utils.go`
//!   `GenerateSchedulingMatchGroups`, `NormalizeVector`, `CalculateVectorDotProduct`;
//!   `pkg/type/resource.go` `ToVirtualNodeResourceList`, `ToVirtualPodResourceList`).
//! - GpuClustering ([`gpu_clustering_score`]): `pkg/simulator/plugin/gpu_clustering_score.go`:
//!   `25 · (8000 − free GPU milli) / 8000` plus 75 (the node holds only pods of the pod's GPU
//!   class), 50 (that class among others), 25 (no GPU pod at all) or 0 (other classes only);
//!   0 for a pod without GPUs. Classes: `GetGpuAffinityFromPodAnnotation`
//!   (`pkg/type/open-gpu-share/utils/pod.go`).
//! - GpuPacking ([`gpu_packing_score`]): `pkg/simulator/plugin/gpu_packing_score.go`
//!   `getPackingScore`: shared GPUs first (`100 − Σ⌊free·100/1000⌋/10`, at least 50), then
//!   free GPUs of a used node (`50 − fully free GPUs used`, at least 33), then an idle node
//!   (`33 − its GPUs`, at least its GPU count: the code's floor, not the comment's 0).
//! - BestFit ([`best_fit_score`] then [`normalize_min_max`]):
//!   `pkg/simulator/plugin/best_fit_score.go` `getBestFitScore`:
//!   `⌊100 · (1 − ½(cpu left after)/128000 − ½(GPU milli left after)/8000)⌋`, then the
//!   min-max `NormalizeScore` of `pkg/simulator/plugin/plugin_utils.go`.
//! - FGD ([`fgd_score`], [`fgd_place`]): `pkg/simulator/plugin/fgd_score.go`
//!   `calculateGpuShareFragExtendScore`: `⌊100 · sigmoid((F_before − F_after)/1000)⌋` where F is
//!   the node's expected fragmentation under the target workload (below) before and after
//!   the placement (`sigmoid` in `plugin_utils.go`); a share tries every device that fits.
//!
//! # Fragmentation (paper §3, the measure; §4, FGD)
//! For a node n and a pod type m, the GPU milli on n that m cannot use
//! (`GetNodePodFrag`, `NodeGpuShareFragAmount`, `GetGpuFragMilliByNodeResAndPodRes`,
//! `CanNodeHostPodOnGpuMemory` in `pkg/utils/frag.go` and `pkg/utils/utils.go`): all the
//! node's free GPU milli if m requests no GPU, if n's model is not acceptable to m, or if m
//! does not fit n (GPU or CPU short); otherwise the free milli of the devices that have less
//! than m's per-GPU request. [`classify`] gives the paper's quadrant ([`FragKind`]),
//! [`node_frag_amount`] the amounts weighted by the target workload, [`node_fragmentation`]
//! the expectation F_n(M) = Σ_m p_m F_n(m), [`cluster_fragmentation`] the sums over nodes and
//! the fragmentation ratios (`ClusterGpuFragReport`, `pkg/simulator/analysis.go`).
//!
//! The target workload ([`TargetWorkload::from_pods`], upstream `GetTypicalPods`,
//! `pkg/utils/frag.go`) counts the pods of each type (cpu, GPU demand, models), sorts the
//! types by decreasing count and keeps the most popular ones until they cover 95% of the
//! pods (`podPopularityThreshold: 95`, `podIncreaseStep: 1`, `isInvolvedCpuPods: true`, the
//! defaults of `scripts/generate_config_and_run.py`); p_m is a kept type's count over the
//! kept pods.
//!
//! # Numbers
//! Popularities are integer weights (pod counts), so every fragmentation amount is an exact
//! integer (Σ weight × milli); upstream accumulates `float64` percentages. Floats appear
//! only where upstream's score is a float formula truncated to an integer (DotProd, BestFit,
//! FGD) and in the reported expectations and ratios. DotProd and BestFit repeat upstream's
//! `float64` operations in the same order, so they give the same integers. FGD divides the
//! exact integer difference once (`Δ / Σ weights / 1000`) where upstream subtracts two
//! rounded float sums; the two can differ only when `100 · sigmoid(x)` is within a few ulps of
//! an integer (and `f64::exp` may differ from Go's `math.Exp` in the last ulp).
//!
//! # Not modelled
//! The simulator's other plugins (cosine similarity, the Bellman variant of the
//! fragmentation, the `share`/`divide`/`extend` dimension methods and `node`/`pod`
//! normalisations of DotProd) and `gpuResWeight` (0 in the paper's runs). Memory enters only
//! [`fits`]: upstream's `NodeResource` carries no memory.
//!
//! Everything but [`TargetWorkload::from_pods`] is allocation-free: trial placements use
//! arrays of [`MAX_GPUS_PER_NODE`] devices on the stack.

use std::collections::BTreeMap;

use super::{MAX_NODE_SCORE, MIN_NODE_SCORE};

pub use crate::cluster::gpu::{
    Assignment, GPU_MILLI, GpuClassSet, GpuDemand, GpuModel, MAX_GPUS_PER_NODE, MAX_SPEC_CPU_MILLI,
    MAX_SPEC_GPU_MILLI, ModelSet,
};
use crate::cluster::gpu::{can_host, exclusive, tightest_share};

/// What the policies read of a node.
#[derive(Clone, Copy, Debug)]
pub struct NodeView<'a> {
    pub cpu_free_milli: i64,
    pub cpu_total_milli: i64,
    pub mem_free_bytes: i64,
    pub mem_total_bytes: i64,
    /// `None` for a node without GPUs.
    pub model: Option<GpuModel>,
    /// Free milli-units of each GPU, each 0..=1000, indexed by device.
    pub gpu_free_milli: &'a [u16],
    /// Classes of the GPU pods bound to the node.
    pub gpu_classes: GpuClassSet,
}

impl NodeView<'_> {
    /// Σ free milli over the devices (upstream `GetTotalMilliGpuLeft`).
    pub fn gpu_free_total(&self) -> i64 {
        self.gpu_free_milli.iter().map(|&m| i64::from(m)).sum()
    }

    /// Devices with all 1000 milli free (upstream `GetFullyFreeGpuNum`).
    pub fn fully_free_gpus(&self) -> usize {
        self.gpu_free_milli.iter().filter(|&&m| m == GPU_MILLI).count()
    }
}

/// A pod's requests as the policies see them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PodRequest {
    pub cpu_milli: i64,
    pub mem_bytes: i64,
    pub gpu: GpuDemand,
    /// Acceptable GPU models (checked for GPU pods only, like upstream's filter).
    pub models: ModelSet,
}

impl PodRequest {
    /// The pod's type for the target workload (memory is not part of it upstream).
    pub const fn pod_type(&self) -> PodType {
        PodType { cpu_milli: self.cpu_milli, gpu: self.gpu, models: self.models }
    }
}

/// A pod type of the target workload (upstream `PodResource`: `MilliCpu`, `MilliGpu`,
/// `GpuNumber`, `GpuType`). The derived order follows upstream's `PodResource.Less` except
/// for the models, which upstream compares as strings and this compares as id masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodType {
    pub cpu_milli: i64,
    pub gpu: GpuDemand,
    pub models: ModelSet,
}

/// How a share picks its device (upstream `gpuSelMethod`).
#[derive(Clone, Copy, Debug)]
pub enum DevicePick<'a> {
    /// "best": the tightest device that fits, the lowest index on ties.
    Tightest,
    /// "random": uniform over the devices that fit; the draw is the caller's.
    Uniform(u64),
    /// FGD's own pick: the device with the highest FGD score, the lowest index on ties.
    Fgd(&'a TargetWorkload),
}

/// The six policies the paper compares (`experiments/run_scripts/generate_run_scripts.py`,
/// `AllMethodList`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Policy {
    Random,
    DotProd,
    GpuClustering,
    GpuPacking,
    BestFit,
    Fgd,
}

impl Policy {
    pub const ALL: [Policy; 6] = [
        Policy::Random,
        Policy::DotProd,
        Policy::GpuClustering,
        Policy::GpuPacking,
        Policy::BestFit,
        Policy::Fgd,
    ];

    /// The name in the paper and in `experiments/run_scripts/generate_run_scripts.py`.
    pub const fn name(self) -> &'static str {
        match self {
            Policy::Random => "Random",
            Policy::DotProd => "DotProd",
            Policy::GpuClustering => "GpuClustering",
            Policy::GpuPacking => "GpuPacking",
            Policy::BestFit => "BestFit",
            Policy::Fgd => "FGD",
        }
    }

    /// The device pick each policy runs with: `generate_run_scripts.py` gives Random
    /// `-gpusel random`, DotProd `best`, FGD its own (`<self>`, set by
    /// `generate_config_and_run.py` when the plugin's `dimExtMethod` is not `merge`), and the
    /// others none, so `generate_config_and_run.py`'s default `best`.
    pub const fn device_pick(self, draw: u64, workload: &TargetWorkload) -> DevicePick<'_> {
        match self {
            Policy::Random => DevicePick::Uniform(draw),
            Policy::Fgd => DevicePick::Fgd(workload),
            Policy::DotProd | Policy::GpuClustering | Policy::GpuPacking | Policy::BestFit => {
                DevicePick::Tightest
            }
        }
    }

    /// True for the policy whose scores go through [`normalize_min_max`] (BestFit, the only
    /// one with a `ScoreExtensions` NormalizeScore).
    pub const fn normalizes(self) -> bool {
        matches!(self, Policy::BestFit)
    }
}

/// The GPU half of the filters: the `Open-Gpu-Share` filter (`open_gpu_share.go` `Filter`,
/// `gpunodeinfo.go` `AllocateGpuId`). A pod without GPUs passes.
fn gpu_fits(node: &NodeView, pod: &PodRequest) -> bool {
    if pod.gpu == GpuDemand::None {
        return true;
    }
    node.gpu_free_milli.len() <= MAX_GPUS_PER_NODE
        && pod.models.accepts(node.model)
        && can_host(node.gpu_free_milli, pod.gpu)
}

/// True when the pod passes the filters of the paper's runs on this node: NodeResourcesFit's
/// cpu and memory test (a zero request is not checked, `fitsRequest`) and the GPU filter
/// (model, then a device for a share or `num_gpu` wholly free devices).
pub fn fits(node: &NodeView, pod: &PodRequest) -> bool {
    if pod.cpu_milli > 0 && pod.cpu_milli > node.cpu_free_milli {
        return false;
    }
    if pod.mem_bytes > 0 && pod.mem_bytes > node.mem_free_bytes {
        return false;
    }
    gpu_fits(node, pod)
}

/// The devices the pod gets on this node, or `None` if its GPU demand cannot be placed there
/// (model, devices; cpu and memory are [`fits`]'s business). See the module header for the
/// rules and their sources.
pub fn assign_devices(node: &NodeView, pod: &PodRequest, pick: DevicePick) -> Option<Assignment> {
    if !gpu_fits(node, pod) {
        return None;
    }
    let free = node.gpu_free_milli;
    match pod.gpu {
        GpuDemand::None => Some(Assignment::NONE),
        GpuDemand::Whole(n) => exclusive(free, n),
        GpuDemand::Share(milli) => match pick {
            DevicePick::Tightest => tightest_share(free, milli),
            DevicePick::Uniform(draw) => {
                let fitting = free.iter().filter(|&&m| m >= milli).count();
                let k = random_pick(fitting, draw);
                let i = free.iter().enumerate().filter(|&(_, &m)| m >= milli).nth(k).map(|(i, _)| i)?;
                Some(Assignment::one(i, milli))
            }
            DevicePick::Fgd(workload) => fgd_place(node, pod, workload).map(|(_, a)| a),
        },
    }
}

/// Random's PreScore draw (`random_score.go`, `rand.Intn(len(nodes))`): the index, below
/// `feasible`, that `draw` (uniform over `u64`) selects (`⌊draw · feasible / 2^64⌋`). 0 when
/// `feasible` is 0.
pub fn random_pick(feasible: usize, draw: u64) -> usize {
    ((u128::from(draw) * feasible as u128) >> 64) as usize
}

/// Random's Score (`random_score.go`): 100 for the node PreScore drew, 0 for the others.
pub fn random_score(candidate: usize, picked: usize) -> i64 {
    if candidate == picked { MAX_NODE_SCORE } else { MIN_NODE_SCORE }
}

/// `NormalizeVector` then `CalculateVectorDotProduct` (`pkg/utils/utils.go`) on
/// two-dimensional vectors, in upstream's order of operations.
fn normalized_dot(node: [f64; 2], pod: [f64; 2], norm: [f64; 2]) -> f64 {
    let mut inner = 0.0;
    for i in 0..2 {
        let (a, b) = if norm[i] > 0.0 { (node[i] / norm[i], pod[i] / norm[i]) } else { (0.0, 0.0) };
        inner += a * b;
    }
    inner
}

/// DotProd (`dot_product_score.go` `calculateDotProductScore`, `merge` + `max`): 0 when the
/// node's free cpu is below the request (`ToVirtualNodeResourceList` gives no vector);
/// otherwise `d` = the dot product of (free cpu, free GPU milli) and (cpu, `num_gpu ×
/// gpu_milli`), each divided by (128000, 8000), and the score is `⌊100 · (1 − d/2)⌋`: the less
/// the pod aligns with what is free, the higher.
pub fn dot_product_score(node: &NodeView, pod: &PodRequest) -> i64 {
    if node.cpu_free_milli < pod.cpu_milli {
        return MIN_NODE_SCORE;
    }
    let dot = normalized_dot(
        [node.cpu_free_milli as f64, node.gpu_free_total() as f64],
        [pod.cpu_milli as f64, pod.gpu.total_milli() as f64],
        [MAX_SPEC_CPU_MILLI as f64, MAX_SPEC_GPU_MILLI as f64],
    );
    let score = 1.0 - dot / 2.0;
    // Upstream keeps the best group's score only if it beats the initial -1.
    if score > -1.0 { (MAX_NODE_SCORE as f64 * score) as i64 } else { MIN_NODE_SCORE }
}

/// GpuClustering (`gpu_clustering_score.go`): `base = 25 · (8000 − free GPU milli) / 8000` (Go
/// integer arithmetic, left to right), plus 75 if every GPU pod on the node has the pod's
/// class, 50 if that class is one of several, 25 if the node holds no GPU pod, 0 if only
/// other classes; 0 for a pod without GPUs or whose models exclude the node's.
pub fn gpu_clustering_score(node: &NodeView, pod: &PodRequest) -> i64 {
    if pod.gpu == GpuDemand::None || !pod.models.accepts(node.model) {
        return MIN_NODE_SCORE;
    }
    let base = MAX_NODE_SCORE / 4 * (MAX_SPEC_GPU_MILLI - node.gpu_free_total()) / MAX_SPEC_GPU_MILLI;
    let classes = node.gpu_classes;
    let offset = if classes.contains(pod.gpu) {
        if classes.len() == 1 { MAX_NODE_SCORE * 3 / 4 } else { MAX_NODE_SCORE * 2 / 4 }
    } else if classes.is_empty() {
        MAX_NODE_SCORE / 4
    } else {
        0
    };
    base + offset
}

/// GpuPacking (`gpu_packing_score.go` `getPackingScore`), 0 for a pod without GPUs:
/// - every GPU of the node free: `max(33 − GPUs, GPUs)`;
/// - else the pod's GPUs are taken from the devices sorted by free milli ascending (stable),
///   each device that fits giving one; if a wholly free device is among them:
///   `max(50 − wholly free devices used, 33)`;
/// - else (only shared devices): `max(100 − Σ⌊free·100/1000⌋/10, 50)` over the devices used.
pub fn gpu_packing_score(node: &NodeView, pod: &PodRequest) -> i64 {
    if pod.gpu == GpuDemand::None || !pod.models.accepts(node.model) {
        return MIN_NODE_SCORE;
    }
    packing(node.gpu_free_milli, pod.gpu.num_gpu(), pod.gpu.gpu_milli())
}

/// `getPackingScore` on the devices and upstream's raw (`GpuNumber`, `MilliGpu`).
fn packing(free: &[u16], num_gpu: u32, per_gpu_milli: u16) -> i64 {
    let n = free.len();
    if n > MAX_GPUS_PER_NODE {
        return MIN_NODE_SCORE;
    }
    let fully_free = free.iter().filter(|&&m| m == GPU_MILLI).count() as i64;
    if fully_free == n as i64 {
        return (MAX_NODE_SCORE / 3 - fully_free).max(fully_free);
    }
    // SortedMilliGpuLeftIndexList(true): a stable sort of the indexes by free milli.
    let mut order = [0u8; MAX_GPUS_PER_NODE];
    for i in 0..n {
        let mut j = i;
        while j > 0 && free[order[j - 1] as usize] > free[i] {
            order[j] = order[j - 1];
            j -= 1;
        }
        order[j] = i as u8;
    }
    let mut wanted = num_gpu;
    let mut fully_free_used: i64 = 0;
    let mut free_pct: i64 = 0;
    for &idx in &order[..n] {
        if wanted == 0 {
            break;
        }
        let m = free[idx as usize];
        if per_gpu_milli <= m {
            wanted -= 1;
            if m == GPU_MILLI {
                fully_free_used += 1;
            }
            free_pct += i64::from(m) * 100 / i64::from(GPU_MILLI);
        }
    }
    if wanted != 0 {
        return MIN_NODE_SCORE;
    }
    if fully_free_used > 0 {
        return (MAX_NODE_SCORE / 2 - fully_free_used).max(MAX_NODE_SCORE / 3);
    }
    (MAX_NODE_SCORE - free_pct / 10).max(MAX_NODE_SCORE / 2)
}

/// BestFit (`best_fit_score.go` `getBestFitScore`): with `free` = (free cpu, free GPU milli)
/// and `req` = (cpu, `num_gpu × gpu_milli`), `s = Σ (free_i − req_i) / maxSpec_i · 0.5` with
/// maxSpec (128000, 8000), and the score is `⌊(1 − s) · 100⌋`; 0 if the pod does not fit those
/// two totals (upstream's error case). Run [`normalize_min_max`] over the scored nodes after.
pub fn best_fit_score(node: &NodeView, pod: &PodRequest) -> i64 {
    if !pod.models.accepts(node.model) {
        return MIN_NODE_SCORE;
    }
    let free = [node.cpu_free_milli as f64, node.gpu_free_total() as f64];
    let req = [pod.cpu_milli as f64, pod.gpu.total_milli() as f64];
    let max_spec = [MAX_SPEC_CPU_MILLI as f64, MAX_SPEC_GPU_MILLI as f64];
    let weights = [0.5, 0.5];
    let mut s = 0.0;
    for i in 0..2 {
        if free[i] < req[i] {
            return MIN_NODE_SCORE;
        }
        s += (free[i] - req[i]) / max_spec[i] * weights[i];
    }
    ((1.0 - s) * MAX_NODE_SCORE as f64) as i64
}

/// The simulator's `NormalizeScore` (`pkg/simulator/plugin/plugin_utils.go`): maps
/// `[lowest, highest]` to `[0, 100]` with `(s − lowest) · 100 / (highest − lowest)` (integer
/// division); every score becomes 0 when all are equal.
pub fn normalize_min_max(scores: &mut [i64]) {
    let (Some(&lowest), Some(&highest)) = (scores.iter().min(), scores.iter().max()) else {
        return;
    };
    let old_range = highest - lowest;
    let new_range = MAX_NODE_SCORE - MIN_NODE_SCORE;
    for s in scores.iter_mut() {
        *s = if old_range == 0 {
            MIN_NODE_SCORE
        } else {
            (*s - lowest) * new_range / old_range + MIN_NODE_SCORE
        };
    }
}

/// Where a pod type stands on a node (the paper's quadrants; upstream's `FragRatioDataMap`
/// keys in `pkg/utils/frag.go`, in its order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FragKind {
    /// GPU pod, short of GPU and CPU.
    Q1LackBoth = 0,
    /// GPU pod, short of GPU only.
    Q2LackGpu = 1,
    /// GPU pod that fits.
    Q3Satisfied = 2,
    /// GPU pod, short of CPU only.
    Q4LackCpu = 3,
    /// Pod without GPUs that fits.
    XlSatisfied = 4,
    /// Pod without GPUs, short of CPU.
    XrLackCpu = 5,
    /// GPU pod that does not accept the node's model.
    NoAccess = 6,
}

fn classify_parts(
    cpu_free_milli: i64,
    model: Option<GpuModel>,
    gpu_free_milli: &[u16],
    t: &PodType,
) -> FragKind {
    let cpu_ok = cpu_free_milli >= t.cpu_milli;
    if t.gpu == GpuDemand::None {
        return if cpu_ok { FragKind::XlSatisfied } else { FragKind::XrLackCpu };
    }
    if !t.models.accepts(model) {
        return FragKind::NoAccess;
    }
    match (can_host(gpu_free_milli, t.gpu), cpu_ok) {
        (true, true) => FragKind::Q3Satisfied,
        (true, false) => FragKind::Q4LackCpu,
        (false, true) => FragKind::Q2LackGpu,
        (false, false) => FragKind::Q1LackBoth,
    }
}

/// Upstream `GetNodePodFrag` (`pkg/utils/utils.go`; also in `pkg/utils/frag.go`): the pod
/// type's quadrant on the node. Memory is not considered (upstream has none).
pub fn classify(node: &NodeView, t: &PodType) -> FragKind {
    classify_parts(node.cpu_free_milli, node.model, node.gpu_free_milli, t)
}

/// Upstream `GetGpuFragMilliByNodeResAndPodRes` (`pkg/utils/frag.go`): the free milli of the
/// devices with less than `per_gpu_milli` free.
pub fn gpu_frag_milli(gpu_free_milli: &[u16], per_gpu_milli: u16) -> i64 {
    gpu_free_milli.iter().filter(|&&m| m < per_gpu_milli).map(|&m| i64::from(m)).sum()
}

/// F_n(m): the GPU milli on the node that a pod of type `t` cannot use (paper §3): all the
/// free milli unless the type fits ([`FragKind::Q3Satisfied`]), then [`gpu_frag_milli`].
pub fn frag_milli(node: &NodeView, t: &PodType) -> i64 {
    match classify(node, t) {
        FragKind::Q3Satisfied => gpu_frag_milli(node.gpu_free_milli, t.gpu.gpu_milli()),
        _ => node.gpu_free_total(),
    }
}

/// A node's free GPU milli split by [`FragKind`], each weighted by the popularity weight of
/// the pod types (Σ weight × milli, exact). Upstream `FragAmount` of
/// `NodeGpuShareFragAmount` (`pkg/utils/frag.go`) is this divided by the workload's total
/// weight. A satisfied type's milli is split: the devices too small for it go to
/// [`FragKind::Q2LackGpu`], the rest to [`FragKind::Q3Satisfied`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FragAmount {
    pub weighted_milli: [u64; 7],
}

impl FragAmount {
    pub fn get(&self, kind: FragKind) -> u64 {
        self.weighted_milli[kind as usize]
    }

    /// Weighted fragmented milli: every kind but Q3 (`FragAmountSumExceptQ3`).
    pub fn fragmented(&self) -> u64 {
        self.weighted_milli.iter().sum::<u64>() - self.get(FragKind::Q3Satisfied)
    }

    /// Weighted free milli: all kinds (Σ weights × free milli of the node).
    pub fn idle(&self) -> u64 {
        self.weighted_milli.iter().sum()
    }
}

fn frag_amount_parts(
    cpu_free_milli: i64,
    model: Option<GpuModel>,
    gpu_free_milli: &[u16],
    wl: &TargetWorkload,
) -> FragAmount {
    let mut out = FragAmount::default();
    let left: u64 = gpu_free_milli.iter().map(|&m| u64::from(m)).sum();
    if left == 0 {
        return out;
    }
    for tp in &wl.types {
        let kind = classify_parts(cpu_free_milli, model, gpu_free_milli, &tp.pod);
        if kind == FragKind::Q3Satisfied {
            let frag = gpu_frag_milli(gpu_free_milli, tp.pod.gpu.gpu_milli()) as u64;
            out.weighted_milli[FragKind::Q2LackGpu as usize] += tp.weight * frag;
            out.weighted_milli[FragKind::Q3Satisfied as usize] += tp.weight * (left - frag);
        } else {
            out.weighted_milli[kind as usize] += tp.weight * left;
        }
    }
    out
}

/// The node's [`FragAmount`] under the target workload (upstream `NodeGpuShareFragAmount`).
pub fn node_frag_amount(node: &NodeView, wl: &TargetWorkload) -> FragAmount {
    frag_amount_parts(node.cpu_free_milli, node.model, node.gpu_free_milli, wl)
}

/// F_n(M) = Σ_m p_m F_n(m), the node's expected fragmented GPU milli (paper §3; upstream
/// `NodeGpuShareFragAmountScore`). 0 for an empty workload.
pub fn node_fragmentation(node: &NodeView, wl: &TargetWorkload) -> f64 {
    wl.expectation(node_frag_amount(node, wl).fragmented() as u128)
}

/// The cluster's fragmentation: sums over nodes (upstream `ClusterGpuFragReport`,
/// `pkg/simulator/analysis.go`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClusterFragmentation {
    /// Σ over nodes of [`FragAmount::weighted_milli`].
    pub weighted_milli: [u128; 7],
    /// The workload's total weight (the denominator of the expectations).
    pub total_weight: u64,
    /// Σ free GPU milli.
    pub idle_milli: i64,
    /// Σ GPUs × 1000.
    pub total_milli: i64,
}

impl ClusterFragmentation {
    /// Σ over nodes of the weighted fragmented milli (all kinds but Q3).
    pub fn fragmented_weighted(&self) -> u128 {
        self.weighted_milli.iter().sum::<u128>() - self.weighted_milli[FragKind::Q3Satisfied as usize]
    }

    /// Σ_n F_n(M): the expected fragmented GPU milli of the cluster (upstream's "Frag amount").
    pub fn fragmented_milli(&self) -> f64 {
        if self.total_weight == 0 {
            0.0
        } else {
            self.fragmented_weighted() as f64 / self.total_weight as f64
        }
    }

    /// Fragmented over free GPU milli, upstream's "Frag ratio" (`fragGpuMilli / idleGpuMilli`,
    /// the idle amount being the sum of all kinds, i.e. the free milli when the popularities
    /// sum to 1). 0 when nothing is free.
    pub fn ratio_of_idle(&self) -> f64 {
        let all: u128 = self.weighted_milli.iter().sum();
        if all == 0 { 0.0 } else { self.fragmented_weighted() as f64 / all as f64 }
    }

    /// Fragmented over all GPU milli of the cluster. 0 for a cluster without GPUs.
    pub fn ratio_of_total(&self) -> f64 {
        if self.total_milli == 0 { 0.0 } else { self.fragmented_milli() / self.total_milli as f64 }
    }
}

/// Sums the nodes' fragmentation under the target workload.
pub fn cluster_fragmentation<'a>(
    nodes: impl IntoIterator<Item = NodeView<'a>>,
    wl: &TargetWorkload,
) -> ClusterFragmentation {
    let mut out = ClusterFragmentation { total_weight: wl.total_weight, ..ClusterFragmentation::default() };
    for node in nodes {
        let amount = node_frag_amount(&node, wl);
        for (sum, &x) in out.weighted_milli.iter_mut().zip(&amount.weighted_milli) {
            *sum += u128::from(x);
        }
        out.idle_milli += node.gpu_free_total();
        out.total_milli += node.gpu_free_milli.len() as i64 * i64::from(GPU_MILLI);
    }
    out
}

/// `sigmoid` (`pkg/simulator/plugin/plugin_utils.go`).
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// FGD's score from the weighted fragmentation before and after a placement:
/// `⌊100 · sigmoid((F_before − F_after) / 1000)⌋` with F in expected milli.
fn fgd_from(before: u64, after: u64, total_weight: u64) -> i64 {
    let x = if total_weight == 0 {
        0.0
    } else {
        (before as i64 - after as i64) as f64 / total_weight as f64 / f64::from(GPU_MILLI)
    };
    (sigmoid(x) * MAX_NODE_SCORE as f64) as i64
}

/// FGD on one node (`fgd_score.go` `Score` and `calculateGpuShareFragExtendScore`): the
/// score and the devices. A pod that requests nothing scores 100 and takes no device. A
/// share tries every device with enough free milli (cpu taken too) and keeps the highest
/// integer score, the lowest index on ties; whole GPUs take the first wholly free devices,
/// a pod without GPUs only cpu (`NodeResource.Sub`). `None` when the pod's models exclude the
/// node or its GPUs cannot be placed (upstream's error or empty-device cases; the caller
/// filters with [`fits`] first).
pub fn fgd_place(node: &NodeView, pod: &PodRequest, wl: &TargetWorkload) -> Option<(i64, Assignment)> {
    if pod.cpu_milli == 0 && pod.mem_bytes == 0 && pod.gpu == GpuDemand::None {
        return Some((MAX_NODE_SCORE, Assignment::NONE));
    }
    let free = node.gpu_free_milli;
    if !pod.models.accepts(node.model) || free.len() > MAX_GPUS_PER_NODE {
        return None;
    }
    let n = free.len();
    let before = node_frag_amount(node, wl).fragmented();
    let cpu_after = node.cpu_free_milli - pod.cpu_milli;
    let mut trial = [0u16; MAX_GPUS_PER_NODE];
    trial[..n].copy_from_slice(free);
    let score_of = |devices: &[u16]| {
        let after = frag_amount_parts(cpu_after, node.model, devices, wl).fragmented();
        fgd_from(before, after, wl.total_weight)
    };
    match pod.gpu {
        GpuDemand::Share(milli) => {
            let mut best: Option<(i64, Assignment)> = None;
            for i in 0..n {
                if free[i] < milli {
                    continue;
                }
                trial[i] -= milli;
                let s = score_of(&trial[..n]);
                trial[i] += milli;
                if best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, Assignment::one(i, milli)));
                }
            }
            best
        }
        GpuDemand::Whole(k) => {
            let a = exclusive(free, k)?;
            for i in a.device_indexes() {
                trial[i] = 0;
            }
            Some((score_of(&trial[..n]), a))
        }
        GpuDemand::None => Some((score_of(&trial[..n]), Assignment::NONE)),
    }
}

/// FGD's score of the node ([`fgd_place`]'s score, [`MIN_NODE_SCORE`] where it has none).
/// Higher means the placement adds less expected fragmentation: 50 for no change.
pub fn fgd_score(node: &NodeView, pod: &PodRequest, wl: &TargetWorkload) -> i64 {
    fgd_place(node, pod, wl).map_or(MIN_NODE_SCORE, |(s, _)| s)
}

/// A pod type of the target workload with its popularity weight (a pod count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetPodType {
    pub pod: PodType,
    pub weight: u64,
}

/// How the target workload is made from the pods (upstream `TypicalPodsConfig`). The
/// default is the paper's runs (`scripts/generate_config_and_run.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypicalPodsConfig {
    /// Count pods without GPUs too (`isInvolvedCpuPods`, default true).
    pub include_cpu_pods: bool,
    /// Keep the most popular types until they cover this percentage of the pods
    /// (`podPopularityThreshold`, default 95; 0 means upstream's fallback 60).
    pub popularity_threshold_pct: u64,
    /// Types added per step (`podIncreaseStep`, default 1; 0 means upstream's fallback 10).
    pub increase_step: usize,
}

impl Default for TypicalPodsConfig {
    fn default() -> Self {
        TypicalPodsConfig { include_cpu_pods: true, popularity_threshold_pct: 95, increase_step: 1 }
    }
}

/// The target workload M: pod types with popularity weights; p_m = weight / total weight.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetWorkload {
    types: Vec<TargetPodType>,
    total_weight: u64,
}

impl TargetWorkload {
    /// The types with their weights; the total weight is their sum.
    pub fn new(types: Vec<TargetPodType>) -> Self {
        let total_weight = types.iter().map(|t| t.weight).sum();
        TargetWorkload { types, total_weight }
    }

    /// The types with an explicit total weight, for popularities that do not sum to 1 (as in
    /// upstream's test tables, percentages of a larger workload).
    pub fn with_total_weight(types: Vec<TargetPodType>, total_weight: u64) -> Self {
        TargetWorkload { types, total_weight }
    }

    /// Upstream `GetTypicalPods` (`pkg/utils/frag.go`): counts the pods of each type
    /// (skipping pods without GPUs unless `include_cpu_pods`), sorts the types by decreasing
    /// count (ties: the greater type first, `sort.Reverse` of `TargetPodList.Less`,
    /// `pkg/type/resource.go`), and keeps `increase_step` more types while the kept pods are
    /// fewer than `popularity_threshold_pct`% of all counted pods. The weights are the kept
    /// types' counts, so p_m = count / kept pods, upstream's renormalised percentage.
    pub fn from_pods(pods: impl IntoIterator<Item = PodType>, config: &TypicalPodsConfig) -> Self {
        let mut counts: BTreeMap<PodType, u64> = BTreeMap::new();
        for p in pods {
            if !config.include_cpu_pods && p.gpu == GpuDemand::None {
                continue;
            }
            *counts.entry(p).or_insert(0) += 1;
        }
        let total: u64 = counts.values().sum();
        let mut list: Vec<TargetPodType> =
            counts.into_iter().map(|(pod, weight)| TargetPodType { pod, weight }).collect();
        list.sort_by(|a, b| b.weight.cmp(&a.weight).then(b.pod.cmp(&a.pod)));
        let threshold =
            if config.popularity_threshold_pct > 0 { config.popularity_threshold_pct } else { 60 };
        let step = if config.increase_step > 0 { config.increase_step } else { 10 };
        // `cumNumPods < threshold * total / 100.0`, exact in integers.
        let mut kept = 0usize;
        let mut end = 0usize;
        let mut cum: u64 = 0;
        while u128::from(cum) * 100 < u128::from(threshold) * u128::from(total) && kept < list.len() {
            end += step;
            while kept < end && kept < list.len() {
                cum += list[kept].weight;
                kept += 1;
            }
        }
        list.truncate(kept);
        TargetWorkload { types: list, total_weight: cum }
    }

    pub fn types(&self) -> &[TargetPodType] {
        &self.types
    }

    pub fn total_weight(&self) -> u64 {
        self.total_weight
    }

    /// p_m of the i-th type.
    pub fn popularity(&self, i: usize) -> f64 {
        self.expectation(u128::from(self.types[i].weight))
    }

    /// A weighted sum divided by the total weight (0 for an empty workload).
    fn expectation(&self, weighted: u128) -> f64 {
        if self.total_weight == 0 { 0.0 } else { weighted as f64 / self.total_weight as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const fn model(id: u8) -> GpuModel {
        match GpuModel::new(id) {
            Some(m) => m,
            None => panic!("model id"),
        }
    }
    const A: GpuModel = model(0);
    const B: GpuModel = model(1);

    fn demand(num_gpu: u32, gpu_milli: u32) -> GpuDemand {
        GpuDemand::from_counts(num_gpu, gpu_milli).expect("valid shape")
    }

    fn pod(cpu_milli: i64, num_gpu: u32, gpu_milli: u32) -> PodRequest {
        PodRequest { cpu_milli, mem_bytes: 0, gpu: demand(num_gpu, gpu_milli), models: ModelSet::ANY }
    }

    fn node(cpu_free_milli: i64, gpu_free_milli: &[u16]) -> NodeView<'_> {
        NodeView {
            cpu_free_milli,
            cpu_total_milli: 64_000,
            mem_free_bytes: 1 << 40,
            mem_total_bytes: 1 << 40,
            model: Some(A),
            gpu_free_milli,
            gpu_classes: GpuClassSet::EMPTY,
        }
    }

    fn tp(cpu_milli: i64, num_gpu: u32, gpu_milli: u32, weight: u64) -> TargetPodType {
        TargetPodType { pod: pod(cpu_milli, num_gpu, gpu_milli).pod_type(), weight }
    }

    #[test]
    fn demand_shapes() {
        assert_eq!(GpuDemand::from_counts(0, 0), Some(GpuDemand::None));
        assert_eq!(GpuDemand::from_counts(1, 500), Some(GpuDemand::Share(500)));
        assert_eq!(GpuDemand::from_counts(1, 1000), Some(GpuDemand::Whole(1)));
        assert_eq!(GpuDemand::from_counts(8, 1000), Some(GpuDemand::Whole(8)));
        // Shapes the simulator does not schedule (a share of two GPUs: "the pod requests more
        // than one share gpu, should not happen"), or inconsistent counts.
        assert_eq!(GpuDemand::from_counts(2, 500), None);
        assert_eq!(GpuDemand::from_counts(0, 500), None);
        assert_eq!(GpuDemand::from_counts(1, 0), None);
        assert_eq!(GpuDemand::from_counts(1, 1001), None);
        assert_eq!(GpuDemand::from_counts(33, 1000), None);
        assert_eq!(demand(4, 1000).total_milli(), 4000);
        assert_eq!(demand(1, 250).total_milli(), 250);
    }

    #[test]
    fn models_accept_like_is_node_accessible_to_pod_by_type() {
        assert!(ModelSet::ANY.accepts(Some(A)));
        assert!(ModelSet::ANY.accepts(None));
        assert!(ModelSet::ANY.with(A).accepts(Some(A)));
        assert!(!ModelSet::ANY.with(A).accepts(Some(B)));
        assert!(ModelSet::ANY.with(A).with(B).accepts(Some(B)));
        assert!(!ModelSet::ANY.with(A).accepts(None), "a CPU node matches no listed model");
        assert_eq!(GpuModel::new(64), None);
    }

    /// Shares go on one device with enough free milli, the tightest, first on ties
    /// (`allocateGpuIdBasedOnBestFit`); whole GPUs on the first wholly free devices.
    #[test]
    fn tightest_share_and_exclusive_whole_gpus() {
        let free = [1000, 600, 300, 600];
        let n = node(32_000, &free);
        let share = |m| assign_devices(&n, &pod(1000, 1, m), DevicePick::Tightest);
        assert_eq!(share(500), Some(Assignment::one(1, 500)), "600 is tightest; device 1 before 3");
        assert_eq!(share(300), Some(Assignment::one(2, 300)), "an exact fit");
        assert_eq!(share(700), Some(Assignment::one(0, 700)), "only the free device has room");
        let whole = |k| assign_devices(&n, &pod(1000, k, 1000), DevicePick::Tightest);
        assert_eq!(whole(1), Some(Assignment::new(0b0001, 1000)));
        assert_eq!(whole(2), None, "one wholly free device; 600 + 600 does not make a GPU");
        assert_eq!(assign_devices(&n, &pod(1000, 0, 0), DevicePick::Tightest), Some(Assignment::NONE));
        let full = [0, 0];
        assert_eq!(
            assign_devices(&node(0, &full), &pod(1000, 0, 0), DevicePick::Tightest),
            Some(Assignment::NONE)
        );
        assert_eq!(assign_devices(&node(0, &full), &pod(1000, 1, 10), DevicePick::Tightest), None);
    }

    #[test]
    fn uniform_pick_covers_the_fitting_devices_in_index_order() {
        let free = [1000, 100, 600, 300];
        let n = node(32_000, &free);
        let p = pod(1000, 1, 300);
        let at = |draw| {
            assign_devices(&n, &p, DevicePick::Uniform(draw)).map(|a| a.device_indexes().next().unwrap())
        };
        // Fitting devices: 0, 2, 3; the draw picks ⌊draw · 3 / 2^64⌋ among them.
        assert_eq!(at(0), Some(0));
        assert_eq!(at(u64::MAX / 3 + 1), Some(2));
        assert_eq!(at(u64::MAX), Some(3));
        assert_eq!(random_pick(4, 1 << 63), 2);
        assert_eq!(random_pick(0, 12345), 0);
    }

    #[test]
    fn model_constraints() {
        let free = [1000, 1000];
        let mut n = node(32_000, &free);
        let mut p = pod(1000, 1, 1000);
        p.models = ModelSet::ANY.with(B);
        assert_eq!(assign_devices(&n, &p, DevicePick::Tightest), None);
        assert!(!fits(&n, &p));
        n.model = Some(B);
        assert!(assign_devices(&n, &p, DevicePick::Tightest).is_some());
        assert!(fits(&n, &p));
        // A pod without GPUs ignores the node's model (the GPU filter passes it).
        let mut cpu_pod = pod(1000, 0, 0);
        cpu_pod.models = ModelSet::ANY.with(A);
        assert!(fits(&n, &cpu_pod));
        // A node without GPUs takes no GPU pod, constrained or not.
        let none: [u16; 0] = [];
        let cpu_node = NodeView { model: None, ..node(32_000, &none) };
        assert!(!fits(&cpu_node, &pod(1000, 1, 100)));
        assert!(fits(&cpu_node, &pod(1000, 0, 0)));
    }

    #[test]
    fn fits_checks_cpu_and_memory_like_fits_request() {
        let free = [1000];
        let mut n = node(4000, &free);
        n.mem_free_bytes = 1 << 30;
        assert!(fits(&n, &pod(4000, 1, 1000)));
        assert!(!fits(&n, &pod(4001, 0, 0)));
        let mut p = pod(0, 0, 0);
        p.mem_bytes = (1 << 30) + 1;
        assert!(!fits(&n, &p));
        n.cpu_free_milli = -5;
        assert!(fits(&n, &pod(0, 0, 0)), "a zero request is not checked");
    }

    /// Upstream `TestNodeResource_Sub` then `TestNodeResource_Add`
    /// (`pkg/type/resource_test.go`): 2 whole GPUs on [200, 1000, 1000, 500] take devices 1
    /// and 2, and giving them back restores the node.
    #[test]
    fn node_resource_sub_and_add() {
        let mut free = [200, 1000, 1000, 500];
        let a = assign_devices(&node(1000, &free), &pod(100, 2, 1000), DevicePick::Tightest).unwrap();
        assert_eq!(a.device_indexes().collect::<Vec<_>>(), [1, 2]);
        a.apply(&mut free);
        assert_eq!(free, [200, 0, 0, 500]);
        a.release(&mut free);
        assert_eq!(free, [200, 1000, 1000, 500]);
    }

    #[test]
    #[should_panic(expected = "device 0 has 100 milli free")]
    fn apply_refuses_to_overdraw_a_device() {
        Assignment::one(0, 200).apply(&mut [100]);
    }

    #[test]
    #[should_panic(expected = "given back")]
    fn release_refuses_to_exceed_a_gpu() {
        Assignment::one(0, 200).release(&mut [900]);
    }

    fn arb_node() -> impl Strategy<Value = (Vec<u16>, i64, bool)> {
        (
            prop::collection::vec(prop::sample::select(vec![0u16, 100, 250, 500, 750, 999, 1000]), 0..9),
            0i64..40_000,
            any::<bool>(),
        )
    }

    fn arb_pod() -> impl Strategy<Value = (i64, u32, u32, bool)> {
        let shape = prop_oneof![
            Just((0u32, 0u32)),
            (1u32..1000).prop_map(|m| (1, m)),
            (1u32..9).prop_map(|k| (k, 1000))
        ];
        (0i64..40_000, shape, any::<bool>()).prop_map(|(cpu, (k, m), constrained)| (cpu, k, m, constrained))
    }

    proptest! {
        /// Whatever the pick, an assignment fits its devices, whole GPUs use only wholly free
        /// devices, a share one device, the model constraint holds, and release undoes apply.
        #[test]
        fn assignments_respect_devices_and_models((free, cpu, is_a) in arb_node(), (pcpu, k, m, constrained) in arb_pod(), draw in any::<u64>()) {
            let wl = TargetWorkload::new(vec![tp(2000, 1, 500, 3), tp(4000, 1, 1000, 1), tp(1000, 0, 0, 1)]);
            let mut n = node(cpu, &free);
            n.model = Some(if is_a { A } else { B });
            let mut p = pod(pcpu, k, m);
            if constrained {
                p.models = ModelSet::ANY.with(A);
            }
            for pick in [DevicePick::Tightest, DevicePick::Uniform(draw), DevicePick::Fgd(&wl)] {
                let got = assign_devices(&n, &p, pick);
                prop_assert_eq!(got.is_some(), gpu_fits(&n, &p));
                let Some(a) = got else { continue };
                prop_assert!(!constrained || is_a || p.gpu == GpuDemand::None);
                prop_assert_eq!(a.devices().count_ones(), p.gpu.num_gpu());
                prop_assert_eq!(a.milli_per_device(), p.gpu.gpu_milli());
                for i in a.device_indexes() {
                    prop_assert!(i < free.len());
                    prop_assert!(free[i] >= a.milli_per_device());
                    if let GpuDemand::Whole(_) = p.gpu {
                        prop_assert_eq!(free[i], GPU_MILLI);
                    }
                }
                let mut after = free.clone();
                a.apply(&mut after);
                a.release(&mut after);
                prop_assert_eq!(&after, &free);
            }
        }
    }

    #[test]
    fn random_scores_the_drawn_node_only() {
        let picked = random_pick(5, u64::MAX / 2);
        assert_eq!(picked, 2);
        let scores: Vec<i64> = (0..5).map(|i| random_score(i, picked)).collect();
        assert_eq!(scores, [0, 0, 100, 0, 0]);
    }

    /// Hand-computed DotProd (`merge`, `max`).
    #[test]
    fn dot_product_by_hand() {
        let free = [1000, 1000, 500, 200];
        // Node (32000/128000, 2700/8000) = (0.25, 0.3375); pod (8000/128000, 300/8000) =
        // (0.0625, 0.0375). d = 0.015625 + 0.01265625 = 0.02828125; 100 · (1 − d/2) = 98.59 → 98.
        assert_eq!(dot_product_score(&node(32_000, &free), &pod(8000, 1, 300)), 98);
        // One whole GPU: pod (0.0625, 0.125); d = 0.015625 + 0.0421875 = 0.0578125;
        // 100 · (1 − 0.02890625) = 97.11 → 97.
        assert_eq!(dot_product_score(&node(32_000, &free), &pod(8000, 1, 1000)), 97);
        // Free cpu below the request: no vector, 0.
        assert_eq!(dot_product_score(&node(4000, &free), &pod(8000, 1, 300)), 0);
    }

    /// Upstream `TestCalculateVectorDotProduct` (`pkg/utils/utils_test.go`), on the
    /// normalised dot product behind DotProd (vectors (cpu, GPU milli) of node and pod, the
    /// node capacities as normaliser).
    #[test]
    fn calculate_vector_dot_product_table() {
        type V = [f64; 2];
        let rows: [(V, V, V, f64); 5] = [
            ([1000.0, 1150.0], [500.0, 500.0], [2000.0, 4000.0], 0.1609375),
            ([1000.0, 1150.0], [500.0, 500.0], [2000.0, 4000.0], 0.1609375),
            ([500.0, 575.0], [500.0, 500.0], [2000.0, 4000.0], 0.08046875),
            ([0.0, 2000.0], [1000.0, 20.0], [2000.0, 2000.0], 0.01),
            ([8000.0, 1000.0], [4000.0, 1000.0], [8000.0, 1000.0], 1.5),
        ];
        for (i, (n, p, cap, want)) in rows.into_iter().enumerate() {
            let got = normalized_dot(n, p, cap);
            assert!((got - want).abs() < 1e-3, "row {i}: {got} vs {want}");
        }
    }

    /// Hand-computed GpuClustering: free GPU milli 2700 → base 25 · 5300 / 8000 = 16.
    #[test]
    fn gpu_clustering_by_hand() {
        let free = [1000, 1000, 500, 200];
        let with = |classes: &[GpuDemand]| {
            let mut n = node(32_000, &free);
            for &c in classes {
                n.gpu_classes = n.gpu_classes.with(c);
            }
            gpu_clustering_score(&n, &pod(1000, 1, 300))
        };
        let share = GpuDemand::Share(100);
        assert_eq!(with(&[share]), 16 + 75, "only shares on the node");
        assert_eq!(with(&[share, demand(2, 1000)]), 16 + 50, "shares among others");
        assert_eq!(with(&[]), 16 + 25, "no GPU pod");
        assert_eq!(with(&[demand(1, 1000)]), 16, "other classes only");
        // An idle 8-GPU node: base 25 · 0 / 8000 = 0, + 25.
        let idle = [1000; 8];
        assert_eq!(gpu_clustering_score(&node(0, &idle), &pod(1000, 4, 1000)), 25);
        assert_eq!(gpu_clustering_score(&node(0, &idle), &pod(1000, 0, 0)), 0, "a pod without GPUs");
        // Classes: a 2-GPU pod is not in a node holding 1-GPU pods and shares.
        let set = GpuClassSet::EMPTY.with(demand(1, 1000)).with(GpuDemand::Share(5));
        assert!(!set.contains(demand(2, 1000)));
        assert!(set.contains(GpuDemand::Share(999)));
        assert_eq!(set.len(), 2);
        assert!(!set.contains(GpuDemand::None));
    }

    /// Upstream `TestGpuPackingScorePlugin_Score` (`pkg/simulator/plugin/gpu_packing_score_test.go`),
    /// on `getPackingScore`'s walk with upstream's raw (GPU count, milli): its case-1 pod asks
    /// 2 × 200 milli, a shape [`GpuDemand`] does not admit.
    #[test]
    fn gpu_packing_table() {
        let rows: [(&[u16], u32, u16, i64); 4] = [
            // case-2: two GPUs must come from the free devices: 50 − 2.
            (&[200, 1000, 1000, 500], 2, 1000, 48),
            // case-3, 4 GPUs: 33 − 4.
            (&[1000, 1000, 1000, 1000], 2, 1000, 29),
            // case-3, 8 GPUs: 33 − 8.
            (&[1000; 8], 2, 1000, 25),
            // case-1: 200 and 500 used: 100 − (20 + 50) / 10.
            (&[200, 1000, 1000, 500], 2, 200, 93),
        ];
        for (i, (free, num, milli, want)) in rows.into_iter().enumerate() {
            assert_eq!(packing(free, num, milli), want, "row {i}");
        }
        // The same through the score where the shape is one a pod can have.
        assert_eq!(gpu_packing_score(&node(1000, &[200, 1000, 1000, 500]), &pod(100, 2, 1000)), 48);
        assert_eq!(gpu_packing_score(&node(1000, &[1000; 8]), &pod(100, 2, 1000)), 25);
    }

    /// Hand-computed GpuPacking for a share.
    #[test]
    fn gpu_packing_by_hand() {
        // [1000, 1000, 500, 200], share 300: sorted 200, 500, 1000, 1000; 500 is used,
        // 100 − (500·100/1000)/10 = 95.
        assert_eq!(gpu_packing_score(&node(32_000, &[1000, 1000, 500, 200]), &pod(1000, 1, 300)), 95);
        // Share 700: only a free device fits: 50 − 1.
        assert_eq!(gpu_packing_score(&node(32_000, &[1000, 1000, 500, 200]), &pod(1000, 1, 700)), 49);
        // A share on a nearly empty shared device: 100 − 99/10 = 91 (capped at 50 only below).
        assert_eq!(gpu_packing_score(&node(32_000, &[999, 0]), &pod(1000, 1, 10)), 91);
        assert_eq!(gpu_packing_score(&node(32_000, &[1000, 0]), &pod(1000, 0, 0)), 0, "a pod without GPUs");
    }

    /// Hand-computed BestFit, then the min-max normalisation over three nodes.
    #[test]
    fn best_fit_by_hand() {
        // (32000 − 8000)/128000 · 0.5 = 0.09375; (2700 − 300)/8000 · 0.5 = 0.15;
        // (1 − 0.24375) · 100 = 75.625 → 75.
        let p = pod(8000, 1, 300);
        let a = best_fit_score(&node(32_000, &[1000, 1000, 500, 200]), &p);
        assert_eq!(a, 75);
        // An exact fit leaves nothing: 100.
        let b = best_fit_score(&node(8000, &[300]), &p);
        assert_eq!(b, 100);
        // (40000 − 8000)/128000 · 0.5 = 0.125; (8000 − 300)/8000 · 0.5 = 0.48125;
        // (1 − 0.60625) · 100 = 39.375 → 39.
        let c = best_fit_score(&node(40_000, &[1000; 8]), &p);
        assert_eq!(c, 39);
        let mut scores = [a, b, c];
        normalize_min_max(&mut scores);
        // (75 − 39) · 100 / 61 = 59.
        assert_eq!(scores, [59, 100, 0]);
        let mut same = [7, 7];
        normalize_min_max(&mut same);
        assert_eq!(same, [0, 0]);
        normalize_min_max(&mut []);
    }

    /// The 3-type workload of the hand-computed fragmentation and FGD cases:
    /// A share 500 with 4000m (weight 2), B one whole GPU with 8000m (1), C 2000m without
    /// GPU (1); total weight 4.
    fn small_workload() -> TargetWorkload {
        TargetWorkload::new(vec![tp(4000, 1, 500, 2), tp(8000, 1, 1000, 1), tp(2000, 0, 0, 1)])
    }

    /// Node [1000, 600, 300] with 16000m free; 1900 milli free:
    /// - A fits (1000 and 600 ≥ 500): Q3; its fragment is the 300 device → Q2 += 2·300, Q3 += 2·1600;
    /// - B fits (one free device): Q3; fragment 600 + 300 → Q2 += 900, Q3 += 1000;
    /// - C has no GPU: XL, all 1900 → XL += 1900.
    ///
    /// Fragmented = 600 + 900 + 1900 = 3400 weighted; F_n(M) = 3400 / 4 = 850 milli.
    #[test]
    fn node_fragmentation_by_hand() {
        let wl = small_workload();
        let free = [1000, 600, 300];
        let n = node(16_000, &free);
        let amount = node_frag_amount(&n, &wl);
        assert_eq!(amount.get(FragKind::Q2LackGpu), 600 + 900);
        assert_eq!(amount.get(FragKind::Q3Satisfied), 3200 + 1000);
        assert_eq!(amount.get(FragKind::XlSatisfied), 1900);
        assert_eq!(amount.fragmented(), 3400);
        assert_eq!(amount.idle(), 4 * 1900);
        assert_eq!(node_fragmentation(&n, &wl), 850.0);
        assert_eq!(frag_milli(&n, &wl.types()[0].pod), 300);
        assert_eq!(frag_milli(&n, &wl.types()[1].pod), 900);
        assert_eq!(frag_milli(&n, &wl.types()[2].pod), 1900);
        // With 3000m free, A and B lack cpu (Q4) and C still fits: everything is fragmented.
        let short = node(3000, &free);
        assert_eq!(classify(&short, &wl.types()[0].pod), FragKind::Q4LackCpu);
        assert_eq!(classify(&short, &wl.types()[2].pod), FragKind::XlSatisfied);
        assert_eq!(node_fragmentation(&short, &wl), 1900.0);
        // A model the types do not accept: NoAccess, all fragmented.
        let mut constrained = wl.types()[0].pod;
        constrained.models = ModelSet::ANY.with(B);
        assert_eq!(classify(&n, &constrained), FragKind::NoAccess);
        assert_eq!(frag_milli(&n, &constrained), 1900);
        // A node with nothing free has no fragment.
        assert_eq!(node_fragmentation(&node(16_000, &[0, 0]), &wl), 0.0);
    }

    /// FGD on the node above (before: 3400 weighted).
    /// - Share 500 (4000m) on device 0 → [500, 600, 300], 12000m: A fragment 300 → 600;
    ///   B has no free device → Q2, 1400; C 1400; after 3400, Δ 0 → sigmoid(0) = 0.5 → 50.
    /// - On device 1 → [1000, 100, 300]: A fragment 400 → 800; B fragment 400; C 1400;
    ///   after 2600, Δ = 800/4 = 200 milli → sigmoid(0.2) = 0.5498 → 54. Device 1 wins.
    /// - Device 2 (300) cannot take it.
    #[test]
    fn fgd_by_hand() {
        let wl = small_workload();
        let free = [1000, 600, 300];
        let n = node(16_000, &free);
        let share = pod(4000, 1, 500);
        assert_eq!(fgd_place(&n, &share, &wl), Some((54, Assignment::one(1, 500))));
        assert_eq!(assign_devices(&n, &share, DevicePick::Fgd(&wl)), Some(Assignment::one(1, 500)));
        // Whole GPU (8000m) → [0, 600, 300], 8000m: A 600, B Q2 900, C 900; after 2400,
        // Δ = 1000/4 = 250 → sigmoid(0.25) = 0.5622 → 56.
        assert_eq!(fgd_place(&n, &pod(8000, 1, 1000), &wl), Some((56, Assignment::new(1, 1000))));
        // No GPU, 14000m → 2000m left: A and B lack cpu (Q4, 1900 each weighted 2 and 1),
        // C fits (1900); after 7600, Δ = −4200/4 = −1050 → sigmoid(−1.05) = 0.2592 → 25.
        assert_eq!(fgd_score(&n, &pod(14_000, 0, 0), &wl), 25);
        // A pod that requests nothing: 100.
        assert_eq!(fgd_score(&n, &pod(0, 0, 0), &wl), 100);
        // An empty workload: no fragmentation anywhere, every placement 50.
        assert_eq!(fgd_score(&n, &share, &TargetWorkload::default()), 50);
        // Placements that cannot happen score 0.
        assert_eq!(fgd_score(&n, &pod(1000, 2, 1000), &wl), 0);
        let mut constrained = share;
        constrained.models = ModelSet::ANY.with(B);
        assert_eq!(fgd_score(&n, &constrained, &wl), 0);
    }

    /// Ties keep the lowest device: two equal devices give the same score.
    #[test]
    fn fgd_ties_keep_the_first_device() {
        let wl = small_workload();
        let free = [600, 600];
        let got = fgd_place(&node(16_000, &free), &pod(4000, 1, 500), &wl).unwrap();
        assert_eq!(got.1, Assignment::one(0, 500));
    }

    /// Three nodes: the node above (3400 weighted, 1900 free), a full node and a node without
    /// GPUs. Fragmented milli 3400/4 = 850; of the idle 1900: 850/1900; of all 5000: 0.17.
    #[test]
    fn cluster_fragmentation_by_hand() {
        let wl = small_workload();
        let a = [1000, 600, 300];
        let b = [0, 0];
        let c: [u16; 0] = [];
        let nodes = [node(16_000, &a), node(0, &b), NodeView { model: None, ..node(8000, &c) }];
        let f = cluster_fragmentation(nodes, &wl);
        assert_eq!(f.idle_milli, 1900);
        assert_eq!(f.total_milli, 5000);
        assert_eq!(f.fragmented_milli(), 850.0);
        assert!((f.ratio_of_idle() - 850.0 / 1900.0).abs() < 1e-12);
        assert!((f.ratio_of_total() - 0.17).abs() < 1e-12);
        let empty = cluster_fragmentation([], &wl);
        assert_eq!(
            (empty.fragmented_milli(), empty.ratio_of_idle(), empty.ratio_of_total()),
            (0.0, 0.0, 0.0)
        );
    }

    /// 100 pods: 60 of type P, 30 of Q, 6 of R, 4 of S. The cut at 95%: P (60), Q (90), R (96)
    /// are kept; p = 60/96, 30/96, 6/96.
    #[test]
    fn target_workload_from_pods_keeps_the_popular_types() {
        let p = pod(4000, 1, 500).pod_type();
        let q = pod(8000, 1, 1000).pod_type();
        let r = pod(2000, 0, 0).pod_type();
        let s = pod(16_000, 4, 1000).pod_type();
        let pods = std::iter::repeat_n(s, 4)
            .chain(std::iter::repeat_n(p, 60))
            .chain(std::iter::repeat_n(r, 6))
            .chain(std::iter::repeat_n(q, 30));
        let wl = TargetWorkload::from_pods(pods.clone(), &TypicalPodsConfig::default());
        assert_eq!(
            wl.types(),
            [
                TargetPodType { pod: p, weight: 60 },
                TargetPodType { pod: q, weight: 30 },
                TargetPodType { pod: r, weight: 6 }
            ]
        );
        assert_eq!(wl.total_weight(), 96);
        assert_eq!(wl.popularity(0), 0.625);
        // Without pods lacking GPUs: 94 counted, 95% = 89.3: P (60), Q (90) kept.
        let gpu_only = TypicalPodsConfig { include_cpu_pods: false, ..TypicalPodsConfig::default() };
        let wl = TargetWorkload::from_pods(pods.clone(), &gpu_only);
        assert_eq!(wl.types().iter().map(|t| t.weight).collect::<Vec<_>>(), [60, 30]);
        // Threshold 100 keeps every type.
        let all = TypicalPodsConfig { popularity_threshold_pct: 100, ..TypicalPodsConfig::default() };
        assert_eq!(TargetWorkload::from_pods(pods.clone(), &all).total_weight(), 100);
        // Upstream's fallbacks (threshold 60, step 10): 10 types at once, so all four.
        let fallback =
            TypicalPodsConfig { include_cpu_pods: true, popularity_threshold_pct: 0, increase_step: 0 };
        assert_eq!(TargetWorkload::from_pods(pods, &fallback).types().len(), 4);
        assert_eq!(TargetWorkload::from_pods([], &TypicalPodsConfig::default()), TargetWorkload::default());
    }

    /// Equal counts: the greater type first (`sort.Reverse` of `PodResource.Less`: cpu, then
    /// GPU milli, then GPU count).
    #[test]
    fn target_workload_ties_put_the_greater_type_first() {
        let small = pod(1000, 1, 500).pod_type();
        let share_more = pod(1000, 1, 700).pod_type();
        let whole = pod(1000, 1, 1000).pod_type();
        let big_cpu = pod(2000, 0, 0).pod_type();
        let all = TypicalPodsConfig { popularity_threshold_pct: 100, ..TypicalPodsConfig::default() };
        let wl = TargetWorkload::from_pods([small, whole, big_cpu, share_more], &all);
        let order: Vec<PodType> = wl.types().iter().map(|t| t.pod).collect();
        assert_eq!(order, [big_cpu, whole, share_more, small]);
    }

    #[test]
    fn policies_pick_devices_as_the_paper_runs_configure_them() {
        let wl = small_workload();
        let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["Random", "DotProd", "GpuClustering", "GpuPacking", "BestFit", "FGD"]);
        for p in Policy::ALL {
            let pick = p.device_pick(7, &wl);
            match p {
                Policy::Random => assert!(matches!(pick, DevicePick::Uniform(7))),
                Policy::Fgd => assert!(matches!(pick, DevicePick::Fgd(_))),
                _ => assert!(matches!(pick, DevicePick::Tightest)),
            }
            assert_eq!(p.normalizes(), p == Policy::BestFit);
        }
    }

    // ---- Upstream `pkg/utils/frag_test.go` ----

    const M1080: GpuModel = model(10);
    const M2080: GpuModel = model(11);
    const T4: GpuModel = model(12);
    const P100: GpuModel = model(13);
    const V100M16: GpuModel = model(14);

    /// A typical pod of the upstream tables: (cpu, gpu milli, gpu count, model, percentage ×
    /// 100). The weights are hundredths of a percent over a total of 10000, so the weighted
    /// sums divided by the total are upstream's `Percentage`-weighted amounts.
    type Typical = (i64, u32, u32, Option<GpuModel>, u64);

    fn workload(rows: &[Typical]) -> TargetWorkload {
        let types = rows
            .iter()
            .map(|&(cpu, milli, num, m, pct100)| {
                let gpu = if num == 0 { GpuDemand::None } else { demand(num, milli) };
                let models = m.map_or(ModelSet::ANY, |m| ModelSet::ANY.with(m));
                TargetPodType { pod: PodType { cpu_milli: cpu, gpu, models }, weight: pct100 }
            })
            .collect();
        TargetWorkload::with_total_weight(types, 10_000)
    }

    /// Upstream `TestingGenerateGetTypicalPods`.
    const TYPICAL: &[Typical] = &[
        (6000, 465, 1, None, 933),
        (8000, 440, 1, Some(M2080), 915),
        (8000, 475, 1, Some(T4), 876),
        (8000, 440, 1, Some(P100), 872),
        (2000, 465, 1, None, 868),
        (12000, 900, 1, None, 865),
        (4000, 900, 1, None, 843),
        (16000, 678, 1, Some(T4), 836),
        (8000, 500, 1, None, 829),
        (6000, 511, 1, None, 811),
        (14000, 1000, 2, Some(M2080), 54),
        (4000, 1000, 1, Some(M2080), 43),
        (32000, 1000, 2, Some(T4), 43),
        (16000, 1000, 1, Some(V100M16), 40),
        (64000, 1000, 2, None, 40),
        (10000, 1000, 2, None, 40),
        (11400, 1000, 1, Some(T4), 36),
        (16000, 1000, 1, Some(T4), 36),
        (4000, 1000, 2, None, 36),
        (14000, 1000, 2, Some(V100M16), 36),
        (8000, 1000, 4, None, 36),
        (16000, 1000, 2, None, 32),
        (2000, 1000, 1, Some(T4), 32),
        (6000, 1000, 1, None, 32),
        (4000, 1000, 1, None, 32),
        (5000, 1000, 1, None, 32),
        (32000, 1000, 4, Some(V100M16), 32),
        (32000, 1000, 2, None, 32),
        (24000, 1000, 8, Some(M2080), 32),
        (40000, 1000, 4, None, 29),
        (32000, 1000, 8, None, 29),
        (32000, 1000, 1, Some(T4), 29),
        (16000, 1000, 1, None, 25),
        (7000, 1000, 1, Some(V100M16), 25),
        (24000, 1000, 1, Some(T4), 25),
    ];

    /// Upstream `TestingGenerateGetTypicalPodsWithNonGpu`.
    const TYPICAL_WITH_NON_GPU: &[Typical] = &[
        (15700, 1000, 1, None, 2869),
        (11900, 1000, 1, None, 1893),
        (11400, 1000, 1, None, 1227),
        (1000, 0, 0, None, 736),
        (18710, 1000, 1, None, 485),
        (8200, 1000, 1, None, 379),
        (16400, 1000, 1, None, 331),
        (9810, 1000, 1, None, 197),
        (15200, 1000, 1, None, 187),
        (11200, 1000, 1, None, 181),
        (14200, 1000, 1, None, 176),
        (12000, 0, 0, None, 165),
        (14900, 1000, 1, None, 139),
        (60200, 1000, 4, None, 123),
        (64200, 1000, 8, None, 107),
        (32200, 1000, 4, None, 101),
        (17400, 1000, 2, None, 91),
        (30200, 1000, 2, None, 69),
        (16000, 1000, 1, None, 64),
        (15000, 1000, 1, None, 59),
        (64000, 1000, 8, None, 53),
        (15000, 0, 0, None, 53),
        (11910, 1000, 1, None, 53),
        (120200, 1000, 8, None, 48),
        (11300, 1000, 1, None, 37),
        (30000, 1000, 2, None, 32),
        (9800, 1000, 1, None, 32),
        (8000, 1000, 1, None, 32),
        (2000, 1000, 1, None, 27),
        (2000, 80, 1, None, 27),
        (1000, 1000, 1, None, 27),
    ];

    fn model_node(cpu_free_milli: i64, free: &[u16], m: GpuModel) -> NodeView<'_> {
        NodeView { model: Some(m), ..node(cpu_free_milli, free) }
    }

    /// Upstream `TestNodeGpuShareFragAmount` and `TestNodeGpuShareFragAmountScore` (the same
    /// table); upstream compares within 0.01.
    #[test]
    fn node_gpu_share_frag_amount_table() {
        let wl = workload(TYPICAL);
        let rows: [(&[u16], f64); 3] =
            [(&[200, 1000, 1000, 500], 2566.62), (&[1000; 4], 3802.40), (&[1000; 8], 7604.80)];
        for (free, want) in rows {
            let got = node_fragmentation(&model_node(1000, free, M1080), &wl);
            assert!((got - want).abs() < 0.01, "{free:?}: {got} vs {want}");
        }
        let one = workload(&TYPICAL[..1]);
        let n = model_node(1000, &[200, 1000, 1000, 500], M1080);
        assert_eq!(classify(&n, &one.types()[0].pod), FragKind::Q4LackCpu);
        assert_eq!(n.gpu_free_total(), 2700);
        let got = node_fragmentation(&n, &one);
        assert!((got - 251.91).abs() < 0.01, "{got}");
    }

    /// Upstream `TestNodeGpuShareFragAmountWithNonGpu`.
    #[test]
    fn node_gpu_share_frag_amount_with_non_gpu_table() {
        let wl = workload(TYPICAL_WITH_NON_GPU);
        let rows: [(i64, &[u16], f64); 3] = [
            (64_000, &[1000; 8], 887.20),
            (32_000, &[1000, 1000, 1000, 1000, 0, 0, 0, 0], 554.4),
            (0, &[1000, 1000, 1000, 1000, 0, 0, 0, 0], 4000.0),
        ];
        for (cpu, free, want) in rows {
            let got = node_fragmentation(&model_node(cpu, free, P100), &wl);
            assert!((got - want).abs() < 0.01, "{cpu} {free:?}: {got} vs {want}");
        }
    }

    /// Upstream `TestGetGpuFragMilliByNodeResAndPodRes`.
    #[test]
    fn get_gpu_frag_milli_table() {
        let rows: [(&[u16], u16, i64); 4] = [
            (&[200, 1000, 1000, 500], 1000, 700),
            (&[1000; 4], 1000, 0),
            (&[1000; 8], 1000, 0),
            (&[200, 1000, 1000, 500], 200, 0),
        ];
        for (free, per, want) in rows {
            assert_eq!(gpu_frag_milli(free, per), want, "{free:?} {per}");
        }
    }
}
