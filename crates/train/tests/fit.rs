//! Training bundles with the real XGBoost library on a small seeded synthetic data set: the
//! bundle is sealed and reads back equal, its scorer ranks frauds higher, its thresholds, reference
//! sample and metrics are what the parameters ask for, training is reproducible, and a protocol
//! run over the same data gives one fold result per fold with metrics in [0, 1].

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use chrono::NaiveDate;
use fraudwatch_core::Id;
use fraudwatch_core::engine::DAY_MS;
use fraudwatch_models::{Bundle, ModelKind, Risk, Scorer};
use fraudwatch_train::dataset::day_number;
use fraudwatch_train::evaluate::FoldResult;
use fraudwatch_train::protocol::{Fold, Schedule};
use fraudwatch_train::{
    Dataset, FoldProgress, Progress, Quiet, TrainError, TrainParams, evaluate, fit,
};
use fraudwatch_xgboost::Round;

const WIDTH: usize = 6;
const DAYS: i64 = 14;
const ROWS: usize = 3_000;
const CARDS: u64 = 600;
const REFERENCE_ROWS: usize = 100;

/// splitmix64: a seeded stream of test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn first_day() -> i64 {
    day_number(NaiveDate::from_ymd_opt(2018, 7, 25).unwrap())
}

/// ~3,000 rows over 14 days from 2018-07-25, six inputs of different scales, about 3% frauds
/// driven by inputs 0 and 1 only, on 600 cards. Rows are pushed in time order.
fn synthetic(seed: u64) -> Dataset {
    let mut rng = Rng(seed);
    let names = (0..WIDTH).map(|j| format!("x{j}")).collect();
    let mut data = Dataset::new(names);
    let start = first_day() * DAY_MS;
    let mut times: Vec<i64> = (0..ROWS)
        .map(|_| start + (rng.unit() * (DAYS * DAY_MS) as f64) as i64)
        .collect();
    times.sort_unstable();
    for (i, t) in times.into_iter().enumerate() {
        let z: Vec<f64> = (0..WIDTH).map(|_| rng.normal()).collect();
        // Driven by x0 and x1 only; x2..x5 are noise.
        let fraud = 1.5 * z[0] + z[1] + 0.5 * rng.normal() > 3.4;
        // Raw inputs of various scales and offsets, so that standardisation matters.
        let inputs: Vec<f64> = z
            .iter()
            .enumerate()
            .map(|(j, v)| 10.0 * j as f64 + v * (1.0 + j as f64))
            .collect();
        let card = rng.next() % CARDS;
        data.push(
            &Id::from(i as u64),
            t,
            &Id::from(format!("card-{card}").as_str()),
            fraud,
            &inputs,
        )
        .unwrap();
    }
    data
}

fn params(kind: ModelKind, validation_days: u32, early_stopping_rounds: u32) -> TrainParams {
    let text = format!(
        r#"
feature_set = "handbook"
model = "{kind}"
standardise = true
reference_rows = {REFERENCE_ROWS}

[xgboost]
rounds = 20
validation_days = {validation_days}
early_stopping_rounds = {early_stopping_rounds}

[xgboost.params]
objective = "binary:logistic"
tree_method = "exact"
base_score = 0.5
eta = 0.3
max_depth = 3
seed = 0
nthread = 1
eval_metric = "auc"

[iforest]
trees = 20
sample_size = 128
seed = 7

[policy]
review_rate = 0.05
block_rate = 0.01
"#
    );
    TrainParams::from_toml(&text).unwrap()
}

fn all_rows(data: &Dataset) -> Vec<usize> {
    (0..data.len()).collect()
}

