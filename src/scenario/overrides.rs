//! `--set PATH=VALUE`: changes one field of a parsed scenario by its path, dotted
//! (`nodePools.0.count=200`, `scheduler.scoringStrategy=MostAllocated`) or with list indexes
//! in brackets as validation errors print them (`nodePools[0].count=200`). The scenario is
//! turned into a JSON tree with every default filled in, the value (read as a YAML scalar
//! or flow collection, so `200`, `500m`, `true` and `[a, b]` all work) replaces the node
//! at the path, and the tree is deserialized again with the same types as the file, so an
//! override gets exactly the file's validation. A path through an optional block the
//! scenario leaves out (`controlPlane.apf.enabled`, `scheduler.gpuSharing.policy`) creates
//! the block, as if the file had it with only that field; the block's own validation then
//! says what else it needs, and a name that is no field is refused with the fields there are.

use super::error::ScenarioError;
use super::schema::Scenario;
use serde_json::Value;

/// Applies every override in order.
pub fn apply(scenario: &Scenario, sets: &[String]) -> Result<Scenario, ScenarioError> {
    let mut tree = serde_json::to_value(scenario).map_err(|e| ScenarioError::Override {
        arg: String::new(),
        message: format!("internal: cannot represent the scenario: {e}"),
    })?;
    for arg in sets {
        let err = |message: String| ScenarioError::Override { arg: arg.clone(), message };
        let Some((path, raw)) = arg.split_once('=') else {
            return Err(err("expected PATH=VALUE, e.g. nodePools.0.count=200".into()));
        };
        let path = path.trim();
        if path.is_empty() {
            return Err(err("the path before '=' is empty; expected e.g. nodePools.0.count".into()));
        }
        let value: Value = if raw.trim().is_empty() {
            Value::String(String::new())
        } else {
            serde_saphyr::from_str(raw)
                .map_err(|e| err(format!("cannot read the value {raw:?}: {}", super::bare_message(&e))))?
        };
        match locate(&mut tree, path, false).map(|_| ()) {
            Ok(()) => *locate(&mut tree, path, false).map_err(err)? = value,
            Err(_) => {
                // Through an absent optional block: create it. A name on the way that is
                // no field at all is refused by the block's validation, which lists the
                // fields there are (the strict walk only knows the fields present).
                let mut created = tree.clone();
                *locate(&mut created, path, true).map_err(err)? = value;
                tree = created;
            }
        }
        // Check this override on its own so the error names it.
        deserialize(&tree).map_err(err)?;
    }
    deserialize(&tree).map_err(|message| ScenarioError::Override { arg: sets.join(" "), message })
}

/// The value of the field at `path` (as `--set` takes it) in `scenario` with every default
/// filled in, as JSON; `Err` says why the path names no field.
pub fn value_at(scenario: &Scenario, path: &str) -> Result<Value, String> {
    let mut tree = serde_json::to_value(scenario)
        .map_err(|e| format!("internal: cannot represent the scenario: {e}"))?;
    locate(&mut tree, path, false).map(|v| v.clone())
}

fn deserialize(tree: &Value) -> Result<Scenario, String> {
    serde_path_to_error::deserialize::<_, Scenario>(tree)
        .map_err(|e| format!("at {}: {}", e.path(), super::plain_words(&e.inner().to_string())))
}

/// One step of an override path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `.name`: a field, or (all digits) an index into a list.
    Name(String),
    /// `[i]`: an index into a list.
    Index(String),
}

/// The dotted form of a path (`nodePools[0].count` → `nodePools.0.count`), so that two
/// spellings of one field compare equal; a malformed path is returned trimmed (using it
/// reports the error).
pub fn canonical_path(path: &str) -> String {
    match segments(path.trim()) {
        Ok(segs) => segs
            .into_iter()
            .map(|s| match s {
                Segment::Name(n) | Segment::Index(n) => n,
            })
            .collect::<Vec<_>>()
            .join("."),
        Err(_) => path.trim().to_string(),
    }
}

/// Splits `nodePools.0.count` or `nodePools[0].count` (or a mix) into segments.
fn segments(path: &str) -> Result<Vec<Segment>, String> {
    let bad = |what: &str| {
        format!(
            "the path {path:?} {what}; expected names separated by dots, with list indexes as .0 or [0], e.g. nodePools[0].count"
        )
    };
    let mut out = Vec::new();
    for piece in path.split('.') {
        let (name, mut rest) = match piece.find('[') {
            Some(i) => (&piece[..i], &piece[i..]),
            None => (piece, ""),
        };
        if name.contains(']') {
            return Err(bad("has a `]` without its `[`"));
        }
        if name.is_empty() {
            return Err(bad("has an empty step"));
        }
        out.push(Segment::Name(name.to_string()));
        while !rest.is_empty() {
            let Some(close) = rest.find(']') else { return Err(bad("has a `[` without its `]`")) };
            let index = &rest[1..close];
            if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(&format!("has [{index}], which is not a list index")));
            }
            out.push(Segment::Index(index.to_string()));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(bad(&format!("has {rest:?} right after a `]`")));
            }
        }
    }
    Ok(out)
}

