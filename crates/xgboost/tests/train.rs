//! Training against the real XGBoost library (no mocks) on seeded synthetic data.

use fraudwatch_xgboost::{Booster, Matrix, Round, TrainConfig, XgbError, train, version};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const WIDTH: usize = 5;

/// SplitMix64: a tiny seeded generator, so the data is the same on every run and machine.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `rows` rows of 5 uniform features; label = x0 + x1 + noise > 1, then flipped with
/// probability `flip`.
fn dataset(seed: u64, rows: usize, noise: f32, flip: f32) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng(seed);
    let mut data = Vec::with_capacity(rows * WIDTH);
    let mut labels = Vec::with_capacity(rows);
    for _ in 0..rows {
        let row: Vec<f32> = (0..WIDTH).map(|_| rng.unit()).collect();
        let positive = row[0] + row[1] + noise * (rng.unit() - 0.5) > 1.0;
        let positive = positive != (rng.unit() < flip);
        labels.push(if positive { 1.0 } else { 0.0 });
        data.extend(row);
    }
    (data, labels)
}

fn matrix(seed: u64, rows: usize, noise: f32, flip: f32) -> Result<(Matrix, Vec<f32>), XgbError> {
    let (data, labels) = dataset(seed, rows, noise, flip);
    Ok((Matrix::new(&data, WIDTH, Some(&labels))?, labels))
}

fn base_config(rounds: u32) -> TrainConfig {
    TrainConfig::new(rounds)
        .param("objective", "binary:logistic")
        .param("tree_method", "exact")
        .param("eta", "0.3")
        .param("max_depth", "4")
        .param("seed", "7")
        .param("nthread", "2")
}

