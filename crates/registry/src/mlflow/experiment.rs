//! The experiment runs go to, found by name or created; the first call a registry makes, so it
//! also tells whether an MLflow server answers at all.

use reqwest::Method;
use serde_json::json;

use super::client::Client;
use super::wire::{CreatedExperiment, ExperimentEnvelope};
use super::{EXISTS, NOT_FOUND};
use crate::RegistryError;

pub(super) async fn find_or_create_experiment(
    client: &Client,
    name: &str,
) -> Result<String, RegistryError> {
    let query = [("experiment_name", name)];
    let found = match client
        .get::<ExperimentEnvelope>("experiments/get-by-name", &query)
        .await
    {
        Ok(envelope) => envelope.experiment,
        Err(e) if e.mlflow_code() == Some(NOT_FOUND) => {
            let body = json!({ "name": name });
            match client
                .call::<CreatedExperiment>(Method::POST, "experiments/create", &body)
                .await
            {
                Ok(created) => return Ok(created.experiment_id),
                // Another process created it in between.
                Err(e) if e.mlflow_code() == Some(EXISTS) => {
                    client
                        .get::<ExperimentEnvelope>("experiments/get-by-name", &query)
                        .await?
                        .experiment
                }
                Err(e) => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    if found.lifecycle_stage == "deleted" {
        return Err(RegistryError::BadUrl {
            url: client.base().to_string(),
            reason: format!(
                "MLflow experiment {name:?} is deleted: restore it, or name another with ?experiment="
            ),
        });
    }
    Ok(found.experiment_id)
}

/// Errors at open name the registry URL as the user wrote it.
pub(super) fn in_context(url: &str, e: RegistryError) -> RegistryError {
    match e {
        RegistryError::Unreachable {
            reason,
            method,
            url: request,
            attempts,
        } => RegistryError::Unreachable {
            method,
            url: request,
            attempts,
            reason: format!("{reason} (is the MLflow server of registry {url} running?)"),
        },
        other => other,
    }
}
