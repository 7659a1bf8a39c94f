//! Drift monitoring end to end on the REAL Kafka broker and PostgreSQL.
//!
//! Each run generates 90 days of the handbook's world (1,000 customers), trains a champion on
//! days 50–63 (after the delayed 30-day terminal windows have filled: trained earlier, the
//! reference itself would be a warm-up), and streams the `risk` features of days 66–90 onto Kafka, where `fraudwatch score`
//! and `fraudwatch monitor` run as their own processes. With drift (genuine amounts × 1.5 from
//! day 78, 2018-06-18) the monitor must raise a data-drift event that starts after the drift,
//! is detected within `DETECTION_BOUND` of event time, and names amount features only; without
//! drift (three other seeds, same length) it must raise nothing. Events are checked both in the
//! `drift_events` table and on the `drift-alerts` topic.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::scoring::{Scorer, fresh_database, params, produce, topics, train_with, vectors};
use common::{fraudwatch, kafka_url, text, unique_prefix};
use fraudwatch_bus::Record;
use fraudwatch_core::{DriftEvent, DriftKind, decode, time};

/// Where the drift starts (day 78 of the run).
const DRIFT_AT: &str = "2018-06-18T00:00:00Z";
/// The first streamed day (day 66).
const STREAM_FROM: &str = "2018-06-06";
/// How far behind the drift the event may be detected, in event time: the window (8,000 rows,
/// about 4 days here) must hold enough moved rows, and the drift must then last 3 windows of
/// 1,000 rows (half a day each).
const DETECTION_BOUND: Duration = Duration::from_secs(4 * 86_400);
/// The monitor's settings for these runs: a window of about four days, judged every half day.
/// The weekend flag is not monitored: a four-day window sees a weekend's share of it anywhere
/// between none and half.
const MONITOR_TOML: &str = r#"
[monitor]
exclude = ["tx_during_weekend"]
[monitor.window]
rows = 8000
step = 1000
min_rows = 4000
[monitor.alerts]
raise_after = 3
clear_after = 3
"#;
/// Features a change of genuine amounts may move: the amounts themselves, and the terminals'
/// risks, since more genuine payments now pass 220, which the handbook's world makes fraud.
const AMOUNT_FEATURES: [&str; 10] = [
    "amount",
    "customer_id_avg_amount_1day_window",
    "customer_id_avg_amount_7day_window",
    "customer_id_avg_amount_30day_window",
    "customer_amount_ratio_1day",
    "customer_amount_ratio_7day",
    "customer_amount_ratio_30day",
    "terminal_id_risk_1day_window",
    "terminal_id_risk_7day_window",
    "terminal_id_risk_30day_window",
];

struct Run {
    db_events: Vec<DriftEvent>,
    topic_events: Vec<DriftEvent>,
    /// What the configured webhook received.
    posted: Vec<DriftEvent>,
    /// The monitor's Prometheus page, read while it ran.
    metrics: String,
    evaluations: usize,
    log: String,
}

/// A webhook on loopback: answers every POST with 204 and keeps the bodies.
fn webhook() -> (String, std::sync::mpsc::Receiver<Vec<u8>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks/drift", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok() {
                let _ = tx.send(body);
            }
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        }
    });
    (url, rx)
}

/// A loopback port free at the time of asking.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `fraudwatch monitor` as a child process, logging to `dir/monitor.log`.
fn start_monitor(
    dir: &Path,
    url: &str,
    store: &str,
    prefix: &str,
    hook: &str,
    metrics: &str,
) -> Child {
    let action = format!("[monitor]\naction = \"webhook:{hook}\"\n");
    let config = MONITOR_TOML.replace("[monitor]\n", &action);
    std::fs::write(dir.join("monitor.toml"), config).unwrap();
    let registry = format!("file://{}", dir.join("reg").display());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fraudwatch"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FRAUDWATCH_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(["--bus", url, "--store", store, "--registry", &registry])
        .args([
            "--config",
            "monitor.toml",
            "--partitions",
            "3",
            "--log",
            "warn",
        ])
        .args(["--metrics-addr", metrics])
        .args(["monitor", "--topic-prefix", prefix, "--group"])
        .arg(format!("{prefix}monitor"))
        .args(["--report-every", "1s"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("monitor.log")).unwrap())
        .spawn()
        .unwrap()
}

