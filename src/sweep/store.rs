//! The files of a sweep folder, and how `runs.csv` and `points.csv` are assembled.
//!
//! ```text
//! DIR/sweep.json          the sweep definition (+ shard), written before the first run
//! DIR/runs/run-<i>.csv    run i (0-based, 6+ digits): the header and row of runs.csv
//! DIR/runs/run-<i>.failed run i failed: the panic message
//! DIR/runs.csv            assembled from every run file, in run order
//! DIR/points.csv          one row per grid point, from runs.csv
//! ```
//!
//! Each run file is written atomically when its run ends, so an interrupted sweep keeps
//! every finished run; `runs.csv` and `points.csv` are computed only from the run files'
//! text, so a resumed, sharded-and-merged or differently parallel sweep gives the same bytes.

use super::grid::{Grid, Parameter};
use super::stats;
use crate::output::write_atomic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A CSV table in memory (cells as text).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
    pub fn cell<'a>(&self, row: &'a [String], name: &str) -> Option<&'a str> {
        self.column(name).and_then(|k| row.get(k)).map(String::as_str)
    }
    pub fn to_csv(&self) -> std::io::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header)?;
        for r in &self.rows {
            w.write_record(r)?;
        }
        w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
    }
    pub fn parse(bytes: &[u8]) -> Result<Table, String> {
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
        let header: Vec<String> = r.headers().map_err(|e| e.to_string())?.iter().map(String::from).collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| e.to_string())?;
            rows.push(rec.iter().map(String::from).collect());
        }
        Ok(Table { header, rows })
    }
    pub fn read(path: &Path) -> Result<Table, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Table::parse(&bytes).map_err(|e| format!("{}: not a valid CSV file: {e}", path.display()))
    }
}

/// Which scenario a sweep or a plan runs: the clustersim version, the file as named, the
/// hashes of its bytes and of the files it refers to, and the fixed overrides. Flattened
/// into their definitions' JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioIdentity {
    pub clustersim_version: String,
    /// The scenario file as named on the command line, for the reader; not compared.
    pub scenario_file: String,
    /// FNV-1a 64 of the scenario file's bytes, in hex: a changed file is a different sweep.
    pub scenario_fnv1a: String,
    /// The files the scenario refers to (request traces, CSV columns), as named in it, and
    /// the FNV-1a 64 of their bytes.
    pub input_files: Vec<InputFile>,
    /// The fixed `--set` overrides (and `--duration`), in order.
    pub overrides: Vec<String>,
}

impl ScenarioIdentity {
    /// The identity of `file` loaded as `base` (with the fixed overrides `overrides`).
    pub fn of(file: &Path, base: &crate::scenario::Scenario, overrides: Vec<String>) -> Result<Self, String> {
        let bytes =
            std::fs::read(file).map_err(|e| format!("{}: cannot read the scenario: {e}", file.display()))?;
        let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let mut input_files = Vec::new();
        for (named, path) in crate::scenario::inputs::files(base, dir) {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
            input_files.push(InputFile { file: named, fnv1a: fnv1a(&bytes) });
        }
        Ok(ScenarioIdentity {
            clustersim_version: crate::VERSION.to_string(),
            scenario_file: file.display().to_string(),
            scenario_fnv1a: fnv1a(&bytes),
            input_files,
            overrides,
        })
    }
}

/// What determines a sweep's results; two folders can be resumed or merged together only
/// when their definitions are equal (the scenario's path as typed aside: its content
/// counts, so `s.yaml` and `$PWD/s.yaml` are the same sweep).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    #[serde(flatten)]
    pub scenario: ScenarioIdentity,
    /// `--seed`, or null when each grid point uses its scenario's seed.
    pub seed: Option<u64>,
    /// The scenario's seed with the fixed overrides applied (the base seed of every grid
    /// point unless `--seed` or a `seed` parameter gives one).
    pub scenario_seed: u64,
    pub parameters: Vec<Parameter>,
    pub replications: u32,
    pub runs: usize,
}

/// A file a scenario refers to, and its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    pub file: String,
    pub fnv1a: String,
}

impl Definition {
    pub fn grid(&self) -> Grid {
        Grid { parameters: self.parameters.clone(), replications: self.replications }
    }

