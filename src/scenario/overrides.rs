//! `--set PATH=VALUE`: changes one field of a parsed scenario by its dotted path
//! (`nodePools.0.count=200`, `scheduler.scoringStrategy=MostAllocated`). The scenario is
//! turned into a JSON tree with every default filled in, the value (read as a YAML scalar
//! or flow collection, so `200`, `500m`, `true` and `[a, b]` all work) replaces the node
//! at the path, and the tree is deserialized again with the same types as the file, so an
//! override gets exactly the file's validation.

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
            serde_saphyr::from_str(raw).map_err(|e| err(format!("cannot read the value {raw:?}: {e}")))?
        };
        let slot = locate(&mut tree, path).map_err(err)?;
        *slot = value;
        // Check this override on its own so the error names it.
        deserialize(&tree).map_err(err)?;
    }
    deserialize(&tree).map_err(|message| ScenarioError::Override { arg: sets.join(" "), message })
}

fn deserialize(tree: &Value) -> Result<Scenario, String> {
    serde_path_to_error::deserialize::<_, Scenario>(tree)
        .map_err(|e| format!("at {}: {}", e.path(), e.inner()))
}

/// Finds the node at a dotted path; every segment must exist.
fn locate<'a>(tree: &'a mut Value, path: &str) -> Result<&'a mut Value, String> {
    let mut node = tree;
    let mut walked = String::new();
    for seg in path.split('.') {
        let here = if walked.is_empty() { "the scenario".to_string() } else { walked.clone() };
        node = match node {
            Value::Object(map) => {
                if !map.contains_key(seg) {
                    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                    return Err(format!("{here} has no field {seg:?}; expected one of: {}", keys.join(", ")));
                }
                map.get_mut(seg).ok_or_else(|| format!("{here} has no field {seg:?}"))?
            }
            Value::Array(items) => {
                let len = items.len();
                let idx: usize = seg
                    .parse()
                    .map_err(|_| format!("{here} is a list; expected an index 0..{len}, found {seg:?}"))?;
                items.get_mut(idx).ok_or_else(|| {
                    format!("{here} has {len} entries; index {idx} does not exist (expected 0..{len})")
                })?
            }
            _ => return Err(format!("{here} is a single value; it has no field {seg:?}")),
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(seg);
    }
    Ok(node)
}
