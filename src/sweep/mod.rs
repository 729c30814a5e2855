//! Parameter sweeps: many runs of one scenario over a grid of parameter values and
//! replications, in parallel, with per-point statistics, resume, shards and CI checks.
//!
//! - [`grid`]: parameters (dotted scenario paths, exactly as `--set` takes them) and their
//!   values, the cartesian product (first parameter outermost, replications innermost:
//!   run `i` is point `i / R`, replication `i % R`) and the replication seeds
//!   (`base + r`, the same at every point so comparisons are paired).
//! - [`store`]: the folder layout. Each run is written atomically to `runs/run-<i>.csv` as
//!   it finishes; `runs.csv` and `points.csv` are assembled from those files only, so the
//!   bytes do not depend on `--jobs`, on interruptions (`--resume`) or on `--shard`+`merge`.
//! - [`stats`]: mean, sd and Student-t 95 % confidence intervals per grid point.
//! - [`check`]: `--check` expressions on run and point rows (exit 3 when violated).
//! - [`baseline`]: `--baseline`/`--tolerance` regression comparison of point means.
//!
//! Exit codes (mapped by the CLI): 0 success, 1 a run failed (a panic in the simulation,
//! recorded as `runs/run-<i>.failed`; the other runs go on), 2 bad input, 3 a check failed
//! or a metric regressed beyond the tolerance.

pub mod baseline;
pub mod check;
pub mod grid;
pub mod stats;
pub mod store;

use crate::runner;
use crate::scenario::{Scenario, ScenarioError};
use check::{Check, Target};
use grid::{Grid, Parameter};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use store::{Definition, Record, Shard, SweepJson, Table};

/// A parameter as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamSpec {
    /// `-P NAME START END [STEP]`
    Range { path: String, start: String, end: String, step: Option<String> },
    /// `-L NAME a,b,c`
    List { path: String, values: String },
}

/// Everything `clustersim sweep` takes (free of clap types).
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub scenario: PathBuf,
    pub sets: Vec<String>,
    pub duration: Option<String>,
    pub seed: Option<u64>,
    /// `-P` / `-L` in command-line order.
    pub params: Vec<ParamSpec>,
    pub sweep_file: Option<PathBuf>,
    pub replications: Option<u32>,
    pub jobs: Option<usize>,
    pub out: Option<PathBuf>,
    pub force: bool,
    pub resume: bool,
    pub shard: Option<String>,
    pub checks: CheckOptions,
    pub quiet: bool,
    /// Draw charts/ and index.html from points.csv when the sweep is complete.
    pub charts: bool,
}

/// `--check`, `--baseline`, `--tolerance` (shared by `sweep` and `merge`).
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    pub checks: Vec<String>,
    pub baseline: Option<PathBuf>,
    pub tolerance: Option<String>,
}

/// Why a sweep did not succeed; the CLI maps each to an exit code.
#[derive(Debug)]
pub enum SweepError {
    /// Bad input (exit 2).
    Input(String),
    /// An I/O or internal failure (exit 1).
    Internal(String),
    /// Some runs failed (exit 1); the others finished and were written.
    RunsFailed(String),
    /// A check failed or a metric regressed (exit 3); the tables went to stderr.
    ChecksFailed(String),
}

type Result<T> = std::result::Result<T, SweepError>;

fn input<T>(r: std::result::Result<T, String>) -> Result<T> {
    r.map_err(SweepError::Input)
}

/// The sweep file (`--sweep-file`).
#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    #[serde(default)]
    parameters: Vec<FileParameter>,
    replications: Option<u32>,
    #[serde(default)]
    checks: Vec<String>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FileParameter {
    path: String,
    values: Option<Vec<serde_json::Value>>,
    range: Option<FileRange>,
}

#[derive(serde::Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FileRange {
    start: serde_json::Value,
    end: serde_json::Value,
    step: Option<serde_json::Value>,
}

