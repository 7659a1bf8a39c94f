//! Event time. On the wire: RFC 3339 in UTC with exactly three fractional digits,
//! e.g. `2018-04-01T00:00:31.000Z`. Inputs with any offset or precision are accepted and
//! normalised to UTC; precision finer than a millisecond is truncated.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serializer, de};

pub type Timestamp = DateTime<Utc>;

/// Renders a timestamp in the wire format.
pub fn format(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses RFC 3339 (any offset) into UTC, truncated to milliseconds.
pub fn parse(s: &str) -> Result<Timestamp, String> {
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("{s:?} is not an RFC 3339 timestamp: {e}"))?;
    from_millis(t.timestamp_millis()).ok_or_else(|| format!("{s:?} is out of range"))
}

/// The current time at the wire's precision (milliseconds), so that a value stored and read back
/// (PostgreSQL keeps microseconds, JSON milliseconds) compares equal to the original.
pub fn now() -> Timestamp {
    from_millis(Utc::now().timestamp_millis()).expect("the clock is within chrono's range")
}

/// Milliseconds since the Unix epoch to a timestamp.
pub fn from_millis(ms: i64) -> Option<Timestamp> {
    Utc.timestamp_millis_opt(ms).single()
}

/// Serde adapter for `Timestamp` fields: `#[serde(with = "crate::time::wire")]`.
pub mod wire {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse(&s).map_err(de::Error::custom)
    }
}

/// Serde adapter for `Option<Timestamp>` fields.
pub mod wire_opt {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&format(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let s = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        s.map(|s| parse(&s).map_err(de::Error::custom)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_utc_millis() {
        let t = parse("2018-04-01T02:00:31.123456+02:00").unwrap();
        assert_eq!(format(&t), "2018-04-01T00:00:31.123Z");
        assert_eq!(
            format(&parse("2018-04-01T00:00:31Z").unwrap()),
            "2018-04-01T00:00:31.000Z"
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "2018-04-01",
            "2018-04-01 00:00:31",
            "2018-13-01T00:00:00Z",
            "yesterday",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
