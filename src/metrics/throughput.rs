//! The kube-scheduler benchmark's throughput measurement, after
//! `kubernetes/kubernetes:test/integration/scheduler_perf/util.go` (`throughputCollector`)
//! and `scheduler_perf.go` (`waitUntilPodsScheduledInNamespace`), as a pure function of the
//! measured pods' binding times.
//!
//! Upstream, a `createPods` op with `collectMetrics: true` starts the collector, creates its
//! pods in a namespace of its own and polls every second until all of them are scheduled;
//! then it stops the collector. The collector ticks every `throughputSampleInterval` (1 s)
//! and counts the op's pods that have a node:
//! - ticks that see no scheduled pod yet are ignored;
//! - the first tick that sees one only starts the measurement (its sample is skipped, "likely
//!   to be an outlier");
//! - a tick that sees no new pod records nothing, and the next one that does records its
//!   rate over the whole span once per interval spanned;
//! - the reported `SchedulingThroughput` `Average` is the plain mean of those samples, and
//!   `Perc50`/`Perc90`/`Perc99` index the sorted samples at ⌈len × p / 100⌉ − 1.
//!
//! Here the collector and the test's poll both tick at `start + k × interval` (the op's
//! start, when its first pod is created), and the tick at the instant the poll finds every
//! pod scheduled is taken before the collector is stopped. So the last sample covers the
//! tail of the run: the pods bound since the previous tick, over a whole interval.

/// What the collector reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Throughput {
    /// The recorded samples, pods/s, sorted ascending (as upstream sorts them).
    pub samples: Vec<f64>,
    /// Mean of the samples (upstream `Average`); `None` without samples.
    pub average: Option<f64>,
    /// When the collector stopped, ns.
    pub stop: u64,
}

impl Throughput {
    /// Upstream's percentile of the sorted samples: index ⌈len × p / 100⌉ − 1.
    pub fn percentile(&self, p: usize) -> Option<f64> {
        let n = self.samples.len();
        if n == 0 {
            return None;
        }
        let idx = (n * p).div_ceil(100).saturating_sub(1).min(n - 1);
        Some(self.samples[idx])
    }
}

/// Runs the collector over the measured pods' binding times (`bound`, ns, ascending) of an
/// op that started at `start` and wants `want` pods scheduled; `end` is the end of the run
/// (the collector stops there if the op has not finished).
pub fn collect(start: u64, end: u64, interval: u64, want: usize, bound: &[u64]) -> Throughput {
    let interval = interval.max(1);
    // The test's poll: the first tick at or after the binding of the last wanted pod.
    let stop = match want.checked_sub(1).and_then(|i| bound.get(i)) {
        Some(&last) if last >= start => {
            let k = (last - start).div_ceil(interval);
            start.saturating_add(k.saturating_mul(interval)).min(end)
        }
        Some(_) => start,
        None => end,
    };
    let mut samples = Vec::new();
    let mut started = false;
    let mut last_count = 0usize;
    let mut last_time = start;
    let mut skipped = 0u64;
    let mut k = 1u64;
    loop {
        let tick = start.saturating_add(k.saturating_mul(interval));
        if tick > stop || tick == u64::MAX {
            break;
        }
        k += 1;
        let scheduled = bound.partition_point(|&b| b <= tick);
        if scheduled == 0 {
            continue;
        }
        if !started {
            started = true;
            last_count = scheduled;
            last_time = tick;
            continue;
        }
        let new = scheduled - last_count;
        if new == 0 {
            skipped += 1;
            continue;
        }
        let secs = (tick - last_time) as f64 / 1e9;
        let rate = new as f64 / secs;
        for _ in 0..=skipped {
            samples.push(rate);
        }
        last_count = scheduled;
        last_time = tick;
        skipped = 0;
    }
    samples.sort_by(f64::total_cmp);
    let average = (!samples.is_empty()).then(|| samples.iter().sum::<f64>() / samples.len() as f64);
    Throughput { samples, average, stop }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    /// `n` pods bound at a constant `rate` from `start`.
    fn steady(start: u64, n: u64, rate: u64) -> Vec<u64> {
        (1..=n).map(|i| start + i * S / rate).collect()
    }

    #[test]
    fn the_first_sample_is_skipped_and_the_tail_is_a_partial_second() {
        // 1,000 pods at 400 pods/s from t = 0: bound by 2.5 s. Ticks at 1 s (skipped: the
        // first that sees pods), 2 s (400/s) and 3 s (the last 200 pods: 200/s).
        let t = collect(0, 100 * S, S, 1000, &steady(0, 1000, 400));
        assert_eq!(t.samples, vec![200.0, 400.0]);
        assert_eq!(t.average, Some(300.0));
        assert_eq!(t.stop, 3 * S);
        assert_eq!(t.percentile(50), Some(200.0));
        assert_eq!(t.percentile(99), Some(400.0));
    }

    #[test]
    fn a_run_that_ends_on_a_tick_has_no_partial_sample() {
        let t = collect(0, 100 * S, S, 1200, &steady(0, 1200, 400));
        assert_eq!(t.samples, vec![400.0, 400.0]);
        assert_eq!(t.stop, 3 * S);
    }

    #[test]
    fn empty_intervals_are_merged_into_the_next_sample() {
        // Pods bound at 0.5 s (start), 1.5 s, then nothing until 3.5 s: ticks 1 (skip),
        // 2 (1 pod/s), 3 (nothing: skipped), 4 (1 pod over 2 s, recorded twice).
        let bound = [S / 2, 3 * S / 2, 7 * S / 2];
        let t = collect(0, 100 * S, S, 3, &bound);
        assert_eq!(t.samples, vec![0.5, 0.5, 1.0]);
    }

    #[test]
    fn pods_bound_before_the_first_tick_start_the_measurement_only() {
        // Everything bound within the first second: no sample at all (upstream warns).
        let t = collect(10 * S, 100 * S, S, 100, &steady(10 * S, 100, 1000));
        assert!(t.samples.is_empty());
        assert_eq!(t.average, None);
        assert_eq!(t.percentile(50), None);
    }

    #[test]
    fn an_unfinished_op_is_measured_until_the_end_of_the_run() {
        let t = collect(0, 5 * S, S, 10_000, &steady(0, 2000, 400));
        assert_eq!(t.stop, 5 * S);
        assert_eq!(t.samples, vec![400.0; 4]);
    }

    #[test]
    fn a_longer_run_dilutes_the_partial_last_sample() {
        let short = collect(0, 1000 * S, S, 10_000, &steady(0, 10_000, 800)).average.unwrap_or(0.0);
        let long = collect(0, 1000 * S, S, 50_000, &steady(0, 50_000, 800)).average.unwrap_or(0.0);
        // 12.5 s: 11 full samples and one of 400; 62.5 s: 61 and one of 400.
        assert!((short - 9200.0 / 12.0).abs() < 1e-9, "{short}");
        assert!((long - 49_200.0 / 62.0).abs() < 1e-9, "{long}");
    }
}
