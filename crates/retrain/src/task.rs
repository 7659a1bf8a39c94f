//! The tasks of a retraining run and what decides them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One task of a run, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Extract,
    Validate,
    Train,
    Evaluate,
    Compare,
    Register,
    Promote,
}

impl Task {
    pub const ALL: [Task; 7] = [
        Task::Extract,
        Task::Validate,
        Task::Train,
        Task::Evaluate,
        Task::Compare,
        Task::Register,
        Task::Promote,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::Extract => "extract",
            Task::Validate => "validate",
            Task::Train => "train",
            Task::Evaluate => "evaluate",
            Task::Compare => "compare",
            Task::Register => "register",
            Task::Promote => "promote",
        }
    }

    /// The task this one reads the output of (none for `extract`).
    pub fn needs(self) -> Option<Task> {
        let i = Task::ALL.iter().position(|t| *t == self)?;
        i.checked_sub(1).map(|j| Task::ALL[j])
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Task, String> {
        Task::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Task::ALL.iter().map(|t| t.as_str()).collect();
                format!("unknown task {s:?}; tasks: {}", names.join(", "))
            })
    }
}

/// A run's settings (the `[retrain]` table of the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrainConfig {
    /// Days of labelled data trained on (the latest before the holdout).
    pub train_days: u32,
    /// Days between the training rows and the holdout, as in the handbook's protocol: the
    /// labels of the last training days are not all known when a model goes live.
    pub delay_days: u32,
    /// The latest days with settled labels, held out to judge both models.
    pub test_days: u32,
    /// Transactions younger than this have no settled label yet and are left out.
    pub label_delay_days: u32,
    /// Validation: at least this many training rows and frauds among them.
    pub min_rows: usize,
    pub min_frauds: usize,
    /// Validation: the training rows' fraud rate must lie in [min, max].
    pub min_label_rate: f64,
    pub max_label_rate: f64,
    /// Compare: the challenger's holdout average precision must beat the champion's by this
    /// much (absolute).
    pub min_gain: f64,
    /// Compare: no other metric may fall by more than this (absolute).
    pub max_regression: f64,
    /// Card Precision@k's k.
    pub top_k: usize,
}

impl Default for RetrainConfig {
    fn default() -> Self {
        RetrainConfig {
            train_days: 21,
            delay_days: 7,
            test_days: 7,
            label_delay_days: 7,
            min_rows: 10_000,
            min_frauds: 50,
            min_label_rate: 0.000_1,
            max_label_rate: 0.5,
            min_gain: 0.005,
            max_regression: 0.01,
            top_k: 100,
        }
    }
}

impl RetrainConfig {
    pub fn check(&self) -> Result<(), String> {
        if self.train_days == 0 || self.test_days == 0 {
            return Err(format!(
                "retrain.train_days = {} and retrain.test_days = {} must both be at least 1",
                self.train_days, self.test_days
            ));
        }
        if !(0.0 <= self.min_label_rate
            && self.min_label_rate <= self.max_label_rate
            && self.max_label_rate <= 1.0)
        {
            return Err(format!(
                "retrain.min_label_rate = {} and retrain.max_label_rate = {} must satisfy 0 ≤ min ≤ max ≤ 1",
                self.min_label_rate, self.max_label_rate
            ));
        }
        for (name, v) in [
            ("min_gain", self.min_gain),
            ("max_regression", self.max_regression),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("retrain.{name} = {v} must be a number ≥ 0"));
            }
        }
        if self.top_k == 0 {
            return Err("retrain.top_k must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_run_in_order_and_parse_back() {
        assert_eq!(Task::Extract.needs(), None);
        assert_eq!(Task::Promote.needs(), Some(Task::Register));
        for t in Task::ALL {
            assert_eq!(t.as_str().parse::<Task>(), Ok(t));
        }
        assert!(
            "deploy"
                .parse::<Task>()
                .unwrap_err()
                .contains("extract, validate")
        );
        assert!(RetrainConfig::default().check().is_ok());
        let bad = RetrainConfig {
            min_label_rate: 0.6,
            ..RetrainConfig::default()
        };
        assert!(bad.check().unwrap_err().contains("min_label_rate"));
    }
}
