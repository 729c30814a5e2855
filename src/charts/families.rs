//! Curves over a family of columns: a sweep whose runs report one metric at many steps
//! (`gpu_alloc_pct_at_arrived_0` … `_130` of an inflated pod trace) has, in `points.csv`,
//! columns `<family>_<k>_mean`. Each family becomes one chart of the mean against k, one
//! line per grid point (labelled by its parameter values), with the 95 % confidence band.

use super::csvdata::Table;
use super::render::{Chart, Marks, Series};
use super::sweep::{metric_label, parameter_name, parameters};

/// At least this many steps make a family.
const MIN_STEPS: usize = 5;

/// The families of `points.csv` and their steps, in order of first appearance.
pub fn families(table: &Table) -> Vec<(String, Vec<(u64, String)>)> {
    let mut out: Vec<(String, Vec<(u64, String)>)> = Vec::new();
    for h in &table.header {
        let Some(metric) = h.strip_suffix("_mean") else { continue };
        let Some((family, step)) = metric.rsplit_once('_') else { continue };
        let Ok(k) = step.parse::<u64>() else { continue };
        match out.iter_mut().find(|(f, _)| f == family) {
            Some((_, steps)) => steps.push((k, metric.to_string())),
            None => out.push((family.to_string(), vec![(k, metric.to_string())])),
        }
    }
    out.retain(|(_, steps)| steps.len() >= MIN_STEPS);
    for (_, steps) in &mut out {
        steps.sort();
    }
    out
}

/// One chart per family.
pub fn charts(table: &Table, scenario: &str) -> Vec<Chart> {
    let params = parameters(table);
    let values: Vec<Vec<String>> = params.iter().map(|p| table.texts(p).unwrap_or_default()).collect();
    let label = |i: usize| -> String {
        let l: Vec<String> = params
            .iter()
            .zip(&values)
            .map(|(p, v)| format!("{}={}", parameter_name(p), v.get(i).map_or("", String::as_str)))
            .collect();
        if l.is_empty() { "mean".to_string() } else { l.join(", ") }
    };
    let mut out = Vec::new();
    for (family, steps) in families(table) {
        let mut series = Vec::new();
        for i in 0..table.rows.len() {
            let mut points = Vec::new();
            let mut band = Vec::new();
            for (k, metric) in &steps {
                let at = |col: &str| table.numbers(col).and_then(|v| v.get(i).copied().flatten());
                let mean = at(&format!("{metric}_mean"));
                points.push((*k as f64, mean));
                if let (Some(lo), Some(hi)) =
                    (at(&format!("{metric}_ci95_lo")), at(&format!("{metric}_ci95_hi")))
                {
                    band.push((*k as f64, lo, hi));
                }
            }
            series.push(Series { label: label(i), points, band });
        }
        let chart = Chart {
            name: format!(
                "curve-{}",
                family.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_', "_")
            ),
            title: format!("{scenario}: {family}"),
            x_label: step_label(&family),
            y_label: format!("{} (mean, 95 % CI)", metric_label(&family)),
            series,
            x_categories: None,
            y_from_zero: false,
            y_integer: false,
            marks: Marks::Lines,
        };
        if chart.has_data() {
            out.push(chart);
        }
    }
    out
}

/// What the step of a family counts.
fn step_label(family: &str) -> String {
    if family.ends_with("_at_arrived") {
        "arrived GPU demand (% of the cluster's GPUs)".to_string()
    } else {
        "k".to_string()
    }
}
