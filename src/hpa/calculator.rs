//! Replica proposals for one metric, ported from
//! `kubernetes/kubernetes:pkg/controller/podautoscaler/replica_calculator.go` (current version,
//! with `Tolerances`) and `pkg/controller/podautoscaler/metrics/utilization.go`.
//!
//! Go uses `int64` milli-units for usage and requests and `float64` for ratios; so does this
//! port. Instants are `u64` nanoseconds since the simulation epoch, durations `u64`
//! nanoseconds. Time comparisons are done in `i128` so that `t - window` may go below zero,
//! as with Go's `time.Time`.
//!
//! Not representable: metrics reported for pods that are not in the pod list ("superfluous
//! metrics"). Upstream skips them in the utilisation ratio (no request) and they only matter
//! for `len(metrics)` in the recomputation branch.

/// Pod phase (`v1.PodPhase`). `groupPods` only singles out `Pending` and `Failed`; `Succeeded`
/// and `Unknown` are treated like `Running`, as upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

/// Status of a pod condition (`v1.ConditionStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

/// The pod's `Ready` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyCondition {
    pub status: ConditionStatus,
    /// `lastTransitionTime`, ns since epoch.
    pub last_transition_ns: u64,
}

/// One metric sample for a pod (`metricsclient.PodMetric`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodMetric {
    /// Usage in milli-units (summed over the pod's containers).
    pub value: i64,
    /// Sample timestamp, ns since epoch.
    pub timestamp_ns: u64,
    /// Sample window, ns.
    pub window_ns: u64,
}

/// Everything `groupPods` / `calculatePodRequests` look at for one pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodSample {
    pub phase: PodPhase,
    /// `deletionTimestamp != nil`.
    pub deleting: bool,
    /// The `Ready` condition; `None` if the pod has none.
    pub ready: Option<ReadyCondition>,
    /// `status.startTime`, ns since epoch; `None` if unset.
    pub start_time_ns: Option<u64>,
    /// Request for the resource in milli-units (sum over the relevant containers); `None` if
    /// a container has no request ("missing request" error). Only used by resource metrics.
    pub request_milli: Option<i64>,
    /// The metric sample; `None` if the metrics API returned nothing for this pod.
    pub metric: Option<PodMetric>,
}

/// Resource a `Resource` metric refers to; the readiness rules differ for CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    Cpu,
    /// Memory or any other resource.
    Other,
}

/// Inputs of `groupPods` besides the pods (replica_calculator.go).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub resource: Resource,
    pub now_ns: u64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`.
    pub cpu_initialization_period_ns: u64,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`.
    pub delay_of_initial_readiness_ns: u64,
}

impl Readiness {
    /// Controller defaults (5 min, 30 s) at `now_ns`.
    pub fn with_defaults(resource: Resource, now_ns: u64) -> Self {
        Readiness {
            resource,
            now_ns,
            cpu_initialization_period_ns: super::DEFAULT_CPU_INITIALIZATION_PERIOD_NS,
            delay_of_initial_readiness_ns: super::DEFAULT_INITIAL_READINESS_DELAY_NS,
        }
    }
}

/// `Tolerances{scaleDown, scaleUp}` (replica_calculator.go); unset per-direction
/// tolerances are the `--horizontal-pod-autoscaler-tolerance` flag.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    pub scale_down: f64,
    pub scale_up: f64,
}

impl Tolerances {
    /// The same tolerance in both directions.
    pub fn uniform(tolerance: f64) -> Self {
        Tolerances { scale_down: tolerance, scale_up: tolerance }
    }

    /// `isWithin`: `(1 - scaleDown) <= ratio <= (1 + scaleUp)` (replica_calculator.go).
    pub fn is_within(&self, ratio: f64) -> bool {
        (1.0 - self.scale_down) <= ratio && ratio <= (1.0 + self.scale_up)
    }
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances::uniform(super::DEFAULT_TOLERANCE)
    }
}

/// Result of [`resource_utilization_replicas`]: `(replicas, utilization %, raw average milli)`.
pub type ResourceReplicas = (i32, i32, i64);

