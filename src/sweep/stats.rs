//! Mean, sample standard deviation and the Student-t 95 % confidence interval of the mean,
//! over the replications of a grid point.

/// The two-sided 95 % quantile of Student's t (t₀.₉₇₅) for 1 to 30 degrees of freedom.
const T975: [f64; 30] = [
    12.706204736,
    4.302652730,
    3.182446305,
    2.776445105,
    2.570581836,
    2.446911851,
    2.364624252,
    2.306004135,
    2.262157163,
    2.228138852,
    2.200985160,
    2.178812830,
    2.160368656,
    2.144786688,
    2.131449546,
    2.119905299,
    2.109815578,
    2.100922040,
    2.093024054,
    2.085963447,
    2.079613845,
    2.073873068,
    2.068657610,
    2.063898562,
    2.059538553,
    2.055529439,
    2.051830516,
    2.048407142,
    2.045229642,
    2.042272456,
];

/// t₀.₉₇₅ for `df` degrees of freedom: the exact table up to 30, then the Cornish–Fisher
/// expansion around the normal quantile (error below 1e-6 for df > 30).
pub fn t975(df: u64) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    if let Some(t) = T975.get(df as usize - 1) {
        return *t;
    }
    let z: f64 = 1.959963984540054;
    let n = df as f64;
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92160.0 * n.powi(4))
}

/// Summary statistics of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1 denominator); `None` for n < 2.
    pub sd: Option<f64>,
    /// 95 % confidence interval of the mean, mean ± t₀.₉₇₅(n − 1) · sd / √n; `None` for n < 2.
    pub ci95: Option<(f64, f64)>,
}

/// Statistics of `xs`, summed in the given order; `None` for an empty sample.
pub fn stats(xs: &[f64]) -> Option<Stats> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Some(Stats { n, mean, sd: None, ci95: None });
    }
    let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    let sd = (ss / (n - 1) as f64).sqrt();
    let half = t975(n as u64 - 1) * sd / (n as f64).sqrt();
    Some(Stats { n, mean, sd: Some(sd), ci95: Some((mean - half, mean + half)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles() {
        assert!((t975(1) - 12.7062).abs() < 1e-3);
        assert!((t975(4) - 2.7764).abs() < 1e-3);
        assert!((t975(30) - 2.0423).abs() < 1e-3);
        // Beyond the table: exact values 2.021075, 2.000298, 1.983972, 1.962339.
        assert!((t975(40) - 2.021075).abs() < 1e-5);
        assert!((t975(60) - 2.000298).abs() < 1e-5);
        assert!((t975(100) - 1.983972).abs() < 1e-5);
        assert!((t975(1000) - 1.962339).abs() < 1e-5);
    }

    #[test]
    fn hand_computed() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, Σ(x − 5)² = 32, sd = √(32/7) = 2.138090,
        // half-width = 2.364624 × 2.138090 / √8 = 1.787488.
        let s = stats(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(s.n, 8);
        assert!((s.mean - 5.0).abs() < 1e-12);
        assert!((s.sd.unwrap() - 2.138090).abs() < 1e-6);
        let (lo, hi) = s.ci95.unwrap();
        assert!((lo - 3.212512).abs() < 1e-6, "{lo}");
        assert!((hi - 6.787488).abs() < 1e-6, "{hi}");
        // 10, 20: mean 15, sd √50 = 7.071068, half-width 12.706205 × 7.071068 / √2 = 63.531024.
        let s = stats(&[10.0, 20.0]).unwrap();
        assert!((s.sd.unwrap() - 7.071068).abs() < 1e-6);
        assert!((s.ci95.unwrap().1 - 78.531024).abs() < 1e-5);
    }

    #[test]
    fn one_value_has_no_spread() {
        let s = stats(&[3.5]).unwrap();
        assert_eq!(s.mean, 3.5);
        assert_eq!(s.sd, None);
        assert_eq!(s.ci95, None);
        assert!(stats(&[]).is_none());
    }
}
