//! `fraudwatch generate --replay` of the shared handbook file into the REAL Kafka broker that
//! `scripts/kafka-start.sh` runs on loopback (URL in `FW_KAFKA_URL`, default
//! `kafka://127.0.0.1:9092`): every transaction and label arrives, keyed by customer, in the file's
//! order per customer. Without a broker the test fails; it never skips.

mod common;

use common::{handbook_dir, kafka_url, unique_prefix};

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Command;
use std::time::{Duration, Instant};

use fraudwatch_bus::{Consumer, Message};
use fraudwatch_core::handbook::Row;
use fraudwatch_core::{Label, Transaction, decode};

/// Rows of the file replayed: a prefix (the full 1.75M-row replay is measured by hand, see
/// docs/generator.md).
const ROWS: usize = 30_000;
const DELAY_MS: i64 = 7 * 86_400_000;

async fn consume(consumer: &mut dyn Consumer, n: usize) -> Vec<Message> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} messages arrived",
            got.len()
        );
        got.extend(
            consumer
                .poll(n - got.len(), Duration::from_millis(500))
                .await
                .expect("polling the broker"),
        );
    }
    // Nothing more comes.
    let extra = consumer
        .poll(10, Duration::from_secs(2))
        .await
        .expect("polling the broker");
    assert!(
        extra.is_empty(),
        "{} messages more than produced",
        extra.len()
    );
    got
}

/// Message payloads grouped by key, in consumption order (which is offset order per partition,
/// and one key lives on one partition).
fn by_key<T>(messages: &[Message], decode_one: impl Fn(&[u8]) -> T) -> HashMap<String, Vec<T>> {
    let mut out: HashMap<String, Vec<T>> = HashMap::new();
    for m in messages {
        let key = String::from_utf8(m.key.clone().expect("keyed").to_vec()).expect("a UTF-8 key");
        out.entry(key).or_default().push(decode_one(&m.payload));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_of_the_handbook_file_into_kafka_keeps_every_event_in_order_per_customer() {
    let src = handbook_dir(&["transactions.csv.gz"]).join("transactions.csv.gz");
    let prefix = unique_prefix("gen");
    let url = kafka_url();
    let count = ROWS.to_string();
    let o = Command::new(env!("CARGO_BIN_EXE_fraudwatch"))
        .args([
            "--bus",
            &url,
            "generate",
            "--replay",
            src.to_str().unwrap(),
            "--count",
            &count,
        ])
        .args([
            "--topic-prefix",
            &prefix,
            "--label-delay",
            "7d",
            "--batch",
            "2000",
        ])
        .env_remove("FRAUDWATCH_CONFIG")
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success(),
        "is the broker up (scripts/kafka-start.sh)? {out}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap()).unwrap();
    assert_eq!(summary["transactions"], ROWS);
    assert_eq!(summary["labels"], ROWS);

    // What went in: the file's first rows, per customer in file order.
    let mut lines = BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(&src).unwrap(),
    ))
    .lines();
    lines.next();
    let rows: Vec<Row> = lines
        .take(ROWS)
        .enumerate()
        .map(|(i, l)| Row::parse(&l.unwrap(), i as u64 + 2).unwrap())
        .collect();
    let mut expected: HashMap<String, Vec<u64>> = HashMap::new();
    for r in &rows {
        expected
            .entry(r.customer_id.to_string())
            .or_default()
            .push(r.transaction_id);
    }
    let rows: HashMap<u64, Row> = rows.into_iter().map(|r| (r.transaction_id, r)).collect();

    let bus = fraudwatch_bus::open(&url).unwrap();
    let topic = format!("{prefix}transactions");
    let mut consumer = bus
        .subscribe(&format!("{prefix}group-tx"), &[&topic])
        .await
        .unwrap();
    let messages = consume(consumer.as_mut(), ROWS).await;
    drop(consumer);
    assert!(
        messages
            .iter()
            .all(|m| !String::from_utf8_lossy(&m.payload).contains("is_fraud")),
        "the transactions topic never carries the answer"
    );
    let got = by_key(&messages, |p| {
        decode::<Transaction>(p).expect("a valid transaction")
    });
    assert_eq!(got.len(), expected.len(), "customers");
    for (key, txs) in &got {
        let ids: Vec<u64> = txs
            .iter()
            .map(|t| t.transaction_id.as_str().parse().unwrap())
            .collect();
        assert_eq!(
            &ids, &expected[key],
            "customer {key}: order or content differs"
        );
        for t in txs {
            let row = &rows[&t.transaction_id.as_str().parse().unwrap()];
            assert_eq!(t.customer_id.as_str(), key);
            assert_eq!((t.amount, t.timestamp), (row.amount, row.timestamp));
        }
    }

    let topic = format!("{prefix}labels");
    let mut consumer = bus
        .subscribe(&format!("{prefix}group-labels"), &[&topic])
        .await
        .unwrap();
    let messages = consume(consumer.as_mut(), ROWS).await;
    let got = by_key(&messages, |p| decode::<Label>(p).expect("a valid label"));
    let mut frauds = 0;
    for (key, labels) in &got {
        let ids: Vec<u64> = labels
            .iter()
            .map(|l| l.transaction_id.as_str().parse().unwrap())
            .collect();
        assert_eq!(&ids, &expected[key], "labels of customer {key}");
        for l in labels {
            let row = &rows[&l.transaction_id.as_str().parse().unwrap()];
            assert_eq!(l.is_fraud, row.is_fraud);
            assert_eq!(
                l.fraud_scenario.as_deref(),
                fraudwatch_core::handbook::scenario_name(row.scenario)
            );
            assert_eq!(
                l.labelled_at.timestamp_millis() - row.timestamp.timestamp_millis(),
                DELAY_MS
            );
            frauds += usize::from(l.is_fraud);
        }
    }
    assert_eq!(summary["frauds"], frauds);
}