/// Bucket of a pod after `groupPods`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    /// Deleting or failed: metric removed, never counted.
    Ignored,
    /// Pending, or (CPU) not yet ready: metric removed; counted at 0 on a scale-up.
    Unready,
    /// No metric: filled in on the recomputation.
    Missing,
    Ready,
}

/// `t < base + plus` (Go `base.Add(plus).After(t)` / `t.Before(base.Add(plus))`).
fn before(t: u64, base: u64, plus: u64) -> bool {
    i128::from(t) < i128::from(base) + i128::from(plus)
}

/// `groupPods` (replica_calculator.go).
fn group_pod(pod: &PodSample, readiness: &Readiness) -> Group {
    if pod.deleting || pod.phase == PodPhase::Failed {
        return Group::Ignored;
    }
    // Pending pods are ignored.
    if pod.phase == PodPhase::Pending {
        return Group::Unready;
    }
    // Pods missing metrics.
    let Some(metric) = pod.metric else {
        return Group::Missing;
    };
    // Unready pods are ignored (CPU only).
    if readiness.resource == Resource::Cpu {
        let unready = match (pod.ready, pod.start_time_ns) {
            (Some(cond), Some(start)) => {
                if before(readiness.now_ns, start, readiness.cpu_initialization_period_ns) {
                    // Pod still within possible initialisation period: ignore the sample if the pod
                    // is unready or one metric window was not collected since the last transition.
                    cond.status == ConditionStatus::False
                        || before(metric.timestamp_ns, cond.last_transition_ns, metric.window_ns)
                } else {
                    // Ignore the metric if the pod is unready and it has never been ready.
                    cond.status == ConditionStatus::False
                        && before(cond.last_transition_ns, start, readiness.delay_of_initial_readiness_ns)
                }
            }
            _ => true,
        };
        if unready {
            return Group::Unready;
        }
    }
    Group::Ready
}

/// `GetResourceUtilizationRatio` (metrics/utilization.go) over `(usage, request)` entries:
/// returns `(usageRatio, currentUtilization, rawAverageValue)`.
fn resource_utilization_ratio(
    entries: &[(i64, i64)],
    target_utilization: i32,
) -> Result<(f64, i32, i64), String> {
    let mut metrics_total: i64 = 0;
    let mut requests_total: i64 = 0;
    let mut num_entries: i64 = 0;
    for &(usage, request) in entries {
        metrics_total = metrics_total.checked_add(usage).ok_or("metric total overflows int64")?;
        requests_total = requests_total.checked_add(request).ok_or("request total overflows int64")?;
        num_entries += 1;
    }
    // If the set of requests is disjoint from the set of metrics the request total is zero.
    if requests_total == 0 {
        return Err("no metrics returned matched known pods".to_string());
    }
    // utilization.go: currentUtilization = int32((metricsTotal * 100) / requestsTotal), int64 math.
    // (Upstream falls back to big.Int on overflow; i128 gives the same exact result.)
    let current_utilization = (i128::from(metrics_total) * 100 / i128::from(requests_total)) as i32;
    // utilization.go: float64(currentUtilization) / float64(targetUtilization).
    let ratio = f64::from(current_utilization) / f64::from(target_utilization);
    // utilization.go: metricsTotal / int64(numEntries).
    Ok((ratio, current_utilization, metrics_total / num_entries))
}

