//! Shared by the scorer's tests: a small trained bundle and feature vectors for it.
#![allow(dead_code, clippy::unwrap_used)]

use fraudwatch_core::{FeatureVector, Features, Id, time};
use fraudwatch_models::Bundle;
use fraudwatch_train::{Dataset, Quiet, TrainParams, fit};

pub const NAMES: [&str; 3] = ["amount", "ratio", "noise"];

/// A small labelled set where large amounts and ratios are frauds, and its trained bundle.
pub fn bundle() -> (Dataset, Bundle) {
    let mut data = Dataset::new(NAMES.map(String::from).to_vec());
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for i in 0..3_000u64 {
        let (a, r, n) = (next() * 200.0, next() * 4.0, next());
        let fraud = a > 170.0 && r > 2.0 || next() < 0.01;
        let t = 1_532_476_800_000 + i as i64 * 400_000;
        data.push(&Id::from(i), t, &Id::from(i % 300), fraud, &[a, r, n])
            .unwrap();
    }
    let params = TrainParams::from_toml(
        r#"
        feature_set = "risk"
        model = "xgboost"
        [xgboost]
        rounds = 20
        [xgboost.params]
        objective = "binary:logistic"
        max_depth = 3
        [iforest]
        trees = 20
        [policy]
        review_rate = 0.05
        block_rate = 0.01
        "#,
    )
    .unwrap();
    let rows: Vec<usize> = (0..data.len()).collect();
    let fitted = fit(&data, &rows, &params, &mut Quiet).unwrap();
    (data, fitted.bundle)
}

pub fn vector(id: u64, pairs: &[(&str, f64)]) -> FeatureVector {
    let t = time::parse("2018-07-25T10:00:00Z").unwrap();
    FeatureVector {
        transaction_id: Id::from(id),
        customer_id: Id::from(id % 300),
        timestamp: t,
        features: Features(
            pairs
                .iter()
                .map(|(n, v)| (n.to_string().into(), *v))
                .collect(),
        ),
        ingested_at: t,
    }
}
