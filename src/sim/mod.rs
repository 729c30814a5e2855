//! A run: builds the cluster and the models from a validated scenario, then pops events
//! in (time, insertion) order and routes each to the model that owns it. Reading
//! [`Simulation::dispatch`] shows everything that can happen in a run.

mod cpfault;
mod ctx;
mod error;
mod event;

pub use ctx::Ctx;
pub use error::RunError;
pub use event::Event;

use crate::autoscaler::controller::{Action, Budgets, ClusterAutoscaler, NodeGroup};
use crate::autoscaler::estimator::TemplateNode;
use crate::cluster::{
    ChurnId, ClusterState, Deployment, DeploymentId, DisruptionReason, LabelSetId, NodeId, NodePool, Owner,
    Placement, PodId, PodPhase, PodRequests, PodTemplate, PoolId, ResourceName, Resources,
};
use crate::controlplane::{Call, Client, ControlPlane, Then};
use crate::engine::{EventQueue, SimDuration, SimTime, StreamId, rng};
use crate::faults::Faults;
use crate::hpa::controller::HpaController;
use crate::kubelet::{Kubelet, PoolStartup};
use crate::metrics::{Cell, Metrics, throughput};
use crate::nodelifecycle::NodeLifecycle;
use crate::scenario::schema::{
    PodTemplateSpec, PreemptionPolicySpec, PriorityClassSpec, ResourceKind, Scenario, ScoringStrategySpec,
};
use crate::scheduler::plugins::fit::{ResourceWeight, ScoringStrategy};
use crate::scheduler::{Scheduler, SchedulerConfig};
use crate::traffic::Traffic;
use crate::workload::churn::ChurnGenerator;
use crate::workload::daemonset::DaemonSetController;
use crate::workload::deployment::DeploymentController;
use std::collections::BTreeMap;

/// Fixed random stream ids (see `engine::rng`): a component's numbers never depend on
/// which other components exist.
pub mod streams {
    use crate::engine::StreamId;
    pub const SCHEDULER_TIES: StreamId = StreamId(1);
    pub const KUBELET: StreamId = StreamId(2);
    pub const CONTAINER_CRASHES: StreamId = StreamId(4);
    /// Containers' exit times after SIGTERM (graceful termination).
    pub const TERMINATION: StreamId = StreamId(7);
    /// Machine noise on the scheduler's cost (`scheduler.cost.noise`).
    pub const SCHEDULER_NOISE: StreamId = StreamId(8);
    /// The GPU-sharing policy's draws (Random's node and device picks).
    pub const GPU_POLICY: StreamId = StreamId(11);
    /// The node order that breaks ties under a GPU-sharing policy (`tieBreak: NodeOrder`).
    pub const GPU_NODE_ORDER: StreamId = StreamId(12);
    /// The cluster autoscaler's random expander.
    pub const CA_EXPANDER: StreamId = StreamId(6);
    /// Node group g's provisioning delays use `CA_PROVISIONING_BASE + g`.
    pub const CA_PROVISIONING_BASE: u64 = 30_000;
    /// Churn generator i uses `CHURN_BASE + 4 i + {0 arrivals, 1 lifetimes, 2 mix}`.
    pub const CHURN_BASE: u64 = 1_000;
    /// Pod trace i's `rateMultiplier` draws use `TRACE_BASE + i`.
    pub const TRACE_BASE: u64 = 50_000;
}

/// The cluster autoscaler's cap on a drained pod's grace period, upstream flag
/// `--max-graceful-termination-sec` (default 600, `cluster-autoscaler/main.go`; applied in
/// `cluster-autoscaler/core/scaledown/actuation/drain.go` `evictPod`).
pub const CA_MAX_GRACEFUL_TERMINATION: SimDuration = SimDuration::from_secs(600);

/// Label set on every node besides the pool's own labels.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
pub const POOL_LABEL: &str = "clustersim.io/node-pool";

/// What a finished run hands to the output layer.
pub struct RunOutput {
    pub summary: Vec<(String, Cell)>,
    /// Names of the per-service cells at the end of each time-series row.
    pub timeseries_columns: Vec<String>,
    /// Every HPA decision (empty without HPAs).
    pub hpa_decisions: Vec<crate::hpa::controller::HpaDecision>,
    pub has_hpa: bool,
    /// Every cluster-autoscaler decision (empty without one).
    pub ca_decisions: Vec<crate::autoscaler::controller::CaDecision>,
    pub has_cluster_autoscaler: bool,
    pub metrics: Metrics,
    pub cluster: ClusterState,
    /// Where the scheduling attempts went (`--explain`), to be finished by the caller.
    pub attempts: Option<Box<dyn crate::scheduler::explain::AttemptSink>>,
    /// Why the run's results cannot be trusted (a trace file that changed under the run).
    pub failure: Option<String>,
    /// `pods.csv` rows of the pods whose storage was released, to be written with those of
    /// the pods `cluster` still stores ([`Simulation::release_ended_pods`]).
    pub pods_csv: Option<crate::output::pods::PodsCsv>,
    /// Scheduling attempts that took the packed cycle (`scheduler/packed.rs`); no output
    /// reads it (tests do).
    pub packed_attempts: u64,
    /// Whole blocks of candidates the packed cycle scored by their states; no output reads
    /// it (tests do).
    pub packed_blocks: u64,
    /// Whole blocks of nodes the streamed preemption dry run took from their summaries
    /// (`scheduler/victim_memo.rs`); no output reads it (tests do).
    pub preemption_blocks: u64,
}

/// What the `throughputCollector` columns need of the measured pods whose storage was
/// released: the earliest creation and the binding times.
#[derive(Default)]
struct MeasuredReleased {
    first_created: Option<SimTime>,
    bound: Vec<u64>,
}

pub struct Simulation {
    now: SimTime,
    end: SimTime,
    seed: u64,
    events: u64,
    queue: EventQueue<Event>,
    sample_interval: SimDuration,
    pub cluster: ClusterState,
    pub scheduler: Scheduler,
    kubelet: Kubelet,
    deployments: DeploymentController,
    daemon_sets: DaemonSetController,
    churn: Vec<ChurnGenerator>,
    replays: Vec<crate::workload::replay::PodReplay>,
    /// GPU fragmentation under the target workload (runs whose nodes have GPUs).
    gpu_frag: Option<crate::metrics::gpufrag::FragTracker>,
    pub traffic: Traffic,
    scrape_period: SimDuration,
    faults: Faults,
    pub lifecycle: NodeLifecycle,
    /// When each node last failed (for replacement latency).
    node_failed_at: Vec<SimTime>,
    pub hpa: HpaController,
    /// Each Deployment's PodDisruptionBudget `minAvailable`.
    min_available: Vec<Option<u32>>,
    /// Pods evicted by drains.
    drain_evictions: u64,
    /// Nodes being drained (their drain retries until done or uncordoned).
    draining: Vec<bool>,
    /// Each pool's `unschedulable` setting, restored by an uncordon.
    pool_unschedulable: Vec<bool>,
    /// For a pod created to replace one lost to a node failure: when that node failed.
    replaces_failure_at: std::collections::BTreeMap<PodId, SimTime>,
    /// `pods.csv` rows of released pods (`--pods` on a run that releases them).
    pods_csv: Option<crate::output::pods::PodsCsv>,
    /// The measured pods (`throughputCollector`) whose storage was released.
    measured_released: MeasuredReleased,
    pub autoscaler: Option<ClusterAutoscaler>,
    /// Per pool: the (zone, label set) its nodes take round-robin by index.
    pool_label_sets: Vec<Vec<(u16, LabelSetId)>>,
    /// Per pool: the index the next node added to it gets (names are never reused).
    next_node_index: Vec<u32>,
    /// Most live nodes at any time.
    nodes_peak: u32,
    /// The control-plane model (`controlPlane:`); `None` keeps API calls instantaneous.
    pub control_plane: Option<ControlPlane>,
    /// Per fault: the control-plane fault and its duration (`None`: a node fault).
    cp_faults: Vec<Option<(crate::controlplane::CpFault, SimDuration)>>,
    /// The misbehaving client: (first LIST, interval, end).
    flood: Option<(SimTime, SimDuration, SimTime)>,
    /// Pod start-up SLI samples (created → Running observed, image pull excluded), µs.
    startup_sli_us: Option<hdrhistogram::Histogram<u64>>,
    /// Which Deployments have a service (their pods are endpoints).
    has_service: Vec<bool>,
    /// First pod creation and last binding stored (scheduling throughput, with the control plane).
    first_pod_at: Option<SimTime>,
    /// Pods deleted by preemption.
    pods_preempted: u64,
    last_bind_at: SimTime,
    /// `throughputCollector`: which Deployments' pods are measured (by Deployment index),
    /// and the sampling interval.
    collector: Option<(Vec<bool>, SimDuration)>,
    pub metrics: Metrics,
    /// `--explain`: every scheduling attempt goes here.
    attempts: Option<Box<dyn crate::scheduler::explain::AttemptSink>>,
}

