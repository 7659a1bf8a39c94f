//! A loaded bundle, ready for feature vectors: takes each vector's inputs by name in the bundle's
//! order, scores the batch at once, and decides. A vector that lacks an input, or carries a value
//! that is not finite, is rejected with a reason naming it; the others are scored.

use fraudwatch_core::{FeatureVector, Reason, Score, Timestamp};
use fraudwatch_models::bundle::ANOMALY_INPUT;
use fraudwatch_models::shap::ShapScratch;
use fraudwatch_models::{Bundle, ModelError, Risk, Scorer};

use crate::Policy;

/// Why one feature vector was not scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejected {
    #[error("transaction {transaction_id}: no feature {feature:?}, which model {version} needs")]
    Missing {
        transaction_id: String,
        feature: String,
        version: String,
    },
    #[error("transaction {transaction_id}: feature {feature:?} is {value}")]
    NotFinite {
        transaction_id: String,
        feature: String,
        value: f64,
    },
}

#[derive(Debug)]
pub struct Champion {
    version: String,
    inputs: Vec<String>,
    scorer: Scorer,
    policy: Policy,
    /// Reused between batches: the gathered inputs, the risks and the scorer's scratch.
    rows: Vec<f64>,
    risks: Vec<Risk>,
    scratch: Vec<f64>,
    shap: ShapScratch,
    /// Reasons given on an alert.
    reasons: usize,
}

impl Champion {
    pub fn new(bundle: &Bundle) -> Result<Champion, ModelError> {
        Ok(Champion {
            version: bundle.version.clone(),
            inputs: bundle.features.clone(),
            scorer: Scorer::new(bundle)?,
            policy: Policy::of(bundle),
            rows: Vec::new(),
            risks: Vec::new(),
            scratch: Vec::new(),
            shap: ShapScratch::default(),
            reasons: 3,
        })
    }

    /// Replaces the bundle's own thresholds.
    pub fn with_policy(mut self, policy: Policy) -> Champion {
        self.policy = policy;
        self
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Scores a batch: one result per vector, in order. The error is the model's own (it cannot
    /// happen for inputs checked here; it is returned, not hidden).
    pub fn score(
        &mut self,
        vectors: &[FeatureVector],
        now: Timestamp,
    ) -> Result<Vec<Result<Score, Rejected>>, ModelError> {
        let w = self.inputs.len();
        self.rows.clear();
        let mut results: Vec<Result<Score, Rejected>> = Vec::with_capacity(vectors.len());
        let mut accepted = Vec::with_capacity(vectors.len());
        for (k, v) in vectors.iter().enumerate() {
            match gather(&self.inputs, v, &self.version, &mut self.rows) {
                Ok(()) => accepted.push(k),
                Err(e) => {
                    self.rows.truncate(accepted.len() * w);
                    results.push(Err(e));
                    continue;
                }
            }
            // A placeholder, replaced below once the batch is scored.
            results.push(Ok(blank(v, &self.version, now)));
        }
        self.risks.clear();
        self.risks.resize(accepted.len(), Risk::default());
        self.scorer
            .score_batch(&self.rows, &mut self.risks, &mut self.scratch)?;
        let boosted = self.scorer.kind().uses_xgboost();
        let w = self.inputs.len();
        for (j, (&k, r)) in accepted.iter().zip(&self.risks).enumerate() {
            if let Ok(score) = &mut results[k] {
                score.risk = r.risk;
                score.iforest_score = r.anomaly;
                score.xgb_probability = if boosted { r.risk } else { 0.0 };
                score.decision = self.policy.decide(r);
                if score.decision.opens_case() {
                    let row = &self.rows[j * w..(j + 1) * w];
                    score.reasons = self
                        .scorer
                        .reasons(row, r, self.reasons, &mut self.shap)?
                        .into_iter()
                        .map(|(i, contribution)| Reason {
                            feature: self.inputs.get(i).cloned().unwrap_or(ANOMALY_INPUT.into()),
                            value: row.get(i).copied().unwrap_or(r.anomaly),
                            contribution,
                        })
                        .collect();
                }
            }
        }
        Ok(results)
    }
}

/// Appends the vector's inputs in the bundle's order: by position when the vector lists them in
/// that order (the processor does), by name otherwise.
fn gather(
    inputs: &[String],
    v: &FeatureVector,
    version: &str,
    rows: &mut Vec<f64>,
) -> Result<(), Rejected> {
    let listed = &v.features.0;
    for (i, name) in inputs.iter().enumerate() {
        let value = match listed.get(i) {
            Some((n, x)) if n == name => Some(*x),
            _ => v.features.get(name),
        };
        let Some(value) = value else {
            return Err(Rejected::Missing {
                transaction_id: v.transaction_id.to_string(),
                feature: name.clone(),
                version: version.to_string(),
            });
        };
        if !value.is_finite() {
            return Err(Rejected::NotFinite {
                transaction_id: v.transaction_id.to_string(),
                feature: name.clone(),
                value,
            });
        }
        rows.push(value);
    }
    Ok(())
}

fn blank(v: &FeatureVector, version: &str, now: Timestamp) -> Score {
    Score {
        transaction_id: v.transaction_id.clone(),
        customer_id: v.customer_id.clone(),
        timestamp: v.timestamp,
        model_version: version.to_string(),
        iforest_score: 0.0,
        xgb_probability: 0.0,
        risk: 0.0,
        decision: fraudwatch_core::Decision::Allow,
        reasons: Vec::new(),
        scored_at: now,
        ingested_at: Some(v.ingested_at),
    }
}
