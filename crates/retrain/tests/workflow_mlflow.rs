//! A retraining run with a REAL MLflow tracking server as the registry (`FW_MLFLOW_URL`, or the
//! one `scripts/mlflow-start.sh` starts): the run appears in MLflow with its params, metrics,
//! tags and the bundle as artifacts; the model version gets the `champion` alias only when it
//! wins; a losing challenger is registered (as `challenger`) and leaves the champion in place.
//! Checked through MLflow's own REST API.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::process::Command;

use common::{alias, workflow, world};
use fraudwatch_registry::{CHALLENGER, CHAMPION};
use fraudwatch_retrain::Outcome;
use serde_json::{Value, json};

fn server() -> String {
    if let Ok(url) = std::env::var("FW_MLFLOW_URL")
        && !url.is_empty()
    {
        return url;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/mlflow-start.sh");
    let out = Command::new(script)
        .output()
        .expect("scripts/mlflow-start.sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("export FW_MLFLOW_URL="))
        .map(|u| u.trim_matches(['\'', '"']).to_string())
        .expect("the script prints FW_MLFLOW_URL")
}

async fn get(base: &str, path: &str) -> Value {
    let r = reqwest::get(format!("{base}/api/2.0/mlflow/{path}"))
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_logged_in_mlflow_and_only_a_winner_becomes_champion() {
    let base = server();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let (model, experiment) = (format!("fw-retrain-{nanos}"), format!("fw-retrain-{nanos}"));
    let url = format!("mlflow+{base}?model={model}&experiment={experiment}",);
    let w = world(60, 30, true, &url).await;
    let old = alias(&w, CHAMPION).await.unwrap();
    let flow = workflow(&w);

    let Outcome::Done { promoted, .. } = flow.run("won", None).await.unwrap() else {
        panic!("the first run failed")
    };
    assert!(promoted);
    let new = alias(&w, CHAMPION).await.unwrap();
    assert_ne!(new, old);
    // A second run trains the twin of the champion: registered, not promoted.
    let Outcome::Done { promoted, .. } = flow.run("lost", None).await.unwrap() else {
        panic!("the second run failed")
    };
    assert!(!promoted);
    assert_eq!(
        alias(&w, CHAMPION).await.unwrap(),
        new,
        "the champion stays"
    );

    // What MLflow itself says.
    let registered = get(&base, &format!("registered-models/get?name={model}")).await;
    let aliases: Vec<(String, String)> = registered["registered_model"]["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["alias"].as_str().unwrap().into(),
                a["version"].as_str().unwrap().into(),
            )
        })
        .collect();
    let version_of = |alias: &str| aliases.iter().find(|(a, _)| a == alias).unwrap().1.clone();
    let versions = get(
        &base,
        &format!("model-versions/search?filter=name%3D%27{model}%27"),
    )
    .await;
    let versions = versions["model_versions"].as_array().unwrap().clone();
    assert_eq!(
        versions.len(),
        3,
        "the first champion, the winner and the loser: {versions:?}"
    );
    let tag = |v: &Value| -> String {
        v["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == "fraudwatch.bundle_version")
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .into()
    };
    let by_number = |n: &str| versions.iter().find(|v| v["version"] == json!(n)).unwrap();
    assert_eq!(tag(by_number(&version_of("champion"))), new);
    let loser = alias(&w, CHALLENGER).await.unwrap();
    assert_ne!(loser, new);
    assert_eq!(tag(by_number(&version_of("challenger"))), loser);

    // The runs: params, metrics (the holdout's too), tags with the run and the data range, and
    // the bundle as an artifact.
    let exp = get(
        &base,
        &format!("experiments/get-by-name?experiment_name={experiment}"),
    )
    .await;
    let exp_id = exp["experiment"]["experiment_id"]
        .as_str()
        .unwrap()
        .to_string();
    let client = reqwest::Client::new();
    let runs: Value = client
        .post(format!("{base}/api/2.0/mlflow/runs/search"))
        .json(&json!({ "experiment_ids": [exp_id], "max_results": 100 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let runs = runs["runs"].as_array().unwrap();
    let won = runs
        .iter()
        .find(|r| {
            r["data"]["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["key"] == "fraudwatch.run_id" && t["value"] == "won")
        })
        .unwrap_or_else(|| panic!("no MLflow run tagged won: {runs:?}"));
    let keys = |what: &str| -> Vec<String> {
        won["data"][what]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x["key"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    for metric in [
        "holdout_challenger_average_precision",
        "holdout_champion_average_precision",
    ] {
        assert!(
            keys("metrics").contains(&metric.to_string()),
            "{:?}",
            keys("metrics")
        );
    }
    assert!(
        keys("params").iter().any(|p| p.starts_with("xgboost.")),
        "{:?}",
        keys("params")
    );
    for tag in [
        "fraudwatch.data.start",
        "fraudwatch.data.end",
        "fraudwatch.compare",
    ] {
        assert!(
            keys("tags").contains(&tag.to_string()),
            "{:?}",
            keys("tags")
        );
    }
    let run_id = won["info"]["run_id"].as_str().unwrap();
    let listed = get(
        &base,
        &format!("artifacts/list?run_id={run_id}&path=bundle"),
    )
    .await;
    let files: Vec<&str> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"bundle/bundle.json"), "{files:?}");
}
