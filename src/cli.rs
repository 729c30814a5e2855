//! The command line: clap types stay in this file. Subcommands resolve their flags into
//! a scenario and an output folder, run, and map errors to exit codes:
//! 0 success, 2 bad input (file, flag, value, or a scenario beyond this machine's limits),
//! 1 internal failure (or a failed run of a sweep or plan), 3 a `--check` failed, a metric
//! regressed against `--baseline` or no configuration meets a plan's requirements, 4 the results could not be written (disk full,
//! permissions). Nothing here prints with `println!`: a closed stdout (`| head -1`) only
//! stops the printing (`output::console`).

use crate::output::console;
use crate::output::folder::{FolderError, Staging};
use crate::output::progress::Progress;
use crate::output::{self};
use crate::runner;
use crate::scenario::{self, ScenarioError};
use crate::sweep::{self, CheckOptions, ParamSpec, SweepError};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser, Debug)]
#[command(
    name = "clustersim",
    version,
    about = "Deterministic discrete-event simulator of Kubernetes clusters"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario and write summary.csv, timeseries.csv, startup-cdf.csv, run.json, charts/
    /// and index.html (pods.csv with --pods, autoscaler-events.csv with an HPA or the cluster
    /// autoscaler).
    Run {
        #[command(flatten)]
        input: ScenarioArgs,
        /// Output folder [default: results/<scenario name>/]. The folder is built beside it and
        /// swapped in when the run ends: it then holds this run's files only, and an
        /// interrupted run leaves the previous results as they were.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an output folder that holds a sweep's results (a previous run's results are
        /// always replaced; files clustersim did not write never are).
        #[arg(long)]
        force: bool,
        /// Also write pods.csv, one row per pod (can be large).
        #[arg(long)]
        pods: bool,
        /// Also write scheduling-attempts.csv: every scheduling attempt, why the pod did not
        /// fit (per filter plugin and upstream's message) or each plugin's score of the chosen
        /// node and the runner-up. Streamed as the run goes; can be large.
        #[arg(long)]
        explain: bool,
        /// Print nothing on success.
        #[arg(long, short)]
        quiet: bool,
        /// Do not draw charts/ and index.html.
        #[arg(long)]
        no_charts: bool,
        /// Threads for the run's scheduling work [default: every core]. From 2, the
        /// scheduler's tie-break draws are generated ahead on a second thread; an explicit 3
        /// or more also scores attempts with thousands of candidates in chunks on the
        /// others. The results are byte-identical at any count.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        threads: Option<u16>,
        /// Fail (exit 3) unless the summary row satisfies EXPR, e.g. 'latency_p99_ms < 250'.
        /// Repeatable; see README "Sweeps and CI" for the grammar.
        #[arg(long = "check", value_name = "EXPR")]
        checks: Vec<String>,
    },
    /// Check a scenario file (and overrides) without running it, and estimate its memory and work.
    Validate {
        #[command(flatten)]
        input: ScenarioArgs,
    },
    /// Draw charts/ (PNG and SVG) and index.html from the CSV files of an output folder.
    Plot {
        /// An output folder of `run` or `sweep`.
        dir: PathBuf,
        /// A sweep metric to plot (a summary column, e.g. latency_p99_ms). Repeatable.
        #[arg(long = "metric", value_name = "COLUMN")]
        metrics: Vec<String>,
    },
    /// Run a scenario over a grid of parameter values × replications, in parallel; write
    /// runs.csv (one row per run), points.csv (mean, sd, 95 % CI per grid point) and sweep.json.
    Sweep {
        #[command(flatten)]
        input: ScenarioArgs,
        /// Sweep PATH over START..=END by STEP (default 1), e.g. -P nodePools.0.count 10 50 10.
        /// PATH is any path --set accepts. Repeatable; the first parameter is the outermost loop.
        #[arg(short = 'P', long = "parameter-scan", action = clap::ArgAction::Append, value_parser = clap::value_parser!(String), num_args = 3..=4, value_names = ["PATH", "START", "END", "STEP"])]
        scan: Vec<String>,
        /// Sweep PATH over a comma-separated list, e.g. -L scheduler.scoringStrategy
        /// LeastAllocated,MostAllocated. Repeatable.
        #[arg(short = 'L', long = "parameter-list", action = clap::ArgAction::Append, value_parser = clap::value_parser!(String), num_args = 2, value_names = ["PATH", "VALUES"])]
        list: Vec<String>,
        /// A YAML file with `parameters`, `replications` and `checks` (its parameters come
        /// before those of -P/-L).
        #[arg(long, value_name = "FILE")]
        sweep_file: Option<PathBuf>,
        /// Runs per grid point; replication r uses seed base + r (base: --seed or the scenario's).
        #[arg(short = 'r', long, value_name = "R")]
        replications: Option<u32>,
        /// Parallel runs [default: every core].
        #[arg(short = 'j', long, value_name = "N")]
        jobs: Option<usize>,
        /// Output folder [default: results/<scenario name>-sweep/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite an output folder that holds results.
        #[arg(long)]
        force: bool,
        /// Finish the sweep in the output folder: run only the runs it is missing.
        #[arg(long)]
        resume: bool,
        /// Run only part K of N (1-based; run i belongs to part i mod N + 1); combine the
        /// parts with `clustersim merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        #[command(flatten)]
        checks: CheckArgs,
        /// No progress bar and no closing line.
        #[arg(long, short)]
        quiet: bool,
        /// Do not draw charts/ and index.html from points.csv.
        #[arg(long)]
        no_charts: bool,
    },
    /// Find the cheapest configuration that meets requirements under every variant: a search
    /// over decision variables (integer ranges of --set paths, categorical choices), with a
    /// stated decision rule (one-sided confidence bounds over replications, added where a
    /// bound straddles a threshold). Writes plan.csv, plan.json, runs.csv, charts/ and
    /// index.html. See README "Capacity planning".
    Plan(PlanArgs),
    /// Turn Kubernetes objects (`kubectl get nodes,deployments,statefulsets,daemonsets,hpa,pdb,
    /// priorityclasses -A -o yaml`, manifests, JSON) into a scenario: Nodes become node pools,
    /// Deployments, StatefulSets and owner-less ReplicaSets become Deployments, DaemonSets
    /// stay DaemonSets, with their PriorityClasses, PodDisruptionBudgets and HPAs; with
    /// --keep-placement, bare Pods bound to a node start the run on it. What is not modelled
    /// is summarised on stderr. See README "Bring your own cluster".
    Import {
        /// YAML or JSON files (several documents, `kind: List`), or folders (their *.yaml,
        /// *.yml and *.json files, sorted by name).
        #[arg(required = true, value_name = "FILE|DIR")]
        inputs: Vec<PathBuf>,
        /// Write the scenario to FILE (atomically) instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Prices per node hour by instance type: YAML `{m5.xlarge: 0.192}` or CSV with the
        /// columns instanceType,pricePerHour.
        #[arg(long, value_name = "FILE")]
        prices: Option<PathBuf>,
        /// Bare Pods (no ownerReferences) with spec.nodeName become initialPods: Running on
        /// their node from the start, as they are in the cluster. Without it they are only
        /// counted in the summary.
        #[arg(long)]
        keep_placement: bool,
    },
    /// Combine the output folders of a sharded sweep into runs.csv and points.csv.
    Merge {
        /// The sweep folders (one per shard).
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite an output folder that holds results.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        checks: CheckArgs,
        /// No closing line.
        #[arg(long, short)]
        quiet: bool,
        /// Do not draw charts/ and index.html from points.csv.
        #[arg(long)]
        no_charts: bool,
    },
}

