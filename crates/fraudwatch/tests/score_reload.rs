//! Hot reload of `fraudwatch score` against the REAL Kafka broker and PostgreSQL: the scorer runs
//! as its own process with champion A; halfway through the stream a second model is trained and
//! promoted with `fraudwatch train --promote` (the registry's `champion` alias moves to B) while
//! the scorer keeps running. Every transaction is scored exactly once (read_committed), every
//! score of the first half names A and every score of the second half names B, and every alert
//! has exactly one case.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::scoring::{
    Scorer, cases, dataset, fresh_database, params, produce, read_until, topics, train, vectors,
};
use common::{kafka_url, unique_prefix};
use fraudwatch_core::{Score, decode};
use sqlx::Connection as _;

const VECTORS: usize = 20_000;

fn champion(dir: &std::path::Path) -> String {
    let aliases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reg/aliases.json")).unwrap())
            .unwrap();
    aliases["champion"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_champion_takes_over_without_loss_or_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix("reload");
    let url = kafka_url();
    dataset(dir.path());
    let params_a = params(dir.path());
    train(dir.path(), &params_a);
    let a = champion(dir.path());
    // B: the same settings with half the rounds, so a different bundle.
    let params_b = dir.path().join("params-b.toml");
    let text_b = std::fs::read_to_string(&params_a)
        .unwrap()
        .replace("rounds = 100", "rounds = 50");
    assert!(text_b.contains("rounds = 50"));
    std::fs::write(&params_b, text_b).unwrap();
    let vectors = vectors(dir.path(), VECTORS);
    let (first, second) = vectors.split_at(VECTORS / 2);

    let bus = fraudwatch_bus::open(&url).unwrap();
    let (features, scores) = topics(&*bus, &url, &prefix).await;
    let mut reader = bus
        .subscribe(&format!("{prefix}reader"), &[&scores])
        .await
        .unwrap();
    let (store, admin, database) = fresh_database("reload").await;

    let deadline = Instant::now() + Duration::from_secs(300);
    let mut scorer = Scorer::start(dir.path(), &url, &store, &prefix, "scorer.log", 500);
    produce(&*bus, &features, first).await;
    let mut got = Vec::new();
    read_until(&mut *reader, &mut got, first.len(), &mut scorer, deadline).await;

    // Promote B while the scorer runs idle; it checks the alias every 5 s, between batches.
    train(dir.path(), params_b.to_str().unwrap());
    let b = champion(dir.path());
    assert_ne!(a, b, "a second bundle");
    tokio::time::sleep(Duration::from_secs(8)).await;
    produce(&*bus, &features, second).await;
    read_until(&mut *reader, &mut got, VECTORS, &mut scorer, deadline).await;
    for m in reader.poll(VECTORS, Duration::from_secs(3)).await.unwrap() {
        got.push(decode(&m.payload).unwrap());
    }
    scorer.signal("-TERM");
    assert!(scorer.child.wait().unwrap().success(), "{}", scorer.log());

    let by_id: HashMap<String, &Score> = got
        .iter()
        .map(|s| (s.transaction_id.to_string(), s))
        .collect();
    assert_eq!(got.len(), VECTORS, "no score twice");
    assert_eq!(by_id.len(), VECTORS, "every transaction scored");
    for (half, version) in [(first, &a), (second, &b)] {
        let wrong: Vec<_> = half
            .iter()
            .filter(|v| &by_id[v.transaction_id.as_str()].model_version != version)
            .take(5)
            .collect();
        assert!(wrong.is_empty(), "scored by the other bundle: {wrong:?}");
    }
    let alerts: HashSet<String> = got
        .iter()
        .filter(|s| s.decision.opens_case())
        .map(|s| s.transaction_id.to_string())
        .collect();
    let (cases, rows) = cases(&store).await;
    assert_eq!(rows, alerts.len(), "one case per alert");
    assert_eq!(cases.keys().cloned().collect::<HashSet<_>>(), alerts);
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}
