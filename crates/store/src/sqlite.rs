//! `sqlite://path` (the file is created if missing) and `sqlite::memory:`: the embedded store.
//! One connection serialises writers, which makes every multi-statement change atomic without
//! SQLite's lock-upgrade failures (and "next case" claims exclusive without row locks); WAL keeps
//! the file consistent across crashes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self, crate::StoreError> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| crate::StoreError::Url {
                url: url.into(),
                reason: e.to_string(),
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

crate::backend::case_store!(SqliteStore, sqlx::Sqlite, claim_lock = "");
