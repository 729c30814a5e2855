//! `clustersim plan`: the cheapest configuration of a scenario that meets its requirements
//! under every variant, found by search rather than enumeration, with a stated decision
//! rule.
//!
//! - [`spec`]: the plan file and flags (variables, requirements, objective, replications,
//!   confidence, rule, variants), every part with the line or flag it came from.
//! - [`space`]: configurations (grid indices, search points, overrides), variants'
//!   overrides, the static cost bound.
//! - [`search`]: the monotone search over an abstract oracle (pure, property-tested).
//! - [`decide`]: the decision rule and the sequential replications.
//! - [`expr`]: objective expressions.
//! - [`store`]: the folder, the run cache behind `--resume`, the definition and its id.
//! - [`report`]: plan.csv, runs.csv, plan.json and the console summary.
//!
//! Everything the plan file and flags say is checked against the scenario before any run
//! (exit 2 naming the file:line:column or flag). The search is sequential; each
//! configuration's runs (its variants × replications of one round) run in parallel on
//! `--jobs` workers and are consumed in a fixed order, and every run is read from its run
//! file when one exists, so the decisions and every output byte are a function of the
//! inputs alone, whatever `--jobs` or interruptions. Exit codes: 0 a recommendation, 1 a
//! run panicked (a bug), 2 bad input, 3 no configuration meets the requirements (the
//! closest ones are printed), 4 the results could not be written.

pub mod decide;
pub mod expr;
pub mod report;
pub mod search;
pub mod space;
pub mod spec;
pub mod store;

use crate::output::console;
use crate::output::folder::{self, FolderError};
use crate::output::progress::Progress;
use crate::runner;
use crate::scenario::Scenario;
use crate::sweep::check;
use crate::sweep::store::Table;
use decide::Decision;
use rayon::prelude::*;
use search::{Oracle, Point, Verdict};
use space::Space;
use spec::Spec;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use store::{Definition, RunKey};

/// Everything `clustersim plan` takes (free of clap types).
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub input: runner::Input,
    pub plan_file: Option<PathBuf>,
    pub flags: spec::Flags,
    pub jobs: Option<usize>,
    pub out: Option<PathBuf>,
    pub force: bool,
    pub resume: bool,
    pub quiet: bool,
    pub charts: bool,
}

/// Why a plan did not end with a recommendation; the CLI maps each to an exit code.
#[derive(Debug)]
pub enum PlanError {
    /// Bad input (exit 2), found before any run.
    Input(String),
    /// An internal failure (exit 1).
    Internal(String),
    /// The results could not be written (exit 4).
    Io(String),
    /// A run panicked (exit 1): a bug; the run is recorded as `.failed`.
    RunFailed(String),
    /// No configuration meets the requirements (exit 3); the results were written.
    NoPlan(String),
}

impl From<FolderError> for PlanError {
    fn from(e: FolderError) -> Self {
        match e {
            FolderError::Input(m) => PlanError::Input(m),
            FolderError::Io(m) => PlanError::Io(m),
        }
    }
}

type Result<T> = std::result::Result<T, PlanError>;

/// One variant's replications of a configuration and what was decided.
#[derive(Clone, Debug)]
pub struct VariantResult {
    /// Each replication's summary row (header and one row, `seed` first).
    pub rows: Vec<Table>,
    /// Per requirement.
    pub decisions: Vec<Decision>,
    pub verdict: Decision,
}

/// An evaluated configuration.
#[derive(Clone, Debug)]
pub struct ConfigResult {
    pub grid: usize,
    /// 1 for the first configuration the search evaluated.
    pub order: usize,
    pub vi: Vec<usize>,
    pub variants: Vec<VariantResult>,
    pub feasible: bool,
    /// The mean over variants of the objective's mean over replications; +∞ when undefined.
    pub objective: f64,
}

