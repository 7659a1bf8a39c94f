//! The processor over each bus backend: `memory://` and the real Kafka broker on loopback
//! (`FW_KAFKA_URL`, default `kafka://127.0.0.1:9092`; never skipped). The first 2,000 rows of the
//! fraud handbook's data, with two undecodable messages among them, go through the processor; the
//! features topic must hold exactly one vector per transaction, equal to the engine's own
//! in-order computation, and the dead-letter topic the two bad messages with their reasons.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fraudwatch_bus::dlq::KEPT_BYTES;
use fraudwatch_bus::topics::dlq_topic;
use fraudwatch_bus::{Bus, DeadLetter, Record};
use fraudwatch_core::engine::DAY_MS;
use fraudwatch_core::engine::{Engine, EngineConfig, FeatureSet};
use fraudwatch_core::handbook::Row;
use fraudwatch_core::{FeatureVector, Transaction, decode, encode, time};
use fraudwatch_generator::HandbookFile;
use fraudwatch_processor::{Counters, ProcessorConfig, Topics, run};

const ROWS: usize = 2000;

fn handbook_dir() -> PathBuf {
    std::env::var("FW_HANDBOOK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/handbook")
        })
}

fn handbook_rows(n: usize) -> Vec<Row> {
    let path = handbook_dir().join("transactions.csv.gz");
    let file =
        HandbookFile::open(&path).unwrap_or_else(|e| panic!("the handbook data is needed: {e}"));
    file.take(n).map(Result::unwrap).collect()
}

fn handbook_transactions() -> Vec<Transaction> {
    handbook_rows(ROWS).iter().map(Row::transaction).collect()
}

fn config(prefix: &str) -> ProcessorConfig {
    ProcessorConfig {
        engine: EngineConfig::new(FeatureSet::Handbook),
        topics: Topics::with_prefix(prefix),
        group: format!("{prefix}processor"),
        transactional_id: format!("{prefix}processor-1"),
        max_batch: 500,
        poll_wait: Duration::from_millis(200),
    }
}

async fn read_all(bus: &dyn Bus, topic: &str, n: usize) -> Vec<Vec<u8>> {
    let mut c = bus
        .subscribe(&format!("{topic}-reader"), &[topic])
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        got.extend(
            c.poll(n, Duration::from_millis(300))
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.payload.to_vec()),
        );
    }
    // Anything more would be a duplicate.
    got.extend(
        c.poll(n, Duration::from_secs(2))
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.payload.to_vec()),
    );
    got
}

