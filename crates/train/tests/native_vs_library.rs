//! The native evaluator of XGBoost's JSON model gives XGBoost's own predictions: models trained
//! by the library, scored by both on held-out rows (missing values included), max |diff| ≤ 1e-6.
#![allow(clippy::unwrap_used)]

mod common;

use common::{WIDTH, data};
use fraudwatch_models::GradientBoosted;
use fraudwatch_xgboost::{Matrix, TrainConfig, train};

fn max_diff(params: &[(&str, &str)], rounds: u32, missing: f64) -> f64 {
    let (x, y) = data(4_000, 1, missing);
    let mut cfg = TrainConfig::new(rounds);
    for (k, v) in params {
        cfg = cfg.param(*k, *v);
    }
    let trained = train(
        &cfg,
        &Matrix::new(&x, WIDTH, Some(&y)).unwrap(),
        None,
        &mut |_| {},
    )
    .unwrap();
    let native = GradientBoosted::from_json(&trained.booster.save_json().unwrap()).unwrap();

    let (held_out, _) = data(3_000, 2, missing);
    let library = trained
        .booster
        .predict(&Matrix::new(&held_out, WIDTH, None).unwrap())
        .unwrap();
    let rows: Vec<f64> = held_out.iter().map(|&v| f64::from(v)).collect();
    let mut batch = vec![0.0; library.len()];
    native.predict_batch(&rows, &mut batch).unwrap();
    let mut worst: f64 = 0.0;
    for (i, (&lib, &nat)) in library.iter().zip(&batch).enumerate() {
        let single = native.predict(&rows[i * WIDTH..(i + 1) * WIDTH]).unwrap();
        assert_eq!(single.to_bits(), nat.to_bits(), "row {i}: single vs batch");
        worst = worst.max((f64::from(lib) - nat).abs());
    }
    worst
}

#[test]
fn the_shipped_setting_scores_as_xgboost_does() {
    let shipped = [
        ("objective", "binary:logistic"),
        ("tree_method", "exact"),
        ("base_score", "0.5"),
        ("eta", "0.1"),
        ("max_depth", "3"),
        ("seed", "0"),
    ];
    let diff = max_diff(&shipped, 100, 0.0);
    assert!(diff <= 1e-6, "max |native − XGBoost| = {diff}");
}

#[test]
fn deep_trees_with_missing_values_score_as_xgboost_does() {
    let deep = [
        ("objective", "binary:logistic"),
        ("tree_method", "hist"),
        ("eta", "0.3"),
        ("max_depth", "8"),
        ("scale_pos_weight", "5"),
        ("seed", "3"),
    ];
    let diff = max_diff(&deep, 60, 0.1);
    assert!(diff <= 1e-6, "max |native − XGBoost| = {diff}");
}

#[test]
fn the_handbook_baseline_setting_scores_as_xgboost_does() {
    let baseline = [
        ("objective", "binary:logistic"),
        ("tree_method", "exact"),
        ("base_score", "0.5"),
        ("eta", "0.3"),
        ("max_depth", "6"),
        ("seed", "0"),
    ];
    let diff = max_diff(&baseline, 100, 0.02);
    assert!(diff <= 1e-6, "max |native − XGBoost| = {diff}");
}
