//! Charts and the report section of a `clustersim plan` folder, from `plan.csv` and
//! `plan.json`: the objective against the binding requirement's metric (every evaluated
//! configuration, passing and failing apart, with the metric's confidence bounds as error
//! bars), and the frontier of passing configurations (the objective against the bisected
//! variable, one line per combination of the other variables).

use super::csvdata::Table;
use super::render::{Chart, Marks, Series};
use super::report::esc;
use super::sweep::metric_label;
use serde_json::Value;
use std::fmt::Write;

/// The requirement that binds the recommendation (else the first): its column, the variant
/// it binds under and its text.
fn binding(json: &Value) -> Option<(String, Option<String>, String)> {
    let text = json
        .pointer("/recommendation/binding/requirement")
        .or_else(|| json.pointer("/plan/requirements/0"))?
        .as_str()?
        .to_string();
    let cmp = crate::sweep::check::parse(&text).ok()?.all.into_iter().next()?;
    let variant = json.pointer("/recommendation/binding/variant").and_then(Value::as_str).map(String::from);
    Some((cmp.column, variant, text))
}

/// The rows of each configuration, in file order, and the configurations in order.
fn configs(t: &Table) -> Vec<(String, Vec<usize>)> {
    let Some(c) = t.col("config") else { return Vec::new() };
    let mut out: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, r) in t.rows.iter().enumerate() {
        let g = r.get(c).cloned().unwrap_or_default();
        match out.iter_mut().find(|(k, _)| *k == g) {
            Some((_, rows)) => rows.push(i),
            None => out.push((g, vec![i])),
        }
    }
    out
}

fn num(t: &Table, row: usize, col: &str) -> Option<f64> {
    let i = t.col(col)?;
    t.rows.get(row)?.get(i)?.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn text<'a>(t: &'a Table, row: usize, col: &str) -> &'a str {
    t.col(col).and_then(|i| t.rows.get(row)?.get(i)).map_or("", String::as_str)
}

/// The plan's charts.
pub fn charts(t: &Table, json: &Value, scenario: &str) -> Vec<Chart> {
    let mut out = Vec::new();
    let objective =
        json.pointer("/plan/objective").and_then(Value::as_str).unwrap_or("objective").to_string();
    let groups = configs(t);
    if let Some((m, variant, req)) = binding(json) {
        let mut pass = Series::new(format!("passes every requirement ({req}, …)"), Vec::new());
        let mut fail = Series::new("misses one", Vec::new());
        for (_, rows) in &groups {
            // The metric under the binding variant where it ran, else the first variant.
            let row = rows
                .iter()
                .copied()
                .find(|&r| variant.as_deref().is_some_and(|v| text(t, r, "variant") == v))
                .unwrap_or(rows[0]);
            let (Some(x), Some(y)) = (num(t, row, "config_objective"), num(t, row, &format!("{m}_mean")))
            else {
                continue;
            };
            let s = if text(t, row, "config_verdict") == "pass" { &mut pass } else { &mut fail };
            s.points.push((x, Some(y)));
            if let (Some(lo), Some(hi)) =
                (num(t, row, &format!("{m}_lower")), num(t, row, &format!("{m}_upper")))
            {
                s.band.push((x, lo, hi));
            }
        }
        let under = variant.map(|v| format!(" under {v}")).unwrap_or_default();
        let chart = Chart {
            name: "plan-objective".into(),
            title: format!("{scenario}: {objective} against {m}{under}"),
            x_label: metric_label(&objective),
            y_label: format!("{}, mean and bounds", metric_label(&m)),
            series: vec![pass, fail],
            x_categories: None,
            y_from_zero: false,
            y_integer: false,
            marks: Marks::Points,
        };
        if chart.has_data() {
            out.push(chart);
        }
    }
    // The frontier: the bisected (last monotone) variable, else the first numeric one.
    let vars: Vec<String> = t.header.iter().filter(|h| h.starts_with("var_")).cloned().collect();
    let monotone = json
        .pointer("/plan/monotone")
        .and_then(Value::as_array)
        .and_then(|a| a.last())
        .and_then(|m| m.get("variable"))
        .and_then(Value::as_str)
        .map(|n| format!("var_{n}"));
    let numeric = |c: &String| {
        t.rows.iter().all(|r| t.col(c).and_then(|i| r.get(i)).is_some_and(|v| v.parse::<f64>().is_ok()))
    };
    let x = monotone.filter(|m| vars.contains(m)).or_else(|| vars.iter().find(|c| numeric(c)).cloned());
    if let Some(x) = x {
        let others: Vec<&String> = vars.iter().filter(|v| **v != x).collect();
        let mut series: Vec<Series> = Vec::new();
        for (_, rows) in &groups {
            let r = rows[0];
            if text(t, r, "config_verdict") != "pass" {
                continue;
            }
            let label = if others.is_empty() {
                "passing configurations".to_string()
            } else {
                others.iter().map(|o| format!("{}={}", &o[4..], text(t, r, o))).collect::<Vec<_>>().join(", ")
            };
            let (Some(xv), Some(y)) = (num(t, r, &x), num(t, r, "config_objective")) else { continue };
            match series.iter_mut().find(|s| s.label == label) {
                Some(s) => s.points.push((xv, Some(y))),
                None => series.push(Series::new(label, vec![(xv, Some(y))])),
            }
        }
        for s in &mut series {
            s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        let chart = Chart {
            name: "plan-frontier".into(),
            title: format!("{scenario}: passing configurations, {objective} against {}", &x[4..]),
            x_label: x[4..].to_string(),
            y_label: metric_label(&objective),
            series,
            x_categories: None,
            y_from_zero: false,
            y_integer: false,
            marks: Marks::LinesAndMarkers,
        };
        if chart.has_data() {
            out.push(chart);
        }
    }
    out
}

/// A JSON value as the page shows it: strings bare, numbers with at most 6 decimals.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => {
            let f = format!("{:.6}", n.as_f64().unwrap_or(f64::NAN));
            f.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        other => other.to_string(),
    }
}

