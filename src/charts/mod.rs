//! Charts and the HTML report of an output folder, made from its CSV files only (never
//! from a simulation in memory), so `clustersim plot DIR` redraws any folder and the
//! simulation knows nothing about charts.
//!
//! [`plot_dir`] reads what exists in the folder:
//! - `timeseries.csv` → time series ([`timeseries`]): pods, nodes, allocation, scheduling
//!   throughput, cost, with GPUs the GPU allocation and fragmentation, and with services
//!   request rate, latency percentiles, utilisation and replicas;
//! - `startup-cdf.csv` → the pod start-up latency CDF ([`cdf`]);
//! - `points.csv` (a sweep) → one chart per metric against the first parameter with the
//!   95 % confidence band, one line per value of the other parameters, a marker at each
//!   grid point; a parameter whose values are not numbers gets points with error bars at
//!   evenly spaced categories instead of a line ([`sweep`]);
//! - `plan.csv` and `plan.json` (a plan) → the objective against the binding metric and
//!   the frontier of passing configurations ([`plan`]), and the recommendation section;
//! - `summary.csv` → the table at the top of the report;
//!
//! and writes each chart as `charts/<name>.png` and `charts/<name>.svg` (1000 × 600) plus
//! `index.html` ([`report`]), all atomically. Text is drawn with an embedded DejaVu Sans
//! subset (`assets/fonts/`), so no system font or fontconfig is needed; the same CSVs give
//! the same bytes.

pub mod cdf;
pub mod csvdata;
pub mod families;
pub mod plan;
pub mod render;
pub mod report;
pub mod sweep;
pub mod timeseries;
pub mod waits;

use crate::output::write_atomic;
use csvdata::Table;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What can go wrong making charts.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The folder holds none of the files charts are made from.
    #[error(
        "{0}: no results to plot (expected summary.csv, timeseries.csv, startup-cdf.csv, points.csv or plan.csv)"
    )]
    NoResults(PathBuf),
    /// A file is malformed or lacks what is asked of it.
    #[error("{}: {msg}", path.display())]
    BadInput { path: PathBuf, msg: String },
    /// A file could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    /// Drawing failed (a bug).
    #[error("drawing chart {0}")]
    Render(String),
}

impl ChartError {
    /// Whether the user can fix it (bad folder, file or flag; exit code 2).
    pub fn is_input(&self) -> bool {
        !matches!(self, ChartError::Render(_))
    }
}

/// Choices for [`plot_dir`].
#[derive(Debug, Clone, Default)]
pub struct PlotOptions {
    /// Sweep metrics to plot (summary columns, without `_mean`); empty: the defaults
    /// ([`sweep::DEFAULT_METRICS`]) that exist.
    pub metrics: Vec<String>,
}

static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

/// Registers the embedded font as plotters' "sans-serif" (once per process).
fn register_font() -> Result<(), ChartError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok { Ok(()) } else { Err(ChartError::Render("the embedded font does not load".to_string())) }
}

/// The scenario's name for titles: `run.json` or `sweep.json`, else the folder's name.
pub fn scenario_name(dir: &Path) -> String {
    for file in ["run.json", "sweep.json", "plan.json"] {
        let Ok(text) = std::fs::read_to_string(dir.join(file)) else { continue };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let found = [v.pointer("/scenario/name"), v.get("scenario_name"), v.get("name")]
            .into_iter()
            .flatten()
            .find_map(|n| n.as_str().filter(|s| !s.is_empty()).map(str::to_string));
        if let Some(n) = found {
            return n;
        }
        // A sweep names its scenario file: use the file's stem.
        if let Some(stem) = v
            .pointer("/definition/scenario_file")
            .and_then(|f| f.as_str())
            .and_then(|f| Path::new(f).file_stem())
            .map(|s| s.to_string_lossy().into_owned())
        {
            return stem;
        }
    }
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    canonical.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "results".to_string())
}

