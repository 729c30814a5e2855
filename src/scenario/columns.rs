//! CSV files read row by row with named columns and units: the shared edge of pod traces
//! (`podtrace.rs`) and node lists (`nodelist.rs`). This module owns
//!
//! - [`CsvStream`]: a CSV file streamed from disk (never read whole), with its header and
//!   each record's byte offset; the line an editor shows is computed only when an error
//!   needs it ([`line_of_byte`]), by counting line ends up to that offset (LF, CRLF and
//!   lone CR, like `trace.rs`), so a 10-million-row file costs no memory for line numbers;
//! - units ([`TimeUnit`], [`CpuUnit`], [`MemUnit`], [`GpuUnit`]) and the exact conversion
//!   of a decimal cell to integers (nanoseconds, millicores, bytes, GPU milli-units)
//!   without going through floats (exponent notation such as `1e6` goes through `f64`);
//! - `key=value;key=value` label cells.
//!
//! Errors are plain strings here; the callers add the file, line and column.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use csv::{ByteRecord, Reader, ReaderBuilder};

pub(crate) use super::trace::show;
use super::trace::{TraceError, csv_error};

/// A CSV file read row by row from disk.
pub struct CsvStream {
    pub file: PathBuf,
    reader: Reader<BufReader<File>>,
    pub header: Vec<String>,
    record: ByteRecord,
    /// Data rows read so far.
    pub rows: u64,
}

impl CsvStream {
    pub fn open(path: &Path) -> Result<CsvStream, TraceError> {
        let f = File::open(path)
            .map_err(|e| TraceError::new(path, None, format!("cannot read the file: {e}")))?;
        let mut reader = ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(BufReader::with_capacity(1 << 16, f));
        let header = match reader.byte_headers() {
            Ok(h) => h.iter().map(|c| String::from_utf8_lossy(c).trim().to_string()).collect::<Vec<_>>(),
            Err(e) => return Err(csv_error(path, e)),
        };
        if header.is_empty() || header.iter().all(|h| h.is_empty()) {
            return Err(TraceError::new(
                path,
                None,
                "the file is empty; expected a header row naming the columns, then data rows".to_string(),
            ));
        }
        Ok(CsvStream { file: path.to_path_buf(), reader, header, record: ByteRecord::new(), rows: 0 })
    }

    /// The index of column `name`; `role` says what the scenario maps it to (`columns.cpu`).
    pub fn column(&self, name: &str, role: &str) -> Result<usize, TraceError> {
        super::trace::header_column(&self.header, name, &format!("(mapped by {role})"))
            .map_err(|m| TraceError::new(&self.file, Some(1), m))
    }

    /// Reads the next data row; returns its byte offset, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<u64>, TraceError> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let byte = self.record.position().map_or(0, |p| p.byte());
                self.rows += 1;
                let (have, want) = (self.record.len(), self.header.len());
                if have < want {
                    return Err(self.error_at(
                        byte,
                        format!(
                            "this row has {have} field(s) but the header (line 1) has {want}; \
                             expected {want} comma-separated fields (a value may be empty, but not missing)"
                        ),
                    ));
                }
                Ok(Some(byte))
            }
            Err(e) => Err(csv_error(&self.file, e)),
        }
    }

    /// The trimmed cell `idx` of the current row.
    pub fn cell(&self, idx: usize) -> &[u8] {
        self.record.get(idx).unwrap_or_default().trim_ascii()
    }

    /// An error about the row that starts at `byte`, with its line.
    pub fn error_at(&self, byte: u64, message: String) -> TraceError {
        TraceError::new(&self.file, line_of_byte(&self.file, byte), message)
    }

    pub fn no_data_rows(&self) -> TraceError {
        TraceError::new(
            &self.file,
            None,
            "no data rows after the header (line 1); expected at least one row".into(),
        )
    }
}

/// The line (1-based, as an editor shows it) of the record whose parse began at `byte`:
/// the file is read again up to there. `None` when the file cannot be read.
pub fn line_of_byte(path: &Path, byte: u64) -> Option<u64> {
    let f = File::open(path).ok()?;
    let mut r = BufReader::with_capacity(1 << 16, f);
    let mut buf = vec![0u8; 1 << 16];
    let mut line: u64 = 1;
    let mut pos: u64 = 0;
    // A record's offset may point at the previous line's terminator: skip line ends
    // found at the offset itself (counted as part of the earlier lines).
    let mut prev_cr = false;
    let mut at_target_skipping = false;
    loop {
        let n = r.read(&mut buf).ok()?;
        if n == 0 {
            return Some(line);
        }
        for &b in &buf[..n] {
            if pos >= byte && !at_target_skipping {
                at_target_skipping = true;
            }
            if at_target_skipping && b != b'\r' && b != b'\n' {
                return Some(if prev_cr { line + 1 } else { line });
            }
            if b == b'\n' {
                // LF, or the LF of a CRLF (its CR is pending): one line end either way.
                line += 1;
                prev_cr = false;
            } else if b == b'\r' {
                if prev_cr {
                    line += 1;
                }
                prev_cr = true;
            } else if prev_cr {
                line += 1;
                prev_cr = false;
            }
            pos += 1;
        }
    }
}

