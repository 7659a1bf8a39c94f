//! One polled batch through the engine. Outputs (feature vectors, dead letters) are encoded into
//! one reused buffer, so a warm processor allocates nothing per event on the happy path.
//!
//! Transactions and labels come from two topics, so their interleaving in a batch says nothing
//! about event time. Labels therefore wait until the transaction stream reaches their
//! `labelled_at`: a label due at L is given to the engine just before the first transaction at or
//! after L, exactly as the file mode does, whatever order the topics were read in.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Range;

use fraudwatch_bus::topics::dlq_topic;
use fraudwatch_bus::{DeadLetter, Message, Output, Record};
use fraudwatch_core::engine::Engine;
use fraudwatch_core::wire::encode_into;
use fraudwatch_core::{FeatureVectorRef, Label, Transaction, decode, time};

use crate::{Counters, Topics};

/// Where each output goes, by index into [`Outputs::topics`].
const FEATURES: usize = 0;
const TRANSACTIONS_DLQ: usize = 1;
const LABELS_DLQ: usize = 2;

/// The encoded outputs of the batch last handled.
#[derive(Debug)]
pub struct Outputs {
    topics: [String; 3],
    transactions: String,
    labels: String,
    arena: Vec<u8>,
    /// (topic index, key bytes, payload bytes) into `arena`.
    spans: Vec<(usize, Range<usize>, Range<usize>)>,
    values: Vec<f64>,
    /// Labels waiting for the transactions to reach their time, earliest first.
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
        (self.due_ms, self.arrival) == (other.due_ms, other.arrival)
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due_ms, self.arrival).cmp(&(other.due_ms, other.arrival))
    }
}

impl Outputs {
    pub fn new(topics: &Topics, width: usize) -> Self {
        Self {
            topics: [
                topics.features.clone(),
                dlq_topic(&topics.transactions),
                dlq_topic(&topics.labels),
            ],
            transactions: topics.transactions.clone(),
            labels: topics.labels.clone(),
            arena: Vec::with_capacity(1 << 20),
            spans: Vec::new(),
            values: vec![0.0; width],
            waiting: BinaryHeap::new(),
            arrivals: 0,
        }
    }

    /// Labels read but not yet due.
    pub fn waiting_labels(&self) -> usize {
        self.waiting.len()
    }

    /// Runs every message of `batch`, in order, through `engine`; replaces the previous outputs.
    pub fn handle(&mut self, engine: &mut Engine, batch: &[Message], counters: &Counters) {
        self.arena.clear();
        self.spans.clear();
        let (mut transactions, mut labels, mut dead) = (0, 0, 0);
        for m in batch {
            let outcome = if m.topic == self.transactions {
                self.transaction(engine, m, &mut labels, &mut dead)
                    .map(|()| transactions += 1)
            } else if m.topic == self.labels {
                decode::<Label>(&m.payload)
                    .map_err(|e| e.to_string())
                    .map(|label| {
                        self.arrivals += 1;
                        let due_ms = label.labelled_at.timestamp_millis();
                        self.waiting.push(Reverse(Waiting {
                            due_ms,
                            arrival: self.arrivals,
                            label,
                            message: m.clone(),
                        }));
                    })
            } else {
                Err(format!("the processor does not read topic {:?}", m.topic))
            };
            if let Err(reason) = outcome {
                dead += 1;
                self.dead_letter(m, reason);
            }
        }
        counters.add(transactions, labels, dead);
    }

    fn transaction(
        &mut self,
        engine: &mut Engine,
        m: &Message,
        labels: &mut u64,
        dead: &mut u64,
    ) -> Result<(), String> {
        let tx: Transaction = decode(&m.payload).map_err(|e| e.to_string())?;
        let t = tx.timestamp.timestamp_millis();
        while self.waiting.peek().is_some_and(|w| w.0.due_ms <= t) {
            let Some(Reverse(w)) = self.waiting.pop() else {
                break;
            };
            match engine.label(&w.label) {
                Ok(_) => *labels += 1,
                Err(e) => {
                    *dead += 1;
                    self.dead_letter(&w.message, e.to_string());
                }
            }
        }
        engine
            .transaction(&tx, &mut self.values)
            .map_err(|e| e.to_string())?;
        let ingested_at = time::from_millis(m.timestamp_ms).unwrap_or(tx.timestamp);
        let key = self.push(tx.customer_id.as_str().as_bytes());
        let vector = FeatureVectorRef {
            transaction_id: &tx.transaction_id,
            customer_id: &tx.customer_id,
            timestamp: &tx.timestamp,
            specs: engine.specs(),
            values: &self.values,
            ingested_at: &ingested_at,
        };
        let start = self.arena.len();
        encode_into(&vector, &mut self.arena);
        self.spans.push((FEATURES, key, start..self.arena.len()));
        Ok(())
    }

    fn dead_letter(&mut self, m: &Message, reason: String) {
        tracing::warn!(topic = %m.topic, partition = m.partition, offset = m.offset, %reason, "dead letter");
        let topic = if m.topic == self.labels {
            LABELS_DLQ
        } else {
            TRANSACTIONS_DLQ
        };
        let key = self.push(m.key.as_deref().unwrap_or_default());
        let start = self.arena.len();
        encode_into(&DeadLetter::new(m, reason), &mut self.arena);
        self.spans.push((topic, key, start..self.arena.len()));
    }

    fn push(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.arena.len();
        self.arena.extend_from_slice(bytes);
        start..self.arena.len()
    }

    /// The outputs of the batch last handled, ready for `commit_with`.
    pub fn records(&self) -> Vec<Output<'_>> {
        self.spans
            .iter()
            .map(|(t, k, p)| Output {
                topic: &self.topics[*t],
                record: Record::new(&self.arena[k.clone()], &self.arena[p.clone()]),
            })
            .collect()
    }
}