/// The `throughputCollector` columns: the scheduler_perf measurement over the pods of the
/// `measured` Deployments ([`crate::metrics::throughput`]).
fn collector_summary(
    cluster: &ClusterState,
    measured: &[bool],
    interval: SimDuration,
    end: SimTime,
    released: &MeasuredReleased,
) -> Vec<(String, Cell)> {
    let is_measured =
        |o: &Owner| matches!(o, Owner::Deployment(d) if measured.get(d.index()).copied().unwrap_or(false));
    let want: u64 = cluster
        .deployments
        .iter()
        .zip(measured)
        .filter(|(_, m)| **m)
        .map(|(d, _)| u64::from(d.replicas))
        .sum();
    let pods: Vec<&crate::cluster::Pod> =
        cluster.pods.iter().map(|(_, p)| p).filter(|p| is_measured(&p.owner)).collect();
    let start = pods.iter().map(|p| p.created_at).chain(released.first_created).min();
    let mut bound: Vec<u64> = pods
        .iter()
        .filter_map(|p| p.bound_at.map(SimTime::as_nanos))
        .chain(released.bound.iter().copied())
        .collect();
    bound.sort_unstable();
    let f = |v: Option<f64>| v.map_or(Cell::Missing, Cell::Float);
    const PHASES: u64 = 10;
    let (t, overall, window, phase_mean) = match start {
        Some(start) => {
            let want_usize = usize::try_from(want).unwrap_or(usize::MAX);
            let t = throughput::collect(
                start.as_nanos(),
                end.as_nanos(),
                interval.as_nanos(),
                want_usize,
                &bound,
            );
            let last = bound.last().copied().unwrap_or(start.as_nanos());
            let span = last.saturating_sub(start.as_nanos()) as f64 / 1e9;
            let overall = (span > 0.0).then(|| bound.len() as f64 / span);
            let window = t.stop.saturating_sub(start.as_nanos()) as f64 / 1e9;
            // The same collector with its ticks shifted by 0, 1/10, …, 9/10 of an interval:
            // upstream the run length, hence the fraction of a second the last sample
            // covers, varies from run to run; this is the average over that phase.
            let averages: Vec<f64> = (0..PHASES)
                .filter_map(|i| {
                    let shift = interval.as_nanos() / PHASES * i;
                    throughput::collect(
                        start.as_nanos().saturating_add(shift),
                        end.as_nanos(),
                        interval.as_nanos(),
                        want_usize,
                        &bound,
                    )
                    .average
                })
                .collect();
            let phase_mean =
                (!averages.is_empty()).then(|| averages.iter().sum::<f64>() / averages.len() as f64);
            (Some(t), overall, Some(window), phase_mean)
        }
        None => (None, None, None, None),
    };
    let pct = |p: usize| t.as_ref().and_then(|t| t.percentile(p));
    vec![
        ("measured_pods".to_string(), Cell::Int(want)),
        ("measured_pods_scheduled".to_string(), Cell::Int(bound.len() as u64)),
        ("measured_throughput_avg_pods_per_s".to_string(), f(t.as_ref().and_then(|t| t.average))),
        ("measured_throughput_p50_pods_per_s".to_string(), f(pct(50))),
        ("measured_throughput_p90_pods_per_s".to_string(), f(pct(90))),
        ("measured_throughput_p99_pods_per_s".to_string(), f(pct(99))),
        (
            "measured_throughput_samples".to_string(),
            Cell::Int(t.as_ref().map_or(0, |t| t.samples.len() as u64)),
        ),
        ("measured_throughput_avg_phase_mean_pods_per_s".to_string(), f(phase_mean)),
        ("measured_throughput_overall_pods_per_s".to_string(), f(overall)),
        ("measured_window_s".to_string(), f(window)),
    ]
}

fn resource_name(k: ResourceKind) -> ResourceName {
    match k {
        ResourceKind::Cpu => ResourceName::Cpu,
        ResourceKind::Memory => ResourceName::Memory,
        ResourceKind::Gpu => ResourceName::Gpu,
    }
}

/// A pod template as the cluster keeps it, from its scenario spec.
pub(crate) fn template_from_spec(
    name: String,
    t: &PodTemplateSpec,
    classes: &[PriorityClassSpec],
) -> PodTemplate {
    // Validation guarantees a named class exists.
    let class = t.priority_class_name.as_ref().and_then(|n| classes.iter().find(|c| &c.name == n));
    let gpu_milli = t.requests.gpu_milli();
    PodTemplate {
        name,
        requests: PodRequests::from_container(
            t.requests.cpu.map(|q| q.0),
            t.requests.memory.map(|q| q.0),
            gpu_milli,
        ),
        placement: Placement {
            node_selector: t.node_selector.clone(),
            node_affinity: t.affinity.node_affinity.clone().unwrap_or_default(),
            tolerations: t.tolerations.clone(),
        },
        priority: class.map_or(t.priority, |c| c.value),
        preempt_never: class.is_some_and(|c| c.preemption_policy == PreemptionPolicySpec::Never),
        // Validation guarantees 0 ≤ grace ≤ 10⁹ s.
        termination_grace_period: SimDuration::from_secs(t.termination_grace_period_seconds.max(0) as u64),
        graceful_termination: t.termination_grace_period_seconds > 0 && !t.termination_time.is_zero(),
        give_up_unschedulable: false,
    }
}

