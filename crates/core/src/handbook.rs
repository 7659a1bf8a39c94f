//! The fraud handbook's CSV layout (`shared/data/handbook/README.md`): one transaction per line,
//!
//! `transaction_id,tx_datetime,customer_id,terminal_id,tx_amount,tx_time_seconds,tx_time_days,tx_fraud,tx_fraud_scenario`
//!
//! with `tx_datetime` as `YYYY-MM-DDTHH:MM:SS` in UTC. Parsing is strict and every error names the
//! line, the column and the value. Reading files (and gzip) is the caller's business.

use std::fmt::Write as _;

use chrono::NaiveDateTime;

use crate::codes::Currency;
use crate::id::Id;
use crate::label::{Label, LabelSource};
use crate::time::Timestamp;
use crate::transaction::Transaction;

pub const HEADER: &str = "transaction_id,tx_datetime,customer_id,terminal_id,tx_amount,tx_time_seconds,tx_time_days,tx_fraud,tx_fraud_scenario";

/// The handbook's data carry no currency; its authors are in Brussels.
pub const CURRENCY: Currency = match Currency::parse_const(*b"EUR") {
    Some(c) => c,
    None => panic!("EUR is a currency code"),
};

/// Names of the fraud scenarios by their number in `tx_fraud_scenario`: the handbook's three,
/// then the three that fraudwatch's generator adds (4 to 6, an extension of the layout).
pub fn scenario_name(n: u8) -> Option<&'static str> {
    match n {
        1 => Some("amount_over_220"),
        2 => Some("compromised_terminal"),
        3 => Some("compromised_card"),
        4 => Some("card_testing"),
        5 => Some("account_takeover"),
        6 => Some("merchant_collusion"),
        _ => None,
    }
}

/// One row of the layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub transaction_id: u64,
    pub timestamp: Timestamp,
    pub customer_id: u64,
    pub terminal_id: u64,
    pub amount: f64,
    pub time_seconds: i64,
    pub time_days: i64,
    pub is_fraud: bool,
    pub scenario: u8,
}

/// A line that does not fit the layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct RowError {
    pub line: u64,
    pub problem: String,
}

/// Checks a header line.
pub fn check_header(header: &str) -> Result<(), RowError> {
    if header.trim_end_matches(['\r', '\n']) == HEADER {
        Ok(())
    } else {
        Err(RowError {
            line: 1,
            problem: format!("header is {header:?}, expected {HEADER:?}"),
        })
    }
}

fn field<T: std::str::FromStr>(
    value: Option<&str>,
    column: &str,
    line: u64,
) -> Result<T, RowError> {
    let value = value.ok_or_else(|| RowError {
        line,
        problem: format!("column {column} is missing"),
    })?;
    value.parse().map_err(|_| RowError {
        line,
        problem: format!("column {column} = {value:?} is not valid"),
    })
}

impl Row {
    /// Parses one data line; `line` is its 1-based line number in the file, for errors.
    pub fn parse(text: &str, line: u64) -> Result<Row, RowError> {
        let mut cols = text.trim_end_matches(['\r', '\n']).split(',');
        let transaction_id = field(cols.next(), "transaction_id", line)?;
        let datetime: String = field(cols.next(), "tx_datetime", line)?;
        let timestamp = NaiveDateTime::parse_from_str(&datetime, "%Y-%m-%dT%H:%M:%S")
            .map_err(|_| RowError {
                line,
                problem: format!("column tx_datetime = {datetime:?} is not YYYY-MM-DDTHH:MM:SS"),
            })?
            .and_utc();
        let row = Row {
            transaction_id,
            timestamp,
            customer_id: field(cols.next(), "customer_id", line)?,
            terminal_id: field(cols.next(), "terminal_id", line)?,
            amount: field(cols.next(), "tx_amount", line)?,
            time_seconds: field(cols.next(), "tx_time_seconds", line)?,
            time_days: field(cols.next(), "tx_time_days", line)?,
            is_fraud: match field::<u8>(cols.next(), "tx_fraud", line)? {
                0 => false,
                1 => true,
                other => {
                    return Err(RowError {
                        line,
                        problem: format!("column tx_fraud = {other} is not 0 or 1"),
                    });
                }
            },
            scenario: field(cols.next(), "tx_fraud_scenario", line)?,
        };
        if cols.next().is_some() {
            return Err(RowError {
                line,
                problem: "more than 9 columns".into(),
            });
        }
        if !(row.amount.is_finite() && row.amount >= 0.0) {
            return Err(RowError {
                line,
                problem: format!(
                    "column tx_amount = {} must be a non-negative number",
                    row.amount
                ),
            });
        }
        if row.scenario > 0 && scenario_name(row.scenario).is_none() {
            return Err(RowError {
                line,
                problem: format!("column tx_fraud_scenario = {} is not 0 to 6", row.scenario),
            });
        }
        Ok(row)
    }

