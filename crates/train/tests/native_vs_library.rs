//! The native evaluator of XGBoost's JSON model gives XGBoost's own predictions: models trained
//! by the library, scored by both on held-out rows (missing values included), max |diff| ≤ 1e-6.
#![allow(clippy::unwrap_used)]

use fraudwatch_models::GradientBoosted;
use fraudwatch_xgboost::{Matrix, TrainConfig, train};

const WIDTH: usize = 8;

/// SplitMix64: a small seeded generator for test data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rows with a rare nonlinear label; `missing` of the values are NaN.
fn data(rows: usize, seed: u64, missing: f64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng(seed);
    let mut x = Vec::with_capacity(rows * WIDTH);
    let mut y = Vec::with_capacity(rows);
    for _ in 0..rows {
        let row: Vec<f64> = (0..WIDTH).map(|j| rng.next() * (j + 1) as f64).collect();
        let signal = row[0] * row[1] - row[2] + (row[3] * 3.0).sin() + 0.5 * rng.next();
        y.push(f32::from(u8::from(signal > 1.2)));
        x.extend(row.iter().map(|&v| {
            if rng.next() < missing {
                f32::NAN
            } else {
                v as f32
            }
        }));
    }
    (x, y)
}

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
