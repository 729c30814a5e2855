//! Pod traces: CSV files of pods (arrival, duration or end, requests, optional name,
//! priority, labels, owner) replayed as a workload. This module is the input edge:
//!
//! - [`columns_of`]: the column mapping a scenario gives, with a preset's columns filling
//!   the ones it leaves out ([`TracePreset`]);
//! - [`validate`]: checks of the mapping and the replay settings that need no file;
//! - [`check_file`]: one pass over the whole file when the scenario is loaded, reading it
//!   row by row (never whole): every row is parsed and checked, and the distinct pod
//!   shapes (requests, GPU models, priority, labels, owner) are collected, each becoming one
//!   pod template ([`PodTraceIndex`]);
//! - [`RowReader`]: the same parse, used by the simulation to read the file again as the
//!   run goes (`workload::replay`), so memory follows the pods, not the file.
//!
//! Errors name the file, the line and the column.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::columns::{self, CpuUnit, CsvStream, GpuUnit, MemUnit, TimeUnit, show};
use super::error::FieldError;
use super::schema::{PodTraceColumns, PodTraceSpec, PriorityClassSpec, TracePreset, UnitColumn};
use super::trace::TraceError;

/// The pod label that carries a trace's `owner` column.
pub const OWNER_LABEL: &str = "clustersim.io/owner";
/// The node label that GPU model constraints (`gpuModel`) select on (kept with the devices).
pub use crate::cluster::gpu::GPU_MODEL_LABEL;
/// At most this many distinct pod shapes per trace (each is a template).
pub const MAX_SHAPES: usize = 1_000_000;

fn col(column: &str, unit: &str) -> Option<UnitColumn> {
    Some(UnitColumn { column: column.to_string(), unit: Some(unit.to_string()) })
}

/// The columns of a preset.
pub fn preset_columns(p: TracePreset) -> PodTraceColumns {
    match p {
        TracePreset::AlibabaGpuV2023 => PodTraceColumns {
            name: Some("name".into()),
            arrival: col("creation_time", "s"),
            duration: None,
            end: col("deletion_time", "s"),
            cpu: col("cpu_milli", "millicores"),
            memory: col("memory_mib", "MiB"),
            gpu: col("num_gpu", "count"),
            gpu_milli: Some("gpu_milli".into()),
            gpu_model: Some("gpu_spec".into()),
            priority: None,
            labels: None,
            owner: None,
        },
        TracePreset::Plain => PodTraceColumns {
            name: Some("pod".into()),
            arrival: col("arrival_ms", "ms"),
            duration: col("duration_ms", "ms"),
            end: None,
            cpu: col("cpu_millicores", "millicores"),
            memory: col("ram_bytes", "bytes"),
            gpu: None,
            gpu_milli: None,
            gpu_model: None,
            priority: None,
            labels: None,
            owner: None,
        },
    }
}

/// The mapping in effect: the scenario's columns, and the preset's for those it leaves out
/// (a scenario that maps `end` drops the preset's `duration`, and the other way round).
pub fn columns_of(spec: &PodTraceSpec) -> PodTraceColumns {
    let c = &spec.columns;
    let Some(p) = spec.preset else { return c.clone() };
    let p = preset_columns(p);
    let (duration, end) = if c.duration.is_some() || c.end.is_some() {
        (c.duration.clone(), c.end.clone())
    } else {
        (p.duration, p.end)
    };
    PodTraceColumns {
        name: c.name.clone().or(p.name),
        arrival: c.arrival.clone().or(p.arrival),
        duration,
        end,
        cpu: c.cpu.clone().or(p.cpu),
        memory: c.memory.clone().or(p.memory),
        gpu: c.gpu.clone().or(p.gpu),
        gpu_milli: c.gpu_milli.clone().or(p.gpu_milli),
        gpu_model: c.gpu_model.clone().or(p.gpu_model),
        priority: c.priority.clone().or(p.priority),
        labels: c.labels.clone().or(p.labels),
        owner: c.owner.clone().or(p.owner),
    }
}

/// Units resolved from a mapping.
struct Units {
    arrival: TimeUnit,
    end: Option<TimeUnit>,
    duration: Option<i128>,
    cpu: i128,
    mem: i128,
    gpu: i128,
}

