//! Request traces and numeric columns read from CSV files: the input edge for trace-driven
//! traffic. This module owns the CSV reading, the two timestamp formats (seconds, or UTC
//! date-times converted with a days-from-civil calendar) turned into integer nanoseconds
//! without going through floats, and the errors. Every error names the file, the line as an
//! editor shows it (the header is line 1, so the first data row is line 2) and what was
//! expected. Only the scenario layer calls this; the simulation core sees a [`Trace`] or a
//! `Vec<f64>`, never a file.

use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use csv::{ByteRecord, Reader, ReaderBuilder};

/// A request trace: arrival offsets from the first row, in nanoseconds (non-decreasing,
/// first = 0), and optional service times in nanoseconds, one per arrival.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    pub arrivals_ns: Vec<u64>,
    pub service_ns: Option<Vec<u64>>,
}

/// A problem with a trace file. `row` is the line number an editor shows (the header is
/// line 1, the first data row line 2; blank lines and quoted values spanning lines count;
/// LF, CRLF and lone CR all end a line), or `None` for problems with the whole file.
#[derive(Debug)]
pub struct TraceError {
    pub file: PathBuf,
    pub row: Option<u64>,
    pub message: String,
}

impl TraceError {
    pub(crate) fn new(file: &Path, row: Option<u64>, message: String) -> TraceError {
        TraceError { file: file.to_path_buf(), row, message }
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row {
            Some(line) => write!(f, "{}: line {line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for TraceError {}

const NS_PER_SEC: i128 = 1_000_000_000;
const SECONDS_EXAMPLE: &str = "seconds such as `12.5`";
const DATETIME_EXAMPLE: &str = "a UTC date-time `YYYY-MM-DD HH:MM:SS` (optionally with fractional seconds `.123` \
     and `T` instead of the space)";

/// Reads `time_column` (and `service_column` if given) from a CSV file with a header row.
///
/// Timestamps may be numbers of seconds (integer or decimal, e.g. `12.5`, optionally signed)
/// or `YYYY-MM-DD HH:MM:SS` (optionally with fractional seconds `.123`, optionally `T`
/// instead of the space, optionally a trailing `Z`, always interpreted as UTC); the format
/// is detected from the first data row and must stay the same. Both are converted exactly to
/// integer nanoseconds (digits beyond the ninth decimal are dropped). Arrivals are offsets
/// from the first row, so the first is 0.
///
/// Service times are seconds (decimal, converted exactly; exponent notation such as `1e-3`
/// goes through `f64`) and must be finite and >= 0; an empty service-time cell is an error.
///
/// Cells are trimmed of surrounding whitespace; columns other than the two named are not
/// looked at, and fields past the header's width are ignored. Errors name the file, the
/// line and what was expected: the file is missing or unreadable; it is empty or has no
/// data rows; the header lacks a column (the message lists the columns that exist) or
/// names it twice; a timestamp does not parse, is an impossible date, changes format, or is
/// earlier than the previous row's (both values are given); a service time is empty,
/// unparsable, negative, NaN or infinite; a row has fewer fields than the header.
pub fn load_trace(path: &Path, time_column: &str, service_column: Option<&str>) -> Result<Trace, TraceError> {
    let mut table = Table::open(path)?;
    let time_idx = table.column(time_column, "timestamps")?;
    let service_idx = match service_column {
        Some(name) => Some((name, table.column(name, "service times")?)),
        None => None,
    };

    let mut arrivals_ns = Vec::new();
    let mut service_ns = service_idx.map(|_| Vec::new());
    // (format, first row's line, first row's instant in ns)
    let mut first: Option<(TimeFormat, u64, i128)> = None;
    let mut prev_ns: i128 = 0;
    let mut prev_line: u64 = 0;
    let mut prev_cell: Vec<u8> = Vec::new();

    while let Some(line) = table.next_row()? {
        let cell = table.cell(time_idx);
        let at =
            |message: String| TraceError::new(path, Some(line), format!("column `{time_column}`: {message}"));
        let ns = match first {
            None => {
                let (format, ns) = detect_timestamp(cell).map_err(at)?;
                first = Some((format, line, ns));
                ns
            }
            Some((format, first_line, _)) => parse_timestamp(cell, format, first_line).map_err(at)?,
        };
        let t0 = first.map_or(ns, |(_, _, t0)| t0);
        if !arrivals_ns.is_empty() && ns < prev_ns {
            return Err(at(format!(
                "timestamp `{}` is earlier than `{}` on line {prev_line} (the previous row); \
                 the rows must be sorted by time (non-decreasing)",
                show(cell),
                show(&prev_cell)
            )));
        }
        let offset = ns.checked_sub(t0).and_then(|d| u64::try_from(d).ok()).ok_or_else(|| {
            at(format!(
                "timestamp `{}` is more than about 584 years after the first row's \
                     (the limit of u64 nanoseconds)",
                show(cell)
            ))
        })?;
        prev_ns = ns;
        prev_line = line;
        prev_cell.clear();
        prev_cell.extend_from_slice(cell);
        arrivals_ns.push(offset);

        if let (Some((name, idx)), Some(out)) = (service_idx, service_ns.as_mut()) {
            let value = parse_service_ns(table.cell(idx))
                .map_err(|m| TraceError::new(path, Some(line), format!("column `{name}`: {m}")))?;
            out.push(value);
        }
    }

    if arrivals_ns.is_empty() {
        return Err(table.no_data_rows());
    }
    Ok(Trace { arrivals_ns, service_ns })
}

/// Reads one numeric column (for an empirical distribution). Every non-empty cell must be a
/// finite number >= 0 (decimal or exponent notation; `-0` is read as 0); empty or
/// whitespace-only cells are skipped, not errors; at least one value must remain. Values are
/// returned in file order. Errors are as for [`load_trace`]: missing/unreadable file, empty
/// file or no data rows, missing column (listing the columns), a row with fewer fields than
/// the header, and an unparsable, negative, NaN or infinite value, each with its line.
pub fn load_column(path: &Path, column: &str) -> Result<Vec<f64>, TraceError> {
    let mut table = Table::open(path)?;
    let idx = table.column(column, "values")?;
    let mut values = Vec::new();
    let mut rows: u64 = 0;
    while let Some(line) = table.next_row()? {
        rows += 1;
        let cell = table.cell(idx);
        if cell.is_empty() {
            continue;
        }
        let v = parse_nonneg_f64(cell, "value", "a finite number >= 0 such as `32.0`")
            .map_err(|m| TraceError::new(path, Some(line), format!("column `{column}`: {m}")))?;
        values.push(v);
    }
    if rows == 0 {
        return Err(table.no_data_rows());
    }
    if values.is_empty() {
        return Err(TraceError::new(
            path,
            None,
            format!(
                "column `{column}` has no values: all {rows} data row(s) leave it empty; \
                 expected at least one number"
            ),
        ));
    }
    Ok(values)
}

/// A CSV file being read row by row, with its header. The file is read into memory whole
/// (a trace of 27k rows is about 2 MB), which lets errors carry exact line numbers: the csv
/// crate's own `Position::line` miscounts CRLF endings and blank lines, so lines are counted
/// here from the records' byte offsets.
struct Table {
    file: PathBuf,
    reader: Reader<Cursor<Vec<u8>>>,
    header: Vec<String>,
    header_line: u64,
    record: ByteRecord,
    lines: LineCounter,
}

impl Table {
    fn open(path: &Path) -> Result<Table, TraceError> {
        let bytes = std::fs::read(path)
            .map_err(|e| TraceError::new(path, None, format!("cannot read the file: {e}")))?;
        let mut reader =
            ReaderBuilder::new().flexible(true).has_headers(true).from_reader(Cursor::new(bytes));
        let (header, header_byte) = match reader.byte_headers() {
            Ok(h) => (
                h.iter().map(|c| String::from_utf8_lossy(c).trim().to_string()).collect::<Vec<_>>(),
                h.position().map_or(0, |p| p.byte()),
            ),
            Err(e) => return Err(csv_error(path, e)),
        };
        if header.is_empty() || header.iter().all(|h| h.is_empty()) {
            return Err(TraceError::new(
                path,
                None,
                "the file is empty; expected a header row naming the columns, then data rows".to_string(),
            ));
        }
        let mut lines = LineCounter { pos: 0, line: 1 };
        let header_line = lines.line_of_record(reader.get_ref().get_ref(), header_byte);
        Ok(Table { file: path.to_path_buf(), reader, header, header_line, record: ByteRecord::new(), lines })
    }

    /// The index of the header column called `name`; `role` says what it is wanted for.
    fn column(&self, name: &str, role: &str) -> Result<usize, TraceError> {
        header_column(&self.header, name, &format!("for the {role}"))
            .map_err(|m| TraceError::new(&self.file, Some(self.header_line), m))
    }

    /// Reads the next data row; returns its line number, or `None` at the end of the file.
    fn next_row(&mut self) -> Result<Option<u64>, TraceError> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let byte = self.record.position().map_or(0, |p| p.byte());
                let line = self.lines.line_of_record(self.reader.get_ref().get_ref(), byte);
                let (have, want) = (self.record.len(), self.header.len());
                if have < want {
                    return Err(TraceError::new(
                        &self.file,
                        Some(line),
                        format!(
                            "this row has {have} field(s) but the header (line {}) has {want}; \
                             expected {want} comma-separated fields (a value may be empty, but not missing)",
                            self.header_line
                        ),
                    ));
                }
                Ok(Some(line))
            }
            Err(e) => Err(csv_error(&self.file, e)),
        }
    }

    /// The trimmed cell `idx` of the current row (empty if the row is shorter).
    fn cell(&self, idx: usize) -> &[u8] {
        self.record.get(idx).unwrap_or_default().trim_ascii()
    }

    fn no_data_rows(&self) -> TraceError {
        TraceError::new(
            &self.file,
            None,
            format!("no data rows after the header (line {}); expected at least one row", self.header_line),
        )
    }
}

/// The index of the header column called `name`, or what is wrong: the header names it
/// twice, or not at all (the message lists the columns and suggests a name that differs
/// only in case). `role` says what the column is wanted for, e.g. `for the timestamps`.
pub(crate) fn header_column(header: &[String], name: &str, role: &str) -> Result<usize, String> {
    let mut found: Option<usize> = None;
    for (i, h) in header.iter().enumerate() {
        if h == name {
            if let Some(j) = found {
                return Err(format!(
                    "the header names column `{name}` twice (fields {} and {}); expected it once",
                    j + 1,
                    i + 1
                ));
            }
            found = Some(i);
        }
    }
    found.ok_or_else(|| {
        let hint = header
            .iter()
            .find(|h| h.eq_ignore_ascii_case(name))
            .map(|h| format!(" (names are case-sensitive: did you mean `{h}`?)"))
            .unwrap_or_default();
        let list = header.iter().map(|h| format!("`{}`", show(h.as_bytes()))).collect::<Vec<_>>();
        format!("the header has no column `{name}` {role}{hint}; the columns are: {}", list.join(", "))
    })
}

/// Line numbers from byte offsets, counted incrementally (records come in file order).
struct LineCounter {
    /// Bytes before `pos` have been counted...
    pos: usize,
    /// ...and `pos` is on this 1-based line.
    line: u64,
}

impl LineCounter {
    /// The line of the record whose parse began at `byte`. The csv reader's offset can point
    /// at the previous line's terminator or at skipped blank lines, so the record proper starts
    /// at the first byte from there that is not `\r` or `\n`.
    fn line_of_record(&mut self, bytes: &[u8], byte: u64) -> u64 {
        let mut start = usize::try_from(byte).map_or(bytes.len(), |b| b.min(bytes.len()));
        while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.pos {
            // Not expected (records are read forwards); recount from the top rather than lie.
            self.pos = 0;
            self.line = 1;
        }
        let window = bytes.get(self.pos..start).unwrap_or_default();
        for (i, &b) in window.iter().enumerate() {
            let lone_cr = b == b'\r' && bytes.get(self.pos + i + 1) != Some(&b'\n');
            if b == b'\n' || lone_cr {
                self.line += 1;
            }
        }
        self.pos = start;
        self.line
    }
}

/// The csv reader's own errors (rare here: input is in memory, records are bytes and may
/// have any width). Its line numbers are not trusted (see [`Table`]), so none is given.
pub(crate) fn csv_error(path: &Path, e: csv::Error) -> TraceError {
    let line = None;
    let message = match e.kind() {
        csv::ErrorKind::Io(io) => format!("cannot read the file: {io}"),
        _ => format!("malformed CSV: {e}"),
    };
    TraceError::new(path, line, message)
}

/// A cell for an error message: lossy UTF-8, cut to 40 characters.
pub(crate) fn show(cell: &[u8]) -> String {
    let text = String::from_utf8_lossy(cell);
    if text.chars().count() > 40 {
        let mut cut: String = text.chars().take(40).collect();
        cut.push('…');
        cut
    } else {
        text.into_owned()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeFormat {
    Seconds,
    DateTime,
}

/// Why a decimal number did not parse.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NumError {
    Syntax,
    Overflow,
}

/// Why a date-time did not parse.
#[derive(Debug, PartialEq, Eq)]
enum DateTimeError {
    /// Not shaped like `YYYY-MM-DD HH:MM:SS[.fff][Z]`.
    Shape,
    /// Shaped like one, but a field is out of range (the message says which).
    Range(String),
}

/// Parses the first row's timestamp and decides the format for the whole file.
fn detect_timestamp(cell: &[u8]) -> Result<(TimeFormat, i128), String> {
    if cell.is_empty() {
        return Err(format!("empty timestamp; expected {SECONDS_EXAMPLE} or {DATETIME_EXAMPLE}"));
    }
    match parse_decimal_ns(cell) {
        Ok(ns) => return Ok((TimeFormat::Seconds, ns)),
        Err(NumError::Overflow) => return Err(format!("timestamp `{}` is too large", show(cell))),
        Err(NumError::Syntax) => {}
    }
    match parse_datetime_ns(cell) {
        Ok(ns) => Ok((TimeFormat::DateTime, ns)),
        Err(DateTimeError::Range(m)) => Err(format!("invalid date-time `{}`: {m}", show(cell))),
        Err(DateTimeError::Shape) => Err(format!(
            "cannot parse `{}` as a timestamp; expected {SECONDS_EXAMPLE} or {DATETIME_EXAMPLE}",
            show(cell)
        )),
    }
}

/// Parses a later row's timestamp in the format set by the first data row (on `first_line`).
fn parse_timestamp(cell: &[u8], format: TimeFormat, first_line: u64) -> Result<i128, String> {
    let (name, example) = match format {
        TimeFormat::Seconds => ("seconds", SECONDS_EXAMPLE),
        TimeFormat::DateTime => ("a date-time", DATETIME_EXAMPLE),
    };
    if cell.is_empty() {
        return Err(format!(
            "empty timestamp; expected {example} (the format of the first data row, line {first_line})"
        ));
    }
    let mixed = || {
        format!(
            "timestamp `{}` is not in the format of the first data row (line {first_line}), which has {name}; \
             all timestamps must use the same format: {example}",
            show(cell)
        )
    };
    match format {
        TimeFormat::Seconds => match parse_decimal_ns(cell) {
            Ok(ns) => Ok(ns),
            Err(NumError::Overflow) => Err(format!("timestamp `{}` is too large", show(cell))),
            Err(NumError::Syntax) if parse_datetime_ns(cell).is_ok() => Err(mixed()),
            Err(NumError::Syntax) => Err(format!(
                "cannot parse `{}` as a timestamp; expected {example} (the format of the first data row, \
                 line {first_line})",
                show(cell)
            )),
        },
        TimeFormat::DateTime => match parse_datetime_ns(cell) {
            Ok(ns) => Ok(ns),
            Err(DateTimeError::Range(m)) => Err(format!("invalid date-time `{}`: {m}", show(cell))),
            Err(DateTimeError::Shape) if parse_decimal_ns(cell).is_ok() => Err(mixed()),
            Err(DateTimeError::Shape) => Err(format!(
                "cannot parse `{}` as a timestamp; expected {example} (the format of the first data row, \
                 line {first_line})",
                show(cell)
            )),
        },
    }
}

/// Parses `[+-]digits[.digits]` seconds exactly into nanoseconds (at least one digit; digits
/// beyond the ninth decimal are dropped). No exponent, no spaces.
fn parse_decimal_ns(s: &[u8]) -> Result<i128, NumError> {
    decimal_scaled(s, NS_PER_SEC)
}

/// `[+-]digits[.digits]` times `factor`, exactly: digits below one unit of the result are
/// dropped (toward zero). No exponent, no spaces; an overflow of `i128` is `Overflow`.
pub(crate) fn decimal_scaled(s: &[u8], factor: i128) -> Result<i128, NumError> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let mut whole: i128 = 0;
    let mut frac: i128 = 0;
    let mut frac_scale: i128 = 1;
    let mut any_digit = false;
    let mut seen_dot = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                any_digit = true;
                let d = i128::from(b - b'0');
                if seen_dot {
                    // 18 decimals are below one unit of any factor used (at most 10^13).
                    if frac_scale < 1_000_000_000_000_000_000 {
                        frac = frac * 10 + d;
                        frac_scale *= 10;
                    }
                } else {
                    whole = whole.checked_mul(10).and_then(|w| w.checked_add(d)).ok_or(NumError::Overflow)?;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return Err(NumError::Syntax),
        }
    }
    if !any_digit {
        return Err(NumError::Syntax);
    }
    let part = frac.checked_mul(factor).ok_or(NumError::Overflow)? / frac_scale;
    let v = whole.checked_mul(factor).and_then(|w| w.checked_add(part)).ok_or(NumError::Overflow)?;
    Ok(if negative { -v } else { v })
}

