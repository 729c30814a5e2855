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

/// Reads every file the scenario refers to. `base` is the scenario file's folder.
pub fn resolve(s: &mut Scenario, base: &Path) -> Result<(), ScenarioError> {
    let mut inputs = Inputs::default();
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
