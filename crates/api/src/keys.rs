//! Key management (admin): create, list, revoke.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fraudwatch_core::{ApiKey, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::{self, Caller};
use crate::error::{ApiError, Body, ErrorBody, Path};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Unique; 1 to 64 of letters, digits, `-`, `_`, `.`, `@`. The audit trail shows `key:<name>`.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub key: ApiKey,
    /// The secret to send as `Authorization: Bearer <secret>`; shown this once, never stored.
    pub secret: String,
}

/// Creates a key; its secret is in this response only.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = NewKey,
    security(("api_key" = [])),
    responses(
        (status = 201, body = CreatedKey),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "name taken"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody),
    ))]
pub async fn create(
    State(s): State<ApiState>,
    caller: Caller,
    Body(new): Body<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    caller.require(Role::Admin)?;
    let (key, secret) = auth::create_key(&*s.store, &new.name, new.role).await?;
    tracing::info!(by = %caller.0.name, name = %key.name, role = key.role.as_str(), "API key created");
    Ok((StatusCode::CREATED, Json(CreatedKey { key, secret })))
}

/// Every key, revoked ones included (never a secret or hash).
#[utoipa::path(get, path = "/v1/keys", tag = "keys",
    security(("api_key" = [])),
    responses(
        (status = 200, body = Vec<ApiKey>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub async fn list(
    State(s): State<ApiState>,
    caller: Caller,
) -> Result<Json<Vec<ApiKey>>, ApiError> {
    caller.require(Role::Admin)?;
    Ok(Json(s.store.list_keys().await?))
}

/// Revokes a key at once (idempotent).
#[utoipa::path(delete, path = "/v1/keys/{id}", tag = "keys",
    params(("id" = String, Path)),
    security(("api_key" = [])),
    responses(
        (status = 200, body = ApiKey),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub async fn revoke(
    State(s): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ApiKey>, ApiError> {
    caller.require(Role::Admin)?;
    let key = s.store.revoke_key(&id).await?;
    s.keys.clear();
    tracing::info!(by = %caller.0.name, name = %key.name, "API key revoked");
    Ok(Json(key))
}
