//! Hot reload of `fraudwatch score` on an MLflow registry, against the REAL MLflow tracking
//! server (`FW_MLFLOW_URL`, or the one `scripts/mlflow-start.sh` starts), Kafka broker and
//! PostgreSQL: champion A is trained into MLflow with `fraudwatch train --promote`, the scorer
//! runs as its own process on the `mlflow+http://` registry, and halfway through the stream B is
//! trained and promoted (MLflow's `champion` alias moves) while the scorer keeps running. Every
//! transaction is scored exactly once (read_committed), the first half by A and the second by B,
//! every alert has exactly one case, and MLflow's own REST API shows the two runs, the two model
//! versions and the aliases on B. Nothing is skipped: no MLflow, no pass. The registered model
//! and the experiment are named for this run, so runs never collide on a shared server.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::{BTreeMap, HashSet};
use std::process::Command;
use std::time::{Duration, Instant};

use common::scoring::{
    Scorer, check_swap, dataset, fresh_database, params, produce, read_until, topics, train_on,
    vectors,
};
use common::{kafka_url, unique_prefix};
use serde_json::Value;
use sqlx::Connection as _;

const VECTORS: usize = 20_000;

/// `http://127.0.0.1:PORT` of the MLflow server: `FW_MLFLOW_URL`, or the one
/// `scripts/mlflow-start.sh` starts (installing MLflow the first time).
fn server() -> String {
    if let Ok(url) = std::env::var("FW_MLFLOW_URL")
        && !url.is_empty()
    {
        return url.trim_end_matches('/').to_string();
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/mlflow-start.sh");
    let out = Command::new(script)
        .output()
        .expect("cannot run scripts/mlflow-start.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scripts/mlflow-start.sh failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("export FW_MLFLOW_URL="))
        .map(|url| {
            url.trim_matches(['\'', '"'])
                .trim_end_matches('/')
                .to_string()
        })
        .unwrap_or_else(|| panic!("no FW_MLFLOW_URL in the script's output: {stdout}"))
}

/// MLflow's REST API, read directly.
async fn rest(server: &str, endpoint: &str, query: &[(&str, &str)]) -> Value {
    let url = format!("{server}/api/2.0/{endpoint}");
    let response = reqwest::Client::new()
        .get(&url)
        .query(query)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(status.is_success(), "GET {url} {query:?}: {status} {body}");
    serde_json::from_str(&body).unwrap()
}

/// MLflow's `[{"key": k, "value": v}, ...]` as a map.
fn pairs(list: &Value) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|kv| {
            let value = match &kv["value"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (kv["key"].as_str().unwrap().to_string(), value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_champion_promoted_on_mlflow_takes_over_without_loss_or_duplicates() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique_prefix("mlflow");
    let name = prefix.trim_end_matches('-').to_string();
    let registry = format!("mlflow+{server}?model={name}&experiment={name}");
    let url = kafka_url();
    dataset(dir.path());
    let params_a = params(dir.path());
    let trained_a = train_on(dir.path(), &registry, &params_a, &[]);
    let a = trained_a["version"].as_str().unwrap().to_string();
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
    let (store, admin, database) = fresh_database("mlflow").await;

    let deadline = Instant::now() + Duration::from_secs(300);
    let mut scorer = Scorer::start_on(
        dir.path(),
        &registry,
        &url,
        &store,
        &prefix,
        "scorer.log",
        500,
    );
    produce(&*bus, &features, first).await;
    let mut got = Vec::new();
    read_until(&mut *reader, &mut got, first.len(), &mut scorer, deadline).await;

    // Promote B while the scorer runs idle; it polls MLflow's alias every 5 s and swaps between
    // batches. The second half goes out once the scorer has logged the swap.
    let trained_b = train_on(dir.path(), &registry, params_b.to_str().unwrap(), &[]);
    let b = trained_b["version"].as_str().unwrap().to_string();
    assert_ne!(a, b, "a second bundle");
    let swap = Instant::now() + Duration::from_secs(60);
    let swapped = |log: String| {
        log.lines()
            .any(|l| l.contains("new champion") && l.contains(&b))
    };
    while !swapped(scorer.log()) {
        scorer.check_running();
        assert!(
            Instant::now() < swap,
            "the scorer did not take B ({b}) within 60 s: {}",
            scorer.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    produce(&*bus, &features, second).await;
    let halves = [(first, a.as_str()), (second, b.as_str())];
    check_swap(&mut *reader, got, &mut scorer, deadline, halves, &store).await;

    // MLflow's own view: two model versions (A's then B's), both aliases on B.
    let model = rest(&server, "mlflow/registered-models/get", &[("name", &name)]).await;
    let model = &model["registered_model"];
    assert_eq!(model["name"], name.as_str());
    let filter = format!("name='{name}'");
    let found = rest(
        &server,
        "mlflow/model-versions/search",
        &[("filter", &filter)],
    )
    .await;
    let mut versions = found["model_versions"].as_array().cloned().unwrap();
    versions.sort_by_key(|v| v["version"].as_str().unwrap().parse::<u64>().unwrap());
    assert_eq!(versions.len(), 2, "one model version per bundle: {found}");
    let bundle_of = |v: &Value| pairs(&v["tags"])["fraudwatch.bundle_version"].clone();
    assert_eq!(bundle_of(&versions[0]), a);
    assert_eq!(bundle_of(&versions[1]), b);
    let aliases: BTreeMap<String, String> = model["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["alias"].as_str().unwrap().to_string(),
                x["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let b_number = versions[1]["version"].as_str().unwrap();
    assert_eq!(aliases.get("champion").map(String::as_str), Some(b_number));
    assert_eq!(
        aliases.get("challenger").map(String::as_str),
        Some(b_number)
    );

    // Each training is a finished run with its params, metrics, tags and the bundle.
    for (trained, version, rounds) in [(&trained_a, &a, "100"), (&trained_b, &b, "50")] {
        let run_id = trained["run_id"].as_str().unwrap();
        let run = rest(&server, "mlflow/runs/get", &[("run_id", run_id)]).await;
        let run = &run["run"];
        assert_eq!(run["info"]["status"], "FINISHED", "{run}");
        let params = pairs(&run["data"]["params"]);
        assert_eq!(params["xgboost.rounds"], rounds, "{params:?}");
        assert_eq!(params["run.delay_days"], "7", "{params:?}");
        let tags = pairs(&run["data"]["tags"]);
        assert_eq!(&tags["fraudwatch.bundle_version"], version);
        assert_eq!(tags["fraudwatch.promoted"], "true");
        assert_eq!(tags["fraudwatch.trigger"], "fraudwatch train");
        let metrics = pairs(&run["data"]["metrics"]);
        assert!(!metrics.is_empty(), "the run has metrics: {run}");
        let listed = rest(
            &server,
            "mlflow/artifacts/list",
            &[("run_id", run_id), ("path", "bundle")],
        )
        .await;
        let files: HashSet<&str> = listed["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert!(files.contains("bundle/bundle.json"), "{listed}");
    }

    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}
