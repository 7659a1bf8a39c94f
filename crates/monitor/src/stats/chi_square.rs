//! Evidently's tests for categorical columns: chi-square goodness of fit (> 2 categories) and
//! the two-proportion Z-test (binary columns).

use super::special::{chi2_sf, normal_two_sided_sf};
use serde::Serialize;

/// Result of [`chi_square`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChiSquare {
    /// Σ (observed − expected)² / expected; +∞ when a category is absent from the reference but
    /// present now (expected 0); NaN when there is no verdict.
    pub statistic: f64,
    /// P(χ²_dof ≥ statistic); NaN when dof = 0 or there is no verdict.
    pub p_value: f64,
    /// Categories seen on either side, minus one.
    pub dof: usize,
}

/// Chi-square goodness of fit as Evidently's `chisquare` stattest computes it, with
/// `scipy.stats.chisquare`: observed = current counts, expected = reference count × (current
/// total / reference total), dof = k − 1, p = χ²_{k−1} survival function.
///
/// Inputs are counts per category, same order on both sides. A category with 0 on both sides is
/// skipped (Evidently's categories are those seen in either sample). Edge cases follow scipy:
/// a category missing from the reference (expected 0, observed > 0) gives statistic +∞ and
/// p = 0; a single category gives dof 0 and p NaN. Empty input, unequal lengths, a zero total
/// or a negative/NaN count give NaN statistic and p-value (no verdict).
pub fn chi_square(reference_counts: &[f64], current_counts: &[f64]) -> ChiSquare {
    let no_verdict = |dof| ChiSquare {
        statistic: f64::NAN,
        p_value: f64::NAN,
        dof,
    };
    if reference_counts.len() != current_counts.len()
        || reference_counts
            .iter()
            .chain(current_counts)
            .any(|&c| c.is_nan() || c < 0.0)
    {
        return no_verdict(0);
    }
    let seen: Vec<(f64, f64)> = reference_counts
        .iter()
        .zip(current_counts)
        .map(|(&r, &c)| (r, c))
        .filter(|&(r, c)| r > 0.0 || c > 0.0)
        .collect();
    let dof = seen.len().saturating_sub(1);
    let n_ref: f64 = seen.iter().map(|s| s.0).sum();
    let n_cur: f64 = seen.iter().map(|s| s.1).sum();
    if seen.is_empty() || n_ref <= 0.0 || n_cur <= 0.0 {
        return no_verdict(dof);
    }
    let k_norm = n_cur / n_ref;
    let statistic: f64 = seen
        .iter()
        .map(|&(r, c)| {
            let expected = r * k_norm;
            (c - expected) * (c - expected) / expected
        })
        .sum();
    ChiSquare {
        statistic,
        p_value: chi2_sf(statistic, dof as f64),
        dof,
    }
}

/// Evidently's `z` stattest: the two-proportion Z-test for a binary column (pooled variance),
/// two-sided. `*_true` counts one of the two values ("true": Evidently codes the smaller of the
/// two sorted values as 0, the other as 1; the p-value does not depend on that choice).
///
/// z = (p₁ − p₂) / √(P(1−P)(1/n₁ + 1/n₂)), P = (p₁n₁ + p₂n₂)/(n₁ + n₂), p = 2(1 − Φ(|z|)),
/// computed as erfc so tiny p-values stay exact. Returns (z, p). When both samples hold one and
/// the same value (P = 0 or 1) Evidently reports p = 1 without a z; we return (0, 1). A size
/// ≤ 0, a count outside [0, n] or NaN gives (NaN, NaN): no verdict.
pub fn proportion_z_test(
    reference_true: f64,
    reference_n: f64,
    current_true: f64,
    current_n: f64,
) -> (f64, f64) {
    let valid = |t: f64, n: f64| n > 0.0 && (0.0..=n).contains(&t);
    if !valid(reference_true, reference_n) || !valid(current_true, current_n) {
        return (f64::NAN, f64::NAN);
    }
    let (n1, n2) = (reference_n, current_n);
    let (p1, p2) = (reference_true / n1, current_true / n2);
    let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    if pooled <= 0.0 || pooled >= 1.0 {
        return (0.0, 1.0);
    }
    let z = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    (z, normal_two_sided_sf(z))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_proportions_give_zero_statistic() {
        let r = chi_square(&[10.0, 20.0, 30.0], &[20.0, 40.0, 60.0]);
        assert_eq!(r.statistic, 0.0);
        assert_eq!(r.p_value, 1.0);
        assert_eq!(r.dof, 2);
    }

    #[test]
    fn category_missing_from_reference() {
        let r = chi_square(&[5.0, 5.0, 0.0], &[3.0, 5.0, 2.0]);
        assert_eq!(r.statistic, f64::INFINITY);
        assert_eq!(r.p_value, 0.0);
        assert_eq!(r.dof, 2);
    }

    #[test]
    fn edge_cases() {
        let one = chi_square(&[4.0], &[7.0]);
        assert_eq!((one.statistic, one.dof), (0.0, 0));
        assert!(one.p_value.is_nan());
        let skip = chi_square(&[4.0, 0.0, 6.0], &[5.0, 0.0, 5.0]);
        assert_eq!(skip.dof, 1);
        assert!(chi_square(&[], &[]).statistic.is_nan());
        assert!(chi_square(&[1.0, 2.0], &[1.0]).p_value.is_nan());
        assert!(chi_square(&[0.0, 0.0], &[1.0, 2.0]).p_value.is_nan());
        assert!(chi_square(&[1.0, -2.0], &[1.0, 2.0]).p_value.is_nan());
    }

    #[test]
    fn known_chi_square() {
        // Observed [30, 10] against expected [20, 20]: χ² = 10, dof 1, p = erfc(√5).
        let r = chi_square(&[50.0, 50.0], &[30.0, 10.0]);
        assert!((r.statistic - 10.0).abs() < 1e-12);
        assert!((r.p_value - 0.001_565_402_258_002_549_4).abs() < 1e-15);
    }

    #[test]
    fn z_test_cases() {
        let (z, p) = proportion_z_test(30.0, 100.0, 50.0, 100.0);
        let pooled: f64 = 0.4;
        let expected = -0.2 / (pooled * 0.6 * 0.02).sqrt();
        assert!((z - expected).abs() < 1e-12);
        assert!((p - normal_two_sided_sf(expected)).abs() < 1e-15);
        assert_eq!(proportion_z_test(0.0, 10.0, 0.0, 5.0), (0.0, 1.0));
        assert_eq!(proportion_z_test(10.0, 10.0, 5.0, 5.0), (0.0, 1.0));
        assert!(proportion_z_test(1.0, 0.0, 1.0, 2.0).1.is_nan());
        assert!(proportion_z_test(3.0, 2.0, 1.0, 2.0).1.is_nan());
    }
}
