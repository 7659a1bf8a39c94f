//! The one-sample Kolmogorov distributions that the asymptotic two-sample KS p-value uses:
//! the two-sided D_n (scipy's `kstwo`) and the one-sided D_n⁺ (scipy's `special.smirnov`).
//!
//! `kstwo_sf` follows the method choice of Simard & L'Ecuyer (2011), "Computing the Two-Sided
//! Kolmogorov-Smirnov Distribution", J. Stat. Softw. 39(11), which is also what scipy does:
//! - n·d ≤ 1 and n·d ≥ n − 1: the closed forms of Ruben & Gambino (1982);
//! - d ≥ ½, or a far tail: 2·P(D_n⁺ ≥ d), exact when d ≥ ½ (the two one-sided events are then
//!   disjoint) and otherwise short of a negligible intersection term;
//! - otherwise the CDF by Durbin's (1968) matrix in the form of Marsaglia, Tsang & Wang (2003)
//!   when the matrix is small, else the Pelz & Good (1976) expansion.
//!   Where Simard & L'Ecuyer use Pomeranz's (1974) recursion (n ≤ 140, 0.754693 < n·d² ≤ 4)
//!   we keep Durbin's matrix: it is exact there too and at most 47×47.
//!
//! P(D_n⁺ ≥ d) is Birnbaum & Tingey's (1951) sum, each term formed in logarithms.

use super::special::{LN2, ln_binomial, ln_factorial_over_power, pow2};
use std::f64::consts::PI;

/// Survival function P(D_n ≥ d) of the two-sided one-sample KS statistic, like
/// `scipy.stats.kstwo.sf(d, n)`. `n` must be a positive integer (as f64), else NaN.
pub fn kstwo_sf(d: f64, n: f64) -> f64 {
    if d.is_nan() || n.is_nan() || n < 1.0 || n.fract() != 0.0 || n.is_infinite() {
        return f64::NAN;
    }
    if d >= 1.0 {
        return 0.0;
    }
    if d <= 0.0 {
        return 1.0;
    }
    let t = n * d;
    let sf = if t <= 1.0 {
        // Ruben–Gambino: P(D_n < d) = n!/nⁿ · (2t − 1)ⁿ for ½ < t ≤ 1.
        if t <= 0.5 {
            return 1.0;
        }
        1.0 - (ln_factorial_over_power(n) + n * (2.0 * t - 1.0).ln()).exp()
    } else if t >= n - 1.0 {
        // Ruben–Gambino: P(D_n ≥ d) = 2(1 − d)ⁿ for d ≥ 1 − 1/n.
        2.0 * (n * (-d).ln_1p()).exp()
    } else if d >= 0.5 {
        2.0 * smirnov_sf(n, d)
    } else {
        let nd2 = t * d;
        if n <= 140.0 {
            if nd2 <= 4.0 {
                1.0 - durbin_cdf(n, d)
            } else {
                2.0 * smirnov_sf(n, d)
            }
        } else if nd2 >= 370.0 {
            0.0
        } else if nd2 >= 2.2 {
            2.0 * smirnov_sf(n, d)
        } else if n <= 100_000.0 && n * d.powf(1.5) <= 1.4 {
            1.0 - durbin_cdf(n, d)
        } else {
            1.0 - pelz_good_cdf(n, d)
        }
    };
    sf.clamp(0.0, 1.0)
}

