//! The feature engine: a pure state machine turning events (transactions and labels, in event
//! time) into feature vectors (DESIGN.md §4, §6). No I/O, no clock, no async: the caller feeds
//! events and gets features back, so a file, a test or a Kafka consumer drive the same code.
//!
//! Module map:
//! - [`clock`] — the watermark, the allowed lateness and the arrival sequence.
//! - [`window`] — `Series`, one key's events sorted by (event time, arrival), the window store.
//! - [`slab`] — `Slab`, keyed state with stable slot numbers; [`hash`] — the id hasher.
//! - [`spec`] — `FeatureSet`, `FeatureSpec`: the feature sets and their ordered names.
//! - [`handbook`] — the fraud handbook's 14 features (customer and delayed terminal windows), and
//!   the `risk` set that extends them.
//! - [`velocity`] — the streaming set: 5/30-minute velocity, history, geography, terminals.
//! - [`calendar`], [`geo`], [`money`] — small exact helpers (weekday/hour, great-circle distance,
//!   amounts as integer micro-units).
//!
//! # Windows and what "exact" means
//!
//! A window of width `W` for an event at time `t` holds the events of the same key whose time is
//! in `(t − W, t]`, the current one included. Times are milliseconds; nothing is bucketed.
//! Events of one key are ordered by (event time, arrival sequence): of two events with the same
//! time, the one that arrived first is the earlier one, so it is in the window of the second and
//! not the other way round.
//!
//! Events may arrive out of order. Let `newest` be the largest event time accepted so far. An
//! event with time `≥ newest − lateness` is accepted; an older one is refused with
//! [`EngineError::TooLate`] (the caller dead-letters it) and changes nothing. An accepted event's
//! features are exactly those computed over *the events accepted before it, plus itself*, taken
//! in event-time order — as if it had arrived in order with respect to everything seen so far.
//! Features already emitted are never revised when an older event arrives later. On an in-order
//! stream this is the plain offline definition. Counts are integers and money sums are sums of
//! integer micro-units, so they do not depend on the order of insertion at all.

pub mod calendar;
pub mod clock;
pub mod geo;
pub mod handbook;
pub mod hash;
pub mod money;
pub mod slab;
pub mod spec;
pub mod velocity;
pub mod window;

use crate::id::Id;
use crate::label::Label;
use crate::time::Timestamp;
use crate::transaction::Transaction;

pub use clock::Clock;
pub use spec::{FeatureKind, FeatureSet, FeatureSpec};

/// One millisecond-based duration constant per unit, for configuration and windows.
pub const SECOND_MS: i64 = 1_000;
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// How often (in accepted events) the engine drops state that no future window can reach.
const SWEEP_EVERY: u32 = 1 << 16;

/// What the engine needs to know before the first event.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    pub feature_set: FeatureSet,
    /// How far behind the newest event time an event may be and still be accepted, in ms.
    pub lateness_ms: i64,
    /// Handbook terminal windows end this long before the transaction (labels are assumed known
    /// only after this delay), in ms. The handbook uses 7 days.
    pub label_delay_ms: i64,
}

impl EngineConfig {
    pub fn new(feature_set: FeatureSet) -> Self {
        Self {
            feature_set,
            lateness_ms: 0,
            label_delay_ms: 7 * DAY_MS,
        }
    }
}

/// An input event.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    Transaction(&'a Transaction),
    Label(&'a Label),
}

/// What an accepted event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// A transaction: its features are in the output buffer.
    Features,
    /// A label, and what became of it.
    Label(LabelOutcome),
}

/// What became of an accepted label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelOutcome {
    /// Recorded: windows queried at or after its `labelled_at` count it.
    Recorded,
    /// The labelled transaction is unknown, or too old to be in any future window: nothing to do.
    NoWindow,
    /// The feature set uses no labels.
    Unused,
}

/// An event the engine refuses; the caller dead-letters it with this reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error(
        "{kind} {id} at {} arrived too late: the newest event is at {} and the allowed lateness is {lateness_ms} ms",
        crate::time::format(time),
        crate::time::format(newest)
    )]
    TooLate {
        kind: &'static str,
        id: Id,
        time: Timestamp,
        newest: Timestamp,
        lateness_ms: i64,
    },
    #[error("transaction {id}: amount {amount} must be a finite number from 0 to 1e9")]
    BadAmount { id: Id, amount: f64 },
    #[error("output buffer holds {got} values, the feature set has {want}")]
    OutputWidth { got: usize, want: usize },
}

/// The feature sets' own state.
#[derive(Debug)]
enum SetState {
    Handbook(handbook::State),
    Velocity(velocity::State),
}