async fn run(seed: u64, drift: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let seed = seed.to_string();
    let mut args = vec![
        "generate",
        "--profile",
        "handbook",
        "--days",
        "90",
        "--seed",
        &seed,
    ];
    args.extend([
        "--customers",
        "1000",
        "--terminals",
        "2000",
        "--out",
        "tx.csv",
    ]);
    if drift {
        args.extend(["--drift-at", DRIFT_AT, "--drift", "amount"]);
    }
    let o = fraudwatch(&args, d);
    assert!(o.status.success(), "{}", text(&o));
    train_with(
        d,
        &params(d),
        &["--train-start", "2018-05-21", "--train-days", "14"],
    );
    let total = std::fs::read_to_string(d.join("tx.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    let from = time::parse(&format!("{STREAM_FROM}T00:00:00Z")).unwrap();
    let stream: Vec<_> = vectors(d, total)
        .into_iter()
        .filter(|v| v.timestamp >= from)
        .collect();
    let expected = (stream.len() - 4000) / 1000 + 1;

    let url = kafka_url();
    let prefix = unique_prefix("monitor");
    let bus = fraudwatch_bus::open(&url).unwrap();
    let (features, scores) = topics(&*bus, &url, &prefix).await;
    let (store_url, _, _) = fresh_database("monitor").await;
    let mut scorer = Scorer::start(d, &url, &store_url, &prefix, "scorer.log", 2000);
    let (hook, posted) = webhook();
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let mut monitor = start_monitor(d, &url, &store_url, &prefix, &hook, &metrics_addr);
    // Garbage on both topics the monitor reads: counted and logged, nothing else.
    for topic in [&features, &scores] {
        let garbage = [&b"not json"[..], br#"{"transaction_id": 5}"#];
        let records: Vec<Record<'_>> = garbage.iter().map(|g| Record::new(b"x", g)).collect();
        bus.produce(topic, &records).await.unwrap();
    }
    produce(&*bus, &features, &stream).await;

    // Until the monitor has judged every window of the stream (its report's time line).
    let store = fraudwatch_store::open(&store_url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    let log = |d: &Path| std::fs::read_to_string(d.join("monitor.log")).unwrap_or_default();
    let evaluations = loop {
        scorer.check_running();
        if let Some(status) = monitor.try_wait().unwrap() {
            panic!("the monitor exited ({status}): {}", log(d));
        }
        let judged = match store.latest_drift_report("monitor").await.unwrap() {
            Some(body) => {
                let report: serde_json::Value = serde_json::from_str(&body).unwrap();
                report["timeline"].as_array().unwrap().len()
            }
            None => 0,
        };
        if judged >= expected {
            break judged;
        }
        assert!(
            Instant::now() < deadline,
            "the monitor judged {judged} of {expected} windows; its log: {}",
            log(d)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let metrics = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let term = Command::new("kill")
        .args(["-TERM", &monitor.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = monitor.wait().unwrap();
    assert!(status.success(), "monitor: {status}: {}", log(d));

    let db_events = store.drift_events(false, 1000).await.unwrap();
    let mut reader = bus
        .subscribe(
            &format!("{prefix}alerts-reader"),
            &[&format!("{prefix}drift-alerts")],
        )
        .await
        .unwrap();
    let mut topic_events = Vec::new();
    let mut quiet = 0;
    while quiet < 3 {
        let batch = reader.poll(1000, Duration::from_secs(1)).await.unwrap();
        quiet = if batch.is_empty() { quiet + 1 } else { 0 };
        topic_events.extend(
            batch
                .iter()
                .map(|m| decode::<DriftEvent>(&m.payload).unwrap()),
        );
    }
    // The hook posts without holding up the stream: give the last posts a moment.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let posted = posted
        .try_iter()
        .map(|body| serde_json::from_slice(&body).unwrap())
        .collect();
    Run {
        db_events,
        topic_events,
        posted,
        metrics,
        evaluations,
        log: log(d),
    }
}

/// The table holds the latest version of every event the topic carried, and the webhook got
/// every version the topic did; the metrics page shows the monitor's gauges.
fn check_table_matches_topic(run: &Run) {
    let mut posted: Vec<_> = run
        .posted
        .iter()
        .map(|e| (&e.id, e.end, e.columns.len()))
        .collect();
    let mut published: Vec<_> = run
        .topic_events
        .iter()
        .map(|e| (&e.id, e.end, e.columns.len()))
        .collect();
    posted.sort();
    published.sort();
    assert_eq!(posted, published, "the webhook got what the topic got");
    assert!(
        run.log.matches("undecodable message skipped").count() >= 4,
        "{}",
        run.log
    );
    for gauge in [
        "fraudwatch_monitor_undecodable_total",
        "fraudwatch_drift_share",
        "fraudwatch_drift_statistic{column=\"amount\",method=\"wasserstein\"}",
    ] {
        assert!(run.metrics.contains(gauge), "{gauge} in {}", run.metrics);
    }
    let mut last: HashMap<&str, &DriftEvent> = HashMap::new();
    for e in &run.topic_events {
        last.insert(&e.id, e);
    }
    assert_eq!(last.len(), run.db_events.len(), "{:?}", run.topic_events);
    for e in &run.db_events {
        let on_topic = last[e.id.as_str()];
        assert_eq!(
            (on_topic.severity, on_topic.end, on_topic.columns.len()),
            (e.severity, e.end, e.columns.len()),
            "{}",
            e.id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_amount_drift_is_detected_in_time_and_named() {
    let run = run(21, true).await;
    check_table_matches_topic(&run);
    let drift_at = time::parse(DRIFT_AT).unwrap();
    let data: Vec<&DriftEvent> = run
        .db_events
        .iter()
        .filter(|e| e.kind == DriftKind::Data)
        .collect();
    assert_eq!(
        data.len(),
        1,
        "one data-drift event: {:?}\n{}",
        run.db_events,
        run.log
    );
    let e = data[0];
    let delay = (e.detected - drift_at).to_std().unwrap_or_default();
    eprintln!(
        "drift at {DRIFT_AT}: first drifted window ends {}, raised at {} ({:.2} days later), features {:?}, {} windows judged",
        time::format(&e.start),
        time::format(&e.detected),
        delay.as_secs_f64() / 86_400.0,
        e.columns.iter().map(|c| &c.name).collect::<Vec<_>>(),
        run.evaluations
    );
    assert!(
        e.start > drift_at,
        "nothing drifted before the drift: {e:?}"
    );
    assert!(
        e.detected > drift_at && delay <= DETECTION_BOUND,
        "detected {delay:?} after the drift: {e:?}"
    );
    assert!(e.columns.iter().any(|c| c.name == "amount"), "{e:?}");
    for c in &e.columns {
        assert!(
            AMOUNT_FEATURES.contains(&c.name.as_str()),
            "{} drifted, which the amounts do not explain: {e:?}",
            c.name
        );
    }
    // The risk score moves with the amounts (the reference: the first full window of scores).
    let prediction: Vec<&DriftEvent> = run
        .db_events
        .iter()
        .filter(|e| e.kind == DriftKind::Prediction)
        .collect();
    for p in &prediction {
        eprintln!(
            "prediction drift: first window {}, raised {}, {:?}",
            time::format(&p.start),
            time::format(&p.detected),
            p.columns
        );
        assert!(p.start > drift_at, "{p:?}");
    }
}

async fn no_alert_without_drift(seed: u64) {
    let run = run(seed, false).await;
    check_table_matches_topic(&run);
    assert!(
        run.db_events.is_empty() && run.topic_events.is_empty(),
        "seed {seed}: {} windows judged, false alarms: {:?}\n{}",
        run.evaluations,
        run.db_events,
        run.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_alert_without_drift_seed_31() {
    no_alert_without_drift(31).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_alert_without_drift_seed_41() {
    no_alert_without_drift(41).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_alert_without_drift_seed_51() {
    no_alert_without_drift(51).await;
}
