//! Retraining after drift, end to end on the REAL Kafka broker and PostgreSQL, with
//! `fraudwatch retrain --once` as its own process.
//!
//! 80 days of the handbook's world (1,000 customers) where genuine amounts double from day 55
//! (2018-05-26): more genuine payments now pass 220, which this world makes fraud, and the
//! others look like the compromised cards' big spends. The champion is trained on days 37–50,
//! before the drift. The pipeline's record — the `risk` feature vectors of days 37–79 on the
//! `features` topic, their labels on `labels` — is what the retrain extracts; it trains on
//! post-drift days, holds out the latest settled week, and must beat the champion there and be
//! promoted. The numbers are printed (docs/retrain.md quotes them). Before that, the run is
//! SIGKILLed mid-task and started again under the same id; after it, the same run again changes
//! nothing, and a drift alert starts a run of its own.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::scoring::{fresh_database, params, produce, train_with, vectors};
use common::{fraudwatch, kafka_url, text, unique_prefix};
use fraudwatch_bus::{Record, TopicSpec};
use fraudwatch_core::{Label, LabelSource, encode, time};

const RETRAIN_TOML: &str = r#"
[retrain]
train_days = 14
delay_days = 2
test_days = 7
label_delay_days = 3
min_rows = 5000
min_frauds = 50
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_drift_a_retrained_challenger_beats_the_champion_and_is_promoted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut args = vec![
        "generate",
        "--profile",
        "handbook",
        "--days",
        "80",
        "--seed",
        "5",
    ];
    args.extend([
        "--customers",
        "1000",
        "--terminals",
        "2000",
        "--out",
        "tx.csv",
    ]);
    args.extend([
        "--drift-at",
        "2018-05-26",
        "--drift",
        "amount",
        "--drift-amount-factor",
        "2",
    ]);
    let o = fraudwatch(&args, d);
    assert!(o.status.success(), "{}", text(&o));
    let params = params(d);
    train_with(
        d,
        &params,
        &["--train-start", "2018-05-07", "--train-days", "14"],
    );
    let champion = std::fs::read_to_string(d.join("reg/aliases.json")).unwrap();

    // The pipeline's record on Kafka: vectors from day 37 on, and every transaction's label.
    let total = std::fs::read_to_string(d.join("tx.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    let from = time::parse("2018-05-07T00:00:00Z").unwrap();
    let stream: Vec<_> = vectors(d, total)
        .into_iter()
        .filter(|v| v.timestamp >= from)
        .collect();
    let frauds: std::collections::HashSet<String> = std::fs::read_to_string(d.join("tx.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells.get(7) == Some(&"1")).then(|| cells[0].to_string())
        })
        .collect();
    let url = kafka_url();
    let prefix = unique_prefix("retrain");
    let bus = fraudwatch_bus::open(&url).unwrap();
    let (features, labels) = (format!("{prefix}features"), format!("{prefix}labels"));
    let specs: Vec<TopicSpec> = [&features, &labels]
        .into_iter()
        .map(|t| TopicSpec::new(t.as_str(), 3))
        .collect();
    bus.create_topics(&specs).await.unwrap();
    produce(&*bus, &features, &stream).await;
    let labelled: Vec<Label> = stream
        .iter()
        .filter(|v| frauds.contains(v.transaction_id.as_str()))
        .map(|v| Label {
            transaction_id: v.transaction_id.clone(),
            customer_id: v.customer_id.clone(),
            is_fraud: true,
            source: LabelSource::Chargeback,
            labelled_at: time::now(),
            fraud_scenario: None,
        })
        .collect();
    for chunk in labelled.chunks(5000) {
        let encoded: Vec<(String, Vec<u8>)> = chunk
            .iter()
            .map(|l| (l.customer_id.as_str().to_string(), encode(l)))
            .collect();
        let records: Vec<Record<'_>> = encoded
            .iter()
            .map(|(k, p)| Record::new(k.as_bytes(), p))
            .collect();
        bus.produce(&labels, &records).await.unwrap();
    }

    let (store, _, _) = fresh_database("retrain").await;
    std::fs::write(d.join("retrain.toml"), RETRAIN_TOML).unwrap();
    let global = ["--bus", &url, "--store", &store, "--registry", "file://reg"];
    let retrain_once = || {
        let run = ["retrain", "--once", "--run-id", "after-drift"];
        let more = ["--topic-prefix", &prefix, "--params", &params];
        let args: Vec<&str> = global
            .into_iter()
            .chain(["--partitions", "3", "--config", "retrain.toml"])
            .chain(run)
            .chain(more)
            .collect();
        fraudwatch(&args, d)
    };

    // SIGKILLed mid-task (its extract drains the topics for seconds): the task stays `running`,
    // nothing moved; the same run started again redoes it and goes on.
    let mut killed = std::process::Command::new(env!("CARGO_BIN_EXE_fraudwatch"))
        .args(global)
        .args(["--partitions", "3", "--config", "retrain.toml"])
        .args(["retrain", "--once", "--run-id", "after-drift"])
        .args(["--topic-prefix", &prefix, "--params", &params])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let db = fraudwatch_store::open(&store).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !db
        .run_tasks("after-drift")
        .await
        .unwrap()
        .iter()
        .any(|t| t.task == "extract" && t.status == "running")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the extract never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    killed.kill().unwrap();
    killed.wait().unwrap();
    let tasks = db.run_tasks("after-drift").await.unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].status, "running");
    assert_eq!(
        std::fs::read_to_string(d.join("reg/aliases.json")).unwrap(),
        champion
    );

    let o = retrain_once();
    assert!(o.status.success(), "{}", text(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let tasks = &summary["tasks"];
    eprintln!(
        "extract: {}\nvalidate: {}\nevaluate: {}\ncompare: {}",
        tasks["extract"], tasks["validate"], tasks["evaluate"], tasks["compare"]
    );
    assert_eq!(tasks["extract"]["rows"], stream.len());
    assert_eq!(summary["promoted"], true, "{summary:#}");
    let (challenger, old) = (
        &tasks["evaluate"]["challenger"],
        &tasks["evaluate"]["champion"],
    );
    assert_eq!(challenger["rows"], old["rows"], "the same holdout");
    assert!(
        challenger["average_precision"].as_f64().unwrap()
            > old["average_precision"].as_f64().unwrap() + 0.005
    );
    let aliases = std::fs::read_to_string(d.join("reg/aliases.json")).unwrap();
    assert_ne!(aliases, champion, "the champion moved");
    let promoted = tasks["promote"]["version"].as_str().unwrap();
    assert!(aliases.contains(promoted), "{aliases}");

    // The same run again: every task already done, nothing moves.
    let o = retrain_once();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(d.join("reg/aliases.json")).unwrap(),
        aliases
    );

    // On a schedule that is months away, a drift alert starts a run (once per event, however
    // often the event is published again); the new champion's twin does not replace it.
    let alerts = format!("{prefix}drift-alerts");
    bus.create_topics(&[TopicSpec::new(alerts.as_str(), 1)])
        .await
        .unwrap();
    let mut scheduled = std::process::Command::new(env!("CARGO_BIN_EXE_fraudwatch"))
        .args(["--bus", &url, "--store", &store, "--registry", "file://reg"])
        .args([
            "--partitions",
            "3",
            "--config",
            "retrain.toml",
            "--log",
            "info",
        ])
        .args(["retrain", "--schedule", "0 0 1 1 *", "--on-drift"])
        .args(["--topic-prefix", &prefix, "--params", &params])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(d.join("scheduled.log")).unwrap())
        .spawn()
        .unwrap();
    let event = fraudwatch_core::DriftEvent {
        id: "data-1529000000000".into(),
        kind: fraudwatch_core::DriftKind::Data,
        severity: fraudwatch_core::Severity::Critical,
        start: time::from_millis(1_529_000_000_000).unwrap(),
        detected: time::from_millis(1_529_100_000_000).unwrap(),
        end: None,
        share: 0.6,
        columns: Vec::new(),
        window_rows: 8000,
        updated_at: time::now(),
    };
    let payload = encode(&event);
    for _ in 0..2 {
        bus.produce(&alerts, &[Record::new(b"data", &payload)])
            .await
            .unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let log = || std::fs::read_to_string(d.join("scheduled.log")).unwrap_or_default();
    loop {
        let tasks = db.run_tasks("drift-data-1529000000000").await.unwrap();
        if let Some(promote) = tasks.iter().find(|t| t.task == "promote" && t.is_done()) {
            let output = promote.output.as_deref().unwrap();
            assert!(output.contains("\"promoted\":false"), "{output}");
            break;
        }
        assert!(scheduled.try_wait().unwrap().is_none(), "{}", log());
        assert!(
            std::time::Instant::now() < deadline,
            "no drift run: {}",
            log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    // The second publication of the event: a run of the same id, every task already done.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    std::process::Command::new("kill")
        .args(["-TERM", &scheduled.id().to_string()])
        .status()
        .unwrap();
    assert!(scheduled.wait().unwrap().success(), "{}", log());
    // The loser is registered as the challenger; the champion stays.
    let now: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("reg/aliases.json")).unwrap())
            .unwrap();
    assert_eq!(now["champion"], promoted);
    assert_ne!(now["challenger"], promoted);
    // One run for the event published twice: its tasks started once each.
    assert_eq!(log().matches("starting").count(), 7, "{}", log());
}
