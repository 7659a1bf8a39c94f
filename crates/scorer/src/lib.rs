//! The scoring core: feature vectors in, scores with a decision out, through the champion
//! bundle. Pure: no bus, no store; the streaming stage and the API call it.
//!
//! Module map:
//! - [`policy`] — allow / review / block from the risk and the anomaly score.
//! - [`champion`] — a loaded bundle: inputs taken from a feature vector by name, scored in
//!   batches, turned into `Score`s.

pub mod champion;
pub mod policy;

pub use champion::{Champion, Rejected};
pub use policy::Policy;
