//! The objective of `clustersim plan`: a summary column, or an arithmetic expression over
//! summary columns and numbers (`cost`, `cost + 0.01 * requests_failed`,
//! `cost / (requests_succeeded / 1e6)`), evaluated on each run's summary row; the plan
//! minimises its mean over the replications.
//!
//! Grammar: `expr := term (('+' | '-') term)*`, `term := factor (('*' | '/') factor)*`,
//! `factor := NUMBER | COLUMN | '(' expr ')' | '-' factor`; a column name is letters,
//! digits and `_`, starting with a letter or `_`.

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64),
    Column(String),
    Neg(Box<Expr>),
    Bin(Box<Expr>, char, Box<Expr>),
}

const GRAMMAR: &str = "expected a summary column such as `cost`, or an expression of columns and numbers \
     with + - * / and parentheses, e.g. `cost + 0.01 * requests_failed`";

/// Parses `text`; the error says where and what was expected.
pub fn parse(text: &str) -> Result<Expr, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser { chars: &chars, at: 0 };
    let e = p.expr()?;
    p.skip_space();
    if p.at < chars.len() {
        return Err(format!("unexpected {:?} at character {}; {GRAMMAR}", chars[p.at], p.at + 1));
    }
    Ok(e)
}

struct Parser<'a> {
    chars: &'a [char],
    at: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }
    fn peek(&mut self) -> Option<char> {
        self.skip_space();
        self.chars.get(self.at).copied()
    }
    fn expr(&mut self) -> Result<Expr, String> {
        let mut e = self.term()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.at += 1;
            e = Expr::Bin(Box::new(e), op, Box::new(self.term()?));
        }
        Ok(e)
    }
    fn term(&mut self) -> Result<Expr, String> {
        let mut e = self.factor()?;
        while let Some(op @ ('*' | '/')) = self.peek() {
            self.at += 1;
            e = Expr::Bin(Box::new(e), op, Box::new(self.factor()?));
        }
        Ok(e)
    }
    fn factor(&mut self) -> Result<Expr, String> {
        let Some(c) = self.peek() else {
            return Err(format!("the expression ends where a column or number should be; {GRAMMAR}"));
        };
        let start = self.at;
        if c == '(' {
            self.at += 1;
            let e = self.expr()?;
            if self.peek() != Some(')') {
                return Err(format!("a `(` at character {} is not closed; {GRAMMAR}", start + 1));
            }
            self.at += 1;
            return Ok(e);
        }
        if c == '-' {
            self.at += 1;
            return Ok(Expr::Neg(Box::new(self.factor()?)));
        }
        if c.is_ascii_digit() || c == '.' {
            while self.chars.get(self.at).is_some_and(|c| c.is_ascii_digit() || *c == '.') {
                self.at += 1;
            }
            // An exponent: 1e6, 2.5E-3.
            if self.chars.get(self.at).is_some_and(|c| *c == 'e' || *c == 'E') {
                let mark = self.at;
                self.at += 1;
                if self.chars.get(self.at).is_some_and(|c| *c == '+' || *c == '-') {
                    self.at += 1;
                }
                if self.chars.get(self.at).is_some_and(char::is_ascii_digit) {
                    while self.chars.get(self.at).is_some_and(char::is_ascii_digit) {
                        self.at += 1;
                    }
                } else {
                    self.at = mark;
                }
            }
            let s: String = self.chars[start..self.at].iter().collect();
            return s
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Expr::Number)
                .ok_or_else(|| format!("{s:?} is not a number; {GRAMMAR}"));
        }
        if c.is_ascii_alphabetic() || c == '_' {
            while self.chars.get(self.at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                self.at += 1;
            }
            return Ok(Expr::Column(self.chars[start..self.at].iter().collect()));
        }
        Err(format!("unexpected {c:?} at character {}; {GRAMMAR}", start + 1))
    }
}

impl Expr {
    /// The columns the expression reads, in order of first appearance.
    pub fn columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }
    fn collect(&self, out: &mut Vec<String>) {
        match self {
            Expr::Number(_) => {}
            Expr::Column(c) => {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
            Expr::Neg(e) => e.collect(out),
            Expr::Bin(a, _, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }

    /// The value on a row (`cell(column)`); `None` when a column is empty or the result is
    /// not a finite number (a division by zero).
    pub fn eval(&self, cell: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
        let v = match self {
            Expr::Number(x) => *x,
            Expr::Column(c) => cell(c)?,
            Expr::Neg(e) => -e.eval(cell)?,
            Expr::Bin(a, op, b) => {
                let (x, y) = (a.eval(cell)?, b.eval(cell)?);
                match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    _ => x / y,
                }
            }
        };
        v.is_finite().then_some(v)
    }

    /// Whether the expression is the column `name` alone.
    pub fn is_column(&self, name: &str) -> bool {
        matches!(self, Expr::Column(c) if c == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, cols: &[(&str, f64)]) -> Option<f64> {
        let e = parse(text).expect("parses");
        e.eval(&|c| cols.iter().find(|(k, _)| *k == c).map(|(_, v)| *v))
    }

    #[test]
    fn precedence_and_columns() {
        assert_eq!(eval("cost", &[("cost", 3.0)]), Some(3.0));
        assert_eq!(eval("1 + 2 * 3", &[]), Some(7.0));
        assert_eq!(eval("(1 + 2) * 3", &[]), Some(9.0));
        assert_eq!(eval("cost + 0.5 * a - -1", &[("cost", 2.0), ("a", 4.0)]), Some(5.0));
        assert_eq!(eval("1e3 / x", &[("x", 4.0)]), Some(250.0));
        assert_eq!(eval("1 / x", &[("x", 0.0)]), None, "not finite");
        assert_eq!(eval("y", &[]), None, "empty cell");
        assert_eq!(parse("a + b * a").expect("ok").columns(), ["a", "b"]);
        assert!(parse("cost").expect("ok").is_column("cost"));
    }

    #[test]
    fn errors_say_where() {
        for (bad, what) in [
            ("", "ends"),
            ("cost +", "ends"),
            ("(a", "not closed"),
            ("a b", "unexpected 'b'"),
            ("a < 3", "'<'"),
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(e.contains(what) && e.contains("expected"), "{bad}: {e}");
        }
    }
}
