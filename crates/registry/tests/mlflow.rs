//! The registry contract on a REAL MLflow tracking server on loopback: `FW_MLFLOW_URL`, or the
//! one `scripts/mlflow-start.sh` starts (and installs) when that is unset. No MLflow, no pass:
//! nothing here is skipped. Each test uses its own experiment and registered model, so tests
//! run in parallel and again on the same server. What the registry says is checked against
//! MLflow's own REST API.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use common::{Fixture, RunView};
use fraudwatch_models::Bundle;
use fraudwatch_registry::{Location, Registry, RegistryError};
use serde_json::Value;

/// `http://127.0.0.1:PORT` of the server, started once per test binary if need be.
fn server() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("FW_MLFLOW_URL")
            && !url.is_empty()
        {
            return url;
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
            .map(|url| url.trim_matches(['\'', '"']).to_string())
            .unwrap_or_else(|| panic!("no FW_MLFLOW_URL in the script's output: {stdout}"))
    })
}

/// A name no other test (or earlier run) used.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn model_of(registry: &dyn Registry) -> String {
    match Location::parse(registry.url()).unwrap() {
        Location::Mlflow(target) => target.model,
        other => panic!("not MLflow: {other:?}"),
    }
}

/// MLflow's REST API, read directly.
async fn rest(endpoint: &str, query: &[(&str, &str)]) -> Value {
    let url = format!("{}/api/2.0/{endpoint}", server());
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

fn pairs(list: &Value) -> BTreeMap<String, Value> {
    let list = list.as_array().cloned().unwrap_or_default();
    list.into_iter()
        .map(|kv| (kv["key"].as_str().unwrap().to_string(), kv["value"].clone()))
        .collect()
}

fn strings(map: BTreeMap<String, Value>) -> BTreeMap<String, String> {
    map.into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
        .collect()
}

/// The registered model's versions, oldest first.
async fn model_versions(model: &str) -> Vec<Value> {
    let filter = format!("name='{model}'");
    let found = rest("mlflow/model-versions/search", &[("filter", &filter)]).await;
    let mut versions = found["model_versions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    versions.sort_by_key(|v| v["version"].as_str().unwrap().parse::<u64>().unwrap());
    versions
}

fn bundle_tag(model_version: &Value) -> String {
    strings(pairs(&model_version["tags"]))["fraudwatch.bundle_version"].clone()
}

struct MlflowFixture;

#[async_trait]
impl Fixture for MlflowFixture {
    async fn fresh(&self) -> Box<dyn Registry> {
        let name = unique("fwtest");
        let url = format!("mlflow+{}?model={name}&experiment={name}", server());
        fraudwatch_registry::open(&url).await.unwrap()
    }

    async fn run_view(&self, _: &dyn Registry, run_id: &str) -> RunView {
        let run = &rest("mlflow/runs/get", &[("run_id", run_id)]).await["run"];
        let metrics = pairs(&run["data"]["metrics"]);
        let listed = rest(
            "mlflow/artifacts/list",
            &[("run_id", run_id), ("path", "bundle")],
        )
        .await;
        RunView {
            status: run["info"]["status"].as_str().unwrap().to_string(),
            params: strings(pairs(&run["data"]["params"])),
            metrics: metrics
                .into_iter()
                .map(|(k, v)| (k, v.as_f64().unwrap()))
                .collect(),
            tags: strings(pairs(&run["data"]["tags"])),
            artifacts: listed["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["path"].as_str().unwrap().to_string())
                .collect(),
        }
    }

    fn expected_artifacts(&self, _: &Bundle) -> BTreeSet<String> {
        BTreeSet::from([
            "bundle/bundle.json".to_string(),
            "bundle/metadata.json".to_string(),
        ])
    }

    async fn raw_aliases(&self, registry: &dyn Registry) -> BTreeMap<String, String> {
        let model = model_of(registry);
        let found = rest("mlflow/registered-models/get", &[("name", &model)]).await;
        let versions = model_versions(&model).await;
        let mut aliases = BTreeMap::new();
        for entry in found["registered_model"]["aliases"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let number = entry["version"].as_str().unwrap();
            let mv = versions.iter().find(|v| v["version"] == number).unwrap();
            aliases.insert(entry["alias"].as_str().unwrap().to_string(), bundle_tag(mv));
        }
        aliases
    }

    async fn raw_versions(&self, registry: &dyn Registry) -> Vec<String> {
        model_versions(&model_of(registry))
            .await
            .iter()
            .map(bundle_tag)
            .collect()
    }

    async fn raw_bundle(&self, registry: &dyn Registry, version: &str) -> Vec<u8> {
        let versions = model_versions(&model_of(registry)).await;
        let mv = versions.iter().find(|v| bundle_tag(v) == version).unwrap();
        let source = mv["source"].as_str().unwrap();
        let path = source.strip_prefix("mlflow-artifacts:/").unwrap();
        let url = format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{path}/bundle.json",
            server()
        );
        let response = reqwest::get(&url).await.unwrap();
        assert!(
            response.status().is_success(),
            "GET {url}: {}",
            response.status()
        );
        response.bytes().await.unwrap().to_vec()
    }
}

#[tokio::test]
async fn round_trip() {
    common::round_trip(&MlflowFixture).await;
}

#[tokio::test]
async fn put_is_idempotent() {
    common::put_is_idempotent(&MlflowFixture).await;
}

#[tokio::test]
async fn aliases_set_move_and_read() {
    common::aliases_set_move_and_read(&MlflowFixture).await;
}

#[tokio::test]
async fn unknown_and_malformed_inputs_are_clear_errors() {
    common::unknown_and_malformed_inputs_are_clear_errors(&MlflowFixture).await;
}

#[tokio::test]
async fn log_run_is_recorded() {
    common::log_run_is_recorded(&MlflowFixture).await;
}

#[tokio::test]
async fn bad_urls_are_refused() {
    common::bad_urls_are_refused().await;
}

/// The model versions carry their run and its artifacts; `put` without a run made one.
#[tokio::test]
async fn model_versions_point_at_their_runs() {
    let reg = MlflowFixture.fresh().await;
    let b = common::bundle(11);
    reg.put(&b).await.unwrap();
    let versions = model_versions(&model_of(reg.as_ref())).await;
    assert_eq!(versions.len(), 1);
    let run_id = versions[0]["run_id"].as_str().unwrap();
    let run = MlflowFixture.run_view(reg.as_ref(), run_id).await;
    assert_eq!(run.tags["fraudwatch.bundle_version"], b.version);
    assert_eq!(
        run.params, b.params,
        "a bundle put alone logs its hyper-parameters"
    );
    assert_eq!(run.metrics, b.metrics);
    let source = versions[0]["source"].as_str().unwrap();
    assert!(
        source.ends_with(&format!("{run_id}/artifacts/bundle")),
        "{source}"
    );
}

/// A port nobody listens on: an error naming the URL, after a few quick retries, not a hang.
#[tokio::test]
async fn an_unreachable_server_is_an_error_naming_the_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("mlflow+http://127.0.0.1:{port}?model=fraudwatch");
    // A guard against hanging, far above the retries' ~1.5 s.
    let opened = tokio::time::timeout(Duration::from_secs(60), fraudwatch_registry::open(&url))
        .await
        .expect("open must give up, not hang");
    let err = common::assert_err(opened, &[&format!("127.0.0.1:{port}"), &url, "attempt"]);
    assert!(matches!(err, RegistryError::Unreachable { .. }), "{err:?}");
}

/// Something that answers HTTP but is not MLflow's API (a wrong path prefix): MLflow's 404 page
/// becomes an error with the status and the start of the page.
#[tokio::test]
async fn a_wrong_path_prefix_is_an_error_with_the_status() {
    let url = format!("mlflow+{}/no-such-prefix", server());
    let err = common::assert_err(
        fraudwatch_registry::open(&url).await,
        &["no-such-prefix", "HTTP 404", "not an MLflow error answer"],
    );
    assert_eq!(err.http_status(), Some(404));
}

/// `mlflow+https://` parses; a build without the `tls` feature says what to do about it.
#[cfg(not(feature = "tls"))]
#[tokio::test]
async fn https_without_the_tls_feature_says_so() {
    let url = "mlflow+https://127.0.0.1:1?model=fraudwatch";
    common::assert_err(
        fraudwatch_registry::open(url).await,
        &[url, "no TLS", "`tls` feature"],
    );
}
