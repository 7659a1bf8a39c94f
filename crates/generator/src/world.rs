//! `World`: the generated transactions as an iterator in event-time order, ids assigned in that
//! order (as the handbook assigns them after sorting by time).
//!
//! Days are generated ahead of the one being emitted: the handbook's compromised-card scenario picks
//! a third of a card's transactions over the next 14 days, so a day is final only once the 13 days
//! after it exist. The world keeps that window of days in a ring of reused buffers; memory is
//! bounded by 14 days of transactions whatever the length of the run.

use std::collections::VecDeque;

use chrono::Datelike;
use rand::RngExt;

use crate::config::{Config, DriftKind};
use crate::error::ConfigError;
use crate::population::Population;
use crate::rich::Drifts;
use crate::scenarios::{self, distinct, episodes};
use crate::seed::{self, Purpose};
use crate::tx::{Scenario, Tx};

/// Days a compromised terminal stays compromised (handbook: the day and the next 27).
pub const TERMINAL_DAYS: u32 = 28;
/// Days a leaked card is used (handbook: the day and the next 13).
pub const CARD_DAYS: u32 = 14;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug)]
struct CardCompromise {
    start: u32,
    customer: u32,
    serial: u64,
    /// Genuine transactions of the card in its window: (day, index in that day's buffer).
    candidates: Vec<(u32, u32)>,
}

#[derive(Debug)]
pub struct World {
    cfg: Config,
    pop: Population,
    /// One past the last day, or `u32::MAX` when unbounded.
    end_day: u32,
    /// The next day to emit; `ring[0]` holds it.
    front: u32,
    next_open: u32,
    ring: VecDeque<Vec<Tx>>,
    spare: Vec<Vec<Tx>>,
    emitting: Vec<Tx>,
    cursor: usize,
    next_id: u64,
    /// Insertion order, kept in `Tx::id` until a day is sorted: makes the sort total.
    seq: u64,
    terminal_until: Vec<u32>,
    cards: VecDeque<CardCompromise>,
    card_serial: u64,
    card_active: Vec<u16>,
    drifts: Drifts,
}

