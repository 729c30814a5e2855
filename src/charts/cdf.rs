//! The pod start-up latency CDF from `startup-cdf.csv` (`quantile,seconds`).

use super::ChartError;
use super::csvdata::Table;
use super::render::{Chart, Marks, Series};
use std::path::Path;

/// The CDF chart, or none if the file has no rows.
pub fn chart(table: &Table, path: &Path, scenario: &str) -> Result<Option<Chart>, ChartError> {
    let (Some(q), Some(s)) = (table.numbers("quantile"), table.numbers("seconds")) else {
        return Err(ChartError::BadInput {
            path: path.to_path_buf(),
            msg: "expected the columns quantile,seconds".to_string(),
        });
    };
    let mut points: Vec<(f64, Option<f64>)> =
        s.into_iter().zip(q).filter_map(|(s, q)| Some((s?, Some(q?)))).collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let chart = Chart {
        name: "startup-cdf".to_string(),
        title: format!("{scenario}: pod start-up latency (created → Running), CDF"),
        x_label: "start-up latency (s)".to_string(),
        y_label: "fraction of pods started".to_string(),
        series: vec![Series::new("pods", points)],
        x_categories: None,
        y_from_zero: true,
        y_integer: false,
        marks: Marks::Lines,
    };
    Ok(chart.has_data().then_some(chart))
}
