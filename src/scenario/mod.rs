//! The only code that reads scenario files. A scenario is parsed into typed documents
//! ([`schema`]), overridden by `--set PATH=VALUE` ([`overrides`]) and checked as a whole
//! ([`validate`]) before anything runs; after that, the simulation never sees bad input.

pub mod budget;
pub mod columns;
pub mod distribution;
pub mod duration;
pub mod error;
pub mod inputs;
pub mod nodelist;
pub mod overrides;
pub mod podtrace;
pub mod quantity;
pub mod schema;
pub mod topology;
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

/// What a field that takes a plain name or a kind with settings expects.
const NAME_OR_KIND: &str =
    "a name, or a mapping with one key naming a kind and its settings, e.g. {exponential: {mean: 1s}}";
const MULTIPLE_DOCUMENTS: &str = "the file holds more than one YAML document (a `---` line starts another); expected one scenario per file";
const UNKNOWN_ANCHOR: &str =
    "the alias (`*name`) refers to no anchor (`&name`); expected an anchor defined earlier in the file";
const ALIASES_TOO_LARGE: &str = "aliases (`*name`) expand to too much YAML; expected a smaller scenario \
                                 (write repeated parts out, or repeat them fewer times)";

/// A YAML error in the user's words, without its location (the caller prints
/// `file:line:column:` itself): what was found and what was expected, in terms of the
/// file (lists, mappings, numbers, keys), never the parser's options or Rust types.
pub(crate) fn bare_message(e: &serde_saphyr::Error) -> String {
    use serde_saphyr::Error as E;
    match e.without_snippet() {
        E::AliasError { error, .. } => bare_message(error),
        E::DuplicateMappingKey { key: Some(k), .. } => {
            format!("the key `{k}` appears twice in this mapping; expected each key once")
        }
        E::DuplicateMappingKey { key: None, .. } => {
            "a key appears twice in this mapping; expected each key once".to_string()
        }
        E::MultipleDocuments { .. } => MULTIPLE_DOCUMENTS.to_string(),
        E::NonFiniteFloat { value, .. } => {
            format!("`{value}` is not a finite number; expected a finite number")
        }
        E::InvalidScalar { ty, .. } => format!("expected {}", expected_phrase(ty)),
        E::InvalidBooleanStrict { .. } => "expected true or false".to_string(),
        E::NullIntoString { .. } | E::InvalidCharNull { .. } => {
            "found no value (null); expected text".to_string()
        }
        E::Unexpected { expected, .. } => unexpected_node(expected),
        E::ExternallyTaggedEnumExpectedScalarOrMapping { .. } => format!("expected {NAME_OR_KIND}"),
        E::ExpectedMappingEndAfterEnumVariantValue { .. } => {
            "expected one key in this mapping, naming the kind (e.g. `exponential:`); found more than one"
                .to_string()
        }
        E::ExpectedStringKeyForExternallyTaggedEnum { .. } => {
            "expected a name as this mapping's key".to_string()
        }
        E::UnexpectedValueForUnitEnumVariant { .. } => {
            "this name takes no settings; expected the name alone, e.g. MostAllocated".to_string()
        }
        E::UnknownAnchor { .. } => UNKNOWN_ANCHOR.to_string(),
        E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::RecursiveReferencesRequireWeakTypes { .. } => ALIASES_TOO_LARGE.to_string(),
        E::Budget { breach, .. } => budget_message(breach),
        E::SerdeInvalidType { unexpected, expected, .. }
        | E::SerdeInvalidValue { unexpected, expected, .. } => {
            format!("found {}; expected {}", found_phrase(unexpected), expected_phrase(expected))
        }
        E::SerdeInvalidLength { len, expected, .. } => {
            format!(
                "found {len} {}; expected {}",
                if *len == 1 { "entry" } else { "entries" },
                expected_phrase(expected)
            )
        }
        E::SerdeUnknownVariant { variant, expected, .. } => {
            format!("unknown value `{variant}`; expected one of {}", expected.join(", "))
        }
        E::InvalidUtf8Input => "the file is not UTF-8 text; expected a YAML file in UTF-8".to_string(),
        E::Message { msg, .. } => plain_words(msg),
        _ => {
            // The message alone: serde-saphyr renders "error: line L column C: message at
            // line L, column C".
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
            plain_words(s)
        }
    }
}

/// A parser limit that the file exceeds, in the file's terms.
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let what = match breach {
        B::AliasAnchorRatio { aliases, anchors } => {
            return format!(
                "the file uses aliases (`*name`) {aliases} times for {anchors} anchor(s) (`&name`); expected \
                 fewer aliases per anchor (write repeated parts out)"
            );
        }
        B::Depth { depth } => format!("lists and mappings nested {depth} deep"),
        B::Nodes { nodes } => format!("{nodes} values"),
        B::Events { events } => format!("{events} YAML elements"),
        B::Aliases { aliases } => format!("{aliases} aliases (`*name`)"),
        B::Anchors { anchors } => format!("{anchors} anchors (`&name`)"),
        B::Documents { documents } => format!("{documents} YAML documents"),
        B::ScalarBytes { total_scalar_bytes } => format!("{total_scalar_bytes} bytes of values"),
        B::MergeKeys { merge_keys } => format!("{merge_keys} merge keys (`<<`)"),
        B::InputBytes { input_bytes } => format!("{input_bytes} bytes"),
        B::SequenceUnbalanced => return "a list or mapping ends that was never started".to_string(),
        _ => "more than the parser's limits allow".to_string(),
    };
    format!(
        "the file is too large or too deeply nested for a scenario ({what}); expected a smaller file (request \
         traces and CSV data belong in the files a scenario refers to)"
    )
}

