//! GPU devices on nodes: the vocabulary of GPU sharing (models, a pod's GPU demand, the
//! devices a pod holds) and [`GpuDevices`], the cluster's per-device accounting (issue #16).
//!
//! A node with N GPUs has N devices of 1000 milli-units each; a pod asks for whole GPUs
//! (wholly free devices) or a share of one GPU (one device with that much free). The rules
//! and the policies that choose among devices are the FGD paper's simulator
//! (`hkust-adsl/kubernetes-scheduler-simulator`), in `scheduler::plugins::gpushare`; this
//! module only keeps the books, which `ClusterState::check_invariants` verifies against the
//! scalar `nvidia.com/gpu` sums.

/// One whole GPU in milli-units (`MILLI`, `pkg/type/open-gpu-share/utils/const.go`).
pub const GPU_MILLI: u16 = 1000;
/// `MaxSpecCpu` (`pkg/type/open-gpu-share/utils/const.go`): the normaliser of CPU in DotProd
/// and BestFit.
pub const MAX_SPEC_CPU_MILLI: i64 = 128_000;
/// `MaxSpecGpu` (`pkg/type/open-gpu-share/utils/const.go`): the normaliser of GPU milli in
/// DotProd, BestFit and GpuClustering (8 GPUs).
pub const MAX_SPEC_GPU_MILLI: i64 = 8_000;
/// The most GPUs a node may have here (device sets are `u32` masks). Upstream assumes 8
/// (`MaxNumGpuPerNode`, `pkg/type/const.go`). On a node with more devices no GPU pod fits
/// ([`fits`], [`assign_devices`]) and GpuPacking and FGD score [`MIN_NODE_SCORE`].
pub const MAX_GPUS_PER_NODE: usize = 32;

/// A GPU model, interned by the caller to an id below 64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GpuModel(u8);

impl GpuModel {
    /// The model with id `id`, or `None` if `id >= 64`.
    pub const fn new(id: u8) -> Option<GpuModel> {
        if id < 64 { Some(GpuModel(id)) } else { None }
    }

    pub const fn id(self) -> u8 {
        self.0
    }
}

/// The GPU models a pod accepts; empty means any. Upstream writes them as one string
/// `"A|B"` (`alibabacloud.com/gpu-card-model`) and matches with `IsNodeAccessibleToPodByType`
/// (`pkg/utils/utils.go`): no model accepts every node, otherwise the node's model must be
/// listed, and a node without GPUs (no model) matches no listed model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelSet(u64);

impl ModelSet {
    /// No constraint.
    pub const ANY: ModelSet = ModelSet(0);

    pub const fn with(self, model: GpuModel) -> ModelSet {
        ModelSet(self.0 | 1 << model.0)
    }

    pub const fn is_any(self) -> bool {
        self.0 == 0
    }

    /// Upstream `IsNodeAccessibleToPodByType(nodeGpuType, podGpuType)`.
    pub const fn accepts(self, node_model: Option<GpuModel>) -> bool {
        if self.0 == 0 {
            return true;
        }
        match node_model {
            Some(m) => self.0 & (1 << m.0) != 0,
            None => false,
        }
    }
}

/// What a pod asks of GPUs: `num_gpu` GPUs of `gpu_milli` milli-units each, in the three
/// shapes the simulator schedules (`GetGpuAffinityFromPodAnnotation`,
/// `pkg/type/open-gpu-share/utils/pod.go`, panics on a share of several GPUs or on more than
/// 1000 milli, and so does `allocateGpuId`, `open_gpu_share.go`, on the former). Build it
/// with [`GpuDemand::from_counts`].
///
/// The derived order (none < shares by milli < whole GPUs by count) is upstream's order of
/// (`MilliGpu`, `GpuNumber`) in `PodResource.Less` (`pkg/type/resource.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GpuDemand {
    /// No GPU (`num_gpu == 0`).
    None,
    /// A share of one GPU: `gpu_milli` in 1..=999, `num_gpu == 1`.
    Share(u16),
    /// Whole GPUs: `num_gpu` in 1..=[`MAX_GPUS_PER_NODE`], `gpu_milli == 1000`.
    Whole(u8),
}

