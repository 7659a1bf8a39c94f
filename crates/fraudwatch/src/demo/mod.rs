//! `fraudwatch demo`: the embedded mode, the pipeline in one process with no services.
//!
//! First a history: a sibling world (the next seed) of `--history-days` is generated to
//! `history.csv`, turned into features by the engine, and a bundle is trained on it with the
//! shipped settings and promoted in the registry. Then the REST API starts on `--listen` (with a
//! fresh admin key, printed) and the live world streams onto the in-memory bus at `--rate`: the
//! stream processor turns it into feature vectors (the `risk` set, labels fed back 7 days late),
//! the scorer scores them and opens cases in the store, and `POST /v1/score` scores with a copy of
//! the processor's state that follows the same topics; the drift monitor follows them too and
//! keeps its latest report in the store for the API. A summary line every few seconds gives
//! throughput and the alerts' precision and recall against the labels delivered so far. It stops
//! at `--duration` or on Ctrl-C; the API keeps answering after the stream ends until then.
//!
//! The pipeline topics get one partition here: one in-process processor reads them, and one
//! partition keeps event-time order across customers, which terminal windows and the lateness
//! watermark rely on.

mod quality;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fraudwatch_api::ApiState;
use fraudwatch_bus::TopicSpec;
use fraudwatch_core::Role;
use fraudwatch_core::engine::{DAY_MS, EngineConfig, FeatureSet};
use fraudwatch_generator::run::Control;
use fraudwatch_generator::{BusSink, Config, Labels, Pace, Profile, Scenario, Summary, World};
use fraudwatch_generator::{FileSink, Format};
use fraudwatch_models::Bundle;
use fraudwatch_processor::{Counters, ProcessorConfig, Topics};
use fraudwatch_scorer::Champion;
use fraudwatch_scorer::stream::{Counters as ScoreCounters, StreamConfig};
use fraudwatch_train::{Quiet, TrainParams};

use crate::cli::DemoArgs;
use crate::serve::{LiveScoring, ServeArgs};
use crate::settings::Settings;
use quality::Quality;