impl VariantResult {
    /// Column `col` of each replication (`None`: empty or absent).
    pub fn values(&self, col: &str) -> Vec<Option<f64>> {
        self.rows.iter().map(|t| t.cell(&t.rows[0], col).and_then(|c| c.parse::<f64>().ok())).collect()
    }
    /// The objective on each replication.
    pub fn objective_values(&self, e: &expr::Expr) -> Vec<Option<f64>> {
        self.rows
            .iter()
            .map(|t| e.eval(&|c: &str| t.cell(&t.rows[0], c).and_then(|x| x.parse::<f64>().ok())))
            .collect()
    }
}

/// Everything fixed before the search.
pub struct Context {
    pub spec: Spec,
    pub space: Space,
    pub base: Scenario,
    pub file: PathBuf,
    pub name: String,
    pub definition: Definition,
    pub id: String,
    pub seed: u64,
    pub no_limits: bool,
    /// Runs at once.
    pub jobs: usize,
}

/// Grids of up to this many configurations × variants have every one validated before any run.
const EAGER_POINTS: usize = 1000;

/// A run that could not be built: bad input (exit 2) or a bug.
fn run_error(file: &Path, e: crate::sim::RunError) -> PlanError {
    match e.in_scenario(file) {
        Ok(input) => PlanError::Input(input.to_string()),
        Err(m) => PlanError::Internal(m),
    }
}