/// The flags of `clustersim plan`.
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub input: ScenarioArgs,
    /// The plan file (YAML): variables, requirements, objective, replications, confidence,
    /// rule, under (docs/plan.md).
    #[arg(long, value_name = "FILE")]
    pub plan_file: Option<PathBuf>,
    /// An integer variable PATH over START..=END by STEP (default 1), enumerated unless
    /// --monotone names it. Repeatable; after the plan file's variables.
    #[arg(short = 'P', long = "parameter-scan", action = clap::ArgAction::Append, value_parser = clap::value_parser!(String), num_args = 3..=4, value_names = ["PATH", "START", "END", "STEP"])]
    pub scan: Vec<String>,
    /// A categorical variable PATH over a comma-separated list of values. Repeatable.
    #[arg(short = 'L', long = "parameter-list", action = clap::ArgAction::Append, value_parser = clap::value_parser!(String), num_args = 2, value_names = ["PATH", "VALUES"])]
    pub list: Vec<String>,
    /// Declare a -P variable monotone: PATH=increasing (more is never worse, nor cheaper)
    /// or PATH=decreasing. Repeatable.
    #[arg(long = "monotone", value_name = "PATH=DIRECTION")]
    pub monotone: Vec<String>,
    /// A requirement in the --check grammar, e.g. 'latency_p99_ms < 250'. Repeatable.
    #[arg(long = "require", value_name = "EXPR")]
    pub require: Vec<String>,
    /// What to minimise: a summary column or an expression of columns [default: cost].
    #[arg(long, value_name = "EXPR")]
    pub objective: Option<String>,
    /// Replications per configuration and variant: N, or MIN..MAX (sequential).
    #[arg(short = 'r', long, value_name = "MIN[..MAX]")]
    pub replications: Option<String>,
    /// Confidence level of the one-sided bounds [default: 0.95].
    #[arg(long, value_name = "C")]
    pub confidence: Option<f64>,
    /// The decision rule: mean-bound or every-replication [default: mean-bound].
    #[arg(long, value_name = "RULE")]
    pub rule: Option<String>,
    /// A variant the plan must survive, as a YAML mapping, e.g. '{name: zone-a-down,
    /// faults: [{at: 1h, duration: 30m, fail: {zone: zone-a}}]}'. Repeatable.
    #[arg(long = "under", value_name = "YAML")]
    pub under: Vec<String>,
    /// Parallel runs [default: every core].
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Output folder [default: results/<scenario name>-plan/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite an output folder that holds results.
    #[arg(long)]
    pub force: bool,
    /// Finish the plan in the output folder, reusing its run files.
    #[arg(long)]
    pub resume: bool,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not draw charts/ and index.html.
    #[arg(long)]
    pub no_charts: bool,
}

