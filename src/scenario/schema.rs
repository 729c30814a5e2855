//! The scenario document: typed, with upstream defaults. Field names use the Kubernetes
//! vocabulary (camelCase). Every struct denies unknown fields. Every default lives in this
//! file, next to the field, with the upstream source it comes from; `docs/scenario.md`
//! documents the same fields for users.

use super::distribution::Distribution;
use super::duration::DurationSpec;
use super::quantity::{CountQuantity, CpuQuantity, MemQuantity};
use crate::cluster::{Affinity, Labels, Taint, Toleration};
use crate::engine::SimDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole scenario.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scenario {
    /// Name used for the default output folder; defaults to the file name without `.yaml`.
    #[serde(default)]
    pub name: Option<String>,
    /// Run seed: every random stream derives from it.
    #[serde(default = "defaults::seed")]
    pub seed: u64,
    /// Simulated run length.
    pub duration: DurationSpec,
    /// Interval between rows of `timeseries.csv`.
    #[serde(default = "defaults::sample_interval")]
    pub sample_interval: DurationSpec,
    #[serde(default)]
    pub scheduler: SchedulerSpec,
    #[serde(default)]
    pub node_pools: Vec<NodePoolSpec>,
    #[serde(default)]
    pub deployments: Vec<DeploymentSpec>,
    /// DaemonSets: one pod per node the template can run on, on the initial nodes and on
    /// every node added later.
    #[serde(default)]
    pub daemon_sets: Vec<DaemonSetSpec>,
    /// Bare pods already Running on a given node when the run starts (`spec.nodeName`: the
    /// scheduler is bypassed); nothing recreates them.
    #[serde(default)]
    pub initial_pods: Vec<InitialPodSpec>,
    #[serde(default)]
    pub churn: Vec<ChurnSpec>,
    #[serde(default)]
    pub metrics_server: MetricsServerSpec,
    #[serde(default)]
    pub node_lifecycle: NodeLifecycleSpec,
    /// Failures at given times.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// A ClusterLoader2-style chaos monkey (absent: none).
    #[serde(default)]
    pub chaos: Option<ChaosSpec>,
    /// Planned maintenance: drains (cordon, then evict respecting disruption budgets).
    #[serde(default)]
    pub maintenance: Vec<MaintenanceSpec>,
    /// PriorityClasses pods refer to by `priorityClassName`.
    #[serde(default)]
    pub priority_classes: Vec<PriorityClassSpec>,
    /// HorizontalPodAutoscalers as separate objects naming their Deployment by
    /// `scaleTargetRef` (the same fields as `deployments[].horizontalPodAutoscaler`).
    #[serde(default)]
    pub horizontal_pod_autoscalers: Vec<HpaSpec>,
    /// The control plane as a capacity: API server, etcd, client rate limits, watch
    /// fan-out (absent: off, and API calls take no time).
    #[serde(default)]
    pub control_plane: Option<ControlPlaneSpec>,
    /// The cluster autoscaler over the node pools that have `autoscaling` (absent: off).
    #[serde(default)]
    pub cluster_autoscaler: Option<ClusterAutoscalerSpec>,
    /// The kube-scheduler `scheduler_perf` throughput collector over the pods of some
    /// Deployments (absent: off, no extra columns).
    #[serde(default)]
    pub throughput_collector: Option<ThroughputCollectorSpec>,
    /// Nodes read from CSV files (one row per node), grouped into pools of identical nodes
    /// when the scenario is loaded (see [`NodeListSpec`]).
    #[serde(default)]
    pub node_lists: Vec<NodeListSpec>,
    /// Pods replayed from CSV files: each row is one pod created at its arrival time,
    /// running for its duration once Running (see [`PodTraceSpec`]).
    #[serde(default)]
    pub pod_traces: Vec<PodTraceSpec>,
    /// Namespaces with labels, for pod (anti-)affinity terms' `namespaceSelector`. Pods may
    /// be in namespaces not listed here (they have no labels); the default is `default`.
    #[serde(default)]
    pub namespaces: Vec<NamespaceSpec>,
    /// Files the scenario refers to, read by `scenario::load` (not part of the document).
    #[serde(skip)]
    pub inputs: super::inputs::Inputs,
}

/// A namespace (`v1.Namespace`): its name and labels.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceSpec {
    pub name: String,
    #[serde(default)]
    pub labels: Labels,
}

/// What `test/integration/scheduler_perf` measures: the scheduling throughput of one
/// `createPods` op's pods, sampled every `sampleInterval` (upstream `throughputCollector`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ThroughputCollectorSpec {
    /// The measured pods: those of these Deployments (upstream, the op's namespace).
    pub deployments: Vec<String>,
    /// Sampling period; upstream `throughputSampleInterval` is 1 s.
    #[serde(default = "defaults::throughput_sample_interval")]
    pub sample_interval: DurationSpec,
}

/// kube-scheduler configuration. Defaults from
/// `kubernetes/kubernetes:pkg/scheduler/apis/config/v1/defaults.go` and `default_plugins.go`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulerSpec {
    /// NodeResourcesFit scoring strategy: `LeastAllocated` (upstream default) or `MostAllocated`.
    #[serde(default)]
    pub scoring_strategy: ScoringStrategySpec,
    /// Resources and weights of the NodeResourcesFit scorer (upstream: cpu 1, memory 1).
    #[serde(default = "defaults::fit_resources")]
    pub resources: Vec<ResourceWeightSpec>,
    /// Resources of NodeResourcesBalancedAllocation (upstream: cpu, memory).
    #[serde(default = "defaults::balanced_resources")]
    pub balanced_allocation_resources: Vec<ResourceKind>,
    /// 0 = adaptive (upstream default), else 1..=100.
    #[serde(default)]
    pub percentage_of_nodes_to_score: i64,
    /// Upstream `podInitialBackoffSeconds`: 1.
    #[serde(default = "defaults::pod_initial_backoff")]
    pub pod_initial_backoff_seconds: u64,
    /// Upstream `podMaxBackoffSeconds`: 10.
    #[serde(default = "defaults::pod_max_backoff")]
    pub pod_max_backoff_seconds: u64,
    /// Upstream `DefaultPodMaxInUnschedulablePodsDuration`: 5 min
    /// (`pkg/scheduler/internal/queue/scheduling_queue.go`).
    #[serde(default = "defaults::max_in_unschedulable")]
    pub pod_max_in_unschedulable_pods_duration: DurationSpec,
    /// Score plugin weights (upstream MultiPoint defaults).
    #[serde(default)]
    pub plugin_weights: PluginWeightsSpec,
    /// DefaultPreemption (PostFilter). Absent: on when the scenario declares
    /// `priorityClasses` (upstream always runs it; scenarios with bare `priority` values
    /// keep their earlier behaviour).
    #[serde(default)]
    pub preemption: Option<bool>,
    /// Time the scheduler spends per pod, so that its throughput is finite.
    #[serde(default)]
    pub cost: SchedulingCostSpec,
    /// PodTopologySpread plugin arguments (upstream `PodTopologySpreadArgs`): the default
    /// constraints of pods that declare none (`defaultingType: System`, the upstream default,
    /// or `List` with `defaultConstraints`).
    #[serde(default)]
    pub pod_topology_spread: crate::scheduler::plugins::topology_spread::PodTopologySpreadArgs,
    /// InterPodAffinity plugin arguments (upstream `InterPodAffinityArgs`).
    #[serde(default)]
    pub inter_pod_affinity: InterPodAffinitySpec,
    /// A GPU-sharing score policy of the FGD paper's simulator (absent: none; GPUs are then
    /// placed on the tightest device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_sharing: Option<GpuSharingSpec>,
}

/// The GPU-sharing score plugin (`scheduler::gpu`): one of the six policies of "Beware of
/// Fragmentation" (Weng et al., USENIX ATC '23), as its simulator
/// (`hkust-adsl/kubernetes-scheduler-simulator`) runs them.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GpuSharingSpec {
    pub policy: GpuPolicySpec,
    /// The plugin's weight (the paper's runs: 1000).
    #[serde(default = "defaults::gpu_policy_weight")]
    pub weight: i64,
    /// Keep the default score plugins beside the policy (the paper's profile disables them:
    /// false, the default).
    #[serde(default)]
    pub keep_default_scores: bool,
    /// The target workload of FGD and of the fragmentation metrics keeps the most popular
    /// pod types until they cover this percentage of the pods (upstream
    /// `podPopularityThreshold`, the paper's runs: 95).
    #[serde(default = "defaults::popularity_threshold")]
    pub popularity_threshold_percent: u64,
    /// How equal totals are broken: `NodeOrder` (the paper's simulator, the default: the
    /// first node in an order drawn once per run from the seed) or `Random` (kube-scheduler's
    /// `selectHost`, a uniform pick among the tied nodes at each decision).
    #[serde(default)]
    pub tie_break: TieBreakSpec,
}

/// Ties between nodes of equal score (`scheduler.gpuSharing.tieBreak`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TieBreakSpec {
    /// The paper's simulator: its scheduler (`mental2008/kubernetes` v1.20.5-minor,
    /// `pkg/scheduler/core/generic_scheduler.go` `selectHost`) takes the smallest node name
    /// among equal scores, and the simulator prefixes every node name with its position in a
    /// permutation drawn from the seed (`%04d-`, `pkg/simulator/simulator.go`).
    #[default]
    NodeOrder,
    /// Upstream kube-scheduler: reservoir sampling among the tied nodes.
    Random,
}

