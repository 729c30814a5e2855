//! Random distributions of durations (service times, inter-arrival gaps, delays) as
//! written in scenario files, and the fast samplers the simulation draws from.
//!
//! [`Distribution`] is the serde form, externally tagged with lowerCamelCase names and
//! durations written as [`DurationSpec`]s:
//!
//! ```yaml
//! constant: 1s
//! exponential: {mean: 600s}
//! uniform: {min: 1s, max: 3s}                 # inclusive, uniform over whole nanoseconds
//! lognormal: {median: 1s, sigma: 0.5}        # ln X ~ Normal(ln median, sigma)
//! normal: {mean: 2s, stddev: 0.5s}           # negative draws become 0
//! weibull: {scale: 100s, shape: 1.5}
//! gamma: {shape: 2.0, scale: 1s}             # Erlang when shape is an integer
//! empirical: {values: [1s, 2s, 5s]}          # one of the values, uniformly
//! ```
//!
//! Deserialization checks only the shape of the input; call [`Distribution::validate`]
//! (or [`Distribution::sampler`], which validates) to check the parameters.
//!
//! Sampling is a hot path (about a million draws per run), so build a [`Sampler`] once
//! with [`Distribution::sampler`]: it holds the ready-made `rand_distr` distribution and
//! the analytic mean. Continuous draws are in seconds and rounded to the nearest
//! nanosecond; draws beyond `u64::MAX` nanoseconds saturate. `constant` never consumes
//! random numbers; every other kind consumes the same numbers each draw whatever its
//! parameters, so a run is reproducible from its seed.

use std::fmt;

use rand_core::Rng;
use rand_distr as rd;
use rand_distr::Distribution as _;
use serde::{Deserialize, Serialize};

use super::duration::DurationSpec;
use crate::engine::SimDuration;

/// A random distribution of durations. See the module documentation for the syntax.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Distribution {
    /// Always the same duration; consumes no random numbers.
    Constant(DurationSpec),
    /// Exponential with the given mean (a Poisson process's gaps).
    Exponential(ExponentialSpec),
    /// Uniform over `[min, max]`, inclusive, in whole nanoseconds.
    Uniform(UniformSpec),
    /// Log-normal: `ln X ~ Normal(ln median, sigma)`.
    #[serde(rename = "lognormal")]
    LogNormal(LogNormalSpec),
    /// Normal, truncated at zero by turning negative draws into zero (so the realized mean
    /// is slightly above `mean` when `stddev` is not small against it).
    Normal(NormalSpec),
    /// Weibull with the given scale and shape.
    Weibull(WeibullSpec),
    /// Gamma with the given shape and scale (Erlang-k when `shape` is the integer k).
    Gamma(GammaSpec),
    /// One of the listed values, each with equal probability.
    Empirical(EmpiricalSpec),
}

/// Parameters of [`Distribution::Exponential`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialSpec {
    /// Mean, must be greater than zero.
    pub mean: DurationSpec,
}

/// Parameters of [`Distribution::Uniform`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniformSpec {
    /// Smallest value, inclusive.
    pub min: DurationSpec,
    /// Largest value, inclusive; must not be below `min`.
    pub max: DurationSpec,
}

/// Parameters of [`Distribution::LogNormal`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormalSpec {
    /// Median, `exp(mu)`; must be greater than zero.
    pub median: DurationSpec,
    /// Standard deviation of `ln X`; finite and `>= 0`.
    pub sigma: f64,
}

/// Parameters of [`Distribution::Normal`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalSpec {
    /// Mean before truncation at zero.
    pub mean: DurationSpec,
    /// Standard deviation.
    pub stddev: DurationSpec,
}

/// Parameters of [`Distribution::Weibull`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeibullSpec {
    /// Scale (λ); must be greater than zero.
    pub scale: DurationSpec,
    /// Shape (k); finite and `> 0`.
    pub shape: f64,
}

