//! A PostgreSQL restart under a running `fraudwatch score`, against the REAL Kafka broker
//! (`FW_KAFKA_URL`, default `kafka://127.0.0.1:9092`) and a REAL PostgreSQL cluster of the test's
//! own (started with `scripts/postgres-start.sh` on a free port, data in a temporary directory),
//! both on loopback and never skipped. As in `score_crash.rs`, a
//! champion is trained on a generated dataset with raised review and block rates, and the `risk`
//! features of its last rows go to a features topic with 3 partitions. Mid-stream the cluster is
//! stopped with `scripts/postgres-stop.sh`: the scorer must keep running without committing past
//! the batch whose cases are stuck, and once `scripts/postgres-start.sh` brings the cluster back
//! it must finish the stream. Read with read_committed, the scores topic then holds exactly one
//! score per vector, and the case table exactly one case per review or block score.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::scoring::{
    Scorer, cases, dataset, drain, params, produce, read_until, topics, train, vectors,
};
use common::{kafka_url, unique_prefix};
use fraudwatch_core::{Decision, Score, decode};
use sqlx::Connection as _;

/// Feature vectors scored (the last rows of the generated dataset).
const VECTORS: usize = 20_000;
const BATCH: usize = 200;
/// Committed scores before PostgreSQL is stopped.
const STOP_AFTER: usize = VECTORS / 10;
/// How long the outage lasts once the scorer has reported it.
const OUTAGE: Duration = Duration::from_secs(5);

/// The workspace root, where the project's scripts run from.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A PostgreSQL cluster of this test's own, started and stopped with the project's scripts on a
/// free port with its data in a temporary directory: stopping it disturbs no other test, and
/// whatever server the other tests use is left alone.
struct Cluster {
    port: u16,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster {
            port,
            dir: tempfile::Builder::new()
                .prefix("fwpg")
                .tempdir_in("/tmp")
                .unwrap(),
        };
        cluster.script("postgres-start.sh");
        cluster
    }

    /// Runs `scripts/<name>` from the workspace root on this cluster.
    fn script(&self, name: &str) {
        let status = Command::new(root().join("scripts").join(name))
            .current_dir(root())
            .env("FW_PG_PORT", self.port.to_string())
            .env("FW_PG_DIR", self.dir.path().join("pg"))
            .stdout(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("scripts/{name} runs: {e}"));
        assert!(status.success(), "scripts/{name} failed ({status})");
    }

    fn url(&self) -> String {
        format!(
            "postgres://fraudwatch:fraudwatch@127.0.0.1:{}/fraudwatch",
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/postgres-stop.sh"))
            .current_dir(root())
            .env("FW_PG_PORT", self.port.to_string())
            .env("FW_PG_DIR", self.dir.path().join("pg"))
            .stdout(Stdio::null())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_mid_stream_loses_nothing() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix("pgrestart");
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
    let cluster = Cluster::start();
    let store = cluster.url();

    let deadline = Instant::now() + Duration::from_secs(300);
    let mut got = Vec::new();
    let mut scorer = Scorer::start(dir.path(), &url, &store, &prefix, "scorer.log", BATCH);
    read_until(&mut *reader, &mut got, STOP_AFTER, &mut scorer, deadline).await;

    // PostgreSQL goes away mid-stream.
    let at_stop = got.len();
    cluster.script("postgres-stop.sh");
    assert!(
        sqlx::PgConnection::connect(&store).await.is_err(),
        "PostgreSQL still answers at {store} after scripts/postgres-stop.sh"
    );
    eprintln!(
        "PostgreSQL stopped after {at_stop} committed scores ({:?})",
        started.elapsed()
    );

    // The scorer notices, keeps running, and commits at most the batch it had already stored.
    while scorer.retries() == 0 {
        scorer.check_running();
        assert!(
            Instant::now() < deadline,
            "the scorer never reported the case store unavailable; log: {}",
            scorer.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drain(&mut *reader, &mut got, Some(&mut scorer)).await;
    let stalled = got.len();
    tokio::time::sleep(OUTAGE).await;
    scorer.check_running();
    drain(&mut *reader, &mut got, Some(&mut scorer)).await;
    let during = got.len();
    let retries_during = scorer.retries();
    eprintln!(
        "outage: {at_stop} scores at the stop, {stalled} once stalled, {during} after {OUTAGE:?} \
         more; {retries_during} retries logged ({:?})",
        started.elapsed()
    );
    assert!(
        during < VECTORS,
        "the scorer committed all {during} scores while PostgreSQL was down"
    );
    assert_eq!(
        during, stalled,
        "no score is committed while the case store is down"
    );
    // Past the reader's position at the stop: batches committed but not yet read, and the one
    // batch whose cases were already stored; a few batches, far short of the stream.
    assert!(
        during <= at_stop + 5 * BATCH,
        "the scorer committed {} scores after PostgreSQL stopped (at most the batch already \
         stored, and those committed but not yet read)",
        during - at_stop
    );
    cluster.script("postgres-start.sh");
    eprintln!("PostgreSQL started again ({:?})", started.elapsed());

    // The stream finishes.
    read_until(&mut *reader, &mut got, VECTORS, &mut scorer, deadline).await;
    // Anything more would be a duplicate.
    for m in reader.poll(VECTORS, Duration::from_secs(3)).await.unwrap() {
        got.push(decode(&m.payload).unwrap());
    }
    scorer.check_running();
    scorer.signal("-TERM");
    let status = scorer.child.wait().unwrap();
    let log = scorer.log();
    assert!(
        status.success(),
        "SIGTERM stops the scorer cleanly ({status}): {log}"
    );
    assert!(
        log.contains("case store unavailable"),
        "the scorer logged its retries: {log}"
    );
    eprintln!(
        "all scored at {:?}; {} retries logged",
        started.elapsed(),
        scorer.retries()
    );

    // Exactly one score per vector, through the outage.
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
}