/// The six policies (`experiments/run_scripts/generate_run_scripts.py`, `AllMethodList`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GpuPolicySpec {
    Random,
    DotProd,
    GpuClustering,
    GpuPacking,
    BestFit,
    #[serde(rename = "FGD")]
    Fgd,
}

/// The FGD study's workload protocol on a pod trace (`podTraces[].inflation`): the rows
/// shuffled by the run's seed, then rows drawn at random (with replacement) appended until
/// the GPUs requested reach `gpuPercent` of the cluster's GPUs; one pod per `interval`,
/// never deleted; a pod no node fits is deleted after its attempt, not retried.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InflationSpec {
    /// Target GPU demand in percent of the cluster's GPUs (the paper: 130).
    pub gpu_percent: u32,
    /// Shuffle the rows by the seed first (the paper: true).
    #[serde(default = "defaults::yes")]
    pub shuffle: bool,
    /// Time between two pods.
    #[serde(default = "defaults::inflation_interval")]
    pub interval: DurationSpec,
}

/// Upstream `InterPodAffinityArgs` (`kubernetes/kubernetes:pkg/scheduler/apis/config/v1/defaults.go`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InterPodAffinitySpec {
    /// Weight of an existing pod's required affinity term that selects the incoming pod
    /// (score symmetry); 0..=100, default 1.
    #[serde(default = "defaults::hard_pod_affinity_weight")]
    pub hard_pod_affinity_weight: i32,
    /// Leave the existing pods' preferred terms out of the score (upstream default false).
    #[serde(default)]
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinitySpec {
    fn default() -> Self {
        InterPodAffinitySpec { hard_pod_affinity_weight: 1, ignore_preferred_terms_of_existing_pods: false }
    }
}

impl Default for SchedulerSpec {
    fn default() -> Self {
        SchedulerSpec {
            scoring_strategy: ScoringStrategySpec::default(),
            resources: defaults::fit_resources(),
            balanced_allocation_resources: defaults::balanced_resources(),
            percentage_of_nodes_to_score: 0,
            pod_initial_backoff_seconds: defaults::pod_initial_backoff(),
            pod_max_backoff_seconds: defaults::pod_max_backoff(),
            pod_max_in_unschedulable_pods_duration: defaults::max_in_unschedulable(),
            plugin_weights: PluginWeightsSpec::default(),
            cost: SchedulingCostSpec::default(),
            preemption: None,
            pod_topology_spread: Default::default(),
            inter_pod_affinity: InterPodAffinitySpec::default(),
            gpu_sharing: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScoringStrategySpec {
    #[default]
    LeastAllocated,
    MostAllocated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceKind {
    #[serde(rename = "cpu")]
    Cpu,
    #[serde(rename = "memory")]
    Memory,
    #[serde(rename = "nvidia.com/gpu")]
    Gpu,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceWeightSpec {
    pub name: ResourceKind,
    pub weight: i64,
}

/// Upstream weights from `default_plugins.go`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct PluginWeightsSpec {
    #[serde(default = "defaults::w3")]
    pub taint_toleration: i64,
    #[serde(default = "defaults::w2")]
    pub node_affinity: i64,
    #[serde(default = "defaults::w1")]
    pub node_resources_fit: i64,
    #[serde(default = "defaults::w1")]
    pub node_resources_balanced_allocation: i64,
    #[serde(default = "defaults::w2")]
    pub pod_topology_spread: i64,
    #[serde(default = "defaults::w2")]
    pub inter_pod_affinity: i64,
}

impl Default for PluginWeightsSpec {
    fn default() -> Self {
        PluginWeightsSpec {
            taint_toleration: 3,
            node_affinity: 2,
            node_resources_fit: 1,
            node_resources_balanced_allocation: 1,
            pod_topology_spread: 2,
            inter_pod_affinity: 2,
        }
    }
}

/// Scheduling cost model: `perPod + perNodeExamined × nodes examined`. clustersim's own
/// calibration (Kubernetes has no such parameter): 0.5 ms + 1.5 µs per node gives about
/// 800 pods/s at 5,000 nodes (500 nodes examined), the order of the scheduler_perf
/// SchedulingBasic thresholds (680–810 pods/s,
/// `kubernetes/kubernetes:test/integration/scheduler_perf/misc/performance-config.yaml`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SchedulingCostSpec {
    #[serde(default = "defaults::cost_per_pod")]
    pub per_pod: DurationSpec,
    #[serde(default = "defaults::cost_per_node")]
    pub per_node_examined: DurationSpec,
    /// Machine noise on the cost (`scheduler::noise`); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<CostNoiseSpec>,
}

impl Default for SchedulingCostSpec {
    fn default() -> Self {
        SchedulingCostSpec {
            per_pod: defaults::cost_per_pod(),
            per_node_examined: defaults::cost_per_node(),
            noise: None,
        }
    }
}

/// `scheduler.cost.noise`: every cycle in a period of `period` costs `exp(sigma × Z)` times
/// the model, Z standard normal per period (see `scheduler::noise`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CostNoiseSpec {
    pub sigma: f64,
    #[serde(default = "defaults::noise_period")]
    pub period: DurationSpec,
}

/// A group of identical nodes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodePoolSpec {
    pub name: String,
    pub count: u32,
    /// Zones the nodes are spread over round-robin (node i goes to zone i mod len).
    #[serde(default = "defaults::zones")]
    pub zones: Vec<String>,
    pub allocatable: NodeResourcesSpec,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub taints: Vec<Taint>,
    /// Cordoned nodes (`spec.unschedulable`).
    #[serde(default)]
    pub unschedulable: bool,
    /// Price of one node for one hour, in any currency (without its GPUs: see
    /// `price_per_gpu_hour`).
    #[serde(default)]
    pub price_per_hour: f64,
    /// Price of one of the node's GPUs for one hour, added to `price_per_hour` for each GPU
    /// (`allocatable.nvidia.com/gpu`); no effect on a pool without GPUs.
    #[serde(default)]
    pub price_per_gpu_hour: f64,
    #[serde(default)]
    pub kubelet: KubeletSpec,
    /// Random failures of this pool's nodes (absent: they never fail on their own).
    #[serde(default)]
    pub failures: Option<FailureSpec>,
    /// Makes the pool a cluster-autoscaler node group (absent: a fixed pool).
    #[serde(default)]
    pub autoscaling: Option<NodeGroupSpec>,
    /// Set by clustersim on the pools it makes from `nodeLists[].name` (the list's name);
    /// such pools are made again from the list whenever the scenario is loaded or derived,
    /// and a pool written with this field in a file is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_node_list: Option<String>,
}

impl NodePoolSpec {
    /// The price of one node for one hour, its GPUs included: `pricePerHour` + GPUs ×
    /// `pricePerGpuHour`. Cloud price models price an accelerator node this way: the
    /// cluster autoscaler's GCE price model (`NodePrice` in
    /// `kubernetes/autoscaler:cluster-autoscaler/cloudprovider/gce/gce_price_model.go`)
    /// adds the node's `nvidia.com/gpu` capacity × a price per GPU-hour (by the node's GPU
    /// type label, else a default) to the machine type's price; a node list's
    /// `gpuPricesPerHour` is that per-type table.
    pub fn node_price_per_hour(&self) -> f64 {
        self.price_per_hour + self.allocatable.gpu.0 as f64 * self.price_per_gpu_hour
    }
}

/// `scheduling.k8s.io/v1` PriorityClass.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PriorityClassSpec {
    pub name: String,
    pub value: i32,
    /// `PreemptLowerPriority` (upstream default) or `Never`.
    #[serde(default)]
    pub preemption_policy: PreemptionPolicySpec,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PreemptionPolicySpec {
    #[default]
    PreemptLowerPriority,
    Never,
}

/// The control-plane model. Defaults: upstream flags where upstream has one (cited), else a
/// calibration documented in docs/scenario.md.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControlPlaneSpec {
    /// kube-apiserver `--max-requests-inflight` (read-only), upstream 400; 0 = no limit.
    #[serde(default = "defaults::max_requests_inflight")]
    pub max_requests_inflight: u32,
    /// kube-apiserver `--max-mutating-requests-inflight`, upstream 200; 0 = no limit.
    #[serde(default = "defaults::max_mutating_requests_inflight")]
    pub max_mutating_requests_inflight: u32,
    #[serde(default)]
    pub service_time: ApiServiceTimeSpec,
    #[serde(default)]
    pub etcd: EtcdSpec,
    #[serde(default)]
    pub watch: WatchSpec,
    #[serde(default)]
    pub clients: ClientsSpec,
    /// Kubelets renew their node lease every `nodeLifecycle.nodeStatusUpdateFrequency`.
    #[serde(default = "defaults::yes")]
    pub node_leases: bool,
    /// kube-apiserver replicas with finite CPU (absent: the fixed `serviceTime`s, as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apiserver: Option<ApiServerSpec>,
    /// API Priority and Fairness (absent: `maxRequestsInflight` /
    /// `maxMutatingRequestsInflight` per class, the pre-APF mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apf: Option<ApfSpec>,
    /// Where each client kind's LISTs are served from (absent: the watch cache for all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lists: Option<ListsSpec>,
    /// A client that LISTs every pod at a fixed rate (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misbehaving_client: Option<MisbehavingClientSpec>,
}

