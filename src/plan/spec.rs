//! The plan definition: the plan file (`--plan-file`, YAML) and the flags that add to it,
//! read into a [`Spec`] whose every part remembers where it was written (`file:line:column`
//! or the flag), so that later checks against the scenario can name it.
//!
//! ```yaml
//! variables:
//!   - set: nodePools.0.count          # any --set path
//!     range: [2, 16]                  # integers, inclusive; [start, end, step] for a step
//!     monotone: increasing            # more is never worse, nor cheaper; absent: enumerated
//!   - name: shape                     # categorical: alternatives, each a map of overrides
//!     choices:
//!       - {name: small, set: {nodePools.0.allocatable.cpu: 4, nodePools.0.pricePerHour: 0.192}}
//!       - {name: large, set: {nodePools.0.allocatable.cpu: 16, nodePools.0.pricePerHour: 0.768}}
//!   - set: scheduler.scoringStrategy  # categorical values of one path
//!     values: [LeastAllocated, MostAllocated]
//! requirements: ["svc_web_latency_p99_ms < 250", "availability >= 0.999"]
//! objective: cost                     # a summary column or an expression; minimised
//! replications: {min: 3, max: 10, step: 2}
//! confidence: 0.95
//! rule: mean-bound                    # or every-replication
//! under:                              # variants; every requirement must hold under each
//!   - {name: zone-a-down, faults: [{at: 6h, duration: 30m, fail: {zone: zone-a}}]}
//!   - {name: load+30%, scale: {deployments.0.service.load.poisson.rate: 1.3}}
//!   - {name: slow-disk, set: {nodePools.0.kubelet.imagePull.constant: 30s}}
//! ```
//!
//! Flags add to the file: `-P PATH START END [STEP]` and `-L PATH a,b,c` variables (after
//! the file's, in command-line order), `--monotone PATH=increasing|decreasing`,
//! `--require EXPR`, `--under YAML` (one variant, as a flow mapping), and `--objective`,
//! `-r MIN[..MAX]`, `--confidence`, `--rule`, which replace the file's.

use super::decide::{Replications, Rule};
use super::expr::{self, Expr};
use crate::sweep::check::{self, Comparison, Op};
use crate::sweep::{self, ParamSpec};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::path::Path;

/// Which way a monotone variable gets stronger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Larger values are never worse for any requirement, and never cheaper.
    Increasing,
    /// Smaller values are never worse for any requirement, and never cheaper (e.g. an HPA
    /// CPU target: a lower target keeps more pods).
    Decreasing,
}

/// One value of a variable: its label and the overrides it applies.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Value {
    pub label: String,
    pub sets: Vec<String>,
}

/// A decision variable.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Variable {
    /// The name of its `var_<name>` column: `name`, else the path (dotted).
    pub name: String,
    /// The scenario path of a range or values variable (dotted); `None` for choices.
    pub path: Option<String>,
    pub values: Vec<Value>,
    pub monotone: Option<Direction>,
    /// Where it was written (not part of the definition).
    #[serde(skip)]
    pub origin: String,
}

/// A requirement: one comparison of a summary column with a threshold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Requirement {
    pub text: String,
    #[serde(skip)]
    pub cmp: Comparison,
    #[serde(skip)]
    pub origin: String,
}

/// The objective to minimise.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Objective {
    pub text: String,
    #[serde(skip)]
    pub expr: Expr,
    #[serde(skip)]
    pub origin: String,
}

/// A variant the plan must survive: overrides applied on top of a configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Variant {
    pub name: String,
    /// `--set` overrides, in order.
    pub sets: Vec<String>,
    /// Numeric fields multiplied by a factor (`load +30 %`: 1.3), after `sets`.
    pub scale: Vec<(String, f64)>,
    /// Faults appended to the scenario's `faults`.
    pub faults: Vec<serde_json::Value>,
    /// A `chaos` block replacing the scenario's.
    pub chaos: Option<serde_json::Value>,
    #[serde(skip)]
    pub origin: String,
}

/// The whole plan definition.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spec {
    pub variables: Vec<Variable>,
    pub requirements: Vec<Requirement>,
    pub objective: Objective,
    pub replications: Replications,
    pub confidence: f64,
    pub rule: Rule,
    /// At least one: without `under`, the scenario as it is (named `scenario`).
    pub variants: Vec<Variant>,
}

