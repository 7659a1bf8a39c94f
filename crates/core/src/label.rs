//! `Label`: the truth about a transaction, learnt late (DESIGN.md §3): from an analyst closing a
//! case, or from a chargeback. Keyed by `customer_id` on the bus, like the transaction it labels.

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::time::{self, Timestamp};
use crate::transaction::check_plausible_time;
use crate::validate::{Validate, ValidationError, check_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    CaseOutcome,
    Chargeback,
}

impl LabelSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LabelSource::CaseOutcome => "case_outcome",
            LabelSource::Chargeback => "chargeback",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Label {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::id::openapi::id))]
    pub transaction_id: Id,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::id::openapi::id))]
    pub customer_id: Id,
    pub is_fraud: bool,
    pub source: LabelSource,
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub labelled_at: Timestamp,
    /// The generator's name for the fraud pattern, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraud_scenario: Option<String>,
}

impl Validate for Label {
    fn validate(&self) -> Result<(), ValidationError> {
        self.transaction_id.check("transaction_id")?;
        self.customer_id.check("customer_id")?;
        check_plausible_time("labelled_at", &self.labelled_at)?;
        if let Some(s) = &self.fraud_scenario {
            check_text("fraud_scenario", s, 64)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format() {
        let l = Label {
            transaction_id: Id::from(9u64),
            customer_id: Id::from(4u64),
            is_fraud: true,
            source: LabelSource::Chargeback,
            labelled_at: time::parse("2018-04-08T00:00:00Z").unwrap(),
            fraud_scenario: Some("card_testing".into()),
        };
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(
            json,
            r#"{"transaction_id":"9","customer_id":"4","is_fraud":true,"source":"chargeback","labelled_at":"2018-04-08T00:00:00.000Z","fraud_scenario":"card_testing"}"#
        );
        assert_eq!(serde_json::from_str::<Label>(&json).unwrap(), l);
        assert!(serde_json::from_str::<Label>(&json.replace("true", "\"yes\"")).is_err());
        assert!(serde_json::from_str::<Label>(&json.replace("chargeback", "rumour")).is_err());
    }
}