/// Where a LIST is served from: the API server's watch cache (`resourceVersion=0`, the
/// informers' default: only API server CPU) or etcd (a quorum read: the range also takes
/// time on etcd's log, `etcd.rangePerObject` per object).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ListSourceSpec {
    #[default]
    WatchCache,
    Etcd,
}

/// `controlPlane.lists`: the source of each client kind's LISTs (informer relists, the
/// HPA's LIST of its target's pods).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListsSpec {
    #[serde(default)]
    pub kubelet: ListSourceSpec,
    #[serde(default)]
    pub scheduler: ListSourceSpec,
    #[serde(default)]
    pub controller_manager: ListSourceSpec,
    /// etcd time per object of a LIST served from etcd (calibration: 10 µs, about 200 MB/s
    /// of 2-KiB pods).
    #[serde(default = "defaults::etcd_range_per_object")]
    pub etcd_range_per_object: DurationSpec,
}

/// `controlPlane.misbehavingClient`: one client (a service account, no client-side rate
/// limit) that LISTs every pod of the cluster `listsPerSecond` times a second from `start`
/// for `duration` (absent: to the end).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MisbehavingClientSpec {
    pub lists_per_second: f64,
    #[serde(default)]
    pub from: ListSourceSpec,
    #[serde(default = "defaults::zero_duration")]
    pub start: DurationSpec,
    #[serde(default)]
    pub duration: Option<DurationSpec>,
}

/// API Priority and Fairness with upstream's default priority levels and flow schemas; the
/// server's seats are `maxRequestsInflight + maxMutatingRequestsInflight` per replica.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApfSpec {
    /// Changes to default priority levels, by name.
    #[serde(default)]
    pub priority_levels: Vec<PriorityLevelSpec>,
}

/// A change to one of the default PriorityLevelConfigurations (unset fields keep upstream's).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PriorityLevelSpec {
    pub name: String,
    #[serde(default)]
    pub nominal_concurrency_shares: Option<u32>,
    #[serde(default)]
    pub queues: Option<u32>,
    #[serde(default)]
    pub hand_size: Option<u32>,
    #[serde(default)]
    pub queue_length_limit: Option<u32>,
}

/// kube-apiserver replicas whose cores are shared by the requests in service (processor
/// sharing); each call costs CPU time. Defaults are clustersim calibration
/// (docs/scenario.md, `controlPlane.apiserver`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiServerSpec {
    #[serde(default = "defaults::apiserver_replicas")]
    pub replicas: u32,
    /// Cores per replica.
    #[serde(default = "defaults::apiserver_cores")]
    pub cores: u32,
    #[serde(default)]
    pub cost: ApiCostSpec,
}

/// CPU time per request by verb, plus per object returned and per KiB serialised.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiCostSpec {
    #[serde(default = "defaults::cost_create")]
    pub create: DurationSpec,
    #[serde(default = "defaults::cost_update")]
    pub update: DurationSpec,
    #[serde(default = "defaults::cost_update")]
    pub patch: DurationSpec,
    #[serde(default = "defaults::cost_update")]
    pub delete: DurationSpec,
    #[serde(default = "defaults::cost_list")]
    pub list: DurationSpec,
    #[serde(default = "defaults::cost_per_object")]
    pub per_object: DurationSpec,
    #[serde(default = "defaults::cost_per_kib")]
    pub per_ki_b: DurationSpec,
}

impl Default for ApiCostSpec {
    fn default() -> Self {
        ApiCostSpec {
            create: defaults::cost_create(),
            update: defaults::cost_update(),
            patch: defaults::cost_update(),
            delete: defaults::cost_update(),
            list: defaults::cost_list(),
            per_object: defaults::cost_per_object(),
            per_ki_b: defaults::cost_per_kib(),
        }
    }
}

impl Default for ControlPlaneSpec {
    fn default() -> Self {
        serde_json::from_str("{}").unwrap_or_else(|_| unreachable!("all fields have defaults"))
    }
}

/// API server processing time per request (excluding queueing and etcd).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiServiceTimeSpec {
    #[serde(default = "defaults::api_read")]
    pub read: DurationSpec,
    #[serde(default = "defaults::api_write")]
    pub write: DurationSpec,
    #[serde(default = "defaults::api_list_per_object")]
    pub list_per_object: DurationSpec,
}

