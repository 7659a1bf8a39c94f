//! `fraudwatch bench monitor [--mode embedded|kafka] --events N`: how many events per second the
//! drift monitor evaluates, side by side with the pipeline that feeds it, in one run.
//!
//! Not timed: the champion, trained as `bench` trains it; then `bench`'s flat-out run (a backlog
//! of N transactions, drained by the processor and the scorers on their own threads), leaving N
//! vectors in `features` and N scores in `scores` under a unique prefix. That run's own rate,
//! measured as `bench` measures it, is `pipeline_events_per_second`.
//!
//! Timed, `seconds`: `fraudwatch_monitor::stream::run` with the champion's monitor (`monitor_for`,
//! default window: 20,000 rows judged every 5,000) in a fresh group, from its call (subscription
//! included, as the pipeline's time includes its group joins) until its counters, read every
//! millisecond by another task, show all vectors and scores ingested and every window they fill
//! judged; then that task shuts it down. The last windows are judged on the empty poll that says
//! the topics are drained (up to `poll_wait`), so that wait is in. `events_per_second` counts
//! vectors; `keeps_up`: at least the pipeline's.
//!
//! Timed apart, `core_seconds`: the same messages read again and decoded first (not timed), then
//! pushed into a fresh monitor in the batches the bus gave (`push_features`, `push_score`,
//! `advance` a batch): the statistics alone. The gap to `seconds` is decoding, the bus, publishing.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fraudwatch_core::{FeatureVector, Id, Score, time, wire};
use fraudwatch_generator::BusSink;
use fraudwatch_generator::run::Control;
use fraudwatch_models::Bundle;
use fraudwatch_monitor::MonitorConfig;
use fraudwatch_monitor::stream::{Counters, Inputs, StreamConfig};
use fraudwatch_scorer::Champion;
use serde::Serialize;
use tokio::sync::oneshot;

use super::latency::round3;
use super::pipeline::{self, CUSTOMERS, HISTORY_DAYS, MAX_BATCH, Rig, SEED};
use super::stages::{Probe, STALL, Stages};
use crate::cli::BenchArgs;
use crate::settings::Settings;

pub(super) async fn run(args: &BenchArgs, settings: &Settings) -> anyhow::Result<String> {
    anyhow::ensure!(
        args.rate.is_none(),
        "bench monitor drains a backlog flat out: --rate does not apply to it"
    );
    let rig = Rig::open(args, settings).await?;
    tracing::info!(mode = ?args.mode, bus = %rig.bus_url, "training the champion");
    let history = rig.dir.0.join("history.csv");
    let bundle = tokio::task::spawn_blocking(move || {
        crate::demo::train_champion(&history, HISTORY_DAYS, CUSTOMERS, SEED + 1)
    })
    .await??;
    let prefix = super::unique_prefix()?;
    let n = args.events;
    tracing::info!(
        events = n,
        "filling features and scores: the pipeline, flat out"
    );
    let pipeline_seconds = fill(&rig, &bundle, &prefix, n).await?;

    let mut config = StreamConfig::with_prefix(&prefix);
    config.group = format!("{prefix}monitor");
    // The alerts topic is new; the others exist (creating them again changes nothing).
    rig.create_topics(&config.specs(rig.partitions.1)).await?;
    tracing::info!("timing the monitor's core on decoded rows");
    let (core_seconds, windows) = core(&rig, &bundle, &config, n).await?;
    tracing::info!("timing the monitor stage");
    let store = fraudwatch_store::open(&rig.store_url)
        .await
        .with_context(|| format!("opening the store {}", pipeline::redact(&rig.store_url)))?;
    let mut monitor = crate::monitor::monitor_for(&bundle, None, MonitorConfig::default())?;
    let mut inputs = Inputs::new(&bundle.features);
    let counters = Arc::new(Counters::default());
    let (stop, stopped) = oneshot::channel();
    let watcher = tokio::spawn(watch(counters.clone(), n, windows, stop));
    let started = Instant::now();
    let shutdown = async {
        let _ = stopped.await;
    };
    let ran = fraudwatch_monitor::stream::run(
        &*rig.bus,
        &*store,
        &mut monitor,
        &mut inputs,
        &config,
        &counters,
        shutdown,
    )
    .await;
    if let Err(e) = ran {
        watcher.abort();
        return Err(e).context("the monitor failed");
    }
    let (done, evaluations) = watcher.await??;
    let seconds = done.duration_since(started).as_secs_f64().max(1e-9);
    rig.remove_topics().await;

    // Rounded before they are compared, so `keeps_up` agrees with the numbers shown.
    let rate = (n as f64 / seconds).round();
    let pipeline_rate = (n as f64 / pipeline_seconds.max(1e-9)).round();
    let window = MonitorConfig::default().window;
    let report = Report {
        bench: "monitor",
        mode: args.mode.name(),
        bus: pipeline::redact(&rig.bus_url),
        store: pipeline::redact(&rig.store_url),
        partitions: rig.partitions,
        scorers: rig.scorers,
        cpus: pipeline::cpus(),
        window_rows: window.rows,
        window_step: window.step,
        events: counters.features.load(Relaxed),
        scores: counters.scores.load(Relaxed),
        seconds: round3(seconds),
        events_per_second: rate,
        evaluations,
        evaluations_per_second: (evaluations as f64 / seconds * 100.0).round() / 100.0,
        undecodable: counters.undecodable.load(Relaxed),
        drift_events: counters.events.load(Relaxed),
        core_seconds: round3(core_seconds),
        core_events_per_second: (n as f64 / core_seconds.max(1e-9)).round(),
        pipeline_seconds: round3(pipeline_seconds),
        pipeline_events_per_second: pipeline_rate,
        keeps_up: rate >= pipeline_rate,
    };
    Ok(serde_json::to_string(&report)?)
}