/// Parameters of [`Distribution::Gamma`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GammaSpec {
    /// Shape (k); finite and `> 0`.
    pub shape: f64,
    /// Scale (θ); must be greater than zero.
    pub scale: DurationSpec,
}

/// Parameters of [`Distribution::Empirical`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmpiricalSpec {
    /// The values to draw from; must not be empty.
    pub values: Vec<DurationSpec>,
}

fn positive(d: DurationSpec, what: &str) -> Result<(), String> {
    if d.0 == SimDuration::ZERO {
        return Err(format!("{what} must be greater than 0 (got {d})"));
    }
    Ok(())
}

fn finite_at_least(x: f64, min: f64, strict: bool, what: &str) -> Result<(), String> {
    let ok = x.is_finite() && if strict { x > min } else { x >= min };
    if !ok {
        let op = if strict { ">" } else { ">=" };
        return Err(format!("{what} must be a finite number {op} {min} (got {x})"));
    }
    Ok(())
}

impl Distribution {
    /// A distribution that always yields `d`.
    pub fn constant(d: SimDuration) -> Self {
        Distribution::Constant(DurationSpec(d))
    }

    /// An exponential distribution with the given mean in seconds (rounded to the nearest
    /// nanosecond; non-positive or NaN means become zero, which `validate` rejects).
    pub fn exponential_secs(mean_secs: f64) -> Self {
        Distribution::Exponential(ExponentialSpec {
            mean: DurationSpec(SimDuration::from_secs_f64(mean_secs)),
        })
    }