impl Default for ApiServiceTimeSpec {
    fn default() -> Self {
        ApiServiceTimeSpec {
            read: defaults::api_read(),
            write: defaults::api_write(),
            list_per_object: defaults::api_list_per_object(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EtcdSpec {
    /// Commit latency of one write (raft round + fsync).
    #[serde(default = "defaults::etcd_write_latency")]
    pub write_latency: DurationSpec,
    /// Writes per second the log sustains.
    #[serde(default = "defaults::etcd_writes_per_second")]
    pub max_writes_per_second: f64,
    /// Database size at the start (with `apiserver`: the commit latency grows with it);
    /// absent: 0. Optional so that scenarios without it serialise as before (run.json).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_size: Option<MemQuantity>,
    /// etcd `--quota-backend-bytes`, absent: upstream's default 2 GiB. With `apiserver`, the
    /// commit latency is `writeLatency × (1 + dbSize / quotaBackendBytes)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota_backend_bytes: Option<MemQuantity>,
}

impl EtcdSpec {
    pub fn db_size_bytes(&self) -> i64 {
        self.db_size.map_or(0, |q| q.0)
    }
    pub fn quota_backend_bytes(&self) -> i64 {
        self.quota_backend_bytes.unwrap_or_else(defaults::etcd_quota_backend_bytes).0
    }
}

impl Default for EtcdSpec {
    fn default() -> Self {
        EtcdSpec {
            write_latency: defaults::etcd_write_latency(),
            max_writes_per_second: defaults::etcd_writes_per_second(),
            db_size: None,
            quota_backend_bytes: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndpointsModeSpec {
    /// Whole Endpoints objects to every watcher (pre-1.19 kube-proxy): O(nodes × endpoints).
    Endpoints,
    /// EndpointSlices of at most `maxEndpointsPerSlice` (the default since 1.19).
    #[default]
    EndpointSlice,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WatchSpec {
    #[serde(default)]
    pub endpoints: EndpointsModeSpec,
    /// Upstream `--max-endpoints-per-slice` default 100.
    #[serde(default = "defaults::max_endpoints_per_slice")]
    pub max_endpoints_per_slice: u64,
    /// Server time per endpoint sent to one watcher.
    #[serde(default = "defaults::watch_cost_per_item")]
    pub cost_per_item: DurationSpec,
}

impl Default for WatchSpec {
    fn default() -> Self {
        WatchSpec {
            endpoints: EndpointsModeSpec::default(),
            max_endpoints_per_slice: defaults::max_endpoints_per_slice(),
            cost_per_item: defaults::watch_cost_per_item(),
        }
    }
}

/// A client's rate limiter (client-go QPS and burst).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientSpec {
    pub qps: f64,
    pub burst: u32,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientsSpec {
    /// kube-scheduler `clientConnection` QPS 50, burst 100.
    #[serde(default = "defaults::scheduler_client")]
    pub scheduler: ClientSpec,
    /// kube-controller-manager `--kube-api-qps` 20, `--kube-api-burst` 30.
    #[serde(default = "defaults::controller_manager_client")]
    pub controller_manager: ClientSpec,
    /// kubelet `kubeAPIQPS` 50, `kubeAPIBurst` 100 (since v1.27).
    #[serde(default = "defaults::kubelet_client")]
    pub kubelet: ClientSpec,
}

impl Default for ClientsSpec {
    fn default() -> Self {
        ClientsSpec {
            scheduler: defaults::scheduler_client(),
            controller_manager: defaults::controller_manager_client(),
            kubelet: defaults::kubelet_client(),
        }
    }
}

/// A node pool as a cluster-autoscaler node group: its size bounds and how long a new node
/// takes from the cloud request to a Ready node. `count` is the initial size.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroupSpec {
    pub min_size: u32,
    pub max_size: u32,
    /// Cloud request → node Ready. Default uniform 180–240 s: the cluster-autoscaler FAQ
    /// says GCE provisioning "typically takes 3–4 minutes". A draw longer than
    /// `max-node-provision-time` is a node that never comes up.
    #[serde(default = "defaults::provisioning_delay")]
    pub provisioning_delay: Distribution,
    /// Rank for the `priority` expander (higher wins; upstream's priority ConfigMap).
    #[serde(default)]
    pub priority: i64,
}

/// Cluster-autoscaler flags, by their upstream names and with their upstream defaults
/// (`kubernetes/autoscaler:cluster-autoscaler/config/flags/flags.go`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClusterAutoscalerSpec {
    #[serde(default = "defaults::ca_scan_interval")]
    pub scan_interval: DurationSpec,
    /// `least-waste` (default), `most-pods`, `random`, `price`, `priority`, or a chain such
    /// as `priority,least-waste` (each filters the previous one's ties; random breaks the rest).
    #[serde(default = "defaults::ca_expander")]
    pub expander: String,
    #[serde(default = "defaults::yes")]
    pub scale_down_enabled: bool,
    #[serde(default = "defaults::ten_minutes")]
    pub scale_down_delay_after_add: DurationSpec,
    #[serde(default = "defaults::zero_duration")]
    pub scale_down_delay_after_delete: DurationSpec,
    #[serde(default = "defaults::three_minutes")]
    pub scale_down_delay_after_failure: DurationSpec,
    #[serde(default = "defaults::ten_minutes")]
    pub scale_down_unneeded_time: DurationSpec,
    #[serde(default = "defaults::twenty_minutes")]
    pub scale_down_unready_time: DurationSpec,
    #[serde(default = "defaults::half")]
    pub scale_down_utilization_threshold: f64,
    /// `--scale-down-gpu-utilization-threshold`: nodes with GPUs compare their GPU
    /// utilisation alone with it.
    #[serde(default = "defaults::half")]
    pub scale_down_gpu_utilization_threshold: f64,
    #[serde(default = "defaults::thirty")]
    pub scale_down_non_empty_candidates_count: u32,
    #[serde(default = "defaults::fifteen_minutes")]
    pub max_node_provision_time: DurationSpec,
    #[serde(default = "defaults::ten")]
    pub max_empty_bulk_delete: u32,
    #[serde(default = "defaults::two_minutes")]
    pub max_pod_eviction_time: DurationSpec,
    #[serde(default = "defaults::forty_five")]
    pub max_total_unready_percentage: f64,
    #[serde(default = "defaults::three")]
    pub ok_total_unready_count: u32,
    /// 0 = no limit.
    #[serde(default)]
    pub max_nodes_total: u32,
    #[serde(default = "defaults::zero_duration")]
    pub new_pod_scale_up_delay: DurationSpec,
    /// Node-group backoff after a failed scale-up (`DefaultInitialNodeGroupBackoffDuration`).
    #[serde(default = "defaults::five_minutes")]
    pub initial_node_group_backoff_duration: DurationSpec,
    /// `DefaultMaxNodeGroupBackoffDuration`.
    #[serde(default = "defaults::thirty_minutes")]
    pub max_node_group_backoff_duration: DurationSpec,
}

impl Default for ClusterAutoscalerSpec {
    fn default() -> Self {
        // Every field has a serde default, so an empty mapping gives the upstream defaults.
        serde_json::from_str("{}").unwrap_or_else(|_| unreachable!("all fields have defaults"))
    }
}

/// An alternating failure/repair process per node: up for a time-to-failure draw, down for a
/// time-to-repair draw, and so on. A repaired node comes back empty and Ready.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FailureSpec {
    pub time_to_failure: Distribution,
    pub time_to_repair: Distribution,
}

/// ClusterLoader2's node-failure chaos monkey (`kubernetes/perf-tests:clusterloader2/pkg/chaos/nodes.go`,
/// `NodeKiller`): every `interval` (plus a uniform jitter of up to `jitterFactor × interval`,
/// `wait.JitterUntil`, first round at the start) it fails `ceil(failureRate × nodes)` nodes
/// picked at random, each for `simulatedDowntime`. The CL2 load test's optional values are
/// failureRate 0.01, interval 5 min, jitterFactor 2.0, simulatedDowntime 10 min. (CL2 stops
/// the kubelet; clustersim fails the node, so its pods stop too.)
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChaosSpec {
    pub failure_rate: f64,
    pub interval: DurationSpec,
    #[serde(default)]
    pub jitter_factor: f64,
    pub simulated_downtime: DurationSpec,
}

/// `kubectl drain` of a node at a given time: cordon it, evict its pods through the eviction
/// API (which refuses while a Deployment's `minAvailable` would be violated; kubectl retries
/// every 5 s), and uncordon it after `duration` (absent: it stays cordoned).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MaintenanceSpec {
    pub at: DurationSpec,
    /// Node name, `<pool>-<index>`.
    pub drain: String,
    #[serde(default)]
    pub duration: Option<DurationSpec>,
}

/// A failure at a given time: one node, a fraction of a pool, or a whole zone.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultSpec {
    pub at: DurationSpec,
    /// How long the nodes stay down; absent: until the end of the run.
    #[serde(default)]
    pub duration: Option<DurationSpec>,
    pub fail: FaultTarget,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum FaultTarget {
    /// A node by name, `<pool>-<index>`.
    Node(String),
    /// A fraction of a pool's nodes, chosen at random (seeded).
    Pool(PoolFraction),
    /// Every node of a zone.
    Zone(String),
    /// kube-apiserver replicas stop (`{apiserver: {}}`: all of them; `{apiserver:
    /// {replicas: 1}}`: one). Needs `controlPlane`.
    Apiserver(ApiserverFault),
    /// etcd is unavailable (`{etcd: {}}`) or slow (`{etcd: {slow: 200ms}}`: added commit
    /// latency). Needs `controlPlane`.
    Etcd(EtcdFault),
}

impl FaultTarget {
    /// A fault of the control plane rather than of nodes.
    pub fn is_control_plane(&self) -> bool {
        matches!(self, FaultTarget::Apiserver(_) | FaultTarget::Etcd(_))
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiserverFault {
    /// Replicas down; absent: all.
    #[serde(default)]
    pub replicas: Option<u32>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EtcdFault {
    /// Added commit latency; absent: etcd is unavailable.
    #[serde(default)]
    pub slow: Option<DurationSpec>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolFraction {
    pub name: String,
    #[serde(default = "defaults::one")]
    pub fraction: f64,
}

/// The node-lifecycle controller and the kubelet timing it depends on. Defaults from
/// `kubernetes/kubernetes:pkg/controller/nodelifecycle/config/v1alpha1/defaults.go`,
/// `cmd/kube-controller-manager/app/options/nodelifecyclecontroller.go`,
/// `pkg/kubelet/apis/config/v1beta1/defaults.go` and
/// `plugin/pkg/admission/defaulttolerationseconds/admission.go`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeLifecycleSpec {
    /// `--node-monitor-period`: how often the controller checks node health (5 s).
    #[serde(default = "defaults::node_monitor_period")]
    pub node_monitor_period: DurationSpec,
    /// `--node-monitor-grace-period`: silence before a node is Unknown (50 s since v1.32,
    /// PR kubernetes/kubernetes#126287).
    #[serde(default = "defaults::node_monitor_grace_period")]
    pub node_monitor_grace_period: DurationSpec,
    /// Kubelet lease renewal interval (10 s = 0.25 × `nodeLeaseDurationSeconds` 40).
    #[serde(default = "defaults::heartbeat")]
    pub node_status_update_frequency: DurationSpec,
    /// `tolerationSeconds` the DefaultTolerationSeconds admission plugin gives every pod
    /// for `node.kubernetes.io/unreachable:NoExecute` (300).
    #[serde(default = "defaults::toleration_seconds")]
    pub default_toleration_seconds: u64,
    /// `--node-eviction-rate`: NoExecute taints per second per healthy zone (0.1).
    #[serde(default = "defaults::eviction_rate")]
    pub node_eviction_rate: f64,
    /// `--secondary-node-eviction-rate`: the same in a partially disrupted zone (0.01).
    #[serde(default = "defaults::secondary_eviction_rate")]
    pub secondary_node_eviction_rate: f64,
    /// `--large-cluster-size-threshold`: zones of at most this many nodes stop tainting
    /// when partially disrupted (50).
    #[serde(default = "defaults::large_cluster")]
    pub large_cluster_size_threshold: u32,
    /// `--unhealthy-zone-threshold`: fraction of NotReady nodes (with more than 2) that
    /// makes a zone partially disrupted (0.55).
    #[serde(default = "defaults::unhealthy_zone")]
    pub unhealthy_zone_threshold: f64,
}

impl Default for NodeLifecycleSpec {
    fn default() -> Self {
        NodeLifecycleSpec {
            node_monitor_period: defaults::node_monitor_period(),
            node_monitor_grace_period: defaults::node_monitor_grace_period(),
            node_status_update_frequency: defaults::heartbeat(),
            default_toleration_seconds: defaults::toleration_seconds(),
            node_eviction_rate: defaults::eviction_rate(),
            secondary_node_eviction_rate: defaults::secondary_eviction_rate(),
            large_cluster_size_threshold: defaults::large_cluster(),
            unhealthy_zone_threshold: defaults::unhealthy_zone(),
        }
    }
}

/// What a node offers to pods.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeResourcesSpec {
    pub cpu: CpuQuantity,
    pub memory: MemQuantity,
    /// Upstream kubelet `maxPods` default: 110 (`pkg/kubelet/apis/config/v1beta1/defaults.go`).
    #[serde(default = "defaults::max_pods")]
    pub pods: CountQuantity,
    #[serde(default = "defaults::zero_count", rename = "nvidia.com/gpu")]
    pub gpu: CountQuantity,
}

/// Kubelet start-up delays. Kubernetes has no default for these (they depend on image size,
/// registry and runtime); clustersim's defaults model a cached image and a ~1 s sandbox and
/// container start.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeletSpec {
    #[serde(default = "defaults::image_pull")]
    pub image_pull: Distribution,
    #[serde(default = "defaults::container_start")]
    pub container_start: Distribution,
}

impl Default for KubeletSpec {
    fn default() -> Self {
        KubeletSpec { image_pull: defaults::image_pull(), container_start: defaults::container_start() }
    }
}

/// Requests of the pod's (single) container. A missing cpu or memory is "not specified"
/// (the scheduler's scorers then count 100m / 200Mi); an explicit 0 stays 0.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodResourcesSpec {
    #[serde(default)]
    pub cpu: Option<CpuQuantity>,
    #[serde(default)]
    pub memory: Option<MemQuantity>,
    #[serde(default, rename = "nvidia.com/gpu")]
    pub gpu: Option<CountQuantity>,
    /// The milli-units of each GPU the pod takes (1 to 1000; below 1000, a share of one
    /// GPU, so `nvidia.com/gpu` must be 1), like the `alibabacloud.com/gpu-milli` of the
    /// GPU-sharing scheduler the FGD paper's simulator follows. Absent: whole GPUs.
    #[serde(default, rename = "alibabacloud.com/gpu-milli", skip_serializing_if = "Option::is_none")]
    pub gpu_milli: Option<CountQuantity>,
}

impl PodResourcesSpec {
    /// The GPU milli-units in all: `nvidia.com/gpu` × (`alibabacloud.com/gpu-milli` or 1000).
    pub fn gpu_milli(&self) -> i64 {
        let per = self.gpu_milli.map_or(1000, |m| m.0);
        self.gpu.map_or(0, |g| g.0.saturating_mul(per))
    }
}

/// A pod template.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodTemplateSpec {
    /// `metadata.labels` of the pods (a Deployment's pods without labels get `app: <name>`).
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub requests: PodResourcesSpec,
    #[serde(default)]
    pub node_selector: Labels,
    #[serde(default)]
    pub affinity: Affinity,
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    /// `spec.topologySpreadConstraints`.
    #[serde(default)]
    pub topology_spread_constraints: Vec<crate::cluster::spread::TopologySpreadConstraint>,
    /// Pod priority (the value a PriorityClass would resolve to); upstream default 0.
    #[serde(default)]
    pub priority: i32,
    /// A `priorityClasses[].name`: the pod takes its value (instead of `priority`) and its
    /// preemption policy.
    #[serde(default)]
    pub priority_class_name: Option<String>,
    /// Container crashes (absent: containers never crash).
    #[serde(default)]
    pub crashes: Option<CrashSpec>,
    /// `spec.terminationGracePeriodSeconds` (upstream default 30): the longest a deleted
    /// pod stays Terminating before the kubelet kills its containers. Signed so that a
    /// negative value reaches validation, which names the field.
    #[serde(default = "defaults::termination_grace_period_seconds")]
    pub termination_grace_period_seconds: i64,
    /// How long the containers take to exit after SIGTERM (a duration or a distribution);
    /// the pod is Terminating for min(this, the grace period). Default 0: deleted pods
    /// free their node at once.
    #[serde(default)]
    pub termination_time: TerminationTimeSpec,
}

impl Default for PodTemplateSpec {
    fn default() -> Self {
        PodTemplateSpec {
            labels: Labels::default(),
            requests: PodResourcesSpec::default(),
            node_selector: Labels::default(),
            affinity: Affinity::default(),
            tolerations: Vec::new(),
            topology_spread_constraints: Vec::new(),
            priority: 0,
            priority_class_name: None,
            crashes: None,
            termination_grace_period_seconds: defaults::termination_grace_period_seconds(),
            termination_time: TerminationTimeSpec::default(),
        }
    }
}

/// `terminationTime`: a duration (`10s`, `2.5`) or a distribution (`{uniform: {min: 5s,
/// max: 20s}}`). A negative duration is kept as written so that validation reports it with
/// its field path.
#[derive(Clone, Debug, PartialEq)]
pub enum TerminationTimeSpec {
    Duration(DurationSpec),
    Distribution(Distribution),
    /// A negative duration as written (always rejected by validation).
    Negative(String),
}

impl Default for TerminationTimeSpec {
    fn default() -> Self {
        TerminationTimeSpec::Duration(DurationSpec(SimDuration::ZERO))
    }
}

impl TerminationTimeSpec {
    /// The distribution to draw from (`None` for a negative value).
    pub fn distribution(&self) -> Option<Distribution> {
        match self {
            TerminationTimeSpec::Duration(d) => Some(Distribution::Constant(*d)),
            TerminationTimeSpec::Distribution(d) => Some(d.clone()),
            TerminationTimeSpec::Negative(_) => None,
        }
    }

    /// True when every draw is zero (the pod exits at once).
    pub fn is_zero(&self) -> bool {
        matches!(
            self,
            TerminationTimeSpec::Duration(d) | TerminationTimeSpec::Distribution(Distribution::Constant(d))
                if d.0 == SimDuration::ZERO
        )
    }
}

impl Serialize for TerminationTimeSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TerminationTimeSpec::Duration(d) => d.serialize(serializer),
            TerminationTimeSpec::Distribution(d) => d.serialize(serializer),
            TerminationTimeSpec::Negative(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for TerminationTimeSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{self, IntoDeserializer};
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = TerminationTimeSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a duration such as 10s, or a distribution such as {uniform: {min: 5s, max: 20s}}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if let Some(rest) = v.trim().strip_prefix('-') {
                    // Negative: keep it for validation if the rest is a duration.
                    super::duration::parse_duration(rest).map_err(E::custom)?;
                    return Ok(TerminationTimeSpec::Negative(v.trim().to_string()));
                }
                DurationSpec::deserialize(v.into_deserializer()).map(TerminationTimeSpec::Duration)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                DurationSpec::deserialize(v.into_deserializer()).map(TerminationTimeSpec::Duration)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                if v < 0 {
                    return Ok(TerminationTimeSpec::Negative(v.to_string()));
                }
                DurationSpec::deserialize(v.into_deserializer()).map(TerminationTimeSpec::Duration)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if v.is_finite() && v < 0.0 {
                    return Ok(TerminationTimeSpec::Negative(v.to_string()));
                }
                DurationSpec::deserialize(v.into_deserializer()).map(TerminationTimeSpec::Duration)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Distribution::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(TerminationTimeSpec::Distribution)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A container that crashes: after each (re)start it runs for a `timeToCrash` draw, then
/// exits and the kubelet restarts it with the upstream CrashLoopBackOff.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CrashSpec {
    pub time_to_crash: Distribution,
}

/// A Deployment: a replica count kept by the ReplicaSet controller.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeploymentSpec {
    pub name: String,
    /// `metadata.namespace` (default `default`).
    #[serde(default = "defaults::namespace")]
    pub namespace: String,
    /// `spec.selector`: which pods are the Deployment's (its ReplicaSet's selector, and the
    /// selector of the default topology spread constraints). Absent: the template's labels.
    /// It must select the template's labels.
    #[serde(default)]
    pub selector: Option<crate::cluster::label_selector::LabelSelector>,
    pub replicas: u32,
    pub template: PodTemplateSpec,
    /// When the Deployment is created.
    #[serde(default = "defaults::zero_duration")]
    pub start_at: DurationSpec,
    /// Pods created per second while the Deployment scales up (like a ClusterLoader2
    /// tuning set); 0 creates them all at once.
    #[serde(default)]
    pub create_rate: f64,
    /// Replica-count changes at given times (what `kubectl scale` does): the ReplicaSet
    /// controller creates pods, or deletes them in its upstream order, to match.
    #[serde(default)]
    pub scale: Vec<ScaleStepSpec>,
    /// Request traffic served by this Deployment's Ready pods (absent: no traffic).
    #[serde(default)]
    pub service: Option<ServiceSpec>,
    /// A HorizontalPodAutoscaler for this Deployment (absent: none).
    #[serde(default)]
    pub horizontal_pod_autoscaler: Option<HpaSpec>,
    /// A PodDisruptionBudget's `minAvailable` (a count): a drain evicts a pod only while at
    /// least this many other pods of the Deployment stay Ready. Absent: no budget.
    #[serde(default)]
    pub min_available: Option<u32>,
    /// Rolling updates (`strategy: RollingUpdate`) started at given times, as
    /// `kubectl rollout restart` does: every pod that exists then is replaced by a new one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollouts: Vec<RolloutSpec>,
}

/// A rolling update of a Deployment's pods (upstream `pkg/controller/deployment/rolling.go`):
/// new pods are created while the Deployment has fewer than `replicas + maxSurge` pods, and
/// old pods are deleted while at least `replicas - maxUnavailable` pods stay available.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RolloutSpec {
    /// When the update starts, from the start of the run.
    pub at: DurationSpec,
    /// `maxSurge`: a count or a percentage of `replicas`, rounded up (default 25%, upstream
    /// `pkg/apis/apps/v1/defaults.go`).
    #[serde(default = "defaults::quarter")]
    pub max_surge: IntOrPercent,
    /// `maxUnavailable`: a count or a percentage of `replicas`, rounded down (default 25%).
    #[serde(default = "defaults::quarter")]
    pub max_unavailable: IntOrPercent,
}

/// Upstream's `intstr.IntOrString` for `maxSurge`/`maxUnavailable`: `3` or `"25%"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrPercent {
    Int(u32),
    Percent(String),
}

