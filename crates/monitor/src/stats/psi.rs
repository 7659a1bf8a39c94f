//! Population Stability Index.

use super::fill_zeroes;

/// PSI = Σ (rᵢ − cᵢ)·ln(rᵢ / cᵢ) over bins or categories, Evidently's formula (reference first),
/// after Evidently's zero filling of each side ([`fill_zeroes`]).
///
/// The filling is applied here, on copies, because PSI is undefined with a zero share and
/// Evidently always fills before it; it is idempotent, so shares that were already filled are
/// unchanged. Empty or unequal-length input, or a side with no non-zero share, gives NaN
/// (no verdict).
pub fn psi(reference_shares: &[f64], current_shares: &[f64]) -> f64 {
    if reference_shares.is_empty() || reference_shares.len() != current_shares.len() {
        return f64::NAN;
    }
    let (mut r, mut c) = (reference_shares.to_vec(), current_shares.to_vec());
    fill_zeroes(&mut r);
    fill_zeroes(&mut c);
    if r.iter().chain(&c).any(|&s| s == 0.0) {
        // Only an all-zero side survives filling: Evidently raises there.
        return f64::NAN;
    }
    r.iter()
        .zip(&c)
        .map(|(&r, &c)| (r - c) * (r / c).ln())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_value_and_edges() {
        let r = [0.25, 0.25, 0.5];
        let c = [0.5, 0.25, 0.25];
        let expected = -0.25 * (0.5f64).ln() + 0.25 * 2f64.ln();
        assert!((psi(&r, &c) - expected).abs() < 1e-15);
        assert_eq!(psi(&r, &r), 0.0);
        assert!(psi(&[], &[]).is_nan());
        assert!(psi(&[1.0], &[0.5, 0.5]).is_nan());
    }

    #[test]
    fn missing_reference_category_is_filled() {
        let (r, c) = ([0.6, 0.4, 0.0], [0.5, 0.3, 0.2]);
        let v = psi(&r, &c);
        assert!(v.is_finite() && v > 0.0);
        let (mut rf, mut cf) = (r, c);
        fill_zeroes(&mut rf);
        fill_zeroes(&mut cf);
        assert_eq!(psi(&rf, &cf), v);
        assert!(psi(&[0.0, 0.0], &[0.5, 0.5]).is_nan());
    }

    proptest! {
        #[test]
        fn non_negative_and_symmetric(
            a in prop::collection::vec(1u32..100, 2..10),
            seed in prop::collection::vec(1u32..100, 10),
        ) {
            let b: Vec<u32> = a.iter().zip(&seed).map(|(x, s)| x + s).collect();
            let ta: f64 = a.iter().map(|&x| f64::from(x)).sum();
            let tb: f64 = b.iter().map(|&x| f64::from(x)).sum();
            let r: Vec<f64> = a.iter().map(|&x| f64::from(x) / ta).collect();
            let c: Vec<f64> = b.iter().map(|&x| f64::from(x) / tb).collect();
            let v = psi(&r, &c);
            prop_assert!(v >= -1e-15);
            prop_assert!((v - psi(&c, &r)).abs() < 1e-12);
        }
    }
}