/// Survival function P(D_n⁺ ≥ d) of the one-sided one-sample KS statistic, like
/// `scipy.special.smirnov(n, d)`. `n` must be a positive integer (as f64), else NaN.
pub fn smirnov_sf(n: f64, d: f64) -> f64 {
    if d.is_nan() || n.is_nan() || n < 1.0 || n.fract() != 0.0 || n.is_infinite() {
        return f64::NAN;
    }
    if d <= 0.0 {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    if n == 1.0 {
        return 1.0 - d;
    }
    if n * d <= 1.0 {
        // d ≤ 1/n: only the top term of the complementary sum remains, P(D_n⁺ < d) = d(1+d)^{n−1}.
        return (1.0 - d * ((n - 1.0) * d.ln_1p()).exp()).clamp(0.0, 1.0);
    }
    if -2.0 * n * d * d < -745.0 {
        return 0.0;
    }
    if n * d >= n - 1.0 {
        // d ≥ 1 − 1/n: only the j = 0 term, (1 − d)ⁿ.
        return (n * (-d).ln_1p()).exp();
    }
    if n > 1_000_000.0 {
        // Beyond 10⁶ terms scipy switches to the corrected asymptotic e^{−(6nd+1)²/(18n)}; so
        // do we, so that both agree on huge samples.
        let a = 6.0 * n * d + 1.0;
        return (-a * a / 18.0 / n).exp();
    }
    // Birnbaum–Tingey: P(D_n⁺ ≥ d) = d Σ_{j=0}^{⌊n(1−d)⌋} C(n,j) (1−d−j/n)^{n−j} (d+j/n)^{j−1}.
    // Every term is positive and at most 1, so no cancellation and no overflow.
    let nd = n * d;
    let last = (n - nd).floor();
    let ln_d = d.ln();
    let mut sum = 0.0;
    let mut peak = 0.0f64;
    let mut j = 0.0;
    while j <= last {
        let hi = (j + nd) / n; // d + j/n
        let ln_lo = if hi < 0.5 {
            (-hi).ln_1p()
        } else {
            (((n - j) - nd) / n).ln()
        };
        if ln_lo.is_finite() {
            let ln_term = ln_d + ln_binomial(n, j) + (n - j) * ln_lo + (j - 1.0) * hi.ln();
            let term = ln_term.exp();
            sum += term;
            peak = peak.max(term);
            // Past the mode the terms only shrink: stop once they cannot change the sum.
            if term < peak && term < sum * 1e-18 {
                break;
            }
        }
        j += 1.0;
    }
    sum.clamp(0.0, 1.0)
}

/// P(D_n < d) by Durbin's matrix: with n·d = k − h (k integer, 0 ≤ h < 1) and an m×m matrix H,
/// m = 2k − 1, the CDF is n!/nⁿ · (Hⁿ)_{k,k} (Marsaglia, Tsang & Wang 2003). Powers of two are
/// tracked separately so neither Hⁿ nor n!/nⁿ overflows.
fn durbin_cdf(n: f64, d: f64) -> f64 {
    let nd = n * d;
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut inv_fact = vec![1.0; m + 1];
    for j in 1..=m {
        inv_fact[j] = inv_fact[j - 1] / j as f64;
    }
    let mut hm = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m.min(i + 2) {
            hm[i * m + j] = inv_fact[i + 1 - j];
        }
    }
    for i in 0..m {
        hm[i * m] *= 1.0 - h.powi(i as i32 + 1);
        hm[(m - 1) * m + i] *= 1.0 - h.powi((m - i) as i32);
    }
    let corner = 1.0 - 2.0 * h.powi(m as i32) + (2.0 * h - 1.0).max(0.0).powi(m as i32);
    hm[(m - 1) * m] = corner * inv_fact[m];

    // Square-and-multiply; each matrix carries its own power-of-two exponent.
    let mut result: Option<(Vec<f64>, i64)> = None;
    let mut base = (hm, 0i64);
    let mut e = n as u64;
    while e > 0 {
        if e & 1 == 1 {
            result = Some(match result {
                None => base.clone(),
                Some((r, er)) => rescaled(mat_mul(&r, &base.0, m), er + base.1),
            });
        }
        e >>= 1;
        if e > 0 {
            base = rescaled(mat_mul(&base.0, &base.0, m), 2 * base.1);
        }
    }
    let Some((r, mut expo)) = result else {
        return f64::NAN;
    };
    let mut p = r[(k - 1) * m + (k - 1)];
    // Multiply by n!/nⁿ one factor at a time, renormalising so p stays representable.
    let mut i = 1.0;
    while i <= n {
        p = p * i / n;
        if p != 0.0 && p < pow2(-256) {
            p *= pow2(256);
            expo -= 256;
        }
        i += 1.0;
    }
    if p == 0.0 {
        return 0.0;
    }
    (p.ln() + expo as f64 * LN2).exp()
}

/// Scale a non-negative matrix down by 2²⁵⁶ whenever its largest entry passes 2²⁵⁶.
fn rescaled(mut a: Vec<f64>, mut expo: i64) -> (Vec<f64>, i64) {
    let max = a.iter().fold(0.0f64, |acc, &v| acc.max(v));
    if max > pow2(256) {
        for v in &mut a {
            *v *= pow2(-256);
        }
        expo += 256;
    }
    (a, expo)
}

