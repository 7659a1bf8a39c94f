//! The current window: the latest rows of every monitored column, bounded by a row count and,
//! optionally, by an event-time span behind the newest row. Columns are stored apart, so a test
//! copies one column without touching the others.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// How much the current window holds and how often it is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowSpec {
    /// Most rows held; the oldest leave first.
    pub rows: usize,
    /// Rows older than this many milliseconds of event time behind the newest row leave too.
    pub span_ms: Option<i64>,
    /// Evaluate after this many new rows.
    pub step: usize,
    /// No evaluation before the window holds this many rows.
    pub min_rows: usize,
    /// Rows that may wait to be put back in event-time order before they enter the window
    /// (see `reorder`); 0 takes rows in arrival order.
    pub reorder: usize,
}

impl Default for WindowSpec {
    fn default() -> Self {
        WindowSpec {
            rows: 20_000,
            span_ms: None,
            step: 5_000,
            min_rows: 1_000,
            reorder: 100_000,
        }
    }
}

impl WindowSpec {
    /// Checks the numbers make sense, naming the first that does not.
    pub fn check(&self) -> Result<(), String> {
        if self.rows == 0 {
            return Err("window.rows must be at least 1".into());
        }
        if self.step == 0 {
            return Err("window.step must be at least 1".into());
        }
        if self.min_rows == 0 || self.min_rows > self.rows {
            return Err(format!(
                "window.min_rows = {} must be between 1 and window.rows = {}",
                self.min_rows, self.rows
            ));
        }
        if let Some(span) = self.span_ms
            && span <= 0
        {
            return Err(format!("window.span_ms = {span} must be positive"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Window {
    spec: WindowSpec,
    columns: Vec<VecDeque<f64>>,
    times: VecDeque<i64>,
    newest: i64,
}

impl Window {
    pub fn new(columns: usize, spec: WindowSpec) -> Window {
        Window {
            spec,
            columns: vec![VecDeque::new(); columns],
            times: VecDeque::new(),
            newest: i64::MIN,
        }
    }

    /// Adds a row (one value per column, NaN for a missing one) at event time `at_ms`.
    pub fn push(&mut self, at_ms: i64, values: impl IntoIterator<Item = f64>) {
        let mut values = values.into_iter();
        for column in &mut self.columns {
            column.push_back(values.next().unwrap_or(f64::NAN));
        }
        self.times.push_back(at_ms);
        self.newest = self.newest.max(at_ms);
        while self.times.len() > self.spec.rows || self.too_old() {
            self.times.pop_front();
            for column in &mut self.columns {
                column.pop_front();
            }
        }
    }

    fn too_old(&self) -> bool {
        match (self.spec.span_ms, self.times.front()) {
            (Some(span), Some(&t)) => t < self.newest.saturating_sub(span),
            _ => false,
        }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Event times of the oldest row and of the newest seen.
    pub fn range(&self) -> Option<(i64, i64)> {
        self.times.front().map(|&t| (t, self.newest))
    }

    /// Column `i`'s finite values, sorted, into `out` (cleared first).
    pub fn sorted_column(&self, i: usize, out: &mut Vec<f64>) {
        out.clear();
        if let Some(column) = self.columns.get(i) {
            out.extend(column.iter().copied().filter(|x| x.is_finite()));
        }
        out.sort_unstable_by(f64::total_cmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(rows: usize, span_ms: Option<i64>) -> WindowSpec {
        WindowSpec {
            rows,
            span_ms,
            step: 1,
            min_rows: 1,
            reorder: 0,
        }
    }

    #[test]
    fn keeps_the_latest_rows_by_count_and_by_time() {
        let mut w = Window::new(2, spec(3, None));
        for t in 0..5 {
            w.push(t, [t as f64, -(t as f64)]);
        }
        let mut out = Vec::new();
        w.sorted_column(0, &mut out);
        assert_eq!(out, [2.0, 3.0, 4.0]);
        w.sorted_column(1, &mut out);
        assert_eq!(out, [-4.0, -3.0, -2.0]);

        let mut w = Window::new(1, spec(100, Some(10)));
        for t in [0, 5, 9, 12, 30] {
            w.push(t, [t as f64]);
        }
        assert_eq!(w.range(), Some((30, 30)));
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn missing_values_are_left_out_and_short_rows_padded() {
        let mut w = Window::new(2, spec(10, None));
        w.push(0, [f64::NAN, 1.0]);
        w.push(1, [2.0]);
        let mut out = Vec::new();
        w.sorted_column(0, &mut out);
        assert_eq!(out, [2.0]);
        w.sorted_column(1, &mut out);
        assert_eq!(out, [1.0]);
        w.sorted_column(7, &mut out);
        assert!(out.is_empty(), "an unknown column is empty, not a panic");
    }

    #[test]
    fn bad_specs_are_named() {
        let bad = [
            WindowSpec {
                rows: 0,
                ..WindowSpec::default()
            },
            WindowSpec {
                step: 0,
                ..WindowSpec::default()
            },
            WindowSpec {
                min_rows: 30_000,
                ..WindowSpec::default()
            },
            WindowSpec {
                span_ms: Some(-1),
                ..WindowSpec::default()
            },
        ];
        for s in bad {
            assert!(s.check().is_err(), "{s:?}");
        }
        assert!(WindowSpec::default().check().is_ok());
    }
}