/// The flags of `clustersim plan` that define the plan (free of clap types).
#[derive(Clone, Debug, Default)]
pub struct Flags {
    /// `-P`/`-L` in command-line order.
    pub params: Vec<ParamSpec>,
    /// `--monotone PATH=increasing|decreasing`.
    pub monotone: Vec<String>,
    pub require: Vec<String>,
    pub objective: Option<String>,
    pub replications: Option<String>,
    pub confidence: Option<f64>,
    pub rule: Option<String>,
    pub under: Vec<String>,
}

/// A map kept in file order (a YAML mapping of paths to values).
#[derive(Debug, Default)]
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of scenario paths to values, e.g. {nodePools.0.count: 3}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(entry) = m.next_entry::<String, V>()? {
                    v.push(entry);
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(Vis(std::marker::PhantomData))
    }
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    #[serde(default)]
    variables: Vec<Spanned<RawVariable>>,
    #[serde(default)]
    requirements: Vec<Spanned<String>>,
    objective: Option<Spanned<String>>,
    replications: Option<Spanned<RawReplications>>,
    confidence: Option<Spanned<f64>>,
    rule: Option<Spanned<Rule>>,
    #[serde(default)]
    under: Vec<Spanned<RawVariant>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    name: Option<String>,
    set: Option<String>,
    range: Option<Vec<i64>>,
    values: Option<Vec<serde_json::Value>>,
    choices: Option<Vec<RawChoice>>,
    monotone: Option<Direction>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    name: String,
    #[serde(default)]
    set: Ordered<serde_json::Value>,
}

#[derive(Deserialize, Debug, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct RawReplications {
    min: u32,
    max: Option<u32>,
    step: Option<u32>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    name: String,
    #[serde(default)]
    set: Ordered<serde_json::Value>,
    #[serde(default)]
    scale: Ordered<f64>,
    #[serde(default)]
    faults: Vec<serde_json::Value>,
    chaos: Option<serde_json::Value>,
}

const FILE_SHAPE: &str = "expected a plan file with `variables: [{set: PATH, range: [START, END]} or {set: PATH, \
     values: [..]} or {name: N, choices: [{name: C, set: {PATH: VALUE}}]}]`, `requirements: [EXPR, ..]`, \
     `objective: EXPR`, `replications: {min: N, max: N, step: N}`, `confidence: C`, `rule: mean-bound or \
     every-replication`, `under: [{name: N, set: {..}, scale: {..}, faults: [..], chaos: {..}}]`";

/// Replications when neither the file nor `-r` gives them.
pub const DEFAULT_REPLICATIONS: Replications = Replications { min: 3, max: 10, step: 2 };
/// The most replications of one configuration under one variant.
pub const MAX_REPLICATIONS: u32 = 1000;

fn at(file: &Path, s: &serde_saphyr::Location) -> String {
    format!("{}:{}:{}", file.display(), s.line(), s.column())
}

