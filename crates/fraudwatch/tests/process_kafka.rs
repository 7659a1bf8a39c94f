//! `fraudwatch process` in stream mode against the REAL Kafka broker on loopback (`FW_KAFKA_URL`,
//! default `kafka://127.0.0.1:9092`; never skipped): a replay of the handbook's first rows goes in
//! through `generate`, the processor runs as its own process until SIGTERM, and the features topic
//! holds one vector per transaction, equal to the file mode's features of the same rows.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{fraudwatch, handbook_dir, kafka_url, text, unique_prefix};
use fraudwatch_core::{FeatureVector, decode};

const ROWS: usize = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_mode_over_kafka_matches_the_file_mode() {
    let dir = tempfile::tempdir().unwrap();
    let src = handbook_dir(&["transactions.csv.gz"]).join("transactions.csv.gz");
    let prefix = unique_prefix("process");
    let url = kafka_url();
    let count = ROWS.to_string();

    // The rows as a file (for the file mode) and on the bus (one partition: one event-time order).
    let o = fraudwatch(
        &[
            "generate",
            "--replay",
            src.to_str().unwrap(),
            "--count",
            &count,
            "--out",
            "rows.csv",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = fraudwatch(
        &[
            "--bus",
            &url,
            "--partitions",
            "1",
            "generate",
            "--replay",
            "rows.csv",
            "--topic-prefix",
            &prefix,
        ],
        dir.path(),
    );
    assert!(
        o.status.success(),
        "is the broker up (scripts/kafka-start.sh)? {}",
        text(&o)
    );
    let o = fraudwatch(
        &[
            "process",
            "--input",
            "rows.csv",
            "--feature-set",
            "handbook",
            "--out",
            "file.csv",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fraudwatch"))
        .args([
            "--bus",
            &url,
            "--partitions",
            "1",
            "--metrics-addr",
            &metrics_addr,
        ])
        .args(["process", "--feature-set", "handbook"])
        .args([
            "--topic-prefix",
            &prefix,
            "--group",
            &format!("{prefix}g"),
            "--instance",
            "a",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let bus = fraudwatch_bus::open(&url).unwrap();
    let features = format!("{prefix}features");
    bus.create_topics(&[fraudwatch_bus::TopicSpec::new(&features, 1)])
        .await
        .unwrap();
    let mut reader = bus
        .subscribe(&format!("{prefix}reader"), &[&features])
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut got = Vec::new();
    while got.len() < ROWS {
        assert!(
            Instant::now() < deadline,
            "only {} of {ROWS} feature vectors arrived",
            got.len()
        );
        got.extend(reader.poll(ROWS, Duration::from_millis(500)).await.unwrap());
    }
    got.extend(reader.poll(ROWS, Duration::from_secs(2)).await.unwrap());
    assert_eq!(got.len(), ROWS, "one vector per transaction");

    let metrics = get_metrics(&metrics_addr);
    assert!(
        metrics.contains(&format!("fraudwatch_processor_transactions_total {ROWS}")),
        "{metrics}"
    );
    assert!(
        metrics.contains("fraudwatch_processor_dead_letters_total 0"),
        "{metrics}"
    );

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    assert!(
        status.success(),
        "SIGTERM ends the processor cleanly: {status}"
    );
    assert!(stdout.contains(&format!("{ROWS} transactions")), "{stdout}");

    let file = std::fs::read_to_string(dir.path().join("file.csv")).unwrap();
    let mut expected: HashMap<String, Vec<f64>> = file
        .lines()
        .skip(1)
        .map(|l| {
            let mut cols = l.split(',');
            let id = cols.next().unwrap().to_string();
            (id, cols.map(|c| c.parse().unwrap()).collect())
        })
        .collect();
    for m in &got {
        let v = decode::<FeatureVector>(&m.payload).unwrap();
        let want = expected.remove(v.transaction_id.as_str()).unwrap();
        assert_eq!(
            v.features.values().collect::<Vec<_>>(),
            want,
            "transaction {}",
            v.transaction_id
        );
    }
    assert!(expected.is_empty());
}

/// `GET /metrics` over a plain TCP connection.
fn get_metrics(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut body = String::new();
    conn.read_to_string(&mut body).unwrap();
    body
}
