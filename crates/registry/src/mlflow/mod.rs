//! `mlflow+http://host:port`: an MLflow tracking server (MLflow ≥ 2.3, for aliases), through its
//! REST API 2.0.
//!
//! - A **run** (in the URL's experiment) per stored bundle: params, metrics, tags (including
//!   `fraudwatch.bundle_version`), and artifacts `bundle/bundle.json` (the bundle, byte for byte)
//!   and `bundle/metadata.json` (its summary without the models).
//! - A **model version** of the registered model per bundle: source = the run's
//!   `…/artifacts/bundle`, run id, and the tag `fraudwatch.bundle_version` = the bundle version.
//! - **Aliases** (`champion`, `challenger`) are MLflow's registered-model aliases.
//!
//! Artifacts go over HTTP (`mlflow server --serve-artifacts`, MLflow's default since 2.0), so
//! the registry needs nothing but the server's URL.
//!
//! Module map: `client` — HTTP with timeouts and retries; `experiment` — finding or creating
//! the experiment; `runs` — recording a run and registering its bundle; `artifacts` — where a
//! run's files are; `wire` — MLflow's JSON documents.

mod artifacts;
mod client;
mod experiment;
mod runs;
mod wire;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use fraudwatch_models::Bundle;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::location::MlflowTarget;
use crate::registry::{BUNDLE_VERSION_TAG, check_alias, check_version, checked_json, parse_stored};
use crate::{Registry, RegistryError, RunRecord};
use artifacts::{BUNDLE_FILE, artifact_path};
use client::{Client, is_answer};
use experiment::{find_or_create_experiment, in_context};
use wire::{
    Ignored, ModelVersion, ModelVersionEnvelope, ModelVersionPage, RegisteredModel,
    RegisteredModelEnvelope,
};

const NOT_FOUND: &str = "RESOURCE_DOES_NOT_EXIST";
const EXISTS: &str = "RESOURCE_ALREADY_EXISTS";
const PAGE_SIZE: &str = "1000";

#[derive(Debug)]
pub(crate) struct MlflowRegistry {
    url: String,
    model: String,
    experiment_id: String,
    client: Client,
    /// Set once the registered model is known to exist, to skip asking again.
    model_exists: AtomicBool,
}

impl MlflowRegistry {
    /// Finds (or creates) the experiment: this checks that an MLflow server answers.
    pub(crate) async fn connect(url: &str, target: MlflowTarget) -> Result<Self, RegistryError> {
        if target.base.scheme() == "https" && !cfg!(feature = "tls") {
            return Err(RegistryError::BadUrl {
                url: url.to_string(),
                reason: "this build has no TLS: build fraudwatch-registry with its `tls` feature, \
                         or reach MLflow over http://"
                    .to_string(),
            });
        }
        let client = Client::new(target.base.clone())?;
        let experiment_id = find_or_create_experiment(&client, &target.experiment)
            .await
            .map_err(|e| in_context(url, e))?;
        Ok(MlflowRegistry {
            url: url.to_string(),
            model: target.model,
            experiment_id,
            client,
            model_exists: AtomicBool::new(false),
        })
    }

    fn not_found(&self, version: &str) -> RegistryError {
        RegistryError::NotFound {
            registry: self.url.clone(),
            version: version.to_string(),
        }
    }

    /// The registered model, or `None` if nothing was registered yet.
    async fn registered_model(&self) -> Result<Option<RegisteredModel>, RegistryError> {
        let query = [("name", self.model.as_str())];
        match self
            .client
            .get::<RegisteredModelEnvelope>("registered-models/get", &query)
            .await
        {
            Ok(envelope) => Ok(Some(envelope.registered_model)),
            Err(e) if is_answer(&e, StatusCode::NOT_FOUND, NOT_FOUND) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The model version holding `version` (the oldest, should two puts have raced).
    async fn find_version(&self, version: &str) -> Result<Option<ModelVersion>, RegistryError> {
        let filter = format!(
            "name='{}' AND tags.`{BUNDLE_VERSION_TAG}`='{version}'",
            self.model
        );
        let found = match self.search_versions(&filter).await {
            Ok(found) => found,
            // Servers that cannot filter on tags: look through every version.
            Err(e) if e.mlflow_code() == Some("INVALID_PARAMETER_VALUE") => {
                self.search_versions(&format!("name='{}'", self.model))
                    .await?
            }
            Err(e) => return Err(e),
        };
        Ok(found
            .into_iter()
            .filter(|mv| mv.bundle_version() == Some(version))
            .min_by_key(ModelVersion::number))
    }

    /// Every model version matching `filter`, page after page.
    async fn search_versions(&self, filter: &str) -> Result<Vec<ModelVersion>, RegistryError> {
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let mut query = vec![("filter", filter), ("max_results", PAGE_SIZE)];
            if !token.is_empty() {
                query.push(("page_token", token.as_str()));
            }
            let page: ModelVersionPage = self.client.get("model-versions/search", &query).await?;
            all.extend(page.model_versions);
            match page.next_page_token {
                Some(next) if !next.is_empty() => token = next,
                _ => return Ok(all),
            }
        }
    }

    async fn model_version(&self, number: &str) -> Result<ModelVersion, RegistryError> {
        let query = [("name", self.model.as_str()), ("version", number)];
        let envelope: ModelVersionEnvelope = self.client.get("model-versions/get", &query).await?;
        Ok(envelope.model_version)
    }

    /// The bundle version a model version holds; an error for versions fraudwatch did not make.
    fn bundle_version_of<'m>(&self, mv: &'m ModelVersion) -> Result<&'m str, RegistryError> {
        mv.bundle_version().ok_or_else(|| RegistryError::Corrupt {
            what: format!(
                "model version {} of {:?} in {}",
                mv.version, self.model, self.url
            ),
            reason: format!(
                "it has no {BUNDLE_VERSION_TAG} tag: it was not registered by fraudwatch"
            ),
        })
    }

    /// Downloads the bundle a model version points at.
    async fn download(&self, mv: &ModelVersion, version: &str) -> Result<Bundle, RegistryError> {
        let dir = artifact_path(&mv.source).ok_or_else(|| RegistryError::Corrupt {
            what: format!("model version {} of {:?}", mv.version, self.model),
            reason: format!("its source {:?} is not an mlflow-artifacts: URI", mv.source),
        })?;
        let path = format!("{dir}/{BUNDLE_FILE}");
        let bytes = self.client.get_artifact(&path).await?;
        parse_stored(&bytes, version, &format!("{}/{BUNDLE_FILE}", mv.source))
    }

    /// Creates the registered model unless it exists.
    async fn ensure_model(&self) -> Result<(), RegistryError> {
        if self.model_exists.load(Ordering::Relaxed) {
            return Ok(());
        }
        let body = json!({
            "name": self.model,
            "description": "fraudwatch model bundles (Isolation Forest + XGBoost); \
                            aliases champion and challenger",
        });
        match self
            .client
            .call::<Ignored>(Method::POST, "registered-models/create", &body)
            .await
        {
            Ok(_) => {}
            Err(e) if e.mlflow_code() == Some(EXISTS) => {}
            Err(e) => return Err(e),
        }
        self.model_exists.store(true, Ordering::Relaxed);
        Ok(())
    }
}

