//! The configurations of a plan: the grid of its variables, the map between search points
//! and grid indices, the overrides of a configuration and of a variant, and the checks of
//! all of them against the scenario before anything runs.
//!
//! A configuration's **grid index** numbers the full grid like nested loops in declaration
//! order, the first variable outermost, each variable's values as listed (ranges
//! ascending); it names the configuration's run files, so it does not depend on the search.
//! The search sees the enumerated variables (choices, values, ranges not declared monotone)
//! as branches, in declaration order, and the monotone ones as coordinates indexed from
//! their weakest value: a range's first value when `increasing`, its last when `decreasing`.

use super::search::{Point, Shape};
use super::spec::{Direction, Spec, Variant};
use crate::runner;
use crate::scenario::{Scenario, ScenarioError};
use std::path::Path;

/// The variables' roles in the search.
#[derive(Clone, Debug)]
pub struct Space {
    /// The number of values of each variable, in declaration order.
    sizes: Vec<usize>,
    directions: Vec<Option<Direction>>,
    /// Indices of the enumerated variables (branches), in declaration order.
    enumerated: Vec<usize>,
    /// Indices of the monotone variables (coordinates), in declaration order; the last is
    /// bisected.
    monotone: Vec<usize>,
}

impl Space {
    pub fn new(spec: &Spec) -> Space {
        let sizes: Vec<usize> = spec.variables.iter().map(|v| v.values.len()).collect();
        let directions: Vec<Option<Direction>> = spec.variables.iter().map(|v| v.monotone).collect();
        let enumerated = (0..sizes.len()).filter(|&i| directions[i].is_none()).collect();
        let monotone = (0..sizes.len()).filter(|&i| directions[i].is_some()).collect();
        Space { sizes, directions, enumerated, monotone }
    }

    pub fn shape(&self) -> Shape {
        Shape {
            branches: self.enumerated.iter().map(|&i| self.sizes[i]).product(),
            monotone: self.monotone.iter().map(|&i| self.sizes[i]).collect(),
        }
    }

    /// The monotone variables (indices into the plan's variables), the last one bisected.
    pub fn monotone_vars(&self) -> &[usize] {
        &self.monotone
    }

    /// The enumerated variables (indices into the plan's variables).
    pub fn enumerated_vars(&self) -> &[usize] {
        &self.enumerated
    }

    /// The number of configurations in the full grid, if it fits a `usize`.
    pub fn points(&self) -> Option<usize> {
        self.sizes.iter().try_fold(1usize, |n, s| n.checked_mul(*s))
    }

    /// The value index of each variable at search point `p`.
    pub fn value_indices(&self, p: &Point) -> Vec<usize> {
        let mut vi = vec![0; self.sizes.len()];
        let mut rest = p.branch;
        for &i in self.enumerated.iter().rev() {
            vi[i] = rest % self.sizes[i];
            rest /= self.sizes[i];
        }
        for (k, &i) in self.monotone.iter().enumerate() {
            let s = p.idx.get(k).copied().unwrap_or(0);
            vi[i] = match self.directions[i] {
                Some(Direction::Decreasing) => self.sizes[i] - 1 - s,
                _ => s,
            };
        }
        vi
    }

    /// The grid index of the configuration with value indices `vi`.
    pub fn grid(&self, vi: &[usize]) -> usize {
        vi.iter().zip(&self.sizes).fold(0, |g, (i, n)| g * n + i)
    }

    /// The value indices of grid index `g` (the inverse of [`Space::grid`]).
    pub fn indices_of_grid(&self, g: usize) -> Vec<usize> {
        let mut vi = vec![0; self.sizes.len()];
        let mut rest = g;
        for (i, n) in self.sizes.iter().enumerate().rev() {
            vi[i] = rest % n;
            rest /= n;
        }
        vi
    }

    /// The search point of value indices `vi`.
    pub fn point(&self, vi: &[usize]) -> Point {
        let branch = self.enumerated.iter().fold(0, |b, &i| b * self.sizes[i] + vi[i]);
        let idx = self
            .monotone
            .iter()
            .map(|&i| match self.directions[i] {
                Some(Direction::Decreasing) => self.sizes[i] - 1 - vi[i],
                _ => vi[i],
            })
            .collect();
        Point { branch, idx }
    }
}

/// The overrides of the configuration with value indices `vi`, in declaration order.
pub fn config_sets(spec: &Spec, vi: &[usize]) -> Vec<String> {
    spec.variables.iter().zip(vi).flat_map(|(v, &i)| v.values[i].sets.iter().cloned()).collect()
}

/// The labels of the configuration's values, one per variable.
pub fn labels(spec: &Spec, vi: &[usize]) -> Vec<String> {
    spec.variables.iter().zip(vi).map(|(v, &i)| v.values[i].label.clone()).collect()
}

