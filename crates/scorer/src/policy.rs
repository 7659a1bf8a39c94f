//! The decision policy. A transaction is blocked when its risk reaches `block`, reviewed when it
//! reaches `review`, or when its anomaly score reaches `anomaly_review` (a second opinion for
//! what the supervised model has never seen); otherwise allowed. The thresholds come from the
//! bundle (set at training from the review and block rates); a deployment may override them.

use fraudwatch_core::Decision;
use fraudwatch_models::{Bundle, Risk};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub review: f64,
    pub block: f64,
    /// Review anything at least this anomalous (`None`: the anomaly score decides nothing).
    pub anomaly_review: Option<f64>,
}

impl Policy {
    /// The bundle's thresholds, no anomaly rule.
    pub fn of(bundle: &Bundle) -> Policy {
        Policy {
            review: bundle.thresholds.review,
            block: bundle.thresholds.block,
            anomaly_review: None,
        }
    }

    pub fn decide(&self, r: &Risk) -> Decision {
        if r.risk >= self.block {
            Decision::Block
        } else if r.risk >= self.review || self.anomaly_review.is_some_and(|a| r.anomaly >= a) {
            Decision::Review
        } else {
            Decision::Allow
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(risk: f64, anomaly: f64) -> Risk {
        Risk { risk, anomaly }
    }

    #[test]
    fn thresholds_are_inclusive_and_block_wins() {
        let p = Policy {
            review: 0.5,
            block: 0.9,
            anomaly_review: None,
        };
        assert_eq!(p.decide(&risk(0.49, 1.0)), Decision::Allow);
        assert_eq!(p.decide(&risk(0.5, 0.0)), Decision::Review);
        assert_eq!(p.decide(&risk(0.9, 0.0)), Decision::Block);
        assert_eq!(p.decide(&risk(1.0, 1.0)), Decision::Block);
    }

    #[test]
    fn the_anomaly_rule_only_reviews() {
        let p = Policy {
            review: 0.5,
            block: 0.9,
            anomaly_review: Some(0.7),
        };
        assert_eq!(p.decide(&risk(0.1, 0.69)), Decision::Allow);
        assert_eq!(p.decide(&risk(0.1, 0.7)), Decision::Review);
        assert_eq!(p.decide(&risk(0.95, 0.1)), Decision::Block);
    }
}