/// Reads the plan file (if any) and the flags into a [`Spec`]; `Err` names the file and
/// line:column, or the flag, and what was expected.
pub fn read(file: Option<&Path>, flags: &Flags) -> Result<Spec, String> {
    let raw = match file {
        None => None,
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .map_err(|e| format!("--plan-file {}: cannot read: {e}", f.display()))?;
            let raw: RawPlan = serde_saphyr::from_str(&text).map_err(|e| {
                let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
                format!(
                    "{}:{line}:{column}: {}; {FILE_SHAPE}",
                    f.display(),
                    crate::scenario::bare_message(&e)
                )
            })?;
            Some((f, raw))
        }
    };
    let mut variables = Vec::new();
    let mut requirements = Vec::new();
    let mut objective = None;
    let mut replications = None;
    let mut confidence = None;
    let mut rule = None;
    let mut variants = Vec::new();
    if let Some((f, raw)) = raw {
        for v in raw.variables {
            variables.push(file_variable(&at(f, &v.referenced), v.value)?);
        }
        for r in raw.requirements {
            requirements.extend(requirement(&at(f, &r.referenced), &r.value)?);
        }
        if let Some(o) = raw.objective {
            objective = Some(self::objective(&at(f, &o.referenced), &o.value)?);
        }
        if let Some(r) = raw.replications {
            let origin = at(f, &r.referenced);
            let r = r.value;
            replications =
                Some((origin, r.min, r.max.unwrap_or(r.min.max(DEFAULT_REPLICATIONS.max)), r.step));
        }
        if let Some(c) = raw.confidence {
            confidence = Some((at(f, &c.referenced), c.value));
        }
        if let Some(r) = raw.rule {
            rule = Some((at(f, &r.referenced), r.value));
        }
        for v in raw.under {
            variants.push(variant(at(f, &v.referenced), v.value)?);
        }
    }
    // Flags add variables, requirements and variants, and replace the single settings.
    for spec in &flags.params {
        variables.push(flag_variable(spec)?);
    }
    for m in &flags.monotone {
        let bad =
            || format!("--monotone {m}: expected PATH=increasing or PATH=decreasing, for a -P variable");
        let (path, dir) = m.split_once('=').ok_or_else(bad)?;
        let dir = match dir.trim() {
            "increasing" => Direction::Increasing,
            "decreasing" => Direction::Decreasing,
            _ => return Err(bad()),
        };
        let path = crate::scenario::overrides::canonical_path(path);
        let v = variables.iter_mut().find(|v| v.path.as_deref() == Some(path.as_str())).ok_or_else(|| {
            format!("--monotone {m}: no variable has the path {path}; give it with -P {path} START END first")
        })?;
        v.monotone = Some(dir);
    }
    for r in &flags.require {
        requirements.extend(requirement(&format!("--require {r:?}"), r)?);
    }
    if let Some(o) = &flags.objective {
        objective = Some(self::objective(&format!("--objective {o:?}"), o)?);
    }
    if let Some(r) = &flags.replications {
        let bad = || format!("-r {r}: expected a number of replications N or MIN..MAX, e.g. -r 3..10");
        let (min, max) = match r.split_once("..") {
            Some((a, b)) => {
                (a.trim().parse().map_err(|_| bad())?, Some(b.trim().parse().map_err(|_| bad())?))
            }
            None => (r.trim().parse().map_err(|_| bad())?, None),
        };
        replications = Some((format!("-r {r}"), min, max.unwrap_or(min), None));
    }
    if let Some(c) = flags.confidence {
        confidence = Some((format!("--confidence {c}"), c));
    }
    if let Some(r) = &flags.rule {
        let value = match r.as_str() {
            "mean-bound" => Rule::MeanBound,
            "every-replication" => Rule::EveryReplication,
            _ => return Err(format!("--rule {r}: expected mean-bound or every-replication")),
        };
        rule = Some((format!("--rule {r}"), value));
    }
    for u in &flags.under {
        let raw: RawVariant = serde_saphyr::from_str(u).map_err(|e| {
            format!(
                "--under {u:?}: {}; expected a mapping such as '{{name: zone-a-down, faults: [{{at: 1h, duration: \
                 30m, fail: {{zone: zone-a}}}}]}}' with `name` and any of `set`, `scale`, `faults`, `chaos`",
                crate::scenario::bare_message(&e)
            )
        })?;
        variants.push(variant(format!("--under {u:?}"), raw)?);
    }

    // Checks that need no scenario.
    for (i, v) in variables.iter().enumerate() {
        if let Some(w) = variables[..i].iter().find(|w| w.name == v.name) {
            return Err(format!(
                "{}: the variable {} is also defined at {}; expected each variable once",
                v.origin, v.name, w.origin
            ));
        }
        if v.path.as_deref() == Some("seed") {
            return Err(format!(
                "{}: the seed cannot be a variable: replication r of every configuration uses seed base + r; \
                 give the base with --seed",
                v.origin
            ));
        }
    }
    if requirements.is_empty() {
        return Err(
            "the plan has no requirements; expected `requirements: [EXPR, ..]` in the plan file or --require \
             EXPR, e.g. --require 'latency_p99_ms < 250'"
                .into(),
        );
    }
    let objective = match objective {
        Some(o) => o,
        None => self::objective("the default objective", "cost")?,
    };
    let rule = rule.map_or(Rule::MeanBound, |r| r.1);
    let replications = match replications {
        None => DEFAULT_REPLICATIONS,
        Some((origin, min, max, step)) => {
            let r = Replications { min, max, step: step.unwrap_or(DEFAULT_REPLICATIONS.step) };
            if r.min == 0 || r.step == 0 || r.max < r.min || r.max > MAX_REPLICATIONS {
                return Err(format!(
                    "{origin}: replications min {}, max {}, step {}; expected 1 ≤ min ≤ max ≤ {MAX_REPLICATIONS} \
                     and step ≥ 1",
                    r.min, r.max, r.step
                ));
            }
            if rule == Rule::MeanBound && r.max < 2 {
                return Err(format!(
                    "{origin}: the mean-bound rule needs at least 2 replications to bound a mean (max is {}); \
                     expected max ≥ 2, or rule: every-replication",
                    r.max
                ));
            }
            r
        }
    };
    let confidence = match confidence {
        None => 0.95,
        Some((origin, c)) => {
            if !(c.is_finite() && (0.5..1.0).contains(&c)) {
                return Err(format!(
                    "{origin}: confidence {c}; expected a level from 0.5 to below 1, e.g. 0.95"
                ));
            }
            c
        }
    };
    for (i, v) in variants.iter().enumerate() {
        if let Some(w) = variants[..i].iter().find(|w| w.name == v.name) {
            return Err(format!(
                "{}: the variant {} is also defined at {}; expected distinct names",
                v.origin, v.name, w.origin
            ));
        }
    }
    if variants.is_empty() {
        variants.push(Variant {
            name: "scenario".into(),
            sets: Vec::new(),
            scale: Vec::new(),
            faults: Vec::new(),
            chaos: None,
            origin: "the scenario as it is".into(),
        });
    }
    Ok(Spec { variables, requirements, objective, replications, confidence, rule, variants })
}

