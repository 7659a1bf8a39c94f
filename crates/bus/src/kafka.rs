//! `kafka://host:port[,host:port][?key=value...]`: Apache Kafka through librdkafka.
//!
//! Query parameters are passed to librdkafka as they are (e.g. `?security.protocol=SASL_SSL`).
//! Producers are idempotent with `acks=all` and the Java client's murmur2 partitioner; consumers
//! never auto-commit: a stage commits after it has handled a batch (at-least-once here; the
//! processor and scorer add transactions for exactly-once).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::FutureExt;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::types::RDKafkaErrorCode as Code;
use rdkafka::{Offset, TopicPartitionList};

use crate::topics::TopicSpec;
use crate::{Bus, BusError, Consumer, Message, Output, Record};

/// How long a transaction step (init, commit, abort, sending offsets) may take.
const TXN_TIMEOUT: Duration = Duration::from_secs(30);

pub struct KafkaBus {
    config: ClientConfig,
    producer: FutureProducer,
}

impl std::fmt::Debug for KafkaBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaBus")
            .field("bootstrap", &self.config.get("bootstrap.servers"))
            .finish()
    }
}

impl KafkaBus {
    pub(crate) fn from_url(url: &url::Url) -> Result<Self, BusError> {
        let bad = |reason: &str| BusError::Url {
            url: url.to_string(),
            reason: reason.into(),
        };
        // `url` keeps only the first host of a list in host(); the authority holds them all.
        let authority = url.authority();
        if authority.is_empty() {
            return Err(bad("needs host:port, e.g. kafka://127.0.0.1:9092"));
        }
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", authority);
        for (k, v) in url.query_pairs() {
            config.set(k.as_ref(), v.as_ref());
        }
        Self::new(config)
    }

    /// A bus over a librdkafka configuration holding at least `bootstrap.servers`.
    pub fn new(config: ClientConfig) -> Result<Self, BusError> {
        let producer = producer_config(&config)
            .create()
            .map_err(BusError::kafka("creating producer"))?;
        Ok(Self { config, producer })
    }

    /// The librdkafka configuration this bus was opened with (for clients stages build themselves,
    /// e.g. transactional producers).
    pub fn client_config(&self) -> &ClientConfig {
        &self.config
    }
}

fn producer_config(base: &ClientConfig) -> ClientConfig {
    let mut c = base.clone();
    set_default(&mut c, "enable.idempotence", "true");
    set_default(&mut c, "acks", "all");
    set_default(&mut c, "partitioner", "murmur2_random");
    set_default(&mut c, "linger.ms", "5");
    set_default(&mut c, "message.timeout.ms", "30000");
    c
}

fn set_default(c: &mut ClientConfig, key: &str, value: &str) {
    if c.get(key).is_none() {
        c.set(key, value);
    }
}