/// Makes every chart the files in `dir` allow, under `dir/charts/`, and `dir/index.html`.
/// Returns the files written.
pub fn plot_dir(dir: &Path, opts: &PlotOptions) -> Result<Vec<PathBuf>, ChartError> {
    if !dir.is_dir() {
        return Err(ChartError::NoResults(dir.to_path_buf()));
    }
    let read = |name: &str| Table::read_if_exists(&dir.join(name));
    let summary = read("summary.csv")?;
    let ts = read("timeseries.csv")?;
    let cdf = read("startup-cdf.csv")?;
    let points = read("points.csv")?;
    let plan = read("plan.csv")?;
    if summary.is_none() && ts.is_none() && cdf.is_none() && points.is_none() && plan.is_none() {
        return Err(ChartError::NoResults(dir.to_path_buf()));
    }
    if !opts.metrics.is_empty() && points.is_none() {
        return Err(ChartError::BadInput {
            path: dir.to_path_buf(),
            msg: "--metric applies to sweep results, and this folder has no points.csv".to_string(),
        });
    }
    let scenario = scenario_name(dir);

    let mut charts = Vec::new();
    if let Some(t) = &ts {
        charts.extend(timeseries::charts(t, &dir.join("timeseries.csv"), &scenario)?);
    }
    if let Some(t) = &cdf {
        charts.extend(cdf::chart(t, &dir.join("startup-cdf.csv"), &scenario)?);
    }
    let mut sweep_metrics = Vec::new();
    if let Some(t) = &points {
        let path = dir.join("points.csv");
        sweep_metrics = sweep::chosen_metrics(t, &path, &opts.metrics)?;
        charts.extend(sweep::charts(t, &path, &scenario, &opts.metrics)?);
        charts.extend(families::charts(t, &scenario));
        if sweep::parameters(t).is_empty()
            && let Some(runs) = read("runs.csv")?
        {
            charts.extend(sweep::distributions(&runs, &dir.join("runs.csv"), &scenario, &sweep_metrics)?);
        }
    }

    let plan = match plan {
        Some(t) => {
            let path = dir.join("plan.json");
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ChartError::BadInput { path: path.clone(), msg: format!("cannot read: {e}") })?;
            let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| ChartError::BadInput {
                path: path.clone(),
                msg: format!("not a plan.json: {e}"),
            })?;
            charts.extend(plan::charts(&t, &json, &scenario));
            Some(plan::section(&t, &json))
        }
        None => None,
    };

    let mut written = Vec::new();
    if !charts.is_empty() {
        register_font()?;
        let chart_dir = dir.join("charts");
        std::fs::create_dir_all(&chart_dir)
            .map_err(|source| ChartError::Write { path: chart_dir.clone(), source })?;
        for c in &charts {
            let png = render::png(c).map_err(ChartError::Render)?;
            let svg = render::svg(c).map_err(ChartError::Render)?;
            for (ext, bytes) in [("png", png), ("svg", svg.into_bytes())] {
                let path = chart_dir.join(format!("{}.{ext}", c.name));
                write_atomic(&path, &bytes)
                    .map_err(|source| ChartError::Write { path: path.clone(), source })?;
                written.push(path);
            }
        }
    }

    let files: Vec<String> = [
        "summary.csv",
        "timeseries.csv",
        "startup-cdf.csv",
        "autoscaler-events.csv",
        "pods.csv",
        "scheduling-attempts.csv",
        "points.csv",
        "plan.csv",
        "runs.csv",
        "run.json",
        "sweep.json",
        "plan.json",
    ]
    .iter()
    .filter(|f| dir.join(f).is_file())
    .map(|f| f.to_string())
    .collect();
    let listed: Vec<(String, String)> = charts.iter().map(|c| (c.name.clone(), c.title.clone())).collect();
    // With `--explain`: the pods that waited longest.
    let attempts = dir.join("scheduling-attempts.csv");
    let waits = if attempts.is_file() {
        let end = summary
            .as_ref()
            .and_then(|t| t.col("simulated_s").and_then(|i| t.rows.first()?.get(i)?.parse::<f64>().ok()))
            .unwrap_or(0.0);
        waits::longest(&attempts, end, 10)
            .map_err(|msg| ChartError::BadInput { path: attempts.clone(), msg })?
    } else {
        Vec::new()
    };
    let page = report::html(&report::Report {
        scenario: &scenario,
        summary: summary.as_ref(),
        points: points.as_ref().map(|t| (t, sweep_metrics.as_slice())),
        charts: &listed,
        files: &files,
        waits: &waits,
        plan: plan.as_deref(),
    });
    let index = dir.join("index.html");
    write_atomic(&index, page.as_bytes())
        .map_err(|source| ChartError::Write { path: index.clone(), source })?;
    written.push(index);
    Ok(written)
}
