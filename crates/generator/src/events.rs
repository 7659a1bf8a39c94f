//! `Events`: transactions from a source (the generated world or a replayed file) with their labels
//! interleaved in event-time order. A transaction's label enters the stream once event time
//! reaches the transaction's time plus the delay, as a chargeback would; when the source ends
//! (or is stopped) the labels still pending follow.

use std::collections::VecDeque;

use crate::tx::{Event, LabelEvent, Tx};

/// Which transactions get a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Labels {
    /// Every transaction, genuine or not (what the handbook's protocol assumes known after the delay).
    #[default]
    All,
    /// Frauds only (chargebacks).
    Frauds,
    /// No label at all.
    None,
}

impl std::str::FromStr for Labels {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "all" => Ok(Labels::All),
            "frauds" => Ok(Labels::Frauds),
            "none" => Ok(Labels::None),
            other => Err(format!(
                "unknown label mode {other:?}; known: all, frauds, none"
            )),
        }
    }
}

#[derive(Debug)]
pub struct Events<S> {
    source: S,
    delay_ms: i64,
    labels: Labels,
    pending: VecDeque<LabelEvent>,
    next_tx: Option<Tx>,
    /// Transactions still allowed out (`u64::MAX` = no limit).
    remaining: u64,
    source_done: bool,
}

impl<S, E> Events<S>
where
    S: Iterator<Item = Result<Tx, E>>,
{
    pub fn new(source: S, delay_ms: i64, labels: Labels) -> Self {
        Self {
            source,
            delay_ms: delay_ms.max(0),
            labels,
            pending: VecDeque::new(),
            next_tx: None,
            remaining: u64::MAX,
            source_done: false,
        }
    }

    /// Stops after `n` transactions (their labels still follow).
    pub fn limit(mut self, n: u64) -> Self {
        self.remaining = n;
        self
    }

    /// Takes no more transactions from the source; the pending labels still come out.
    pub fn stop(&mut self) {
        self.source_done = true;
        self.next_tx = None;
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    /// Labels announced but not yet emitted.
    pub fn pending_labels(&self) -> usize {
        self.pending.len()
    }

    fn wants_label(&self, tx: &Tx) -> bool {
        match self.labels {
            Labels::All => true,
            Labels::Frauds => tx.is_fraud(),
            Labels::None => false,
        }
    }
}

impl<S, E> Iterator for Events<S>
where
    S: Iterator<Item = Result<Tx, E>>,
{
    type Item = Result<Event, E>;

    fn next(&mut self) -> Option<Result<Event, E>> {
        if self.next_tx.is_none() && !self.source_done {
            if self.remaining == 0 {
                self.source_done = true;
            } else {
                match self.source.next() {
                    Some(Ok(tx)) => {
                        self.remaining -= 1;
                        self.next_tx = Some(tx);
                    }
                    Some(Err(e)) => {
                        self.source_done = true;
                        return Some(Err(e));
                    }
                    None => self.source_done = true,
                }
            }
        }
        match self.next_tx {
            Some(tx) => {
                if let Some(label) = self
                    .pending
                    .front()
                    .filter(|l| l.labelled_at_ms <= tx.time_ms)
                {
                    let label = *label;
                    self.pending.pop_front();
                    return Some(Ok(Event::Label(label)));
                }
                self.next_tx = None;
                if self.wants_label(&tx) {
                    self.pending
                        .push_back(tx.label_at(tx.time_ms.saturating_add(self.delay_ms)));
                }
                Some(Ok(Event::Transaction(tx)))
            }
            None => self.pending.pop_front().map(|l| Ok(Event::Label(l))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::Scenario;
    use std::convert::Infallible;

    fn tx(id: u64, time_ms: i64, scenario: Scenario) -> Result<Tx, Infallible> {
        Ok(Tx {
            id,
            time_ms,
            customer: id % 3,
            terminal: 1,
            cents: 100,
            scenario,
            detail: None,
        })
    }

    fn trace(events: impl Iterator<Item = Result<Event, Infallible>>) -> Vec<String> {
        events
            .map(|e| match e.unwrap() {
                Event::Transaction(t) => format!("t{}@{}", t.id, t.time_ms),
                Event::Label(l) => format!("l{}@{}", l.transaction_id, l.labelled_at_ms),
            })
            .collect()
    }

    #[test]
    fn labels_interleave_in_event_time_and_flush_at_the_end() {
        let src = vec![
            tx(0, 0, Scenario::Genuine),
            tx(1, 5, Scenario::CardTesting),
            tx(2, 10, Scenario::Genuine),
            tx(3, 16, Scenario::Genuine),
        ];
        let got = trace(Events::new(src.clone().into_iter(), 10, Labels::All));
        assert_eq!(
            got,
            [
                "t0@0", "t1@5", "l0@10", "t2@10", "l1@15", "t3@16", "l2@20", "l3@26"
            ]
        );
        let got = trace(Events::new(src.clone().into_iter(), 10, Labels::Frauds));
        assert_eq!(got, ["t0@0", "t1@5", "t2@10", "l1@15", "t3@16"]);
        let got = trace(Events::new(src.clone().into_iter(), 0, Labels::All).limit(2));
        assert_eq!(got, ["t0@0", "l0@0", "t1@5", "l1@5"]);
        let got = trace(Events::new(src.into_iter(), 0, Labels::None));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn a_source_error_ends_the_transactions() {
        let src: Vec<Result<Tx, &str>> =
            vec![Ok(tx(0, 0, Scenario::Genuine).unwrap()), Err("line 3: bad")];
        let mut ev = Events::new(src.into_iter(), 7, Labels::All);
        assert!(matches!(ev.next(), Some(Ok(Event::Transaction(_)))));
        assert_eq!(ev.next(), Some(Err("line 3: bad")));
        assert!(matches!(ev.next(), Some(Ok(Event::Label(_)))));
        assert_eq!(ev.next(), None);
    }
}
