//! `Case`: one alerted transaction for analysts to work (DESIGN.md §3).
//!
//! The workflow rules live here, as pure functions, so every store and the API apply the same ones:
//! status moves `open → investigating → closed` (also `open → closed`, `investigating → open` to hand
//! a case back, `closed → investigating` to reopen); a case is closed exactly when it has an outcome;
//! every change bumps `version` (optimistic concurrency) and appends to the audit trail.

use serde::{Deserialize, Serialize};

use crate::features::Features;
use crate::id::Id;
use crate::label::{Label, LabelSource};
use crate::score::{Decision, Reason, Score};
use crate::time::{self, Timestamp};
use crate::transaction::Transaction;
use crate::validate::{Validate, ValidationError, check_range, check_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Investigating,
    Closed,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Investigating => "investigating",
            CaseStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Investigating, Self::Closed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// Whether the workflow allows moving from `self` to `next`.
    pub fn can_become(self, next: CaseStatus) -> bool {
        use CaseStatus::*;
        matches!(
            (self, next),
            (Open, Investigating)
                | (Open, Closed)
                | (Investigating, Open)
                | (Investigating, Closed)
                | (Closed, Investigating)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    FraudConfirmed,
    FalsePositive,
    Inconclusive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::FraudConfirmed => "fraud_confirmed",
            Outcome::FalsePositive => "false_positive",
            Outcome::Inconclusive => "inconclusive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::FraudConfirmed,
            Self::FalsePositive,
            Self::Inconclusive,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// The label an outcome teaches the models; an inconclusive case teaches nothing.
    pub fn is_fraud(self) -> Option<bool> {
        match self {
            Outcome::FraudConfirmed => Some(true),
            Outcome::FalsePositive => Some(false),
            Outcome::Inconclusive => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    pub author: String,
    pub text: String,
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
}

/// Who changed what, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Case {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::id::openapi::id))]
    pub transaction_id: Id,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::id::openapi::id))]
    pub customer_id: Id,
    pub status: CaseStatus,
    pub outcome: Option<Outcome>,
    pub assignee: Option<String>,
    pub risk: f64,
    /// The Isolation Forest's anomaly score and XGBoost's probability behind `risk`.
    #[serde(default)]
    pub iforest_score: f64,
    #[serde(default)]
    pub xgb_probability: f64,
    pub decision: Decision,
    pub model_version: String,
    pub reasons: Vec<Reason>,
    /// The transaction's event time.
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub event_time: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<Transaction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub features: Option<Features>,
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
    /// Bumped by every change; an update naming an older version is stale.
    pub version: i64,
    #[serde(default)]
    pub notes: Vec<Note>,
    #[serde(default)]
    pub audit: Vec<AuditEntry>,
}

/// A requested change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseUpdate {
    pub status: Option<CaseStatus>,
    pub outcome: Option<Outcome>,
    /// `Some(None)` unassigns.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "serde_double_option"
    )]
    pub assignee: Option<Option<String>>,
}

/// Why a case change was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseError {
    #[error("case cannot move from {from} to {to}")]
    Transition {
        from: &'static str,
        to: &'static str,
    },
    #[error("a closed case needs an outcome, and only a closed case has one")]
    OutcomeWithoutClose,
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

impl Case {
    /// Opens a case for an alerted score.
    pub fn open(
        score: &Score,
        transaction: Option<Transaction>,
        features: Option<Features>,
        now: Timestamp,
    ) -> Case {
        Case {
            transaction_id: score.transaction_id.clone(),
            customer_id: score.customer_id.clone(),
            status: CaseStatus::Open,
            outcome: None,
            assignee: None,
            risk: score.risk,
            iforest_score: score.iforest_score,
            xgb_probability: score.xgb_probability,
            decision: score.decision,
            model_version: score.model_version.clone(),
            reasons: score.reasons.clone(),
            event_time: score.timestamp,
            transaction,
            features,
            created_at: now,
            updated_at: now,
            version: 1,
            notes: Vec::new(),
            audit: vec![AuditEntry {
                at: now,
                actor: "scorer".into(),
                action: "opened".into(),
                detail: format!(
                    "decision {} at risk {:.4}",
                    score.decision.as_str(),
                    score.risk
                ),
            }],
        }
    }

    /// Applies `update` by `actor`: checks the workflow, bumps the version, records the audit trail.
    /// Closing without an outcome (or giving one without closing) is refused; a reopened case loses
    /// its outcome.
    pub fn apply(
        &mut self,
        update: &CaseUpdate,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), CaseError> {
        check_text("actor", actor, 128)?;
        let mut next = self.clone();
        if let Some(status) = update.status.filter(|&s| s != self.status) {
            if !self.status.can_become(status) {
                return Err(CaseError::Transition {
                    from: self.status.as_str(),
                    to: status.as_str(),
                });
            }
            next.status = status;
            next.audit_push(
                now,
                actor,
                "status",
                format!("{} -> {}", self.status.as_str(), status.as_str()),
            );
            if status != CaseStatus::Closed {
                next.outcome = None;
            }
        }
        if let Some(outcome) = update.outcome {
            next.outcome = Some(outcome);
            next.audit_push(now, actor, "outcome", outcome.as_str().to_string());
        }
        if let Some(assignee) = &update.assignee {
            if let Some(a) = assignee {
                check_text("assignee", a, 128)?;
            }
            next.assignee = assignee.clone();
            next.audit_push(
                now,
                actor,
                "assignee",
                assignee.clone().unwrap_or_else(|| "(none)".into()),
            );
        }
        if (next.status == CaseStatus::Closed) != next.outcome.is_some() {
            return Err(CaseError::OutcomeWithoutClose);
        }
        next.version += 1;
        next.updated_at = now;
        *self = next;
        Ok(())
    }

