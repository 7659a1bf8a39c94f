//! The feature sets and their ordered feature names. A model bundle records these names; the
//! order here is the order of the values the engine writes.

use std::fmt;
use std::str::FromStr;

use crate::features::Features;

/// How a feature's values look, for writing them (integers are written without a fraction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    /// 0 or 1.
    Flag,
    /// A non-negative integer.
    Count,
    /// Any finite number.
    Real,
}

impl FeatureKind {
    pub fn is_integer(self) -> bool {
        !matches!(self, FeatureKind::Real)
    }
}

/// One feature: its name and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSpec {
    pub name: &'static str,
    pub kind: FeatureKind,
}

const fn f(name: &'static str, kind: FeatureKind) -> FeatureSpec {
    FeatureSpec { name, kind }
}

use FeatureKind::{Count, Flag, Real};

/// The fraud handbook's 14 features, named and ordered as in its data (README of
/// `shared/data/handbook`).
pub const HANDBOOK: [FeatureSpec; 14] = [
    f("tx_during_weekend", Flag),
    f("tx_during_night", Flag),
    f("customer_id_nb_tx_1day_window", Count),
    f("customer_id_avg_amount_1day_window", Real),
    f("customer_id_nb_tx_7day_window", Count),
    f("customer_id_avg_amount_7day_window", Real),
    f("customer_id_nb_tx_30day_window", Count),
    f("customer_id_avg_amount_30day_window", Real),
    f("terminal_id_nb_tx_1day_window", Count),
    f("terminal_id_risk_1day_window", Real),
    f("terminal_id_nb_tx_7day_window", Count),
    f("terminal_id_risk_7day_window", Real),
    f("terminal_id_nb_tx_30day_window", Count),
    f("terminal_id_risk_30day_window", Real),
];

/// The `risk` set: the handbook's 14 features, then what separates its fraud patterns better: the
/// amount, the amount against the customer's usual amounts, how long ago the terminal's oldest
/// known fraud of its delayed 30-day window happened (a compromised terminal stays compromised
/// for a while, then stops), and how many of its known frauds the cards' amounts do not explain.
/// See `handbook`.
pub const RISK: [FeatureSpec; 21] = [
    HANDBOOK[0],
    HANDBOOK[1],
    HANDBOOK[2],
    HANDBOOK[3],
    HANDBOOK[4],
    HANDBOOK[5],
    HANDBOOK[6],
    HANDBOOK[7],
    HANDBOOK[8],
    HANDBOOK[9],
    HANDBOOK[10],
    HANDBOOK[11],
    HANDBOOK[12],
    HANDBOOK[13],
    f("amount", Real),
    f("customer_amount_ratio_1day", Real),
    f("customer_amount_ratio_7day", Real),
    f("customer_amount_ratio_30day", Real),
    f("terminal_oldest_fraud_days", Real),
    f("terminal_nb_usual_fraud_7day", Count),
    f("terminal_nb_usual_fraud_30day", Count),
];

/// The streaming set: velocity over minutes, the customer's own history, place, and terminal
/// traffic. Needs nothing but the transaction's own fields (no labels). See `velocity`.
pub const VELOCITY: [FeatureSpec; 22] = [
    f("amount", Real),
    f("hour_of_day", Count),
    f("tx_during_weekend", Flag),
    f("tx_during_night", Flag),
    f("channel_card_present", Flag),
    f("channel_online", Flag),
    f("channel_atm", Flag),
    f("customer_nb_tx_5min", Count),
    f("customer_amount_5min", Real),
    f("customer_nb_tx_30min", Count),
    f("customer_amount_30min", Real),
    f("customer_nb_tx_1day", Count),
    f("customer_amount_1day", Real),
    f("customer_nb_tx_30day", Count),
    f("customer_secs_since_prev_tx", Real),
    f("customer_amount_zscore_30day", Real),
    f("customer_new_terminal_30day", Flag),
    f("customer_new_country_30day", Flag),
    f("customer_km_from_prev", Real),
    f("customer_km_from_home_30day", Real),
    f("terminal_nb_tx_1hour", Count),
    f("terminal_nb_tx_1day", Count),
];

/// A named set of features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FeatureSet {
    /// The fraud handbook's 14 features (needs labels for the terminal risks).
    Handbook,
    /// The streaming set (the default).
    #[default]
    Velocity,
    /// The handbook's features and five more that sharpen them (needs labels too).
    Risk,
}

impl FeatureSet {
    pub const ALL: [FeatureSet; 3] = [FeatureSet::Handbook, FeatureSet::Velocity, FeatureSet::Risk];

    pub fn name(self) -> &'static str {
        match self {
            FeatureSet::Handbook => "handbook",
            FeatureSet::Velocity => "velocity",
            FeatureSet::Risk => "risk",
        }
    }

    pub fn specs(self) -> &'static [FeatureSpec] {
        match self {
            FeatureSet::Handbook => &HANDBOOK,
            FeatureSet::Velocity => &VELOCITY,
            FeatureSet::Risk => &RISK,
        }
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        self.specs().iter().map(|s| s.name)
    }

    /// The engine's output as named features (for a `FeatureVector` on the wire).
    pub fn named(self, values: &[f64]) -> Features {
        Features(
            self.names()
                .zip(values)
                .map(|(n, &v)| (n.into(), v))
                .collect(),
        )
    }
}

impl fmt::Display for FeatureSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FeatureSet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "handbook" => Ok(FeatureSet::Handbook),
            "velocity" | "default" => Ok(FeatureSet::Velocity),
            "risk" => Ok(FeatureSet::Risk),
            _ => Err(format!(
                "unknown feature set {s:?}: expected handbook, velocity (alias default) or risk"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        for set in FeatureSet::ALL {
            let names: Vec<_> = set.names().collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "{set}");
            assert_eq!(set.name().parse::<FeatureSet>(), Ok(set));
        }
        assert_eq!("default".parse(), Ok(FeatureSet::Velocity));
        assert!("fancy".parse::<FeatureSet>().unwrap_err().contains("fancy"));
        let named = FeatureSet::Handbook.named(&[1.0; 14]);
        assert_eq!(named.len(), 14);
        assert_eq!(named.get("terminal_id_risk_30day_window"), Some(1.0));
        assert!(crate::Validate::validate(&named).is_ok());
    }
}
