//! The handbook profile's world (handbook chapter 3.2): customers and terminals uniform on a
//! 100 × 100 grid; a customer pays only at terminals closer than 5; each day it makes
//! Poisson(rate) payments at time `int(N(43200, 20000))` seconds (dropped outside the day), of
//! amount N(m, m/2) (redrawn from U(0, 2m) when negative) at a uniformly chosen nearby terminal.

use rand::RngExt;
use rand_distr::StandardNormal;

use crate::seed::{self, Purpose, Rng};
use crate::tx::{Scenario, Tx};

const GRID: f64 = 100.0;
const RADIUS: f64 = 5.0;

#[derive(Debug, Clone)]
pub struct Customer {
    pub x: f64,
    pub y: f64,
    pub mean_amount: f64,
    pub std_amount: f64,
    pub tx_per_day: f64,
    exp_neg_rate: f64,
    /// Range of `HandbookWorld::nearby` holding this customer's terminals.
    nearby: (u32, u32),
}

#[derive(Debug, Clone)]
pub struct HandbookWorld {
    pub customers: Vec<Customer>,
    /// Terminal positions (x, y).
    pub terminals: Vec<(f64, f64)>,
    nearby: Vec<u32>,
}

impl HandbookWorld {
    pub fn new(seed: u64, customers: u32, terminals: u32) -> Self {
        let mut rng = seed::rng(seed, Purpose::Customers, 0);
        let mut cs: Vec<Customer> = (0..customers)
            .map(|_| {
                let x = rng.random_range(0.0..GRID);
                let y = rng.random_range(0.0..GRID);
                let mean_amount = rng.random_range(5.0..100.0);
                let tx_per_day: f64 = rng.random_range(0.0..4.0);
                Customer {
                    x,
                    y,
                    mean_amount,
                    std_amount: mean_amount / 2.0,
                    tx_per_day,
                    exp_neg_rate: (-tx_per_day).exp(),
                    nearby: (0, 0),
                }
            })
            .collect();
        let mut rng = seed::rng(seed, Purpose::Terminals, 0);
        let ts: Vec<(f64, f64)> = (0..terminals)
            .map(|_| (rng.random_range(0.0..GRID), rng.random_range(0.0..GRID)))
            .collect();
        let nearby = link_nearby(&mut cs, &ts);
        Self {
            customers: cs,
            terminals: ts,
            nearby,
        }
    }

    pub fn nearby(&self, c: usize) -> &[u32] {
        let (lo, hi) = self.customers[c].nearby;
        &self.nearby[lo as usize..hi as usize]
    }

    /// Appends day `day`'s genuine transactions (unsorted, `id` = 0) to `out`. Amounts at or after
    /// `amount_drift.0` are multiplied by `amount_drift.1`.
    pub fn genuine_day(
        &self,
        day_start_ms: i64,
        rng: &mut Rng,
        amount_drift: (i64, f64),
        out: &mut Vec<Tx>,
    ) {
        for (c, cust) in self.customers.iter().enumerate() {
            let n = poisson(rng, cust.exp_neg_rate);
            let terminals = self.nearby(c);
            for _ in 0..n {
                let z: f64 = rng.sample(StandardNormal);
                // int() truncates toward zero, as the handbook's Python does.
                let second = (43_200.0 + 20_000.0 * z) as i64;
                if !(second > 0 && second < 86_400) {
                    continue;
                }
                let z: f64 = rng.sample(StandardNormal);
                let mut amount = cust.mean_amount + cust.std_amount * z;
                if amount < 0.0 {
                    amount = rng.random_range(0.0..cust.mean_amount * 2.0);
                }
                if terminals.is_empty() {
                    continue;
                }
                let terminal = terminals[rng.random_range(0..terminals.len())];
                let time_ms = day_start_ms + second * 1000;
                if time_ms >= amount_drift.0 {
                    amount *= amount_drift.1;
                }
                out.push(Tx {
                    id: 0,
                    time_ms,
                    customer: c as u64,
                    terminal: u64::from(terminal),
                    cents: (amount * 100.0).round() as u64,
                    scenario: Scenario::Genuine,
                    detail: None,
                });
            }
        }
    }

    /// Expected genuine transactions a day.
    pub fn expected_per_day(&self) -> f64 {
        // P(0 < int(N(43200, 20000)) < 86400) = P(|Z| < 2.16) ≈ 0.96923.
        let in_day = 0.969_23;
        self.customers
            .iter()
            .enumerate()
            .filter(|(c, _)| !self.nearby(*c).is_empty())
            .map(|(_, cu)| cu.tx_per_day * in_day)
            .sum()
    }

