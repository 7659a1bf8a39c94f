//! fraudwatch's case store: cases, their notes and audit trail, labels, API keys, drift events
//! and reports, and the state of retraining runs. Stages talk to one
//! trait, [`CaseStore`], and the URL picks the backend ([`open`]); both backends share one schema
//! (migrations under `migrations/<backend>/`) and one implementation of the queries.
//!
//! Module map:
//! - [`filter`] — `CaseFilter` and `Cursor`, what a case listing may ask for.
//! - [`rows`] — mapping between table rows and the core's `Case`.
//! - `backend` (private) — the queries, written once and instantiated for each backend.
//! - [`sqlite`] — `sqlite://path` (created if missing) and `sqlite::memory:`.
//! - [`postgres`] — `postgres://user:password@host:port/db`.

mod backend;
pub mod filter;
pub mod postgres;
pub mod rows;
pub mod sqlite;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use fraudwatch_core::{ApiKey, Case, CaseError, CaseUpdate, DriftEvent, Label, Timestamp};

pub use filter::{CaseFilter, Cursor};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("bad store URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("no case for transaction {0:?}")]
    NotFound(String),
    #[error("case {transaction_id:?} is at version {actual}, not {expected}: reload and retry")]
    Conflict {
        transaction_id: String,
        expected: i64,
        actual: i64,
    },
    #[error("{0}")]
    Duplicate(String),
    #[error(transparent)]
    Rule(#[from] CaseError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrating the schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Where cases and labels live.
#[async_trait]
pub trait CaseStore: Send + Sync + Debug {
    /// Inserts the cases whose transaction has none yet; the others are left untouched (idempotent
    /// on `transaction_id`). Returns how many were new.
    async fn insert_cases(&self, cases: &[Case]) -> Result<u64, StoreError>;

    /// One case with its notes and audit trail.
    async fn get_case(&self, transaction_id: &str) -> Result<Option<Case>, StoreError>;

    /// Cases matching `filter`, highest risk first (ties by transaction id). Listed cases carry no
    /// notes or audit trail: `get_case` has those.
    async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<Case>, StoreError>;

    /// Applies `update` by `actor` if the case is still at `expected_version`, else `Conflict`.
    /// Closing a case with a conclusive outcome writes its label; reopening withdraws it.
    async fn update_case(
        &self,
        transaction_id: &str,
        expected_version: i64,
        update: &CaseUpdate,
        actor: &str,
    ) -> Result<Case, StoreError>;

    /// Appends an analyst's note.
    async fn add_note(
        &self,
        transaction_id: &str,
        author: &str,
        text: &str,
    ) -> Result<Case, StoreError>;

    /// Inserts labels, replacing an earlier label of the same transaction. Returns rows written.
    async fn upsert_labels(&self, labels: &[Label]) -> Result<u64, StoreError>;

    async fn get_label(&self, transaction_id: &str) -> Result<Option<Label>, StoreError>;

    /// Labels in transaction-id order, after `after` (a keyset page), at most `limit`.
    async fn labels_after(&self, after: Option<&str>, limit: u32)
    -> Result<Vec<Label>, StoreError>;

    /// Atomically assigns the highest-risk unassigned open case to `assignee` and moves it to
    /// `investigating`; two callers never get the same case. `None` when the queue is empty.
    async fn claim_next_case(
        &self,
        assignee: &str,
        actor: &str,
    ) -> Result<Option<Case>, StoreError>;

    /// Stores a key (its secret's hash only); a taken name is `Duplicate`.
    async fn create_key(&self, key: &ApiKey, hash: &str) -> Result<(), StoreError>;

    /// The key whose secret hashes to `hash`, revoked or not.
    async fn key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>, StoreError>;

    async fn list_keys(&self) -> Result<Vec<ApiKey>, StoreError>;

    /// Whether the store answers (readiness probes).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Revokes a key (idempotent); `NotFound` if there is no such key.
    async fn revoke_key(&self, id: &str) -> Result<ApiKey, StoreError>;

    /// Writes a drift event, replacing the stored version of the same `id`.
    async fn upsert_drift_event(&self, event: &DriftEvent) -> Result<(), StoreError>;

    /// Drift events, latest start first: the open ones only, or all; at most `limit`.
    async fn drift_events(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<DriftEvent>, StoreError>;

    /// Keeps `body` (a report as JSON) as monitor `name`'s latest report.
    async fn put_drift_report(
        &self,
        name: &str,
        generated_at: Timestamp,
        body: &str,
    ) -> Result<(), StoreError>;

    /// Monitor `name`'s latest report (JSON), if it wrote one.
    async fn latest_drift_report(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Starts `task` of retraining run `run_id`, unless it is done already: then its record is
    /// returned unchanged (re-running a finished task is a no-op). A running or failed task is
    /// started again.
    async fn begin_task(&self, run_id: &str, task: &str) -> Result<TaskRecord, StoreError>;

    /// Ends a started task: `Ok(output)` as done with its output (JSON), `Err(reason)` as failed.
    async fn end_task(
        &self,
        run_id: &str,
        task: &str,
        result: Result<&str, &str>,
    ) -> Result<TaskRecord, StoreError>;

    /// A run's tasks, by name (the caller knows their order).
    async fn run_tasks(&self, run_id: &str) -> Result<Vec<TaskRecord>, StoreError>;
}

/// One task of a retraining run, as recorded.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TaskRecord {
    pub run_id: String,
    pub task: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub output: Option<String>,
    pub error: Option<String>,
}

impl TaskRecord {
    pub fn is_done(&self) -> bool {
        self.status == "done"
    }
}

/// Opens (and migrates) the store a URL names: `sqlite://...` or `postgres://...`.
pub async fn open(url: &str) -> Result<Arc<dyn CaseStore>, StoreError> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme);
    match scheme {
        Some("sqlite") => Ok(Arc::new(sqlite::SqliteStore::connect(url).await?)),
        Some("postgres" | "postgresql") => Ok(Arc::new(postgres::PgStore::connect(url).await?)),
        _ => Err(StoreError::Url {
            url: url.into(),
            reason: "unknown scheme; expected sqlite://path, sqlite::memory: or postgres://..."
                .into(),
        }),
    }
}