fn file_variable(origin: &str, v: RawVariable) -> Result<Variable, String> {
    let path = v.set.as_deref().map(crate::scenario::overrides::canonical_path);
    let which = [v.range.is_some(), v.values.is_some(), v.choices.is_some()].iter().filter(|b| **b).count();
    if which != 1 {
        return Err(format!(
            "{origin}: a variable takes exactly one of `range: [START, END]`, `values: [..]` or `choices: [..]`"
        ));
    }
    if v.monotone.is_some() && v.range.is_none() {
        return Err(format!(
            "{origin}: `monotone` applies to integer ranges; values and choices are enumerated"
        ));
    }
    if let Some(range) = &v.range {
        let Some(path) = path else {
            return Err(format!("{origin}: a range needs `set: PATH`, the scenario field it changes"));
        };
        let (start, end, step) = match range[..] {
            [a, b] => (a, b, 1),
            [a, b, s] => (a, b, s),
            _ => {
                return Err(format!(
                    "{origin}: range has {} numbers; expected [START, END] or [START, END, STEP]",
                    range.len()
                ));
            }
        };
        let values = integer_range(start, end, step).map_err(|m| format!("{origin}: range: {m}"))?;
        return Ok(range_variable(v.name, path, &values, v.monotone, origin));
    }
    if let Some(values) = &v.values {
        let Some(path) = path else {
            return Err(format!("{origin}: values need `set: PATH`, the scenario field they change"));
        };
        let texts: Vec<String> = values.iter().map(sweep::value_text).collect();
        return list_variable(v.name, path, texts, origin);
    }
    let choices = v.choices.unwrap_or_default();
    if v.set.is_some() {
        return Err(format!(
            "{origin}: a variable with `choices` takes no `set`: each choice has its own `set` map"
        ));
    }
    let Some(name) = v.name else {
        return Err(format!("{origin}: a variable with `choices` needs a `name` (its column is var_<name>)"));
    };
    if choices.is_empty() {
        return Err(format!("{origin}: `choices` is empty; expected at least one choice"));
    }
    let mut out = Vec::new();
    for c in choices {
        if out.iter().any(|o: &Value| o.label == c.name) {
            return Err(format!("{origin}: the choice {} is listed twice; expected distinct names", c.name));
        }
        let sets = c
            .set
            .0
            .iter()
            .map(|(p, v)| {
                format!("{}={}", crate::scenario::overrides::canonical_path(p), sweep::value_text(v))
            })
            .collect();
        out.push(Value { label: c.name, sets });
    }
    Ok(Variable { name, path: None, values: out, monotone: None, origin: origin.to_string() })
}

/// `start..=end` by `step` (positive).
fn integer_range(start: i64, end: i64, step: i64) -> Result<Vec<i64>, String> {
    if step <= 0 {
        return Err(format!("step {step}; expected a positive step"));
    }
    if end < start {
        return Err(format!("from {start} to {end} is empty; expected START ≤ END"));
    }
    let count = (end - start) / step + 1;
    if count as usize > crate::sweep::grid::MAX_RUNS {
        return Err(format!("{count} values; at most {} are allowed", crate::sweep::grid::MAX_RUNS));
    }
    Ok((0..count).map(|i| start + i * step).collect())
}

