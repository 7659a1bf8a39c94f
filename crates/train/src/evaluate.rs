//! Running a protocol: for every fold, train a bundle on its training days, score its test days
//! (after the removal of known compromised cards) with the bundle's own scorer, and compute the
//! handbook's metrics; then their mean and standard deviation (ddof = 0) over the folds.

use fraudwatch_core::Id;
use fraudwatch_models::Scorer;
use fraudwatch_models::metrics::{CardScore, auc_roc, average_precision, card_precision_at_k};
use serde::Serialize;

use crate::dataset::{Dataset, date_of};
use crate::fit::{Progress, fit, score};
use crate::protocol::{Fold, Schedule, test_rows};
use crate::{TrainError, TrainParams};

/// Cards per day in Card Precision@k.
pub const CARDS_PER_DAY: usize = 100;

#[derive(Debug, Clone, Serialize)]
pub struct Period {
    pub start: String,
    pub end: String,
    pub rows: usize,
    pub frauds: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FoldResult {
    pub fold: i64,
    pub train: Period,
    pub test: Period,
    /// Test rows dropped as cards known to be compromised.
    pub removed: usize,
    pub auc_roc: f64,
    pub average_precision: f64,
    pub card_precision_at_100: f64,
    pub best_iteration: Option<u32>,
    pub bundle_version: String,
}

/// Mean and standard deviation over the folds.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Spread {
    pub auc_roc: f64,
    pub average_precision: f64,
    pub card_precision_at_100: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub protocol: String,
    pub model: String,
    pub feature_set: String,
    pub inputs: Vec<String>,
    pub auc_roc: f64,
    pub average_precision: f64,
    pub card_precision_at_100: f64,
    pub std: Spread,
    pub folds: Vec<FoldResult>,
    pub train_days: i64,
    pub delay_days: i64,
    pub test_days: i64,
    pub params: std::collections::BTreeMap<String, String>,
}

/// One test transaction's score.
#[derive(Debug, Clone)]
pub struct TestScore {
    pub id: Id,
    pub fold: i64,
    pub score: f64,
}

/// Evaluates `params` on `data` with the folds of `schedule`.
pub fn evaluate(
    data: &Dataset,
    protocol: &str,
    schedule: &Schedule,
    params: &TrainParams,
    progress: &mut dyn FoldProgress,
) -> Result<(Report, Vec<TestScore>), TrainError> {
    let mut folds = Vec::new();
    let mut scores = Vec::new();
    for fold in schedule.folds() {
        progress.fold(&fold);
        let (result, mut s) = run_fold(data, &fold, schedule.delay_days, params, progress)?;
        progress.done(&result);
        folds.push(result);
        scores.append(&mut s);
    }
    let stat = |f: fn(&FoldResult) -> f64| -> (f64, f64) {
        let n = folds.len().max(1) as f64;
        let mean = folds.iter().map(f).sum::<f64>() / n;
        let var = folds.iter().map(|r| (f(r) - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    };
    let (auc, auc_sd) = stat(|r| r.auc_roc);
    let (ap, ap_sd) = stat(|r| r.average_precision);
    let (cp, cp_sd) = stat(|r| r.card_precision_at_100);
    let report = Report {
        protocol: protocol.to_string(),
        model: params.model.name().to_string(),
        feature_set: params.feature_set.name().to_string(),
        inputs: data.names().to_vec(),
        auc_roc: auc,
        average_precision: ap,
        card_precision_at_100: cp,
        std: Spread {
            auc_roc: auc_sd,
            average_precision: ap_sd,
            card_precision_at_100: cp_sd,
        },
        folds,
        train_days: schedule.train_days,
        delay_days: schedule.delay_days,
        test_days: schedule.test_days,
        params: params.flattened(),
    };
    Ok((report, scores))
}

/// What evaluation reports as it goes (training progress included).
pub trait FoldProgress: Progress {
    fn fold(&mut self, _fold: &Fold) {}
    fn done(&mut self, _result: &FoldResult) {}
}

fn run_fold(
    data: &Dataset,
    fold: &Fold,
    delay_days: i64,
    params: &TrainParams,
    progress: &mut dyn FoldProgress,
) -> Result<(FoldResult, Vec<TestScore>), TrainError> {
    let train = data.days(fold.train.0, fold.train.1);
    let (test, removed) = test_rows(data, fold, delay_days);
    let period = |(a, b): (i64, i64), rows: &[usize]| Period {
        start: date_of(a).to_string(),
        end: date_of(b).to_string(),
        rows: rows.len(),
        frauds: rows.iter().filter(|&&i| data.fraud(i)).count(),
    };
    if test.is_empty() {
        return Err(TrainError::Data(format!(
            "fold {}: no test rows from {} to {}",
            fold.index,
            date_of(fold.test.0),
            date_of(fold.test.1)
        )));
    }
    let fitted = fit(data, &train, params, progress)?;
    let risks = score(&Scorer::new(&fitted.bundle)?, data, &test)?;
    let frauds: Vec<bool> = test.iter().map(|&i| data.fraud(i)).collect();
    let cards: Vec<CardScore> = test
        .iter()
        .zip(&risks)
        .map(|(&i, &score)| CardScore {
            day: data.day(i),
            card: u64::from(data.card(i)),
            score,
            fraud: data.fraud(i),
        })
        .collect();
    let undefined = |what: &str| {
        TrainError::Data(format!(
            "fold {}: {what} is undefined on the test rows (one class only)",
            fold.index
        ))
    };
    let result = FoldResult {
        fold: fold.index,
        train: period(fold.train, &train),
        test: period(fold.test, &test),
        removed,
        auc_roc: auc_roc(&risks, &frauds).ok_or_else(|| undefined("AUC-ROC"))?,
        average_precision: average_precision(&risks, &frauds)
            .ok_or_else(|| undefined("average precision"))?,
        card_precision_at_100: card_precision_at_k(&cards, CARDS_PER_DAY)
            .ok_or_else(|| undefined("Card Precision@100"))?,
        best_iteration: fitted.best_iteration,
        bundle_version: fitted.bundle.version.clone(),
    };
    let scores = test
        .iter()
        .zip(risks)
        .map(|(&i, score)| TestScore {
            id: data.id(i).clone(),
            fold: fold.index,
            score,
        })
        .collect();
    Ok((result, scores))
}
