//! What the scorer's process tests share: a champion's parameters, risk-set feature vectors
//! from a generated file, the cases in PostgreSQL, and `fraudwatch score` as a child process.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fraudwatch_bus::{Bus, Consumer, Record, TopicSpec};
use fraudwatch_core::engine::FeatureSet;
use fraudwatch_core::handbook::Row;
use fraudwatch_core::{FeatureVector, Features, Id, Score, decode, encode, time};
use sqlx::Connection as _;

use super::{fraudwatch, text};

/// Partitions of the features and scores topics.
pub const PARTITIONS: i32 = 3;

/// `config/models/default.toml` with a policy that reviews 5% and blocks 1%.
pub fn params(dir: &Path) -> String {
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config/models/default.toml"
    );
    let mut params: toml::Table = std::fs::read_to_string(shipped).unwrap().parse().unwrap();
    let policy = params["policy"].as_table_mut().unwrap();
    policy.insert("review_rate".into(), 0.05.into());
    policy.insert("block_rate".into(), 0.01.into());
    let path = dir.join("params.toml");
    std::fs::write(&path, toml::to_string(&params).unwrap()).unwrap();
    path.to_str().unwrap().into()
}

/// The file mode's `risk` features of the last `n` transactions of `tx.csv`, as the processor
/// would publish them.
pub fn vectors(dir: &Path, n: usize) -> Vec<FeatureVector> {
    let o = fraudwatch(
        &[
            "process",
            "--input",
            "tx.csv",
            "--feature-set",
            "risk",
            "--out",
            "features.csv",
        ],
        dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let rows = std::fs::read_to_string(dir.join("tx.csv")).unwrap();
    let features = std::fs::read_to_string(dir.join("features.csv")).unwrap();
    let mut features = features.lines();
    let header: Vec<&str> = features.next().unwrap().split(',').collect();
    assert_eq!(header[0], "transaction_id");
    let names = &header[1..];
    assert!(
        names.iter().copied().eq(FeatureSet::Risk.names()),
        "the features file lists the risk set: {names:?}"
    );
    let rows: Vec<&str> = rows.lines().skip(1).collect();
    let features: Vec<&str> = features.collect();
    assert_eq!(
        rows.len(),
        features.len(),
        "one feature row per transaction"
    );
    assert!(
        rows.len() >= n,
        "only {} transactions generated",
        rows.len()
    );
    let ingested_at = time::now();
    let skip = rows.len() - n;
    rows.iter()
        .zip(&features)
        .skip(skip)
        .enumerate()
        .map(|(k, (row, values))| {
            let row = Row::parse(row, (skip + k + 2) as u64).unwrap();
            let mut values = values.split(',');
            let id: u64 = values.next().unwrap().parse().unwrap();
            assert_eq!(id, row.transaction_id, "features.csv is in tx.csv's order");
            let values: Vec<(String, f64)> = names
                .iter()
                .zip(values.by_ref())
                .map(|(name, v)| ((*name).to_string(), v.parse().unwrap()))
                .collect();
            assert_eq!(values.len(), names.len(), "transaction {id}: a short row");
            assert!(values.iter().all(|(_, v)| v.is_finite()));
            FeatureVector {
                transaction_id: Id::from(row.transaction_id),
                customer_id: Id::from(row.customer_id),
                timestamp: row.timestamp,
                features: Features::from(values),
                ingested_at,
            }
        })
        .collect()
}

/// Every case as (transaction id → (decision, risk)), and how many rows the table holds.
pub async fn cases(url: &str) -> (HashMap<String, (String, f64)>, usize) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows: Vec<(String, String, f64)> =
        sqlx::query_as("SELECT transaction_id, decision, risk FROM cases")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let n = rows.len();
    conn.close().await.unwrap();
    (
        rows.into_iter()
            .map(|(id, decision, risk)| (id, (decision, risk)))
            .collect(),
        n,
    )
}

/// `fraudwatch score` as a child process, its log in a file.
pub struct Scorer {
    pub child: Child,
    log: PathBuf,
}