    /// Appends the row as one CSV line (with `\n`) in the layout's format.
    pub fn write(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "{},{},{},{},{:.2},{},{},{},{}",
            self.transaction_id,
            self.timestamp.format("%Y-%m-%dT%H:%M:%S"),
            self.customer_id,
            self.terminal_id,
            self.amount,
            self.time_seconds,
            self.time_days,
            u8::from(self.is_fraud),
            self.scenario
        );
    }

    /// The transaction as the pipeline sees it (no label).
    pub fn transaction(&self) -> Transaction {
        Transaction {
            transaction_id: Id::from(self.transaction_id),
            customer_id: Id::from(self.customer_id),
            terminal_id: Id::from(self.terminal_id),
            amount: self.amount,
            currency: CURRENCY,
            timestamp: self.timestamp,
            merchant_category: None,
            country: None,
            channel: None,
            device_id: None,
            lat: None,
            lon: None,
        }
    }

    /// The row's label, as a chargeback learnt at `labelled_at`.
    pub fn label(&self, labelled_at: Timestamp) -> Label {
        Label {
            transaction_id: Id::from(self.transaction_id),
            customer_id: Id::from(self.customer_id),
            is_fraud: self.is_fraud,
            source: LabelSource::Chargeback,
            labelled_at,
            fraud_scenario: scenario_name(self.scenario).map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "2,2018-04-01T00:07:56,2,1365,146.00,476,0,0,0";

    #[test]
    fn parses_and_writes_back_identically() {
        let row = Row::parse(LINE, 4).unwrap();
        assert_eq!(
            (
                row.transaction_id,
                row.customer_id,
                row.terminal_id,
                row.amount
            ),
            (2, 2, 1365, 146.0)
        );
        assert_eq!(
            crate::time::format(&row.timestamp),
            "2018-04-01T00:07:56.000Z"
        );
        let mut out = String::new();
        row.write(&mut out);
        assert_eq!(out, format!("{LINE}\n"));
        let t = row.transaction();
        assert_eq!(t.currency.as_str(), "EUR");
        assert!(crate::Validate::validate(&t).is_ok());
        assert!(check_header(HEADER).is_ok());
        assert!(check_header("id,amount").is_err());
    }

    #[test]
    fn errors_name_line_column_and_value() {
        let cases = [
            (
                "2,2018-04-01 00:07:56,2,1365,146.00,476,0,0,0",
                "line 9: column tx_datetime = \"2018-04-01 00:07:56\"",
            ),
            (
                "2,2018-04-01T00:07:56,two,1365,146.00,476,0,0,0",
                "line 9: column customer_id = \"two\"",
            ),
            (
                "2,2018-04-01T00:07:56,2,1365,-1,476,0,0,0",
                "tx_amount = -1",
            ),
            (
                "2,2018-04-01T00:07:56,2,1365,NaN,476,0,0,0",
                "tx_amount = NaN",
            ),
            (
                "2,2018-04-01T00:07:56,2,1365,146.00,476,0,2,0",
                "tx_fraud = 2",
            ),
            (
                "2,2018-04-01T00:07:56,2,1365,146.00,476,0,1,7",
                "tx_fraud_scenario = 7",
            ),
            (
                "2,2018-04-01T00:07:56,2,1365,146.00,476,0,0",
                "column tx_fraud_scenario is missing",
            ),
            (
                "2,2018-04-01T00:07:56,2,1365,146.00,476,0,0,0,9",
                "more than 9 columns",
            ),
            ("", "column transaction_id = \"\""),
        ];
        for (line, expected) in cases {
            let e = Row::parse(line, 9).unwrap_err().to_string();
            assert!(e.contains(expected), "{line:?}: {e}");
        }
    }
}