    /// A terminal at grid distance of at least 40 from customer `c` (or the farthest of 64 draws).
    pub fn far_terminal(&self, c: usize, rng: &mut Rng) -> u64 {
        let cu = &self.customers[c];
        let mut best = (0u32, -1.0f64);
        for _ in 0..64 {
            let t = rng.random_range(0..self.terminals.len()) as u32;
            let (x, y) = self.terminals[t as usize];
            let d = (x - cu.x).hypot(y - cu.y);
            if d >= 40.0 {
                return u64::from(t);
            }
            if d > best.1 {
                best = (t, d);
            }
        }
        u64::from(best.0)
    }
}

/// Knuth's Poisson sampler given e^(−λ): fast for the small rates customers have.
pub(crate) fn poisson(rng: &mut Rng, exp_neg_rate: f64) -> u32 {
    let mut n = 0;
    let mut p: f64 = rng.random();
    while p > exp_neg_rate {
        p *= rng.random::<f64>();
        n += 1;
    }
    n
}

/// Fills each customer's range of terminals closer than `RADIUS`, through a grid of cells.
fn link_nearby(customers: &mut [Customer], terminals: &[(f64, f64)]) -> Vec<u32> {
    let cells = (GRID / RADIUS).ceil() as usize;
    let cell = |v: f64| ((v / RADIUS) as usize).min(cells - 1);
    let mut grid: Vec<Vec<u32>> = vec![Vec::new(); cells * cells];
    for (i, &(x, y)) in terminals.iter().enumerate() {
        grid[cell(x) * cells + cell(y)].push(i as u32);
    }
    let mut nearby = Vec::new();
    for cu in customers.iter_mut() {
        let lo = nearby.len() as u32;
        let (cx, cy) = (cell(cu.x), cell(cu.y));
        for gx in cx.saturating_sub(1)..=(cx + 1).min(cells - 1) {
            for gy in cy.saturating_sub(1)..=(cy + 1).min(cells - 1) {
                for &t in &grid[gx * cells + gy] {
                    let (x, y) = terminals[t as usize];
                    let (dx, dy) = (x - cu.x, y - cu.y);
                    if dx * dx + dy * dy < RADIUS * RADIUS {
                        nearby.push(t);
                    }
                }
            }
        }
        // Terminal order does not matter to a uniform choice, but keep it canonical.
        nearby[lo as usize..].sort_unstable();
        cu.nearby = (lo, nearby.len() as u32);
    }
    nearby
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearby_terminals_are_exactly_those_within_the_radius() {
        let w = HandbookWorld::new(3, 200, 2_000);
        for (c, cu) in w.customers.iter().enumerate() {
            let brute: Vec<u32> = (0..w.terminals.len() as u32)
                .filter(|&t| {
                    let (x, y) = w.terminals[t as usize];
                    (x - cu.x).powi(2) + (y - cu.y).powi(2) < RADIUS * RADIUS
                })
                .collect();
            assert_eq!(w.nearby(c), &brute[..]);
        }
    }

    #[test]
    fn a_day_looks_like_the_handbooks() {
        let w = HandbookWorld::new(1, 5_000, 10_000);
        let mut rng = seed::rng(1, Purpose::Genuine, 0);
        let mut out = Vec::new();
        w.genuine_day(0, &mut rng, (i64::MAX, 1.0), &mut out);
        let expected = w.expected_per_day();
        assert!((9_400.0..10_000.0).contains(&expected), "{expected}");
        let n = out.len() as f64;
        assert!(
            (n - expected).abs() < 4.0 * expected.sqrt(),
            "{n} vs {expected}"
        );
        assert!(
            out.iter()
                .all(|t| t.time_ms > 0 && t.time_ms < 86_400_000 && t.time_ms % 1000 == 0)
        );
        for t in &out {
            assert!(w.nearby(t.customer as usize).contains(&(t.terminal as u32)));
        }
    }

    #[test]
    fn poisson_has_the_right_mean() {
        let mut rng = seed::rng(9, Purpose::Genuine, 0);
        let lambda: f64 = 2.5;
        let n = 100_000;
        let sum: u64 = (0..n)
            .map(|_| u64::from(poisson(&mut rng, (-lambda).exp())))
            .sum();
        let mean = sum as f64 / f64::from(n);
        assert!((mean - lambda).abs() < 0.03, "{mean}");
    }
}