impl Scorer {
    /// Starts the scorer in `dir` (registry `dir/reg`), logging to `dir/<log>`.
    pub fn start(
        dir: &Path,
        url: &str,
        store: &str,
        prefix: &str,
        log: &str,
        batch: usize,
    ) -> Scorer {
        let registry = format!("file://{}", dir.join("reg").display());
        let flags = ["--registry", &registry, "--log", "warn"];
        Scorer::spawn(dir, &flags, url, store, prefix, log, batch)
    }

    /// Like [`Scorer::start`], on the registry at `registry` (any URL), also logging each
    /// champion swap (`new champion ... to=<version>`).
    pub fn start_on(
        dir: &Path,
        registry: &str,
        url: &str,
        store: &str,
        prefix: &str,
        log: &str,
        batch: usize,
    ) -> Scorer {
        let flags = [
            "--registry",
            registry,
            "--log",
            "warn,fraudwatch_scorer::stream=info",
        ];
        Scorer::spawn(dir, &flags, url, store, prefix, log, batch)
    }

    /// `fraudwatch <flags> score ...` in `dir`.
    fn spawn(
        dir: &Path,
        flags: &[&str],
        url: &str,
        store: &str,
        prefix: &str,
        log: &str,
        batch: usize,
    ) -> Scorer {
        let log = dir.join(log);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fraudwatch"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FRAUDWATCH_") {
                cmd.env_remove(key);
            }
        }
        let partitions = PARTITIONS.to_string();
        let batch = batch.to_string();
        let child = cmd
            .args(["--bus", url, "--store", store])
            .args(flags)
            .args(["--partitions", &partitions, "score"])
            .args([
                "--topic-prefix",
                prefix,
                "--group",
                &format!("{prefix}score"),
            ])
            .args(["--instance", "s1", "--batch", &batch])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Scorer { child, log }
    }

    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig}");
    }

    /// Fails the test, with the scorer's log, if the scorer has exited.
    pub fn check_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "the scorer exited ({status}): {}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn retries(&self) -> usize {
        self.log().matches("case store unavailable").count()
    }
}

