//! The follower: keeps a [`LiveScorer`] current with the `transactions` and `labels` topics, from
//! the earliest retained message, under a consumer group of its own that never commits.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use fraudwatch_bus::topics::{LABELS, TRANSACTIONS};
use fraudwatch_bus::{Bus, BusError, Consumer};

use super::LiveScorer;

/// Where the follower reads and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowConfig {
    pub transactions: String,
    pub labels: String,
    /// The follower's own consumer group: unique per API process, never committed.
    pub group: String,
    pub max_batch: usize,
    pub poll_wait: Duration,
    /// Messages applied per hold of the lock: a scoring request waits for at most that many.
    pub chunk: usize,
}

impl FollowConfig {
    /// The pipeline's topics with `prefix`, group `fraudwatch-api-<instance>`.
    pub fn with_prefix(prefix: &str, instance: &str) -> FollowConfig {
        FollowConfig {
            transactions: format!("{prefix}{TRANSACTIONS}"),
            labels: format!("{prefix}{LABELS}"),
            group: format!("fraudwatch-api-{instance}"),
            max_batch: 2_000,
            poll_wait: Duration::from_millis(100),
            chunk: 256,
        }
    }
}

/// What [`LiveScorer::feed`] did with some messages.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Transactions applied.
    pub transactions: u64,
    /// Transactions already applied when they were scored here.
    pub skipped: u64,
    /// Labels read (each given to the engine once the transactions reach its time).
    pub labels: u64,
    pub undecodable: u64,
    /// Transactions and labels the engine refused (too late).
    pub refused: u64,
}

/// The follower's progress, readable while it runs (for `/readyz` and metrics).
#[derive(Debug, Default)]
pub struct FollowStatus {
    ready: AtomicBool,
    counts: [AtomicU64; 5],
}

impl FollowStatus {
    /// Whether the state has caught up with the topics: the follower owns every partition of both
    /// topics, and two polls since returned less than a full batch (it drained what the bus
    /// held). The `Bus` trait has no end offsets to compare with, so this is "nothing more came
    /// within a poll", exact on `memory://`. Stays true while the follower runs; false again once
    /// it stops.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Relaxed)
    }

    /// Everything the follower has done so far.
    pub fn tally(&self) -> Tally {
        let [transactions, skipped, labels, undecodable, refused] =
            [0, 1, 2, 3, 4].map(|i| self.counts[i].load(Relaxed));
        Tally {
            transactions,
            skipped,
            labels,
            undecodable,
            refused,
        }
    }

    fn add(&self, t: &Tally) {
        let all = [
            t.transactions,
            t.skipped,
            t.labels,
            t.undecodable,
            t.refused,
        ];
        for (count, n) in self.counts.iter().zip(all) {
            count.fetch_add(n, Relaxed);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(
        "{topic:?} has partition {partition}, but the live scorer was set up for {partitions}: \
         use the partition count of the topics"
    )]
    Partitions {
        topic: String,
        partition: i32,
        partitions: i32,
    },
    #[error(
        "the follower owns {owned} of the {expected} partitions of {topics:?}: the topics have \
         fewer partitions than configured, or another process uses group {group:?} (each API \
         process needs its own)"
    )]
    Incomplete {
        owned: usize,
        expected: usize,
        topics: [String; 2],
        group: String,
    },
    #[error(
        "group {group:?} was rebalanced while following: the state must be rebuilt (reset the \
         live scorer and follow again); is another process using the same group?"
    )]
    Rebalanced { group: String },
    #[error("the live scorer's lock is poisoned: a panic happened while it was held")]
    Poisoned,
}

/// Keeps `live` current with the `transactions` and `labels` topics until `shutdown` resolves,
/// from the earliest retained message, committing nothing. Undecodable or refused messages are
/// counted in `status` and logged. On an error `live` is left as it is: [`LiveScorer::reset`] it
/// before following again.
pub async fn follow(
    bus: &dyn Bus,
    live: &Mutex<LiveScorer>,
    config: &FollowConfig,
    status: &FollowStatus,
    shutdown: impl Future<Output = ()>,
) -> Result<(), FollowError> {
    let result = follow_until(bus, live, config, status, shutdown).await;
    status.ready.store(false, Relaxed);
    if let Err(e) = &result {
        tracing::error!(error = %e, "the live scorer stopped following");
    }
    result
}

async fn follow_until(
    bus: &dyn Bus,
    live: &Mutex<LiveScorer>,
    config: &FollowConfig,
    status: &FollowStatus,
    shutdown: impl Future<Output = ()>,
) -> Result<(), FollowError> {
    let mut consumer = bus
        .subscribe(&config.group, &[&config.transactions, &config.labels])
        .await?;
    let partitions = lock(live)?.config.partitions;
    let (mut generation, mut armed) = (None, false);
    tokio::pin!(shutdown);
    loop {
        let batch = tokio::select! {
            () = &mut shutdown => return Ok(()),
            batch = consumer.poll(config.max_batch, config.poll_wait) => batch?,
        };
        if !batch.is_empty() {
            let now = consumer.generation();
            if *generation.get_or_insert(now) != now {
                return Err(FollowError::Rebalanced {
                    group: config.group.clone(),
                });
            }
        }
        for chunk in batch.chunks(config.chunk.max(1)) {
            let mut tally = Tally::default();
            lock(live)?.feed(chunk, config, &mut tally)?;
            status.add(&tally);
        }
        if !status.is_ready() && batch.len() < config.max_batch {
            // The first short poll once every partition is owned may come before the first
            // fetch returned (Kafka); one more poll leaves it that time.
            if armed {
                tracing::info!(tally = ?status.tally(), "the live scorer has caught up");
                status.ready.store(true, Relaxed);
            } else {
                armed = owns_all(&*consumer, config, partitions)?;
            }
        }
        tokio::task::yield_now().await;
    }
}

/// Whether the consumer owns every partition of both topics (false while it owns none yet).
fn owns_all(
    consumer: &dyn Consumer,
    config: &FollowConfig,
    partitions: i32,
) -> Result<bool, FollowError> {
    let owned = consumer.assignment();
    if owned.is_empty() {
        return Ok(false);
    }
    if let Some((topic, partition)) = owned.iter().find(|(_, p)| *p >= partitions) {
        return Err(FollowError::Partitions {
            topic: topic.clone(),
            partition: *partition,
            partitions,
        });
    }
    let expected = 2 * partitions as usize;
    if owned.len() != expected {
        return Err(FollowError::Incomplete {
            owned: owned.len(),
            expected,
            topics: [config.transactions.clone(), config.labels.clone()],
            group: config.group.clone(),
        });
    }
    Ok(true)
}

/// The lock, refused when poisoned: a panic may have left a partition's state half-updated.
pub fn lock(live: &Mutex<LiveScorer>) -> Result<MutexGuard<'_, LiveScorer>, FollowError> {
    live.lock().map_err(|_| FollowError::Poisoned)
}
