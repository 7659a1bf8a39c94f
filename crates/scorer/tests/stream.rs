//! The streaming stage over the in-memory bus and a SQLite case store: one score per feature
//! vector, one case per review or block decision, dead letters with reasons for what cannot be
//! decoded or scored, and nothing repeated when the stage runs again on the same group.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::{bundle, vector};
use fraudwatch_bus::dlq::DeadLetter;
use fraudwatch_bus::{Bus, Record};
use fraudwatch_core::{Score, wire};
use fraudwatch_scorer::Champion;
use fraudwatch_scorer::stream::{Counters, StreamConfig, run};
use fraudwatch_store::{CaseFilter, CaseStore};
use fraudwatch_train::Dataset;

/// Runs the stage until it has committed `messages` inputs.
async fn run_until(
    bus: &dyn Bus,
    store: &dyn CaseStore,
    champion: &mut Champion,
    config: &StreamConfig,
    messages: u64,
) -> Counters {
    let counters = Counters::default();
    let done = async {
        while counters.scored.load(Relaxed) + counters.dead_letters.load(Relaxed) < messages {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    run(bus, store, champion, &mut || None, config, &counters, done)
        .await
        .unwrap();
    counters
}

/// The first `n` rows of `data` as encoded feature vectors, keyed by customer.
fn encoded_rows(data: &Dataset, n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let row = data.row(i);
            let v = vector(
                i as u64,
                &[("amount", row[0]), ("ratio", row[1]), ("noise", row[2])],
            );
            let mut buf = Vec::new();
            wire::encode_into(&v, &mut buf);
            (v.customer_id.to_string(), buf)
        })
        .collect()
}

async fn read_all(bus: &dyn Bus, topic: &str, want: usize) -> Vec<Vec<u8>> {
    let mut c = bus.subscribe("reader", &[topic]).await.unwrap();
    let mut out = Vec::new();
    while out.len() < want {
        for m in c.poll(1000, Duration::from_millis(100)).await.unwrap() {
            out.push(m.payload.to_vec());
        }
    }
    out
}