/// Units of a time column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// A number in this many nanoseconds per unit.
    Scaled(i128),
    /// `YYYY-MM-DD HH:MM:SS[.fff]`, UTC.
    DateTime,
}

pub const TIME_UNITS: &str = "`ns`, `us`, `ms`, `s`, `min`, `h` or `datetime`";
pub const DURATION_UNITS: &str = "`ns`, `us`, `ms`, `s`, `min` or `h`";
pub const CPU_UNITS: &str = "`millicores` or `cores`";
pub const MEM_UNITS: &str = "`bytes`, `KiB`, `MiB`, `GiB`, `KB`, `MB` or `GB`";
pub const GPU_UNITS: &str = "`count` (whole GPUs) or `milli` (GPU milli-units)";

impl TimeUnit {
    pub fn parse(unit: &str, datetime_ok: bool) -> Option<TimeUnit> {
        Some(TimeUnit::Scaled(match unit {
            "ns" => 1,
            "us" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "min" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "datetime" if datetime_ok => return Some(TimeUnit::DateTime),
            _ => return None,
        }))
    }
}

/// CPU: millicores per unit.
pub struct CpuUnit(pub i128);
impl CpuUnit {
    pub fn parse(unit: &str) -> Option<CpuUnit> {
        match unit {
            "millicores" | "m" => Some(CpuUnit(1)),
            "cores" => Some(CpuUnit(1000)),
            _ => None,
        }
    }
}

/// Memory: bytes per unit.
pub struct MemUnit(pub i128);
impl MemUnit {
    pub fn parse(unit: &str) -> Option<MemUnit> {
        Some(MemUnit(match unit {
            "bytes" | "B" => 1,
            "KiB" => 1 << 10,
            "MiB" => 1 << 20,
            "GiB" => 1 << 30,
            "KB" => 1_000,
            "MB" => 1_000_000,
            "GB" => 1_000_000_000,
            _ => return None,
        }))
    }
}

/// GPUs: milli-units per unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpuUnit(pub i128);
impl GpuUnit {
    pub fn parse(unit: &str) -> Option<GpuUnit> {
        match unit {
            "count" => Some(GpuUnit(1000)),
            "milli" => Some(GpuUnit(1)),
            _ => None,
        }
    }
}

/// A decimal cell times `factor`, exactly (digits below one base unit are dropped,
/// toward zero). Exponent notation (`1.5e6`) goes through `f64`. `what` names the value in
/// messages. Signs are accepted; callers refuse negative values where they must.
pub fn parse_scaled(cell: &[u8], factor: i128, what: &str) -> Result<i128, String> {
    if cell.is_empty() {
        return Err(format!("the {what} is empty; expected a number"));
    }
    let bad = || format!("cannot read `{}` as a number for the {what}", show(cell));
    if cell.iter().any(|b| matches!(b, b'e' | b'E')) {
        let text = std::str::from_utf8(cell).map_err(|_| bad())?;
        let v: f64 = text.parse().map_err(|_| bad())?;
        let scaled = v * factor as f64;
        if !scaled.is_finite() || scaled.abs() >= 1e30 {
            return Err(format!("`{}` is too large for the {what}", show(cell)));
        }
        return Ok(scaled.trunc() as i128);
    }
    match super::trace::decimal_scaled(cell, factor) {
        Ok(v) if v.abs() <= 1_000_000_000_000_000_000_000_000_000_000 => Ok(v),
        Ok(_) | Err(super::trace::NumError::Overflow) => {
            Err(format!("`{}` is too large for the {what}", show(cell)))
        }
        Err(super::trace::NumError::Syntax) => Err(bad()),
    }
}

/// A time cell in `unit`, as nanoseconds (date-times: since 1970-01-01 UTC).
pub fn parse_time(cell: &[u8], unit: TimeUnit, what: &str) -> Result<i128, String> {
    match unit {
        TimeUnit::Scaled(f) => parse_scaled(cell, f, what),
        TimeUnit::DateTime => super::trace::datetime_ns(cell).map_err(|m| format!("the {what}: {m}")),
    }
}

/// A non-negative amount, as an `i64`.
pub fn parse_amount(cell: &[u8], factor: i128, what: &str) -> Result<i64, String> {
    let v = parse_scaled(cell, factor, what)?;
    if v < 0
        || (v == 0 && cell.first() == Some(&b'-') && cell.iter().any(|b| b.is_ascii_digit() && *b != b'0'))
    {
        return Err(format!("the {what} `{}` is negative; expected a number >= 0", show(cell)));
    }
    i64::try_from(v).map_err(|_| format!("`{}` is too large for the {what}", show(cell)))
}

