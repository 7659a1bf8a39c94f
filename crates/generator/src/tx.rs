//! The generator's compact events: `Tx` (a transaction with its hidden truth), `LabelEvent` (that
//! truth, learnt late) and `Event` (either, in stream order). They are `Copy`, hold no heap data,
//! and turn into the pipeline's contract types (`Transaction`, `Label`) on demand.

use fraudwatch_core::handbook::{self, CURRENCY};
use fraudwatch_core::{Channel, Country, Id, Label, LabelSource, Transaction, time};

/// Why a transaction is (or is not) a fraud. The first four codes are the handbook's
/// `tx_fraud_scenario` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(u8)]
pub enum Scenario {
    #[default]
    Genuine = 0,
    /// Handbook scenario 1: every amount above 220 is a fraud.
    AmountOver220 = 1,
    /// Handbook scenario 2: every transaction at a compromised terminal for 28 days.
    CompromisedTerminal = 2,
    /// Handbook scenario 3: a third of a leaked card's transactions for 14 days, amounts ×5.
    CompromisedCard = 3,
    /// A burst of small online payments on one card within minutes, then a large one.
    CardTesting = 4,
    /// A new device in a far-away country, spending unlike the customer.
    AccountTakeover = 5,
    /// A merchant runs a ring of stolen cards through its own terminal, at night, round amounts.
    MerchantCollusion = 6,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::Genuine,
        Scenario::AmountOver220,
        Scenario::CompromisedTerminal,
        Scenario::CompromisedCard,
        Scenario::CardTesting,
        Scenario::AccountTakeover,
        Scenario::MerchantCollusion,
    ];

    /// The fraud scenarios (all but `Genuine`).
    pub const FRAUDS: [Scenario; 6] = [
        Scenario::AmountOver220,
        Scenario::CompromisedTerminal,
        Scenario::CompromisedCard,
        Scenario::CardTesting,
        Scenario::AccountTakeover,
        Scenario::MerchantCollusion,
    ];

    pub fn is_fraud(self) -> bool {
        self != Scenario::Genuine
    }

    /// The name carried in a label's `fraud_scenario`; `None` for genuine transactions.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Scenario::Genuine => None,
            fraud => handbook::scenario_name(fraud as u8),
        }
    }

    /// The scenario a name stands for (fraud scenarios only).
    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::FRAUDS
            .into_iter()
            .find(|s| s.name() == Some(name))
    }

    /// The code in the handbook CSV layout's `tx_fraud_scenario` (0 to 3 the handbook's, 4 to 6
    /// fraudwatch's extension, see `fraudwatch_core::handbook::scenario_name`).
    pub fn handbook_code(self) -> u8 {
        self as u8
    }

    pub fn from_handbook_code(code: u8) -> Option<Scenario> {
        Scenario::ALL.get(usize::from(code)).copied()
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the default profile knows beyond the handbook's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detail {
    pub channel: Channel,
    /// Where the payment happened: the terminal's country, or the device's for online payments.
    pub country: Country,
    /// ISO 18245 merchant category code.
    pub mcc: u16,
    /// The paying device (online payments); 0 when there is none.
    pub device: u32,
    /// Latitude and longitude in units of 1e-4 degree.
    pub lat_e4: i32,
    pub lon_e4: i32,
}

/// One transaction and its truth. `id` is assigned in time order as the stream is emitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tx {
    pub id: u64,
    /// Event time, milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub customer: u64,
    pub terminal: u64,
    /// Amount in cents (euros).
    pub cents: u64,
    pub scenario: Scenario,
    pub detail: Option<Detail>,
}

impl Tx {
    pub fn amount(&self) -> f64 {
        self.cents as f64 / 100.0
    }

    pub fn is_fraud(&self) -> bool {
        self.scenario.is_fraud()
    }

    /// The transaction as the pipeline sees it: no label.
    pub fn to_transaction(&self) -> Transaction {
        let d = self.detail;
        Transaction {
            transaction_id: Id::from(self.id),
            customer_id: Id::from(self.customer),
            terminal_id: Id::from(self.terminal),
            amount: self.amount(),
            currency: CURRENCY,
            timestamp: time::from_millis(self.time_ms).unwrap_or_default(),
            merchant_category: d.map(|d| format!("{:04}", d.mcc)),
            country: d.map(|d| d.country),
            channel: d.map(|d| d.channel),
            device_id: d
                .filter(|d| d.device != 0)
                .map(|d| Id::from(u64::from(d.device))),
            lat: d.map(|d| f64::from(d.lat_e4) / 1e4),
            lon: d.map(|d| f64::from(d.lon_e4) / 1e4),
        }
    }

    /// The label learnt at `labelled_at_ms`.
    pub fn label_at(&self, labelled_at_ms: i64) -> LabelEvent {
        LabelEvent {
            transaction_id: self.id,
            customer: self.customer,
            scenario: self.scenario,
            tx_time_ms: self.time_ms,
            labelled_at_ms,
        }
    }
}

/// The truth about one transaction, as a chargeback learnt late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelEvent {
    pub transaction_id: u64,
    pub customer: u64,
    pub scenario: Scenario,
    /// When the labelled transaction happened.
    pub tx_time_ms: i64,
    pub labelled_at_ms: i64,
}

impl LabelEvent {
    pub fn to_label(&self) -> Label {
        Label {
            transaction_id: Id::from(self.transaction_id),
            customer_id: Id::from(self.customer),
            is_fraud: self.scenario.is_fraud(),
            source: LabelSource::Chargeback,
            labelled_at: time::from_millis(self.labelled_at_ms).unwrap_or_default(),
            fraud_scenario: self.scenario.name().map(str::to_string),
        }
    }
}

/// One item of the output stream, in event-time order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    Transaction(Tx),
    Label(LabelEvent),
}

/// A country code from a two-letter literal.
pub(crate) const fn country(code: &[u8; 2]) -> Country {
    match Country::parse_const(*code) {
        Some(c) => c,
        None => panic!("country codes are two upper-case letters"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_names_and_codes() {
        assert_eq!(Scenario::Genuine.name(), None);
        assert_eq!(Scenario::AmountOver220.name(), Some("amount_over_220"));
        assert_eq!(
            Scenario::CompromisedTerminal.name(),
            Some("compromised_terminal")
        );
        assert_eq!(Scenario::CompromisedCard.name(), Some("compromised_card"));
        for s in Scenario::FRAUDS {
            assert_eq!(Scenario::from_name(s.name().unwrap()), Some(s));
        }
        for code in 0..=6 {
            assert_eq!(
                Scenario::from_handbook_code(code).unwrap().handbook_code(),
                code
            );
        }
        assert_eq!(Scenario::CardTesting.handbook_code(), 4);
        assert_eq!(Scenario::from_handbook_code(7), None);
        assert_eq!(Scenario::from_name("genuine"), None);
    }
}