impl IntOrPercent {
    /// The percentage, for a `"<integer>%"` string; `None` for anything else.
    pub fn percent(&self) -> Option<u32> {
        match self {
            IntOrPercent::Int(_) => None,
            IntOrPercent::Percent(s) => s.strip_suffix('%').and_then(|n| n.parse::<u32>().ok()),
        }
    }

    /// Upstream `intstr.GetScaledValueFromIntOrPercent`: a count as it is, a percentage of
    /// `total` rounded up or down. A malformed percentage (refused by validation) is 0.
    pub fn scaled(&self, total: u32, round_up: bool) -> u32 {
        match self {
            IntOrPercent::Int(n) => *n,
            IntOrPercent::Percent(_) => {
                let p = u64::from(self.percent().unwrap_or(0));
                let x = u64::from(total) * p;
                let v = if round_up { x.div_ceil(100) } else { x / 100 };
                u32::try_from(v).unwrap_or(u32::MAX)
            }
        }
    }

    /// Whether the value is zero (`0` or `"0%"`).
    pub fn is_zero(&self) -> bool {
        match self {
            IntOrPercent::Int(n) => *n == 0,
            IntOrPercent::Percent(_) => self.percent() == Some(0),
        }
    }
}

/// A DaemonSet (`apps/v1`): one pod of `template` on every node the template can run on,
/// as upstream's DaemonSet controller decides (`pkg/controller/daemon/daemon_controller.go`
/// `NodeShouldRunDaemonPod`): the node's labels match the template's `nodeSelector` and
/// required node affinity, and the pod tolerates the node's `NoSchedule` and `NoExecute`
/// taints, counting the tolerations every DaemonSet pod gets
/// (`pkg/controller/daemon/util/daemonset_util.go` `AddOrUpdateDaemonPodTolerations`:
/// `node.kubernetes.io/not-ready` and `unreachable` `NoExecute` without a time limit,
/// `disk-pressure`, `memory-pressure`, `pid-pressure` and `unschedulable` `NoSchedule`;
/// `network-unavailable` only for `hostNetwork` pods, which clustersim does not model).
/// Pods are created at the start of the run and for every node added later (cluster
/// autoscaler scale-ups); each goes through the scheduler pinned to its node (a
/// `metadata.name` node affinity), so it stays Pending while its node lacks room. A pod is
/// gone with its node; a lost pod is recreated.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DaemonSetSpec {
    pub name: String,
    /// `metadata.namespace` (default `default`).
    #[serde(default = "defaults::namespace")]
    pub namespace: String,
    /// The pod template (the same fields as a Deployment's).
    pub template: PodTemplateSpec,
}

