//! A drift event: what the monitor publishes on `drift-alerts` and keeps in the `drift_events`
//! table. One event spans from the first window that showed the drift to the window after which
//! it had stayed away long enough (`end`); it is published when raised, when it changes (more
//! features, a higher severity) and when it ends, always under the same `id`.

use serde::{Deserialize, Serialize};

use crate::time::{self, Timestamp};
use crate::validate::{Validate, ValidationError, check_text};

/// What drifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DriftKind {
    /// Input features (data drift).
    Data,
    /// The risk score's distribution (prediction drift).
    Prediction,
    /// Precision on labelled transactions (performance drift).
    Performance,
}

impl DriftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::Data => "data",
            DriftKind::Prediction => "prediction",
            DriftKind::Performance => "performance",
        }
    }

    pub fn parse(s: &str) -> Option<DriftKind> {
        [
            DriftKind::Data,
            DriftKind::Prediction,
            DriftKind::Performance,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Some inputs moved; the models may still be fine.
    Warning,
    /// The dataset drifted as a whole, or the models' precision fell.
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// One drifted column (a feature, `risk`, or a performance metric) with its latest test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DriftedColumn {
    pub name: String,
    pub method: String,
    /// `null` when not finite (e.g. chi-square with a category the reference never had).
    #[serde(with = "finite_or_null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub statistic: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    #[serde(with = "finite_or_null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DriftEvent {
    /// `<kind>-<start in ms since the epoch>`: stable across updates of one event.
    pub id: String,
    pub kind: DriftKind,
    pub severity: Severity,
    /// Event time of the end of the first window that showed the drift.
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start: Timestamp,
    /// Event time of the end of the window that raised the event.
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub detected: Timestamp,
    /// Event time of the end of the window after which the drift had stayed away long enough;
    /// absent while the event is open.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::wire_opt"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub end: Option<Timestamp>,
    /// Share of monitored features drifted in the latest window of the event.
    pub share: f64,
    /// Every column that drifted during the event, with its latest statistics.
    pub columns: Vec<DriftedColumn>,
    /// Rows in the latest window.
    pub window_rows: u64,
    /// Wall-clock time of this version of the event.
    #[serde(with = "time::wire")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

impl DriftEvent {
    pub fn is_open(&self) -> bool {
        self.end.is_none()
    }
}

impl Validate for DriftEvent {
    fn validate(&self) -> Result<(), ValidationError> {
        check_text("id", &self.id, 64)?;
        for c in &self.columns {
            check_text("columns.name", &c.name, 128)?;
            check_text("columns.method", &c.method, 32)?;
        }
        Ok(())
    }
}

/// JSON has no infinity or NaN: such a statistic is written as `null` and read back as NaN.
mod finite_or_null {
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
