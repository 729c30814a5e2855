//! Machine noise on the scheduler's cost (`scheduler.cost.noise`): the same scheduler runs
//! faster or slower from one second to the next on a real machine (garbage collection,
//! neighbours on a shared CI host, frequency scaling). A benchmark's per-second throughput
//! samples scatter, and so does the average of a short run more than that of a long one.
//!
//! The model: time is cut into periods of `period`; in period `k` every scheduling cycle
//! costs `factor(k)` times its modelled cost, with `factor(k) = exp(sigma × Z(k))`, `Z(k)`
//! standard normal and independent between periods (a lognormal factor with median 1).
//! `Z(k)` is a pure function of (run seed, k): period `k` draws it from its own random
//! stream (`engine::rng::stream` of the run's noise key and `k`) with `rand_distr`'s
//! `StandardNormal`. So a period's factor does not depend on how many cycles ran before it,
//! and a run's noise changes only with its seed.
//!
//! Kubernetes has no such parameter. It is there to compare with benchmark figures that are
//! statistics over many noisy runs: the scheduler_perf thresholds are the minimum average
//! over the last 250 CI runs (`kubernetes/kubernetes` PR #136276, "The thresholds are
//! computed from the minimum average value for a given test from the last 250 runs"); see
//! the README, "kube-scheduler throughput".

use crate::engine::rng::{stream, stream_seed};
use crate::engine::{SimDuration, SimTime, StreamId};
use rand_distr::{Distribution, StandardNormal};

/// The noise of one run.
#[derive(Clone, Debug)]
pub struct CostNoise {
    sigma: f64,
    period: u64,
    key: u64,
    /// The last period looked up and its factor.
    cached: Option<(u64, f64)>,
}

impl CostNoise {
    /// Noise with shape `sigma` (≥ 0) over periods of `period` (> 0), keyed by the run's
    /// `seed` and the scheduler-noise `stream`.
    pub fn new(sigma: f64, period: SimDuration, seed: u64, stream: StreamId) -> Self {
        let s = stream_seed(seed, stream);
        let mut key = [0u8; 8];
        key.copy_from_slice(&s[..8]);
        CostNoise { sigma, period: period.0.max(1), key: u64::from_le_bytes(key), cached: None }
    }

    /// The factor of the period that contains `now`.
    pub fn factor_at(&mut self, now: SimTime) -> f64 {
        let k = now.0 / self.period;
        if let Some((c, f)) = self.cached
            && c == k
        {
            return f;
        }
        let f = (self.sigma * standard_normal(self.key, k)).exp();
        self.cached = Some((k, f));
        f
    }

    /// `cost` scaled by the factor of the period that contains `now`, rounded to the
    /// nanosecond.
    pub fn scale(&mut self, cost: SimDuration, now: SimTime) -> SimDuration {
        let f = self.factor_at(now);
        let scaled = (cost.0 as f64 * f).round();
        SimDuration(if scaled >= u64::MAX as f64 { u64::MAX } else { scaled as u64 })
    }
}

/// `Z(k)` for a key: one standard normal draw from period `k`'s own stream.
fn standard_normal(key: u64, k: u64) -> f64 {
    StandardNormal.sample(&mut stream(key, StreamId(k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(sigma: f64, seed: u64) -> CostNoise {
        CostNoise::new(sigma, SimDuration::from_secs(1), seed, StreamId(8))
    }

    #[test]
    fn normals_have_mean_zero_and_unit_variance() {
        let n = 200_000u64;
        let (mut s, mut s2) = (0.0, 0.0);
        for k in 0..n {
            let z = standard_normal(12345, k);
            s += z;
            s2 += z * z;
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        // Standard errors: 1/√n = 0.0022 for the mean, √(2/n) = 0.0032 for the variance.
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.015, "variance {var}");
        // About 2.28 % of a standard normal lies above 2.
        let above = (0..n).filter(|&k| standard_normal(777, k) > 2.0).count() as f64 / n as f64;
        assert!((above - 0.02275).abs() < 0.002, "{above}");
    }

    #[test]
    fn a_period_has_one_factor_whatever_the_order_of_lookups() {
        let mut a = noise(0.3, 1);
        let mut b = noise(0.3, 1);
        let t = |s: f64| SimTime((s * 1e9) as u64);
        let forward: Vec<f64> = [0.1, 0.9, 1.5, 7.2].iter().map(|&s| a.factor_at(t(s))).collect();
        let backward: Vec<f64> = [7.9, 1.0, 0.0].iter().map(|&s| b.factor_at(t(s))).collect();
        assert_eq!(forward[0], forward[1], "same period, same factor");
        assert_eq!(forward[0], backward[2]);
        assert_eq!(forward[2], backward[1]);
        assert_eq!(forward[3], backward[0]);
        assert_ne!(forward[0], forward[2]);
        // Another seed, other factors.
        assert_ne!(noise(0.3, 2).factor_at(t(0.1)), forward[0]);
    }

    #[test]
    fn sigma_zero_changes_nothing_and_scaling_rounds() {
        let mut z = noise(0.0, 9);
        for s in 0..100 {
            let d = SimDuration(1_234_567 + s);
            assert_eq!(z.scale(d, SimTime(s * 1_000_000_000)), d);
        }
        let mut n = noise(0.5, 9);
        let f = n.factor_at(SimTime(0));
        assert_eq!(n.scale(SimDuration(1_000_000), SimTime(0)).0, (1e6 * f).round() as u64);
        // Median 1: about half the periods are slower than the model.
        let slow = (0..10_000u64).filter(|&k| n.factor_at(SimTime(k * 1_000_000_000)) > 1.0).count();
        assert!((4_800..=5_200).contains(&slow), "{slow}");
    }
}
