//! `POST /v1/score`: one transaction scored synchronously for an authorisation flow. The API
//! does not own the models or the per-customer state: a [`Scoring`] does (the binary wires the
//! live scorer that follows the `transactions` topic), so this crate stays free of both.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fraudwatch_core::{Role, Score, Transaction, Validate};
use serde::Serialize;
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::{ApiError, Body, ErrorBody};

/// Why a transaction got no score.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoringError {
    /// The transaction cannot be scored as sent (e.g. older than the state allows).
    #[error("{0}")]
    Refused(String),
    /// Not ready: no champion yet, or the state is still being rebuilt.
    #[error("{0}")]
    Unavailable(String),
}

/// Scores single transactions against live per-customer state.
#[async_trait::async_trait]
pub trait Scoring: Send + Sync + std::fmt::Debug {
    /// Applies `tx` to the live state and scores it (a transaction later seen on the bus again
    /// is not counted twice).
    async fn score(&self, tx: &Transaction) -> Result<Score, ScoringError>;

    /// Whether the state has caught up and a champion is loaded.
    fn ready(&self) -> bool;

    /// The champion's version, when one is loaded.
    fn model_version(&self) -> Option<String>;
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelInfo {
    /// Content hash of the bundle scoring now; absent until one is loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    pub ready: bool,
}

/// Scores one transaction: risk, decision, reasons and the model version that decided.
#[utoipa::path(post, path = "/v1/score", tag = "scoring", request_body = Transaction,
    security(("api_key" = [])),
    responses(
        (status = 200, body = Score),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "no scorer, or still catching up"),
    ))]
pub async fn score(
    State(s): State<ApiState>,
    caller: Caller,
    Body(tx): Body<Transaction>,
) -> Result<Json<Score>, ApiError> {
    caller.require(Role::Analyst)?;
    tx.validate()?;
    let scoring = s.scoring.as_ref().ok_or_else(unavailable)?;
    match scoring.score(&tx).await {
        Ok(score) => Ok(Json(score)),
        Err(ScoringError::Refused(m)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_scorable",
            m,
        )),
        Err(ScoringError::Unavailable(m)) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            m,
        )),
    }
}

/// The model scoring now.
#[utoipa::path(get, path = "/v1/model", tag = "scoring",
    security(("api_key" = [])),
    responses((status = 200, body = ModelInfo), (status = 401, body = ErrorBody)))]
pub async fn model(State(s): State<ApiState>, caller: Caller) -> Result<Json<ModelInfo>, ApiError> {
    caller.require(Role::Viewer)?;
    Ok(Json(ModelInfo {
        model_version: s.scoring.as_ref().and_then(|x| x.model_version()),
        ready: s.scoring.as_ref().is_some_and(|x| x.ready()),
    }))
}

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        "this API serves no scorer (start it with a model registry)",
    )
}