#[async_trait]
impl Registry for MlflowRegistry {
    fn url(&self) -> &str {
        &self.url
    }

    async fn put(&self, bundle: &Bundle) -> Result<String, RegistryError> {
        checked_json(bundle)?;
        if self.find_version(&bundle.version).await?.is_none() {
            self.log_run(&RunRecord::for_bundle(bundle)).await?;
        }
        Ok(bundle.version.clone())
    }

    async fn get(&self, version: &str) -> Result<Bundle, RegistryError> {
        check_version(version)?;
        match self.find_version(version).await? {
            Some(mv) => self.download(&mv, version).await,
            None => Err(self.not_found(version)),
        }
    }

    async fn versions(&self) -> Result<Vec<String>, RegistryError> {
        let mut found = self
            .search_versions(&format!("name='{}'", self.model))
            .await?;
        found.sort_by_key(ModelVersion::number);
        let mut versions: Vec<String> = Vec::with_capacity(found.len());
        for v in found.iter().filter_map(ModelVersion::bundle_version) {
            if !versions.iter().any(|seen| seen == v) {
                versions.push(v.to_string());
            }
        }
        Ok(versions)
    }

    async fn aliases(&self) -> Result<BTreeMap<String, String>, RegistryError> {
        let Some(model) = self.registered_model().await? else {
            return Ok(BTreeMap::new());
        };
        let mut aliases = BTreeMap::new();
        for entry in model.aliases {
            let mv = self.model_version(&entry.version).await?;
            aliases.insert(entry.alias, self.bundle_version_of(&mv)?.to_string());
        }
        Ok(aliases)
    }

    async fn set_alias(&self, alias: &str, version: &str) -> Result<(), RegistryError> {
        check_alias(alias)?;
        check_version(version)?;
        let mv = self
            .find_version(version)
            .await?
            .ok_or_else(|| self.not_found(version))?;
        let body = json!({ "name": self.model, "alias": alias, "version": mv.version });
        self.client
            .call::<Ignored>(Method::POST, "registered-models/alias", &body)
            .await
            .map(drop)
    }

    async fn delete_alias(&self, alias: &str) -> Result<(), RegistryError> {
        check_alias(alias)?;
        let body = json!({ "name": self.model, "alias": alias });
        match self
            .client
            .call::<Ignored>(Method::DELETE, "registered-models/alias", &body)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.mlflow_code() == Some(NOT_FOUND) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn by_alias(&self, alias: &str) -> Result<Option<Bundle>, RegistryError> {
        check_alias(alias)?;
        // MLflow answers an unset alias with a generic INVALID_PARAMETER_VALUE; ask the model
        // which aliases it has instead of parsing messages.
        let set = self.registered_model().await?;
        if !set.is_some_and(|m| m.aliases.iter().any(|a| a.alias == alias)) {
            return Ok(None);
        }
        let query = [("name", self.model.as_str()), ("alias", alias)];
        let mv = self
            .client
            .get::<ModelVersionEnvelope>("registered-models/alias", &query)
            .await?
            .model_version;
        let version = self.bundle_version_of(&mv)?.to_string();
        self.download(&mv, &version).await.map(Some)
    }

    async fn log_run(&self, run: &RunRecord<'_>) -> Result<String, RegistryError> {
        runs::log_run(self, run).await
    }
}