/// AUC by the rank-sum statistic, ties counted half.
fn auc(scores: &[f32], labels: &[f32]) -> f64 {
    let (mut wins, mut pairs) = (0.0, 0.0);
    for (s_pos, _) in scores.iter().zip(labels).filter(|(_, l)| **l > 0.5) {
        for (s_neg, _) in scores.iter().zip(labels).filter(|(_, l)| **l < 0.5) {
            pairs += 1.0;
            if s_pos > s_neg {
                wins += 1.0;
            } else if s_pos == s_neg {
                wins += 0.5;
            }
        }
    }
    wins / pairs
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn quiet(_: &Round) {}

#[test]
fn links_xgboost_3_4() {
    let (major, minor, _patch) = version();
    assert_eq!((major, minor), (3, 4), "{:?}", version());
}

#[test]
fn learns_the_synthetic_rule() -> TestResult {
    let (dtrain, ytrain) = matrix(1, 2_000, 0.2, 0.0)?;
    let (dtest, ytest) = matrix(2, 1_000, 0.2, 0.0)?;
    assert_eq!(dtrain.rows(), 2_000);
    assert_eq!(dtrain.cols(), WIDTH);

    let cfg = base_config(40).param("eval_metric", "auc");
    let mut seen = Vec::new();
    let trained = train(&cfg, &dtrain, None, &mut |r| seen.push(*r))?;
    assert_eq!(trained.best_iteration, None);
    assert_eq!(trained.booster.rounds()?, 40);
    assert_eq!(trained.history, seen);
    assert_eq!(seen.len(), 40);
    assert!(
        seen.iter()
            .enumerate()
            .all(|(i, r)| r.iteration as usize == i && r.valid.is_none())
    );
    let last_train_auc = seen[39].train.ok_or("train auc missing")?;
    assert!(last_train_auc > 0.95, "train auc {last_train_auc}");

    let p = trained.booster.predict(&dtrain)?;
    assert_eq!(p.len(), 2_000);
    assert!(p.iter().all(|x| (0.0..=1.0).contains(x)));
    let mean = |want: f32| {
        let picked: Vec<f32> = p
            .iter()
            .zip(&ytrain)
            .filter(|(_, y)| **y == want)
            .map(|(p, _)| *p)
            .collect();
        picked.iter().sum::<f32>() / picked.len() as f32
    };
    assert!(
        mean(1.0) > mean(0.0) + 0.5,
        "positives {} negatives {}",
        mean(1.0),
        mean(0.0)
    );
    // XGBoost's own AUC agrees with ours on the same predictions.
    assert!((auc(&p, &ytrain) - last_train_auc).abs() < 1e-6);

    let test_auc = auc(&trained.booster.predict(&dtest)?, &ytest);
    assert!(test_auc > 0.95, "test auc {test_auc}");
    Ok(())
}

#[test]
fn exact_training_is_deterministic() -> TestResult {
    let (dtrain, _) = matrix(3, 2_000, 0.3, 0.05)?;
    let cfg = base_config(30)
        .param("subsample", "0.8")
        .param("colsample_bytree", "0.8");
    let a = train(&cfg, &dtrain, None, &mut quiet)?
        .booster
        .save_json()?;
    let b = train(&cfg, &dtrain, None, &mut quiet)?
        .booster
        .save_json()?;
    assert!(a.len() > 1_000);
    assert!(a == b, "two runs gave different models");
    Ok(())
}

#[test]
fn json_round_trip_keeps_predictions_bit_for_bit() -> TestResult {
    let (dtrain, _) = matrix(4, 2_000, 0.3, 0.05)?;
    let (dtest, _) = matrix(5, 500, 0.3, 0.05)?;
    let booster = train(&base_config(25), &dtrain, None, &mut quiet)?.booster;
    let json = booster.save_json()?;
    assert_eq!(json.first(), Some(&b'{'));

    let loaded = Booster::load_json(&json)?;
    assert_eq!(loaded.rounds()?, 25);
    assert_eq!(
        bits(&loaded.predict(&dtest)?),
        bits(&booster.predict(&dtest)?)
    );
    assert_eq!(
        bits(&loaded.predict(&dtrain)?),
        bits(&booster.predict(&dtrain)?)
    );
    assert!(loaded.save_json()? == json, "save(load(json)) != json");
    Ok(())
}

/// Aggressive boosting on labels with 10 % flipped: the validation curve improves for a few
/// rounds, then overfitting makes it worse for good, long before 500 rounds.
fn overfitting_config() -> TrainConfig {
    TrainConfig::new(500)
        .param("objective", "binary:logistic")
        .param("tree_method", "exact")
        .param("eta", "0.5")
        .param("max_depth", "4")
        .param("seed", "11")
        .param("nthread", "2")
}

fn noisy(seed: u64, rows: usize) -> Result<(Matrix, Vec<f32>), XgbError> {
    matrix(seed, rows, 0.3, 0.1)
}

#[test]
fn early_stopping_keeps_the_best_iteration() -> TestResult {
    let (dtrain, _) = noisy(6, 2_000)?;
    let (dvalid, _) = noisy(7, 1_000)?;
    let (dtest, _) = noisy(8, 500)?;
    let k = 5;
    let cfg = overfitting_config().early_stopping(k);

    let mut calls = 0;
    let trained = train(&cfg, &dtrain, Some(&dvalid), &mut |_| calls += 1)?;
    let best = trained.best_iteration.ok_or("no best iteration")?;
    let history = &trained.history;
    assert_eq!(calls, history.len());
    assert!(history.len() < 500, "did not stop early");
    assert_eq!(
        history.len() as u32,
        best + 1 + k,
        "stops k rounds after the best"
    );
    assert_eq!(trained.booster.rounds()?, best as i32 + 1);
    assert!(best > 0, "the validation curve should improve at first");

    // Default metric for binary:logistic is logloss (minimised): the best round holds the first
    // minimum of the validation curve.
    let valid: Vec<f64> = history
        .iter()
        .map(|r| r.valid.ok_or("valid score missing"))
        .collect::<Result<_, _>>()?;
    assert!(history.iter().all(|r| r.train.is_some()));
    let min = valid.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(valid.iter().position(|v| *v == min), Some(best as usize));

    // The sliced model is the model trained for exactly best + 1 rounds.
    let mut exact = overfitting_config();
    exact.rounds = best + 1;
    let direct = train(&exact, &dtrain, None, &mut quiet)?;
    assert_eq!(direct.booster.rounds()?, best as i32 + 1);
    assert_eq!(
        bits(&trained.booster.predict(&dtest)?),
        bits(&direct.booster.predict(&dtest)?)
    );
    assert!(
        trained.booster.save_json()? == direct.booster.save_json()?,
        "sliced and directly trained models differ"
    );
    Ok(())
}

#[test]
fn early_stopping_follows_the_last_metric_and_maximises_auc() -> TestResult {
    let (dtrain, _) = noisy(6, 2_000)?;
    let (dvalid, _) = noisy(7, 1_000)?;
    let k = 10;
    let run = |first: &str, last: &str| -> Result<(usize, Vec<f64>), Box<dyn std::error::Error>> {
        let cfg = overfitting_config()
            .param("eval_metric", first)
            .param("eval_metric", last)
            .early_stopping(k);
        let trained = train(&cfg, &dtrain, Some(&dvalid), &mut quiet)?;
        let best = trained.best_iteration.ok_or("no best iteration")? as usize;
        let valid: Vec<f64> = trained.history.iter().filter_map(|r| r.valid).collect();
        assert_eq!(valid.len(), trained.history.len());
        assert_eq!(valid.len(), best + 1 + k as usize);
        assert_eq!(trained.booster.rounds()?, best as i32 + 1);
        Ok((best, valid))
    };

    // AUC last: maximised, and the recorded values are AUCs.
    let (best_auc, aucs) = run("logloss", "auc")?;
    assert!(aucs.iter().all(|v| (0.5..=1.0).contains(v)), "{aucs:?}");
    let max = aucs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(aucs.iter().position(|v| *v == max), Some(best_auc));

    // Logloss last: minimised.
    let (best_loss, losses) = run("auc", "logloss")?;
    let min = losses.iter().copied().fold(f64::INFINITY, f64::min);
    assert_eq!(losses.iter().position(|v| *v == min), Some(best_loss));

    assert!(best_auc > 0 && best_loss > 0);
    assert_ne!(
        best_auc, best_loss,
        "the two metrics should disagree on this data"
    );
    Ok(())
}

#[test]
fn without_validation_all_rounds_are_trained_and_nothing_is_evaluated() -> TestResult {
    let (dtrain, _) = noisy(9, 500)?;
    let mut cfg = overfitting_config().early_stopping(3);
    cfg.rounds = 20;
    let trained = train(&cfg, &dtrain, None, &mut quiet)?;
    assert_eq!(trained.best_iteration, None);
    assert_eq!(trained.booster.rounds()?, 20);
    assert_eq!(trained.history.len(), 20);
    assert!(
        trained
            .history
            .iter()
            .all(|r| r.train.is_none() && r.valid.is_none())
    );

    // A validation set without early stopping: still no evaluation unless a metric is asked for.
    let (dvalid, _) = noisy(10, 200)?;
    let trained = train(
        &TrainConfig {
            early_stopping_rounds: None,
            ..cfg.clone()
        },
        &dtrain,
        Some(&dvalid),
        &mut quiet,
    )?;
    assert!(
        trained
            .history
            .iter()
            .all(|r| r.train.is_none() && r.valid.is_none())
    );
    let cfg = TrainConfig {
        early_stopping_rounds: None,
        ..cfg.param("eval_metric", "error")
    };
    let trained = train(&cfg, &dtrain, Some(&dvalid), &mut quiet)?;
    assert_eq!(trained.best_iteration, None);
    assert_eq!(trained.booster.rounds()?, 20);
    assert!(
        trained
            .history
            .iter()
            .all(|r| r.train.is_some() && r.valid.is_some())
    );
    Ok(())
}

#[test]
fn weights_and_missing_values_are_accepted() -> TestResult {
    let (mut data, labels) = dataset(12, 1_000, 0.2, 0.0);
    for (i, x) in data.iter_mut().enumerate() {
        if i % 7 == 0 {
            *x = f32::NAN;
        }
    }
    let mut dtrain = Matrix::new(&data, WIDTH, Some(&labels))?;
    let weights: Vec<f32> = labels
        .iter()
        .map(|y| if *y > 0.5 { 3.0 } else { 1.0 })
        .collect();
    dtrain.set_weights(&weights)?;
    let trained = train(&base_config(10), &dtrain, None, &mut quiet)?;
    let p = trained.booster.predict(&dtrain)?;
    assert!(p.iter().all(|x| x.is_finite()));
    assert!(auc(&p, &labels) > 0.9);
    Ok(())
}

#[test]
fn a_booster_can_move_to_another_thread() -> TestResult {
    let (dtrain, _) = matrix(13, 500, 0.2, 0.0)?;
    let booster = train(&base_config(5), &dtrain, None, &mut quiet)?.booster;
    let here = booster.predict(&dtrain)?;
    let there = std::thread::spawn(move || booster.predict(&dtrain))
        .join()
        .map_err(|_| "thread panicked")??;
    assert_eq!(bits(&here), bits(&there));
    Ok(())
}

#[test]
fn bad_shapes_are_rejected_before_the_library() {
    let invalid = |r: Result<Matrix, XgbError>| matches!(r, Err(XgbError::InvalidInput(_)));
    assert!(
        invalid(Matrix::new(&[1.0; 7], 2, None)),
        "7 values, width 2"
    );
    assert!(invalid(Matrix::new(&[1.0; 6], 0, None)), "width 0");
    assert!(
        invalid(Matrix::new(&[1.0; 6], 2, Some(&[0.0, 1.0]))),
        "2 labels for 3 rows"
    );
    assert!(
        invalid(Matrix::new(&[1.0; 6], 2, Some(&[0.0; 4]))),
        "4 labels for 3 rows"
    );
    let Ok(mut m) = Matrix::new(&[1.0; 6], 2, Some(&[0.0, 1.0, 0.0])) else {
        panic!("a 3x2 matrix");
    };
    assert_eq!((m.rows(), m.cols()), (3, 2));
    assert!(matches!(
        m.set_weights(&[1.0]),
        Err(XgbError::InvalidInput(_))
    ));
}

/// Run `train` on a small valid dataset with `cfg`, expecting an error.
fn train_error(cfg: &TrainConfig) -> Result<XgbError, Box<dyn std::error::Error>> {
    let (dtrain, _) = matrix(14, 200, 0.2, 0.0)?;
    match train(cfg, &dtrain, None, &mut quiet) {
        Ok(_) => Err("training succeeded".into()),
        Err(e) => Ok(e),
    }
}

#[test]
fn bad_parameters_are_errors() -> TestResult {
    let e = train_error(&base_config(3).param("max_depth", "abc"))?;
    assert!(
        matches!(&e, XgbError::Library { message, .. } if message.contains("max_depth")),
        "{e}"
    );

    let e = train_error(&base_config(3).param("objective", "binary:nonsense"))?;
    assert!(
        matches!(&e, XgbError::Library { message, .. } if message.contains("binary:nonsense")),
        "{e}"
    );

    let e = train_error(&base_config(3).param("eta", "-1"))?;
    assert!(matches!(e, XgbError::Library { .. }), "{e}");

    let e = train_error(&base_config(3).param("eval_metric", "no-such-metric"))?;
    assert!(matches!(e, XgbError::Library { .. }), "{e}");

    let e = train_error(&base_config(3).param("max\0depth", "3"))?;
    assert!(matches!(e, XgbError::InvalidInput(_)), "{e}");

    let e = train_error(&base_config(3).early_stopping(0))?;
    assert!(matches!(e, XgbError::InvalidInput(_)), "{e}");
    Ok(())
}

#[test]
fn bad_data_is_an_error_from_the_library() -> TestResult {
    // Labels outside [0, 1] for a logistic objective.
    let (data, _) = dataset(15, 100, 0.2, 0.0);
    let labels = vec![2.0; 100];
    let m = Matrix::new(&data, WIDTH, Some(&labels))?;
    let e = train(&base_config(3), &m, None, &mut quiet)
        .err()
        .ok_or("trained on labels of 2")?;
    assert!(matches!(e, XgbError::Library { .. }), "{e}");

    // An empty training set (XGBoost itself would only warn).
    let empty = Matrix::new(&[], WIDTH, Some(&[]))?;
    assert_eq!(empty.rows(), 0);
    let e = train(&base_config(3), &empty, None, &mut quiet)
        .err()
        .ok_or("trained on nothing")?;
    assert!(matches!(e, XgbError::InvalidInput(_)), "{e}");

    // Infinite values (NaN is the missing marker, inf is rejected by XGBoost).
    let mut inf = data.clone();
    inf[3] = f32::INFINITY;
    let e = Matrix::new(&inf, WIDTH, None).err().ok_or("accepted inf")?;
    assert!(
        matches!(&e, XgbError::Library { message, .. } if message.contains("inf")),
        "{e}"
    );
    assert!(!e.to_string().contains("Stack trace"), "{e}");

    // Training without labels.
    let unlabelled = Matrix::new(&data, WIDTH, None)?;
    let e = train(&base_config(3), &unlabelled, None, &mut quiet)
        .err()
        .ok_or("trained without labels")?;
    assert!(matches!(e, XgbError::Library { .. }), "{e}");

    // Predicting on a matrix with a different number of features.
    let (dtrain, _) = matrix(16, 200, 0.2, 0.0)?;
    let booster = train(&base_config(3), &dtrain, None, &mut quiet)?.booster;
    assert_eq!(booster.num_features()?, WIDTH);
    let narrow = Matrix::new(&[0.5; 9], 3, None)?;
    let e = booster
        .predict(&narrow)
        .err()
        .ok_or("predicted on 3 features")?;
    assert!(matches!(e, XgbError::InvalidInput(_)), "{e}");
    let wide = Matrix::new(&[0.5; 14], 7, None)?;
    let e = booster
        .predict(&wide)
        .err()
        .ok_or("predicted on 7 features")?;
    assert!(matches!(e, XgbError::InvalidInput(_)), "{e}");
    Ok(())
}

#[test]
fn bad_models_and_slices_are_errors() -> TestResult {
    assert!(matches!(
        Booster::load_json(b""),
        Err(XgbError::InvalidInput(_))
    ));
    assert!(matches!(
        Booster::load_json(b"not json"),
        Err(XgbError::InvalidInput(_))
    ));
    assert!(matches!(
        Booster::load_json(b"{\"learner\": 3"),
        Err(XgbError::Library { .. })
    ));
    assert!(matches!(
        Booster::load_json(b"{}"),
        Err(XgbError::Library { .. })
    ));

    let (dtrain, _) = matrix(17, 200, 0.2, 0.0)?;
    let booster = train(&base_config(4), &dtrain, None, &mut quiet)?.booster;
    assert_eq!(booster.slice(1, 3)?.rounds()?, 2);
    assert_eq!(booster.slice(0, 0)?.rounds()?, 4);
    for (begin, end) in [(0, 9), (-1, 2), (3, 1), (2, 2), (4, 0), (0, -1)] {
        let e = booster
            .slice(begin, end)
            .err()
            .ok_or(format!("sliced {begin}..{end}"))?;
        assert!(matches!(e, XgbError::InvalidInput(_)), "{e}");
    }
    Ok(())
}