impl GpuDemand {
    /// The demand of `num_gpu` GPUs of `gpu_milli` each, or `None` for a shape upstream does
    /// not schedule (a share of several GPUs, milli above 1000, GPUs of 0 milli or milli
    /// without GPUs, more than [`MAX_GPUS_PER_NODE`] GPUs).
    pub const fn from_counts(num_gpu: u32, gpu_milli: u32) -> Option<GpuDemand> {
        match (num_gpu, gpu_milli) {
            (0, 0) => Some(GpuDemand::None),
            (1, 1..=999) => Some(GpuDemand::Share(gpu_milli as u16)),
            (1.., 1000) if num_gpu as usize <= MAX_GPUS_PER_NODE => Some(GpuDemand::Whole(num_gpu as u8)),
            _ => None,
        }
    }

    pub const fn num_gpu(self) -> u32 {
        match self {
            GpuDemand::None => 0,
            GpuDemand::Share(_) => 1,
            GpuDemand::Whole(n) => n as u32,
        }
    }

    /// Milli-units asked of each GPU (upstream `MilliGpu`).
    pub const fn gpu_milli(self) -> u16 {
        match self {
            GpuDemand::None => 0,
            GpuDemand::Share(m) => m,
            GpuDemand::Whole(_) => GPU_MILLI,
        }
    }

    /// `num_gpu × gpu_milli` (upstream `TotalMilliGpu`).
    pub const fn total_milli(self) -> i64 {
        self.num_gpu() as i64 * self.gpu_milli() as i64
    }

    /// The class's bit in a [`GpuClassSet`]: bit 0 "share-gpu", bit k "k-gpu"; 0 for no GPU.
    const fn class_bit(self) -> u64 {
        match self {
            GpuDemand::None => 0,
            GpuDemand::Share(_) => 1,
            GpuDemand::Whole(n) if n < 64 => 1 << n,
            GpuDemand::Whole(_) => 0,
        }
    }
}

/// The GPU classes of the pods on a node ("share-gpu", "1-gpu", "2-gpu", …), the keys of
/// upstream's `NodeResource.GpuAffinity` (`GetGpuAffinityFromPodAnnotation`,
/// `pkg/type/open-gpu-share/utils/pod.go`; pods without GPUs have no class). GpuClustering
/// reads which classes are present and how many.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GpuClassSet(u64);

impl GpuClassSet {
    pub const EMPTY: GpuClassSet = GpuClassSet(0);

    /// The set with the class of `demand` added (unchanged for no GPU).
    pub const fn with(self, demand: GpuDemand) -> GpuClassSet {
        GpuClassSet(self.0 | demand.class_bit())
    }

    /// True when the class of `demand` is present (false for no GPU).
    pub const fn contains(self, demand: GpuDemand) -> bool {
        let bit = demand.class_bit();
        bit != 0 && self.0 & bit != 0
    }

    /// Number of classes present (upstream `len(GpuAffinity)`).
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// The devices a pod holds on its node: a device mask and the milli taken from each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Assignment {
    devices: u32,
    milli_per_device: u16,
}

impl Assignment {
    /// The assignment of a pod without GPUs.
    pub const NONE: Assignment = Assignment { devices: 0, milli_per_device: 0 };

    /// `milli` of device `device`.
    pub const fn one(device: usize, milli: u16) -> Assignment {
        Assignment { devices: 1 << device, milli_per_device: milli }
    }

    /// The devices of `mask`, `milli_per_device` taken from each.
    pub const fn new(devices: u32, milli_per_device: u16) -> Assignment {
        Assignment { devices, milli_per_device }
    }

    /// Σ milli taken.
    pub const fn total_milli(self) -> i64 {
        self.devices.count_ones() as i64 * self.milli_per_device as i64
    }

