//! The demo's alerts against the labels delivered so far, read from the bus while the pipeline
//! runs: the generator labels every transaction (7 days of event time late), so precision and
//! recall here are exact once every label is in, and a lower bound before.

use std::collections::HashSet;
use std::time::Duration;

use fraudwatch_bus::topics::LABELS;
use fraudwatch_bus::{Bus, Consumer};
use fraudwatch_core::{Decision, Id, Label, Score, wire};

/// Messages per poll; a shorter answer means the topic was drained.
const POLL: usize = 50_000;

pub(super) struct Quality {
    scores: Box<dyn Consumer>,
    labels: Box<dyn Consumer>,
    alerted: HashSet<Id>,
    frauds: HashSet<Id>,
    pub scored: u64,
    pub alerts: u64,
    pub reviews: u64,
    /// Alerts whose transaction is labelled fraud.
    pub true_alerts: u64,
}

impl Quality {
    pub async fn follow(bus: &dyn Bus, scores: &str) -> anyhow::Result<Quality> {
        Ok(Quality {
            scores: bus.subscribe("fraudwatch-demo-scores", &[scores]).await?,
            labels: bus.subscribe("fraudwatch-demo-labels", &[LABELS]).await?,
            alerted: HashSet::new(),
            frauds: HashSet::new(),
            scored: 0,
            alerts: 0,
            reviews: 0,
            true_alerts: 0,
        })
    }

    /// Reads what the bus holds now (not what arrives meanwhile: a live stream never ends).
    pub async fn catch_up(&mut self) -> anyhow::Result<()> {
        loop {
            let labels = self.labels.poll(POLL, Duration::from_millis(1)).await?;
            for m in &labels {
                if let Ok(l) = wire::decode::<Label>(&m.payload)
                    && l.is_fraud
                {
                    self.true_alerts += u64::from(self.alerted.contains(&l.transaction_id));
                    self.frauds.insert(l.transaction_id);
                }
            }
            let scores = self.scores.poll(POLL, Duration::from_millis(1)).await?;
            for m in &scores {
                let s: Score = wire::decode(&m.payload)?;
                self.scored += 1;
                if s.decision.opens_case() {
                    self.alerts += 1;
                    self.reviews += u64::from(s.decision == Decision::Review);
                    self.true_alerts += u64::from(self.frauds.contains(&s.transaction_id));
                    self.alerted.insert(s.transaction_id);
                }
            }
            if labels.len() < POLL && scores.len() < POLL {
                return Ok(());
            }
        }
    }

    /// Frauds labelled so far.
    pub fn frauds(&self) -> u64 {
        self.frauds.len() as u64
    }

    pub fn precision(&self) -> f64 {
        self.true_alerts as f64 / self.alerts.max(1) as f64
    }

    pub fn recall(&self) -> f64 {
        self.true_alerts as f64 / self.frauds().max(1) as f64
    }
}
