//! Normalisation of a raw replica recommendation, ported from
//! `kubernetes/kubernetes:pkg/controller/podautoscaler/horizontal.go` (current version, with
//! two stabilisation windows and scale-down events in the scale-up limit).
//!
//! * Legacy path (`spec.behavior == nil`): [`normalize_desired_replicas`] =
//!   `stabilizeRecommendation` (max over the downscale window) + `convertDesiredReplicasWithRules`.
//! * Behaviour path: [`normalize_desired_replicas_with_behaviors`] =
//!   `stabilizeRecommendationWithBehaviors` + `convertDesiredReplicasWithBehaviorRate`.
//!
//! The per-HPA memory upstream keeps in maps keyed by HPA (`recommendations`,
//! `scaleUpEvents`, `scaleDownEvents`) is the caller-owned [`HpaHistory`]. Instants are `u64`
//! nanoseconds since the simulation epoch; windows and policy periods are `i32` seconds as in
//! the API; the controller's downscale window flag is `u64` nanoseconds. Time comparisons are
//! done in `i128` so `now - window` may be negative.

use super::NANOS_PER_SEC;

/// `scaleUpLimitFactor` (horizontal.go).
pub const SCALE_UP_LIMIT_FACTOR: f64 = 2.0;
/// `scaleUpLimitMinimum` (horizontal.go).
pub const SCALE_UP_LIMIT_MINIMUM: f64 = 4.0;

/// `timestampedRecommendation` (horizontal.go).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampedRecommendation {
    pub recommendation: i32,
    pub timestamp_ns: u64,
}

/// `timestampedScaleEvent` (horizontal.go). `replica_change` is positive in both directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleEvent {
    pub replica_change: i32,
    pub timestamp_ns: u64,
    /// Older than the longest policy period at the last store: the slot may be reused.
    pub outdated: bool,
}

/// Per-HPA controller memory (horizontal.go `recommendations`, `scaleUpEvents`, `scaleDownEvents`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HpaHistory {
    pub recommendations: Vec<TimestampedRecommendation>,
    pub scale_up_events: Vec<ScaleEvent>,
    pub scale_down_events: Vec<ScaleEvent>,
}

impl HpaHistory {
    /// `recordInitialRecommendation` (horizontal.go): on the first sight of an HPA, store the
    /// current replica count as a recommendation (only if the history is empty).
    pub fn record_initial_recommendation(&mut self, current_replicas: i32, now_ns: u64) {
        if self.recommendations.is_empty() {
            self.recommendations
                .push(TimestampedRecommendation { recommendation: current_replicas, timestamp_ns: now_ns });
        }
    }
}

/// `autoscalingv2.HPAScalingPolicyType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyType {
    Pods,
    Percent,
}

/// `autoscalingv2.HPAScalingPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalingPolicy {
    pub kind: PolicyType,
    pub value: i32,
    pub period_seconds: i32,
}

/// `autoscalingv2.ScalingPolicySelect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

/// `autoscalingv2.HPAScalingRules`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScalingRules {
    /// `None` on scale-down means "use the controller flag" (`maybeInitScaleDownStabilizationWindow`).
    pub stabilization_window_seconds: Option<i32>,
    pub select_policy: SelectPolicy,
    pub policies: Vec<ScalingPolicy>,
    /// Per-direction tolerance (feature gate `HPAConfigurableTolerance`); `None` = flag value.
    /// Consumed by the replica calculator, not by normalisation.
    pub tolerance: Option<f64>,
}

impl ScalingRules {
    /// Scale-up default (`pkg/apis/autoscaling/v2/defaults.go`): window 0, Max,
    /// Pods 4 per 15 s, Percent 100 % per 15 s.
    pub fn default_scale_up() -> Self {
        ScalingRules {
            stabilization_window_seconds: Some(0),
            select_policy: SelectPolicy::Max,
            policies: vec![
                ScalingPolicy { kind: PolicyType::Pods, value: 4, period_seconds: 15 },
                ScalingPolicy { kind: PolicyType::Percent, value: 100, period_seconds: 15 },
            ],
            tolerance: None,
        }
    }

    /// Scale-down default (`pkg/apis/autoscaling/v2/defaults.go`): window unset (the
    /// controller fills in its 300 s flag), Max, Percent 100 % per 15 s.
    pub fn default_scale_down() -> Self {
        ScalingRules {
            stabilization_window_seconds: None,
            select_policy: SelectPolicy::Max,
            policies: vec![ScalingPolicy { kind: PolicyType::Percent, value: 100, period_seconds: 15 }],
            tolerance: None,
        }
    }