/// A bare pod with `spec.nodeName` (no owner): Running on node `nodeName` from the start of
/// the run, without going through the scheduler (upstream binds such a pod directly; the
/// kubelet admits it if it fits). It must fit its node together with the initial pods
/// listed before it on the same node (requests and pod count), match the node's labels
/// (`nodeSelector`, required node affinity) and tolerate its `NoExecute` taints, as the
/// kubelet's admission checks (`pkg/kubelet/lifecycle/predicate.go`); anything else is a
/// validation error. Nothing recreates it once it ends.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InitialPodSpec {
    pub name: String,
    /// `metadata.namespace` (default `default`).
    #[serde(default = "defaults::namespace")]
    pub namespace: String,
    /// `spec.nodeName`: a node of the initial cluster, `<pool>-<index>`.
    pub node_name: String,
    pub template: PodTemplateSpec,
}

/// A Deployment's request traffic: how each pod serves, how requests arrive, how they are
/// spread over Ready pods.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceSpec {
    /// Worker slots per pod: requests served at once.
    #[serde(default = "defaults::concurrency")]
    pub concurrency: u32,
    /// Requests that may wait per pod (beyond the workers); an arrival finding the queue
    /// full is rejected. Absent: unlimited.
    #[serde(default)]
    pub queue_limit: Option<u32>,
    /// Client deadline. A request still waiting at arrival + timeout leaves the queue
    /// unserved; one served but finishing later than that counts as timed out too.
    /// Absent: no deadline.
    #[serde(default)]
    pub timeout: Option<DurationSpec>,
    /// Service time of one request. Give this, `serviceTimeCsv`, or a trace load with a
    /// `serviceTimeColumn`.
    #[serde(default)]
    pub service_time: Option<Distribution>,
    /// Service times drawn uniformly from a CSV column (seconds).
    #[serde(default)]
    pub service_time_csv: Option<CsvColumnSpec>,
    /// How requests are spread over Ready pods.
    #[serde(default)]
    pub load_balancing: LoadBalancingSpec,
    /// CPU a busy worker uses (for pod CPU usage as metrics-server reports it).
    #[serde(default = "defaults::cpu_per_worker")]
    pub cpu_per_worker: CpuQuantity,
    /// CPU a Ready pod uses when idle.
    #[serde(default = "defaults::zero_cpu")]
    pub idle_cpu: CpuQuantity,
    /// Latency target for the SLO-attainment column.
    #[serde(default = "defaults::latency_slo")]
    pub latency_slo: DurationSpec,
    /// Availability target: an interval is within the SLO when at least this fraction of
    /// its requests succeeded and its p99 latency is within `latencySlo` (used by
    /// `time_to_recover_s`).
    #[serde(default = "defaults::availability_slo")]
    pub availability_slo: f64,
    /// The arrival process.
    pub load: LoadSpec,
}

/// A column of a CSV file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CsvColumnSpec {
    /// Path, relative to the scenario file.
    pub file: String,
    pub column: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoadBalancingSpec {
    /// Uniformly random Ready pod: what kube-proxy's default iptables mode does
    /// (`kubernetes/kubernetes:pkg/proxy/iptables/proxier.go`, `statistic --mode random`).
    #[default]
    Random,
    RoundRobin,
    LeastOutstanding,
    PowerOfTwoChoices,
}

/// Arrival processes. All but `trace` are Poisson processes with the given (possibly
/// time-varying) rate in requests per second.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum LoadSpec {
    Poisson(PoissonLoad),
    /// Piecewise constant: each step's rate holds from its `at` to the next step (0 before
    /// the first).
    Steps(Vec<RateStep>),
    Ramp(RampLoad),
    Diurnal(DiurnalLoad),
    Spike(SpikeLoad),
    Trace(TraceLoad),
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoissonLoad {
    pub rate: f64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RateStep {
    pub at: DurationSpec,
    pub rate: f64,
}

/// `from` until `start`, linearly to `to` at `end`, then `to`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RampLoad {
    pub from: f64,
    pub to: f64,
    pub start: DurationSpec,
    pub end: DurationSpec,
}

/// `mean + amplitude × cos(2π (t − peakAt) / period)`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DiurnalLoad {
    pub mean: f64,
    pub amplitude: f64,
    #[serde(default = "defaults::day")]
    pub period: DurationSpec,
    #[serde(default = "defaults::zero_duration")]
    pub peak_at: DurationSpec,
}

/// `base`, and `peak` during [`at`, `at + duration`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SpikeLoad {
    pub base: f64,
    pub peak: f64,
    pub at: DurationSpec,
    pub duration: DurationSpec,
}

/// Replay of a request trace: one arrival per CSV row.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraceLoad {
    /// Path, relative to the scenario file.
    pub file: String,
    /// Arrival timestamps: seconds, or `YYYY-MM-DD HH:MM:SS`.
    pub time_column: String,
    /// Service times in seconds (optional; else the service's `serviceTime`).
    #[serde(default)]
    pub service_time_column: Option<String>,
    /// Multiplies the trace's time offsets (0.5 replays twice as fast).
    #[serde(default = "defaults::one")]
    pub time_scale: f64,
    /// Each trace request arrives `floor(k)` times, plus once more with probability
    /// `k − floor(k)`.
    #[serde(default = "defaults::one")]
    pub rate_multiplier: f64,
    /// When the trace's first request arrives.
    #[serde(default = "defaults::zero_duration")]
    pub start_at: DurationSpec,
}

/// A CSV column and the unit of its values (`unit` may be left out where the field has a
/// single unit or a documented default).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UnitColumn {
    pub column: String,
    #[serde(default)]
    pub unit: Option<String>,
}

/// Which CSV column holds what for a pod trace. Times: `ns`, `us`, `ms`, `s`, `min`, `h`
/// (numbers, decimals allowed), or `datetime` (`YYYY-MM-DD HH:MM:SS`, UTC); CPU:
/// `millicores` or `cores`; memory: `bytes`, `KiB`, `MiB`, `GiB`, `KB`, `MB`, `GB`; GPUs:
/// `count` (whole GPUs) or `milli` (GPU milli-units, 1000 = one GPU).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodTraceColumns {
    /// The pod's name (used in messages about the pod).
    #[serde(default)]
    pub name: Option<String>,
    /// When the pod is created (required).
    #[serde(default)]
    pub arrival: Option<UnitColumn>,
    /// How long the pod runs once Running. Give this, `end`, or neither (pods run forever).
    #[serde(default)]
    pub duration: Option<UnitColumn>,
    /// When the pod ends (in the arrival column's clock): it runs for `end − arrival`.
    #[serde(default)]
    pub end: Option<UnitColumn>,
    #[serde(default)]
    pub cpu: Option<UnitColumn>,
    #[serde(default)]
    pub memory: Option<UnitColumn>,
    /// GPUs: with `unit: count`, whole GPUs (or, with `gpuMilli`, the number of GPUs each
    /// taking that share); with `unit: milli`, GPU milli-units.
    #[serde(default)]
    pub gpu: Option<UnitColumn>,
    /// The share of each GPU in milli-units (1000 = a whole GPU), multiplied by `gpu`'s
    /// count; a share below 1000 needs a count of 1 (the Alibaba trace's `gpu_milli`).
    #[serde(default)]
    pub gpu_milli: Option<String>,
    /// Acceptable GPU models, `|`-separated (empty: any): a required node affinity on the
    /// node label `nvidia.com/gpu.product`.
    #[serde(default)]
    pub gpu_model: Option<String>,
    /// A priority value (an integer) or the name of a `priorityClasses[]` entry.
    #[serde(default)]
    pub priority: Option<String>,
    /// Pod labels as `key=value` pairs separated by `;`.
    #[serde(default)]
    pub labels: Option<String>,
    /// The pod's owner (a job or workload name): the pods get the label
    /// `clustersim.io/owner: <value>` and one template per owner.
    #[serde(default)]
    pub owner: Option<String>,
}