fn range_variable(
    name: Option<String>,
    path: String,
    values: &[i64],
    monotone: Option<Direction>,
    origin: &str,
) -> Variable {
    Variable {
        name: name.unwrap_or_else(|| path.clone()),
        values: values
            .iter()
            .map(|v| Value { label: v.to_string(), sets: vec![format!("{path}={v}")] })
            .collect(),
        path: Some(path),
        monotone,
        origin: origin.to_string(),
    }
}

fn list_variable(
    name: Option<String>,
    path: String,
    texts: Vec<String>,
    origin: &str,
) -> Result<Variable, String> {
    if texts.is_empty() {
        return Err(format!("{origin}: `values` is empty; expected at least one value"));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = texts.iter().find(|t| !seen.insert(t.as_str())) {
        return Err(format!("{origin}: the value {dup} is listed twice; expected distinct values"));
    }
    Ok(Variable {
        name: name.unwrap_or_else(|| path.clone()),
        values: texts.into_iter().map(|t| Value { sets: vec![format!("{path}={t}")], label: t }).collect(),
        path: Some(path),
        monotone: None,
        origin: origin.to_string(),
    })
}

fn flag_variable(spec: &ParamSpec) -> Result<Variable, String> {
    let p = sweep::flag_parameter(spec).map_err(|e| match e {
        sweep::SweepError::Input(m) => m,
        other => format!("{other:?}"),
    })?;
    let path = crate::scenario::overrides::canonical_path(&p.path);
    match spec {
        ParamSpec::Range { start, end, step, .. } => {
            let origin = format!(
                "-P {} {start} {end}{}",
                p.path,
                step.as_deref().map(|s| format!(" {s}")).unwrap_or_default()
            );
            let ints: Option<Vec<i64>> = p.values.iter().map(|v| v.parse().ok()).collect();
            let Some(ints) = ints else {
                return Err(format!("{origin}: expected whole numbers (plan variables are integer ranges)"));
            };
            Ok(range_variable(None, path, &ints, None, &origin))
        }
        ParamSpec::List { values, .. } => {
            list_variable(None, path, p.values.clone(), &format!("-L {} {values}", p.path))
        }
    }
}

fn requirement(origin: &str, text: &str) -> Result<Vec<Requirement>, String> {
    let c = check::parse(text).map_err(|m| format!("{origin}: {}", m.replace("--check", "requirement")))?;
    if c.target == check::Target::Points || text.trim_start().starts_with("runs:") {
        return Err(format!(
            "{origin}: a requirement takes no `points:`/`runs:` prefix: it is decided on each configuration's \
             replications; expected e.g. 'latency_p99_ms < 250'"
        ));
    }
    let single = c.all.len() == 1;
    c.all
        .into_iter()
        .map(|cmp| {
            if matches!(cmp.op, Op::Eq | Op::Ne) {
                return Err(format!(
                    "{origin}: `{} {}` cannot be decided from a confidence bound; expected <, <=, > or >=",
                    cmp.column,
                    cmp.op.symbol()
                ));
            }
            let text = if single {
                text.trim().to_string()
            } else {
                format!("{} {} {}", cmp.column, cmp.op.symbol(), cmp.threshold_text)
            };
            Ok(Requirement { text, cmp, origin: origin.to_string() })
        })
        .collect()
}

fn objective(origin: &str, text: &str) -> Result<Objective, String> {
    let e = expr::parse(text).map_err(|m| format!("{origin}: objective {text:?}: {m}"))?;
    Ok(Objective { text: text.trim().to_string(), expr: e, origin: origin.to_string() })
}

fn variant(origin: String, v: RawVariant) -> Result<Variant, String> {
    if v.name.trim().is_empty() {
        return Err(format!("{origin}: the variant's name is empty; expected a name such as zone-a-down"));
    }
    let canon = crate::scenario::overrides::canonical_path;
    for (p, f) in &v.scale.0 {
        if !(f.is_finite() && *f >= 0.0) {
            return Err(format!("{origin}: scale {p}: {f}; expected a factor of 0 or more, e.g. 1.3"));
        }
    }
    Ok(Variant {
        name: v.name.trim().to_string(),
        sets: v.set.0.iter().map(|(p, x)| format!("{}={}", canon(p), sweep::value_text(x))).collect(),
        scale: v.scale.0.iter().map(|(p, f)| (canon(p), *f)).collect(),
        faults: v.faults,
        chaos: v.chaos,
        origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<Spec, String> {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("plan.yaml");
        std::fs::write(&f, text).expect("write");
        read(Some(&f), &Flags::default()).map_err(|e| e.replace(&dir.path().display().to_string(), "DIR"))
    }

    #[test]
    fn a_full_plan_file() {
        let s = read_text(
            "variables:\n  - set: nodePools[0].count\n    range: [2, 6, 2]\n    monotone: increasing\n  - name: shape\n    choices:\n      - {name: small, set: {nodePools.0.allocatable.cpu: 4, nodePools.0.pricePerHour: 0.19}}\n      - {name: big}\nrequirements: ['latency_p99_ms < 250 and availability >= 0.999']\nobjective: cost + 1\nreplications: {min: 2, max: 4}\nconfidence: 0.9\nrule: every-replication\nunder:\n  - {name: a, faults: [{at: 1h, fail: {zone: zone-a}}], scale: {x.y: 1.3}}\n",
        )
        .expect("valid");
        assert_eq!(s.variables[0].name, "nodePools.0.count");
        assert_eq!(
            s.variables[0].values.iter().map(|v| v.label.as_str()).collect::<Vec<_>>(),
            ["2", "4", "6"]
        );
        assert_eq!(s.variables[0].values[1].sets, ["nodePools.0.count=4"]);
        assert_eq!(
            s.variables[1].values[0].sets,
            ["nodePools.0.allocatable.cpu=4", "nodePools.0.pricePerHour=0.19"]
        );
        assert!(s.variables[1].values[1].sets.is_empty());
        assert_eq!(s.requirements.len(), 2);
        assert_eq!(s.requirements[1].text, "availability >= 0.999");
        assert_eq!(s.replications, Replications { min: 2, max: 4, step: 2 });
        assert_eq!(s.rule, Rule::EveryReplication);
        assert_eq!(s.variants[0].scale, vec![("x.y".to_string(), 1.3)]);
        assert!(s.variables[0].origin.ends_with("/plan.yaml:2:5"), "{}", s.variables[0].origin);
    }

    #[test]
    fn bad_files_name_the_line() {
        for (text, line, what) in [
            ("variables:\n  - set: a\n    range: [5, 2]\nrequirements: [x < 1]\n", "plan.yaml:2:", "empty"),
            (
                "variables:\n  - set: a\n    range: [1, 2]\n    values: [3]\nrequirements: [x < 1]\n",
                "plan.yaml:2:",
                "exactly one",
            ),
            ("requirements: [x < 1]\nobjective: 'cost <'\n", "plan.yaml:2:", "objective"),
            ("requirements: ['x == 1']\n", "plan.yaml:1:", "cannot be decided"),
            ("requirements: [x < 1]\nconfidence: 1.5\n", "plan.yaml:2:", "confidence"),
            ("requirements: [x < 1]\nreplications: {min: 1, max: 1}\n", "plan.yaml:2:", "at least 2"),
            ("requirements: [x < 1]\nbogus: 1\n", "plan.yaml:2:", "unknown field"),
            ("variables:\n  - name: s\n    choices: []\nrequirements: [x < 1]\n", "plan.yaml:2:", "empty"),
        ] {
            let e = read_text(text).expect_err(text);
            assert!(e.contains(line) && e.contains(what), "{text}: {e}");
        }
        let e = read(None, &Flags::default()).expect_err("no requirements");
        assert!(e.contains("no requirements"), "{e}");
    }

    #[test]
    fn flags_add_to_the_plan() {
        let flags = Flags {
            params: vec![ParamSpec::Range {
                path: "a.0".into(),
                start: "1".into(),
                end: "3".into(),
                step: None,
            }],
            monotone: vec!["a[0]=decreasing".into()],
            require: vec!["x < 1".into()],
            replications: Some("2..5".into()),
            under: vec!["{name: v, set: {b: 2}}".into()],
            ..Flags::default()
        };
        let s = read(None, &flags).expect("valid");
        assert_eq!(s.variables[0].monotone, Some(Direction::Decreasing));
        assert_eq!(s.replications, Replications { min: 2, max: 5, step: 2 });
        assert_eq!(s.variants[0].sets, ["b=2"]);
        assert_eq!(s.objective.text, "cost");
        let bad = Flags {
            params: vec![ParamSpec::Range {
                path: "a".into(),
                start: "1".into(),
                end: "2".into(),
                step: Some("0.5".into()),
            }],
            require: vec!["x < 1".into()],
            ..Flags::default()
        };
        assert!(read(None, &bad).expect_err("decimals").contains("whole numbers"));
    }
}