/// The engine: all per-customer and per-terminal state of one partition.
#[derive(Debug)]
pub struct Engine {
    config: EngineConfig,
    clock: Clock,
    set: SetState,
    since_sweep: u32,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Self {
        let set = match config.feature_set {
            FeatureSet::Handbook => {
                SetState::Handbook(handbook::State::new(config.label_delay_ms, false))
            }
            FeatureSet::Risk => {
                SetState::Handbook(handbook::State::new(config.label_delay_ms, true))
            }
            FeatureSet::Velocity => SetState::Velocity(velocity::State::default()),
        };
        Self {
            clock: Clock::new(config.lateness_ms),
            config,
            set,
            since_sweep: 0,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The features this engine computes, in output order.
    pub fn specs(&self) -> &'static [FeatureSpec] {
        self.config.feature_set.specs()
    }

    /// Number of values a transaction produces.
    pub fn width(&self) -> usize {
        self.specs().len()
    }

    /// Feeds one event. For a transaction `out` receives the features (it must hold exactly
    /// [`Engine::width`] values); for a label it is left untouched.
    pub fn apply(&mut self, event: Event<'_>, out: &mut [f64]) -> Result<Applied, EngineError> {
        match event {
            Event::Transaction(tx) => self.transaction(tx, out).map(|()| Applied::Features),
            Event::Label(label) => self.label(label).map(Applied::Label),
        }
    }

    /// A transaction: its features into `out`.
    pub fn transaction(&mut self, tx: &Transaction, out: &mut [f64]) -> Result<(), EngineError> {
        if out.len() != self.width() {
            return Err(EngineError::OutputWidth {
                got: out.len(),
                want: self.width(),
            });
        }
        let Some(amount) = money::to_micros(tx.amount) else {
            return Err(EngineError::BadAmount {
                id: tx.transaction_id.clone(),
                amount: tx.amount,
            });
        };
        let time = tx.timestamp.timestamp_millis();
        let seq = self.admit("transaction", &tx.transaction_id, &tx.timestamp)?;
        let at = At {
            time,
            seq,
            floor: self.clock.floor().unwrap_or(time),
        };
        match &mut self.set {
            SetState::Handbook(s) => s.transaction(tx, amount, at, out),
            SetState::Velocity(s) => s.transaction(tx, amount, at, out),
        }
        self.after_event();
        Ok(())
    }

    /// A label, effective for windows queried at or after its `labelled_at`.
    pub fn label(&mut self, label: &Label) -> Result<LabelOutcome, EngineError> {
        let seq = self.admit(
            "label of transaction",
            &label.transaction_id,
            &label.labelled_at,
        )?;
        let time = label.labelled_at.timestamp_millis();
        let at = At {
            time,
            seq,
            floor: self.clock.floor().unwrap_or(time),
        };
        let outcome = match &mut self.set {
            SetState::Handbook(s) => s.label(label, at),
            SetState::Velocity(_) => LabelOutcome::Unused,
        };
        self.after_event();
        Ok(outcome)
    }

    /// Drops every piece of state that no future window can reach. Runs by itself every 65,536
    /// events; features never depend on when it runs.
    pub fn sweep(&mut self) {
        self.since_sweep = 0;
        let Some(floor) = self.clock.floor() else {
            return;
        };
        match &mut self.set {
            SetState::Handbook(s) => s.sweep(floor),
            SetState::Velocity(s) => s.sweep(floor),
        }
    }

    /// Sizes of the state, for metrics and tests.
    pub fn stats(&self) -> Stats {
        match &self.set {
            SetState::Handbook(s) => s.stats(),
            SetState::Velocity(s) => s.stats(),
        }
    }

    /// The newest event time accepted so far.
    pub fn newest(&self) -> Option<Timestamp> {
        self.clock.newest().and_then(crate::time::from_millis)
    }

    fn admit(&mut self, kind: &'static str, id: &Id, t: &Timestamp) -> Result<u64, EngineError> {
        self.clock
            .admit(t.timestamp_millis())
            .map_err(|newest| EngineError::TooLate {
                kind,
                id: id.clone(),
                time: *t,
                newest: crate::time::from_millis(newest).unwrap_or(*t),
                lateness_ms: self.config.lateness_ms,
            })
    }

    fn after_event(&mut self) {
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP_EVERY {
            self.sweep();
        }
    }
}

/// Where an accepted event sits: its time, its arrival sequence number, and the floor (the
/// oldest time any later event may have: `newest − lateness`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    pub time: i64,
    pub seq: u64,
    pub floor: i64,
}

impl At {
    /// Entries at or before this time can never again fall in a window of width `width`.
    pub fn cutoff(&self, width: i64) -> i64 {
        self.floor.saturating_sub(width)
    }
}

/// Sizes of the engine's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    pub customers: usize,
    pub terminals: usize,
    /// Window entries held, all keys together.
    pub entries: usize,
    /// Transactions a label could still be applied to.
    pub label_targets: usize,
}

#[cfg(test)]
mod tests;