/// A known trace layout: fills the columns a scenario does not map itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TracePreset {
    /// The Alibaba GPU cluster trace v2023 (`openb_pod_list_*.csv`,
    /// `openb_node_list_all_node.csv`).
    #[serde(rename = "alibaba-gpu-v2023")]
    AlibabaGpuV2023,
    /// `pod,arrival_ms,duration_ms,cpu_millicores,ram_bytes` (pods only).
    #[serde(rename = "plain")]
    Plain,
}

/// A window of trace time, as offsets from the first data row's arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TraceWindowSpec {
    #[serde(default = "defaults::zero_duration")]
    pub from: DurationSpec,
    /// Default: the end of the trace.
    #[serde(default)]
    pub to: Option<DurationSpec>,
}

/// Replay of a pod trace: one pod per CSV row, created at `startAt + (arrival − first
/// arrival − window.from) × timeScale`, Running for `duration × durationScale`, then
/// Succeeded. The file is read as the run goes (rows must be sorted by arrival unless
/// `sorted: false`), after one checking pass when the scenario is loaded.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodTraceSpec {
    pub name: String,
    /// Path, relative to the scenario file.
    pub file: String,
    #[serde(default)]
    pub preset: Option<TracePreset>,
    #[serde(default)]
    pub columns: PodTraceColumns,
    /// The rows are in arrival order (checked); `false` reads the whole file into memory
    /// and sorts it (stable) before the run.
    #[serde(default = "defaults::yes")]
    pub sorted: bool,
    /// Multiplies arrival offsets (0.5 replays twice as fast).
    #[serde(default = "defaults::one")]
    pub time_scale: f64,
    /// Multiplies run durations.
    #[serde(default = "defaults::one")]
    pub duration_scale: f64,
    /// Each row makes `floor(k)` pods, plus one more with probability `k − floor(k)`.
    #[serde(default = "defaults::one")]
    pub rate_multiplier: f64,
    /// Only rows arriving in [`from`, `to`) (offsets from the first row's arrival).
    #[serde(default)]
    pub window: Option<TraceWindowSpec>,
    /// Read at most this many rows in the window; 0 = all.
    #[serde(default)]
    pub max_rows: u64,
    /// When the window's start arrives in the run.
    #[serde(default = "defaults::zero_duration")]
    pub start_at: DurationSpec,
    /// What every pod shares (tolerations, nodeSelector, spread constraints, priority
    /// class, ...); the trace's columns replace its requests, priority and labels.
    #[serde(default)]
    pub template: PodTemplateSpec,
    /// The FGD study's protocol (absent: rows replayed at their arrival times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inflation: Option<InflationSpec>,
}

/// Which CSV column holds what for a node list. Units as for [`PodTraceColumns`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeListColumns {
    /// The node's name (kept as its name in `pods.csv`).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub cpu: Option<UnitColumn>,
    #[serde(default)]
    pub memory: Option<UnitColumn>,
    /// Whole GPUs.
    #[serde(default)]
    pub gpu: Option<String>,
    /// The GPU model: the node label `nvidia.com/gpu.product` (empty: none).
    #[serde(default)]
    pub gpu_model: Option<String>,
    /// `maxPods` (default: the list's `maxPods`).
    #[serde(default)]
    pub pods: Option<String>,
    /// `topology.kubernetes.io/zone` (default: the list's `zone`).
    #[serde(default)]
    pub zone: Option<String>,
    /// Node labels as `key=value` pairs separated by `;`.
    #[serde(default)]
    pub labels: Option<String>,
}

/// Nodes from a CSV file, one row per node. Nodes with the same allocatable, labels and
/// zone become one pool `<name>-<k>` (k from 0, in order of first appearance).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeListSpec {
    pub name: String,
    /// Path, relative to the scenario file.
    pub file: String,
    #[serde(default)]
    pub preset: Option<TracePreset>,
    #[serde(default)]
    pub columns: NodeListColumns,
    /// The nodes' zone when no column gives it.
    #[serde(default = "defaults::zone")]
    pub zone: String,
    /// Upstream kubelet `maxPods` default: 110, when no column gives it.
    #[serde(default = "defaults::max_pods")]
    pub max_pods: CountQuantity,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub taints: Vec<Taint>,
    /// Price of one node for one hour, without its GPUs.
    #[serde(default)]
    pub price_per_hour: f64,
    /// Price of one GPU for one hour, added to `price_per_hour` for each of a node's GPUs.
    #[serde(default)]
    pub price_per_gpu_hour: f64,
    /// Price of one GPU for one hour by GPU model (the `gpuModel` column), for the nodes of
    /// that model instead of `price_per_gpu_hour`; every model named must be on some node.
    #[serde(default)]
    pub gpu_prices_per_hour: BTreeMap<String, f64>,
    #[serde(default)]
    pub kubelet: KubeletSpec,
    /// Keep only the rows with GPUs (like the trace's `openb_node_list_gpu_node.csv`, the
    /// node set of the FGD paper's runs).
    #[serde(default)]
    pub only_gpu_nodes: bool,
}

/// metrics-server: how pod CPU usage is sampled.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricsServerSpec {
    /// Scrape period, which is also the averaging window and the staleness (lag) of the
    /// published value: 15 s, the `--metric-resolution=15s` that upstream's deployment
    /// manifest sets (`kubernetes-sigs/metrics-server:manifests/base/deployment.yaml`; the
    /// flag's built-in default is 60 s).
    #[serde(default = "defaults::metric_resolution")]
    pub resolution: DurationSpec,
}

impl Default for MetricsServerSpec {
    fn default() -> Self {
        MetricsServerSpec { resolution: defaults::metric_resolution() }
    }
}

/// `autoscaling/v2` HorizontalPodAutoscaler: targets are averages over the Deployment's
/// pods; with several metrics the largest proposal wins. Without `behavior` the legacy
/// normalisation applies (5-min downscale stabilisation, scale-up limit max(2×, 4)), with
/// `behavior` the policies (an empty `behavior: {}` means the upstream default policies).
/// Upstream: `kubernetes/kubernetes:pkg/controller/podautoscaler/horizontal.go`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaSpec {
    /// Upstream default 1 (`pkg/apis/autoscaling/v2/defaults.go`).
    #[serde(default = "defaults::hpa_min_replicas")]
    pub min_replicas: i32,
    pub max_replicas: i32,
    /// Target average CPU utilisation, % of the pods' CPU request (a Resource metric).
    /// Upstream default 80 when no metric is given.
    #[serde(default)]
    pub target_cpu_utilization: Option<i32>,
    /// Target average requests per second per pod (a Pods metric, from the service).
    #[serde(default)]
    pub target_requests_per_second: Option<f64>,
    /// An External metric (`autoscaling/v2` `type: External`) whose value follows a schedule.
    #[serde(default)]
    pub external: Option<ExternalMetricSpec>,
    #[serde(default)]
    pub behavior: Option<HpaBehaviorSpec>,
    /// The Deployment scaled, for entries of the top-level `horizontalPodAutoscalers`.
    #[serde(default)]
    pub scale_target_ref: Option<ScaleTargetRefSpec>,
}

/// `spec.scaleTargetRef`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaleTargetRefSpec {
    #[serde(default = "defaults::deployment_kind")]
    pub kind: String,
    pub name: String,
}

