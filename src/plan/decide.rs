//! The decision rule of `clustersim plan`: whether a configuration meets a requirement
//! under one variant, from the replications run so far, and when to run more.
//!
//! **`mean-bound`** (the default). With n replications of the metric, mean m and sample
//! standard deviation s, the one-sided bounds of the mean at confidence c are
//! `m ± t(c; n − 1) · s / √n` (Student's t quantile, from `statrs`). A requirement
//! `x < T` (or `<=`) is **met** when the upper bound is below T, **missed** when the lower
//! bound is not (the mean is confidently on the wrong side), and otherwise **undecided**;
//! `x > T` (`>=`) the other way round. An undecided requirement gets more replications
//! (sequentially, `step` at a time) up to `max`; still undecided at `max`, it counts as
//! missed: a plan is recommended only when the bound is on the right side. Each bound is
//! taken on its own: with k requirements under v variants the chance that all hold at
//! once is at least 1 − k·v·(1 − c) (Bonferroni), and looking again after each added
//! replication makes each bound somewhat optimistic; raise `confidence` for a stricter plan.
//!
//! **`every-replication`**: a requirement is met when it holds in each of `max`
//! replications, and missed as soon as one replication misses it (so a failing
//! configuration stops early).
//!
//! Under both rules an empty cell (a metric with no value in a run, such as a percentile
//! of no requests) misses the requirement, as it fails a `--check`.

use crate::sweep::check::{Comparison, Op};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Which rule decides a requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    MeanBound,
    EveryReplication,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::MeanBound => "mean-bound",
            Rule::EveryReplication => "every-replication",
        }
    }

    /// The rule in words, for plan.json and the report.
    pub fn describe(self, confidence: f64, reps: Replications) -> String {
        match self {
            Rule::MeanBound => format!(
                "mean-bound: a configuration meets a requirement `x < T` (`x > T`) under a variant when the \
                 one-sided {:.1} % upper (lower) confidence bound of the mean of x over its replications, mean \
                 ± t({confidence}; n−1)·sd/√n, is below (above) T; {} replications first, then {} more at a \
                 time while a bound straddles T, up to {}; undecided at {} counts as missed. It must meet every \
                 requirement under every variant. Alternative: every-replication (each of {} replications \
                 meets it).",
                confidence * 100.0,
                reps.min,
                reps.step,
                reps.max,
                reps.max,
                reps.max
            ),
            Rule::EveryReplication => format!(
                "every-replication: a configuration meets a requirement under a variant when each of {} \
                 replications meets it ({} first, then {} more at a time; one miss decides); it must meet \
                 every requirement under every variant. Alternative: mean-bound (the one-sided confidence \
                 bound of the mean meets it).",
                reps.max, reps.min, reps.step
            ),
        }
    }
}

/// How many replications a configuration gets under each variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Replications {
    pub min: u32,
    pub max: u32,
    pub step: u32,
}

impl Replications {
    /// The replications to have after the next round, from `n` now.
    pub fn next(self, n: u32) -> u32 {
        if n == 0 { self.min } else { n.saturating_add(self.step).min(self.max) }
    }
}

/// The decision on one requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Pass,
    Fail,
    Undecided,
}

impl Decision {
    pub fn name(self) -> &'static str {
        match self {
            Decision::Pass => "pass",
            Decision::Fail => "fail",
            Decision::Undecided => "undecided",
        }
    }
}

/// Sample statistics with the one-sided bounds of the mean at the plan's confidence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1); `None` for n < 2.
    pub sd: Option<f64>,
    /// mean − t·sd/√n and mean + t·sd/√n; `None` for n < 2.
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// The one-sided quantile t(confidence; df) of Student's t.
pub fn t_quantile(confidence: f64, df: u64) -> f64 {
    match StudentsT::new(0.0, 1.0, df as f64) {
        Ok(t) => t.inverse_cdf(confidence),
        Err(_) => f64::NAN,
    }
}

/// Statistics of `xs` (summed in order); `None` when empty.
pub fn bounds(xs: &[f64], confidence: f64) -> Option<Bounds> {
    let s = crate::sweep::stats::stats(xs)?;
    let half = s.sd.map(|sd| t_quantile(confidence, s.n as u64 - 1) * sd / (s.n as f64).sqrt());
    Some(Bounds {
        n: s.n,
        mean: s.mean,
        sd: s.sd,
        lower: half.map(|h| s.mean - h),
        upper: half.map(|h| s.mean + h),
    })
}

/// Whether `op` asks for small values (`<`, `<=`).
fn wants_low(op: Op) -> bool {
    matches!(op, Op::Lt | Op::Le)
}

/// The value the rule compares with the threshold: the bound on the side that must hold
/// (mean-bound), or the worst replication (every-replication); `None` when unknown.
pub fn statistic(rule: Rule, cmp: &Comparison, values: &[Option<f64>], b: Option<&Bounds>) -> Option<f64> {
    match rule {
        Rule::MeanBound => {
            let b = b?;
            if wants_low(cmp.op) { b.upper } else { b.lower }
        }
        Rule::EveryReplication => {
            let xs: Option<Vec<f64>> = values.iter().copied().collect();
            let xs = xs.filter(|x| !x.is_empty())?;
            let worst = if wants_low(cmp.op) {
                xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            } else {
                xs.iter().copied().fold(f64::INFINITY, f64::min)
            };
            Some(worst)
        }
    }
}

