//! The HPA controller in the simulation: every sync period (15 s) each HorizontalPodAutoscaler
//! reads its Deployment's pods and the metrics the traffic model published for them (CPU
//! usage as metrics-server reports it; requests per second per pod), computes a proposal per
//! metric with [`super::calculator`], takes the largest, normalises it with
//! [`super::normalize`] and returns the new replica count. Every decision is logged for
//! `autoscaler-events.csv`. Upstream: `kubernetes/kubernetes:pkg/controller/podautoscaler/horizontal.go`
//! (`reconcileAutoscaler`, `computeReplicasForMetrics`).

use super::calculator::{
    self, ConditionStatus, PodMetric, PodPhase as HpaPhase, PodSample, Readiness, Resource, Tolerances,
};
use super::normalize::{self, Behavior, HpaHistory, PolicyType, ScalingPolicy, ScalingRules, SelectPolicy};
use crate::cluster::{ClusterState, DeploymentId, Owner, PodPhase};
use crate::engine::SimTime;
use crate::scenario::schema::{HpaPolicyTypeSpec, HpaRulesSpec, HpaSelectPolicySpec, HpaSpec};
use crate::traffic::Traffic;

/// One logged decision (a row of `autoscaler-events.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct HpaDecision {
    pub time: SimTime,
    pub deployment: String,
    pub current: i32,
    /// Average CPU utilisation (% of request) over the pods with a metric, if measured.
    pub cpu_utilization: Option<i32>,
    /// Average requests per second per pod, if measured.
    pub requests_per_second: Option<f64>,
    /// The external metric's value, if the HPA has one.
    pub external_value: Option<f64>,
    pub raw: Option<i32>,
    pub stabilized: i32,
    pub limited: i32,
    pub final_replicas: i32,
    pub reason: String,
}

/// Columns of `autoscaler-events.csv`, shared by the HPA and the cluster autoscaler
/// (`autoscaler` says which; a cluster-autoscaler row leaves the metric columns empty).
pub const EVENT_COLUMNS: [&str; 12] = [
    "time_s",
    "autoscaler",
    "target",
    "current",
    "cpu_utilization_percent",
    "requests_per_second_per_pod",
    "external_metric_value",
    "raw_recommendation",
    "stabilized",
    "limited",
    "final",
    "reason",
];

impl HpaDecision {
    pub fn render(&self) -> Vec<String> {
        vec![
            format!("{:.3}", self.time.as_secs_f64()),
            "hpa".to_string(),
            self.deployment.clone(),
            self.current.to_string(),
            self.cpu_utilization.map_or(String::new(), |u| u.to_string()),
            self.requests_per_second.map_or(String::new(), |r| format!("{r:.3}")),
            self.external_value.map_or(String::new(), |r| format!("{r:.3}")),
            self.raw.map_or(String::new(), |r| r.to_string()),
            self.stabilized.to_string(),
            self.limited.to_string(),
            self.final_replicas.to_string(),
            self.reason.clone(),
        ]
    }
}

struct Hpa {
    deployment: DeploymentId,
    spec: HpaSpec,
    behavior: Option<Behavior>,
    history: HpaHistory,
    /// The CPU request of the Deployment's pod template (millicores), if set.
    cpu_request: Option<i64>,
}

fn rules(spec: &HpaRulesSpec) -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: spec.stabilization_window_seconds,
        select_policy: match spec.select_policy {
            HpaSelectPolicySpec::Max => SelectPolicy::Max,
            HpaSelectPolicySpec::Min => SelectPolicy::Min,
            HpaSelectPolicySpec::Disabled => SelectPolicy::Disabled,
        },
        policies: spec
            .policies
            .iter()
            .map(|p| ScalingPolicy {
                kind: match p.kind {
                    HpaPolicyTypeSpec::Pods => PolicyType::Pods,
                    HpaPolicyTypeSpec::Percent => PolicyType::Percent,
                },
                value: p.value,
                period_seconds: p.period_seconds,
            })
            .collect(),
        tolerance: None,
    }
}

pub struct HpaController {
    hpas: Vec<Hpa>,
    /// The window metrics-server averages over (its resolution), ns.
    metric_window_ns: u64,
    pub decisions: Vec<HpaDecision>,
}

