//! The handbook's metrics against brute-force definitions.

use fraudwatch_models::metrics::auc_roc;
use proptest::prelude::*;

proptest! {
    /// AUC-ROC equals the share of (fraud, genuine) pairs ranked right, ties counting one half.
    #[test]
    fn auc_is_the_pairwise_probability(rows in proptest::collection::vec((0u8..20, any::<bool>()), 2..120)) {
        let scores: Vec<f64> = rows.iter().map(|r| f64::from(r.0) / 4.0).collect();
        let frauds: Vec<bool> = rows.iter().map(|r| r.1).collect();
        let (mut good, mut pairs) = (0.0, 0.0);
        for (i, &fi) in frauds.iter().enumerate() {
            for (j, &fj) in frauds.iter().enumerate() {
                if fi && !fj {
                    pairs += 1.0;
                    good += if scores[i] > scores[j] { 1.0 } else if scores[i] == scores[j] { 0.5 } else { 0.0 };
                }
            }
        }
        match auc_roc(&scores, &frauds) {
            None => prop_assert_eq!(pairs, 0.0),
            Some(auc) => prop_assert!((auc - good / pairs).abs() < 1e-12),
        }
    }
}