#[async_trait]
impl Bus for KafkaBus {
    async fn create_topics(&self, topics: &[TopicSpec]) -> Result<(), BusError> {
        let admin: AdminClient<DefaultClientContext> = self
            .config
            .create()
            .map_err(BusError::kafka("creating admin client"))?;
        let new: Vec<NewTopic> = topics
            .iter()
            .map(|t| NewTopic::new(&t.name, t.partitions, TopicReplication::Fixed(1)))
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = admin
            .create_topics(&new, &opts)
            .await
            .map_err(BusError::kafka("creating topics"))?;
        for r in results {
            match r {
                Ok(_) | Err((_, Code::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(BusError::Other(format!("creating topic {name:?}: {code}")));
                }
            }
        }
        Ok(())
    }

    async fn delete_topics(&self, topics: &[&str]) -> Result<(), BusError> {
        if topics.is_empty() {
            return Ok(());
        }
        let admin: AdminClient<DefaultClientContext> = self
            .config
            .create()
            .map_err(BusError::kafka("creating admin client"))?;
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
        let results = admin
            .delete_topics(topics, &opts)
            .await
            .map_err(BusError::kafka("deleting topics"))?;
        for r in results {
            match r {
                Ok(_) | Err((_, Code::UnknownTopicOrPartition)) => {}
                Err((name, code)) => {
                    return Err(BusError::Other(format!("deleting topic {name:?}: {code}")));
                }
            }
        }
        Ok(())
    }

    async fn produce(&self, topic: &str, batch: &[Record<'_>]) -> Result<(), BusError> {
        let outputs: Vec<Output<'_>> = batch
            .iter()
            .map(|&record| Output { topic, record })
            .collect();
        produce_all(&self.producer, &outputs).await
    }

    async fn subscribe(&self, group: &str, topics: &[&str]) -> Result<Box<dyn Consumer>, BusError> {
        let consumer = self.consumer(group, topics)?;
        Ok(Box::new(KafkaConsumer {
            consumer,
            producer: self.producer.clone(),
            transactional: false,
        }))
    }

    async fn subscribe_transactional(
        &self,
        group: &str,
        topics: &[&str],
        transactional_id: &str,
    ) -> Result<Box<dyn Consumer>, BusError> {
        let mut c = producer_config(&self.config);
        c.set("transactional.id", transactional_id);
        let producer: FutureProducer = c
            .create()
            .map_err(BusError::kafka("creating transactional producer"))?;
        let init = producer.clone();
        tokio::task::spawn_blocking(move || init.init_transactions(TXN_TIMEOUT))
            .await
            .map_err(|e| BusError::Other(format!("initialising transactions: {e}")))?
            .map_err(BusError::kafka(format!(
                "initialising transactions for {transactional_id:?}"
            )))?;
        let consumer = self.consumer(group, topics)?;
        Ok(Box::new(KafkaConsumer {
            consumer,
            producer,
            transactional: true,
        }))
    }

    async fn read_partition(
        &self,
        topic: &str,
        partition: i32,
        until: i64,
        f: &mut (dyn for<'m> FnMut(&'m [Message]) + Send),
    ) -> Result<(), BusError> {
        if until <= 0 {
            return Ok(());
        }
        // Outside any group: assigned, never committing.
        let mut c = self.config.clone();
        c.set(
            "group.id",
            format!("fraudwatch-reader-{}", std::process::id()),
        );
        c.set("enable.auto.commit", "false");
        set_default(&mut c, "isolation.level", "read_committed");
        let consumer: StreamConsumer = c
            .create()
            .map_err(BusError::kafka("creating a partition reader"))?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Beginning)
            .map_err(BusError::kafka("assigning"))?;
        consumer
            .assign(&tpl)
            .map_err(BusError::kafka(format!("assigning {topic}[{partition}]")))?;
        let mut batch = Vec::with_capacity(1000);
        loop {
            // Transaction markers take offsets too, so the end is the reader's position, not the
            // last message seen.
            let position = consumer
                .position()
                .map_err(BusError::kafka("reading the position"))?;
            let at = position
                .find_partition(topic, partition)
                .map(|e| e.offset());
            if matches!(at, Some(Offset::Offset(o)) if o >= until) {
                break;
            }
            match tokio::time::timeout(Duration::from_millis(500), consumer.recv()).await {
                Err(_) => {}
                Ok(m) => {
                    let m = m.map_err(BusError::kafka(format!("reading {topic}[{partition}]")))?;
                    if m.offset() >= until {
                        break;
                    }
                    batch.push(owned(&m));
                    if batch.len() == 1000 {
                        f(&batch);
                        batch.clear();
                    }
                }
            }
        }
        f(&batch);
        Ok(())
    }
}

impl KafkaBus {
    fn consumer(
        &self,
        group: &str,
        topics: &[&str],
    ) -> Result<StreamConsumer<Rebalances>, BusError> {
        let mut c = self.config.clone();
        c.set("group.id", group);
        set_default(&mut c, "enable.auto.commit", "false");
        set_default(&mut c, "auto.offset.reset", "earliest");
        set_default(&mut c, "isolation.level", "read_committed");
        set_default(&mut c, "session.timeout.ms", "10000");
        // Range gives one member the same partition numbers of every topic it reads, which keeps
        // co-partitioned topics (transactions and labels, keyed by customer) together.
        set_default(&mut c, "partition.assignment.strategy", "range");
        let consumer: StreamConsumer<Rebalances> = c
            .create_with_context(Rebalances::default())
            .map_err(BusError::kafka("creating consumer"))?;
        consumer
            .subscribe(topics)
            .map_err(BusError::kafka(format!("subscribing to {topics:?}")))?;
        Ok(consumer)
    }
}

/// Enqueues every output, then waits until each is acknowledged.
async fn produce_all(producer: &FutureProducer, outputs: &[Output<'_>]) -> Result<(), BusError> {
    let mut pending = Vec::with_capacity(outputs.len());
    for o in outputs {
        let mut record = FutureRecord::<[u8], [u8]>::to(o.topic).payload(o.record.payload);
        if let Some(k) = o.record.key {
            record = record.key(k);
        }
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push((o.topic, delivery));
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // The local queue is full: let deliveries drain, then retry the same record.
                    record = back;
                    producer.poll(Duration::from_millis(10));
                    tokio::task::yield_now().await;
                }
                Err((e, _)) => return Err(BusError::kafka(format!("producing to {}", o.topic))(e)),
            }
        }
    }
    for (topic, delivery) in pending {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((e, _))) => return Err(BusError::kafka(format!("delivering to {topic}"))(e)),
            Err(_) => {
                return Err(BusError::Other(format!(
                    "delivery to {topic} was cancelled"
                )));
            }
        }
    }
    Ok(())
}

/// Counts the rebalances that assigned partitions to this member.
#[derive(Default)]
struct Rebalances {
    generation: AtomicU64,
}

impl ClientContext for Rebalances {}

impl ConsumerContext for Rebalances {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            tracing::info!(partitions = tpl.count(), "partitions assigned");
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }
}

struct KafkaConsumer {
    consumer: StreamConsumer<Rebalances>,
    /// Transactional when `transactional` is set, else the bus's shared producer.
    producer: FutureProducer,
    transactional: bool,
}

