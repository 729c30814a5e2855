//! Loading and running one scenario: the single code path behind `clustersim run` and every
//! run of a sweep, so a sweep's run gives exactly the summary `run` prints for the same
//! scenario, overrides and seed.

use crate::engine::{SimDuration, SimTime};
use crate::scenario::{self, Scenario, ScenarioError};
pub use crate::scheduler::parallel::Threads;
use crate::sim::{RunError, RunOutput, Simulation};
use std::path::Path;

/// A scenario file and what fixes it for every run, as given on the command line (free of
/// clap types).
#[derive(Clone, Debug, Default)]
pub struct Input {
    pub scenario: std::path::PathBuf,
    /// `--set` overrides, in order.
    pub sets: Vec<String>,
    pub duration: Option<String>,
    pub seed: Option<u64>,
    /// Run beyond this machine's estimated limits (`--no-limits`).
    pub no_limits: bool,
}

/// The override `duration=D` for `--duration D`, or the message naming the flag.
pub fn duration_override(d: &str) -> Result<String, String> {
    scenario::duration::parse_duration(d).map_err(|m| format!("--duration {d}: {m}"))?;
    Ok(format!("duration={d}"))
}

/// Loads `file` with the `--set` overrides `sets` applied in order, and replaces the seed
/// with `seed` when given. The inflation of pod traces is checked for the resulting seed
/// (`workload::replay::check_inflation`), so a `duration` too short for it is refused here
/// like any invalid field.
pub fn load(file: &Path, sets: &[String], seed: Option<u64>) -> Result<Scenario, ScenarioError> {
    let mut s = scenario::load(file, sets)?;
    if let Some(seed) = seed {
        s.seed = seed;
    }
    crate::workload::replay::check_inflation(&s, s.seed)
        .map_err(|e| ScenarioError::Invalid { file: file.to_path_buf(), errors: vec![e] })?;
    Ok(s)
}

/// A variant of a loaded scenario: `base` (as [`load`] returned it) with the further
/// overrides `sets`, validated like a file. The files `base` read are not read again. A
/// sweep derives each grid point this way, so it parses the scenario file once.
pub fn derive(base: &Scenario, file: &Path, sets: &[String]) -> Result<Scenario, ScenarioError> {
    if sets.is_empty() {
        return Ok(base.clone());
    }
    let mut s = scenario::overrides::apply(base, sets)?;
    // Pools made from node lists are made again from their lists: an override of one of
    // them would be lost, so it is refused.
    for (i, p) in s.node_pools.iter().enumerate() {
        let Some(list) = &p.from_node_list else { continue };
        let same = base.node_pools.get(i).is_some_and(|b| {
            serde_json::to_value(b).ok().is_some_and(|b| serde_json::to_value(p).ok() == Some(b))
        });
        if !same {
            return Err(ScenarioError::Invalid {
                file: file.to_path_buf(),
                errors: vec![scenario::FieldError {
                    path: format!("nodePools[{i}]"),
                    message: format!(
                        "this pool is made from `nodeLists` entry `{list}`; change the list (its file or \
                         settings), not the pool"
                    ),
                }],
            });
        }
    }
    s.inputs = base.inputs.clone();
    let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    scenario::inputs::resolve_node_lists(&mut s, dir, file)?;
    scenario::validate::validate(&s)
        .map_err(|errors| ScenarioError::Invalid { file: file.to_path_buf(), errors })?;
    scenario::inputs::resolve(&mut s, dir)?;
    Ok(s)
}

/// Refuses a scenario whose estimated memory or work is beyond this machine or clearly a
/// unit mistake (`scenario::budget`), unless `no_limits` (`--no-limits`). `outputs` are the
/// files the run writes (charts, `pods.csv`); `jobs` runs share the machine's memory.
pub fn check_limits(
    s: &Scenario,
    file: &Path,
    no_limits: bool,
    outputs: scenario::budget::Outputs,
    jobs: usize,
) -> Result<scenario::budget::Estimate, ScenarioError> {
    let limits = if no_limits {
        scenario::budget::Limits::none()
    } else {
        scenario::budget::Limits::for_this_machine().shared_by(jobs.max(1) as u64)
    };
    scenario::budget::check_with(s, file, &limits, outputs)
}