    /// The scenario-file name of this kind of distribution (`"lognormal"`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Distribution::Constant(_) => "constant",
            Distribution::Exponential(_) => "exponential",
            Distribution::Uniform(_) => "uniform",
            Distribution::LogNormal(_) => "lognormal",
            Distribution::Normal(_) => "normal",
            Distribution::Weibull(_) => "weibull",
            Distribution::Gamma(_) => "gamma",
            Distribution::Empirical(_) => "empirical",
        }
    }

    /// Checks the parameters; the message names the parameter and what was expected, e.g.
    /// `exponential: mean must be greater than 0 (got 0s)`.
    pub fn validate(&self) -> Result<(), String> {
        let kind = self.kind();
        let r = match self {
            Distribution::Constant(_) | Distribution::Normal(_) => Ok(()),
            Distribution::Exponential(p) => positive(p.mean, "mean"),
            Distribution::Uniform(p) => {
                if p.min > p.max {
                    Err(format!("min ({}) must not be greater than max ({})", p.min, p.max))
                } else {
                    Ok(())
                }
            }
            Distribution::LogNormal(p) => {
                positive(p.median, "median").and_then(|()| finite_at_least(p.sigma, 0.0, false, "sigma"))
            }
            Distribution::Weibull(p) => {
                positive(p.scale, "scale").and_then(|()| finite_at_least(p.shape, 0.0, true, "shape"))
            }
            Distribution::Gamma(p) => {
                finite_at_least(p.shape, 0.0, true, "shape").and_then(|()| positive(p.scale, "scale"))
            }
            Distribution::Empirical(p) => {
                if p.values.is_empty() {
                    Err("values must not be empty (expected a list of at least one duration)".to_string())
                } else {
                    Ok(())
                }
            }
        };
        r.map_err(|e| format!("{kind}: {e}"))
    }

    /// The analytic mean in seconds. For `normal` this is the mean before truncation at
    /// zero (the realized mean is higher when `stddev` is not small against `mean`). For
    /// parameters that fail [`validate`](Self::validate) the result is meaningless (it may
    /// be NaN or infinite) but computing it never panics.
    pub fn mean_secs(&self) -> f64 {
        match self {
            Distribution::Constant(d) => d.as_secs_f64(),
            Distribution::Exponential(p) => p.mean.as_secs_f64(),
            Distribution::Uniform(p) => {
                (u128::from(p.min.0.as_nanos()) + u128::from(p.max.0.as_nanos())) as f64 / 2e9
            }
            Distribution::LogNormal(p) => p.median.as_secs_f64() * (p.sigma * p.sigma / 2.0).exp(),
            Distribution::Normal(p) => p.mean.as_secs_f64(),
            Distribution::Weibull(p) => p.scale.as_secs_f64() * gamma_fn(1.0 + 1.0 / p.shape),
            Distribution::Gamma(p) => p.shape * p.scale.as_secs_f64(),
            Distribution::Empirical(p) => {
                let sum: u128 = p.values.iter().map(|v| u128::from(v.0.as_nanos())).sum();
                sum as f64 / p.values.len() as f64 / 1e9
            }
        }
    }

    /// Validates and builds a [`Sampler`]: do this once, then draw from the sampler.
    pub fn sampler(&self) -> Result<Sampler, String> {
        self.validate()?;
        let kind = match self {
            Distribution::Empirical(p) => {
                let values: Box<[SimDuration]> = p.values.iter().map(|v| v.0).collect();
                let index = uniform_index(values.len()).ok_or_else(|| "empirical: no values".to_string())?;
                Kind::Empirical { values, index }
            }
            other => other.build_continuous()?,
        };
        Ok(Sampler { kind, mean_secs: self.mean_secs() })
    }

    /// Draws one value. Convenient but slower than a [`Sampler`], as it validates and
    /// builds the underlying distribution on every call; it draws exactly the same values
    /// as `self.sampler()?.sample(rng)`. A distribution that fails
    /// [`validate`](Self::validate) yields zero and consumes no random numbers.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        if self.validate().is_err() {
            return SimDuration::ZERO;
        }
        match self {
            Distribution::Empirical(p) => match uniform_index(p.values.len()) {
                Some(index) => p.values[index.sample(rng)].0,
                None => SimDuration::ZERO,
            },
            other => other.build_continuous().map_or(SimDuration::ZERO, |k| k.sample(rng)),
        }
    }

    /// The sampler state for every kind but `empirical`. Assumes validated parameters but
    /// still reports (rather than panics on) anything `rand_distr` refuses.
    fn build_continuous(&self) -> Result<Kind, String> {
        let kind = self.kind();
        let bad = |e: &dyn fmt::Display| format!("{kind}: invalid parameters ({e})");
        Ok(match self {
            Distribution::Constant(d) => Kind::Constant(d.0),
            Distribution::Exponential(p) => {
                Kind::Exponential(rd::Exp::new(1.0 / p.mean.as_secs_f64()).map_err(|e| bad(&e))?)
            }
            Distribution::Uniform(p) => Kind::Uniform(
                rd::Uniform::new_inclusive(p.min.0.as_nanos(), p.max.0.as_nanos()).map_err(|e| bad(&e))?,
            ),
            Distribution::LogNormal(p) => Kind::LogNormal(
                rd::LogNormal::new(p.median.as_secs_f64().ln(), p.sigma).map_err(|e| bad(&e))?,
            ),
            Distribution::Normal(p) => Kind::Normal(
                rd::Normal::new(p.mean.as_secs_f64(), p.stddev.as_secs_f64()).map_err(|e| bad(&e))?,
            ),
            Distribution::Weibull(p) => {
                Kind::Weibull(rd::Weibull::new(p.scale.as_secs_f64(), p.shape).map_err(|e| bad(&e))?)
            }
            Distribution::Gamma(p) => {
                Kind::Gamma(rd::Gamma::new(p.shape, p.scale.as_secs_f64()).map_err(|e| bad(&e))?)
            }
            Distribution::Empirical(_) => return Err(format!("{kind}: not a continuous distribution")),
        })
    }
}

fn uniform_index(len: usize) -> Option<rd::Uniform<usize>> {
    rd::Uniform::new(0, len).ok()
}

/// A ready-to-draw form of a validated [`Distribution`]; cheap to clone and to sample.
#[derive(Clone, Debug)]
pub struct Sampler {
    kind: Kind,
    mean_secs: f64,
}

