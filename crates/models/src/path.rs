//! `c(n)`: the average path length of an unsuccessful search in a binary search tree of `n`
//! points, which normalises Isolation Forest path lengths (Liu, Ting & Zhou 2008, eq. 1):
//! c(n) = 2 H(n − 1) − 2 (n − 1) / n, with H(i) ≈ ln(i) + γ; c(2) = 1, c(n ≤ 1) = 0.
//! The same definition as scikit-learn's `_average_path_length`.

/// The Euler–Mascheroni constant.
pub const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_values() {
        assert_eq!(average_path_length(0), 0.0);
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        assert_eq!(average_path_length(256), 10.244_770_920_119_917);
        assert!((average_path_length(100_000) - 22.180_282_259_643_523).abs() < 1e-12);
    }
}