fn unit_of<T>(
    c: &UnitColumn,
    field: &str,
    default: Option<&str>,
    parse: impl Fn(&str) -> Option<T>,
    units: &str,
) -> Result<T, FieldError> {
    let err = |message: String| FieldError { path: format!("{field}.unit"), message };
    match (c.unit.as_deref(), default) {
        (Some(u), _) => parse(u).ok_or_else(|| err(format!("unknown unit `{u}`; expected {units}"))),
        (None, Some(d)) => parse(d).ok_or_else(|| err(format!("expected {units}"))),
        (None, None) => Err(err(format!("no unit given for column `{}`; expected {units}", c.column))),
    }
}

/// `r`'s value, or `None` with its error kept in `errs`.
fn kept<T>(r: Result<T, FieldError>, errs: &mut Vec<FieldError>) -> Option<T> {
    r.map_err(|e| errs.push(e)).ok()
}

fn units(c: &PodTraceColumns, at: &str) -> Result<Units, Vec<FieldError>> {
    let mut errs = Vec::new();
    let f = |n: &str| format!("{at}.columns.{n}");
    let arrival = match &c.arrival {
        Some(a) => kept(
            unit_of(a, &f("arrival"), None, |u| TimeUnit::parse(u, true), columns::TIME_UNITS),
            &mut errs,
        ),
        None => {
            errs.push(FieldError {
                path: f("arrival"),
                message: "no arrival column; expected `arrival: {column: NAME, unit: s}` or a `preset`"
                    .into(),
            });
            None
        }
    };
    let end = c.end.as_ref().and_then(|e| {
        kept(unit_of(e, &f("end"), None, |u| TimeUnit::parse(u, true), columns::TIME_UNITS), &mut errs)
    });
    let duration = c.duration.as_ref().and_then(|d| {
        let scaled = |u: &str| match TimeUnit::parse(u, false) {
            Some(TimeUnit::Scaled(x)) => Some(x),
            _ => None,
        };
        kept(unit_of(d, &f("duration"), None, scaled, columns::DURATION_UNITS), &mut errs)
    });
    let cpu = c
        .cpu
        .as_ref()
        .and_then(|x| kept(unit_of(x, &f("cpu"), None, CpuUnit::parse, columns::CPU_UNITS), &mut errs));
    let mem = c
        .memory
        .as_ref()
        .and_then(|x| kept(unit_of(x, &f("memory"), None, MemUnit::parse, columns::MEM_UNITS), &mut errs));
    let gpu = c.gpu.as_ref().and_then(|x| {
        kept(unit_of(x, &f("gpu"), Some("count"), GpuUnit::parse, columns::GPU_UNITS), &mut errs)
    });
    if c.duration.is_some() && c.end.is_some() {
        errs.push(FieldError {
            path: f("end"),
            message: "both `duration` and `end` are mapped; expected one of them (or neither: pods run until the end)"
                .into(),
        });
    }
    if let (Some(a), Some(e)) = (arrival, end)
        && (a == TimeUnit::DateTime) != (e == TimeUnit::DateTime)
    {
        errs.push(FieldError {
            path: f("end.unit"),
            message: "`end` must use the arrival column's clock: both `datetime` or both numbers".into(),
        });
    }
    if c.gpu_milli.is_some() && gpu == Some(GpuUnit(1)) {
        errs.push(FieldError {
            path: f("gpuMilli"),
            message: "`gpuMilli` is the share of each GPU counted by `gpu`; expected `gpu` in `unit: count`"
                .into(),
        });
    }
    if c.gpu_milli.is_some() && c.gpu.is_none() {
        errs.push(FieldError {
            path: f("gpuMilli"),
            message: "`gpuMilli` needs `gpu` (the number of GPUs, each taking that share)".into(),
        });
    }
    match arrival {
        Some(arrival) if errs.is_empty() => Ok(Units {
            arrival,
            end,
            duration,
            cpu: cpu.map_or(1, |u| u.0),
            mem: mem.map_or(1, |u| u.0),
            gpu: gpu.map_or(1000, |u| u.0),
        }),
        _ => Err(errs),
    }
}

/// Checks of `podTraces[i]` that need no file.
pub fn validate(spec: &PodTraceSpec, at: &str) -> Vec<FieldError> {
    let mut errs = match units(&columns_of(spec), at) {
        Ok(_) => Vec::new(),
        Err(e) => e,
    };
    let mut push = |ok: bool, f: &str, m: &str| {
        if !ok {
            errs.push(FieldError { path: format!("{at}.{f}"), message: m.to_string() });
        }
    };
    push(!spec.file.trim().is_empty(), "file", "expected the path of a CSV file");
    push(
        spec.time_scale.is_finite() && spec.time_scale > 0.0,
        "timeScale",
        "expected a number > 0, e.g. 0.5",
    );
    push(
        spec.duration_scale.is_finite() && spec.duration_scale >= 0.0,
        "durationScale",
        "expected a number >= 0, e.g. 1",
    );
    push(
        spec.rate_multiplier.is_finite() && spec.rate_multiplier > 0.0 && spec.rate_multiplier <= 1000.0,
        "rateMultiplier",
        "expected a number > 0 and at most 1000, e.g. 2 (each row makes that many pods on average)",
    );
    if let Some(w) = &spec.window
        && let Some(to) = w.to
    {
        push(to.0 > w.from.0, "window.to", "expected `to` after `from`");
    }
    errs
}

