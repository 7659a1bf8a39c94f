//! The default profile's world: towns in countries, each with card terminals and ATMs; online
//! merchants; customers with a home town, a spending level, a daily rate, preferred hours, a
//! channel mix, devices and favourite web shops. Genuine customers sometimes travel abroad, so a
//! foreign country alone is not fraud.

//!
//! Building the world (towns, terminals, customers) is in [`build`]; this module has its types and
//! the daily generation.

mod build;

use fraudwatch_core::{Channel, Country};
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::geo::{self, Place};
use crate::handbook::poisson;
use crate::seed::Rng;
use crate::tx::{Detail, Scenario, Tx};

pub(crate) const ATM_MCC: u16 = 6011;
pub(crate) const DIGITAL_GOODS: u16 = 5815;
pub(crate) const ELECTRONICS: u16 = 5732;
const FAVOURITES: usize = 4;
const TRAVEL: f64 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Shop,
    Atm,
    Online,
}

#[derive(Debug, Clone)]
pub struct Terminal {
    pub kind: Kind,
    pub country: Country,
    pub mcc: u16,
    amount_factor: f64,
    pub lat_e4: i32,
    pub lon_e4: i32,
}

#[derive(Debug, Clone)]
pub struct Town {
    pub place: usize,
    pub lat: f64,
    pub lon: f64,
    shops: Vec<u32>,
    atms: Vec<u32>,
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub town: u32,
    pub country: Country,
    pub lat_e4: i32,
    pub lon_e4: i32,
    pub mean_amount: f64,
    pub tx_per_day: f64,
    pub p_online: f64,
    pub p_atm: f64,
    /// Preferred time of day, seconds.
    pub peak_s: f64,
    pub devices: u8,
}

#[derive(Debug, Clone)]
pub struct RichWorld {
    /// `HOMES` then `NEW_MARKET`.
    pub places: Vec<Place>,
    pub towns: Vec<Town>,
    pub terminals: Vec<Terminal>,
    pub online: Vec<u32>,
    pub customers: Vec<Customer>,
    favourites: Vec<u32>,
    /// Towns of the new market (drift of kind `country`).
    new_market_towns: Vec<u32>,
}

fn normal(rng: &mut Rng) -> f64 {
    rng.sample(StandardNormal)
}

impl RichWorld {
    /// Appends day `day`'s genuine transactions (unsorted, `id` = 0) to `out`.
    pub fn genuine_day(
        &self,
        day_start_ms: i64,
        weekend: bool,
        rng: &mut Rng,
        drift: &Drifts,
        out: &mut Vec<Tx>,
    ) {
        let busy = if weekend { 1.15 } else { 1.0 };
        for (c, cu) in self.customers.iter().enumerate() {
            let n = poisson(rng, (-(cu.tx_per_day * busy)).exp());
            for _ in 0..n {
                let second = (cu.peak_s + 12_600.0 * normal(rng)).rem_euclid(86_400.0) as i64;
                let time_ms = day_start_ms + second * 1000;
                let p_online = if time_ms >= drift.channel_from {
                    (cu.p_online + 0.3).min(0.9)
                } else {
                    cu.p_online
                };
                let u: f64 = rng.random();
                let mut channel = if u < p_online {
                    Channel::Online
                } else if u < p_online + cu.p_atm {
                    Channel::Atm
                } else {
                    Channel::CardPresent
                };
                let town = &self.towns[cu.town as usize];
                let terminal = match channel {
                    Channel::Online => {
                        self.favourites[c * FAVOURITES + rng.random_range(0..FAVOURITES)]
                    }
                    Channel::Atm if !town.atms.is_empty() => {
                        town.atms[rng.random_range(0..town.atms.len())]
                    }
                    _ => {
                        channel = Channel::CardPresent;
                        let at = if time_ms >= drift.country_from && rng.random_bool(0.2) {
                            let t = self.new_market_towns
                                [rng.random_range(0..self.new_market_towns.len())];
                            &self.towns[t as usize]
                        } else if rng.random_bool(TRAVEL) {
                            &self.towns[rng
                                .random_range(0..self.towns.len() - self.new_market_towns.len())]
                        } else {
                            town
                        };
                        at.shops[rng.random_range(0..at.shops.len())]
                    }
                };
                let term = &self.terminals[terminal as usize];
                let mut amount = cu.mean_amount + cu.mean_amount / 2.0 * normal(rng);
                if amount < 0.0 {
                    amount = rng.random_range(0.0..cu.mean_amount * 2.0);
                }
                amount *= term.amount_factor;
                if time_ms >= drift.amount_from {
                    amount *= drift.amount_factor;
                }
                let cents = if channel == Channel::Atm {
                    ((amount / 10.0).round().max(2.0) * 1_000.0) as u64
                } else {
                    ((amount * 100.0).round() as u64).max(1)
                };
                let detail = if channel == Channel::Online {
                    Detail {
                        channel,
                        country: cu.country,
                        mcc: term.mcc,
                        device: self.device(c, rng.random_range(0..cu.devices)),
                        lat_e4: cu.lat_e4,
                        lon_e4: cu.lon_e4,
                    }
                } else {
                    Detail {
                        channel,
                        country: term.country,
                        mcc: term.mcc,
                        device: 0,
                        lat_e4: term.lat_e4,
                        lon_e4: term.lon_e4,
                    }
                };
                out.push(Tx {
                    id: 0,
                    time_ms,
                    customer: c as u64,
                    terminal: u64::from(terminal),
                    cents,
                    scenario: Scenario::Genuine,
                    detail: Some(detail),
                });
            }
        }
    }

