//! Special functions the p-values need: log-gamma, the regularised incomplete gamma function
//! (hence the chi-square and two-sided normal tails) and log-binomials.
//!
//! The incomplete gamma follows the classical split (Numerical Recipes, 3rd ed., §6.2): the
//! power series for P(a, x) below x < a + 1, Legendre's continued fraction for Q(a, x) above it,
//! evaluated with the modified Lentz method (Lentz 1976; Thompson & Barnett 1986). The common
//! prefactor x^a e^-x / Γ(a) is where precision is usually lost for large `a`: it is formed as
//! exp(−a·(t − 1 − ln t)) · sqrt(a / 2π) / exp(stirling(a)) with t = x/a and t − 1 − ln t taken
//! from a log1p-minus-x series, so no large logarithms cancel (the idea of Temme 1979 /
//! DiDonato & Morris 1986, without their asymptotic expansion).

use std::f64::consts::{LN_2, PI};

/// ½·ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Terms of Stirling's series for ln Γ(x) − [(x − ½)ln x − x + ½ln 2π]: B₂ₖ / (2k(2k−1)).
const STIRLING: [f64; 7] = [
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360_360.0,
    1.0 / 156.0,
];

/// Below this the series is not accurate to a few ulps; shift the argument up first.
const STIRLING_MIN: f64 = 10.0;

/// Stirling's correction lnΓ(x) − [(x − ½)ln x − x + ½ln 2π] for x ≥ 10 (truncation < 1e-17).
fn stirling_tail(x: f64) -> f64 {
    let r = 1.0 / x;
    let r2 = r * r;
    let mut acc = 0.0;
    for c in STIRLING.iter().rev() {
        acc = acc * r2 + c;
    }
    acc * r
}

/// ln Γ(x) for x > 0 (NaN otherwise). Absolute error a few 1e-15 below x = 10 (so near the
/// zeros at 1 and 2), relative ≈ 1e-16 above.
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    if x >= STIRLING_MIN {
        return (x - 0.5) * x.ln() - x + HALF_LN_2PI + stirling_tail(x);
    }
    // Γ(x) = Γ(x + k) / (x (x+1) … (x+k−1)); the product is at most ~10¹⁰, no overflow.
    let mut y = x;
    let mut prod = 1.0;
    while y < STIRLING_MIN {
        prod *= y;
        y += 1.0;
    }
    ln_gamma(y) - prod.ln()
}

/// lnΓ(x) − [(x − ½)ln x − x + ½ln 2π], the part of ln Γ that Stirling's leading terms miss.
fn stirling_correction(x: f64) -> f64 {
    if x >= STIRLING_MIN {
        stirling_tail(x)
    } else {
        ln_gamma(x) - ((x - 0.5) * x.ln() - x + HALF_LN_2PI)
    }
}

/// ln(1 + u) − u, accurate also for small |u| (series below |u| < ½).
pub(crate) fn ln1p_minus(u: f64) -> f64 {
    if u.abs() >= 0.5 {
        return u.ln_1p() - u;
    }
    // ln(1+u) − u = Σ_{k≥2} (−1)^{k+1} u^k / k; |u| < ½ needs ≤ 55 terms for 1e-17.
    let mut pow = u * u;
    let mut sum = 0.0;
    let mut sign = -1.0;
    let mut k = 2.0;
    while k < 200.0 {
        let term = pow / k;
        sum += sign * term;
        if term.abs() <= f64::EPSILON * 1e-3 * sum.abs() {
            break;
        }
        pow *= u;
        sign = -sign;
        k += 1.0;
    }
    sum
}

/// ln C(n, k) for integers 0 ≤ k ≤ n (as f64), without cancelling n·ln n terms: it is written as
/// k·ln(n/k) + (n−k)·ln(n/(n−k)) + ½ln(n / (2πk(n−k))) + Stirling corrections.
pub(crate) fn ln_binomial(n: f64, k: f64) -> f64 {
    if k < 0.0 || k > n {
        return f64::NEG_INFINITY;
    }
    if k == 0.0 || k == n {
        return 0.0;
    }
    let m = n - k;
    if n < 2.0 * STIRLING_MIN {
        return ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(m + 1.0);
    }
    // ln x! = (x + ½)ln x − x + ½ln 2π + corr(x): the same correction as for Γ(x).
    let c = stirling_correction;
    k * (n / k).ln() + m * (n / m).ln() + 0.5 * (n / (k * m)).ln() - HALF_LN_2PI + c(n)
        - c(k)
        - c(m)
}

/// x^a e^{−x} / Γ(a), the prefactor shared by the series and the continued fraction.
fn gamma_prefactor(a: f64, x: f64) -> f64 {
    if a < STIRLING_MIN {
        return (a * x.ln() - x - ln_gamma(a)).exp();
    }
    // a·ln(x/a) − x + a = −a·(t − 1 − ln t), t = x/a; u = t − 1 formed from x − a directly.
    let u = (x - a) / a;
    let d = -ln1p_minus(u);
    (-a * d - stirling_correction(a)).exp() * (a / (2.0 * PI)).sqrt()
}

