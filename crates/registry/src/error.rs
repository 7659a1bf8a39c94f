//! What can go wrong with a registry, always with the input that was wrong: the URL, the
//! version, the alias, the file, or the HTTP request and MLflow's own answer.

use std::path::PathBuf;

use fraudwatch_models::ModelError;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("registry URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },

    #[error("{0:?} is not a bundle version (expected sha256:<64 hex digits>)")]
    BadVersion(String),

    #[error("{alias:?} is not a usable alias: {reason}")]
    BadAlias { alias: String, reason: String },

    /// A run that the backend would refuse or could not represent (e.g. a NaN metric).
    #[error("run {run:?}: {reason}")]
    BadRun { run: String, reason: String },

    #[error("no bundle {version} in the registry {registry}")]
    NotFound { registry: String, version: String },

    #[error("bundle {what}: {source}")]
    Bundle { what: String, source: ModelError },

    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    /// MLflow answered with an error status.
    #[error("{method} {url}: HTTP {status} {}{message}", code_prefix(.error_code))]
    Mlflow {
        method: String,
        url: String,
        status: u16,
        /// MLflow's `error_code` (e.g. `RESOURCE_DOES_NOT_EXIST`), empty when the answer was
        /// not an MLflow error document.
        error_code: String,
        message: String,
    },

    /// No answer: connection refused, timeout, or a broken response, after the retries.
    #[error("{method} {url}: no answer after {attempts} attempt(s): {reason}")]
    Unreachable {
        method: String,
        url: String,
        attempts: u32,
        reason: String,
    },

    /// The backend holds or sent something this code cannot read.
    #[error("{what}: {reason}")]
    Corrupt { what: String, reason: String },
}

fn code_prefix(error_code: &str) -> String {
    if error_code.is_empty() {
        String::new()
    } else {
        format!("{error_code}: ")
    }
}

impl RegistryError {
    /// MLflow's `error_code`, when this is an error answer from MLflow.
    pub fn mlflow_code(&self) -> Option<&str> {
        match self {
            RegistryError::Mlflow { error_code, .. } => Some(error_code),
            _ => None,
        }
    }

    /// An HTTP status, when this is an error answer from an HTTP server.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            RegistryError::Mlflow { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        RegistryError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
