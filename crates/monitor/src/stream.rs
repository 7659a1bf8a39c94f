//! The streaming stage: `features`, `scores` and `labels` in (a consumer group of its own);
//! drift events out to `drift-alerts`, the `drift_events` table and the `on_event` hook; the
//! latest report into the store; Prometheus metrics throughout.
//!
//! Delivery is at least once. Positions are committed after every evaluation; the windows live
//! in memory, so a restarted monitor refills them from where it stopped before it judges again.
//! A message that does not decode is counted and logged (its producer already dead-lettered it).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use fraudwatch_bus::topics::{DRIFT_ALERTS, FEATURES, LABELS, SCORES};
use fraudwatch_bus::{Bus, BusError, Message, Record, TopicSpec};
use fraudwatch_core::{DriftEvent, FeatureVector, Label, Score, time, wire};
use fraudwatch_store::CaseStore;

use crate::Monitor;
use crate::report::Report;

#[derive(Clone)]
pub struct StreamConfig {
    pub features: String,
    pub scores: String,
    pub labels: String,
    pub alerts: String,
    pub group: String,
    /// The name the latest report is kept under.
    pub name: String,
    pub max_batch: usize,
    pub poll_wait: Duration,
    /// Longest wait between two attempts at the store.
    pub max_backoff: Duration,
    /// Write the latest report to the store at most this often (and on shutdown).
    pub report_every: Duration,
    /// Called with every event published (after the store took it): the configured action.
    pub on_event: Option<OnEvent>,
}

/// What a [`StreamConfig::on_event`] is.
pub type OnEvent = Arc<dyn Fn(&DriftEvent) + Send + Sync>;

impl std::fmt::Debug for StreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamConfig")
            .field("features", &self.features)
            .field("scores", &self.scores)
            .field("labels", &self.labels)
            .field("alerts", &self.alerts)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl StreamConfig {
    /// The pipeline's topics with `prefix`, group `fraudwatch-monitor`.
    pub fn with_prefix(prefix: &str) -> StreamConfig {
        StreamConfig {
            features: format!("{prefix}{FEATURES}"),
            scores: format!("{prefix}{SCORES}"),
            labels: format!("{prefix}{LABELS}"),
            alerts: format!("{prefix}{DRIFT_ALERTS}"),
            group: "fraudwatch-monitor".into(),
            name: "monitor".into(),
            max_batch: 5_000,
            poll_wait: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            report_every: Duration::from_secs(10),
            on_event: None,
        }
    }

    pub fn specs(&self, partitions: i32) -> Vec<TopicSpec> {
        [&self.features, &self.scores, &self.labels, &self.alerts]
            .into_iter()
            .flat_map(|t| TopicSpec::with_dlq(t, partitions))
            .collect()
    }
}

/// What the stage has done so far.
#[derive(Debug, Default)]
pub struct Counters {
    pub features: AtomicU64,
    pub scores: AtomicU64,
    pub labels: AtomicU64,
    pub undecodable: AtomicU64,
    pub evaluations: AtomicU64,
    pub events: AtomicU64,
    pub store_retries: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Bus(#[from] BusError),
}

/// Maps a vector's named features onto the monitor's input positions.
#[derive(Debug)]
pub struct Inputs {
    names: Vec<String>,
    row: Vec<f64>,
}

impl Inputs {
    pub fn new(names: &[String]) -> Inputs {
        Inputs {
            names: names.to_vec(),
            row: vec![f64::NAN; names.len()],
        }
    }

