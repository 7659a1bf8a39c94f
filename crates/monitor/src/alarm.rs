//! Alerts without flapping. A column's drift must show in `raise_after` consecutive windows
//! before it counts, and must be absent from `clear_after` consecutive windows before it stops
//! counting. An event of one kind is open while any of its columns counts: it opens with the
//! first, grows as others join (published again), and ends when the last stops counting.

use serde::{Deserialize, Serialize};

use fraudwatch_core::{DriftEvent, DriftKind, DriftedColumn, Severity, Timestamp};

use crate::report::ColumnReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hysteresis {
    pub raise_after: u32,
    pub clear_after: u32,
}

impl Default for Hysteresis {
    fn default() -> Self {
        Hysteresis {
            raise_after: 3,
            clear_after: 3,
        }
    }
}

impl Hysteresis {
    pub fn check(&self) -> Result<(), String> {
        if self.raise_after == 0 || self.clear_after == 0 {
            return Err(format!(
                "alerts.raise_after = {} and alerts.clear_after = {} must both be at least 1",
                self.raise_after, self.clear_after
            ));
        }
        Ok(())
    }
}

/// One column's run of drifted or clean windows.
#[derive(Debug, Clone, Copy, Default)]
struct Streak {
    on: u32,
    off: u32,
    /// Event time of the first window of the current drifted run.
    on_since: Option<Timestamp>,
    counts: bool,
    /// When it started counting: the first window of the run that raised it.
    counted_since: Option<Timestamp>,
}

impl Streak {
    fn observe(&mut self, drifted: bool, at: Timestamp, h: Hysteresis) {
        if drifted {
            if self.on == 0 {
                self.on_since = Some(at);
            }
            self.on += 1;
            self.off = 0;
            if !self.counts && self.on >= h.raise_after {
                self.counts = true;
                self.counted_since = self.on_since;
            }
        } else {
            self.on = 0;
            self.off += 1;
            if self.off >= h.clear_after {
                self.counts = false;
            }
        }
    }
}

/// The alert state of one kind of drift over a fixed list of columns.
#[derive(Debug, Clone)]
pub struct Tracker {
    kind: DriftKind,
    hysteresis: Hysteresis,
    streaks: Vec<Streak>,
    open: Option<DriftEvent>,
}

/// What one window's verdicts mean for the alert.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// Event time of the window's end.
    pub at: Timestamp,
    /// One report per tracked column, in the tracker's order.
    pub columns: &'a [ColumnReport],
    pub share: f64,
    pub severity: Severity,
    pub window_rows: u64,
    /// Wall-clock time.
    pub now: Timestamp,
}

impl Tracker {
    pub fn new(kind: DriftKind, columns: usize, hysteresis: Hysteresis) -> Tracker {
        Tracker {
            kind,
            hysteresis,
            streaks: vec![Streak::default(); columns],
            open: None,
        }
    }

    pub fn open_event(&self) -> Option<&DriftEvent> {
        self.open.as_ref()
    }

    /// Feeds one window. Returns the event when it opened, grew, rose in severity or ended.
    /// Columns without a verdict (a note) leave their run as it was.
    pub fn observe(&mut self, o: Observation<'_>) -> Option<DriftEvent> {
        for (streak, column) in self.streaks.iter_mut().zip(o.columns) {
            if column.note.is_none() {
                streak.observe(column.drifted, o.at, self.hysteresis);
            }
        }
        let counting: Vec<usize> = (0..self.streaks.len())
            .filter(|&i| self.streaks[i].counts)
            .collect();
        match (self.open.as_mut(), counting.is_empty()) {
            (None, true) => None,
            (Some(event), true) => {
                event.end = Some(o.at);
                event.share = o.share;
                event.window_rows = o.window_rows;
                event.updated_at = o.now;
                self.open.take()
            }
            (None, false) => {
                let start = counting
                    .iter()
                    .filter_map(|&i| self.streaks[i].counted_since)
                    .min()
                    .unwrap_or(o.at);
                let event = DriftEvent {
                    id: format!("{}-{}", self.kind.as_str(), start.timestamp_millis()),
                    kind: self.kind,
                    severity: o.severity,
                    start,
                    detected: o.at,
                    end: None,
                    share: o.share,
                    columns: counting.iter().map(|&i| drifted(&o.columns[i])).collect(),
                    window_rows: o.window_rows,
                    updated_at: o.now,
                };
                self.open = Some(event.clone());
                Some(event)
            }
            (Some(event), false) => {
                let mut changed = o.severity > event.severity;
                event.severity = event.severity.max(o.severity);
                for &i in &counting {
                    let latest = drifted(&o.columns[i]);
                    match event.columns.iter_mut().find(|c| c.name == latest.name) {
                        Some(c) => *c = latest,
                        None => {
                            event.columns.push(latest);
                            changed = true;
                        }
                    }
                }
                event.share = o.share;
                event.window_rows = o.window_rows;
                event.updated_at = o.now;
                changed.then(|| event.clone())
            }
        }
    }
}

fn drifted(c: &ColumnReport) -> DriftedColumn {
    DriftedColumn {
        name: c.name.clone(),
        method: c.method.clone(),
        statistic: c.statistic,
        p_value: c.p_value,
        threshold: c.threshold,
    }
}
