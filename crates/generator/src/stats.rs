//! `Summary`: what a run produced (counts per scenario, event-time span, speed), as JSON.

use std::fmt::Write as _;
use std::time::Duration;

use fraudwatch_core::time;

use crate::tx::{Event, Scenario, Tx};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub transactions: u64,
    pub labels: u64,
    /// Transactions per scenario, indexed by `Scenario::index`.
    pub by_scenario: [u64; 7],
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub elapsed: Duration,
}

impl Summary {
    pub fn add_tx(&mut self, tx: &Tx) {
        self.transactions += 1;
        self.by_scenario[tx.scenario.index()] += 1;
        self.first_ms.get_or_insert(tx.time_ms);
        self.last_ms = Some(tx.time_ms);
    }

    pub fn add(&mut self, ev: &Event) {
        match ev {
            Event::Transaction(tx) => self.add_tx(tx),
            Event::Label(_) => self.labels += 1,
        }
    }

    pub fn frauds(&self) -> u64 {
        self.transactions - self.by_scenario[Scenario::Genuine.index()]
    }

    pub fn fraud_rate(&self) -> f64 {
        if self.transactions == 0 {
            0.0
        } else {
            self.frauds() as f64 / self.transactions as f64
        }
    }

    pub fn per_second(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.transactions as f64 / s
        } else {
            0.0
        }
    }

    /// One line of JSON, with `extra` fields (already JSON-encoded values) appended.
    pub fn to_json(&self, extra: &[(&str, String)]) -> String {
        let mut s = String::with_capacity(512);
        let _ = write!(
            s,
            "{{\"transactions\":{},\"labels\":{},\"frauds\":{},\"fraud_rate\":{:.6},\"by_scenario\":{{",
            self.transactions,
            self.labels,
            self.frauds(),
            self.fraud_rate()
        );
        for (i, sc) in Scenario::FRAUDS.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(
                s,
                "{sep}\"{}\":{}",
                sc.name().unwrap_or_default(),
                self.by_scenario[sc.index()]
            );
        }
        let t = |ms: Option<i64>| {
            ms.and_then(time::from_millis)
                .map_or("null".to_string(), |t| format!("\"{}\"", time::format(&t)))
        };
        let _ = write!(
            s,
            "}},\"first_event\":{},\"last_event\":{},\"seconds\":{:.3},\"transactions_per_second\":{:.0}",
            t(self.first_ms),
            t(self.last_ms),
            self.elapsed.as_secs_f64(),
            self.per_second()
        );
        for (k, v) in extra {
            let _ = write!(s, ",\"{k}\":{v}");
        }
        s.push('}');
        s
    }
}

/// A string as a JSON string literal.
pub fn json_string(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_valid() {
        let mut s = Summary::default();
        s.add_tx(&Tx {
            id: 0,
            time_ms: 1_522_540_831_000,
            customer: 1,
            terminal: 2,
            cents: 300,
            scenario: Scenario::CardTesting,
            detail: None,
        });
        s.elapsed = Duration::from_millis(10);
        let v: serde_json::Value =
            serde_json::from_str(&s.to_json(&[("output", json_string("a \"b\".csv"))])).unwrap();
        assert_eq!(v["frauds"], 1);
        assert_eq!(v["by_scenario"]["card_testing"], 1);
        assert_eq!(v["first_event"], "2018-04-01T00:00:31.000Z");
        assert_eq!(v["output"], "a \"b\".csv");
        assert_eq!(v["transactions_per_second"], 100);
    }
}
