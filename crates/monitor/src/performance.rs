//! Performance drift: the risk scores of transactions whose labels have arrived, against the
//! bundle's own validation average precision. Labels come days after the scores, so the scores
//! wait (keyed by a hash of the transaction id, up to a bound) for their labels; the latest
//! labelled transactions form the window.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::report::{ColumnReport, Histogram, Performance as Summary};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerformanceSpec {
    /// The latest this many labelled transactions are judged.
    pub labelled_rows: usize,
    /// No verdict before this many labelled transactions with at least `min_frauds` frauds.
    pub min_labelled: usize,
    pub min_frauds: usize,
    /// Drift when average precision falls below the reference × (1 − tolerance).
    pub tolerance: f64,
    /// Most scores kept waiting for their labels; the oldest are forgotten first.
    pub pending: usize,
}

impl Default for PerformanceSpec {
    fn default() -> Self {
        PerformanceSpec {
            labelled_rows: 5_000,
            min_labelled: 1_000,
            min_frauds: 20,
            tolerance: 0.25,
            pending: 2_000_000,
        }
    }
}

impl PerformanceSpec {
    pub fn check(&self) -> Result<(), String> {
        if !(0.0..1.0).contains(&self.tolerance) {
            return Err(format!(
                "performance.tolerance = {} must be in [0, 1)",
                self.tolerance
            ));
        }
        if self.labelled_rows == 0 || self.min_labelled > self.labelled_rows {
            return Err(format!(
                "performance.min_labelled = {} must not exceed performance.labelled_rows = {} (≥ 1)",
                self.min_labelled, self.labelled_rows
            ));
        }
        if self.pending == 0 {
            return Err("performance.pending must be at least 1".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct PerformanceWindow {
    spec: PerformanceSpec,
    reference_ap: Option<f64>,
    pending: HashMap<u64, (f32, bool)>,
    order: VecDeque<u64>,
    /// (risk, is_fraud, alerted) of the latest labelled transactions.
    labelled: VecDeque<(f32, bool, bool)>,
    /// Labels whose score was never seen or already forgotten.
    pub unmatched: u64,
}

fn key(transaction_id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    transaction_id.hash(&mut h);
    h.finish()
}

impl PerformanceWindow {
    pub fn new(spec: PerformanceSpec, reference_ap: Option<f64>) -> PerformanceWindow {
        PerformanceWindow {
            spec,
            reference_ap,
            pending: HashMap::new(),
            order: VecDeque::new(),
            labelled: VecDeque::new(),
            unmatched: 0,
        }
    }

    pub fn push_score(&mut self, transaction_id: &str, risk: f64, alerted: bool) {
        let k = key(transaction_id);
        if self.pending.insert(k, (risk as f32, alerted)).is_none() {
            self.order.push_back(k);
        }
        while self.order.len() > self.spec.pending {
            if let Some(old) = self.order.pop_front() {
                self.pending.remove(&old);
            }
        }
    }

    /// Matches a label with its score; a transaction counts once, with its first label.
    pub fn push_label(&mut self, transaction_id: &str, is_fraud: bool) {
        match self.pending.remove(&key(transaction_id)) {
            Some((risk, alerted)) => {
                self.labelled.push_back((risk, is_fraud, alerted));
                if self.labelled.len() > self.spec.labelled_rows {
                    self.labelled.pop_front();
                }
            }
            None => self.unmatched += 1,
        }
    }

    /// The window's summary, and the column the alert tracker watches (average precision
    /// against its floor) when there is enough to judge.
    pub fn evaluate(&self) -> (Summary, ColumnReport) {
        let risks: Vec<f64> = self.labelled.iter().map(|r| f64::from(r.0)).collect();
        let frauds: Vec<bool> = self.labelled.iter().map(|r| r.1).collect();
        let n_frauds = frauds.iter().filter(|f| **f).count();
        let alerted = self.labelled.iter().filter(|r| r.2).count();
        let alerted_frauds = self.labelled.iter().filter(|r| r.1 && r.2).count();
        let enough =
            self.labelled.len() >= self.spec.min_labelled && n_frauds >= self.spec.min_frauds;
        let ap = if enough {
            fraudwatch_models::metrics::average_precision(&risks, &frauds)
        } else {
            None
        };
        let floor = self.reference_ap.map(|r| r * (1.0 - self.spec.tolerance));
        let drifted = matches!((ap, floor), (Some(a), Some(f)) if a < f);
        let note = match (enough, floor) {
            (false, _) => Some(format!(
                "{} labelled transactions with {n_frauds} frauds; a verdict needs {} with {}",
                self.labelled.len(),
                self.spec.min_labelled,
                self.spec.min_frauds
            )),
            (true, None) => Some("the bundle records no validation average precision".into()),
            _ => None,
        };
        let summary = Summary {
            labelled: self.labelled.len(),
            frauds: n_frauds,
            average_precision: ap,
            alert_precision: (alerted > 0).then(|| alerted_frauds as f64 / alerted as f64),
            reference_average_precision: self.reference_ap,
            drifted,
        };
        let column = ColumnReport {
            name: "average_precision".into(),
            kind: "numeric".into(),
            method: "relative_drop".into(),
            statistic: ap.unwrap_or(f64::NAN),
            p_value: None,
            threshold: floor.unwrap_or(f64::NAN),
            drifted,
            note,
            histogram: Histogram::default(),
        };
        (summary, column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> PerformanceSpec {
        PerformanceSpec {
            labelled_rows: 100,
            min_labelled: 10,
            min_frauds: 2,
            tolerance: 0.25,
            pending: 1_000,
        }
    }

    #[test]
    fn falling_precision_is_drift_and_too_few_labels_no_verdict() {
        let mut w = PerformanceWindow::new(spec(), Some(0.8));
        for i in 0..50 {
            w.push_score(&format!("t{i}"), f64::from(i) / 50.0, i >= 45);
        }
        w.push_label("t49", true);
        let (s, c) = w.evaluate();
        assert!(c.note.is_some() && !s.drifted);
        // Frauds among the lowest risks: the model ranks them last.
        for i in 0..20 {
            w.push_label(&format!("t{i}"), i < 5);
        }
        w.push_label("t0", true);
        w.push_label("nobody", true);
        let (s, c) = w.evaluate();
        assert_eq!((s.labelled, s.frauds, w.unmatched), (21, 6, 2));
        assert!(c.note.is_none() && c.drifted && s.drifted, "{c:?}");
        assert!(c.statistic < 0.6);
    }

    #[test]
    fn pending_scores_are_bounded() {
        let mut w = PerformanceWindow::new(
            PerformanceSpec {
                pending: 3,
                ..spec()
            },
            None,
        );
        for i in 0..10 {
            w.push_score(&format!("t{i}"), 0.5, false);
        }
        w.push_label("t0", true);
        w.push_label("t9", true);
        assert_eq!((w.unmatched, w.labelled.len()), (1, 1));
        assert!(
            PerformanceSpec {
                tolerance: 1.5,
                ..spec()
            }
            .check()
            .is_err()
        );
    }
}