/// The result, in this order on the wire.
#[derive(Debug, Serialize)]
struct Report {
    bench: &'static str,
    mode: &'static str,
    bus: String,
    store: String,
    /// Of (`transactions`, `features` and `scores`); scorers of the pipeline run.
    partitions: (i32, i32),
    scorers: usize,
    cpus: usize,
    window_rows: usize,
    window_step: usize,
    /// Vectors ingested, then scores.
    events: u64,
    scores: u64,
    seconds: f64,
    events_per_second: f64,
    evaluations: u64,
    evaluations_per_second: f64,
    undecodable: u64,
    drift_events: u64,
    /// The core alone, on rows decoded beforehand.
    core_seconds: f64,
    core_events_per_second: f64,
    /// The flat-out pipeline run that filled the topics.
    pipeline_seconds: f64,
    pipeline_events_per_second: f64,
    keeps_up: bool,
}

/// `bench`'s flat-out run under `prefix`: `n` transactions produced (not counted), then drained
/// by the processor and the scorers; its seconds, from their start to the last score read.
async fn fill(rig: &Rig, bundle: &Bundle, prefix: &str, n: u64) -> anyhow::Result<f64> {
    let champions = (0..rig.scorers)
        .map(|_| Champion::new(bundle))
        .collect::<Result<Vec<_>, _>>()?;
    let (processor, scorer) = pipeline::stage_configs(rig, prefix).await?;
    let mut source = pipeline::world()?;
    let mut sink = BusSink::new(rig.bus.clone(), prefix, MAX_BATCH);
    let (mut backlog, ctl) = (pipeline::next(&mut source, n), Control::default());
    fraudwatch_generator::run::to_bus(&mut backlog, &mut sink, ctl, &mut |_| {}).await?;

    let probe = Arc::new(Probe::new(i64::MIN));
    let started = Instant::now();
    let (bus, url) = (&rig.bus, &rig.store_url);
    let stages = Stages::spawn(bus, url, processor, scorer, champions, &probe).await?;
    stages.wait_for(&probe, n, "the pipeline run").await?;
    let dead_letters = stages.dead_letters();
    stages.stop().await?;
    // The monitor is then owed exactly n vectors and n scores.
    anyhow::ensure!(
        dead_letters == 0,
        "the pipeline dead-lettered {dead_letters} of {n} transactions"
    );
    let scores = probe.scores.lock().unwrap_or_else(PoisonError::into_inner);
    let cases = probe.cases.lock().unwrap_or_else(PoisonError::into_inner);
    let done = scores.last.max(cases.last).unwrap_or(started);
    Ok(done.duration_since(started).as_secs_f64())
}

