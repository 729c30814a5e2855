//! The only code that reads scenario files. A scenario is parsed into typed documents
//! ([`schema`]), overridden by `--set PATH=VALUE` ([`overrides`]) and checked as a whole
//! ([`validate`]) before anything runs; after that, the simulation never sees bad input.

pub mod distribution;
pub mod duration;
pub mod error;
pub mod inputs;
pub mod overrides;
pub mod quantity;
pub mod schema;
pub mod trace;
pub mod validate;

pub use error::{FieldError, ScenarioError};
pub use schema::Scenario;

use std::path::Path;

/// Upper bounds that keep a typo from exhausting memory; each is far above the published
/// Kubernetes scale limits (5,000 nodes / 150,000 pods per cluster, and the 65,000- and
/// 130,000-node studies).
pub const MAX_TOTAL_NODES: u64 = 1_000_000;
pub const MAX_TOTAL_REPLICAS: u64 = 50_000_000;

/// Parses YAML text into a scenario; `file` is only used in error messages.
pub fn parse_str(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
    serde_saphyr::from_str::<Scenario>(text).map_err(|e| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        ScenarioError::Parse { file: file.to_path_buf(), line, column, message: bare_message(&e) }
    })
}

/// serde-saphyr renders "error: line L column C: message at line L, column C"; keep only
/// the message, since the caller prints `file:line:column:` itself, and say what an
/// integer field expects instead of naming a Rust type.
pub(crate) fn bare_message(e: &serde_saphyr::Error) -> String {
    let full = e.without_snippet().to_string();
    let mut s = full.strip_prefix("error: ").unwrap_or(&full).trim();
    if s.starts_with("line ")
        && let Some(pos) = s.find(": ")
    {
        s = s[pos + 2..].trim();
    }
    if let Some(pos) = s.rfind(" at line ")
        && s[pos..].contains(", column ")
    {
        s = s[..pos].trim_end();
    }
    match s {
        "invalid u32" => format!("expected a whole number from 0 to {}", u32::MAX),
        "invalid u64" => format!("expected a whole number from 0 to {}", u64::MAX),
        "invalid i32" => format!("expected a whole number from {} to {}", i32::MIN, i32::MAX),
        "invalid i64" => format!("expected a whole number from {} to {}", i64::MIN, i64::MAX),
        other => other.to_string(),
    }
}

/// Reads, parses, overrides and validates a scenario file. `sets` are `PATH=VALUE`
/// strings as given to `--set`.
pub fn load(file: &Path, sets: &[String]) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(file)
        .map_err(|source| ScenarioError::Io { file: file.to_path_buf(), source })?;
    let mut scenario = parse_str(&text, file)?;
    if !sets.is_empty() {
        scenario = overrides::apply(&scenario, sets)?;
    }
    if scenario.name.is_none() {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        scenario.name = Some(if stem.is_empty() { "scenario".to_string() } else { stem });
    }
    validate::validate(&scenario)
        .map_err(|errors| ScenarioError::Invalid { file: file.to_path_buf(), errors })?;
    let base = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    inputs::resolve(&mut scenario, base)?;
    Ok(scenario)
}
