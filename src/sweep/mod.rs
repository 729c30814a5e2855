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
//! recorded as `runs/run-<i>.failed`; the other runs go on), 2 bad input (before anything
//! runs, or grid points refused as runs: invalid or beyond this machine's limits, or bad
//! input for the run's seed (`sim::RunError::Input`), recorded like failures), 3 a check failed or a metric regressed beyond the tolerance, 4 the
//! results could not be written (no run is started after that).
//!
//! A sweep or merge holds an exclusive lock on its output folder while it writes it
//! (`output::folder`), and a merge a shared lock on each folder it reads.

pub mod baseline;
pub mod check;
pub mod grid;
pub mod stats;
pub mod store;

use crate::output::console;
use crate::output::folder::{self, FolderError};
use crate::output::progress::Progress;
use crate::runner;
use crate::scenario::{Scenario, ScenarioError};
use check::{Check, Target};
use grid::{Grid, Parameter};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use store::{Definition, Failure, Record, Shard, SweepJson, Table};

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
    /// Run grid points beyond this machine's estimated limits (`--no-limits`).
    pub no_limits: bool,
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
    /// Bad input (exit 2); nothing was run or written.
    Input(String),
    /// An internal failure (exit 1).
    Internal(String),
    /// The results could not be written (exit 4): a full disk, permissions.
    Io(String),
    /// Some runs failed (exit 1); the others finished and were written.
    RunsFailed(String),
    /// Some grid points were refused as bad input or beyond this machine's limits
    /// (exit 2); the other runs finished and were written.
    RunsRefused(String),
    /// A check failed or a metric regressed (exit 3); the tables went to stderr.
    ChecksFailed(String),
}

type Result<T> = std::result::Result<T, SweepError>;

fn input<T>(r: std::result::Result<T, String>) -> Result<T> {
    r.map_err(SweepError::Input)
}

