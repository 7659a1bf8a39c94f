//! Synchronous scoring of one transaction, for `POST /v1/score` in an authorisation flow: the
//! same feature engine and the same champion as the stream, answering before the payment exists
//! anywhere else.
//!
//! Why the API keeps state of its own: an authorisation is asked for before the payment system
//! publishes the transaction, so the processor has not seen it and its features do not exist yet.
//! The API process therefore keeps a copy of the processor's per-partition state, [`LiveScorer`]:
//! one [`PartitionState`] per partition of `transactions`, fed by [`follow`] from the
//! `transactions` and `labels` topics through the same decoding ([`Input::decode`]) and the same
//! label timing as the processor. A customer's state is the state of the partition its id hashes
//! to ([`partition_for`], as the bus partitions keys), so the features computed here for a
//! customer's next transaction are the ones the processor computes when it arrives on the topic.
//! Embedded mode and Kafka mode work alike: [`follow`] reads through the `Bus` trait.
//!
//! The follower uses a consumer group of its own (unique per API process, e.g.
//! `fraudwatch-api-<instance>`), so a new group starts at the earliest retained message (the
//! memory bus does; Kafka consumers are set `auto.offset.reset=earliest`), and it never commits:
//! every start rebuilds the state from the topics, as the processor's rebuild does.
//!
//! A transaction scored here is applied to its partition's engine at once (a second
//! authorisation a second later sees the first), and its id is remembered; when the payment
//! system publishes it on `transactions` the follower skips it, so it is counted once. At most
//! [`LiveConfig::remember`] ids are remembered, the oldest forgotten first.
//!
//! Where this copy may differ from the processor's state, by design:
//! - a transaction scored here but never published (declined) stays in this copy's windows;
//! - scoring moves this copy's watermark ahead of the topic's: the engine's lateness
//!   (`EngineConfig::lateness_ms`, the same for both) must cover the payment system's delay in
//!   publishing, or transactions of other customers of the partition, published later with an
//!   older time, are refused here while the processor accepts them.

use std::collections::{HashMap, VecDeque};

use fraudwatch_bus::Message;
use fraudwatch_bus::topics::partition_for;
use fraudwatch_core::engine::{EngineConfig, EngineError, FeatureSet};
use fraudwatch_core::{
    FeatureVector, Id, Score, Timestamp, Transaction, Validate, ValidationError, time,
};
use fraudwatch_models::ModelError;
use fraudwatch_processor::batch::Input;
use fraudwatch_processor::partition::{Applied, PartitionState};

use crate::{Champion, Rejected};

mod follow;

pub use follow::{FollowConfig, FollowError, FollowStatus, Tally, follow, lock};

/// How the live state is set up; the engine must be configured as the processor's is.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveConfig {
    pub engine: EngineConfig,
    /// Partitions of `transactions` (and of `labels`, co-partitioned by customer id).
    pub partitions: i32,
    /// Most ids of transactions scored here and not yet seen on the topic that are remembered.
    pub remember: usize,
}

impl LiveConfig {
    /// The `risk` feature set with the engine's defaults; 100,000 ids remembered.
    pub fn new(partitions: i32) -> LiveConfig {
        LiveConfig {
            engine: EngineConfig::new(FeatureSet::Risk),
            partitions,
            remember: 100_000,
        }
    }
}

