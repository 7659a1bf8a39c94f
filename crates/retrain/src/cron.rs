//! Schedules in cron's five fields — minute, hour, day of month, month, day of week (0 or 7 is
//! Sunday) — in UTC. Each field is `*`, a number, a range `a-b`, a list `a,b`, or any of those
//! with a step `/n`. As in cron, when both day fields are restricted a day matching either runs.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    text: String,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    any_day: bool,
    any_weekday: bool,
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields[..] else {
            return Err(format!(
                "schedule {text:?}: expected 5 fields (minute hour day-of-month month day-of-week), got {}",
                fields.len()
            ));
        };
        let field = |s: &str, name: &str, lo: u32, hi: u32| {
            bits(s, lo, hi).map_err(|why| format!("schedule {text:?}: {name} {s:?}: {why}"))
        };
        let mut weekdays = field(weekday, "day of week", 0, 7)?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1; // 7 is Sunday too
        }
        Ok(Schedule {
            text: text.to_string(),
            minutes: field(minute, "minute", 0, 59)?,
            hours: field(hour, "hour", 0, 23)?,
            days: field(day, "day of month", 1, 31)?,
            months: field(month, "month", 1, 12)?,
            weekdays,
            any_day: day == "*",
            any_weekday: weekday == "*",
        })
    }

    /// The first whole minute strictly after `after` that the schedule names (within 5 years).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut t = after.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let end = after + Duration::days(5 * 366);
        while t < end {
            if !has(self.months, t.month()) {
                t = next_month(t)?;
                continue;
            }
            if !self.day_matches(t) {
                t = (t + Duration::days(1)).with_hour(0)?.with_minute(0)?;
                continue;
            }
            if !has(self.hours, t.hour()) {
                t = (t + Duration::hours(1)).with_minute(0)?;
                continue;
            }
            if has(self.minutes, t.minute()) {
                return Some(t);
            }
            t += Duration::minutes(1);
        }
        None
    }

    fn day_matches(&self, t: DateTime<Utc>) -> bool {
        let day = has(self.days, t.day());
        let weekday = has(self.weekdays, t.weekday().num_days_from_sunday());
        match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (true, false) => weekday,
            (false, true) => day,
            (false, false) => day || weekday,
        }
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

fn has(set: u64, v: u32) -> bool {
    set & (1 << v) != 0
}

fn next_month(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (y, m) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    t.with_day(1)?
        .with_hour(0)?
        .with_minute(0)?
        .with_year(y)?
        .with_month(m)
}

/// The values a field names, as bits.
fn bits(field: &str, lo: u32, hi: u32) -> Result<u64, String> {
    let mut set = 0u64;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("step {s:?} is not a positive number"))?,
            ),
            None => (part, 1),
        };
        let number = |s: &str| -> Result<u32, String> {
            s.parse::<u32>()
                .ok()
                .filter(|v| (lo..=hi).contains(v))
                .ok_or_else(|| format!("{s:?} is not a number from {lo} to {hi}"))
        };
        let (a, b) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                None if step > 1 => (number(r)?, hi),
                None => (number(r)?, number(r)?),
            },
        };
        if a > b {
            return Err(format!("range {a}-{b} runs backwards"));
        }
        for v in (a..=b).step_by(step as usize) {
            set |= 1 << v;
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(schedule: &str, after: &str) -> String {
        let t = Schedule::parse(schedule)
            .unwrap()
            .next_after(at(after))
            .unwrap();
        t.to_rfc3339()
    }

    #[test]
    fn next_runs_follow_cron() {
        // Weekly, Mondays at 03:00: 2026-11-29 is a Sunday.
        assert_eq!(
            next("0 3 * * 1", "2026-11-29T10:00:00Z"),
            "2026-11-30T03:00:00+00:00"
        );
        assert_eq!(
            next("0 3 * * 1", "2026-11-30T03:00:00Z"),
            "2026-12-07T03:00:00+00:00"
        );
        assert_eq!(
            next("*/15 * * * *", "2026-11-29T10:07:30Z"),
            "2026-11-29T10:15:00+00:00"
        );
        assert_eq!(
            next("30 2 1 * *", "2026-12-05T00:00:00Z"),
            "2027-01-01T02:30:00+00:00"
        );
        assert_eq!(
            next("0 0 29 2 *", "2026-03-01T00:00:00Z"),
            "2028-02-29T00:00:00+00:00"
        );
        assert_eq!(
            next("0 12 * * 7", "2026-11-29T12:00:00Z"),
            "2026-12-06T12:00:00+00:00"
        );
        assert_eq!(
            next("0 9-17/4 * * 1-5", "2026-11-30T10:00:00Z"),
            "2026-11-30T13:00:00+00:00"
        );
        // Both day fields restricted: either matches (the 1st, or any Friday).
        assert_eq!(
            next("0 0 1 * 5", "2026-11-29T00:00:00Z"),
            "2026-12-01T00:00:00+00:00"
        );
        assert_eq!(
            next("0 0 1 * 5", "2026-12-01T00:00:00Z"),
            "2026-12-04T00:00:00+00:00"
        );
        assert!(
            Schedule::parse("0 0 31 2 *")
                .unwrap()
                .next_after(at("2026-01-01T00:00:00Z"))
                .is_none()
        );
    }

    #[test]
    fn garbage_is_named() {
        for (text, needle) in [
            ("", "expected 5 fields"),
            ("* * * *", "got 4"),
            ("60 * * * *", "minute \"60\""),
            ("* 24 * * *", "hour"),
            ("* * 0 * *", "day of month"),
            ("* * * 13 *", "month"),
            ("* * * * 8", "day of week"),
            ("*/0 * * * *", "step"),
            ("5-1 * * * *", "backwards"),
            ("a * * * *", "\"a\""),
            ("@weekly", "expected 5 fields"),
        ] {
            let err = Schedule::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
