//! fraudwatch's stream processor: consumes `transactions` and `labels`, runs every event through
//! the core's feature engine, and publishes a `FeatureVector` per transaction on `features`; what
//! cannot be decoded or is later than the allowed lateness goes to `<topic>.dlq` with the reason.
//! Each polled batch's outputs and input positions are committed together (one Kafka transaction
//! on `kafka://`), so a crash repeats a batch whole or not at all.
//!
//! State is kept per input partition (one engine each, fed by that partition of `transactions`
//! and the same partition of `labels`, which is co-partitioned by customer id), so features do not
//! depend on how partitions are spread over processes. When partitions are (re)assigned, the
//! state of each is rebuilt by reading it back up to the group's committed position.
//!
//! Module map:
//! - [`partition`] — one partition's engine and its labels waiting for their time (no I/O).
//! - [`batch`] — polled batches through the partitions' states into encoded outputs (no I/O).
//! - [`counters`] — what the processor has done, readable while it runs.
//! - this file — the configuration, the consume → compute → commit loop and the rebuild.

pub mod batch;
pub mod counters;
pub mod partition;

use std::future::Future;
use std::time::Duration;

use fraudwatch_bus::topics::{FEATURES, LABELS, TRANSACTIONS};
use fraudwatch_bus::{Bus, BusError, Consumer, TopicSpec};
use fraudwatch_core::engine::EngineConfig;

pub use batch::Batches;
pub use counters::Counters;

/// The topics the processor reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    pub transactions: String,
    pub labels: String,
    pub features: String,
}

impl Topics {
    /// The pipeline's topics, each name preceded by `prefix` (empty in production).
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            transactions: format!("{prefix}{TRANSACTIONS}"),
            labels: format!("{prefix}{LABELS}"),
            features: format!("{prefix}{FEATURES}"),
        }
    }

    /// The three topics and their dead-letter topics, to create with `partitions` each.
    pub fn specs(&self, partitions: i32) -> Vec<TopicSpec> {
        [&self.transactions, &self.labels, &self.features]
            .into_iter()
            .flat_map(|t| TopicSpec::with_dlq(t, partitions))
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    pub engine: EngineConfig,
    pub topics: Topics,
    /// Consumer group; processors of one group share the partitions.
    pub group: String,
    /// Unique per live member of the group (e.g. group and process id).
    pub transactional_id: String,
    /// Most messages handled per poll (and per transaction).
    pub max_batch: usize,
    /// How long one poll waits for the first message.
    pub poll_wait: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessorError {
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Runs until `shutdown` resolves, committing after every batch. Counts into `counters`.
pub async fn run(
    bus: &dyn Bus,
    config: &ProcessorConfig,
    counters: &Counters,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ProcessorError> {
    let topics = &config.topics;
    let mut consumer = bus
        .subscribe_transactional(
            &config.group,
            &[&topics.transactions, &topics.labels],
            &config.transactional_id,
        )
        .await?;
    let mut batches = Batches::new(topics, config.engine.clone());
    let mut generation = None;
    tokio::pin!(shutdown);
    loop {
        let batch = tokio::select! {
            () = &mut shutdown => break,
            batch = consumer.poll(config.max_batch, config.poll_wait) => batch?,
        };
        if batch.is_empty() {
            continue;
        }
        let now = consumer.generation();
        if generation != Some(now) {
            rebuild(bus, &*consumer, topics, &mut batches).await?;
            generation = Some(now);
        }
        batches.handle(&batch, counters);
        consumer.commit_with(&batches.records()).await?;
        counters.batch_committed(batches.waiting_labels());
        // Let the other tasks of an embedded pipeline run between batches.
        tokio::task::yield_now().await;
    }
    tracing::info!(counters = %counters, "processor stopped");
    Ok(())
}

/// Rebuilds the state of every partition the consumer owns from what the group has committed:
/// labels first (they wait for their time), then transactions, outputs discarded.
async fn rebuild(
    bus: &dyn Bus,
    consumer: &dyn Consumer,
    topics: &Topics,
    batches: &mut Batches,
) -> Result<(), ProcessorError> {
    batches.reset();
    let mut committed = consumer.committed().await?;
    committed.sort_by_key(|(topic, partition, _)| (*topic != topics.labels, *partition));
    let mut replayed = 0usize;
    for (topic, partition, until) in committed {
        bus.read_partition(
            &topic,
            partition,
            until,
            &mut |messages: &[fraudwatch_bus::Message]| {
                replayed += messages.len();
                batches.replay(messages);
            },
        )
        .await?;
    }
    tracing::info!(
        replayed,
        waiting_labels = batches.waiting_labels(),
        "partition state rebuilt"
    );
    Ok(())
}
