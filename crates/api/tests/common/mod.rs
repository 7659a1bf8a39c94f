//! A served API for the tests: a real HTTP listener on 127.0.0.1:0 over a real store (SQLite in a
//! temporary directory, or the PostgreSQL of `scripts/postgres-start.sh`), with one key per role.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use fraudwatch_api::ApiState;
use fraudwatch_core::{Case, Decision, Id, Reason, Role, Score, time};
use fraudwatch_store::CaseStore;
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Arc<dyn CaseStore>,
    pub viewer: String,
    pub analyst: String,
    pub admin: String,
    _dir: Option<tempfile::TempDir>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn sqlite() -> Api {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cases.db").display());
    start(fraudwatch_store::open(&url).await.unwrap(), Some(dir)).await
}

pub async fn postgres() -> Api {
    use sqlx::Connection as _;
    let admin = std::env::var("FW_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://fraudwatch:fraudwatch@127.0.0.1:55432/fraudwatch".into());
    let name = format!("fwapi_{}_{}", std::process::id(), rand_suffix());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL must be running: scripts/postgres-start.sh");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    start(
        fraudwatch_store::open(&format!("{base}/{name}"))
            .await
            .unwrap(),
        None,
    )
    .await
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

async fn start(store: Arc<dyn CaseStore>, dir: Option<tempfile::TempDir>) -> Api {
    let key = |name: &'static str, role| {
        let store = store.clone();
        async move {
            fraudwatch_api::create_key(&*store, name, role)
                .await
                .unwrap()
                .1
        }
    };
    let (viewer, analyst, admin) = (
        key("viewer", Role::Viewer).await,
        key("analyst", Role::Analyst).await,
        key("admin", Role::Admin).await,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = ApiState::new(store.clone());
    tokio::spawn(fraudwatch_api::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Api {
        base,
        http: reqwest::Client::new(),
        store,
        viewer,
        analyst,
        admin,
        _dir: dir,
        _stop: stop,
    }
}

impl Api {
    /// Sends a request with `key` (if any) and a JSON body (if any); returns status and JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{path}: body is not JSON ({e}): {text:?}"))
        };
        assert!(
            status.as_u16() < 500 || status == StatusCode::SERVICE_UNAVAILABLE,
            "{path}: {status} {json}"
        );
        if !status.is_success() {
            assert!(
                json["error"]["code"].is_string() && json["error"]["message"].is_string(),
                "{path}: {status} {json}"
            );
        }
        (status, json)
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(key), None).await
    }
}

/// An alerted case: transaction `id` of `customer`, at event time base + `id` ms.
pub fn case(id: u64, customer: &str, risk: f64) -> Case {
    let score = Score {
        transaction_id: Id::from(id),
        customer_id: Id::from(customer),
        timestamp: time::from_millis(1_522_540_800_000 + id as i64).unwrap(),
        model_version: "sha256:test".into(),
        iforest_score: 0.4,
        xgb_probability: risk,
        risk,
        decision: if risk >= 0.8 {
            Decision::Block
        } else {
            Decision::Review
        },
        reasons: vec![Reason {
            feature: "amount".into(),
            value: 120.0,
            contribution: 0.7,
        }],
        scored_at: time::from_millis(1_522_540_800_500).unwrap(),
        ingested_at: None,
    };
    Case::open(
        &score,
        None,
        None,
        time::from_millis(1_522_540_801_000).unwrap(),
    )
}