/// `key=value;key=value` (empty: no labels), checked like Kubernetes label keys and values.
pub fn parse_labels(cell: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(cell).map_err(|_| "the labels are not valid UTF-8".to_string())?;
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(format!(
                "label `{}` has no `=`; expected `key=value` pairs separated by `;`",
                show(pair.as_bytes())
            ));
        };
        let (k, v) = (k.trim(), v.trim());
        if !label_key_ok(k) {
            return Err(format!(
                "label key `{}` is not a Kubernetes label key; expected an optional DNS prefix and `/`, \
                 then 1-63 letters, digits, `-`, `_` or `.`",
                show(k.as_bytes())
            ));
        }
        if !label_name_ok(v, true) {
            return Err(format!(
                "label `{k}` has the value `{}`; expected at most 63 letters, digits, `-`, `_` or `.`, \
                 beginning and ending with a letter or digit",
                show(v.as_bytes())
            ));
        }
        if out.iter().any(|(o, _)| o == k) {
            return Err(format!("label key `{k}` appears twice; expected each key once"));
        }
        out.push((k.to_string(), v.to_string()));
    }
    out.sort();
    Ok(out)
}

/// A label name or value (upstream `validation.IsQualifiedName` / `IsValidLabelValue`):
/// at most 63 of `[A-Za-z0-9_.-]`, starting and ending alphanumeric.
fn label_name_ok(s: &str, empty_ok: bool) -> bool {
    if s.is_empty() {
        return empty_ok;
    }
    let b = s.as_bytes();
    s.len() <= 63
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn label_key_ok(k: &str) -> bool {
    match k.rsplit_once('/') {
        Some((prefix, name)) => {
            !prefix.is_empty()
                && prefix.len() <= 253
                && prefix
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'.'))
                && label_name_ok(name, false)
        }
        None => label_name_ok(k, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_convert_exactly_in_every_unit() {
        let ms = TimeUnit::parse("ms", false).map(|u| match u {
            TimeUnit::Scaled(f) => f,
            TimeUnit::DateTime => 0,
        });
        assert_eq!(ms, Some(1_000_000));
        assert_eq!(parse_scaled(b"1.5", 1_000_000, "t"), Ok(1_500_000));
        assert_eq!(parse_scaled(b"0.000001", 1_000_000_000, "t"), Ok(1_000));
        assert_eq!(parse_scaled(b"2", 1 << 20, "m"), Ok(2 * 1_048_576));
        assert_eq!(parse_scaled(b"0.5", 1 << 30, "m"), Ok(536_870_912));
        assert_eq!(parse_scaled(b"1.5", 1000, "cpu"), Ok(1500));
        assert_eq!(parse_scaled(b"0.0015", 1000, "cpu"), Ok(1), "below a millicore drops toward zero");
        assert_eq!(parse_scaled(b"1e3", 1, "x"), Ok(1000));
        assert_eq!(parse_scaled(b"-2", 1, "x"), Ok(-2));
        assert!(parse_scaled(b"", 1, "x").is_err());
        assert!(parse_scaled(b"1.2.3", 1, "x").is_err());
        assert!(parse_scaled(b"abc", 1, "x").is_err());
        assert!(parse_scaled(b"99999999999999999999999999999999999", 1, "x").is_err());
        assert!(parse_amount(b"-1", 1, "cpu").unwrap_err().contains("negative"));
        assert_eq!(parse_amount(b"-0", 1, "cpu"), Ok(0));
    }

    #[test]
    fn units_are_named_as_documented() {
        for u in ["ns", "us", "ms", "s", "min", "h"] {
            assert!(TimeUnit::parse(u, false).is_some(), "{u}");
        }
        assert_eq!(TimeUnit::parse("datetime", true), Some(TimeUnit::DateTime));
        assert_eq!(TimeUnit::parse("datetime", false), None);
        assert_eq!(CpuUnit::parse("cores").map(|u| u.0), Some(1000));
        assert_eq!(MemUnit::parse("GiB").map(|u| u.0), Some(1 << 30));
        assert_eq!(MemUnit::parse("GB").map(|u| u.0), Some(1_000_000_000));
        assert_eq!(GpuUnit::parse("count"), Some(GpuUnit(1000)));
        assert!(MemUnit::parse("gb").is_none());
    }

    #[test]
    fn label_cells() {
        assert_eq!(
            parse_labels(b"b=2; a=1").unwrap(),
            vec![("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())]
        );
        assert!(parse_labels(b"").unwrap().is_empty());
        assert!(parse_labels(b"a").is_err());
        assert!(parse_labels(b"a=1;a=2").is_err());
        assert!(parse_labels(b"bad key=1").is_err());
    }

    #[test]
    fn lines_of_byte_offsets() {
        let dir = std::env::temp_dir().join(format!("clustersim-columns-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("t.csv");
        std::fs::write(&f, b"a,b\r\n1,2\r\n\r\n3,4\n5,6\r7,8").unwrap();
        let mut s = CsvStream::open(&f).unwrap();
        let mut lines = Vec::new();
        while let Some(b) = s.next_row().unwrap() {
            lines.push(line_of_byte(&f, b).unwrap());
        }
        assert_eq!(lines, vec![2, 4, 5, 6]);
        std::fs::remove_dir_all(&dir).ok();
    }
}
