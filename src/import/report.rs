//! What the import did not model, gathered while importing and printed once on stderr:
//! objects by kind, fields by path (kind-qualified, list indexes as `[]`), and notes about
//! choices the importer made (a pool split by zone, an HPA left commented out).

use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Report {
    /// Objects not imported, by kind (`Service`, `ConfigMap`, `Pod (bare)`, …).
    pub kinds: BTreeMap<String, usize>,
    /// Fields not modelled, by path (`Deployment.spec.strategy`), with how often they occurred.
    pub fields: BTreeMap<String, usize>,
    /// Other remarks, each with the objects it concerns.
    pub notes: BTreeMap<String, Vec<String>>,
    /// Objects imported, by kind.
    pub imported: BTreeMap<String, usize>,
}

impl Report {
    pub fn skip_kind(&mut self, kind: &str) {
        *self.kinds.entry(kind.to_string()).or_default() += 1;
    }

    pub fn field(&mut self, path: impl Into<String>) {
        *self.fields.entry(path.into()).or_default() += 1;
    }

    pub fn note(&mut self, note: impl Into<String>, object: impl Into<String>) {
        self.notes.entry(note.into()).or_default().push(object.into());
    }

    pub fn imported(&mut self, kind: &str) {
        *self.imported.entry(kind.to_string()).or_default() += 1;
    }

    /// The summary, several lines, ending with a newline.
    pub fn render(&self) -> String {
        let list = |m: &BTreeMap<String, usize>| {
            m.iter().map(|(k, n)| format!("{k} ×{n}")).collect::<Vec<_>>().join(", ")
        };
        let mut s = String::from("import summary:\n");
        s.push_str(&format!(
            "  imported: {}\n",
            if self.imported.is_empty() { "nothing".to_string() } else { list(&self.imported) }
        ));
        if !self.kinds.is_empty() {
            s.push_str(&format!("  not modelled (objects by kind): {}\n", list(&self.kinds)));
        }
        if !self.fields.is_empty() {
            s.push_str("  not modelled (fields, occurrences):\n");
            for (k, n) in &self.fields {
                s.push_str(&format!("    {k} ×{n}\n"));
            }
        }
        for (note, objects) in &self.notes {
            let shown: Vec<&str> = objects.iter().take(5).map(String::as_str).collect();
            let more =
                if objects.len() > 5 { format!(", … ({} in all)", objects.len()) } else { String::new() };
            s.push_str(&format!("  note: {note}: {}{more}\n", shown.join(", ")));
        }
        s
    }
}
