//! What a plan reports: `plan.csv` (every evaluated configuration under every variant: its
//! metrics with their bounds and the decision per requirement), `runs.csv` (every run's
//! summary row), `plan.json` (the recommendation, what binds it, the decision rule, the
//! search's runs against the full grid's), and the text on the console. Everything here
//! is a function of the evaluated configurations, so the same inputs give the same bytes.

use super::decide::{self, Decision};
use super::search::{BranchEnd, Found, Point};
use super::{ConfigResult, Context, VariantResult, space};
use crate::sweep::store::{Table, merge_columns};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// The evaluated configurations and what the search found.
pub struct Outcome<'a> {
    pub results: &'a BTreeMap<usize, ConfigResult>,
    /// The recommended configuration's grid index.
    pub best: Option<usize>,
    pub found: &'a Found,
    pub runs_used: usize,
}

impl<'a> Outcome<'a> {
    pub fn new(
        ctx: &Context,
        results: &'a BTreeMap<usize, ConfigResult>,
        found: &'a Found,
        runs_used: usize,
    ) -> Self {
        let best = found.best.as_ref().map(|(p, _)| ctx.space.grid(&ctx.space.value_indices(p)));
        Outcome { results, best, found, runs_used }
    }
}

/// The runs of the full grid: configurations × variants × the most replications.
pub fn full_grid_runs(ctx: &Context) -> usize {
    ctx.space.points().unwrap_or(0) * ctx.spec.variants.len() * ctx.spec.replications.max as usize
}

/// A number as the CSVs write it (6 decimals, no negative zero).
fn f6(v: f64) -> String {
    let s = format!("{v:.6}");
    if s == "-0.000000" { "0.000000".to_string() } else { s }
}

fn opt(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map(f6).unwrap_or_default()
}

fn num(v: Option<f64>) -> Value {
    v.filter(|x| x.is_finite()).map_or(Value::Null, Value::from)
}

/// The columns whose statistics plan.csv shows: the requirements', then the objective's.
fn metrics(ctx: &Context) -> Vec<String> {
    let mut m: Vec<String> = Vec::new();
    for c in
        ctx.spec.requirements.iter().map(|r| r.cmp.column.clone()).chain(ctx.spec.objective.expr.columns())
    {
        if !m.contains(&c) {
            m.push(c);
        }
    }
    m
}

/// One requirement under one variant: the decision, the rule's statistic and its slack.
struct Detail {
    decision: Decision,
    stat: Option<f64>,
    slack: Option<f64>,
}

fn detail(ctx: &Context, r: &VariantResult, k: usize) -> Detail {
    let req = &ctx.spec.requirements[k];
    let values = r.values(&req.cmp.column);
    let xs: Vec<f64> = values.iter().flatten().copied().collect();
    let b = decide::bounds(&xs, ctx.spec.confidence);
    let stat = if values.iter().any(Option::is_none) {
        None
    } else {
        decide::statistic(ctx.spec.rule, &req.cmp, &values, b.as_ref())
    };
    Detail { decision: r.decisions[k], stat, slack: stat.map(|s| decide::slack(&req.cmp, s)) }
}

/// The (requirement, variant) with the least slack: what binds a configuration.
fn binding(ctx: &Context, c: &ConfigResult) -> Option<(usize, usize, f64, f64)> {
    let mut best: Option<(usize, usize, f64, f64)> = None;
    for (v, r) in c.variants.iter().enumerate() {
        for k in 0..ctx.spec.requirements.len() {
            let d = detail(ctx, r, k);
            if let (Some(stat), Some(slack)) = (d.stat, d.slack)
                && best.is_none_or(|b| slack < b.3)
            {
                best = Some((k, v, stat, slack));
            }
        }
    }
    best
}

