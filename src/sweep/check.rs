//! `--check EXPR`: thresholds on result rows, for CI.
//!
//! Grammar: `[points:] <column> <op> <number> [and <column> <op> <number>]...` with `<op>`
//! one of `<` `<=` `>` `>=` `==` `!=`. Without a prefix a check applies to every run row
//! (`runs.csv`, or the single summary row of `clustersim run`); with `points:` to every
//! grid-point row of `points.csv` (e.g. `points: latency_p99_ms_mean < 250`). A row
//! violates a check when any comparison in it is false; an empty cell (a value that does
//! not exist in that run, such as a percentile of no requests) counts as a violation.

use super::store::Table;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Runs,
    Points,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
    /// Whether `a OP b`.
    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub column: String,
    pub op: Op,
    pub threshold: f64,
    /// The threshold as written (for messages).
    pub threshold_text: String,
}

/// A parsed `--check`.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub text: String,
    pub target: Target,
    pub all: Vec<Comparison>,
}

const GRAMMAR: &str = "expected `[points:] COLUMN OP NUMBER [and COLUMN OP NUMBER]...` with OP one of \
     < <= > >= == !=, e.g. --check 'latency_p99_ms < 250'";

/// Parses one `--check` expression.
pub fn parse(text: &str) -> Result<Check, String> {
    let err = |m: String| format!("--check {text:?}: {m}; {GRAMMAR}");
    let mut body = text.trim();
    let mut target = Target::Runs;
    if let Some(rest) = body.strip_prefix("points:") {
        target = Target::Points;
        body = rest.trim();
    } else if let Some(rest) = body.strip_prefix("runs:") {
        body = rest.trim();
    }
    if body.is_empty() {
        return Err(err("the expression is empty".into()));
    }
    let mut all = Vec::new();
    for part in split_and(body) {
        all.push(parse_comparison(part).map_err(err)?);
    }
    Ok(Check { text: text.trim().to_string(), target, all })
}

/// Splits on the word `and` (surrounded by whitespace).
fn split_and(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = s;
    loop {
        let found = rest.match_indices("and").find(|(i, _)| {
            let before = rest[..*i].chars().next_back();
            let after = rest[i + 3..].chars().next();
            before.is_some_and(char::is_whitespace) && after.is_some_and(char::is_whitespace)
        });
        match found {
            Some((i, _)) => {
                parts.push(rest[..i].trim());
                rest = &rest[i + 3..];
            }
            None => {
                parts.push(rest.trim());
                return parts;
            }
        }
    }
}

fn parse_comparison(s: &str) -> Result<Comparison, String> {
    if s.is_empty() {
        return Err("a comparison around `and` is empty".into());
    }
    let is_col = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let end = s.find(|c: char| !is_col(c)).unwrap_or(s.len());
    let column = &s[..end];
    if column.is_empty() {
        return Err(format!("{s:?} does not start with a column name"));
    }
    let rest = s[end..].trim_start();
    let op = [("<=", Op::Le), (">=", Op::Ge), ("==", Op::Eq), ("!=", Op::Ne), ("<", Op::Lt), (">", Op::Gt)]
        .into_iter()
        .find(|(sym, _)| rest.starts_with(sym));
    let Some((sym, op)) = op else {
        return Err(format!("no comparison operator after {column:?}"));
    };
    let number = rest[sym.len()..].trim();
    let threshold = number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{number:?} after `{column} {sym}` is not a number"))?;
    Ok(Comparison { column: column.to_string(), op, threshold, threshold_text: number.to_string() })
}

impl Check {
    /// Checks that every column exists among `columns` (the header of the rows the check
    /// applies to); otherwise names the closest columns.
    pub fn validate_columns(&self, columns: &[String]) -> Result<(), String> {
        for c in &self.all {
            if !columns.contains(&c.column) {
                let which = match self.target {
                    Target::Runs => "run rows (runs.csv, summary.csv)",
                    Target::Points => "grid-point rows (points.csv)",
                };
                let close = close_names(&c.column, columns);
                let hint = if close.is_empty() {
                    let shown: Vec<&str> = columns.iter().take(12).map(String::as_str).collect();
                    format!("the columns include {}", shown.join(", "))
                } else {
                    format!("did you mean {}?", close.join(", "))
                };
                let points_hint = if self.target == Target::Runs
                    && columns.iter().all(|k| !k.ends_with("_mean"))
                    && c.column.ends_with("_mean")
                {
                    " (grid-point columns need the prefix `points:`)"
                } else {
                    ""
                };
                return Err(format!(
                    "--check {:?}: no column {:?} in the {which}{points_hint}; {hint}",
                    self.text, c.column
                ));
            }
        }
        Ok(())
    }

    /// The rows of `table` that violate this check, with the offending comparisons.
    pub fn violations<'a>(&'a self, table: &Table) -> Vec<(usize, Vec<(&'a Comparison, String)>)> {
        let mut out = Vec::new();
        for (i, row) in table.rows.iter().enumerate() {
            let mut failed = Vec::new();
            for c in &self.all {
                let cell = table.cell(row, &c.column).unwrap_or("");
                let ok = cell.parse::<f64>().is_ok_and(|v| c.op.holds(v, c.threshold));
                if !ok {
                    failed.push((c, if cell.is_empty() { "(empty)".to_string() } else { cell.to_string() }));
                }
            }
            if !failed.is_empty() {
                out.push((i, failed));
            }
        }
        out
    }
}

