//! The native TreeSHAP gives XGBoost's own `pred_contribs=True`: models trained by the library,
//! explained by both on held-out rows (missing values included). XGBoost 3.4 computes the values
//! in `f32` with an 8-point quadrature and the native walk in `f64` by TreeSHAP's combinatorics,
//! so they agree up to `f32` rounding: max |diff| ≤ 1e-4, and each row's contributions add up to
//! the library's margin within 1e-4.
#![allow(clippy::unwrap_used)]

mod common;

use common::{WIDTH, data};
use fraudwatch_models::GradientBoosted;
use fraudwatch_xgboost::{Matrix, TrainConfig, train};

/// How far the native contributions are from the library's.
#[derive(Debug)]
struct Diffs {
    /// Max |native − library| over every contribution of every row (bias included).
    contribution: f64,
    /// Max |Σ native contributions − library margin| over the rows.
    sum_vs_margin: f64,
    /// Rows whose top-3 positive features differ from the library's (beyond rounding ties).
    top3_mismatches: usize,
}

fn compare(params: &[(&str, &str)], rounds: u32, missing: f64) -> Diffs {
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

    let (held_out, _) = data(2_000, 2, missing);
    let matrix = Matrix::new(&held_out, WIDTH, None).unwrap();
    let library = trained.booster.predict_contributions(&matrix).unwrap();
    let margins = trained.booster.predict_margin(&matrix).unwrap();
    assert_eq!(library.len(), margins.len() * (WIDTH + 1));

    let mut scratch = native.shap_scratch();
    let mut ours = vec![0.0; WIDTH + 1];
    let mut diffs = Diffs {
        contribution: 0.0,
        sum_vs_margin: 0.0,
        top3_mismatches: 0,
    };
    for (i, (row, theirs)) in held_out
        .chunks_exact(WIDTH)
        .zip(library.chunks_exact(WIDTH + 1))
        .enumerate()
    {
        let row: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
        native
            .contributions_with(&row, &mut ours, &mut scratch)
            .unwrap();
        for (&a, &b) in ours.iter().zip(theirs) {
            diffs.contribution = diffs.contribution.max((a - f64::from(b)).abs());
        }
        let sum: f64 = ours.iter().sum();
        diffs.sum_vs_margin = diffs.sum_vs_margin.max((sum - f64::from(margins[i])).abs());

        // The reasons: the same features as the library's largest positive contributions,
        // unless two are within rounding of each other.
        let top = native.top_reasons(&row, 3, &mut scratch).unwrap();
        let mut theirs: Vec<(usize, f32)> = theirs[..WIDTH]
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, c)| c > 0.0)
            .collect();
        theirs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        theirs.truncate(3);
        let same = top.len() == theirs.len()
            && top
                .iter()
                .zip(&theirs)
                .all(|(a, b)| a.0 == b.0 || (a.1 - f64::from(b.1)).abs() < 1e-4);
        if !same {
            diffs.top3_mismatches += 1;
        }
    }
    println!("{params:?}, {rounds} rounds, {missing} missing: {diffs:?}");
    diffs
}

fn assert_agrees(diffs: &Diffs) {
    assert!(
        diffs.contribution <= 1e-4,
        "max |native − XGBoost| = {}",
        diffs.contribution
    );
    assert!(
        diffs.sum_vs_margin <= 1e-4,
        "max |Σ native − XGBoost margin| = {}",
        diffs.sum_vs_margin
    );
    assert_eq!(diffs.top3_mismatches, 0, "rows whose top-3 reasons differ");
}

#[test]
fn the_shipped_setting_explains_as_xgboost_does() {
    let shipped = [
        ("objective", "binary:logistic"),
        ("tree_method", "exact"),
        ("base_score", "0.5"),
        ("eta", "0.1"),
        ("max_depth", "3"),
        ("seed", "0"),
    ];
    assert_agrees(&compare(&shipped, 100, 0.0));
}

#[test]
fn depth_6_hist_with_missing_values_explains_as_xgboost_does() {
    let hist = [
        ("objective", "binary:logistic"),
        ("tree_method", "hist"),
        ("eta", "0.3"),
        ("max_depth", "6"),
        ("seed", "3"),
    ];
    assert_agrees(&compare(&hist, 100, 0.1));
}

#[test]
fn deep_weighted_trees_explain_as_xgboost_does() {
    // Depth 8 (XGBoost's quadrature is exact up to 8 unique features on a path), a fitted base
    // score, and weighted positives.
    let deep = [
        ("objective", "binary:logistic"),
        ("tree_method", "hist"),
        ("eta", "0.3"),
        ("max_depth", "8"),
        ("scale_pos_weight", "5"),
        ("seed", "3"),
    ];
    assert_agrees(&compare(&deep, 60, 0.1));
}

#[test]
fn dart_explains_as_xgboost_does() {
    let dart = [
        ("objective", "binary:logistic"),
        ("booster", "dart"),
        ("rate_drop", "0.1"),
        ("tree_method", "hist"),
        ("max_depth", "4"),
        ("seed", "5"),
    ];
    assert_agrees(&compare(&dart, 40, 0.05));
}
