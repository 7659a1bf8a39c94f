//! Exact null distribution of the two-sided two-sample KS statistic by lattice-path counting.
//!
//! Under H₀ the merged order of the two samples is a uniformly random monotone lattice path from
//! (0, 0) to (m, n); D_{m,n} ≥ d exactly when the path touches one of the lines
//! |x/m − y/n| = d (Gnedenko & Korolyuk 1951; Hodges 1958, "The significance probability of the
//! Smirnov two-sample test", Ark. Mat. 3, 469–486). Both routines below return that
//! probability directly (not 1 − it), so small p-values keep their relative precision.

/// P(D_{n,n} ≥ h/n) for equal sizes, by the reflection principle:
/// 2 Σ_{k≥1} (−1)^{k−1} C(2n, n−kh) / C(2n, n). Consecutive terms have the ratio
/// r_k = Π_{j<h} (n−(k−1)h−j) / (n+(k−1)h+j+1), so the alternating sum is evaluated from the
/// innermost term outwards as r₁(1 − r₂(1 − r₃(1 − …))), which never subtracts nearly equal
/// numbers. Cost: O(n).
///
/// Each factor is applied as (numerator · r) / denominator, the order scipy uses: for p-values
/// within an ulp of 1 the sum can round above 1, scipy then falls back to the asymptotic
/// p-value, and using the same rounding keeps our `exact` flag in step with it.
pub(crate) fn prob_outside_square(n: u64, h: u64) -> f64 {
    if h == 0 {
        return 1.0;
    }
    let mut acc = 0.0;
    // k counts the reflections already made, from the innermost term out.
    for k in (0..=n / h).rev() {
        // Signed: for the outermost k the numerator reaches 0 (that term vanishes) and would
        // go below it.
        let (n, shift) = (n as i64, (k * h) as i64);
        let mut r = 1.0;
        for j in 0..h as i64 {
            r = (n - shift - j) as f64 * r / (n + shift + j + 1) as f64;
        }
        acc = r * (1.0 - acc);
    }
    2.0 * acc
}

/// P(D_{m,n} ≥ h / lcm(m, n)) for unequal sizes, g = gcd(m, n).
///
/// Let E(i, j) be the share of the lattice paths from (0, 0) to (i, j) that have already left
/// the open band |n·i − m·j| < h·g. Outside the band E = 1; inside,
/// E(i, j) = (i·E(i−1, j) + j·E(i, j−1)) / (i + j), because i/(i+j) of the paths into (i, j)
/// arrive from the left. That recursion on the *exit* share, rather than Hodges' count of
/// staying paths, is Viehmann (2021), "Numerically more stable computation of the p-values for
/// the two-sample Kolmogorov-Smirnov test", arXiv:2102.08037: every value is a convex
/// combination, so nothing overflows or cancels. One column is kept; the band only moves up as
/// i grows. Cost: O(m · band width) ≤ O(m·n).
pub(crate) fn prob_outside_band(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (mg, ng) = ((m / g) as i64, (n / g) as i64);
    let h = h as i64;
    let n_us = n as usize;
    // In column i the band is minj(i) ≤ j < maxj(i) with
    // minj = ⌊(ng·i − h)/mg⌋ + 1 and maxj = ⌈(ng·i + h)/mg⌉, clamped to 0..=n.
    let band = |i: i64| -> (usize, usize) {
        let lo = (ng * i - h).div_euclid(mg) + 1;
        let hi = -((-(ng * i + h)).div_euclid(mg));
        let lo = lo.clamp(0, n as i64) as usize;
        let hi = hi.clamp(0, n as i64 + 1) as usize;
        (lo, hi)
    };
    let mut col = vec![1.0f64; n_us + 1];
    let (mut lo, hi0) = band(0);
    for v in col.iter_mut().take(hi0).skip(lo) {
        *v = 0.0;
    }
    for i in 1..=(m as i64) {
        let (new_lo, new_hi) = band(i);
        if new_hi <= new_lo {
            return 1.0;
        }
        // Rows that dropped below the band have been left by every path through them.
        for v in col.iter_mut().take(new_lo.min(n_us + 1)).skip(lo) {
            *v = 1.0;
        }
        let fi = i as f64;
        // Row new_lo − 1 (if any) is outside the band, so its value in this column is 1.
        let mut below = if new_lo == 0 { 0.0 } else { 1.0 };
        for (j, v) in col.iter_mut().enumerate().take(new_hi).skip(new_lo) {
            let fj = j as f64;
            below = (fi * *v + fj * below) / (fi + fj);
            *v = below;
        }
        lo = new_lo;
    }
    col[n_us]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over all C(m+n, n) interleavings, for tiny sizes.
    fn brute(m: u64, n: u64, num: i64) -> f64 {
        // num = D·m·n: count paths whose max |n·x − m·y| ≥ num.
        let total = m + n;
        let mut hit = 0u64;
        let mut all = 0u64;
        for mask in 0u64..(1 << total) {
            if mask.count_ones() as u64 != n {
                continue;
            }
            all += 1;
            let (mut x, mut y, mut best) = (0i64, 0i64, 0i64);
            for bit in 0..total {
                if mask >> bit & 1 == 1 {
                    y += 1;
                } else {
                    x += 1;
                }
                best = best.max((n as i64 * x - m as i64 * y).abs());
            }
            if best >= num {
                hit += 1;
            }
        }
        hit as f64 / all as f64
    }

    #[test]
    fn square_matches_brute_force() {
        for n in 1..=6u64 {
            for h in 1..=n {
                let exact = brute(n, n, (h * n) as i64);
                let got = prob_outside_square(n, h);
                assert!((exact - got).abs() < 1e-12, "n={n} h={h}: {exact} vs {got}");
            }
        }
    }

    #[test]
    fn band_matches_brute_force() {
        for (m, n) in [(3u64, 2u64), (5, 3), (6, 4), (7, 5), (8, 3), (4, 6)] {
            let g = gcd(m, n);
            let lcm = m / g * n;
            for h in 1..=lcm {
                // D = h/lcm ⇔ |n x − m y| = D·m·n = h·g.
                let exact = brute(m, n, (h * g) as i64);
                let got = prob_outside_band(m, n, g, h);
                assert!(
                    (exact - got).abs() < 1e-12,
                    "m={m} n={n} h={h}: {exact} vs {got}"
                );
            }
        }
    }

    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
}