/// What the parser found, from serde's description (`integer \`3\``, `string "abc"`,
/// `sequence`), in the file's terms.
fn found_phrase(unexpected: &str) -> String {
    let quoted = |prefix: &str| unexpected.strip_prefix(prefix).map(|v| v.trim_matches('`').to_string());
    if let Some(v) = quoted("integer ").or_else(|| quoted("floating point ")) {
        return format!("the number {v}");
    }
    if let Some(v) = quoted("boolean ") {
        return format!("`{v}`");
    }
    if let Some(v) = unexpected.strip_prefix("string ") {
        return format!("the text {v}");
    }
    if let Some(v) = quoted("char ") {
        return format!("the text \"{v}\"");
    }
    match unexpected {
        "sequence" => "a list".to_string(),
        "map" => "a mapping".to_string(),
        "unit value" | "null" | "unit" => "no value (null)".to_string(),
        "Option value" | "newtype struct" | "unit variant" | "newtype variant" | "tuple variant"
        | "struct variant" | "enum" => "a value of another kind".to_string(),
        other => other.to_string(),
    }
}

/// What a field expects, from serde's description (`u32`, `struct X`, `a sequence`), in the
/// file's terms; a description the schema wrote itself is kept.
fn expected_phrase(expected: &str) -> String {
    fn whole(lo: impl std::fmt::Display, hi: impl std::fmt::Display) -> String {
        format!("a whole number from {lo} to {hi}")
    }
    match expected {
        "u8" => whole(0, u8::MAX),
        "u16" => whole(0, u16::MAX),
        "u32" => whole(0, u32::MAX),
        "u64" => whole(0, u64::MAX),
        "u128" => whole(0, u128::MAX),
        "usize" => whole(0, usize::MAX),
        "i8" => whole(i8::MIN, i8::MAX),
        "i16" => whole(i16::MIN, i16::MAX),
        "i32" => whole(i32::MIN, i32::MAX),
        "i64" => whole(i64::MIN, i64::MAX),
        "i128" => whole(i128::MIN, i128::MAX),
        "isize" => whole(isize::MIN, isize::MAX),
        "f32" | "f64" | "floating point" | "a float" => "a number".to_string(),
        "bool" | "boolean" | "a boolean" => "true or false".to_string(),
        "a string" | "string" | "a borrowed string" | "string scalar" => "text".to_string(),
        "char" | "a character" => "a single character".to_string(),
        "a sequence" | "sequence" | "seq" => "a list".to_string(),
        "a map" | "map" => "a mapping of `key: value` pairs".to_string(),
        "string or map" => NAME_OR_KIND.to_string(),
        "option" | "an option" => "a value, or nothing".to_string(),
        "unit" => "no value".to_string(),
        other => {
            if other.starts_with("struct ") {
                "a mapping of fields (`key: value`)".to_string()
            } else if other.starts_with("tuple struct ") || other.starts_with("a tuple of size ") {
                "a list".to_string()
            } else if other.starts_with("unit struct ") {
                "an empty mapping".to_string()
            } else if other.starts_with("enum ") || other.starts_with("variant identifier") {
                "one of the names this field allows".to_string()
            } else if other.starts_with("field identifier") {
                "a field name".to_string()
            } else {
                other.to_string()
            }
        }
    }
}

/// What the parser expected next, from serde-saphyr's event names.
fn unexpected_node(expected: &str) -> String {
    match expected {
        "sequence start" | "seq" => "expected a list ([a, b], or lines starting with `- `)".to_string(),
        "mapping start" | "empty mapping start" | "map" => {
            "expected a mapping (`key: value` lines, or {key: value})".to_string()
        }
        "string scalar" | "string" | "scalar" => {
            "expected a single value (text or a number), not a list or a mapping".to_string()
        }
        "an integer" => "expected a whole number".to_string(),
        "mapping end" | "empty mapping end" => "expected the end of this mapping".to_string(),
        "null" => "expected no value".to_string(),
        "single YAML node" => "expected one value".to_string(),
        other => format!("expected {}", expected_phrase(other)),
    }
}

