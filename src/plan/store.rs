//! The files of a plan folder, and the run cache that makes `--resume` exact.
//!
//! ```text
//! DIR/plan.json                     the definition (written first), then the recommendation
//! DIR/runs/run-g<G>-v<V>-r<R>.csv   run R of configuration G (grid index) under variant V
//! DIR/runs/run-g<G>-v<V>-r<R>.failed   a run that panicked: the message
//! DIR/plan.csv, DIR/runs.csv        assembled at the end (see `report`)
//! ```
//!
//! Each run file is written atomically as its run ends and says which plan, configuration,
//! variant, replication and seed it is; the search reads a run from its file whenever the
//! file exists, so a resumed plan makes the same decisions from the same numbers and
//! writes the same bytes. The plan's **id** hashes only what determines a run (the
//! scenario's bytes and the files it reads, the fixed overrides, the base seed, the
//! variables and the variants), so changing a requirement, the objective, the rule or the
//! replications and resuming reuses every run already made.

use crate::sweep::store::{self as sweep_store, ScenarioIdentity, Table};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What determines a run of a plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    #[serde(flatten)]
    pub scenario: ScenarioIdentity,
    /// The base seed: replication r uses base + r.
    pub seed: u64,
    /// The variables (names, values and their overrides) and the variants, as resolved.
    pub variables: serde_json::Value,
    pub variants: serde_json::Value,
}

impl Definition {
    pub fn id(&self) -> String {
        sweep_store::fnv1a(sweep_store::compared(self).to_string().as_bytes())
    }
    pub fn difference(&self, other: &Definition) -> Option<String> {
        sweep_store::first_difference(&sweep_store::compared(self), &sweep_store::compared(other))
    }
}

pub const PLAN_JSON: &str = "plan.json";

/// The definition recorded in a folder's plan.json; `None` when it has none.
pub fn read_definition(dir: &Path) -> Result<Option<Definition>, String> {
    let path = dir.join(PLAN_JSON);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not a clustersim plan.json: {e}", path.display()))?;
    let d = v.get("definition").cloned().unwrap_or(serde_json::Value::Null);
    serde_json::from_value(d)
        .map(Some)
        .map_err(|e| format!("{}: not a clustersim plan.json (definition: {e})", path.display()))
}

/// Writes plan.json (pretty, with a final newline).
pub fn write_json(dir: &Path, v: &serde_json::Value) -> Result<(), String> {
    let path = dir.join(PLAN_JSON);
    let mut bytes = serde_json::to_vec_pretty(v).map_err(|e| e.to_string())?;
    bytes.push(b'\n');
    crate::output::write_atomic(&path, &bytes).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// Which run: configuration (grid index), variant (index and name), replication, seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunKey {
    pub config: usize,
    pub variant: usize,
    pub variant_name: String,
    pub replication: u32,
    pub seed: u64,
}

pub fn run_file(dir: &Path, k: &RunKey, failed: bool) -> PathBuf {
    sweep_store::runs_dir(dir).join(format!(
        "run-g{:06}-v{:02}-r{:03}.{}",
        k.config,
        k.variant,
        k.replication,
        if failed { "failed" } else { "csv" }
    ))
}

/// The leading columns of a run file, which identify it.
pub const ID_COLUMNS: [&str; 5] = ["plan", "config", "variant", "replication", "seed"];

/// The bytes of a run file: the identity columns, then the summary row (its `seed` once).
pub fn run_bytes(
    id: &str,
    k: &RunKey,
    summary: &[(String, crate::metrics::Cell)],
) -> std::io::Result<Vec<u8>> {
    let mut header: Vec<String> = ID_COLUMNS.iter().map(|c| c.to_string()).collect();
    let mut row = vec![
        id.to_string(),
        k.config.to_string(),
        k.variant_name.clone(),
        k.replication.to_string(),
        k.seed.to_string(),
    ];
    for (c, v) in summary.iter().filter(|(c, _)| c != "seed") {
        header.push(c.clone());
        row.push(v.render());
    }
    Table { header, rows: vec![row] }.to_csv()
}

const FIX: &str =
    "delete it and run the plan again with --resume (which recomputes it), or start over with --force";

/// The run `k` from its file: `None` when there is none. The table has the summary columns
/// (the identity columns but `seed` removed). `Err` names a file that does not belong.
pub fn read_run(dir: &Path, id: &str, k: &RunKey) -> Result<Option<Table>, String> {
    let path = run_file(dir, k, false);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    let t =
        Table::parse(&bytes).map_err(|e| format!("{}: not a valid CSV file: {e}; {FIX}", path.display()))?;
    if t.rows.len() != 1 || t.header.len() < ID_COLUMNS.len() || t.header[..ID_COLUMNS.len()] != ID_COLUMNS {
        return Err(format!("{}: not a run file of clustersim plan; {FIX}", path.display()));
    }
    let row = &t.rows[0];
    let want = [
        id.to_string(),
        k.config.to_string(),
        k.variant_name.clone(),
        k.replication.to_string(),
        k.seed.to_string(),
    ];
    for (i, w) in want.iter().enumerate() {
        if row.get(i) != Some(w) {
            return Err(format!(
                "{}: {} is {:?} but this run has {w}: the file does not belong to this plan; {FIX}",
                path.display(),
                ID_COLUMNS[i],
                row.get(i).map_or("", String::as_str)
            ));
        }
    }
    let mut header = vec!["seed".to_string()];
    header.extend(t.header[ID_COLUMNS.len()..].iter().cloned());
    let mut cells = vec![k.seed.to_string()];
    cells.extend(row[ID_COLUMNS.len()..].iter().cloned());
    Ok(Some(Table { header, rows: vec![cells] }))
}

/// Writes run `k`'s file (or its `.failed` file with `message`); a success removes an old
/// `.failed`.
pub fn write_run(dir: &Path, k: &RunKey, bytes: &[u8], failed: bool) -> Result<(), String> {
    let path = run_file(dir, k, failed);
    crate::output::write_atomic(&path, bytes)
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    if !failed {
        let _ = std::fs::remove_file(run_file(dir, k, true));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Cell;

    #[test]
    fn run_files_round_trip_and_are_checked() {
        let d = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(sweep_store::runs_dir(d.path())).expect("mkdir");
        let k = RunKey { config: 7, variant: 1, variant_name: "zone-a".into(), replication: 2, seed: 13 };
        assert_eq!(read_run(d.path(), "abc", &k), Ok(None));
        let summary = vec![("seed".to_string(), Cell::Int(13)), ("cost".to_string(), Cell::Float(1.5))];
        let bytes = run_bytes("abc", &k, &summary).expect("csv");
        write_run(d.path(), &k, &bytes, false).expect("write");
        assert!(run_file(d.path(), &k, false).ends_with("runs/run-g000007-v01-r002.csv"));
        let t = read_run(d.path(), "abc", &k).expect("ok").expect("present");
        assert_eq!(t.header, ["seed", "cost"]);
        assert_eq!(t.rows[0], ["13", "1.500000"]);
        let e = read_run(d.path(), "other", &k).expect_err("another plan");
        assert!(e.contains("does not belong") && e.contains("--resume"), "{e}");
    }
}
