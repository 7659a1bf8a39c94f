//! Which test a column gets, and what its verdict compares against.
//!
//! The defaults follow Evidently's documented choice (docs/drift-statistics.md): with at most
//! 1,000 reference rows, Kolmogorov–Smirnov for numeric columns and chi-square (two categories:
//! a proportion Z-test) for categorical ones; above that, the normed Wasserstein distance and the
//! Jensen–Shannon distance. A numeric column with at most 5 distinct reference values counts as
//! categorical. Any column's method and threshold can be set in the configuration.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A column's nature, from its data (or, for features, from the feature set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Numeric,
    Categorical,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Numeric => "numeric",
            Kind::Categorical => "categorical",
        }
    }
}

/// A drift test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Two-sample Kolmogorov–Smirnov; drift when p < threshold.
    Ks,
    /// Wasserstein distance over the reference's standard deviation; drift when ≥ threshold.
    Wasserstein,
    /// Population Stability Index; drift when ≥ threshold.
    Psi,
    /// Chi-square goodness of fit of the current counts to the reference shares; drift when
    /// p < threshold.
    Chisquare,
    /// Two-proportion Z-test for two categories; drift when p < threshold.
    Z,
    /// Jensen–Shannon distance; drift when ≥ threshold.
    Jensenshannon,
}

impl Method {
    pub const NAMES: &'static str = "ks, wasserstein, psi, chisquare, z, jensenshannon";

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Ks => "ks",
            Method::Wasserstein => "wasserstein",
            Method::Psi => "psi",
            Method::Chisquare => "chisquare",
            Method::Z => "z",
            Method::Jensenshannon => "jensenshannon",
        }
    }

    /// Whether the verdict reads a p-value (drift below the threshold) rather than a distance
    /// (drift at or above it).
    pub fn has_p_value(self) -> bool {
        matches!(self, Method::Ks | Method::Chisquare | Method::Z)
    }

    /// The default threshold: 0.05 for p-values, 0.1 for distances and PSI.
    pub fn default_threshold(self) -> f64 {
        if self.has_p_value() { 0.05 } else { 0.1 }
    }

    /// Whether the test reads the values as numbers (sorted) rather than as categories.
    pub fn needs_numbers(self) -> bool {
        matches!(self, Method::Ks | Method::Wasserstein)
    }

    /// The test applies to categories only.
    pub fn needs_categories(self) -> bool {
        matches!(self, Method::Chisquare | Method::Z)
    }

    /// Evidently's default for a column of `kind` whose reference has `rows` non-missing values,
    /// `distinct` of them different.
    pub fn default_for(kind: Kind, rows: usize, distinct: usize) -> Method {
        let categorical = kind == Kind::Categorical || distinct <= MAX_CATEGORIES_OF_NUMERIC;
        match (rows <= SMALL_REFERENCE, categorical) {
            (true, true) if distinct <= 2 => Method::Z,
            (true, true) => Method::Chisquare,
            (true, false) => Method::Ks,
            (false, true) => Method::Jensenshannon,
            (false, false) => Method::Wasserstein,
        }
    }

    /// Whether the statistic (or p-value) means drift against `threshold`.
    pub fn drifted(self, statistic: f64, p_value: Option<f64>, threshold: f64) -> bool {
        match p_value {
            Some(p) if self.has_p_value() => p < threshold,
            _ => statistic >= threshold,
        }
    }
}

/// Up to this many reference rows a column gets a statistical test; above, a distance.
pub const SMALL_REFERENCE: usize = 1_000;
/// A numeric column with at most this many distinct reference values is tested as categories.
pub const MAX_CATEGORIES_OF_NUMERIC: usize = 5;
/// Bins of numeric columns for PSI and Jensen–Shannon.
pub const BINS: usize = 30;

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "ks" => Method::Ks,
            "wasserstein" => Method::Wasserstein,
            "psi" => Method::Psi,
            "chisquare" => Method::Chisquare,
            "z" => Method::Z,
            "jensenshannon" => Method::Jensenshannon,
            other => {
                return Err(format!(
                    "unknown drift method {other:?}; known: {}",
                    Method::NAMES
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_size_and_kind() {
        use Kind::*;
        assert_eq!(Method::default_for(Numeric, 1000, 500), Method::Ks);
        assert_eq!(Method::default_for(Numeric, 1001, 500), Method::Wasserstein);
        assert_eq!(Method::default_for(Numeric, 800, 2), Method::Z);
        assert_eq!(Method::default_for(Numeric, 800, 5), Method::Chisquare);
        assert_eq!(Method::default_for(Numeric, 5000, 5), Method::Jensenshannon);
        assert_eq!(Method::default_for(Categorical, 800, 30), Method::Chisquare);
        assert_eq!(
            Method::default_for(Categorical, 5000, 2),
            Method::Jensenshannon
        );
    }

    #[test]
    fn verdicts_read_p_values_or_distances() {
        assert!(Method::Ks.drifted(0.9, Some(0.01), 0.05));
        assert!(!Method::Ks.drifted(0.9, Some(0.2), 0.05));
        assert!(Method::Wasserstein.drifted(0.1, None, 0.1));
        assert!(!Method::Psi.drifted(0.09, None, 0.1));
    }

    #[test]
    fn names_parse_back_and_garbage_is_named() {
        for m in [
            Method::Ks,
            Method::Wasserstein,
            Method::Psi,
            Method::Chisquare,
            Method::Z,
            Method::Jensenshannon,
        ] {
            assert_eq!(m.as_str().parse::<Method>(), Ok(m));
        }
        let err = "kolmogorov".parse::<Method>().unwrap_err();
        assert!(err.contains("\"kolmogorov\"") && err.contains("wasserstein"));
    }
}
