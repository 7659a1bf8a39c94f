//! `fraudwatch demo`: the embedded mode, the pipeline in one process with no services.
//!
//! First a history: a sibling world (the next seed) of `--history-days` is generated to
//! `history.csv`, turned into features by the engine, and a bundle is trained on it with the
//! shipped settings and promoted in the registry. Then the live world streams onto the in-memory
//! bus while the stream processor turns it into feature vectors (the `risk` set, labels fed back
//! 7 days late) and the scorer scores them and opens cases in the store, all at full speed. The
//! stages that are not built yet are named as such at the end. The pipeline topics get one
//! partition here: one in-process processor reads them, and one partition keeps event-time order
//! across customers, which terminal windows and the lateness watermark rely on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fraudwatch_bus::TopicSpec;
use fraudwatch_bus::topics::LABELS;
use fraudwatch_core::engine::{DAY_MS, EngineConfig, FeatureSet};
use fraudwatch_core::{Decision, Label, Score};
use fraudwatch_generator::run::Control;
use fraudwatch_generator::{BusSink, Config, Labels, Profile, Scenario, Summary, World};
use fraudwatch_generator::{FileSink, Format};
use fraudwatch_models::Bundle;
use fraudwatch_processor::{Counters, ProcessorConfig, Topics};
use fraudwatch_scorer::Champion;
use fraudwatch_scorer::stream::{Counters as ScoreCounters, StreamConfig};
use fraudwatch_train::{Quiet, TrainParams};

use crate::cli::DemoArgs;
use crate::settings::Settings;

