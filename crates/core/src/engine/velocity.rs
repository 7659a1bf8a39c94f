//! The streaming feature set ([`super::spec::VELOCITY`]): what a model can learn from the
//! transaction's own fields and the customer's and terminal's recent past, no labels needed.
//!
//! For a transaction at `t` of customer `c` at terminal `m` ("window" = `(t − W, t]`, current
//! included; "previous" = `c`'s transactions in `(t − 30 d, t]` that come before the current one
//! in (time, arrival) order):
//!
//! | feature | definition |
//! |---|---|
//! | `amount` | the amount |
//! | `hour_of_day`, `tx_during_weekend`, `tx_during_night` | UTC hour 0–23; Saturday/Sunday; hour ≤ 6 |
//! | `channel_*` | one-hot of `card_present`, `online`, `atm`; all 0 when absent |
//! | `customer_nb_tx_W`, `customer_amount_W` | count and sum of `c`'s amounts in the window, W = 5 min, 30 min, 1 day (count also for 30 days) |
//! | `customer_secs_since_prev_tx` | seconds since the latest previous transaction; 2,592,000 (30 days) when none |
//! | `customer_amount_zscore_30day` | (amount − mean) / std (population) of the previous amounts; 0 when fewer than 2 or std = 0 |
//! | `customer_new_terminal_30day` | 1 when no previous transaction was at `m` |
//! | `customer_new_country_30day` | 1 when the country is given and no previous transaction had it |
//! | `customer_km_from_prev` | great-circle km from the latest previous transaction with a location; 0 without |
//! | `customer_km_from_home_30day` | km from "home", the spherical mean of the previous locations; 0 without |
//! | `terminal_nb_tx_1hour`, `terminal_nb_tx_1day` | `m`'s transactions in the window |
//!
//! Window counts and sums are exact (integer micro-units); the z-score comes from the exact
//! integer sums of the amounts and their squares; locations are kept as unit vectors quantised
//! to 1e-9 (about 6 mm on the ground), "home" is the direction of their exact integer sum, and
//! distances are great-circle distances between those vectors (to about a centimetre). Each is a
//! function of the set of transactions in the window only, whatever their arrival order.
//!
//! Cost per transaction: a few binary searches from the newest entries and differences of running
//! sums; new-terminal / new-country look in a short per-customer list of (key, last seen) while
//! events arrive in order, and scan the 30 days only for an event that arrives late.

use super::calendar::{hour, is_night, is_weekend};
use super::hash::IdMap;
use super::window::{Entry, Series, Summary};
use super::{At, DAY_MS, HOUR_MS, MINUTE_MS, Stats, geo, money};
use crate::codes::{Channel, Country};
use crate::id::Id;
use crate::transaction::Transaction;

/// The customer history horizon.
const HISTORY: i64 = 30 * DAY_MS;
/// The longest terminal window.
const TERMINAL_WINDOW: i64 = DAY_MS;
/// Unit-vector components are kept as integers of this scale.
const UNIT: f64 = 1e9;

/// What the customer windows add up (wrapping integers: differences are exact).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    micros: i64,
    squares: i128,
    located: i64,
    place: [i64; 3],
}

