//! Jensen–Shannon distance.

/// Jensen–Shannon *distance* (the square root of the divergence), natural log, like
/// `scipy.spatial.distance.jensenshannon(p, q)`: both vectors are first normalised to sum 1,
/// m = (p + q)/2, and JS = √((KL(p‖m) + KL(q‖m)) / 2), in [0, √ln 2].
///
/// Counts or shares both work. Zeros are fine (0·ln 0 = 0), no filling needed, which is also
/// what Evidently does. Empty, unequal-length or all-zero input gives NaN (no verdict); a
/// negative entry gives +∞, as scipy's `rel_entr`. A rounding-level negative divergence is
/// clamped to 0 before the square root.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    if p.is_empty() || p.len() != q.len() {
        return f64::NAN;
    }
    let (sp, sq): (f64, f64) = (p.iter().sum(), q.iter().sum());
    let (mut left, mut right) = (0.0, 0.0);
    for (&pi, &qi) in p.iter().zip(q) {
        let (pi, qi) = (pi / sp, qi / sq);
        let mi = (pi + qi) / 2.0;
        left += rel_entr(pi, mi);
        right += rel_entr(qi, mi);
    }
    let js = left + right;
    if js.is_nan() {
        return f64::NAN;
    }
    (js / 2.0).max(0.0).sqrt()
}

/// scipy.special.rel_entr: x·ln(x/y) for x, y > 0; 0 for x = 0 ≤ y; +∞ otherwise.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn extremes() {
        assert_eq!(jensen_shannon(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        let disjoint = jensen_shannon(&[1.0, 0.0], &[0.0, 1.0]);
        assert!((disjoint - 2f64.ln().sqrt()).abs() < 1e-15);
        // Counts are normalised first.
        assert!((jensen_shannon(&[2.0, 2.0], &[1.0, 1.0])).abs() < 1e-15);
        assert!(jensen_shannon(&[], &[]).is_nan());
        assert!(jensen_shannon(&[0.0, 0.0], &[1.0, 0.0]).is_nan());
        assert!(jensen_shannon(&[1.0], &[1.0, 2.0]).is_nan());
    }

    proptest! {
        #[test]
        fn bounded_and_symmetric(
            p in prop::collection::vec(0u32..50, 1..12),
            q in prop::collection::vec(0u32..50, 12),
        ) {
            let p: Vec<f64> = p.iter().map(|&x| f64::from(x) + 0.5).collect();
            let q: Vec<f64> = q[..p.len()].iter().map(|&x| f64::from(x)).collect();
            prop_assume!(q.iter().sum::<f64>() > 0.0);
            let d = jensen_shannon(&p, &q);
            prop_assert!((0.0..=2f64.ln().sqrt() + 1e-12).contains(&d));
            prop_assert!((d - jensen_shannon(&q, &p)).abs() < 1e-12);
        }
    }
}
