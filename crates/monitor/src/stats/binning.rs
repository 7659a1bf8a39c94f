//! Shares per bin (numeric columns) or per value (categorical / few-valued columns), the way
//! Evidently's `get_binned_data` builds the inputs of PSI and Jensen–Shannon, and its rule for
//! filling empty bins.

use serde::Serialize;

/// Evidently bins a numeric column only when its reference has more than this many distinct
/// values; otherwise it takes shares per distinct value (see [`value_shares`]).
pub const EVIDENTLY_MIN_DISTINCT_FOR_BINS: usize = 20;

/// Evidently's `n_bins` default for PSI / Jensen–Shannon (ignored by its released numeric
/// branch, which uses Sturges' rule: see [`sturges_bins`]).
pub const EVIDENTLY_DEFAULT_BINS: usize = 30;

/// Bin edges and the share of each side in each bin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Binned {
    /// `bins + 1` increasing edges; bin k is `[edges[k], edges[k+1])`, the last one closed.
    pub edges: Vec<f64>,
    /// Share of the reference in each bin (count / reference length).
    pub reference: Vec<f64>,
    /// Share of the current sample in each bin.
    pub current: Vec<f64>,
}

impl Binned {
    fn empty() -> Binned {
        Binned {
            edges: Vec::new(),
            reference: Vec::new(),
            current: Vec::new(),
        }
    }

    /// PSI of these shares (zero-filled the way Evidently does, see [`super::psi`]).
    pub fn psi(&self) -> f64 {
        super::psi(&self.reference, &self.current)
    }

    /// Jensen–Shannon distance of these shares, unfilled (Evidently passes `feel_zeroes=False`).
    pub fn jensen_shannon(&self) -> f64 {
        super::jensen_shannon(&self.reference, &self.current)
    }
}

/// Bins a numeric pair like Evidently's numeric branch of `get_binned_data`:
/// `edges = numpy.histogram_bin_edges(reference ∪ current, bins)`, then each side's
/// `numpy.histogram(side, edges)[0] / len(side)`. No zero filling here.
///
/// Edges reproduce numpy bit for bit: the range [min, max] of the union (widened to
/// [v − ½, v + ½] when all values are equal), `bins + 1` points `start + k·step` with the last
/// one set to `max`. Inputs must be sorted and finite.
///
/// No verdict cases return empty vectors (PSI / JS of them are NaN): both sides empty,
/// `bins == 0`, a non-finite range, or a range too narrow for `bins` distinct edges (where
/// numpy raises). A single empty side gets NaN shares (numpy's 0/0).
pub fn bin_numeric(reference_sorted: &[f64], current_sorted: &[f64], bins: usize) -> Binned {
    let Some((lo, hi)) = union_range(reference_sorted, current_sorted) else {
        return Binned::empty();
    };
    let Some(edges) = histogram_edges(lo, hi, bins) else {
        return Binned::empty();
    };
    let reference = shares_in_bins(reference_sorted, &edges);
    let current = shares_in_bins(current_sorted, &edges);
    Binned {
        edges,
        reference,
        current,
    }
}

/// Number of bins numpy's `histogram_bin_edges(reference ∪ current, bins="sturges")` picks:
/// ⌈range / (range / (log₂ N + 1))⌉ with N the total count, or 1 for a zero range. Evidently
/// 0.7.x bins numeric columns this way regardless of its `n_bins` argument. 0 if both are empty.
pub fn sturges_bins(reference_sorted: &[f64], current_sorted: &[f64]) -> usize {
    let Some((lo, hi)) = union_range(reference_sorted, current_sorted) else {
        return 0;
    };
    let total = (reference_sorted.len() + current_sorted.len()) as f64;
    let width = (hi - lo) / (total.log2() + 1.0);
    if width > 0.0 {
        // Same two divisions as numpy, so the ceiling lands on the same integer.
        ((hi - lo) / width).ceil() as usize
    } else {
        1
    }
}

/// numpy's `linspace(lo, hi, bins + 1)` over the range, with `histogram_bin_edges`'s widening of
/// an empty range; None when numpy would raise (no bins, non-finite or too narrow a range).
pub fn histogram_edges(lo: f64, hi: f64, bins: usize) -> Option<Vec<f64>> {
    if bins == 0 || !lo.is_finite() || !hi.is_finite() || lo > hi {
        return None;
    }
    let (lo, hi) = if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let div = bins as f64;
    let delta = hi - lo;
    let step = delta / div;
    let mut edges: Vec<f64> = (0..=bins)
        .map(|k| {
            let k = k as f64;
            if step == 0.0 {
                k / div * delta + lo
            } else {
                k * step + lo
            }
        })
        .collect();
    if let Some(last) = edges.last_mut() {
        *last = hi;
    }
    if edges.windows(2).any(|w| w[0] >= w[1]) {
        return None;
    }
    Some(edges)
}

/// Share of a sorted sample in each bin of `edges` (numpy's histogram with explicit edges:
/// bins half-open, the last closed, values outside ignored). NaN shares for an empty sample.
pub fn shares_in_bins(sorted: &[f64], edges: &[f64]) -> Vec<f64> {
    if edges.len() < 2 {
        return Vec::new();
    }
    let n = sorted.len() as f64;
    let last = edges.len() - 1;
    let below: Vec<usize> = edges
        .iter()
        .enumerate()
        .map(|(k, &e)| {
            if k == last {
                sorted.partition_point(|&x| x <= e)
            } else {
                sorted.partition_point(|&x| x < e)
            }
        })
        .collect();
    below.windows(2).map(|w| (w[1] - w[0]) as f64 / n).collect()
}