    /// The row of `v` in input order; a feature the vector lacks is NaN (missing). The
    /// processor writes features in the bundle's order, so the lookup is positional first.
    pub fn row(&mut self, v: &FeatureVector) -> &[f64] {
        let features = &v.features.0;
        for (i, name) in self.names.iter().enumerate() {
            self.row[i] = match features.get(i) {
                Some((n, x)) if n == name => *x,
                _ => features
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(f64::NAN, |(_, x)| *x),
            };
        }
        &self.row
    }
}

/// Runs until `shutdown` resolves.
pub async fn run(
    bus: &dyn Bus,
    store: &dyn CaseStore,
    monitor: &mut Monitor,
    inputs: &mut Inputs,
    config: &StreamConfig,
    counters: &Counters,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StreamError> {
    let topics = [&*config.features, &*config.scores, &*config.labels];
    let mut consumer = bus.subscribe(&config.group, &topics).await?;
    // Store retries also watch for the shutdown; fused, it can be asked again after it fired.
    let shutdown = Fused(Some(Box::pin(shutdown)));
    tokio::pin!(shutdown);
    let mut latest: Option<Report> = None;
    let mut saved = Instant::now();
    loop {
        let batch = tokio::select! {
            () = &mut shutdown => break,
            batch = consumer.poll(config.max_batch, config.poll_wait) => batch?,
        };
        for m in &batch {
            ingest(m, monitor, inputs, config, counters);
        }
        // An empty poll: the topics are drained, nothing older can come, every row may enter.
        let evaluations = monitor.advance(batch.is_empty(), time::now());
        let evaluated = !evaluations.is_empty();
        let mut out = Out {
            bus,
            store,
            config,
            counters,
        };
        out.judged(evaluations, &mut latest, &mut shutdown).await?;
        if latest.is_some() && saved.elapsed() >= config.report_every {
            save_report(store, config, latest.take(), counters, &mut shutdown).await;
            saved = Instant::now();
        }
        if evaluated {
            consumer.commit().await?;
        }
    }
    // What is still waiting is judged too; the store gets a bounded while for the last writes.
    let mut last_writes = std::pin::pin!(tokio::time::sleep(LAST_WRITES));
    let evaluations = monitor.advance(true, time::now());
    let mut out = Out {
        bus,
        store,
        config,
        counters,
    };
    out.judged(evaluations, &mut latest, &mut last_writes)
        .await?;
    save_report(store, config, latest, counters, &mut last_writes).await;
    consumer.commit().await?;
    Ok(())
}

/// A future that stays ready once it has resolved, so it may be polled again.
struct Fused<F>(Option<std::pin::Pin<Box<F>>>);

impl<F: Future<Output = ()>> Future for Fused<F> {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let this = self.get_mut();
        match this.0.as_mut().map(|f| f.as_mut().poll(cx)) {
            Some(std::task::Poll::Pending) => std::task::Poll::Pending,
            _ => {
                this.0 = None;
                std::task::Poll::Ready(())
            }
        }
    }
}

/// How long a stopping monitor keeps trying to write its last events and report.
const LAST_WRITES: Duration = Duration::from_secs(10);

/// Where judged windows go.
struct Out<'a> {
    bus: &'a dyn Bus,
    store: &'a dyn CaseStore,
    config: &'a StreamConfig,
    counters: &'a Counters,
}

impl Out<'_> {
    /// Publishes the windows' events and metrics; the last report becomes `latest`.
    async fn judged(
        &mut self,
        evaluations: Vec<crate::Evaluation>,
        latest: &mut Option<Report>,
        stop: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
    ) -> Result<(), StreamError> {
        for e in evaluations {
            self.counters.evaluations.fetch_add(1, Relaxed);
            record_metrics(&e.report);
            for event in &e.events {
                publish(
                    self.bus,
                    self.store,
                    event,
                    self.config,
                    self.counters,
                    stop,
                )
                .await?;
            }
            *latest = Some(e.report);
        }
        Ok(())
    }
}

