//! fraudwatch's REST API: synchronous scoring for authorisation flows, the analysts' case
//! workflow, labels, API keys, health and metrics; its OpenAPI document is generated from this
//! code and served at `/openapi.json`.
//!
//! Module map:
//! - [`auth`] — API keys (hashed at rest) and the roles viewer < analyst < admin.
//! - [`error`] — one JSON error shape for every failure; extractors that use it.
//! - [`cases`] — list, read, change (optimistic concurrency), notes, claim the next case.
//! - [`labels`] — chargebacks in, labels out.
//! - [`keys`] — key management.
//! - [`drift`] — the drift monitor's events and latest report.
//! - [`score`] — `POST /v1/score` and the [`Scoring`] trait the binary implements.
//! - [`health`] — `/healthz`, `/readyz`, `/metrics` and the request metrics middleware.
//! - this file — the state, the router and the OpenAPI document.

pub mod auth;
pub mod cases;
pub mod drift;
pub mod error;
pub mod health;
pub mod keys;
pub mod labels;
pub mod score;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use fraudwatch_store::CaseStore;
use metrics_exporter_prometheus::PrometheusHandle;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

pub use auth::{Caller, create_key};
pub use error::ApiError;
pub use score::{Scoring, ScoringError};

/// Largest request body accepted (413 beyond).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub store: Arc<dyn CaseStore>,
    pub scoring: Option<Arc<dyn Scoring>>,
    /// Renders `/metrics`; `None` serves an empty page.
    pub metrics: Option<PrometheusHandle>,
    keys: Arc<auth::KeyCache>,
}

impl ApiState {
    pub fn new(store: Arc<dyn CaseStore>) -> Self {
        Self {
            store,
            scoring: None,
            metrics: None,
            keys: Arc::default(),
        }
    }

    pub fn with_scoring(mut self, scoring: Arc<dyn Scoring>) -> Self {
        self.scoring = Some(scoring);
        self
    }

    pub fn with_metrics(mut self, handle: PrometheusHandle) -> Self {
        self.metrics = Some(handle);
        self
    }
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "fraudwatch", description = "Real-time fraud detection: scoring and case work. \
        Every endpoint under /v1 needs `Authorization: Bearer <API key>`; roles are viewer \
        (read), analyst (also change cases, post labels, score) and admin (also keys)."),
    paths(
        score::score, score::model,
        cases::list, cases::get, cases::update, cases::add_note, cases::next,
        labels::post, labels::get,
        keys::create, keys::list, keys::revoke,
        drift::events, drift::report_html, drift::report_json,
        health::healthz, health::readyz, health::metrics, openapi_json,
    ),
    modifiers(&BearerKey),
)]
pub struct ApiDoc;

struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, content_type = "application/json", body = Object)))]
async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The API's routes over `state`.
pub fn app(state: ApiState) -> Router {
    Router::new()
        .route("/v1/score", post(score::score))
        .route("/v1/model", get(score::model))
        .route("/v1/cases", get(cases::list))
        .route("/v1/cases/next", post(cases::next))
        .route(
            "/v1/cases/{transaction_id}",
            patch(cases::update).get(cases::get),
        )
        .route("/v1/cases/{transaction_id}/notes", post(cases::add_note))
        .route("/v1/labels", post(labels::post))
        .route("/v1/labels/{transaction_id}", get(labels::get))
        .route("/v1/keys", post(keys::create).get(keys::list))
        .route("/v1/keys/{id}", axum::routing::delete(keys::revoke))
        .route("/v1/drift/events", get(drift::events))
        .route("/v1/drift/report", get(drift::report_html))
        .route("/v1/drift/report.json", get(drift::report_json))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi_json))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method",
            )
        })
        .layer(axum::middleware::from_fn(health::record))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Serves `app(state)` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
