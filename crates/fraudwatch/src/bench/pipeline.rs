//! `fraudwatch bench [--mode embedded|kafka] --events N [--rate R]`: the whole pipeline in one
//! process (generator → `transactions` → processor, `risk` features → scorer → `scores` + cases),
//! on the embedded backends (memory:// bus, SQLite in a temporary directory) or on the
//! configured Kafka bus and PostgreSQL store. Each stage runs on its own thread with its own
//! clients, as separate processes would; `--scorers` scorers share the `features` partitions.
//!
//! Per transaction, from entering the bus (`ingested_at`, the bus's timestamp of the
//! transaction) to (a) its score read by a read_committed consumer of `scores`, and (b) its case
//! committed in the store (alerts only: the scorer's `CasesCommitted` observer). `ingested_at`
//! has millisecond resolution, so a latency is over-estimated by up to 1 ms.
//!
//! - Open loop (`--rate R`): with the stages running and warmed up (a few thousand transactions
//!   through the whole pipeline first: Kafka group joins, caches, not measured), N transactions
//!   are offered at R/s whatever the pipeline does; `seconds` runs from the first offered to the
//!   last score read or case committed, whichever is later.
//! - Flat out (no `--rate`): a backlog of N is produced first (`produce_seconds`, not counted),
//!   then the stages start and drain it as fast as they can; `seconds` runs from their start
//!   (Kafka group joins included) to the last score read or case committed. The generator does
//!   not compete with the stages for the CPU, and latencies are mostly time queued in the backlog.
//!
//! Not timed: a champion trained as the demo trains it (28 days of a sibling world, a few
//! seconds), fresh topics under a unique prefix, and transaction ids offset per run (the store is
//! idempotent on them, and a PostgreSQL store outlives the run). The world is the demo's (default
//! profile, 5,000 customers, seed 42), without labels.

use std::convert::Infallible;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fraudwatch_bus::{Bus, TopicSpec};
use fraudwatch_core::engine::{DAY_MS, EngineConfig, FeatureSet};
use fraudwatch_core::time;
use fraudwatch_generator::run::Control;
use fraudwatch_generator::{BusSink, Config, Events, Labels, Pace, Profile, Tx, World};
use fraudwatch_processor::{ProcessorConfig, Topics};
use fraudwatch_scorer::Champion;
use fraudwatch_scorer::stream::StreamConfig;
use serde::Serialize;

use super::latency::{Summary, round3};
use super::stages::{Probe, Stages};
use crate::cli::{BenchArgs, BenchMode};
use crate::settings::Settings;

/// The demo's world: the champion fits it.
pub(super) const CUSTOMERS: u32 = 5_000;
pub(super) const SEED: u64 = 42;
pub(super) const HISTORY_DAYS: u32 = 28;
/// Transactions through the whole pipeline before an open-loop run is measured.
const WARM_UP: u64 = 2_000;
/// Messages per batch for both stages (and per Kafka transaction).
pub(super) const MAX_BATCH: usize = 5_000;