    /// `getLongestPolicyPeriod` (horizontal.go).
    pub fn longest_policy_period(&self) -> i32 {
        self.policies.iter().map(|p| p.period_seconds).max().unwrap_or(0)
    }
}

/// `autoscalingv2.HorizontalPodAutoscalerBehavior`.
#[derive(Clone, Debug, PartialEq)]
pub struct Behavior {
    pub scale_up: ScalingRules,
    pub scale_down: ScalingRules,
}

impl Behavior {
    /// `SetDefaults_HorizontalPodAutoscalerBehavior` with both directions unset.
    pub fn upstream_default() -> Self {
        Behavior {
            scale_up: ScalingRules::default_scale_up(),
            scale_down: ScalingRules::default_scale_down(),
        }
    }

    /// `maybeInitScaleDownStabilizationWindow` (horizontal.go): fill an unset scale-down
    /// window with the controller flag (whole seconds).
    pub fn with_scale_down_window_initialized(&self, downscale_stabilisation_window_ns: u64) -> Self {
        let mut b = self.clone();
        if b.scale_down.stabilization_window_seconds.is_none() {
            let secs = i32::try_from(downscale_stabilisation_window_ns / NANOS_PER_SEC).unwrap_or(i32::MAX);
            b.scale_down.stabilization_window_seconds = Some(secs);
        }
        b
    }
}

/// Result of a normalisation, with the conditions upstream sets on the HPA status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Normalized {
    pub replicas: i32,
    /// Recommendation after stabilisation, before rate limits and min/max.
    pub stabilized: i32,
    /// `AbleToScale` reason: "ReadyForNewScale", "ScaleDownStabilized" or "ScaleUpStabilized".
    pub able_to_scale_reason: &'static str,
    /// `ScalingLimited` reason: "DesiredWithinRange", "ScaleUpLimit", "TooManyReplicas",
    /// "ScaleDownLimit" or "TooFewReplicas".
    pub limited_reason: &'static str,
    /// `ScalingLimited` status (true iff `replicas != stabilized`).
    pub scaling_limited: bool,
}

/// `t > now - window_ns` (Go `t.After(now.Add(-window))`).
fn after_cutoff(t: u64, now: u64, window_ns: i128) -> bool {
    i128::from(t) > i128::from(now) - window_ns
}

/// `t < now - window_ns` (Go `t.Before(now.Add(-window))`).
fn before_cutoff(t: u64, now: u64, window_ns: i128) -> bool {
    i128::from(t) < i128::from(now) - window_ns
}

fn secs_to_ns(secs: i32) -> i128 {
    i128::from(secs) * i128::from(NANOS_PER_SEC)
}

// ---------------------------------------------------------------------------------------
// Legacy path (behavior == nil)
// ---------------------------------------------------------------------------------------

/// `stabilizeRecommendation` (horizontal.go): the max of `desired` and every stored
/// recommendation not older than the window; `desired` is then stored, reusing the slot of
/// the last expired entry if there is one.
pub fn stabilize_recommendation(
    recommendations: &mut Vec<TimestampedRecommendation>,
    prenormalized_desired: i32,
    now_ns: u64,
    downscale_stabilisation_window_ns: u64,
) -> i32 {
    let window = i128::from(downscale_stabilisation_window_ns);
    let mut max_recommendation = prenormalized_desired;
    let mut old_sample: Option<usize> = None;
    for (i, rec) in recommendations.iter().enumerate() {
        if before_cutoff(rec.timestamp_ns, now_ns, window) {
            old_sample = Some(i);
        } else if rec.recommendation > max_recommendation {
            max_recommendation = rec.recommendation;
        }
    }
    let new = TimestampedRecommendation { recommendation: prenormalized_desired, timestamp_ns: now_ns };
    match old_sample {
        Some(i) => recommendations[i] = new,
        None => recommendations.push(new),
    }
    max_recommendation
}

/// `calculateScaleUpLimit` (horizontal.go): `int32(max(2 * current, 4))`.
pub fn calculate_scale_up_limit(current_replicas: i32) -> i32 {
    (SCALE_UP_LIMIT_FACTOR * f64::from(current_replicas)).max(SCALE_UP_LIMIT_MINIMUM) as i32
}

