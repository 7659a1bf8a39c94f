//! The fraud handbook's 14 features (`shared/data/handbook/README.md`, handbook chapter 3.3).
//!
//! - weekend and night flags of the transaction time (UTC);
//! - per customer, for N ∈ {1, 7, 30} days: the number and mean amount of the customer's
//!   transactions in `(t − N d, t]`, the current one included;
//! - per terminal, for N ∈ {1, 7, 30}: the number of the terminal's transactions in
//!   `(t − D − N d, t − D]` (D = the label delay, 7 days in the handbook) and the share of them
//!   known to be frauds at `t`: a label counts once its `labelled_at ≤ t`. 0 when the window is
//!   empty. When every label arrives exactly D after its transaction, as in the handbook and in
//!   `fraudwatch process --input`, that is every fraud of the window.
//!
//! The `risk` set appends, for the same `t` and windows:
//! - `amount`, the transaction's amount;
//! - `customer_amount_ratio_Nday`: the amount divided by the customer's mean amount of the N-day
//!   window (1 when that mean is 0, which needs an amount of 0 too);
//! - `terminal_oldest_fraud_days`: days from the oldest fraud known at `t` in the terminal's
//!   30-day window `(t − D − 30 d, t − D]` to `t`; −1 when that window holds no known fraud.
//!   A compromised terminal is fraudulent for a stretch of days: how long ago its known frauds
//!   began tells a compromise still running from one that has ended;
//! - `terminal_nb_usual_fraud_Nday`, N ∈ {7, 30}: how many of the frauds known at `t` in the
//!   terminal's delayed N-day window were at a usual amount for their card (less than
//!   [`USUAL_RATIO`] times its 30-day mean). A stolen card shows itself in its amounts; a fraud
//!   the card's behaviour does not explain points at the terminal instead.
//!
//! State: per customer its last 30 days of (time, amount); per terminal its last D + 30 days of
//! (time, label); and transaction id → (terminal, time) for the transactions a label may still
//! reach, so a label finds its terminal entry.

use super::calendar::{is_night, is_weekend};
use super::hash::IdMap;
use super::slab::Slab;
use super::window::{Entry, Series};
use super::{At, DAY_MS, LabelOutcome, Stats, money};
use crate::label::Label;
use crate::transaction::Transaction;

const LONGEST: i64 = 30 * DAY_MS;

/// Below this multiple of the card's 30-day mean amount, an amount is usual for the card.
pub const USUAL_RATIO: f64 = 2.0;

#[derive(Debug, Clone, Copy)]
struct Spend {
    time: i64,
    seq: u64,
    micros: i64,
    /// Running sum of `micros`.
    cum: i64,
}

impl Entry for Spend {
    type Sum = i64;
    fn time(&self) -> i64 {
        self.time
    }
    fn seq(&self) -> u64 {
        self.seq
    }
    fn own(&self) -> i64 {
        self.micros
    }
    fn cum(&self) -> i64 {
        self.cum
    }
    fn set_cum(&mut self, cum: i64) {
        self.cum = cum;
    }
}

/// A terminal's transaction and what is known of its label.
#[derive(Debug, Clone, Copy)]
struct Visit {
    time: i64,
    seq: u64,
    /// When its label was learnt; `i64::MAX` while unknown.
    labelled_at: i64,
    fraud: bool,
    /// The amount was usual for the card (see [`USUAL_RATIO`]).
    usual: bool,
    /// Running counts of recorded frauds: all, and those at a usual amount.
    cum: [i64; 2],
}

impl Visit {
    fn known_fraud_at(&self, t: i64) -> bool {
        self.fraud && self.labelled_at <= t
    }
}

impl Entry for Visit {
    type Sum = [i64; 2];
    fn time(&self) -> i64 {
        self.time
    }
    fn seq(&self) -> u64 {
        self.seq
    }
    fn own(&self) -> [i64; 2] {
        let known = self.fraud && self.labelled_at != i64::MAX;
        [i64::from(known), i64::from(known && self.usual)]
    }
    fn cum(&self) -> [i64; 2] {
        self.cum
    }
    fn set_cum(&mut self, cum: [i64; 2]) {
        self.cum = cum;
    }
}

