//! Parsers for the values users type: durations (`7d`, `30m`, `1h30m`), dates (`2018-04-01` or an
//! RFC 3339 time) and positive rates. Errors say what was typed and what was expected.

use chrono::NaiveDate;

/// A duration in milliseconds from `<number><unit>` segments, units `ms`, `s`, `m`, `h`, `d`, `w`:
/// `7d`, `30m`, `1h30m`, `0s`. A bare `0` is accepted; other bare numbers are refused (ambiguous).
pub fn duration_ms(text: &str) -> Result<i64, String> {
    let bad =
        |why: &str| format!("{text:?} is not a duration ({why}); write e.g. 7d, 12h, 30m, 90s");
    let s = text.trim();
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(bad("empty"));
    }
    if s.starts_with('-') {
        return Err(bad("negative"));
    }
    let mut total: i64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad("a number must come before each unit"));
        }
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| bad("the number is malformed"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit_ms = match &rest[..unit_len] {
            "ms" => 1.0,
            "s" => 1e3,
            "m" | "min" => 60e3,
            "h" => 3_600e3,
            "d" => 86_400e3,
            "w" => 604_800e3,
            "" => return Err(bad("a unit is missing")),
            _ => return Err(bad("unknown unit")),
        };
        rest = &rest[unit_len..];
        let ms = number * unit_ms;
        if !ms.is_finite() || ms > 1e15 {
            return Err(bad("too long"));
        }
        total = total.saturating_add(ms.round() as i64);
    }
    Ok(total)
}

/// A start time: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time; between 1970 and 2200.
pub fn start_ms(text: &str) -> Result<i64, String> {
    let ms = if let Ok(d) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
            .ok_or_else(|| format!("{text:?} is not a valid date"))?
    } else {
        fraudwatch_core::time::parse(text.trim())
            .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"))?
            .timestamp_millis()
    };
    const Y1970: i64 = 0;
    const Y2200: i64 = 7_258_118_400_000;
    if (Y1970..Y2200).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!("{text:?} must be between 1970 and 2200"))
    }
}

/// A strictly positive, finite number (a rate or a speed).
pub fn positive(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err(format!("{text} must be a positive number")),
        Err(_) => Err(format!("{text:?} is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("7d"), Ok(7 * 86_400_000));
        assert_eq!(duration_ms("30m"), Ok(1_800_000));
        assert_eq!(duration_ms("1h30m"), Ok(5_400_000));
        assert_eq!(duration_ms("250ms"), Ok(250));
        assert_eq!(duration_ms("1.5h"), Ok(5_400_000));
        assert_eq!(duration_ms("0"), Ok(0));
        assert_eq!(duration_ms("2w"), Ok(14 * 86_400_000));
        for bad in ["", "7", "d", "-1d", "7 days", "7x", "1e99d", "h1"] {
            let e = duration_ms(bad).unwrap_err();
            assert!(e.contains("is not a duration"), "{bad}: {e}");
        }
    }

    #[test]
    fn starts() {
        assert_eq!(start_ms("2018-04-01"), Ok(1_522_540_800_000));
        assert_eq!(start_ms("2018-04-01T12:00:00Z"), Ok(1_522_584_000_000));
        assert!(start_ms("2018-02-30").is_err());
        assert!(
            start_ms("1969-12-31")
                .unwrap_err()
                .contains("between 1970 and 2200")
        );
        assert!(start_ms("yesterday").is_err());
    }

    #[test]
    fn positives() {
        assert_eq!(positive("2.5"), Ok(2.5));
        assert!(
            positive("-5")
                .unwrap_err()
                .contains("must be a positive number")
        );
        assert!(positive("0").is_err());
        assert!(positive("inf").is_err());
        assert!(positive("NaN").is_err());
        assert!(positive("fast").unwrap_err().contains("is not a number"));
    }
}
