//! The monitor's pure core: rows of features, scores and labels in; at every step a report of the
//! current window against the reference, and the drift events that report raises or ends.
//! No I/O: the stage around it (`stream`) decodes the topics and publishes what comes out.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use fraudwatch_core::{DriftEvent, DriftKind, Severity, Timestamp, time};

use crate::alarm::{Hysteresis, Observation, Tracker};
use crate::column::{Choice, Data, Reference};
use crate::compare::{DEFAULT_SHARE, Options, verdict};
use crate::performance::{PerformanceSpec, PerformanceWindow};
use crate::reorder::Reorder;
use crate::report::{Report, TimelinePoint};
use crate::window::{Window, WindowSpec};

/// Everything the monitor can be told (the `[monitor]` table of the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    pub window: WindowSpec,
    /// The dataset drifts when this share of its features drift.
    pub share_threshold: f64,
    pub alerts: Hysteresis,
    pub performance: PerformanceSpec,
    /// Method and threshold for named columns (features, or `risk`).
    pub columns: BTreeMap<String, Choice>,
    /// Features not monitored (e.g. ones with a daily cycle the window is too short for).
    pub exclude: Vec<String>,
    /// Points of the drift-share time line kept.
    pub timeline: usize,
    /// What to do on a drift event besides publishing it: `log`, or `webhook:URL` (the event
    /// POSTed as JSON).
    pub action: String,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            window: WindowSpec::default(),
            share_threshold: DEFAULT_SHARE,
            alerts: Hysteresis::default(),
            performance: PerformanceSpec::default(),
            columns: BTreeMap::new(),
            exclude: Vec::new(),
            timeline: 1_000,
            action: "log".into(),
        }
    }
}

impl MonitorConfig {
    pub fn check(&self) -> Result<(), String> {
        self.window.check()?;
        self.alerts.check()?;
        self.performance.check()?;
        if !(self.share_threshold > 0.0 && self.share_threshold <= 1.0) {
            return Err(format!(
                "share_threshold = {} must be in (0, 1]",
                self.share_threshold
            ));
        }
        Ok(())
    }

    pub fn options(&self) -> Options {
        Options {
            share_threshold: self.share_threshold,
            columns: self.columns.clone(),
        }
    }
}

/// What one evaluation produced.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub report: Report,
    /// Events raised, grown or ended by this window.
    pub events: Vec<DriftEvent>,
}

#[derive(Debug)]
pub struct Monitor {
    config: MonitorConfig,
    /// Input position of each monitored feature.
    monitored: Vec<usize>,
    references: Vec<Reference>,
    reference_rows: usize,
    /// The risk score's reference; learnt from the first full window of scores when none was
    /// given (`learn_risk`).
    risk: Option<Reference>,
    learn_risk: bool,
    features: Window,
    scores: Window,
    /// Rows waiting to enter the windows in event-time order.
    pending_features: Reorder,
    pending_scores: Reorder,
    new_rows: usize,
    data: Tracker,
    prediction: Tracker,
    performance: Tracker,
    labels: PerformanceWindow,
    timeline: VecDeque<TimelinePoint>,
    scratch: Vec<f64>,
}

/// The risk score's column name in reports and configuration.
pub const RISK: &str = "risk";

