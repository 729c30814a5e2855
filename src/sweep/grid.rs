//! The grid of a sweep: parameters (a dotted scenario path and its values), their
//! cartesian product in a stable order, replications and their seeds.
//!
//! Run `i` of a sweep is grid point `i / R`, replication `i % R` (R replications). Grid
//! points are numbered like nested loops with the first parameter outermost: with
//! `a ∈ [1, 2]` and `b ∈ [x, y, z]` the points are (1,x) (1,y) (1,z) (2,x) (2,y) (2,z).

/// One swept scenario field: a path as `--set PATH=VALUE` takes it, and its values as
/// `--set` reads them (YAML scalars or flow collections).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Parameter {
    pub path: String,
    pub values: Vec<String>,
}

/// Parameters and replications.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    pub parameters: Vec<Parameter>,
    pub replications: u32,
}

/// The upper bound on the number of runs of one sweep (a guard against typos).
pub const MAX_RUNS: usize = 10_000_000;

impl Grid {
    /// The number of grid points (1 without parameters).
    pub fn points(&self) -> usize {
        self.parameters.iter().map(|p| p.values.len()).product()
    }

    /// The number of grid points, or `None` when it does not fit a `usize`.
    pub fn checked_points(&self) -> Option<usize> {
        self.parameters.iter().try_fold(1usize, |n, p| n.checked_mul(p.values.len()))
    }

    /// The grid point whose parameters take the values at indices `idx` (the inverse of
    /// [`Grid::value_indices`]).
    pub fn point_of(&self, idx: &[usize]) -> usize {
        self.parameters.iter().zip(idx).fold(0, |point, (p, &i)| point * p.values.len() + i)
    }

    /// The number of runs: points × replications.
    pub fn runs(&self) -> usize {
        self.points() * self.replications as usize
    }

    /// The index of each parameter's value at grid point `point`.
    pub fn value_indices(&self, point: usize) -> Vec<usize> {
        let mut rest = point;
        let mut idx = vec![0; self.parameters.len()];
        for (k, p) in self.parameters.iter().enumerate().rev() {
            let n = p.values.len().max(1);
            idx[k] = rest % n;
            rest /= n;
        }
        idx
    }

    /// The values of grid point `point`, one per parameter.
    pub fn values(&self, point: usize) -> Vec<&str> {
        self.value_indices(point)
            .into_iter()
            .zip(&self.parameters)
            .map(|(i, p)| p.values[i].as_str())
            .collect()
    }

    /// The `--set` overrides of grid point `point`.
    pub fn sets(&self, point: usize) -> Vec<String> {
        self.parameters.iter().zip(self.values(point)).map(|(p, v)| format!("{}={v}", p.path)).collect()
    }

    /// (grid point, replication) of run `run`.
    pub fn locate(&self, run: usize) -> (usize, u32) {
        let r = self.replications.max(1) as usize;
        (run / r, (run % r) as u32)
    }
}

/// The seed of replication `r`: `base + r` (wrapping at 2⁶⁴). Replication 0 uses the base
/// seed itself, so it reproduces `clustersim run` with the same seed, and every grid point
/// uses the same seeds, so comparisons between points are paired (common random numbers).
/// Each component of a run derives its own stream from the run seed with SplitMix64, so
/// neighbouring seeds give independent streams.
pub fn replication_seed(base: u64, r: u32) -> u64 {
    base.wrapping_add(u64::from(r))
}

/// The values of a numeric range `start..=end` by `step` (default 1), as `-P` takes them.
/// With whole numbers the values are whole numbers; otherwise they are rounded to the
/// largest number of decimals among start, end and step (`0.1 0.3 0.1` → 0.1, 0.2, 0.3).
pub fn expand_range(start: &str, end: &str, step: Option<&str>) -> Result<Vec<String>, String> {
    let num = |what: &str, s: &str| -> Result<f64, String> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("{what} {s:?} is not a number"))
    };
    let (a, b) = (num("start", start)?, num("end", end)?);
    let d = match step {
        Some(s) => num("step", s)?,
        None => 1.0,
    };
    if d == 0.0 {
        return Err("step is 0; expected a non-zero step such as 1 or 0.5".to_string());
    }
    if (d > 0.0 && a > b) || (d < 0.0 && a < b) {
        return Err(format!(
            "the range from {start} to {end} by step {} is empty; expected start ≤ end with a positive \
             step (or start ≥ end with a negative step)",
            step.unwrap_or("1")
        ));
    }
    let count = ((b - a) / d + 1e-9).floor() as u64 + 1;
    if count as usize > MAX_RUNS {
        return Err(format!("the range has {count} values; at most {MAX_RUNS} are allowed"));
    }
    let decimals = |s: &str| {
        s.trim().split_once('.').map_or(0, |(_, f)| f.chars().take_while(char::is_ascii_digit).count())
    };
    let whole = [Some(start), Some(end), step].iter().flatten().all(|s| s.trim().parse::<i64>().is_ok());
    let places = [Some(start), Some(end), step].iter().flatten().map(|s| decimals(s)).max().unwrap_or(0);
    Ok((0..count)
        .map(|i| {
            let v = a + i as f64 * d;
            if whole {
                format!("{}", v.round() as i64)
            } else {
                let s = format!("{v:.places$}");
                if s.starts_with('-') && s.trim_start_matches(['-', '0', '.']).is_empty() {
                    s[1..].to_string()
                } else {
                    s
                }
            }
        })
        .collect())
}