pub(super) async fn run(args: &BenchArgs, settings: &Settings) -> anyhow::Result<String> {
    let rig = Rig::open(args, settings).await?;
    tracing::info!(mode = ?args.mode, bus = %rig.bus_url, "training the champion");
    let history = rig.dir.0.join("history.csv");
    let bundle = tokio::task::spawn_blocking(move || {
        crate::demo::train_champion(&history, HISTORY_DAYS, CUSTOMERS, SEED + 1)
    })
    .await??;
    let champions = (0..rig.scorers)
        .map(|_| Champion::new(&bundle))
        .collect::<Result<Vec<_>, _>>()?;
    let prefix = super::unique_prefix()?;
    let (processor, scorer) = stage_configs(&rig, &prefix).await?;
    let mut source = world()?;
    let mut sink = BusSink::new(rig.bus.clone(), &prefix, MAX_BATCH);
    // Open loop: nothing is measured until the warm-up is through.
    let probe = Arc::new(Probe::new(if args.rate.is_some() {
        i64::MAX
    } else {
        i64::MIN
    }));
    let spawn = |champions| {
        Stages::spawn(
            &rig.bus,
            &rig.store_url,
            processor,
            scorer,
            champions,
            &probe,
        )
    };

    let (stages, started, produce_seconds) = match args.rate {
        None => {
            let produced = Instant::now();
            let ctl = Control::default();
            let mut backlog = next(&mut source, args.events);
            fraudwatch_generator::run::to_bus(&mut backlog, &mut sink, ctl, &mut |_| {}).await?;
            let produce_seconds = produced.elapsed().as_secs_f64();
            let started = Instant::now();
            (spawn(champions).await?, started, Some(produce_seconds))
        }
        Some(rate) => {
            let stages = spawn(champions).await?;
            let ctl = Control::default();
            let mut warm_up = next(&mut source, WARM_UP);
            fraudwatch_generator::run::to_bus(&mut warm_up, &mut sink, ctl, &mut |_| {}).await?;
            stages.wait_for(&probe, WARM_UP, "the warm-up").await?;
            // Later than every warm-up transaction's `ingested_at`, not later than any measured one's.
            tokio::time::sleep(Duration::from_millis(2)).await;
            probe.from_ms.store(time::now().timestamp_millis(), Relaxed);
            let started = Instant::now();
            let ctl = Control {
                pace: Pace::Rate(rate as f64),
                ..Control::default()
            };
            let mut offered = next(&mut source, args.events);
            fraudwatch_generator::run::to_bus(&mut offered, &mut sink, ctl, &mut |_| {}).await?;
            (stages, started, None)
        }
    };
    stages.wait_for(&probe, args.events, "the run").await?;
    let dead_letters = stages.dead_letters();
    stages.stop().await?;
    rig.remove_topics().await;

    let mut scores = probe.scores.lock().unwrap_or_else(PoisonError::into_inner);
    let mut cases = probe.cases.lock().unwrap_or_else(PoisonError::into_inner);
    let done = scores.last.max(cases.last).unwrap_or(started);
    let seconds = done.duration_since(started).as_secs_f64();
    let report = Report {
        bench: "pipeline",
        mode: args.mode.name(),
        bus: redact(&rig.bus_url),
        store: redact(&rig.store_url),
        partitions: rig.partitions,
        scorers: rig.scorers,
        feature_set: "risk",
        cpus: cpus(),
        rate: args.rate,
        events: args.events,
        seconds: round3(seconds),
        events_per_second: (args.events as f64 / seconds.max(1e-9)).round(),
        produce_seconds: produce_seconds.map(round3),
        alerts: cases.samples.len(),
        dead_letters,
        latency_ms: Latencies {
            score_published: scores.samples.summary(),
            case_committed: cases.samples.summary(),
        },
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
    /// Of (`transactions`, `features` and `scores`).
    partitions: (i32, i32),
    /// Scorer instances (one consumer group).
    scorers: usize,
    feature_set: &'static str,
    cpus: usize,
    /// Offered transactions/s; `null`: flat out.
    rate: Option<u64>,
    events: u64,
    seconds: f64,
    events_per_second: f64,
    /// Flat out: how long the backlog took to produce (before `seconds`).
    produce_seconds: Option<f64>,
    alerts: usize,
    dead_letters: u64,
    latency_ms: Latencies,
}

/// (a) and (b): from entering the bus to the score read, and to the case committed.
#[derive(Debug, Serialize)]
struct Latencies {
    score_published: Summary,
    case_committed: Summary,
}

/// The processor's and the scorers' settings under `prefix`, their topics created.
pub(super) async fn stage_configs(
    rig: &Rig,
    prefix: &str,
) -> anyhow::Result<(ProcessorConfig, StreamConfig)> {
    let processor = ProcessorConfig {
        engine: EngineConfig::new(FeatureSet::Risk),
        topics: Topics::with_prefix(prefix),
        group: format!("{prefix}process"),
        transactional_id: format!("{prefix}process-1"),
        max_batch: MAX_BATCH,
        poll_wait: Duration::from_millis(100),
    };
    let mut scorer = StreamConfig::with_prefix(prefix, &format!("{prefix}score"));
    scorer.group = format!("{prefix}score");
    scorer.max_batch = MAX_BATCH;
    scorer.poll_wait = Duration::from_millis(100);
    let topics = &processor.topics;
    let specs: Vec<TopicSpec> = [
        (&topics.transactions, rig.partitions.0),
        (&topics.labels, rig.partitions.0),
        (&topics.features, rig.partitions.1),
        (&scorer.scores, rig.partitions.1),
    ]
    .into_iter()
    .flat_map(|(topic, partitions)| TopicSpec::with_dlq(topic, partitions))
    .collect();
    rig.create_topics(&specs).await?;
    Ok((processor, scorer))
}

/// The demo's world, its transaction ids offset by the run: seconds since the epoch × 10⁹ leaves
/// room for 10⁹ per run (a PostgreSQL store outlives the run and is idempotent on ids).
pub(super) fn world() -> anyhow::Result<impl Iterator<Item = Result<Tx, Infallible>>> {
    let mut world = Config::new(Profile::Default);
    world.customers = CUSTOMERS;
    world.seed = SEED;
    let offset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        * 1_000_000_000;
    Ok(World::new(world)?.map(move |mut tx: Tx| {
        tx.id += offset;
        Ok::<_, Infallible>(tx)
    }))
}

/// The next `n` transactions of `source`, without labels.
pub(super) fn next<S>(source: &mut S, n: u64) -> Events<&mut S>
where
    S: Iterator<Item = Result<Tx, Infallible>>,
{
    Events::new(source, 7 * DAY_MS, Labels::None).limit(n)
}

/// The backends of one run.
pub(super) struct Rig {
    pub bus: Arc<dyn Bus>,
    pub bus_url: String,
    pub store_url: String,
    /// Of (`transactions` and `labels`, `features` and `scores`).
    pub partitions: (i32, i32),
    /// `--scorers` (one a CPU), no more than `features` has partitions.
    pub scorers: usize,
    /// The history file, and the embedded store.
    pub dir: TempDir,
    /// Topics created for the run, deleted after it (a run on Kafka writes gigabytes).
    topics: Mutex<Vec<String>>,
}

impl Rig {
    pub(super) async fn open(args: &BenchArgs, settings: &Settings) -> anyhow::Result<Rig> {
        let dir = TempDir::new()?;
        let scorers = args.scorers.map_or_else(cpus, usize::from);
        let (bus_url, store_url, partitions) = match args.mode {
            // One partition of transactions, as in the demo: one processor reads it, and
            // event-time order across customers is what terminal windows rely on. Features get
            // one a scorer. Retention above the run's size, so a flat-out backlog is never
            // trimmed (it is all in memory: about 2.6 GB a million transactions).
            BenchMode::Embedded => (
                format!(
                    "memory://?retention={}",
                    (args.events + WARM_UP + 1).max(2_000_000)
                ),
                format!("sqlite://{}", dir.0.join("cases.db").display()),
                (1, scorers as i32),
            ),
            BenchMode::Kafka => {
                anyhow::ensure!(
                    settings.bus_url.starts_with("kafka://"),
                    "bench --mode kafka runs on the configured Kafka bus, but the bus is {:?}: \
                     give --bus kafka://HOST:PORT (or set FRAUDWATCH_BUS_URL)",
                    settings.bus_url
                );
                anyhow::ensure!(
                    ["postgres://", "postgresql://"]
                        .iter()
                        .any(|s| settings.store_url.starts_with(s)),
                    "bench --mode kafka writes cases to the configured PostgreSQL store, but the \
                     store is {:?}: give --store postgres://USER:PASSWORD@HOST:PORT/DB (or set \
                     FRAUDWATCH_STORE_URL)",
                    redact(&settings.store_url)
                );
                (
                    settings.bus_url.clone(),
                    settings.store_url.clone(),
                    (settings.partitions, settings.partitions),
                )
            }
        };
        let bus = fraudwatch_bus::open(&bus_url).context("opening the bus")?;
        // Opened (and migrated) once here, so a bad store fails the run before it starts; each
        // scorer opens its own.
        fraudwatch_store::open(&store_url)
            .await
            .with_context(|| format!("opening the case store {}", redact(&store_url)))?;
        Ok(Rig {
            bus,
            bus_url,
            store_url,
            partitions,
            scorers: scorers.min(partitions.1 as usize),
            dir,
            topics: Mutex::default(),
        })
    }

    /// Creates `specs` and remembers them for [`Rig::remove_topics`].
    pub(super) async fn create_topics(&self, specs: &[TopicSpec]) -> anyhow::Result<()> {
        self.bus
            .create_topics(specs)
            .await
            .context("creating the bench topics")?;
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        topics.extend(specs.iter().map(|t| t.name.clone()));
        Ok(())
    }

    /// Deletes the run's topics. A failure is reported, not fatal: the results stand.
    pub(super) async fn remove_topics(&self) {
        let topics =
            std::mem::take(&mut *self.topics.lock().unwrap_or_else(PoisonError::into_inner));
        remove_topics(&*self.bus, &topics).await;
    }
}

/// Deletes a bench's topics, warning when it cannot.
pub(super) async fn remove_topics(bus: &dyn Bus, topics: &[String]) {
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    if let Err(e) = bus.delete_topics(&names).await {
        tracing::warn!(error = %e, topics = names.len(), "the bench's topics were not deleted");
    }
}

impl BenchMode {
    pub(super) fn name(self) -> &'static str {
        match self {
            BenchMode::Embedded => "embedded",
            BenchMode::Kafka => "kafka",
        }
    }
}

