//! The pipeline bench's running parts: the processor, the scorers (one consumer group) and the
//! scores reader, each in its own task, and the [`Probe`] that the reader and the scorers' case
//! observer report to.

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fraudwatch_bus::Bus;
use fraudwatch_core::Timestamp;
use fraudwatch_processor::{Counters, ProcessorConfig};
use fraudwatch_scorer::Champion;
use fraudwatch_scorer::stream::{CasesCommitted, Counters as ScoreCounters, StreamConfig};
use tokio::sync::watch;

use super::latency::{Samples, ingested_ms};

/// A run that makes no progress for this long has failed.
pub(super) const STALL: Duration = Duration::from_secs(60);

/// What the reader and the scorers' observer saw.
#[derive(Debug)]
pub(super) struct Probe {
    /// Transactions that entered the bus before this (ms since the epoch) are counted, not
    /// measured: `i64::MAX` during a warm-up.
    pub from_ms: AtomicI64,
    pub scores: Mutex<Seen>,
    pub cases: Mutex<Seen>,
}

#[derive(Debug, Default)]
pub(super) struct Seen {
    /// Every one, warm-up included.
    pub total: u64,
    pub samples: Samples,
    /// When the last measured one was seen.
    pub last: Option<Instant>,
}

impl Probe {
    pub fn new(from_ms: i64) -> Probe {
        Probe {
            from_ms: AtomicI64::new(from_ms),
            scores: Mutex::default(),
            cases: Mutex::default(),
        }
    }

    /// Records one batch done now: the `ingested_at` (ms) of each of its transactions.
    fn record(&self, seen: &Mutex<Seen>, ingested: impl Iterator<Item = i64>) {
        let now_us = chrono::Utc::now().timestamp_micros();
        let at = Instant::now();
        let from = self.from_ms.load(Relaxed);
        let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
        let before = seen.samples.len();
        for ms in ingested {
            seen.total += 1;
            if ms >= from {
                seen.samples.push(now_us, ms);
            }
        }
        if seen.samples.len() > before {
            seen.last = Some(at);
        }
    }

    /// Scores read: (all, measured).
    fn scores_seen(&self) -> (u64, u64) {
        let seen = self.scores.lock().unwrap_or_else(PoisonError::into_inner);
        (seen.total, seen.samples.len() as u64)
    }
}

type Thread = std::thread::JoinHandle<anyhow::Result<()>>;

/// The running stages.
pub(super) struct Stages {
    stop: watch::Sender<bool>,
    /// The processor, the scorers, then the reader.
    threads: Vec<Thread>,
    counters: Arc<Counters>,
    scored: Arc<ScoreCounters>,
}

