//! The generator's errors. Each says what was wrong and with which input.

use std::path::PathBuf;

/// A configuration that cannot be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown profile {0:?}; known profiles: handbook, default")]
    UnknownProfile(String),
    #[error("unknown drift kind {0:?}; known kinds: amount, channel, country, fraud")]
    UnknownDrift(String),
    #[error("scenario rate {text:?}: {why}")]
    Rate { text: String, why: String },
    #[error("{what}: {why}")]
    Invalid { what: String, why: String },
}

/// Anything that stops a generation or a replay.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot read {path}")]
    ReplayOpen {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line of a dataset file that does not fit the handbook layout; `line` is 1-based.
    #[error("{path}, line {line}: {problem}")]
    ReplayRow {
        path: PathBuf,
        line: u64,
        problem: String,
    },
    #[error("writing {what}")]
    Write {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}")]
    Bus {
        what: String,
        #[source]
        source: Box<fraudwatch_bus::BusError>,
    },
    #[error("{0}")]
    Unsupported(String),
}
