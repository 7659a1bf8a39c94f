//! A crash of `fraudwatch score` against the REAL Kafka broker (`FW_KAFKA_URL`, default
//! `kafka://127.0.0.1:9092`) and the REAL PostgreSQL (`FW_POSTGRES_URL`, default
//! `postgres://fraudwatch:fraudwatch@127.0.0.1:55432/fraudwatch`, a fresh database per run), both
//! on loopback and never skipped. A champion is trained on a generated dataset (with review and
//! block rates raised so that thousands of cases open), the file mode's `risk` features of its
//! last rows go to a features topic with 3 partitions, and the scorer runs as its own process:
//! SIGKILLed mid-stream, restarted under the same instance name, then stopped with SIGTERM. Read
//! with read_committed, the scores topic holds exactly one score per vector, and the case table
//! holds exactly one case per review or block score, with that score's decision and risk.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use common::scoring::{
    Scorer, cases, dataset, drain, fresh_database, params, produce, read_until, topics, train,
    vectors,
};
use common::{kafka_url, unique_prefix};
use fraudwatch_core::{Decision, Score, decode};
use sqlx::Connection as _;

/// Feature vectors scored (the last rows of the generated dataset).
const VECTORS: usize = 40_000;
/// The most times the scorer is killed (each kill at least this many more scores in).
const KILLS: usize = 3;
const KILL_EVERY: usize = VECTORS / 5;

/// Waits for the next batch's cases to reach the store (the count of cases grows), then SIGKILLs
/// the scorer at once: most often before that batch's scores and offsets are committed.
async fn kill_after_next_insert(store: &str, scorer: &mut Scorer, deadline: Instant) {
    let mut conn = sqlx::PgConnection::connect(store).await.unwrap();
    let count = || sqlx::query_scalar::<_, i64>("SELECT count(*) FROM cases");
    let first = count().fetch_one(&mut conn).await.unwrap();
    while count().fetch_one(&mut conn).await.unwrap() == first {
        scorer.check_running();
        assert!(
            Instant::now() < deadline,
            "the scorer opened no case after {first}; log: {}",
            scorer.log()
        );
    }
    scorer.signal("-KILL");
    scorer.child.wait().unwrap();
    conn.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_scorer_leaves_exactly_one_case_per_alert() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix("score");
    let url = kafka_url();

    // A dataset, a champion that alerts on ~6% of transactions, and the vectors to score.
    dataset(dir.path());
    train(dir.path(), &params(dir.path()));
    let vectors = vectors(dir.path(), VECTORS);
    eprintln!(
        "data, champion and vectors ready after {:?}",
        started.elapsed()
    );

    // The vectors on the bus, keyed by customer as the processor publishes them.
    let bus = fraudwatch_bus::open(&url).unwrap();
    let (features, scores) = topics(&*bus, &url, &prefix).await;
    produce(&*bus, &features, &vectors).await;
    let mut reader = bus
        .subscribe(&format!("{prefix}reader"), &[&scores])
        .await
        .unwrap();
    let (store, admin, database) = fresh_database("score_crash").await;

    // Killed mid-stream, right after a batch's cases went in (before its scores are committed,
    // if the kill is fast enough), and restarted under the same instance name; once more if the
    // kill missed that window, at most three times.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut got = Vec::new();
    let mut runs = 0;
    for kill in 1..=KILLS {
        runs += 1;
        let mut scorer = Scorer::start(
            dir.path(),
            &url,
            &store,
            &prefix,
            &format!("scorer-{runs}.log"),
            500,
        );
        read_until(
            &mut *reader,
            &mut got,
            kill * KILL_EVERY,
            &mut scorer,
            deadline,
        )
        .await;
        kill_after_next_insert(&store, &mut scorer, deadline).await;
        drain(&mut *reader, &mut got, None).await;
        let before = got.len();
        assert!(
            before < VECTORS,
            "the scorer had committed all {before} scores before it was killed: make the stream longer"
        );
        let committed: HashSet<String> = got.iter().map(|s| s.transaction_id.to_string()).collect();
        let (at_kill, _) = cases(&store).await;
        let uncommitted = at_kill.keys().filter(|id| !committed.contains(*id)).count();
        eprintln!(
            "kill {kill}: after {before} committed scores, {} cases, {uncommitted} of them from a batch not committed ({:?})",
            at_kill.len(),
            started.elapsed()
        );
        if uncommitted > 0 {
            break;
        }
    }

    // The last restart finishes the stream.
    let mut scorer = Scorer::start(
        dir.path(),
        &url,
        &store,
        &prefix,
        &format!("scorer-{}.log", runs + 1),
        500,
    );
    read_until(&mut *reader, &mut got, VECTORS, &mut scorer, deadline).await;
    // Anything more would be a duplicate.
    for m in reader.poll(VECTORS, Duration::from_secs(3)).await.unwrap() {
        got.push(decode(&m.payload).unwrap());
    }
    scorer.check_running();
    scorer.signal("-TERM");
    let status = scorer.child.wait().unwrap();
    assert!(
        status.success(),
        "SIGTERM stops the scorer cleanly ({status}): {}",
        scorer.log()
    );
    eprintln!("all scored at {:?}", started.elapsed());

    // Exactly one score per vector, through the crash.
    let mut per_transaction: HashMap<String, Vec<&Score>> = HashMap::new();
    for s in &got {
        per_transaction
            .entry(s.transaction_id.to_string())
            .or_default()
            .push(s);
    }
    let duplicated: Vec<_> = per_transaction
        .iter()
        .filter(|(_, s)| s.len() != 1)
        .map(|(id, s)| (id, s.len()))
        .take(10)
        .collect();
    assert!(
        duplicated.is_empty(),
        "scored more than once: {duplicated:?}"
    );
    let want: HashSet<String> = vectors
        .iter()
        .map(|v| v.transaction_id.to_string())
        .collect();
    let scored: HashSet<String> = per_transaction.keys().cloned().collect();
    assert_eq!(scored, want, "one score per vector, no other");
    assert_eq!(got.len(), VECTORS);

    // Exactly one case per alert, carrying the alert's decision and risk.
    let alerts: HashMap<String, &Score> = got
        .iter()
        .filter(|s| s.decision.opens_case())
        .map(|s| (s.transaction_id.to_string(), s))
        .collect();
    let blocks = alerts
        .values()
        .filter(|s| s.decision == Decision::Block)
        .count();
    assert!(
        alerts.len() >= VECTORS / 50 && blocks > 0,
        "the policy alerts on ~6%: {} alerts, {blocks} blocks",
        alerts.len()
    );
    let (cases, rows) = cases(&store).await;
    assert_eq!(rows, cases.len(), "one row per case");
    let missing: Vec<_> = alerts
        .keys()
        .filter(|id| !cases.contains_key(*id))
        .take(10)
        .collect();
    let extra: Vec<_> = cases
        .keys()
        .filter(|id| !alerts.contains_key(*id))
        .take(10)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "alerts without a case: {missing:?}; cases without an alert: {extra:?}"
    );
    assert_eq!(rows, alerts.len(), "exactly one case per alert");
    for (id, (decision, risk)) in &cases {
        let s = alerts[id];
        assert_eq!(decision, s.decision.as_str(), "transaction {id}");
        assert_eq!(risk.to_bits(), s.risk.to_bits(), "transaction {id}");
    }
    eprintln!(
        "{} scores, {} cases ({blocks} blocks); done after {:?}",
        got.len(),
        rows,
        started.elapsed()
    );

    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}