#[derive(Clone, Debug)]
enum Kind {
    Constant(SimDuration),
    Exponential(rd::Exp<f64>),
    /// Over whole nanoseconds.
    Uniform(rd::Uniform<u64>),
    LogNormal(rd::LogNormal<f64>),
    Normal(rd::Normal<f64>),
    Weibull(rd::Weibull<f64>),
    Gamma(rd::Gamma<f64>),
    Empirical {
        values: Box<[SimDuration]>,
        index: rd::Uniform<usize>,
    },
}

impl Kind {
    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        let secs = match self {
            Kind::Constant(d) => return *d,
            Kind::Uniform(u) => return SimDuration(u.sample(rng)),
            Kind::Empirical { values, index } => return values[index.sample(rng)],
            Kind::Exponential(d) => d.sample(rng),
            Kind::LogNormal(d) => d.sample(rng),
            // Truncation at zero: `from_secs_f64` maps negative draws to zero.
            Kind::Normal(d) => d.sample(rng),
            Kind::Weibull(d) => d.sample(rng),
            Kind::Gamma(d) => d.sample(rng),
        };
        SimDuration::from_secs_f64(secs)
    }
}

impl Sampler {
    /// An exponential sampler with the given mean in seconds, e.g. the gaps of a Poisson
    /// process with rate `r` per second are `Sampler::exponential_secs(1.0 / r)`. Unlike
    /// [`Distribution::exponential_secs`] the mean is not rounded to a nanosecond first.
    /// The mean must be finite and greater than zero.
    pub fn exponential_secs(mean_secs: f64) -> Result<Sampler, String> {
        if !(mean_secs.is_finite() && mean_secs > 0.0) {
            return Err(format!(
                "exponential: mean must be a finite number of seconds > 0 (got {mean_secs})"
            ));
        }
        let exp = rd::Exp::new(1.0 / mean_secs)
            .map_err(|e| format!("exponential: invalid mean {mean_secs} ({e})"))?;
        Ok(Sampler { kind: Kind::Exponential(exp), mean_secs })
    }

    /// Draws one duration.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        self.kind.sample(rng)
    }

    /// The analytic mean in seconds, as [`Distribution::mean_secs`].
    pub fn mean_secs(&self) -> f64 {
        self.mean_secs
    }
}

impl rd::Distribution<SimDuration> for Sampler {
    #[inline]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        self.kind.sample(rng)
    }
}