pub async fn run(settings: &Settings, args: &DemoArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        settings.bus_url.starts_with("memory:"),
        "the demo runs embedded, on an in-memory bus; got --bus {} (run the stages one by one against Kafka instead)",
        settings.bus_url
    );
    let bus = fraudwatch_bus::open(&settings.bus_url).context("opening the bus")?;
    bus.create_topics(&TopicSpec::pipeline(1))
        .await
        .context("creating the pipeline topics")?;
    let store = fraudwatch_store::open(&settings.store_url)
        .await
        .context("opening the case store")?;
    let started = Instant::now();
    let bundle = {
        let (settings, args) = (settings.clone(), args.clone());
        tokio::task::spawn_blocking(move || train_on_history(&settings, &args)).await??
    };
    let trained = started.elapsed();
    let mut champion = Champion::new(&bundle)?;

    let mut world = Config::new(Profile::Default);
    world.days = Some(args.days);
    world.customers = args.customers;
    world.seed = args.seed;
    let mut events = fraudwatch_generator::events(World::new(world)?, 7 * DAY_MS, Labels::All);
    let mut sink = BusSink::new(bus.clone(), "", 5_000);

    let processor = ProcessorConfig {
        engine: EngineConfig::new(FeatureSet::Risk),
        topics: Topics::with_prefix(""),
        group: "fraudwatch-demo-processor".into(),
        transactional_id: "fraudwatch-demo-processor-1".into(),
        max_batch: 5_000,
        poll_wait: Duration::from_millis(100),
    };
    let counters = Counters::default();
    let scorer = StreamConfig::with_prefix("", "fraudwatch-demo-scorer-1");
    let scored = ScoreCounters::default();
    // How many transactions the processor must see before it stops: known once generation ends
    // (0 if it failed, so the processor stops too); then the scorer, once it has scored them all.
    let total = AtomicU64::new(u64::MAX);
    let features = AtomicU64::new(u64::MAX);
    let started = Instant::now();

    let generate = async {
        let summary = fraudwatch_generator::run::to_bus(
            &mut events,
            &mut sink,
            Control::default(),
            &mut |_| {},
        )
        .await;
        total.store(
            summary.as_ref().map_or(0, |s| s.transactions),
            Ordering::SeqCst,
        );
        summary
    };
    let caught_up = async {
        while counters.transactions() + counters.dead_letters() < total.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let process = async {
        let done = fraudwatch_processor::run(&*bus, &processor, &counters, caught_up).await;
        features.store(
            if done.is_ok() {
                counters.transactions()
            } else {
                0
            },
            Ordering::SeqCst,
        );
        done
    };
    let all_scored = async {
        while scored.scored.load(Ordering::SeqCst) + scored.dead_letters.load(Ordering::SeqCst)
            < features.load(Ordering::SeqCst)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // The demo's champion is the one it trained; nothing replaces it.
    let mut no_reload = || None;
    let (summary, processed, score) = tokio::join!(
        generate,
        process,
        fraudwatch_scorer::stream::run(
            &*bus,
            &*store,
            &mut champion,
            &mut no_reload,
            &scorer,
            &scored,
            all_scored
        )
    );
    let summary = summary?;
    processed?;
    score?;
    let elapsed = started.elapsed();
    let quality = alert_quality(
        &*bus,
        &scorer.scores,
        scored.scored.load(Ordering::SeqCst),
        summary.labels,
    )
    .await?;
    report(
        settings,
        &summary,
        &counters,
        processor.engine.feature_set,
        elapsed,
    );
    println!(
        "  train:    bundle {} on {} history rows ({} to {}, {} frauds) in {:.1} s; review above risk {:.4}, block above {:.4}",
        &bundle.version[..19],
        bundle.data.rows,
        bundle.data.start,
        bundle.data.end,
        bundle.data.frauds,
        trained.as_secs_f64(),
        bundle.thresholds.review,
        bundle.thresholds.block
    );
    println!(
        "  score:    {} scored, {} alerts ({} review, {} block), {} cases opened in the store, {} dead letters",
        scored.scored.load(Ordering::SeqCst),
        quality.alerts,
        quality.reviews,
        quality.alerts - quality.reviews,
        scored.cases.load(Ordering::SeqCst),
        scored.dead_letters.load(Ordering::SeqCst)
    );
    println!(
        "            against the labels: precision {:.3} ({} of the alerts are frauds), recall {:.3} (of {} frauds)",
        quality.true_alerts as f64 / quality.alerts.max(1) as f64,
        quality.true_alerts,
        quality.true_alerts as f64 / quality.frauds.max(1) as f64,
        quality.frauds
    );
    println!(
        "  not implemented yet: serve, monitor, retrain (cases are in {}, no API serves them yet)",
        settings.store_url
    );
    Ok(())
}

/// Generates the history world, computes its features and trains the champion on it.
fn train_on_history(settings: &Settings, args: &DemoArgs) -> anyhow::Result<Bundle> {
    let path = std::path::Path::new("history.csv");
    let mut world = Config::new(Profile::Default);
    world.days = Some(args.history_days);
    world.customers = args.customers;
    world.seed = args.seed.wrapping_add(1);
    let mut events = fraudwatch_generator::events(World::new(world)?, 7 * DAY_MS, Labels::All);
    let file = std::fs::File::create(path).context("cannot create history.csv")?;
    let mut sink = FileSink::new(
        std::io::BufWriter::new(file),
        Format::Csv,
        None,
        "history.csv",
    );
    fraudwatch_generator::run::to_file(&mut events, &mut sink, Control::default(), &mut |_| {})?;
    sink.finish()?;
    let text = crate::modelling::shipped_params("default").context("the shipped default params")?;
    let mut params = TrainParams::from_toml(text)?;
    // The histogram method: about 10× faster than the shipped exact method on a month of
    // history, for a demo that should start quickly.
    params
        .xgboost
        .params
        .insert("tree_method".into(), toml::Value::String("hist".into()));
    let data = crate::modelling::load(path, &params, 7, None)?;
    let rows: Vec<usize> = (0..data.len()).collect();
    let bundle = fraudwatch_train::fit(&data, &rows, &params, &mut Quiet)?.bundle;
    let registry = crate::registry::open(&settings.registry_url)?;
    registry.put(&bundle)?;
    registry.set_alias(crate::registry::CHAMPION, &bundle.version)?;
    Ok(bundle)
}

/// How the scores' alerts compare with the labels (the generator labels every transaction).
#[derive(Debug, Default)]
struct Quality {
    alerts: u64,
    reviews: u64,
    true_alerts: u64,
    frauds: u64,
}

/// Reads `labels` (`n_labels` of them) and `scores` (`n_scores`) back from the bus.
async fn alert_quality(
    bus: &dyn fraudwatch_bus::Bus,
    scores: &str,
    n_scores: u64,
    n_labels: u64,
) -> anyhow::Result<Quality> {
    let mut frauds = std::collections::HashSet::new();
    let mut labels = bus.subscribe("fraudwatch-demo-labels", &[LABELS]).await?;
    let mut read = 0;
    while read < n_labels {
        let batch = labels.poll(50_000, Duration::from_millis(50)).await?;
        read += batch.len() as u64;
        for m in batch {
            if let Ok(l) = fraudwatch_core::wire::decode::<Label>(&m.payload)
                && l.is_fraud
            {
                frauds.insert(l.transaction_id);
            }
        }
    }
    let mut q = Quality {
        frauds: frauds.len() as u64,
        ..Quality::default()
    };
    let mut scored = bus.subscribe("fraudwatch-demo-scores", &[scores]).await?;
    let mut read = 0;
    while read < n_scores {
        let batch = scored.poll(50_000, Duration::from_millis(50)).await?;
        read += batch.len() as u64;
        for m in batch {
            let s: Score = fraudwatch_core::wire::decode(&m.payload)?;
            if s.decision.opens_case() {
                q.alerts += 1;
                q.reviews += u64::from(s.decision == Decision::Review);
                q.true_alerts += u64::from(frauds.contains(&s.transaction_id));
            }
        }
    }
    Ok(q)
}

fn report(
    settings: &Settings,
    generated: &Summary,
    counters: &Counters,
    set: FeatureSet,
    elapsed: Duration,
) {
    let frauds: u64 = Scenario::ALL
        .iter()
        .filter(|s| s.is_fraud())
        .map(|s| generated.by_scenario[s.index()])
        .sum();
    let secs = elapsed.as_secs_f64();
    println!(
        "fraudwatch demo (embedded: bus {}, store {})",
        settings.bus_url, settings.store_url
    );
    println!(
        "  generate: {} transactions ({} frauds, {:.2}%) and {} delayed labels, default world",
        generated.transactions,
        frauds,
        100.0 * frauds as f64 / generated.transactions.max(1) as f64,
        generated.labels
    );
    for s in Scenario::ALL.iter().filter(|s| s.is_fraud()) {
        println!(
            "            {:<22} {}",
            s.name().unwrap_or("?"),
            generated.by_scenario[s.index()]
        );
    }
    println!(
        "  process:  {} feature vectors ({} set, {} features), {} labels applied ({} not yet due), {} dead letters, exactly-once batches: {}",
        counters.transactions(),
        set,
        set.specs().len(),
        counters.labels(),
        counters.waiting_labels(),
        counters.dead_letters(),
        counters.batches()
    );
    println!(
        "  {:.1} s end to end, {:.0} transactions/s",
        secs,
        counters.transactions() as f64 / secs.max(1e-9)
    );
}
