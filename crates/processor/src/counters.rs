//! What the processor has done, shared with whoever watches it (the demo, the logs), and published
//! as metrics (`fraudwatch_processor_*`, exported for Prometheus by the binary).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Counters {
    transactions: AtomicU64,
    labels: AtomicU64,
    dead_letters: AtomicU64,
    batches: AtomicU64,
    /// Labels read but not yet due (a gauge).
    waiting: AtomicU64,
    /// Counted in the handled batch but not yet committed: see [`Counters::batch_committed`].
    pending: [AtomicU64; 3],
}

impl Counters {
    pub(crate) fn add(&self, transactions: u64, labels: u64, dead_letters: u64) {
        self.pending[0].fetch_add(transactions, Relaxed);
        self.pending[1].fetch_add(labels, Relaxed);
        self.pending[2].fetch_add(dead_letters, Relaxed);
    }

    /// Publishes the pending counts: the committed counters only ever count committed work.
    pub(crate) fn batch_committed(&self, waiting_labels: usize) {
        self.waiting.store(waiting_labels as u64, Relaxed);
        let [transactions, labels, dead] = [0, 1, 2].map(|i| self.pending[i].swap(0, Relaxed));
        self.transactions.fetch_add(transactions, Relaxed);
        self.labels.fetch_add(labels, Relaxed);
        self.dead_letters.fetch_add(dead, Relaxed);
        self.batches.fetch_add(1, Relaxed);
        metrics::counter!("fraudwatch_processor_transactions_total").increment(transactions);
        metrics::counter!("fraudwatch_processor_labels_total").increment(labels);
        metrics::counter!("fraudwatch_processor_dead_letters_total").increment(dead);
        metrics::counter!("fraudwatch_processor_batches_total").increment(1);
        metrics::gauge!("fraudwatch_processor_waiting_labels").set(waiting_labels as f64);
    }

    /// Transactions turned into feature vectors and committed.
    pub fn transactions(&self) -> u64 {
        self.transactions.load(Relaxed)
    }

    /// Labels given to the engine (each once its time came).
    pub fn labels(&self) -> u64 {
        self.labels.load(Relaxed)
    }

    /// Labels read but waiting for the transactions to reach their time.
    pub fn waiting_labels(&self) -> u64 {
        self.waiting.load(Relaxed)
    }

    pub fn dead_letters(&self) -> u64 {
        self.dead_letters.load(Relaxed)
    }

    pub fn batches(&self) -> u64 {
        self.batches.load(Relaxed)
    }
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} transactions, {} labels ({} waiting), {} dead letters in {} batches",
            self.transactions(),
            self.labels(),
            self.waiting_labels(),
            self.dead_letters(),
            self.batches()
        )
    }
}
