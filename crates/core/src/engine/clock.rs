//! The engine's notion of time: the newest event time accepted (the watermark), the allowed
//! lateness, and the arrival sequence that orders events with the same time.

/// Watermark, lateness and arrival counter.
#[derive(Debug, Clone)]
pub struct Clock {
    newest: Option<i64>,
    lateness_ms: i64,
    next_seq: u64,
}

impl Clock {
    /// A clock accepting events up to `lateness_ms` older than the newest one (negative = 0).
    pub fn new(lateness_ms: i64) -> Self {
        Self {
            newest: None,
            lateness_ms: lateness_ms.max(0),
            next_seq: 0,
        }
    }

    /// Accepts an event at `time` (ms) and returns its arrival sequence number, or refuses it and
    /// returns the newest time seen when `time < newest − lateness`. A refused event changes
    /// nothing.
    pub fn admit(&mut self, time: i64) -> Result<u64, i64> {
        if let Some(newest) = self.newest
            && time < newest.saturating_sub(self.lateness_ms)
        {
            return Err(newest);
        }
        self.newest = Some(self.newest.map_or(time, |n| n.max(time)));
        let seq = self.next_seq;
        self.next_seq += 1;
        Ok(seq)
    }

    pub fn newest(&self) -> Option<i64> {
        self.newest
    }

    /// The oldest time an event may still have to be accepted: `newest − lateness`.
    pub fn floor(&self) -> Option<i64> {
        self.newest.map(|n| n.saturating_sub(self.lateness_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_within_lateness_and_refuses_beyond() {
        let mut c = Clock::new(10);
        assert_eq!(c.admit(100), Ok(0));
        assert_eq!(c.admit(90), Ok(1), "exactly newest − lateness is accepted");
        assert_eq!(c.admit(89), Err(100));
        assert_eq!(
            c.admit(120),
            Ok(2),
            "a refused event took no sequence number"
        );
        assert_eq!(c.floor(), Some(110));
        assert_eq!(c.admit(105), Err(120));
    }
}
