//! `Transaction`: one card payment as it enters the pipeline (DESIGN.md §3).
//! It never carries the fraud label: labels travel separately, late, as `Label`s.

use serde::{Deserialize, Serialize};

use crate::codes::{Channel, Country, Currency};
use crate::id::Id;
use crate::time::{self, Timestamp};
use crate::validate::{Validate, ValidationError, check_range, check_text};

/// Largest amount accepted in one transaction, in the currency's major unit.
pub const MAX_AMOUNT: f64 = 1e9;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transaction {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::id::openapi::id))]
    pub transaction_id: Id,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::id::openapi::id))]
    pub customer_id: Id,
    /// The merchant terminal.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::id::openapi::id))]
    pub terminal_id: Id,
    /// In the currency's major unit (e.g. euros, not cents).
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1e9))]
    pub amount: f64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "EUR", pattern = "^[A-Z]{3}$"))]
    pub currency: Currency,
    /// Event time: when the payment happened, not when fraudwatch saw it.
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub timestamp: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 64,
            pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
        )
    )]
    pub merchant_category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "FR", pattern = "^[A-Z]{2}$"))]
    pub country: Option<Country>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::id::openapi::optional_id))]
    pub device_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = -90.0, maximum = 90.0))]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = -180.0, maximum = 180.0))]
    pub lon: Option<f64>,
}

impl Validate for Transaction {
    fn validate(&self) -> Result<(), ValidationError> {
        self.transaction_id.check("transaction_id")?;
        self.customer_id.check("customer_id")?;
        self.terminal_id.check("terminal_id")?;
        check_range("amount", self.amount, 0.0, MAX_AMOUNT)?;
        check_plausible_time("timestamp", &self.timestamp)?;
        if let Some(mcc) = &self.merchant_category {
            check_text("merchant_category", mcc, 64)?;
        }
        if let Some(device) = &self.device_id {
            device.check("device_id")?;
        }
        match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => {
                check_range("lat", lat, -90.0, 90.0)?;
                check_range("lon", lon, -180.0, 180.0)
            }
            (None, None) => Ok(()),
            (Some(lat), None) => Err(ValidationError::new(
                "lon",
                lat,
                "lat and lon come together",
            )),
            (None, Some(lon)) => Err(ValidationError::new(
                "lat",
                lon,
                "lat and lon come together",
            )),
        }
    }
}

/// Rejects times before 1970 or after 2200: such values are bugs upstream, not payments.
pub fn check_plausible_time(field: &'static str, t: &Timestamp) -> Result<(), ValidationError> {
    use chrono::Datelike;
    if (1970..=2200).contains(&t.year()) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            time::format(t),
            "must be between 1970 and 2200",
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub fn sample() -> Transaction {
        Transaction {
            transaction_id: Id::from(7u64),
            customer_id: Id::from("c-596"),
            terminal_id: Id::from(3156u64),
            amount: 57.16,
            currency: Currency::parse("EUR").unwrap(),
            timestamp: time::parse("2018-04-01T00:00:31Z").unwrap(),
            merchant_category: Some("5411".into()),
            country: Country::parse("BE"),
            channel: Some(Channel::CardPresent),
            device_id: None,
            lat: Some(50.85),
            lon: Some(4.35),
        }
    }

    #[test]
    fn wire_format_is_stable() {
        let json = serde_json::to_string(&sample()).unwrap();
        assert_eq!(
            json,
            r#"{"transaction_id":"7","customer_id":"c-596","terminal_id":"3156","amount":57.16,"currency":"EUR","timestamp":"2018-04-01T00:00:31.000Z","merchant_category":"5411","country":"BE","channel":"card_present","lat":50.85,"lon":4.35}"#
        );
    }

    #[test]
    fn invalid_fields_are_named() {
        let mut t = sample();
        t.amount = -0.01;
        assert_eq!(t.validate().unwrap_err().field, "amount");
        let mut t = sample();
        t.lon = None;
        assert_eq!(t.validate().unwrap_err().field, "lon");
        let mut t = sample();
        t.lat = Some(91.0);
        assert_eq!(t.validate().unwrap_err().field, "lat");
        let mut t = sample();
        t.timestamp = time::parse("1900-01-01T00:00:00Z").unwrap();
        assert_eq!(t.validate().unwrap_err().field, "timestamp");
        let mut t = sample();
        t.merchant_category = Some(String::new());
        assert_eq!(t.validate().unwrap_err().field, "merchant_category");
    }

    prop_compose! {
        pub fn arb_transaction()(
            tx in 0u64..u64::MAX, cust in "[a-z0-9_-]{1,30}", term in 0u64..1_000_000,
            cents in 0u64..100_000_000, ms in 0i64..4_000_000_000_000,
            lat in -90.0f64..=90.0, lon in -180.0f64..=180.0, has_geo: bool,
            channel in proptest::sample::select(Channel::ALL.to_vec()),
        ) -> Transaction {
            Transaction {
                transaction_id: Id::from(tx),
                customer_id: Id::from(cust.as_str()),
                terminal_id: Id::from(term),
                amount: cents as f64 / 100.0,
                currency: Currency::parse("USD").unwrap(),
                timestamp: time::from_millis(ms).unwrap(),
                merchant_category: None,
                country: Country::parse("US"),
                channel: Some(channel),
                device_id: has_geo.then(|| Id::from("dev-1")),
                lat: has_geo.then_some(lat),
                lon: has_geo.then_some(lon),
            }
        }
    }

    proptest! {
        #[test]
        fn round_trips_through_json(t in arb_transaction()) {
            prop_assert!(t.validate().is_ok());
            let back: Transaction = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
            prop_assert_eq!(back, t);
        }
    }
}