/// `convertDesiredReplicasWithRules` (horizontal.go): clamp to
/// `[min, min(max, calculateScaleUpLimit(current))]`. Returns `(replicas, reason)`.
pub fn convert_desired_replicas_with_rules(
    current_replicas: i32,
    desired_replicas: i32,
    hpa_min_replicas: i32,
    hpa_max_replicas: i32,
) -> (i32, &'static str) {
    let minimum_allowed = hpa_min_replicas;
    // Do not scale up too much at once (bogus CPU reports, kubernetes#32304).
    let scale_up_limit = calculate_scale_up_limit(current_replicas);
    let (maximum_allowed, limiting) = if hpa_max_replicas > scale_up_limit {
        (scale_up_limit, "ScaleUpLimit")
    } else {
        (hpa_max_replicas, "TooManyReplicas")
    };
    if desired_replicas < minimum_allowed {
        (minimum_allowed, "TooFewReplicas")
    } else if desired_replicas > maximum_allowed {
        (maximum_allowed, limiting)
    } else {
        (desired_replicas, "DesiredWithinRange")
    }
}

/// `normalizeDesiredReplicas` (horizontal.go), the `behavior == nil` path.
pub fn normalize_desired_replicas(
    history: &mut HpaHistory,
    current_replicas: i32,
    prenormalized_desired: i32,
    min_replicas: i32,
    max_replicas: i32,
    now_ns: u64,
    downscale_stabilisation_window_ns: u64,
) -> Normalized {
    let stabilized = stabilize_recommendation(
        &mut history.recommendations,
        prenormalized_desired,
        now_ns,
        downscale_stabilisation_window_ns,
    );
    let able_to_scale_reason =
        if stabilized != prenormalized_desired { "ScaleDownStabilized" } else { "ReadyForNewScale" };
    let (replicas, limited_reason) =
        convert_desired_replicas_with_rules(current_replicas, stabilized, min_replicas, max_replicas);
    Normalized {
        replicas,
        stabilized,
        able_to_scale_reason,
        limited_reason,
        scaling_limited: replicas != stabilized,
    }
}

// ---------------------------------------------------------------------------------------
// Behaviour path
// ---------------------------------------------------------------------------------------

/// `NormalizationArg` (horizontal.go). The scale-down window must already be filled in
/// ([`Behavior::with_scale_down_window_initialized`]); an unset window counts as 0 here.
#[derive(Clone, Copy, Debug)]
pub struct NormalizationArg<'a> {
    pub scale_up: &'a ScalingRules,
    pub scale_down: &'a ScalingRules,
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub current_replicas: i32,
    pub desired_replicas: i32,
}

/// `stabilizeRecommendationWithBehaviors` (horizontal.go):
/// `upRec = min(desired, recs after now - upWindow)`,
/// `downRec = max(desired, recs after now - downWindow)`, result = `current` clamped to
/// `[upRec, downRec]`. `desired` is stored, reusing a slot expired for both windows.
/// Returns `(recommendation, reason)`.
pub fn stabilize_recommendation_with_behaviors(
    recommendations: &mut Vec<TimestampedRecommendation>,
    args: &NormalizationArg<'_>,
    now_ns: u64,
) -> (i32, &'static str) {
    let up_window = secs_to_ns(args.scale_up.stabilization_window_seconds.unwrap_or(0));
    let down_window = secs_to_ns(args.scale_down.stabilization_window_seconds.unwrap_or(0));
    let mut up_recommendation = args.desired_replicas;
    let mut down_recommendation = args.desired_replicas;
    let mut old_sample: Option<usize> = None;
    for (i, rec) in recommendations.iter().enumerate() {
        if after_cutoff(rec.timestamp_ns, now_ns, up_window) {
            up_recommendation = up_recommendation.min(rec.recommendation);
        }
        if after_cutoff(rec.timestamp_ns, now_ns, down_window) {
            down_recommendation = down_recommendation.max(rec.recommendation);
        }
        if before_cutoff(rec.timestamp_ns, now_ns, up_window)
            && before_cutoff(rec.timestamp_ns, now_ns, down_window)
        {
            old_sample = Some(i);
        }
    }
    // Bring the recommendation within the upper and lower limits.
    let mut recommendation = args.current_replicas;
    if recommendation < up_recommendation {
        recommendation = up_recommendation;
    }
    if recommendation > down_recommendation {
        recommendation = down_recommendation;
    }
    let new = TimestampedRecommendation { recommendation: args.desired_replicas, timestamp_ns: now_ns };
    match old_sample {
        Some(i) => recommendations[i] = new,
        None => recommendations.push(new),
    }
    let reason = if args.desired_replicas >= args.current_replicas {
        "ScaleUpStabilized"
    } else {
        "ScaleDownStabilized"
    };
    (recommendation, reason)
}

