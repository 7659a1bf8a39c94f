//! The fraud handbook's quality metrics (its chapter 4; `shared/data/handbook/README.md`), higher
//! scores meaning more suspicious:
//! - AUC-ROC with tied scores counting one half (as scikit-learn's `roc_auc_score`);
//! - average precision, step-wise over the distinct thresholds (as `average_precision_score`);
//! - Card Precision@k, per test day with the cards detected on earlier days removed.

use std::collections::{HashMap, HashSet};

/// Area under the ROC curve; `None` without both classes.
pub fn auc_roc(scores: &[f64], frauds: &[bool]) -> Option<f64> {
    let positives = frauds.iter().filter(|&&f| f).count();
    let negatives = frauds.len() - positives;
    if positives == 0 || negatives == 0 || scores.len() != frauds.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Mann–Whitney: the positives' ranks (ties share their mean rank) over all pairs.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            j += 1;
        }
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += mean_rank * order[i..j].iter().filter(|&&k| frauds[k]).count() as f64;
        i = j;
    }
    let p = positives as f64;
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64))
}

/// Average precision: Σ (Rₙ − Rₙ₋₁) Pₙ over the distinct thresholds, highest first; `None`
/// without a positive.
pub fn average_precision(scores: &[f64], frauds: &[bool]) -> Option<f64> {
    let positives = frauds.iter().filter(|&&f| f).count();
    if positives == 0 || scores.len() != frauds.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut seen, mut ap, mut last_recall) = (0usize, 0usize, 0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            tp += usize::from(frauds[order[j]]);
            j += 1;
        }
        seen = j;
        let recall = tp as f64 / positives as f64;
        ap += (recall - last_recall) * tp as f64 / seen as f64;
        last_recall = recall;
        i = j;
    }
    debug_assert_eq!(seen, order.len());
    Some(ap)
}

/// One scored test transaction, for [`card_precision_at_k`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CardScore {
    pub day: i64,
    pub card: u64,
    pub score: f64,
    pub fraud: bool,
}

/// Card Precision@k, the handbook's way: for each test day in order, drop the cards detected on
/// earlier days, give each card its highest score of the day (fraudulent if any of its
/// transactions that day is), take the k best cards (ties by card id), and count the fraudulent
/// ones over k (always k). Those become detected. The result is the mean over the days.
pub fn card_precision_at_k(rows: &[CardScore], k: usize) -> Option<f64> {
    if k == 0 {
        return None;
    }
    let mut days: Vec<i64> = rows
        .iter()
        .map(|r| r.day)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    days.sort_unstable();
    if days.is_empty() {
        return None;
    }
    let mut detected = HashSet::new();
    let mut total = 0.0;
    for day in &days {
        let mut cards: HashMap<u64, (f64, bool)> = HashMap::new();
        for r in rows
            .iter()
            .filter(|r| r.day == *day && !detected.contains(&r.card))
        {
            let e = cards.entry(r.card).or_insert((f64::NEG_INFINITY, false));
            e.0 = e.0.max(r.score);
            e.1 |= r.fraud;
        }
        let mut ranked: Vec<(u64, f64, bool)> =
            cards.into_iter().map(|(c, (s, f))| (c, s, f)).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let caught: Vec<u64> = ranked.iter().take(k).filter(|c| c.2).map(|c| c.0).collect();
        total += caught.len() as f64 / k as f64;
        detected.extend(caught);
    }
    Some(total / days.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classic_four_points() {
        // scikit-learn's documentation example for both functions.
        let scores = [0.1, 0.4, 0.35, 0.8];
        let frauds = [false, false, true, true];
        assert_eq!(auc_roc(&scores, &frauds), Some(0.75));
        assert!(
            (average_precision(&scores, &frauds).unwrap() - 0.833_333_333_333_333_3).abs() < 1e-15
        );
    }

    #[test]
    fn ties_count_one_half() {
        assert_eq!(auc_roc(&[0.5, 0.5], &[false, true]), Some(0.5));
        assert_eq!(average_precision(&[0.5, 0.5], &[false, true]), Some(0.5));
        assert_eq!(auc_roc(&[0.2, 0.9], &[true, true]), None);
        assert_eq!(average_precision(&[0.2], &[false]), None);
    }

    #[test]
    fn card_precision_removes_cards_detected_on_earlier_days() {
        let r = |day, card, score, fraud| CardScore {
            day,
            card,
            score,
            fraud,
        };
        let rows = [
            // Day 0: card 1 (fraud, 0.9) and card 2 (genuine, 0.8); k = 1 catches card 1.
            r(0, 1, 0.9, true),
            r(0, 1, 0.1, false),
            r(0, 2, 0.8, false),
            // Day 1: card 1 is already detected; card 3 (fraud, 0.5) beats card 2 (0.4).
            r(1, 1, 0.99, true),
            r(1, 2, 0.4, false),
            r(1, 3, 0.5, true),
            // Day 2: only genuine cards left on top.
            r(2, 2, 0.7, false),
            r(2, 3, 0.6, true),
        ];
        assert_eq!(card_precision_at_k(&rows, 1), Some((1.0 + 1.0 + 0.0) / 3.0));
        // With k = 100 the precision divides by 100 even with fewer cards.
        assert_eq!(card_precision_at_k(&rows[..3], 100), Some(0.01));
        assert_eq!(card_precision_at_k(&[], 100), None);
    }
}