impl HpaController {
    /// One HPA per Deployment that declares one, in Deployment order.
    pub fn new(specs: &[(DeploymentId, HpaSpec, Option<i64>)], metric_window_ns: u64) -> Self {
        let hpas = specs
            .iter()
            .map(|(d, spec, cpu_request)| Hpa {
                deployment: *d,
                behavior: spec.behavior.as_ref().map(|b| Behavior {
                    scale_up: b.scale_up.as_ref().map_or_else(ScalingRules::default_scale_up, rules),
                    scale_down: b.scale_down.as_ref().map_or_else(ScalingRules::default_scale_down, rules),
                }),
                spec: spec.clone(),
                history: HpaHistory::default(),
                cpu_request: *cpu_request,
            })
            .collect();
        HpaController { hpas, metric_window_ns, decisions: Vec::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.hpas.is_empty()
    }

    /// The Deployments under an HPA, in HPA order.
    pub fn deployments(&self) -> Vec<DeploymentId> {
        self.hpas.iter().map(|h| h.deployment).collect()
    }

    /// One sync of every HPA at `now`: the Deployments whose replica count must change.
    pub fn sync(
        &mut self,
        cluster: &ClusterState,
        traffic: &Traffic,
        now: SimTime,
    ) -> Vec<(DeploymentId, u32)> {
        let mut changes = Vec::new();
        let window_ns = self.metric_window_ns;
        for h in &mut self.hpas {
            let dep = &cluster.deployments[h.deployment.index()];
            let current = dep.replicas as i32;
            if h.history.recommendations.is_empty() {
                h.history.record_initial_recommendation(current, now.0);
            }
            // The Deployment's pods that are not gone (upstream lists pods by selector).
            let pods: Vec<_> = cluster
                .pods
                .iter()
                .filter(|(_, p)| p.owner == Owner::Deployment(h.deployment) && p.phase.is_active())
                .collect();
            let samples = |value: &dyn Fn(&crate::traffic::PodUsage) -> i64| -> Vec<PodSample> {
                pods.iter()
                    .map(|(i, p)| {
                        let usage = traffic.pod_usage(*i);
                        let running = p.phase == PodPhase::Running;
                        PodSample {
                            phase: if running { HpaPhase::Running } else { HpaPhase::Pending },
                            deleting: false,
                            ready: p.running_at.map(|t| calculator::ReadyCondition {
                                status: if running && usage.is_some() {
                                    ConditionStatus::True
                                } else {
                                    ConditionStatus::False
                                },
                                last_transition_ns: t.0,
                            }),
                            start_time_ns: p.bound_at.map(|t| t.0),
                            request_milli: h.cpu_request,
                            metric: usage
                                .filter(|u| u.at.0 > p.running_at.map_or(u64::MAX, |t| t.0))
                                .map(|u| PodMetric { value: value(&u), timestamp_ns: u.at.0, window_ns }),
                        }
                    })
                    .collect()
            };
            let tol = Tolerances::uniform(super::DEFAULT_TOLERANCE);
            let mut proposals: Vec<i32> = Vec::new();
            let mut reasons: Vec<String> = Vec::new();
            let mut cpu_util = None;
            let mut rps = None;
            let target_cpu =
                match (h.spec.target_cpu_utilization, &h.spec.target_requests_per_second, &h.spec.external) {
                    (None, None, None) => Some(super::DEFAULT_CPU_UTILIZATION),
                    (c, ..) => c,
                };
            if let Some(target) = target_cpu {
                let s = samples(&|u| u.cpu_milli as i64);
                let readiness = Readiness::with_defaults(Resource::Cpu, now.0);
                match calculator::resource_utilization_replicas(current, &s, target, tol, &readiness) {
                    Ok((r, util, _)) => {
                        proposals.push(r);
                        cpu_util = Some(util);
                    }
                    Err(e) => reasons.push(format!("cpu: {e}")),
                }
            }
            if let Some(target) = h.spec.target_requests_per_second {
                let s = samples(&|u| u.requests_per_second_milli as i64);
                let readiness = Readiness::with_defaults(Resource::Other, now.0);
                let target_milli = (target * 1000.0).round() as i64;
                match calculator::plain_metric_replicas(current, &s, target_milli, tol, &readiness) {
                    Ok((r, avg)) => {
                        proposals.push(r);
                        rps = Some(avg as f64 / 1000.0);
                    }
                    Err(e) => reasons.push(format!("requests per second: {e}")),
                }
            }
            let mut external_value = None;
            if let Some(x) = &h.spec.external {
                let value = x
                    .values
                    .iter()
                    .take_while(|v| v.at.0.as_nanos() <= now.0)
                    .last()
                    .map_or(0.0, |v| v.value);
                external_value = Some(value);
                // Metric values are quantities; the calculator works in milli-units as upstream.
                let usage = (value * 1000.0).round() as i64;
                match (x.target_value, x.target_average_value) {
                    (Some(t), _) => {
                        // Only readiness matters here (`getReadyPodsCount`): Running and Ready.
                        let s: Vec<PodSample> = pods
                            .iter()
                            .map(|(_, p)| PodSample {
                                phase: if p.phase == PodPhase::Running {
                                    HpaPhase::Running
                                } else {
                                    HpaPhase::Pending
                                },
                                deleting: false,
                                ready: p.running_at.map(|t| calculator::ReadyCondition {
                                    status: if p.phase == PodPhase::Running {
                                        ConditionStatus::True
                                    } else {
                                        ConditionStatus::False
                                    },
                                    last_transition_ns: t.0,
                                }),
                                start_time_ns: p.bound_at.map(|t| t.0),
                                request_milli: h.cpu_request,
                                metric: None,
                            })
                            .collect();
                        let target = (t * 1000.0).round() as i64;
                        match calculator::external_metric_replicas(current, &[usage], target, tol, &s) {
                            Ok((r, _)) => proposals.push(r),
                            Err(e) => reasons.push(format!("external {}: {e}", x.name)),
                        }
                    }
                    (None, Some(t)) => {
                        let target = (t * 1000.0).round() as i64;
                        let (r, _) =
                            calculator::external_per_pod_metric_replicas(current, &[usage], target, tol);
                        proposals.push(r);
                    }
                    (None, None) => {}
                }
            }
            // computeReplicasForMetrics: the largest valid proposal. With none, upstream's
            // reconcileAutoscaler returns before normalising (nothing enters the history).
            // Before metrics, reconcileAutoscaler disables scaling at 0 replicas and forces
            // the count into [minReplicas, maxReplicas].
            let raw = proposals.iter().copied().max();
            let (lo, hi) = (h.spec.min_replicas, h.spec.max_replicas);
            let (stabilized, limited, final_replicas, reason) = match raw {
                _ if current == 0 => (0, 0, 0, "ScalingDisabled: the replica count is 0".to_string()),
                _ if current > hi => (hi, hi, hi, "TooManyReplicas: current above maxReplicas".to_string()),
                _ if current < lo => (lo, lo, lo, "TooFewReplicas: current below minReplicas".to_string()),
                None => (current, current, current, format!("FailedGetMetrics: {}", reasons.join("; "))),
                Some(desired) => {
                    let n = match &h.behavior {
                        None => normalize::normalize_desired_replicas(
                            &mut h.history,
                            current,
                            desired,
                            h.spec.min_replicas,
                            h.spec.max_replicas,
                            now.0,
                            super::DEFAULT_DOWNSCALE_STABILIZATION_WINDOW_NS,
                        ),
                        Some(b) => normalize::normalize_desired_replicas_with_behaviors(
                            &mut h.history,
                            b,
                            current,
                            desired,
                            h.spec.min_replicas,
                            h.spec.max_replicas,
                            now.0,
                            super::DEFAULT_DOWNSCALE_STABILIZATION_WINDOW_NS,
                        ),
                    };
                    (
                        n.stabilized,
                        n.replicas,
                        n.replicas,
                        format!("{}; {}", n.able_to_scale_reason, n.limited_reason),
                    )
                }
            };
            if final_replicas != current {
                normalize::store_scale_event(
                    &mut h.history,
                    h.behavior.as_ref(),
                    current,
                    final_replicas,
                    now.0,
                );
                changes.push((h.deployment, final_replicas.max(0) as u32));
            }
            self.decisions.push(HpaDecision {
                time: now,
                deployment: dep.name.clone(),
                current,
                cpu_utilization: cpu_util,
                requests_per_second: rps,
                external_value,
                raw,
                stabilized,
                limited,
                final_replicas,
                reason,
            });
        }
        changes
    }
}