/// An external metric (a queue length, a value from outside the cluster): piecewise
/// constant, each step's value holding from its `at` until the next (0 before the first).
/// Exactly one target: `targetValue` (the total; `GetExternalMetricReplicas`) or
/// `targetAverageValue` (per pod; `GetExternalPerPodMetricReplicas`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalMetricSpec {
    pub name: String,
    pub values: Vec<MetricStepSpec>,
    #[serde(default)]
    pub target_value: Option<f64>,
    #[serde(default)]
    pub target_average_value: Option<f64>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MetricStepSpec {
    pub at: DurationSpec,
    pub value: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaBehaviorSpec {
    /// Absent: upstream default (no stabilisation; max of 4 pods and 100 % per 15 s).
    #[serde(default)]
    pub scale_up: Option<HpaRulesSpec>,
    /// Absent: upstream default (the controller's 5-min window; 100 % per 15 s).
    #[serde(default)]
    pub scale_down: Option<HpaRulesSpec>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaRulesSpec {
    #[serde(default)]
    pub stabilization_window_seconds: Option<i32>,
    #[serde(default)]
    pub select_policy: HpaSelectPolicySpec,
    pub policies: Vec<HpaPolicySpec>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HpaSelectPolicySpec {
    #[default]
    Max,
    Min,
    Disabled,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HpaPolicySpec {
    #[serde(rename = "type")]
    pub kind: HpaPolicyTypeSpec,
    pub value: i32,
    pub period_seconds: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HpaPolicyTypeSpec {
    Pods,
    Percent,
}

/// One replica-count change of a Deployment.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaleStepSpec {
    /// When the change happens, from the start of the run.
    pub at: DurationSpec,
    pub replicas: u32,
}

/// A stream of short-lived pods (jobs): arrivals, lifetimes and a request mix.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChurnSpec {
    pub name: String,
    /// The pods' namespace (default `default`).
    #[serde(default = "defaults::namespace")]
    pub namespace: String,
    /// Poisson arrivals at this many pods per second. Give this or `interArrival`.
    #[serde(default)]
    pub arrival_rate: Option<f64>,
    /// Any inter-arrival time distribution. Give this or `arrivalRate`.
    #[serde(default)]
    pub inter_arrival: Option<Distribution>,
    /// How long a pod runs once Running, after which it Succeeds.
    pub lifetime: Distribution,
    #[serde(default = "defaults::zero_duration")]
    pub start_at: DurationSpec,
    /// When arrivals stop; default: the end of the run.
    #[serde(default)]
    pub stop_at: Option<DurationSpec>,
    /// Stop after this many pods; 0 = no limit.
    #[serde(default)]
    pub max_pods: u64,
    /// The request mix: each arrival picks one template with probability weight / Σ weights.
    pub templates: Vec<WeightedTemplateSpec>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeightedTemplateSpec {
    #[serde(default = "defaults::weight")]
    pub weight: f64,
    pub template: PodTemplateSpec,
}

/// Every default in one place.
pub mod defaults {
    use super::*;

    pub fn seed() -> u64 {
        1
    }
    pub fn sample_interval() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(10))
    }
    pub fn fit_resources() -> Vec<ResourceWeightSpec> {
        vec![
            ResourceWeightSpec { name: ResourceKind::Cpu, weight: 1 },
            ResourceWeightSpec { name: ResourceKind::Memory, weight: 1 },
        ]
    }
    pub fn balanced_resources() -> Vec<ResourceKind> {
        vec![ResourceKind::Cpu, ResourceKind::Memory]
    }
    pub fn pod_initial_backoff() -> u64 {
        1
    }
    pub fn pod_max_backoff() -> u64 {
        10
    }
    pub fn max_in_unschedulable() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(300))
    }
    pub fn quarter() -> IntOrPercent {
        IntOrPercent::Percent("25%".to_string())
    }
    pub fn namespace() -> String {
        "default".to_string()
    }

    pub fn hard_pod_affinity_weight() -> i32 {
        1
    }

    pub fn w1() -> i64 {
        1
    }
    pub fn w2() -> i64 {
        2
    }
    pub fn w3() -> i64 {
        3
    }
    pub fn cost_per_pod() -> DurationSpec {
        DurationSpec(SimDuration::from_micros(500))
    }
    pub fn cost_per_node() -> DurationSpec {
        DurationSpec(SimDuration::from_nanos(1_500))
    }
    pub fn noise_period() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(1))
    }
    pub fn zones() -> Vec<String> {
        vec!["zone-a".to_string()]
    }
    pub fn zone() -> String {
        "zone-a".to_string()
    }
    pub fn max_pods() -> CountQuantity {
        CountQuantity(110)
    }
    pub fn zero_count() -> CountQuantity {
        CountQuantity(0)
    }
    pub fn max_requests_inflight() -> u32 {
        400
    }
    pub fn max_mutating_requests_inflight() -> u32 {
        200
    }
    pub fn api_read() -> DurationSpec {
        DurationSpec(SimDuration::from_millis(1))
    }
    pub fn api_write() -> DurationSpec {
        DurationSpec(SimDuration::from_millis(2))
    }
    pub fn api_list_per_object() -> DurationSpec {
        DurationSpec(SimDuration::from_micros(2))
    }
    pub fn etcd_range_per_object() -> DurationSpec {
        DurationSpec(SimDuration::from_micros(10))
    }
    pub fn etcd_write_latency() -> DurationSpec {
        DurationSpec(SimDuration::from_millis(1))
    }
    pub fn etcd_writes_per_second() -> f64 {
        30_000.0
    }
    pub fn max_endpoints_per_slice() -> u64 {
        100
    }
    pub fn watch_cost_per_item() -> DurationSpec {
        DurationSpec(SimDuration::from_nanos(200))
    }
    pub fn apiserver_replicas() -> u32 {
        1
    }
    pub fn apiserver_cores() -> u32 {
        4
    }
    pub fn cost_create() -> DurationSpec {
        DurationSpec(SimDuration::from_millis(2))
    }
    pub fn cost_update() -> DurationSpec {
        DurationSpec(SimDuration::from_micros(1500))
    }
    pub fn cost_list() -> DurationSpec {
        DurationSpec(SimDuration::from_millis(1))
    }
    pub fn cost_per_object() -> DurationSpec {
        DurationSpec(SimDuration::from_micros(10))
    }
    pub fn cost_per_kib() -> DurationSpec {
        DurationSpec(SimDuration::from_micros(5))
    }
    pub fn etcd_quota_backend_bytes() -> super::MemQuantity {
        super::MemQuantity(2 << 30)
    }
    pub fn scheduler_client() -> super::ClientSpec {
        super::ClientSpec { qps: 50.0, burst: 100 }
    }
    pub fn controller_manager_client() -> super::ClientSpec {
        super::ClientSpec { qps: 20.0, burst: 30 }
    }
    pub fn kubelet_client() -> super::ClientSpec {
        super::ClientSpec { qps: 50.0, burst: 100 }
    }
    pub fn deployment_kind() -> String {
        "Deployment".to_string()
    }
    pub fn provisioning_delay() -> Distribution {
        Distribution::Uniform(crate::scenario::distribution::UniformSpec {
            min: DurationSpec(SimDuration::from_secs(180)),
            max: DurationSpec(SimDuration::from_secs(240)),
        })
    }
    pub fn ca_scan_interval() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(10))
    }
    pub fn ca_expander() -> String {
        "least-waste".to_string()
    }
    pub fn gpu_policy_weight() -> i64 {
        1000
    }
    pub fn popularity_threshold() -> u64 {
        95
    }
    pub fn inflation_interval() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(1))
    }
    pub fn yes() -> bool {
        true
    }
    pub fn two_minutes() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(120))
    }
    pub fn three_minutes() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(180))
    }
    pub fn five_minutes() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(300))
    }
    pub fn ten_minutes() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(600))
    }
    pub fn fifteen_minutes() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(900))
    }
    pub fn twenty_minutes() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(1200))
    }
    pub fn thirty_minutes() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(1800))
    }
    pub fn half() -> f64 {
        0.5
    }
    pub fn thirty() -> u32 {
        30
    }
    pub fn ten() -> u32 {
        10
    }
    pub fn three() -> u32 {
        3
    }
    pub fn forty_five() -> f64 {
        45.0
    }
    pub fn image_pull() -> Distribution {
        Distribution::Constant(DurationSpec(SimDuration::ZERO))
    }
    pub fn container_start() -> Distribution {
        Distribution::Constant(DurationSpec(SimDuration::from_secs(1)))
    }
    pub fn throughput_sample_interval() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(1))
    }
    /// Upstream `DefaultTerminationGracePeriodSeconds` (`k8s.io/api/core/v1/types.go`).
    pub fn termination_grace_period_seconds() -> i64 {
        30
    }
    pub fn zero_duration() -> DurationSpec {
        DurationSpec(SimDuration::ZERO)
    }
    pub fn weight() -> f64 {
        1.0
    }
    pub fn one() -> f64 {
        1.0
    }
    pub fn concurrency() -> u32 {
        1
    }
    pub fn cpu_per_worker() -> CpuQuantity {
        CpuQuantity(1000)
    }
    pub fn zero_cpu() -> CpuQuantity {
        CpuQuantity(0)
    }
    pub fn hpa_min_replicas() -> i32 {
        1
    }
    pub fn availability_slo() -> f64 {
        0.999
    }
    pub fn latency_slo() -> DurationSpec {
        DurationSpec(SimDuration::from_millis(250))
    }
    pub fn day() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(86_400))
    }
    pub fn node_monitor_period() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(5))
    }
    pub fn node_monitor_grace_period() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(50))
    }
    pub fn heartbeat() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(10))
    }
    pub fn toleration_seconds() -> u64 {
        300
    }
    pub fn eviction_rate() -> f64 {
        0.1
    }
    pub fn secondary_eviction_rate() -> f64 {
        0.01
    }
    pub fn large_cluster() -> u32 {
        50
    }
    pub fn unhealthy_zone() -> f64 {
        0.55
    }
    pub fn metric_resolution() -> DurationSpec {
        DurationSpec(SimDuration::from_secs(15))
    }
}