/// `name=label` for each variable.
pub fn describe(spec: &Spec, vi: &[usize]) -> String {
    if spec.variables.is_empty() {
        return "the scenario as it is".into();
    }
    spec.variables
        .iter()
        .zip(labels(spec, vi))
        .map(|(v, l)| format!("{}={l}", v.name))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The overrides of `variant` on top of the configuration's scenario `config`: its `set`s,
/// its `scale`d numbers (whole numbers stay whole, rounded), its faults appended to the
/// scenario's, its chaos block.
pub fn variant_sets(v: &Variant, config: &Scenario) -> Result<Vec<String>, String> {
    use crate::scenario::overrides::value_at;
    let mut out = v.sets.clone();
    for (path, factor) in &v.scale {
        let x = value_at(config, path).map_err(|m| format!("scale {path}: {m}"))?;
        let scaled = match (&x, x.as_f64()) {
            (serde_json::Value::Number(n), Some(f)) if n.is_u64() || n.is_i64() => {
                format!("{}", (f * factor).round() as i64)
            }
            (_, Some(f)) => format!("{}", f * factor),
            _ => {
                return Err(format!(
                    "scale {path}: the field holds {x}, not a number; expected a numeric field"
                ));
            }
        };
        out.push(format!("{path}={scaled}"));
    }
    if !v.faults.is_empty() {
        let mut all = match value_at(config, "faults") {
            Ok(serde_json::Value::Array(a)) => a,
            _ => Vec::new(),
        };
        all.extend(v.faults.iter().cloned());
        out.push(format!("faults={}", serde_json::Value::Array(all)));
    }
    if let Some(c) = &v.chaos {
        out.push(format!("chaos={c}"));
    }
    Ok(out)
}

/// The scenario of a configuration (overrides `config`) under a variant: `Err` is the
/// message of a scenario error, with the override named.
pub fn derive(
    base: &Scenario,
    file: &Path,
    config: &[String],
    variant: &Variant,
) -> Result<Scenario, String> {
    let c = runner::derive(base, file, config).map_err(|e| scenario_message(&e))?;
    let sets = variant_sets(variant, &c)?;
    if sets.is_empty() {
        return Ok(c);
    }
    let mut all = config.to_vec();
    all.extend(sets);
    runner::derive(base, file, &all).map_err(|e| scenario_message(&e))
}

fn scenario_message(e: &ScenarioError) -> String {
    match e {
        ScenarioError::Override { arg, message } => {
            format!("override {arg:?}: {message}; expected a scenario path and a value that --set accepts")
        }
        other => other.to_string(),
    }
}

/// The cost of the scenario's nodes over the run, known without running it when no pool
/// is autoscaled: Σ count × pricePerHour × duration (nodes cost while down too, as the
/// `cost` column counts them).
pub fn static_cost(s: &Scenario) -> Option<f64> {
    if s.node_pools.iter().any(|p| p.autoscaling.is_some()) {
        return None;
    }
    let hours = s.duration.0.as_secs_f64() / 3600.0;
    Some(s.node_pools.iter().map(|p| f64::from(p.count) * p.price_per_hour * hours).sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::spec::{Flags, read};
    use crate::sweep::ParamSpec;

    fn spec(params: Vec<ParamSpec>, monotone: Vec<&str>) -> Spec {
        let flags = Flags {
            params,
            monotone: monotone.into_iter().map(String::from).collect(),
            require: vec!["x < 1".into()],
            ..Flags::default()
        };
        read(None, &flags).expect("valid")
    }

    fn range(path: &str, a: &str, b: &str) -> ParamSpec {
        ParamSpec::Range { path: path.into(), start: a.into(), end: b.into(), step: None }
    }

    #[test]
    fn points_and_grid_indices_round_trip() {
        let s = spec(
            vec![
                range("a", "1", "3"),
                ParamSpec::List { path: "b".into(), values: "x,y".into() },
                range("c", "0", "4"),
            ],
            vec!["a=increasing", "c=decreasing"],
        );
        let space = Space::new(&s);
        assert_eq!(space.shape(), Shape { branches: 2, monotone: vec![3, 5] });
        assert_eq!(space.points(), Some(30));
        let mut grids = Vec::new();
        for branch in 0..2 {
            for i in 0..3 {
                for j in 0..5 {
                    let p = Point { branch, idx: vec![i, j] };
                    let vi = space.value_indices(&p);
                    assert_eq!(space.point(&vi), p);
                    assert_eq!(space.indices_of_grid(space.grid(&vi)), vi);
                    grids.push(space.grid(&vi));
                }
            }
        }
        grids.sort();
        assert_eq!(grids, (0..30).collect::<Vec<_>>());
        // c decreasing: its weakest index 0 is its last value, 4.
        let vi = space.value_indices(&Point { branch: 1, idx: vec![0, 0] });
        assert_eq!(labels(&s, &vi), ["1", "y", "4"]);
        assert_eq!(config_sets(&s, &vi), ["a=1", "b=y", "c=4"]);
    }
}