    fn compared(&self) -> serde_json::Value {
        compared(self)
    }

    /// The first field that differs from `other`, as "field: this vs other".
    pub fn difference(&self, other: &Definition) -> Option<String> {
        first_difference(&self.compared(), &other.compared())
    }

    /// The sweep's identity: FNV-1a 64 of the compared definition. Every run file carries it.
    pub fn id(&self) -> String {
        fnv1a(self.compared().to_string().as_bytes())
    }

    /// The seed of replication `r` at grid point `point`: `--seed`, else the point's `seed`
    /// parameter, else the scenario's seed, plus `r`.
    pub fn seed_of(&self, point: usize, r: u32) -> Option<u64> {
        let grid = self.grid();
        let base = match self.seed {
            Some(s) => s,
            None => match self.parameters.iter().position(|p| p.path == "seed") {
                Some(k) => grid.values(point).get(k)?.trim().parse().ok()?,
                None => self.scenario_seed,
            },
        };
        Some(super::grid::replication_seed(base, r))
    }
}

/// A definition as compared between folders: its JSON without `scenario_file` (how the
/// scenario was named does not matter, its content does).
pub fn compared<T: Serialize>(definition: &T) -> serde_json::Value {
    let mut v = serde_json::to_value(definition).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(m) = &mut v {
        m.remove("scenario_file");
    }
    v
}

/// The first top-level field of `a` that differs in `b`, as "field: a's vs b's".
pub fn first_difference(a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (a, b) else {
        return (a != b).then(|| format!("{a} vs {b}"));
    };
    for (k, va) in a {
        let vb = b.get(k).unwrap_or(&serde_json::Value::Null);
        if va != vb {
            return Some(format!("{k}: {va} vs {vb}"));
        }
    }
    b.keys().find(|k| !a.contains_key(*k)).map(|k| format!("{k}: null vs {}", b[k]))
}

/// A shard: part `index` (1-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `K/N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = |m: &str| format!("--shard {s}: {m}; expected K/N with 1 ≤ K ≤ N, e.g. --shard 2/4");
        let (k, n) = s.split_once('/').ok_or_else(|| bad("no '/'"))?;
        let k: u32 = k.trim().parse().map_err(|_| bad("K is not a whole number"))?;
        let n: u32 = n.trim().parse().map_err(|_| bad("N is not a whole number"))?;
        if n == 0 {
            return Err(bad("N is 0"));
        }
        if k == 0 {
            return Err(bad("K is 0 (shards are numbered from 1)"));
        }
        if k > n {
            return Err(bad(&format!("K = {k} is larger than N = {n}")));
        }
        Ok(Shard { index: k, count: n })
    }
    /// Whether run `run` belongs to this shard (round-robin over run indices).
    pub fn owns(&self, run: usize) -> bool {
        run % self.count as usize == (self.index - 1) as usize
    }
}

/// `sweep.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepJson {
    /// [`Definition::id`], also in every run file.
    pub id: String,
    pub definition: Definition,
    pub shard: Option<Shard>,
    /// The checks of the sweep file and `--check`: a shard defers its grid-point checks to
    /// `merge`, which applies these.
    #[serde(default)]
    pub checks: Vec<String>,
    /// How run seeds are derived (documentation for a reader of the file).
    pub seeds: String,
}

pub const SEEDS_DOC: &str = "seed of replication r = base seed + r (wrapping); the base seed is --seed, or \
     else the scenario's seed at the grid point; the same seeds at every grid point";

pub fn fnv1a(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

pub fn runs_dir(dir: &Path) -> PathBuf {
    dir.join("runs")
}

pub fn run_file(dir: &Path, run: usize, failed: bool) -> PathBuf {
    runs_dir(dir).join(format!("run-{run:06}.{}", if failed { "failed" } else { "csv" }))
}

/// Why a run has no row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The simulation panicked: a bug (exit 1).
    Panic,
    /// The grid point's scenario is bad input or beyond this machine's limits (exit 2).
    Input,
}

impl Failure {
    fn name(self) -> &'static str {
        match self {
            Failure::Panic => "panic",
            Failure::Input => "input",
        }
    }
}

