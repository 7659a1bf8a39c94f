//! The champion scores feature vectors as the bundle's scorer scores rows, whatever order the
//! vector lists its features in, and rejects a vector it cannot score without losing the others.
#![allow(clippy::unwrap_used)]

mod common;

use common::{NAMES, bundle, vector};
use fraudwatch_core::{Decision, FeatureVector, Id, time};
use fraudwatch_models::{Risk, Scorer};
use fraudwatch_scorer::{Champion, Policy, Rejected};

#[test]
fn vectors_score_as_the_bundle_scores_rows() {
    let (data, bundle) = bundle();
    let scorer = Scorer::new(&bundle).unwrap();
    let mut champion = Champion::new(&bundle).unwrap();
    let policy = *champion.policy();
    let now = time::now();
    let picks: Vec<usize> = (0..data.len()).step_by(7).collect();
    let vectors: Vec<FeatureVector> = picks
        .iter()
        .map(|&i| {
            let row = data.row(i);
            let mut pairs: Vec<(&str, f64)> =
                NAMES.iter().copied().zip(row.iter().copied()).collect();
            // Every other vector lists its features in another order.
            if i % 2 == 0 {
                pairs.reverse();
            }
            vector(i as u64, &pairs)
        })
        .collect();
    let scores = champion.score(&vectors, now).unwrap();
    let mut decisions = std::collections::BTreeMap::new();
    for (&i, s) in picks.iter().zip(&scores) {
        let s = s.as_ref().unwrap();
        let want = scorer.score(data.row(i)).unwrap();
        assert_eq!(s.risk, want.risk, "row {i}");
        assert_eq!(s.iforest_score, want.anomaly, "row {i}");
        assert_eq!(s.xgb_probability, want.risk);
        assert_eq!(s.decision, policy.decide(&want));
        assert_eq!(s.model_version, bundle.version);
        assert_eq!(s.transaction_id, Id::from(i as u64));
        assert_eq!(s.scored_at, now);
        *decisions.entry(s.decision).or_insert(0) += 1;
        // Alerts say why: the inputs that pushed the risk up, with their values; allows do not.
        if s.decision.opens_case() {
            assert!((1..=3).contains(&s.reasons.len()), "{s:?}");
            for r in &s.reasons {
                let at = NAMES.iter().position(|n| *n == r.feature).unwrap();
                assert_eq!(r.value, data.row(i)[at]);
                assert!(r.contribution > 0.0, "{r:?}");
            }
            assert!(
                s.reasons
                    .windows(2)
                    .all(|p| p[0].contribution >= p[1].contribution)
            );
        } else {
            assert!(s.reasons.is_empty());
        }
    }
    // The bundle's thresholds flag a few percent, as its policy asked.
    assert!(decisions.get(&Decision::Allow).copied().unwrap_or(0) > picks.len() / 2);
    assert!(
        decisions.get(&Decision::Review).copied().unwrap_or(0) > 0,
        "{decisions:?}"
    );
    assert!(
        decisions.get(&Decision::Block).copied().unwrap_or(0) > 0,
        "{decisions:?}"
    );
}

#[test]
fn a_vector_it_cannot_score_is_rejected_alone() {
    let (_, bundle) = bundle();
    let mut champion = Champion::new(&bundle).unwrap();
    let good = vector(1, &[("amount", 190.0), ("ratio", 3.0), ("noise", 0.5)]);
    let missing = vector(2, &[("amount", 190.0), ("noise", 0.5)]);
    let nan = vector(3, &[("amount", f64::NAN), ("ratio", 3.0), ("noise", 0.5)]);
    let extra = vector(
        4,
        &[
            ("noise", 0.5),
            ("zzz", 1.0),
            ("ratio", 3.0),
            ("amount", 190.0),
        ],
    );
    let out = champion
        .score(&[good.clone(), missing, nan, extra], time::now())
        .unwrap();
    let first = out[0].as_ref().unwrap();
    match &out[1] {
        Err(e @ Rejected::Missing { feature, .. }) => {
            assert_eq!(feature, "ratio");
            assert!(e.to_string().contains("\"ratio\"") && e.to_string().contains("transaction 2"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&out[2], Err(Rejected::NotFinite { feature, .. }) if feature == "amount"));
    // Extra features are ignored; the same inputs give the same risk.
    assert_eq!(out[3].as_ref().unwrap().risk, first.risk);
    // Scoring the good one alone gives the same: rejected neighbours change nothing.
    let alone = champion.score(&[good], time::now()).unwrap();
    assert_eq!(alone[0].as_ref().unwrap().risk, first.risk);
}

#[test]
fn a_policy_override_changes_only_decisions() {
    let (_, bundle) = bundle();
    let strict = Policy {
        review: 0.0,
        block: 2.0,
        anomaly_review: None,
    };
    let mut champion = Champion::new(&bundle).unwrap().with_policy(strict);
    let v = vector(9, &[("amount", 10.0), ("ratio", 0.5), ("noise", 0.5)]);
    let s = champion
        .score(&[v], time::now())
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(s.decision, Decision::Review);
    assert_eq!(
        strict.decide(&Risk {
            risk: s.risk,
            anomaly: 0.0
        }),
        Decision::Review
    );
}
