//! Drift: the monitor's events and its latest report (as the HTML page and as JSON), read from
//! the store the monitor writes to.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fraudwatch_core::{DriftEvent, Role};
use fraudwatch_monitor::Report;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::ApiState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody, Query};

/// The monitor whose report is served.
const MONITOR: &str = "monitor";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only the events still open.
    pub open: Option<bool>,
    /// At most this many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Drift events, latest start first.
#[utoipa::path(get, path = "/v1/drift/events", tag = "drift", params(EventQuery),
    security(("api_key" = [])),
    responses(
        (status = 200, body = Vec<DriftEvent>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub async fn events(
    State(s): State<ApiState>,
    caller: Caller,
    Query(q): Query<EventQuery>,
) -> Result<Json<Vec<DriftEvent>>, ApiError> {
    caller.require(Role::Viewer)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("limit = {limit}: 1 to 1000"),
        ));
    }
    Ok(Json(
        s.store.drift_events(q.open.unwrap_or(false), limit).await?,
    ))
}

async fn latest(s: &ApiState) -> Result<Report, ApiError> {
    let body = s.store.latest_drift_report(MONITOR).await?.ok_or_else(|| {
        ApiError::not_found(
            "no drift report yet: the monitor writes one once it has judged a window",
        )
    })?;
    serde_json::from_str(&body).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt_report",
            format!("the stored drift report cannot be read: {e}"),
        )
    })
}

/// The monitor's latest drift report as one self-contained HTML page.
#[utoipa::path(get, path = "/v1/drift/report", tag = "drift",
    security(("api_key" = [])),
    responses(
        (status = 200, content_type = "text/html", body = String),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub async fn report_html(State(s): State<ApiState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let html = fraudwatch_monitor::report::render_html(&latest(&s).await?);
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// The monitor's latest drift report as JSON.
#[utoipa::path(get, path = "/v1/drift/report.json", tag = "drift",
    security(("api_key" = [])),
    responses(
        (status = 200, content_type = "application/json", body = Object),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ))]
pub async fn report_json(
    State(s): State<ApiState>,
    caller: Caller,
) -> Result<Json<Report>, ApiError> {
    caller.require(Role::Viewer)?;
    Ok(Json(latest(&s).await?))
}