/// Largest number of series / continued-fraction terms: both need O(√a) terms near x ≈ a, so
/// this covers a up to ~10⁹.
const MAX_TERMS: usize = 1_000_000;

/// P(a, x) by its power series: prefactor/a · Σ xⁿ / ((a+1)…(a+n)); used for x < a + 1.
fn gamma_p_series(a: f64, x: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut ap = a;
    for _ in 0..MAX_TERMS {
        ap += 1.0;
        term *= x / ap;
        sum += term;
        if term < sum * f64::EPSILON * 0.5 {
            break;
        }
    }
    gamma_prefactor(a, x) * sum / a
}

/// Q(a, x) by Legendre's continued fraction with modified Lentz; used for x ≥ a + 1.
fn gamma_q_fraction(a: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..MAX_TERMS {
        let fi = i as f64;
        let an = -fi * (fi - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() <= f64::EPSILON {
            break;
        }
    }
    gamma_prefactor(a, x) * h
}

/// Regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a), for a > 0, x ≥ 0.
/// Returns NaN for a ≤ 0 or NaN arguments; 1 for x ≤ 0; 0 for x = +∞.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    if a.is_nan() || x.is_nan() || a <= 0.0 || a.is_infinite() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    if x < a + 1.0 {
        (1.0 - gamma_p_series(a, x)).clamp(0.0, 1.0)
    } else {
        gamma_q_fraction(a, x).clamp(0.0, 1.0)
    }
}

/// Survival function of the chi-square distribution with `dof` degrees of freedom:
/// P(X ≥ x) = Q(dof/2, x/2). Like scipy.stats.chi2.sf: 1 for x ≤ 0, 0 for x = +∞, NaN for
/// dof ≤ 0 (a test with one category has no degrees of freedom and so no p-value).
pub fn chi2_sf(x: f64, dof: f64) -> f64 {
    gamma_q(dof / 2.0, x / 2.0)
}

/// Two-sided tail of the standard normal, P(|Z| ≥ |z|) = 2·(1 − Φ(|z|)) = erfc(|z|/√2),
/// computed as Q(½, z²/2) so it keeps full relative precision far into the tail.
pub fn normal_two_sided_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    gamma_q(0.5, 0.5 * z * z)
}

/// ln n! − n·ln n, i.e. ln(n!/nⁿ), for n ≥ 1.
pub(crate) fn ln_factorial_over_power(n: f64) -> f64 {
    ln_gamma(n + 1.0) - n * n.ln()
}

/// 2^k as f64 for |k| < 1023 (exact).
pub(crate) fn pow2(k: i32) -> f64 {
    f64::from_bits(((1023 + k) as u64) << 52)
}

/// ln 2, re-exported for the scaling code that tracks powers of two.
pub(crate) const LN2: f64 = LN_2;

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn ln_gamma_known_values() {
        // Near its zeros at 1 and 2 the error is absolute, a few 1e-15.
        assert!((ln_gamma(1.0)).abs() < 1e-14);
        assert!((ln_gamma(2.0)).abs() < 1e-14);
        assert!((ln_gamma(0.5) - 0.5 * PI.ln()).abs() < 1e-14);
        assert!(rel(ln_gamma(10.0), 362_880f64.ln()) < 1e-15);
        assert!(rel(ln_gamma(171.0), 706.573_062_245_787_4) < 1e-15);
        assert!(ln_gamma(0.0).is_nan());
        assert!(ln_gamma(-1.0).is_nan());
    }

    #[test]
    fn ln_binomial_matches_direct_products() {
        for (n, k) in [(30.0, 7.0), (100.0, 50.0), (1000.0, 3.0), (25.0, 24.0)] {
            let mut direct = 0.0f64;
            let mut i = 0.0f64;
            while i < k {
                direct += ((n - i) / (k - i)).ln();
                i += 1.0;
            }
            assert!((ln_binomial(n, k) - direct).abs() < 1e-12 * direct.max(1.0));
        }
        assert_eq!(ln_binomial(10.0, 0.0), 0.0);
        assert_eq!(ln_binomial(10.0, 11.0), f64::NEG_INFINITY);
    }

    #[test]
    fn chi2_sf_closed_forms() {
        // dof = 2: sf = e^{-x/2}. Forming x^a·e^{-x} costs |ln| · ε of relative precision.
        for x in [0.1, 1.0, 5.0, 30.0, 700.0] {
            assert!(rel(chi2_sf(x, 2.0), (-x / 2.0).exp()) < 1e-13, "x={x}");
        }
        assert_eq!(chi2_sf(0.0, 3.0), 1.0);
        assert_eq!(chi2_sf(-1.0, 3.0), 1.0);
        assert_eq!(chi2_sf(f64::INFINITY, 3.0), 0.0);
        assert!(chi2_sf(1.0, 0.0).is_nan());
        assert!(chi2_sf(f64::NAN, 1.0).is_nan());
    }

    #[test]
    fn normal_tail() {
        assert!(rel(normal_two_sided_sf(1.959_963_984_540_054), 0.05) < 1e-14);
        assert!(rel(normal_two_sided_sf(-1.0), 0.317_310_507_862_914_1) < 1e-14);
        assert_eq!(normal_two_sided_sf(0.0), 1.0);
    }
}
