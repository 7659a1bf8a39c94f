//! `fraudwatch demo`: the embedded mode, the pipeline in one process with no services.
//!
//! The generator's default world streams onto the in-memory bus while the stream processor turns
//! it into feature vectors, both at full speed; the stages that are not built yet are named as such
//! at the end. The pipeline topics get one partition here: one in-process processor reads them, and
//! one partition keeps event-time order across customers, which terminal windows and the lateness
//! watermark rely on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fraudwatch_bus::TopicSpec;
use fraudwatch_core::engine::{DAY_MS, EngineConfig, FeatureSet};
use fraudwatch_generator::run::Control;
use fraudwatch_generator::{BusSink, Config, Labels, Profile, Scenario, Summary, World};
use fraudwatch_processor::{Counters, ProcessorConfig, Topics};

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
    fraudwatch_store::open(&settings.store_url)
        .await
        .context("opening the case store")?;

    let mut world = Config::new(Profile::Default);
    world.days = Some(args.days);
    world.customers = args.customers;
    world.seed = args.seed;
    let mut events = fraudwatch_generator::events(World::new(world)?, 7 * DAY_MS, Labels::All);
    let mut sink = BusSink::new(bus.clone(), "", 5_000);

    let processor = ProcessorConfig {
        engine: EngineConfig::new(FeatureSet::Velocity),
        topics: Topics::with_prefix(""),
        group: "fraudwatch-demo-processor".into(),
        transactional_id: "fraudwatch-demo-processor-1".into(),
        max_batch: 5_000,
        poll_wait: Duration::from_millis(100),
    };
    let counters = Counters::default();
    // How many transactions the processor must see before it stops: known once generation ends
    // (0 if it failed, so the processor stops too).
    let total = AtomicU64::new(u64::MAX);
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
    let (summary, processed) = tokio::join!(
        generate,
        fraudwatch_processor::run(&*bus, &processor, &counters, caught_up)
    );
    let summary = summary?;
    processed?;
    report(
        settings,
        &summary,
        &counters,
        processor.engine.feature_set,
        started.elapsed(),
    );
    Ok(())
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
    println!(
        "  not implemented yet: score, cases, monitor, retrain (no transaction was scored, no case opened)"
    );
}
