//! Files a scenario refers to (request traces, CSV columns of service times), read once
//! at load time so that the simulation never does I/O. Paths are relative to the scenario
//! file's folder. Each file is read once however often it is referenced.

use super::error::{FieldError, ScenarioError};
use super::nodelist::{self, NodeListData};
use super::podtrace::{self, PodTraceIndex};
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
    /// Pod traces checked once, by [`podtrace::input_key`].
    pub pod_traces: BTreeMap<String, Arc<PodTraceIndex>>,
    /// Node lists read and grouped, by (file as written, mapping, defaults).
    pub node_lists: BTreeMap<String, Arc<NodeListData>>,
}

impl Inputs {
    /// The checked index of `podTraces[i]` (present after [`resolve`]).
    pub fn pod_trace(&self, s: &Scenario, i: usize) -> Option<&Arc<PodTraceIndex>> {
        let spec = s.pod_traces.get(i)?;
        self.pod_traces.get(&podtrace::input_key(spec, &s.priority_classes))
    }
}

/// Reads the node lists (those `s.inputs` does not hold yet) and writes their pools into
/// `s.node_pools` (replacing the pools made from lists before). Runs before validation, so
/// that validation sees every node. `file` names the scenario in errors.
pub fn resolve_node_lists(s: &mut Scenario, base: &Path, file: &Path) -> Result<(), ScenarioError> {
    let mut errors: Vec<FieldError> = Vec::new();
    for (i, l) in s.node_lists.iter().enumerate() {
        errors.extend(nodelist::validate(l, &format!("nodeLists[{i}]")));
    }
    if !errors.is_empty() {
        return Err(ScenarioError::Invalid { file: file.to_path_buf(), errors });
    }
    let mut lists = Vec::with_capacity(s.node_lists.len());
    for (i, l) in s.node_lists.iter().enumerate() {
        let key = nodelist::node_list_key(l);
        let data = match s.inputs.node_lists.get(&key) {
            Some(d) => d.clone(),
            None => {
                let d = Arc::new(
                    nodelist::read(&path_of(base, &l.file), l)
                        .map_err(|error| ScenarioError::File { field: format!("nodeLists[{i}]"), error })?,
                );
                s.inputs.node_lists.insert(key, d.clone());
                d
            }
        };
        errors.extend(nodelist::validate_read(l, &data, &format!("nodeLists[{i}]")));
        lists.push(data);
    }
    if !errors.is_empty() {
        return Err(ScenarioError::Invalid { file: file.to_path_buf(), errors });
    }
    nodelist::expand(s, &lists);
    Ok(())
}

fn path_of(base: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() { p.to_path_buf() } else { base.join(p) }
}

/// The files the scenario refers to, as named in it and as found from `base` (the
/// scenario file's folder), each once, in the order they are referenced.
pub fn files(s: &Scenario, base: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for f in s.node_lists.iter().map(|l| &l.file).chain(s.pod_traces.iter().map(|t| &t.file)) {
        if !out.iter().any(|(g, _)| g == f) {
            out.push((f.clone(), path_of(base, f)));
        }
    }
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
    for (i, t) in s.pod_traces.iter().enumerate() {
        let key = podtrace::input_key(t, &s.priority_classes);
        if let std::collections::btree_map::Entry::Vacant(slot) = inputs.pod_traces.entry(key) {
            let idx = podtrace::check_file(&path_of(base, &t.file), t, &s.priority_classes)
                .map_err(|error| ScenarioError::File { field: format!("podTraces[{i}]"), error })?;
            slot.insert(Arc::new(idx));
        }
        if let Some(idx) = inputs.pod_traces.get(&podtrace::input_key(t, &s.priority_classes)) {
            podtrace::check_gpu_models(idx, &s.node_pools)
                .map_err(|error| ScenarioError::File { field: format!("podTraces[{i}]"), error })?;
        }
    }
    s.inputs = inputs;
    Ok(())
}
