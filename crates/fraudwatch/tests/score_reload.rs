//! Hot reload of `fraudwatch score` against the REAL Kafka broker and PostgreSQL: the scorer runs
//! as its own process with champion A; halfway through the stream a second model is trained and
//! promoted with `fraudwatch train --promote` (the registry's `champion` alias moves to B) while
//! the scorer keeps running. Every transaction is scored exactly once (read_committed), every
//! score of the first half names A and every score of the second half names B, and every alert
//! has exactly one case.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::time::{Duration, Instant};

use common::scoring::{
    Scorer, check_swap, dataset, fresh_database, params, produce, read_until, topics, train,
    vectors,
};
use common::{kafka_url, unique_prefix};
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
    let halves = [(first, a.as_str()), (second, b.as_str())];
    check_swap(&mut *reader, got, &mut scorer, deadline, halves, &store).await;
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}
