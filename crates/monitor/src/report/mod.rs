//! A drift report: the latest window against the reference, per column, and the time line of
//! the drift share. The same data is written as JSON and rendered as one HTML page.

use serde::{Deserialize, Serialize};

mod html;
mod svg;
pub use html::render_html;

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// When the report was made (RFC 3339).
    pub generated_at: String,
    /// What the current data is, in words (e.g. "features 2026-11-01T00:00Z – 2026-11-02T00:00Z").
    pub title: String,
    /// The reference's rows and the current window's rows.
    pub reference_rows: usize,
    pub current_rows: usize,
    /// First and last event time of the current window (RFC 3339), when known.
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    /// Dataset-level verdict.
    pub dataset: DatasetVerdict,
    /// One entry per compared column, in the reference's order.
    pub columns: Vec<ColumnReport>,
    /// Prediction drift on the risk score, when scores are monitored.
    pub prediction: Option<ColumnReport>,
    /// Performance on recent labelled transactions, when labels have arrived.
    pub performance: Option<Performance>,
    /// One point per evaluated window, oldest first.
    pub timeline: Vec<TimelinePoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetVerdict {
    /// Share of compared columns that drifted, 0..=1.
    pub share: f64,
    /// The share at which the dataset counts as drifted.
    pub threshold: f64,
    pub drifted: bool,
    pub drifted_columns: Vec<String>,
}

/// One column's test and the distributions it compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnReport {
    pub name: String,
    /// `numeric` or `categorical`.
    pub kind: String,
    /// The test used, e.g. `ks`, `wasserstein`, `psi`, `chisquare`, `jensenshannon`.
    pub method: String,
    /// The statistic (a distance, a PSI, or the test statistic).
    #[serde(with = "nan_as_null")]
    pub statistic: f64,
    /// The p-value, for the methods that have one.
    pub p_value: Option<f64>,
    /// The threshold the verdict compares against (a p-value or a distance).
    #[serde(with = "nan_as_null")]
    pub threshold: f64,
    pub drifted: bool,
    /// Why no verdict could be given (e.g. an empty window), when that is the case.
    pub note: Option<String>,
    pub histogram: Histogram,
}

/// Reference and current distributions over the same bins, as shares of each side's rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bin labels: `[lo, hi)` ranges for numeric columns, category values for categorical ones.
    pub bins: Vec<String>,
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    /// Labelled transactions in the window and how many were fraud.
    pub labelled: usize,
    pub frauds: usize,
    pub average_precision: Option<f64>,
    pub alert_precision: Option<f64>,
    /// The bundle's training average precision, the yardstick.
    pub reference_average_precision: Option<f64>,
    pub drifted: bool,
}

/// One evaluated window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// Event time of the window's end (RFC 3339).
    pub at: String,
    pub share: f64,
    pub drifted_columns: usize,
    /// The risk score's drift statistic, when scores are monitored.
    pub prediction_statistic: Option<f64>,
}

impl Report {
    /// The report of a one-off comparison (no time line, no scores or labels).
    pub fn from_comparison(
        c: &crate::compare::Comparison,
        title: &str,
        generated_at: &str,
    ) -> Report {
        Report {
            generated_at: generated_at.into(),
            title: title.into(),
            reference_rows: c.reference_rows,
            current_rows: c.current_rows,
            window_start: None,
            window_end: None,
            dataset: c.dataset.clone(),
            columns: c.columns.clone(),
            prediction: None,
            performance: None,
            timeline: Vec::new(),
        }
    }
}

/// JSON has no NaN: a missing statistic is written as `null` and read back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}
