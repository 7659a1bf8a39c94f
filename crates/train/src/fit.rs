//! Training a bundle on some rows of a data set: standardisation, the Isolation Forest, XGBoost
//! through its library (with the anomaly score as an input for `combined`), early stopping on
//! the last days of the window, thresholds from the policy, a reference sample, and the seal.

use std::collections::BTreeMap;

use fraudwatch_models::bundle::{self, Bundle, DataRange, Scale, Thresholds};
use fraudwatch_models::metrics::{auc_roc, average_precision};
use fraudwatch_models::{IsolationForest, ModelKind, Risk, Scorer};
use fraudwatch_xgboost::{Matrix, Round, TrainConfig};

use crate::dataset::{Dataset, date_of};
use crate::{TrainError, TrainParams};

/// What training reports as it goes.
pub trait Progress {
    /// One XGBoost round with its evaluation metric on the training and validation rows.
    fn round(&mut self, _round: &Round) {}
    /// A stage started ("isolation forest", "xgboost", ...).
    fn stage(&mut self, _name: &str) {}
}

/// Reports nothing.
#[derive(Debug, Default)]
pub struct Quiet;
impl Progress for Quiet {}

/// A trained bundle and how training went.
#[derive(Debug)]
pub struct Fitted {
    pub bundle: Bundle,
    /// XGBoost's best round when early stopping was on.
    pub best_iteration: Option<u32>,
    pub rounds: Vec<Round>,
}