impl Simulation {
    /// Builds a run from a validated scenario. `seed` overrides the scenario's seed. Bad
    /// input that depends on the seed (a pod trace's inflation, [`RunError::Input`]) is
    /// refused here; any other error is a bug.
    pub fn new(s: &Scenario, seed: u64) -> Result<Self, RunError> {
        let now = SimTime::ZERO;
        let mut cluster = ClusterState::default();
        let mut queue = EventQueue::with_capacity(1024);

        // Node pools and nodes. Zones are interned in order of first appearance.
        let mut zone_ids: BTreeMap<String, u16> = BTreeMap::new();
        let mut startup = Vec::with_capacity(s.node_pools.len());
        let mut pool_label_sets = Vec::with_capacity(s.node_pools.len());
        for (pi, p) in s.node_pools.iter().enumerate() {
            let pool = PoolId(pi as u32);
            cluster.pools.push(NodePool {
                name: p.name.clone(),
                allocatable: Resources::new(
                    p.allocatable.cpu.0,
                    p.allocatable.memory.0,
                    p.allocatable.gpu.0.saturating_mul(1000),
                    p.allocatable.pods.0,
                ),
                taints: p.taints.clone(),
                price_per_hour: p.node_price_per_hour(),
                node_names: crate::scenario::nodelist::node_names(s, pi),
            });
            startup.push(PoolStartup {
                image_pull: p
                    .kubelet
                    .image_pull
                    .sampler()
                    .map_err(|e| format!("nodePools[{pi}].kubelet.imagePull: {e}"))?,
                container_start: p
                    .kubelet
                    .container_start
                    .sampler()
                    .map_err(|e| format!("nodePools[{pi}].kubelet.containerStart: {e}"))?,
            });
            let mut label_sets = Vec::with_capacity(p.zones.len());
            for z in &p.zones {
                let next = zone_ids.len() as u16;
                let zid = *zone_ids.entry(z.clone()).or_insert_with(|| {
                    cluster.zones.push(z.clone());
                    next
                });
                let mut labels = p.labels.clone();
                labels.insert(ZONE_LABEL.to_string(), z.clone());
                labels.insert(POOL_LABEL.to_string(), p.name.clone());
                label_sets.push((zid, cluster.add_label_set(labels)));
            }
            for i in 0..p.count {
                let (zid, ls) = label_sets[i as usize % label_sets.len()];
                cluster.add_node(pool, i, zid, ls, p.unschedulable, now);
            }
            pool_label_sets.push(label_sets);
        }
        let autoscaler = match &s.cluster_autoscaler {
            None => None,
            Some(spec) => {
                let mut groups = Vec::new();
                for (pi, p) in s.node_pools.iter().enumerate() {
                    let Some(g) = &p.autoscaling else { continue };
                    let (_, ls) = pool_label_sets[pi][p.count as usize % pool_label_sets[pi].len()];
                    groups.push(NodeGroup {
                        pool: PoolId(pi as u32),
                        name: p.name.clone(),
                        min_size: g.min_size,
                        max_size: g.max_size,
                        priority: g.priority,
                        price_per_hour: cluster.pools[pi].price_per_hour,
                        template: TemplateNode::new(
                            cluster.pools[pi].allocatable,
                            cluster.label_sets[ls.index()].clone(),
                            p.taints.clone(),
                        ),
                        provisioning: g
                            .provisioning_delay
                            .sampler()
                            .map_err(|e| format!("nodePools[{pi}].autoscaling.provisioningDelay: {e}"))?,
                        provisioning_rng: rng::stream(
                            seed,
                            StreamId(streams::CA_PROVISIONING_BASE + groups.len() as u64),
                        ),
                        registered: p.count,
                        upcoming: 0,
                        backoff_until: SimTime::ZERO,
                        backoff: SimDuration::ZERO,
                    });
                }
                let cfg = crate::autoscaler::controller::Config::from(spec);
                queue.push(SimTime::ZERO + cfg.scan_interval, Event::CaScan);
                Some(ClusterAutoscaler::new(
                    cfg,
                    groups,
                    s.node_pools.len(),
                    rng::stream(seed, streams::CA_EXPANDER),
                ))
            }
        };

        // DaemonSets: their pods are created at the start, before any Deployment's.
        if !s.daemon_sets.is_empty() {
            queue.push(SimTime::ZERO, Event::DaemonSetsStart);
        }

        // Deployments.
        for (di, d) in s.deployments.iter().enumerate() {
            let template = cluster.add_template(template_from_spec(
                format!("deployment/{}", d.name),
                &d.template,
                &s.priority_classes,
            ));
            cluster.deployments.push(Deployment {
                name: d.name.clone(),
                template,
                replicas: d.replicas,
                live_pods: 0,
            });
            let id = DeploymentId(di as u32);
            queue.push(SimTime::ZERO + d.start_at.0, Event::DeploymentStart(id));
            for step in &d.scale {
                queue.push(
                    SimTime::ZERO + step.at.0,
                    Event::DeploymentScale { deployment: id, replicas: step.replicas },
                );
            }
            for (k, r) in d.rollouts.iter().enumerate() {
                queue.push(
                    SimTime::ZERO + r.at.0,
                    Event::DeploymentRollout { deployment: id, index: k as u32 },
                );
            }
        }
        let rates: Vec<f64> = s.deployments.iter().map(|d| d.create_rate).collect();

        // Churn generators.
        let end = SimTime::ZERO + s.duration.0;
        let mut churn = Vec::with_capacity(s.churn.len());
        for (ci, c) in s.churn.iter().enumerate() {
            let mut mix = Vec::with_capacity(c.templates.len());
            let mut cum = 0.0;
            for (ti, w) in c.templates.iter().enumerate() {
                cum += w.weight;
                let id = cluster.add_template(template_from_spec(
                    format!("churn/{}/{ti}", c.name),
                    &w.template,
                    &s.priority_classes,
                ));
                mix.push((cum, id));
            }
            let inter_arrival = match (&c.arrival_rate, &c.inter_arrival) {
                (Some(rate), _) => crate::scenario::distribution::Sampler::exponential_secs(1.0 / rate)
                    .map_err(|e| format!("churn[{ci}].arrivalRate: {e}"))?,
                (None, Some(d)) => d.sampler().map_err(|e| format!("churn[{ci}].interArrival: {e}"))?,
                (None, None) => return Err(format!("churn[{ci}]: no arrival process").into()),
            };
            let base = streams::CHURN_BASE + 4 * ci as u64;
            let stop_at = c.stop_at.map_or(end, |d| (SimTime::ZERO + d.0).min(end));
            let mut g = ChurnGenerator {
                inter_arrival,
                lifetime: c.lifetime.sampler().map_err(|e| format!("churn[{ci}].lifetime: {e}"))?,
                mix,
                stop_at,
                max_pods: c.max_pods,
                created: 0,
                arrivals_rng: rng::stream(seed, StreamId(base)),
                lifetime_rng: rng::stream(seed, StreamId(base + 1)),
                mix_rng: rng::stream(seed, StreamId(base + 2)),
            };
            let mut ctx = Ctx::new(now, &mut queue);
            g.arm(ChurnId(ci as u32), SimTime::ZERO + c.start_at.0, &mut ctx);
            churn.push(g);
        }

        // DaemonSets' and initial pods' templates, after the churn mixes'.
        crate::workload::daemonset::add_daemon_sets(&mut cluster, &s.daemon_sets, &s.priority_classes);
        let initial =
            crate::workload::bare::add_templates(&mut cluster, &s.initial_pods, &s.priority_classes)?;

        // Pod traces: their shapes' templates come last.
        let replays = crate::workload::replay::build(
            s,
            seed,
            &mut cluster,
            &pool_label_sets,
            end,
            &mut Ctx::new(now, &mut queue),
        )?;

        // PodTopologySpread and InterPodAffinity: every template's rules, counted on the
        // cluster's topology index (empty when no template has any).
        let (sources, topology_cfg) = crate::scheduler::topology::from_scenario(s);
        let rules = crate::scheduler::topology::build(&mut cluster, &sources, &topology_cfg);
        if rules.iter().any(|r| r.has_filters() || r.has_scores()) {
            cluster.topology_rules = rules;
        }
        let topology_filters = cluster.has_topology_filters();

        let sc = &s.scheduler;
        let cfg = SchedulerConfig {
            strategy: match sc.scoring_strategy {
                ScoringStrategySpec::LeastAllocated => ScoringStrategy::LeastAllocated,
                ScoringStrategySpec::MostAllocated => ScoringStrategy::MostAllocated,
            },
            fit_resources: sc
                .resources
                .iter()
                .map(|r| ResourceWeight { name: resource_name(r.name), weight: r.weight })
                .collect(),
            balanced_resources: sc.balanced_allocation_resources.iter().map(|r| resource_name(*r)).collect(),
            percentage_of_nodes_to_score: sc.percentage_of_nodes_to_score,
            initial_backoff: SimDuration::from_secs(sc.pod_initial_backoff_seconds),
            max_backoff: SimDuration::from_secs(sc.pod_max_backoff_seconds),
            max_in_unschedulable: sc.pod_max_in_unschedulable_pods_duration.0,
            weight_taint_toleration: sc.plugin_weights.taint_toleration,
            weight_node_affinity: sc.plugin_weights.node_affinity,
            weight_fit: sc.plugin_weights.node_resources_fit,
            weight_balanced: sc.plugin_weights.node_resources_balanced_allocation,
            weight_topology_spread: sc.plugin_weights.pod_topology_spread,
            weight_inter_pod_affinity: sc.plugin_weights.inter_pod_affinity,
            cost_per_pod: sc.cost.per_pod.0,
            cost_per_node: sc.cost.per_node_examined.0,
            cost_noise: sc.cost.noise.map(|n| (n.sigma, n.period.0)),
            preemption: sc.preemption.unwrap_or(!s.priority_classes.is_empty()),
            plain: false,
        };

        // Time-to-crash per template, in template order (Deployments, then churn mixes).
        let mut crash_samplers = Vec::with_capacity(cluster.templates.len());
        let specs = s
            .deployments
            .iter()
            .map(|d| &d.template)
            .chain(s.churn.iter().flat_map(|c| c.templates.iter().map(|w| &w.template)))
            .chain(s.daemon_sets.iter().map(|d| &d.template))
            .chain(s.initial_pods.iter().map(|p| &p.template))
            .chain(s.pod_traces.iter().enumerate().flat_map(|(i, t)| {
                let shapes = s.inputs.pod_trace(s, i).map_or(0, |x| x.shapes.len());
                std::iter::repeat_n(&t.template, shapes)
            }));
        let mut termination = Vec::with_capacity(cluster.templates.len());
        for (ti, t) in specs.enumerate() {
            crash_samplers.push(match &t.crashes {
                Some(c) => Some(c.time_to_crash.sampler().map_err(|e| format!("crashes: {e}"))?),
                None => None,
            });
            termination.push(if cluster.templates[ti].graceful_termination {
                let d = t.termination_time.distribution().ok_or("terminationTime: negative")?;
                let sampler = d.sampler().map_err(|e| format!("terminationTime: {e}"))?;
                Some((sampler, cluster.templates[ti].termination_grace_period))
            } else {
                None
            });
        }
        let graceful_termination = termination.iter().any(Option::is_some);
        let traffic = Traffic::new(s, seed)?;
        if !traffic.is_empty() && s.metrics_server.resolution.0 > SimDuration::ZERO {
            queue.push(SimTime::ZERO + s.metrics_server.resolution.0, Event::MetricsScrape);
        }
        let faults = Faults::new(s, &cluster, seed, &mut Ctx::new(now, &mut queue))?;
        let mut hpa_specs: Vec<_> = s
            .deployments
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                d.horizontal_pod_autoscaler
                    .as_ref()
                    .map(|h| (DeploymentId(i as u32), h.clone(), d.template.requests.cpu.map(|c| c.0)))
            })
            .collect();
        for (k, h) in s.horizontal_pod_autoscalers.iter().enumerate() {
            let target = h.scale_target_ref.as_ref().map(|r| r.name.as_str());
            let Some(i) = s.deployments.iter().position(|d| Some(d.name.as_str()) == target) else {
                return Err(
                    format!("horizontalPodAutoscalers[{k}].scaleTargetRef: no such Deployment").into()
                );
            };
            hpa_specs.push((
                DeploymentId(i as u32),
                h.clone(),
                s.deployments[i].template.requests.cpu.map(|c| c.0),
            ));
        }
        let hpa = HpaController::new(&hpa_specs, s.metrics_server.resolution.0.as_nanos());
        if !hpa.is_empty() {
            queue.push(SimTime::ZERO + crate::hpa::sync_period(), Event::HpaSync);
        }
        let lifecycle = NodeLifecycle::new(s.node_lifecycle, &cluster, seed);
        let node_count = cluster.nodes.len();
        let mut sim = Simulation {
            now,
            end,
            seed,
            events: 0,
            queue,
            sample_interval: s.sample_interval.0,
            scheduler: {
                let mut sch = Scheduler::new(cfg, rng::stream(seed, streams::SCHEDULER_TIES))
                    .with_noise(seed, streams::SCHEDULER_NOISE);
                sch.min_available = s.deployments.iter().map(|d| d.min_available).collect();
                sch.topology_filters = topology_filters;
                sch.gpu = crate::scheduler::gpu::from_scenario(
                    s,
                    &cluster,
                    rng::stream(seed, streams::GPU_POLICY),
                    rng::stream(seed, streams::GPU_NODE_ORDER),
                );
                sch
            },
            kubelet: Kubelet::new(
                startup,
                rng::stream(seed, streams::KUBELET),
                crash_samplers,
                rng::stream(seed, streams::CONTAINER_CRASHES),
            )
            .with_termination(termination, rng::stream(seed, streams::TERMINATION)),
            deployments: DeploymentController::new(&rates).with_rollouts(
                s.deployments
                    .iter()
                    .map(|d| {
                        d.rollouts.iter().map(|r| (r.max_surge.clone(), r.max_unavailable.clone())).collect()
                    })
                    .collect(),
            ),
            daemon_sets: DaemonSetController::new(s.daemon_sets.len()),
            churn,
            gpu_frag: crate::scheduler::gpu::frag_tracker(s, &cluster),
            replays,
            traffic,
            scrape_period: s.metrics_server.resolution.0,
            faults,
            lifecycle,
            node_failed_at: vec![SimTime::ZERO; node_count],
            hpa,
            min_available: s.deployments.iter().map(|d| d.min_available).collect(),
            drain_evictions: 0,
            draining: vec![false; node_count],
            pool_unschedulable: s.node_pools.iter().map(|p| p.unschedulable).collect(),
            replaces_failure_at: std::collections::BTreeMap::new(),
            pods_csv: None,
            measured_released: MeasuredReleased::default(),
            autoscaler,
            next_node_index: s.node_pools.iter().map(|p| p.count).collect(),
            pool_label_sets,
            nodes_peak: node_count as u32,
            control_plane: s.control_plane.clone().map(|c| {
                let faults = s.faults.iter().any(|f| f.fail.is_control_plane());
                let period = s.node_lifecycle.node_status_update_frequency.0;
                ControlPlane::with_faults(c, period, node_count as u64, faults, seed)
            }),
            cp_faults: cpfault::faults_of(s),
            flood: cpfault::flood_of(s),
            startup_sli_us: s.control_plane.as_ref().and_then(|_| hdrhistogram::Histogram::new(3).ok()),
            has_service: s.deployments.iter().map(|d| d.service.is_some()).collect(),
            first_pod_at: None,
            pods_preempted: 0,
            last_bind_at: SimTime::ZERO,
            collector: s.throughput_collector.as_ref().map(|tc| {
                let measured = s.deployments.iter().map(|d| tc.deployments.contains(&d.name)).collect();
                (measured, tc.sample_interval.0)
            }),
            metrics: {
                let mut m = Metrics::new();
                m.track_terminating = graceful_termination;
                m.track_gpu = cluster.pools.iter().any(|p| p.allocatable.gpu_milli > 0);
                m
            },
            cluster,
            attempts: None,
        };
        // Initial pods are Running on their nodes from the start.
        for p in crate::workload::bare::place(&mut sim.cluster, &initial, now)? {
            sim.kubelet.adopt_running(&sim.cluster, p, &mut Ctx::new(now, &mut sim.queue));
        }
        let mut extra = sim.traffic.sample(SimTime::ZERO);
        extra.extend(sim.autoscaling_cells());
        sim.metrics.sample(&sim.cluster, SimTime::ZERO, extra);
        if SimTime::ZERO + sim.sample_interval <= end {
            sim.queue.push(SimTime::ZERO + sim.sample_interval, Event::Sample);
        }
        if let Some((start, _, stop)) = sim.flood
            && start < stop
            && start <= end
        {
            sim.queue.push(start, Event::MisbehavingList);
        }
        Ok(sim)
    }

    /// Releases the storage of every pod once it has ended and nothing holds it, so the
    /// run's memory follows the pods alive rather than the pods ever created: its
    /// contributions to the summary are folded in as it goes and, with `pods_csv`, its row
    /// is handed over ([`crate::output::pods`]). The results are the same; the output's
    /// `cluster` then stores only the pods that have not ended.
    pub fn release_ended_pods(&mut self, pods_csv: Option<crate::output::pods::PodsCsv>) {
        self.pods_csv = pods_csv;
        self.cluster.release_ended_pods();
        self.take_released();
    }

    /// Takes the pods released since the last call out of the cluster: their rows, summary
    /// contributions and per-pod records elsewhere.
    fn take_released(&mut self) {
        if !self.cluster.has_released() {
            return;
        }
        for (id, pod, gpu) in self.cluster.take_released() {
            if let Some(rows) = self.pods_csv.as_mut() {
                rows.ended(&self.cluster, id, &pod, gpu);
            }
            if let Some((measured, _)) = &self.collector
                && matches!(pod.owner, Owner::Deployment(d) if measured.get(d.index()).copied().unwrap_or(false))
            {
                let m = &mut self.measured_released;
                m.first_created = Some(m.first_created.map_or(pod.created_at, |t| t.min(pod.created_at)));
                if let Some(b) = pod.bound_at {
                    m.bound.push(b.as_nanos());
                }
            }
            if let Owner::Trace(t) = pod.owner
                && pod.phase == PodPhase::Succeeded
                && let Some(r) = self.replays.get_mut(t.index())
            {
                r.released_succeeded += 1;
            }
            self.replaces_failure_at.remove(&id);
            self.kubelet.forget(id);
            self.traffic.forget(id);
        }
    }

    /// Records every scheduling attempt into `sink` (`--explain`); the run's
    /// [`RunOutput::attempts`] hands it back.
    pub fn explain_to(&mut self, sink: Box<dyn crate::scheduler::explain::AttemptSink>) {
        self.scheduler.explain = true;
        self.attempts = Some(sink);
    }

    pub fn now(&self) -> SimTime {
        self.now
    }
    pub fn end(&self) -> SimTime {
        self.end
    }
    pub fn events_processed(&self) -> u64 {
        self.events
    }

    /// Processes every event at or before `until` (capped at the end of the run). Returns
    /// false once the run is over.
    pub fn step_until(&mut self, until: SimTime) -> bool {
        let until = until.min(self.end);
        loop {
            let next = self.queue.peek_time().filter(|&t| t <= until);
            // The control plane's own arrivals and completions up to the next event; one
            // that someone waits for becomes an event, so look at the queue again.
            if let Some(cp) = self.control_plane.as_mut()
                && cp.advance_to(next.unwrap_or(until), &mut self.queue)
            {
                continue;
            }
            let Some(t) = next else { break };
            // Requests up to and at this instant are served before the event.
            self.traffic.advance_to(t);
            let Some((t, ev)) = self.queue.pop() else { break };
            let totals = self.cluster.totals.requested;
            let alloc = self.cluster.totals.allocatable_ready;
            self.metrics.advance(t, &totals, &alloc);
            self.now = t;
            self.events += 1;
            self.dispatch(ev);
            self.take_released();
            self.metrics.observe_peak(&self.cluster.totals.requested, &self.cluster.totals.allocatable_ready);
            self.metrics.observe_nodes_down(self.cluster.totals.nodes_down);
        }
        self.traffic.advance_to(until);
        self.now = until;
        until < self.end
    }

    /// Runs to the end.
    pub fn run(mut self) -> RunOutput {
        let end = self.end;
        self.step_until(end);
        self.finish()
    }

    /// Closes the books at the end of the run.
    pub fn finish(mut self) -> RunOutput {
        let totals = self.cluster.totals.requested;
        let alloc = self.cluster.totals.allocatable_ready;
        self.metrics.advance(self.end, &totals, &alloc);
        let mut summary =
            self.metrics.summary(&self.cluster, &self.scheduler.stats, self.seed, self.end, self.events);
        summary.extend(self.metrics.failure_summary(
            &self.cluster,
            self.end,
            self.lifecycle.failures,
            self.lifecycle.evicted,
        ));
        let last_failure =
            (self.lifecycle.failures > 0).then(|| self.node_failed_at.iter().copied().max()).flatten();
        summary.push(("time_to_recover_s".to_string(), self.traffic.time_to_recover(last_failure)));
        summary.push(("container_restarts".to_string(), Cell::Int(self.kubelet.restarts)));
        summary.push(("pods_drained".to_string(), Cell::Int(self.drain_evictions)));
        if self.scheduler.cfg.preemption {
            summary.push(("pods_preempted".to_string(), Cell::Int(self.pods_preempted)));
            summary.push(("preemptions".to_string(), Cell::Int(self.scheduler.stats.preemptions)));
        }
        let traffic_summary = self.traffic.summary(self.end);
        // Cost per million successful requests, where traffic is present.
        let succeeded =
            traffic_summary.iter().find(|(k, _)| k == "requests_succeeded").and_then(|(_, v)| v.as_f64());
        if let Some(ok) = succeeded {
            let cost = Metrics::cost_until(&self.cluster, self.end);
            let per_million = if ok > 0.0 { Cell::Float(cost / ok * 1e6) } else { Cell::Missing };
            summary.push(("cost_per_million_requests".to_string(), per_million));
        }
        if let Some(ca) = &self.autoscaler {
            let st = &ca.stats;
            summary.extend([
                ("nodes_peak".to_string(), Cell::Int(u64::from(self.nodes_peak))),
                ("ca_scale_ups".to_string(), Cell::Int(st.scale_ups)),
                ("ca_nodes_requested".to_string(), Cell::Int(st.nodes_requested)),
                ("ca_nodes_added".to_string(), Cell::Int(st.nodes_registered)),
                ("ca_nodes_removed".to_string(), Cell::Int(st.nodes_removed)),
                ("ca_provision_timeouts".to_string(), Cell::Int(st.provision_timeouts)),
                ("ca_drain_failures".to_string(), Cell::Int(st.drain_failures)),
            ]);
        }
        if let Some(cp) = self.control_plane.as_mut() {
            summary.extend(cp.summary());
            if cp.outages.is_some() {
                let l = &self.lifecycle;
                summary.push(("nodes_lease_stale".to_string(), Cell::Int(l.stale_marked)));
                let after = l.evicted_since_cp_fault.unwrap_or(0);
                summary.push(("pods_evicted_after_cp_fault".to_string(), Cell::Int(after)));
            }
            let q = |h: &hdrhistogram::Histogram<u64>, p: f64| {
                if h.is_empty() { Cell::Missing } else { Cell::Float(h.value_at_quantile(p) as f64 / 1e6) }
            };
            if let Some(h) = &self.startup_sli_us {
                summary.push(("pod_startup_sli_p50_s".to_string(), q(h, 0.5)));
                summary.push(("pod_startup_sli_p90_s".to_string(), q(h, 0.9)));
                summary.push(("pod_startup_sli_p99_s".to_string(), q(h, 0.99)));
                let ok = !h.is_empty() && h.value_at_quantile(0.99) <= 5_000_000;
                summary.push(("slo_pod_startup_ok".to_string(), Cell::Int(u64::from(ok))));
            }
            let span =
                self.last_bind_at.saturating_since(self.first_pod_at.unwrap_or(SimTime::ZERO)).as_secs_f64();
            let throughput = if span > 0.0 { self.scheduler.stats.scheduled as f64 / span } else { 0.0 };
            summary.push(("scheduling_throughput_avg_pods_per_s".to_string(), Cell::Float(throughput)));
        }
        if let Some((measured, interval)) = &self.collector {
            summary.extend(collector_summary(
                &self.cluster,
                measured,
                *interval,
                self.end,
                &self.measured_released,
            ));
        }
        summary.extend(traffic_summary);
        summary.extend(crate::workload::replay::summary(&self.replays, &self.cluster));
        if let Some(f) = &mut self.gpu_frag {
            summary.extend(f.summary(&self.cluster));
        }
        let failure = self.replays.iter().find_map(|r| r.error.clone());
        let mut timeseries_columns = self.traffic.timeseries_columns();
        timeseries_columns.extend(self.autoscaling_columns());
        let has_hpa = !self.hpa.is_empty();
        let has_cluster_autoscaler = self.autoscaler.is_some();
        let ca_decisions =
            self.autoscaler.as_mut().map(|ca| std::mem::take(&mut ca.decisions)).unwrap_or_default();
        RunOutput {
            ca_decisions,
            has_cluster_autoscaler,
            summary,
            timeseries_columns,
            hpa_decisions: std::mem::take(&mut self.hpa.decisions),
            has_hpa,
            metrics: self.metrics,
            cluster: self.cluster,
            attempts: self.attempts.take(),
            failure,
            pods_csv: self.pods_csv.take(),
            packed_attempts: self.scheduler.packed_attempts,
            packed_blocks: self.scheduler.packed_blocks(),
            preemption_blocks: self.scheduler.preemption_blocks(),
        }
    }

    /// A scheduling attempt ended: a pod that gives up is deleted (the FGD protocol), and an
    /// inflated trace records the allocation.
    fn gpu_attempted(&mut self, pod: PodId, scheduled: bool, gave_up: bool) {
        if gave_up {
            self.cluster.delete_pod(pod, self.now);
            // Popped for this attempt: the scheduling queue no longer holds it.
            self.cluster.unpin(pod);
        }
        if let Owner::Trace(t) = self.cluster.pod(pod).owner
            && self.replays[t.index()].inflation.is_some()
        {
            let frag = self.gpu_frag.as_mut().map(|f| f.measure(&self.cluster));
            self.replays[t.index()].attempted(&self.cluster, scheduled, frag);
        }
    }

    fn pods_created(&mut self, pods: Vec<PodId>) {
        if let Some(cp) = self.control_plane.as_mut() {
            if !pods.is_empty() && self.first_pod_at.is_none() {
                self.first_pod_at = Some(self.now);
            }
            // The scheduler sees a pod once its creation is stored.
            for p in pods {
                cp.submit(self.now, Client::ControllerManager, Call::CreatePod, Then::Enqueue(p));
            }
            return;
        }
        let mut ctx = Ctx::new(self.now, &mut self.queue);
        for p in pods {
            self.scheduler.enqueue(&self.cluster, p, &mut ctx);
        }
    }

    /// A pod deleted by a controller (scale-down, eviction, drain): its DELETE call.
    fn api_delete(&mut self, pods: &[PodId]) {
        if let Some(cp) = self.control_plane.as_mut() {
            for _ in pods {
                cp.submit(self.now, Client::ControllerManager, Call::DeletePod, Then::Nothing);
            }
        }
    }

    /// A Deployment's endpoints changed: its Endpoints/EndpointSlice update and watch fan-out.
    fn api_endpoints(&mut self, d: DeploymentId) {
        if let Some(cp) = self.control_plane.as_mut()
            && self.has_service[d.index()]
        {
            cp.endpoints_changed(self.now, u64::from(self.cluster.deployments[d.index()].replicas));
        }
    }

    /// Deletes the victims of a preemption with their own grace periods (upstream
    /// `framework/preemption/preemption.go` `prepareCandidate`: the scheduler sets the
    /// `DisruptionTarget` condition, reason `PreemptionByScheduler`, then deletes the pod);
    /// their owners replace them at once. A victim already Terminating is left as it is.
    fn preempted(&mut self, victims: &[PodId]) {
        let victims: Vec<PodId> =
            victims.iter().copied().filter(|&p| self.cluster.pod(p).phase != PodPhase::Terminating).collect();
        let (freed, terminating) =
            self.delete_gracefully(&victims, Some(DisruptionReason::PreemptionByScheduler), None);
        self.pods_preempted += victims.len() as u64;
        if let Some(cp) = self.control_plane.as_mut() {
            for _ in &terminating {
                cp.submit(self.now, Client::Scheduler, Call::PatchPodStatus, Then::Nothing);
            }
        }
        self.api_delete(&victims);
        if freed {
            let mut ctx = Ctx::new(self.now, &mut self.queue);
            self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
        }
        self.reconcile_owners(&victims);
    }

    /// Deletes pods the way the API server and the kubelet do. A Running pod on a working
    /// node whose template has a termination time becomes Terminating for
    /// min(termination time, grace period, `max_grace`): it keeps its node's resources
    /// (the scheduler cannot use them), leaves its service's endpoints at once (requests it
    /// already holds may still finish) and its owner stops counting it; `Event::
    /// PodTerminated` ends it. Any other pod is removed at once (a pod that exits at once,
    /// or one whose containers never started or whose kubelet is down). Returns whether
    /// some pod freed node resources now, and the pods that became Terminating.
    fn delete_gracefully(
        &mut self,
        pods: &[PodId],
        reason: Option<DisruptionReason>,
        max_grace: Option<SimDuration>,
    ) -> (bool, Vec<PodId>) {
        let mut freed = false;
        let mut terminating = Vec::new();
        for &p in pods {
            let pod = self.cluster.pod(p);
            let kubelet_up = pod.node.is_some_and(|n| self.cluster.node(n).up);
            let time = if pod.phase == PodPhase::Running && kubelet_up {
                self.kubelet.termination_time(&self.cluster, p, max_grace)
            } else {
                None
            };
            match time {
                Some(d) => {
                    self.cluster.begin_termination(p, self.now, reason);
                    self.traffic.pod_not_ready(p);
                    self.queue.push(self.now + d, Event::PodTerminated(p));
                    terminating.push(p);
                }
                None => {
                    freed |= self.cluster.delete_pod(p, self.now);
                    self.traffic.pod_stopped(p, self.now);
                }
            }
        }
        (freed, terminating)
    }

    /// `Event::PodTerminated` (or a Terminating pod's containers completed on their own):
    /// the kubelet deletes the pod object (upstream `pkg/kubelet/status/status_manager.go`
    /// `syncPod`: a DELETE with grace period 0 once the containers are gone) and its node's
    /// resources are free. Nothing happens while the node is down (its kubelet cannot
    /// finish; the repair or the node's deletion ends the pod).
    fn pod_terminated(&mut self, pod: PodId) {
        let p = self.cluster.pod(pod);
        let Some(node) = p.node else { return };
        if p.phase != PodPhase::Terminating || !self.cluster.node(node).up {
            return;
        }
        self.cluster.delete_pod(pod, self.now);
        self.traffic.pod_stopped(pod, self.now);
        if let Some(cp) = self.control_plane.as_mut() {
            cp.submit(self.now, Client::Kubelet(node), Call::DeletePod, Then::Nothing);
        }
        let mut ctx = Ctx::new(self.now, &mut self.queue);
        self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
        let replaced = self.daemon_sets.on_pods_gone(&mut self.cluster, &[pod], self.now);
        self.pods_created(replaced);
    }

    /// Deletes the surplus pods a reconciliation of Deployment `d` chose.
    fn delete_surplus(&mut self, d: DeploymentId, deleted: &[PodId]) {
        if deleted.is_empty() {
            return;
        }
        let (freed, _) = self.delete_gracefully(deleted, None, None);
        if freed {
            let mut ctx = Ctx::new(self.now, &mut self.queue);
            self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
        }
        self.api_delete(deleted);
        self.api_endpoints(d);
    }

    /// The binding is stored: the kubelet sees the pod.
    fn bound(&mut self, pod: PodId) {
        let created = self.cluster.pod(pod).created_at;
        self.metrics.on_bound(created, self.now);
        let mut ctx = Ctx::new(self.now, &mut self.queue);
        self.kubelet.on_bound(&mut self.cluster, pod, &mut ctx);
        self.scheduler.on_pod_assigned(&self.cluster, pod, &mut ctx);
    }

    /// `Event::ApiDone`.
    fn api_done(&mut self, then: Then) {
        match then {
            Then::Nothing => {}
            Then::Enqueue(p) => {
                if self.cluster.pod(p).phase == PodPhase::Pending {
                    let mut ctx = Ctx::new(self.now, &mut self.queue);
                    self.scheduler.enqueue(&self.cluster, p, &mut ctx);
                } else {
                    // Deleted before the scheduler saw it: nothing holds it any more.
                    self.cluster.unpin(p);
                }
            }
            Then::Bind { pod, node } => {
                self.cluster.unpin(pod);
                let p = self.cluster.pod(pod);
                if p.phase == PodPhase::Bound && p.node == Some(node) {
                    self.last_bind_at = self.now;
                    self.bound(pod);
                }
            }
            Then::LeaseRenewed(node) => {
                let mut ctx = Ctx::new(self.now, &mut self.queue);
                if self.lifecycle.on_lease_renewed(&mut self.cluster, node, &mut ctx) {
                    self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
                }
            }
            Then::Observed(pod) => {
                let p = self.cluster.pod(pod);
                let pull = p.image_pull.as_nanos();
                let sli = self.now.saturating_since(p.created_at).as_nanos().saturating_sub(pull);
                if let Some(h) = self.startup_sli_us.as_mut() {
                    let _ = h.record(sli / 1_000);
                }
                self.cluster.unpin(pod);
            }
        }
    }

    /// Lets the Deployments that owned `lost` pods replace them (each once, in id order),
    /// then the DaemonSets; returns the Deployments' new pods. All are handed to the
    /// scheduler.
    fn reconcile_owners(&mut self, lost: &[PodId]) -> Vec<PodId> {
        let mut owners: Vec<DeploymentId> = lost
            .iter()
            .filter_map(|&p| match self.cluster.pod(p).owner {
                Owner::Deployment(d) => Some(d),
                _ => None,
            })
            .collect();
        owners.sort();
        owners.dedup();
        let mut created = Vec::new();
        for d in owners {
            let mut ctx = Ctx::new(self.now, &mut self.queue);
            let change = self.deployments.reconcile(&mut self.cluster, d, &mut ctx);
            self.delete_surplus(d, &change.deleted);
            created.extend_from_slice(&change.created);
            self.pods_created(change.created);
        }
        let replaced = self.daemon_sets.on_pods_gone(&mut self.cluster, lost, self.now);
        self.pods_created(replaced);
        created
    }

    /// Replaces pods lost to a node failure at `failed_at`; the new pods remember it, for the
    /// replacement-latency metric.
    fn replace(&mut self, lost: &[PodId], failed_at: SimTime) {
        for p in self.reconcile_owners(lost) {
            self.replaces_failure_at.insert(p, failed_at);
        }
    }

    /// Sets a Deployment's replica count (a `scale` step or the HPA): the controller creates
    /// or deletes pods, the scheduler and the traffic model follow.
    fn scale_deployment(&mut self, deployment: DeploymentId, replicas: u32) {
        let mut ctx = Ctx::new(self.now, &mut self.queue);
        let change = self.deployments.on_scale(&mut self.cluster, deployment, replicas, &mut ctx);
        self.delete_surplus(deployment, &change.deleted);
        self.pods_created(change.created);
    }

    /// A pod counts as healthy for a disruption budget while it is Running, Ready (not in
    /// CrashLoopBackOff) and on a working node.
    fn pod_healthy(&self, p: PodId) -> bool {
        let pod = self.cluster.pod(p);
        pod.phase == PodPhase::Running
            && pod.node.is_some_and(|n| self.cluster.node(n).up)
            && !self.kubelet.is_crashed(p)
    }

    /// Evicts every pod of `node` the eviction API allows
    /// (`pkg/registry/core/pod/storage/eviction.go`: a healthy pod while the budget has
    /// `currentHealthy − minAvailable ≥ 1`, an unhealthy one while
    /// `currentHealthy ≥ minAvailable`, the default `IfHealthyBudget` policy); the owners
    /// replace them. Evicted pods terminate gracefully (their grace period capped by
    /// `max_grace`); pods already Terminating are left to finish. Returns true when some
    /// pod had to stay.
    fn evict_allowed(&mut self, node: NodeId, max_grace: Option<SimDuration>) -> bool {
        let mut blocked = false;
        let mut freed = false;
        let mut evicted = Vec::new();
        // Healthy pods per budgeted Deployment, counted once per pass and kept current as
        // this pass evicts.
        let mut healthy: BTreeMap<DeploymentId, i64> = BTreeMap::new();
        for p in self.cluster.pods_on_node(node) {
            // DaemonSet pods stay (`kubectl drain --ignore-daemonsets`; the cluster
            // autoscaler does not wait for them): they go with the node.
            if self.cluster.pod(p).phase == PodPhase::Terminating || self.cluster.pod(p).owner.is_daemon_set()
            {
                continue;
            }
            let p_healthy = self.pod_healthy(p);
            let budget = match self.cluster.pod(p).owner {
                Owner::Deployment(d) => self.min_available[d.index()].map(|min| (d, min as i64)),
                _ => None,
            };
            let allowed = match budget {
                None => true,
                Some((d, min)) => {
                    let count = *healthy.entry(d).or_insert_with(|| self.healthy_pods(d));
                    let ok = if p_healthy { count - min >= 1 } else { count >= min };
                    if ok && p_healthy {
                        healthy.insert(d, count - 1);
                    }
                    ok
                }
            };
            if allowed {
                let (f, _) =
                    self.delete_gracefully(&[p], Some(DisruptionReason::EvictionByEvictionAPI), max_grace);
                freed |= f;
                self.api_delete(&[p]);
                self.drain_evictions += 1;
                evicted.push(p);
            } else {
                blocked = true;
            }
        }
        if freed {
            let mut ctx = Ctx::new(self.now, &mut self.queue);
            self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
        }
        self.reconcile_owners(&evicted);
        blocked
    }

    /// Healthy pods of a Deployment (see [`Self::pod_healthy`]).
    fn healthy_pods(&self, d: DeploymentId) -> i64 {
        self.cluster
            .pods
            .iter()
            .filter(|&(q, p)| p.owner == Owner::Deployment(d) && self.pod_healthy(q))
            .count() as i64
    }

    /// One pass of `kubectl drain` over a cordoned node: evict what the budgets allow and
    /// retry the rest in 5 s, as kubectl does.
    fn drain_step(&mut self, node: NodeId) {
        if self.evict_allowed(node, None) {
            let mut ctx = Ctx::new(self.now, &mut self.queue);
            ctx.after(SimDuration::from_secs(5), Event::DrainStep { node });
        } else {
            self.draining[node.index()] = false;
        }
    }

    /// Names of the autoscaling cells of `timeseries.csv`: live nodes per node group, then
    /// replicas per HPA-managed Deployment.
    fn autoscaling_columns(&self) -> Vec<String> {
        let mut cols: Vec<String> =
            self.control_plane.as_ref().map(ControlPlane::timeseries_columns).unwrap_or_default();
        cols.extend(
            self.autoscaler.iter().flat_map(|ca| ca.groups.iter().map(|g| format!("nodes_{}", g.name))),
        );
        for d in self.hpa.deployments() {
            cols.push(format!("deploy_{}_replicas", self.cluster.deployments[d.index()].name));
        }
        if self.gpu_frag.is_some() {
            cols.extend(crate::metrics::gpufrag::FragTracker::timeseries_columns());
        }
        cols
    }

    /// The cells named by [`Self::autoscaling_columns`], now.
    fn autoscaling_cells(&mut self) -> Vec<Cell> {
        let interval = self.sample_interval;
        let mut cells: Vec<Cell> =
            self.control_plane.as_mut().map(|cp| cp.sample(interval)).unwrap_or_default();
        cells.extend(
            self.autoscaler
                .iter()
                .flat_map(|ca| ca.groups.iter().map(|g| Cell::Int(u64::from(g.registered)))),
        );
        for d in self.hpa.deployments() {
            cells.push(Cell::Int(u64::from(self.cluster.deployments[d.index()].replicas)));
        }
        if let Some(f) = &mut self.gpu_frag {
            cells.extend(f.sample(&self.cluster));
        }
        cells
    }

    /// Live nodes now.
    fn live_nodes(&self) -> u32 {
        self.cluster.nodes.len() as u32 - self.cluster.totals.nodes_removed
    }

    /// A node requested by the cluster autoscaler registers, Ready, in its pool's next zone.
    fn add_autoscaled_node(&mut self, group: usize) {
        let Some(ca) = self.autoscaler.as_mut() else { return };
        let pool = ca.groups[group].pool;
        ca.on_registered(group);
        let index = self.next_node_index[pool.index()];
        self.next_node_index[pool.index()] += 1;
        let sets = &self.pool_label_sets[pool.index()];
        let (zone, labels) = sets[index as usize % sets.len()];
        let unschedulable = self.pool_unschedulable[pool.index()];
        let node = self.cluster.add_node(pool, index, zone, labels, unschedulable, self.now);
        if let Some(cp) = self.control_plane.as_mut() {
            cp.on_node_added(node);
        }
        self.node_failed_at.push(SimTime::ZERO);
        self.draining.push(false);
        self.nodes_peak = self.nodes_peak.max(self.live_nodes());
        // Its DaemonSet pods are queued before the pods the new node may help: at equal
        // priority they take it first (upstream they are placed while the node still starts).
        let pods = self.daemon_sets.on_node_added(&mut self.cluster, node, self.now);
        self.pods_created(pods);
        let mut ctx = Ctx::new(self.now, &mut self.queue);
        self.lifecycle.on_node_added(&self.cluster, &mut ctx);
        self.faults.schedule_failure(node, pool, &mut ctx);
        self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
    }

    /// Deletes a node the cluster autoscaler chose. An unready node's pods are lost with it
    /// (their owners replace them); a Ready node holds DaemonSet pods at most, which go with
    /// it, with its DaemonSet pods still Pending.
    fn delete_node(&mut self, node: NodeId) {
        let lost = self.cluster.pods_on_node(node);
        for &p in &lost {
            self.cluster.delete_pod(p, self.now);
            self.traffic.pod_stopped(p, self.now);
        }
        if !self.cluster.remove_node(node, self.now) {
            return;
        }
        let pending = self.daemon_sets.on_node_removed(&mut self.cluster, node, self.now);
        self.api_delete(&pending);
        self.draining[node.index()] = false;
        if let Some(cp) = self.control_plane.as_mut() {
            cp.on_node_removed();
        }
        if let Some(ca) = self.autoscaler.as_mut() {
            ca.on_removed(&self.cluster, node, self.now);
        }
        let mut ctx = Ctx::new(self.now, &mut self.queue);
        self.lifecycle.on_node_repaired(&self.cluster, &mut ctx);
        if !lost.is_empty() {
            self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
            let failed_at = self.node_failed_at[node.index()];
            self.replace(&lost, failed_at);
        }
    }

    /// `Event::CaScan`.
    fn cluster_autoscaler_scan(&mut self) {
        let Some(ca) = self.autoscaler.as_mut() else { return };
        let interval = ca.cfg.scan_interval;
        let max_provision = ca.cfg.max_node_provision_time;
        self.queue.push(self.now + interval, Event::CaScan);
        let unschedulable = self.scheduler.unschedulable_pods(&self.cluster);
        let budgets = Budgets {
            min_available: self.min_available.clone(),
            healthy: (0..self.cluster.deployments.len() as u32)
                .map(|d| {
                    if self.min_available[d as usize].is_some() {
                        self.healthy_pods(DeploymentId(d))
                    } else {
                        0
                    }
                })
                .collect(),
        };
        let Some(ca) = self.autoscaler.as_mut() else { return };
        let actions = ca.scan(&self.cluster, &unschedulable, &budgets, self.now);
        for action in actions {
            match action {
                Action::ScaleUp { group, delays } => {
                    for d in delays {
                        let group = group as u32;
                        match d {
                            Some(d) => self.queue.push(self.now + d, Event::CaNodeRegistered { group }),
                            None => {
                                self.queue.push(self.now + max_provision, Event::CaProvisionTimeout { group })
                            }
                        };
                    }
                }
                Action::DeleteEmpty(nodes) => {
                    for node in nodes {
                        self.delete_node(node);
                    }
                }
                Action::Drain(node) => {
                    self.cluster.set_unschedulable(node, true);
                    self.ca_drain_step(node);
                }
            }
        }
    }

    /// One eviction pass over the node the cluster autoscaler is deleting.
    fn ca_drain_step(&mut self, node: NodeId) {
        let Some((draining, deadline)) = self.autoscaler.as_ref().and_then(|ca| ca.draining) else { return };
        if draining != node {
            return;
        }
        let blocked = self.evict_allowed(node, Some(CA_MAX_GRACEFUL_TERMINATION));
        let n = self.cluster.node(node);
        if !blocked && n.up && self.cluster.pods_to_drain_on_node(node) > 0 {
            // Every pod is evicted but some are still Terminating: the autoscaler waits for
            // them to go before it deletes the node (upstream `drain.go` polls every 5 s).
            self.queue.push(self.now + SimDuration::from_secs(5), Event::CaDrainStep { node });
        } else if !blocked {
            if let Some(ca) = self.autoscaler.as_mut() {
                ca.on_drained();
            }
            self.delete_node(node);
        } else if self.now >= deadline {
            let pool_setting = self.pool_unschedulable[self.cluster.node(node).pool.index()];
            self.cluster.set_unschedulable(node, pool_setting);
            if let Some(ca) = self.autoscaler.as_mut() {
                ca.on_drain_failed(&self.cluster, node, self.now);
            }
            let mut ctx = Ctx::new(self.now, &mut self.queue);
            self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
        } else {
            self.queue.push(self.now + SimDuration::from_secs(5), Event::CaDrainStep { node });
        }
    }

    /// Routes one event to its model.
    fn dispatch(&mut self, ev: Event) {
        // A node the cluster autoscaler deleted neither fails, nor comes back, nor is drained.
        if let Event::NodeFail { node, .. }
        | Event::NodeRepair { node, .. }
        | Event::DrainStart { node }
        | Event::DrainStep { node }
        | Event::Uncordon { node } = ev
            && self.cluster.node(node).removed_at.is_some()
        {
            return;
        }
        let mut ctx = Ctx::new(self.now, &mut self.queue);
        match ev {
            Event::DeploymentStart(d) => {
                let pods = self.deployments.on_start(&mut self.cluster, d, &mut ctx);
                self.pods_created(pods);
            }
            Event::DeploymentCreatePod(d) => {
                let pods = self.deployments.on_paced_create(&mut self.cluster, d, &mut ctx);
                self.pods_created(pods);
            }
            Event::DeploymentScale { deployment, replicas } => self.scale_deployment(deployment, replicas),
            Event::DeploymentRollout { deployment, index } => {
                let change =
                    self.deployments.on_rollout(&mut self.cluster, deployment, index as usize, &mut ctx);
                self.delete_surplus(deployment, &change.deleted);
                self.pods_created(change.created);
            }
            Event::DaemonSetsStart => {
                let pods = self.daemon_sets.on_start(&mut self.cluster, self.now);
                self.pods_created(pods);
            }
            Event::HpaSync => {
                ctx.after(crate::hpa::sync_period(), Event::HpaSync);
                if let Some(cp) = self.control_plane.as_mut() {
                    // Each HPA lists its target's pods (and reads their metrics).
                    for d in self.hpa.deployments() {
                        let pods = u64::from(self.cluster.deployments[d.index()].live_pods);
                        cp.list(self.now, Client::ControllerManager, pods);
                    }
                }
                for (d, replicas) in self.hpa.sync(&self.cluster, &self.traffic, self.now) {
                    if let Some(cp) = self.control_plane.as_mut() {
                        cp.submit(self.now, Client::ControllerManager, Call::UpdateScale, Then::Nothing);
                    }
                    self.scale_deployment(d, replicas);
                }
            }
            Event::ChurnArrival(c) => {
                if let Some(p) = self.churn[c.index()].on_arrival(&mut self.cluster, c, &mut ctx) {
                    self.pods_created(vec![p]);
                }
            }
            Event::TraceArrival(t) => {
                let pods = self.replays[t.index()].on_arrival(&mut self.cluster, &mut ctx);
                self.pods_created(pods);
            }
            Event::ScheduleNext => {
                let out = self.scheduler.on_schedule_next(&mut self.cluster, &mut ctx);
                if let (Some(a), Some(sink)) = (&out.attempt, self.attempts.as_mut()) {
                    sink.record(&self.cluster, a);
                }
                // PostFilter deletes the victims before the failure handler writes the
                // preemptor's status and event.
                if !out.victims.is_empty() {
                    self.preempted(&out.victims);
                }
                if let Some((pod, scheduled)) = out.attempted {
                    self.gpu_attempted(pod, scheduled, out.gave_up == Some(pod));
                }
                if let (Some(u), Some(cp)) = (out.failure, self.control_plane.as_mut()) {
                    // Not waited for: the scheduler goes on (SchedulerAsyncAPICalls).
                    cp.submit(self.now, Client::Scheduler, Call::PatchPodStatus, Then::Nothing);
                    if u.first {
                        cp.submit(self.now, Client::SchedulerEvents, Call::CreateEvent, Then::Nothing);
                    }
                }
            }
            Event::BackoffExpired => self.scheduler.on_backoff_expired(&mut ctx),
            Event::FlushUnschedulable => self.scheduler.on_flush(&self.cluster, &mut ctx),
            Event::Bind { pod, node } => match self.control_plane.as_mut() {
                Some(cp) => {
                    cp.submit(self.now, Client::Scheduler, Call::CreateBinding, Then::Bind { pod, node });
                    cp.submit(self.now, Client::SchedulerEvents, Call::CreateEvent, Then::Nothing);
                }
                None => {
                    self.cluster.unpin(pod);
                    self.bound(pod);
                }
            },
            Event::ApiDone(then) => self.api_done(then),
            Event::ContainersStarted(pod) => {
                if self.kubelet.on_containers_started(&mut self.cluster, pod, &mut ctx) {
                    let p = self.cluster.pod(pod);
                    self.metrics.on_running(p.created_at, self.now);
                    if let Some(failed_at) = self.replaces_failure_at.get(&pod) {
                        self.metrics.on_replacement_running(*failed_at, self.now);
                    }
                    let owner = p.owner;
                    if let Owner::Deployment(d) = owner {
                        self.traffic.pod_ready(d, pod, self.now);
                    }
                    if let Some(cp) = self.control_plane.as_mut()
                        && let Some(node) = self.cluster.pod(pod).node
                    {
                        // The kubelet reports Running (the SLI ends when that is stored) and
                        // records a Started event; the endpoints controller adds the pod.
                        cp.submit(self.now, Client::Kubelet(node), Call::PatchPodStatus, Then::Observed(pod));
                        self.cluster.pin(pod);
                        cp.submit(self.now, Client::KubeletEvents(node), Call::CreateEvent, Then::Nothing);
                        if let Owner::Deployment(d) = owner {
                            self.api_endpoints(d);
                        }
                    }
                    // A rolling update proceeds as new pods become available.
                    if let Owner::Deployment(d) = owner
                        && self.deployments.rolling(d)
                    {
                        let mut ctx = Ctx::new(self.now, &mut self.queue);
                        let change = self.deployments.reconcile(&mut self.cluster, d, &mut ctx);
                        self.delete_surplus(d, &change.deleted);
                        self.pods_created(change.created);
                    }
                }
            }
            Event::PodTerminated(pod) => self.pod_terminated(pod),
            Event::PodCompleted(pod) if self.cluster.pod(pod).phase == PodPhase::Terminating => {
                // The containers exited on their own before the grace period ran out.
                self.pod_terminated(pod)
            }
            Event::PodCompleted(pod) => {
                if self.kubelet.on_completed(&mut self.cluster, pod, &mut ctx) {
                    // Freed resources may help unschedulable pods; the owner may replace it.
                    self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
                    if let Owner::Deployment(d) = self.cluster.pod(pod).owner {
                        let change = self.deployments.reconcile(&mut self.cluster, d, &mut ctx);
                        self.delete_surplus(d, &change.deleted);
                        self.pods_created(change.created);
                    }
                }
            }
            Event::DrainStart { node } => {
                self.cluster.set_unschedulable(node, true);
                self.draining[node.index()] = true;
                self.drain_step(node);
            }
            Event::DrainStep { node } => {
                if self.draining[node.index()] {
                    self.drain_step(node);
                }
            }
            Event::Uncordon { node } => {
                self.draining[node.index()] = false;
                let pool_setting = self.pool_unschedulable[self.cluster.node(node).pool.index()];
                self.cluster.set_unschedulable(node, pool_setting);
                self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
            }
            Event::ContainerCrash { pod, run } => {
                if self.kubelet.on_crash(&self.cluster, pod, run, &mut ctx) {
                    self.traffic.pod_stopped(pod, self.now);
                }
            }
            Event::ContainerRestart { pod, run } => {
                if self.kubelet.on_restart(&self.cluster, pod, run, &mut ctx)
                    && let Owner::Deployment(d) = self.cluster.pod(pod).owner
                {
                    self.traffic.pod_ready(d, pod, self.now);
                }
            }
            Event::NodeFail { node, random } => {
                if self.cluster.fail_node(node) {
                    self.node_failed_at[node.index()] = self.now;
                    self.lifecycle.on_node_failed(&self.cluster, node, &mut ctx);
                    for p in self.cluster.pods_on_node(node) {
                        self.traffic.pod_dead(p, self.now);
                    }
                }
                if random {
                    let pool = self.cluster.node(node).pool;
                    self.faults.schedule_repair(node, pool, &mut ctx);
                }
            }
            Event::NodeRepair { node, random } => {
                if !self.cluster.node(node).up {
                    // The node comes back empty: what it still held is lost.
                    let lost = self.cluster.pods_on_node(node);
                    for &p in &lost {
                        self.cluster.finish_pod(p, PodPhase::Failed, self.now);
                        self.traffic.pod_stopped(p, self.now);
                    }
                    self.cluster.repair_node(node);
                    self.lifecycle.on_node_repaired(&self.cluster, &mut ctx);
                    self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
                    let failed_at = self.node_failed_at[node.index()];
                    self.replace(&lost, failed_at);
                }
                if random {
                    let pool = self.cluster.node(node).pool;
                    let mut ctx = Ctx::new(self.now, &mut self.queue);
                    self.faults.schedule_failure(node, pool, &mut ctx);
                }
            }
            Event::NodeDetected { .. } | Event::ZoneTaintPass { .. } | Event::EvictPod { .. }
                if self.lifecycle.defer(ev) => {}
            Event::NodeDetected { node, epoch } => {
                let effects = self.lifecycle.on_detected(&mut self.cluster, node, epoch, &mut ctx);
                for p in effects.not_ready {
                    self.traffic.pod_not_ready(p);
                }
            }
            Event::ZoneTaintPass { zone } => self.lifecycle.on_taint_pass(&self.cluster, zone, &mut ctx),
            Event::EvictPod { pod, node, epoch } => {
                if self.lifecycle.should_evict(&self.cluster, pod, node, epoch, self.now) {
                    self.cluster.delete_pod(pod, self.now);
                    self.traffic.pod_stopped(pod, self.now);
                    self.api_delete(&[pod]);
                    let failed_at = self.node_failed_at[node.index()];
                    self.replace(&[pod], failed_at);
                }
            }
            Event::ControlPlaneFault { fault, begin } => self.control_plane_fault(fault, begin),
            Event::LeaseCheck => {
                self.lifecycle.on_lease_check(&mut self.cluster, &mut ctx);
                self.scheduler.on_cluster_change(&self.cluster, &mut ctx);
            }
            Event::MisbehavingList => self.misbehaving_list(),
            Event::CaScan => self.cluster_autoscaler_scan(),
            Event::CaNodeRegistered { group } => self.add_autoscaled_node(group as usize),
            Event::CaProvisionTimeout { group } => {
                if let Some(ca) = self.autoscaler.as_mut() {
                    ca.on_provision_timeout(group as usize, self.now);
                }
            }
            Event::CaDrainStep { node } => self.ca_drain_step(node),
            Event::MetricsScrape => {
                self.traffic.scrape(self.now);
                ctx.after(self.scrape_period, Event::MetricsScrape);
            }
            Event::Sample => {
                let next = self.now + self.sample_interval;
                if next <= self.end {
                    ctx.at(next, Event::Sample);
                }
                let mut extra = self.traffic.sample(self.now);
                extra.extend(self.autoscaling_cells());
                self.metrics.sample(&self.cluster, self.now, extra);
            }
        }
    }
}
