//! fraudwatch's transaction generator: a seeded world of customers and terminals whose payments
//! carry labelled fraud scenarios, emitted in event-time order with their labels arriving late;
//! drift injection; and replay of a dataset in the fraud handbook's CSV layout.
//!
//! Generation is pure (no I/O): [`World`] is an iterator of [`Tx`], [`Events`] interleaves the
//! delayed labels. The sinks and the replay reader are the only modules that touch files or a bus.
//!
//! Module map:
//! - [`config`]: `Config`, `Profile` (handbook / default), scenario `Rates`, `Drift`.
//! - [`tx`]: the compact events: `Tx`, `Scenario`, `Detail`, `LabelEvent`, `Event`.
//! - [`seed`]: the PRNG and the derivation of independent streams from one seed.
//! - [`population`]: the customers and terminals of a profile, built by [`handbook`] (the
//!   handbook's grid world) or [`rich`] (towns, countries, channels, devices), with [`geo`].
//! - [`scenarios`]: shapes of the episodes that add transactions (card testing, account takeover,
//!   merchant collusion).
//! - [`world`]: day-by-day generation, the handbook's relabelling rules, time order and ids.
//! - [`events`]: labels delayed in event time and interleaved with the transactions.
//! - [`format`]: allocation-free encoders (handbook CSV, wire JSON, labelled JSON lines).
//! - [`handbook_file`]: reads a file in the handbook CSV layout (plain or gzip) as rows (I/O).
//! - [`replay`]: a handbook file as a stream of `Tx`, checked to be in time order.
//! - [`sink`]: file and bus outputs, batched (I/O); [`run`]: the pumping loops; [`pace`]: rates.
//! - [`stats`]: the run's `Summary`; [`parse`]: durations, dates and rates as users type them.

pub mod config;
pub mod error;
pub mod events;
pub mod format;
pub mod geo;
pub mod handbook;
pub mod handbook_file;
pub mod pace;
pub mod parse;
pub mod population;
pub mod replay;
pub mod rich;
pub mod run;
pub mod scenarios;
pub mod seed;
pub mod sink;
pub mod stats;
pub mod tx;
pub mod world;

use std::convert::Infallible;

pub use config::{Config, Drift, DriftKind, Profile, Rates};
pub use error::{ConfigError, Error};
pub use events::{Events, Labels};
pub use handbook_file::HandbookFile;
pub use pace::Pace;
pub use replay::Replay;
pub use sink::{BusSink, FileSink, Format};
pub use stats::Summary;
pub use tx::{Event, LabelEvent, Scenario, Tx};
pub use world::World;

impl From<Infallible> for Error {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

/// The generated world as a fallible source, as [`Events`] takes it.
pub type Generated = std::iter::Map<World, fn(Tx) -> Result<Tx, Infallible>>;

/// The events of a generated world: transactions with labels `delay_ms` after them.
pub fn events(world: World, delay_ms: i64, labels: Labels) -> Events<Generated> {
    Events::new(
        world.map(Ok as fn(Tx) -> Result<Tx, Infallible>),
        delay_ms,
        labels,
    )
}
