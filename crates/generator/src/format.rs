//! Encoders for the hot path: the handbook CSV line, the `Transaction` and `Label` JSON of the wire
//! format, and the labelled JSON-lines record. They append to a caller's buffer, allocate nothing,
//! and write byte for byte what `fraudwatch_core::handbook::Row::write` and
//! `fraudwatch_core::wire::encode` write (tests hold them to it).

use fraudwatch_core::handbook::Row;
use fraudwatch_core::time;

use crate::tx::{LabelEvent, Tx};

const DAY_MS: i64 = 86_400_000;
/// 10000-01-01T00:00:00Z: the fast path covers 1970 to 9999.
const FAST_END_MS: i64 = 253_402_300_800_000;

/// Appends times and rows; caches the date of the last day it wrote.
#[derive(Clone, Default)]
pub struct Encoder {
    day: Option<i64>,
    date: [u8; 10],
    int: itoa::Buffer,
    float: ryu::Buffer,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("day", &self.day).finish()
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn two(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

impl Encoder {
    pub fn new() -> Self {
        Self::default()
    }

    fn int(&mut self, out: &mut Vec<u8>, v: impl itoa::Integer) {
        out.extend_from_slice(self.int.format(v).as_bytes());
    }

    fn float(&mut self, out: &mut Vec<u8>, v: f64) {
        // serde_json writes finite floats with ryu, exactly so.
        out.extend_from_slice(self.float.format_finite(v).as_bytes());
    }

    /// `YYYY-MM-DDTHH:MM:SS` (no zone), and `.mmmZ` after it when `millis`.
    fn datetime(&mut self, out: &mut Vec<u8>, ms: i64, millis: bool) {
        if !(0..FAST_END_MS).contains(&ms) {
            let t = time::from_millis(ms).unwrap_or_default();
            let s = if millis {
                time::format(&t)
            } else {
                t.format("%Y-%m-%dT%H:%M:%S").to_string()
            };
            out.extend_from_slice(s.as_bytes());
            return;
        }
        let day = ms.div_euclid(DAY_MS);
        if self.day != Some(day) {
            let (y, m, d) = civil(day);
            let mut date = Vec::with_capacity(10);
            let y = y as u32;
            two(&mut date, y / 100);
            two(&mut date, y % 100);
            date.push(b'-');
            two(&mut date, m);
            date.push(b'-');
            two(&mut date, d);
            self.date.copy_from_slice(&date);
            self.day = Some(day);
        }
        out.extend_from_slice(&self.date);
        let in_day = ms.rem_euclid(DAY_MS);
        let s = (in_day / 1000) as u32;
        out.push(b'T');
        two(out, s / 3600);
        out.push(b':');
        two(out, s / 60 % 60);
        out.push(b':');
        two(out, s % 60);
        if millis {
            let milli = (in_day % 1000) as u32;
            out.push(b'.');
            out.push(b'0' + (milli / 100) as u8);
            two(out, milli % 100);
            out.push(b'Z');
        }
    }

    /// The handbook CSV header line.
    pub fn csv_header(out: &mut Vec<u8>) {
        out.extend_from_slice(fraudwatch_core::handbook::HEADER.as_bytes());
        out.push(b'\n');
    }

    /// One handbook CSV line; `origin_ms` is the time `tx_time_seconds` counts from.
    pub fn csv_row(&mut self, tx: &Tx, origin_ms: i64, out: &mut Vec<u8>) {
        self.int(out, tx.id);
        out.push(b',');
        self.datetime(out, tx.time_ms, false);
        out.push(b',');
        self.int(out, tx.customer);
        out.push(b',');
        self.int(out, tx.terminal);
        out.push(b',');
        self.int(out, tx.cents / 100);
        out.push(b'.');
        two(out, (tx.cents % 100) as u32);
        out.push(b',');
        let seconds = (tx.time_ms - origin_ms).div_euclid(1000);
        self.int(out, seconds);
        out.push(b',');
        self.int(out, seconds.div_euclid(86_400));
        out.push(b',');
        out.push(if tx.is_fraud() { b'1' } else { b'0' });
        out.push(b',');
        self.int(out, tx.scenario as u8);
        out.push(b'\n');
    }

    /// The `Transaction` JSON of the wire format (no label), without a newline.
    pub fn transaction_json(&mut self, tx: &Tx, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"transaction_id\":\"");
        self.int(out, tx.id);
        out.extend_from_slice(b"\",\"customer_id\":\"");
        self.int(out, tx.customer);
        out.extend_from_slice(b"\",\"terminal_id\":\"");
        self.int(out, tx.terminal);
        out.extend_from_slice(b"\",\"amount\":");
        self.float(out, tx.amount());
        out.extend_from_slice(b",\"currency\":\"EUR\",\"timestamp\":\"");
        self.datetime(out, tx.time_ms, true);
        out.push(b'"');
        if let Some(d) = &tx.detail {
            out.extend_from_slice(b",\"merchant_category\":\"");
            two(out, u32::from(d.mcc / 100 % 100));
            two(out, u32::from(d.mcc % 100));
            out.extend_from_slice(b"\",\"country\":\"");
            out.extend_from_slice(d.country.as_str().as_bytes());
            out.extend_from_slice(b"\",\"channel\":\"");
            out.extend_from_slice(d.channel.as_str().as_bytes());
            out.push(b'"');
            if d.device != 0 {
                out.extend_from_slice(b",\"device_id\":\"");
                self.int(out, d.device);
                out.push(b'"');
            }
            out.extend_from_slice(b",\"lat\":");
            self.float(out, f64::from(d.lat_e4) / 1e4);
            out.extend_from_slice(b",\"lon\":");
            self.float(out, f64::from(d.lon_e4) / 1e4);
        }
        out.push(b'}');
    }

    /// The transaction with its truth, `is_fraud` and `fraud_scenario` (JSON-lines datasets).
    pub fn labelled_json(&mut self, tx: &Tx, out: &mut Vec<u8>) {
        self.transaction_json(tx, out);
        out.pop();
        out.extend_from_slice(if tx.is_fraud() {
            b",\"is_fraud\":true"
        } else {
            b",\"is_fraud\":false"
        });
        if let Some(name) = tx.scenario.name() {
            out.extend_from_slice(b",\"fraud_scenario\":\"");
            out.extend_from_slice(name.as_bytes());
            out.push(b'"');
        }
        out.push(b'}');
    }

    /// The `Label` JSON of the wire format, without a newline.
    pub fn label_json(&mut self, l: &LabelEvent, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"transaction_id\":\"");
        self.int(out, l.transaction_id);
        out.extend_from_slice(b"\",\"customer_id\":\"");
        self.int(out, l.customer);
        out.extend_from_slice(if l.scenario.is_fraud() {
            b"\",\"is_fraud\":true"
        } else {
            b"\",\"is_fraud\":false"
        });
        out.extend_from_slice(b",\"source\":\"chargeback\",\"labelled_at\":\"");
        self.datetime(out, l.labelled_at_ms, true);
        out.push(b'"');
        if let Some(name) = l.scenario.name() {
            out.extend_from_slice(b",\"fraud_scenario\":\"");
            out.extend_from_slice(name.as_bytes());
            out.push(b'"');
        }
        out.push(b'}');
    }
}