/// `getReplicasChangePerPeriod` (horizontal.go): Σ changes of events after `now - period`.
pub fn replicas_change_per_period(period_seconds: i32, events: &[ScaleEvent], now_ns: u64) -> i32 {
    let period = secs_to_ns(period_seconds);
    events
        .iter()
        .filter(|e| after_cutoff(e.timestamp_ns, now_ns, period))
        .fold(0i32, |acc, e| acc.wrapping_add(e.replica_change))
}

/// `periodStartReplicas = current - added + deleted` within the policy's period (horizontal.go).
fn period_start_replicas(
    current_replicas: i32,
    policy: &ScalingPolicy,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    now_ns: u64,
) -> i32 {
    let added = replicas_change_per_period(policy.period_seconds, up_events, now_ns);
    let deleted = replicas_change_per_period(policy.period_seconds, down_events, now_ns);
    current_replicas.wrapping_sub(added).wrapping_add(deleted)
}

/// `calculateScaleUpLimitWithScalingRules` (horizontal.go). Pods: `start + value`; Percent:
/// `int32(ceil(float64(start) * (1 + float64(value)/100)))`; Max takes the max over
/// policies, Min the min, Disabled returns `current`.
pub fn calculate_scale_up_limit_with_scaling_rules(
    current_replicas: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now_ns: u64,
) -> i32 {
    let (mut result, select): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => (i32::MAX, std::cmp::min),
        SelectPolicy::Max => (i32::MIN, std::cmp::max),
    };
    for policy in &rules.policies {
        let start = period_start_replicas(current_replicas, policy, up_events, down_events, now_ns);
        let proposed = match policy.kind {
            PolicyType::Pods => start.wrapping_add(policy.value),
            // Rounded up so that a small percentage still adds a replica.
            PolicyType::Percent => (f64::from(start) * (1.0 + f64::from(policy.value) / 100.0)).ceil() as i32,
        };
        result = select(result, proposed);
    }
    result
}

/// `calculateScaleDownLimitWithBehaviors` (horizontal.go). Pods: `start - value`; Percent:
/// `int32(float64(start) * (1 - float64(value)/100))` (truncation); Max takes the min over
/// policies, Min the max, Disabled returns `current`.
pub fn calculate_scale_down_limit_with_behaviors(
    current_replicas: i32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ScalingRules,
    now_ns: u64,
) -> i32 {
    let (mut result, select): (i32, fn(i32, i32) -> i32) = match rules.select_policy {
        SelectPolicy::Disabled => return current_replicas,
        SelectPolicy::Min => (i32::MIN, std::cmp::max),
        SelectPolicy::Max => (i32::MAX, std::cmp::min),
    };
    for policy in &rules.policies {
        let start = period_start_replicas(current_replicas, policy, up_events, down_events, now_ns);
        let proposed = match policy.kind {
            PolicyType::Pods => start.wrapping_sub(policy.value),
            PolicyType::Percent => (f64::from(start) * (1.0 - f64::from(policy.value) / 100.0)) as i32,
        };
        result = select(result, proposed);
    }
    result
}

/// `convertDesiredReplicasWithBehaviorRate` (horizontal.go). Returns `(replicas, reason)`.
pub fn convert_desired_replicas_with_behavior_rate(
    args: &NormalizationArg<'_>,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    now_ns: u64,
) -> (i32, &'static str) {
    if args.desired_replicas > args.current_replicas {
        let mut scale_up_limit = calculate_scale_up_limit_with_scaling_rules(
            args.current_replicas,
            up_events,
            down_events,
            args.scale_up,
            now_ns,
        );
        if scale_up_limit < args.current_replicas {
            // No further scale-up until the scale-up events expire.
            scale_up_limit = args.current_replicas;
        }
        let (maximum_allowed, reason) = if args.max_replicas > scale_up_limit {
            (scale_up_limit, "ScaleUpLimit")
        } else {
            (args.max_replicas, "TooManyReplicas")
        };
        if args.desired_replicas > maximum_allowed {
            return (maximum_allowed, reason);
        }
    } else if args.desired_replicas < args.current_replicas {
        let mut scale_down_limit = calculate_scale_down_limit_with_behaviors(
            args.current_replicas,
            up_events,
            down_events,
            args.scale_down,
            now_ns,
        );
        if scale_down_limit > args.current_replicas {
            // No further scale-down until the scale-down events expire.
            scale_down_limit = args.current_replicas;
        }
        let (minimum_allowed, reason) = if args.min_replicas < scale_down_limit {
            (scale_down_limit, "ScaleDownLimit")
        } else {
            (args.min_replicas, "TooFewReplicas")
        };
        if args.desired_replicas < minimum_allowed {
            return (minimum_allowed, reason);
        }
    }
    (args.desired_replicas, "DesiredWithinRange")
}