/// How far the statistic is on the right side of the threshold, relative to it (negative:
/// the wrong side); the binding requirement of a plan is the one with the least slack.
pub fn slack(cmp: &Comparison, stat: f64) -> f64 {
    let scale = cmp.threshold.abs().max(1e-12);
    if wants_low(cmp.op) { (cmp.threshold - stat) / scale } else { (stat - cmp.threshold) / scale }
}

/// Decides `cmp` from the replications' values (`None`: an empty cell). `at_cap`: no more
/// replications will be run.
pub fn decide(
    rule: Rule,
    cmp: &Comparison,
    values: &[Option<f64>],
    confidence: f64,
    at_cap: bool,
) -> Decision {
    if values.iter().any(Option::is_none) {
        return Decision::Fail;
    }
    let xs: Vec<f64> = values.iter().flatten().copied().collect();
    let holds = |v: f64| cmp.op.holds(v, cmp.threshold);
    let undecided = if at_cap { Decision::Fail } else { Decision::Undecided };
    match rule {
        Rule::EveryReplication => {
            if xs.iter().any(|&x| !holds(x)) {
                Decision::Fail
            } else if at_cap {
                Decision::Pass
            } else {
                Decision::Undecided
            }
        }
        Rule::MeanBound => {
            let Some(b) = bounds(&xs, confidence) else { return undecided };
            let (Some(lo), Some(hi)) = (b.lower, b.upper) else { return undecided };
            let (near, far) = if wants_low(cmp.op) { (hi, lo) } else { (lo, hi) };
            if holds(near) {
                Decision::Pass
            } else if !holds(far) {
                Decision::Fail
            } else {
                undecided
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(text: &str) -> Comparison {
        crate::sweep::check::parse(text).expect("parses").all.remove(0)
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        // One-sided 95 %: t(0.95; 2) = 2.919986, t(0.95; 9) = 1.833113; 97.5 % as sweep's table.
        assert!((t_quantile(0.95, 2) - 2.919986).abs() < 1e-5);
        assert!((t_quantile(0.95, 9) - 1.833113).abs() < 1e-5);
        for df in [1, 4, 30, 100] {
            assert!((t_quantile(0.975, df) - crate::sweep::stats::t975(df)).abs() < 1e-5, "df {df}");
        }
    }

    #[test]
    fn mean_bound_decides_pass_fail_and_straddles() {
        let c = cmp("x < 10");
        let v = |xs: &[f64]| xs.iter().map(|x| Some(*x)).collect::<Vec<_>>();
        // mean 5, sd 1, n 3: upper 5 + 2.92/√3 = 6.69 < 10.
        assert_eq!(decide(Rule::MeanBound, &c, &v(&[4.0, 5.0, 6.0]), 0.95, false), Decision::Pass);
        // mean 15: lower 13.3 ≥ 10.
        assert_eq!(decide(Rule::MeanBound, &c, &v(&[14.0, 15.0, 16.0]), 0.95, false), Decision::Fail);
        // mean 9.5, sd 1: [7.8, 11.2] straddles 10.
        assert_eq!(decide(Rule::MeanBound, &c, &v(&[8.5, 9.5, 10.5]), 0.95, false), Decision::Undecided);
        assert_eq!(decide(Rule::MeanBound, &c, &v(&[8.5, 9.5, 10.5]), 0.95, true), Decision::Fail);
        // No spread: the mean decides at once.
        assert_eq!(decide(Rule::MeanBound, &c, &v(&[9.0, 9.0]), 0.95, false), Decision::Pass);
        // One replication cannot bound the mean.
        assert_eq!(decide(Rule::MeanBound, &c, &v(&[1.0]), 0.95, false), Decision::Undecided);
        // An empty cell misses.
        assert_eq!(decide(Rule::MeanBound, &c, &[Some(1.0), None], 0.95, false), Decision::Fail);
        let g = cmp("a >= 0.999");
        assert_eq!(decide(Rule::MeanBound, &g, &v(&[0.9995, 0.9996, 0.9994]), 0.95, false), Decision::Pass);
        assert_eq!(decide(Rule::MeanBound, &g, &v(&[0.99, 0.991, 0.989]), 0.95, false), Decision::Fail);
    }

    #[test]
    fn every_replication_fails_on_the_first_miss_and_passes_at_the_cap() {
        let c = cmp("x <= 10");
        let v = |xs: &[f64]| xs.iter().map(|x| Some(*x)).collect::<Vec<_>>();
        assert_eq!(decide(Rule::EveryReplication, &c, &v(&[1.0, 11.0]), 0.95, false), Decision::Fail);
        assert_eq!(decide(Rule::EveryReplication, &c, &v(&[1.0, 10.0]), 0.95, false), Decision::Undecided);
        assert_eq!(decide(Rule::EveryReplication, &c, &v(&[1.0, 10.0]), 0.95, true), Decision::Pass);
        assert_eq!(statistic(Rule::EveryReplication, &c, &v(&[1.0, 7.0]), None), Some(7.0));
        assert!((slack(&c, 7.0) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn replications_grow_by_step_to_the_cap() {
        let r = Replications { min: 3, max: 8, step: 2 };
        assert_eq!([r.next(0), r.next(3), r.next(5), r.next(7), r.next(8)], [3, 5, 7, 8, 8]);
    }
}
