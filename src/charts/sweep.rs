//! Sweep curves from `points.csv`: a metric's mean against the first parameter with its
//! 95 % confidence band (error bars when the parameter is categorical), one series per
//! value of the other parameters; for a sweep of replications only, each metric's
//! distribution over the runs of `runs.csv`.

use super::ChartError;
use super::csvdata::Table;
use super::render::{Chart, Marks, Series};
use std::path::Path;

/// Metrics plotted when `--metric` is not given (those present in `points.csv`).
pub const DEFAULT_METRICS: [&str; 5] =
    ["latency_p99_ms", "availability", "cost", "pod_startup_p99_s", "nodes"];

/// The `parameter_<path>` columns, in order.
pub fn parameters(table: &Table) -> Vec<String> {
    table.header.iter().filter(|h| h.starts_with("parameter_")).cloned().collect()
}

/// Metrics with a `<metric>_mean` column, in file order.
pub fn available_metrics(table: &Table) -> Vec<String> {
    table.header.iter().filter_map(|h| h.strip_suffix("_mean").map(str::to_string)).collect()
}

/// The metrics to plot: `requested` (each must exist), or the defaults that exist, or the
/// first few available.
pub fn chosen_metrics(table: &Table, path: &Path, requested: &[String]) -> Result<Vec<String>, ChartError> {
    let available = available_metrics(table);
    if !requested.is_empty() {
        for m in requested {
            if !available.contains(m) {
                return Err(ChartError::BadInput {
                    path: path.to_path_buf(),
                    msg: format!(
                        "--metric {m}: no column {m}_mean; metrics in this sweep: {}",
                        if available.is_empty() { "none".to_string() } else { available.join(", ") }
                    ),
                });
            }
        }
        return Ok(requested.to_vec());
    }
    let defaults: Vec<String> =
        DEFAULT_METRICS.iter().filter(|m| available.iter().any(|a| a == *m)).map(|m| m.to_string()).collect();
    Ok(if defaults.is_empty() { available.into_iter().take(4).collect() } else { defaults })
}

/// The y-axis label of a metric, with its unit when the name tells it.
pub fn metric_label(m: &str) -> String {
    if m.ends_with("_ms") {
        format!("{m} (ms)")
    } else if m.ends_with("_per_s") {
        format!("{m} (1/s)")
    } else if m.ends_with("_s") {
        format!("{m} (s)")
    } else if m.contains("availability")
        || m.contains("allocation")
        || m.contains("attainment")
        || m.contains("utilisation")
        || m.contains("probability")
    {
        format!("{m} (fraction)")
    } else if m == "cost" || m.starts_with("cost_") {
        format!("{m} (price units)")
    } else {
        m.to_string()
    }
}

/// A parameter's display name: the path without the `parameter_` prefix.
pub fn parameter_name(col: &str) -> &str {
    col.strip_prefix("parameter_").unwrap_or(col)
}

/// A parameter's values as numbers if every one is a finite number (`10`, `0.5`, `1e3`);
/// `None` makes the parameter categorical (`LeastAllocated`, `1h`, `500m`, `true`): its
/// values are drawn at evenly spaced positions in order of first appearance, as points
/// with error bars rather than a line.
pub fn numeric_values(texts: &[String]) -> Option<Vec<f64>> {
    texts.iter().map(|t| t.trim().parse::<f64>().ok().filter(|v| v.is_finite())).collect()
}