impl Stages {
    /// Starts the reader, the processor and one scorer per champion (`scorer`'s transactional
    /// id gets `-1`, `-2`, … appended), each on its own thread and runtime with its own clients,
    /// as separate processes would be: a stage blocking its thread (librdkafka's transaction
    /// calls do) holds up no other, and the reader measures without waiting for a stage.
    pub async fn spawn(
        bus: &Arc<dyn Bus>,
        store_url: &str,
        processor: ProcessorConfig,
        mut scorer: StreamConfig,
        champions: Vec<Champion>,
        probe: &Arc<Probe>,
    ) -> anyhow::Result<Stages> {
        let (stop, stopped) = watch::channel(false);
        let until_stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|&stop| stop).await;
        };
        // Subscribed before the stages start, so no score can be missed.
        let mut reader = bus
            .subscribe(&format!("{}-reader", scorer.group), &[&scorer.scores])
            .await?;
        let observer = probe.clone();
        scorer.on_cases_committed =
            Some(CasesCommitted(Arc::new(move |ingested: &[Timestamp]| {
                observer.record(
                    &observer.cases,
                    ingested.iter().map(|t| t.timestamp_millis()),
                );
            })));
        let counters = Arc::new(Counters::default());
        let scored = Arc::new(ScoreCounters::default());
        let mut threads = Vec::with_capacity(champions.len() + 2);
        threads.push({
            let (bus, counters, done) = (bus.clone(), counters.clone(), stopped.clone());
            on_thread("bench-processor", move || async move {
                fraudwatch_processor::run(&*bus, &processor, &counters, until_stopped(done))
                    .await
                    .context("the processor failed")
            })?
        });
        for (i, mut champion) in champions.into_iter().enumerate() {
            let (bus, scored, done) = (bus.clone(), scored.clone(), stopped.clone());
            let store_url = store_url.to_string();
            let mut config = scorer.clone();
            config.transactional_id = format!("{}-{}", scorer.transactional_id, i + 1);
            threads.push(on_thread(
                &format!("bench-scorer-{}", i + 1),
                move || async move {
                    let store = fraudwatch_store::open(&store_url).await?;
                    let mut no_reload = || None;
                    fraudwatch_scorer::stream::run(
                        &*bus,
                        &*store,
                        &mut champion,
                        &mut no_reload,
                        &config,
                        &scored,
                        until_stopped(done),
                    )
                    .await
                    .context("the scorer failed")
                },
            )?);
        }
        threads.push({
            let (probe, mut done) = (probe.clone(), stopped);
            on_thread("bench-reader", move || async move {
                loop {
                    let batch = tokio::select! {
                        _ = done.wait_for(|&stop| stop) => return Ok(()),
                        batch = reader.poll(20_000, Duration::from_millis(100)) => batch?,
                    };
                    let mut ingested = Vec::with_capacity(batch.len());
                    for m in &batch {
                        ingested.push(ingested_ms(&m.payload).with_context(|| {
                            format!("a score without ingested_at at offset {}", m.offset)
                        })?);
                    }
                    probe.record(&probe.scores, ingested.into_iter());
                }
            })?
        });
        Ok(Stages {
            stop,
            threads,
            counters,
            scored,
        })
    }

    pub fn dead_letters(&self) -> u64 {
        self.counters.dead_letters() + self.scored.dead_letters.load(Relaxed)
    }

    /// Waits until the reader has seen `n` scores (measured ones, or all of them during a
    /// warm-up), dead letters excepted; fails if a stage ends or nothing moves for a minute.
    pub async fn wait_for(&self, probe: &Probe, n: u64, what: &str) -> anyhow::Result<()> {
        let warm_up = probe.from_ms.load(Relaxed) == i64::MAX;
        let mut last = (0, Instant::now());
        loop {
            let (total, measured) = probe.scores_seen();
            let seen = if warm_up { total } else { measured };
            if seen >= n.saturating_sub(self.dead_letters()) {
                return Ok(());
            }
            anyhow::ensure!(
                !self.threads.iter().any(Thread::is_finished),
                "a stage ended during {what} ({seen} of {n} scores read)"
            );
            if seen != last.0 {
                last = (seen, Instant::now());
            } else if last.1.elapsed() > STALL {
                anyhow::bail!("{what} stalled: {seen} of {n} scores read, none for {STALL:?}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Stops every stage; the first error of one, if any.
    pub async fn stop(self) -> anyhow::Result<()> {
        // Every receiver may be gone already (each stage ended): nothing left to tell.
        let _ = self.stop.send(true);
        let threads = self.threads;
        tokio::task::spawn_blocking(move || {
            let mut first = Ok(());
            for thread in threads {
                let name = thread.thread().name().unwrap_or("a stage").to_string();
                let done = thread
                    .join()
                    .map_err(|_| anyhow::anyhow!("{name} panicked"))
                    .and_then(|r| r);
                if first.is_ok() {
                    first = done;
                }
            }
            first
        })
        .await?
    }
}

/// Runs the stage `make` makes on a thread of its own, in a runtime of its own (made there:
/// the processor's future is not `Send`, it holds a `&dyn Consumer` across an await).
fn on_thread<F>(name: &str, make: impl FnOnce() -> F + Send + 'static) -> anyhow::Result<Thread>
where
    F: Future<Output = anyhow::Result<()>>,
{
    Ok(std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(make())
        })?)
}