async fn features_match_the_engine_exactly_once(bus: Arc<dyn Bus>, prefix: &str) {
    let cfg = config(prefix);
    let topics = &cfg.topics;
    // One partition: the stream keeps event-time order across customers, as the handbook's
    // terminal windows and the lateness watermark need.
    bus.create_topics(&topics.specs(1)).await.unwrap();

    let txs = handbook_transactions();
    let mut payloads: Vec<Vec<u8>> = txs.iter().map(encode).collect();
    // Garbage among the transactions, each a copy of a real one broken one way, with the words
    // its dead letter's reason must hold; placed in decreasing order so positions stay valid.
    let variant = |i: usize, from: &str, to: &str| -> Vec<u8> {
        String::from_utf8(encode(&txs[i]))
            .unwrap()
            .replacen(from, to, 1)
            .into_bytes()
    };
    let huge = format!(
        "\"merchant_category\":\"{}\",\"amount\":",
        "x".repeat(999_000)
    );
    let bad: Vec<(usize, Vec<u8>, &[&str])> = vec![
        (
            1900,
            variant(1900, "\"amount\":", &huge),
            &["merchant_category", "too long"],
        ),
        (
            1700,
            variant(1700, "\"timestamp\":\"2018", "\"timestamp\":\"yesterday"),
            &["timestamp"],
        ),
        (
            1500,
            variant(1500, "\"amount\":", "\"amount\":1e15,\"x\":"),
            &["amount"],
        ),
        (
            1400,
            variant(1400, "\"amount\":", "\"amount\":-"),
            &["amount"],
        ),
        (
            1100,
            variant(1100, "\"amount\":", "\"amount\":NaN,\"x\":"),
            &["malformed JSON"],
        ),
        (
            900,
            variant(900, "\"currency\":\"EUR\",", ""),
            &["currency"],
        ),
        (700, b"{not json".to_vec(), &["malformed JSON"]),
    ];
    for (at, payload, _) in &bad {
        payloads.insert(*at, payload.clone());
    }
    let records: Vec<Record<'_>> = payloads.iter().map(|p| Record::new(b"k", p)).collect();
    bus.produce(&topics.transactions, &records).await.unwrap();

    let counters = Counters::default();
    let done = async {
        let deadline = Instant::now() + Duration::from_secs(120);
        while counters.transactions() + counters.dead_letters() < payloads.len() as u64 {
            assert!(Instant::now() < deadline, "processor stalled: {counters}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    run(&*bus, &cfg, &counters, done).await.unwrap();
    assert_eq!(
        (counters.transactions(), counters.dead_letters()),
        (ROWS as u64, bad.len() as u64),
        "{counters}"
    );

    let mut engine = Engine::new(EngineConfig::new(FeatureSet::Handbook));
    let mut expected = vec![0.0; engine.width()];
    let features = read_all(&*bus, &topics.features, ROWS).await;
    let mut got = features.iter().map(|p| decode::<FeatureVector>(p).unwrap());
    for (i, tx) in txs.iter().enumerate() {
        engine.transaction(tx, &mut expected).unwrap();
        let v = got
            .next()
            .unwrap_or_else(|| panic!("no vector for row {i}"));
        assert_eq!(v.transaction_id, tx.transaction_id);
        assert_eq!(v.features.values().collect::<Vec<_>>(), expected, "row {i}");
        assert_eq!(
            v.features.names().collect::<Vec<_>>(),
            engine.specs().iter().map(|s| s.name).collect::<Vec<_>>()
        );
    }
    assert!(
        got.next().is_none(),
        "one vector per transaction, no duplicates"
    );

    let letters: Vec<DeadLetter> = read_all(&*bus, &dlq_topic(&topics.transactions), bad.len())
        .await
        .iter()
        .map(|p| serde_json::from_slice(p).unwrap())
        .collect();
    assert_eq!(letters.len(), bad.len());
    for (letter, (_, payload, words)) in letters.iter().zip(bad.iter().rev()) {
        for w in *words {
            assert!(letter.reason.contains(w), "{w:?} in {}", letter.reason);
        }
        let kept = letter.original_payload().unwrap();
        assert!(payload.starts_with(&kept) && kept.len() == payload.len().min(KEPT_BYTES));
        assert_eq!(letter.payload_bytes.is_some(), payload.len() > KEPT_BYTES);
    }
}

fn unique(backend: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("fwtest-proc-{backend}-{}-{nanos}.", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_features_match_the_engine_exactly_once() {
    let bus = fraudwatch_bus::open("memory://").unwrap();
    features_match_the_engine_exactly_once(bus, &unique("memory")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_features_match_the_engine_exactly_once() {
    let url = std::env::var("FW_KAFKA_URL").unwrap_or_else(|_| "kafka://127.0.0.1:9092".into());
    let bus = fraudwatch_bus::open(&url).unwrap();
    features_match_the_engine_exactly_once(bus, &unique("kafka")).await;
}

/// Labels read long before the transactions they concern (here: all of them first) still count
/// only from their time on: nine days of the handbook's data, labels 7 days late, give the
/// handbook's own features (its golden file) on every row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_read_early_wait_for_their_time() {
    use std::io::BufRead;
    const NINE_DAYS: usize = 86_000; // rows 0..86,000 end on day 8; no reordered same-second pair among them
    let rows = handbook_rows(NINE_DAYS);
    let bus = fraudwatch_bus::open("memory://").unwrap();
    let cfg = config(&unique("labels"));
    let topics = &cfg.topics;
    bus.create_topics(&topics.specs(1)).await.unwrap();
    let labels: Vec<Vec<u8>> = rows
        .iter()
        .map(|r| {
            encode(
                &r.label(time::from_millis(r.timestamp.timestamp_millis() + 7 * DAY_MS).unwrap()),
            )
        })
        .collect();
    let txs: Vec<Vec<u8>> = rows.iter().map(|r| encode(&r.transaction())).collect();
    for (topic, payloads) in [(&topics.labels, &labels), (&topics.transactions, &txs)] {
        let records: Vec<Record<'_>> = payloads.iter().map(|p| Record::new(b"k", p)).collect();
        bus.produce(topic, &records).await.unwrap();
    }
    let counters = Counters::default();
    let done = async {
        while counters.transactions() < NINE_DAYS as u64 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(300), run(&*bus, &cfg, &counters, done))
        .await
        .expect("processor stalled")
        .unwrap();
    assert_eq!(counters.dead_letters(), 0, "{counters}");
    assert!(
        counters.labels() > 15_000 && counters.waiting_labels() > 0,
        "labels wait for their time: {counters}"
    );

    let golden =
        std::fs::File::open(handbook_dir().join("features-golden-2018-04.csv.gz")).unwrap();
    let mut golden = std::io::BufReader::new(flate2::read::GzDecoder::new(golden))
        .lines()
        .skip(1);
    let features = read_all(&*bus, &topics.features, NINE_DAYS).await;
    assert_eq!(features.len(), NINE_DAYS);
    for (i, payload) in features.iter().enumerate() {
        let v = decode::<FeatureVector>(payload).unwrap();
        let line = golden.next().unwrap().unwrap();
        let mut want = line.split(',');
        assert_eq!(want.next(), Some(v.transaction_id.as_str()), "row {i}");
        for (got, want) in v.features.values().zip(want) {
            let want: f64 = want.parse().unwrap();
            assert!(
                (got - want).abs() < 1e-9,
                "row {i}: {got} vs {want} in {line}"
            );
        }
    }
}

/// A processor killed mid-stream (its future dropped wherever it was, possibly inside a
/// transaction) and restarted with the same transactional id rebuilds its partitions' state from
/// what was committed: the features topic then holds exactly one vector per transaction, each
/// equal to an uninterrupted per-partition computation.
async fn a_restarted_processor_rebuilds_its_state(bus: Arc<dyn Bus>, prefix: &str) {
    const N: usize = 6000;
    let mut cfg = config(prefix);
    cfg.engine = EngineConfig::new(FeatureSet::Velocity);
    cfg.max_batch = 250;
    let topics = cfg.topics.clone();
    bus.create_topics(&topics.specs(2)).await.unwrap();
    let txs: Vec<Transaction> = handbook_rows(N).iter().map(Row::transaction).collect();
    let payloads: Vec<Vec<u8>> = txs.iter().map(encode).collect();
    let records: Vec<Record<'_>> = txs
        .iter()
        .zip(&payloads)
        .map(|(t, p)| Record::new(t.customer_id.as_str().as_bytes(), p))
        .collect();
    bus.produce(&topics.transactions, &records).await.unwrap();

    let first = Counters::default();
    let crashed = async {
        while first.transactions() < N as u64 / 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::select! {
        r = run(&*bus, &cfg, &first, std::future::pending()) => panic!("the first run ended: {r:?}"),
        () = crashed => {}
    }
    let second = Counters::default();
    let done = async {
        let deadline = Instant::now() + Duration::from_secs(120);
        while first.transactions() + second.transactions() < N as u64 {
            assert!(Instant::now() < deadline, "stalled: {first} then {second}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    run(&*bus, &cfg, &second, done).await.unwrap();

    // An uninterrupted computation: one engine per partition, each partition in order.
    let mut engines: Vec<Engine> = (0..2).map(|_| Engine::new(cfg.engine.clone())).collect();
    let mut expected = std::collections::HashMap::new();
    for tx in &txs {
        let p = fraudwatch_bus::topics::partition_for(Some(tx.customer_id.as_str().as_bytes()), 2)
            as usize;
        let mut values = vec![0.0; engines[p].width()];
        engines[p].transaction(tx, &mut values).unwrap();
        expected.insert(tx.transaction_id.clone(), values);
    }
    let features = read_all(&*bus, &topics.features, N).await;
    assert_eq!(features.len(), N, "exactly one vector per transaction");
    for payload in &features {
        let v = decode::<FeatureVector>(payload).unwrap();
        let want = expected
            .remove(&v.transaction_id)
            .unwrap_or_else(|| panic!("duplicate {}", v.transaction_id));
        assert_eq!(
            v.features.values().collect::<Vec<_>>(),
            want,
            "transaction {}",
            v.transaction_id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_a_restarted_processor_rebuilds_its_state() {
    a_restarted_processor_rebuilds_its_state(
        fraudwatch_bus::open("memory://").unwrap(),
        &unique("mrestart"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_a_restarted_processor_rebuilds_its_state() {
    let url = std::env::var("FW_KAFKA_URL").unwrap_or_else(|_| "kafka://127.0.0.1:9092".into());
    a_restarted_processor_rebuilds_its_state(
        fraudwatch_bus::open(&url).unwrap(),
        &unique("krestart"),
    )
    .await;
}
