//! `fraudwatch serve` as users run it: over the store and registry a short embedded demo left
//! behind, with the admin key it prints on first start. It scores single transactions with the
//! registry's champion, serves the demo's cases, and a schemathesis run (every check, from PyPI
//! through `scripts/schemathesis.sh`) against its `/openapi.json` finds no failure.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// The demo runs the whole pipeline and serves the API while it runs: the API answers with the
/// demo's cases and scores with the champion the demo trained, then the demo stops at its
/// `--duration` and exits cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_the_api_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fraudwatch"))
        .args([
            "--log",
            "warn",
            "demo",
            "--days",
            "3",
            "--history-days",
            "7",
        ])
        .args(["--customers", "500", "--rate", "300", "--duration", "40s"])
        .args(["--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.path().join("demo.log")).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().expect("the demo prints").unwrap();
    let line = next();
    let base = line
        .strip_prefix("API on ")
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    let key = next().trim().to_string();
    let http = reqwest::Client::new();
    // Cases appear while the stream runs (at 300 transactions/s, alerts come within seconds).
    let mut cases = Value::Null;
    for _ in 0..300 {
        let page: Value = http
            .get(format!("{base}/v1/cases?limit=3"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if !page["cases"].as_array().unwrap().is_empty() {
            cases = page;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let first = &cases["cases"][0];
    assert!(
        first["reasons"].as_array().is_some_and(|r| !r.is_empty()),
        "{cases}"
    );
    let time = first["event_time"].as_str().unwrap();
    let tx = json!({"transaction_id": "api-1", "customer_id": first["customer_id"],
        "terminal_id": "9", "amount": 120.0, "currency": "EUR", "timestamp": time});
    let resp = http
        .post(format!("{base}/v1/score"))
        .bearer_auth(&key)
        .json(&tx)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let score: Value = resp.json().await.unwrap();
    assert_eq!(score["model_version"], first["model_version"], "{score}");
    let out: Vec<String> = lines_rest(&mut next);
    let status = child.wait().unwrap();
    assert!(status.success(), "{out:?}");
    assert!(
        out.iter()
            .any(|l| l.contains("] ") && l.contains("transactions (")),
        "a live summary: {out:?}"
    );
    assert!(out.iter().any(|l| l.starts_with("  serve:")), "{out:?}");
}

/// Every remaining line of output, up to the end.
fn lines_rest(next: &mut impl FnMut() -> String) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let line = next();
        // The monitor's summary is the demo's last line.
        let last = line.starts_with("  monitor:");
        out.push(line);
        if last {
            return out;
        }
    }
}

/// On first start over an empty store, `serve` makes an admin key and prints it once; without
/// scoring, `POST /v1/score` answers 503 and case work goes on.
#[tokio::test]
async fn a_first_start_prints_an_admin_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_with(dir.path(), &["--no-scoring"]);
    let key = server
        .key
        .clone()
        .expect("a first start prints an admin key");
    let http = reqwest::Client::new();
    let cases = http
        .get(format!("{}/v1/cases", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(cases.status(), 200);
    let keys: Value = http
        .get(format!("{}/v1/keys", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys[0]["name"], "admin", "{keys}");
    let score = http
        .post(format!("{}/v1/score", server.base))
        .bearer_auth(&key)
        .json(
            &json!({"transaction_id": "1", "customer_id": "1", "terminal_id": "1", "amount": 1.0,
            "currency": "EUR", "timestamp": "2024-01-01T00:00:00.000Z"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(score.status(), 503);
    drop(server);
    let again = serve_with(dir.path(), &["--no-scoring"]);
    assert_eq!(again.key, None, "shown once");
}

/// The server, killed if the test fails.
struct Server {
    child: Child,
    base: String,
    key: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `serve` on a free port and reads its address (and the admin key it prints when the
/// store holds none) from its output.
fn serve(dir: &Path) -> Server {
    serve_with(dir, &[])
}

fn serve_with(dir: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fraudwatch"))
        .args(["--log", "warn", "serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let mut key = None;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(k) = line.trim().strip_prefix("fw_") {
            key = Some(format!("fw_{k}"));
        }
        if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.to_string();
        }
    };
    Server { child, base, key }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_scores_cases_and_passes_schemathesis() {
    let dir = tempfile::tempdir().unwrap();
    let demo = common::fraudwatch(
        &[
            "demo",
            "--days",
            "2",
            "--history-days",
            "7",
            "--customers",
            "500",
            "--rate",
            "0",
            "--duration",
            "1s",
            "--listen",
            "127.0.0.1:0",
        ],
        dir.path(),
    );
    assert!(demo.status.success(), "{}", common::text(&demo));
    // The demo left an admin key in the store (the second line it printed), so `serve` makes none.
    let stdout = String::from_utf8(demo.stdout).unwrap();
    let key = stdout.lines().nth(1).unwrap().trim().to_string();
    assert!(key.starts_with("fw_"), "{stdout}");
    let server = serve(dir.path());
    assert_eq!(server.key, None, "a store with keys gets no new one");
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}{path}", server.base))
            .bearer_auth(&key)
            .send()
    };
    // Ready once the live scorer has followed the (empty, in-process) topics.
    let mut ready = false;
    for _ in 0..100 {
        if get("/readyz").await.is_ok_and(|r| r.status() == 200) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "readyz never answered 200");

    let aliases: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("registry/aliases.json")).unwrap(),
    )
    .unwrap();
    let tx = json!({"transaction_id": "auth-1", "customer_id": "17", "terminal_id": "3",
        "amount": 2500.0, "currency": "EUR", "timestamp": "2024-01-20T03:00:00.000Z"});
    let resp = http
        .post(format!("{}/v1/score", server.base))
        .bearer_auth(&key)
        .json(&tx)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let score: Value = resp.json().await.unwrap();
    assert_eq!(score["model_version"], aliases["champion"], "{score}");
    assert!((0.0..=1.0).contains(&score["risk"].as_f64().unwrap()));
    assert!(["allow", "review", "block"].contains(&score["decision"].as_str().unwrap()));
    let again = http
        .post(format!("{}/v1/score", server.base))
        .bearer_auth(&key)
        .json(&tx)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 422, "a payment is scored once");

    let cases: Value = get("/v1/cases?limit=5")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        cases["cases"].as_array().unwrap().len(),
        5,
        "the demo's cases: {cases}"
    );

    let fuzz = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/schemathesis.sh"
    ))
    .args([&server.base, &key])
    .output()
    .unwrap();
    assert!(
        fuzz.status.success(),
        "schemathesis found failures:\n{}",
        common::text(&fuzz)
    );

    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut server = server;
    assert!(
        server.child.wait().unwrap().success(),
        "SIGTERM stops serve cleanly"
    );
}
