//! Reading the input files: a folder becomes its `*.yaml`, `*.yml` and `*.json` files sorted
//! by name; a YAML file is split into documents at `---` lines (so that errors name the
//! document index and the line); a JSON file holds one or more JSON values; `kind: List`
//! documents are flattened into their `items`.

use super::ImportError;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One Kubernetes object and where it came from.
#[derive(Clone, Debug)]
pub struct Doc {
    pub file: PathBuf,
    /// 0-based index of the YAML document (or JSON value) in the file.
    pub index: usize,
    /// 1-based line where the document starts.
    pub line: u64,
    /// The index in a `kind: List`'s `items`, if the object came from one.
    pub item: Option<usize>,
    pub value: Value,
}

impl Doc {
    /// `file: document N (line L)[, items[i]]`.
    pub fn place(&self) -> String {
        let item = self.item.map(|i| format!(", items[{i}]")).unwrap_or_default();
        format!("{}: document {} (line {}){item}", self.file.display(), self.index, self.line)
    }

    /// An input error at a field of this object.
    pub fn error(&self, field: &str, message: impl std::fmt::Display) -> ImportError {
        ImportError::Input(format!("{}: {} {}: {field}: {message}", self.place(), self.kind(), self.name()))
    }

    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    pub fn api_version(&self) -> &str {
        self.value.get("apiVersion").and_then(Value::as_str).unwrap_or("")
    }

    /// `namespace/name` (`default` when absent), or `name` for cluster-scoped kinds.
    pub fn name(&self) -> String {
        const CLUSTER_SCOPED: &[&str] = &[
            "Node",
            "PriorityClass",
            "Namespace",
            "PersistentVolume",
            "StorageClass",
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition",
        ];
        let name = self.value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("<unnamed>");
        if CLUSTER_SCOPED.contains(&self.kind()) {
            name.to_string()
        } else {
            format!("{}/{name}", self.namespace())
        }
    }

    /// `metadata.namespace`, `default` when absent.
    pub fn namespace(&self) -> String {
        self.value.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string()
    }

    /// `metadata.name` (empty when absent).
    pub fn short_name(&self) -> String {
        self.value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string()
    }
}

/// Every object of every input, in order (folders' files sorted by name).
pub fn read_inputs(inputs: &[PathBuf]) -> Result<Vec<Doc>, ImportError> {
    let mut docs = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input)
            .map_err(|e| ImportError::Input(format!("{}: cannot read: {e}", input.display())))?;
        if meta.is_dir() {
            let entries = std::fs::read_dir(input).map_err(|e| {
                ImportError::Input(format!("{}: cannot read the folder: {e}", input.display()))
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file() && matches!(extension(p).as_str(), "yaml" | "yml" | "json"))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(ImportError::Input(format!(
                    "{}: the folder holds no *.yaml, *.yml or *.json file",
                    input.display()
                )));
            }
            for f in files {
                read_file(&f, &mut docs)?;
            }
        } else {
            read_file(input, &mut docs)?;
        }
    }
    Ok(docs)
}

fn extension(p: &Path) -> String {
    p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

fn read_file(file: &Path, docs: &mut Vec<Doc>) -> Result<(), ImportError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| ImportError::Input(format!("{}: cannot read: {e}", file.display())))?;
    let values =
        if extension(file) == "json" { json_values(file, &text)? } else { yaml_values(file, &text)? };
    for (index, line, value) in values {
        push_doc(Doc { file: file.to_path_buf(), index, line, item: None, value }, docs)?;
    }
    Ok(())
}