/// A YAML value as `--set` reads it back: strings bare, everything else as JSON (which
/// is YAML flow syntax).
fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn read_sweep_file(path: &Path) -> Result<(Vec<Parameter>, Option<u32>, Vec<String>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SweepError::Input(format!("--sweep-file {}: cannot read: {e}", path.display())))?;
    let f: SweepFile = serde_saphyr::from_str(&text).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        SweepError::Input(format!(
            "{}:{line}:{column}: {}; expected `parameters: [{{path: P, values: [..]}} or {{path: P, range: \
             {{start: A, end: B, step: C}}}}]`, `replications: N`, `checks: [EXPR, ..]`",
            path.display(),
            crate::scenario::bare_message(&e)
        ))
    })?;
    let mut params = Vec::new();
    for (i, p) in f.parameters.iter().enumerate() {
        let at = format!("{}: parameters[{i}] ({})", path.display(), p.path);
        let values = match (&p.values, &p.range) {
            (Some(v), None) => v.iter().map(value_text).collect(),
            (None, Some(r)) => {
                let step = r.step.as_ref().map(value_text);
                grid::expand_range(&value_text(&r.start), &value_text(&r.end), step.as_deref())
                    .map_err(|m| SweepError::Input(format!("{at}: range: {m}")))?
            }
            _ => {
                return Err(SweepError::Input(format!(
                    "{at}: expected exactly one of `values: [..]` or `range: {{start, end, step}}`"
                )));
            }
        };
        params.push(Parameter { path: p.path.trim().to_string(), values });
    }
    Ok((params, f.replications, f.checks))
}

fn flag_parameter(spec: &ParamSpec) -> Result<Parameter> {
    match spec {
        ParamSpec::Range { path, start, end, step } => {
            let values = grid::expand_range(start, end, step.as_deref()).map_err(|m| {
                let step = step.as_deref().map(|s| format!(" {s}")).unwrap_or_default();
                SweepError::Input(format!("-P {path} {start} {end}{step}: {m}"))
            })?;
            Ok(Parameter { path: path.clone(), values })
        }
        ParamSpec::List { path, values } => {
            let values = grid::split_list(values)
                .map_err(|m| SweepError::Input(format!("-L {path} {values}: {m}")))?;
            Ok(Parameter { path: path.clone(), values })
        }
    }
}

/// The resolved grid and what each run needs.
struct Plan {
    definition: Definition,
    grid: Grid,
    /// The scenario of each grid point (fixed overrides, point values, seed).
    scenarios: Vec<Scenario>,
    name: String,
}