fn ingest(
    m: &Message,
    monitor: &mut Monitor,
    inputs: &mut Inputs,
    config: &StreamConfig,
    counters: &Counters,
) {
    let bad = |reason: String| {
        counters.undecodable.fetch_add(1, Relaxed);
        metrics::counter!("fraudwatch_monitor_undecodable_total", "topic" => m.topic.clone())
            .increment(1);
        tracing::warn!(topic = %m.topic, partition = m.partition, offset = m.offset, %reason, "undecodable message skipped");
    };
    if *m.topic == config.features {
        match wire::decode::<FeatureVector>(&m.payload) {
            Ok(v) => {
                monitor.push_features(v.timestamp.timestamp_millis(), inputs.row(&v));
                counters.features.fetch_add(1, Relaxed);
            }
            Err(e) => bad(e.to_string()),
        }
    } else if *m.topic == config.scores {
        match wire::decode::<Score>(&m.payload) {
            Ok(s) => {
                let alerted = s.decision.opens_case();
                let at = s.timestamp.timestamp_millis();
                monitor.push_score(at, s.transaction_id.as_str(), s.risk, alerted);
                counters.scores.fetch_add(1, Relaxed);
            }
            Err(e) => bad(e.to_string()),
        }
    } else if *m.topic == config.labels {
        match wire::decode::<Label>(&m.payload) {
            Ok(l) => {
                monitor.push_label(l.transaction_id.as_str(), l.is_fraud);
                counters.labels.fetch_add(1, Relaxed);
            }
            Err(e) => bad(e.to_string()),
        }
    }
}

/// The event to the store (retried until it answers), then to `drift-alerts`, then the hook.
async fn publish(
    bus: &dyn Bus,
    store: &dyn CaseStore,
    event: &DriftEvent,
    config: &StreamConfig,
    counters: &Counters,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Result<(), StreamError> {
    let state = if event.is_open() { "open" } else { "closed" };
    tracing::warn!(
        id = %event.id,
        kind = event.kind.as_str(),
        severity = event.severity.as_str(),
        state,
        share = event.share,
        columns = %event.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(","),
        "drift event"
    );
    retry(config, counters, shutdown, || {
        store.upsert_drift_event(event)
    })
    .await;
    let payload = wire::encode(event);
    bus.produce(
        &config.alerts,
        &[Record::new(event.id.as_bytes(), &payload)],
    )
    .await?;
    counters.events.fetch_add(1, Relaxed);
    metrics::counter!("fraudwatch_drift_events_total", "kind" => event.kind.as_str(), "state" => state)
        .increment(1);
    metrics::gauge!("fraudwatch_drift_open", "kind" => event.kind.as_str())
        .set(f64::from(u8::from(event.is_open())));
    if let Some(hook) = &config.on_event {
        hook(event);
    }
    Ok(())
}

async fn save_report(
    store: &dyn CaseStore,
    config: &StreamConfig,
    report: Option<Report>,
    counters: &Counters,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) {
    let Some(report) = report else { return };
    let body = match serde_json::to_string(&report) {
        Ok(body) => body,
        Err(e) => return tracing::error!(error = %e, "report not serialisable"),
    };
    let at = time::parse(&report.generated_at).unwrap_or_else(|_| time::now());
    retry(config, counters, shutdown, || {
        store.put_drift_report(&config.name, at, &body)
    })
    .await;
}

/// Retries a store write with backoff from 50 ms to `max_backoff`, until it succeeds or the
/// stage shuts down.
async fn retry<F, Fut>(
    config: &StreamConfig,
    counters: &Counters,
    shutdown: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
    mut op: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), fraudwatch_store::StoreError>>,
{
    let mut wait = Duration::from_millis(50);
    while let Err(e) = op().await {
        counters.store_retries.fetch_add(1, Relaxed);
        tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "store unavailable");
        tokio::select! {
            () = shutdown.as_mut() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(config.max_backoff);
    }
}

fn record_metrics(report: &Report) {
    metrics::gauge!("fraudwatch_drift_share").set(report.dataset.share);
    metrics::gauge!("fraudwatch_drift_window_rows").set(report.current_rows as f64);
    for c in report.columns.iter().chain(&report.prediction) {
        let labels = [("column", c.name.clone()), ("method", c.method.clone())];
        metrics::gauge!("fraudwatch_drift_statistic", &labels).set(c.statistic);
        metrics::gauge!("fraudwatch_drift_detected", &labels).set(f64::from(u8::from(c.drifted)));
    }
    if let Some(ap) = report
        .performance
        .as_ref()
        .and_then(|p| p.average_precision)
    {
        metrics::gauge!("fraudwatch_drift_average_precision").set(ap);
    }
}