/// How often the live summary is printed.
const TICK: Duration = Duration::from_secs(5);

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
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let registry = crate::registry::open(&settings.registry_url).await?;
    let started = Instant::now();
    let bundle = {
        let args = args.clone();
        tokio::task::spawn_blocking(move || train_on_history(&args)).await??
    };
    registry.put(&bundle).await?;
    registry
        .set_alias(crate::registry::CHAMPION, &bundle.version)
        .await?;
    let trained = started.elapsed();
    let mut champion = Champion::new(&bundle)?;

    // The API, scoring with a copy of the processor's state that follows the same topics.
    // The stream covers days of event time in seconds of wall time: the API accepts a transaction
    // at any time of the demo's world, placed exactly in its windows.
    let serve_args = ServeArgs {
        lateness_secs: (u64::from(args.days) + 1).min(30) * 86_400,
        ..ServeArgs::embedded(args.listen, "demo")
    };
    let live = LiveScoring::start(bus.clone(), registry, 1, &serve_args)
        .await?
        .context("the demo's champion is in the registry")?;
    let mut state = ApiState::new(store.clone()).with_scoring(live);
    if let Some(handle) = crate::serve::prometheus() {
        state = state.with_metrics(handle);
    }
    let name = format!("demo-{}", fraudwatch_core::time::now().timestamp_millis());
    let (_, key) = fraudwatch_api::create_key(&*store, &name, Role::Admin)
        .await
        .map_err(|e| anyhow::anyhow!("creating the demo's API key: {}", e.message))?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api = tokio::spawn(fraudwatch_api::serve(listener, state, async {
        let _ = api_stopped.await;
    }));
    println!("API on {base} (OpenAPI at {base}/openapi.json), key {name} (admin):\n  {key}");
    println!("  e.g. curl -H 'Authorization: Bearer {key}' '{base}/v1/cases?limit=5'");

    // Stop streaming at the deadline or on Ctrl-C / SIGTERM, whichever comes first.
    let stop = AtomicBool::new(false);
    let stopped = async {
        crate::process::shutdown_after(args.duration).await;
        stop.store(true, Ordering::SeqCst);
    };

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
    let done = AtomicBool::new(false);
    let started = Instant::now();

    let generate = async {
        let pace = match args.rate {
            0 => Pace::Fastest,
            r => Pace::Rate(f64::from(r)),
        };
        let control = Control {
            pace,
            stop: Some(&stop),
            ..Control::default()
        };
        let summary =
            fraudwatch_generator::run::to_bus(&mut events, &mut sink, control, &mut |_| {}).await;
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
        done.store(true, Ordering::SeqCst);
    };
    let mut quality = Quality::follow(&*bus, &scorer.scores).await?;
    // The drift monitor against the champion's reference; its report is served by the API.
    let mut monitor = crate::monitor::monitor_for(&bundle, None, settings.monitor.clone())?;
    let mut inputs = fraudwatch_monitor::stream::Inputs::new(&bundle.features);
    let watch = fraudwatch_monitor::stream::StreamConfig {
        group: "fraudwatch-demo-monitor".into(),
        report_every: TICK,
        on_event: crate::monitor::action(&settings.monitor.action)?,
        ..fraudwatch_monitor::stream::StreamConfig::with_prefix("")
    };
    let watched = fraudwatch_monitor::stream::Counters::default();
    let all_watched = async {
        let seen = |c: &AtomicU64| c.load(Ordering::SeqCst);
        while !done.load(Ordering::SeqCst)
            || seen(&watched.features) < seen(&features)
            || seen(&watched.scores) < seen(&scored.scored)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // Every few seconds until the stream is done: throughput, alerts and their quality so far.
    let ticker = async {
        let mut last = (Instant::now(), 0);
        while !done.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if last.0.elapsed() < TICK && !done.load(Ordering::SeqCst) {
                continue;
            }
            quality.catch_up().await?;
            let n = counters.transactions();
            println!(
                "  [{:>4.0} s] {n} transactions ({:.0}/s), {} scored, {} alerts, {} cases; so far precision {:.3}, recall {:.3} of {} labelled frauds",
                started.elapsed().as_secs_f64(),
                (n - last.1) as f64 / last.0.elapsed().as_secs_f64(),
                scored.scored.load(Ordering::SeqCst),
                quality.alerts,
                scored.cases.load(Ordering::SeqCst),
                quality.precision(),
                quality.recall(),
                quality.frauds()
            );
            last = (Instant::now(), n);
        }
        anyhow::Ok(())
    };
    // The demo's champion is the one it trained; nothing replaces it.
    let mut no_reload = || None;
    let pipeline = async {
        let stages = tokio::join!(
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
            ),
            ticker,
            fraudwatch_monitor::stream::run(
                &*bus,
                &*store,
                &mut monitor,
                &mut inputs,
                &watch,
                &watched,
                all_watched
            )
        );
        (stages, started.elapsed())
    };
    let (((summary, processed, score, ticked, monitored), elapsed), ()) =
        tokio::join!(pipeline, async {
            stopped.await;
        });
    let summary = summary?;
    processed?;
    score?;
    ticked?;
    monitored?;
    let _ = stop_api.send(());
    api.await??;
    quality.catch_up().await?;
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
        quality.precision(),
        quality.true_alerts,
        quality.recall(),
        quality.frauds()
    );
    println!(
        "  serve:    the API answered on {base} while the pipeline ran; cases are in {}",
        settings.store_url
    );
    let events = store.drift_events(false, 100).await?;
    println!(
        "  monitor:  {} windows of {} vectors judged against the champion's reference, {} drift events{}; report at {base}/v1/drift/report",
        watched.evaluations.load(Ordering::SeqCst),
        settings.monitor.window.rows,
        events.len(),
        events
            .first()
            .map(|e| format!(
                " (latest: {} {}, {} columns, share {:.2})",
                e.kind.as_str(),
                e.severity.as_str(),
                e.columns.len(),
                e.share
            ))
            .unwrap_or_default()
    );
    Ok(())
}

/// Generates the history world, computes its features and trains the champion on it (the
/// caller registers it).
fn train_on_history(args: &DemoArgs) -> anyhow::Result<Bundle> {
    train_champion(
        std::path::Path::new("history.csv"),
        args.history_days,
        args.customers,
        args.seed.wrapping_add(1),
    )
}

/// A bundle trained on `days` of the default world (`customers`, `seed`), written to `path` in
/// the handbook's CSV layout first; not registered (the bench trains its own, too).
pub(crate) fn train_champion(
    path: &std::path::Path,
    days: u32,
    customers: u32,
    seed: u64,
) -> anyhow::Result<Bundle> {
    let mut world = Config::new(Profile::Default);
    world.days = Some(days);
    world.customers = customers;
    world.seed = seed;
    let mut events = fraudwatch_generator::events(World::new(world)?, 7 * DAY_MS, Labels::All);
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut sink = FileSink::new(
        std::io::BufWriter::new(file),
        Format::Csv,
        None,
        path.display().to_string(),
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
    Ok(fraudwatch_train::fit(&data, &rows, &params, &mut Quiet)?.bundle)
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
