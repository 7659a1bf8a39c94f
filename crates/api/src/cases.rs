//! The analysts' workflow: list (filters, keyset pages by risk), read one case whole, change it
//! with optimistic concurrency, add notes, and claim the next case off the queue.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use fraudwatch_core::case::serde_double_option;
use fraudwatch_core::{Case, CaseStatus, CaseUpdate, Decision, Id, Outcome, Role};
use fraudwatch_store::{CaseFilter, Cursor, filter::MAX_LIMIT};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ApiState;
use crate::auth::Caller;
use crate::error::{ApiError, Body, ErrorBody, Path, Query};

/// A transaction id in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CaseId {
    #[param(pattern = "^[^\\s\\x00-\\x1f\\x7f-\\x9f]{1,64}$")]
    pub transaction_id: String,
}

/// Filters of `GET /v1/cases`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    pub status: Option<CaseStatus>,
    pub decision: Option<Decision>,
    pub assignee: Option<String>,
    pub customer_id: Option<String>,
    /// Event time from (inclusive), RFC 3339.
    pub from: Option<DateTime<Utc>>,
    /// Event time to (exclusive), RFC 3339.
    pub to: Option<DateTime<Utc>>,
    #[param(minimum = 0.0, maximum = 1.0)]
    pub min_risk: Option<f64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    /// Highest risk first, ties by transaction id; without notes and audit trail.
    pub cases: Vec<Case>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A change to a case, applied only if the case is still at `version`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseChange {
    /// The version the change was based on; a newer case answers 409.
    #[serde(deserialize_with = "integral")]
    pub version: i64,
    pub status: Option<CaseStatus>,
    /// Required when closing; only a closed case has one.
    pub outcome: Option<Outcome>,
    /// `null` unassigns.
    #[serde(default, with = "serde_double_option")]
    #[schema(value_type = Option<String>, max_length = 128, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$")]
    pub assignee: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// 1 to 10,000 characters, not all blank, no control characters.
    #[schema(
        max_length = 10_000,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub text: String,
}

/// An integer, also when written `3.0` (the same number to JSON).
fn integral<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = serde_json::Number::deserialize(d)?;
    v.as_i64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .ok_or_else(|| serde::de::Error::custom(format!("version {v} is not an integer")))
}

/// A path's transaction id, checked as the core checks ids (400 otherwise).
pub(crate) fn check_id(id: &str) -> Result<(), ApiError> {
    Id::from(id)
        .check("transaction_id")
        .map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))
}

fn encode_cursor(c: &Case) -> String {
    URL_SAFE_NO_PAD.encode(format!("{:016x}{}", c.risk.to_bits(), c.transaction_id))
}

fn decode_cursor(s: &str) -> Result<Cursor, ApiError> {
    let bad = || {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_cursor",
            format!("cursor {s:?} is not one this API gave"),
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (bits, id) = (
        raw.get(..16).ok_or_else(bad)?,
        raw.get(16..).ok_or_else(bad)?,
    );
    let risk = f64::from_bits(u64::from_str_radix(bits, 16).map_err(|_| bad())?);
    if !(0.0..=1.0).contains(&risk) || id.is_empty() {
        return Err(bad());
    }
    Ok(Cursor {
        risk,
        transaction_id: id.into(),
    })
}

impl CaseQuery {
    fn into_filter(self) -> Result<CaseFilter, ApiError> {
        if let Some(r) = self.min_risk.filter(|r| !(0.0..=1.0).contains(r)) {
            return Err(ApiError::bad_request(
                "invalid_field",
                format!("min_risk {r} is not in [0, 1]"),
            ));
        }
        let limit = self.limit.unwrap_or(100);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(
                "invalid_field",
                format!("limit {limit} is not in 1..={MAX_LIMIT}"),
            ));
        }
        Ok(CaseFilter {
            status: self.status,
            decision: self.decision,
            assignee: self.assignee,
            customer_id: self.customer_id,
            min_risk: self.min_risk,
            from: self.from,
            to: self.to,
            after: self.cursor.as_deref().map(decode_cursor).transpose()?,
            limit,
        })
    }
}

/// Cases matching the filters, highest risk first, one page at a time.
#[utoipa::path(get, path = "/v1/cases", tag = "cases", params(CaseQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = CasePage),
        (status = 400, body = ErrorBody, description = "a bad filter"),
        (status = 422, body = ErrorBody, description = "a cursor this API did not give"),
        (status = 401, body = ErrorBody), (status = 503, body = ErrorBody),
    ))]
