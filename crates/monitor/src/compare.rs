//! Two tables compared column by column, and the dataset's verdict: drifted when the share of
//! drifted columns reaches a threshold (0.5 by default, as Evidently's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::column::{Choice, Reference};
use crate::report::{ColumnReport, DatasetVerdict, Histogram};
use crate::table::Table;

/// The dataset drifts when at least this share of its compared columns drift.
pub const DEFAULT_SHARE: f64 = 0.5;

/// How to compare: the dataset threshold and per-column choices.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub share_threshold: f64,
    /// Method and threshold per column name; columns not named get the defaults.
    pub columns: BTreeMap<String, Choice>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            share_threshold: DEFAULT_SHARE,
            columns: BTreeMap::new(),
        }
    }
}

/// The result of comparing two tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub reference_rows: usize,
    pub current_rows: usize,
    pub dataset: DatasetVerdict,
    /// The reference's columns in order, then columns only the current data has.
    pub columns: Vec<ColumnReport>,
}

/// Compares every column of `current` with the same column of `reference`. A column on one side
/// only is reported with a note and not counted in the share. Fails only on a configuration the
/// data cannot meet (a method that cannot read its column).
pub fn compare(
    reference: &Table,
    current: &Table,
    options: &Options,
) -> Result<Comparison, String> {
    let mut scratch = Vec::new();
    let mut columns = Vec::with_capacity(reference.columns.len());
    for (name, data) in &reference.columns {
        let choice = options.columns.get(name).copied().unwrap_or_default();
        let r = Reference::new(name, data, choice)?;
        columns.push(match current.column(name) {
            Some(cur) => r.test(cur, &mut scratch),
            None => skipped(name, data.kind().as_str(), "missing from the current data"),
        });
    }
    for (name, data) in &current.columns {
        if reference.column(name).is_none() {
            columns.push(skipped(
                name,
                data.kind().as_str(),
                "missing from the reference",
            ));
        }
    }
    Ok(Comparison {
        reference_rows: reference.rows(),
        current_rows: current.rows(),
        dataset: verdict(&columns, options.share_threshold),
        columns,
    })
}

/// The dataset's verdict over the columns that got one.
pub fn verdict(columns: &[ColumnReport], threshold: f64) -> DatasetVerdict {
    let compared = columns.iter().filter(|c| c.note.is_none()).count();
    let drifted_columns: Vec<String> = columns
        .iter()
        .filter(|c| c.drifted)
        .map(|c| c.name.clone())
        .collect();
    let share = if compared == 0 {
        0.0
    } else {
        drifted_columns.len() as f64 / compared as f64
    };
    DatasetVerdict {
        share,
        threshold,
        drifted: compared > 0 && share >= threshold,
        drifted_columns,
    }
}

/// A column that could not be compared.
pub fn skipped(name: &str, kind: &str, why: &str) -> ColumnReport {
    ColumnReport {
        name: name.into(),
        kind: kind.into(),
        method: "none".into(),
        statistic: f64::NAN,
        p_value: None,
        threshold: f64::NAN,
        drifted: false,
        note: Some(why.into()),
        histogram: Histogram::default(),
    }
}