    /// Adds an analyst's note (also a change: version and audit move).
    pub fn add_note(&mut self, author: &str, text: &str, now: Timestamp) -> Result<(), CaseError> {
        check_text("author", author, 128)?;
        check_text("text", text, 10_000)?;
        self.notes.push(Note {
            author: author.into(),
            text: text.into(),
            at: now,
        });
        self.audit_push(
            now,
            author,
            "note",
            format!("{} chars", text.chars().count()),
        );
        self.version += 1;
        self.updated_at = now;
        Ok(())
    }

    /// The label a closed case teaches, if its outcome is conclusive.
    pub fn label(&self) -> Option<Label> {
        let is_fraud = self.outcome?.is_fraud()?;
        (self.status == CaseStatus::Closed).then(|| Label {
            transaction_id: self.transaction_id.clone(),
            customer_id: self.customer_id.clone(),
            is_fraud,
            source: LabelSource::CaseOutcome,
            labelled_at: self.updated_at,
            fraud_scenario: None,
        })
    }

    fn audit_push(&mut self, at: Timestamp, actor: &str, action: &str, detail: String) {
        self.audit.push(AuditEntry {
            at,
            actor: actor.into(),
            action: action.into(),
            detail,
        });
    }
}

impl Validate for Case {
    fn validate(&self) -> Result<(), ValidationError> {
        self.transaction_id.check("transaction_id")?;
        self.customer_id.check("customer_id")?;
        check_range("risk", self.risk, 0.0, 1.0)?;
        if (self.status == CaseStatus::Closed) != self.outcome.is_some() {
            return Err(ValidationError::new(
                "outcome",
                self.outcome,
                "set exactly when the case is closed",
            ));
        }
        if self.version < 1 {
            return Err(ValidationError::new(
                "version",
                self.version,
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub mod serde_double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::tests::sample as score;

    fn now(s: u32) -> Timestamp {
        time::from_millis(1_522_540_800_000 + i64::from(s) * 1000).unwrap()
    }

    #[test]
    fn workflow_open_investigate_close() {
        let mut c = Case::open(&score(), None, None, now(0));
        assert!(c.validate().is_ok());
        c.apply(
            &CaseUpdate {
                status: Some(CaseStatus::Investigating),
                assignee: Some(Some("ana".into())),
                ..Default::default()
            },
            "key:ana",
            now(1),
        )
        .unwrap();
        assert_eq!(
            (c.status, c.version, c.assignee.as_deref()),
            (CaseStatus::Investigating, 2, Some("ana"))
        );
        let err = c.apply(
            &CaseUpdate {
                status: Some(CaseStatus::Closed),
                ..Default::default()
            },
            "key:ana",
            now(2),
        );
        assert_eq!(err, Err(CaseError::OutcomeWithoutClose));
        assert_eq!(c.version, 2, "a refused change leaves the case untouched");
        c.apply(
            &CaseUpdate {
                status: Some(CaseStatus::Closed),
                outcome: Some(Outcome::FraudConfirmed),
                ..Default::default()
            },
            "key:ana",
            now(3),
        )
        .unwrap();
        let label = c.label().unwrap();
        assert!(label.is_fraud && label.source == LabelSource::CaseOutcome);
        assert_eq!(
            c.audit
                .iter()
                .map(|a| a.action.as_str())
                .collect::<Vec<_>>(),
            ["opened", "status", "assignee", "status", "outcome"]
        );
        c.apply(
            &CaseUpdate {
                status: Some(CaseStatus::Investigating),
                ..Default::default()
            },
            "key:lead",
            now(4),
        )
        .unwrap();
        assert_eq!(c.outcome, None, "reopening clears the outcome");
        assert!(c.label().is_none());
    }

    #[test]
    fn illegal_transitions_and_inconclusive_labels() {
        assert!(!CaseStatus::Closed.can_become(CaseStatus::Open));
        let mut c = Case::open(&score(), None, None, now(0));
        c.apply(
            &CaseUpdate {
                status: Some(CaseStatus::Closed),
                outcome: Some(Outcome::Inconclusive),
                ..Default::default()
            },
            "k",
            now(1),
        )
        .unwrap();
        assert!(c.label().is_none());
        let e = c
            .apply(
                &CaseUpdate {
                    status: Some(CaseStatus::Open),
                    ..Default::default()
                },
                "k",
                now(2),
            )
            .unwrap_err();
        assert_eq!(e.to_string(), "case cannot move from closed to open");
        assert!(c.apply(&CaseUpdate::default(), "", now(2)).is_err());
    }

    #[test]
    fn notes_and_round_trip() {
        let mut c = Case::open(
            &score(),
            Some(crate::transaction::tests::sample()),
            None,
            now(0),
        );
        c.add_note("ana", "called the customer", now(5)).unwrap();
        assert!(c.add_note("ana", "", now(6)).is_err());
        let back: Case = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        let u: CaseUpdate = serde_json::from_str(r#"{"assignee":null}"#).unwrap();
        assert_eq!(u.assignee, Some(None));
        let u: CaseUpdate = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(u.assignee, None);
    }
}
