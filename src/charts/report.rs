//! `index.html`: one self-contained page (no scripts, no external resources) with the
//! summary table (or the sweep's points) and every chart.

use super::csvdata::Table;
use super::render::{HEIGHT, WIDTH};
use super::sweep;
use std::fmt::Write;

/// What the page shows.
pub struct Report<'a> {
    pub scenario: &'a str,
    pub summary: Option<&'a Table>,
    /// The sweep's points and the metrics to show of them.
    pub points: Option<(&'a Table, &'a [String])>,
    /// Chart file stems and titles, in display order.
    pub charts: &'a [(String, String)],
    /// Data files in the folder, linked at the bottom.
    pub files: &'a [String],
    /// With `scheduling-attempts.csv`: the pods that waited longest and why.
    pub waits: &'a [super::waits::Wait],
    /// A plan's section (`plan::section`): the recommendation and its configurations.
    pub plan: Option<&'a str>,
}

const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;max-width:1060px;\
padding:0 16px;color:#222;background:#fff}\
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:28px 0 10px;border-bottom:1px solid #ddd;\
padding-bottom:4px}p.sub{color:#666;margin:0 0 16px}\
.tables{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}\
table{border-collapse:collapse;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #eee;\
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f6f8}\
.scroll{overflow-x:auto}figure{margin:0 0 24px}figure img{max-width:100%;height:auto;\
border:1px solid #e4e4e4}figcaption{font-size:13px;color:#555}a{color:#1f5fa8}\
nav a{margin-right:12px;font-size:14px}";

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.parse::<f64>().is_ok()
}

fn cell(s: &str) -> String {
    if is_number(s) { format!("<td class=\"n\">{}</td>", esc(s)) } else { format!("<td>{}</td>", esc(s)) }
}

/// The page's HTML.
pub fn html(r: &Report) -> String {
    let mut h = String::new();
    let title = esc(r.scenario);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}: clustersim results</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n<p class=\"sub\">clustersim {} results</p>\n",
        crate::VERSION
    );
    if !r.charts.is_empty() {
        h.push_str("<nav>");
        for (name, _) in r.charts {
            let _ = write!(h, "<a href=\"#{0}\">{0}</a>", esc(name));
        }
        h.push_str("</nav>\n");
    }
    if let Some(t) = r.summary {
        summary_tables(&mut h, t);
    }
    if let Some((t, metrics)) = r.points {
        points_table(&mut h, t, metrics);
    }
    if !r.waits.is_empty() {
        waits_table(&mut h, r.waits);
    }
    if let Some(p) = r.plan {
        h.push_str(p);
    }
    if !r.charts.is_empty() {
        h.push_str("<h2>Charts</h2>\n");
        for (name, caption) in r.charts {
            let n = esc(name);
            let _ = writeln!(
                h,
                "<figure id=\"{n}\"><img src=\"charts/{n}.png\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
                 alt=\"{c}\"><figcaption>{c} (<a href=\"charts/{n}.svg\">SVG</a>)</figcaption></figure>",
                c = esc(caption)
            );
        }
    }
    if !r.files.is_empty() {
        h.push_str("<h2>Files</h2>\n<p>");
        let links: Vec<String> = r.files.iter().map(|f| format!("<a href=\"{0}\">{0}</a>", esc(f))).collect();
        h.push_str(&links.join(" · "));
        h.push_str("</p>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// The pods that waited longest for the scheduler, with their last reason.
fn waits_table(h: &mut String, waits: &[super::waits::Wait]) {
    h.push_str(
        "<h2>Pods that waited longest</h2>\n<div class=\"scroll\"><table>\n<tr><th>pod</th><th>template</th>\
         <th>waited (s)</th><th>attempts</th><th>placed at (s)</th><th>last reason it did not fit</th></tr>\n",
    );
    for w in waits {
        let placed = w.scheduled_s.map_or("still waiting".to_string(), |t| format!("{t:.3}"));
        let _ = writeln!(
            h,
            "<tr>{}{}{}{}{}{}</tr>",
            cell(&w.pod.to_string()),
            cell(&w.template),
            cell(&format!("{:.3}", w.waited_s)),
            cell(&w.attempts.to_string()),
            cell(&placed),
            cell(&w.last_reason)
        );
    }
    h.push_str("</table></div>\n");
}

/// `summary.csv` as name/value tables side by side (it has one row and many columns).
fn summary_tables(h: &mut String, t: &Table) {
    h.push_str("<h2>Summary</h2>\n<div class=\"tables\">\n");
    let row = t.rows.first().cloned().unwrap_or_default();
    let pairs: Vec<(&String, &str)> =
        t.header.iter().enumerate().map(|(i, k)| (k, row.get(i).map_or("", String::as_str))).collect();
    let per_table = pairs.len().div_ceil(3).max(12);
    for chunk in pairs.chunks(per_table) {
        h.push_str("<table><tr><th>column</th><th>value</th></tr>\n");
        for (k, v) in chunk {
            let _ = writeln!(h, "<tr><td>{}</td>{}</tr>", esc(k), cell(v));
        }
        h.push_str("</table>\n");
    }
    h.push_str("</div>\n");
}

/// `points.csv`: the parameters, replications and, per metric, mean [95 % CI].
fn points_table(h: &mut String, t: &Table, metrics: &[String]) {
    h.push_str("<h2>Sweep points</h2>\n<div class=\"scroll\"><table>\n<tr>");
    let params = sweep::parameters(t);
    for p in &params {
        let _ = write!(h, "<th>{}</th>", esc(sweep::parameter_name(p)));
    }
    if t.col("replications").is_some() {
        h.push_str("<th>replications</th>");
    }
    for m in metrics {
        let _ = write!(h, "<th>{} mean [95 % CI]</th>", esc(m));
    }
    h.push_str("</tr>\n");
    let get = |row: &[String], col: &str| t.col(col).and_then(|i| row.get(i)).cloned().unwrap_or_default();
    for row in &t.rows {
        h.push_str("<tr>");
        for p in &params {
            h.push_str(&cell(&get(row, p)));
        }
        if t.col("replications").is_some() {
            h.push_str(&cell(&get(row, "replications")));
        }
        for m in metrics {
            let mean = get(row, &format!("{m}_mean"));
            let (lo, hi) = (get(row, &format!("{m}_ci95_lo")), get(row, &format!("{m}_ci95_hi")));
            let text = if lo.is_empty() || hi.is_empty() { mean } else { format!("{mean} [{lo}, {hi}]") };
            let _ = write!(h, "<td class=\"n\">{}</td>", esc(&text));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_links_every_chart() {
        let t =
            Table { header: vec!["seed".into(), "name".into()], rows: vec![vec!["42".into(), "<b>".into()]] };
        let charts = vec![("pods".to_string(), "a & b: pods".to_string())];
        let files = vec!["summary.csv".to_string()];
        let page = html(&Report {
            scenario: "x<y",
            summary: Some(&t),
            points: None,
            charts: &charts,
            files: &files,
            waits: &[],
            plan: None,
        });
        assert!(page.contains("<h1>x&lt;y</h1>"));
        assert!(
            page.contains(
                "<img src=\"charts/pods.png\" width=\"1000\" height=\"600\" alt=\"a &amp; b: pods\">"
            )
        );
        assert!(page.contains("<td class=\"n\">42</td>"));
        assert!(page.contains("<td>&lt;b&gt;</td>"));
        assert!(!page.contains("http"), "no external resources");
    }
}
