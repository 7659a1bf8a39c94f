//! Two-sample statistics, each checked against scipy (and Evidently) by
//! `tests/scipy_fixtures.rs`; formulas and conventions are in `docs/drift-statistics.md`.
//!
//! Module map:
//! - `ks` — two-sample Kolmogorov–Smirnov test ([`ks_2samp`]), scipy's exact/asymptotic choice;
//!   - `ks_exact` — exact p-values by lattice-path counting (Hodges 1958; Viehmann 2021);
//!   - `kolmogorov` — the one-sample distributions behind the asymptotic p-value
//!     ([`kstwo_sf`], [`smirnov_sf`]; Simard & L'Ecuyer 2011);
//! - `wasserstein` — [`wasserstein`] and Evidently's [`wasserstein_normed`];
//! - `binning` — Evidently's shares per bin / per value and its zero filling ([`bin_numeric`],
//!   [`value_shares`], [`fill_zeroes`]);
//! - `psi`, `jensen_shannon` — [`psi`] and the Jensen–Shannon distance;
//! - `chi_square` — [`chi_square`] goodness of fit and the binary [`proportion_z_test`];
//! - `special` — log-gamma, incomplete gamma, [`chi2_sf`], normal tail.
//!
//! Conventions shared by all of them: the functions are pure, never panic on any input, take
//! samples sorted ascending (use [`clean_sorted`]), and answer NaN where there is no verdict
//! (an empty side, mismatched lengths): callers treat NaN as "not computed", never as drift.

mod binning;
mod chi_square;
mod jensen_shannon;
mod kolmogorov;
mod ks;
mod ks_exact;
mod psi;
mod special;
mod wasserstein;

pub use binning::{
    Binned, EVIDENTLY_DEFAULT_BINS, EVIDENTLY_MIN_DISTINCT_FOR_BINS, ValueShares, bin_numeric,
    distinct_count, fill_zeroes, histogram_edges, shares, shares_in_bins, sturges_bins,
    value_shares,
};
pub use chi_square::{ChiSquare, chi_square, proportion_z_test};
pub use jensen_shannon::jensen_shannon;
pub use kolmogorov::{kstwo_sf, smirnov_sf};
pub use ks::{KS_MAX_EXACT_N, Ks, ks_2samp};
pub use psi::psi;
pub use special::{chi2_sf, gamma_q, ln_gamma, normal_two_sided_sf};
pub use wasserstein::{WASSERSTEIN_MIN_NORM, population_std, wasserstein, wasserstein_normed};

/// The finite values of a column, sorted ascending: what every function here expects.
/// Like Evidently, NaN and ±∞ are dropped before any statistic (it maps ±∞ to NaN and drops
/// NaN); −0.0 and 0.0 compare equal and so count as one value.
pub fn clean_sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_unstable_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_sorted_drops_non_finite() {
        let v = clean_sorted(&[3.0, f64::NAN, -1.0, f64::INFINITY, 2.0, f64::NEG_INFINITY]);
        assert_eq!(v, vec![-1.0, 2.0, 3.0]);
    }
}