/// `GetResourceReplicas` (replica_calculator.go) for a `Resource` metric with an
/// `Utilization` target: returns `(replicas, utilization %, raw average usage in milli)`.
pub fn resource_utilization_replicas(
    current_replicas: i32,
    pods: &[PodSample],
    target_utilization: i32,
    tolerances: Tolerances,
    readiness: &Readiness,
) -> Result<ResourceReplicas, String> {
    if pods.is_empty() {
        return Err("no pods returned by selector while calculating replica count".to_string());
    }
    let groups: Vec<Group> = pods.iter().map(|p| group_pod(p, readiness)).collect();
    // calculatePodRequests: every listed pod needs a request.
    let mut requests = Vec::with_capacity(pods.len());
    for pod in pods {
        requests.push(pod.request_milli.ok_or("missing request for resource")?);
    }
    // removeMetricsForPods(ignored), removeMetricsForPods(unready): metrics left = ready pods.
    // Each entry: (pod index, usage).
    let mut metrics: Vec<(usize, i64)> = Vec::new();
    for (i, pod) in pods.iter().enumerate() {
        if groups[i] == Group::Ready
            && let Some(m) = pod.metric
        {
            metrics.push((i, m.value));
        }
    }
    if metrics.is_empty() {
        return Err("did not receive metrics for targeted pods (pods might be unready)".to_string());
    }
    let entries = |metrics: &[(usize, i64)]| -> Vec<(i64, i64)> {
        metrics.iter().map(|&(i, usage)| (usage, requests[i])).collect()
    };
    let ready_pod_count = groups.iter().filter(|g| **g == Group::Ready).count();
    let has = |g: Group| groups.contains(&g);

    let (usage_ratio, utilization, raw_utilization) =
        resource_utilization_ratio(&entries(&metrics), target_utilization)?;

    let scale_up_with_unready = has(Group::Unready) && usage_ratio > 1.0;
    if !scale_up_with_unready && !has(Group::Missing) {
        if tolerances.is_within(usage_ratio) {
            // Return the current replicas if the change would be too small.
            return Ok((current_replicas, utilization, raw_utilization));
        }
        // No unready or missing pods: replica_calculator.go `math.Ceil(usageRatio * readyPodCount)`.
        return Ok(((usage_ratio * ready_pod_count as f64).ceil() as i32, utilization, raw_utilization));
    }

    if has(Group::Missing) {
        if usage_ratio < 1.0 {
            // On a scale-down, treat missing pods as using 100 % of the request, or the target
            // if it is above 100 %: `requests[pod] * max(100, target) / 100` (int64 math).
            let fallback = i64::from(target_utilization.max(100));
            for (i, g) in groups.iter().enumerate() {
                if *g == Group::Missing {
                    metrics.push((i, requests[i].saturating_mul(fallback) / 100));
                }
            }
        } else if usage_ratio > 1.0 {
            // On a scale-up, treat missing pods as using 0 % of the request.
            for (i, g) in groups.iter().enumerate() {
                if *g == Group::Missing {
                    metrics.push((i, 0));
                }
            }
        }
    }
    if scale_up_with_unready {
        // On a scale-up, treat unready pods as using 0 % of the request.
        for (i, g) in groups.iter().enumerate() {
            if *g == Group::Unready {
                metrics.push((i, 0));
            }
        }
    }

    // Re-run the utilisation calculation with the new numbers.
    let (new_usage_ratio, _, _) = resource_utilization_ratio(&entries(&metrics), target_utilization)?;
    if tolerances.is_within(new_usage_ratio)
        || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
        || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
    {
        // Too small a change, or the new ratio would flip the scale direction.
        return Ok((current_replicas, utilization, raw_utilization));
    }
    // replica_calculator.go: math.Ceil(newUsageRatio * float64(len(metrics))).
    let new_replicas = (new_usage_ratio * metrics.len() as f64).ceil() as i32;
    if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
        || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
    {
        // The change of the metrics length would flip the scale direction.
        return Ok((current_replicas, utilization, raw_utilization));
    }
    Ok((new_replicas, utilization, raw_utilization))
}

/// `GetMetricUsageRatio` (metrics/utilization.go): `(usageRatio, currentUsage)` with
/// `currentUsage = Σ / len` in int64.
fn metric_usage_ratio(values: &[i64], target_usage: i64) -> (f64, i64) {
    let total: i64 = values.iter().fold(0i64, |a, v| a.saturating_add(*v));
    let len = i64::try_from(values.len()).unwrap_or(i64::MAX).max(1);
    let current_usage = total / len;
    (current_usage as f64 / target_usage as f64, current_usage)
}

