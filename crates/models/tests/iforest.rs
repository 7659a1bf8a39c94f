//! Isolation Forest on data whose answer is known: a Gaussian cloud and a few far points.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use fraudwatch_models::{IsolationForest, ModelError, Params};
use proptest::prelude::*;

/// `n` rows of 3 features from a deterministic pseudo-normal cloud around 0 (sum of uniforms).
fn cloud(n: usize) -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n * 3)
        .map(|_| (0..12).map(|_| uniform()).sum::<f64>() - 6.0)
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn far_points_score_high_and_the_cloud_low() {
    let data = cloud(5000);
    let forest = IsolationForest::fit(&data, 3, &Params::default()).unwrap();
    let mut scores = vec![0.0; 5000];
    forest.score_batch(&data, &mut scores).unwrap();
    assert!(
        median(scores.clone()) < 0.5,
        "ordinary rows score below 0.5: {}",
        median(scores)
    );
    for far in [[6.0, 6.0, 6.0], [-6.0, 5.0, -7.0]] {
        let s = forest.score(&far).unwrap();
        assert!(s > 0.65, "{far:?} scores {s}");
    }
    // Far along one feature only: isolated when that feature is drawn, a third of the splits.
    let one_way = forest.score(&[-7.0, 0.0, 0.0]).unwrap();
    assert!(one_way > median(scores.clone()) + 0.05, "{one_way}");
    let near = forest.score(&[0.0, 0.0, 0.0]).unwrap();
    assert!(near < 0.45, "the centre scores {near}");
}

#[test]
fn same_seed_same_forest_whatever_the_threads() {
    let data = cloud(1000);
    let one = IsolationForest::fit(
        &data,
        3,
        &Params {
            threads: 1,
            ..Params::default()
        },
    )
    .unwrap();
    let two = IsolationForest::fit(
        &data,
        3,
        &Params {
            threads: 2,
            ..Params::default()
        },
    )
    .unwrap();
    let seven = IsolationForest::fit(
        &data,
        3,
        &Params {
            threads: 7,
            ..Params::default()
        },
    )
    .unwrap();
    assert_eq!(one, two);
    assert_eq!(one, seven);
    let other = IsolationForest::fit(
        &data,
        3,
        &Params {
            seed: 43,
            ..Params::default()
        },
    )
    .unwrap();
    assert_ne!(one, other);
    let back: IsolationForest =
        serde_json::from_str(&serde_json::to_string(&one).unwrap()).unwrap();
    assert_eq!(
        back.score(&[1.0, 2.0, 3.0]).unwrap(),
        one.score(&[1.0, 2.0, 3.0]).unwrap()
    );
}

#[test]
fn bad_input_is_refused_with_its_place() {
    let mut data = cloud(10);
    data[7] = f64::NAN;
    let err = IsolationForest::fit(&data, 3, &Params::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::NotFinite {
                row: 2,
                feature: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("feature 1 of row 2 is NaN"),
        "{err}"
    );
    assert_eq!(
        IsolationForest::fit(&cloud(1), 3, &Params::default()),
        Err(ModelError::Empty)
    );
    assert!(matches!(
        IsolationForest::fit(&cloud(10)[..29], 3, &Params::default()),
        Err(ModelError::Shape(..))
    ));
    assert_eq!(
        IsolationForest::fit(&[], 3, &Params::default()),
        Err(ModelError::Empty)
    );
    assert!(
        IsolationForest::fit(
            &cloud(10),
            3,
            &Params {
                trees: 0,
                ..Params::default()
            }
        )
        .is_err()
    );
    assert!(
        IsolationForest::fit(
            &cloud(10),
            3,
            &Params {
                sample_size: 1,
                ..Params::default()
            }
        )
        .is_err()
    );
    let forest = IsolationForest::fit(&cloud(10), 3, &Params::default()).unwrap();
    assert_eq!(
        forest.score(&[1.0]),
        Err(ModelError::Width { got: 1, want: 3 })
    );
    let mut out = vec![0.0; 2];
    assert!(forest.score_batch(&cloud(3), &mut out).is_err());
}

#[test]
fn constant_data_give_one_score_for_everyone() {
    let data = vec![1.0; 300];
    let forest = IsolationForest::fit(&data, 3, &Params::default()).unwrap();
    let a = forest.score(&[1.0, 1.0, 1.0]).unwrap();
    let b = forest.score(&[100.0, -5.0, 3.0]).unwrap();
    assert_eq!(
        a, b,
        "no split is possible, so every row ends in the root leaf"
    );
}

proptest! {
    #[test]
    fn scores_are_in_the_unit_interval(rows in proptest::collection::vec(-1e6f64..1e6, 6..300), x in proptest::collection::vec(-1e9f64..1e9, 3)) {
        let n = rows.len() / 3 * 3;
        let forest = IsolationForest::fit(&rows[..n], 3, &Params { trees: 10, ..Params::default() }).unwrap();
        let s = forest.score(&x).unwrap();
        prop_assert!(s > 0.0 && s <= 1.0, "{}", s);
    }
}
