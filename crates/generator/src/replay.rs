//! Replay of a dataset in the handbook CSV layout: the rows of a [`HandbookFile`] as `Tx`s, in file
//! order, which must be event-time order.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use fraudwatch_core::handbook::Row;
use fraudwatch_core::transaction::MAX_AMOUNT;

use crate::error::Error;
use crate::handbook_file::HandbookFile;
use crate::tx::{Scenario, Tx};

#[derive(Debug)]
pub struct Replay {
    file: HandbookFile,
    /// Time and line of the row last returned.
    last: Option<(i64, u64)>,
    origin_ms: Option<i64>,
    failed: bool,
}

impl Replay {
    /// Opens `path` and checks its header.
    pub fn open(path: &Path) -> Result<Replay, Error> {
        Ok(Replay {
            file: HandbookFile::open(path)?,
            last: None,
            origin_ms: None,
            failed: false,
        })
    }

    /// The time `tx_time_seconds` counts from (known after the first row).
    pub fn origin_ms(&self) -> Option<i64> {
        self.origin_ms
    }

    /// Bytes of the file read so far, and its size.
    pub fn position(&self) -> (u64, u64) {
        self.file.position()
    }

    /// A counter of the bytes read that stays readable while the replay is being iterated.
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        self.file.bytes_read()
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    fn checked_tx(&mut self, row: Row) -> Result<Tx, Error> {
        let line = self.file.line();
        let scenario = Scenario::from_handbook_code(row.scenario).unwrap_or_default();
        if row.is_fraud != scenario.is_fraud() {
            let problem = format!(
                "tx_fraud = {} but tx_fraud_scenario = {}",
                u8::from(row.is_fraud),
                row.scenario
            );
            return Err(self.file.error(line, problem));
        }
        if row.amount > MAX_AMOUNT {
            return Err(self.file.error(
                line,
                format!("column tx_amount = {} is above {MAX_AMOUNT}", row.amount),
            ));
        }
        let time_ms = row.timestamp.timestamp_millis();
        if let Some((last_ms, last_line)) = self.last
            && time_ms < last_ms
        {
            let problem = format!(
                "tx_datetime {} is earlier than line {last_line}'s: a replay file must be sorted by time",
                row.timestamp.format("%Y-%m-%dT%H:%M:%S")
            );
            return Err(self.file.error(line, problem));
        }
        self.last = Some((time_ms, line));
        self.origin_ms
            .get_or_insert(time_ms - row.time_seconds * 1000);
        Ok(Tx {
            id: row.transaction_id,
            time_ms,
            customer: row.customer_id,
            terminal: row.terminal_id,
            cents: (row.amount * 100.0).round() as u64,
            scenario,
            detail: None,
        })
    }
}

impl Iterator for Replay {
    type Item = Result<Tx, Error>;

    fn next(&mut self) -> Option<Result<Tx, Error>> {
        if self.failed {
            return None;
        }
        let r = self.file.next()?.and_then(|row| self.checked_tx(row));
        self.failed = r.is_err();
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Write;
    use std::path::PathBuf;

    const HEAD: &str = "transaction_id,tx_datetime,customer_id,terminal_id,tx_amount,tx_time_seconds,tx_time_days,tx_fraud,tx_fraud_scenario\n";
    const ROWS: &str = "0,2018-04-01T00:00:31,596,3156,57.16,31,0,0,0\n1,2018-04-01T00:02:10,4961,3412,81.51,130,0,1,2\n";

    fn file(dir: &Path, name: &str, text: &str, gz: bool) -> PathBuf {
        let p = dir.join(name);
        let f = File::create(&p).unwrap();
        if gz {
            let mut w = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
            w.write_all(text.as_bytes()).unwrap();
            w.finish().unwrap();
        } else {
            let mut f = f;
            f.write_all(text.as_bytes()).unwrap();
        }
        p
    }

    #[test]
    fn reads_plain_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        for gz in [false, true] {
            let p = file(
                dir.path(),
                if gz { "t.csv.gz" } else { "t.csv" },
                &format!("{HEAD}{ROWS}"),
                gz,
            );
            let mut r = Replay::open(&p).unwrap();
            let txs: Vec<Tx> = r.by_ref().map(Result::unwrap).collect();
            assert_eq!(txs.len(), 2);
            assert_eq!((txs[0].id, txs[0].customer, txs[0].cents), (0, 596, 5716));
            assert_eq!(txs[1].scenario, Scenario::CompromisedTerminal);
            assert_eq!(r.origin_ms(), Some(1_522_540_800_000));
        }
    }

    #[test]
    fn problems_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("", "line 1: the file is empty"),
            ("a,b\n", "line 1: header is"),
            (
                &format!("{HEAD}{ROWS}2,2018-04-01T00:03:00,1,2,oops,180,0,0,0\n"),
                "line 4: column tx_amount = \"oops\"",
            ),
            (
                &format!("{HEAD}{ROWS}2,2018-04-01T00:01:00,1,2,3.00,60,0,0,0\n"),
                "line 4: tx_datetime 2018-04-01T00:01:00 is earlier than line 3's",
            ),
            (
                &format!("{HEAD}0,2018-04-01T00:00:31,596,3156,57.16,31,0,1,0\n"),
                "line 2: tx_fraud = 1 but tx_fraud_scenario = 0",
            ),
            (
                &format!("{HEAD}0,2018-04-01T00:00:31,596,3156,57.16,31,0,0\n"),
                "line 2: column tx_fraud_scenario is missing",
            ),
        ];
        for (i, (text, expected)) in cases.iter().enumerate() {
            let p = file(dir.path(), &format!("{i}.csv"), text, i % 2 == 1);
            let err = match Replay::open(&p) {
                Err(e) => e,
                Ok(r) => r.filter_map(Result::err).next().expect("an error"),
            };
            let msg = err.to_string();
            assert!(
                msg.contains(expected) && msg.contains(&format!("{i}.csv")),
                "{expected}: {msg}"
            );
        }
        let missing = Replay::open(&dir.path().join("missing.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("cannot read") && missing.contains("missing.csv"),
            "{missing}"
        );
        let broken = file(dir.path(), "broken.gz", "", false);
        std::fs::write(&broken, [0x1f, 0x8b, 0x08, 0x00, 0x01]).unwrap();
        let e = match Replay::open(&broken) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a truncated gzip file must not open"),
        };
        assert!(e.contains("line 1: cannot read"), "{e}");
    }
}
