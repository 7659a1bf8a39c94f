//! fraudwatch's stream processor: consumes `transactions` and `labels`, runs every event through
//! the core's feature engine, and publishes a `FeatureVector` per transaction on `features`; what
//! cannot be decoded or is later than the allowed lateness goes to `<topic>.dlq` with the reason.
//! Each polled batch's outputs and input positions are committed together (one Kafka transaction
//! on `kafka://`), so a crash repeats a batch whole or not at all.
//!
//! Module map:
//! - [`batch`] — one polled batch through the engine into encoded outputs (no I/O).
//! - [`counters`] — what the processor has done, readable while it runs.
//! - this file — the configuration and the consume → compute → commit loop.

pub mod batch;
pub mod counters;

use std::future::Future;
use std::time::Duration;

use fraudwatch_bus::topics::{FEATURES, LABELS, TRANSACTIONS};
use fraudwatch_bus::{Bus, BusError};
use fraudwatch_core::engine::{Engine, EngineConfig};

pub use batch::Outputs;
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
    #[error(
        "the group's partitions were reassigned (rebalance {from} -> {to}); this processor keeps its \
         windows in memory and does not yet rebuild them for moved partitions: restart it"
    )]
    Rebalanced { from: u64, to: u64 },
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
    let mut engine = Engine::new(config.engine.clone());
    let mut outputs = Outputs::new(topics, engine.width());
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
        match generation {
            None => generation = Some(now),
            Some(from) if from != now => return Err(ProcessorError::Rebalanced { from, to: now }),
            Some(_) => {}
        }
        outputs.handle(&mut engine, &batch, counters);
        consumer.commit_with(&outputs.records()).await?;
        counters.batch_committed(outputs.waiting_labels());
    }
    tracing::info!(counters = %counters, "processor stopped");
    Ok(())
}