fn plan(o: &Options, parameters: Vec<Parameter>, replications: u32) -> Result<Plan> {
    let mut fixed = o.sets.clone();
    if let Some(d) = &o.duration {
        fixed.push(input(runner::duration_override(d))?);
    }
    // Parameters: each path once, each value once, no clash with --set or --seed.
    for (i, p) in parameters.iter().enumerate() {
        if p.path.is_empty() {
            return Err(SweepError::Input(
                "a parameter has an empty path; expected e.g. nodePools.0.count".into(),
            ));
        }
        if p.values.is_empty() {
            return Err(SweepError::Input(format!("parameter {}: no values; expected at least one", p.path)));
        }
        if parameters[..i].iter().any(|q| q.path == p.path) {
            return Err(SweepError::Input(format!(
                "parameter {} is given twice (-P/-L or --sweep-file); expected each path once",
                p.path
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = p.values.iter().find(|v| !seen.insert(v.as_str())) {
            return Err(SweepError::Input(format!(
                "parameter {}: the value {dup} is listed twice; expected distinct values",
                p.path
            )));
        }
        if let Some(s) = o.sets.iter().find(|s| s.split_once('=').is_some_and(|(k, _)| k.trim() == p.path)) {
            return Err(SweepError::Input(format!(
                "--set {s} fixes the swept parameter {}; drop one of them",
                p.path
            )));
        }
        if p.path == "seed" && o.seed.is_some() {
            return Err(SweepError::Input(
                "--seed fixes the seed, which is also a swept parameter; drop one of them".into(),
            ));
        }
    }
    if replications == 0 {
        return Err(SweepError::Input("--replications 0: expected at least 1".into()));
    }
    let grid = Grid { parameters, replications };
    let points = grid.points();
    if points.checked_mul(replications as usize).is_none_or(|n| n > grid::MAX_RUNS) {
        return Err(SweepError::Input(format!(
            "the sweep has {points} grid points × {replications} replications; at most {} runs are allowed",
            grid::MAX_RUNS
        )));
    }
    // The base scenario (fixed overrides only) names the default output folder and
    // validates the fixed overrides with their own messages.
    let base = runner::load(&o.scenario, &fixed, o.seed).map_err(|e| SweepError::Input(e.to_string()))?;
    let name = base.name.clone().unwrap_or_else(|| "scenario".into());
    let mut scenarios = Vec::with_capacity(points);
    for point in 0..points {
        let point_sets = grid.sets(point);
        let mut sets = fixed.clone();
        sets.extend(point_sets.iter().cloned());
        let s = runner::load(&o.scenario, &sets, o.seed).map_err(|e| {
            SweepError::Input(match e {
                ScenarioError::Override { arg, message } if point_sets.contains(&arg) => {
                    let path = arg.split_once('=').map_or(arg.as_str(), |(p, _)| p);
                    format!(
                        "parameter {path} (-P/-L or --sweep-file), value from {arg:?}: {message}; expected a \
                         dotted scenario path and values that --set {path}=VALUE accepts"
                    )
                }
                other => format!("at grid point {}: {other}", point_sets.join(" ")),
            })
        })?;
        scenarios.push(s);
    }
    let bytes = std::fs::read(&o.scenario)
        .map_err(|e| SweepError::Input(format!("{}: cannot read the scenario: {e}", o.scenario.display())))?;
    let definition = Definition {
        clustersim_version: crate::VERSION.to_string(),
        scenario_file: o.scenario.display().to_string(),
        scenario_fnv1a: store::fnv1a(&bytes),
        overrides: fixed,
        seed: o.seed,
        parameters: grid.parameters.clone(),
        replications,
        runs: grid.runs(),
    };
    Ok(Plan { definition, grid, scenarios, name })
}

/// Parsed `--check`, baseline and tolerance.
struct Checks {
    checks: Vec<Check>,
    baseline: Option<(PathBuf, Table)>,
    tolerance: f64,
}

fn parse_checks(c: &CheckOptions, extra: &[String]) -> Result<Checks> {
    let mut checks = Vec::new();
    for text in extra.iter().chain(&c.checks) {
        checks.push(input(check::parse(text))?);
    }
    let tolerance = match &c.tolerance {
        Some(t) => input(baseline::parse_tolerance(t))?,
        None => 0.05,
    };
    if c.tolerance.is_some() && c.baseline.is_none() {
        return Err(SweepError::Input("--tolerance needs --baseline OLD/points.csv".into()));
    }
    let baseline = match &c.baseline {
        Some(p) => Some((p.clone(), input(Table::read(p).map_err(|m| format!("--baseline {m}")))?)),
        None => None,
    };
    Ok(Checks { checks, baseline, tolerance })
}

/// True when `dir` exists and holds anything.
fn has_content(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

/// Removes what a previous sweep left in `dir` (only the files a sweep writes).
fn clear(dir: &Path) -> Result<()> {
    let io = |p: &Path, e: std::io::Error| SweepError::Input(format!("{}: cannot remove: {e}", p.display()));
    for f in ["runs.csv", "points.csv", "sweep.json"] {
        let p = dir.join(f);
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| io(&p, e))?;
        }
    }
    let rd = store::runs_dir(dir);
    if let Ok(entries) = std::fs::read_dir(&rd) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("run-") || name.starts_with(".run-") {
                std::fs::remove_file(e.path()).map_err(|err| io(&e.path(), err))?;
            }
        }
    }
    Ok(())
}

/// The columns a run row has: key columns then the summary (without its `seed`).
fn run_row(
    grid: &Grid,
    point: usize,
    r: u32,
    seed: u64,
    summary: &[(String, crate::metrics::Cell)],
) -> Table {
    let mut header = store::key_columns(grid);
    let mut row: Vec<String> = grid.values(point).into_iter().map(String::from).collect();
    row.push(r.to_string());
    row.push(seed.to_string());
    for (k, v) in summary {
        if k != "seed" {
            header.push(k.clone());
            row.push(v.render());
        }
    }
    Table { header, rows: vec![row] }
}

/// Runs run `i`: its row, or the failure message.
fn compute(plan: &Plan, i: usize) -> std::result::Result<Table, String> {
    let (point, r) = plan.grid.locate(i);
    let s = &plan.scenarios[point];
    let seed = grid::replication_seed(s.seed, r);
    runner::simulate(s, seed, None)
        .map(|out| run_row(&plan.grid, point, r, seed, &out.summary))
        .map_err(|msg| format!("run {i} (grid point {point}, replication {r}, seed {seed}) failed: {msg}"))
}

/// Records run `i` in `dir`; returns whether it succeeded. `Err` only for a file that
/// cannot be written.
fn record(
    dir: &Path,
    i: usize,
    result: &std::result::Result<Table, String>,
) -> std::result::Result<bool, String> {
    let write = |path: PathBuf, bytes: &[u8]| {
        crate::output::write_atomic(&path, bytes)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))
    };
    match result {
        Ok(t) => {
            write(store::run_file(dir, i, false), &t.to_csv().map_err(|e| e.to_string())?)?;
            let _ = std::fs::remove_file(store::run_file(dir, i, true));
            Ok(true)
        }
        Err(msg) => {
            write(store::run_file(dir, i, true), format!("{msg}\n").as_bytes())?;
            Ok(false)
        }
    }
}

