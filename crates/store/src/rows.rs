//! Table rows and their mapping to the core's types. Enums are stored as their wire names, JSON
//! columns hold the wire format, so a row reads the same from SQL as from the API.

use chrono::{DateTime, Utc};
use fraudwatch_core::{
    ApiKey, AuditEntry, Case, CaseStatus, Decision, DriftEvent, DriftKind, DriftedColumn, Features,
    Id, Label, LabelSource, Note, Outcome, Reason, Role, Severity, Transaction,
};
use sqlx::types::Json;

use crate::StoreError;

/// The columns of `cases`, in the order every query selects them.
pub const CASE_COLUMNS: &str = "transaction_id, customer_id, status, outcome, assignee, risk, iforest_score, xgb_probability, decision, \
     model_version, reasons, event_time, \"transaction\", features, created_at, updated_at, version";

#[derive(Debug, sqlx::FromRow)]
pub struct CaseRow {
    pub transaction_id: String,
    pub customer_id: String,
    pub status: String,
    pub outcome: Option<String>,
    pub assignee: Option<String>,
    pub risk: f64,
    pub iforest_score: f64,
    pub xgb_probability: f64,
    pub decision: String,
    pub model_version: String,
    pub reasons: Json<Vec<Reason>>,
    pub event_time: DateTime<Utc>,
    pub transaction: Option<Json<Transaction>>,
    /// Stored as an array of `[name, value]` pairs: PostgreSQL's jsonb would reorder object keys.
    pub features: Option<Json<Vec<(String, f64)>>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

impl CaseRow {
    pub fn into_case(self) -> Result<Case, StoreError> {
        Ok(Case {
            status: CaseStatus::parse(&self.status)
                .ok_or_else(|| corrupt("case status", &self.status))?,
            outcome: self
                .outcome
                .as_deref()
                .map(|o| Outcome::parse(o).ok_or_else(|| corrupt("case outcome", o)))
                .transpose()?,
            decision: Decision::parse(&self.decision)
                .ok_or_else(|| corrupt("decision", &self.decision))?,
            transaction_id: Id::from(self.transaction_id.as_str()),
            customer_id: Id::from(self.customer_id.as_str()),
            assignee: self.assignee,
            risk: self.risk,
            iforest_score: self.iforest_score,
            xgb_probability: self.xgb_probability,
            model_version: self.model_version,
            reasons: self.reasons.0,
            event_time: self.event_time,
            transaction: self.transaction.map(|j| j.0),
            features: self.features.map(|j| Features::from(j.0)),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            notes: Vec::new(),
            audit: Vec::new(),
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct NoteRow {
    pub at: DateTime<Utc>,
    pub author: String,
    pub text: String,
}

impl From<NoteRow> for Note {
    fn from(r: NoteRow) -> Note {
        Note {
            author: r.author,
            text: r.text,
            at: r.at,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> AuditEntry {
        AuditEntry {
            at: r.at,
            actor: r.actor,
            action: r.action,
            detail: r.detail,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct LabelRow {
    pub transaction_id: String,
    pub customer_id: String,
    pub is_fraud: bool,
    pub source: String,
    pub labelled_at: DateTime<Utc>,
    pub fraud_scenario: Option<String>,
}

impl LabelRow {
    pub fn into_label(self) -> Result<Label, StoreError> {
        let source = match self.source.as_str() {
            "case_outcome" => LabelSource::CaseOutcome,
            "chargeback" => LabelSource::Chargeback,
            other => return Err(corrupt("label source", other)),
        };
        Ok(Label {
            transaction_id: Id::from(self.transaction_id.as_str()),
            customer_id: Id::from(self.customer_id.as_str()),
            is_fraud: self.is_fraud,
            source,
            labelled_at: self.labelled_at,
            fraud_scenario: self.fraud_scenario,
        })
    }
}

/// The columns of `api_keys` a lookup returns (never the hash).
pub const KEY_COLUMNS: &str = "id, name, role, created_at, revoked_at";

#[derive(Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl KeyRow {
    pub fn into_key(self) -> Result<ApiKey, StoreError> {
        Ok(ApiKey {
            role: Role::parse(&self.role).ok_or_else(|| corrupt("key role", &self.role))?,
            id: self.id,
            name: self.name,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        })
    }
}

pub const DRIFT_COLUMNS: &str =
    "id, kind, severity, start_at, detected_at, end_at, share, columns, window_rows, updated_at";

#[derive(Debug, sqlx::FromRow)]
pub struct DriftRow {
    pub id: String,
    pub kind: String,
    pub severity: String,
    pub start_at: DateTime<Utc>,
    pub detected_at: DateTime<Utc>,
    pub end_at: Option<DateTime<Utc>>,
    pub share: f64,
    pub columns: Json<Vec<DriftedColumn>>,
    pub window_rows: i64,
    pub updated_at: DateTime<Utc>,
}

impl DriftRow {
    pub fn into_event(self) -> Result<DriftEvent, StoreError> {
        Ok(DriftEvent {
            kind: DriftKind::parse(&self.kind).ok_or_else(|| corrupt("drift kind", &self.kind))?,
            severity: Severity::parse(&self.severity)
                .ok_or_else(|| corrupt("drift severity", &self.severity))?,
            id: self.id,
            start: self.start_at,
            detected: self.detected_at,
            end: self.end_at,
            share: self.share,
            columns: self.columns.0,
            window_rows: u64::try_from(self.window_rows).unwrap_or(0),
            updated_at: self.updated_at,
        })
    }
}