/// Checks that a document is an object with `apiVersion` and `kind`, and flattens Lists.
fn push_doc(doc: Doc, docs: &mut Vec<Doc>) -> Result<(), ImportError> {
    if !doc.value.is_object() {
        return Err(ImportError::Input(format!(
            "{}: expected a Kubernetes object (a mapping with apiVersion and kind)",
            doc.place()
        )));
    }
    for field in ["apiVersion", "kind"] {
        match doc.value.get(field) {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => {
                return Err(ImportError::Input(format!(
                    "{}: {field}: missing; expected every object to have apiVersion and kind",
                    doc.place()
                )));
            }
        }
    }
    if doc.kind() == "List" || (doc.kind().ends_with("List") && doc.value.get("items").is_some()) {
        let mut doc = doc;
        let items = match doc.value.get_mut("items").map(Value::take) {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => Vec::new(),
            Some(_) => return Err(ImportError::Input(format!("{}: items: expected a list", doc.place()))),
        };
        for (i, value) in items.into_iter().enumerate() {
            let item = Doc { file: doc.file.clone(), index: doc.index, line: doc.line, item: Some(i), value };
            push_doc(item, docs)?;
        }
        return Ok(());
    }
    docs.push(doc);
    Ok(())
}

/// Larger parser limits than a scenario's: a `kubectl get -o yaml` dump of 5,000 nodes with
/// their `managedFields` is millions of YAML elements.
fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 500_000_000;
    budget.max_nodes = 200_000_000;
    budget.max_documents = 1_000_000;
    budget.max_total_scalar_bytes = 4 << 30;
    budget.max_reader_input_bytes = None;
    let mut o = serde_saphyr::Options::default();
    o.budget = Some(budget);
    o
}

/// Splits a YAML stream at `---` lines; empty documents are skipped but counted.
fn yaml_values(file: &Path, text: &str) -> Result<Vec<(usize, u64, Value)>, ImportError> {
    let mut chunks: Vec<(u64, String)> = vec![(1, String::new())];
    for (n, line) in text.lines().enumerate() {
        let sep = line.starts_with("---") && line[3..].chars().next().is_none_or(char::is_whitespace);
        if sep {
            // The document starts on the separator line (`--- {a: 1}` is allowed).
            chunks.push((n as u64 + 1, line[3..].to_string() + "\n"));
        } else if let Some((_, c)) = chunks.last_mut() {
            c.push_str(line);
            c.push('\n');
        }
    }
    let mut out = Vec::new();
    let mut index = 0;
    for (start, chunk) in chunks {
        let blank = chunk.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#') || t == "..."
        });
        if blank {
            // A leading `---` leaves an empty first chunk that is no document.
            if start != 1 {
                index += 1;
            }
            continue;
        }
        let value: Value = serde_saphyr::from_str_with_options(&chunk, yaml_options()).map_err(|e| {
            let (l, c) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
            ImportError::Input(format!(
                "{}:{}:{c}: document {index}: cannot parse the YAML: {}",
                file.display(),
                start + l.saturating_sub(1),
                crate::scenario::bare_message(&e)
            ))
        })?;
        if !value.is_null() {
            out.push((index, first_content_line(start, &chunk), value));
        }
        index += 1;
    }
    Ok(out)
}

/// The line of the first non-blank, non-comment line of a chunk that starts at `start`.
fn first_content_line(start: u64, chunk: &str) -> u64 {
    let skip = chunk.lines().take_while(|l| l.trim().is_empty() || l.trim().starts_with('#')).count();
    start + skip as u64
}

/// One or more concatenated JSON values.
fn json_values(file: &Path, text: &str) -> Result<Vec<(usize, u64, Value)>, ImportError> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut offset = 0;
    let mut index = 0;
    loop {
        let start = offset + text[offset..].len() - text[offset..].trim_start().len();
        let line = text[..start].matches('\n').count() as u64 + 1;
        match stream.next() {
            None => break,
            Some(Ok(v)) => {
                out.push((index, line, v));
                index += 1;
                offset = stream.byte_offset();
            }
            Some(Err(e)) => {
                return Err(ImportError::Input(format!(
                    "{}:{}:{}: document {index}: cannot parse the JSON: {e}",
                    file.display(),
                    e.line(),
                    e.column()
                )));
            }
        }
    }
    Ok(out)
}