/// Reads and checks everything; nothing is run or written.
fn prepare(o: &Options) -> Result<Context> {
    let input = PlanError::Input;
    if o.jobs == Some(0) {
        return Err(input("--jobs 0: expected at least 1 (default: every core)".into()));
    }
    if o.force && o.resume {
        return Err(input("--force and --resume exclude each other; give one".into()));
    }
    let spec = spec::read(o.plan_file.as_deref(), &o.flags).map_err(input)?;
    let mut fixed = o.input.sets.clone();
    if let Some(d) = &o.input.duration {
        fixed.push(runner::duration_override(d).map_err(input)?);
    }
    for v in &spec.variables {
        let Some(path) = &v.path else { continue };
        if let Some(s) = fixed.iter().find(|s| {
            s.split_once('=').is_some_and(|(k, _)| crate::scenario::overrides::canonical_path(k) == *path)
        }) {
            return Err(input(format!(
                "{}: --set {s} fixes the variable {path}; drop one of them",
                v.origin
            )));
        }
    }
    let base = runner::load(&o.input.scenario, &fixed, o.input.seed).map_err(|e| input(e.to_string()))?;
    let name = base.name.clone().unwrap_or_else(|| "scenario".into());
    let space = Space::new(&spec);
    let Some(points) = space.points().filter(|&p| p <= crate::sweep::grid::MAX_RUNS) else {
        return Err(input(format!(
            "the plan's variables make more than {} configurations; expected fewer values",
            crate::sweep::grid::MAX_RUNS
        )));
    };
    let outputs = crate::scenario::budget::Outputs::CSV_ONLY;
    let mut largest: u64 = 0;
    let mut check = |s: &Scenario, origin: &str| -> Result<()> {
        runner::check_limits(s, &o.input.scenario, o.input.no_limits, outputs, 1)
            .map_err(|e| input(format!("{origin}: {e}")))?;
        largest = largest.max(crate::scenario::budget::estimate(s).memory_for(outputs));
        Ok(())
    };
    // Each value of each variable (the others at their first value), as is.
    let as_is = spec::Variant {
        name: "as is".into(),
        sets: Vec::new(),
        scale: Vec::new(),
        faults: Vec::new(),
        chaos: None,
        origin: String::new(),
    };
    let mut columns_of: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in spec.variables.iter().enumerate() {
        for (j, value) in v.values.iter().enumerate() {
            let mut vi = vec![0; spec.variables.len()];
            vi[k] = j;
            let s = space::derive(&base, &o.input.scenario, &space::config_sets(&spec, &vi), &as_is)
                .map_err(|m| {
                    input(format!("{}: variable {}, value {}: {m}", v.origin, v.name, value.label))
                })?;
            check(&s, &format!("{}: variable {}, value {}", v.origin, v.name, value.label))?;
            if v.path.is_none() {
                let cols = runner::summary_columns(&s).map_err(|e| run_error(&o.input.scenario, e))?;
                columns_of.push((format!("choice {} of {} ({})", value.label, v.name, v.origin), cols));
            }
        }
    }
    // Each variant at the first configuration.
    let first = vec![0; spec.variables.len()];
    for v in &spec.variants {
        let s = space::derive(&base, &o.input.scenario, &space::config_sets(&spec, &first), v)
            .map_err(|m| input(format!("{}: variant {}: {m}", v.origin, v.name)))?;
        check(&s, &format!("{}: variant {}", v.origin, v.name))?;
        let cols = runner::summary_columns(&s).map_err(|e| run_error(&o.input.scenario, e))?;
        columns_of.push((format!("variant {} ({})", v.name, v.origin), cols));
    }
    // Every configuration of a small grid, under every variant.
    if points.saturating_mul(spec.variants.len()) <= EAGER_POINTS {
        for g in 0..points {
            let vi = space.indices_of_grid(g);
            for v in &spec.variants {
                let what = format!(
                    "{}: variant {} at configuration {}",
                    v.origin,
                    v.name,
                    space::describe(&spec, &vi)
                );
                let s = space::derive(&base, &o.input.scenario, &space::config_sets(&spec, &vi), v)
                    .map_err(|m| input(format!("{what}: {m}")))?;
                check(&s, &what)?;
            }
        }
    }
    // Requirements and the objective name columns every variant's summary has.
    let mut named: Vec<(String, &str, String)> = Vec::new();
    for r in &spec.requirements {
        named.push((r.cmp.column.clone(), &r.origin, format!("requirement {:?}", r.text)));
    }
    for c in spec.objective.expr.columns() {
        named.push((c, &spec.objective.origin, format!("objective {:?}", spec.objective.text)));
    }
    for (col, origin, what) in &named {
        for (whose, cols) in &columns_of {
            if !cols.contains(col) {
                let close = check::close_names(col, cols);
                let hint = if close.is_empty() {
                    format!(
                        "the columns include {}",
                        cols.iter().take(12).cloned().collect::<Vec<_>>().join(", ")
                    )
                } else {
                    format!("did you mean {}?", close.join(", "))
                };
                return Err(input(format!(
                    "{origin}: {what}: no column {col:?} in the summary of the {whose}; {hint}"
                )));
            }
        }
    }
    let seed = base.seed;
    let definition = Definition {
        scenario: crate::sweep::store::ScenarioIdentity::of(&o.input.scenario, &base, fixed)
            .map_err(input)?,
        seed,
        variables: serde_json::to_value(&spec.variables).map_err(|e| PlanError::Internal(e.to_string()))?,
        variants: serde_json::to_value(&spec.variants).map_err(|e| PlanError::Internal(e.to_string()))?,
    };
    let id = definition.id();
    let mut jobs = o.jobs.unwrap_or_else(rayon::current_num_threads).max(1);
    if !o.input.no_limits && largest > 0 {
        let memory = crate::scenario::budget::Limits::for_this_machine().memory_bytes;
        jobs = jobs.min(usize::try_from(memory / largest).unwrap_or(usize::MAX).max(1));
    }
    Ok(Context {
        spec,
        space,
        base,
        file: o.input.scenario.clone(),
        name,
        definition,
        id,
        seed,
        no_limits: o.input.no_limits,
        jobs,
    })
}

