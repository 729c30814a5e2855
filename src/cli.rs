//! The command line: clap types stay in this file. Subcommands resolve their flags into
//! a scenario and an output folder, run, and map errors to exit codes:
//! 0 success, 2 bad input (file, flag, value), 1 internal failure.

use crate::output;
use crate::scenario::{self, ScenarioError};
use crate::sim::Simulation;
use clap::{Parser, Subcommand};
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
        /// Output folder [default: results/<scenario name>/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write pods.csv, one row per pod (can be large).
        #[arg(long)]
        pods: bool,
        /// Print nothing on success.
        #[arg(long, short)]
        quiet: bool,
        /// Do not draw charts/ and index.html.
        #[arg(long)]
        no_charts: bool,
    },
    /// Check a scenario file (and overrides) without running it.
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
}

impl ScenarioArgs {
    /// Loads the scenario with every override applied and validated. Returns it with the
    /// list of `--set` overrides actually applied (for run.json).
    fn load(&self) -> Result<(scenario::Scenario, Vec<String>), Failure> {
        let mut sets = self.sets.clone();
        if let Some(d) = &self.duration {
            scenario::duration::parse_duration(d)
                .map_err(|m| Failure::Input(format!("--duration {d}: {m}")))?;
            sets.push(format!("duration={d}"));
        }
        let mut s = scenario::load(&self.scenario, &sets)?;
        if let Some(seed) = self.seed {
            s.seed = seed;
        }
        Ok((s, sets))
    }
}

/// A failure and its exit code.
enum Failure {
    Input(String),
    Internal(String),
}

impl From<ScenarioError> for Failure {
    fn from(e: ScenarioError) -> Self {
        Failure::Input(e.to_string())
    }
}

/// Entry point used by `main`.
pub fn main_with_args(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Run { input, out, pods, quiet, no_charts } => run(&input, out, pods, quiet, no_charts),
        Command::Validate { input } => validate(&input),
        Command::Plot { dir, metrics } => plot(&dir, metrics).map(|written| {
            println!("{} files written; report in {}", written.len(), dir.join("index.html").display());
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Internal(msg)) => {
            eprintln!("internal error (a bug in clustersim, please report it): {msg}");
            ExitCode::from(1)
        }
    }
}

fn validate(input: &ScenarioArgs) -> Result<(), Failure> {
    let (s, _) = input.load()?;
    let file = &input.scenario;
    let nodes: u64 = s.node_pools.iter().map(|p| p.count as u64).sum();
    println!(
        "{}: ok ({} node pools, {} nodes, {} deployments, {} churn generators, duration {})",
        file.display(),
        s.node_pools.len(),
        nodes,
        s.deployments.len(),
        s.churn.len(),
        scenario::duration::format_duration(s.duration.0)
    );
    Ok(())
}

/// Charts and index.html for an output folder (`plot`, and `run` unless --no-charts).
fn plot(dir: &Path, metrics: Vec<String>) -> Result<Vec<PathBuf>, Failure> {
    crate::charts::plot_dir(dir, &crate::charts::PlotOptions { metrics }).map_err(|e| {
        if e.is_input() { Failure::Input(e.to_string()) } else { Failure::Internal(e.to_string()) }
    })
}

fn run(
    input: &ScenarioArgs,
    out: Option<PathBuf>,
    pods: bool,
    quiet: bool,
    no_charts: bool,
) -> Result<(), Failure> {
    let (s, sets) = input.load()?;
    let file = &input.scenario;
    let name = s.name.clone().unwrap_or_else(|| "scenario".to_string());
    let out = out.unwrap_or_else(|| Path::new("results").join(&name));
    std::fs::create_dir_all(&out)
        .map_err(|e| Failure::Input(format!("--out {}: cannot create the folder: {e}", out.display())))?;

    let started = Instant::now();
    let sim = Simulation::new(&s, s.seed).map_err(Failure::Internal)?;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sim.run()))
        .map_err(|p| Failure::Internal(panic_message(&p)))?;
    let wall = started.elapsed().as_secs_f64();

    let write = |name: &str, bytes: std::io::Result<Vec<u8>>| -> Result<(), Failure> {
        let path = out.join(name);
        let bytes = bytes.map_err(|e| Failure::Internal(format!("{}: {e}", path.display())))?;
        output::write_atomic(&path, &bytes)
            .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))
    };
    write("summary.csv", output::summary_csv(&result.summary))?;
    write("timeseries.csv", output::timeseries_csv(&result.metrics, &result.timeseries_columns))?;
    write("startup-cdf.csv", output::startup_cdf_csv(&result.metrics.startup_quantiles_s()))?;
    if pods {
        write("pods.csv", output::pods_csv(&result.cluster))?;
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
        plot(&out, Vec::new())?;
    }

    if !quiet {
        eprintln!(
            "{name}: simulated {:.0} s in {wall:.3} s wall ({} events); results in {}",
            s.duration.0.as_secs_f64(),
            events.unwrap_or(0.0),
            out.display()
        );
        for (k, v) in &result.summary {
            println!("{k:<28} {}", v.render());
        }
    }
    Ok(())
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}
