//! What to generate: the profile, the seed, the population's size, the time span, the scenarios'
//! rates and the drift to inject. Plain data, checked by [`Config::validate`].

use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;
use crate::tx::Scenario;

/// Which world to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The fraud handbook's process (chapter 3.2): 5,000 customers and 10,000 terminals on a grid,
    /// its three fraud scenarios, no channels or countries.
    Handbook,
    /// A richer world: towns in countries, merchant categories, channels, devices, habits, and all
    /// six fraud scenarios.
    Default,
}

impl Profile {
    pub const NAMES: &'static str = "handbook, default";

    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Handbook => "handbook",
            Profile::Default => "default",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profile {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s {
            "handbook" => Ok(Profile::Handbook),
            "default" => Ok(Profile::Default),
            other => Err(ConfigError::UnknownProfile(other.to_string())),
        }
    }
}

/// How often each fraud scenario starts, per day of event time. A fractional rate r starts
/// ⌊r⌋ episodes a day plus one more with probability r − ⌊r⌋.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Scenario 1 is a rule, not an episode: on (1) or off (0).
    pub amount_over_220: bool,
    pub compromised_terminal: f64,
    pub compromised_card: f64,
    pub card_testing: f64,
    pub account_takeover: f64,
    pub merchant_collusion: f64,
}

impl Rates {
    /// The handbook's: 2 terminals and 3 cards a day, nothing else.
    pub fn handbook() -> Self {
        Self {
            amount_over_220: true,
            compromised_terminal: 2.0,
            compromised_card: 3.0,
            card_testing: 0.0,
            account_takeover: 0.0,
            merchant_collusion: 0.0,
        }
    }

    /// The default profile's mix.
    pub fn default_world() -> Self {
        Self {
            amount_over_220: true,
            compromised_terminal: 1.0,
            compromised_card: 3.0,
            card_testing: 4.0,
            account_takeover: 3.0,
            merchant_collusion: 0.15,
        }
    }

    /// Episodes of `s` started per day (1 or 0 for the amount rule).
    pub fn per_day(&self, s: Scenario) -> f64 {
        match s {
            Scenario::Genuine => 0.0,
            Scenario::AmountOver220 => f64::from(u8::from(self.amount_over_220)),
            Scenario::CompromisedTerminal => self.compromised_terminal,
            Scenario::CompromisedCard => self.compromised_card,
            Scenario::CardTesting => self.card_testing,
            Scenario::AccountTakeover => self.account_takeover,
            Scenario::MerchantCollusion => self.merchant_collusion,
        }
    }

    /// Applies `name=per_day`, e.g. `card_testing=10` or `amount_over_220=0`.
    pub fn set(&mut self, assignment: &str) -> Result<(), ConfigError> {
        let bad = |why: String| ConfigError::Rate {
            text: assignment.to_string(),
            why,
        };
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=PER_DAY".into()))?;
        let scenario = Scenario::from_name(name.trim()).ok_or_else(|| {
            bad(format!(
                "unknown scenario {:?}; known: {}",
                name.trim(),
                Scenario::FRAUDS
                    .map(|s| s.name().unwrap_or_default())
                    .join(", ")
            ))
        })?;
        let v: f64 = value
            .trim()
            .parse()
            .map_err(|_| bad(format!("{:?} is not a number", value.trim())))?;
        if !(v.is_finite() && (0.0..=10_000.0).contains(&v)) {
            return Err(bad(format!("{v} must be between 0 and 10000 a day")));
        }
        match scenario {
            Scenario::AmountOver220 if v == 0.0 || v == 1.0 => self.amount_over_220 = v == 1.0,
            Scenario::AmountOver220 => {
                return Err(bad("amount_over_220 is a rule: 1 (on) or 0 (off)".into()));
            }
            Scenario::CompromisedTerminal => self.compromised_terminal = v,
            Scenario::CompromisedCard => self.compromised_card = v,
            Scenario::CardTesting => self.card_testing = v,
            Scenario::AccountTakeover => self.account_takeover = v,
            Scenario::MerchantCollusion => self.merchant_collusion = v,
            Scenario::Genuine => unreachable!("from_name never names genuine"),
        }
        Ok(())
    }
}

/// A change of the world at a point in event time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriftKind {
    /// Every genuine amount is multiplied by `Drift::amount_factor`.
    Amount,
    /// Customers move to online payments: +30 points of online share (default profile).
    Channel,
    /// A new country opens: 20% of card-present payments happen in Portugal (default profile).
    Country,
    /// Every fraud scenario's rate is multiplied by `Drift::fraud_factor`.
    Fraud,
}

impl DriftKind {
    pub const NAMES: &'static str = "amount, channel, country, fraud";
}

impl FromStr for DriftKind {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.trim() {
            "amount" => Ok(DriftKind::Amount),
            "channel" => Ok(DriftKind::Channel),
            "country" => Ok(DriftKind::Country),
            "fraud" => Ok(DriftKind::Fraud),
            other => Err(ConfigError::UnknownDrift(other.to_string())),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    /// From this event time on (milliseconds since the epoch) the world is changed.
    pub at_ms: i64,
    pub kinds: Vec<DriftKind>,
    pub amount_factor: f64,
    pub fraud_factor: f64,
}

impl Drift {
    pub fn new(at_ms: i64, kinds: Vec<DriftKind>) -> Self {
        Self {
            at_ms,
            kinds,
            amount_factor: 1.5,
            fraud_factor: 5.0,
        }
    }