impl World {
    pub fn new(cfg: Config) -> Result<World, ConfigError> {
        cfg.validate()?;
        let pop = Population::new(&cfg);
        let drifts = Drifts {
            amount_from: cfg.drift_from(DriftKind::Amount),
            amount_factor: cfg.drift.as_ref().map_or(1.0, |d| d.amount_factor),
            channel_from: cfg.drift_from(DriftKind::Channel),
            country_from: cfg.drift_from(DriftKind::Country),
        };
        Ok(World {
            end_day: cfg.days.unwrap_or(u32::MAX),
            front: 0,
            next_open: 0,
            ring: VecDeque::new(),
            spare: Vec::new(),
            emitting: Vec::new(),
            cursor: 0,
            next_id: 0,
            seq: 0,
            terminal_until: vec![0; pop.terminals()],
            cards: VecDeque::new(),
            card_serial: 0,
            card_active: vec![0; pop.customers()],
            drifts,
            pop,
            cfg,
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn population(&self) -> &Population {
        &self.pop
    }

    /// Expected transactions a day, genuine ones only: for progress and pacing estimates.
    pub fn expected_per_day(&self) -> f64 {
        self.pop.expected_per_day()
    }

    fn bucket(&mut self, day: u32) -> &mut Vec<Tx> {
        let i = (day - self.front) as usize;
        while self.ring.len() <= i {
            let b = self.spare.pop().unwrap_or_default();
            self.ring.push_back(b);
        }
        &mut self.ring[i]
    }

    /// Adds a scenario's own transaction to the buffer of its day (dropped past the last day).
    fn inject(&mut self, mut tx: Tx) {
        let day = (tx.time_ms - self.cfg.start_ms).div_euclid(DAY_MS);
        if day < i64::from(self.front) || day >= i64::from(self.end_day) {
            return;
        }
        tx.id = self.seq;
        self.seq += 1;
        self.bucket(day as u32).push(tx);
    }

    fn open_day(&mut self, day: u32) {
        let seed = self.cfg.seed;
        let day_start = self.cfg.day_start_ms(day);
        // The handbook draws no compromise on the last day.
        if day.saturating_add(1) < self.end_day {
            let factor = self.cfg.fraud_factor(day);
            let rates = self.cfg.rates;
            let rng = &mut seed::rng(seed, Purpose::TerminalDraws, u64::from(day));
            let k = episodes(rng, rates.compromised_terminal * factor);
            let terminals = match &self.pop {
                Population::Handbook(w) => {
                    let n = w.terminals.len();
                    distinct(rng, k, n, |r| r.random_range(0..n) as u32)
                }
                Population::Default(w) => {
                    let n = w.terminals.len() - w.online.len();
                    distinct(rng, k, n, |r| w.physical_terminal(r))
                }
            };
            for t in terminals {
                let until = &mut self.terminal_until[t as usize];
                *until = (*until).max(day.saturating_add(TERMINAL_DAYS));
            }
            let rng = &mut seed::rng(seed, Purpose::CardDraws, u64::from(day));
            let k = episodes(rng, rates.compromised_card * factor);
            let n = self.pop.customers();
            for c in distinct(rng, k, n, |r| r.random_range(0..n) as u32) {
                self.card_active[c as usize] += 1;
                self.cards.push_back(CardCompromise {
                    start: day,
                    customer: c,
                    serial: self.card_serial,
                    candidates: Vec::new(),
                });
                self.card_serial += 1;
            }
            let mut injected = Vec::new();
            let mut push = |t: Tx| injected.push(t);
            let rng = &mut seed::rng(seed, Purpose::CardTesting, u64::from(day));
            for _ in 0..episodes(rng, rates.card_testing * factor) {
                scenarios::card_testing(&self.pop, day_start, rng, &mut push);
            }
            let rng = &mut seed::rng(seed, Purpose::Takeover, u64::from(day));
            for _ in 0..episodes(rng, rates.account_takeover * factor) {
                scenarios::account_takeover(&self.pop, day_start, rng, &mut push);
            }
            let rng = &mut seed::rng(seed, Purpose::Collusion, u64::from(day));
            for _ in 0..episodes(rng, rates.merchant_collusion * factor) {
                scenarios::merchant_collusion(&self.pop, day_start, rng, &mut push);
            }
            for t in injected {
                self.inject(t);
            }
        }

        // Genuine transactions, then the handbook's relabelling rules 1 and 2, and the candidates
        // for rule 3 (applied when the card's window is complete).
        let mut bucket = std::mem::take(self.bucket(day));
        let first = bucket.len();
        let rng = &mut seed::rng(seed, Purpose::Genuine, u64::from(day));
        match &self.pop {
            Population::Handbook(w) => {
                let drift = (self.drifts.amount_from, self.drifts.amount_factor);
                w.genuine_day(day_start, rng, drift, &mut bucket);
            }
            Population::Default(w) => {
                let weekday = chrono::DateTime::from_timestamp_millis(day_start)
                    .map_or(0, |t| t.weekday().num_days_from_monday());
                w.genuine_day(day_start, weekday >= 5, rng, &self.drifts, &mut bucket);
            }
        }
        let over_220 = self.cfg.rates.amount_over_220;
        for (i, tx) in bucket.iter_mut().enumerate().skip(first) {
            tx.id = self.seq;
            self.seq += 1;
            if over_220 && tx.cents > 22_000 {
                tx.scenario = Scenario::AmountOver220;
            }
            if self.terminal_until[tx.terminal as usize] > day {
                tx.scenario = Scenario::CompromisedTerminal;
            }
            if self.card_active[tx.customer as usize] > 0 {
                for card in self.cards.iter_mut() {
                    if card.customer as u64 == tx.customer && day < card.start + CARD_DAYS {
                        card.candidates.push((day, i as u32));
                    }
                }
            }
        }
        *self.bucket(day) = bucket;
    }

    /// Rule 3 for every leaked card whose window starts on or before the day about to be emitted:
    /// a third (rounded down) of its candidates, drawn at random, become frauds with amounts ×5.
    fn settle_cards(&mut self) {
        while self.cards.front().is_some_and(|c| c.start <= self.front) {
            let Some(mut card) = self.cards.pop_front() else {
                break;
            };
            self.card_active[card.customer as usize] -= 1;
            let k = card.candidates.len() / 3;
            let rng = &mut seed::rng(self.cfg.seed, Purpose::CardSelection, card.serial);
            for i in 0..k {
                let j = rng.random_range(i..card.candidates.len());
                card.candidates.swap(i, j);
                let (day, idx) = card.candidates[i];
                let tx = &mut self.ring[(day - self.front) as usize][idx as usize];
                tx.cents *= 5;
                tx.scenario = Scenario::CompromisedCard;
            }
        }
    }

    /// Makes day `front` final and moves it to `emitting`.
    fn advance(&mut self) {
        let need = self
            .front
            .saturating_add(CARD_DAYS - 1)
            .min(self.end_day.saturating_sub(1));
        while self.next_open <= need {
            self.open_day(self.next_open);
            self.next_open += 1;
        }
        self.settle_cards();
        let mut day = self.ring.pop_front().unwrap_or_default();
        day.sort_unstable_by_key(|t| (t.time_ms, t.id));
        for tx in &mut day {
            tx.id = self.next_id;
            self.next_id += 1;
        }
        let mut done = std::mem::replace(&mut self.emitting, day);
        done.clear();
        self.spare.push(done);
        self.cursor = 0;
        self.front += 1;
    }
}

impl Iterator for World {
    type Item = Tx;

    fn next(&mut self) -> Option<Tx> {
        loop {
            if let Some(tx) = self.emitting.get(self.cursor) {
                self.cursor += 1;
                return Some(*tx);
            }
            if self.front >= self.end_day {
                return None;
            }
            self.advance();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Profile;

    fn small(profile: Profile, days: u32) -> Config {
        let mut c = Config::new(profile);
        c.customers = 1_000;
        c.terminals = 2_000;
        c.days = Some(days);
        c
    }

    #[test]
    fn time_ordered_ids_in_order_and_reproducible() {
        for profile in [Profile::Handbook, Profile::Default] {
            let a: Vec<Tx> = World::new(small(profile, 20)).unwrap().collect();
            let b: Vec<Tx> = World::new(small(profile, 20)).unwrap().collect();
            assert_eq!(a, b);
            assert!(a.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
            assert!(a.iter().enumerate().all(|(i, t)| t.id == i as u64));
            let start = Config::new(profile).start_ms;
            assert!(
                a.iter()
                    .all(|t| t.time_ms >= start && t.time_ms < start + 20 * DAY_MS)
            );
        }
    }

    #[test]
    fn an_unbounded_world_is_the_prefix_of_a_bounded_one() {
        // Except the last days: the bounded world draws no compromise on its last day and its
        // leaked cards' windows are cut short.
        let bounded: Vec<Tx> = World::new(small(Profile::Handbook, 40)).unwrap().collect();
        let mut cfg = small(Profile::Handbook, 40);
        cfg.days = None;
        let day_20 = cfg.start_ms + 20 * DAY_MS;
        let unbounded: Vec<Tx> = World::new(cfg)
            .unwrap()
            .take_while(|t| t.time_ms < day_20)
            .collect();
        assert_eq!(&bounded[..unbounded.len()], &unbounded[..]);
    }

    #[test]
    fn a_leaked_card_has_a_third_of_its_window_as_frauds() {
        let mut cfg = small(Profile::Handbook, 30);
        cfg.rates.compromised_terminal = 0.0;
        cfg.rates.amount_over_220 = false;
        let txs: Vec<Tx> = World::new(cfg).unwrap().collect();
        let frauds = txs.iter().filter(|t| t.is_fraud()).count();
        assert!(frauds > 0);
        assert!(
            txs.iter()
                .all(|t| !t.is_fraud() || t.scenario == Scenario::CompromisedCard)
        );
    }
}
