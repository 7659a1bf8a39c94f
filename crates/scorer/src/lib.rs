//! Scoring: feature vectors in, scores with a decision out, through the champion bundle, and the
//! streaming stage around it. The core ([`policy`], [`champion`]) is pure; [`stream`] adds the bus
//! and the case store.
//!
//! Module map:
//! - [`policy`] — allow / review / block from the risk and the anomaly score.
//! - [`champion`] — a loaded bundle: inputs taken from a feature vector by name, scored in
//!   batches, turned into `Score`s.
//! - [`stream`] — `features` → `scores` and cases, exactly-once per batch.
//! - [`live`] — one transaction scored synchronously (`POST /v1/score`) from the API's own copy
//!   of the processor's state, kept current by following `transactions` and `labels`.

pub mod champion;
pub mod live;
pub mod policy;
pub mod stream;

pub use champion::{Champion, Rejected};
pub use policy::Policy;