/// `normalizeDesiredReplicasWithBehaviors` (horizontal.go), the `behavior != nil` path.
/// `behavior` gets its unset scale-down window from `downscale_stabilisation_window_ns`.
#[allow(clippy::too_many_arguments)]
pub fn normalize_desired_replicas_with_behaviors(
    history: &mut HpaHistory,
    behavior: &Behavior,
    current_replicas: i32,
    prenormalized_desired: i32,
    min_replicas: i32,
    max_replicas: i32,
    now_ns: u64,
    downscale_stabilisation_window_ns: u64,
) -> Normalized {
    let behavior = behavior.with_scale_down_window_initialized(downscale_stabilisation_window_ns);
    let mut args = NormalizationArg {
        scale_up: &behavior.scale_up,
        scale_down: &behavior.scale_down,
        min_replicas,
        max_replicas,
        current_replicas,
        desired_replicas: prenormalized_desired,
    };
    let (stabilized, stab_reason) =
        stabilize_recommendation_with_behaviors(&mut history.recommendations, &args, now_ns);
    args.desired_replicas = stabilized;
    let able_to_scale_reason =
        if stabilized != prenormalized_desired { stab_reason } else { "ReadyForNewScale" };
    let (replicas, limited_reason) = convert_desired_replicas_with_behavior_rate(
        &args,
        &history.scale_up_events,
        &history.scale_down_events,
        now_ns,
    );
    Normalized {
        replicas,
        stabilized,
        able_to_scale_reason,
        limited_reason,
        scaling_limited: replicas != stabilized,
    }
}

/// `markScaleEventsOutdated` (horizontal.go).
fn mark_scale_events_outdated(events: &mut [ScaleEvent], longest_policy_period: i32, now_ns: u64) {
    let period = secs_to_ns(longest_policy_period);
    for e in events.iter_mut() {
        if before_cutoff(e.timestamp_ns, now_ns, period) {
            e.outdated = true;
        }
    }
}

