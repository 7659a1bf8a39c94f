//! `kafka://host:port[,host:port][?key=value...]`: Apache Kafka through librdkafka.
//!
//! Query parameters are passed to librdkafka as they are (e.g. `?security.protocol=SASL_SSL`).
//! Producers are idempotent with `acks=all` and the Java client's murmur2 partitioner; consumers
//! never auto-commit: a stage commits after it has handled a batch (at-least-once here; the
//! processor and scorer add transactions for exactly-once).

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::FutureExt;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode as Code;

use crate::topics::TopicSpec;
use crate::{Bus, BusError, Consumer, Message, Record};

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

    async fn produce(&self, topic: &str, batch: &[Record<'_>]) -> Result<(), BusError> {
        let mut pending = Vec::with_capacity(batch.len());
        for r in batch {
            let mut record = FutureRecord::<[u8], [u8]>::to(topic).payload(r.payload);
            if let Some(k) = r.key {
                record = record.key(k);
            }
            loop {
                match self.producer.send_result(record) {
                    Ok(delivery) => {
                        pending.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        // The local queue is full: let deliveries drain, then retry the same record.
                        record = back;
                        self.producer.poll(Duration::from_millis(10));
                        tokio::task::yield_now().await;
                    }
                    Err((e, _)) => return Err(BusError::kafka(format!("producing to {topic}"))(e)),
                }
            }
        }
        for delivery in pending {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => {
                    return Err(BusError::kafka(format!("delivering to {topic}"))(e));
                }
                Err(_) => {
                    return Err(BusError::Other(format!(
                        "delivery to {topic} was cancelled"
                    )));
                }
            }
        }
        Ok(())
    }

    async fn subscribe(&self, group: &str, topics: &[&str]) -> Result<Box<dyn Consumer>, BusError> {
        let mut c = self.config.clone();
        c.set("group.id", group);
        set_default(&mut c, "enable.auto.commit", "false");
        set_default(&mut c, "auto.offset.reset", "earliest");
        set_default(&mut c, "isolation.level", "read_committed");
        set_default(&mut c, "session.timeout.ms", "10000");
        let consumer: StreamConsumer = c.create().map_err(BusError::kafka("creating consumer"))?;
        consumer
            .subscribe(topics)
            .map_err(BusError::kafka(format!("subscribing to {topics:?}")))?;
        Ok(Box::new(KafkaConsumer { consumer }))
    }
}

struct KafkaConsumer {
    consumer: StreamConsumer,
}

fn owned(m: &rdkafka::message::BorrowedMessage<'_>) -> Message {
    Message {
        topic: m.topic().to_string(),
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

    async fn commit(&mut self) -> Result<(), BusError> {
        match self.consumer.commit_consumer_state(CommitMode::Sync) {
            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
            Err(e) => Err(BusError::kafka("committing offsets")(e)),
        }
    }
}
