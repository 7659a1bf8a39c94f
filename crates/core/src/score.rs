//! `Score`: the scorer's verdict on one transaction (DESIGN.md §3).

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::time::{self, Timestamp};
use crate::transaction::check_plausible_time;
use crate::validate::{Validate, ValidationError, check_range, check_text};

/// What the payment flow should do with the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Review,
    Block,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Review => "review",
            Decision::Block => "block",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Allow, Self::Review, Self::Block]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// Review and block decisions open a case.
    pub fn opens_case(self) -> bool {
        self != Decision::Allow
    }
}

/// One feature's part in a decision, for the analyst reading the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    pub feature: String,
    pub value: f64,
    /// Signed contribution to the risk (e.g. a SHAP value); positive pushes toward fraud.
    pub contribution: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Score {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::id::openapi::id))]
    pub transaction_id: Id,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::id::openapi::id))]
    pub customer_id: Id,
    /// The transaction's event time.
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub timestamp: Timestamp,
    /// Content hash of the model bundle that produced this score.
    pub model_version: String,
    /// Isolation Forest anomaly score in [0, 1]; higher is more anomalous.
    pub iforest_score: f64,
    /// XGBoost fraud probability in [0, 1].
    pub xgb_probability: f64,
    /// The combined risk in [0, 1] that the decision policy thresholds.
    pub risk: f64,
    pub decision: Decision,
    #[serde(default)]
    pub reasons: Vec<Reason>,
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub scored_at: Timestamp,
    /// When the scored transaction entered the bus (its vector's `ingested_at`), for end-to-end
    /// latency; absent on scores not made from a feature vector. Last on the wire, so a latency
    /// reader finds it at the end of the payload.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::wire_opt"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub ingested_at: Option<Timestamp>,
}

impl Validate for Score {
    fn validate(&self) -> Result<(), ValidationError> {
        self.transaction_id.check("transaction_id")?;
        self.customer_id.check("customer_id")?;
        check_text("model_version", &self.model_version, 128)?;
        check_range("iforest_score", self.iforest_score, 0.0, 1.0)?;
        check_range("xgb_probability", self.xgb_probability, 0.0, 1.0)?;
        check_range("risk", self.risk, 0.0, 1.0)?;
        if let Some(t) = &self.ingested_at {
            check_plausible_time("ingested_at", t)?;
        }
        for r in &self.reasons {
            check_text("reasons.feature", &r.feature, 128)?;
            check_range("reasons.value", r.value, f64::MIN, f64::MAX)?;
            check_range("reasons.contribution", r.contribution, f64::MIN, f64::MAX)?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample() -> Score {
        Score {
            transaction_id: Id::from(7u64),
            customer_id: Id::from(596u64),
            timestamp: time::parse("2018-04-01T00:00:31Z").unwrap(),
            model_version: "b3f1c2".into(),
            iforest_score: 0.61,
            xgb_probability: 0.93,
            risk: 0.9,
            decision: Decision::Block,
            reasons: vec![Reason {
                feature: "amount".into(),
                value: 1250.0,
                contribution: 2.1,
            }],
            scored_at: time::parse("2018-04-01T00:00:31.004Z").unwrap(),
            ingested_at: None,
        }
    }

    #[test]
    fn round_trip_and_rules() {
        let s = sample();
        let back: Score = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        assert!(s.validate().is_ok());
        let mut bad = sample();
        bad.risk = 1.5;
        assert_eq!(bad.validate().unwrap_err().field, "risk");
        assert!(serde_json::from_str::<Decision>("\"maybe\"").is_err());
        assert_eq!(Decision::parse("block"), Some(Decision::Block));
        assert_eq!(Decision::parse("Block"), None);
        assert!(Decision::Review.opens_case() && !Decision::Allow.opens_case());
    }

    #[test]
    fn ingested_at_is_optional_and_last() {
        let plain = serde_json::to_string(&sample()).unwrap();
        assert!(!plain.contains("ingested_at"), "{plain}");
        let mut s = sample();
        s.ingested_at = Some(time::parse("2018-04-01T00:00:30.997Z").unwrap());
        let json = serde_json::to_string(&s).unwrap();
        assert!(
            json.ends_with(r#","ingested_at":"2018-04-01T00:00:30.997Z"}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Score>(&json).unwrap(), s);
        s.ingested_at = time::from_millis(-1);
        assert_eq!(s.validate().unwrap_err().field, "ingested_at");
    }
}