impl From<FolderError> for SweepError {
    fn from(e: FolderError) -> Self {
        match e {
            FolderError::Input(m) => SweepError::Input(m),
            FolderError::Io(m) => SweepError::Io(m),
        }
    }
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
pub(crate) fn value_text(v: &serde_json::Value) -> String {
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

pub(crate) fn flag_parameter(spec: &ParamSpec) -> Result<Parameter> {
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

/// Grids of up to this many points have every point's scenario validated before anything
/// runs; a larger grid validates each parameter value once (the other parameters at their
/// first value) and every other point when it runs, so a million-point grid starts at once.
const EAGER_POINTS: usize = 1000;

/// The resolved grid and what each run needs. Grid points' scenarios are derived from the
/// base scenario when their runs start, never held all at once.
struct Plan {
    definition: Definition,
    grid: Grid,
    /// The scenario file (for messages and relative input files).
    file: PathBuf,
    /// The scenario with the fixed overrides and `--seed`.
    base: Scenario,
    name: String,
    no_limits: bool,
    /// Runs at once: at most --jobs (default: the cores) and the runs, and no more than the
    /// machine's memory holds at the largest estimate among the points validated up front.
    jobs: usize,
}

impl Plan {
    /// The scenario of grid point `point`: the base with the point's values.
    fn scenario(&self, point: usize) -> std::result::Result<Scenario, String> {
        let point_sets = self.grid.sets(point);
        runner::derive(&self.base, &self.file, &point_sets).map_err(|e| match e {
            ScenarioError::Override { arg, message } if point_sets.contains(&arg) => {
                let path = arg.split_once('=').map_or(arg.as_str(), |(p, _)| p);
                format!(
                    "parameter {path} (-P/-L or --sweep-file), value from {arg:?}: {message}; expected a dotted \
                     scenario path and values that --set {path}=VALUE accepts"
                )
            }
            other => format!("at grid point {}: {other}", point_sets.join(" ")),
        })
    }
}

fn plan(o: &Options, mut parameters: Vec<Parameter>, replications: u32) -> Result<Plan> {
    use crate::scenario::overrides::canonical_path;
    // `nodePools[0].count` and `nodePools.0.count` are one parameter, recorded dotted.
    for p in &mut parameters {
        p.path = canonical_path(&p.path);
    }
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
        if let Some(s) =
            o.sets.iter().find(|s| s.split_once('=').is_some_and(|(k, _)| canonical_path(k) == p.path))
        {
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
    let runs = grid.checked_points().and_then(|p| p.checked_mul(replications as usize));
    let Some(runs) = runs.filter(|&n| n <= grid::MAX_RUNS) else {
        let sizes: Vec<String> = grid.parameters.iter().map(|p| p.values.len().to_string()).collect();
        return Err(SweepError::Input(format!(
            "the sweep has {} values × {replications} replications; at most {} runs are allowed",
            sizes.join(" × "),
            grid::MAX_RUNS
        )));
    };
    // The base scenario (fixed overrides only) names the default output folder and
    // validates the fixed overrides with their own messages.
    let base = runner::load(&o.scenario, &fixed, o.seed).map_err(|e| SweepError::Input(e.to_string()))?;
    let name = base.name.clone().unwrap_or_else(|| "scenario".into());
    let definition = Definition {
        scenario: input(store::ScenarioIdentity::of(&o.scenario, &base, fixed))?,
        seed: o.seed,
        scenario_seed: base.seed,
        parameters: grid.parameters.clone(),
        replications,
        runs,
    };
    let jobs = o.jobs.unwrap_or_else(rayon::current_num_threads).min(runs).max(1);
    let mut plan =
        Plan { definition, grid, file: o.scenario.clone(), base, name, no_limits: o.no_limits, jobs };
    // Bad parameter values are bad input: found before anything runs.
    let points = plan.grid.points();
    let upfront: Vec<usize> = if points <= EAGER_POINTS {
        (0..points).collect()
    } else {
        let mut v = Vec::new();
        for (k, p) in plan.grid.parameters.iter().enumerate() {
            for j in 0..p.values.len() {
                let mut idx = vec![0; plan.grid.parameters.len()];
                idx[k] = j;
                v.push(plan.grid.point_of(&idx));
            }
        }
        v
    };
    let csv_only = crate::scenario::budget::Outputs::CSV_ONLY;
    let mut largest: u64 = 0;
    for point in upfront {
        let s = plan.scenario(point).map_err(SweepError::Input)?;
        largest = largest.max(crate::scenario::budget::estimate(&s).memory_for(csv_only));
    }
    if !plan.no_limits && largest > 0 {
        let memory = crate::scenario::budget::Limits::for_this_machine().memory_bytes;
        let fit = usize::try_from(memory / largest).unwrap_or(usize::MAX).max(1);
        plan.jobs = plan.jobs.min(fit);
    }
    Ok(plan)
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

/// The texts of `extra` then `c.checks`, each once.
fn check_texts(extra: &[String], c: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in extra.iter().chain(c) {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
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

/// Runs run `i`: its record (a row, or why it has none).
fn compute(plan: &Plan, i: usize) -> Record {
    let (point, r) = plan.grid.locate(i);
    let what = || {
        let sets = plan.grid.sets(point);
        let at = if sets.is_empty() { String::new() } else { format!(": {}", sets.join(" ")) };
        format!("run {i} (grid point {point}{at}, replication {r})")
    };
    let s = match plan.scenario(point) {
        Ok(s) => s,
        Err(m) => return Record::Failed(Failure::Input, format!("{} refused: {m}", what())),
    };
    // Whether a point is refused never depends on --jobs (the whole machine's limit); the
    // number of runs at once is capped by memory instead (`plan`).
    let outputs = crate::scenario::budget::Outputs::CSV_ONLY;
    if let Err(e) = runner::check_limits(&s, &plan.file, plan.no_limits, outputs, 1) {
        return Record::Failed(Failure::Input, format!("{} refused: {e}", what()));
    }
    let seed = grid::replication_seed(s.seed, r);
    match runner::simulate(&s, seed, None).map_err(|e| e.in_scenario(&plan.file)) {
        Ok(out) => Record::Done(run_row(&plan.grid, point, r, seed, &out.summary)),
        // Bad input that depends on the seed (a pod trace's inflation): refused like an
        // invalid grid point.
        Err(Ok(input)) => {
            Record::Failed(Failure::Input, format!("{}, seed {seed}, refused: {input}", what()))
        }
        Err(Err(msg)) => Record::Failed(Failure::Panic, format!("{}, seed {seed}, failed: {msg}", what())),
    }
}

/// Records run `i` in `dir`. `Err` only for a file that cannot be written.
fn record(dir: &Path, id: &str, i: usize, result: &Record) -> std::result::Result<(), String> {
    let failed = matches!(result, Record::Failed(..));
    let path = store::run_file(dir, i, failed);
    let bytes = store::run_file_bytes(id, i, result).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::output::write_atomic(&path, &bytes)
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    if !failed {
        let _ = std::fs::remove_file(store::run_file(dir, i, true));
    }
    Ok(())
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
    if shard.is_some() && checks.baseline.is_some() {
        return Err(SweepError::Input(
            "--shard: --baseline compares grid points, which need every run; give it to `clustersim merge` \
             instead"
                .into(),
        ));
    }
    let replications = o.replications.or(file_reps).unwrap_or(1);
    let plan = plan(o, parameters, replications)?;
    let dir = o.out.clone().unwrap_or_else(|| Path::new("results").join(format!("{}-sweep", plan.name)));
    let this = SweepJson {
        id: plan.definition.id(),
        definition: plan.definition.clone(),
        shard,
        checks: check_texts(&file_checks, &o.checks.checks),
        seeds: store::SEEDS_DOC.into(),
    };

    // The folder is locked before its state is looked at, so two sweeps cannot both find
    // it empty. A folder made here is removed again if the input turns out bad.
    let created = folder::inspect(&dir)?.missing;
    let lock = folder::lock_exclusive(&dir, "--out")?;
    let result = sweep_locked(o, &plan, &dir, &this, &checks, started);
    if created && matches!(result, Err(SweepError::Input(_))) {
        let _ = std::fs::remove_file(dir.join(folder::LOCK_FILE));
        let _ = std::fs::remove_dir(&dir);
    }
    drop(lock);
    result
}

/// The sweep once its folder is locked.
fn sweep_locked(
    o: &Options,
    plan: &Plan,
    dir: &Path,
    this: &SweepJson,
    checks: &Checks,
    started: std::time::Instant,
) -> Result<()> {
    let shard = this.shard;
    // The output folder: never overwritten without --force; --resume needs the same sweep;
    // files clustersim did not write are never removed.
    let contents = folder::inspect(dir)?;
    let mut resuming = false;
    if contents.any {
        if o.resume {
            match input(store::read_sweep_json(dir))? {
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
        } else if !contents.foreign.is_empty() {
            return Err(SweepError::Input(format!(
                "--out {}: the folder holds files clustersim did not write ({}); --force only replaces \
                 clustersim's results: choose another --out, or empty the folder",
                dir.display(),
                contents.foreign_list()
            )));
        }
    }

    let total = plan.grid.runs();
    let owns = |i: usize| shard.is_none_or(|s| s.owns(i));
    let mine_count = (0..total).filter(|&i| owns(i)).count();
    let existing = if resuming { input(store::scan(dir, &plan.definition))? } else { BTreeMap::new() };
    let mut pending: Vec<usize> =
        (0..total).filter(|&i| owns(i) && !matches!(existing.get(&i), Some(Record::Done(_)))).collect();
    let resumed = mine_count - pending.len();

    // A shard has only some runs: its grid-point checks are left to `merge`.
    let (run_checks, deferred): (Vec<Check>, usize) = if shard.is_some() {
        let n = checks.checks.iter().filter(|c| c.target == Target::Points).count();
        (checks.checks.iter().filter(|c| c.target == Target::Runs).cloned().collect(), n)
    } else {
        (checks.checks.clone(), 0)
    };
    let checks =
        Checks { checks: run_checks, baseline: checks.baseline.clone(), tolerance: checks.tolerance };

    // Checks name columns that exist only once a run has produced its summary: validate
    // them on a finished run (running the first one now if none is on disk).
    let mut first: Option<(usize, Record)> = None;
    if !checks.checks.is_empty() {
        let on_disk = existing.values().find_map(|r| match r {
            Record::Done(t) => Some(t.header.clone()),
            Record::Failed(..) => None,
        });
        let header = match on_disk {
            Some(h) => Some(h),
            None if !pending.is_empty() => {
                let i = pending.remove(0);
                let result = compute(plan, i);
                let header = match &result {
                    Record::Done(t) => Some(t.header.clone()),
                    Record::Failed(..) => None,
                };
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
        folder::clear(dir)?;
    }
    std::fs::create_dir_all(store::runs_dir(dir)).map_err(|e| {
        SweepError::Io(format!("{}: cannot create the folder: {e}", store::runs_dir(dir).display()))
    })?;
    store::write_sweep_json(dir, this).map_err(SweepError::Io)?;
    if deferred > 0 && !o.quiet {
        console::err_line(&format!(
            "{}: {deferred} grid-point check{} (points:) left to `clustersim merge`, which applies the checks \
             recorded in each shard's sweep.json",
            plan.name,
            if deferred == 1 { "" } else { "s" }
        ));
    }

    let failures = AtomicUsize::new(0);
    let done = AtomicUsize::new(resumed);
    let progress = Progress::runs(&plan.name, mine_count as u64, o.quiet);
    progress.update(resumed as u64, "0 failed");
    let report = |ok: bool| {
        if !ok {
            failures.fetch_add(1, Ordering::Relaxed);
        }
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress.update(n as u64, &format!("{} failed", failures.load(Ordering::Relaxed)));
    };
    let id = this.id.as_str();
    if let Some((i, result)) = &first {
        record(dir, id, *i, result).map_err(|e| io_stop(e, pending.len()))?;
        report(matches!(result, Record::Done(_)));
    }

    // As many workers as runs to do (at most --jobs or the cores), each run's result
    // written as it ends; once a file cannot be written, no further run starts.
    let jobs = plan.jobs.min(pending.len()).max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| SweepError::Internal(format!("cannot start the worker threads: {e}")))?;
    let stop = AtomicBool::new(false);
    let io_error: Mutex<Option<String>> = Mutex::new(None);
    let not_started = AtomicUsize::new(0);
    pool.install(|| {
        pending.par_iter().with_max_len(1).for_each(|&i| {
            if stop.load(Ordering::Relaxed) {
                not_started.fetch_add(1, Ordering::Relaxed);
                return;
            }
            let result = compute(plan, i);
            match record(dir, id, i, &result) {
                Ok(()) => report(matches!(result, Record::Done(_))),
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    if let Ok(mut slot) = io_error.lock() {
                        slot.get_or_insert(e);
                    }
                }
            }
        });
    });
    progress.finish();
    if let Some(e) = io_error.into_inner().ok().flatten() {
        return Err(io_stop(e, not_started.load(Ordering::Relaxed)));
    }

    let records: BTreeMap<usize, Record> =
        input(store::scan(dir, &plan.definition))?.into_iter().filter(|(i, _)| owns(*i)).collect();
    let outcome = finish(dir, &plan.definition, &records, shard.is_none(), &checks, o.charts)?;
    if !o.quiet {
        let what = match shard {
            Some(s) => format!("shard {}/{} of {} runs: {}", s.index, s.count, total, mine_count),
            None => format!("{mine_count}"),
        };
        console::err_line(&format!(
            "{}: {what} runs ({} now, {resumed} resumed, {} failed) in {:.3} s wall; results in {}",
            plan.name,
            mine_count - resumed,
            outcome.failed.len(),
            started.elapsed().as_secs_f64(),
            dir.display()
        ));
    }
    outcome.into_result()
}

/// The error of a sweep that stopped because a result could not be written.
fn io_stop(e: String, not_started: usize) -> SweepError {
    SweepError::Io(format!(
        "{e}\n{not_started} run{} not started; the runs already written are kept: free the space (or fix the \
         folder) and finish the sweep with --resume",
        if not_started == 1 { " was" } else { "s were" }
    ))
}

/// What `finish` found.
struct Outcome {
    failed: Vec<(usize, Failure, String)>,
    checks_failed: usize,
    regressions: usize,
}

impl Outcome {
    fn into_result(self) -> Result<()> {
        let list = |kind: Failure| -> (usize, String) {
            let all: Vec<&(usize, Failure, String)> = self.failed.iter().filter(|f| f.1 == kind).collect();
            let shown: Vec<String> = all.iter().take(10).map(|(_, _, m)| format!("  {m}")).collect();
            let more = if all.len() > 10 {
                format!("\n  … and {} more (runs/*.failed)", all.len() - 10)
            } else {
                String::new()
            };
            (all.len(), format!("{}{more}", shown.join("\n")))
        };
        let (panics, panic_list) = list(Failure::Panic);
        let (refused, refused_list) = list(Failure::Input);
        let s = |n: usize| if n == 1 { "" } else { "s" };
        if panics > 0 {
            let also = if refused > 0 {
                format!("; {refused} more run{} refused as bad input", s(refused))
            } else {
                String::new()
            };
            return Err(SweepError::RunsFailed(format!(
                "{panics} run{} failed (a bug in clustersim, please report it){also}; the others were written:\n{panic_list}",
                s(panics)
            )));
        }
        if refused > 0 {
            return Err(SweepError::RunsRefused(format!(
                "{refused} run{} refused (bad input at its grid point, or beyond this machine's limits: see \
                 --no-limits); the others were written:\n{refused_list}",
                s(refused)
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
    let failed: Vec<(usize, Failure, String)> = records
        .iter()
        .filter_map(|(i, r)| match r {
            Record::Failed(kind, m) => Some((*i, *kind, m.lines().next().unwrap_or("").to_string())),
            Record::Done(_) => None,
        })
        .collect();
    let (runs, point_of_row) = store::runs_table(&grid, records);
    let write = |name: &str, t: &Table| -> Result<()> {
        let path = dir.join(name);
        let bytes = t.to_csv().map_err(|e| SweepError::Internal(e.to_string()))?;
        crate::output::write_atomic(&path, &bytes)
            .map_err(|e| SweepError::Io(format!("{}: cannot write: {e}", path.display())))
    };
    // A shard's points would be partial (and a million-point grid's table is large).
    let points = if complete { store::points_table(&grid, &runs, &point_of_row) } else { Table::default() };
    if complete {
        write("runs.csv", &runs)?;
        write("points.csv", &points)?;
        if charts && !points.rows.is_empty() {
            crate::charts::plot_dir(dir, &crate::charts::PlotOptions::default()).map_err(|e| match e {
                crate::charts::ChartError::Write { .. } => SweepError::Io(format!("charts: {e}")),
                other => SweepError::Internal(format!("charts: {other}")),
            })?;
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
            console::err(&baseline::render(&c, &keys[..np], checks.tolerance));
        } else {
            console::err_line(&format!(
                "baseline: {} grid points, {} metrics compared, none regressed beyond {:.2}%{}",
                c.points_matched,
                c.metrics_compared,
                checks.tolerance * 100.0,
                if c.points_new > 0 {
                    format!(" ({} points not in the baseline)", c.points_new)
                } else {
                    String::new()
                }
            ));
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
    // Parse the command line's checks now, so a typo is reported before anything is read.
    parse_checks(c, &[])?;
    if dirs.is_empty() {
        return Err(SweepError::Input("merge: expected at least one sweep folder".into()));
    }
    for (k, d) in dirs.iter().enumerate() {
        if let Some(e) = dirs[..k].iter().find(|e| same_dir(e, d)) {
            return Err(SweepError::Input(format!(
                "merge: {} and {} are the same folder; give each shard's folder once",
                e.display(),
                d.display()
            )));
        }
    }
    let out_is_input = dirs.iter().any(|d| same_dir(d, out));
    // The output folder is locked first (exclusively), then each input (shared): a merge
    // never reads a folder a sweep is still writing, nor writes one another merge writes.
    let created = folder::inspect(out)?.missing;
    let out_lock = folder::lock_exclusive(out, "merge --out")?;
    let result = (|| {
        let mut read_locks = Vec::new();
        for d in dirs.iter().filter(|d| !same_dir(d, out)) {
            read_locks.push(folder::lock_shared(d)?);
        }
        merge_locked(dirs, out, out_is_input, force, c, quiet, charts)
    })();
    if created && matches!(result, Err(SweepError::Input(_))) {
        let _ = std::fs::remove_file(out.join(folder::LOCK_FILE));
        let _ = std::fs::remove_dir(out);
    }
    drop(out_lock);
    result
}

fn merge_locked(
    dirs: &[PathBuf],
    out: &Path,
    out_is_input: bool,
    force: bool,
    c: &CheckOptions,
    quiet: bool,
    charts: bool,
) -> Result<()> {
    let mut first: Option<(PathBuf, SweepJson)> = None;
    let mut records: BTreeMap<usize, Record> = BTreeMap::new();
    // Which input each run came from.
    let mut origin: BTreeMap<usize, usize> = BTreeMap::new();
    let mut shards: Vec<Shard> = Vec::new();
    let mut stored_checks: Vec<String> = Vec::new();
    for (k, d) in dirs.iter().enumerate() {
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
        stored_checks = check_texts(&stored_checks, &j.checks);
        let grid = j.definition.grid();
        for (i, r) in input(store::scan(d, &j.definition).map_err(|m| format!("merge: {m}")))? {
            if let Some(&prev) = origin.get(&i) {
                let (point, rep) = grid.locate(i);
                let sets = grid.sets(point);
                return Err(SweepError::Input(format!(
                    "merge: run {i} (grid point {point}{}, replication {rep}) is in both {} and {}; each run must \
                     come from one folder: give each shard's folder once, and not a copy of a folder beside it",
                    if sets.is_empty() { String::new() } else { format!(": {}", sets.join(" ")) },
                    dirs[prev].display(),
                    d.display()
                )));
            }
            origin.insert(i, k);
            records.insert(i, r);
        }
        if first.is_none() {
            first = Some((d.clone(), j));
        }
    }
    let Some((_, j)) = first else {
        return Err(SweepError::Input("merge: expected at least one sweep folder".into()));
    };
    let def = j.definition;
    let missing: Vec<usize> = (0..def.runs).filter(|i| !records.contains_key(i)).collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(20).map(usize::to_string).collect();
        let mut which = String::new();
        if let Some(n) = shards.first().map(|s| s.count) {
            let mut ks: Vec<u32> = missing.iter().map(|&i| (i % n as usize) as u32 + 1).collect();
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
    // The checks recorded by the sweeps (their sweep files and --check), then this command's.
    let checks = parse_checks(c, &stored_checks)?;
    if !out_is_input {
        let contents = folder::inspect(out)?;
        if contents.any {
            if !force {
                return Err(SweepError::Input(format!(
                    "--out {}: the folder exists and is not empty; add --force to overwrite it",
                    out.display()
                )));
            }
            if !contents.foreign.is_empty() {
                return Err(SweepError::Input(format!(
                    "--out {}: the folder holds files clustersim did not write ({}); --force only replaces \
                     clustersim's results: choose another --out, or empty the folder",
                    out.display(),
                    contents.foreign_list()
                )));
            }
            folder::clear(out)?;
        }
    }
    let rd = store::runs_dir(out);
    std::fs::create_dir_all(&rd)
        .map_err(|e| SweepError::Io(format!("{}: cannot create the folder: {e}", rd.display())))?;
    // Copy the run files that are not there yet, so the merged folder is a complete sweep folder.
    let id = def.id();
    for (i, r) in &records {
        if out_is_input && same_dir(&dirs[origin[i]], out) {
            continue;
        }
        let failed = matches!(r, Record::Failed(..));
        let path = store::run_file(out, *i, failed);
        let bytes = store::run_file_bytes(&id, *i, r).map_err(|e| SweepError::Internal(e.to_string()))?;
        crate::output::write_atomic(&path, &bytes)
            .map_err(|e| SweepError::Io(format!("{}: cannot write: {e}", path.display())))?;
    }
    let merged = SweepJson {
        id,
        definition: def.clone(),
        shard: None,
        checks: check_texts(&stored_checks, &c.checks),
        seeds: store::SEEDS_DOC.into(),
    };
    store::write_sweep_json(out, &merged).map_err(SweepError::Io)?;
    let outcome = finish(out, &def, &records, true, &checks, charts)?;
    if !quiet {
        console::err_line(&format!(
            "merge: {} runs from {} folder{} ({} failed, {} check{} applied); results in {}",
            def.runs,
            dirs.len(),
            if dirs.len() == 1 { "" } else { "s" },
            outcome.failed.len(),
            checks.checks.len(),
            if checks.checks.len() == 1 { "" } else { "s" },
            out.display()
        ));
    }
    outcome.into_result()
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Refuses (bad input) run checks that name a column not in `columns`, the summary columns
/// of the scenario (`runner::summary_columns`), before the run.
pub fn validate_run_checks(checks: &[Check], columns: &[String]) -> Result<()> {
    for c in checks {
        input(c.validate_columns(columns))?;
    }
    Ok(())
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