/// One chart per metric: against a numeric first parameter, lines through the grid points
/// (marked) with the confidence band; against a categorical one, points with error bars.
pub fn charts(
    table: &Table,
    path: &Path,
    scenario: &str,
    requested: &[String],
) -> Result<Vec<Chart>, ChartError> {
    let params = parameters(table);
    // A sweep of replications only has one point and nothing to draw a curve against; its
    // report still shows the point's means and confidence intervals.
    let Some(first) = params.first() else {
        return Ok(Vec::new());
    };
    let metrics = chosen_metrics(table, path, requested)?;
    let xs_text = table.texts(first).unwrap_or_default();
    let numeric = numeric_values(&xs_text);
    // Categorical x: values in order of first appearance.
    let mut categories: Vec<String> = Vec::new();
    for t in &xs_text {
        if !categories.contains(t) {
            categories.push(t.clone());
        }
    }
    let x_of = |i: usize| -> f64 {
        match &numeric {
            Some(v) => v[i],
            None => categories.iter().position(|c| *c == xs_text[i]).unwrap_or(0) as f64,
        }
    };
    // Line groups: the values of the other parameters, in order of first appearance.
    let others: Vec<Vec<String>> = params[1..].iter().map(|p| table.texts(p).unwrap_or_default()).collect();
    let group_of = |i: usize| -> String {
        params[1..]
            .iter()
            .zip(&others)
            .map(|(p, v)| format!("{}={}", parameter_name(p), v[i]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut groups: Vec<String> = Vec::new();
    for i in 0..table.rows.len() {
        let g = group_of(i);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }

    let mut out = Vec::new();
    for m in metrics {
        let mean = table.numbers(&format!("{m}_mean")).unwrap_or_default();
        let lo = table.numbers(&format!("{m}_ci95_lo"));
        let hi = table.numbers(&format!("{m}_ci95_hi"));
        let mut series = Vec::new();
        for g in &groups {
            let mut rows: Vec<usize> = (0..table.rows.len()).filter(|i| group_of(*i) == *g).collect();
            rows.sort_by(|a, b| x_of(*a).total_cmp(&x_of(*b)));
            let points = rows.iter().map(|&i| (x_of(i), mean.get(i).copied().flatten())).collect();
            let band = match (&lo, &hi) {
                (Some(lo), Some(hi)) => {
                    rows.iter().filter_map(|&i| Some((x_of(i), lo[i]?, hi[i]?))).collect()
                }
                _ => Vec::new(),
            };
            let label = if g.is_empty() { "mean".to_string() } else { g.clone() };
            series.push(Series { label, points, band });
        }
        let chart = Chart {
            name: format!("sweep-{}", file_stem(&m)),
            title: format!("{scenario}: {m} against {}", parameter_name(first)),
            x_label: parameter_name(first).to_string(),
            y_label: format!("{} (mean, 95 % CI)", metric_label(&m)),
            series,
            x_categories: if numeric.is_some() { None } else { Some(categories.clone()) },
            y_from_zero: false,
            y_integer: false,
            marks: if numeric.is_some() { Marks::LinesAndMarkers } else { Marks::Points },
        };
        if chart.has_data() {
            out.push(chart);
        }
    }
    Ok(out)
}

/// For a sweep of replications only (no parameter, so no curve): the distribution of each
/// metric over the runs of `runs.csv`, as an empirical CDF (the fraction of runs at or
/// below each value). Runs without a value are left out.
pub fn distributions(
    runs: &Table,
    path: &Path,
    scenario: &str,
    metrics: &[String],
) -> Result<Vec<Chart>, ChartError> {
    let mut out = Vec::new();
    for m in metrics {
        let Some(values) = runs.numbers(m) else {
            return Err(ChartError::BadInput {
                path: path.to_path_buf(),
                msg: format!("no column {m}; points.csv has {m}_mean, so runs.csv should have it"),
            });
        };
        let mut v: Vec<f64> = values.into_iter().flatten().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let points = v.iter().enumerate().map(|(i, &x)| (x, Some((i + 1) as f64 / n as f64))).collect();
        let chart = Chart {
            name: format!("sweep-dist-{}", file_stem(m)),
            title: format!("{scenario}: distribution over {n} runs"),
            x_label: metric_label(m),
            y_label: "fraction of runs at or below".to_string(),
            series: vec![Series::new("runs", points)],
            x_categories: None,
            y_from_zero: true,
            y_integer: false,
            marks: Marks::LinesAndMarkers,
        };
        if chart.has_data() {
            out.push(chart);
        }
    }
    Ok(out)
}

/// A file-name-safe version of a column name.
fn file_stem(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = dir.path().join("points.csv");
        std::fs::write(&p, text).expect("write");
        Table::read_if_exists(&p).expect("reads").expect("exists")
    }

    const POINTS: &str = "\
parameter_nodePools.0.count,parameter_scheduler.scoringStrategy,replications,cost_mean,cost_sd,cost_ci95_lo,cost_ci95_hi
20,LeastAllocated,3,10,1,9,11
10,LeastAllocated,3,5,1,4,6
10,MostAllocated,3,4,1,3,5
20,MostAllocated,3,8,,,
";

    #[test]
    fn one_line_per_second_parameter_value_sorted_by_x() {
        let t = table(POINTS);
        let charts = charts(&t, Path::new("points.csv"), "s", &[]).expect("charts");
        assert_eq!(charts.len(), 1);
        let c = &charts[0];
        assert_eq!(c.name, "sweep-cost");
        assert_eq!(c.x_label, "nodePools.0.count");
        assert_eq!(c.series.len(), 2);
        assert_eq!(c.series[0].label, "scheduler.scoringStrategy=LeastAllocated");
        assert_eq!(c.series[0].points, vec![(10.0, Some(5.0)), (20.0, Some(10.0))]);
        assert_eq!(c.series[0].band, vec![(10.0, 4.0, 6.0), (20.0, 9.0, 11.0)]);
        assert_eq!(c.series[1].band, vec![(10.0, 3.0, 5.0)], "no CI for one point");
    }

    #[test]
    fn replications_only_give_a_distribution_per_metric() {
        let runs = table("replication,seed,cost\n0,1,3\n1,2,\n2,3,1\n3,4,2\n");
        let m = vec!["cost".to_string()];
        let charts = distributions(&runs, Path::new("runs.csv"), "s", &m).expect("charts");
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].name, "sweep-dist-cost");
        let third = 1.0 / 3.0;
        assert_eq!(
            charts[0].series[0].points,
            vec![(1.0, Some(third)), (2.0, Some(2.0 * third)), (3.0, Some(1.0))]
        );
        let e =
            distributions(&runs, Path::new("runs.csv"), "s", &["nope".to_string()]).expect_err("no column");
        assert!(e.to_string().contains("nope"), "{e}");
    }

    #[test]
    fn an_unknown_metric_is_an_input_error_naming_the_available_ones() {
        let t = table(POINTS);
        let e =
            charts(&t, Path::new("points.csv"), "s", &["latency_p99_ms".to_string()]).expect_err("unknown");
        assert!(e.is_input());
        assert!(e.to_string().contains("metrics in this sweep: cost"), "{e}");
    }

    #[test]
    fn text_parameters_make_a_categorical_axis() {
        let t = table(
            "parameter_scheduler.scoringStrategy,replications,cost_mean\nMostAllocated,1,2\nLeastAllocated,1,3\n",
        );
        let c = &charts(&t, Path::new("points.csv"), "s", &[]).expect("charts")[0];
        assert_eq!(
            c.x_categories.as_deref(),
            Some(&["MostAllocated".to_string(), "LeastAllocated".to_string()][..])
        );
        assert_eq!(c.series[0].label, "mean");
        assert_eq!(c.marks, Marks::Points, "categories are not joined by lines");
        let numeric = &charts(&table(POINTS), Path::new("points.csv"), "s", &[]).expect("charts")[0];
        assert_eq!(numeric.marks, Marks::LinesAndMarkers);
    }
}