    /// Bit i set: device i is used.
    pub const fn devices(self) -> u32 {
        self.devices
    }

    pub const fn milli_per_device(self) -> u16 {
        self.milli_per_device
    }

    /// The device indexes, ascending.
    pub fn device_indexes(self) -> impl Iterator<Item = usize> {
        (0..32).filter(move |&i| self.devices & (1 << i) != 0)
    }

    /// Takes the milli from the devices (upstream `NodeResource.Sub` with the chosen ids).
    /// Panics if a device does not have them: the caller's state is then inconsistent.
    pub fn apply(self, gpu_free_milli: &mut [u16]) {
        for i in self.device_indexes() {
            let free = &mut gpu_free_milli[i];
            assert!(
                *free >= self.milli_per_device,
                "device {i} has {free} milli free, {} asked",
                self.milli_per_device
            );
            *free -= self.milli_per_device;
        }
    }

    /// Gives the milli back (upstream `NodeResource.Add` with the pod's device list). Panics
    /// if a device would exceed 1000.
    pub fn release(self, gpu_free_milli: &mut [u16]) {
        for i in self.device_indexes() {
            let free = &mut gpu_free_milli[i];
            assert!(
                *free + self.milli_per_device <= GPU_MILLI,
                "device {i} has {free} milli free, {} given back",
                self.milli_per_device
            );
            *free += self.milli_per_device;
        }
    }
}

/// The node label that names a node's GPU model and that pods' model constraints select on
/// (NVIDIA GPU feature discovery's `nvidia.com/gpu.product`).
pub const GPU_MODEL_LABEL: &str = "nvidia.com/gpu.product";

/// Upstream `CanNodeHostPodOnGpuMemory` (`pkg/utils/frag.go` of the FGD paper's simulator):
/// at least `num_gpu` devices have `gpu_milli` free (a share: one device; whole GPUs: wholly
/// free devices). True for no GPU.
pub fn can_host(gpu_free_milli: &[u16], gpu: GpuDemand) -> bool {
    let need = gpu.num_gpu() as usize;
    let per = gpu.gpu_milli();
    gpu_free_milli.iter().filter(|&&m| m >= per).count() >= need
}

/// `AllocateExclusiveGpuId` (`pkg/type/resource.go`): the first `n` wholly free devices.
pub fn exclusive(gpu_free_milli: &[u16], n: u8) -> Option<Assignment> {
    let mut mask = 0u32;
    let mut left = n;
    for (i, &m) in gpu_free_milli.iter().enumerate() {
        if left == 0 {
            break;
        }
        if m == GPU_MILLI {
            mask |= 1 << i;
            left -= 1;
        }
    }
    (left == 0).then_some(Assignment::new(mask, GPU_MILLI))
}

/// `allocateGpuIdBasedOnBestFit` (`pkg/simulator/plugin/open_gpu_share.go`): the device with
/// the least free milli that still holds `milli`, the first on ties (strict `<`).
pub fn tightest_share(gpu_free_milli: &[u16], milli: u16) -> Option<Assignment> {
    let mut best: Option<usize> = None;
    for (i, &m) in gpu_free_milli.iter().enumerate() {
        if m >= milli && best.is_none_or(|b| m < gpu_free_milli[b]) {
            best = Some(i);
        }
    }
    best.map(|i| Assignment::one(i, milli))
}

/// The default device pick on `gpu_free_milli` (the paper's simulator's "best":
/// [`tightest_share`] for a share, [`exclusive`] for whole GPUs), `None` when the demand does
/// not fit. Used wherever no score policy chooses the devices.
pub fn default_pick(gpu_free_milli: &[u16], demand: GpuDemand) -> Option<Assignment> {
    match demand {
        GpuDemand::None => Some(Assignment::NONE),
        GpuDemand::Share(milli) => tightest_share(gpu_free_milli, milli),
        GpuDemand::Whole(n) => exclusive(gpu_free_milli, n),
    }
}

