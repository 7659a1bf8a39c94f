//! `fraudwatch bench process`: the stream processor over the configured bus, measured twice on
//! fresh topics (a unique prefix) with the generator's default world, one partition per
//! `--partitions`:
//! - throughput: a backlog of `--transactions` is produced first, then processed as fast as
//!   possible; events/s = transactions / processing time;
//! - added latency: `--rate` transactions/s are offered for `--seconds` while the processor runs;
//!   for each feature vector, the time from the transaction entering the bus (`ingested_at`) to a
//!   read_committed reader receiving its vector.
//!
//! The result is one JSON object.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fraudwatch_bus::Bus;
use fraudwatch_core::engine::{DAY_MS, EngineConfig, FeatureSet};
use fraudwatch_core::{FeatureVector, decode};
use fraudwatch_generator::run::Control;
use fraudwatch_generator::{BusSink, Config, Labels, Pace, Profile, World};
use fraudwatch_processor::{Counters, ProcessorConfig, Topics};

use crate::cli::BenchArgs;
use crate::settings::Settings;

/// Transactions/s offered during the latency run when `--rate` is absent.
const DEFAULT_RATE: u64 = 2_000;

pub(super) async fn run(args: &BenchArgs, settings: &Settings) -> anyhow::Result<String> {
    let bus = fraudwatch_bus::open(&settings.bus_url).context("opening the bus")?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let throughput = throughput(
        &bus,
        settings,
        args.transactions,
        &format!("bench-{nanos}-t-"),
    )
    .await?;
    let latency = latency(&bus, settings, args, &format!("bench-{nanos}-l-")).await?;
    let topics: Vec<String> = ["t", "l"]
        .iter()
        .flat_map(|run| Topics::with_prefix(&format!("bench-{nanos}-{run}-")).specs(1))
        .map(|t| t.name)
        .collect();
    super::pipeline::remove_topics(&*bus, &topics).await;
    Ok(format!(
        "{{\"bench\":\"process\",\"bus\":{:?},\"partitions\":{},\"feature_set\":\"velocity\",{throughput},{latency}}}",
        settings.bus_url, settings.partitions
    ))
}

fn processor(prefix: &str) -> ProcessorConfig {
    ProcessorConfig {
        engine: EngineConfig::new(FeatureSet::Velocity),
        topics: Topics::with_prefix(prefix),
        group: format!("{prefix}process"),
        transactional_id: format!("{prefix}process-1"),
        max_batch: 2000,
        poll_wait: Duration::from_millis(50),
    }
}

async fn setup(bus: &Arc<dyn Bus>, settings: &Settings, prefix: &str) -> anyhow::Result<BusSink> {
    let specs = Topics::with_prefix(prefix).specs(settings.partitions);
    bus.create_topics(&specs)
        .await
        .context("creating the bench topics")?;
    Ok(BusSink::new(bus.clone(), prefix, 5000))
}

fn world(
    transactions: u64,
) -> anyhow::Result<fraudwatch_generator::Events<fraudwatch_generator::Generated>> {
    let world = World::new(Config::new(Profile::Default))?;
    Ok(fraudwatch_generator::events(world, 7 * DAY_MS, Labels::None).limit(transactions))
}

async fn throughput(
    bus: &Arc<dyn Bus>,
    settings: &Settings,
    n: u64,
    prefix: &str,
) -> anyhow::Result<String> {
    let mut sink = setup(bus, settings, prefix).await?;
    let mut events = world(n)?;
    let produced = Instant::now();
    fraudwatch_generator::run::to_bus(&mut events, &mut sink, Control::default(), &mut |_| {})
        .await?;
    let produce_s = produced.elapsed().as_secs_f64();
    let counters = Counters::default();
    let started = Instant::now();
    let done = async {
        while counters.transactions() + counters.dead_letters() < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    fraudwatch_processor::run(&**bus, &processor(prefix), &counters, done).await?;
    let secs = started.elapsed().as_secs_f64();
    Ok(format!(
        "\"throughput\":{{\"transactions\":{n},\"seconds\":{secs:.3},\"events_per_second\":{:.0},\"produce_seconds\":{produce_s:.3}}}",
        n as f64 / secs
    ))
}

async fn latency(
    bus: &Arc<dyn Bus>,
    settings: &Settings,
    args: &BenchArgs,
    prefix: &str,
) -> anyhow::Result<String> {
    let rate = args.rate.unwrap_or(DEFAULT_RATE);
    let n = rate * args.seconds;
    let mut sink = setup(bus, settings, prefix).await?;
    let mut events = world(n)?;
    let config = processor(prefix);
    let mut reader = bus
        .subscribe(&format!("{prefix}reader"), &[&config.topics.features])
        .await?;
    let counters = Counters::default();
    let received = AtomicU64::new(0);
    let mut latencies_ms = Vec::with_capacity(n as usize);
    let control = Control {
        pace: Pace::Rate(rate as f64),
        ..Control::default()
    };
    let mut quiet = |_: &fraudwatch_generator::Summary| {};
    let produce = fraudwatch_generator::run::to_bus(&mut events, &mut sink, control, &mut quiet);
    let process = fraudwatch_processor::run(&**bus, &config, &counters, async {
        while received.load(Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let read = async {
        let deadline = Instant::now() + Duration::from_secs(args.seconds * 3 + 60);
        while (latencies_ms.len() as u64) < n && Instant::now() < deadline {
            let batch = reader.poll(5000, Duration::from_millis(100)).await?;
            let now = chrono::Utc::now();
            for m in &batch {
                let v: FeatureVector = decode(&m.payload)?;
                latencies_ms.push(
                    (now - v.ingested_at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0,
                );
            }
            received.store(latencies_ms.len() as u64, Ordering::SeqCst);
        }
        received.store(n, Ordering::SeqCst);
        anyhow::Ok(())
    };
    let (produced, processed, read) = tokio::join!(produce, process, read);
    produced?;
    processed?;
    read?;
    latencies_ms.sort_by(f64::total_cmp);
    let q = |p: f64| {
        latencies_ms
            .get(((latencies_ms.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Ok(format!(
        "\"latency\":{{\"offered_per_second\":{},\"seconds\":{},\"vectors\":{},\"p50_ms\":{:.1},\"p99_ms\":{:.1},\"max_ms\":{:.1}}}",
        rate,
        args.seconds,
        latencies_ms.len(),
        q(0.5),
        q(0.99),
        q(1.0)
    ))
}