/// `calcPlainMetricReplicas` (replica_calculator.go), used by `GetMetricReplicas` (Pods
/// metrics, `AverageValue`) and `GetRawResourceReplicas` (Resource metric, `AverageValue`;
/// pass `Resource::Cpu` in `readiness` for the CPU readiness rules). Returns
/// `(replicas, average usage in milli)`.
pub fn plain_metric_replicas(
    current_replicas: i32,
    pods: &[PodSample],
    target_usage: i64,
    tolerances: Tolerances,
    readiness: &Readiness,
) -> Result<(i32, i64), String> {
    if pods.is_empty() {
        return Err("no pods returned by selector while calculating replica count".to_string());
    }
    if target_usage == 0 {
        return Err("target usage is zero".to_string());
    }
    let groups: Vec<Group> = pods.iter().map(|p| group_pod(p, readiness)).collect();
    let mut metrics: Vec<i64> = Vec::new();
    for (i, pod) in pods.iter().enumerate() {
        if groups[i] == Group::Ready
            && let Some(m) = pod.metric
        {
            metrics.push(m.value);
        }
    }
    if metrics.is_empty() {
        return Err("did not receive metrics for targeted pods (pods might be unready)".to_string());
    }
    let count = |g: Group| groups.iter().filter(|x| **x == g).count();
    let ready_pod_count = count(Group::Ready);
    let (usage_ratio, usage) = metric_usage_ratio(&metrics, target_usage);

    let scale_up_with_unready = count(Group::Unready) > 0 && usage_ratio > 1.0;
    if !scale_up_with_unready && count(Group::Missing) == 0 {
        if tolerances.is_within(usage_ratio) {
            return Ok((current_replicas, usage));
        }
        return Ok(((usage_ratio * ready_pod_count as f64).ceil() as i32, usage));
    }
    let missing = count(Group::Missing);
    if missing > 0 {
        // On a scale-down missing pods count at the target, otherwise at 0 (note: `else`,
        // not `else if usageRatio > 1.0` as in the resource path).
        let fill = if usage_ratio < 1.0 { target_usage } else { 0 };
        metrics.extend(std::iter::repeat_n(fill, missing));
    }
    if scale_up_with_unready {
        metrics.extend(std::iter::repeat_n(0, count(Group::Unready)));
    }
    let (new_usage_ratio, _) = metric_usage_ratio(&metrics, target_usage);
    if tolerances.is_within(new_usage_ratio)
        || (usage_ratio < 1.0 && new_usage_ratio > 1.0)
        || (usage_ratio > 1.0 && new_usage_ratio < 1.0)
    {
        return Ok((current_replicas, usage));
    }
    let new_replicas = (new_usage_ratio * metrics.len() as f64).ceil() as i32;
    if (new_usage_ratio < 1.0 && new_replicas > current_replicas)
        || (new_usage_ratio > 1.0 && new_replicas < current_replicas)
    {
        return Ok((current_replicas, usage));
    }
    Ok((new_replicas, usage))
}

/// `getReadyPodsCount` (replica_calculator.go): pods that are `Running` and Ready.
pub fn ready_pods_count(pods: &[PodSample]) -> Result<i64, String> {
    if pods.is_empty() {
        return Err("no pods returned by selector while calculating replica count".to_string());
    }
    let n = pods
        .iter()
        .filter(|p| {
            p.phase == PodPhase::Running && p.ready.is_some_and(|c| c.status == ConditionStatus::True)
        })
        .count();
    Ok(n as i64)
}

/// `getUsageRatioReplicaCount` (replica_calculator.go): with `current != 0` tolerance check
/// then `ceil(ratio * readyPods)`; with `current == 0` `ceil(ratio)` (scale from zero).
fn usage_ratio_replica_count(
    current_replicas: i32,
    usage_ratio: f64,
    tolerances: Tolerances,
    pods: &[PodSample],
) -> Result<i32, String> {
    if current_replicas != 0 {
        if tolerances.is_within(usage_ratio) {
            return Ok(current_replicas);
        }
        let ready = ready_pods_count(pods).map_err(|e| format!("unable to calculate ready pods: {e}"))?;
        Ok((usage_ratio * ready as f64).ceil() as i32)
    } else {
        Ok(usage_ratio.ceil() as i32)
    }
}

