//! Loading and running one scenario: the single code path behind `clustersim run` and every
//! run of a sweep, so a sweep's run gives exactly the summary `run` prints for the same
//! scenario, overrides and seed.

use crate::engine::{SimDuration, SimTime};
use crate::scenario::{self, Scenario, ScenarioError};
use crate::sim::{RunOutput, Simulation};
use std::path::Path;

/// The override `duration=D` for `--duration D`, or the message naming the flag.
pub fn duration_override(d: &str) -> Result<String, String> {
    scenario::duration::parse_duration(d).map_err(|m| format!("--duration {d}: {m}"))?;
    Ok(format!("duration={d}"))
}

/// Loads `file` with the `--set` overrides `sets` applied in order, and replaces the seed
/// with `seed` when given.
pub fn load(file: &Path, sets: &[String], seed: Option<u64>) -> Result<Scenario, ScenarioError> {
    let mut s = scenario::load(file, sets)?;
    if let Some(seed) = seed {
        s.seed = seed;
    }
    Ok(s)
}

/// How many slices `simulate` cuts a run into when it reports progress.
const PROGRESS_STEPS: u64 = 200;

/// Runs a validated scenario with `seed` to the end. A panic inside the simulation (a bug)
/// is caught and returned as `Err` with its message, so a caller running many scenarios
/// can go on with the others.
///
/// With `progress`, the run advances in slices of simulated time (`Simulation::step_until`)
/// and `progress(now, end)` is called after each; the result is the same as without.
pub fn simulate(
    s: &Scenario,
    seed: u64,
    progress: Option<&mut dyn FnMut(SimTime, SimTime)>,
) -> Result<RunOutput, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || -> Result<RunOutput, String> {
        let mut sim = Simulation::new(s, seed)?;
        let Some(report) = progress else { return Ok(sim.run()) };
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
        Ok(sim.finish())
    }))
    .map_err(|p| panic_message(&p))?
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
