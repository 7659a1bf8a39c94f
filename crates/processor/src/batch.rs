//! Polled batches through the partitions' states. Outputs (feature vectors, dead letters) are
//! encoded into one reused buffer, so a warm processor allocates nothing per event on the happy
//! path.

use std::collections::BTreeMap;
use std::ops::Range;

use fraudwatch_bus::topics::dlq_topic;
use fraudwatch_bus::{DeadLetter, Message, Output, Record};
use fraudwatch_core::engine::EngineConfig;
use fraudwatch_core::wire::encode_into;
use fraudwatch_core::{FeatureVectorRef, Label, Transaction, decode, time};

use crate::partition::{Applied, PartitionState};
use crate::{Counters, Topics};

/// Where each output goes, by index into [`Batches::outputs`].
const FEATURES: usize = 0;
const TRANSACTIONS_DLQ: usize = 1;
const LABELS_DLQ: usize = 2;

/// The processor's state (one [`PartitionState`] per input partition) and the encoded outputs of
/// the batch last handled.
#[derive(Debug)]
pub struct Batches {
    config: EngineConfig,
    transactions: String,
    labels: String,
    outputs: [String; 3],
    partitions: BTreeMap<i32, PartitionState>,
    arena: Vec<u8>,
    /// (output index, key bytes, payload bytes) into `arena`.
    spans: Vec<(usize, Range<usize>, Range<usize>)>,
    values: Vec<f64>,
}

/// One message of the input topics, decoded by the topic it came from. The processor and
/// whoever keeps the same per-partition state elsewhere (the API's live scorer) read messages
/// through this one function, so they agree on what a message is.
#[derive(Debug)]
pub enum Input {
    Transaction(Transaction),
    Label(Label),
}

impl Input {
    /// Decodes `m`, a message of topic `transactions` or `labels`; the error is the reason a
    /// dead letter carries.
    pub fn decode(m: &Message, transactions: &str, labels: &str) -> Result<Input, String> {
        if *m.topic == *transactions {
            decode(&m.payload)
                .map(Input::Transaction)
                .map_err(|e| e.to_string())
        } else if *m.topic == *labels {
            decode(&m.payload)
                .map(Input::Label)
                .map_err(|e| e.to_string())
        } else {
            Err(format!("the processor does not read topic {:?}", m.topic))
        }
    }
}

/// What one batch did.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    transactions: u64,
    applied: Applied,
    dead: u64,
}

impl Batches {
    pub fn new(topics: &Topics, config: EngineConfig) -> Self {
        let width = config.feature_set.specs().len();
        Self {
            config,
            transactions: topics.transactions.clone(),
            labels: topics.labels.clone(),
            outputs: [
                topics.features.clone(),
                dlq_topic(&topics.transactions),
                dlq_topic(&topics.labels),
            ],
            partitions: BTreeMap::new(),
            arena: Vec::with_capacity(1 << 20),
            spans: Vec::new(),
            values: vec![0.0; width],
        }
    }

    /// Forgets every partition's state (before rebuilding the ones now assigned).
    pub fn reset(&mut self) {
        self.partitions.clear();
    }

    /// Feeds already-processed messages of one partition back into its state, producing nothing:
    /// this is how a partition's state is rebuilt after it moved. Labels must come before the
    /// transactions (they wait for their time anyway).
    pub fn replay(&mut self, batch: &[Message]) {
        let mut tally = Tally::default();
        self.run(batch, &mut tally);
        self.arena.clear();
        self.spans.clear();
    }

    /// Runs every message of `batch`, in order, through its partition's state; replaces the
    /// previous outputs.
    pub fn handle(&mut self, batch: &[Message], counters: &Counters) {
        self.arena.clear();
        self.spans.clear();
        let mut tally = Tally::default();
        self.run(batch, &mut tally);
        counters.add(tally.transactions, tally.applied.labels, tally.dead);
    }

    fn run(&mut self, batch: &[Message], tally: &mut Tally) {
        for m in batch {
            let outcome = match Input::decode(m, &self.transactions, &self.labels) {
                Ok(Input::Transaction(tx)) => self
                    .transaction(&tx, m, tally)
                    .map(|()| tally.transactions += 1),
                Ok(Input::Label(label)) => {
                    self.state(m.partition).label(label, m);
                    Ok(())
                }
                Err(reason) => Err(reason),
            };
            if let Err(reason) = outcome {
                self.dead_letter(m, reason, tally);
            }
        }
    }

    fn state(&mut self, partition: i32) -> &mut PartitionState {
        let config = &self.config;
        self.partitions
            .entry(partition)
            .or_insert_with(|| PartitionState::new(config))
    }

    fn transaction(
        &mut self,
        tx: &Transaction,
        m: &Message,
        tally: &mut Tally,
    ) -> Result<(), String> {
        let mut refused = Vec::new();
        let config = &self.config;
        let state = self
            .partitions
            .entry(m.partition)
            .or_insert_with(|| PartitionState::new(config));
        let result = state.transaction(
            tx,
            &mut self.values,
            &mut tally.applied,
            &mut |m: &Message, why| {
                refused.push((m.clone(), why));
            },
        );
        for (label, why) in refused {
            self.dead_letter(&label, why, tally);
        }
        result.map_err(|e| e.to_string())?;
        let ingested_at = time::from_millis(m.timestamp_ms).unwrap_or(tx.timestamp);
        let key = self.push(tx.customer_id.as_str().as_bytes());
        let vector = FeatureVectorRef {
            transaction_id: &tx.transaction_id,
            customer_id: &tx.customer_id,
            timestamp: &tx.timestamp,
            specs: self.config.feature_set.specs(),
            values: &self.values,
            ingested_at: &ingested_at,
        };
        let start = self.arena.len();
        vector.encode_into(&mut self.arena);
        self.spans.push((FEATURES, key, start..self.arena.len()));
        Ok(())
    }

    fn dead_letter(&mut self, m: &Message, reason: String, tally: &mut Tally) {
        tracing::warn!(topic = %m.topic, partition = m.partition, offset = m.offset, %reason, "dead letter");
        tally.dead += 1;
        let output = if *m.topic == self.labels {
            LABELS_DLQ
        } else {
            TRANSACTIONS_DLQ
        };
        let key = self.push(m.key.as_deref().unwrap_or_default());
        let start = self.arena.len();
        encode_into(&DeadLetter::new(m, reason), &mut self.arena);
        self.spans.push((output, key, start..self.arena.len()));
    }

    fn push(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.arena.len();
        self.arena.extend_from_slice(bytes);
        start..self.arena.len()
    }

    /// Labels read but not due yet, over all partitions.
    pub fn waiting_labels(&self) -> usize {
        self.partitions.values().map(PartitionState::waiting).sum()
    }

    /// The outputs of the batch last handled, ready for `commit_with`.
    pub fn records(&self) -> Vec<Output<'_>> {
        self.spans
            .iter()
            .map(|(o, k, p)| Output {
                topic: &self.outputs[*o],
                record: Record::new(&self.arena[k.clone()], &self.arena[p.clone()]),
            })
            .collect()
    }
}