/// A pod's priority as a trace cell gives it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PriorityCell {
    Value(i32),
    /// A `priorityClasses[]` index.
    Class(u32),
}

/// What pods of one template share: everything a row gives besides its times. `None`
/// fields are not given by the trace (the trace's `template` decides).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PodShape {
    pub cpu_milli: Option<i64>,
    pub mem_bytes: Option<i64>,
    pub gpu_milli: Option<i64>,
    /// Acceptable GPU models (empty: any), sorted.
    pub gpu_models: Box<[Box<str>]>,
    pub priority: Option<PriorityCell>,
    /// Sorted by key.
    pub labels: Box<[(String, String)]>,
    pub owner: Option<Box<str>>,
}

/// One row of a pod trace.
#[derive(Clone, Debug)]
pub struct PodRow {
    /// Arrival in the trace's clock, ns (date-times: since the epoch).
    pub arrival_ns: i128,
    /// Run time once Running (`None`: until the end of the run).
    pub duration_ns: Option<u64>,
    pub shape: PodShape,
    /// The row's byte offset in the file (its line is computed when a message needs it).
    pub byte: u64,
}

/// Column indexes and units, resolved against a file's header.
struct Layout {
    name: Option<usize>,
    /// `None` with inflation (the times are not read).
    arrival: Option<(usize, TimeUnit, String)>,
    end: Option<(usize, TimeUnit, String)>,
    duration: Option<(usize, i128, String)>,
    cpu: Option<(usize, i128, String)>,
    mem: Option<(usize, i128, String)>,
    gpu: Option<(usize, i128, String)>,
    gpu_milli: Option<(usize, String)>,
    gpu_model: Option<(usize, String)>,
    priority: Option<(usize, String)>,
    labels: Option<(usize, String)>,
    owner: Option<(usize, String)>,
}

/// A pod trace file read row by row, each row parsed and checked.
pub struct RowReader {
    csv: CsvStream,
    layout: Layout,
    classes: Vec<String>,
    prev: Option<(i128, u64)>,
    sorted: bool,
}

impl RowReader {
    /// Opens `path` with the mapping of `spec`; `classes` are the scenario's PriorityClasses.
    pub fn open(
        path: &Path,
        spec: &PodTraceSpec,
        classes: &[PriorityClassSpec],
    ) -> Result<RowReader, TraceError> {
        let csv = CsvStream::open(path)?;
        let c = columns_of(spec);
        let u = units(&c, "podTraces").map_err(|e| {
            TraceError::new(
                path,
                None,
                e.into_iter().map(|f| format!("{}: {}", f.path, f.message)).collect::<Vec<_>>().join("; "),
            )
        })?;
        let pick = |name: &Option<String>, role: &str| -> Result<Option<(usize, String)>, TraceError> {
            name.as_ref()
                .map(|n| csv.column(n, &format!("columns.{role}")).map(|i| (i, n.clone())))
                .transpose()
        };
        let unit_pick =
            |c: &Option<UnitColumn>, role: &str| pick(&c.as_ref().map(|x| x.column.clone()), role);
        // Inflation does not use the trace's times: their columns may be absent.
        let timed = spec.inflation.is_none();
        let arrival = if timed {
            let (ai, an) = unit_pick(&c.arrival, "arrival")?
                .ok_or_else(|| TraceError::new(path, None, "no arrival column".into()))?;
            Some((ai, u.arrival, an))
        } else {
            None
        };
        let layout = Layout {
            name: pick(&c.name, "name")?.map(|x| x.0),
            arrival,
            end: if timed {
                unit_pick(&c.end, "end")?.and_then(|(i, n)| u.end.map(|t| (i, t, n)))
            } else {
                None
            },
            duration: if timed {
                unit_pick(&c.duration, "duration")?.and_then(|(i, n)| u.duration.map(|f| (i, f, n)))
            } else {
                None
            },
            cpu: unit_pick(&c.cpu, "cpu")?.map(|(i, n)| (i, u.cpu, n)),
            mem: unit_pick(&c.memory, "memory")?.map(|(i, n)| (i, u.mem, n)),
            gpu: unit_pick(&c.gpu, "gpu")?.map(|(i, n)| (i, u.gpu, n)),
            gpu_milli: pick(&c.gpu_milli, "gpuMilli")?,
            // A preset's model column may be absent (`openb_pod_list_multigpu50.csv` has none);
            // a column the scenario maps must be there.
            gpu_model: if spec.columns.gpu_model.is_none() {
                c.gpu_model
                    .as_ref()
                    .and_then(|n| csv.column(n, "columns.gpuModel").ok().map(|i| (i, n.clone())))
            } else {
                pick(&c.gpu_model, "gpuModel")?
            },
            priority: pick(&c.priority, "priority")?,
            labels: pick(&c.labels, "labels")?,
            owner: pick(&c.owner, "owner")?,
        };
        Ok(RowReader {
            csv,
            layout,
            classes: classes.iter().map(|c| c.name.clone()).collect(),
            prev: None,
            // Inflation reads every row and orders them itself.
            sorted: spec.sorted && spec.inflation.is_none(),
        })
    }