/// `GetObjectMetricReplicas` (Object metric, `Value` target): returns `(replicas, usage)`.
pub fn object_metric_replicas(
    current_replicas: i32,
    usage: i64,
    target_usage: i64,
    tolerances: Tolerances,
    pods: &[PodSample],
) -> Result<(i32, i64), String> {
    // replica_calculator.go: usageRatio := float64(usage) / float64(targetUsage).
    let usage_ratio = usage as f64 / target_usage as f64;
    Ok((usage_ratio_replica_count(current_replicas, usage_ratio, tolerances, pods)?, usage))
}

/// `GetExternalMetricReplicas` (External metric, `Value` target): the sum of all returned
/// series is the usage. Returns `(replicas, usage)`.
pub fn external_metric_replicas(
    current_replicas: i32,
    series: &[i64],
    target_usage: i64,
    tolerances: Tolerances,
    pods: &[PodSample],
) -> Result<(i32, i64), String> {
    let usage = series.iter().fold(0i64, |a, v| a.saturating_add(*v));
    let usage_ratio = usage as f64 / target_usage as f64;
    Ok((usage_ratio_replica_count(current_replicas, usage_ratio, tolerances, pods)?, usage))
}

/// Shared body of `GetObjectPerPodMetricReplicas` / `GetExternalPerPodMetricReplicas`
/// (`AverageValue` target): `ratio = usage / (target * statusReplicas)`; outside the
/// tolerance `replicas = ceil(usage / target)`. Returns `(replicas, ceil(usage / statusReplicas))`.
pub fn per_pod_metric_replicas(
    status_replicas: i32,
    usage: i64,
    target_per_pod: i64,
    tolerances: Tolerances,
) -> (i32, i64) {
    let mut replicas = status_replicas;
    let usage_ratio = usage as f64 / (target_per_pod as f64 * f64::from(status_replicas));
    if !tolerances.is_within(usage_ratio) {
        replicas = (usage as f64 / target_per_pod as f64).ceil() as i32;
    }
    let avg = (usage as f64 / f64::from(status_replicas)).ceil() as i64;
    (replicas, avg)
}

