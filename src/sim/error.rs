//! Why a run could not be built or ended without results.

use crate::scenario::{FieldError, ScenarioError};
use std::fmt;
use std::path::Path;

/// Why a run could not be built (`Simulation::new`) or ended without results
/// (`runner::simulate`).
#[derive(Clone, Debug, PartialEq)]
pub enum RunError {
    /// Bad input that only building the run can see, because it depends on the seed or on a
    /// file as the run reads it: the inflation of a pod trace is drawn from the seed, so
    /// whether `duration` lasts until its last pod arrives is known per seed. `field` is
    /// the scenario path to change (`duration`, `podTraces[0].inflation`,
    /// `podTraces[0].file`), as in a validation error.
    Input { field: String, message: String },
    /// A bug (a build error that validation should have prevented, a panic in the run), or
    /// results that cannot be trusted (a trace file that changed while the run read it).
    Internal(String),
}

impl RunError {
    /// An input error at `field`.
    pub fn input(field: impl Into<String>, message: impl Into<String>) -> Self {
        RunError::Input { field: field.into(), message: message.into() }
    }

    /// The error as the scenario file `file`'s error (the way validation reports one), or
    /// `Err` with the message of an internal error.
    pub fn in_scenario(self, file: &Path) -> Result<ScenarioError, String> {
        match self {
            RunError::Input { field, message } => Ok(ScenarioError::Invalid {
                file: file.to_path_buf(),
                errors: vec![FieldError { path: field, message }],
            }),
            RunError::Internal(m) => Err(m),
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Input { field, message } => write!(f, "{field}: {message}"),
            RunError::Internal(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

/// The sub-builders' messages are internal errors: validation refuses what they refuse.
impl From<String> for RunError {
    fn from(m: String) -> Self {
        RunError::Internal(m)
    }
}

impl From<FieldError> for RunError {
    fn from(e: FieldError) -> Self {
        RunError::Input { field: e.path, message: e.message }
    }
}

impl From<&str> for RunError {
    fn from(m: &str) -> Self {
        RunError::Internal(m.to_string())
    }
}