/// A finished run as found on disk.
#[derive(Clone, Debug)]
pub enum Record {
    Done(Table),
    Failed(Failure, String),
}

/// The leading columns of a run file, which identify it; `runs.csv` leaves them out.
pub const ID_COLUMNS: [&str; 2] = ["sweep", "run"];

/// The bytes of `runs/run-<i>.csv` (identity columns, then the run row) or of
/// `runs/run-<i>.failed` (an identity line, then the message).
pub fn run_file_bytes(id: &str, run: usize, record: &Record) -> std::io::Result<Vec<u8>> {
    match record {
        Record::Done(t) => {
            let mut header: Vec<String> = ID_COLUMNS.iter().map(|c| c.to_string()).collect();
            header.extend(t.header.iter().cloned());
            let rows = t
                .rows
                .iter()
                .map(|r| {
                    let mut row = vec![id.to_string(), run.to_string()];
                    row.extend(r.iter().cloned());
                    row
                })
                .collect();
            Table { header, rows }.to_csv()
        }
        Record::Failed(kind, msg) => {
            Ok(format!("clustersim sweep {id} run {run} {}\n{msg}\n", kind.name()).into_bytes())
        }
    }
}

/// How to repair a folder with a run file that does not belong.
const FIX: &str = "delete it and finish the sweep with `clustersim sweep ... --resume` (which recomputes it), or \
                   start over with --force";

/// Checks a run file against the sweep it is in; `Err` names the file and what is wrong.
fn verify(
    path: &Path,
    def: &Definition,
    id: &str,
    run: usize,
    record: &Record,
    found: (&str, &str),
) -> Result<(), String> {
    let (found_id, found_run) = found;
    if found_id != id || found_run != run.to_string() {
        return Err(format!(
            "{}: the file is run {found_run} of sweep {found_id}, not run {run} of this sweep ({id}): it was \
             copied from another sweep or renamed; {FIX}",
            path.display()
        ));
    }
    let Record::Done(t) = record else { return Ok(()) };
    let grid = def.grid();
    let (point, r) = grid.locate(run);
    let row = &t.rows[0];
    let mut expected: Vec<(String, String)> = grid
        .parameters
        .iter()
        .zip(grid.values(point))
        .map(|(p, v)| (format!("parameter_{}", p.path), v.to_string()))
        .collect();
    expected.push(("replication".into(), r.to_string()));
    if let Some(seed) = def.seed_of(point, r) {
        expected.push(("seed".into(), seed.to_string()));
    }
    for (col, want) in expected {
        match t.cell(row, &col) {
            Some(v) if v == want => {}
            found => {
                return Err(format!(
                    "{}: {col} is {} but run {run} of this sweep has {want}: the file does not belong here; {FIX}",
                    path.display(),
                    found.map_or("missing".to_string(), |v| format!("{v:?}"))
                ));
            }
        }
    }
    Ok(())
}

/// Reads one run file.
fn read_run_file(path: &Path, failed: bool) -> Result<(Record, String, String), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let old = || {
        format!(
            "{}: the file does not say which sweep and run it belongs to (written by an older clustersim, or \
             not a run file); {FIX}",
            path.display()
        )
    };
    if failed {
        let text = String::from_utf8_lossy(&bytes);
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let w: Vec<&str> = first.split(' ').collect();
        let ["clustersim", "sweep", id, "run", run, kind] = w[..] else { return Err(old()) };
        let kind = match kind {
            "panic" => Failure::Panic,
            "input" => Failure::Input,
            _ => return Err(old()),
        };
        return Ok((Record::Failed(kind, rest.trim().to_string()), id.to_string(), run.to_string()));
    }
    let t = Table::parse(&bytes).map_err(|e| format!("{}: not a valid CSV file: {e}", path.display()))?;
    if t.rows.len() != 1 {
        return Err(format!("{}: expected one run row, found {}; {FIX}", path.display(), t.rows.len()));
    }
    if t.header.len() < 2 || t.header[..2] != ID_COLUMNS {
        return Err(old());
    }
    let row = &t.rows[0];
    let (id, run) = (row[0].clone(), row[1].clone());
    let table = Table { header: t.header[2..].to_vec(), rows: vec![row[2..].to_vec()] };
    Ok((Record::Done(table), id, run))
}