/// The report's plan section: the recommendation, what binds it, the rule, the search's
/// effort, and the evaluated configurations.
pub fn section(t: &Table, json: &Value) -> String {
    let mut h = String::new();
    let s = |p: &str| json.pointer(p).map(text_of).unwrap_or_default();
    h.push_str("<h2>Recommendation</h2>\n");
    match json.get("recommendation").filter(|r| !r.is_null()) {
        Some(r) => {
            let values: Vec<String> = r
                .get("values")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| format!("{k} = {}", v.as_str().unwrap_or(""))).collect())
                .unwrap_or_default();
            let _ = writeln!(
                h,
                "<p><b>{}</b>; {} {}</p>",
                esc(&values.join(", ")),
                esc(&s("/plan/objective")),
                esc(&s("/recommendation/objective"))
            );
            if r.pointer("/binding/requirement").is_some() {
                let _ = writeln!(
                    h,
                    "<p>Binding: {} under {} (statistic {}, slack {})</p>",
                    esc(&s("/recommendation/binding/requirement")),
                    esc(&s("/recommendation/binding/variant")),
                    esc(&s("/recommendation/binding/statistic")),
                    esc(&s("/recommendation/binding/slack"))
                );
            }
        }
        None => h.push_str("<p><b>No configuration meets every requirement under every variant.</b></p>\n"),
    }
    let _ = writeln!(h, "<p>Rule: {}</p>", esc(&s("/plan/decision_rule")));
    let _ = writeln!(
        h,
        "<p>Search: {} of {} configurations evaluated, {} runs against {} for the full grid.</p>",
        esc(&s("/search/configurations_evaluated")),
        esc(&s("/search/grid_points")),
        esc(&s("/search/runs_used")),
        esc(&s("/search/full_grid_runs"))
    );
    h.push_str("<h2>Evaluated configurations</h2>\n<div class=\"scroll\"><table>\n<tr>");
    let shown: Vec<usize> = t
        .header
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.starts_with("var_")
                || c.starts_with("req")
                || [
                    "order",
                    "variant",
                    "replications",
                    "variant_verdict",
                    "config_objective",
                    "config_verdict",
                    "recommended",
                ]
                .contains(&c.as_str())
                || c.ends_with("_upper")
                || c.ends_with("_lower")
        })
        .map(|(i, _)| i)
        .collect();
    for &i in &shown {
        let _ = write!(h, "<th>{}</th>", esc(t.header[i].strip_prefix("var_").unwrap_or(&t.header[i])));
    }
    h.push_str("</tr>\n");
    for r in &t.rows {
        h.push_str("<tr>");
        for &i in &shown {
            let _ = write!(h, "<td>{}</td>", esc(r.get(i).map_or("", String::as_str)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_from_a_plan() {
        let t = Table {
            header: [
                "order",
                "config",
                "var_n",
                "variant",
                "x_mean",
                "x_lower",
                "x_upper",
                "config_objective",
                "config_verdict",
            ]
            .map(String::from)
            .to_vec(),
            rows: vec![
                ["1", "0", "1", "v", "9", "8", "10", "1", "fail"].map(String::from).to_vec(),
                ["2", "2", "3", "v", "3", "2", "4", "3", "pass"].map(String::from).to_vec(),
                ["3", "1", "2", "v", "5", "4", "6", "2", "pass"].map(String::from).to_vec(),
            ],
        };
        let json = serde_json::json!({
            "plan": {"objective": "cost", "requirements": ["x < 7"], "monotone": [{"variable": "n"}]},
            "recommendation": {"binding": {"requirement": "x < 7", "variant": "v"}},
        });
        let c = charts(&t, &json, "s");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].series[0].points, vec![(3.0, Some(3.0)), (2.0, Some(5.0))]);
        assert_eq!(c[0].series[1].band, vec![(1.0, 8.0, 10.0)]);
        assert_eq!(c[1].series[0].points, vec![(2.0, Some(2.0)), (3.0, Some(3.0))], "sorted by n");
        let html = section(&t, &json);
        assert!(html.contains("<th>n</th>"), "{html}");
    }
}