impl PlanArgs {
    /// The plan's options; `sub` gives the order of -P and -L on the command line.
    fn options(self, sub: Option<&clap::ArgMatches>) -> crate::plan::Options {
        crate::plan::Options {
            input: runner::Input {
                scenario: self.input.scenario,
                sets: self.input.sets,
                duration: self.input.duration,
                seed: self.input.seed,
                no_limits: self.input.no_limits,
            },
            plan_file: self.plan_file,
            flags: crate::plan::spec::Flags {
                params: parameters_in_order(sub),
                monotone: self.monotone,
                require: self.require,
                objective: self.objective,
                replications: self.replications,
                confidence: self.confidence,
                rule: self.rule,
                under: self.under,
            },
            jobs: self.jobs,
            out: self.out,
            force: self.force,
            resume: self.resume,
            quiet: self.quiet,
            charts: !self.no_charts,
        }
    }
}

/// CI checks shared by `sweep` and `merge`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Fail (exit 3) unless every run row satisfies EXPR, e.g. 'latency_p99_ms < 250';
    /// prefix `points:` to test grid-point rows ('points: availability_mean >= 0.999').
    /// Repeatable.
    #[arg(long = "check", value_name = "EXPR")]
    pub checks: Vec<String>,
    /// A previous points.csv: fail (exit 3) when a grid point's mean regresses beyond --tolerance.
    #[arg(long, value_name = "POINTS_CSV")]
    pub baseline: Option<PathBuf>,
    /// Allowed relative change in the bad direction for --baseline [default: 5%].
    #[arg(long, value_name = "PCT")]
    pub tolerance: Option<String>,
}