/// The oracle the search asks: runs configurations (from the run cache when it can).
struct Evaluator<'a> {
    ctx: &'a Context,
    dir: &'a Path,
    pool: rayon::ThreadPool,
    results: BTreeMap<usize, ConfigResult>,
    bounds: BTreeMap<usize, Option<f64>>,
    /// Runs the search needed (from files or run now), and those run now.
    runs_used: usize,
    runs_now: usize,
    progress: Progress,
}

/// How a run ended when it has no row.
enum RunEnd {
    Panic(String),
    Input(String),
    Io(String),
}

impl Evaluator<'_> {
    fn scenarios(&self, vi: &[usize]) -> Result<Vec<Scenario>> {
        let spec = &self.ctx.spec;
        let sets = space::config_sets(spec, vi);
        spec.variants
            .iter()
            .map(|v| {
                space::derive(&self.ctx.base, &self.ctx.file, &sets, v).map_err(|m| {
                    PlanError::Input(format!(
                        "configuration {} under variant {}: {m}",
                        space::describe(spec, vi),
                        v.name
                    ))
                })
            })
            .collect()
    }

    /// One run: from its file, or simulated and written.
    fn run(&self, key: &RunKey, s: &Scenario) -> std::result::Result<(Table, bool), RunEnd> {
        if let Some(t) = store::read_run(self.dir, &self.ctx.id, key).map_err(RunEnd::Input)? {
            return Ok((t, false));
        }
        let outputs = crate::scenario::budget::Outputs::CSV_ONLY;
        runner::check_limits(s, &self.ctx.file, self.ctx.no_limits, outputs, 1)
            .map_err(|e| RunEnd::Input(e.to_string()))?;
        match runner::simulate(s, key.seed, None).map_err(|e| e.in_scenario(&self.ctx.file)) {
            Ok(out) => {
                let bytes = store::run_bytes(&self.ctx.id, key, &out.summary)
                    .map_err(|e| RunEnd::Io(e.to_string()))?;
                store::write_run(self.dir, key, &bytes, false).map_err(RunEnd::Io)?;
                let header = out.summary.iter().map(|(k, _)| k.clone()).collect();
                let row = out.summary.iter().map(|(_, v)| v.render()).collect();
                Ok((Table { header, rows: vec![row] }, true))
            }
            // Bad input that depends on the seed (a pod trace's inflation).
            Err(Ok(input)) => Err(RunEnd::Input(input.to_string())),
            Err(Err(msg)) => {
                let text = format!(
                    "clustersim plan {} config {} variant {} replication {} seed {} panic\n{msg}\n",
                    self.ctx.id, key.config, key.variant_name, key.replication, key.seed
                );
                store::write_run(self.dir, key, text.as_bytes(), true).map_err(RunEnd::Io)?;
                Err(RunEnd::Panic(msg))
            }
        }
    }
}