/// `storeScaleEvent` (horizontal.go): after a rescale from `prev` to `new`, remember the
/// change in the list of its direction, reusing an outdated slot. No-op without behaviour
/// (pass `None`) or without a change.
pub fn store_scale_event(
    history: &mut HpaHistory,
    behavior: Option<&Behavior>,
    prev_replicas: i32,
    new_replicas: i32,
    now_ns: u64,
) {
    let Some(behavior) = behavior else {
        return;
    };
    if new_replicas == prev_replicas {
        // Upstream only calls storeScaleEvent on a rescale.
        return;
    }
    let (events, rules, change) = if new_replicas > prev_replicas {
        (&mut history.scale_up_events, &behavior.scale_up, new_replicas - prev_replicas)
    } else {
        (&mut history.scale_down_events, &behavior.scale_down, prev_replicas - new_replicas)
    };
    mark_scale_events_outdated(events, rules.longest_policy_period(), now_ns);
    let new = ScaleEvent { replica_change: change, timestamp_ns: now_ns, outdated: false };
    match events.iter().rposition(|e| e.outdated) {
        Some(i) => events[i] = new,
        None => events.push(new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = NANOS_PER_SEC;
    /// A "now" far enough from the epoch for every test offset.
    const NOW: u64 = 100_000 * S;

    /// `generateScalingRules(pods, podsPeriod, percent, percentPeriod, window)` from
    /// horizontal_test.go (select Max; a zero value leaves that policy out).
    fn rules(pods: i32, pods_period: i32, percent: i32, percent_period: i32, window: i32) -> ScalingRules {
        let mut policies = Vec::new();
        if pods != 0 {
            policies.push(ScalingPolicy { kind: PolicyType::Pods, value: pods, period_seconds: pods_period });
        }
        if percent != 0 {
            policies.push(ScalingPolicy {
                kind: PolicyType::Percent,
                value: percent,
                period_seconds: percent_period,
            });
        }
        ScalingRules {
            stabilization_window_seconds: Some(window),
            select_policy: SelectPolicy::Max,
            policies,
            tolerance: None,
        }
    }

    /// `generateEventsUniformDistribution` (horizontal_test.go): events spread over the period,
    /// the i-th at `now - (period - seg*i - seg/2)` with `seg = period / n`.
    fn uniform_events(raw: &[i32], period_seconds: i32) -> Vec<ScaleEvent> {
        let seg = f64::from(period_seconds) / raw.len() as f64;
        raw.iter()
            .enumerate()
            .map(|(i, &change)| {
                // Go: time.Duration(float64 seconds) truncates, then * time.Second.
                let back = (f64::from(period_seconds) - seg * i as f64 - seg / 2.0) as u64;
                ScaleEvent { replica_change: change, timestamp_ns: NOW - back * S, outdated: false }
            })
            .collect()
    }

    struct Row {
        name: &'static str,
        current: i32,
        desired: i32,
        min: i32,
        max: i32,
        up: Option<ScalingRules>,
        down: Option<ScalingRules>,
        up_events: Vec<ScaleEvent>,
        expected: i32,
        reason: &'static str,
    }

    fn row(name: &'static str, current: i32, desired: i32, min: i32, max: i32) -> Row {
        Row {
            name,
            current,
            desired,
            min,
            max,
            up: None,
            down: None,
            up_events: vec![],
            expected: 0,
            reason: "",
        }
    }

    impl Row {
        fn up(mut self, r: ScalingRules) -> Self {
            self.up = Some(r);
            self
        }
        fn down(mut self, r: ScalingRules) -> Self {
            self.down = Some(r);
            self
        }
        fn expect(mut self, expected: i32, reason: &'static str) -> Self {
            self.expected = expected;
            self.reason = reason;
            self
        }
    }

    /// §1.7 / `TestScalingWithRules`: `convertDesiredReplicasWithBehaviorRate` directly.
    #[test]
    fn scaling_with_rules_rows() {
        let mut with_events = row("up with past events 1,5,9 in 120 s", 100, 500, 1, 1000)
            .up(rules(150, 120, 0, 0, 0))
            .expect(235, "ScaleUpLimit");
        with_events.up_events = uniform_events(&[1, 5, 9], 120);
        let rows = vec![
            row("within range", 5, 7, 3, 8).expect(7, "DesiredWithinRange"),
            row("below min", 3, 1, 2, 8).expect(2, "TooFewReplicas"),
            row("min 0", 1, 0, 0, 10).expect(0, "DesiredWithinRange"),
            row("max < limit", 20, 1000, 1, 10).expect(10, "TooManyReplicas"),
            row("up: 1 % per 60 s", 3, 1000, 1, 2000).up(rules(0, 0, 1, 60, 0)).expect(4, "ScaleUpLimit"),
            row("down: 20 pods per 60 s", 1000, 3, 3, 2000)
                .down(rules(20, 60, 0, 0, 0))
                .expect(980, "ScaleDownLimit"),
            row("default scale-up", 10, 50, 1, 1000).expect(20, "ScaleUpLimit"),
            row("up: pods 100 vs 100 %", 10, 500, 1, 1000)
                .up(rules(100, 60, 100, 60, 0))
                .expect(110, "ScaleUpLimit"),
            row("up: pods 2 vs 100 %", 10, 500, 1, 1000)
                .up(rules(2, 60, 100, 60, 0))
                .expect(20, "ScaleUpLimit"),
            row("down: 20 pods vs 1 %", 100, 2, 1, 1000)
                .down(rules(20, 60, 1, 60, 300))
                .expect(80, "ScaleDownLimit"),
            row("down: 2 pods vs 1 %", 100, 2, 1, 1000)
                .down(rules(2, 60, 1, 60, 300))
                .expect(98, "ScaleDownLimit"),
            with_events,
        ];
        assert_eq!(rows.len(), 12);
        for r in &rows {
            let up = r.up.clone().unwrap_or_else(ScalingRules::default_scale_up);
            let down = r.down.clone().unwrap_or_else(ScalingRules::default_scale_down);
            let args = NormalizationArg {
                scale_up: &up,
                scale_down: &down,
                min_replicas: r.min,
                max_replicas: r.max,
                current_replicas: r.current,
                desired_replicas: r.desired,
            };
            let got = convert_desired_replicas_with_behavior_rate(&args, &r.up_events, &[], NOW);
            assert_eq!(got, (r.expected, r.reason), "{}", r.name);
        }
    }

    /// `TestConvertDesiredReplicasWithRules` (legacy path).
    #[test]
    fn convert_desired_replicas_with_rules_rows() {
        #[rustfmt::skip]
        let rows = [
            (5, 7, 3, 8, 7, "DesiredWithinRange"),
            (3, 1, 2, 8, 2, "TooFewReplicas"),
            (1, 0, 0, 10, 0, "DesiredWithinRange"),
            (20, 1000, 1, 10, 10, "TooManyReplicas"),
            (3, 1000, 1, 2000, calculate_scale_up_limit(3), "ScaleUpLimit"),
        ];
        assert_eq!(calculate_scale_up_limit(3), 6);
        assert_eq!(calculate_scale_up_limit(1), 4);
        for (cur, desired, min, max, expected, reason) in rows {
            assert_eq!(convert_desired_replicas_with_rules(cur, desired, min, max), (expected, reason));
        }
    }

    fn rec(recommendation: i32, ago_s: u64) -> TimestampedRecommendation {
        TimestampedRecommendation { recommendation, timestamp_ns: NOW - ago_s * S }
    }

    /// `TestNormalizeDesiredReplicas`: 5 min window; (history, raw, expected, log length).
    #[test]
    fn legacy_stabilization_rows() {
        let rows: Vec<(&str, Vec<TimestampedRecommendation>, i32, i32, usize)> = vec![
            ("empty log", vec![], 5, 5, 1),
            ("stabilize", vec![rec(4, 120), rec(5, 60)], 3, 5, 3),
            ("no stabilize", vec![rec(1, 120), rec(2, 60)], 3, 3, 3),
            ("no stabilize - old recommendations", vec![rec(10, 600), rec(9, 540)], 3, 3, 2),
            (
                "stabilize - old recommendations",
                vec![rec(10, 600), rec(4, 60), rec(5, 120), rec(9, 540)],
                3,
                5,
                4,
            ),
        ];
        for (name, mut recs, raw, expected, log_len) in rows {
            let got = stabilize_recommendation(&mut recs, raw, NOW, 300 * S);
            assert_eq!(got, expected, "{name}");
            assert_eq!(recs.len(), log_len, "{name}");
            assert!(recs.iter().any(|r| r.recommendation == raw && r.timestamp_ns == NOW), "{name}");
        }
    }

    #[test]
    fn legacy_normalize_end_to_end() {
        let mut h = HpaHistory::default();
        h.record_initial_recommendation(10, NOW - 60 * S);
        // Raw 3 is held at 10 by the 5 min window.
        let n = normalize_desired_replicas(&mut h, 10, 3, 1, 20, NOW, 300 * S);
        assert_eq!(
            (n.replicas, n.able_to_scale_reason, n.limited_reason, n.scaling_limited),
            (10, "ScaleDownStabilized", "DesiredWithinRange", false)
        );
        // Six minutes later the old entries expired.
        let n = normalize_desired_replicas(&mut h, 10, 3, 1, 20, NOW + 360 * S, 300 * S);
        assert_eq!((n.replicas, n.able_to_scale_reason), (3, "ReadyForNewScale"));
        // Scale-up limit max(2 * 3, 4) = 6.
        let n = normalize_desired_replicas(&mut h, 3, 50, 1, 20, NOW + 361 * S, 300 * S);
        assert_eq!((n.replicas, n.limited_reason, n.scaling_limited), (6, "ScaleUpLimit", true));
    }

    #[test]
    fn behavior_stabilization_two_windows() {
        let up = rules(4, 15, 100, 15, 60);
        let down = rules(0, 0, 100, 15, 300);
        let args = |current, desired| NormalizationArg {
            scale_up: &up,
            scale_down: &down,
            min_replicas: 1,
            max_replicas: 100,
            current_replicas: current,
            desired_replicas: desired,
        };
        // Down window: max over the last 300 s (8 at -200 s) holds a scale-down at 8.
        let mut recs = vec![rec(8, 200), rec(4, 30)];
        assert_eq!(
            stabilize_recommendation_with_behaviors(&mut recs, &args(10, 3), NOW),
            (8, "ScaleDownStabilized")
        );
        assert_eq!(recs.len(), 3);
        // Up window: min over the last 60 s (4 at -30 s) holds a scale-up at current (5 > 4).
        let mut recs = vec![rec(4, 30)];
        assert_eq!(
            stabilize_recommendation_with_behaviors(&mut recs, &args(5, 9), NOW),
            (5, "ScaleUpStabilized")
        );
        // Entries older than both windows are replaced (last one).
        let mut recs = vec![rec(50, 1000), rec(40, 900)];
        assert_eq!(
            stabilize_recommendation_with_behaviors(&mut recs, &args(5, 9), NOW),
            (9, "ScaleUpStabilized")
        );
        assert_eq!(recs, vec![rec(50, 1000), rec(9, 0)]);
    }

    #[test]
    fn behavior_normalize_and_events() {
        let behavior = Behavior::upstream_default();
        assert_eq!(behavior.scale_down.stabilization_window_seconds, None);
        assert_eq!(
            behavior.with_scale_down_window_initialized(300 * S).scale_down.stabilization_window_seconds,
            Some(300)
        );
        let mut h = HpaHistory::default();
        h.record_initial_recommendation(2, NOW);
        // Default up: max(2 + 4, ceil(2 * 2)) = 6 in one 15 s period.
        let n = normalize_desired_replicas_with_behaviors(&mut h, &behavior, 2, 40, 1, 100, NOW, 300 * S);
        assert_eq!((n.replicas, n.limited_reason), (6, "ScaleUpLimit"));
        store_scale_event(&mut h, Some(&behavior), 2, 6, NOW);
        // 5 s later the period start is 6 - 4 = 2: the limit stays 6.
        let n =
            normalize_desired_replicas_with_behaviors(&mut h, &behavior, 6, 40, 1, 100, NOW + 5 * S, 300 * S);
        assert_eq!((n.replicas, n.limited_reason, n.scaling_limited), (6, "ScaleUpLimit", true));
        // 20 s later the event is out of the period: max(6 + 4, 12) = 12.
        let n = normalize_desired_replicas_with_behaviors(
            &mut h,
            &behavior,
            6,
            40,
            1,
            100,
            NOW + 20 * S,
            300 * S,
        );
        assert_eq!(n.replicas, 12);
        store_scale_event(&mut h, Some(&behavior), 6, 12, NOW + 20 * S);
        // The first event (older than 15 s) was marked outdated and its slot reused.
        assert_eq!(h.scale_up_events.len(), 1);
        assert_eq!(h.scale_up_events[0].replica_change, 6);
        // Scale-down of 12 to 1 is held by the 300 s window (max of recent recommendations).
        let n = normalize_desired_replicas_with_behaviors(
            &mut h,
            &behavior,
            12,
            1,
            1,
            100,
            NOW + 30 * S,
            300 * S,
        );
        assert_eq!((n.replicas, n.able_to_scale_reason), (12, "ScaleDownStabilized"));
        // No events stored without behaviour.
        let before = h.clone();
        store_scale_event(&mut h, None, 12, 1, NOW + 40 * S);
        assert_eq!(h, before);
    }

    #[test]
    fn select_policies() {
        let mut r = rules(4, 15, 100, 15, 0);
        assert_eq!(calculate_scale_up_limit_with_scaling_rules(10, &[], &[], &r, NOW), 20);
        r.select_policy = SelectPolicy::Min;
        assert_eq!(calculate_scale_up_limit_with_scaling_rules(10, &[], &[], &r, NOW), 14);
        assert_eq!(calculate_scale_down_limit_with_behaviors(10, &[], &[], &r, NOW), 6);
        r.select_policy = SelectPolicy::Max;
        assert_eq!(calculate_scale_down_limit_with_behaviors(10, &[], &[], &r, NOW), 0);
        r.select_policy = SelectPolicy::Disabled;
        assert_eq!(calculate_scale_up_limit_with_scaling_rules(10, &[], &[], &r, NOW), 10);
        assert_eq!(calculate_scale_down_limit_with_behaviors(10, &[], &[], &r, NOW), 10);
        // Scale-down events inside the period raise the period start for a scale-up.
        let down = [ScaleEvent { replica_change: 3, timestamp_ns: NOW - 5 * S, outdated: false }];
        r.select_policy = SelectPolicy::Max;
        assert_eq!(calculate_scale_up_limit_with_scaling_rules(10, &[], &down, &r, NOW), 26);
    }
}