impl Summary for Sums {
    fn plus(self, o: Self) -> Self {
        Sums {
            micros: self.micros.wrapping_add(o.micros),
            squares: self.squares.wrapping_add(o.squares),
            located: self.located.wrapping_add(o.located),
            place: [0, 1, 2].map(|i| self.place[i].wrapping_add(o.place[i])),
        }
    }
    fn minus(self, o: Self) -> Self {
        Sums {
            micros: self.micros.wrapping_sub(o.micros),
            squares: self.squares.wrapping_sub(o.squares),
            located: self.located.wrapping_sub(o.located),
            place: [0, 1, 2].map(|i| self.place[i].wrapping_sub(o.place[i])),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Txn {
    time: i64,
    seq: u64,
    micros: i64,
    /// The terminal's number (see `Terminal::number`).
    terminal: u64,
    country: Option<Country>,
    /// The location as a unit vector quantised to 1e-9; zero without one.
    place: [i32; 3],
    cum: Sums,
}

impl Entry for Txn {
    type Sum = Sums;
    fn time(&self) -> i64 {
        self.time
    }
    fn seq(&self) -> u64 {
        self.seq
    }
    fn own(&self) -> Sums {
        Sums {
            micros: self.micros,
            squares: i128::from(self.micros) * i128::from(self.micros),
            located: i64::from(self.located()),
            place: self.place.map(i64::from),
        }
    }
    fn cum(&self) -> Sums {
        self.cum
    }
    fn set_cum(&mut self, cum: Sums) {
        self.cum = cum;
    }
}

impl Txn {
    fn located(&self) -> bool {
        self.place != [0; 3]
    }

    fn unit_vector(&self) -> [f64; 3] {
        self.place.map(|x| f64::from(x) / UNIT)
    }
}

#[derive(Debug, Clone, Copy)]
struct Hit {
    time: i64,
    seq: u64,
}

impl Entry for Hit {
    type Sum = ();
    fn time(&self) -> i64 {
        self.time
    }
    fn seq(&self) -> u64 {
        self.seq
    }
    fn own(&self) {}
    fn cum(&self) {}
    fn set_cum(&mut self, (): ()) {}
}

#[derive(Debug)]
struct Terminal {
    /// A number no other terminal had while this one lives: customers' histories name
    /// terminals by it. A terminal is kept 30 days after its last transaction (see `sweep`), so a
    /// history never names a terminal that was dropped and came back under a new number.
    number: u64,
    hits: Series<Hit>,
    last_time: i64,
}

/// Something a customer was seen with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Terminal(u64),
    Country(Country),
}

/// One customer: the last 30 days of transactions, and when each terminal and country was
/// last seen (answers "new terminal / country" for in-order events without a scan).
#[derive(Debug, Default)]
struct Customer {
    txns: Series<Txn>,
    seen: Vec<(Seen, i64)>,
}

/// The velocity set's state. Customers and terminals live in the hash tables themselves: one
/// memory region fewer per event than a table of slot numbers.
#[derive(Debug, Default)]
pub struct State {
    customers: IdMap<Customer>,
    terminals: IdMap<Terminal>,
    numbers: u64,
}

/// The value of `id`, created with `make` when new; the second lookup hits the cache, and the
/// id is copied only when new.
fn entry<'m, V>(map: &'m mut IdMap<V>, id: &Id, make: impl FnOnce() -> V) -> &'m mut V {
    if !map.contains_key(id) {
        map.insert(id.clone(), make());
    }
    map.get_mut(id).expect("present: inserted above")
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Whether `key` was last seen after `since`, then records it as seen at `t`.
fn seen_since<K: PartialEq + Copy>(seen: &mut Vec<(K, i64)>, key: K, since: i64, t: i64) -> bool {
    match seen.iter_mut().find(|(k, _)| *k == key) {
        Some((_, last)) => {
            let was = *last > since;
            *last = (*last).max(t);
            was
        }
        None => {
            seen.push((key, t));
            false
        }
    }
}

/// Records `key` as seen at `t` (for a late event: the last sighting may be later).
fn record<K: PartialEq + Copy>(seen: &mut Vec<(K, i64)>, key: K, t: i64) {
    seen_since(seen, key, i64::MAX, t);
}

impl State {
    pub(crate) fn transaction(&mut self, tx: &Transaction, micros: i64, at: At, out: &mut [f64]) {
        let t = at.time;
        out[0] = tx.amount;
        out[1] = hour(t) as f64;
        out[2] = flag(is_weekend(t));
        out[3] = flag(is_night(t));
        for (i, c) in Channel::ALL.into_iter().enumerate() {
            out[4 + i] = flag(tx.channel == Some(c));
        }

        let customer = entry(&mut self.customers, &tx.customer_id, Customer::default);
        let numbers = &mut self.numbers;
        let term = entry(&mut self.terminals, &tx.terminal_id, || {
            *numbers += 1;
            Terminal {
                number: *numbers,
                hits: Series::default(),
                last_time: i64::MIN,
            }
        });
        // Both histories are cold in memory: load their far ends and the seen-list now, so the
        // cache misses overlap instead of queueing one behind the other.
        std::hint::black_box((
            customer.txns.ends(),
            term.hits.ends(),
            customer.seen.first().map(|s| s.1),
        ));
        let number = term.number;
        term.last_time = term.last_time.max(t);
        term.hits.evict_through(at.cutoff(TERMINAL_WINDOW));
        let p = term.hits.insert(Hit {
            time: t,
            seq: at.seq,
        });
        out[20] = (p + 1 - term.hits.after_back(t - HOUR_MS, p + 1)) as f64;
        out[21] = (p + 1 - term.hits.after_back(t - DAY_MS, p + 1)) as f64;

        let here = match (tx.lat, tx.lon) {
            (Some(lat), Some(lon)) if lat.is_finite() && lon.is_finite() => {
                Some(geo::unit_vector(lat, lon))
            }
            _ => None,
        };
        let place = here.map_or([0; 3], |v| v.map(|x| (x * UNIT).round() as i32));
        let txns = &mut customer.txns;
        txns.evict_through(at.cutoff(HISTORY));
        let p = txns.insert(Txn {
            time: t,
            seq: at.seq,
            micros,
            terminal: number,
            country: tx.country,
            place,
            cum: Sums::default(),
        });
        let end = p + 1;
        // Nested windows: each search starts where the shorter one stopped.
        let mut lo = end;
        for (k, width) in [5 * MINUTE_MS, 30 * MINUTE_MS, DAY_MS]
            .into_iter()
            .enumerate()
        {
            lo = txns.after_back(t - width, lo);
            out[7 + 2 * k] = (end - lo) as f64;
            out[8 + 2 * k] = money::from_micros(i128::from(txns.sum(lo, end).micros));
        }
        // The previous transactions: lo..p.
        let lo = txns.after(t - HISTORY);
        out[13] = (end - lo) as f64;
        out[14] = match txns.get(p.wrapping_sub(1)) {
            Some(prev) if p > lo => (t - prev.time) as f64 / 1000.0,
            _ => (HISTORY / 1000) as f64,
        };
        let prev = txns.sum(lo, p);
        out[15] = zscore(i128::from(micros), (p - lo) as i128, prev);

        let since = t - HISTORY;
        let in_order = end == txns.len();
        let (seen_terminal, seen_country) = if in_order {
            (
                seen_since(&mut customer.seen, Seen::Terminal(number), since, t),
                tx.country
                    .is_some_and(|c| seen_since(&mut customer.seen, Seen::Country(c), since, t)),
            )
        } else {
            let earlier = || txns.range(lo..p);
            let seen = (
                earlier().any(|e| e.terminal == number),
                tx.country.is_some() && earlier().any(|e| e.country == tx.country),
            );
            record(&mut customer.seen, Seen::Terminal(number), t);
            if let Some(c) = tx.country {
                record(&mut customer.seen, Seen::Country(c), t);
            }
            seen
        };
        out[16] = flag(!seen_terminal);
        out[17] = flag(tx.country.is_some() && !seen_country);

        (out[18], out[19]) = (0.0, 0.0);
        if let Some(u) = here
            && prev.located > 0
        {
            if let Some(e) = txns.range(lo..p).rev().find(|e| e.located()) {
                out[18] = geo::chord_km(u, e.unit_vector());
            }
            if let Some(home) = geo::normalise(prev.place.map(|x| x as f64 / UNIT)) {
                out[19] = geo::chord_km(u, home);
            }
        }
    }

