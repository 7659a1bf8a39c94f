//! Labels: what a closed case teaches comes from the store when the case closes; chargebacks
//! and other external verdicts arrive here.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use fraudwatch_core::{Id, Label, LabelSource, Role, Validate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::{ApiError, Body, ErrorBody, Path};

/// Most labels one request may carry.
pub const MAX_LABELS: usize = 10_000;

/// An external verdict on a transaction, e.g. a chargeback.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Chargeback {
    #[schema(schema_with = fraudwatch_core::id::openapi::id)]
    pub transaction_id: Id,
    #[schema(schema_with = fraudwatch_core::id::openapi::id)]
    pub customer_id: Id,
    pub is_fraud: bool,
    /// When the verdict was learnt (default: now).
    pub labelled_at: Option<DateTime<Utc>>,
    #[schema(
        max_length = 64,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub fraud_scenario: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargebackBatch {
    /// 1 to 10,000 labels; a later label of the same transaction replaces an earlier one.
    #[schema(min_items = 1, max_items = 10_000)]
    pub labels: Vec<Chargeback>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Written {
    pub written: u64,
}

/// Records external labels (source `chargeback`). All or nothing: one invalid label refuses the
/// batch, naming its index, field and value.
#[utoipa::path(post, path = "/v1/labels", tag = "labels", request_body = ChargebackBatch,
    security(("api_key" = [])),
    responses(
        (status = 200, body = Written),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub async fn post(
    State(s): State<ApiState>,
    caller: Caller,
    Body(batch): Body<ChargebackBatch>,
) -> Result<Json<Written>, ApiError> {
    caller.require(Role::Analyst)?;
    if batch.labels.is_empty() || batch.labels.len() > MAX_LABELS {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            format!(
                "labels holds {} entries; 1 to {MAX_LABELS} are accepted",
                batch.labels.len()
            ),
        ));
    }
    let now = fraudwatch_core::time::now();
    let labels = batch
        .labels
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let label = Label {
                transaction_id: c.transaction_id,
                customer_id: c.customer_id,
                is_fraud: c.is_fraud,
                source: LabelSource::Chargeback,
                labelled_at: c.labelled_at.unwrap_or(now),
                fraud_scenario: c.fraud_scenario,
            };
            label.validate().map(|()| label).map_err(|e| {
                ApiError::new(
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    format!("labels[{i}]: {e}"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(Written {
        written: s.store.upsert_labels(&labels).await?,
    }))
}

/// The latest label of a transaction, from a case outcome or a chargeback.
#[utoipa::path(get, path = "/v1/labels/{transaction_id}", tag = "labels",
    params(crate::cases::CaseId),
    security(("api_key" = [])),
    responses(
        (status = 200, body = Label),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody),
    ))]
pub async fn get(
    State(s): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Label>, ApiError> {
    caller.require(Role::Viewer)?;
    crate::cases::check_id(&id)?;
    let label = s
        .store
        .get_label(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no label for transaction {id:?}")))?;
    Ok(Json(label))
}
