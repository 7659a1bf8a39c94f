//! First Wasserstein (earth mover's) distance between two 1-D samples, and Evidently's normed
//! variant.

/// Evidently divides by max(std(reference), 0.001): a constant reference does not divide by 0.
pub const WASSERSTEIN_MIN_NORM: f64 = 0.001;

/// W₁ = ∫ |F_a(x) − F_b(x)| dx of the two empirical CDFs, like
/// `scipy.stats.wasserstein_distance(a, b)` without weights.
///
/// Inputs must be sorted ascending and finite. One merge pass, O(n₁ + n₂): between consecutive
/// distinct values v < v' of the union, both ECDFs are constant, so the integral is the sum of
/// |i/n₁ − j/n₂|·(v' − v). An empty side gives NaN (no verdict).
pub fn wasserstein(a_sorted: &[f64], b_sorted: &[f64]) -> f64 {
    let (n1, n2) = (a_sorted.len(), b_sorted.len());
    if n1 == 0 || n2 == 0 {
        return f64::NAN;
    }
    let (f1, f2) = (n1 as f64, n2 as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut sum = Neumaier::default();
    let mut prev: Option<f64> = None;
    while i < n1 || j < n2 {
        let v = match (a_sorted.get(i), b_sorted.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        if let Some(p) = prev {
            // ECDF values on [p, v): counts of values ≤ p, already consumed.
            let gap = (i as f64 / f1 - j as f64 / f2).abs();
            sum.add(gap * (v - p));
        }
        let (i0, j0) = (i, j);
        while i < n1 && a_sorted[i] <= v {
            i += 1;
        }
        while j < n2 && b_sorted[j] <= v {
            j += 1;
        }
        if i == i0 && j == j0 {
            // Only reachable with NaN input: skip the offending element so the walk ends.
            if i < n1 && a_sorted[i].is_nan() {
                i += 1;
            } else {
                j += 1;
            }
            continue;
        }
        prev = Some(v);
    }
    sum.total()
}

/// Evidently's normed Wasserstein distance: W₁(reference, current) / max(σ, 0.001), σ the
/// population standard deviation (ddof = 0) of the reference. NaN if a side is empty.
pub fn wasserstein_normed(reference_sorted: &[f64], current_sorted: &[f64]) -> f64 {
    let w = wasserstein(reference_sorted, current_sorted);
    if w.is_nan() {
        return f64::NAN;
    }
    w / population_std(reference_sorted).max(WASSERSTEIN_MIN_NORM)
}

/// Population standard deviation √(Σ(x − x̄)²/n), two passes as numpy's `np.std`. NaN if empty.
pub fn population_std(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let n = values.len() as f64;
    let mut s = Neumaier::default();
    values.iter().for_each(|&v| s.add(v));
    let mean = s.total() / n;
    let mut q = Neumaier::default();
    values.iter().for_each(|&v| q.add((v - mean) * (v - mean)));
    (q.total() / n).sqrt()
}

/// Compensated summation (Neumaier 1974): keeps long sums accurate to a few ulps, where numpy's
/// pairwise summation is also close to exact, so the two agree far inside 1e-9.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Neumaier {
    sum: f64,
    comp: f64,
}

impl Neumaier {
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.comp += (self.sum - t) + x;
        } else {
            self.comp += (x - t) + self.sum;
        }
        self.sum = t;
    }

    pub(crate) fn total(&self) -> f64 {
        self.sum + self.comp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shift_moves_by_the_shift() {
        let a = [0.0, 1.0, 2.0, 3.0];
        let b = [0.5, 1.5, 2.5, 3.5];
        assert!((wasserstein(&a, &b) - 0.5).abs() < 1e-15);
        assert_eq!(wasserstein(&a, &a), 0.0);
    }

    #[test]
    fn edge_cases() {
        assert!(wasserstein(&[], &[1.0]).is_nan());
        assert!(wasserstein_normed(&[1.0], &[]).is_nan());
        assert_eq!(wasserstein(&[2.0], &[5.0]), 3.0);
        // Constant reference: σ = 0, so Evidently divides by 0.001.
        assert!((wasserstein_normed(&[1.0, 1.0], &[1.5]) - 500.0).abs() < 1e-9);
        assert_eq!(population_std(&[3.0]), 0.0);
        // NaN input is outside the contract, but the walk must still end.
        let _ = wasserstein(&[f64::NAN, 1.0], &[2.0, f64::NAN]);
    }

    #[test]
    fn normed_divides_by_population_std() {
        let r = [1.0, 2.0, 3.0, 4.0];
        let c = [2.0, 3.0, 4.0, 5.0];
        let sd = (1.25f64).sqrt();
        assert!((wasserstein_normed(&r, &c) - 1.0 / sd).abs() < 1e-15);
    }

    proptest! {
        #[test]
        fn symmetric_and_non_negative(
            a in prop::collection::vec(-100i32..100, 1..30),
            b in prop::collection::vec(-100i32..100, 1..30),
        ) {
            let mut a: Vec<f64> = a.into_iter().map(f64::from).collect();
            let mut b: Vec<f64> = b.into_iter().map(f64::from).collect();
            a.sort_by(f64::total_cmp);
            b.sort_by(f64::total_cmp);
            let ab = wasserstein(&a, &b);
            prop_assert!(ab >= 0.0);
            prop_assert!((ab - wasserstein(&b, &a)).abs() <= 1e-12 * ab.max(1.0));
        }
    }
}