/// Distinct values of a pair with each side's share per value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueShares {
    /// The distinct values of reference ∪ current, ascending.
    pub values: Vec<f64>,
    /// Share of the reference at each value (count / reference length).
    pub reference: Vec<f64>,
    /// Share of the current sample at each value.
    pub current: Vec<f64>,
}

/// Shares per distinct value, Evidently's branch for categorical columns and for numeric ones
/// with ≤ 20 distinct reference values. Order does not matter to PSI, JS or chi-square.
pub fn value_shares(reference_sorted: &[f64], current_sorted: &[f64]) -> ValueShares {
    let mut values: Vec<f64> = Vec::new();
    let (mut rc, mut cc) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0usize, 0usize);
    let (r, c) = (reference_sorted, current_sorted);
    while i < r.len() || j < c.len() {
        let v = match (r.get(i), c.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        let (i0, j0) = (i, j);
        while i < r.len() && r[i] == v {
            i += 1;
        }
        while j < c.len() && c[j] == v {
            j += 1;
        }
        if i == i0 && j == j0 {
            // NaN (outside the contract): drop it rather than loop.
            if i < r.len() && r[i].is_nan() {
                i += 1;
            } else {
                j += 1;
            }
            continue;
        }
        values.push(v);
        rc.push((i - i0) as f64);
        cc.push((j - j0) as f64);
    }
    ValueShares {
        values,
        reference: shares(&rc),
        current: shares(&cc),
    }
}

/// Number of distinct values in a sorted slice.
pub fn distinct_count(sorted: &[f64]) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    1 + sorted.windows(2).filter(|w| w[0] != w[1]).count()
}

/// Counts → shares (count / total). NaN everywhere when the total is 0.
pub fn shares(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    counts.iter().map(|&c| c / total).collect()
}

/// Evidently's zero filling (`feel_zeroes=True`, used for PSI and KL, not for JS), one side at
/// a time: every zero share becomes min(non-zero share)/10⁶ if that minimum is ≤ 10⁻⁴, else
/// 10⁻⁴. Shares are not renormalised afterwards (Evidently does not). A vector with no non-zero
/// share is left as it is (Evidently would raise); PSI of it is then NaN.
pub fn fill_zeroes(shares: &mut [f64]) {
    let min_nonzero = shares
        .iter()
        .copied()
        .filter(|&s| s != 0.0)
        .fold(f64::INFINITY, f64::min);
    if !min_nonzero.is_finite() {
        return;
    }
    let fill = if min_nonzero <= 1e-4 {
        min_nonzero / 1e6
    } else {
        1e-4
    };
    for s in shares.iter_mut().filter(|s| **s == 0.0) {
        *s = fill;
    }
}

fn union_range(a: &[f64], b: &[f64]) -> Option<(f64, f64)> {
    let lo = match (a.first(), b.first()) {
        (Some(&x), Some(&y)) => x.min(y),
        (Some(&x), None) | (None, Some(&x)) => x,
        (None, None) => return None,
    };
    let hi = match (a.last(), b.last()) {
        (Some(&x), Some(&y)) => x.max(y),
        (Some(&x), None) | (None, Some(&x)) => x,
        (None, None) => return None,
    };
    Some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_and_closed_last_bin() {
        let b = bin_numeric(&[0.0, 1.0, 2.0], &[2.0, 3.0, 4.0], 4);
        assert_eq!(b.edges, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(b.reference, vec![1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 0.0]);
        assert_eq!(b.current, vec![0.0, 0.0, 1.0 / 3.0, 2.0 / 3.0]);
    }

    #[test]
    fn constant_data_widens_range() {
        let b = bin_numeric(&[3.0, 3.0], &[3.0], 2);
        assert_eq!(b.edges, vec![2.5, 3.0, 3.5]);
        assert_eq!(b.reference, vec![0.0, 1.0]);
        assert_eq!(sturges_bins(&[3.0, 3.0], &[3.0]), 1);
    }

    #[test]
    fn no_verdict_cases() {
        assert!(bin_numeric(&[], &[], 5).edges.is_empty());
        assert!(bin_numeric(&[1.0], &[2.0], 0).edges.is_empty());
        assert!(bin_numeric(&[1.0], &[f64::INFINITY], 3).edges.is_empty());
        let one_sided = bin_numeric(&[], &[1.0, 2.0], 2);
        assert!(one_sided.reference.iter().all(|s| s.is_nan()));
        assert!(one_sided.psi().is_nan());
        // Too narrow a range for 10 distinct edges: numpy raises, we give no verdict.
        assert!(
            bin_numeric(&[1.0], &[1.0 + f64::EPSILON], 10)
                .edges
                .is_empty()
        );
    }

    #[test]
    fn zero_filling_rule() {
        let mut s = [0.5, 0.0, 0.5];
        fill_zeroes(&mut s);
        assert_eq!(s, [0.5, 1e-4, 0.5]);
        let mut s = [0.99995, 0.00005, 0.0];
        fill_zeroes(&mut s);
        assert_eq!(s[2], 0.00005 / 1e6);
        let mut z = [0.0, 0.0];
        fill_zeroes(&mut z);
        assert_eq!(z, [0.0, 0.0]);
    }

    #[test]
    fn value_shares_union() {
        let v = value_shares(&[1.0, 1.0, 2.0], &[2.0, 3.0]);
        assert_eq!(v.values, vec![1.0, 2.0, 3.0]);
        assert_eq!(v.reference, vec![2.0 / 3.0, 1.0 / 3.0, 0.0]);
        assert_eq!(v.current, vec![0.0, 0.5, 0.5]);
        assert_eq!(distinct_count(&[1.0, 1.0, 2.0, 5.0]), 3);
        assert_eq!(distinct_count(&[]), 0);
    }
}
