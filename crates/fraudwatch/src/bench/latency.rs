//! Latency samples and their summary, and `ingested_at` read off an encoded score without
//! decoding all of it (the reader must not be what limits the pipeline it measures).

use serde::Serialize;

/// Latencies in milliseconds.
#[derive(Debug, Default)]
pub(super) struct Samples(Vec<f64>);

/// Nearest-rank percentiles, in milliseconds rounded to the microsecond; `null` without samples.
#[derive(Debug, Serialize)]
pub(super) struct Summary {
    pub count: usize,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl Samples {
    /// One transaction that entered the bus at `ingested_ms` (ms since the epoch) and was done
    /// at `now_us` (µs since the epoch).
    pub fn push(&mut self, now_us: i64, ingested_ms: i64) {
        self.0.push((now_us - ingested_ms * 1_000) as f64 / 1_000.0);
    }

    /// A latency measured directly.
    pub fn push_ms(&mut self, ms: f64) {
        self.0.push(ms);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn summary(&mut self) -> Summary {
        self.0.sort_by(f64::total_cmp);
        let n = self.0.len();
        let rank = |p: f64| {
            let k = ((p * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
            self.0.get(k).map(|&ms| round3(ms))
        };
        Summary {
            count: n,
            p50: rank(0.50),
            p95: rank(0.95),
            p99: rank(0.99),
            max: rank(1.0),
        }
    }
}

/// `x` rounded to three decimals.
pub(super) fn round3(x: f64) -> f64 {
    (x * 1_000.0).round() / 1_000.0
}

/// The `ingested_at` of an encoded `Score`, in ms since the epoch. It is the last field the
/// scorer writes, so only the payload's tail is searched; anything else is decoded in full.
pub(super) fn ingested_ms(payload: &[u8]) -> Option<i64> {
    const KEY: &[u8] = b"\"ingested_at\":\"";
    let tail = &payload[payload.len().saturating_sub(64)..];
    let fast = tail
        .windows(KEY.len())
        .rposition(|w| w == KEY)
        .and_then(|at| {
            let rest = &tail[at + KEY.len()..];
            let end = rest.iter().position(|&b| b == b'"')?;
            let text = std::str::from_utf8(&rest[..end]).ok()?;
            fraudwatch_core::time::parse(text).ok()
        });
    let at = match fast {
        Some(t) => t,
        None => {
            fraudwatch_core::decode::<fraudwatch_core::Score>(payload)
                .ok()?
                .ingested_at?
        }
    };
    Some(at.timestamp_millis())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Samples::default();
        for ms in (1..=100).rev() {
            s.push(ms * 1_000 + 500, 0);
        }
        let sum = s.summary();
        assert_eq!(sum.count, 100);
        assert_eq!(
            (sum.p50, sum.p95, sum.p99, sum.max),
            (Some(50.5), Some(95.5), Some(99.5), Some(100.5))
        );
        let empty = Samples::default().summary();
        assert_eq!((empty.count, empty.p50, empty.max), (0, None, None));
    }

    #[test]
    fn reads_ingested_at_off_the_tail_or_in_full() {
        let tail = br#"{"transaction_id":"7","risk":0.5,"ingested_at":"2024-01-01T00:00:01.250Z"}"#;
        assert_eq!(ingested_ms(tail), Some(1_704_067_201_250));
        assert_eq!(ingested_ms(br#"{"risk":0.5}"#), None);
        assert_eq!(ingested_ms(b"not json"), None);
    }
}