/// The columns of the summary row a run of `s` writes, known before it runs (they depend
/// on the scenario only: pools, services, autoscalers, the control plane), so `run
/// --check` can refuse an unknown column before the run. Builds the simulation and closes
/// it at once, without dispatching an event.
pub fn summary_columns(s: &Scenario) -> Result<Vec<String>, RunError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<Vec<String>, RunError> {
        let sim = Simulation::new(s, s.seed)?;
        Ok(sim.finish().summary.into_iter().map(|(k, _)| k).collect())
    }))
    .map_err(|p| RunError::Internal(panic_message(&p)))?
}

/// How many slices `simulate` cuts a run into when it reports progress.
const PROGRESS_STEPS: u64 = 200;

/// Runs a validated scenario with `seed` to the end. Bad input found when the run is built
/// (it depends on the seed) is [`RunError::Input`]; a panic inside the simulation (a bug)
/// is caught and returned as [`RunError::Internal`] with its message, so a caller running
/// many scenarios can go on with the others.
///
/// With `progress`, the run advances in slices of simulated time (`Simulation::step_until`)
/// and `progress(now, end)` is called after each; the result is the same as without.
pub fn simulate(
    s: &Scenario,
    seed: u64,
    progress: Option<&mut dyn FnMut(SimTime, SimTime)>,
) -> Result<RunOutput, RunError> {
    simulate_explained(s, seed, progress, None, Threads::ONE)
}

/// [`simulate`], recording every scheduling attempt into `attempts` (`--explain`), with
/// the scheduling work spread over `threads` (`run --threads`; the output is the same at
/// any count); the output's `attempts` hands the sink back to be finished.
pub fn simulate_explained(
    s: &Scenario,
    seed: u64,
    progress: Option<&mut dyn FnMut(SimTime, SimTime)>,
    attempts: Option<Box<dyn crate::scheduler::explain::AttemptSink>>,
    threads: Threads,
) -> Result<RunOutput, RunError> {
    simulate_with(s, seed, progress, attempts, None, threads)
}

/// [`simulate_explained`], with the rows of `pods.csv` (`--pods`) handed to `pods_csv` as
/// the pods end; the output's `pods_csv` hands it back to be written.
///
/// Every run on this path releases the storage of ended pods
/// ([`Simulation::release_ended_pods`]): its memory follows the pods alive, its results
/// are the same, and the output's `cluster` stores only the pods that had not ended.
pub fn simulate_with(
    s: &Scenario,
    seed: u64,
    progress: Option<&mut dyn FnMut(SimTime, SimTime)>,
    attempts: Option<Box<dyn crate::scheduler::explain::AttemptSink>>,
    pods_csv: Option<crate::output::pods::PodsCsv>,
    threads: Threads,
) -> Result<RunOutput, RunError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || -> Result<RunOutput, RunError> {
        let mut sim = Simulation::new(s, seed)?;
        sim.release_ended_pods(pods_csv);
        sim.scheduler.use_threads(threads).map_err(RunError::Internal)?;
        if let Some(sink) = attempts {
            sim.explain_to(sink);
        }
        let checked = |out: RunOutput| match out.failure.clone() {
            Some(f) => Err(RunError::Internal(f)),
            None => Ok(out),
        };
        let Some(report) = progress else { return checked(sim.run()) };
        let end = sim.end();
        let slice = SimDuration((end.as_nanos() / PROGRESS_STEPS).max(1));
        let mut t = SimTime::ZERO;
        loop {
            t += slice;
            let more = sim.step_until(t);
            report(sim.now(), end);
            if !more {
                break;
            }
        }
        checked(sim.finish())
    }))
    .map_err(|p| RunError::Internal(panic_message(&p)))?
}

/// The text of a caught panic.
pub fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}