pub async fn list(
    State(s): State<ApiState>,
    caller: Caller,
    Query(q): Query<CaseQuery>,
) -> Result<Json<CasePage>, ApiError> {
    caller.require(Role::Viewer)?;
    let filter = q.into_filter()?;
    let cases = s.store.list_cases(&filter).await?;
    let full = cases.len() as i64 == filter.limit();
    let next_cursor = cases.last().filter(|_| full).map(encode_cursor);
    Ok(Json(CasePage { cases, next_cursor }))
}

/// One case with its transaction, features, scores, reasons, notes and audit trail.
#[utoipa::path(get, path = "/v1/cases/{transaction_id}", tag = "cases",
    params(CaseId),
    security(("api_key" = [])),
    responses(
        (status = 200, body = Case),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody),
    ))]
pub async fn get(
    State(s): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Case>, ApiError> {
    caller.require(Role::Viewer)?;
    check_id(&id)?;
    let case = s
        .store
        .get_case(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no case for transaction {id:?}")))?;
    Ok(Json(case))
}

/// Changes status, outcome or assignee; the audit trail names the caller's key.
#[utoipa::path(patch, path = "/v1/cases/{transaction_id}", tag = "cases",
    params(CaseId), request_body = CaseChange,
    security(("api_key" = [])),
    responses(
        (status = 200, body = Case),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the case changed since `version`"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "the workflow does not allow it"),
        (status = 503, body = ErrorBody),
    ))]
pub async fn update(
    State(s): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(change): Body<CaseChange>,
) -> Result<Json<Case>, ApiError> {
    let key = caller.require(Role::Analyst)?;
    check_id(&id)?;
    let update = CaseUpdate {
        status: change.status,
        outcome: change.outcome,
        assignee: change.assignee,
    };
    Ok(Json(
        s.store
            .update_case(&id, change.version, &update, &key.actor())
            .await?,
    ))
}

/// Appends a note by the caller's key.
#[utoipa::path(post, path = "/v1/cases/{transaction_id}/notes", tag = "cases",
    params(CaseId), request_body = NewNote,
    security(("api_key" = [])),
    responses(
        (status = 201, body = Case),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody),
    ))]
pub async fn add_note(
    State(s): State<ApiState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(note): Body<NewNote>,
) -> Result<(StatusCode, Json<Case>), ApiError> {
    let key = caller.require(Role::Analyst)?;
    check_id(&id)?;
    let case = s.store.add_note(&id, &key.actor(), &note.text).await?;
    Ok((StatusCode::CREATED, Json(case)))
}

/// Claims the highest-risk unassigned open case for the caller: it becomes `investigating`,
/// assigned to the key's name. Two callers never get the same case; 204 when the queue is empty.
#[utoipa::path(post, path = "/v1/cases/next", tag = "cases",
    security(("api_key" = [])),
    responses(
        (status = 200, body = Case),
        (status = 204, description = "no open unassigned case"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub async fn next(State(s): State<ApiState>, caller: Caller) -> Result<Response, ApiError> {
    let key = caller.require(Role::Analyst)?;
    Ok(
        match s.store.claim_next_case(&key.name, &key.actor()).await? {
            Some(case) => Json(case).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = Cursor {
            risk: 0.123_456_789,
            transaction_id: "tx-9".into(),
        };
        let mut case: Case = serde_json::from_value(serde_json::json!({
            "transaction_id": "tx-9", "customer_id": "c", "status": "open", "outcome": null,
            "assignee": null, "risk": 0.123_456_789, "decision": "review", "model_version": "m",
            "reasons": [], "event_time": "2018-04-01T00:00:00.000Z",
            "created_at": "2018-04-01T00:00:00.000Z", "updated_at": "2018-04-01T00:00:00.000Z",
            "version": 1
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        case.risk = c.risk;
        assert_eq!(decode_cursor(&encode_cursor(&case)), Ok(c));
        for bad in [
            "",
            "!!",
            "AAAA",
            &URL_SAFE_NO_PAD.encode("zzzzzzzzzzzzzzzzid"),
            &URL_SAFE_NO_PAD.encode("7ff8000000000000x"),
        ] {
            assert_eq!(
                decode_cursor(bad).map_err(|e| e.code),
                Err("bad_cursor"),
                "{bad}"
            );
        }
    }
}
