//! Pacing: when each transaction is due, as an offset from the start of the run. Pure arithmetic;
//! the sinks do the waiting.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As fast as the sink takes them.
    Fastest,
    /// A steady number of transactions per wall-clock second.
    Rate(f64),
    /// Event time mapped to wall time: this many event seconds per wall second (the day's rhythm is kept).
    Speed(f64),
}

#[derive(Debug, Clone)]
pub struct Pacer {
    pace: Pace,
    count: u64,
    first_ms: Option<i64>,
}

impl Pacer {
    pub fn new(pace: Pace) -> Self {
        Self {
            pace,
            count: 0,
            first_ms: None,
        }
    }

    /// When the next transaction (at event time `time_ms`) is due; `None` means now.
    pub fn due(&mut self, time_ms: i64) -> Option<Duration> {
        let n = self.count;
        self.count += 1;
        match self.pace {
            Pace::Fastest => None,
            Pace::Rate(r) => Some(Duration::from_secs_f64(n as f64 / r)),
            Pace::Speed(s) => {
                let first = *self.first_ms.get_or_insert(time_ms);
                let event_s = (time_ms - first).max(0) as f64 / 1000.0;
                Some(Duration::from_secs_f64(event_s / s))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_speed() {
        let mut p = Pacer::new(Pace::Rate(4.0));
        let due: Vec<_> = (0..3).map(|_| p.due(0).unwrap().as_millis()).collect();
        assert_eq!(due, [0, 250, 500]);
        let mut p = Pacer::new(Pace::Speed(3_600.0));
        assert_eq!(p.due(1_000_000).unwrap(), Duration::ZERO);
        assert_eq!(
            p.due(1_000_000 + 7_200_000).unwrap(),
            Duration::from_secs(2)
        );
        assert_eq!(Pacer::new(Pace::Fastest).due(5), None);
    }
}