/// Finds the node at a path (dotted, or with bracketed list indexes); every step must exist,
/// unless `create`: then a field that is absent or `null` (an optional block left out) is
/// created, empty, on the way (list indexes must still exist).
fn locate<'a>(tree: &'a mut Value, path: &str, create: bool) -> Result<&'a mut Value, String> {
    let mut node = tree;
    // The path walked so far, as validation errors print it: `nodePools[0].kubelet`.
    let mut walked = String::new();
    for seg in segments(path)? {
        let here = if walked.is_empty() { "the scenario".to_string() } else { walked.clone() };
        let (seg, bracketed) = match seg {
            Segment::Name(s) => (s, false),
            Segment::Index(s) => (s, true),
        };
        if create && !bracketed && node.is_null() {
            *node = Value::Object(serde_json::Map::new());
        }
        node = match node {
            Value::Object(map) if !bracketed => {
                if create && !map.contains_key(&seg) {
                    map.insert(seg.clone(), Value::Null);
                }
                if !map.contains_key(&seg) {
                    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                    return Err(if keys.is_empty() {
                        format!("{here} has no field {seg:?}; it is empty")
                    } else {
                        format!("{here} has no field {seg:?}; expected one of: {}", keys.join(", "))
                    });
                }
                if !walked.is_empty() {
                    walked.push('.');
                }
                walked.push_str(&seg);
                map.get_mut(&seg).ok_or_else(|| format!("{here} has no field {seg:?}"))?
            }
            Value::Object(_) => return Err(format!("{here} is not a list; it has no index [{seg}]")),
            Value::Array(items) => {
                let len = items.len();
                let idx: usize = seg
                    .parse()
                    .map_err(|_| format!("{here} is a list; expected an index 0..{len}, found {seg:?}"))?;
                walked.push_str(&format!("[{idx}]"));
                items.get_mut(idx).ok_or_else(|| {
                    format!("{here} has {len} entries; index {idx} does not exist (expected 0..{len})")
                })?
            }
            _ => return Err(format!("{here} is a single value; it has no field {seg:?}")),
        };
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_paths() {
        assert_eq!(canonical_path("nodePools[0].count"), "nodePools.0.count");
        assert_eq!(canonical_path(" nodePools.0.count "), "nodePools.0.count");
        assert_eq!(canonical_path("a[1][2].b"), "a.1.2.b");
        assert_eq!(canonical_path("a[x"), "a[x");
    }

    #[test]
    fn paths_take_dots_or_brackets() {
        let name = |s: &str| Segment::Name(s.to_string());
        let index = |s: &str| Segment::Index(s.to_string());
        assert_eq!(segments("nodePools.0.count"), Ok(vec![name("nodePools"), name("0"), name("count")]));
        assert_eq!(segments("nodePools[0].count"), Ok(vec![name("nodePools"), index("0"), name("count")]));
        assert_eq!(segments("a[1][2].b"), Ok(vec![name("a"), index("1"), index("2"), name("b")]));
        for bad in ["a..b", "a.", "[0]", "a[", "a[x]", "a[]", "a]", "a[0]b", "a.[0]"] {
            let e = segments(bad).expect_err(bad);
            assert!(e.contains("expected names separated by dots"), "{bad}: {e}");
        }
    }

    const BARE: &str =
        "name: t\nduration: 1m\nnodePools:\n  - {name: p, count: 2, allocatable: {cpu: 4, memory: 8Gi}}\n";

    fn set(sets: &[&str]) -> Result<Scenario, ScenarioError> {
        let base = super::super::parse_str(BARE, std::path::Path::new("t.yaml")).expect("base parses");
        apply(&base, &sets.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn a_path_through_an_absent_block_creates_it() {
        // `controlPlane` is absent (null) and `apiserver` inside it too: both are created,
        // the rest of each block keeps its defaults, as if the file had written them.
        let s = set(&["controlPlane.apiserver.cores=3"]).expect("creates the blocks");
        let cp = s.control_plane.as_ref().expect("controlPlane created");
        assert_eq!(cp.apiserver.as_ref().expect("apiserver created").cores, 3);
        assert!(cp.apf.is_none(), "only the block on the path is created");
        let written = super::super::parse_str(
            &format!("{BARE}controlPlane:\n  apiserver: {{cores: 3}}\n"),
            std::path::Path::new("t.yaml"),
        )
        .expect("parses");
        assert_eq!(serde_json::to_value(&s).ok(), serde_json::to_value(&written).ok());
        // A second override into the created block adds to it.
        let s = set(&["controlPlane.apiserver.cores=3", "controlPlane.apiserver.replicas=2"]).expect("ok");
        let api = s.control_plane.and_then(|c| c.apiserver).expect("apiserver");
        assert_eq!((api.cores, api.replicas), (3, 2));
    }

    #[test]
    fn an_unknown_name_through_an_absent_block_lists_the_fields() {
        let e = set(&["controlPlane.apizerver.cores=3"]).expect_err("no such field").to_string();
        assert!(e.contains("unknown field `apizerver`") && e.contains("`apiserver`"), "{e}");
        let e = set(&["nodePools.0.colour=red"]).expect_err("no such field").to_string();
        assert!(e.contains("nodePools[0].colour") && e.contains("`count`"), "{e}");
        // A list index must still exist: nothing is appended to a list.
        let e = set(&["nodePools.1.count=3"]).expect_err("no such entry").to_string();
        assert!(e.contains("index 1 does not exist"), "{e}");
    }
}