/// Takes `demand` (`None`: no device layout holds it) from a copy of a node's devices with
/// the [`default_pick`]; false, and `gpu_free_milli` unchanged, when it does not fit. The
/// cluster autoscaler's simulations (`autoscaler::devices`) use it on their own copies.
pub fn take_default(gpu_free_milli: &mut [u16], demand: Option<GpuDemand>) -> bool {
    match demand.and_then(|d| default_pick(gpu_free_milli, d)) {
        Some(a) => {
            a.apply(gpu_free_milli);
            true
        }
        None => false,
    }
}

/// What a pod template asks of GPU devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemplateGpu {
    /// `None`: an amount no device layout can hold (more than [`MAX_GPUS_PER_NODE`] GPUs, or
    /// more than one GPU's milli that is not whole GPUs); such a pod fits no GPU node.
    pub demand: Option<GpuDemand>,
    /// The models its node selector or required node affinity accepts on
    /// [`GPU_MODEL_LABEL`] (`In` values; any other form of constraint reads as any model,
    /// the NodeAffinity filter still applies it).
    pub models: ModelSet,
}

impl TemplateGpu {
    /// True when the pod asks for GPUs at all.
    pub fn wants_gpu(&self) -> bool {
        self.demand != Some(GpuDemand::None)
    }
}

/// The demand of `gpu_milli` milli-units in all: none, a share of one GPU (below 1000) or
/// whole GPUs (a multiple of 1000); `None` for any other amount.
pub fn demand_of_milli(gpu_milli: i64) -> Option<GpuDemand> {
    match gpu_milli {
        0 => Some(GpuDemand::None),
        1..=999 => Some(GpuDemand::Share(gpu_milli as u16)),
        m if m > 0 && m % 1000 == 0 && m / 1000 <= MAX_GPUS_PER_NODE as i64 => {
            Some(GpuDemand::Whole((m / 1000) as u8))
        }
        _ => None,
    }
}

/// The cluster's GPU devices: per node its model and the free milli of each device, per pod
/// the devices it holds, per template its demand. Nodes and templates are added in the
/// order of the cluster's arenas, so the indexes are the cluster's ids.
#[derive(Clone, Debug, Default)]
pub struct GpuDevices {
    /// Interned model names; a model's id is its index.
    model_names: Vec<String>,
    node_model: Vec<Option<GpuModel>>,
    /// Each node's first device in `free` (nodes' devices are contiguous, in node order).
    node_first: Vec<u32>,
    node_count: Vec<u8>,
    /// Free milli of every device, 0..=1000.
    free: Vec<u16>,
    templates: Vec<TemplateGpu>,
    /// The devices of each stored pod that holds some, by pod id (absent = none); a pod's
    /// record goes when its storage is released ([`GpuDevices::forget`]).
    pod_assign: std::collections::BTreeMap<usize, Assignment>,
}

impl GpuDevices {
    /// The id of `name`, interned on first sight; `None` past 64 models.
    pub fn intern(&mut self, name: &str) -> Option<GpuModel> {
        if let Some(i) = self.model_names.iter().position(|m| m == name) {
            return GpuModel::new(i as u8);
        }
        let id = GpuModel::new(u8::try_from(self.model_names.len()).ok()?)?;
        self.model_names.push(name.to_string());
        Some(id)
    }

    /// The id of a model already seen.
    pub fn model_id(&self, name: &str) -> Option<GpuModel> {
        self.model_names.iter().position(|m| m == name).and_then(|i| GpuModel::new(i as u8))
    }

    /// The name of a model id.
    pub fn model_name(&self, model: GpuModel) -> &str {
        &self.model_names[model.id() as usize]
    }