/// The (requirement, variant) pairs a configuration misses.
fn misses(ctx: &Context, c: &ConfigResult) -> Vec<(usize, usize, Option<f64>)> {
    let mut out = Vec::new();
    for (v, r) in c.variants.iter().enumerate() {
        for k in 0..ctx.spec.requirements.len() {
            let d = detail(ctx, r, k);
            if d.decision == Decision::Fail {
                out.push((k, v, d.stat));
            }
        }
    }
    out
}

fn miss_json(ctx: &Context, m: &[(usize, usize, Option<f64>)]) -> Value {
    Value::Array(
        m.iter()
            .map(|(k, v, stat)| {
                json!({
                    "requirement": ctx.spec.requirements[*k].text,
                    "variant": ctx.spec.variants[*v].name,
                    "statistic": num(*stat),
                    "threshold": ctx.spec.requirements[*k].cmp.threshold,
                })
            })
            .collect(),
    )
}

fn miss_text(ctx: &Context, m: &[(usize, usize, Option<f64>)]) -> String {
    m.iter()
        .map(|(k, v, stat)| {
            format!(
                "{} under {} ({})",
                ctx.spec.requirements[*k].text,
                ctx.spec.variants[*v].name,
                stat.map_or("no value".to_string(), |s| format!("{} {}", stat_name(ctx, *k), short(s)))
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the rule compares: "upper bound", "lower bound", "worst run".
fn stat_name(ctx: &Context, k: usize) -> &'static str {
    let low =
        matches!(ctx.spec.requirements[k].cmp.op, crate::sweep::check::Op::Lt | crate::sweep::check::Op::Le);
    match (ctx.spec.rule, low) {
        (decide::Rule::MeanBound, true) => "upper bound",
        (decide::Rule::MeanBound, false) => "lower bound",
        (decide::Rule::EveryReplication, _) => "worst run",
    }
}

/// A figure for the console: up to 4 significant decimals.
fn short(v: f64) -> String {
    if v.abs() >= 100.0 { format!("{v:.1}") } else { format!("{v:.4}") }
}

fn values_json(ctx: &Context, vi: &[usize]) -> Value {
    let mut m = serde_json::Map::new();
    for (v, l) in ctx.spec.variables.iter().zip(space::labels(&ctx.spec, vi)) {
        m.insert(v.name.clone(), Value::String(l));
    }
    Value::Object(m)
}

/// plan.csv: one row per evaluated configuration and variant, by grid index then variant.
pub fn plan_table(ctx: &Context, out: &Outcome) -> Table {
    let spec = &ctx.spec;
    let metrics = metrics(ctx);
    let mut header: Vec<String> = vec!["order".into(), "config".into()];
    header.extend(spec.variables.iter().map(|v| format!("var_{}", v.name)));
    header.extend(["variant".into(), "replications".into()]);
    for m in &metrics {
        for s in ["mean", "sd", "lower", "upper"] {
            header.push(format!("{m}_{s}"));
        }
    }
    for (k, r) in spec.requirements.iter().enumerate() {
        header.push(format!("req{}_{}", k + 1, r.cmp.column));
    }
    header.extend(
        ["variant_verdict", "objective", "config_objective", "config_verdict", "recommended"]
            .map(String::from),
    );
    let mut rows = Vec::new();
    for c in out.results.values() {
        for (v, r) in c.variants.iter().enumerate() {
            let mut row = vec![c.order.to_string(), c.grid.to_string()];
            row.extend(space::labels(spec, &c.vi));
            row.push(spec.variants[v].name.clone());
            row.push(r.rows.len().to_string());
            for m in &metrics {
                let xs: Vec<f64> = r.values(m).into_iter().flatten().collect();
                let b = decide::bounds(&xs, spec.confidence);
                row.push(opt(b.map(|b| b.mean)));
                row.push(opt(b.and_then(|b| b.sd)));
                row.push(opt(b.and_then(|b| b.lower)));
                row.push(opt(b.and_then(|b| b.upper)));
            }
            row.extend(r.decisions.iter().map(|d| d.name().to_string()));
            row.push(r.verdict.name().to_string());
            let obj: Option<Vec<f64>> = r.objective_values(&spec.objective.expr).into_iter().collect();
            row.push(opt(obj.filter(|x| !x.is_empty()).map(|x| x.iter().sum::<f64>() / x.len() as f64)));
            row.push(opt(Some(c.objective)));
            row.push(if c.feasible { "pass" } else { "fail" }.to_string());
            row.push(if out.best == Some(c.grid) { "yes" } else { "" }.to_string());
            rows.push(row);
        }
    }
    Table { header, rows }
}

/// runs.csv: every run of every evaluated configuration, by grid index, variant and
/// replication; the summary columns are the union over runs.
pub fn runs_table(ctx: &Context, out: &Outcome) -> Table {
    let spec = &ctx.spec;
    let mut keys: Vec<String> = vec!["config".into()];
    keys.extend(spec.variables.iter().map(|v| format!("var_{}", v.name)));
    keys.extend(["variant".into(), "replication".into()]);
    let mut columns: Vec<String> = Vec::new();
    for c in out.results.values() {
        for r in &c.variants {
            for t in &r.rows {
                merge_columns(&mut columns, &t.header);
            }
        }
    }
    let mut header = keys.clone();
    header.extend(columns);
    let mut rows = Vec::new();
    for c in out.results.values() {
        for (v, r) in c.variants.iter().enumerate() {
            for (rep, t) in r.rows.iter().enumerate() {
                let mut row = vec![c.grid.to_string()];
                row.extend(space::labels(spec, &c.vi));
                row.push(spec.variants[v].name.clone());
                row.push(rep.to_string());
                row.extend(
                    header[keys.len()..].iter().map(|h| t.cell(&t.rows[0], h).unwrap_or("").to_string()),
                );
                rows.push(row);
            }
        }
    }
    Table { header, rows }
}

/// plan.json while the plan runs: what `--resume` checks.
pub fn started_json(ctx: &Context) -> Value {
    json!({
        "scenario_name": ctx.name,
        "id": ctx.id,
        "definition": ctx.definition,
        "status": "running",
    })
}

/// For each monotone variable, the configuration one step weaker than `c`: whether it was
/// run and what it misses (what stops a smaller plan).
fn weaker(ctx: &Context, out: &Outcome, c: &ConfigResult) -> Vec<Value> {
    let p: Point = ctx.space.point(&c.vi);
    let mut v = Vec::new();
    for (k, &var) in ctx.space.monotone_vars().iter().enumerate() {
        if p.idx[k] == 0 {
            continue;
        }
        let mut q = p.clone();
        q.idx[k] -= 1;
        let vi = ctx.space.value_indices(&q);
        let grid = ctx.space.grid(&vi);
        let name = &ctx.spec.variables[var].name;
        let label = ctx.spec.variables[var].values[vi[var]].label.clone();
        v.push(match out.results.get(&grid) {
            Some(r) => json!({
                "variable": name, "value": label, "config": grid, "run": true,
                "verdict": if r.feasible { "pass" } else { "fail" },
                "misses": miss_json(ctx, &misses(ctx, r)),
            }),
            None => json!({"variable": name, "value": label, "config": grid, "run": false}),
        });
    }
    v
}

/// The infeasible configurations closest to passing: fewest misses, then least shortfall.
fn closest<'a>(ctx: &Context, out: &'a Outcome) -> Vec<&'a ConfigResult> {
    let mut all: Vec<(usize, f64, &ConfigResult)> = out
        .results
        .values()
        .filter(|c| !c.feasible)
        .map(|c| {
            let m = misses(ctx, c);
            let worst = m
                .iter()
                .map(|(k, _, s)| {
                    s.map_or(f64::NEG_INFINITY, |s| decide::slack(&ctx.spec.requirements[*k].cmp, s))
                })
                .fold(f64::INFINITY, f64::min);
            (m.len(), worst, c)
        })
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.grid.cmp(&b.2.grid)));
    all.into_iter().take(5).map(|(.., c)| c).collect()
}