impl KafkaConsumer {
    /// The positions after every message returned so far, for the partitions that have one.
    fn positions(&self) -> Result<TopicPartitionList, BusError> {
        let all = self
            .consumer
            .position()
            .map_err(BusError::kafka("reading positions"))?;
        let mut out = TopicPartitionList::new();
        for e in all.elements() {
            if let Offset::Offset(o) = e.offset() {
                out.add_partition_offset(e.topic(), e.partition(), Offset::Offset(o))
                    .map_err(BusError::kafka("building offsets"))?;
            }
        }
        Ok(out)
    }

    /// One transaction: outputs, then the positions as the group's offsets. The transaction calls
    /// block their thread for one broker round trip each (milliseconds on a healthy cluster), once
    /// per batch, which is cheaper than handing them to the blocking pool.
    async fn transact(&self, outputs: &[Output<'_>]) -> Result<(), BusError> {
        self.producer
            .begin_transaction()
            .map_err(BusError::kafka("beginning a transaction"))?;
        produce_all(&self.producer, outputs).await?;
        let offsets = self.positions()?;
        if offsets.count() > 0 {
            let group = self
                .consumer
                .group_metadata()
                .ok_or_else(|| BusError::Other("the consumer has no group metadata".into()))?;
            self.producer
                .send_offsets_to_transaction(&offsets, &group, TXN_TIMEOUT)
                .map_err(BusError::kafka("adding offsets to the transaction"))?;
        }
        self.producer
            .commit_transaction(TXN_TIMEOUT)
            .map_err(BusError::kafka("committing the transaction"))
    }

    /// Seeks every assigned partition back to the group's committed offset.
    fn rewind(&self) -> Result<(), BusError> {
        let committed = self
            .consumer
            .committed(TXN_TIMEOUT)
            .map_err(BusError::kafka("reading committed offsets"))?;
        for e in committed.elements() {
            let to = match e.offset() {
                Offset::Offset(o) => Offset::Offset(o),
                _ => Offset::Beginning,
            };
            self.consumer
                .seek(e.topic(), e.partition(), to, TXN_TIMEOUT)
                .map_err(BusError::kafka(format!(
                    "rewinding {}[{}]",
                    e.topic(),
                    e.partition()
                )))?;
        }
        Ok(())
    }
}

fn owned(m: &rdkafka::message::BorrowedMessage<'_>) -> Message {
    Message {
        topic: m.topic().into(),
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(Bytes::copy_from_slice),
        payload: Bytes::copy_from_slice(m.payload().unwrap_or_default()),
        timestamp_ms: m.timestamp().to_millis().unwrap_or_default(),
    }
}

#[async_trait]
impl Consumer for KafkaConsumer {
    async fn poll(&mut self, max: usize, wait: Duration) -> Result<Vec<Message>, BusError> {
        let mut out = Vec::new();
        let first = match tokio::time::timeout(wait, self.consumer.recv()).await {
            Err(_) => return Ok(out),
            Ok(m) => m.map_err(BusError::kafka("consuming"))?,
        };
        out.push(owned(&first));
        drop(first);
        // Then whatever librdkafka already holds, without waiting again.
        while out.len() < max {
            match self.consumer.recv().now_or_never() {
                Some(Ok(m)) => out.push(owned(&m)),
                Some(Err(e)) => return Err(BusError::kafka("consuming")(e)),
                None => break,
            }
        }
        Ok(out)
    }

    async fn commit_with(&mut self, outputs: &[Output<'_>]) -> Result<(), BusError> {
        if self.transactional {
            return match self.transact(outputs).await {
                Ok(()) => Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, "transaction failed: aborting and rewinding");
                    // Abort fails only if the producer is fenced or fatally broken; the consumer
                    // is then unusable and the caller must restart it either way.
                    if let Err(abort) = self.producer.abort_transaction(TXN_TIMEOUT) {
                        return Err(BusError::kafka(format!("aborting after: {e}"))(abort));
                    }
                    self.rewind()?;
                    Err(e)
                }
            };
        }
        produce_all(&self.producer, outputs).await?;
        match self.consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
            Err(e) => Err(BusError::kafka("committing offsets")(e)),
        }
    }

    fn assignment(&self) -> Vec<(String, i32)> {
        self.consumer
            .assignment()
            .map(|tpl| {
                tpl.elements()
                    .iter()
                    .map(|e| (e.topic().to_string(), e.partition()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn generation(&self) -> u64 {
        self.consumer.context().generation.load(Ordering::SeqCst)
    }

    async fn committed(&self) -> Result<Vec<(String, i32, i64)>, BusError> {
        let tpl = self
            .consumer
            .committed(TXN_TIMEOUT)
            .map_err(BusError::kafka("reading committed offsets"))?;
        Ok(tpl
            .elements()
            .iter()
            .map(|e| {
                let at = match e.offset() {
                    Offset::Offset(o) => o,
                    _ => 0,
                };
                (e.topic().to_string(), e.partition(), at)
            })
            .collect())
    }
}
