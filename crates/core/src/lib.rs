//! fraudwatch's pure core: the domain types every stage exchanges, their validation and their wire
//! format. No I/O, no async runtime: everything here is a plain function of its input.
//!
//! Module map:
//! - [`access`] — API key roles and the stored key record.
//! - [`id`] — `Id`, the compact identifier used for transactions, customers, terminals and devices.
//! - [`codes`] — fixed-size codes (`Currency`, `Country`) and the payment `Channel`.
//! - [`time`] — event-time helpers; RFC 3339 UTC with milliseconds on the wire.
//! - [`validate`] — the `Validate` trait and `ValidationError`, which names the field and the value.
//! - [`transaction`], [`features`], [`score`], [`case`], [`label`] — the contracts of DESIGN.md §3.
//! - [`drift`] — a drift event, as the monitor publishes and stores it.
//! - [`handbook`] — the fraud handbook's CSV layout (parse, write, to transactions and labels).
//! - [`wire`] — JSON encode/decode of any contract type, decode = parse + validate.
//! - [`engine`] — the feature engine, a pure `(state, event) → features` machine over exact
//!   event-time windows (feature sets `handbook` and `velocity`).

pub mod access;
pub mod case;
pub mod codes;
pub mod drift;
pub mod engine;
pub mod features;
pub mod handbook;
pub mod id;
pub mod label;
pub mod score;
pub mod time;
pub mod transaction;
pub mod validate;
pub mod wire;

pub use access::{ApiKey, Role};
pub use case::{AuditEntry, Case, CaseError, CaseStatus, CaseUpdate, Note, Outcome};
pub use codes::{Channel, Country, Currency};
pub use drift::{DriftEvent, DriftKind, DriftedColumn, Severity};
pub use features::{FeatureVector, FeatureVectorRef, Features};
pub use id::Id;
pub use label::{Label, LabelSource};
pub use score::{Decision, Reason, Score};
pub use time::Timestamp;
pub use transaction::Transaction;
pub use validate::{Validate, ValidationError};
pub use wire::{DecodeError, decode, encode};
