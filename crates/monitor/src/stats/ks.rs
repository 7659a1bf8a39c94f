//! Two-sample Kolmogorov–Smirnov test, two-sided, with scipy's `method="auto"` choice.

use super::kolmogorov::kstwo_sf;
use super::ks_exact::{prob_outside_band, prob_outside_square};
use serde::Serialize;

/// Above this sample size scipy's "auto" stops trying the exact distribution.
pub const KS_MAX_EXACT_N: usize = 10_000;

/// Result of [`ks_2samp`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ks {
    /// D = sup |F_a − F_b| in [0, 1]; NaN when a side is empty.
    pub statistic: f64,
    /// Two-sided p-value in [0, 1]; NaN when a side is empty.
    pub p_value: f64,
    /// Whether `p_value` is the exact null distribution (else the asymptotic one).
    pub exact: bool,
}

impl Ks {
    const NO_VERDICT: Ks = Ks {
        statistic: f64::NAN,
        p_value: f64::NAN,
        exact: false,
    };
}

/// Two-sample KS test like `scipy.stats.ks_2samp(a, b)` (two-sided, `method="auto"`).
///
/// Inputs must be sorted ascending and NaN-free (see [`super::clean_sorted`]); the statistic is
/// found in one merge pass, O(n₁ + n₂). The p-value is exact when max(n₁, n₂) ≤ 10 000 (as
/// scipy: path counting, see `ks_exact`), and otherwise — or if the exact value came out
/// outside [0, 1] — `kstwo.sf(D, round(n₁n₂/(n₁+n₂)))` (rounding half to even, as numpy).
/// In the exact case the statistic is reported as h / lcm(n₁, n₂) with h an integer, as scipy.
///
/// An empty side gives NaN statistic and p-value: no verdict.
pub fn ks_2samp(a_sorted: &[f64], b_sorted: &[f64]) -> Ks {
    let (n1, n2) = (a_sorted.len(), b_sorted.len());
    if n1 == 0 || n2 == 0 {
        return Ks::NO_VERDICT;
    }
    let Extremes { scaled, at: (i, j) } = max_ecdf_gap(a_sorted, b_sorted);
    let (n1u, n2u) = (n1 as u64, n2 as u64);
    let g = gcd(n1u, n2u);
    if n1.max(n2) <= KS_MAX_EXACT_N {
        // scaled = |i·n₂ − j·n₁| = D·n₁n₂, so h = D·lcm = scaled / g exactly.
        let lcm = n1u / g * n2u;
        let h = (scaled / g as u128) as u64;
        let statistic = h as f64 / lcm as f64;
        let p = if h == 0 {
            1.0
        } else if n1 == n2 {
            prob_outside_square(n1u, h)
        } else {
            prob_outside_band(n1u, n2u, g, h)
        };
        if (0.0..=1.0).contains(&p) {
            return Ks {
                statistic,
                p_value: p,
                exact: true,
            };
        }
    }
    // scipy keeps the floating difference of the two ECDFs as the statistic here.
    let statistic = (i as f64 / n1 as f64 - j as f64 / n2 as f64).abs();
    let (big, small) = (n1.max(n2) as f64, n1.min(n2) as f64);
    let en = (big * small / (big + small)).round_ties_even();
    Ks {
        statistic,
        p_value: kstwo_sf(statistic, en).clamp(0.0, 1.0),
        exact: false,
    }
}

struct Extremes {
    /// max over evaluation points of |i·n₂ − j·n₁|, i.e. D·n₁·n₂ as an exact integer.
    scaled: u128,
    /// ECDF counts (i, j) where that maximum is reached.
    at: (usize, usize),
}

/// Walk the merged sorted samples; after each distinct value v, i = #{a ≤ v}, j = #{b ≤ v}.
fn max_ecdf_gap(a: &[f64], b: &[f64]) -> Extremes {
    let (n1, n2) = (a.len() as i128, b.len() as i128);
    let (mut i, mut j) = (0usize, 0usize);
    let mut best = Extremes {
        scaled: 0,
        at: (0, 0),
    };
    while i < a.len() || j < b.len() {
        // Take the smaller head and always consume it, so the walk ends even on NaN input.
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x <= y => {
                i += 1;
                x
            }
            (Some(_), Some(&y)) | (None, Some(&y)) => {
                j += 1;
                y
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (None, None) => break,
        };
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        let gap = (i as i128 * n2 - j as i128 * n1).unsigned_abs();
        if gap > best.scaled {
            best = Extremes {
                scaled: gap,
                at: (i, j),
            };
        }
    }
    best
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_side_is_no_verdict() {
        for ks in [
            ks_2samp(&[], &[1.0]),
            ks_2samp(&[1.0], &[]),
            ks_2samp(&[], &[]),
        ] {
            assert!(ks.statistic.is_nan() && ks.p_value.is_nan() && !ks.exact);
        }
    }

    #[test]
    fn identical_and_constant_samples() {
        let a = [1.0, 2.0, 3.0];
        assert_eq!(
            ks_2samp(&a, &a),
            Ks {
                statistic: 0.0,
                p_value: 1.0,
                exact: true
            }
        );
        let c = ks_2samp(&[5.0; 4], &[5.0; 7]);
        assert_eq!((c.statistic, c.p_value), (0.0, 1.0));
    }

    #[test]
    fn single_values() {
        // scipy: ks_2samp([1], [2]) = (1.0, 1.0).
        let ks = ks_2samp(&[1.0], &[2.0]);
        assert_eq!((ks.statistic, ks.p_value, ks.exact), (1.0, 1.0, true));
    }

    #[test]
    fn disjoint_samples_equal_n() {
        // P(D = 1) for n = m = 5 is 2 / C(10, 5).
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [6.0, 7.0, 8.0, 9.0, 10.0];
        let ks = ks_2samp(&a, &b);
        assert_eq!(ks.statistic, 1.0);
        assert!((ks.p_value - 2.0 / 252.0).abs() < 1e-15);
    }

    #[test]
    fn nan_input_terminates() {
        let ks = ks_2samp(&[f64::NAN, 1.0], &[f64::NAN]);
        assert!((0.0..=1.0).contains(&ks.statistic));
    }

    #[test]
    fn large_samples_are_fast_and_asymptotic() {
        let n = 200_000;
        let a: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
        let b: Vec<f64> = (0..n)
            .map(|i| (i as f64 + 0.5) / n as f64 * 1.002)
            .collect();
        let start = std::time::Instant::now();
        let ks = ks_2samp(&a, &b);
        assert!(!ks.exact);
        assert!(ks.statistic > 0.0 && ks.statistic < 0.01);
        assert!((0.0..=1.0).contains(&ks.p_value));
        assert!(start.elapsed().as_secs_f64() < 5.0, "{:?}", start.elapsed());
    }

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    proptest! {
        #[test]
        fn statistic_symmetric_and_in_range(
            a in prop::collection::vec(-5i32..5, 1..40),
            b in prop::collection::vec(-5i32..5, 1..40),
        ) {
            let a = sorted(a.into_iter().map(f64::from).collect());
            let b = sorted(b.into_iter().map(f64::from).collect());
            let ab = ks_2samp(&a, &b);
            let ba = ks_2samp(&b, &a);
            prop_assert_eq!(ab.statistic, ba.statistic);
            prop_assert!((ab.p_value - ba.p_value).abs() < 1e-12);
            prop_assert!((0.0..=1.0).contains(&ab.statistic));
            prop_assert!((0.0..=1.0).contains(&ab.p_value));
        }
    }
}
