//! Retraining: the run's tasks, and the pure judgement behind them. A run is a small DAG —
//! extract → validate → train → evaluate → compare → register → promote — each task runnable
//! alone and idempotent; a failed task stops the run with its reason and leaves the champion.
//!
//! Module map:
//! - [`task`] — the tasks, their order, and the run's settings.
//! - [`split`] — the time-ordered split into training rows and a holdout, with the label delay
//!   between them.
//! - [`validate`] — what a run's data must be before anything is trained on it.
//! - [`judge`] — holdout metrics (AUC-ROC, average precision, Card Precision@100, recall at the
//!   policy's alert rate) and the challenger-against-champion verdict.

pub mod judge;
pub mod split;
pub mod task;
pub mod validate;

pub use judge::{Holdout, Metrics, Verdict, compare, measure};
pub use split::Split;
pub use task::{RetrainConfig, Task};
pub use validate::{Refusal, validate};