impl Drop for Scorer {
    fn drop(&mut self) {
        // A failed test must not leave the scorer running.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads scores until `n` distinct transactions have one; fails at `deadline`.
pub async fn read_until(
    reader: &mut dyn Consumer,
    into: &mut Vec<Score>,
    n: usize,
    scorer: &mut Scorer,
    deadline: Instant,
) {
    let mut seen: HashSet<Id> = into.iter().map(|s| s.transaction_id.clone()).collect();
    while seen.len() < n {
        scorer.check_running();
        assert!(
            Instant::now() < deadline,
            "only {} of {n} transactions were scored; scorer log: {}",
            seen.len(),
            scorer.log()
        );
        for m in reader.poll(5000, Duration::from_millis(500)).await.unwrap() {
            let s: Score = decode(&m.payload).unwrap();
            seen.insert(s.transaction_id.clone());
            into.push(s);
        }
    }
}

/// The end of a champion swap mid-stream (A scored `first`, B is to score `second`): reads the
/// rest of the scores, stops the scorer, and checks that every transaction was scored exactly
/// once, by the bundle of its half, and that every alert has exactly one case in `store`.
pub async fn check_swap(
    reader: &mut dyn Consumer,
    mut got: Vec<Score>,
    scorer: &mut Scorer,
    deadline: Instant,
    halves: [(&[FeatureVector], &str); 2],
    store: &str,
) {
    let n = halves[0].0.len() + halves[1].0.len();
    read_until(reader, &mut got, n, scorer, deadline).await;
    for m in reader.poll(n, Duration::from_secs(3)).await.unwrap() {
        got.push(decode(&m.payload).unwrap());
    }
    scorer.signal("-TERM");
    assert!(scorer.child.wait().unwrap().success(), "{}", scorer.log());

    let by_id: HashMap<String, &Score> = got
        .iter()
        .map(|s| (s.transaction_id.to_string(), s))
        .collect();
    assert_eq!(got.len(), n, "no score twice");
    assert_eq!(by_id.len(), n, "every transaction scored");
    for (half, version) in halves {
        let wrong: Vec<_> = half
            .iter()
            .filter(|v| by_id[v.transaction_id.as_str()].model_version != version)
            .take(5)
            .collect();
        assert!(wrong.is_empty(), "scored by the other bundle: {wrong:?}");
    }
    let alerts: HashSet<String> = got
        .iter()
        .filter(|s| s.decision.opens_case())
        .map(|s| s.transaction_id.to_string())
        .collect();
    let (cases, rows) = cases(store).await;
    assert_eq!(rows, alerts.len(), "one case per alert");
    assert_eq!(cases.keys().cloned().collect::<HashSet<_>>(), alerts);
}

/// Reads whatever is committed until nothing more comes for a while, checking that `scorer`
/// (when given) stays alive.
pub async fn drain(
    reader: &mut dyn Consumer,
    into: &mut Vec<Score>,
    mut scorer: Option<&mut Scorer>,
) {
    let mut quiet = 0;
    while quiet < 3 {
        if let Some(s) = scorer.as_deref_mut() {
            s.check_running();
        }
        let batch = reader.poll(5000, Duration::from_secs(1)).await.unwrap();
        if batch.is_empty() {
            quiet += 1;
        } else {
            quiet = 0;
        }
        for m in batch {
            into.push(decode(&m.payload).unwrap());
        }
    }
}

/// A fresh, empty PostgreSQL database: its URL, the admin URL it was created through, its name.
pub async fn fresh_database(test: &str) -> (String, String, String) {
    let admin = std::env::var("FW_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://fraudwatch:fraudwatch@127.0.0.1:55432/fraudwatch".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("fwtest_{test}_{}_{nanos}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL must be running at {admin} (scripts/services-start.sh): {e}")
        });
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    (format!("{base}/{name}"), admin, name)
}

/// The scorer tests' dataset: 40 days of the handbook's world (seed 11) in `dir/tx.csv`.
pub fn dataset(dir: &Path) {
    let o = fraudwatch(
        &[
            "generate",
            "--profile",
            "handbook",
            "--days",
            "40",
            "--seed",
            "11",
        ]
        .into_iter()
        .chain(["--out", "tx.csv"])
        .collect::<Vec<_>>(),
        dir,
    );
    assert!(o.status.success(), "{}", text(&o));
}

/// Trains a bundle on `dir/tx.csv` with `params` and promotes it in the registry `dir/reg`.
pub fn train(dir: &Path, params: &str) {
    train_with(dir, params, &[]);
}

/// Like [`train`], with more flags for `fraudwatch train` (e.g. the training days).
pub fn train_with(dir: &Path, params: &str, extra: &[&str]) {
    let registry = format!("file://{}", dir.join("reg").display());
    train_on(dir, &registry, params, extra);
}

/// Like [`train_with`], into the registry at `registry` (any URL); returns the summary
/// `fraudwatch train` prints.
pub fn train_on(dir: &Path, registry: &str, params: &str, extra: &[&str]) -> serde_json::Value {
    let o = fraudwatch(
        &["--registry", registry, "train", "--transactions", "tx.csv"]
            .into_iter()
            .chain(["--params", params, "--promote"])
            .chain(extra.iter().copied())
            .collect::<Vec<_>>(),
        dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

/// The features and scores topics (and their dead-letter topics) under `prefix`; their names.
pub async fn topics(bus: &dyn Bus, url: &str, prefix: &str) -> (String, String) {
    let (features, scores) = (format!("{prefix}features"), format!("{prefix}scores"));
    let specs: Vec<TopicSpec> = [&features, &scores]
        .into_iter()
        .flat_map(|t| TopicSpec::with_dlq(t, PARTITIONS))
        .collect();
    bus.create_topics(&specs)
        .await
        .unwrap_or_else(|e| panic!("is the broker up at {url} (scripts/services-start.sh)? {e}"));
    (features, scores)
}

/// Publishes `vectors` on `topic`, keyed by customer as the processor publishes them.
pub async fn produce(bus: &dyn Bus, topic: &str, vectors: &[FeatureVector]) {
    for chunk in vectors.chunks(5000) {
        let encoded: Vec<(&str, Vec<u8>)> = chunk
            .iter()
            .map(|v| (v.customer_id.as_str(), encode(v)))
            .collect();
        let records: Vec<Record<'_>> = encoded
            .iter()
            .map(|(key, payload)| Record::new(key.as_bytes(), payload))
            .collect();
        bus.produce(topic, &records).await.unwrap();
    }
}