/// The header of points.csv for a run header.
fn point_columns(grid: &Grid, run_header: &[String]) -> Vec<String> {
    let keys = store::key_columns(grid);
    let mut h: Vec<String> = keys[..grid.parameters.len()].to_vec();
    h.push("replications".into());
    for c in run_header.iter().filter(|c| !keys.contains(c)) {
        for s in ["mean", "sd", "ci95_lo", "ci95_hi"] {
            h.push(format!("{c}_{s}"));
        }
    }
    h
}

fn validate_checks(checks: &[Check], grid: &Grid, run_header: &[String]) -> Result<()> {
    let points = point_columns(grid, run_header);
    for c in checks {
        let cols = if c.target == Target::Runs { run_header } else { &points[..] };
        input(c.validate_columns(cols))?;
    }
    Ok(())
}

/// `clustersim sweep`.
pub fn sweep(o: &Options) -> Result<()> {
    let started = std::time::Instant::now();
    // Everything that can be checked before a run is checked first.
    let shard = o.shard.as_deref().map(Shard::parse).transpose().map_err(SweepError::Input)?;
    if o.jobs == Some(0) {
        return Err(SweepError::Input("--jobs 0: expected at least 1 (default: every core)".into()));
    }
    if o.force && o.resume {
        return Err(SweepError::Input("--force and --resume exclude each other; give one".into()));
    }
    let (mut parameters, file_reps, file_checks) = match &o.sweep_file {
        Some(f) => read_sweep_file(f)?,
        None => (Vec::new(), None, Vec::new()),
    };
    for spec in &o.params {
        parameters.push(flag_parameter(spec)?);
    }
    let checks = parse_checks(&o.checks, &file_checks)?;
    if shard.is_some()
        && (checks.baseline.is_some() || checks.checks.iter().any(|c| c.target == Target::Points))
    {
        return Err(SweepError::Input(
            "--shard: grid-point checks (points:) and --baseline need every run; give them to `clustersim \
             merge` instead"
                .into(),
        ));
    }
    let replications = o.replications.or(file_reps).unwrap_or(1);
    let plan = plan(o, parameters, replications)?;
    let dir = o.out.clone().unwrap_or_else(|| Path::new("results").join(format!("{}-sweep", plan.name)));
    let this = SweepJson { definition: plan.definition.clone(), shard, seeds: store::SEEDS_DOC.into() };

    // The output folder: never overwritten without --force; --resume needs the same sweep.
    // Nothing is written before the checks are validated.
    let mut resuming = false;
    if has_content(&dir) {
        if o.resume {
            match input(store::read_sweep_json(&dir))? {
                None => {
                    return Err(SweepError::Input(format!(
                        "--resume: {} has content but no sweep.json; expected the --out folder of a sweep \
                         (use --force to overwrite it)",
                        dir.display()
                    )));
                }
                Some(old) => {
                    if let Some(d) = plan.definition.difference(&old.definition) {
                        return Err(SweepError::Input(format!(
                            "--resume: {} holds a different sweep ({d}; this sweep vs the folder's); use the \
                             same scenario, overrides and parameters, or --force to start over",
                            dir.display()
                        )));
                    }
                    if old.shard != shard {
                        let show = |s: Option<Shard>| {
                            s.map_or("none".into(), |s| format!("{}/{}", s.index, s.count))
                        };
                        return Err(SweepError::Input(format!(
                            "--resume: {} holds shard {} but this sweep is shard {}; give the same --shard",
                            dir.display(),
                            show(old.shard),
                            show(shard)
                        )));
                    }
                }
            }
            resuming = true;
        } else if !o.force {
            return Err(SweepError::Input(format!(
                "--out {}: the folder exists and is not empty; add --resume to finish the sweep it holds, or \
                 --force to overwrite it",
                dir.display()
            )));
        }
    }

    let mine: Vec<usize> = (0..plan.grid.runs()).filter(|&i| shard.is_none_or(|s| s.owns(i))).collect();
    let existing = if resuming { input(store::scan(&dir))? } else { BTreeMap::new() };
    let mut pending: Vec<usize> =
        mine.iter().copied().filter(|i| !matches!(existing.get(i), Some(Record::Done(_)))).collect();
    let resumed = mine.len() - pending.len();

    // Checks name columns that exist only once a run has produced its summary: validate
    // them on a finished run (running the first one now if none is on disk).
    let mut first: Option<(usize, std::result::Result<Table, String>)> = None;
    if !checks.checks.is_empty() {
        let on_disk = mine.iter().find_map(|i| match existing.get(i) {
            Some(Record::Done(t)) => Some(t.header.clone()),
            _ => None,
        });
        let header = match on_disk {
            Some(h) => Some(h),
            None if !pending.is_empty() => {
                let i = pending.remove(0);
                let result = compute(&plan, i);
                let header = result.as_ref().ok().map(|t| t.header.clone());
                first = Some((i, result));
                header
            }
            None => None,
        };
        if let Some(h) = header {
            validate_checks(&checks.checks, &plan.grid, &h)?;
        }
    }

    if o.force {
        clear(&dir)?;
    }
    std::fs::create_dir_all(store::runs_dir(&dir))
        .map_err(|e| SweepError::Input(format!("--out {}: cannot create the folder: {e}", dir.display())))?;
    store::write_sweep_json(&dir, &this).map_err(SweepError::Internal)?;

    let bar = if o.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(mine.len() as u64), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} runs, {msg}, ETA {eta}",
        )
        .map_err(|e| SweepError::Internal(e.to_string()))?,
    );
    bar.set_prefix(plan.name.clone());
    bar.set_position(resumed as u64);
    let failures = AtomicUsize::new(0);
    let report = |ok: bool| {
        if !ok {
            failures.fetch_add(1, Ordering::Relaxed);
        }
        bar.inc(1);
        bar.set_message(format!("{} failed", failures.load(Ordering::Relaxed)));
    };
    bar.set_message("0 failed");
    if let Some((i, result)) = &first {
        report(record(&dir, *i, result).map_err(SweepError::Internal)?);
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(o.jobs.unwrap_or(0))
        .build()
        .map_err(|e| SweepError::Internal(format!("cannot start the worker threads: {e}")))?;
    let io_errors: Vec<String> = pool.install(|| {
        pending
            .par_iter()
            .filter_map(|&i| match record(&dir, i, &compute(&plan, i)) {
                Ok(ok) => {
                    report(ok);
                    None
                }
                Err(e) => {
                    report(false);
                    Some(e)
                }
            })
            .collect()
    });
    bar.finish_and_clear();
    if let Some(e) = io_errors.first() {
        return Err(SweepError::Internal(e.clone()));
    }

    let records = input(store::scan(&dir))?;
    let records: BTreeMap<usize, Record> = records.into_iter().filter(|(i, _)| mine.contains(i)).collect();
    let outcome = finish(&dir, &plan.definition, &records, shard.is_none(), &checks, o.charts)?;
    if !o.quiet {
        let what = match shard {
            Some(s) => format!("shard {}/{} of {} runs: {}", s.index, s.count, plan.grid.runs(), mine.len()),
            None => format!("{}", mine.len()),
        };
        eprintln!(
            "{}: {what} runs ({} now, {resumed} resumed, {} failed) in {:.3} s wall; results in {}",
            plan.name,
            mine.len() - resumed,
            outcome.failed.len(),
            started.elapsed().as_secs_f64(),
            dir.display()
        );
    }
    outcome.into_result()
}