impl Monitor {
    /// `inputs` names the positions of every row pushed; `reference` holds rows in that order
    /// (the bundle's reference sample); `reference_risks` the risks the bundle gave held-out
    /// rows, or `None` to take the first full window of scores as the prediction reference;
    /// `reference_ap` the bundle's validation average precision.
    pub fn new(
        inputs: &[String],
        reference: &[Vec<f64>],
        reference_risks: Option<&[f64]>,
        reference_ap: Option<f64>,
        config: MonitorConfig,
    ) -> Result<Monitor, String> {
        config.check()?;
        if let Some(unknown) = config
            .exclude
            .iter()
            .chain(config.columns.keys())
            .find(|n| *n != RISK && !inputs.contains(n))
        {
            return Err(format!(
                "monitor configuration names {unknown:?}, which is not a feature of the reference ({})",
                inputs.join(", ")
            ));
        }
        if let Some(bad) = reference.iter().position(|r| r.len() != inputs.len()) {
            return Err(format!(
                "reference row {bad} has {} values for {} features",
                reference[bad].len(),
                inputs.len()
            ));
        }
        let monitored: Vec<usize> = (0..inputs.len())
            .filter(|&i| !config.exclude.contains(&inputs[i]))
            .collect();
        let references = monitored
            .iter()
            .map(|&i| {
                let column = Data::Numbers(reference.iter().map(|r| r[i]).collect());
                let choice = config.columns.get(&inputs[i]).copied().unwrap_or_default();
                Reference::new(&inputs[i], &column, choice)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let risk = reference_risks
            .map(|r| {
                let choice = config.columns.get(RISK).copied().unwrap_or_default();
                Reference::new(RISK, &Data::Numbers(r.to_vec()), choice)
            })
            .transpose()?;
        let h = config.alerts;
        Ok(Monitor {
            pending_features: Reorder::new(monitored.len(), config.window.reorder),
            pending_scores: Reorder::new(1, config.window.reorder),
            features: Window::new(monitored.len(), config.window),
            scores: Window::new(1, config.window),
            data: Tracker::new(DriftKind::Data, monitored.len(), h),
            prediction: Tracker::new(DriftKind::Prediction, 1, h),
            performance: Tracker::new(DriftKind::Performance, 1, h),
            labels: PerformanceWindow::new(config.performance, reference_ap),
            monitored,
            references,
            reference_rows: reference.len(),
            learn_risk: risk.is_none(),
            risk,
            new_rows: 0,
            timeline: VecDeque::new(),
            scratch: Vec::new(),
            config,
        })
    }

    /// Adds one feature vector (values in input order, NaN for missing) at event time `at_ms`.
    /// It enters the window with [`Monitor::advance`].
    pub fn push_features(&mut self, at_ms: i64, values: &[f64]) {
        let row = self
            .monitored
            .iter()
            .map(|&i| values.get(i).copied().unwrap_or(f64::NAN));
        self.pending_features.push(at_ms, row);
    }

    /// Adds one score: its risk is bound for the prediction window, and waits for its label.
    pub fn push_score(&mut self, at_ms: i64, transaction_id: &str, risk: f64, alerted: bool) {
        self.pending_scores.push(at_ms, [risk]);
        self.labels.push_score(transaction_id, risk, alerted);
    }

    /// Moves waiting rows into the windows in event-time order (all of them with `flush`, when
    /// the input is drained; else those beyond the reorder capacity), judging the window at
    /// every step. `now` is the wall clock.
    pub fn advance(&mut self, flush: bool, now: Timestamp) -> Vec<Evaluation> {
        let scores = &mut self.scores;
        self.pending_scores
            .release(flush, |at, row| scores.push(at, row.iter().copied()));
        let mut pending = std::mem::replace(&mut self.pending_features, Reorder::new(0, 0));
        let mut evaluations = Vec::new();
        pending.release(flush, |at, row| {
            self.features.push(at, row.iter().copied());
            self.new_rows += 1;
            if self.due() {
                evaluations.push(self.evaluate(now));
            }
        });
        self.pending_features = pending;
        evaluations
    }

    pub fn push_label(&mut self, transaction_id: &str, is_fraud: bool) {
        self.labels.push_label(transaction_id, is_fraud);
    }

    /// Labels whose score was not (or no longer) known.
    pub fn unmatched_labels(&self) -> u64 {
        self.labels.unmatched
    }

    /// Whether a step's worth of rows arrived into a window big enough to judge.
    pub fn due(&self) -> bool {
        self.new_rows >= self.config.window.step
            && self.features.len() >= self.config.window.min_rows
    }

    /// Tests the current window; `now` is the wall clock (for `generated_at`, `updated_at`).
    pub fn evaluate(&mut self, now: Timestamp) -> Evaluation {
        self.new_rows = 0;
        let (start, end) = self.features.range().unwrap_or((0, 0));
        let at = time::from_millis(end).unwrap_or(now);
        let mut columns = Vec::with_capacity(self.references.len());
        for (i, r) in self.references.iter().enumerate() {
            self.features.sorted_column(i, &mut self.scratch);
            columns.push(r.test_sorted(&self.scratch));
        }
        let dataset = verdict(&columns, self.config.share_threshold);
        if self.learn_risk && self.risk.is_none() && self.scores.len() >= self.config.window.rows {
            self.scores.sorted_column(0, &mut self.scratch);
            let choice = self.config.columns.get(RISK).copied().unwrap_or_default();
            let learnt = Reference::new(RISK, &Data::Numbers(self.scratch.clone()), choice);
            self.risk = learnt.ok();
        }
        let prediction = match &self.risk {
            Some(r) if self.scores.len() >= self.config.window.min_rows => {
                self.scores.sorted_column(0, &mut self.scratch);
                Some(r.test_sorted(&self.scratch))
            }
            _ => None,
        };
        let (performance, ap_column) = self.labels.evaluate();
        let window_rows = self.features.len() as u64;
        let observe = |columns, share, severity| Observation {
            at,
            columns,
            share,
            severity,
            window_rows,
            now,
        };
        let severity = if dataset.drifted {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let mut events = Vec::new();
        events.extend(
            self.data
                .observe(observe(&columns, dataset.share, severity)),
        );
        if let Some(p) = &prediction {
            let share = f64::from(u8::from(p.drifted));
            let o = observe(std::slice::from_ref(p), share, Severity::Warning);
            events.extend(self.prediction.observe(o));
        }
        let share = f64::from(u8::from(ap_column.drifted));
        let o = observe(std::slice::from_ref(&ap_column), share, Severity::Critical);
        events.extend(self.performance.observe(o));

        self.timeline.push_back(TimelinePoint {
            at: time::format(&at),
            share: dataset.share,
            drifted_columns: dataset.drifted_columns.len(),
            prediction_statistic: prediction.as_ref().map(|p| p.statistic),
        });
        while self.timeline.len() > self.config.timeline {
            self.timeline.pop_front();
        }
        let format_ms = |ms| time::from_millis(ms).map(|t| time::format(&t));
        let report = Report {
            generated_at: time::format(&now),
            title: format!(
                "features {} – {}",
                format_ms(start).unwrap_or_default(),
                format_ms(end).unwrap_or_default()
            ),
            reference_rows: self.reference_rows,
            current_rows: self.features.len(),
            window_start: format_ms(start),
            window_end: format_ms(end),
            dataset,
            columns,
            prediction,
            performance: Some(performance),
            timeline: self.timeline.iter().cloned().collect(),
        };
        Evaluation { report, events }
    }

    /// The events open now, one per kind at most.
    pub fn open_events(&self) -> impl Iterator<Item = &DriftEvent> {
        [&self.data, &self.prediction, &self.performance]
            .into_iter()
            .filter_map(Tracker::open_event)
    }
}
