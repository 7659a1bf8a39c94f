//! `postgres://user:password@host:port/db`: the production store.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, crate::StoreError> {
        let opts = PgConnectOptions::from_str(url).map_err(|e| crate::StoreError::Url {
            url: url.into(),
            reason: e.to_string(),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

crate::backend::case_store!(
    PgStore,
    sqlx::Postgres,
    claim_lock = "FOR UPDATE SKIP LOCKED"
);