impl CheckArgs {
    fn options(&self) -> CheckOptions {
        CheckOptions {
            checks: self.checks.clone(),
            baseline: self.baseline.clone(),
            tolerance: self.tolerance.clone(),
        }
    }
}

/// A scenario file and what overrides it; shared by every subcommand that reads one.
#[derive(clap::Args, Debug)]
pub struct ScenarioArgs {
    /// The scenario file (YAML).
    pub scenario: PathBuf,
    /// Run seed (overrides the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override a scenario field by its dotted path, e.g. --set nodePools.0.count=200. Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
    /// Run length (overrides the scenario's `duration`), e.g. 10m, 3600s, 1h30m.
    #[arg(long)]
    pub duration: Option<String>,
    /// Run even when the scenario's estimated memory or work exceeds this machine's limits
    /// (see README "Limits").
    #[arg(long)]
    pub no_limits: bool,
}

impl ScenarioArgs {
    /// Loads the scenario with every override applied and validated. Returns it with the
    /// list of `--set` overrides actually applied (for run.json).
    fn load(&self) -> Result<(scenario::Scenario, Vec<String>), Failure> {
        let mut sets = self.sets.clone();
        if let Some(d) = &self.duration {
            sets.push(runner::duration_override(d).map_err(Failure::Input)?);
        }
        let s = runner::load(&self.scenario, &sets, self.seed)?;
        Ok((s, sets))
    }
}

/// A failure and its exit code.
enum Failure {
    Input(String),
    Internal(String),
    /// The results could not be written (exit 4).
    Io(String),
    /// Runs of a sweep failed (exit 1).
    RunsFailed(String),
    /// A check failed (exit 3).
    Checks(String),
    /// No configuration meets a plan's requirements (exit 3).
    NoPlan(String),
}

impl From<crate::plan::PlanError> for Failure {
    fn from(e: crate::plan::PlanError) -> Self {
        use crate::plan::PlanError as P;
        match e {
            P::Input(m) => Failure::Input(m),
            P::Internal(m) => Failure::Internal(m),
            P::Io(m) => Failure::Io(m),
            P::RunFailed(m) => Failure::RunsFailed(m),
            P::NoPlan(m) => Failure::NoPlan(m),
        }
    }
}

impl From<SweepError> for Failure {
    fn from(e: SweepError) -> Self {
        match e {
            SweepError::Input(m) | SweepError::RunsRefused(m) => Failure::Input(m),
            SweepError::Internal(m) => Failure::Internal(m),
            SweepError::Io(m) => Failure::Io(m),
            SweepError::RunsFailed(m) => Failure::RunsFailed(m),
            SweepError::ChecksFailed(m) => Failure::Checks(m),
        }
    }
}

impl From<FolderError> for Failure {
    fn from(e: FolderError) -> Self {
        match e {
            FolderError::Input(m) => Failure::Input(m),
            FolderError::Io(m) => Failure::Io(m),
        }
    }
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure::Input(e.to_string())
    }
}

/// A run of the scenario file `file` that could not be built or ended without results:
/// bad input found when it was built (exit 2, named like a validation error) or a bug.
fn run_failure(file: &Path, e: crate::sim::RunError) -> Failure {
    match e.in_scenario(file) {
        Ok(input) => input.into(),
        Err(m) => Failure::Internal(m),
    }
}