/// Trains on `rows` of `data` (any order; the validation slice is their last
/// `validation_days` days).
pub fn fit(
    data: &Dataset,
    rows: &[usize],
    params: &TrainParams,
    progress: &mut dyn Progress,
) -> Result<Fitted, TrainError> {
    if rows.len() < 2 {
        return Err(TrainError::Data(format!(
            "{} training rows: at least 2 are needed",
            rows.len()
        )));
    }
    let last_day = rows.iter().map(|&i| data.day(i)).max().unwrap_or(0);
    let first_day = rows.iter().map(|&i| data.day(i)).min().unwrap_or(0);
    let cut = last_day - i64::from(params.xgboost.validation_days);
    let (fit_rows, valid_rows): (Vec<usize>, Vec<usize>) = if params.xgboost.validation_days > 0 {
        rows.iter().partition(|&&i| data.day(i) <= cut)
    } else {
        (rows.to_vec(), Vec::new())
    };
    if fit_rows.len() < 2 {
        return Err(TrainError::Data(format!(
            "{} rows before the {}-day validation slice: at least 2 are needed",
            fit_rows.len(),
            params.xgboost.validation_days
        )));
    }
    let w = data.width();
    let raw = data.gather(&fit_rows);
    let scaling = if params.standardise {
        standardisation(&raw, w)
    } else {
        Vec::new()
    };
    let fit_x = scaled(&raw, w, &scaling);
    let valid_x = scaled(&data.gather(&valid_rows), w, &scaling);
    let labels = |rows: &[usize]| -> Vec<f32> {
        rows.iter()
            .map(|&i| f32::from(u8::from(data.fraud(i))))
            .collect()
    };

    let kind = params.model;
    // The forest's columns: named ones, or all.
    let forest_cols: Vec<usize> = params
        .iforest
        .features
        .iter()
        .map(|name| {
            data.names().iter().position(|n| n == name).ok_or_else(|| {
                TrainError::Params(format!(
                    "iforest.features names {name:?}, which is not an input ({})",
                    data.names().join(", ")
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let forest_x = |x: &[f64]| -> Vec<f64> {
        if forest_cols.is_empty() {
            return x.to_vec();
        }
        x.chunks_exact(w)
            .flat_map(|row| forest_cols.iter().map(|&c| row[c]))
            .collect()
    };
    // Every bundle with trees configured carries a forest: for `xgboost` it still gives the
    // anomaly score (a separate signal for the decision policy and for analysts).
    let iforest = if params.iforest.trees > 0 {
        progress.stage("isolation forest");
        let p = fraudwatch_models::Params {
            trees: params.iforest.trees,
            sample_size: params.iforest.sample_size,
            seed: params.iforest.seed,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let fw = if forest_cols.is_empty() {
            w
        } else {
            forest_cols.len()
        };
        Some(IsolationForest::fit(&forest_x(&fit_x), fw, &p)?)
    } else {
        None
    };

    let (mut best_iteration, mut rounds, mut xgboost) = (None, Vec::new(), String::new());
    if kind.uses_xgboost() {
        progress.stage("xgboost");
        let inputs = |x: &[f64]| -> Result<(Vec<f32>, usize), TrainError> {
            match (&iforest, kind) {
                (Some(f), ModelKind::Combined) => Ok((with_anomaly(f, x, w, &forest_x(x))?, w + 1)),
                _ => Ok((x.iter().map(|&v| v as f32).collect(), w)),
            }
        };
        let (tx, tw) = inputs(&fit_x)?;
        let train_m = Matrix::new(&tx, tw, Some(&labels(&fit_rows)))?;
        let valid_m = if valid_rows.is_empty() {
            None
        } else {
            let (vx, vw) = inputs(&valid_x)?;
            Some(Matrix::new(&vx, vw, Some(&labels(&valid_rows)))?)
        };
        let mut cfg = TrainConfig::new(params.xgboost.rounds);
        cfg.params = params.xgboost_params();
        if params.xgboost.early_stopping_rounds > 0 && valid_m.is_some() {
            cfg = cfg.early_stopping(params.xgboost.early_stopping_rounds);
        }
        let trained = fraudwatch_xgboost::train(&cfg, &train_m, valid_m.as_ref(), &mut |r| {
            progress.round(r)
        })?;
        best_iteration = trained.best_iteration;
        rounds = trained.history;
        xgboost = String::from_utf8(trained.booster.save_json()?).map_err(|e| {
            TrainError::Data(format!("XGBoost wrote a model that is not UTF-8: {e}"))
        })?;
    }

    let mut bundle = Bundle {
        format: bundle::FORMAT,
        version: String::new(),
        created_at: fraudwatch_core::time::now().to_rfc3339(),
        feature_set: params.feature_set.name().to_string(),
        features: data.names().to_vec(),
        scaling,
        model: kind,
        xgboost,
        iforest,
        iforest_inputs: params.iforest.features.clone(),
        // Placeholders until the bundle's own scorer has scored the judged rows.
        thresholds: Thresholds {
            review: 1.0,
            block: 1.0,
        },
        metrics: BTreeMap::new(),
        data: DataRange {
            start: date_of(first_day).to_string(),
            end: date_of(last_day).to_string(),
            rows: rows.len() as u64,
            frauds: rows.iter().filter(|&&i| data.fraud(i)).count() as u64,
        },
        params: params.flattened(),
        reference: reference_sample(data, &fit_rows, params.reference_rows),
        reference_risks: Vec::new(),
    };
    // Thresholds and metrics come from the bundle's own scorer: what serving will compute.
    let judged = if valid_rows.is_empty() {
        &fit_rows
    } else {
        &valid_rows
    };
    let risks = score(&Scorer::new(&bundle)?, data, judged)?;
    let frauds: Vec<bool> = judged.iter().map(|&i| data.fraud(i)).collect();
    if !valid_rows.is_empty() {
        // Judged rows are in time order; an even spread keeps the whole slice's mix.
        let take = params.reference_rows.min(risks.len());
        bundle.reference_risks = (0..take).map(|k| risks[k * risks.len() / take]).collect();
    }
    let slice = if valid_rows.is_empty() {
        "train"
    } else {
        "validation"
    };
    for (name, value) in [
        ("auc_roc", auc_roc(&risks, &frauds)),
        ("average_precision", average_precision(&risks, &frauds)),
    ] {
        if let Some(v) = value {
            bundle.metrics.insert(format!("{slice}_{name}"), v);
        }
    }
    bundle.thresholds = thresholds(&risks, &params.policy);
    Ok(Fitted {
        bundle: bundle.seal()?,
        best_iteration,
        rounds,
    })
}

/// The risks a scorer gives `rows` of `data`.
pub fn score(scorer: &Scorer, data: &Dataset, rows: &[usize]) -> Result<Vec<f64>, TrainError> {
    let mut out = vec![Risk::default(); rows.len()];
    let mut scratch = Vec::new();
    scorer.score_batch(&data.gather(rows), &mut out, &mut scratch)?;
    Ok(out.into_iter().map(|r| r.risk).collect())
}

/// Mean and population standard deviation per column (1 for a constant column).
fn standardisation(x: &[f64], w: usize) -> Vec<Scale> {
    let n = (x.len() / w) as f64;
    (0..w)
        .map(|j| {
            let col = x.iter().skip(j).step_by(w);
            let mean = col.clone().sum::<f64>() / n;
            let var = col.map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            let std = var.sqrt();
            Scale {
                mean,
                std: if std > 0.0 && std.is_finite() {
                    std
                } else {
                    1.0
                },
            }
        })
        .collect()
}

fn scaled(x: &[f64], w: usize, scaling: &[Scale]) -> Vec<f64> {
    if scaling.is_empty() {
        return x.to_vec();
    }
    x.chunks_exact(w)
        .flat_map(|row| row.iter().zip(scaling).map(|(v, s)| (v - s.mean) / s.std))
        .collect()
}

/// The rows as f32 with the forest's anomaly score (of the forest's columns) appended to each.
fn with_anomaly(
    forest: &IsolationForest,
    x: &[f64],
    w: usize,
    forest_x: &[f64],
) -> Result<Vec<f32>, TrainError> {
    let mut out = Vec::with_capacity(x.len() / w * (w + 1));
    for (row, frow) in x.chunks_exact(w).zip(forest_x.chunks_exact(forest.width())) {
        out.extend(row.iter().map(|&v| v as f32));
        out.push(forest.score(frow)? as f32);
    }
    Ok(out)
}

/// Evenly spaced rows, in time order, raw (unscaled).
fn reference_sample(data: &Dataset, rows: &[usize], n: usize) -> Vec<Vec<f64>> {
    let mut sorted = rows.to_vec();
    sorted.sort_by_key(|&i| (data.time(i), i));
    let take = n.min(sorted.len());
    (0..take)
        .map(|k| data.row(sorted[k * sorted.len() / take]).to_vec())
        .collect()
}

/// The risk above which the policy's share of rows falls.
fn thresholds(risks: &[f64], policy: &crate::params::Policy) -> Thresholds {
    let mut sorted = risks.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let at = |rate: f64| -> f64 {
        let k = (rate * sorted.len() as f64).ceil() as usize;
        // A rate of 0 flags nothing: a threshold no risk reaches (JSON has no infinity).
        match k.checked_sub(1) {
            None => f64::MAX,
            Some(k) => sorted.get(k).or(sorted.last()).copied().unwrap_or(f64::MAX),
        }
    };
    let block = at(policy.block_rate);
    let review = at(policy.review_rate).min(block);
    Thresholds { review, block }
}
