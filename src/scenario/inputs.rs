//! Files a scenario refers to (request traces, CSV columns of service times), read once
//! at load time so that the simulation never does I/O. Paths are relative to the scenario
//! file's folder. Each file is read once however often it is referenced.

use super::error::ScenarioError;
use super::schema::{LoadSpec, Scenario};
use super::trace::{self, Trace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Key of a loaded trace: (file as written, time column, service-time column).
pub type TraceKey = (String, String, Option<String>);

#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub traces: BTreeMap<TraceKey, Arc<Trace>>,
    /// (file as written, column) → values in seconds.
    pub columns: BTreeMap<(String, String), Arc<Vec<f64>>>,
}

fn path_of(base: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() { p.to_path_buf() } else { base.join(p) }
}

/// The files the scenario refers to, as named in it and as found from `base` (the
/// scenario file's folder), each once, in the order they are referenced.
pub fn files(s: &Scenario, base: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for d in &s.deployments {
        let Some(svc) = &d.service else { continue };
        let named = [
            svc.service_time_csv.as_ref().map(|c| c.file.clone()),
            if let LoadSpec::Trace(t) = &svc.load { Some(t.file.clone()) } else { None },
        ];
        for f in named.into_iter().flatten() {
            if !out.iter().any(|(g, _)| *g == f) {
                let p = path_of(base, &f);
                out.push((f, p));
            }
        }
    }
    out
}

/// Reads every file the scenario refers to. `base` is the scenario file's folder. What
/// `s.inputs` already holds (a sweep's grid point derived from its base scenario) is kept
/// and not read again.
pub fn resolve(s: &mut Scenario, base: &Path) -> Result<(), ScenarioError> {
    let mut inputs = std::mem::take(&mut s.inputs);
    for (i, d) in s.deployments.iter().enumerate() {
        let Some(svc) = &d.service else { continue };
        if let Some(col) = &svc.service_time_csv {
            let key = (col.file.clone(), col.column.clone());
            if let std::collections::btree_map::Entry::Vacant(slot) = inputs.columns.entry(key) {
                let values = trace::load_column(&path_of(base, &col.file), &col.column).map_err(|error| {
                    ScenarioError::File { field: format!("deployments[{i}].service.serviceTimeCsv"), error }
                })?;
                slot.insert(Arc::new(values));
            }
        }
        if let LoadSpec::Trace(t) = &svc.load {
            let key = (t.file.clone(), t.time_column.clone(), t.service_time_column.clone());
            if let std::collections::btree_map::Entry::Vacant(slot) = inputs.traces.entry(key) {
                let loaded = trace::load_trace(
                    &path_of(base, &t.file),
                    &t.time_column,
                    t.service_time_column.as_deref(),
                )
                .map_err(|error| ScenarioError::File {
                    field: format!("deployments[{i}].service.load.trace"),
                    error,
                })?;
                slot.insert(Arc::new(loaded));
            }
        }
    }
    s.inputs = inputs;
    Ok(())
}
