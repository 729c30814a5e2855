//! Errors about user input. Each one names the file (or the command-line flag), the place
//! in it (line and column, or the field path) and what was expected. The CLI maps all of
//! them to exit code 2.

use std::fmt;
use std::path::PathBuf;

/// One problem in a scenario, at a field path such as `nodePools[0].count`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

#[derive(Debug)]
pub enum ScenarioError {
    /// The file could not be read.
    Io { file: PathBuf, source: std::io::Error },
    /// YAML syntax or a field of the wrong type/name, at a line and column.
    Parse { file: PathBuf, line: u64, column: u64, message: String },
    /// A `--set PATH=VALUE` override that names no field or has a bad value.
    Override { arg: String, message: String },
    /// Values that parse but do not make sense together.
    Invalid { file: PathBuf, errors: Vec<FieldError> },
    /// A file the scenario refers to (a trace, a CSV column) is missing or malformed.
    File { field: String, error: super::trace::TraceError },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Io { file, source } => {
                write!(f, "{}: cannot read the scenario: {source}", file.display())
            }
            ScenarioError::Parse { file, line, column, message } => {
                write!(f, "{}:{line}:{column}: {message}", file.display())
            }
            ScenarioError::Override { arg, message } => write!(f, "--set {arg}: {message}"),
            ScenarioError::Invalid { file, errors } => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{}: {}: {}", file.display(), e.path, e.message)?;
                }
                Ok(())
            }
            ScenarioError::File { field, error } => write!(f, "{error} (referenced by {field})"),
        }
    }
}

impl std::error::Error for ScenarioError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScenarioError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