/// The run files of a folder, by run index, each checked against `def` (its sweep, run
/// index, parameter values, replication and seed). Temporary files (dot files) are ignored.
/// `Err` names the first file that does not belong and how to fix it.
pub fn scan(dir: &Path, def: &Definition) -> Result<BTreeMap<usize, Record>, String> {
    let id = def.id();
    let mut out = BTreeMap::new();
    let rd = runs_dir(dir);
    let entries = match std::fs::read_dir(&rd) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(format!("{}: cannot read: {e}", rd.display())),
    };
    let mut names: Vec<String> = Vec::new();
    for e in entries {
        let e = e.map_err(|e| format!("{}: cannot read: {e}", rd.display()))?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    for name in names {
        let Some(rest) = name.strip_prefix("run-") else { continue };
        let (num, failed) = if let Some(n) = rest.strip_suffix(".csv") {
            (n, false)
        } else if let Some(n) = rest.strip_suffix(".failed") {
            (n, true)
        } else {
            continue;
        };
        let path = rd.join(&name);
        let Some(i) =
            num.parse::<usize>().ok().filter(|_| num.len() >= 6 && num.bytes().all(|b| b.is_ascii_digit()))
        else {
            return Err(format!("{}: not a run file name (run-NNNNNN.csv); {FIX}", path.display()));
        };
        if i >= def.runs {
            return Err(format!("{}: run {i}, but the sweep has {} runs; {FIX}", path.display(), def.runs));
        }
        if failed && out.contains_key(&i) {
            continue; // a later success wins over an earlier failure
        }
        let (record, fid, frun) = read_run_file(&path, failed)?;
        verify(&path, def, &id, i, &record, (&fid, &frun))?;
        out.insert(i, record);
    }
    Ok(out)
}

/// Writes sweep.json.
pub fn write_sweep_json(dir: &Path, json: &SweepJson) -> Result<(), String> {
    let path = dir.join("sweep.json");
    let mut bytes = serde_json::to_vec_pretty(json).map_err(|e| e.to_string())?;
    bytes.push(b'\n');
    write_atomic(&path, &bytes).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// Reads sweep.json; `None` when the folder has none.
pub fn read_sweep_json(dir: &Path) -> Result<Option<SweepJson>, String> {
    let path = dir.join("sweep.json");
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: not a clustersim sweep.json: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: cannot read: {e}", path.display())),
    }
}

/// Inserts the columns of `cols` into `acc` keeping their relative order: a column not
/// yet present goes right after the previous column of `cols`.
pub fn merge_columns(acc: &mut Vec<String>, cols: &[String]) {
    let mut cursor = 0;
    for c in cols {
        match acc.iter().position(|a| a == c) {
            Some(p) => cursor = p + 1,
            None => {
                acc.insert(cursor, c.clone());
                cursor += 1;
            }
        }
    }
}

/// The leading columns of a run row: one per parameter, then replication and seed.
pub fn key_columns(grid: &Grid) -> Vec<String> {
    let mut k: Vec<String> = grid.parameters.iter().map(|p| format!("parameter_{}", p.path)).collect();
    k.push("replication".into());
    k.push("seed".into());
    k
}

/// runs.csv from the successful runs, in run order, and the grid point of each row.
/// Columns: the key columns, then the union of the runs' summary columns (ordered as in
/// the runs; `seed` once, in front).
pub fn runs_table(grid: &Grid, records: &BTreeMap<usize, Record>) -> (Table, Vec<usize>) {
    let keys = key_columns(grid);
    let mut header = keys.clone();
    for r in records.values() {
        if let Record::Done(t) = r {
            merge_columns(&mut header, &t.header);
        }
    }
    let mut rows = Vec::new();
    let mut points = Vec::new();
    for (&i, r) in records {
        if let Record::Done(t) = r {
            rows.push(header.iter().map(|h| t.cell(&t.rows[0], h).unwrap_or("").to_string()).collect());
            points.push(grid.locate(i).0);
        }
    }
    (Table { header, rows }, points)
}