fn mat_mul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut c = vec![0.0; m * m];
    for i in 0..m {
        let row = &mut c[i * m..(i + 1) * m];
        for (l, &ail) in a[i * m..(i + 1) * m].iter().enumerate() {
            if ail == 0.0 {
                continue;
            }
            for (cij, &blj) in row.iter_mut().zip(&b[l * m..(l + 1) * m]) {
                *cij += ail * blj;
            }
        }
    }
    c
}

/// P(D_n < d) by the Pelz & Good (1976) expansion K₀ + K₁/√n + K₂/n + K₃/n^{3/2} in z = d√n,
/// written with the Jacobi-theta transform so that it converges fast for small z.
fn pelz_good_cdf(n: f64, d: f64) -> f64 {
    let z = n.sqrt() * d;
    let (z2, z4, z6) = (z * z, z.powi(4), z.powi(6));
    let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
    // Odd-index sums: w = π²(k − ½)², weight e^{−w/(2z²)}.
    for k in 1..10_000 {
        let w = PI * PI * (k as f64 - 0.5).powi(2);
        let e = (-w / (2.0 * z2)).exp();
        if e == 0.0 {
            break;
        }
        s0 += e;
        s1 += (w - z2) * e;
        s2 += (6.0 * z6 + 2.0 * z4 + (2.0 * z4 - 5.0 * z2) * w + (1.0 - 2.0 * z2) * w * w) * e;
        s3 += (-30.0 * z6 - 90.0 * z6 * z2
            + (135.0 * z4 - 96.0 * z6) * w
            + (212.0 * z4 - 60.0 * z2) * w * w
            + (5.0 - 30.0 * z2) * w * w * w)
            * e;
    }
    // Even-index sums: v = π²k², weight e^{−v/(2z²)}.
    let (mut t2, mut t3) = (0.0, 0.0);
    for k in 1..10_000 {
        let v = PI * PI * (k as f64).powi(2);
        let e = (-v / (2.0 * z2)).exp();
        if e == 0.0 {
            break;
        }
        t2 += v * e;
        t3 += (3.0 * z2 - v) * v * e;
    }
    let r = (2.0 * PI).sqrt();
    let k0 = r / z * s0;
    let k1 = r / (6.0 * z4) * s1;
    let k2 = r / (72.0 * z6 * z) * s2 - r / (36.0 * z2 * z) * t2;
    let k3 = r / (6480.0 * z6 * z4) * s3 + r / (216.0 * z6) * t3;
    let sn = n.sqrt();
    k0 + k1 / sn + k2 / n + k3 / (n * sn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kstwo_limits_and_invalid_n() {
        assert_eq!(kstwo_sf(0.0, 10.0), 1.0);
        assert_eq!(kstwo_sf(1.0, 10.0), 0.0);
        assert_eq!(kstwo_sf(0.04, 10.0), 1.0); // n·d ≤ ½
        assert!(kstwo_sf(0.3, 0.0).is_nan());
        assert!(kstwo_sf(0.3, 2.5).is_nan());
        assert!(kstwo_sf(f64::NAN, 5.0).is_nan());
    }

    #[test]
    fn kstwo_n1_is_uniform_tail() {
        // n = 1: D₁ = max(U, 1 − U) so P(D₁ ≥ d) = 2(1 − d) for d ≥ ½.
        for d in [0.5, 0.6, 0.9] {
            assert!((kstwo_sf(d, 1.0) - 2.0 * (1.0 - d)).abs() < 1e-14);
        }
    }

    #[test]
    fn durbin_and_pelz_good_agree() {
        // Durbin is exact; Pelz–Good's truncation error is O(n^-2), far below 1e-7 here.
        for d in [0.006, 0.01, 0.015] {
            let a = durbin_cdf(5000.0, d);
            let b = pelz_good_cdf(5000.0, d);
            assert!((a - b).abs() < 1e-7, "d={d}: {a} vs {b}");
        }
    }

    #[test]
    fn smirnov_closed_forms() {
        // d ≥ 1 − 1/n: only the j = 0 term, (1 − d)ⁿ.
        assert!((smirnov_sf(5.0, 0.9) - 0.1f64.powi(5)).abs() < 1e-15);
        assert_eq!(smirnov_sf(1.0, 0.25), 0.75);
        assert_eq!(smirnov_sf(7.0, 0.0), 1.0);
    }
}
