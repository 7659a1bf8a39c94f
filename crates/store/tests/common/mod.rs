//! Fixtures of the suites run against every case-store backend: SQLite in a temporary file, and
//! the real PostgreSQL that `scripts/postgres-start.sh` runs on loopback (admin URL in
//! `FW_POSTGRES_URL`, default `postgres://fraudwatch:fraudwatch@127.0.0.1:55432/fraudwatch`; each
//! test gets a fresh database). Without PostgreSQL the postgres tests fail; they never skip.

#![allow(dead_code)] // each suite uses its own part

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use fraudwatch_core::{Case, Decision, Features, Id, Reason, Score, time};
use fraudwatch_store::CaseStore;

/// A store and whatever must outlive it (the SQLite file's directory).
pub struct Fixture {
    pub store: Arc<dyn CaseStore>,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cases.db").display());
    Fixture {
        store: fraudwatch_store::open(&url).await.unwrap(),
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Fixture {
    use sqlx::Connection as _;
    static N: AtomicU32 = AtomicU32::new(0);
    let admin = std::env::var("FW_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://fraudwatch:fraudwatch@127.0.0.1:55432/fraudwatch".into());
    let name = format!(
        "fwtest_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL must be running: scripts/postgres-start.sh");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    Fixture {
        store: fraudwatch_store::open(&format!("{base}/{name}"))
            .await
            .unwrap(),
        _dir: None,
    }
}

pub fn score(id: u64, customer: &str, risk: f64) -> Score {
    Score {
        transaction_id: Id::from(id),
        customer_id: Id::from(customer),
        timestamp: time::from_millis(1_522_540_800_000 + id as i64).unwrap(),
        model_version: "bundle-1".into(),
        iforest_score: 0.5,
        xgb_probability: risk,
        risk,
        decision: if risk > 0.8 {
            Decision::Block
        } else {
            Decision::Review
        },
        reasons: vec![Reason {
            feature: "amount".into(),
            value: 0.1 + id as f64,
            contribution: 1.0 / 3.0,
        }],
        scored_at: time::from_millis(1_522_540_800_500).unwrap(),
        ingested_at: None,
    }
}

pub fn case(id: u64, customer: &str, risk: f64) -> Case {
    let features = Features(vec![
        ("z_last".into(), 1.0 / 7.0),
        ("a_first".into(), 2.5),
        ("m_mid".into(), -1e-12),
    ]);
    let mut tx = fraudwatch_core::Transaction {
        transaction_id: Id::from(id),
        customer_id: Id::from(customer),
        terminal_id: Id::from(3u64),
        amount: 12.34,
        currency: "EUR".parse().unwrap(),
        timestamp: time::from_millis(1_522_540_800_000).unwrap(),
        merchant_category: Some("5411".into()),
        country: None,
        channel: None,
        device_id: None,
        lat: None,
        lon: None,
    };
    tx.amount += id as f64;
    Case::open(
        &score(id, customer, risk),
        Some(tx),
        Some(features),
        time::from_millis(1_522_540_801_000).unwrap(),
    )
}
