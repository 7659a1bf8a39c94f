//! The fraud handbook's evaluation protocols (`shared/data/handbook/README.md`): time-ordered
//! train / delay / test periods, the removal of known compromised cards, and the folds of
//! prequential validation. Days are UTC calendar days, as day numbers.

use std::collections::HashMap;

use chrono::NaiveDate;
use fraudwatch_models::ModelKind;

use crate::dataset::{Dataset, day_number};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// One train week, one delay week, one test week (handbook chapter 3.4; chapter 7.4 for the
    /// Isolation Forest, which trains two weeks earlier).
    HandbookBaseline,
    /// K folds, each shifted one test period earlier (handbook chapter 5).
    HandbookPrequential,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::HandbookBaseline => "handbook-baseline",
            Protocol::HandbookPrequential => "handbook-prequential",
        }
    }

    /// The handbook's dates and lengths for this protocol and model.
    pub fn schedule(self, model: ModelKind) -> Schedule {
        let date = |m, d| NaiveDate::from_ymd_opt(2018, m, d).map_or(0, day_number);
        match (self, model) {
            (Protocol::HandbookBaseline, ModelKind::Iforest) => Schedule::weeks(date(7, 11), 1),
            (Protocol::HandbookBaseline, _) => Schedule::weeks(date(7, 25), 1),
            (Protocol::HandbookPrequential, _) => Schedule::weeks(date(8, 15), 4),
        }
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Protocol::HandbookBaseline, Protocol::HandbookPrequential]
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown protocol {s:?}: expected handbook-baseline or handbook-prequential"
                )
            })
    }
}

/// Period lengths and the first training day of fold 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub train_start: i64,
    pub train_days: i64,
    pub delay_days: i64,
    pub test_days: i64,
    pub folds: i64,
}

/// One fold's days (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    pub index: i64,
    pub train: (i64, i64),
    pub test: (i64, i64),
}

impl Schedule {
    /// One-week periods, as in the handbook.
    pub fn weeks(train_start: i64, folds: i64) -> Schedule {
        Schedule {
            train_start,
            train_days: 7,
            delay_days: 7,
            test_days: 7,
            folds,
        }
    }

    /// Fold i trains from `train_start − i·test_days`.
    pub fn folds(&self) -> Vec<Fold> {
        (0..self.folds)
            .map(|i| {
                let start = self.train_start - i * self.test_days;
                let test = start + self.train_days + self.delay_days;
                Fold {
                    index: i,
                    train: (start, start + self.train_days - 1),
                    test: (test, test + self.test_days - 1),
                }
            })
            .collect()
    }

    /// The validation folds the hyper-parameters are chosen on: the same shape, ending before
    /// the test folds begin to be assessed (the handbook's S = 2018-07-11 for S = 2018-08-15).
    pub fn validation(&self) -> Schedule {
        Schedule {
            train_start: self.train_start - self.delay_days - self.folds * self.test_days,
            ..*self
        }
    }
}

/// A fold's test rows after the removal of known compromised cards: on test day D, the rows of
/// every card with a fraud dated from the first training day through D − delay − 1 are dropped.
/// Returns the kept rows and the number removed.
pub fn test_rows(data: &Dataset, fold: &Fold, delay_days: i64) -> (Vec<usize>, usize) {
    let mut first_fraud: HashMap<u32, i64> = HashMap::new();
    for i in 0..data.len() {
        let day = data.day(i);
        if data.fraud(i) && day >= fold.train.0 && day <= fold.test.1 {
            let e = first_fraud.entry(data.card(i)).or_insert(day);
            *e = (*e).min(day);
        }
    }
    let mut removed = 0;
    let kept = data
        .days(fold.test.0, fold.test.1)
        .into_iter()
        .filter(|&i| {
            let known = first_fraud
                .get(&data.card(i))
                .is_some_and(|&f| f < data.day(i) - delay_days);
            removed += usize::from(known);
            !known
        })
        .collect();
    (kept, removed)
}