fn risks(bundle: &Bundle, data: &Dataset, rows: &[usize]) -> Vec<Risk> {
    let scorer = Scorer::new(bundle).unwrap();
    let mut out = vec![Risk::default(); rows.len()];
    scorer
        .score_batch(&data.gather(rows), &mut out, &mut Vec::new())
        .unwrap();
    out
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

#[test]
fn synthetic_data_is_as_described() {
    let data = synthetic(1);
    assert_eq!(data.len(), ROWS);
    assert_eq!(data.width(), WIDTH);
    let frauds = (0..data.len()).filter(|&i| data.fraud(i)).count();
    let rate = frauds as f64 / data.len() as f64;
    assert!((0.015..0.05).contains(&rate), "fraud rate {rate}");
    let days: std::collections::BTreeSet<i64> = (0..data.len()).map(|i| data.day(i)).collect();
    assert_eq!(days.len(), DAYS as usize);
    assert_eq!(days.first(), Some(&first_day()));
}

#[test]
fn every_model_kind_trains_a_sealed_bundle_that_ranks_frauds_higher() {
    let data = synthetic(1);
    let rows = all_rows(&data);
    for kind in ModelKind::ALL {
        let p = params(kind, 0, 0);
        let fitted = fit(&data, &rows, &p, &mut Quiet).unwrap();
        let bundle = &fitted.bundle;

        // Sealed: the version is the content hash, and the JSON reads back equal.
        assert!(
            bundle.version.starts_with("sha256:"),
            "{kind}: {}",
            bundle.version
        );
        assert_eq!(bundle.version.len(), "sha256:".len() + 64, "{kind}");
        let json = bundle.to_json().unwrap();
        assert_eq!(&Bundle::from_json(&json).unwrap(), bundle, "{kind}");
        assert_eq!(bundle.clone().seal().unwrap().version, bundle.version);

        // What the bundle says about itself.
        assert_eq!(bundle.format, fraudwatch_models::bundle::FORMAT);
        assert_eq!(bundle.model, kind);
        assert_eq!(bundle.feature_set, "handbook");
        assert_eq!(bundle.features, data.names());
        assert_eq!(bundle.scaling.len(), WIDTH, "{kind}: standardised");
        assert_eq!(bundle.xgboost.is_empty(), !kind.uses_xgboost(), "{kind}");
        // Every kind carries a forest when trees are configured (xgboost: the anomaly score).
        assert!(bundle.iforest.is_some(), "{kind}");
        assert_eq!(bundle.data.start, "2018-07-25");
        assert_eq!(bundle.data.end, "2018-08-07");
        assert_eq!(bundle.data.rows, ROWS as u64);
        let frauds = rows.iter().filter(|&&i| data.fraud(i)).count();
        assert_eq!(bundle.data.frauds, frauds as u64);
        assert_eq!(
            bundle.params.get("model").map(String::as_str),
            Some(kind.name())
        );
        assert_eq!(
            bundle
                .params
                .get("xgboost.params.max_depth")
                .map(String::as_str),
            Some("3")
        );
        assert!(
            bundle
                .check_inputs("handbook", data.names().iter().map(String::as_str))
                .is_ok()
        );

        // The scorer ranks frauds higher on average.
        let scored = risks(bundle, &data, &rows);
        let fraud_mean = mean(
            rows.iter()
                .filter(|&&i| data.fraud(i))
                .map(|&i| scored[i].risk),
        );
        let genuine_mean = mean(
            rows.iter()
                .filter(|&&i| !data.fraud(i))
                .map(|&i| scored[i].risk),
        );
        assert!(
            fraud_mean > genuine_mean,
            "{kind}: frauds {fraud_mean}, genuine {genuine_mean}"
        );
        for r in &scored {
            assert!((0.0..=1.0).contains(&r.risk), "{kind}: {r:?}");
            assert!(r.anomaly > 0.0 && r.anomaly <= 1.0, "{kind}: {r:?}");
        }
        // Row by row gives the same as the batch.
        let scorer = Scorer::new(bundle).unwrap();
        for &i in rows.iter().step_by(97) {
            assert_eq!(
                scorer.score(data.row(i)).unwrap(),
                scored[i],
                "{kind} row {i}"
            );
        }

        // Thresholds: review ≤ block, and at least the policy's share reaches each.
        let t = bundle.thresholds;
        assert!(t.review <= t.block, "{kind}: {t:?}");
        let share = |threshold: f64| {
            scored.iter().filter(|r| r.risk >= threshold).count() as f64 / scored.len() as f64
        };
        assert!(
            share(t.block) >= 0.01,
            "{kind}: {t:?} blocks {}",
            share(t.block)
        );
        assert!(
            share(t.review) >= 0.05,
            "{kind}: {t:?} reviews {}",
            share(t.review)
        );
        assert!(
            share(t.block) < 0.5,
            "{kind}: {t:?} blocks {}",
            share(t.block)
        );

        // Reference sample: at most reference_rows raw training rows of the bundle's width.
        assert!(!bundle.reference.is_empty());
        assert!(bundle.reference.len() <= REFERENCE_ROWS, "{kind}");
        for r in &bundle.reference {
            assert_eq!(r.len(), WIDTH, "{kind}");
            assert!(
                rows.iter().any(|&i| data.row(i) == r.as_slice()),
                "{kind}: a reference row that is not a raw training row: {r:?}"
            );
        }

        // Metrics on the training rows (no validation slice).
        let auc = bundle.metrics.get("train_auc_roc").copied();
        assert!(auc.is_some(), "{kind}: {:?}", bundle.metrics);
        assert!(auc.unwrap() > 0.5, "{kind}: {:?}", bundle.metrics);
        assert!(bundle.metrics.contains_key("train_average_precision"));
        assert!(!bundle.metrics.keys().any(|k| k.starts_with("validation_")));
        for (k, v) in &bundle.metrics {
            assert!((0.0..=1.0).contains(v), "{kind}: {k} = {v}");
        }

        // Without early stopping every round is trained.
        assert_eq!(fitted.best_iteration, None, "{kind}");
        if kind.uses_xgboost() {
            assert_eq!(fitted.rounds.len(), 20, "{kind}");
        } else {
            assert!(fitted.rounds.is_empty(), "{kind}");
        }
    }
}

#[test]
fn a_validation_slice_gives_validation_metrics_and_early_stopping() {
    let data = synthetic(2);
    let rows = all_rows(&data);
    for kind in ModelKind::ALL {
        let p = params(kind, 2, 5);
        let fitted = fit(&data, &rows, &p, &mut Quiet).unwrap();
        let bundle = &fitted.bundle;
        assert_eq!(
            &Bundle::from_json(&bundle.to_json().unwrap()).unwrap(),
            bundle
        );
        assert!(
            bundle.metrics.contains_key("validation_auc_roc"),
            "{kind}: {:?}",
            bundle.metrics
        );
        assert!(bundle.metrics.contains_key("validation_average_precision"));
        assert!(!bundle.metrics.keys().any(|k| k.starts_with("train_")));
        assert!(
            bundle.metrics["validation_auc_roc"] > 0.5,
            "{kind}: {:?}",
            bundle.metrics
        );
        // The data range is the whole window, the validation slice included.
        assert_eq!(bundle.data.rows, ROWS as u64);
        assert_eq!(bundle.data.end, "2018-08-07");
        assert!(bundle.thresholds.review <= bundle.thresholds.block);

        // The reference sample comes from the rows before the validation slice.
        let cut = first_day() + DAYS - 1 - 2;
        let fit_rows: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| data.day(i) <= cut)
            .collect();
        for r in &bundle.reference {
            assert!(fit_rows.iter().any(|&i| data.row(i) == r.as_slice()));
        }

        if kind.uses_xgboost() {
            let best = fitted
                .best_iteration
                .expect("early stopping reports its best round");
            assert!(best < 20, "{kind}: {best}");
            assert!(!fitted.rounds.is_empty() && fitted.rounds.len() <= 20);
            assert!(fitted.rounds.len() as u32 > best);
            assert!(
                fitted
                    .rounds
                    .iter()
                    .all(|r| r.valid.is_some() && r.train.is_some())
            );
            // Stopped early only after five rounds without a better validation score.
            if fitted.rounds.len() < 20 {
                assert_eq!(fitted.rounds.len() as u32, best + 1 + 5, "{kind}");
            }
        } else {
            assert_eq!(fitted.best_iteration, None);
        }
    }
}

