//! Retraining: the run's tasks, and the pure judgement behind them. A run is a small DAG —
//! extract → validate → train → evaluate → compare → register → promote — each task runnable
//! alone and idempotent; a failed task stops the run with its reason and leaves the champion.
//!
//! Module map:
//! - [`task`] — the tasks, their order, and the run's settings.
//! - [`split`] — the time-ordered split into training rows and a holdout, with the label delay
//!   between them.
//! - [`validate`] — what a run's data must be before anything is trained on it.
//! - [`cron`] — schedules in cron's five fields, for `retrain --schedule`.
//! - [`extract_file`] — the run's labelled rows on disk, written atomically.
//! - [`workflow`] — the run against the bus, the store and the registry: each task recorded,
//!   done tasks skipped, the champion moved only by `promote` after `compare` passed.
//! - [`judge`] — holdout metrics (AUC-ROC, average precision, Card Precision@100, recall at the
//!   policy's alert rate) and the challenger-against-champion verdict.

pub mod cron;
pub mod extract_file;
pub mod judge;
pub mod split;
pub mod task;
pub mod validate;
pub mod workflow;

pub use judge::{Holdout, Metrics, Verdict, compare, measure};
pub use split::Split;
pub use task::{RetrainConfig, Task};
pub use validate::{Refusal, validate};
pub use workflow::{Outcome, Workflow, WorkflowError};