/// Names that contain `name`, that it contains, or within edit distance 3; at most 6.
pub fn close_names(name: &str, columns: &[String]) -> Vec<String> {
    let mut scored: Vec<(usize, &String)> = columns
        .iter()
        .filter_map(|c| {
            let d = edit_distance(name, c);
            let related = c.contains(name) || name.contains(c.as_str());
            (d <= 3 || related).then_some((if related { 0 } else { d }, c))
        })
        .collect();
    scored.sort_by_key(|(d, c)| (*d, c.len()));
    scored.into_iter().take(6).map(|(_, c)| c.clone()).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Evaluates `checks` of `target` on `table`; prints a table of the violations to stderr
/// and returns the number of checks that failed. `key_columns` are the columns shown to
/// identify a row (parameters, replication, seed).
pub fn report(checks: &[Check], target: Target, table: &Table, key_columns: &[String]) -> usize {
    let mut failed = 0;
    let unit = if target == Target::Runs { "run" } else { "grid point" };
    for check in checks.iter().filter(|c| c.target == target) {
        let v = check.violations(table);
        if v.is_empty() {
            continue;
        }
        failed += 1;
        crate::output::console::err_line(&format!(
            "check failed: {} ({} of {} {unit}{} {})",
            check.text,
            v.len(),
            table.rows.len(),
            if table.rows.len() == 1 { "" } else { "s" },
            if v.len() == 1 { "violates it" } else { "violate it" }
        ));
        let mut header: Vec<String> = key_columns.to_vec();
        header.extend(["column", "value", "threshold"].map(String::from));
        let mut lines = vec![header];
        const SHOWN: usize = 50;
        for (i, fails) in v.iter().take(SHOWN) {
            for (c, value) in fails {
                let mut line: Vec<String> = key_columns
                    .iter()
                    .map(|k| table.cell(&table.rows[*i], k).unwrap_or("").to_string())
                    .collect();
                line.push(c.column.clone());
                line.push(value.clone());
                line.push(format!("{} {}", c.op.symbol(), c.threshold_text));
                lines.push(line);
            }
        }
        crate::output::console::err(&render_table(&lines));
        if v.len() > SHOWN {
            crate::output::console::err_line(&format!("  … and {} more (see the CSV)", v.len() - SHOWN));
        }
    }
    failed
}

/// Left-aligned columns separated by two spaces, each line indented by two.
pub fn render_table(lines: &[Vec<String>]) -> String {
    let width = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..width)
        .map(|k| lines.iter().filter_map(|l| l.get(k)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for l in lines {
        out.push(' ');
        for (k, cell) in l.iter().enumerate() {
            out.push_str(&format!(" {cell:<w$} ", w = widths[k]));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_grammar() {
        let c = parse("latency_p99_ms < 250").unwrap();
        assert_eq!(c.target, Target::Runs);
        assert_eq!(c.all.len(), 1);
        assert_eq!(c.all[0].column, "latency_p99_ms");
        assert_eq!(c.all[0].op, Op::Lt);
        assert_eq!(c.all[0].threshold, 250.0);
        let c = parse("points: availability_mean>=0.999 and cost_mean <= 1e3").unwrap();
        assert_eq!(c.target, Target::Points);
        assert_eq!(c.all[0].op, Op::Ge);
        assert_eq!(c.all[1].column, "cost_mean");
        assert_eq!(c.all[1].threshold, 1000.0);
        assert_eq!(parse("x != 0").unwrap().all[0].op, Op::Ne);
        assert_eq!(parse("x==0").unwrap().all[0].op, Op::Eq);
        // A column whose name contains "and" is not split.
        assert_eq!(parse("svc_band_x > 1").unwrap().all[0].column, "svc_band_x");
    }

    #[test]
    fn rejects_what_does_not_parse() {
        for bad in
            ["", "points:", "latency <", "latency 250", "< 250", "a < b", "a < 1 and", "a < 1 and and b > 2"]
        {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("--check") && e.contains("expected"), "{bad}: {e}");
        }
    }

    #[test]
    fn evaluates_rows_and_treats_empty_as_a_violation() {
        let t = Table {
            header: vec!["a".into(), "b".into()],
            rows: vec![
                vec!["1".into(), "5".into()],
                vec!["3".into(), "".into()],
                vec!["2".into(), "9".into()],
            ],
        };
        let c = parse("a < 3 and b > 4").unwrap();
        let v = c.violations(&t);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].0, 1);
        assert_eq!(v[0].1.len(), 2);
        assert_eq!(v[0].1[1].1, "(empty)");
    }

    #[test]
    fn unknown_columns_name_close_ones() {
        let cols: Vec<String> =
            ["latency_p99_ms", "latency_p50_ms", "availability"].map(String::from).to_vec();
        let e = parse("latency_p99 < 3").unwrap().validate_columns(&cols).unwrap_err();
        assert!(e.contains("latency_p99_ms"), "{e}");
        let e = parse("availabilty > 0.9").unwrap().validate_columns(&cols).unwrap_err();
        assert!(e.contains("did you mean availability"), "{e}");
    }
}