    pub fn has(&self, kind: DriftKind) -> bool {
        self.kinds.contains(&kind)
    }
}

/// Everything that decides the generated stream: same `Config`, same bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub profile: Profile,
    pub seed: u64,
    pub customers: u32,
    pub terminals: u32,
    /// Event time of day 0, 00:00:00, in milliseconds since the epoch (a whole day).
    pub start_ms: i64,
    /// Days of event time to generate; `None` generates until the consumer stops.
    pub days: Option<u32>,
    pub rates: Rates,
    pub drift: Option<Drift>,
}

/// 2018-04-01T00:00:00Z, the handbook's first day.
pub const HANDBOOK_START_MS: i64 = 1_522_540_800_000;
/// 2024-01-01T00:00:00Z, a Monday.
pub const DEFAULT_START_MS: i64 = 1_704_067_200_000;

impl Config {
    /// The profile's defaults, seed 42, unbounded.
    pub fn new(profile: Profile) -> Self {
        match profile {
            Profile::Handbook => Self {
                profile,
                seed: 42,
                customers: 5_000,
                terminals: 10_000,
                start_ms: HANDBOOK_START_MS,
                days: None,
                rates: Rates::handbook(),
                drift: None,
            },
            Profile::Default => Self {
                profile,
                seed: 42,
                customers: 10_000,
                terminals: 10_000,
                start_ms: DEFAULT_START_MS,
                days: None,
                rates: Rates::default_world(),
                drift: None,
            },
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |what: &str, why: String| {
            Err(ConfigError::Invalid {
                what: what.to_string(),
                why,
            })
        };
        if !(1..=10_000_000).contains(&self.customers) {
            return invalid(
                "customers",
                format!("{} must be 1 to 10,000,000", self.customers),
            );
        }
        let min_terminals = if self.profile == Profile::Default {
            20
        } else {
            1
        };
        if !(min_terminals..=10_000_000).contains(&self.terminals) {
            return invalid(
                "terminals",
                format!("{} must be {min_terminals} to 10,000,000", self.terminals),
            );
        }
        if self.days == Some(0) {
            return invalid("days", "0 must be at least 1".into());
        }
        if self.start_ms.rem_euclid(86_400_000) != 0 {
            return invalid("start", "must be a midnight (UTC)".into());
        }
        if let Some(d) = &self.drift {
            for kind in [DriftKind::Channel, DriftKind::Country] {
                if d.has(kind) && self.profile == Profile::Handbook {
                    return invalid(
                        "drift",
                        format!(
                            "{kind:?} drift needs channels and countries: use --profile default"
                        )
                        .to_lowercase(),
                    );
                }
            }
            if d.kinds.is_empty() {
                return invalid(
                    "drift",
                    format!("name at least one kind: {}", DriftKind::NAMES),
                );
            }
            if !(d.amount_factor.is_finite() && d.amount_factor > 0.0 && d.amount_factor <= 100.0) {
                return invalid(
                    "drift amount factor",
                    format!("{} must be in (0, 100]", d.amount_factor),
                );
            }
            if !(d.fraud_factor.is_finite() && (0.0..=1000.0).contains(&d.fraud_factor)) {
                return invalid(
                    "drift fraud factor",
                    format!("{} must be in [0, 1000]", d.fraud_factor),
                );
            }
        }
        Ok(())
    }

    /// The multiplier of scenario rates on `day` (drift of kind `fraud`).
    pub(crate) fn fraud_factor(&self, day: u32) -> f64 {
        match &self.drift {
            Some(d) if d.has(DriftKind::Fraud) && self.day_start_ms(day) >= d.at_ms => {
                d.fraud_factor
            }
            _ => 1.0,
        }
    }

    pub(crate) fn day_start_ms(&self, day: u32) -> i64 {
        self.start_ms + i64::from(day) * 86_400_000
    }

    /// The time from which a drift `kind` applies, if it does.
    pub(crate) fn drift_from(&self, kind: DriftKind) -> i64 {
        match &self.drift {
            Some(d) if d.has(kind) => d.at_ms,
            _ => i64::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_unknown_ones_are_named() {
        assert_eq!("handbook".parse::<Profile>().unwrap(), Profile::Handbook);
        let e = "fancy".parse::<Profile>().unwrap_err().to_string();
        assert!(
            e.contains("\"fancy\"") && e.contains("handbook, default"),
            "{e}"
        );
        assert!(Config::new(Profile::Handbook).validate().is_ok());
        assert!(Config::new(Profile::Default).validate().is_ok());
    }

    #[test]
    fn rates_are_set_by_name() {
        let mut r = Rates::handbook();
        r.set("card_testing=2.5").unwrap();
        assert_eq!(r.per_day(Scenario::CardTesting), 2.5);
        r.set("amount_over_220=0").unwrap();
        assert!(!r.amount_over_220);
        for (bad, named) in [
            ("card_testing", "NAME=PER_DAY"),
            ("phishing=3", "unknown scenario \"phishing\""),
            ("card_testing=-1", "between 0 and 10000"),
            ("card_testing=lots", "\"lots\" is not a number"),
            ("amount_over_220=0.5", "1 (on) or 0 (off)"),
        ] {
            let e = r.set(bad).unwrap_err().to_string();
            assert!(e.contains(named), "{bad}: {e}");
        }
    }

    #[test]
    fn drift_kinds_need_the_right_profile() {
        let mut c = Config::new(Profile::Handbook);
        c.drift = Some(Drift::new(c.start_ms, vec![DriftKind::Channel]));
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("--profile default")
        );
        c.drift = Some(Drift::new(c.start_ms, vec![DriftKind::Amount]));
        assert!(c.validate().is_ok());
        assert!(
            "weather"
                .parse::<DriftKind>()
                .unwrap_err()
                .to_string()
                .contains("weather")
        );
    }
}
