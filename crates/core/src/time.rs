//! Event time. On the wire: RFC 3339 in UTC with exactly three fractional digits,
//! e.g. `2018-04-01T00:00:31.000Z`. Inputs with any offset or precision are accepted and
//! normalised to UTC; precision finer than a millisecond is truncated.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serializer, de};

pub type Timestamp = DateTime<Utc>;

/// Renders a timestamp in the wire format.
pub fn format(t: &Timestamp) -> String {
    String::from(&*Rendered::of(t))
}

/// Parses RFC 3339 (any offset) into UTC, truncated to milliseconds.
pub fn parse(s: &str) -> Result<Timestamp, String> {
    if let Some(t) = parse_wire(s.as_bytes()) {
        return Ok(t);
    }
    let t = DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("{s:?} is not an RFC 3339 timestamp: {e}"))?;
    from_millis(t.timestamp_millis()).ok_or_else(|| format!("{s:?} is out of range"))
}

/// A timestamp in the wire format, on the stack: the common case (years 0–9999, no leap second)
/// is written by hand, as chrono's general formatter is a hot spot of every stage; the rest is
/// chrono's.
pub(crate) enum Rendered {
    Wire([u8; WIRE_LEN]),
    Other(String),
}

/// `2018-04-01T00:00:31.000Z`
const WIRE_LEN: usize = 24;
const DAY_MS: i64 = 86_400_000;

impl Rendered {
    pub(crate) fn of(t: &Timestamp) -> Rendered {
        use chrono::{Datelike, Timelike};
        let (date, time) = (t.date_naive(), t.time());
        let nanos = time.nanosecond();
        if !(0..=9999).contains(&date.year()) || nanos >= 1_000_000_000 {
            return Rendered::Other(t.to_rfc3339_opts(SecondsFormat::Millis, true));
        }
        // In range: every field fits a u32, whose division by 10 is a multiply and a shift.
        let (y, m, d) = (date.year() as u32, date.month(), date.day());
        let (h, min, sec, milli) = (time.hour(), time.minute(), time.second(), nanos / 1_000_000);
        let mut b = *b"0000-00-00T00:00:00.000Z";
        let mut two = |at: usize, v: u32| {
            b[at] = b'0' + (v / 10) as u8;
            b[at + 1] = b'0' + (v % 10) as u8;
        };
        two(0, y / 100);
        two(2, y % 100);
        two(5, m);
        two(8, d);
        two(11, h);
        two(14, min);
        two(17, sec);
        two(21, milli % 100);
        b[20] = b'0' + (milli / 100) as u8;
        Rendered::Wire(b)
    }
}

impl std::ops::Deref for Rendered {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            // Only ASCII digits and separators were written.
            Rendered::Wire(b) => std::str::from_utf8(b).unwrap_or_default(),
            Rendered::Other(s) => s,
        }
    }
}

/// Exactly the wire format (`YYYY-MM-DDTHH:MM:SS.mmmZ`, a valid date, no leap second), read by
/// hand; `None` for anything else, which chrono then parses (or explains).
fn parse_wire(s: &[u8]) -> Option<Timestamp> {
    if s.len() != WIRE_LEN {
        return None;
    }
    let num = |at: usize, width: usize| {
        s[at..at + width].iter().try_fold(0i64, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + i64::from(c - b'0'))
        })
    };
    let punctuation = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ];
    if punctuation.iter().any(|&(at, c)| s[at] != c) {
        return None;
    }
    let (y, m, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, min, sec, milli) = (num(11, 2)?, num(14, 2)?, num(17, 2)?, num(20, 3)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) || h > 23 || min > 59 || sec > 59
    {
        return None;
    }
    let days = days_from_civil(y, m, d);
    from_millis(days * DAY_MS + ((h * 60 + min) * 60 + sec) * 1000 + milli)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
        s.serialize_str(&Rendered::of(t))
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
            Some(t) => s.serialize_some(&*Rendered::of(t)),
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
    fn hand_written_wire_format_matches_chrono() {
        use proptest::prelude::*;
        let chrono_format = |t: &Timestamp| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        let chrono_parse = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .and_then(|t| from_millis(t.timestamp_millis()))
        };
        // Years -1000 to 11000: both sides of the four-digit years the hand path writes.
        let range = -93_800_000_000_000i64..284_900_000_000_000;
        proptest!(|(ms in range, cut in 0usize..24, byte in any::<u8>())| {
            let t = from_millis(ms).unwrap();
            let text = format(&t);
            prop_assert_eq!(&text, &chrono_format(&t));
            prop_assert_eq!(parse(&text).ok(), chrono_parse(&text));
            // One byte changed: the hand path accepts only what chrono reads the same way.
            let mut bent = text.clone().into_bytes();
            if cut < bent.len() {
                bent[cut] = byte;
            }
            if let Ok(bent) = String::from_utf8(bent) {
                prop_assert_eq!(parse(&bent).ok(), chrono_parse(&bent), "{}", bent);
            }
        });
        // Every position, every digit and separator, around month and year ends.
        for base in [
            "2018-04-30T23:59:59.999Z",
            "2000-02-29T00:00:00.000Z",
            "1999-12-31T19:09:09.090Z",
        ] {
            for at in 0..base.len() {
                for &c in b"0123456789-T:.Z+z " {
                    let mut bent = base.as_bytes().to_vec();
                    bent[at] = c;
                    let bent = String::from_utf8(bent).unwrap();
                    assert_eq!(parse(&bent).ok(), chrono_parse(&bent), "{bent}");
                }
            }
        }
        for edge in [
            "2000-02-29T23:59:59.999Z",
            "1900-02-29T00:00:00.000Z",
            "2018-04-31T00:00:00.000Z",
            "2018-06-30T23:59:60.000Z",
            "0000-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
        ] {
            assert_eq!(parse(edge).ok(), chrono_parse(edge), "{edge}");
            if let Ok(t) = parse(edge) {
                assert_eq!(format(&t), chrono_format(&t));
            }
        }
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
