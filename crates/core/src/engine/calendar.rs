//! Calendar facts of an event time in UTC, by integer arithmetic on milliseconds.

use super::{DAY_MS, HOUR_MS};

/// Day of the week, Monday = 0 … Sunday = 6.
pub fn weekday(ms: i64) -> i64 {
    // 1970-01-01 was a Thursday (3).
    (ms.div_euclid(DAY_MS) + 3).rem_euclid(7)
}

/// Hour of the day, 0 to 23.
pub fn hour(ms: i64) -> i64 {
    ms.rem_euclid(DAY_MS) / HOUR_MS
}

/// Saturday or Sunday.
pub fn is_weekend(ms: i64) -> bool {
    weekday(ms) >= 5
}

/// 00:00:00 to 06:59:59.
pub fn is_night(ms: i64) -> bool {
    hour(ms) <= 6
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike};

    #[test]
    fn agrees_with_chrono() {
        for s in [
            "2018-04-01T00:00:31Z",
            "2018-04-02T06:59:59Z",
            "2018-04-02T07:00:00Z",
            "2018-04-07T23:59:59Z",
            "1969-12-31T23:00:00Z",
            "2100-02-28T12:00:00Z",
        ] {
            let t = crate::time::parse(s).unwrap();
            let ms = t.timestamp_millis();
            assert_eq!(
                weekday(ms),
                i64::from(t.weekday().num_days_from_monday()),
                "{s}"
            );
            assert_eq!(hour(ms), i64::from(t.hour()), "{s}");
        }
        let sunday = crate::time::parse("2018-04-01T00:00:31Z").unwrap();
        assert!(is_weekend(sunday.timestamp_millis()) && is_night(sunday.timestamp_millis()));
    }
}
