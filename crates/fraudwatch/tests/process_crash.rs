//! Crash and scale-out of `fraudwatch process` against the REAL Kafka broker on loopback
//! (`FW_KAFKA_URL`, default `kafka://127.0.0.1:9092`; never skipped). The same replay goes to two
//! sets of topics with 6 partitions. One process handles the first set alone. On the second, two
//! processes start, a third joins (a rebalance), one is killed with SIGKILL mid-stream and
//! restarted under the same instance name. Read with read_committed, the second features topic
//! must hold exactly one vector per transaction, each identical to the single process's.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{fraudwatch, handbook_dir, kafka_url, text, unique_prefix};
use fraudwatch_bus::{Bus, Consumer, TopicSpec};
use fraudwatch_core::{FeatureVector, decode};

const ROWS: usize = 40_000;
const PARTITIONS: &str = "6";

fn processor(url: &str, prefix: &str, instance: &str, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_fraudwatch"))
        .args([
            "--bus",
            url,
            "--partitions",
            PARTITIONS,
            "--log",
            "warn",
            "process",
            "--batch",
            "500",
        ])
        .args([
            "--topic-prefix",
            prefix,
            "--group",
            &format!("{prefix}g"),
            "--instance",
            instance,
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: &str) {
    Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
}

/// Reads vectors from `reader` until `n` distinct transactions have one (or the deadline).
async fn read_until(
    reader: &mut dyn Consumer,
    into: &mut Vec<FeatureVector>,
    n: usize,
    deadline: Instant,
) {
    let distinct = |v: &Vec<FeatureVector>| {
        v.iter()
            .map(|f| f.transaction_id.clone())
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    while distinct(into) < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} transactions have features",
            distinct(into)
        );
        for m in reader.poll(5000, Duration::from_millis(500)).await.unwrap() {
            into.push(decode(&m.payload).unwrap());
        }
    }
}

async fn reader(bus: &dyn Bus, prefix: &str) -> Box<dyn Consumer> {
    let features = format!("{prefix}features");
    bus.create_topics(&[TopicSpec::new(&features, 6)])
        .await
        .unwrap();
    bus.subscribe(&format!("{prefix}reader"), &[&features])
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_and_rebalanced_processors_give_the_single_process_features_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let src = handbook_dir(&["transactions.csv.gz"]).join("transactions.csv.gz");
    let (single, crash) = (unique_prefix("single"), unique_prefix("crash"));
    let url = kafka_url();
    let bus = fraudwatch_bus::open(&url).unwrap();
    let count = ROWS.to_string();
    for prefix in [&single, &crash] {
        let o = fraudwatch(
            &[
                "--bus",
                &url,
                "--partitions",
                PARTITIONS,
                "generate",
                "--replay",
                src.to_str().unwrap(),
                "--count",
                &count,
                "--topic-prefix",
                prefix,
            ],
            dir.path(),
        );
        assert!(
            o.status.success(),
            "is the broker up (scripts/kafka-start.sh)? {}",
            text(&o)
        );
    }
    let deadline = Instant::now() + Duration::from_secs(300);

    // The reference: one process, no interruption.
    let mut reference = Vec::new();
    let mut r = reader(&*bus, &single).await;
    let mut alone = processor(&url, &single, "alone", dir.path());
    read_until(&mut *r, &mut reference, ROWS, deadline).await;
    signal(&alone, "-TERM");
    assert!(
        alone.wait().unwrap().success(),
        "SIGTERM stops a processor cleanly"
    );

    // Two processes, a third joins, one is killed mid-stream and comes back.
    let mut got = Vec::new();
    let mut r = reader(&*bus, &crash).await;
    let mut a = processor(&url, &crash, "a", dir.path());
    let b = processor(&url, &crash, "b", dir.path());
    read_until(&mut *r, &mut got, ROWS / 5, deadline).await;
    let c = processor(&url, &crash, "c", dir.path());
    read_until(&mut *r, &mut got, ROWS / 3, deadline).await;
    signal(&a, "-KILL");
    a.wait().unwrap();
    read_until(&mut *r, &mut got, ROWS / 2, deadline).await;
    let a = processor(&url, &crash, "a", dir.path());
    read_until(&mut *r, &mut got, ROWS, deadline).await;
    // Anything more would be a duplicate.
    for m in r.poll(ROWS, Duration::from_secs(3)).await.unwrap() {
        got.push(decode(&m.payload).unwrap());
    }
    for p in [&a, &b, &c] {
        signal(p, "-TERM");
    }

    assert_eq!(got.len(), ROWS, "exactly one vector per transaction");
    let mut want: HashMap<_, _> = reference
        .into_iter()
        .map(|v| (v.transaction_id.clone(), v.features))
        .collect();
    for v in got {
        let w = want
            .remove(&v.transaction_id)
            .unwrap_or_else(|| panic!("duplicate or unknown {}", v.transaction_id));
        assert_eq!(v.features, w, "transaction {}", v.transaction_id);
    }
    for mut p in [a, b, c] {
        assert!(p.wait().unwrap().success());
    }
}