    /// Adds the devices of the next node: `gpu_milli / 1000` GPUs (at most
    /// [`MAX_GPUS_PER_NODE`], checked by validation) of the model its labels name.
    pub fn add_node(&mut self, gpu_milli: i64, labels: &super::Labels) {
        let count = (gpu_milli / i64::from(GPU_MILLI)).clamp(0, MAX_GPUS_PER_NODE as i64) as usize;
        let model = if count > 0 { labels.get(GPU_MODEL_LABEL).and_then(|m| self.intern(m)) } else { None };
        self.node_first.push(self.free.len() as u32);
        self.node_count.push(count as u8);
        self.node_model.push(model);
        self.free.extend(std::iter::repeat_n(GPU_MILLI, count));
    }

    /// Adds the next template's demand from its requests and placement.
    pub fn add_template(&mut self, gpu_milli: i64, placement: &super::Placement) {
        let demand = demand_of_milli(gpu_milli);
        let mut models = ModelSet::ANY;
        let mut names: Vec<&str> = Vec::new();
        if let Some(v) = placement.node_selector.get(GPU_MODEL_LABEL) {
            names.push(v);
        } else if let Some(req) = &placement.node_affinity.required_during_scheduling_ignored_during_execution
            && let [term] = req.node_selector_terms.as_slice()
        {
            for r in &term.match_expressions {
                if r.key == GPU_MODEL_LABEL && r.operator == super::SelectorOperator::In {
                    names.extend(r.values.iter().map(String::as_str));
                    break;
                }
            }
        }
        for name in names {
            // A model no node has still gets an id (it matches no node); past 64 models a
            // constraint reads as any model here (the NodeAffinity filter still applies it).
            match self.intern(name) {
                Some(m) => models = models.with(m),
                None => {
                    models = ModelSet::ANY;
                    break;
                }
            }
        }
        self.templates.push(TemplateGpu { demand, models });
    }

    /// The template's GPU demand.
    pub fn template(&self, template: usize) -> TemplateGpu {
        self.templates[template]
    }

    /// True when some node has devices.
    pub fn any_devices(&self) -> bool {
        !self.free.is_empty()
    }

    /// The node's GPU model (`None` without GPUs or without the model label).
    pub fn node_model(&self, node: usize) -> Option<GpuModel> {
        self.node_model[node]
    }

    /// Free milli of each of the node's devices.
    pub fn node_free(&self, node: usize) -> &[u16] {
        let first = self.node_first[node] as usize;
        &self.free[first..first + self.node_count[node] as usize]
    }

    /// The GPUs of the node.
    pub fn node_gpus(&self, node: usize) -> usize {
        self.node_count[node] as usize
    }

    /// The devices the pod holds or held (none when it holds no GPU).
    pub fn assignment(&self, pod: usize) -> Assignment {
        self.pod_assign.get(&pod).copied().unwrap_or(Assignment::NONE)
    }

    /// True when the node's devices can hold the template's GPU demand ([`can_host`]; the
    /// model is the NodeAffinity filter's business). A pod without GPUs always fits.
    pub fn fits(&self, node: usize, template: usize) -> bool {
        match self.templates[template].demand {
            None => false,
            // Nothing to hold: the node's device arrays are not read (see `tightest`).
            Some(GpuDemand::None) => true,
            Some(demand) => can_host(self.node_free(node), demand),
        }
    }

    /// The default device pick (the paper's simulator's "best": [`tightest_share`] for a
    /// share, [`exclusive`] for whole GPUs), or `None` when the demand does not fit. Used
    /// wherever no score policy chooses the devices.
    pub fn tightest(&self, node: usize, template: usize) -> Option<Assignment> {
        match self.templates[template].demand? {
            // No devices to pick: the node's device arrays are not read (a cache miss on
            // every bind of a large cluster).
            GpuDemand::None => Some(Assignment::NONE),
            demand => default_pick(self.node_free(node), demand),
        }
    }

    /// The pod takes `a` on `node`. Panics if a device lacks the milli (a caller's bug).
    pub fn bind(&mut self, pod: usize, node: usize, a: Assignment) {
        if a == Assignment::NONE {
            return;
        }
        let first = self.node_first[node] as usize;
        let count = self.node_count[node] as usize;
        a.apply(&mut self.free[first..first + count]);
        self.pod_assign.insert(pod, a);
    }

