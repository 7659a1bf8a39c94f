//! Training model bundles and measuring them the way the fraud handbook does.
//!
//! Module map:
//! - [`params`] — hyper-parameters from a TOML file (`config/models/*.toml`).
//! - [`dataset`] — labelled rows of model inputs with their time and card.
//! - [`fit`] — one bundle from some rows: scaling, Isolation Forest, XGBoost (through the
//!   library), thresholds, reference sample, content hash.
//! - [`protocol`] — the handbook's time-ordered splits, folds and removal of known cards.
//! - [`evaluate`] — a protocol run end to end: train per fold, score with the bundle's own
//!   scorer, AUC-ROC, average precision and Card Precision@100.

pub mod dataset;
pub mod evaluate;
pub mod fit;
pub mod params;
pub mod protocol;

pub use dataset::Dataset;
pub use evaluate::{FoldProgress, Report, TestScore, evaluate};
pub use fit::{Fitted, Progress, Quiet, fit};
pub use params::TrainParams;
pub use protocol::{Protocol, Schedule};

/// Why training or evaluation could not go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("hyper-parameters: {0}")]
    Params(String),
    #[error("data: {0}")]
    Data(String),
    #[error(transparent)]
    Model(#[from] fraudwatch_models::ModelError),
    #[error("XGBoost: {0}")]
    Xgboost(#[from] fraudwatch_xgboost::XgbError),
}
