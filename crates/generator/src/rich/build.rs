//! Building the default world from the seed: towns in countries, shops and ATMs in towns, web shops,
//! and customers with their habits and favourite web shops.

use rand::RngExt;

use super::{ATM_MCC, Customer, FAVOURITES, Kind, RichWorld, Terminal, Town, normal};
use crate::geo::{self, HOMES, NEW_MARKET, Place};
use crate::seed::{self, Purpose, Rng};

/// Physical merchant categories: (ISO 18245 code, share of terminals, amount factor).
const SHOPS: [(u16, f64, f64); 9] = [
    (5411, 0.30, 1.0), // grocery
    (5812, 0.15, 0.8), // restaurants
    (5541, 0.10, 1.0), // fuel
    (5912, 0.07, 0.6), // pharmacy
    (5311, 0.08, 1.3), // department store
    (5651, 0.08, 1.2), // clothing
    (5732, 0.04, 1.8), // electronics
    (5999, 0.10, 0.9), // other retail
    (4111, 0.08, 0.5), // transport
];
/// Online merchant categories, same columns.
const WEB: [(u16, f64, f64); 6] = [
    (5815, 0.20, 0.3), // digital goods
    (5999, 0.25, 1.0),
    (5311, 0.20, 1.2),
    (5732, 0.15, 1.8),
    (4829, 0.10, 1.5), // money transfer
    (7995, 0.10, 1.0), // gambling
];
const ATM_SHARE: f64 = 0.08;
const ONLINE_SHARE: f64 = 0.10;
const CUSTOMERS_PER_TOWN: u32 = 60;

fn pick_weighted<const N: usize>(rng: &mut Rng, table: &[(u16, f64, f64); N]) -> (u16, f64) {
    let mut u: f64 = rng.random();
    for &(code, share, factor) in table {
        if u < share {
            return (code, factor);
        }
        u -= share;
    }
    (table[N - 1].0, table[N - 1].2)
}

impl RichWorld {
    pub fn new(seed: u64, customers: u32, terminals: u32) -> Self {
        let mut rng = seed::rng(seed, Purpose::Terminals, 0);
        let mut places: Vec<Place> = HOMES.to_vec();
        places.push(NEW_MARKET);
        let home_towns = (customers / CUSTOMERS_PER_TOWN).max(1);
        let mut towns = Vec::new();
        for (p, place) in HOMES.iter().enumerate() {
            let n = ((place.residents * f64::from(home_towns)).round() as u32).max(1);
            for _ in 0..n {
                towns.push(new_town(&mut rng, p, place));
            }
        }
        let new_market = places.len() - 1;
        let mut new_market_towns = Vec::new();
        for _ in 0..(home_towns / 20).max(1) {
            new_market_towns.push(towns.len() as u32);
            towns.push(new_town(&mut rng, new_market, &NEW_MARKET));
        }

        let n_online = ((f64::from(terminals) * ONLINE_SHARE) as u32).max(5);
        let n_physical = terminals.saturating_sub(n_online).max(towns.len() as u32);
        let mut ts = Vec::with_capacity((n_online + n_physical) as usize);
        let mut online = Vec::new();
        for i in 0..n_physical {
            // Every town gets a shop first; the rest go to random towns.
            let town = if (i as usize) < towns.len() {
                i as usize
            } else {
                rng.random_range(0..towns.len())
            };
            let atm = (i as usize) >= towns.len() && rng.random_bool(ATM_SHARE);
            let (mcc, amount_factor) = if atm {
                (ATM_MCC, 1.0)
            } else {
                pick_weighted(&mut rng, &SHOPS)
            };
            let t = &towns[town];
            let (lat, lon) = (
                t.lat + 0.03 * normal(&mut rng),
                t.lon + 0.03 * normal(&mut rng),
            );
            let id = ts.len() as u32;
            ts.push(Terminal {
                kind: if atm { Kind::Atm } else { Kind::Shop },
                country: places[t.place].code,
                mcc,
                amount_factor,
                lat_e4: geo::e4(lat, 90.0),
                lon_e4: geo::e4(lon, 180.0),
            });
            if atm {
                towns[town].atms.push(id);
            } else {
                towns[town].shops.push(id);
            }
        }
        for _ in 0..n_online {
            let place = &places[rng.random_range(0..HOMES.len())];
            let (mcc, amount_factor) = pick_weighted(&mut rng, &WEB);
            online.push(ts.len() as u32);
            ts.push(Terminal {
                kind: Kind::Online,
                country: place.code,
                mcc,
                amount_factor,
                lat_e4: geo::e4(place.lat, 90.0),
                lon_e4: geo::e4(place.lon, 180.0),
            });
        }

        let mut rng = seed::rng(seed, Purpose::Customers, 0);
        let home_weights: Vec<f64> = HOMES.iter().map(|p| p.residents).collect();
        let towns_of: Vec<Vec<u32>> = (0..HOMES.len())
            .map(|p| {
                (0..towns.len() as u32)
                    .filter(|&t| towns[t as usize].place == p)
                    .collect()
            })
            .collect();
        let mut cs = Vec::with_capacity(customers as usize);
        let mut favourites = Vec::with_capacity(customers as usize * FAVOURITES);
        for _ in 0..customers {
            let p = weighted_index(&mut rng, &home_weights);
            let town = towns_of[p][rng.random_range(0..towns_of[p].len())];
            let t = &towns[town as usize];
            let (lat, lon) = (
                t.lat + 0.03 * normal(&mut rng),
                t.lon + 0.03 * normal(&mut rng),
            );
            let mean_amount = (35f64.ln() + 0.5 * normal(&mut rng))
                .exp()
                .clamp(3.0, 300.0);
            cs.push(Customer {
                town,
                country: places[p].code,
                lat_e4: geo::e4(lat, 90.0),
                lon_e4: geo::e4(lon, 180.0),
                mean_amount,
                tx_per_day: rng.random_range(0.2..3.5),
                p_online: rng.random_range(0.05..0.45),
                p_atm: rng.random_range(0.01..0.06),
                peak_s: (13.5 + 2.5 * normal(&mut rng)).clamp(7.0, 21.0) * 3_600.0,
                devices: if rng.random_bool(0.5) { 2 } else { 1 },
            });
            for _ in 0..FAVOURITES {
                favourites.push(online[rng.random_range(0..online.len())]);
            }
        }
        Self {
            places,
            towns,
            terminals: ts,
            online,
            customers: cs,
            favourites,
            new_market_towns,
        }
    }
}

fn new_town(rng: &mut Rng, place: usize, p: &Place) -> Town {
    Town {
        place,
        lat: p.lat + p.spread * normal(rng),
        lon: p.lon + p.spread * normal(rng),
        shops: Vec::new(),
        atms: Vec::new(),
    }
}

fn weighted_index(rng: &mut Rng, weights: &[f64]) -> usize {
    let mut u = rng.random::<f64>() * weights.iter().sum::<f64>();
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}