fn variant_json(ctx: &Context, r: &VariantResult, v: usize) -> Value {
    let reqs: Vec<Value> = (0..ctx.spec.requirements.len())
        .map(|k| {
            let req = &ctx.spec.requirements[k];
            let xs: Vec<f64> = r.values(&req.cmp.column).into_iter().flatten().collect();
            let b = decide::bounds(&xs, ctx.spec.confidence);
            let d = detail(ctx, r, k);
            json!({
                "requirement": req.text,
                "mean": num(b.map(|b| b.mean)),
                "sd": num(b.and_then(|b| b.sd)),
                "lower": num(b.and_then(|b| b.lower)),
                "upper": num(b.and_then(|b| b.upper)),
                "statistic": num(d.stat),
                "slack": num(d.slack),
                "decision": d.decision.name(),
            })
        })
        .collect();
    json!({
        "variant": ctx.spec.variants[v].name,
        "replications": r.rows.len(),
        "verdict": r.verdict.name(),
        "requirements": reqs,
    })
}

/// plan.json at the end.
pub fn plan_json(ctx: &Context, out: &Outcome) -> Value {
    let spec = &ctx.spec;
    let recommendation = out.best.and_then(|g| out.results.get(&g)).map(|c| {
        let bind = binding(ctx, c).map(|(k, v, stat, slack)| {
            json!({
                "requirement": spec.requirements[k].text,
                "variant": spec.variants[v].name,
                "statistic": num(Some(stat)),
                "threshold": spec.requirements[k].cmp.threshold,
                "slack": num(Some(slack)),
            })
        });
        json!({
            "config": c.grid,
            "values": values_json(ctx, &c.vi),
            "overrides": space::config_sets(spec, &c.vi),
            "objective": num(Some(c.objective)),
            "binding": bind,
            "one_step_weaker": weaker(ctx, out, c),
            "variants": c.variants.iter().enumerate().map(|(v, r)| variant_json(ctx, r, v)).collect::<Vec<_>>(),
        })
    });
    let closest: Vec<Value> = if out.best.is_none() {
        closest(ctx, out)
            .into_iter()
            .map(|c| {
                json!({
                    "config": c.grid,
                    "values": values_json(ctx, &c.vi),
                    "objective": num(Some(c.objective)),
                    "misses": miss_json(ctx, &misses(ctx, c)),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let enumerated = ctx.space.enumerated_vars();
    let branches: Vec<Value> = out
        .found
        .branches
        .iter()
        .enumerate()
        .map(|(b, (end, feasible))| {
            let vi =
                ctx.space.value_indices(&Point { branch: b, idx: vec![0; ctx.space.monotone_vars().len()] });
            let mut m = serde_json::Map::new();
            for &i in enumerated {
                m.insert(
                    spec.variables[i].name.clone(),
                    Value::String(spec.variables[i].values[vi[i]].label.clone()),
                );
            }
            json!({
                "values": m,
                "end": match end { BranchEnd::Searched => "searched", BranchEnd::Pruned => "pruned" },
                "feasible_found": feasible,
            })
        })
        .collect();
    let order: Vec<usize> =
        out.found.evaluated.iter().map(|p| ctx.space.grid(&ctx.space.value_indices(p))).collect();
    json!({
        "scenario_name": ctx.name,
        "id": ctx.id,
        "definition": ctx.definition,
        "status": if out.best.is_some() { "recommended" } else { "no-plan" },
        "plan": {
            "requirements": spec.requirements.iter().map(|r| r.text.clone()).collect::<Vec<_>>(),
            "objective": spec.objective.text,
            "rule": spec.rule.name(),
            "confidence": spec.confidence,
            "replications": spec.replications,
            "decision_rule": spec.rule.describe(spec.confidence, spec.replications),
            "monotone": ctx.space.monotone_vars().iter().map(|&i| json!({
                "variable": spec.variables[i].name,
                "direction": spec.variables[i].monotone,
            })).collect::<Vec<_>>(),
        },
        "recommendation": recommendation,
        "closest": closest,
        "search": {
            "grid_points": ctx.space.points().unwrap_or(0),
            "variants": spec.variants.len(),
            "max_replications": spec.replications.max,
            "full_grid_runs": full_grid_runs(ctx),
            "full_grid_runs_definition": "configurations × variants × the most replications per variant",
            "configurations_evaluated": out.results.len(),
            "runs_used": out.runs_used,
            "evaluation_order": order,
            "branches": branches,
        },
    })
}

/// Writes plan.csv, runs.csv and plan.json.
pub fn write(dir: &Path, ctx: &Context, out: &Outcome) -> Result<(), String> {
    let put = |name: &str, t: &Table| -> Result<(), String> {
        let path = dir.join(name);
        let bytes = t.to_csv().map_err(|e| format!("{}: {e}", path.display()))?;
        crate::output::write_atomic(&path, &bytes)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))
    };
    put("plan.csv", &plan_table(ctx, out))?;
    put("runs.csv", &runs_table(ctx, out))?;
    super::store::write_json(dir, &plan_json(ctx, out))
}

/// The search's effort in one line.
fn effort(ctx: &Context, out: &Outcome) -> String {
    format!(
        "search: {} of {} configurations evaluated, {} runs against {} for the full grid ({} configurations × {} \
         variant{} × {} replications)",
        out.results.len(),
        ctx.space.points().unwrap_or(0),
        out.runs_used,
        full_grid_runs(ctx),
        ctx.space.points().unwrap_or(0),
        ctx.spec.variants.len(),
        if ctx.spec.variants.len() == 1 { "" } else { "s" },
        ctx.spec.replications.max
    )
}

/// The recommendation (stdout).
pub fn console_text(ctx: &Context, out: &Outcome) -> String {
    let spec = &ctx.spec;
    let mut s = String::new();
    if let Some(c) = out.best.and_then(|g| out.results.get(&g)) {
        s.push_str(&format!(
            "recommendation: {} ({} {})\n",
            space::describe(spec, &c.vi),
            spec.objective.text,
            short(c.objective)
        ));
        if let Some((k, v, stat, slack)) = binding(ctx, c) {
            s.push_str(&format!(
                "  binding: {} under {}: {} {} ({:.2} % margin)\n",
                spec.requirements[k].text,
                spec.variants[v].name,
                stat_name(ctx, k),
                short(stat),
                slack * 100.0
            ));
        }
        for w in weaker(ctx, out, c) {
            let what = match w.get("misses").and_then(Value::as_array) {
                Some(m) if !m.is_empty() => {
                    let g = w["config"].as_u64().unwrap_or(0) as usize;
                    out.results.get(&g).map(|r| miss_text(ctx, &misses(ctx, r))).unwrap_or_default()
                }
                Some(_) => "passes, but costs no less".to_string(),
                None => "not run (inferred from a weaker configuration)".to_string(),
            };
            s.push_str(&format!(
                "  one step weaker, {}={}: {what}\n",
                w["variable"].as_str().unwrap_or(""),
                w["value"].as_str().unwrap_or("")
            ));
        }
    } else {
        s.push_str("no configuration meets every requirement under every variant\n");
    }
    s.push_str(&format!("{}\n", effort(ctx, out)));
    s.push_str(&format!("rule: {}\n", spec.rule.describe(spec.confidence, spec.replications)));
    s
}

/// The message of exit 3: the closest configurations and what they miss.
pub fn no_plan_text(ctx: &Context, out: &Outcome) -> String {
    let mut s = format!(
        "no configuration of the {} evaluated meets every requirement under every variant; the closest:",
        out.results.len()
    );
    for c in closest(ctx, out) {
        s.push_str(&format!(
            "\n  {} ({} {}): misses {}",
            space::describe(&ctx.spec, &c.vi),
            ctx.spec.objective.text,
            short(c.objective),
            miss_text(ctx, &misses(ctx, c))
        ));
    }
    s
}