/// The gamma function Γ(x) for x >= 0.5, by the Lanczos approximation (g = 7, n = 9),
/// accurate to about 1e-15 relative; overflows to infinity above about 171.6.
fn gamma_fn(x: f64) -> f64 {
    #[allow(clippy::excessive_precision)]
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_93,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_13,
        -176.615_029_162_140_59,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_571_6e-6,
        1.505_632_735_149_311_6e-7,
    ];
    const G: f64 = 7.0;
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.5 {
        // Reflection formula; not needed for Weibull means (x >= 1) but keeps this total.
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_fn(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = COEF[0];
    for (i, c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    let ln = 0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln();
    ln.exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn d(s: &str) -> DurationSpec {
        s.parse().unwrap()
    }

    fn all_variants() -> Vec<(&'static str, Distribution)> {
        vec![
            ("constant: 1s\n", Distribution::Constant(d("1s"))),
            ("exponential: {mean: 600s}\n", Distribution::Exponential(ExponentialSpec { mean: d("600s") })),
            (
                "uniform: {min: 1s, max: 3s}\n",
                Distribution::Uniform(UniformSpec { min: d("1s"), max: d("3s") }),
            ),
            (
                "lognormal: {median: 1s, sigma: 0.5}\n",
                Distribution::LogNormal(LogNormalSpec { median: d("1s"), sigma: 0.5 }),
            ),
            (
                "normal: {mean: 2s, stddev: 0.5s}\n",
                Distribution::Normal(NormalSpec { mean: d("2s"), stddev: d("500ms") }),
            ),
            (
                "weibull: {scale: 100s, shape: 1.5}\n",
                Distribution::Weibull(WeibullSpec { scale: d("100s"), shape: 1.5 }),
            ),
            (
                "gamma: {shape: 2.0, scale: 1s}\n",
                Distribution::Gamma(GammaSpec { shape: 2.0, scale: d("1s") }),
            ),
            (
                "empirical: {values: [1s, 2s, 5s]}\n",
                Distribution::Empirical(EmpiricalSpec { values: vec![d("1s"), d("2s"), d("5s")] }),
            ),
        ]
    }

    #[test]
    fn serde_roundtrip_every_variant() {
        for (yaml, want) in all_variants() {
            let got: Distribution = serde_saphyr::from_str(yaml).unwrap();
            assert_eq!(got, want, "{yaml}");
            assert_eq!(got.validate(), Ok(()), "{yaml}");

            let back = serde_saphyr::to_string(&got).unwrap();
            assert_eq!(serde_saphyr::from_str::<Distribution>(&back).unwrap(), want, "{back}");

            let json = serde_json::to_string(&got).unwrap();
            assert_eq!(serde_json::from_str::<Distribution>(&json).unwrap(), want, "{json}");
        }
    }

    #[test]
    fn serde_shapes() {
        assert_eq!(serde_json::to_string(&all_variants()[1].1).unwrap(), r#"{"exponential":{"mean":"10m"}}"#);
        assert_eq!(
            serde_json::to_string(&all_variants()[3].1).unwrap(),
            r#"{"lognormal":{"median":"1s","sigma":0.5}}"#
        );
        // Block style, integer shape, bare-number durations.
        let g: Distribution = serde_saphyr::from_str("gamma:\n  shape: 3\n  scale: 0.5\n").unwrap();
        assert_eq!(g, Distribution::Gamma(GammaSpec { shape: 3.0, scale: d("500ms") }));

        let e = serde_saphyr::from_str::<Distribution>("exponential: {mean: 1s, rate: 2}").unwrap_err();
        assert!(e.to_string().contains("unknown field `rate`"), "{e}");
        let e = serde_saphyr::from_str::<Distribution>("poisson: {mean: 1s}").unwrap_err();
        assert!(e.to_string().contains("unknown variant `poisson`"), "{e}");
        let e = serde_saphyr::from_str::<Distribution>("uniform: {min: 1s}").unwrap_err();
        assert!(e.to_string().contains("missing field `max`"), "{e}");
        let e = serde_saphyr::from_str::<Distribution>("constant: 5x").unwrap_err();
        assert!(e.to_string().contains("invalid duration \"5x\""), "{e}");
        let e =
            serde_json::from_str::<Distribution>(r#"{"logNormal":{"median":"1s","sigma":1}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `logNormal`"), "{e}");
    }

    #[test]
    fn validation_errors() {
        let cases: Vec<(Distribution, &str)> = vec![
            (
                Distribution::Exponential(ExponentialSpec { mean: d("0s") }),
                "exponential: mean must be greater than 0 (got 0s)",
            ),
            (
                Distribution::Uniform(UniformSpec { min: d("3s"), max: d("1s") }),
                "uniform: min (3s) must not be greater than max (1s)",
            ),
            (
                Distribution::LogNormal(LogNormalSpec { median: d("1s"), sigma: -0.5 }),
                "lognormal: sigma must be a finite number >= 0 (got -0.5)",
            ),
            (
                Distribution::LogNormal(LogNormalSpec { median: d("1s"), sigma: f64::NAN }),
                "lognormal: sigma must be a finite number >= 0 (got NaN)",
            ),
            (
                Distribution::LogNormal(LogNormalSpec { median: d("0s"), sigma: 1.0 }),
                "lognormal: median must be greater than 0 (got 0s)",
            ),
            (
                Distribution::Weibull(WeibullSpec { scale: d("100s"), shape: 0.0 }),
                "weibull: shape must be a finite number > 0 (got 0)",
            ),
            (
                Distribution::Weibull(WeibullSpec { scale: d("0s"), shape: 1.0 }),
                "weibull: scale must be greater than 0 (got 0s)",
            ),
            (
                Distribution::Gamma(GammaSpec { shape: f64::INFINITY, scale: d("1s") }),
                "gamma: shape must be a finite number > 0 (got inf)",
            ),
            (
                Distribution::Gamma(GammaSpec { shape: 2.0, scale: d("0s") }),
                "gamma: scale must be greater than 0 (got 0s)",
            ),
            (
                Distribution::Empirical(EmpiricalSpec { values: vec![] }),
                "empirical: values must not be empty (expected a list of at least one duration)",
            ),
        ];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for (dist, msg) in cases {
            assert_eq!(dist.validate(), Err(msg.to_string()));
            assert_eq!(dist.sampler().map(|_| ()), Err(msg.to_string()));
            // Invalid distributions sample as zero without touching the generator.
            let before = rng.clone();
            assert_eq!(dist.sample(&mut rng), SimDuration::ZERO);
            assert_eq!(rng.next_u64(), before.clone().next_u64());
        }
        // Boundaries that are allowed.
        assert_eq!(Distribution::Uniform(UniformSpec { min: d("2s"), max: d("2s") }).validate(), Ok(()));
        assert_eq!(Distribution::LogNormal(LogNormalSpec { median: d("1s"), sigma: 0.0 }).validate(), Ok(()));
        assert_eq!(Distribution::constant(SimDuration::ZERO).validate(), Ok(()));
        // From YAML: special floats parse but do not validate.
        let w: Distribution = serde_saphyr::from_str("weibull: {scale: 1s, shape: .nan}").unwrap();
        assert_eq!(w.validate(), Err("weibull: shape must be a finite number > 0 (got NaN)".to_string()));
    }

    #[test]
    fn analytic_means() {
        let means = [1.0, 600.0, 2.0, (0.125f64).exp(), 2.0, 100.0 * 0.902_745_292_950_933_6, 2.0, 8.0 / 3.0];
        for ((yaml, dist), want) in all_variants().into_iter().zip(means) {
            let got = dist.mean_secs();
            assert!((got - want).abs() <= 1e-12 * want, "{yaml}: {got} vs {want}");
            assert_eq!(dist.sampler().unwrap().mean_secs(), got);
        }
        assert_eq!(Distribution::exponential_secs(2.5).mean_secs(), 2.5);
    }

    #[test]
    fn exponential_sampler_from_seconds() {
        let s = Sampler::exponential_secs(0.25).unwrap();
        assert_eq!(s.mean_secs(), 0.25);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let n = 200_000;
        let sum: u128 = (0..n).map(|_| u128::from(s.sample(&mut rng).as_nanos())).sum();
        let mean = sum as f64 / n as f64 / 1e9;
        assert!((mean - 0.25).abs() < 0.02 * 0.25, "{mean}");
        // Same draws as the equivalent Distribution when the mean is a whole nanosecond.
        let d = Distribution::exponential_secs(0.25).sampler().unwrap();
        let (mut a, mut b) = (Xoshiro256PlusPlus::seed_from_u64(1), Xoshiro256PlusPlus::seed_from_u64(1));
        for _ in 0..100 {
            assert_eq!(s.sample(&mut a), d.sample(&mut b));
        }
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                Sampler::exponential_secs(bad).map(|_| ()),
                Err(format!("exponential: mean must be a finite number of seconds > 0 (got {bad})"))
            );
        }
    }

    #[test]
    fn gamma_function() {
        let table = [
            (1.0, 1.0),
            (2.0, 1.0),
            (5.0, 24.0),
            (1.5, std::f64::consts::PI.sqrt() / 2.0),
            (0.5, std::f64::consts::PI.sqrt()),
            (11.0, 3_628_800.0),
            (1.0 + 1.0 / 1.5, 0.902_745_292_950_933_6),
        ];
        for (x, want) in table {
            let got = gamma_fn(x);
            assert!(((got - want) / want).abs() < 1e-13, "gamma({x}) = {got}, want {want}");
        }
        assert!(gamma_fn(200.0).is_infinite());
    }

    #[test]
    fn sample_means_match_analytic_means() {
        let dists = [
            Distribution::Exponential(ExponentialSpec { mean: d("600s") }),
            Distribution::Uniform(UniformSpec { min: d("1s"), max: d("3s") }),
            Distribution::LogNormal(LogNormalSpec { median: d("1s"), sigma: 0.5 }),
            Distribution::Normal(NormalSpec { mean: d("2s"), stddev: d("0.5s") }),
            Distribution::Weibull(WeibullSpec { scale: d("100s"), shape: 1.5 }),
            Distribution::Weibull(WeibullSpec { scale: d("10ms"), shape: 0.7 }),
            Distribution::Gamma(GammaSpec { shape: 2.0, scale: d("1s") }),
            Distribution::Gamma(GammaSpec { shape: 0.5, scale: d("4s") }),
            Distribution::Empirical(EmpiricalSpec { values: vec![d("1s"), d("2s"), d("5s")] }),
        ];
        for dist in dists {
            let sampler = dist.sampler().unwrap();
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
            let n = 200_000;
            let sum: u128 = (0..n).map(|_| u128::from(sampler.sample(&mut rng).as_nanos())).sum();
            let mean = sum as f64 / n as f64 / 1e9;
            let want = sampler.mean_secs();
            assert!((mean - want).abs() < 0.02 * want, "{dist:?}: sample mean {mean}, analytic {want}");
        }
    }

    #[test]
    fn sample_ranges() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let u = Distribution::Uniform(UniformSpec { min: d("1s"), max: d("3s") }).sampler().unwrap();
        let e = Distribution::Empirical(EmpiricalSpec { values: vec![d("1s"), d("2s"), d("5s")] });
        let e = e.sampler().unwrap();
        let mut seen = [0u32; 3];
        for _ in 0..10_000 {
            let x = u.sample(&mut rng);
            assert!((SimDuration::from_secs(1)..=SimDuration::from_secs(3)).contains(&x));
            match e.sample(&mut rng).as_nanos() / 1_000_000_000 {
                1 => seen[0] += 1,
                2 => seen[1] += 1,
                5 => seen[2] += 1,
                other => panic!("empirical drew {other}s"),
            }
        }
        assert!(seen.iter().all(|&c| c > 3_000), "{seen:?}");
        // Normal with a mean near zero: negative draws are truncated to zero.
        let n = Distribution::Normal(NormalSpec { mean: d("0s"), stddev: d("1s") }).sampler().unwrap();
        let zeros = (0..10_000).filter(|_| n.sample(&mut rng) == SimDuration::ZERO).count();
        assert!((4_500..5_500).contains(&zeros), "{zeros}");
    }

    #[test]
    fn constant_returns_constant_without_randomness() {
        let dist = Distribution::constant(SimDuration::from_millis(1500));
        let sampler = dist.sampler().unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        for _ in 0..100 {
            assert_eq!(sampler.sample(&mut rng), SimDuration::from_millis(1500));
            assert_eq!(dist.sample(&mut rng), SimDuration::from_millis(1500));
        }
        assert_eq!(rng.next_u64(), Xoshiro256PlusPlus::seed_from_u64(7).next_u64());
        assert_eq!(sampler.mean_secs(), 1.5);
    }

    #[test]
    fn distribution_sample_matches_sampler_and_is_deterministic() {
        for (yaml, dist) in all_variants() {
            let sampler = dist.sampler().unwrap();
            let mut a = Xoshiro256PlusPlus::seed_from_u64(7);
            let mut b = Xoshiro256PlusPlus::seed_from_u64(7);
            let mut c = Xoshiro256PlusPlus::seed_from_u64(7);
            for _ in 0..1_000 {
                let x = sampler.sample(&mut a);
                assert_eq!(dist.sample(&mut b), x, "{yaml}");
                assert_eq!(rd::Distribution::sample(&sampler, &mut c), x, "{yaml}");
            }
            assert_eq!(a.next_u64(), b.next_u64(), "{yaml}");
        }
    }
}