/// points.csv from runs.csv: one row per grid point (in grid order) with the parameter
/// values, the number of successful replications, and for every summary column except
/// `seed` its mean, sd and 95 % CI over the replications where it has a value.
/// `point_of_row` gives each run row's grid point.
pub fn points_table(grid: &Grid, runs: &Table, point_of_row: &[usize]) -> Table {
    let np = grid.parameters.len();
    let keys = key_columns(grid);
    let metrics: Vec<&String> = runs.header.iter().filter(|h| !keys.contains(h)).collect();
    let mut header: Vec<String> = keys[..np].to_vec();
    header.push("replications".into());
    for m in &metrics {
        for s in ["mean", "sd", "ci95_lo", "ci95_hi"] {
            header.push(format!("{m}_{s}"));
        }
    }
    let mut by_point: Vec<Vec<&Vec<String>>> = vec![Vec::new(); grid.points()];
    for (row, &p) in runs.rows.iter().zip(point_of_row) {
        if let Some(v) = by_point.get_mut(p) {
            v.push(row);
        }
    }
    let metric_cols: Vec<usize> = metrics.iter().filter_map(|m| runs.column(m)).collect();
    let f = |v: f64| {
        let s = format!("{v:.6}");
        if s == "-0.000000" { "0.000000".to_string() } else { s }
    };
    let mut rows = Vec::with_capacity(grid.points());
    for (point, runs_here) in by_point.iter().enumerate() {
        let values = grid.values(point);
        let mut row: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        row.push(runs_here.len().to_string());
        for &k in &metric_cols {
            let xs: Vec<f64> = runs_here.iter().filter_map(|r| r[k].parse::<f64>().ok()).collect();
            match stats::stats(&xs) {
                None => row.extend(std::iter::repeat_n(String::new(), 4)),
                Some(s) => {
                    row.push(f(s.mean));
                    row.push(s.sd.map(f).unwrap_or_default());
                    row.push(s.ci95.map(|c| f(c.0)).unwrap_or_default());
                    row.push(s.ci95.map(|c| f(c.1)).unwrap_or_default());
                }
            }
        }
        rows.push(row);
    }
    Table { header, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_union_keeps_order() {
        let mut acc: Vec<String> = ["a", "b", "d"].map(String::from).to_vec();
        merge_columns(&mut acc, &["a", "b", "c", "d", "e"].map(String::from));
        assert_eq!(acc, ["a", "b", "c", "d", "e"]);
        merge_columns(&mut acc, &["x", "a"].map(String::from));
        assert_eq!(acc, ["x", "a", "b", "c", "d", "e"]);
    }

    #[test]
    fn shards() {
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 2, count: 3 });
        assert!(Shard::parse("0/3").unwrap_err().contains("numbered from 1"));
        assert!(Shard::parse("4/3").unwrap_err().contains("larger than N"));
        assert!(Shard::parse("3").is_err());
        let s = Shard { index: 2, count: 3 };
        let owned: Vec<usize> = (0..8).filter(|&i| s.owns(i)).collect();
        assert_eq!(owned, [1, 4, 7]);
    }

    #[test]
    fn points_aggregate_replications() {
        let grid = Grid {
            parameters: vec![Parameter { path: "x".into(), values: vec!["1".into(), "2".into()] }],
            replications: 2,
        };
        let runs = Table {
            header: ["parameter_x", "replication", "seed", "m", "e"].map(String::from).to_vec(),
            rows: vec![
                ["1", "0", "5", "10", ""].map(String::from).to_vec(),
                ["1", "1", "6", "20", "3"].map(String::from).to_vec(),
                ["2", "0", "5", "4", ""].map(String::from).to_vec(),
            ],
        };
        let p = points_table(&grid, &runs, &[0, 0, 1]);
        assert_eq!(p.header[..3], ["parameter_x", "replications", "m_mean"]);
        assert_eq!(p.rows[0][1], "2");
        assert_eq!(p.rows[0][2], "15.000000");
        assert_eq!(p.rows[0][3], "7.071068");
        assert_eq!(p.rows[0][5], "78.531024");
        // One value: mean only; no value: all empty.
        assert_eq!(p.rows[0][6..10], ["3.000000", "", "", ""]);
        assert_eq!(p.rows[1][2..6], ["4.000000", "", "", ""]);
        assert_eq!(p.rows[1][6..10], ["", "", "", ""]);
    }
}
