//! fraudwatch's event bus. Stages talk to one trait, [`Bus`], and never name a backend: the URL
//! picks it ([`open`]).
//!
//! Module map:
//! - [`message`] — `Record` (what a producer sends) and `Message` (what a consumer receives).
//! - [`memory`] — `memory://`, an in-process broker with partitions, consumer groups and commits.
//! - [`kafka`] — `kafka://host:port[,host:port][?librdkafka.key=value]`, Apache Kafka via librdkafka.
//! - [`dlq`] — the typed decode path: valid messages out, the rest to `<topic>.dlq` with the reason.
//! - [`topics`] — the pipeline's topic names and the partitioner shared by both backends' keys.

pub mod dlq;
pub mod kafka;
pub mod memory;
pub mod message;
pub mod topics;

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use dlq::{DeadLetter, Decoded, decode_batch};
pub use message::{Message, Record};
pub use topics::TopicSpec;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("bad bus URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("unknown topic {0:?} (create it first)")]
    UnknownTopic(String),
    #[error("kafka: {context}: {source}")]
    Kafka {
        context: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("{0}")]
    Other(String),
}

impl BusError {
    pub(crate) fn kafka(
        context: impl Into<String>,
    ) -> impl FnOnce(rdkafka::error::KafkaError) -> BusError {
        let context = context.into();
        move |source| BusError::Kafka { context, source }
    }
}

/// An event bus: topics of partitioned logs, read by consumer groups that commit their positions.
#[async_trait]
pub trait Bus: Send + Sync + Debug {
    /// Creates the topics that do not exist yet; existing ones are left as they are.
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), BusError>;

    /// Deletes topics with everything in them; ones that do not exist are no error.
    async fn delete_topics(&self, topics: &[&str]) -> Result<(), BusError>;

    /// Appends a batch to `topic`, each record to the partition its key hashes to. Returns once every
    /// record is durably accepted (for Kafka: acknowledged by all in-sync replicas).
    async fn produce(&self, topic: &str, batch: &[Record<'_>]) -> Result<(), BusError>;

    /// Joins consumer group `group` on `topics`. A group with no committed position starts at the
    /// earliest retained message.
    async fn subscribe(&self, group: &str, topics: &[&str]) -> Result<Box<dyn Consumer>, BusError>;

    /// Like [`Bus::subscribe`], for consume → produce → commit cycles that are exactly-once:
    /// [`Consumer::commit_with`] publishes a batch's outputs and commits its positions in one
    /// transaction. `transactional_id` must be unique among the group's live members (e.g. the
    /// group name and a process id); a restarted member may reuse its id, which fences its old self.
    async fn subscribe_transactional(
        &self,
        group: &str,
        topics: &[&str],
        transactional_id: &str,
    ) -> Result<Box<dyn Consumer>, BusError>;

    /// Reads one partition from its oldest retained message up to, not including, offset
    /// `until`, handing the (committed) messages to `f` a batch at a time. Outside any group: for
    /// rebuilding state that was computed from a partition before it moved.
    async fn read_partition(
        &self,
        topic: &str,
        partition: i32,
        until: i64,
        f: &mut (dyn for<'m> FnMut(&'m [Message]) + Send),
    ) -> Result<(), BusError>;
}

/// A record bound for a topic, published by [`Consumer::commit_with`].
#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    pub topic: &'a str,
    pub record: Record<'a>,
}

/// One member of a consumer group.
#[async_trait]
pub trait Consumer: Send {
    /// Returns up to `max` messages, waiting at most `wait` for the first one (an empty batch means
    /// none arrived in time). Within a partition, messages come in offset order.
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Message>, BusError>;

    /// Commits, for the group, the position after every message this consumer has returned.
    async fn commit(&mut self) -> Result<(), BusError> {
        self.commit_with(&[]).await
    }

    /// Publishes `outputs`, then commits as [`Consumer::commit`] does. On a transactional consumer
    /// both happen atomically (a crash leaves neither, read_committed readers never see a partial
    /// batch); if the transaction fails it is aborted and the consumer rewinds to the committed
    /// positions, so the same messages are polled again. On a plain consumer: outputs first, then
    /// the commit (at-least-once).
    async fn commit_with(&mut self, outputs: &[Output<'_>]) -> Result<(), BusError>;

    /// The partitions this member owns now, as (topic, partition).
    fn assignment(&self) -> Vec<(String, i32)>;

    /// The group's committed position (the next offset to read) of each partition this member
    /// owns; 0 where nothing was committed yet.
    async fn committed(&self) -> Result<Vec<(String, i32, i64)>, BusError>;

    /// Changes whenever a rebalance hands this member partitions: state kept per partition must be
    /// rebuilt when it does (the partitions may have been processed elsewhere meanwhile).
    fn generation(&self) -> u64;
}

/// Opens the backend a URL names: `memory://` or `kafka://`.
pub fn open(url: &str) -> Result<Arc<dyn Bus>, BusError> {
    let parsed = url::Url::parse(url).map_err(|e| BusError::Url {
        url: url.into(),
        reason: e.to_string(),
    })?;
    match parsed.scheme() {
        "memory" => Ok(Arc::new(memory::MemoryBus::from_url(&parsed)?)),
        "kafka" => Ok(Arc::new(kafka::KafkaBus::from_url(&parsed)?)),
        other => Err(BusError::Url {
            url: url.into(),
            reason: format!("unknown scheme {other:?}; expected memory:// or kafka://"),
        }),
    }
}

/// Reads an optional positive integer query parameter of a bus URL.
pub(crate) fn url_param<T: std::str::FromStr>(
    url: &url::Url,
    key: &str,
) -> Result<Option<T>, BusError> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| {
            v.parse().map_err(|_| BusError::Url {
                url: url.to_string(),
                reason: format!("{key}={v} is not valid"),
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_backends_and_garbage_is_refused() {
        assert!(open("memory://").is_ok());
        assert!(open("memory://?partitions=8").is_ok());
        assert!(
            open("kafka://127.0.0.1:9092").is_ok(),
            "creating a client does not connect"
        );
        for bad in [
            "",
            "redis://x",
            "memory://?partitions=zero",
            "memory://?partitions=0",
            "memory://?retention=0",
            "kafka://",
            "nonsense",
        ] {
            let err = open(bad).unwrap_err().to_string();
            assert!(err.contains("bus URL"), "{bad}: {err}");
        }
    }
}
