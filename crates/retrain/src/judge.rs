//! Judging models on a holdout: the fraud handbook's metrics, plus the recall a fraud team gets
//! at the alert rate its policy allows; and the verdict on a challenger against the champion,
//! measured on the same rows.

use serde::{Deserialize, Serialize};

use fraudwatch_models::metrics::{CardScore, auc_roc, average_precision, card_precision_at_k};
use fraudwatch_train::Dataset;

use crate::RetrainConfig;

/// The holdout rows of a data set.
#[derive(Debug, Clone, Copy)]
pub struct Holdout<'a> {
    pub data: &'a Dataset,
    pub rows: &'a [usize],
}

/// One model's numbers on a holdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub rows: usize,
    pub frauds: usize,
    pub auc_roc: Option<f64>,
    pub average_precision: Option<f64>,
    /// Card Precision@k (k = `top_k`), per day, the handbook's way.
    pub card_precision: Option<f64>,
    /// Share of the frauds among the `alert_rate` highest risks.
    pub recall_at_alert_rate: Option<f64>,
    pub alert_rate: f64,
}

/// Measures `risks` (one per holdout row, in order).
pub fn measure(holdout: Holdout<'_>, risks: &[f64], alert_rate: f64, top_k: usize) -> Metrics {
    let frauds: Vec<bool> = holdout
        .rows
        .iter()
        .map(|&i| holdout.data.fraud(i))
        .collect();
    let n_frauds = frauds.iter().filter(|f| **f).count();
    let cards: Vec<CardScore> = holdout
        .rows
        .iter()
        .zip(risks)
        .map(|(&i, &score)| CardScore {
            day: holdout.data.day(i),
            card: u64::from(holdout.data.card(i)),
            score,
            fraud: holdout.data.fraud(i),
        })
        .collect();
    let alerts = (alert_rate * risks.len() as f64).ceil() as usize;
    let recall = (n_frauds > 0 && alerts > 0).then(|| {
        let mut order: Vec<usize> = (0..risks.len()).collect();
        order.sort_by(|&a, &b| risks[b].total_cmp(&risks[a]));
        let caught = order.iter().take(alerts).filter(|&&i| frauds[i]).count();
        caught as f64 / n_frauds as f64
    });
    Metrics {
        rows: risks.len(),
        frauds: n_frauds,
        auc_roc: auc_roc(risks, &frauds),
        average_precision: average_precision(risks, &frauds),
        card_precision: card_precision_at_k(&cards, top_k),
        recall_at_alert_rate: recall,
        alert_rate,
    }
}

/// Whether the challenger may replace the champion, and why (or why not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub passed: bool,
    /// Challenger minus champion average precision.
    pub gain: Option<f64>,
    pub reasons: Vec<String>,
}

/// The challenger passes when its average precision beats the champion's by at least
/// `min_gain` and none of AUC-ROC, Card Precision@k and recall at the alert rate falls by more
/// than `max_regression`. Without a champion it passes on its own numbers.
pub fn compare(
    challenger: &Metrics,
    champion: Option<&Metrics>,
    config: &RetrainConfig,
) -> Verdict {
    let Some(champion) = champion else {
        let passed = challenger.average_precision.is_some();
        return Verdict {
            passed,
            gain: None,
            reasons: vec![if passed {
                "no champion to beat".into()
            } else {
                "the challenger has no average precision on the holdout".into()
            }],
        };
    };
    let mut reasons = Vec::new();
    let gain = match (challenger.average_precision, champion.average_precision) {
        (Some(a), Some(b)) => Some(a - b),
        _ => None,
    };
    match gain {
        Some(g) if g >= config.min_gain => reasons.push(format!(
            "average precision {:.4} against {:.4}: +{g:.4}, at least +{} asked",
            challenger.average_precision.unwrap_or_default(),
            champion.average_precision.unwrap_or_default(),
            config.min_gain
        )),
        Some(g) => reasons.push(format!(
            "not enough gain: average precision {:.4} against {:.4} ({g:+.4}; at least +{} asked)",
            challenger.average_precision.unwrap_or_default(),
            champion.average_precision.unwrap_or_default(),
            config.min_gain
        )),
        None => reasons.push("average precision missing on the holdout".into()),
    }
    let mut regressed = false;
    for (name, a, b) in [
        ("AUC-ROC", challenger.auc_roc, champion.auc_roc),
        (
            "Card Precision@k",
            challenger.card_precision,
            champion.card_precision,
        ),
        (
            "recall at the alert rate",
            challenger.recall_at_alert_rate,
            champion.recall_at_alert_rate,
        ),
    ] {
        if let (Some(a), Some(b)) = (a, b)
            && b - a > config.max_regression
        {
            regressed = true;
            reasons.push(format!(
                "{name} falls from {b:.4} to {a:.4}, more than the {} allowed",
                config.max_regression
            ));
        }
    }
    Verdict {
        passed: gain.is_some_and(|g| g >= config.min_gain) && !regressed,
        gain,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use fraudwatch_core::Id;

    use super::*;

    fn holdout() -> Dataset {
        let mut d = Dataset::new(vec!["x".into()]);
        for n in 0..1000u64 {
            let day = (n / 100) as i64;
            let id = Id::from(n);
            d.push(
                &id,
                day * 86_400_000,
                &Id::from(n % 300),
                n % 10 == 0,
                &[0.0],
            )
            .unwrap();
        }
        d
    }

    #[test]
    fn a_better_ranking_wins_and_a_worse_one_loses_with_reasons() {
        let d = holdout();
        let rows: Vec<usize> = (0..d.len()).collect();
        let h = Holdout {
            data: &d,
            rows: &rows,
        };
        // Perfect: frauds first. Noisy: half the frauds ranked low.
        let perfect: Vec<f64> = rows
            .iter()
            .map(|&i| if d.fraud(i) { 0.9 } else { 0.1 })
            .collect();
        let noisy: Vec<f64> = rows
            .iter()
            .map(|&i| match (d.fraud(i), i % 20 == 0) {
                (true, true) => 0.9,
                (true, false) => 0.05,
                _ => 0.1,
            })
            .collect();
        let config = RetrainConfig::default();
        let (good, bad) = (measure(h, &perfect, 0.1, 100), measure(h, &noisy, 0.1, 100));
        assert_eq!((good.rows, good.frauds), (1000, 100));
        assert_eq!(good.recall_at_alert_rate, Some(1.0));
        assert_eq!(good.auc_roc, Some(1.0));
        assert!(bad.recall_at_alert_rate.unwrap() < 0.6);

        let v = compare(&good, Some(&bad), &config);
        assert!(v.passed && v.gain.unwrap() > 0.3, "{v:?}");
        let v = compare(&bad, Some(&good), &config);
        assert!(!v.passed);
        assert!(v.reasons[0].starts_with("not enough gain"), "{v:?}");
        assert!(
            v.reasons.iter().any(|r| r.starts_with("AUC-ROC falls")),
            "{v:?}"
        );
        // Equal models: no gain, no promotion.
        assert!(!compare(&good, Some(&good), &config).passed);
        assert!(compare(&good, None, &config).passed);
    }
}