    /// An error about the row at `byte`.
    pub fn error_at(&self, byte: u64, message: String) -> TraceError {
        self.csv.error_at(byte, message)
    }

    pub fn no_data_rows(&self) -> TraceError {
        self.csv.no_data_rows()
    }

    /// The next row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<PodRow>, TraceError> {
        let Some(byte) = self.csv.next_row()? else { return Ok(None) };
        let l = &self.layout;
        let cell = |i: usize| self.csv.cell(i);
        // Messages name the pod too when the mapping has a name column.
        let pod = match l.name.map(cell).filter(|c| !c.is_empty()) {
            Some(c) => format!(" (pod `{}`)", show(c)),
            None => String::new(),
        };
        let fail = |column: &str, m: String| self.csv.error_at(byte, format!("column `{column}`{pod}: {m}"));
        let Some((ai, au, an)) = &l.arrival else {
            // Inflation: no times.
            let shape = self.shape(byte, &pod)?;
            return Ok(Some(PodRow { arrival_ns: 0, duration_ns: None, shape, byte }));
        };
        let arrival_ns = columns::parse_time(cell(*ai), *au, "arrival time").map_err(|m| fail(an, m))?;
        if self.sorted
            && let Some((prev, prev_byte)) = self.prev
            && arrival_ns < prev
        {
            let prev_line = columns::line_of_byte(&self.csv.file, prev_byte)
                .map_or(String::new(), |l| format!(" on line {l}"));
            return Err(fail(
                an,
                format!(
                    "arrival `{}` is earlier than the previous row's{prev_line}; the rows must be sorted by \
                     arrival (non-decreasing), or set `sorted: false` to have them sorted in memory",
                    show(cell(*ai))
                ),
            ));
        }
        self.prev = Some((arrival_ns, byte));
        let duration_ns = if let Some((i, u, n)) = &l.end {
            let end = columns::parse_time(cell(*i), *u, "end time").map_err(|m| fail(n, m))?;
            if end < arrival_ns {
                return Err(fail(
                    n,
                    format!(
                        "the pod ends (`{}`) before it arrives (`{}`, column `{an}`); expected an end at or after the arrival",
                        show(cell(*i)),
                        show(cell(*ai))
                    ),
                ));
            }
            Some(
                u64::try_from(end - arrival_ns)
                    .map_err(|_| fail(n, "the pod runs for more than 584 years".into()))?,
            )
        } else if let Some((i, f, n)) = &l.duration {
            let d = columns::parse_amount(cell(*i), *f, "duration").map_err(|m| fail(n, m))?;
            Some(u64::try_from(d).map_err(|_| fail(n, "negative duration".into()))?)
        } else {
            None
        };
        let shape = self.shape(byte, &pod)?;
        Ok(Some(PodRow { arrival_ns, duration_ns, shape, byte }))
    }

    /// The requests, GPU models, priority, labels and owner of the row at `byte` (the
    /// current row); `pod` names it in messages.
    fn shape(&self, byte: u64, pod: &str) -> Result<PodShape, TraceError> {
        let l = &self.layout;
        let cell = |i: usize| self.csv.cell(i);
        let fail = |column: &str, m: String| self.csv.error_at(byte, format!("column `{column}`{pod}: {m}"));
        let amount = |c: &Option<(usize, i128, String)>, what: &str| -> Result<Option<i64>, TraceError> {
            match c {
                Some((i, f, n)) => {
                    columns::parse_amount(cell(*i), *f, what).map(Some).map_err(|m| fail(n, m))
                }
                None => Ok(None),
            }
        };
        let cpu_milli = amount(&l.cpu, "CPU request")?;
        let mem_bytes = amount(&l.mem, "memory request")?;
        let mut gpu_milli = amount(&l.gpu, "GPU request")?;
        if let (Some((gi, gf, gn)), Some((mi, mn))) = (&l.gpu, &l.gpu_milli) {
            let count = gpu_milli.unwrap_or(0) / 1000;
            if gpu_milli.unwrap_or(0) % 1000 != 0 || *gf != 1000 {
                return Err(fail(gn, format!("`{}` is not a whole number of GPUs", show(cell(*gi)))));
            }
            let share = columns::parse_amount(cell(*mi), 1, "GPU share").map_err(|m| fail(mn, m))?;
            if share > 1000 {
                return Err(fail(
                    mn,
                    format!("share `{share}` is more than one GPU; expected 0 to 1000 milli-units"),
                ));
            }
            if share < 1000 && share > 0 && count != 1 {
                return Err(fail(
                    mn,
                    format!(
                        "a share of {share} (below a whole GPU) needs exactly 1 GPU in column `{gn}`, found {count}; \
                         a share must fit on one GPU"
                    ),
                ));
            }
            if share == 0 && count > 0 {
                return Err(fail(
                    mn,
                    format!("a share of 0 with {count} GPU(s) in column `{gn}`; expected 1 to 1000"),
                ));
            }
            gpu_milli = Some(count * share);
        }
        if let (Some(m), Some((gi, _, gn))) = (gpu_milli, &l.gpu) {
            if m > 1000 && m % 1000 != 0 {
                return Err(fail(
                    gn,
                    format!(
                        "`{}` is neither whole GPUs nor a share of one GPU; expected a whole number of GPUs, or below 1 GPU",
                        show(cell(*gi))
                    ),
                ));
            }
            let most = crate::cluster::gpu::MAX_GPUS_PER_NODE as i64;
            if m > most * 1000 {
                return Err(fail(
                    gn,
                    format!("{} GPUs; expected at most {most} (a pod's GPUs are on one node)", m / 1000),
                ));
            }
        }
        let gpu_models: Box<[Box<str>]> = match &l.gpu_model {
            Some((i, n)) => {
                let text = std::str::from_utf8(cell(*i)).map_err(|_| fail(n, "not valid UTF-8".into()))?;
                let mut models: Vec<Box<str>> =
                    text.split('|').map(str::trim).filter(|m| !m.is_empty()).map(Box::from).collect();
                for m in &models {
                    if m.len() > 63
                        || !m.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                    {
                        return Err(fail(
                            n,
                            format!(
                                "GPU model `{}` is not a label value; expected letters, digits, `-`, `_`, `.`",
                                show(m.as_bytes())
                            ),
                        ));
                    }
                }
                models.sort();
                models.dedup();
                models.into()
            }
            None => Box::new([]),
        };
        let priority = match &l.priority {
            Some((i, n)) => {
                let c = cell(*i);
                if c.is_empty() {
                    None
                } else if let Ok(v) = std::str::from_utf8(c).unwrap_or("").parse::<i32>() {
                    Some(PriorityCell::Value(v))
                } else {
                    let name = String::from_utf8_lossy(c);
                    let idx = self.classes.iter().position(|k| *k == name).ok_or_else(|| {
                        fail(
                            n,
                            format!(
                                "`{}` is neither an integer priority nor a PriorityClass of the scenario ({})",
                                show(c),
                                if self.classes.is_empty() { "it has none".to_string() } else { self.classes.join(", ") }
                            ),
                        )
                    })?;
                    Some(PriorityCell::Class(idx as u32))
                }
            }
            None => None,
        };
        let mut labels = match &l.labels {
            Some((i, n)) => columns::parse_labels(cell(*i)).map_err(|m| fail(n, m))?,
            None => Vec::new(),
        };
        let owner = match &l.owner {
            Some((i, n)) => {
                let c = cell(*i);
                if c.is_empty() {
                    None
                } else {
                    let text = String::from_utf8_lossy(c).into_owned();
                    let ok = text.len() <= 63
                        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                        && text.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
                        && text.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
                    if !ok {
                        return Err(fail(
                            n,
                            format!(
                                "owner `{}` cannot be a label value (the pods get `{OWNER_LABEL}: <owner>`); \
                                 expected at most 63 letters, digits, `-`, `_`, `.`",
                                show(c)
                            ),
                        ));
                    }
                    if labels.iter().any(|(k, _)| k == OWNER_LABEL) {
                        return Err(fail(n, format!("the labels column already sets `{OWNER_LABEL}`")));
                    }
                    labels.push((OWNER_LABEL.to_string(), text.clone()));
                    labels.sort();
                    Some(text.into_boxed_str())
                }
            }
            None => None,
        };
        Ok(PodShape { cpu_milli, mem_bytes, gpu_milli, gpu_models, priority, labels: labels.into(), owner })
    }
}