/// What `finish` found.
struct Outcome {
    failed: Vec<(usize, String)>,
    checks_failed: usize,
    regressions: usize,
}

impl Outcome {
    fn into_result(self) -> Result<()> {
        if !self.failed.is_empty() {
            let list: Vec<String> = self.failed.iter().take(10).map(|(_, m)| format!("  {m}")).collect();
            return Err(SweepError::RunsFailed(format!(
                "{} run{} failed (a bug in clustersim, please report it); the others were written:\n{}",
                self.failed.len(),
                if self.failed.len() == 1 { "" } else { "s" },
                list.join("\n")
            )));
        }
        if self.checks_failed > 0 || self.regressions > 0 {
            let mut parts = Vec::new();
            if self.checks_failed > 0 {
                parts.push(format!("{} check(s) failed", self.checks_failed));
            }
            if self.regressions > 0 {
                parts.push(format!("{} metric(s) regressed against the baseline", self.regressions));
            }
            return Err(SweepError::ChecksFailed(parts.join("; ")));
        }
        Ok(())
    }
}

/// Assembles (when `complete`) runs.csv and points.csv from `records`, evaluates the checks
/// and the baseline.
fn finish(
    dir: &Path,
    def: &Definition,
    records: &BTreeMap<usize, Record>,
    complete: bool,
    checks: &Checks,
    charts: bool,
) -> Result<Outcome> {
    let grid = def.grid();
    let failed: Vec<(usize, String)> = records
        .iter()
        .filter_map(|(i, r)| match r {
            Record::Failed(m) => Some((*i, m.lines().next().unwrap_or("").to_string())),
            Record::Done(_) => None,
        })
        .collect();
    let (runs, point_of_row) = store::runs_table(&grid, records);
    let write = |name: &str, t: &Table| -> Result<()> {
        let path = dir.join(name);
        let bytes = t.to_csv().map_err(|e| SweepError::Internal(e.to_string()))?;
        crate::output::write_atomic(&path, &bytes)
            .map_err(|e| SweepError::Internal(format!("{}: cannot write: {e}", path.display())))
    };
    let points = store::points_table(&grid, &runs, &point_of_row);
    if complete {
        write("runs.csv", &runs)?;
        write("points.csv", &points)?;
        if charts && !points.rows.is_empty() {
            crate::charts::plot_dir(dir, &crate::charts::PlotOptions::default())
                .map_err(|e| SweepError::Internal(format!("charts: {e}")))?;
        }
    }
    let keys = store::key_columns(&grid);
    let np = grid.parameters.len();
    // Columns can differ between grid points (e.g. a service present at some only): check
    // again against the union.
    if !runs.rows.is_empty() {
        validate_checks(&checks.checks, &grid, &runs.header)?;
    }
    let mut checks_failed = check::report(&checks.checks, Target::Runs, &runs, &keys);
    if complete {
        checks_failed += check::report(&checks.checks, Target::Points, &points, &keys[..np]);
    }
    let mut regressions = 0;
    if let (Some((path, old)), true) = (&checks.baseline, complete) {
        let c = input(baseline::compare(old, &path.display().to_string(), &points, checks.tolerance))?;
        regressions = c.regressions.len();
        if regressions > 0 {
            eprint!("{}", baseline::render(&c, &keys[..np], checks.tolerance));
        } else {
            eprintln!(
                "baseline: {} grid points, {} metrics compared, none regressed beyond {:.2}%{}",
                c.points_matched,
                c.metrics_compared,
                checks.tolerance * 100.0,
                if c.points_new > 0 {
                    format!(" ({} points not in the baseline)", c.points_new)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(Outcome { failed, checks_failed, regressions })
}

/// `clustersim merge DIR... --out OUT`.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    force: bool,
    c: &CheckOptions,
    quiet: bool,
    charts: bool,
) -> Result<()> {
    let checks = parse_checks(c, &[])?;
    if dirs.is_empty() {
        return Err(SweepError::Input("merge: expected at least one sweep folder".into()));
    }
    let mut first: Option<(PathBuf, SweepJson)> = None;
    let mut records: BTreeMap<usize, Record> = BTreeMap::new();
    let mut shards: Vec<Shard> = Vec::new();
    for d in dirs {
        let Some(j) = input(store::read_sweep_json(d))? else {
            return Err(SweepError::Input(format!(
                "merge: {} has no sweep.json; expected the --out folder of a `clustersim sweep` (or a shard)",
                d.display()
            )));
        };
        if let Some((fd, fj)) = &first
            && let Some(diff) = fj.definition.difference(&j.definition)
        {
            return Err(SweepError::Input(format!(
                "merge: {} and {} come from different sweeps ({diff}); expected shards of one sweep definition",
                fd.display(),
                d.display()
            )));
        }
        shards.extend(j.shard);
        for (i, r) in input(store::scan(d))? {
            if i >= j.definition.runs {
                return Err(SweepError::Input(format!(
                    "merge: {} has run {i} but the sweep has {} runs",
                    d.display(),
                    j.definition.runs
                )));
            }
            match (records.get(&i), &r) {
                (Some(Record::Done(_)), _) => {}
                _ => {
                    records.insert(i, r);
                }
            }
        }
        if first.is_none() {
            first = Some((d.clone(), j));
        }
    }
    let Some((_, j)) = first else { unreachable!("dirs is not empty") };
    let def = j.definition;
    let missing: Vec<usize> = (0..def.runs).filter(|i| !records.contains_key(i)).collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(20).map(usize::to_string).collect();
        let mut which = String::new();
        if let Some(n) = shards.first().map(|s| s.count) {
            let mut ks: Vec<u32> = missing.iter().map(|&i| (i % n as usize) as u32 + 1).collect();
            ks.dedup();
            ks.sort();
            ks.dedup();
            let ks: Vec<String> = ks.iter().map(|k| format!("{k}/{n}")).collect();
            which = format!(" (they belong to shard {})", ks.join(", "));
        }
        return Err(SweepError::Input(format!(
            "merge: {} of {} runs are missing{which}: {}{}; expected every shard's folder (finish an interrupted \
             one with `clustersim sweep ... --shard K/N --resume`)",
            missing.len(),
            def.runs,
            shown.join(", "),
            if missing.len() > 20 { ", …" } else { "" }
        )));
    }
    let out_is_input = dirs.iter().any(|d| same_dir(d, out));
    if has_content(out) && !out_is_input {
        if !force {
            return Err(SweepError::Input(format!(
                "--out {}: the folder exists and is not empty; add --force to overwrite it",
                out.display()
            )));
        }
        clear(out)?;
    }
    std::fs::create_dir_all(store::runs_dir(out))
        .map_err(|e| SweepError::Input(format!("--out {}: cannot create the folder: {e}", out.display())))?;
    // Copy the run files so the merged folder is a complete sweep folder.
    if !out_is_input {
        for (i, r) in &records {
            let (path, bytes) = match r {
                Record::Done(t) => (store::run_file(out, *i, false), t.to_csv().map_err(|e| e.to_string())),
                Record::Failed(m) => (store::run_file(out, *i, true), Ok(format!("{m}\n").into_bytes())),
            };
            let bytes = bytes.map_err(SweepError::Internal)?;
            crate::output::write_atomic(&path, &bytes)
                .map_err(|e| SweepError::Internal(format!("{}: cannot write: {e}", path.display())))?;
        }
    }
    let merged = SweepJson { definition: def.clone(), shard: None, seeds: store::SEEDS_DOC.into() };
    store::write_sweep_json(out, &merged).map_err(SweepError::Internal)?;
    let outcome = finish(out, &def, &records, true, &checks, charts)?;
    if !quiet {
        eprintln!(
            "merge: {} runs from {} folder{} ({} failed); results in {}",
            def.runs,
            dirs.len(),
            if dirs.len() == 1 { "" } else { "s" },
            outcome.failed.len(),
            out.display()
        );
    }
    outcome.into_result()
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Evaluates run checks on the single summary row of `clustersim run`: parse errors and
/// unknown columns are input errors, violations print a table and give `ChecksFailed`.
pub fn check_run(texts: &[String], summary: &[(String, crate::metrics::Cell)]) -> Result<()> {
    let checks = parse_run_checks(texts)?;
    let table = Table {
        header: summary.iter().map(|(k, _)| k.clone()).collect(),
        rows: vec![summary.iter().map(|(_, v)| v.render()).collect()],
    };
    for c in &checks {
        input(c.validate_columns(&table.header))?;
    }
    let failed = check::report(&checks, Target::Runs, &table, &["seed".to_string()]);
    if failed > 0 {
        return Err(SweepError::ChecksFailed(format!("{failed} check(s) failed")));
    }
    Ok(())
}

/// Parses the `--check`s of `clustersim run` (run rows only).
pub fn parse_run_checks(texts: &[String]) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    for t in texts {
        let c = input(check::parse(t))?;
        if c.target == Target::Points {
            return Err(SweepError::Input(format!(
                "--check {t:?}: `points:` checks apply to sweeps; `run` has one summary row (drop the prefix)"
            )));
        }
        checks.push(c);
    }
    Ok(checks)
}
