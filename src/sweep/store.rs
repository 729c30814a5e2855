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

/// What determines a sweep's results; two folders can be resumed or merged together only
/// when their definitions are equal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    pub clustersim_version: String,
    pub scenario_file: String,
    /// FNV-1a 64 of the scenario file's bytes, in hex: a changed file is a different sweep.
    pub scenario_fnv1a: String,
    /// The fixed `--set` overrides (and `--duration`), in order.
    pub overrides: Vec<String>,
    /// `--seed`, or null when each grid point uses its scenario's seed.
    pub seed: Option<u64>,
    pub parameters: Vec<Parameter>,
    pub replications: u32,
    pub runs: usize,
}

impl Definition {
    pub fn grid(&self) -> Grid {
        Grid { parameters: self.parameters.clone(), replications: self.replications }
    }

    /// The first field that differs from `other`, as "field: this vs other".
    pub fn difference(&self, other: &Definition) -> Option<String> {
        let a = serde_json::to_value(self).ok()?;
        let b = serde_json::to_value(other).ok()?;
        let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (a, b) else { return None };
        for (k, va) in &a {
            let vb = b.get(k).unwrap_or(&serde_json::Value::Null);
            if va != vb {
                return Some(format!("{k}: {va} vs {vb}"));
            }
        }
        None
    }
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
    pub definition: Definition,
    pub shard: Option<Shard>,
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

/// A finished run as found on disk.
#[derive(Clone, Debug)]
pub enum Record {
    Done(Table),
    Failed(String),
}

/// The run files of a folder, by run index. Temporary files (dot files) are ignored.
pub fn scan(dir: &Path) -> Result<BTreeMap<usize, Record>, String> {
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
        let Ok(i) = num.parse::<usize>() else { continue };
        let path = rd.join(&name);
        if failed {
            if out.contains_key(&i) {
                continue; // a later success wins over an earlier failure
            }
            let msg = std::fs::read_to_string(&path)
                .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
            out.insert(i, Record::Failed(msg.trim().to_string()));
        } else {
            let t = Table::read(&path)?;
            if t.rows.len() != 1 {
                return Err(format!("{}: expected one run row, found {}", path.display(), t.rows.len()));
            }
            out.insert(i, Record::Done(t));
        }
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