/// What the checking pass learned about a trace file.
#[derive(Debug)]
pub struct PodTraceIndex {
    pub path: PathBuf,
    /// The file's length and modification time when it was checked: the run refuses a file
    /// that changed since.
    pub stamp: (u64, Option<std::time::SystemTime>),
    pub rows: u64,
    pub first_arrival_ns: i128,
    pub last_arrival_ns: i128,
    /// Distinct shapes in order of first appearance (template `k` of the trace is shape `k`).
    pub shapes: Vec<PodShape>,
    pub by_shape: HashMap<PodShape, u32>,
    /// Rows per shape.
    pub shape_rows: Vec<u64>,
    /// The byte offset of each shape's first row (for messages).
    pub shape_first_byte: Vec<u64>,
}

/// The stamp of a file: (length, modification time).
pub fn stamp(path: &Path) -> std::io::Result<(u64, Option<std::time::SystemTime>)> {
    let m = std::fs::metadata(path)?;
    Ok((m.len(), m.modified().ok()))
}

/// Reads and checks the whole file once (row by row).
pub fn check_file(
    path: &Path,
    spec: &PodTraceSpec,
    classes: &[PriorityClassSpec],
) -> Result<PodTraceIndex, TraceError> {
    let stamp = stamp(path).map_err(|e| TraceError::new(path, None, format!("cannot read the file: {e}")))?;
    let mut r = RowReader::open(path, spec, classes)?;
    let mut idx = PodTraceIndex {
        path: path.to_path_buf(),
        stamp,
        rows: 0,
        first_arrival_ns: 0,
        last_arrival_ns: 0,
        shapes: Vec::new(),
        by_shape: HashMap::new(),
        shape_rows: Vec::new(),
        shape_first_byte: Vec::new(),
    };
    while let Some(row) = r.next_row()? {
        if idx.rows == 0 {
            idx.first_arrival_ns = row.arrival_ns;
            idx.last_arrival_ns = row.arrival_ns;
        }
        idx.first_arrival_ns = idx.first_arrival_ns.min(row.arrival_ns);
        idx.last_arrival_ns = idx.last_arrival_ns.max(row.arrival_ns);
        idx.rows += 1;
        if idx.rows > u64::from(u32::MAX) {
            return Err(r.error_at(
                row.byte,
                "more than 4,294,967,295 rows; expected a smaller trace (or `maxRows`)".into(),
            ));
        }
        let next = idx.shapes.len() as u32;
        let k = *idx.by_shape.entry(row.shape.clone()).or_insert(next);
        if k == next {
            if idx.shapes.len() >= MAX_SHAPES {
                return Err(r.error_at(
                    row.byte,
                    format!("more than {MAX_SHAPES} distinct pod shapes (requests, priority, labels, owner); expected fewer"),
                ));
            }
            idx.shapes.push(row.shape);
            idx.shape_rows.push(0);
            idx.shape_first_byte.push(row.byte);
        }
        idx.shape_rows[k as usize] += 1;
    }
    if idx.rows == 0 {
        return Err(r.no_data_rows());
    }
    Ok(idx)
}

