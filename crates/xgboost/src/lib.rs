//! Training gradient-boosted trees with the real XGBoost library (3.4, built from source by
//! `xgboost_lib-sys`), through a small safe wrapper over its C API.
//!
//! Module map:
//! - [`ffi`] — the only `unsafe` code: [`Matrix`] (a `DMatrix`) and [`Booster`] own their C
//!   handles, free them on drop, and turn nonzero return codes into [`XgbError::Library`] with
//!   the text of `XGBGetLastError`.
//! - [`train`] — the training loop: [`train()`] with per-round evaluation and early stopping on a
//!   validation set, as XGBoost's Python `xgb.train(..., early_stopping_rounds=k)` does it, plus
//!   the parser for XGBoost's evaluation lines.
//!
//! Runtime linking: the library is a shared `libxgboost.so` in the build script's output
//! directory. `cargo test`/`cargo run` put that directory on the loader path; a binary started
//! any other way needs it on `LD_LIBRARY_PATH` (no rpath is set).

pub mod ffi;
pub mod train;

pub use ffi::{Booster, Matrix, version};
pub use train::{
    EvalLine, Round, Score, TrainConfig, Trained, is_maximize_metric, parse_eval, train,
};

/// Why an XGBoost call, or the input to one, failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XgbError {
    /// The library returned an error code; `message` is `XGBGetLastError()`'s text.
    #[error("{call} failed: {message}")]
    Library { call: &'static str, message: String },
    /// Rejected before reaching the library (shapes, lengths, NUL bytes, configuration).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// An evaluation line from `XGBoosterEvalOneIter` did not have the expected form.
    #[error("cannot parse evaluation line {line:?}: {reason}")]
    EvalParse { line: String, reason: String },
}