/// A date-time cell (`YYYY-MM-DD HH:MM:SS[.fff][Z]`, UTC) as nanoseconds since the epoch,
/// or what is wrong with it.
pub(crate) fn datetime_ns(cell: &[u8]) -> Result<i128, String> {
    parse_datetime_ns(cell).map_err(|e| match e {
        DateTimeError::Range(m) => format!("invalid date-time `{}`: {m}", show(cell)),
        DateTimeError::Shape => format!("cannot parse `{}` as {DATETIME_EXAMPLE}", show(cell)),
    })
}

/// Parses `YYYY-MM-DD HH:MM:SS[.fff][Z]` (or with `T` for the space) as UTC into
/// nanoseconds since 1970-01-01T00:00:00Z.
fn parse_datetime_ns(s: &[u8]) -> Result<i128, DateTimeError> {
    let [y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, sep, h0, h1, b':', mi0, mi1, b':', s0, s1, rest @ ..] =
        s
    else {
        return Err(DateTimeError::Shape);
    };
    if *sep != b' ' && *sep != b'T' {
        return Err(DateTimeError::Shape);
    }
    let num = |ds: &[u8]| -> Result<u32, DateTimeError> {
        ds.iter().try_fold(0u32, |acc, &b| {
            if b.is_ascii_digit() { Ok(acc * 10 + u32::from(b - b'0')) } else { Err(DateTimeError::Shape) }
        })
    };
    let year = num(&[*y0, *y1, *y2, *y3])?;
    let month = num(&[*mo0, *mo1])?;
    let day = num(&[*d0, *d1])?;
    let hour = num(&[*h0, *h1])?;
    let minute = num(&[*mi0, *mi1])?;
    let second = num(&[*s0, *s1])?;

    // Optional fractional seconds, then an optional `Z`.
    let rest = match rest {
        [rest @ .., b'Z'] => rest,
        _ => rest,
    };
    let frac_ns: i128 = match rest {
        [] => 0,
        [b'.', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            let mut frac: i128 = 0;
            for &b in digits.iter().take(9) {
                frac = frac * 10 + i128::from(b - b'0');
            }
            frac * 10i128.pow(9 - digits.len().min(9) as u32)
        }
        _ => return Err(DateTimeError::Shape),
    };

    let range = |m: String| Err(DateTimeError::Range(m));
    if !(1..=12).contains(&month) {
        return range(format!("month {month:02} is not in 01..12"));
    }
    let last_day = days_in_month(year, month);
    if !(1..=last_day).contains(&day) {
        return range(format!("day {day:02} is not in 01..{last_day} for {year:04}-{month:02}"));
    }
    if hour > 23 {
        return range(format!("hour {hour:02} is not in 00..23"));
    }
    if minute > 59 {
        return range(format!("minute {minute:02} is not in 00..59"));
    }
    if second > 59 {
        return range(format!("second {second:02} is not in 00..59 (leap seconds are not supported)"));
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs =
        i128::from(days) * 86_400 + i128::from(hour) * 3_600 + i128::from(minute) * 60 + i128::from(second);
    Ok(secs * NS_PER_SEC + frac_ns)
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of the proleptic Gregorian date `y-m-d` (`m` in 1..=12, `d` valid
/// for the month). Howard Hinnant's `days_from_civil`,
/// <https://howardhinnant.github.io/date_algorithms.html#days_from_civil>.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let mp = i64::from((m + 9) % 12); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// A service time in whole nanoseconds: exact for plain decimals, through `f64` for
/// exponent notation.
fn parse_service_ns(cell: &[u8]) -> Result<u64, String> {
    const EXPECTED: &str = "seconds >= 0 such as `32.0`";
    if cell.is_empty() {
        return Err(format!("empty service time; expected {EXPECTED}"));
    }
    let too_large = || format!("service time `{}` is too large; expected {EXPECTED}", show(cell));
    match parse_decimal_ns(cell) {
        Ok(ns) if ns < 0 => Err(format!("service time `{}` is negative; expected {EXPECTED}", show(cell))),
        Ok(ns) => u64::try_from(ns).map_err(|_| too_large()),
        Err(NumError::Overflow) => Err(too_large()),
        Err(NumError::Syntax) => {
            let secs = parse_nonneg_f64(cell, "service time", EXPECTED)?;
            let ns = (secs * 1e9).round();
            // u64::MAX is about 1.8e19; stay clearly below so the cast is exact.
            if ns < 1.8e19 { Ok(ns as u64) } else { Err(too_large()) }
        }
    }
}

/// A finite `f64` >= 0 (`-0` becomes 0); `what` names the value in messages.
fn parse_nonneg_f64(cell: &[u8], what: &str, expected: &str) -> Result<f64, String> {
    let parsed = std::str::from_utf8(cell).ok().and_then(|s| s.parse::<f64>().ok());
    match parsed {
        None => Err(format!("cannot parse `{}` as a {what}; expected {expected}", show(cell))),
        Some(v) if v.is_nan() => Err(format!("{what} `{}` is NaN; expected {expected}", show(cell))),
        Some(v) if v.is_infinite() => {
            Err(format!("{what} `{}` is infinite; expected {expected}", show(cell)))
        }
        Some(v) if v < 0.0 => Err(format!("{what} `{}` is negative; expected {expected}", show(cell))),
        // `-0` compares equal to 0 and is returned as +0.
        Some(v) => Ok(if v == 0.0 { 0.0 } else { v }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    /// Writes `contents` to `name` in a fresh temporary directory.
    fn write_csv(name: &str, contents: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(name);
        std::fs::write(&path, contents).expect("write");
        (dir, path)
    }

    fn trace(contents: &str, time: &str, service: Option<&str>) -> Result<Trace, TraceError> {
        let (_dir, path) = write_csv("trace.csv", contents.as_bytes());
        load_trace(&path, time, service)
    }

    /// Loads and expects an error; checks the file name, `line N` (if given) and key words.
    fn trace_err(
        contents: &str,
        time: &str,
        service: Option<&str>,
        line: Option<u64>,
        words: &[&str],
    ) -> String {
        let err = trace(contents, time, service).expect_err("expected an error");
        check_err(&err, "trace.csv", line, words)
    }

    fn check_err(err: &TraceError, file: &str, line: Option<u64>, words: &[&str]) -> String {
        let text = err.to_string();
        assert!(text.contains(file), "{text:?} does not name the file {file}");
        assert_eq!(err.row, line, "{text}");
        match line {
            Some(n) => assert!(text.contains(&format!(": line {n}: ")), "{text:?} lacks `line {n}`"),
            None => assert!(!text.contains(": line "), "{text:?}"),
        }
        for w in words {
            assert!(text.contains(w), "{text:?} lacks {w:?}");
        }
        text
    }

    #[test]
    fn numeric_seconds_integer_and_decimal() {
        let t = trace("id,t\na,10\nb,10.5\nc,12\nd,12.000000001\n", "t", None).unwrap();
        assert_eq!(t.arrivals_ns, vec![0, SEC / 2, 2 * SEC, 2 * SEC + 1]);
        assert_eq!(t.service_ns, None);
        // Signs, bare dots, surrounding spaces and digits beyond the nanosecond.
        let t = trace("t\n-1.5\n +0 \n.25\n3.\n3.1234567899\n", "t", None).unwrap();
        assert_eq!(t.arrivals_ns, vec![0, 1_500_000_000, 1_750_000_000, 4_500_000_000, 4_623_456_789]);
    }

    #[test]
    fn datetime_offsets_from_first_row() {
        let t = trace(
            "gmt_create,x\n2024-11-15 16:57:50,a\n2024-11-15 18:16:14,b\n2024-11-15 18:16:14,c\n",
            "gmt_create",
            None,
        )
        .unwrap();
        assert_eq!(t.arrivals_ns, vec![0, 4_704 * SEC, 4_704 * SEC]);
    }

    #[test]
    fn datetime_day_month_year_and_leap_boundaries() {
        let day = 86_400 * SEC;
        // Day boundary.
        let t = trace("t\n2024-11-15 23:59:59\n2024-11-16 00:00:01\n", "t", None).unwrap();
        assert_eq!(t.arrivals_ns, vec![0, 2 * SEC]);
        // Month boundary (30-day month) and year boundary.
        let t =
            trace("t\n2024-11-30 12:00:00\n2024-12-01 12:00:00\n2025-01-01 12:00:00\n", "t", None).unwrap();
        assert_eq!(t.arrivals_ns, vec![0, day, 32 * day]);
        // Leap day 2024-02-29 exists; 2023 has none; 2000 is a leap year, 1900 and 2100 are not.
        let t =
            trace("t\n2024-02-28 12:00:00\n2024-02-29 12:00:00\n2024-03-01 12:00:00\n", "t", None).unwrap();
        assert_eq!(t.arrivals_ns, vec![0, day, 2 * day]);
        let t = trace("t\n2023-02-28 12:00:00\n2023-03-01 12:00:00\n", "t", None).unwrap();
        assert_eq!(t.arrivals_ns, vec![0, day]);
        let t = trace("t\n2000-02-28 00:00:00\n2000-03-01 00:00:00\n", "t", None).unwrap();
        assert_eq!(t.arrivals_ns, vec![0, 2 * day]);
        for bad in ["2023-02-29 00:00:00", "2100-02-29 00:00:00", "1900-02-29 00:00:00"] {
            trace_err(&format!("t\n{bad}\n"), "t", None, Some(2), &["day 29", "01..28"]);
        }
    }

    #[test]
    fn days_from_civil_matches_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(days_from_civil(2024, 11, 15), 20_042);
        assert_eq!(days_from_civil(9999, 12, 31), 2_932_896);
        assert_eq!(days_from_civil(1, 1, 1), -719_162);
        assert_eq!(days_from_civil(0, 1, 1), -719_528);
        // Absolute instant: 2024-11-15 16:57:50 UTC.
        assert_eq!(parse_datetime_ns(b"2024-11-15 16:57:50"), Ok(1_731_689_870 * NS_PER_SEC));
    }

    #[test]
    fn fractional_seconds_t_separator_and_z() {
        let t = trace(
            "t\n2024-11-15T16:57:50\n2024-11-15 16:57:50.123456789Z\n2024-11-15 16:57:50.5\n\
             2024-11-15T16:57:51.0000000019\n2024-11-15 16:57:52Z\n",
            "t",
            None,
        )
        .unwrap();
        assert_eq!(t.arrivals_ns, vec![0, 123_456_789, SEC / 2, SEC + 1, 2 * SEC]);
        let t = trace("t\n2024-11-15 16:57:50.123\n2024-11-15 16:57:50.124\n", "t", None).unwrap();
        assert_eq!(t.arrivals_ns, vec![0, 1_000_000]);
        trace_err("t\n2024-11-15 16:57:50.\n", "t", None, Some(2), &["cannot parse"]);
    }

    #[test]
    fn service_column_exact_and_exponent() {
        let t = trace("t,svc,other\n0,32.0,x\n1,0,y\n1,1.5,z\n2,0.000000001,w\n3,1e-3,v\n", "t", Some("svc"))
            .unwrap();
        assert_eq!(t.arrivals_ns, vec![0, SEC, SEC, 2 * SEC, 3 * SEC]);
        assert_eq!(t.service_ns, Some(vec![32 * SEC, 0, 1_500_000_000, 1, 1_000_000]));
    }

    #[test]
    fn error_missing_file_and_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.csv");
        let err = load_trace(&path, "t", None).unwrap_err();
        check_err(&err, "nope.csv", None, &["cannot read"]);
        let err = load_column(&path, "v").unwrap_err();
        check_err(&err, "nope.csv", None, &["cannot read"]);
        // A directory opens but cannot be read.
        let err = load_trace(dir.path(), "t", None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("cannot"), "{text}");
    }

    #[test]
    fn error_empty_file_and_no_data_rows() {
        trace_err("", "t", None, None, &["empty", "header"]);
        trace_err("\n\n", "t", None, None, &["empty"]);
        trace_err("t,svc\n", "t", None, None, &["no data rows", "line 1"]);
        trace_err("t,svc", "t", Some("svc"), None, &["no data rows"]);
    }

    #[test]
    fn error_missing_column_lists_columns() {
        let text = trace_err(
            "gmt_create,exec_time_seconds\n2024-11-15 16:57:50,1\n",
            "time",
            None,
            Some(1),
            &["no column `time`", "`gmt_create`", "`exec_time_seconds`"],
        );
        assert!(text.contains("timestamps"), "{text}");
        trace_err(
            "gmt_create,exec_time_seconds\n2024-11-15 16:57:50,1\n",
            "gmt_create",
            Some("exec_time"),
            Some(1),
            &["no column `exec_time`", "service times", "`exec_time_seconds`"],
        );
        trace_err("Time,v\n1,2\n", "time", None, Some(1), &["no column `time`", "case-sensitive", "`Time`"]);
        trace_err("t,v,t\n1,2,3\n", "t", None, Some(1), &["twice", "fields 1 and 3"]);
    }

    #[test]
    fn error_unparsable_timestamp() {
        trace_err("t\n0\n1\nabc\n", "t", None, Some(4), &["column `t`", "`abc`", "seconds", "line 2"]);
        trace_err("t\nyesterday\n", "t", None, Some(2), &["`yesterday`", "seconds", "YYYY-MM-DD HH:MM:SS"]);
        trace_err("t\n\n5\n,\n", "t", None, Some(4), &["empty timestamp"]);
        trace_err("t\n2024-11-15 16:57:50\n2024-11-15 16:57\n", "t", None, Some(3), &["YYYY-MM-DD HH:MM:SS"]);
        trace_err("t\n2024-13-01 00:00:00\n", "t", None, Some(2), &["month 13"]);
        trace_err("t\n2024-11-15 24:00:00\n", "t", None, Some(2), &["hour 24"]);
        trace_err("t\n2024-11-15 23:59:60\n", "t", None, Some(2), &["second 60", "leap"]);
        trace_err("t\n2024-11-15 23:59:59+08:00\n", "t", None, Some(2), &["cannot parse"]);
        trace_err("t\n1e9\n", "t", None, Some(2), &["`1e9`", "cannot parse"]);
        trace_err("t\n999999999999999999999999999999999999999\n", "t", None, Some(2), &["too large"]);
    }

    #[test]
    fn error_format_changes() {
        trace_err(
            "t\n2024-11-15 16:57:50\n12.5\n",
            "t",
            None,
            Some(3),
            &["`12.5`", "first data row (line 2)", "same format"],
        );
        trace_err(
            "t\n12.5\n2024-11-15 16:57:50\n",
            "t",
            None,
            Some(3),
            &["`2024-11-15 16:57:50`", "first data row (line 2)", "same format"],
        );
    }

    #[test]
    fn error_non_monotone_gives_both_values() {
        trace_err(
            "t,x\n2024-11-15 16:57:50,a\n2024-11-15 18:16:14,b\n2024-11-15 18:16:13,c\n",
            "t",
            None,
            Some(4),
            &["`2024-11-15 18:16:13`", "earlier than", "`2024-11-15 18:16:14`", "line 3", "sorted"],
        );
        trace_err("t\n1\n2.5\n2.4999\n", "t", None, Some(4), &["`2.4999`", "earlier", "`2.5`", "line 3"]);
    }

    #[test]
    fn error_offset_beyond_u64() {
        trace_err("t\n0\n99999999999\n", "t", None, Some(3), &["`99999999999`", "584 years"]);
    }

    #[test]
    fn error_bad_service_times() {
        let cases: [(&str, &[&str]); 7] = [
            ("abc", &["cannot parse `abc`", "service time"]),
            ("-1.5", &["`-1.5`", "negative"]),
            ("-1e3", &["`-1e3`", "negative"]),
            ("NaN", &["`NaN`", "NaN"]),
            ("inf", &["`inf`", "infinite"]),
            ("", &["empty service time"]),
            ("1e300", &["too large"]),
        ];
        for (cell, words) in cases {
            let csv = format!("t,svc\n0,1\n1,2\n2,{cell}\n");
            let mut all = vec!["column `svc`", "seconds"];
            all.extend_from_slice(words);
            trace_err(&csv, "t", Some("svc"), Some(4), &all);
        }
    }

    #[test]
    fn error_short_row() {
        trace_err(
            "t,svc,other\n0,1,x\n1,2\n",
            "t",
            Some("svc"),
            Some(3),
            &["2 field(s)", "header (line 1) has 3", "expected 3"],
        );
        // Even when the missing field is not one we read.
        trace_err("t,svc,other\n0,1,x\n1\n", "t", None, Some(3), &["1 field(s)"]);
        // Extra fields are ignored.
        let t = trace("t,svc\n0,1,extra\n", "t", Some("svc")).unwrap();
        assert_eq!(t.service_ns, Some(vec![SEC]));
    }

    #[test]
    fn line_numbers_follow_the_editor() {
        // A quoted value spanning two lines, a blank line and CRLF endings: the bad row is on
        // line 6 of the file.
        let csv = "t,note\r\n0,\"multi\r\nline\"\r\n\r\n1,ok\r\n0.5,bad\r\n";
        trace_err(csv, "t", None, Some(6), &["`0.5`", "earlier", "line 5"]);
        // CRLF: the first data row is line 2.
        trace_err("t\r\nx\r\n", "t", None, Some(2), &["`x`"]);
        // Blank lines before the header and between rows, LF endings.
        trace_err("\n\nt\n1\n\n\n2\nx\n", "t", None, Some(8), &["`x`", "line 4"]);
        trace_err("\n\nt\n", "t", None, None, &["no data rows", "line 3"]);
        // Lone CR endings.
        trace_err("t\r1\r\r0\r", "t", None, Some(4), &["`0`", "line 2"]);
        // Header errors point at the header's own line.
        trace_err("\nt\n1\n", "x", None, Some(2), &["no column `x`"]);
        // A byte-order mark before the header is not part of the first column name.
        let (_dir, path) = write_csv("bom.csv", b"\xEF\xBB\xBFt,v\n1,2\n");
        assert_eq!(load_trace(&path, "t", None).unwrap().arrivals_ns, vec![0]);
        // Invalid UTF-8 in a column we do not read is fine; in one we read, it is reported.
        let (_dir, path) = write_csv("bytes.csv", b"t,v\n1,\xff\n2,\xfe\xfe\n");
        assert_eq!(load_trace(&path, "t", None).unwrap().arrivals_ns, vec![0, SEC]);
        let err = load_column(&path, "v").unwrap_err();
        check_err(&err, "bytes.csv", Some(2), &["cannot parse"]);
    }

    #[test]
    fn load_column_values_and_errors() {
        let (_dir, path) = write_csv("col.csv", b"a,v\nx,1.5\ny,\nz, 0 \nw,2e1\nq,-0\n");
        assert_eq!(load_column(&path, "v").unwrap(), vec![1.5, 0.0, 20.0, 0.0]);
        assert!(load_column(&path, "v").unwrap()[3].is_sign_positive());

        let cases: [(&str, &[&str]); 5] = [
            ("-1,c", &["`-1`", "negative"]),
            ("nan,c", &["NaN"]),
            ("-inf,c", &["infinite"]),
            ("1", &["1 field(s)"]),
            ("12 s,c", &["cannot parse `12 s`"]),
        ];
        for (row, words) in cases {
            let contents = format!("v,w\n1,a\n2,b\n{row}\n");
            let (_dir, path) = write_csv("col.csv", contents.as_bytes());
            let err = load_column(&path, "v").unwrap_err();
            check_err(&err, "col.csv", Some(4), words);
        }
        // Short row regardless of the column (here the short row lacks `w`).
        let (_dir, path) = write_csv("col.csv", b"v,w\n1,a\n2\n");
        check_err(&load_column(&path, "v").unwrap_err(), "col.csv", Some(3), &["1 field(s)"]);

        let (_dir, path) = write_csv("col.csv", b"v,w\n,a\n ,b\n");
        check_err(&load_column(&path, "v").unwrap_err(), "col.csv", None, &["no values", "2 data row(s)"]);
        let (_dir, path) = write_csv("col.csv", b"v,w\n");
        check_err(&load_column(&path, "v").unwrap_err(), "col.csv", None, &["no data rows"]);
        let (_dir, path) = write_csv("col.csv", b"");
        check_err(&load_column(&path, "v").unwrap_err(), "col.csv", None, &["empty"]);
        let (_dir, path) = write_csv("col.csv", b"a,b\n1,2\n");
        check_err(&load_column(&path, "v").unwrap_err(), "col.csv", Some(1), &["no column `v`", "`a`, `b`"]);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        // A fixed-seed xorshift generator over an alphabet rich in CSV and timestamp syntax.
        let alphabet = b"0123456789-:. T,\n\r\"Z+eE\xffnaif-";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fuzz.csv");
        for _ in 0..300 {
            let mut bytes = b"t,s\n".to_vec();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 200) as usize;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bytes.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            std::fs::write(&path, &bytes).unwrap();
            if let Ok(t) = load_trace(&path, "t", Some("s")) {
                assert_eq!(t.arrivals_ns.first(), Some(&0));
                assert!(t.arrivals_ns.windows(2).all(|w| w[0] <= w[1]));
            }
            let _ = load_column(&path, "s");
        }
    }

    #[test]
    fn genai_sample_fixture() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/genai-sample.csv"));
        let t = load_trace(path, "gmt_create", Some("exec_time_seconds")).unwrap();
        assert_eq!(t.arrivals_ns.len(), 200);
        assert_eq!(t.arrivals_ns[0], 0);
        assert!(t.arrivals_ns.windows(2).all(|w| w[0] <= w[1]));
        // 2024-11-15 16:57:50 to 2024-11-16 00:42:03, across midnight.
        assert_eq!(t.arrivals_ns.last(), Some(&(27_853 * SEC)));
        let service = t.service_ns.expect("service column");
        assert_eq!(service.iter().filter(|&&ns| ns == 0).count(), 4);
        assert!(service.iter().all(|&ns| ns <= 120 * SEC));
        // Columns with empty cells load as a distribution with those cells skipped.
        assert_eq!(load_column(path, "exec_time_seconds").unwrap().len(), 200);
        assert_eq!(load_column(path, "prompt_length").unwrap().len(), 196);
    }

    #[test]
    fn real_alibaba_trace_if_present() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/alibaba-genai-v2026/lora_request_trace.csv"
        ));
        if !path.exists() {
            eprintln!("SKIPPED real_alibaba_trace_if_present: {} does not exist", path.display());
            return;
        }
        let t = load_trace(path, "gmt_create", Some("exec_time_seconds")).unwrap();
        assert_eq!(t.arrivals_ns.len(), 26_823);
        assert_eq!(t.arrivals_ns[0], 0);
        assert!(t.arrivals_ns.windows(2).all(|w| w[0] <= w[1]));
        let service = t.service_ns.expect("service column");
        assert_eq!(service.len(), 26_823);
        let mean_s = service.iter().map(|&ns| ns as f64).sum::<f64>() / service.len() as f64 / 1e9;
        assert!((28.0..=29.5).contains(&mean_s), "mean service time {mean_s} s");
        let column = load_column(path, "exec_time_seconds").unwrap();
        assert_eq!(column.len(), 26_823);
    }
}
