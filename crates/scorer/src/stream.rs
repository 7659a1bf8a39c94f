//! The streaming stage: `features` in, `scores` out, a case for every review and block decision.
//!
//! Per polled batch: decode the vectors (undecodable ones become dead letters), score them with
//! the champion (unscorable ones become dead letters with the reason), insert the batch's cases
//! into the case store (idempotent on `transaction_id`, retried with backoff until the store
//! answers), then publish the scores and dead letters and commit the input positions together
//! (one Kafka transaction on `kafka://`). A crash before the commit repeats the batch: its scores
//! are published once (the transaction), its cases are inserted again and ignored (idempotent).
//!
//! Between batches, never inside one, the stage asks `reload` for a new champion (the binary
//! watches the registry's `champion` alias): a new bundle takes over at a batch boundary, so no
//! event is dropped or scored twice, and every score names the bundle that made it.
//!
//! In shadow (`open_cases` off, scores to `scores.shadow`) the same loop records what another
//! bundle would have decided, and decides nothing.
//!
//! Each score carries its vector's `ingested_at`; an optional [`CasesCommitted`] observer hears
//! when a batch's cases are in the store: the two ends of `fraudwatch bench`'s latencies.

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use fraudwatch_bus::dlq::DeadLetter;
use fraudwatch_bus::topics::{FEATURES, SCORES, dlq_topic};
use fraudwatch_bus::{Bus, BusError, Message, Output, Record, TopicSpec};
use fraudwatch_core::{Case, FeatureVector, Timestamp, time, wire};
use fraudwatch_store::CaseStore;

use crate::Champion;

#[derive(Debug, Clone)]
pub struct StreamConfig {
    pub features: String,
    pub scores: String,
    pub group: String,
    /// Unique per live member of the group.
    pub transactional_id: String,
    pub max_batch: usize,
    pub poll_wait: Duration,
    /// Longest wait between two attempts at the case store.
    pub max_backoff: Duration,
    /// Open a case for every review and block; off in shadow, where scores are only recorded.
    pub open_cases: bool,
    /// Told about every batch of cases the store has committed (for measuring; `None` costs
    /// nothing).
    pub on_cases_committed: Option<CasesCommitted>,
}

/// Called right after the store committed a batch's cases (before the batch's scores are
/// published), with each case's `ingested_at` in order: when its transaction entered the bus.
#[derive(Clone)]
pub struct CasesCommitted(pub Arc<CasesObserver>);

/// What a [`CasesCommitted`] calls.
pub type CasesObserver = dyn Fn(&[Timestamp]) + Send + Sync;

impl std::fmt::Debug for CasesCommitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CasesCommitted(..)")
    }
}

impl StreamConfig {
    /// The pipeline's topics with `prefix`, group `fraudwatch-score`.
    pub fn with_prefix(prefix: &str, transactional_id: &str) -> StreamConfig {
        StreamConfig {
            features: format!("{prefix}{FEATURES}"),
            scores: format!("{prefix}{SCORES}"),
            group: "fraudwatch-score".into(),
            transactional_id: transactional_id.into(),
            max_batch: 2_000,
            poll_wait: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            open_cases: true,
            on_cases_committed: None,
        }
    }

    pub fn specs(&self, partitions: i32) -> Vec<TopicSpec> {
        [&self.features, &self.scores]
            .into_iter()
            .flat_map(|t| TopicSpec::with_dlq(t, partitions))
            .collect()
    }
}

/// What the stage has committed so far.
#[derive(Debug, Default)]
pub struct Counters {
    pub scored: AtomicU64,
    pub cases: AtomicU64,
    pub dead_letters: AtomicU64,
    pub batches: AtomicU64,
    pub store_retries: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("the champion could not score a checked batch: {0}")]
    Model(#[from] fraudwatch_models::ModelError),
}