/// A serde error message (from the YAML parser or from a `--set` value) in the user's words:
/// the standard forms (`invalid type: X, expected Y`, `unknown variant`, `duplicate field`)
/// are rewritten with [`found_phrase`] and [`expected_phrase`]; other messages (the
/// schema's own) are kept.
pub(crate) fn plain_words(msg: &str) -> String {
    let msg = msg.trim();
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix)
            && let Some((found, expected)) = rest.split_once(", expected ")
        {
            return format!("found {}; expected {}", found_phrase(found), expected_phrase(expected));
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid length ")
        && let Some((len, expected)) = rest.split_once(", expected ")
    {
        let entries = if len.trim() == "1" { "entry" } else { "entries" };
        return format!("found {len} {entries}; expected {}", expected_phrase(expected));
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ")
        && let Some((value, expected)) = rest.split_once(", expected ")
    {
        return format!("unknown value {value}; expected {}", expected.replace('`', ""));
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ")
        && let Some((value, _)) = rest.split_once(", there are no variants")
    {
        return format!("unknown value {value}");
    }
    if let Some(field) = msg.strip_prefix("duplicate field ") {
        return format!("the key {field} appears twice in this mapping; expected each key once");
    }
    if msg.starts_with("recursion limit exceeded") {
        return "lists and mappings are nested too deeply; expected a scenario nested at most a few dozen levels"
            .to_string();
    }
    msg.to_string()
}

/// A scenario name made from a file name: the characters [`validate`] allows in a name
/// (ASCII letters, digits, `.`, `_`, `-`), others replaced by `-`, no leading `.`, at most
/// [`validate::MAX_NAME_LEN`] characters; `scenario` if nothing is left.
pub fn name_from_file_stem(stem: &str) -> String {
    let mut name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .collect();
    name = name.trim_start_matches('.').to_string();
    name.truncate(validate::MAX_NAME_LEN);
    if name.is_empty() || name.chars().all(|c| c == '-') { "scenario".to_string() } else { name }
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
    let written: Vec<FieldError> = scenario
        .node_pools
        .iter()
        .enumerate()
        .filter(|(_, p)| p.from_node_list.is_some())
        .map(|(i, _)| FieldError {
            path: format!("nodePools[{i}].fromNodeList"),
            message: "this field is set by clustersim on the pools it makes from `nodeLists`; \
                      expected a pool without it (or a `nodeLists` entry)"
                .into(),
        })
        .collect();
    if !written.is_empty() {
        return Err(ScenarioError::Invalid { file: file.to_path_buf(), errors: written });
    }
    if scenario.name.is_none() {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        scenario.name = Some(name_from_file_stem(&stem));
    }
    let base = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    inputs::resolve_node_lists(&mut scenario, base, file)?;
    validate::validate(&scenario)
        .map_err(|errors| ScenarioError::Invalid { file: file.to_path_buf(), errors })?;
    inputs::resolve(&mut scenario, base)?;
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_are_put_in_the_files_terms() {
        for (serde, plain) in [
            (
                "invalid value: integer `-3`, expected u32",
                "found the number -3; expected a whole number from 0 to 4294967295",
            ),
            (
                "invalid type: string \"abc\", expected u64",
                "found the text \"abc\"; expected a whole number from 0 to 18446744073709551615",
            ),
            (
                "invalid type: floating point `1.5`, expected usize",
                &format!("found the number 1.5; expected a whole number from 0 to {}", usize::MAX),
            ),
            ("invalid type: string \"x\", expected f64", "found the text \"x\"; expected a number"),
            (
                "invalid type: boolean `true`, expected i64",
                &format!("found `true`; expected a whole number from {} to {}", i64::MIN, i64::MAX),
            ),
            (
                "invalid type: integer `3`, expected struct NodeResourcesSpec",
                "found the number 3; expected a mapping of fields (`key: value`)",
            ),
            ("invalid type: string \"a\", expected a sequence", "found the text \"a\"; expected a list"),
            ("invalid type: unit value, expected a boolean", "found no value (null); expected true or false"),
            ("invalid type: sequence, expected a string", "found a list; expected text"),
            (
                "invalid type: map, expected enum Kind",
                "found a mapping; expected one of the names this field allows",
            ),
            ("invalid length 1, expected a tuple of size 2", "found 1 entry; expected a list"),
            (
                "unknown variant `Foo`, expected `LeastAllocated` or `MostAllocated`",
                "unknown value `Foo`; expected LeastAllocated or MostAllocated",
            ),
            (
                "duplicate field `count`",
                "the key `count` appears twice in this mapping; expected each key once",
            ),
            ("invalid quantity \"2Gx\": expected a number", "invalid quantity \"2Gx\": expected a number"),
        ] {
            assert_eq!(plain_words(serde), plain, "{serde}");
        }
    }

    #[test]
    fn names_from_file_stems_are_safe() {
        assert_eq!(name_from_file_stem("my scenario"), "my-scenario");
        assert_eq!(name_from_file_stem("../../etc"), "-..-etc");
        assert_eq!(name_from_file_stem("..."), "scenario");
        for stem in ["my scenario", "../../etc", "...", "", "/", "a/b", "ü", "x.y_z-1"] {
            assert_eq!(validate::check_name(&name_from_file_stem(stem)), Ok(()), "{stem:?}");
        }
    }
}