#[test]
fn training_twice_gives_the_same_bundle() {
    let data = synthetic(3);
    let rows = all_rows(&data);
    for kind in ModelKind::ALL {
        for (validation_days, early) in [(0, 0), (2, 5)] {
            let p = params(kind, validation_days, early);
            let a = fit(&data, &rows, &p, &mut Quiet).unwrap().bundle;
            let b = fit(&data, &rows, &p, &mut Quiet).unwrap().bundle;
            assert_eq!(a.xgboost, b.xgboost, "{kind}");
            assert_eq!(a.iforest, b.iforest, "{kind}");
            let reseal = |mut x: Bundle| {
                x.created_at.clear();
                x.seal().unwrap()
            };
            let (a, b) = (reseal(a), reseal(b));
            assert_eq!(a, b, "{kind}");
            assert_eq!(a.version, b.version, "{kind}");
        }
    }
}

#[test]
fn the_row_order_given_does_not_matter() {
    let data = synthetic(4);
    let rows = all_rows(&data);
    let mut reversed = rows.clone();
    reversed.reverse();
    let p = params(ModelKind::Iforest, 0, 0);
    let a = fit(&data, &rows, &p, &mut Quiet).unwrap().bundle;
    let b = fit(&data, &reversed, &p, &mut Quiet).unwrap().bundle;
    // The reference sample is taken in time order, the scaling is a mean: both agree.
    assert_eq!(a.reference, b.reference);
    for (x, y) in a.scaling.iter().zip(&b.scaling) {
        assert!((x.mean - y.mean).abs() < 1e-9 && (x.std - y.std).abs() < 1e-9);
    }
}