/// The values of `-L NAME a,b,c`.
pub fn split_list(list: &str) -> Result<Vec<String>, String> {
    let values: Vec<String> = list.split(',').map(|v| v.trim().to_string()).collect();
    if values.iter().any(String::is_empty) {
        return Err(format!("{list:?} has an empty value; expected a comma-separated list such as 10,20,40"));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_of_inverts_value_indices() {
        let g = Grid {
            parameters: vec![p("a", &["1", "2"]), p("b", &["x", "y", "z"]), p("c", &["u", "v"])],
            replications: 3,
        };
        for point in 0..g.points() {
            assert_eq!(g.point_of(&g.value_indices(point)), point);
        }
        let huge = Grid { parameters: vec![p("a", &["1"; 1]); 1], replications: 1 };
        assert_eq!(huge.checked_points(), Some(1));
        let values: Vec<String> = (0..65536).map(|i| i.to_string()).collect();
        let wide = Parameter { path: "x".into(), values };
        let g = Grid { parameters: vec![wide; 5], replications: 1 };
        assert_eq!(g.checked_points(), None, "65536^5 does not fit");
    }

    fn p(path: &str, values: &[&str]) -> Parameter {
        Parameter { path: path.into(), values: values.iter().map(|v| v.to_string()).collect() }
    }

    #[test]
    fn first_parameter_is_outermost_and_replications_innermost() {
        let g = Grid { parameters: vec![p("a", &["1", "2"]), p("b", &["x", "y", "z"])], replications: 2 };
        assert_eq!(g.points(), 6);
        assert_eq!(g.runs(), 12);
        let points: Vec<Vec<&str>> = (0..6).map(|i| g.values(i)).collect();
        assert_eq!(
            points,
            vec![
                vec!["1", "x"],
                vec!["1", "y"],
                vec!["1", "z"],
                vec!["2", "x"],
                vec!["2", "y"],
                vec!["2", "z"]
            ]
        );
        assert_eq!(g.sets(4), vec!["a=2".to_string(), "b=y".to_string()]);
        assert_eq!(g.locate(0), (0, 0));
        assert_eq!(g.locate(1), (0, 1));
        assert_eq!(g.locate(11), (5, 1));
    }

    #[test]
    fn no_parameters_is_one_point() {
        let g = Grid { parameters: vec![], replications: 3 };
        assert_eq!(g.points(), 1);
        assert_eq!(g.runs(), 3);
        assert!(g.values(0).is_empty());
    }

    #[test]
    fn seeds_are_base_plus_replication_at_every_point() {
        assert_eq!(replication_seed(42, 0), 42);
        assert_eq!(replication_seed(42, 3), 45);
        assert_eq!(replication_seed(u64::MAX, 1), 0);
    }

    #[test]
    fn ranges() {
        assert_eq!(expand_range("10", "30", Some("10")).unwrap(), ["10", "20", "30"]);
        assert_eq!(expand_range("1", "3", None).unwrap(), ["1", "2", "3"]);
        assert_eq!(expand_range("50", "95", Some("20")).unwrap(), ["50", "70", "90"]);
        assert_eq!(expand_range("0.1", "0.3", Some("0.1")).unwrap(), ["0.1", "0.2", "0.3"]);
        assert_eq!(expand_range("3", "1", Some("-1")).unwrap(), ["3", "2", "1"]);
        assert_eq!(expand_range("-0.2", "0", Some("0.1")).unwrap(), ["-0.2", "-0.1", "0.0"]);
        assert_eq!(expand_range("5", "5", None).unwrap(), ["5"]);
        assert!(expand_range("3", "1", None).unwrap_err().contains("empty"));
        assert!(expand_range("1", "3", Some("0")).unwrap_err().contains("step is 0"));
        assert!(expand_range("a", "3", None).unwrap_err().contains("start \"a\""));
    }

    #[test]
    fn lists() {
        assert_eq!(split_list("a, b,c").unwrap(), ["a", "b", "c"]);
        assert!(split_list("a,,b").is_err());
    }
}