/// A trace's row that accepts GPU models must accept one some GPU node pool has: a pod
/// naming only unknown models could never run, almost always a typo or the wrong node list. An
/// error naming the first row that asks for one (documented in docs/scenario.md).
pub fn check_gpu_models(
    idx: &PodTraceIndex,
    pools: &[crate::scenario::schema::NodePoolSpec],
) -> Result<(), TraceError> {
    let known: std::collections::BTreeSet<&str> = pools
        .iter()
        .filter(|p| p.allocatable.gpu.0 > 0)
        .filter_map(|p| p.labels.get(GPU_MODEL_LABEL).map(String::as_str))
        .collect();
    for (k, shape) in idx.shapes.iter().enumerate() {
        if !shape.gpu_models.is_empty()
            && !shape.gpu_models.iter().any(|m| known.contains(&**m))
            && let Some(m) = shape.gpu_models.first()
        {
            let row = idx.shape_first_byte.get(k).and_then(|&b| columns::line_of_byte(&idx.path, b));
            let have = if known.is_empty() {
                "none".to_string()
            } else {
                known.iter().copied().collect::<Vec<_>>().join(", ")
            };
            return Err(TraceError::new(
                &idx.path,
                row,
                format!(
                    "GPU model `{m}` is on no node (the GPU nodes have: {have}); expected a model of the node list or pools"
                ),
            ));
        }
    }
    Ok(())
}