#[test]
fn too_few_rows_are_refused() {
    let data = synthetic(5);
    let p = params(ModelKind::Combined, 0, 0);
    for rows in [vec![], vec![0]] {
        match fit(&data, &rows, &p, &mut Quiet) {
            Err(TrainError::Data(m)) => assert!(m.contains("at least 2"), "{m}"),
            other => panic!("{:?}", other.map(|f| f.bundle.version)),
        }
    }
    // A validation slice that swallows the whole window leaves nothing to train on.
    let last_day_rows = data.days(first_day() + DAYS - 1, first_day() + DAYS - 1);
    let p = params(ModelKind::Xgboost, 2, 5);
    match fit(&data, &last_day_rows, &p, &mut Quiet) {
        Err(TrainError::Data(m)) => assert!(m.contains("validation"), "{m}"),
        other => panic!("{:?}", other.map(|f| f.bundle.version)),
    }
}

/// Records what evaluation reports.
#[derive(Debug, Default)]
struct Record {
    stages: Vec<String>,
    rounds: usize,
    folds: Vec<Fold>,
    done: Vec<i64>,
}

impl Progress for Record {
    fn round(&mut self, _round: &Round) {
        self.rounds += 1;
    }
    fn stage(&mut self, name: &str) {
        self.stages.push(name.to_string());
    }
}

impl FoldProgress for Record {
    fn fold(&mut self, fold: &Fold) {
        self.folds.push(*fold);
    }
    fn done(&mut self, result: &FoldResult) {
        self.done.push(result.fold);
    }
}

#[test]
fn evaluate_reports_one_result_per_fold() {
    let data = synthetic(6);
    // Four training days, two delay days, three test days; fold 1 starts on the first day.
    let schedule = Schedule {
        train_start: first_day() + 3,
        train_days: 4,
        delay_days: 2,
        test_days: 3,
        folds: 2,
    };
    let folds = schedule.folds();
    assert_eq!(folds[1].train.0, first_day());
    assert!(folds[0].test.1 < first_day() + DAYS);
    for kind in ModelKind::ALL {
        let p = params(kind, 0, 0);
        let mut record = Record::default();
        let (report, scores) = evaluate(&data, "synthetic", &schedule, &p, &mut record).unwrap();
        assert_eq!(report.folds.len(), folds.len(), "{kind}");
        assert_eq!(record.folds, folds, "{kind}");
        assert_eq!(record.done, [0, 1], "{kind}");
        assert!(record.stages.iter().any(|s| s.contains("xgboost")) == kind.uses_xgboost());
        assert_eq!(record.rounds > 0, kind.uses_xgboost(), "{kind}");
        assert_eq!(report.protocol, "synthetic");
        assert_eq!(report.model, kind.name());
        assert_eq!(report.feature_set, "handbook");
        assert_eq!(report.inputs, data.names());
        assert_eq!(
            (report.train_days, report.delay_days, report.test_days),
            (4, 2, 3)
        );
        assert_eq!(report.params, p.flattened());

        let unit = |what: &str, v: f64| assert!((0.0..=1.0).contains(&v), "{kind}: {what} = {v}");
        unit("auc_roc", report.auc_roc);
        unit("average_precision", report.average_precision);
        unit("card_precision_at_100", report.card_precision_at_100);
        unit("std auc_roc", report.std.auc_roc);
        unit("std average_precision", report.std.average_precision);
        unit(
            "std card_precision_at_100",
            report.std.card_precision_at_100,
        );
        assert!(report.auc_roc > 0.5, "{kind}: {}", report.auc_roc);

        let mut scored_rows = 0;
        for (result, fold) in report.folds.iter().zip(&folds) {
            assert_eq!(result.fold, fold.index);
            unit("fold auc_roc", result.auc_roc);
            unit("fold average_precision", result.average_precision);
            unit("fold card_precision_at_100", result.card_precision_at_100);
            assert!(result.bundle_version.starts_with("sha256:"));
            let train_rows = data.days(fold.train.0, fold.train.1).len();
            let test_rows = data.days(fold.test.0, fold.test.1).len();
            assert_eq!(result.train.rows, train_rows);
            assert_eq!(result.test.rows + result.removed, test_rows);
            assert!(result.test.frauds > 0);
            scored_rows += result.test.rows;
        }
        // The mean is the mean of the folds.
        let m = report.folds.iter().map(|r| r.auc_roc).sum::<f64>() / folds.len() as f64;
        assert!((report.auc_roc - m).abs() < 1e-12);
        // One score per kept test row.
        assert_eq!(scores.len(), scored_rows, "{kind}");
        for s in &scores {
            unit("score", s.score);
            assert!(s.fold == 0 || s.fold == 1);
        }
    }
}