    /// Customer `c`'s `k`-th device id (never 0; fraudsters' devices are above 3·10⁹).
    pub fn device(&self, c: usize, k: u8) -> u32 {
        (c as u32) * 2 + 1 + u32::from(k)
    }

    /// An online merchant, preferring category `mcc` (any merchant if none has it).
    pub fn online_merchant(&self, rng: &mut Rng, mcc: u16) -> u32 {
        for _ in 0..32 {
            let t = self.online[rng.random_range(0..self.online.len())];
            if self.terminals[t as usize].mcc == mcc {
                return t;
            }
        }
        self.online[rng.random_range(0..self.online.len())]
    }

    /// A card terminal (shop or ATM) drawn uniformly: what skimmers and colluding merchants use.
    pub fn physical_terminal(&self, rng: &mut Rng) -> u32 {
        let physical = self.terminals.len() - self.online.len();
        rng.random_range(0..physical) as u32
    }

    pub fn is_physical(&self, terminal: u64) -> bool {
        (terminal as usize) < self.terminals.len() - self.online.len()
    }

    /// Expected genuine transactions a day (weekday).
    pub fn expected_per_day(&self) -> f64 {
        self.customers.iter().map(|c| c.tx_per_day).sum()
    }
}

/// Drift switches of the default world, as event times (`i64::MAX` = never).
#[derive(Debug, Clone, Copy)]
pub struct Drifts {
    pub amount_from: i64,
    pub amount_factor: f64,
    pub channel_from: i64,
    pub country_from: i64,
}

/// A random location in a far-away country: (country, lat, lon) with lat/lon in 1e-4 degrees.
pub(crate) fn far_location(rng: &mut Rng) -> (Country, i32, i32) {
    let p = &geo::FAR[rng.random_range(0..geo::FAR.len())];
    (
        p.code,
        geo::e4(p.lat + p.spread * normal(rng), 90.0),
        geo::e4(p.lon + p.spread * normal(rng), 180.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::NEW_MARKET;
    use crate::seed::{self, Purpose};

    const NO_DRIFT: Drifts = Drifts {
        amount_from: i64::MAX,
        amount_factor: 1.0,
        channel_from: i64::MAX,
        country_from: i64::MAX,
    };

    #[test]
    fn a_day_has_habits_channels_and_travel() {
        let w = RichWorld::new(5, 10_000, 10_000);
        assert!(w.towns.iter().all(|t| !t.shops.is_empty()));
        let mut rng = seed::rng(5, Purpose::Genuine, 0);
        let mut out = Vec::new();
        w.genuine_day(0, false, &mut rng, &NO_DRIFT, &mut out);
        let n = out.len() as f64;
        let expected = w.expected_per_day();
        assert!(
            (n - expected).abs() < 4.0 * expected.sqrt(),
            "{n} vs {expected}"
        );
        let share = |ch: Channel| {
            out.iter()
                .filter(|t| t.detail.unwrap().channel == ch)
                .count() as f64
                / n
        };
        assert!(
            (0.2..0.3).contains(&share(Channel::Online)),
            "{}",
            share(Channel::Online)
        );
        assert!(
            (0.02..0.05).contains(&share(Channel::Atm)),
            "{}",
            share(Channel::Atm)
        );
        let abroad = out
            .iter()
            .filter(|t| {
                let d = t.detail.unwrap();
                d.channel == Channel::CardPresent
                    && d.country != w.customers[t.customer as usize].country
            })
            .count() as f64
            / n;
        assert!((0.002..0.02).contains(&abroad), "{abroad}");
        for t in &out {
            let d = t.detail.unwrap();
            assert_eq!(d.device != 0, d.channel == Channel::Online);
            if d.channel == Channel::Atm {
                assert_eq!(t.cents % 1_000, 0);
            }
        }
    }

    #[test]
    fn drift_changes_the_channel_mix_and_opens_a_country() {
        let w = RichWorld::new(5, 5_000, 5_000);
        let drift = Drifts {
            channel_from: 0,
            country_from: 0,
            ..NO_DRIFT
        };
        let mut out = Vec::new();
        w.genuine_day(
            0,
            false,
            &mut seed::rng(5, Purpose::Genuine, 0),
            &drift,
            &mut out,
        );
        let n = out.len() as f64;
        let online = out
            .iter()
            .filter(|t| t.detail.unwrap().channel == Channel::Online)
            .count() as f64;
        assert!(online / n > 0.45, "{}", online / n);
        let pt = out
            .iter()
            .filter(|t| t.detail.unwrap().country == NEW_MARKET.code)
            .count() as f64;
        assert!((0.05..0.15).contains(&(pt / n)), "{}", pt / n);
    }
}