/// `GetExternalPerPodMetricReplicas`: the usage is the sum of all returned series.
pub fn external_per_pod_metric_replicas(
    status_replicas: i32,
    series: &[i64],
    target_per_pod: i64,
    tolerances: Tolerances,
) -> (i32, i64) {
    let usage = series.iter().fold(0i64, |a, v| a.saturating_add(*v));
    per_pod_metric_replicas(status_replicas, usage, target_per_pod, tolerances)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpa::{
        NANOS_PER_SEC, TESTING_CPU_INITIALIZATION_PERIOD_NS, TESTING_DELAY_OF_INITIAL_READINESS_NS,
    };

    /// Upstream harness: `now` well after the zero start time and zero transition time.
    const NOW: u64 = 3600 * NANOS_PER_SEC;

    fn readiness(resource: Resource) -> Readiness {
        Readiness {
            resource,
            now_ns: NOW,
            cpu_initialization_period_ns: TESTING_CPU_INITIALIZATION_PERIOD_NS,
            delay_of_initial_readiness_ns: TESTING_DELAY_OF_INITIAL_READINESS_NS,
        }
    }

    #[derive(Clone, Copy, PartialEq)]
    enum S {
        /// Running, Ready=True.
        R,
        /// Running, Ready=False (never ready: transition at start).
        F,
        Pending,
        Failed,
        Deleting,
    }

    /// Like upstream `prepareTestClientSet`: start time and transition time are the zero time.
    fn pod(state: S, request: i64, usage: Option<i64>) -> PodSample {
        PodSample {
            phase: match state {
                S::Pending => PodPhase::Pending,
                S::Failed => PodPhase::Failed,
                _ => PodPhase::Running,
            },
            deleting: state == S::Deleting,
            ready: Some(ReadyCondition {
                status: if state == S::F { ConditionStatus::False } else { ConditionStatus::True },
                last_transition_ns: 0,
            }),
            start_time_ns: Some(0),
            request_milli: Some(request),
            metric: usage.map(|value| PodMetric { value, timestamp_ns: NOW, window_ns: 60 * NANOS_PER_SEC }),
        }
    }

    struct Row {
        name: &'static str,
        current: i32,
        /// Per pod, per container (the harness has 2 containers per pod).
        requests: &'static [i64],
        usage: &'static [Option<i64>],
        states: &'static [S],
        target: i32,
        replicas: i32,
        util: i32,
        raw: i64,
    }

    const N: Option<i64> = None;
    use S::*;

    #[rustfmt::skip]
    const ROWS: &[Row] = &[
        Row { name: "ScaleUp", current: 3, requests: &[1000; 3], usage: &[Some(300), Some(500), Some(700)], states: &[R, R, R], target: 30, replicas: 5, util: 50, raw: 1000 },
        Row { name: "ScaleUpUnreadyLessScale", current: 3, requests: &[1000; 3], usage: &[Some(300), Some(500), Some(700)], states: &[F, R, R], target: 30, replicas: 4, util: 60, raw: 1200 },
        Row { name: "ScaleUpUnreadyNoScale", current: 3, requests: &[1000; 3], usage: &[Some(400), Some(500), Some(700)], states: &[R, F, F], target: 30, replicas: 3, util: 40, raw: 800 },
        Row { name: "ScaleUpIgnoresFailedPods", current: 2, requests: &[1000; 4], usage: &[Some(500), Some(700), N, N], states: &[R, R, Failed, Failed], target: 30, replicas: 4, util: 60, raw: 1200 },
        Row { name: "ScaleUpIgnoresDeletionPods", current: 2, requests: &[1000; 4], usage: &[Some(500), Some(700), N, N], states: &[R, R, Deleting, Deleting], target: 30, replicas: 4, util: 60, raw: 1200 },
        Row { name: "ScaleDown", current: 5, requests: &[1000; 5], usage: &[Some(100), Some(300), Some(500), Some(250), Some(250)], states: &[R; 5], target: 50, replicas: 3, util: 28, raw: 560 },
        Row { name: "ScaleDownExcludeUnreadyPods", current: 5, requests: &[1000; 5], usage: &[Some(100), Some(300), Some(500), Some(250), Some(250)], states: &[R, R, R, F, F], target: 50, replicas: 2, util: 30, raw: 600 },
        Row { name: "ScaleDownExcludeUnscheduledPods", current: 5, requests: &[1000; 5], usage: &[Some(100), N, N, N, N], states: &[R, Pending, Pending, Pending, Pending], target: 50, replicas: 1, util: 10, raw: 200 },
        Row { name: "ScaleDownIgnoresFailedPods", current: 5, requests: &[1000; 7], usage: &[Some(100), Some(300), Some(500), Some(250), Some(250), N, N], states: &[R, R, R, R, R, Failed, Failed], target: 50, replicas: 3, util: 28, raw: 560 },
        Row { name: "Tolerance", current: 3, requests: &[900, 1000, 1100], usage: &[Some(1010), Some(1030), Some(1020)], states: &[R; 3], target: 100, replicas: 3, util: 102, raw: 2040 },
        Row { name: "SuperfluousMetrics", current: 4, requests: &[1000; 4], usage: &[Some(4000), Some(9500), Some(3000), Some(7000)], states: &[R; 4], target: 100, replicas: 24, util: 587, raw: 11750 },
        Row { name: "MissingMetrics", current: 4, requests: &[1000; 4], usage: &[Some(400), Some(95), N, N], states: &[R; 4], target: 100, replicas: 3, util: 24, raw: 495 },
        Row { name: "MissingMetricsNoChangeEq", current: 2, requests: &[1000; 2], usage: &[Some(1000), N], states: &[R; 2], target: 100, replicas: 2, util: 100, raw: 2000 },
        Row { name: "MissingMetricsNoChangeGt", current: 2, requests: &[1000; 2], usage: &[Some(1900), N], states: &[R; 2], target: 100, replicas: 2, util: 190, raw: 3800 },
        Row { name: "MissingMetricsNoChangeLt", current: 2, requests: &[1000; 2], usage: &[Some(600), N], states: &[R; 2], target: 100, replicas: 2, util: 60, raw: 1200 },
        Row { name: "MissingMetricsUnreadyChange", current: 3, requests: &[1000; 3], usage: &[Some(100), Some(450), N], states: &[F, R, R], target: 50, replicas: 3, util: 45, raw: 900 },
        Row { name: "MissingMetricsUnreadyScaleUp", current: 3, requests: &[1000; 3], usage: &[Some(100), Some(2000), N], states: &[F, R, R], target: 50, replicas: 4, util: 200, raw: 4000 },
        Row { name: "MissingMetricsUnreadyScaleDown", current: 4, requests: &[1000; 4], usage: &[Some(100), Some(100), Some(100), N], states: &[F, R, R, R], target: 50, replicas: 3, util: 10, raw: 200 },
        Row { name: "MissingMetricsScaleDownTargetOver100", current: 4, requests: &[1000, 1000, 2000, 2000], usage: &[Some(200), Some(100), Some(100), N], states: &[F, R, R, R], target: 300, replicas: 2, util: 6, raw: 200 },
        Row { name: "DuringRollingUpdateWithMaxSurge", current: 2, requests: &[1000; 3], usage: &[Some(100), Some(100), N], states: &[R; 3], target: 50, replicas: 2, util: 10, raw: 200 },
    ];

    #[test]
    fn replica_calculator_rows() {
        assert_eq!(ROWS.len(), 20);
        for row in ROWS {
            assert_eq!(row.requests.len(), row.usage.len(), "{}", row.name);
            assert_eq!(row.requests.len(), row.states.len(), "{}", row.name);
            // Two containers per pod: the pod totals are twice the listed values.
            let pods: Vec<PodSample> = (0..row.requests.len())
                .map(|i| pod(row.states[i], 2 * row.requests[i], row.usage[i].map(|u| 2 * u)))
                .collect();
            let got = resource_utilization_replicas(
                row.current,
                &pods,
                row.target,
                Tolerances::uniform(crate::hpa::TESTING_TOLERANCE),
                &readiness(Resource::Cpu),
            );
            assert_eq!(got, Ok((row.replicas, row.util, row.raw)), "{}", row.name);
        }
    }

    /// `TestReplicaCalcComputedToleranceAlgImplementation`: 10 pods, 150 m used and 300 m
    /// requested per container; the target sits just outside, then just inside, the band.
    #[test]
    fn computed_tolerance_alg_implementation() {
        let start_pods = 10;
        let used_total: i64 = 10 * 150;
        let requested_total: i64 = 2 * used_total;
        let requested_to_used = (requested_total / used_total) as f64;
        let pods: Vec<PodSample> = (0..10).map(|_| pod(R, 2 * 300, Some(2 * 150))).collect();

        let target = (1.0 / (requested_to_used * (1.0 - 0.1))).abs() + 0.01;
        let final_target = (target * 100.0) as i32;
        let used_ratio = used_total as f64 / (requested_total as f64 * target);
        let final_pods = (used_ratio * f64::from(start_pods)).ceil() as i32;
        assert_eq!((final_target, final_pods), (56, 9));
        let got = resource_utilization_replicas(
            start_pods,
            &pods,
            final_target,
            Tolerances::uniform(0.1),
            &readiness(Resource::Cpu),
        );
        assert_eq!(got, Ok((final_pods, 50, 300)));

        let target = (1.0 / (requested_to_used * (1.0 - 0.1))).abs() - 0.01;
        let final_target = (target * 100.0) as i32;
        assert_eq!(final_target, 54);
        let got = resource_utilization_replicas(
            start_pods,
            &pods,
            final_target,
            Tolerances::uniform(0.1),
            &readiness(Resource::Cpu),
        );
        assert_eq!(got, Ok((start_pods, 50, 300)));
    }

    fn metric_pods(values: &[i64]) -> Vec<PodSample> {
        values.iter().map(|v| pod(R, 0, Some(*v))).collect()
    }

    #[test]
    fn custom_metric_rows() {
        let tol = Tolerances::uniform(0.1);
        let rd = readiness(Resource::Other);
        // ScaleUpCM
        assert_eq!(
            plain_metric_replicas(3, &metric_pods(&[20000, 10000, 30000]), 15000, tol, &rd),
            Ok((4, 20000))
        );
        // ScaleDownCM
        assert_eq!(plain_metric_replicas(5, &metric_pods(&[12000; 5]), 20000, tol, &rd), Ok((3, 12000)));
        // ToleranceCM
        assert_eq!(
            plain_metric_replicas(3, &metric_pods(&[20000, 21000, 21000]), 20000, tol, &rd),
            Ok((3, 20666))
        );
        // ScaleUpCMExternal (one ready pod)
        let one = [pod(R, 0, None)];
        assert_eq!(external_metric_replicas(1, &[8600], 4400, tol, &one), Ok((2, 8600)));
        // ScaleUpPerPodCMExternal
        assert_eq!(external_per_pod_metric_replicas(3, &[8600], 2150, tol), (4, 2867));
        // ScaleUpCMObjectIgnoresUnreadyPods: only one of three pods is ready.
        let pods = [pod(F, 0, None), pod(R, 0, None), pod(F, 0, None)];
        assert_eq!(object_metric_replicas(3, 50000, 10000, tol, &pods), Ok((5, 50000)));
        // Counting the unready pods would give 15.
        let all_ready = [pod(R, 0, None), pod(R, 0, None), pod(R, 0, None)];
        assert_eq!(object_metric_replicas(3, 50000, 10000, tol, &all_ready), Ok((15, 50000)));
        // Scale from zero: ceil(ratio).
        assert_eq!(object_metric_replicas(0, 25000, 10000, tol, &[]), Ok((3, 25000)));
    }

    /// Not a §1.6 row: the rolling-update (maxSurge) direction guard on the plain-metric path
    /// (3 pods, one without a metric, 10000 each against 17000, current 2). Without the guard
    /// the recomputation would propose ceil(0.7255 * 3) = 3.
    #[test]
    fn plain_metric_rolling_update_guard() {
        let mut pods = metric_pods(&[10000, 10000, 0]);
        pods[2].metric = None;
        let got =
            plain_metric_replicas(2, &pods, 17000, Tolerances::uniform(0.1), &readiness(Resource::Other));
        assert_eq!(got, Ok((2, 10000)));
    }

    #[test]
    fn cpu_readiness_rules() {
        let rd = readiness(Resource::Cpu);
        let s = NANOS_PER_SEC;
        let mut p = pod(R, 1000, Some(500));
        // Within the initialisation period: ready, but the sample predates transition + window.
        p.start_time_ns = Some(NOW - 60 * s);
        p.ready = Some(ReadyCondition { status: ConditionStatus::True, last_transition_ns: NOW - 30 * s });
        assert_eq!(group_pod(&p, &rd), Group::Unready);
        p.ready = Some(ReadyCondition { status: ConditionStatus::True, last_transition_ns: NOW - 90 * s });
        assert_eq!(group_pod(&p, &rd), Group::Ready);
        // After the initialisation period: unready only if it has never been ready.
        p.start_time_ns = Some(NOW - 600 * s);
        p.ready = Some(ReadyCondition { status: ConditionStatus::False, last_transition_ns: NOW - 595 * s });
        assert_eq!(group_pod(&p, &rd), Group::Unready);
        p.ready = Some(ReadyCondition { status: ConditionStatus::False, last_transition_ns: NOW - 100 * s });
        assert_eq!(group_pod(&p, &rd), Group::Ready);
        // Not CPU: readiness does not matter.
        assert_eq!(group_pod(&pod(F, 1000, Some(1)), &readiness(Resource::Other)), Group::Ready);
        // No Ready condition or no start time.
        p.ready = None;
        assert_eq!(group_pod(&p, &rd), Group::Unready);
    }

    #[test]
    fn errors() {
        let tol = Tolerances::uniform(0.1);
        let rd = readiness(Resource::Cpu);
        assert!(resource_utilization_replicas(1, &[], 50, tol, &rd).is_err());
        assert!(resource_utilization_replicas(1, &[pod(F, 1000, Some(1))], 50, tol, &rd).is_err());
        let mut p = pod(R, 1000, Some(1));
        p.request_milli = None;
        assert_eq!(
            resource_utilization_replicas(1, &[p], 50, tol, &rd),
            Err("missing request for resource".into())
        );
    }
}