/// CPUs this process may use (at least 1).
pub(super) fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// A directory removed when dropped.
#[derive(Debug)]
pub(super) struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub(super) fn new() -> anyhow::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos();
        let path =
            std::env::temp_dir().join(format!("fraudwatch-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(dir = %self.0.display(), error = %e, "could not remove the bench's directory");
        }
    }
}

/// A URL with its secrets replaced by `***`: the password of its user, and the values of
/// query parameters named like one (e.g. librdkafka's `sasl.password`).
pub(super) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (rest, query) = rest
        .split_once('?')
        .map_or((rest, None), |(r, q)| (r, Some(q)));
    let mut out = match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{name}:***@{host}")
        }
        _ => format!("{scheme}://{rest}"),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if ["password", "secret"].iter().any(|s| k.contains(s)) => {
                    format!("{k}=***")
                }
                _ => kv.to_string(),
            })
            .collect();
        out = format!("{out}?{}", params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_passwords_only() {
        assert_eq!(
            redact("postgres://fw:secret@127.0.0.1:55432/fw"),
            "postgres://fw:***@127.0.0.1:55432/fw"
        );
        assert_eq!(
            redact("kafka://h:9092?linger.ms=0&sasl.password=x"),
            "kafka://h:9092?linger.ms=0&sasl.password=***"
        );
        assert_eq!(redact("memory://?retention=9"), "memory://?retention=9");
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
    }
}