#[derive(Debug)]
struct Terminal {
    visits: Series<Visit>,
    /// The latest `labelled_at` recorded: a window queried at or after it counts every recorded
    /// fraud (a running count); before it (a late transaction), the window is scanned.
    latest_label: i64,
}

impl Default for Terminal {
    fn default() -> Self {
        Self {
            visits: Series::default(),
            latest_label: i64::MIN,
        }
    }
}

/// Where a transaction's label goes.
#[derive(Debug, Clone, Copy)]
struct Target {
    terminal: u32,
    time: i64,
    seq: u64,
}

/// The handbook set's state.
#[derive(Debug)]
pub struct State {
    delay_ms: i64,
    /// Writes the `risk` set's extra features after the handbook's 14.
    extended: bool,
    customers: Slab<Series<Spend>>,
    terminals: Slab<Terminal>,
    targets: IdMap<Target>,
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

impl State {
    pub fn new(delay_ms: i64, extended: bool) -> Self {
        Self {
            delay_ms: delay_ms.max(0),
            extended,
            customers: Slab::default(),
            terminals: Slab::default(),
            targets: IdMap::default(),
        }
    }

    /// Entries of terminals and label targets at or before this time are out of every window.
    fn terminal_cutoff(&self, at: &At) -> i64 {
        at.cutoff(self.delay_ms.saturating_add(LONGEST))
    }

    pub(crate) fn transaction(&mut self, tx: &Transaction, micros: i64, at: At, out: &mut [f64]) {
        let t = at.time;
        out[0] = flag(is_weekend(t));
        out[1] = flag(is_night(t));

        let cutoff = self.terminal_cutoff(&at);
        let spends = self.customers.entry(&tx.customer_id, Series::default);
        let slot = self.terminals.slot(&tx.terminal_id, Terminal::default);
        let terminal = self
            .terminals
            .get_mut(slot)
            .expect("a slot just handed out is live");
        // Both histories are cold in memory: load their far ends now, so the cache misses
        // overlap instead of queueing one behind the other.
        std::hint::black_box((spends.ends(), terminal.visits.ends()));

        spends.evict_through(at.cutoff(LONGEST));
        let p = spends.insert(Spend {
            time: t,
            seq: at.seq,
            micros,
            cum: 0,
        });
        // Nested windows: each search starts where the shorter one stopped.
        let end = p + 1;
        let mut usual = true;
        let lo1 = spends.after_back(t - DAY_MS, end);
        let lo7 = spends.after_back(t - 7 * DAY_MS, lo1);
        let lo30 = spends.after(t - LONGEST);
        for (k, lo) in [lo1, lo7, lo30].into_iter().enumerate() {
            let n = end - lo;
            let mean = money::mean(i128::from(spends.sum(lo, end)), n);
            out[2 + 2 * k] = n as f64;
            out[3 + 2 * k] = mean;
            let ratio = if mean == 0.0 { 1.0 } else { tx.amount / mean };
            if self.extended {
                out[15 + k] = ratio;
            }
            usual = ratio < USUAL_RATIO;
        }

        let visits = &mut terminal.visits;
        visits.evict_through(cutoff);
        visits.insert(Visit {
            time: t,
            seq: at.seq,
            labelled_at: i64::MAX,
            fraud: false,
            usual,
            cum: [0, 0],
        });
        let end = t - self.delay_ms;
        let hi = visits.after_back(end, visits.len());
        let lo1 = visits.after_back(end - DAY_MS, hi);
        let lo7 = visits.after_back(end - 7 * DAY_MS, lo1);
        let lo30 = visits.after(end - LONGEST);
        let all_known = terminal.latest_label <= t;
        let mut usual_frauds = [0; 3];
        for (k, lo) in [lo1, lo7, lo30].into_iter().enumerate() {
            let [frauds, usual] = if all_known {
                visits.sum(lo, hi)
            } else {
                visits
                    .range(lo..hi)
                    .filter(|v| v.known_fraud_at(t))
                    .fold([0, 0], |[a, u], v| [a + 1, u + i64::from(v.usual)])
            };
            usual_frauds[k] = usual;
            let n = hi - lo;
            out[8 + 2 * k] = n as f64;
            out[9 + 2 * k] = if n == 0 {
                0.0
            } else {
                frauds as f64 / n as f64
            };
        }
        if self.extended {
            out[14] = tx.amount;
            out[18] = oldest_fraud(visits, lo30, hi, t, all_known)
                .map_or(-1.0, |time| (t - time) as f64 / DAY_MS as f64);
            out[19] = usual_frauds[1] as f64;
            out[20] = usual_frauds[2] as f64;
        }
        self.targets.insert(
            tx.transaction_id.clone(),
            Target {
                terminal: slot,
                time: t,
                seq: at.seq,
            },
        );
    }

