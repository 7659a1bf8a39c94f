//! The store's queries, written once. `case_store!` instantiates them for a backend's sqlx
//! database type; the SQL is the common subset of SQLite and PostgreSQL (`$n` placeholders
//! numbered in order of appearance, `ON CONFLICT`, `RETURNING`).

macro_rules! case_store {
    ($store:ident, $db:ty, claim_lock = $lock:literal) => {
        use std::collections::{HashMap, HashSet};

        use fraudwatch_core::{ApiKey, AuditEntry, Case, CaseStatus, CaseUpdate, Label, LabelSource};
        use sqlx::types::Json;
        use sqlx::QueryBuilder;

        use crate::rows::{AuditRow, CASE_COLUMNS, CaseRow, DRIFT_COLUMNS, DriftRow, KEY_COLUMNS, KeyRow, LabelRow, NoteRow};
        use crate::{CaseFilter, StoreError};

        type Conn = <$db as sqlx::Database>::Connection;

        /// Rows per multi-row statement: far below both backends' bound-parameter limits.
        const CHUNK: usize = 500;

        impl $store {
            async fn load(conn: &mut Conn, id: &str) -> Result<Option<Case>, StoreError> {
                let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE transaction_id = $1");
                let row: Option<CaseRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *conn).await?;
                row.map(CaseRow::into_case).transpose()
            }

            async fn task_record(conn: &mut Conn, run_id: &str, task: &str) -> Result<crate::TaskRecord, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT run_id, task, status, started_at, finished_at, output, error FROM retrain_tasks \
                     WHERE run_id = $1 AND task = $2",
                )
                .bind(run_id)
                .bind(task)
                .fetch_one(&mut *conn)
                .await?)
            }

            async fn load_for_change(conn: &mut Conn, id: &str) -> Result<Case, StoreError> {
                Self::load(conn, id).await?.ok_or_else(|| StoreError::NotFound(id.to_string()))
            }

            async fn current_version(conn: &mut Conn, id: &str) -> Result<i64, StoreError> {
                let v: Option<i64> = sqlx::query_scalar("SELECT version FROM cases WHERE transaction_id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                v.ok_or_else(|| StoreError::NotFound(id.to_string()))
            }

            async fn insert_audit(conn: &mut Conn, entries: &[(&str, &AuditEntry)]) -> Result<(), StoreError> {
                for chunk in entries.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO case_audit (transaction_id, at, actor, action, detail) ");
                    qb.push_values(chunk, |mut b, (id, a)| {
                        b.push_bind(*id).push_bind(a.at).push_bind(&a.actor).push_bind(&a.action).push_bind(&a.detail);
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// Writes a changed case's scalar fields if it is still at `expected`, plus its new
            /// audit entries (all of `case.audit`: cases loaded for a change carry none before it).
            async fn save_change(conn: &mut Conn, case: &Case, expected: i64) -> Result<(), StoreError> {
                let id = case.transaction_id.as_str();
                let done = sqlx::query(
                    "UPDATE cases SET status = $1, outcome = $2, assignee = $3, updated_at = $4, version = $5 \
                     WHERE transaction_id = $6 AND version = $7",
                )
                .bind(case.status.as_str())
                .bind(case.outcome.map(|o| o.as_str()))
                .bind(case.assignee.as_deref())
                .bind(case.updated_at)
                .bind(case.version)
                .bind(id)
                .bind(expected)
                .execute(&mut *conn)
                .await?;
                if done.rows_affected() == 0 {
                    let actual = Self::current_version(conn, id).await?;
                    return Err(StoreError::Conflict { transaction_id: id.to_string(), expected, actual });
                }
                let audit: Vec<(&str, &AuditEntry)> = case.audit.iter().map(|a| (id, a)).collect();
                Self::insert_audit(conn, &audit).await
            }
            async fn write_labels(conn: &mut Conn, labels: &[Label]) -> Result<u64, StoreError> {
                // One statement may not touch a row twice: keep each transaction's last label.
                let last: HashMap<&str, usize> = labels.iter().enumerate().map(|(i, l)| (l.transaction_id.as_str(), i)).collect();
                let unique: Vec<&Label> = labels.iter().enumerate().filter(|(i, l)| last[l.transaction_id.as_str()] == *i).map(|(_, l)| l).collect();
                let mut written = 0;
                for chunk in unique.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO labels (transaction_id, customer_id, is_fraud, source, labelled_at, fraud_scenario) ");
                    qb.push_values(chunk, |mut b, l| {
                        b.push_bind(l.transaction_id.as_str())
                            .push_bind(l.customer_id.as_str())
                            .push_bind(l.is_fraud)
                            .push_bind(l.source.as_str())
                            .push_bind(l.labelled_at)
                            .push_bind(l.fraud_scenario.as_deref());
                    });
                    qb.push(
                        " ON CONFLICT (transaction_id) DO UPDATE SET customer_id = excluded.customer_id, \
                         is_fraud = excluded.is_fraud, source = excluded.source, labelled_at = excluded.labelled_at, \
                         fraud_scenario = excluded.fraud_scenario",
                    );
                    written += qb.build().execute(&mut *conn).await?.rows_affected();
                }
                Ok(written)
            }

            /// A closed case's conclusive outcome is its transaction's label; reopening the case
            /// (or an inconclusive outcome) withdraws the label the case gave, not a chargeback's.
            async fn sync_label(conn: &mut Conn, case: &Case) -> Result<(), StoreError> {
                match case.label() {
                    Some(label) => {
                        Self::write_labels(conn, std::slice::from_ref(&label)).await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM labels WHERE transaction_id = $1 AND source = $2")
                            .bind(case.transaction_id.as_str())
                            .bind(LabelSource::CaseOutcome.as_str())
                            .execute(&mut *conn)
                            .await?;
                    }
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl crate::CaseStore for $store {
            async fn insert_cases(&self, cases: &[Case]) -> Result<u64, StoreError> {
                let mut inserted = 0;
                for chunk in cases.chunks(CHUNK) {
                    let mut tx = self.pool.begin().await?;
                    let mut qb = QueryBuilder::<$db>::new(format!("INSERT INTO cases ({CASE_COLUMNS}) "));
                    qb.push_values(chunk, |mut b, c| {
                        b.push_bind(c.transaction_id.as_str())
                            .push_bind(c.customer_id.as_str())
                            .push_bind(c.status.as_str())
                            .push_bind(c.outcome.map(|o| o.as_str()))
                            .push_bind(c.assignee.as_deref())
                            .push_bind(c.risk)
                            .push_bind(c.iforest_score)
                            .push_bind(c.xgb_probability)
                            .push_bind(c.decision.as_str())
                            .push_bind(&c.model_version)
                            .push_bind(Json(&c.reasons))
                            .push_bind(c.event_time)
                            .push_bind(c.transaction.as_ref().map(Json))
                            .push_bind(c.features.as_ref().map(|f| Json(&f.0)))
                            .push_bind(c.created_at)
                            .push_bind(c.updated_at)
                            .push_bind(c.version);
                    });
                    qb.push(" ON CONFLICT (transaction_id) DO NOTHING RETURNING transaction_id");
                    let new: HashSet<String> = qb.build_query_scalar().fetch_all(&mut *tx).await?.into_iter().collect();
                    // A transaction listed twice in one batch is new once: its first copy won.
                    let mut seen = HashSet::new();
                    let audit: Vec<(&str, &AuditEntry)> = chunk
                        .iter()
                        .filter(|c| new.contains(c.transaction_id.as_str()) && seen.insert(c.transaction_id.as_str()))
                        .flat_map(|c| c.audit.iter().map(move |a| (c.transaction_id.as_str(), a)))
                        .collect();
                    Self::insert_audit(&mut tx, &audit).await?;
                    tx.commit().await?;
                    inserted += new.len() as u64;
                }
                Ok(inserted)
            }

            async fn get_case(&self, transaction_id: &str) -> Result<Option<Case>, StoreError> {
                let mut conn = self.pool.acquire().await?;
                let Some(mut case) = Self::load(&mut conn, transaction_id).await? else { return Ok(None) };
                let notes: Vec<NoteRow> = sqlx::query_as("SELECT at, author, text FROM case_notes WHERE transaction_id = $1 ORDER BY id")
                    .bind(transaction_id)
                    .fetch_all(&mut *conn)
                    .await?;
                let audit: Vec<AuditRow> = sqlx::query_as("SELECT at, actor, action, detail FROM case_audit WHERE transaction_id = $1 ORDER BY id")
                    .bind(transaction_id)
                    .fetch_all(&mut *conn)
                    .await?;
                case.notes = notes.into_iter().map(Into::into).collect();
                case.audit = audit.into_iter().map(Into::into).collect();
                Ok(Some(case))
            }

            async fn list_cases(&self, f: &CaseFilter) -> Result<Vec<Case>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1"));
                if let Some(s) = f.status {
                    qb.push(" AND status = ").push_bind(s.as_str());
                }
                if let Some(c) = &f.customer_id {
                    qb.push(" AND customer_id = ").push_bind(c.as_str());
                }
                if let Some(a) = &f.assignee {
                    qb.push(" AND assignee = ").push_bind(a.as_str());
                }
                if let Some(d) = f.decision {
                    qb.push(" AND decision = ").push_bind(d.as_str());
                }
                if let Some(r) = f.min_risk {
                    qb.push(" AND risk >= ").push_bind(r);
                }
                if let Some(t) = f.from {
                    qb.push(" AND event_time >= ").push_bind(t);
                }
                if let Some(t) = f.to {
                    qb.push(" AND event_time < ").push_bind(t);
                }
                if let Some(c) = &f.after {
                    qb.push(" AND (risk < ").push_bind(c.risk);
                    qb.push(" OR (risk = ").push_bind(c.risk);
                    qb.push(" AND transaction_id > ").push_bind(c.transaction_id.as_str()).push("))");
                }
                qb.push(" ORDER BY risk DESC, transaction_id LIMIT ").push_bind(f.limit());
                let rows: Vec<CaseRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(CaseRow::into_case).collect()
            }

            async fn update_case(&self, transaction_id: &str, expected_version: i64, update: &CaseUpdate, actor: &str) -> Result<Case, StoreError> {
                let mut tx = self.pool.begin().await?;
                let mut case = Self::load_for_change(&mut tx, transaction_id).await?;
                if case.version != expected_version {
                    return Err(StoreError::Conflict { transaction_id: transaction_id.into(), expected: expected_version, actual: case.version });
                }
                let was_closed = case.status == CaseStatus::Closed;
                case.apply(update, actor, fraudwatch_core::time::now())?;
                Self::save_change(&mut tx, &case, expected_version).await?;
                if was_closed || case.status == CaseStatus::Closed {
                    Self::sync_label(&mut tx, &case).await?;
                }
                tx.commit().await?;
                self.get_case(transaction_id).await?.ok_or_else(|| StoreError::NotFound(transaction_id.into()))
            }

            async fn add_note(&self, transaction_id: &str, author: &str, text: &str) -> Result<Case, StoreError> {
                let mut tx = self.pool.begin().await?;
                let mut case = Self::load_for_change(&mut tx, transaction_id).await?;
                let expected = case.version;
                case.add_note(author, text, fraudwatch_core::time::now())?;
                Self::save_change(&mut tx, &case, expected).await?;
                let note = case.notes.last().expect("add_note appended one");
                sqlx::query("INSERT INTO case_notes (transaction_id, at, author, text) VALUES ($1, $2, $3, $4)")
                    .bind(transaction_id)
                    .bind(note.at)
                    .bind(&note.author)
                    .bind(&note.text)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.get_case(transaction_id).await?.ok_or_else(|| StoreError::NotFound(transaction_id.into()))
            }

            async fn upsert_labels(&self, labels: &[Label]) -> Result<u64, StoreError> {
                let mut tx = self.pool.begin().await?;
                let written = Self::write_labels(&mut tx, labels).await?;
                tx.commit().await?;
                Ok(written)
            }

            async fn claim_next_case(&self, assignee: &str, actor: &str) -> Result<Option<Case>, StoreError> {
                let mut tx = self.pool.begin().await?;
                let id: Option<String> = sqlx::query_scalar(concat!(
                    "SELECT transaction_id FROM cases WHERE status = 'open' AND assignee IS NULL \
                     ORDER BY risk DESC, transaction_id LIMIT 1 ",
                    $lock
                ))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(id) = id else { return Ok(None) };
                let mut case = Self::load_for_change(&mut tx, &id).await?;
                let expected = case.version;
                let claim = CaseUpdate {
                    status: Some(CaseStatus::Investigating),
                    assignee: Some(Some(assignee.to_string())),
                    ..CaseUpdate::default()
                };
                case.apply(&claim, actor, fraudwatch_core::time::now())?;
                Self::save_change(&mut tx, &case, expected).await?;
                tx.commit().await?;
                self.get_case(&id).await
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn create_key(&self, key: &ApiKey, hash: &str) -> Result<(), StoreError> {
                let done = sqlx::query("INSERT INTO api_keys (id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
                    .bind(&key.id)
                    .bind(&key.name)
                    .bind(key.role.as_str())
                    .bind(hash)
                    .bind(key.created_at)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Duplicate(format!("an API key named {:?} exists", key.name)));
                }
                Ok(())
            }

            async fn key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>, StoreError> {
                let row: Option<KeyRow> = sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE hash = $1"))
                    .bind(hash)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(KeyRow::into_key).transpose()
            }

            async fn list_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
                let rows: Vec<KeyRow> = sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"))
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter().map(KeyRow::into_key).collect()
            }

            async fn upsert_drift_event(&self, e: &fraudwatch_core::DriftEvent) -> Result<(), StoreError> {
                sqlx::query(&format!(
                    "INSERT INTO drift_events ({DRIFT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, end_at = excluded.end_at, \
                     share = excluded.share, columns = excluded.columns, window_rows = excluded.window_rows, \
                     updated_at = excluded.updated_at"
                ))
                .bind(&e.id)
                .bind(e.kind.as_str())
                .bind(e.severity.as_str())
                .bind(e.start)
                .bind(e.detected)
                .bind(e.end)
                .bind(e.share)
                .bind(Json(&e.columns))
                .bind(i64::try_from(e.window_rows).unwrap_or(i64::MAX))
                .bind(e.updated_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn drift_events(&self, open_only: bool, limit: u32) -> Result<Vec<fraudwatch_core::DriftEvent>, StoreError> {
                let filter = if open_only { "WHERE end_at IS NULL" } else { "" };
                let rows: Vec<DriftRow> = sqlx::query_as(&format!(
                    "SELECT {DRIFT_COLUMNS} FROM drift_events {filter} ORDER BY start_at DESC, id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(DriftRow::into_event).collect()
            }

            async fn put_drift_report(&self, name: &str, generated_at: fraudwatch_core::Timestamp, body: &str) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO drift_reports (name, generated_at, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET generated_at = excluded.generated_at, body = excluded.body",
                )
                .bind(name)
                .bind(generated_at)
                .bind(body)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn latest_drift_report(&self, name: &str) -> Result<Option<String>, StoreError> {
                Ok(sqlx::query_scalar("SELECT body FROM drift_reports WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn begin_task(&self, run_id: &str, task: &str) -> Result<crate::TaskRecord, StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(
                    "INSERT INTO retrain_tasks (run_id, task, status, started_at) VALUES ($1, $2, 'running', $3) \
                     ON CONFLICT (run_id, task) DO UPDATE SET status = 'running', started_at = excluded.started_at, \
                     finished_at = NULL, output = NULL, error = NULL WHERE retrain_tasks.status <> 'done'",
                )
                .bind(run_id)
                .bind(task)
                .bind(fraudwatch_core::time::now())
                .execute(&mut *tx)
                .await?;
                let record = Self::task_record(&mut tx, run_id, task).await?;
                tx.commit().await?;
                Ok(record)
            }

            async fn end_task(&self, run_id: &str, task: &str, result: Result<&str, &str>) -> Result<crate::TaskRecord, StoreError> {
                let (status, output, error) = match result {
                    Ok(output) => ("done", Some(output), None),
                    Err(reason) => ("failed", None, Some(reason)),
                };
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(
                    "UPDATE retrain_tasks SET status = $1, finished_at = $2, output = $3, error = $4 \
                     WHERE run_id = $5 AND task = $6 AND status = 'running'",
                )
                .bind(status)
                .bind(fraudwatch_core::time::now())
                .bind(output)
                .bind(error)
                .bind(run_id)
                .bind(task)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("running task {task} of run {run_id}")));
                }
                let record = Self::task_record(&mut tx, run_id, task).await?;
                tx.commit().await?;
                Ok(record)
            }

            async fn run_tasks(&self, run_id: &str) -> Result<Vec<crate::TaskRecord>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT run_id, task, status, started_at, finished_at, output, error FROM retrain_tasks \
                     WHERE run_id = $1 ORDER BY task",
                )
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn revoke_key(&self, id: &str) -> Result<ApiKey, StoreError> {
                sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(fraudwatch_core::time::now())
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                let row: Option<KeyRow> = sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(KeyRow::into_key).transpose()?.ok_or_else(|| StoreError::NotFound(format!("API key {id:?}")))
            }

            async fn get_label(&self, transaction_id: &str) -> Result<Option<Label>, StoreError> {
                let row: Option<LabelRow> = sqlx::query_as(
                    "SELECT transaction_id, customer_id, is_fraud, source, labelled_at, fraud_scenario FROM labels WHERE transaction_id = $1",
                )
                .bind(transaction_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(LabelRow::into_label).transpose()
            }

            async fn labels_after(&self, after: Option<&str>, limit: u32) -> Result<Vec<Label>, StoreError> {
                let rows: Vec<LabelRow> = sqlx::query_as(
                    "SELECT transaction_id, customer_id, is_fraud, source, labelled_at, fraud_scenario FROM labels \
                     WHERE $1 IS NULL OR transaction_id > $2 ORDER BY transaction_id LIMIT $3",
                )
                .bind(after)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(LabelRow::into_label).collect()
            }
        }
    };
}

pub(crate) use case_store;