/// The handbook `Row` of a transaction (the slow, obviously right path the tests compare with).
pub fn row(tx: &Tx, origin_ms: i64) -> Row {
    let seconds = (tx.time_ms - origin_ms).div_euclid(1000);
    Row {
        transaction_id: tx.id,
        timestamp: time::from_millis(tx.time_ms).unwrap_or_default(),
        customer_id: tx.customer,
        terminal_id: tx.terminal,
        amount: tx.amount(),
        time_seconds: seconds,
        time_days: seconds.div_euclid(86_400),
        is_fraud: tx.is_fraud(),
        scenario: tx.scenario as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Profile};
    use crate::tx::Scenario;
    use crate::world::World;
    use fraudwatch_core::{Label, Transaction, wire};
    use proptest::prelude::*;

    #[test]
    fn civil_dates_match_chrono() {
        for days in (0..2_932_897).step_by(997).chain([2_932_896]) {
            let t = time::from_millis(days * DAY_MS).unwrap();
            let (y, m, d) = civil(days);
            assert_eq!(
                t.format("%Y-%m-%d").to_string(),
                format!("{y:04}-{m:02}-{d:02}")
            );
        }
    }

    fn check_all(tx: &Tx, enc: &mut Encoder, origin: i64) {
        let mut mine = Vec::new();
        enc.csv_row(tx, origin, &mut mine);
        let mut theirs = String::new();
        row(tx, origin).write(&mut theirs);
        assert_eq!(String::from_utf8(mine).unwrap(), theirs);

        let mut mine = Vec::new();
        enc.transaction_json(tx, &mut mine);
        assert_eq!(
            String::from_utf8_lossy(&mine),
            String::from_utf8_lossy(&wire::encode(&tx.to_transaction()))
        );
        assert_eq!(
            wire::decode::<Transaction>(&mine).unwrap(),
            tx.to_transaction()
        );

        let label = tx.label_at(tx.time_ms + 604_800_123);
        let mut mine = Vec::new();
        enc.label_json(&label, &mut mine);
        assert_eq!(
            String::from_utf8_lossy(&mine),
            String::from_utf8_lossy(&wire::encode(&label.to_label()))
        );
        assert_eq!(wire::decode::<Label>(&mine).unwrap(), label.to_label());

        let mut mine = Vec::new();
        enc.labelled_json(tx, &mut mine);
        let v: serde_json::Value = serde_json::from_slice(&mine).unwrap();
        assert_eq!(v["is_fraud"], tx.is_fraud());
        assert_eq!(v["fraud_scenario"].as_str(), tx.scenario.name());
    }

    #[test]
    fn generated_rows_encode_exactly_as_core_does() {
        for profile in [Profile::Handbook, Profile::Default] {
            let mut cfg = Config::new(profile);
            cfg.customers = 300;
            cfg.terminals = 300;
            cfg.days = Some(16);
            cfg.rates.card_testing = 3.0;
            cfg.rates.account_takeover = 3.0;
            cfg.rates.merchant_collusion = 1.0;
            let mut enc = Encoder::new();
            let txs: Vec<Tx> = World::new(cfg.clone()).unwrap().collect();
            assert!(txs.iter().any(|t| t.is_fraud()));
            for tx in &txs {
                check_all(tx, &mut enc, cfg.start_ms);
            }
        }
    }

    proptest! {
        #[test]
        fn any_row_encodes_exactly_as_core_does(
            id in 0u64..u64::MAX, ms in -5_000_000_000_000i64..300_000_000_000_000,
            customer in 0u64..u64::MAX, cents in 0u64..100_000_000_000, code in 0u8..=6,
            origin in 0i64..2_000_000_000_000,
        ) {
            let tx = Tx {
                id, time_ms: ms, customer, terminal: customer / 3, cents,
                scenario: Scenario::ALL[code as usize], detail: None,
            };
            let mut enc = Encoder::new();
            let mut mine = Vec::new();
            enc.csv_row(&tx, origin, &mut mine);
            let mut theirs = String::new();
            row(&tx, origin).write(&mut theirs);
            prop_assert_eq!(String::from_utf8(mine).unwrap(), theirs);
            let mut mine = Vec::new();
            enc.transaction_json(&tx, &mut mine);
            prop_assert_eq!(mine, wire::encode(&tx.to_transaction()));
        }
    }
}