impl Oracle for Evaluator<'_> {
    type Error = PlanError;

    fn bound(&mut self, p: &Point) -> Option<f64> {
        if !self.ctx.spec.objective.expr.is_column("cost") {
            return None;
        }
        let vi = self.ctx.space.value_indices(p);
        let g = self.ctx.space.grid(&vi);
        if let Some(b) = self.bounds.get(&g) {
            return *b;
        }
        let costs: Option<Vec<f64>> =
            self.scenarios(&vi).ok().and_then(|ss| ss.iter().map(space::static_cost).collect());
        // A hair below the exact figure, so that rounding never cuts a point that ties.
        let b = costs.map(|c| c.iter().sum::<f64>() / c.len() as f64 * (1.0 - 1e-9));
        self.bounds.insert(g, b);
        b
    }

    fn evaluate(&mut self, p: &Point) -> Result<Verdict> {
        let ctx = self.ctx;
        let spec = &ctx.spec;
        let vi = ctx.space.value_indices(p);
        let grid = ctx.space.grid(&vi);
        let scenarios = self.scenarios(&vi)?;
        let nv = spec.variants.len();
        let reps = spec.replications;
        let mut variants: Vec<VariantResult> = (0..nv)
            .map(|_| VariantResult {
                rows: Vec::new(),
                decisions: vec![Decision::Undecided; spec.requirements.len()],
                verdict: Decision::Undecided,
            })
            .collect();
        loop {
            let mut todo: Vec<RunKey> = Vec::new();
            for (v, r) in variants.iter().enumerate() {
                if r.verdict != Decision::Undecided {
                    continue;
                }
                let n = r.rows.len() as u32;
                for rep in n..reps.next(n) {
                    todo.push(RunKey {
                        config: grid,
                        variant: v,
                        variant_name: spec.variants[v].name.clone(),
                        replication: rep,
                        seed: crate::sweep::grid::replication_seed(ctx.seed, rep),
                    });
                }
            }
            if todo.is_empty() {
                break;
            }
            let done: Vec<std::result::Result<(Table, bool), RunEnd>> = self.pool.install(|| {
                todo.par_iter().with_max_len(1).map(|k| self.run(k, &scenarios[k.variant])).collect()
            });
            for (k, d) in todo.iter().zip(done) {
                match d {
                    Ok((t, now)) => {
                        self.runs_used += 1;
                        self.runs_now += usize::from(now);
                        variants[k.variant].rows.push(t);
                    }
                    Err(RunEnd::Panic(m)) => {
                        return Err(PlanError::RunFailed(format!(
                            "configuration {} under variant {}, replication {} (seed {}) failed (a bug in clustersim, \
                             please report it; recorded in {}): {m}",
                            space::describe(spec, &vi),
                            k.variant_name,
                            k.replication,
                            k.seed,
                            store::run_file(self.dir, k, true).display()
                        )));
                    }
                    Err(RunEnd::Input(m)) => {
                        return Err(PlanError::Input(format!(
                            "configuration {} under variant {}: {m}",
                            space::describe(spec, &vi),
                            k.variant_name
                        )));
                    }
                    Err(RunEnd::Io(m)) => return Err(PlanError::Io(m)),
                }
            }
            self.progress
                .update(self.runs_used as u64, &format!("{} configurations", self.results.len() + 1));
            for r in &mut variants {
                if r.verdict != Decision::Undecided {
                    continue;
                }
                let at_cap = r.rows.len() as u32 >= reps.max;
                for (k, req) in spec.requirements.iter().enumerate() {
                    r.decisions[k] = decide::decide(
                        spec.rule,
                        &req.cmp,
                        &r.values(&req.cmp.column),
                        spec.confidence,
                        at_cap,
                    );
                }
                r.verdict = if r.decisions.contains(&Decision::Fail) {
                    Decision::Fail
                } else if r.decisions.iter().all(|d| *d == Decision::Pass) {
                    Decision::Pass
                } else {
                    Decision::Undecided
                };
            }
            // One variant missed: the configuration cannot pass; the others stop here.
            if variants.iter().any(|r| r.verdict == Decision::Fail) {
                break;
            }
        }
        let feasible = variants.iter().all(|r| r.verdict == Decision::Pass);
        let means: Option<Vec<f64>> = variants
            .iter()
            .map(|r| {
                let xs: Option<Vec<f64>> = r.objective_values(&spec.objective.expr).into_iter().collect();
                xs.filter(|x| !x.is_empty()).map(|x| x.iter().sum::<f64>() / x.len() as f64)
            })
            .collect();
        let objective = means.map_or(f64::INFINITY, |m| m.iter().sum::<f64>() / m.len() as f64);
        let order = self.results.len() + 1;
        self.results.insert(grid, ConfigResult { grid, order, vi, variants, feasible, objective });
        Ok(Verdict { feasible, objective })
    }
}