/// Entry point used by `main`.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let parsed =
        Cli::command().try_get_matches_from(args).and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (cli, matches) = match parsed {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Returns an error on a closed stream instead of panicking.
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Run { input, out, force, pods, explain, quiet, no_charts, threads, checks } => {
            // Every core unless asked (what each extra thread does: `parallel::Threads`).
            let threads = threads
                .map_or_else(runner::Threads::every_core, |n| runner::Threads::exactly(usize::from(n)));
            run(&input, out, force, pods, explain, quiet, no_charts, threads, &checks)
        }
        Command::Validate { input } => validate(&input),
        Command::Plot { dir, metrics } => plot(&dir, metrics).map(|written| {
            console::out_line(&format!(
                "{} files written; report in {}",
                written.len(),
                dir.join("index.html").display()
            ));
        }),
        Command::Sweep {
            input,
            scan: _,
            list: _,
            sweep_file,
            replications,
            jobs,
            out,
            force,
            resume,
            shard,
            checks,
            quiet,
            no_charts,
        } => {
            let sub = matches.subcommand_matches("sweep");
            let opts = sweep::Options {
                scenario: input.scenario,
                sets: input.sets,
                duration: input.duration,
                seed: input.seed,
                params: parameters_in_order(sub),
                sweep_file,
                replications,
                jobs,
                out,
                force,
                resume,
                shard,
                checks: checks.options(),
                quiet,
                charts: !no_charts,
                no_limits: input.no_limits,
            };
            sweep::sweep(&opts).map_err(Failure::from)
        }
        Command::Plan(args) => {
            let opts = args.options(matches.subcommand_matches("plan"));
            crate::plan::plan(&opts).map_err(Failure::from)
        }
        Command::Import { inputs, out, prices, keep_placement } => import(
            &inputs,
            out.as_deref(),
            &crate::import::Options { prices: prices.as_deref(), keep_placement },
        ),
        Command::Merge { dirs, out, force, checks, quiet, no_charts } => {
            sweep::merge(&dirs, &out, force, &checks.options(), quiet, !no_charts).map_err(Failure::from)
        }
    };
    let (code, text) = match result {
        Ok(()) => return ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => (2, format!("error: {msg}")),
        Err(Failure::Internal(msg)) => {
            (1, format!("internal error (a bug in clustersim, please report it): {msg}"))
        }
        Err(Failure::Io(msg)) => (4, format!("error: cannot write the results: {msg}")),
        Err(Failure::RunsFailed(msg)) => (1, format!("error: {msg}")),
        Err(Failure::Checks(msg)) => (3, format!("check failed: {msg}")),
        Err(Failure::NoPlan(msg)) => (3, format!("no plan: {msg}")),
    };
    console::err_line(&text);
    ExitCode::from(code)
}

/// `-P` and `-L` in the order they appear on the command line (clap keeps each flag's
/// occurrences apart; their first-value indices give the interleaving).
fn parameters_in_order(sub: Option<&clap::ArgMatches>) -> Vec<ParamSpec> {
    let groups = |id: &str| -> Vec<(usize, Vec<String>)> {
        let Some(m) = sub else { return Vec::new() };
        let idx: Vec<usize> = m.indices_of(id).map(|i| i.collect()).unwrap_or_default();
        let occ: Vec<Vec<String>> = m
            .get_occurrences::<String>(id)
            .map(|o| o.map(|g| g.cloned().collect()).collect())
            .unwrap_or_default();
        let mut at = 0;
        occ.into_iter()
            .map(|g| {
                let first = idx.get(at).copied().unwrap_or(usize::MAX);
                at += g.len();
                (first, g)
            })
            .collect()
    };
    let mut all: Vec<(usize, ParamSpec)> = Vec::new();
    for (pos, g) in groups("scan") {
        let v = |k: usize| g.get(k).cloned().unwrap_or_default();
        all.push((pos, ParamSpec::Range { path: v(0), start: v(1), end: v(2), step: g.get(3).cloned() }));
    }
    for (pos, g) in groups("list") {
        let v = |k: usize| g.get(k).cloned().unwrap_or_default();
        all.push((pos, ParamSpec::List { path: v(0), values: v(1) }));
    }
    all.sort_by_key(|(pos, _)| *pos);
    all.into_iter().map(|(_, p)| p).collect()
}