/// Why a transaction was not scored, or a champion or set-up was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error("bad transaction: {0}")]
    Invalid(#[from] ValidationError),
    #[error("transaction {transaction_id} was already scored here (a payment is scored once)")]
    AlreadyScored { transaction_id: Id },
    /// E.g. `TooLate`: older than the newest event of its partition minus the allowed lateness.
    #[error("the feature engine refused the transaction: {0}")]
    Refused(#[from] EngineError),
    #[error("the champion could not score it: {0}")]
    Rejected(#[from] Rejected),
    #[error("champion {version} cannot score the {feature_set:?} feature set: {reason}")]
    Incompatible {
        version: String,
        feature_set: &'static str,
        reason: Rejected,
    },
    #[error("the champion failed: {0}")]
    Model(#[from] ModelError),
    #[error("the champion returned no score")]
    Unscored,
    #[error("{0} partitions: a topic has 1 to 100,000")]
    Partitions(i32),
}

impl ScoreError {
    /// Whether the request was at fault (a 4xx), rather than the service (a 5xx).
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            ScoreError::Invalid(_)
                | ScoreError::AlreadyScored { .. }
                | ScoreError::Refused(EngineError::TooLate { .. } | EngineError::BadAmount { .. })
        )
    }
}

/// The API's copy of the processor's state, and the champion that scores with it.
#[derive(Debug)]
pub struct LiveScorer {
    config: LiveConfig,
    states: Vec<PartitionState>,
    champion: Champion,
    pending: Pending,
    /// The engine's output and the vector last scored, reused (names written once).
    values: Vec<f64>,
    vector: FeatureVector,
}

impl LiveScorer {
    pub fn new(config: LiveConfig, champion: Champion) -> Result<LiveScorer, ScoreError> {
        if !(1..=100_000).contains(&config.partitions) {
            return Err(ScoreError::Partitions(config.partitions));
        }
        let set = config.engine.feature_set;
        let t = Timestamp::default();
        let mut live = LiveScorer {
            states: Vec::new(),
            pending: Pending::new(config.remember),
            values: vec![0.0; set.specs().len()],
            vector: FeatureVector {
                transaction_id: Id::default(),
                customer_id: Id::default(),
                timestamp: t,
                features: set.named(&vec![0.0; set.specs().len()]),
                ingested_at: t,
            },
            champion,
            config,
        };
        live.reset();
        live.check(None)?;
        Ok(live)
    }

    /// Scores `tx` for an authorisation: validates it, applies it to its partition's engine (after
    /// the labels due by its time), and scores its features with the champion, with reasons on
    /// review and block as the stream gives them. `now` is the score's `scored_at`.
    pub fn score(&mut self, tx: &Transaction, now: Timestamp) -> Result<Score, ScoreError> {
        tx.validate()?;
        if self.pending.contains(&tx.transaction_id) {
            return Err(ScoreError::AlreadyScored {
                transaction_id: tx.transaction_id.clone(),
            });
        }
        let p = self.partition_of(&tx.customer_id) as usize;
        self.states[p].transaction(
            tx,
            &mut self.values,
            &mut Applied::default(),
            &mut |m, reason| refused_label(m, &reason),
        )?;
        self.pending.insert(tx.transaction_id.clone());
        self.fill_vector(tx, now);
        let mut results = self
            .champion
            .score(std::slice::from_ref(&self.vector), now)?;
        results
            .pop()
            .ok_or(ScoreError::Unscored)?
            .map_err(Into::into)
    }

    /// The feature vector of the transaction last scored (all zeros before the first).
    pub fn vector(&self) -> &FeatureVector {
        &self.vector
    }

    /// Replaces the champion, unless it needs a feature the engine does not compute.
    pub fn set_champion(&mut self, champion: Champion) -> Result<(), ScoreError> {
        self.check(Some(champion))
    }

    pub fn champion(&self) -> &Champion {
        &self.champion
    }

    pub fn config(&self) -> &LiveConfig {
        &self.config
    }

    /// The partition holding `customer`'s state: the partition the bus puts the customer's key in.
    pub fn partition_of(&self, customer: &Id) -> i32 {
        partition_for(Some(customer.as_str().as_bytes()), self.config.partitions)
    }

    /// Transactions scored here and not seen on the topic yet (remembered ones).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Forgets every partition's state and every remembered id, before following from the start.
    pub fn reset(&mut self) {
        let engine = &self.config.engine;
        self.states = (0..self.config.partitions)
            .map(|_| PartitionState::new(engine))
            .collect();
        self.pending.clear();
    }

    /// Feeds messages of the `transactions` and `labels` topics, in the order read, into their
    /// partitions' states, as the processor does; skips the transactions scored here. What cannot
    /// be decoded or applied is counted in `tally` and logged. Fails only on a message of a
    /// partition this scorer was not set up for.
    pub fn feed(
        &mut self,
        batch: &[Message],
        topics: &FollowConfig,
        tally: &mut Tally,
    ) -> Result<(), FollowError> {
        for m in batch {
            let Some(state) = self.states.get_mut(m.partition as usize) else {
                return Err(FollowError::Partitions {
                    topic: m.topic.to_string(),
                    partition: m.partition,
                    partitions: self.config.partitions,
                });
            };
            match Input::decode(m, &topics.transactions, &topics.labels) {
                Ok(Input::Label(label)) => {
                    state.label(label, m);
                    tally.labels += 1;
                }
                Ok(Input::Transaction(tx)) if self.pending.take(&tx.transaction_id) => {
                    tally.skipped += 1;
                }
                Ok(Input::Transaction(tx)) => {
                    let mut refused = 0;
                    let applied = state.transaction(
                        &tx,
                        &mut self.values,
                        &mut Applied::default(),
                        &mut |m, reason| {
                            refused += 1;
                            refused_label(m, &reason);
                        },
                    );
                    tally.refused += refused;
                    match applied {
                        Ok(()) => tally.transactions += 1,
                        Err(e) => {
                            tracing::warn!(partition = m.partition, offset = m.offset, error = %e, "live state: transaction refused");
                            tally.refused += 1;
                        }
                    }
                }
                Err(reason) => {
                    tracing::warn!(topic = %m.topic, partition = m.partition, offset = m.offset, %reason, "live state: undecodable message");
                    tally.undecodable += 1;
                }
            }
        }
        Ok(())
    }

    /// Checks `next` (or the current champion) against the feature set; installs `next` if it
    /// fits.
    fn check(&mut self, next: Option<Champion>) -> Result<(), ScoreError> {
        let mut probe = self.vector.clone();
        probe.features.0.iter_mut().for_each(|f| f.1 = 0.0);
        let set = self.config.engine.feature_set;
        match next {
            Some(mut champion) => {
                fits(&mut champion, &probe, set)?;
                self.champion = champion;
                Ok(())
            }
            None => fits(&mut self.champion, &probe, set),
        }
    }

    fn fill_vector(&mut self, tx: &Transaction, now: Timestamp) {
        let v = &mut self.vector;
        v.transaction_id.clone_from(&tx.transaction_id);
        v.customer_id.clone_from(&tx.customer_id);
        v.timestamp = tx.timestamp;
        v.ingested_at = now;
        for (slot, &value) in v.features.0.iter_mut().zip(&self.values) {
            slot.1 = value;
        }
    }
}

/// Scores `probe` (the feature set's names, all zero): a champion that needs a feature the set
/// lacks is refused with the name of the missing one.
fn fits(champion: &mut Champion, probe: &FeatureVector, set: FeatureSet) -> Result<(), ScoreError> {
    let verdict = champion.score(std::slice::from_ref(probe), time::now())?;
    match verdict.into_iter().next() {
        Some(Ok(_)) => Ok(()),
        Some(Err(reason)) => Err(ScoreError::Incompatible {
            version: champion.version().to_string(),
            feature_set: set.name(),
            reason,
        }),
        None => Err(ScoreError::Unscored),
    }
}

fn refused_label(m: &Message, reason: &str) {
    tracing::warn!(partition = m.partition, offset = m.offset, %reason, "live state: label refused");
}

/// Ids of transactions scored here and not seen on the topic yet; at most `capacity` entries in
/// `order` (where ids seen since stay until their turn), so memory is bounded.
#[derive(Debug)]
struct Pending {
    ids: HashMap<Id, u64>,
    order: VecDeque<(Id, u64)>,
    next: u64,
    capacity: usize,
}

impl Pending {
    fn new(capacity: usize) -> Pending {
        Pending {
            ids: HashMap::new(),
            order: VecDeque::new(),
            next: 0,
            capacity,
        }
    }

    fn insert(&mut self, id: Id) {
        if self.capacity == 0 {
            return;
        }
        while self.order.len() >= self.capacity {
            if let Some((old, seq)) = self.order.pop_front()
                && self.ids.get(&old) == Some(&seq)
            {
                self.ids.remove(&old);
            }
        }
        self.next += 1;
        self.ids.insert(id.clone(), self.next);
        self.order.push_back((id, self.next));
    }

    fn contains(&self, id: &Id) -> bool {
        self.ids.contains_key(id)
    }

    /// Forgets `id`; whether it was there.
    fn take(&mut self, id: &Id) -> bool {
        !self.ids.is_empty() && self.ids.remove(id).is_some()
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn clear(&mut self) {
        self.ids.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_ids_are_bounded_and_taken_once() {
        let mut p = Pending::new(3);
        for i in 0..5u64 {
            p.insert(Id::from(i));
        }
        assert_eq!(p.len(), 3);
        assert!(!p.contains(&Id::from(1u64)), "the oldest are forgotten");
        assert!(p.take(&Id::from(4u64)));
        assert!(!p.take(&Id::from(4u64)), "taken once");
        p.insert(Id::from(4u64));
        p.insert(Id::from(5u64));
        assert!(p.contains(&Id::from(4u64)) && p.contains(&Id::from(5u64)));
        assert!(p.len() <= 3 && p.order.len() <= 3);
        let mut none = Pending::new(0);
        none.insert(Id::from(1u64));
        assert!(!none.contains(&Id::from(1u64)));
    }
}