    pub(crate) fn label(&mut self, label: &Label, at: At) -> LabelOutcome {
        let cutoff = self.terminal_cutoff(&at);
        let Some(target) = self.targets.get(&label.transaction_id) else {
            return LabelOutcome::NoWindow;
        };
        if target.time <= cutoff {
            return LabelOutcome::NoWindow;
        }
        let Some(terminal) = self.terminals.get_mut(target.terminal) else {
            return LabelOutcome::NoWindow;
        };
        let Some(i) = terminal.visits.find((target.time, target.seq)) else {
            return LabelOutcome::NoWindow;
        };
        terminal.visits.update(i, |v| {
            v.labelled_at = at.time;
            v.fraud = label.is_fraud;
        });
        terminal.latest_label = terminal.latest_label.max(at.time);
        LabelOutcome::Recorded
    }

    pub(crate) fn sweep(&mut self, floor: i64) {
        let customer_cut = floor.saturating_sub(LONGEST);
        self.customers.retain(|s| {
            s.evict_through(customer_cut);
            !s.is_empty()
        });
        let terminal_cut = floor.saturating_sub(self.delay_ms.saturating_add(LONGEST));
        // Targets go in the same sweep as their terminals: a target's time is at most its
        // terminal's newest visit, so no live target points at a freed slot.
        self.targets.retain(|_, t| t.time > terminal_cut);
        self.terminals.retain(|term| {
            term.visits.evict_through(terminal_cut);
            !term.visits.is_empty()
        });
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            customers: self.customers.len(),
            terminals: self.terminals.len(),
            entries: self.customers.values().map(Series::len).sum::<usize>()
                + self
                    .terminals
                    .values()
                    .map(|t| t.visits.len())
                    .sum::<usize>(),
            label_targets: self.targets.len(),
        }
    }
}

/// The time of the oldest visit in `lo..hi` known at `t` to be a fraud. When every recorded
/// label is known at `t`, the running fraud count finds it by binary search; otherwise (a late
/// transaction) the window is scanned.
fn oldest_fraud(
    visits: &Series<Visit>,
    lo: usize,
    hi: usize,
    t: i64,
    all_known: bool,
) -> Option<i64> {
    if !all_known {
        return visits
            .range(lo..hi)
            .find(|v| v.known_fraud_at(t))
            .map(|v| v.time);
    }
    let before = visits.prefix(lo)[0];
    if visits.prefix(hi)[0] == before {
        return None;
    }
    // The first index i in lo..hi whose running count (through i) exceeds the count before lo.
    let (mut a, mut b) = (lo, hi - 1);
    while a < b {
        let mid = a + (b - a) / 2;
        if visits.prefix(mid + 1)[0] > before {
            b = mid;
        } else {
            a = mid + 1;
        }
    }
    visits.get(a).map(|v| v.time)
}
