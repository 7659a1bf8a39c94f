//! Drift monitoring: is what the pipeline sees now still what its models were trained on?
//!
//! Module map:
//! - [`stats`] — the two-sample statistics (Kolmogorov–Smirnov, PSI, Wasserstein, chi-square,
//!   Jensen–Shannon, proportion Z), each checked against scipy.
//! - [`method`] — which statistic a column gets (Evidently's defaults) and how its verdict reads.
//! - [`column`] — one column's reference, prepared once and tested against current samples.
//! - [`table`] — columns read from CSV; [`compare`] — two tables compared, and the dataset verdict.
//! - [`window`] — the sliding current window, by rows and event time; [`reorder`] puts rows
//!   read from several partitions back in event-time order before they enter it.
//! - [`performance`] — precision on labelled transactions against the bundle's.
//! - [`alarm`] — alerts with hysteresis: drift events that open, grow and end.
//! - [`monitor`] — the pure core tying them together: rows in, reports and events out.
//! - [`stream`] — the stage around it: topics in, events to the bus, the store and a hook.
//! - [`report`] — what a drift report holds, and its self-contained HTML page.

pub mod alarm;
pub mod column;
pub mod compare;
pub mod method;
pub mod monitor;
pub mod performance;
pub mod reorder;
pub mod report;
pub mod stats;
pub mod stream;
pub mod table;
pub mod window;

pub use column::{Choice, Data, Reference};
pub use compare::{Comparison, Options, compare};
pub use method::{Kind, Method};
pub use monitor::{Evaluation, Monitor, MonitorConfig};
pub use report::Report;
pub use table::Table;
