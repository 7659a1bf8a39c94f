//! Scoring: feature vectors in, scores with a decision out, through the champion bundle, and the
//! streaming stage around it. The core ([`policy`], [`champion`]) is pure; [`stream`] adds the bus
//! and the case store.
//!
//! Module map:
//! - [`policy`] — allow / review / block from the risk and the anomaly score.
//! - [`champion`] — a loaded bundle: inputs taken from a feature vector by name, scored in
//!   batches, turned into `Score`s.
//! - [`stream`] — `features` → `scores` and cases, exactly-once per batch.

pub mod champion;
pub mod policy;
pub mod stream;

pub use champion::{Champion, Rejected};
pub use policy::Policy;
