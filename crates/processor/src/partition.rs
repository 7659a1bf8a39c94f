//! The state of one input partition: its own engine, and the labels read from the co-partitioned
//! labels topic that are not due yet. A partition's state depends only on that partition's
//! messages, so features do not depend on how partitions are spread over processes, and a
//! partition that moves is rebuilt by reading it back.
//!
//! Transactions and labels come from two topics, so their interleaving says nothing about event
//! time. Labels therefore wait until the transaction stream reaches their `labelled_at`: a label
//! due at L is given to the engine just before the first transaction at or after L, exactly as the
//! file mode does, whatever order the topics were read in.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use fraudwatch_bus::Message;
use fraudwatch_core::engine::{Engine, EngineConfig, EngineError};
use fraudwatch_core::{Label, Transaction};

#[derive(Debug)]
pub struct PartitionState {
    pub engine: Engine,
    waiting: BinaryHeap<Reverse<Waiting>>,
    arrivals: u64,
}

/// A label not yet due, with its message (for a dead letter) and arrival order (for ties).
#[derive(Debug)]
struct Waiting {
    due_ms: i64,
    arrival: u64,
    label: Label,
    message: Message,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due_ms, self.arrival).cmp(&(other.due_ms, other.arrival))
    }
}

/// What became of the labels that fell due before a transaction.
#[derive(Debug, Default, Clone, Copy)]
pub struct Applied {
    pub labels: u64,
}

impl PartitionState {
    pub fn new(config: &EngineConfig) -> Self {
        Self {
            engine: Engine::new(config.clone()),
            waiting: BinaryHeap::new(),
            arrivals: 0,
        }
    }

    /// Holds a label until the transactions reach its time.
    pub fn label(&mut self, label: Label, message: &Message) {
        self.arrivals += 1;
        let due_ms = label.labelled_at.timestamp_millis();
        self.waiting.push(Reverse(Waiting {
            due_ms,
            arrival: self.arrivals,
            label,
            message: message.clone(),
        }));
    }

    /// Gives the engine the labels due by `tx`'s time, then `tx`; its features land in `out`.
    /// A due label the engine refuses goes to `refused` with its message and the reason; a
    /// refused `tx` (e.g. later than the allowed lateness) changes nothing and is the error.
    pub fn transaction(
        &mut self,
        tx: &Transaction,
        out: &mut [f64],
        applied: &mut Applied,
        refused: &mut dyn FnMut(&Message, String),
    ) -> Result<(), EngineError> {
        let t = tx.timestamp.timestamp_millis();
        while self.waiting.peek().is_some_and(|w| w.0.due_ms <= t) {
            let Some(Reverse(w)) = self.waiting.pop() else {
                break;
            };
            match self.engine.label(&w.label) {
                Ok(_) => applied.labels += 1,
                Err(e) => refused(&w.message, e.to_string()),
            }
        }
        self.engine.transaction(tx, out)
    }

    /// Labels read but not due yet.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}
