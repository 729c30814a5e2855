//! Reading the CSV files of an output folder into columns.

use super::ChartError;
use std::path::Path;

/// A CSV file: its header and rows of cells (every row as long as the header).
#[derive(Debug, Clone)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads `path`, or `None` if it does not exist. A malformed file is an input error.
    pub fn read_if_exists(path: &Path) -> Result<Option<Table>, ChartError> {
        if !path.is_file() {
            return Ok(None);
        }
        let bad = |msg: String| ChartError::BadInput { path: path.to_path_buf(), msg };
        let mut r =
            csv::ReaderBuilder::new().has_headers(true).from_path(path).map_err(|e| bad(e.to_string()))?;
        let header: Vec<String> =
            r.headers().map_err(|e| bad(e.to_string()))?.iter().map(|h| h.trim().to_string()).collect();
        if header.iter().all(String::is_empty) {
            return Err(bad("no header row".to_string()));
        }
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            rows.push(rec.iter().map(|c| c.trim().to_string()).collect());
        }
        Ok(Some(Table { header, rows }))
    }

    /// The index of column `name`.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Column `name` as numbers; empty or non-numeric cells are `None`.
    pub fn numbers(&self, name: &str) -> Option<Vec<Option<f64>>> {
        let i = self.col(name)?;
        Some(
            self.rows
                .iter()
                .map(|r| r.get(i).and_then(|c| c.parse::<f64>().ok()).filter(|v| v.is_finite()))
                .collect(),
        )
    }

    /// Column `name` as text.
    pub fn texts(&self, name: &str) -> Option<Vec<String>> {
        let i = self.col(name)?;
        Some(self.rows.iter().map(|r| r.get(i).cloned().unwrap_or_default()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_numbers_with_gaps() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "a,b\n1,x\n,2.5\n").expect("write");
        let t = Table::read_if_exists(&p).expect("reads").expect("exists");
        assert_eq!(t.numbers("a"), Some(vec![Some(1.0), None]));
        assert_eq!(t.numbers("b"), Some(vec![None, Some(2.5)]));
        assert_eq!(t.numbers("c"), None);
        assert!(Table::read_if_exists(&dir.path().join("none.csv")).expect("ok").is_none());
    }

    #[test]
    fn ragged_rows_are_an_input_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "a,b\n1,2,3\n").expect("write");
        let e = Table::read_if_exists(&p).expect_err("ragged");
        assert!(e.is_input(), "{e}");
    }
}
