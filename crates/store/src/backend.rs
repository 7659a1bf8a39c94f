//! The store's queries, written once. `case_store!` instantiates them for a backend's sqlx
//! database type; the SQL is the common subset of SQLite and PostgreSQL (`$n` placeholders
//! numbered in order of appearance, `ON CONFLICT`, `RETURNING`).

macro_rules! case_store {
    ($store:ident, $db:ty) => {
        use std::collections::{HashMap, HashSet};

        use fraudwatch_core::{AuditEntry, Case, CaseUpdate, Label};
        use sqlx::types::Json;
        use sqlx::QueryBuilder;

        use crate::rows::{AuditRow, CASE_COLUMNS, CaseRow, LabelRow, NoteRow};
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
                if let Some(r) = f.min_risk {
                    qb.push(" AND risk >= ").push_bind(r);
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
                case.apply(update, actor, fraudwatch_core::time::now())?;
                Self::save_change(&mut tx, &case, expected_version).await?;
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
                // One statement may not touch a row twice: keep each transaction's last label.
                let last: HashMap<&str, usize> = labels.iter().enumerate().map(|(i, l)| (l.transaction_id.as_str(), i)).collect();
                let unique: Vec<&Label> = labels.iter().enumerate().filter(|(i, l)| last[l.transaction_id.as_str()] == *i).map(|(_, l)| l).collect();
                let mut written = 0;
                let mut tx = self.pool.begin().await?;
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
                    written += qb.build().execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(written)
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
        }
    };
}

pub(crate) use case_store;