/// `clustersim plan`.
pub fn plan(o: &Options) -> Result<()> {
    let started = std::time::Instant::now();
    let ctx = prepare(o)?;
    let dir = o.out.clone().unwrap_or_else(|| Path::new("results").join(format!("{}-plan", ctx.name)));
    let created = folder::inspect(&dir)?.missing;
    let lock = folder::lock_exclusive(&dir, "--out")?;
    let result = plan_locked(o, &ctx, &dir, started);
    if created && matches!(result, Err(PlanError::Input(_))) {
        let _ = std::fs::remove_file(dir.join(folder::LOCK_FILE));
        let _ = std::fs::remove_dir(&dir);
    }
    drop(lock);
    result
}

fn plan_locked(o: &Options, ctx: &Context, dir: &Path, started: std::time::Instant) -> Result<()> {
    let contents = folder::inspect(dir)?;
    if contents.any {
        if o.resume {
            match store::read_definition(dir).map_err(PlanError::Input)? {
                None => {
                    return Err(PlanError::Input(format!(
                        "--resume: {} has content but no plan.json; expected the --out folder of a plan (use \
                         --force to overwrite it)",
                        dir.display()
                    )));
                }
                Some(old) => {
                    if let Some(d) = ctx.definition.difference(&old) {
                        return Err(PlanError::Input(format!(
                            "--resume: {} holds a plan of other runs ({d}; this plan vs the folder's); use the same \
                             scenario, overrides, seed, variables and variants, or --force to start over",
                            dir.display()
                        )));
                    }
                }
            }
        } else if !o.force {
            return Err(PlanError::Input(format!(
                "--out {}: the folder exists and is not empty; add --resume to finish the plan it holds, or --force \
                 to overwrite it",
                dir.display()
            )));
        }
        if !contents.foreign.is_empty() {
            return Err(PlanError::Input(format!(
                "--out {}: the folder holds files clustersim did not write ({}); choose another --out, or empty \
                 the folder",
                dir.display(),
                contents.foreign_list()
            )));
        }
        if o.force {
            folder::clear(dir)?;
        }
    }
    let runs_dir = crate::sweep::store::runs_dir(dir);
    std::fs::create_dir_all(&runs_dir)
        .map_err(|e| PlanError::Io(format!("{}: cannot create the folder: {e}", runs_dir.display())))?;
    store::write_json(dir, &report::started_json(ctx)).map_err(PlanError::Io)?;

    let shape = ctx.space.shape();
    let full = report::full_grid_runs(ctx);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(ctx.jobs)
        .build()
        .map_err(|e| PlanError::Internal(format!("cannot start the worker threads: {e}")))?;
    let mut ev = Evaluator {
        ctx,
        dir,
        pool,
        results: BTreeMap::new(),
        bounds: BTreeMap::new(),
        runs_used: 0,
        runs_now: 0,
        progress: Progress::runs(&ctx.name, full as u64, o.quiet),
    };
    let found = search::search(&shape, &mut ev);
    ev.progress.finish();
    let found = found?;
    let outcome = report::Outcome::new(ctx, &ev.results, &found, ev.runs_used);
    report::write(dir, ctx, &outcome).map_err(PlanError::Io)?;
    if o.charts {
        crate::charts::plot_dir(dir, &crate::charts::PlotOptions::default()).map_err(|e| match e {
            crate::charts::ChartError::Write { .. } => PlanError::Io(format!("charts: {e}")),
            other => PlanError::Internal(format!("charts: {other}")),
        })?;
    }
    if !o.quiet {
        console::out(&report::console_text(ctx, &outcome));
        console::err_line(&format!(
            "{}: {} runs ({} now, {} from run files) in {:.1} s wall; results in {}",
            ctx.name,
            ev.runs_used,
            ev.runs_now,
            ev.runs_used - ev.runs_now,
            started.elapsed().as_secs_f64(),
            dir.display()
        ));
    }
    match outcome.best {
        Some(_) => Ok(()),
        None => Err(PlanError::NoPlan(report::no_plan_text(ctx, &outcome))),
    }
}
