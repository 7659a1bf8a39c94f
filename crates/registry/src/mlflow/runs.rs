//! Recording a run in MLflow and registering its bundle:
//! `runs/create` → `runs/log-batch` (params, metrics, tags, in MLflow's batch limits) → artifact
//! uploads → `registered-models/create` + `model-versions/create` → `runs/update` FINISHED.
//! A failure after the run exists marks it FAILED, so MLflow's UI never shows it as running.

use reqwest::Method;
use serde_json::json;

use super::MlflowRegistry;
use super::artifacts::{BUNDLE_DIR, BUNDLE_FILE, METADATA_FILE, artifact_path};
use super::wire::{Ignored, KeyValue, LogBatch, Metric, ModelVersionEnvelope, RunEnvelope};
use crate::registry::{BUNDLE_VERSION_TAG, checked_json};
use crate::{RegistryError, RunRecord};

/// MLflow's `runs/log-batch` limits: 100 params, 100 tags, 1000 entries in all per request.
const PARAMS_PER_BATCH: usize = 100;
const TAGS_PER_BATCH: usize = 100;
const METRICS_PER_BATCH: usize = 800;

pub(super) async fn log_run(
    registry: &MlflowRegistry,
    run: &RunRecord<'_>,
) -> Result<String, RegistryError> {
    run.check()?;
    let bundle_json = checked_json(run.bundle)?;
    let body = json!({
        "experiment_id": registry.experiment_id,
        "run_name": run.name,
        "start_time": now_ms(),
    });
    let created: RunEnvelope = registry
        .client
        .call(Method::POST, "runs/create", &body)
        .await?;
    let info = created.run.info;
    let outcome = fill(registry, run, &info.run_id, &info.artifact_uri, bundle_json).await;
    let status = if outcome.is_ok() {
        "FINISHED"
    } else {
        "FAILED"
    };
    let body = json!({ "run_id": info.run_id, "status": status, "end_time": now_ms() });
    let ended = registry
        .client
        .call::<Ignored>(Method::POST, "runs/update", &body)
        .await;
    match (outcome, ended) {
        (Ok(()), Ok(_)) => Ok(info.run_id),
        (Ok(()), Err(e)) => Err(e),
        (Err(e), ended) => {
            if let Err(also) = ended {
                tracing::warn!(run_id = %info.run_id, error = %also, "cannot mark the MLflow run FAILED");
            }
            Err(e)
        }
    }
}

/// Everything between creating the run and ending it.
async fn fill(
    registry: &MlflowRegistry,
    run: &RunRecord<'_>,
    run_id: &str,
    artifact_uri: &str,
    bundle_json: Vec<u8>,
) -> Result<(), RegistryError> {
    log_batches(registry, run, run_id).await?;

    let root = artifact_path(artifact_uri).ok_or_else(|| RegistryError::Corrupt {
        what: format!("MLflow run {run_id} of {}", registry.url),
        reason: format!(
            "its artifacts go to {artifact_uri:?}, not to the server: start MLflow with \
             --serve-artifacts (the default since 2.0) and an mlflow-artifacts:/ artifact root"
        ),
    })?;
    let dir = format!("{root}/{BUNDLE_DIR}");
    let metadata = metadata(run, run_id)?;
    let client = &registry.client;
    client
        .put_artifact(&format!("{dir}/{BUNDLE_FILE}"), bundle_json)
        .await?;
    client
        .put_artifact(&format!("{dir}/{METADATA_FILE}"), metadata)
        .await?;

    let version = &run.bundle.version;
    registry.ensure_model().await?;
    if registry.find_version(version).await?.is_some() {
        return Ok(()); // the bundle is registered already; this run is one more record of it
    }
    let source = format!("{}/{BUNDLE_DIR}", artifact_uri.trim_end_matches('/'));
    let body = json!({
        "name": registry.model,
        "source": source,
        "run_id": run_id,
        "tags": [{ "key": BUNDLE_VERSION_TAG, "value": version }],
        "description": format!("fraudwatch bundle {version}"),
    });
    client
        .call::<ModelVersionEnvelope>(Method::POST, "model-versions/create", &body)
        .await
        .map(drop)
}

/// Params, metrics and tags, in as many `runs/log-batch` requests as MLflow's limits need.
async fn log_batches(
    registry: &MlflowRegistry,
    run: &RunRecord<'_>,
    run_id: &str,
) -> Result<(), RegistryError> {
    let pairs = |map: &std::collections::BTreeMap<String, String>| -> Vec<KeyValue> {
        map.iter()
            .map(|(key, value)| KeyValue {
                key: key.clone(),
                value: value.clone(),
            })
            .collect()
    };
    let params = pairs(&run.params);
    let tags = pairs(&run.stored_tags());
    let timestamp = now_ms();
    let metrics: Vec<Metric> = run
        .metrics
        .iter()
        .map(|(key, &value)| Metric {
            key: key.clone(),
            value,
            timestamp,
            step: 0,
        })
        .collect();
    let mut params = params.chunks(PARAMS_PER_BATCH);
    let mut tags = tags.chunks(TAGS_PER_BATCH);
    let mut metrics = metrics.chunks(METRICS_PER_BATCH);
    loop {
        let batch = LogBatch {
            run_id,
            params: params.next().unwrap_or_default(),
            metrics: metrics.next().unwrap_or_default(),
            tags: tags.next().unwrap_or_default(),
        };
        if batch.params.is_empty() && batch.metrics.is_empty() && batch.tags.is_empty() {
            return Ok(());
        }
        registry
            .client
            .call::<Ignored>(Method::POST, "runs/log-batch", &batch)
            .await
            .map_err(|e| match e {
                // Name the run: MLflow's message names only the offending key.
                RegistryError::Mlflow {
                    status: 400,
                    message,
                    ..
                } => RegistryError::BadRun {
                    run: run.name.clone(),
                    reason: format!("MLflow refused its params, metrics or tags: {message}"),
                },
                other => other,
            })?;
    }
}

/// `bundle/metadata.json`: what the bundle is, without its models, for people browsing MLflow.
fn metadata(run: &RunRecord<'_>, run_id: &str) -> Result<Vec<u8>, RegistryError> {
    let b = run.bundle;
    let doc = json!({
        "version": b.version,
        "format": b.format,
        "created_at": b.created_at,
        "model": b.model,
        "feature_set": b.feature_set,
        "features": b.features,
        "thresholds": b.thresholds,
        "metrics": b.metrics,
        "data": b.data,
        "run_id": run_id,
        "run_name": run.name,
    });
    serde_json::to_vec_pretty(&doc).map_err(|e| RegistryError::BadRun {
        run: run.name.clone(),
        reason: format!("metadata: {e}"),
    })
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