    /// The pod gives its devices on `node` back (called once, when it stops holding the
    /// node; the assignment stays on record for `pods.csv`).
    pub fn release(&mut self, pod: usize, node: usize) {
        let Some(&a) = self.pod_assign.get(&pod) else { return };
        if a == Assignment::NONE {
            return;
        }
        let first = self.node_first[node] as usize;
        let count = self.node_count[node] as usize;
        a.release(&mut self.free[first..first + count]);
    }

    /// Drops the record of a pod whose storage is released; returns the devices it held
    /// (for its `pods.csv` row).
    pub fn forget(&mut self, pod: usize) -> Assignment {
        self.pod_assign.remove(&pod).unwrap_or(Assignment::NONE)
    }

    /// The devices as text for `pods.csv`: `0:500` (device 0, 500 milli) or `0+1+2:1000`;
    /// empty for none.
    pub fn describe(&self, pod: usize) -> String {
        describe(self.assignment(pod))
    }
}

/// Devices as text for `pods.csv`: `0:500` (device 0, 500 milli) or `0+1+2:1000`; empty for
/// none.
pub fn describe(a: Assignment) -> String {
    if a == Assignment::NONE {
        return String::new();
    }
    let ids: Vec<String> = a.device_indexes().map(|i| i.to_string()).collect();
    format!("{}:{}", ids.join("+"), a.milli_per_device())
}

impl GpuDevices {
    /// Checks the books against the pods: every device's free milli is 1000 minus the milli
    /// of the pods holding a node that hold it, a pod's devices match its template's demand and lie on
    /// its node, and each node's devices sum to its scalar `nvidia.com/gpu` request.
    /// `holders` gives, per pod index, its node when it holds one.
    pub fn check(
        &self,
        holders: impl Iterator<Item = (usize, Option<usize>, usize)>,
        node_requested_gpu: &[i64],
    ) -> Result<(), String> {
        let mut used = vec![0u32; self.free.len()];
        for (pod, node, template) in holders {
            let a = self.assignment(pod);
            // A pod that holds no node holds no devices (its record may remain).
            let Some(node) = node else { continue };
            let want = self.templates[template].demand;
            let ok = match want {
                Some(GpuDemand::None) | None => a == Assignment::NONE,
                Some(GpuDemand::Share(m)) => a.devices().count_ones() == 1 && a.milli_per_device() == m,
                Some(GpuDemand::Whole(n)) => {
                    a.devices().count_ones() == u32::from(n) && a.milli_per_device() == GPU_MILLI
                }
            };
            // Pods whose GPUs are on a node without devices (none here) hold no devices.
            if !ok && self.node_count[node] > 0 {
                return Err(format!("pod {pod} holds devices {a:?}, its demand is {want:?}"));
            }
            for i in a.device_indexes() {
                if i >= self.node_count[node] as usize {
                    return Err(format!(
                        "pod {pod} holds device {i} of node {node}, which has {}",
                        self.node_count[node]
                    ));
                }
                used[self.node_first[node] as usize + i] += u32::from(a.milli_per_device());
            }
        }
        for (node, &requested) in node_requested_gpu.iter().enumerate().take(self.node_count.len()) {
            let first = self.node_first[node] as usize;
            let count = self.node_count[node] as usize;
            let mut sum = 0i64;
            for (d, (&free, &held)) in
                self.free[first..first + count].iter().zip(&used[first..first + count]).enumerate()
            {
                if u32::from(free) + held != u32::from(GPU_MILLI) {
                    return Err(format!("node {node} device {d}: {free} milli free, {held} held by pods"));
                }
                sum += i64::from(held);
            }
            if count > 0 && sum != requested {
                return Err(format!(
                    "node {node}: devices hold {sum} GPU milli, the node's request is {requested}"
                ));
            }
        }
        Ok(())
    }
}