/// The key under which a trace's index is kept in `Inputs`: everything the checking pass
/// depends on.
pub fn input_key(spec: &PodTraceSpec, classes: &[PriorityClassSpec]) -> String {
    let names: Vec<&str> = classes.iter().map(|c| c.name.as_str()).collect();
    format!(
        "{}\u{1f}{:?}\u{1f}{}\u{1f}{:?}",
        spec.file,
        columns_of(spec),
        spec.sorted && spec.inflation.is_none(),
        names
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::schema::PodTemplateSpec;

    fn spec(columns: PodTraceColumns, preset: Option<TracePreset>) -> PodTraceSpec {
        PodTraceSpec {
            name: "t".into(),
            file: "t.csv".into(),
            preset,
            columns,
            sorted: true,
            time_scale: 1.0,
            duration_scale: 1.0,
            rate_multiplier: 1.0,
            window: None,
            max_rows: 0,
            start_at: Default::default(),
            template: PodTemplateSpec::default(),
            inflation: None,
        }
    }

    fn write(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("clustersim-podtrace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join(name);
        std::fs::write(&f, text).unwrap();
        f
    }

    fn rows(path: &Path, s: &PodTraceSpec) -> Result<Vec<PodRow>, TraceError> {
        let mut r = RowReader::open(path, s, &[])?;
        let mut out = Vec::new();
        while let Some(row) = r.next_row()? {
            out.push(row);
        }
        Ok(out)
    }

    #[test]
    fn plain_preset_reads_units_exactly() {
        let f = write(
            "plain.csv",
            "pod,arrival_ms,duration_ms,cpu_millicores,ram_bytes\np0,0,1500,250,1048576\np1,2.5,0,1000,0\n",
        );
        let r = rows(&f, &spec(PodTraceColumns::default(), Some(TracePreset::Plain))).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].duration_ns, Some(1_500_000_000));
        assert_eq!(r[0].shape.cpu_milli, Some(250));
        assert_eq!(r[0].shape.mem_bytes, Some(1_048_576));
        assert_eq!(r[1].arrival_ns, 2_500_000);
        assert_eq!(r[1].duration_ns, Some(0));
    }

    #[test]
    fn end_time_and_duration_give_the_same_run_time() {
        let f = write("both.csv", "a,e,d,c,m\n10,70,60,1,1\n");
        let by_end = spec(
            PodTraceColumns {
                arrival: col("a", "s"),
                end: col("e", "s"),
                cpu: col("c", "cores"),
                memory: col("m", "GiB"),
                ..Default::default()
            },
            None,
        );
        let by_duration = spec(
            PodTraceColumns {
                arrival: col("a", "s"),
                duration: col("d", "min"),
                cpu: col("c", "cores"),
                memory: col("m", "GiB"),
                ..Default::default()
            },
            None,
        );
        let e = rows(&f, &by_end).unwrap();
        let d = rows(&f, &by_duration).unwrap();
        assert_eq!(e[0].duration_ns, Some(60_000_000_000));
        assert_eq!(d[0].duration_ns, Some(3_600_000_000_000), "60 min");
        assert_eq!(e[0].shape.cpu_milli, Some(1000));
        assert_eq!(e[0].shape.mem_bytes, Some(1 << 30));
    }

    #[test]
    fn datetime_arrivals() {
        let f = write("dt.csv", "t,e\n2024-11-15 00:00:00,2024-11-15 00:01:00.5\n");
        let s = spec(
            PodTraceColumns {
                arrival: col("t", "datetime"),
                end: col("e", "datetime"),
                ..Default::default()
            },
            None,
        );
        let r = rows(&f, &s).unwrap();
        assert_eq!(r[0].duration_ns, Some(60_500_000_000));
    }

    #[test]
    fn alibaba_preset_gpu_shares() {
        let f = write(
            "ali.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
             p0,12000,16384,1,460,,LS,Running,0,100,0\n\
             p1,8000,1024,8,1000,V100M32|G2,LS,Running,5,10,5\n\
             p2,1000,1024,0,0,,BE,Failed,5,10,5\n",
        );
        let r = rows(&f, &spec(PodTraceColumns::default(), Some(TracePreset::AlibabaGpuV2023))).unwrap();
        assert_eq!(r[0].shape.gpu_milli, Some(460));
        assert_eq!(r[0].shape.mem_bytes, Some(16384 << 20));
        assert_eq!(r[0].duration_ns, Some(100_000_000_000));
        assert_eq!(r[1].shape.gpu_milli, Some(8000));
        assert_eq!(&*r[1].shape.gpu_models, &[Box::from("G2"), Box::from("V100M32")]);
        assert_eq!(r[2].shape.gpu_milli, Some(0));
    }

    fn err(text: &str, s: &PodTraceSpec) -> String {
        let f = write("bad.csv", text);
        rows(&f, s).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn bad_rows_name_the_line_and_column() {
        let plain = spec(PodTraceColumns::default(), Some(TracePreset::Plain));
        let h = "pod,arrival_ms,duration_ms,cpu_millicores,ram_bytes\n";
        let e = err(&format!("{h}p0,0,10,1,1\np1,5,-3,1,1\n"), &plain);
        assert!(e.contains("line 3") && e.contains("duration_ms") && e.contains("negative"), "{e}");
        let e = err(&format!("{h}p0,0,10,,1\n"), &plain);
        assert!(e.contains("line 2") && e.contains("cpu_millicores") && e.contains("empty"), "{e}");
        let e = err(&format!("{h}p0,10,10,1,1\np1,5,1,1,1\n"), &plain);
        assert!(e.contains("line 3") && e.contains("earlier") && e.contains("line 2"), "{e}");
        let e = err(&format!("{h}p0,0,10,1\n"), &plain);
        assert!(e.contains("line 2") && e.contains("4 field"), "{e}");
        let e = err("pod,arrival,duration_ms,cpu_millicores,ram_bytes\n", &plain);
        assert!(e.contains("no column `arrival_ms`") && e.contains("columns.arrival"), "{e}");
        let ali = spec(PodTraceColumns::default(), Some(TracePreset::AlibabaGpuV2023));
        let h = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time\n";
        let e = err(&format!("{h}p,1,1,2,500,,0,1\n"), &ali);
        assert!(e.contains("gpu_milli") && e.contains("exactly 1 GPU"), "{e}");
        let e = err(&format!("{h}p,1,1,1,1500,,0,1\n"), &ali);
        assert!(e.contains("more than one GPU"), "{e}");
        let e = err(&format!("{h}p,1,1,1.5,1000,,0,1\n"), &ali);
        assert!(e.contains("num_gpu") && e.contains("whole number"), "{e}");
        let e = err(&format!("{h}p,1,1,0,0,,10,5\n"), &ali);
        assert!(e.contains("deletion_time") && e.contains("before it arrives"), "{e}");
    }

    #[test]
    fn mapping_errors_name_the_field() {
        let mut s = spec(PodTraceColumns { arrival: col("a", "fortnights"), ..Default::default() }, None);
        let e = validate(&s, "podTraces[0]");
        assert!(
            e.iter()
                .any(|f| f.path == "podTraces[0].columns.arrival.unit" && f.message.contains("fortnights")),
            "{e:?}"
        );
        s.columns = PodTraceColumns::default();
        let e = validate(&s, "podTraces[0]");
        assert!(e.iter().any(|f| f.path == "podTraces[0].columns.arrival"), "{e:?}");
        s.columns = PodTraceColumns {
            arrival: col("a", "s"),
            duration: col("d", "s"),
            end: col("e", "s"),
            ..Default::default()
        };
        s.rate_multiplier = 0.0;
        let e = validate(&s, "podTraces[0]");
        assert!(e.iter().any(|f| f.path == "podTraces[0].columns.end"), "{e:?}");
        assert!(e.iter().any(|f| f.path == "podTraces[0].rateMultiplier"), "{e:?}");
    }

    #[test]
    fn shapes_are_collected_once_each() {
        let f = write(
            "shapes.csv",
            "pod,arrival_ms,duration_ms,cpu_millicores,ram_bytes\na,0,1,1,1\nb,1,1,2,1\nc,2,1,1,1\n",
        );
        let idx = check_file(&f, &spec(PodTraceColumns::default(), Some(TracePreset::Plain)), &[]).unwrap();
        assert_eq!(idx.rows, 3);
        assert_eq!(idx.shapes.len(), 2);
        assert_eq!(idx.shape_rows, vec![2, 1]);
        assert_eq!(idx.last_arrival_ns, 2_000_000);
    }
}