fn validate(input: &ScenarioArgs) -> Result<(), Failure> {
    let (s, _) = input.load()?;
    let file = &input.scenario;
    let estimate =
        runner::check_limits(&s, file, input.no_limits, scenario::budget::Outputs::RUN_DEFAULT, 1)?;
    let nodes: u64 = s.node_pools.iter().map(|p| p.count as u64).sum();
    let traces = if s.pod_traces.is_empty() {
        String::new()
    } else {
        let rows: Vec<String> = (0..s.pod_traces.len())
            .map(|i| {
                s.inputs.pod_trace(&s, i).map_or(String::from("?"), |t| {
                    let hours = (t.last_arrival_ns - t.first_arrival_ns) as f64 / 3.6e12;
                    format!("{} rows arriving over {hours:.1} h, {} pod shapes", t.rows, t.shapes.len())
                })
            })
            .collect();
        format!(", {} pod trace(s): {}", s.pod_traces.len(), rows.join("; "))
    };
    let lists = if s.node_lists.is_empty() {
        String::new()
    } else {
        let from = s.node_pools.iter().filter(|p| p.from_node_list.is_some()).count();
        format!(" ({from} from node lists)")
    };
    console::out_line(&format!(
        "{}: ok ({} node pools{lists}, {} nodes, {} deployments, {} churn generators{traces}, duration {})",
        file.display(),
        s.node_pools.len(),
        nodes,
        s.deployments.len(),
        s.churn.len(),
        scenario::duration::format_duration(s.duration.0)
    ));
    console::out_line(&format!("estimate: {estimate}"));
    Ok(())
}

/// `import`: the scenario on stdout or in `out`, the summary on stderr.
fn import(inputs: &[PathBuf], out: Option<&Path>, opts: &crate::import::Options) -> Result<(), Failure> {
    let imported = crate::import::import(inputs, opts).map_err(|e| match e {
        crate::import::ImportError::Input(m) => Failure::Input(m),
        crate::import::ImportError::Internal(m) => Failure::Internal(m),
    })?;
    match out {
        Some(path) => output::write_atomic(path, imported.yaml.as_bytes())
            .map_err(|e| Failure::Io(format!("{}: {e}", path.display())))?,
        None => console::out(&imported.yaml),
    }
    console::err(&imported.summary);
    Ok(())
}

/// Charts and index.html for an output folder (`plot`, and `run` unless --no-charts).
fn plot(dir: &Path, metrics: Vec<String>) -> Result<Vec<PathBuf>, Failure> {
    crate::charts::plot_dir(dir, &crate::charts::PlotOptions { metrics }).map_err(|e| match e {
        crate::charts::ChartError::Write { .. } => Failure::Io(e.to_string()),
        crate::charts::ChartError::Render(_) => Failure::Internal(e.to_string()),
        other => Failure::Input(other.to_string()),
    })
}