#[tokio::test]
async fn every_vector_is_scored_once_and_every_alert_opens_one_case() {
    let (data, bundle) = bundle();
    let bus = fraudwatch_bus::open("memory://?partitions=3").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = fraudwatch_store::open(&format!(
        "sqlite://{}",
        dir.path().join("cases.db").display()
    ))
    .await
    .unwrap();
    let config = StreamConfig::with_prefix("t-", "scorer-1");
    bus.create_topics(&config.specs(3)).await.unwrap();

    // 600 vectors of real rows, then garbage, a vector without an input and one with NaN.
    let n = 600;
    let mut payloads: Vec<(String, Vec<u8>)> = encoded_rows(&data, n);
    payloads.push(("c1".into(), b"{not json".to_vec()));
    let mut buf = Vec::new();
    wire::encode_into(&vector(9_001, &[("amount", 5.0), ("noise", 0.1)]), &mut buf);
    payloads.push(("c2".into(), buf));
    let nan = String::from_utf8({
        let mut b = Vec::new();
        wire::encode_into(
            &vector(9_002, &[("amount", 5.0), ("ratio", 1.0), ("noise", 0.1)]),
            &mut b,
        );
        b
    })
    .unwrap()
    .replace("\"ratio\":1.0", "\"ratio\":1e999");
    payloads.push(("c3".into(), nan.into_bytes()));
    let records: Vec<Record<'_>> = payloads
        .iter()
        .map(|(k, p)| Record::new(k.as_bytes(), p))
        .collect();
    bus.produce(&config.features, &records).await.unwrap();

    let mut champion = Champion::new(&bundle).unwrap();
    let counters = run_until(&*bus, &*store, &mut champion, &config, records.len() as u64).await;
    assert_eq!(counters.scored.load(Relaxed), n as u64);
    assert_eq!(counters.dead_letters.load(Relaxed), 3);

    let scores: Vec<Score> = read_all(&*bus, &config.scores, n)
        .await
        .iter()
        .map(|p| wire::decode(p).unwrap())
        .collect();
    let mut per_tx: HashMap<String, usize> = HashMap::new();
    for s in &scores {
        *per_tx.entry(s.transaction_id.to_string()).or_default() += 1;
    }
    assert_eq!(per_tx.len(), n);
    assert!(per_tx.values().all(|&c| c == 1));
    let alerts: Vec<&Score> = scores.iter().filter(|s| s.decision.opens_case()).collect();
    assert!(!alerts.is_empty());
    assert_eq!(counters.cases.load(Relaxed), alerts.len() as u64);

    let cases = store
        .list_cases(&CaseFilter {
            limit: 1000,
            ..CaseFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(cases.len(), alerts.len());
    let by_id: BTreeMap<String, &Score> = alerts
        .iter()
        .map(|s| (s.transaction_id.to_string(), *s))
        .collect();
    for c in &cases {
        let s = by_id[&c.transaction_id.to_string()];
        assert_eq!((c.risk, c.decision), (s.risk, s.decision));
        assert_eq!(c.model_version, bundle.version);
        assert_eq!(c.features.as_ref().unwrap().len(), 3);
        assert_eq!(c.reasons, s.reasons);
        assert!(!c.reasons.is_empty());
    }

    let dead: Vec<DeadLetter> = read_all(
        &*bus,
        &fraudwatch_bus::topics::dlq_topic(&config.features),
        3,
    )
    .await
    .iter()
    .map(|p| serde_json::from_slice(p).unwrap())
    .collect();
    let reasons: Vec<&str> = dead.iter().map(|d| d.reason.as_str()).collect();
    assert!(
        reasons.iter().any(|r| r.contains("no feature \"ratio\"")),
        "{reasons:?}"
    );
    assert_eq!(dead.len(), 3, "{reasons:?}");

    // Again on the same group: everything was committed, nothing is scored twice.
    let more = vector(10_000, &[("amount", 190.0), ("ratio", 3.0), ("noise", 0.5)]);
    let mut buf = Vec::new();
    wire::encode_into(&more, &mut buf);
    bus.produce(&config.features, &[Record::new(b"c9", &buf)])
        .await
        .unwrap();
    let again = run_until(&*bus, &*store, &mut champion, &config, 1).await;
    assert_eq!(again.scored.load(Relaxed), 1);
    assert_eq!(read_all(&*bus, &config.scores, n + 1).await.len(), n + 1);
}

#[tokio::test]
async fn a_new_champion_takes_over_between_batches() {
    let (data, bundle) = bundle();
    // The same models with a review threshold of 0: everything it scores is an alert.
    let mut eager = bundle.clone();
    eager.thresholds.review = 0.0;
    let eager = eager.seal().unwrap();
    assert_ne!(eager.version, bundle.version);

    let bus = fraudwatch_bus::open("memory://?partitions=3").unwrap();
    let store = fraudwatch_store::open("sqlite::memory:").await.unwrap();
    let mut config = StreamConfig::with_prefix("r-", "scorer-r");
    config.max_batch = 50;
    bus.create_topics(&config.specs(3)).await.unwrap();
    let n = 600;
    let payloads: Vec<(String, Vec<u8>)> = encoded_rows(&data, n);
    let records: Vec<Record<'_>> = payloads
        .iter()
        .map(|(k, p)| Record::new(k.as_bytes(), p))
        .collect();
    bus.produce(&config.features, &records).await.unwrap();

    let counters = Counters::default();
    let mut swapped = false;
    let mut reload = || {
        if swapped || counters.scored.load(Relaxed) < 100 {
            return None;
        }
        swapped = true;
        Some(Champion::new(&eager).unwrap())
    };
    let done = async {
        while counters.scored.load(Relaxed) < n as u64 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let mut champion = Champion::new(&bundle).unwrap();
    run(
        &*bus,
        &*store,
        &mut champion,
        &mut reload,
        &config,
        &counters,
        done,
    )
    .await
    .unwrap();
    assert_eq!(champion.version(), eager.version);

    // Read back per partition, in offset order.
    let mut c = bus.subscribe("reader", &[&config.scores]).await.unwrap();
    let mut by_partition: BTreeMap<i32, Vec<Score>> = BTreeMap::new();
    let mut read = 0;
    while read < n {
        for m in c.poll(1000, Duration::from_millis(100)).await.unwrap() {
            by_partition
                .entry(m.partition)
                .or_default()
                .push(wire::decode(&m.payload).unwrap());
            read += 1;
        }
    }
    let mut per_tx: HashMap<String, usize> = HashMap::new();
    let (mut old, mut new) = (0, 0);
    for scores in by_partition.values() {
        // Within a partition, the old bundle's scores all come before the new one's.
        let first_new = scores
            .iter()
            .position(|s| s.model_version == eager.version)
            .unwrap_or(scores.len());
        assert!(
            scores[..first_new]
                .iter()
                .all(|s| s.model_version == bundle.version)
        );
        assert!(
            scores[first_new..]
                .iter()
                .all(|s| s.model_version == eager.version)
        );
        for s in scores {
            *per_tx.entry(s.transaction_id.to_string()).or_default() += 1;
            if s.model_version == eager.version {
                new += 1;
                assert!(s.decision.opens_case(), "{s:?}");
            } else {
                old += 1;
            }
        }
    }
    assert_eq!(per_tx.len(), n, "every transaction scored");
    assert!(per_tx.values().all(|&c| c == 1), "none scored twice");
    assert!(old >= 100 && new > 0, "old {old}, new {new}");
}

#[tokio::test]
async fn in_shadow_every_vector_is_scored_and_no_case_is_opened() {
    let (data, bundle) = bundle();
    let bus = fraudwatch_bus::open("memory://?partitions=2").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = fraudwatch_store::open(&format!(
        "sqlite://{}",
        dir.path().join("cases.db").display()
    ))
    .await
    .unwrap();
    let mut config = StreamConfig::with_prefix("s-", "shadow-1");
    config.scores = "s-scores.shadow".into();
    config.open_cases = false;
    bus.create_topics(&config.specs(2)).await.unwrap();
    let payloads = encoded_rows(&data, 400);
    let records: Vec<Record<'_>> = payloads
        .iter()
        .map(|(k, p)| Record::new(k.as_bytes(), p))
        .collect();
    bus.produce(&config.features, &records).await.unwrap();
    let mut champion = Champion::new(&bundle).unwrap();
    let counters = run_until(&*bus, &*store, &mut champion, &config, 400).await;
    let scores: Vec<Score> = read_all(&*bus, &config.scores, 400)
        .await
        .iter()
        .map(|p| wire::decode(p).unwrap())
        .collect();
    assert_eq!(scores.len(), 400);
    assert!(
        scores.iter().any(|s| s.decision.opens_case()),
        "some would alert"
    );
    assert_eq!(counters.cases.load(Relaxed), 0);
    let cases = store.list_cases(&CaseFilter::default()).await.unwrap();
    assert!(cases.is_empty(), "shadow scores decide nothing");
}