    pub(crate) fn sweep(&mut self, floor: i64) {
        let history_cut = floor.saturating_sub(HISTORY);
        self.customers.retain(|_, c| {
            c.txns.evict_through(history_cut);
            c.seen.retain(|&(_, last)| last > history_cut);
            !c.txns.is_empty()
        });
        // A terminal is kept as long as a customer's history may name it (30 days after its
        // last transaction), so `customer_new_terminal_30day` never confuses two terminals.
        let terminal_cut = floor.saturating_sub(TERMINAL_WINDOW);
        self.terminals.retain(|_, term| {
            term.hits.evict_through(terminal_cut);
            term.last_time > history_cut
        });
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            customers: self.customers.len(),
            terminals: self.terminals.len(),
            entries: self.customers.values().map(|c| c.txns.len()).sum::<usize>()
                + self.terminals.values().map(|t| t.hits.len()).sum::<usize>(),
            label_targets: 0,
        }
    }
}

/// z-score of `x` (micro-units) against `n` previous amounts with sums `s`; 0 when fewer than
/// 2 or no spread. With S = Σx and Q = Σx²: z = (n·x − S) / √(n·Q − S²), exact in integers
/// until the products overflow (amounts near the 1e9 limit), then in floating point.
fn zscore(x: i128, n: i128, s: Sums) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let (sum, squares) = (i128::from(s.micros), s.squares);
    let exact = || {
        let spread = n.checked_mul(squares)?.checked_sub(sum.checked_mul(sum)?)?;
        Some((x.checked_mul(n)?.checked_sub(sum)?, spread))
    };
    match exact() {
        Some((_, spread)) if spread <= 0 => 0.0,
        Some((dev, spread)) => dev as f64 / (spread as f64).sqrt(),
        None => {
            let (n, sum) = (n as f64, sum as f64);
            let spread = n * squares as f64 - sum * sum;
            if spread <= 0.0 {
                0.0
            } else {
                (x as f64 * n - sum) / spread.sqrt()
            }
        }
    }
}
