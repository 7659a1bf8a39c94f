//! Amounts as integer micro-units (1e-6 of the currency's major unit), so that window sums are
//! exact, independent of the order of additions, and removable without rounding drift.

use crate::transaction::MAX_AMOUNT;

const MICROS: f64 = 1e6;

/// An amount in micro-units; `None` unless finite and within `0..=MAX_AMOUNT`.
pub fn to_micros(amount: f64) -> Option<i64> {
    (amount.is_finite() && (0.0..=MAX_AMOUNT).contains(&amount))
        .then(|| (amount * MICROS).round() as i64)
}

/// A sum of micro-units back in the major unit (correctly rounded when `|sum| < 2^53`).
pub fn from_micros(sum: i128) -> f64 {
    sum as f64 / MICROS
}

/// The mean of `n` amounts summing to `sum` micro-units; 0 when `n = 0`.
pub fn mean(sum: i128, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        from_micros(sum) / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_cents_exactly() {
        for a in [0.0, 0.01, 57.16, 146.0, 2628.0, 1e9] {
            assert_eq!(from_micros(i128::from(to_micros(a).unwrap())), a);
        }
        assert_eq!(
            mean(57_160_000 + 81_510_000, 2),
            69.335,
            "exact, unlike (57.16 + 81.51) / 2"
        );
        assert_eq!(mean(0, 0), 0.0);
        for bad in [-0.01, f64::NAN, f64::INFINITY, 1e9 + 1.0] {
            assert_eq!(to_micros(bad), None, "{bad}");
        }
    }
}