/// A message decoded for the core.
enum Row {
    Vector(i64, Box<[f64]>),
    Score(i64, Id, f64, bool),
}

/// The statistics alone: `features` and `scores` read again in a group of their own and decoded
/// (not timed), then pushed into a fresh monitor batch by batch, as `stream::run` does. Its
/// seconds, and the windows it judged: those the stage will judge on the same rows.
async fn core(
    rig: &Rig,
    bundle: &Bundle,
    config: &StreamConfig,
    n: u64,
) -> anyhow::Result<(f64, u64)> {
    let group = format!("{}-core", config.group);
    let mut consumer = rig
        .bus
        .subscribe(&group, &[&config.features, &config.scores])
        .await?;
    let mut inputs = Inputs::new(&bundle.features);
    let (mut batches, mut vectors, mut scores) = (Vec::new(), 0, 0);
    let mut moved = Instant::now();
    while vectors < n || scores < n {
        let batch = consumer.poll(config.max_batch, config.poll_wait).await?;
        if !batch.is_empty() {
            moved = Instant::now();
        } else if moved.elapsed() > STALL {
            anyhow::bail!("reading back stalled: {vectors} of {n} vectors, {scores} of {n} scores");
        }
        let mut rows = Vec::with_capacity(batch.len());
        for m in &batch {
            let at = || format!("{} at {}:{}", m.topic, m.partition, m.offset);
            if *m.topic == config.features {
                let v: FeatureVector = wire::decode(&m.payload).with_context(at)?;
                let row = inputs.row(&v).into();
                rows.push(Row::Vector(v.timestamp.timestamp_millis(), row));
                vectors += 1;
            } else {
                let s: Score = wire::decode(&m.payload).with_context(at)?;
                let alerted = s.decision.opens_case();
                let ms = s.timestamp.timestamp_millis();
                rows.push(Row::Score(ms, s.transaction_id, s.risk, alerted));
                scores += 1;
            }
        }
        batches.push(rows);
    }
    let mut monitor = crate::monitor::monitor_for(bundle, None, MonitorConfig::default())?;
    // CPU-bound for seconds: off the runtime's workers.
    let timed = tokio::task::spawn_blocking(move || {
        let (now, started) = (time::now(), Instant::now());
        let mut windows = 0;
        for rows in &batches {
            for row in rows {
                match row {
                    Row::Vector(at, values) => monitor.push_features(*at, values),
                    Row::Score(at, id, risk, alerted) => {
                        monitor.push_score(*at, id.as_str(), *risk, *alerted);
                    }
                }
            }
            windows += monitor.advance(false, now).len() as u64;
        }
        // The stage's flush, when its topics are drained.
        windows += monitor.advance(true, now).len() as u64;
        (started.elapsed().as_secs_f64(), windows)
    });
    Ok(timed.await?)
}

/// Reads the counters every millisecond until `n` vectors and `n` scores are in and `windows`
/// judged: then when, and how many were judged; `_stop`, dropped on return, shuts the stage down.
/// Fails when nothing moves for [`STALL`].
async fn watch(
    c: Arc<Counters>,
    n: u64,
    windows: u64,
    _stop: oneshot::Sender<()>,
) -> anyhow::Result<(Instant, u64)> {
    let mut last = (0, Instant::now());
    loop {
        let (vectors, scores) = (c.features.load(Relaxed), c.scores.load(Relaxed));
        let judged = c.evaluations.load(Relaxed);
        if vectors >= n && scores >= n && judged >= windows {
            return Ok((Instant::now(), judged));
        }
        let seen = vectors + scores + judged;
        if seen != last.0 {
            last = (seen, Instant::now());
        } else if last.1.elapsed() > STALL {
            anyhow::bail!(
                "the monitor stalled: {vectors} of {n} vectors, {scores} of {n} scores, \
                 {judged} of {windows} windows judged, nothing for {STALL:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
