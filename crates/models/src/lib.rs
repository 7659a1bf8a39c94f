//! fraudwatch's models, trained and scored natively. Pure: no I/O; callers bring rows of features
//! (in the model bundle's feature order) and get scores.
//!
//! Module map:
//! - [`bundle`] — the model bundle (both models, inputs, scaling, thresholds, metrics, a reference
//!   sample), versioned by its content hash, and [`Scorer`], its loaded form.
//! - [`gbtree`] — gradient-boosted trees read from XGBoost's saved JSON model, scored natively
//!   (allocation-free, and with XGBoost's own f32 arithmetic so the scores agree).
//! - [`iforest`] — Isolation Forest (Liu, Ting & Zhou 2008): training and allocation-free scoring.
//! - [`metrics`] — AUC-ROC, average precision and Card Precision@k as the fraud handbook defines them.
//! - [`path`] — `c(n)`, the average path length of an unsuccessful search in a binary search tree.
//! - [`shap`] — TreeSHAP (Lundberg et al. 2018): exact per-feature contributions of a tree's output.

pub mod bundle;
pub mod gbtree;
pub mod iforest;
pub mod metrics;
pub mod path;
pub mod shap;

pub use bundle::{Bundle, ModelKind, Risk, Scorer};
pub use gbtree::GradientBoosted;
pub use iforest::{IsolationForest, Params};

/// Why a model could not be trained or used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("{0} rows of {1} features: the data length {2} is not a multiple of the width")]
    Shape(usize, usize, usize),
    #[error("training needs at least 2 rows")]
    Empty,
    #[error("feature {feature} of row {row} is {value}: inputs must be finite")]
    NotFinite {
        row: usize,
        feature: usize,
        value: f64,
    },
    #[error("invalid parameter {name} = {value}: {rule}")]
    Param {
        name: &'static str,
        value: String,
        rule: &'static str,
    },
    #[error("a row has {got} features, the model {want}")]
    Width { got: usize, want: usize },
    /// A saved model that cannot be read: not JSON, a field missing or of the wrong type, an
    /// index out of range, … The message names the field (`learner.gradient_booster…`).
    #[error("malformed model: {0}")]
    Malformed(String),
    /// A well-formed model this crate does not score (another objective, categorical splits,
    /// several outputs, …).
    #[error("unsupported model: {0}")]
    Unsupported(String),
}