/// Runs until `shutdown` resolves, committing after every batch; takes the champion `reload`
/// returns before the next batch.
pub async fn run(
    bus: &dyn Bus,
    store: &dyn CaseStore,
    champion: &mut Champion,
    reload: &mut (dyn FnMut() -> Option<Champion> + Send),
    config: &StreamConfig,
    counters: &Counters,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StreamError> {
    let mut consumer = bus
        .subscribe_transactional(&config.group, &[&config.features], &config.transactional_id)
        .await?;
    let dlq = dlq_topic(&config.features);
    tokio::pin!(shutdown);
    loop {
        if let Some(next) = reload() {
            tracing::info!(
                from = champion.version(),
                to = next.version(),
                "new champion"
            );
            *champion = next;
        }
        let batch = tokio::select! {
            () = &mut shutdown => break,
            batch = consumer.poll(config.max_batch, config.poll_wait) => batch?,
        };
        if batch.is_empty() {
            continue;
        }
        let observed = config.on_cases_committed.as_ref();
        let handled = handle(&batch, champion, observed.is_some(), config.open_cases)?;
        if !insert_cases(store, &handled.cases, config, counters, &mut shutdown).await {
            // Shutting down before the store took the cases: commit nothing, the batch comes
            // back after a restart.
            break;
        }
        if let Some(hook) = observed
            && !handled.cases.is_empty()
        {
            (hook.0)(&handled.ingested);
        }
        let mut outputs = Vec::with_capacity(handled.scores.len() + handled.dead.len());
        for (key, payload) in &handled.scores {
            let bytes = &handled.arena;
            outputs.push(Output {
                topic: &config.scores,
                record: Record::new(&bytes[key.clone()], &bytes[payload.clone()]),
            });
        }
        for (key, payload) in &handled.dead {
            outputs.push(Output {
                topic: &dlq,
                record: Record {
                    key: key.as_deref(),
                    payload,
                },
            });
        }
        consumer.commit_with(&outputs).await?;
        counters
            .scored
            .fetch_add(handled.scores.len() as u64, Relaxed);
        counters
            .cases
            .fetch_add(handled.cases.len() as u64, Relaxed);
        counters
            .dead_letters
            .fetch_add(handled.dead.len() as u64, Relaxed);
        counters.batches.fetch_add(1, Relaxed);
        tokio::task::yield_now().await;
    }
    Ok(())
}

/// One batch's outputs: encoded scores (key and payload, spans of `arena`: one buffer a batch)
/// and dead letters (with their keys), and the cases (with their vectors' `ingested_at` when
/// observed).
struct Handled {
    arena: Vec<u8>,
    scores: Vec<(Range<usize>, Range<usize>)>,
    dead: Vec<(Option<Vec<u8>>, Vec<u8>)>,
    cases: Vec<Case>,
    ingested: Vec<Timestamp>,
}

fn handle(
    batch: &[Message],
    champion: &mut Champion,
    observed: bool,
    open_cases: bool,
) -> Result<Handled, StreamError> {
    let mut dead = Vec::new();
    let mut kill = |m: &Message, reason: String| {
        tracing::warn!(topic = %m.topic, partition = m.partition, offset = m.offset, %reason, "dead letter");
        let letter = serde_json::to_vec(&DeadLetter::new(m, reason)).unwrap_or_default();
        dead.push((m.key.as_ref().map(|k| k.to_vec()), letter));
    };
    let mut vectors = Vec::with_capacity(batch.len());
    let mut from = Vec::with_capacity(batch.len());
    for m in batch {
        match wire::decode::<FeatureVector>(&m.payload) {
            Ok(v) => {
                vectors.push(v);
                from.push(m);
            }
            Err(e) => kill(m, e.to_string()),
        }
    }
    let now = time::now();
    let results = champion.score(&vectors, now)?;
    let mut scores = Vec::with_capacity(results.len());
    let mut arena = Vec::with_capacity(results.len() * 320);
    let mut cases = Vec::new();
    let mut ingested = Vec::new();
    for ((result, v), m) in results.into_iter().zip(vectors).zip(from) {
        match result {
            Ok(score) => {
                let start = arena.len();
                arena.extend_from_slice(score.customer_id.as_str().as_bytes());
                let key = start..arena.len();
                wire::encode_into(&score, &mut arena);
                scores.push((key.clone(), key.end..arena.len()));
                if open_cases && score.decision.opens_case() {
                    if observed {
                        ingested.push(v.ingested_at);
                    }
                    cases.push(Case::open(&score, None, Some(v.features), now));
                }
            }
            Err(e) => kill(m, e.to_string()),
        }
    }
    Ok(Handled {
        arena,
        scores,
        dead,
        cases,
        ingested,
    })
}

/// Inserts until the store takes them, backing off from 50 ms to `max_backoff`; gives up (false)
/// only when shutting down.
async fn insert_cases(
    store: &dyn CaseStore,
    cases: &[Case],
    config: &StreamConfig,
    counters: &Counters,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> bool {
    if cases.is_empty() {
        return true;
    }
    let mut wait = Duration::from_millis(50);
    loop {
        match store.insert_cases(cases).await {
            Ok(_) => return true,
            Err(e) => {
                counters.store_retries.fetch_add(1, Relaxed);
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "case store unavailable");
                tokio::select! {
                    () = shutdown.as_mut() => return false,
                    () = tokio::time::sleep(wait) => {}
                }
                wait = (wait * 2).min(config.max_backoff);
            }
        }
    }
}