#[allow(clippy::too_many_arguments)]
fn run(
    input: &ScenarioArgs,
    out: Option<PathBuf>,
    force: bool,
    pods: bool,
    explain: bool,
    quiet: bool,
    no_charts: bool,
    threads: runner::Threads,
    checks: &[String],
) -> Result<(), Failure> {
    let run_checks = sweep::parse_run_checks(checks)?;
    let (s, sets) = input.load()?;
    let file = &input.scenario;
    let outputs = scenario::budget::Outputs { charts: !no_charts, pods_csv: pods };
    runner::check_limits(&s, file, input.no_limits, outputs, 1)?;
    // A check naming a column this scenario's summary does not have is refused now, not
    // after the run.
    if !run_checks.is_empty() {
        let columns = runner::summary_columns(&s).map_err(|e| run_failure(file, e))?;
        sweep::validate_run_checks(&run_checks, &columns)?;
    }
    let name = s.name.clone().unwrap_or_else(|| "scenario".to_string());
    let target = out.unwrap_or_else(|| Path::new("results").join(&name));
    // The files go to a folder beside the target, swapped in once all are written.
    let staging = Staging::begin(&target, force)?;
    let out = staging.path();

    let started = Instant::now();
    let progress = Progress::simulated(&name, s.duration.0.as_nanos(), quiet);
    let mut report = |now: crate::engine::SimTime, _end: crate::engine::SimTime| {
        progress.update(now.as_nanos(), "");
    };
    let slices: Option<&mut dyn FnMut(crate::engine::SimTime, crate::engine::SimTime)> =
        if progress.shown() { Some(&mut report) } else { None };
    let sink: Option<Box<dyn crate::scheduler::explain::AttemptSink>> = if explain {
        let path = out.join("scheduling-attempts.csv");
        let sink = output::attempts::CsvSink::create(&path)
            .map_err(|e| Failure::Io(format!("{}: {e}", target.join("scheduling-attempts.csv").display())))?;
        Some(Box::new(sink))
    } else {
        None
    };
    // `--pods`: rows of ended pods are held up to a bound, then spilled to the staging folder.
    let rows = pods.then(|| output::pods::PodsCsv::new(out, output::pods::DEFAULT_BUFFER_ROWS));
    let mut result =
        runner::simulate_with(&s, s.seed, slices, sink, rows, threads).map_err(|e| run_failure(file, e))?;
    progress.finish();
    if let Some(sink) = result.attempts.take() {
        let staged = out.display().to_string();
        sink.finish().map_err(|m| Failure::Io(m.replace(&staged, &target.display().to_string())))?;
    }
    let wall = started.elapsed().as_secs_f64();

    let write = |name: &str, bytes: std::io::Result<Vec<u8>>| -> Result<(), Failure> {
        let path = out.join(name);
        let bytes = bytes.map_err(|e| Failure::Internal(format!("{}: {e}", path.display())))?;
        output::write_atomic(&path, &bytes)
            .map_err(|e| Failure::Io(format!("{}: {e}", target.join(name).display())))
    };
    write("summary.csv", output::summary_csv(&result.summary))?;
    write("timeseries.csv", output::timeseries_csv(&result.metrics, &result.timeseries_columns))?;
    write("startup-cdf.csv", output::startup_cdf_csv(&result.metrics.startup_quantiles_s()))?;
    if let Some(rows) = result.pods_csv.take() {
        rows.write(&result.cluster, &out.join("pods.csv"))
            .map_err(|e| Failure::Io(format!("{}: {e}", target.join("pods.csv").display())))?;
    }
    if result.has_hpa || result.has_cluster_autoscaler {
        write(
            "autoscaler-events.csv",
            output::autoscaler_events_csv(&result.hpa_decisions, &result.ca_decisions),
        )?;
    }
    let events = result.summary.iter().find(|(k, _)| k == "events_processed").and_then(|(_, v)| v.as_f64());
    let run_json = serde_json::json!({
        "clustersim_version": crate::VERSION,
        "scenario_file": file.display().to_string(),
        "seed": s.seed,
        "overrides": sets,
        "scenario": s,
        "wall_clock_s": wall,
        "events_per_wall_s": events.map(|e| if wall > 0.0 { e / wall } else { 0.0 }),
    });
    let json = serde_json::to_vec_pretty(&run_json).map_err(|e| Failure::Internal(e.to_string()))?;
    write("run.json", Ok(json))?;
    if !no_charts {
        // Messages name the target folder, not the staging folder beside it.
        let staged = out.display().to_string();
        let named = target.display().to_string();
        plot(out, Vec::new()).map_err(|f| match f {
            Failure::Io(m) => Failure::Io(m.replace(&staged, &named)),
            other => other,
        })?;
    }
    staging.commit()?;

    if !quiet {
        console::err_line(&format!(
            "{name}: simulated {:.0} s in {wall:.3} s wall ({} events); results in {}",
            s.duration.0.as_secs_f64(),
            events.unwrap_or(0.0),
            target.display()
        ));
        let mut table = String::new();
        for (k, v) in &result.summary {
            table.push_str(&format!("{k:<28} {}\n", v.render()));
        }
        console::out(&table);
    }
    sweep::check_run(checks, &result.summary)?;
    Ok(())
}
