//! The parts of MLflow's REST API 2.0 documents this backend reads and writes. Fields it does
//! not need are ignored, so newer servers with more fields still parse.

use serde::{Deserialize, Serialize};

use crate::registry::BUNDLE_VERSION_TAG;

#[derive(Debug, Deserialize)]
pub(crate) struct ExperimentEnvelope {
    pub experiment: Experiment,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Experiment {
    pub experiment_id: String,
    #[serde(default)]
    pub lifecycle_stage: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CreatedExperiment {
    pub experiment_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RunEnvelope {
    pub run: Run,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Run {
    pub info: RunInfo,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RunInfo {
    pub run_id: String,
    pub artifact_uri: String,
}

/// A param or tag.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct KeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Metric {
    pub key: String,
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub step: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct LogBatch<'a> {
    pub run_id: &'a str,
    pub params: &'a [KeyValue],
    pub metrics: &'a [Metric],
    pub tags: &'a [KeyValue],
}

#[derive(Debug, Deserialize)]
pub(crate) struct ModelVersionEnvelope {
    pub model_version: ModelVersion,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ModelVersion {
    /// MLflow's own number for the version ("1", "2", …).
    pub version: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub tags: Vec<KeyValue>,
}

impl ModelVersion {
    /// The fraudwatch bundle version this model version holds, if fraudwatch registered it.
    pub fn bundle_version(&self) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == BUNDLE_VERSION_TAG)
            .map(|t| t.value.as_str())
    }

    /// MLflow's number, for ordering (versions are decimal integers).
    pub fn number(&self) -> u64 {
        self.version.parse().unwrap_or(u64::MAX)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ModelVersionPage {
    #[serde(default)]
    pub model_versions: Vec<ModelVersion>,
    #[serde(default)]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RegisteredModelEnvelope {
    pub registered_model: RegisteredModel,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RegisteredModel {
    #[serde(default)]
    pub aliases: Vec<AliasEntry>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AliasEntry {
    pub alias: String,
    /// The model version number.
    pub version: String,
}

/// An answer whose content this backend does not need (`{}`).
#[derive(Debug, Deserialize)]
pub(crate) struct Ignored {}
