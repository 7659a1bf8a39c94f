//! The shapes of the fraud episodes that add transactions of their own: card testing, account
//! takeover and merchant collusion. (The handbook's three scenarios relabel genuine transactions;
//! `world` applies them.) Each shape is a pure function of the population and a random stream.

use fraudwatch_core::Channel;
use rand::RngExt;
use rand_distr::Exp1;

use crate::handbook::poisson;
use crate::population::Population;
use crate::rich::{self, DIGITAL_GOODS, ELECTRONICS};
use crate::seed::Rng;
use crate::tx::{Detail, Scenario, Tx};

const DAY_MS: i64 = 86_400_000;
/// Days a colluding merchant keeps running stolen cards.
pub const COLLUSION_DAYS: i64 = 7;
/// The longest an account takeover lasts.
pub const TAKEOVER_SPAN_S: i64 = 2 * 86_400;

/// Episodes to start today for a rate per day: ⌊r⌋, plus one with probability r − ⌊r⌋.
pub(crate) fn episodes(rng: &mut Rng, rate: f64) -> u32 {
    let whole = rate.floor();
    let extra = rate - whole;
    whole as u32 + u32::from(extra > 0.0 && rng.random_bool(extra.min(1.0)))
}

/// `k` distinct values of `0..n` (all of them if `k >= n`), in draw order.
pub(crate) fn distinct(
    rng: &mut Rng,
    k: u32,
    n: usize,
    mut draw: impl FnMut(&mut Rng) -> u32,
) -> Vec<u32> {
    let k = (k as usize).min(n);
    let mut out: Vec<u32> = Vec::with_capacity(k);
    while out.len() < k {
        let v = draw(rng);
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// A device no genuine customer has.
fn fraud_device(rng: &mut Rng) -> u32 {
    3_000_000_000 + rng.random_range(0..1_000_000_000)
}

fn fraud(
    time_ms: i64,
    customer: usize,
    terminal: u64,
    cents: u64,
    scenario: Scenario,
    detail: Option<Detail>,
) -> Tx {
    Tx {
        id: 0,
        time_ms,
        customer: customer as u64,
        terminal,
        cents,
        scenario,
        detail,
    }
}

/// Card testing: 5 to 15 payments of 0.50 to 5.00 (often exactly 1.00) at one web shop, about 20 s
/// apart, from a device the customer never used; 2 to 30 minutes later one large purchase
/// (250 to 1,500) at an electronics shop.
pub(crate) fn card_testing(
    pop: &Population,
    day_start_ms: i64,
    rng: &mut Rng,
    out: &mut impl FnMut(Tx),
) {
    let c = rng.random_range(0..pop.customers());
    let mut t = day_start_ms + rng.random_range(0..86_400) * 1000;
    let tests = rng.random_range(5..=15);
    let device = fraud_device(rng);
    let (tester, cashout, detail) = match pop {
        Population::Handbook(w) => {
            let n = w.terminals.len() as u64;
            (rng.random_range(0..n), rng.random_range(0..n), None)
        }
        Population::Default(w) => {
            let tester = w.online_merchant(rng, DIGITAL_GOODS);
            let cashout = w.online_merchant(rng, ELECTRONICS);
            let cu = &w.customers[c];
            let (country, lat_e4, lon_e4) = if rng.random_bool(0.5) {
                rich::far_location(rng)
            } else {
                (cu.country, cu.lat_e4, cu.lon_e4)
            };
            let d = Detail {
                channel: Channel::Online,
                country,
                mcc: DIGITAL_GOODS,
                device,
                lat_e4,
                lon_e4,
            };
            (u64::from(tester), u64::from(cashout), Some(d))
        }
    };
    for i in 0..tests {
        if i > 0 {
            let gap_s: f64 = 20.0 * rng.sample::<f64, _>(Exp1);
            t += (gap_s.round() as i64).max(1) * 1000;
        }
        let cents = if rng.random_bool(0.3) {
            100
        } else {
            rng.random_range(50..=500)
        };
        out(fraud(t, c, tester, cents, Scenario::CardTesting, detail));
    }
    t += rng.random_range(120..=1_800) * 1000;
    let cents = rng.random_range(25_000..=150_000);
    let detail = detail.map(|d| Detail {
        mcc: match pop {
            Population::Default(w) => w.terminals[cashout as usize].mcc,
            Population::Handbook(_) => d.mcc,
        },
        ..d
    });
    out(fraud(t, c, cashout, cents, Scenario::CardTesting, detail));
}

/// Account takeover: 2 to 6 online purchases within 1 to 48 hours from a new device in a
/// far-away country, each 3 to 10 times the customer's usual amount.
pub(crate) fn account_takeover(
    pop: &Population,
    day_start_ms: i64,
    rng: &mut Rng,
    out: &mut impl FnMut(Tx),
) {
    let c = rng.random_range(0..pop.customers());
    let start = day_start_ms + rng.random_range(0..86_400) * 1000;
    let span_s = rng.random_range(3_600..=TAKEOVER_SPAN_S);
    let n = rng.random_range(2..=6usize);
    let mut offsets = [0i64; 6];
    for o in offsets.iter_mut().take(n) {
        *o = rng.random_range(0..span_s) * 1000;
    }
    offsets[..n].sort_unstable();
    let device = fraud_device(rng);
    let far = rich::far_location(rng);
    let mean = pop.mean_amount(c);
    for &o in &offsets[..n] {
        let cents = ((mean * rng.random_range(3.0..10.0)) * 100.0).round() as u64;
        let (terminal, detail) = match pop {
            Population::Handbook(w) => (w.far_terminal(c, rng), None),
            Population::Default(w) => {
                let mcc = if rng.random_bool(0.5) {
                    ELECTRONICS
                } else {
                    4829
                };
                let t = w.online_merchant(rng, mcc);
                let d = Detail {
                    channel: Channel::Online,
                    country: far.0,
                    mcc: w.terminals[t as usize].mcc,
                    device,
                    lat_e4: far.1,
                    lon_e4: far.2,
                };
                (u64::from(t), Some(d))
            }
        };
        out(fraud(
            start + o,
            c,
            terminal,
            cents,
            Scenario::AccountTakeover,
            detail,
        ));
    }
}

/// Merchant collusion: for 7 days a card terminal takes about 10 extra payments a night
/// (22:00 to 05:00) from a ring of 15 to 30 stolen cards, at round amounts of 100 to 900.
pub(crate) fn merchant_collusion(
    pop: &Population,
    day_start_ms: i64,
    rng: &mut Rng,
    out: &mut impl FnMut(Tx),
) {
    let terminal = match pop {
        Population::Handbook(w) => rng.random_range(0..w.terminals.len()) as u32,
        Population::Default(w) => w.physical_terminal(rng),
    };
    let ring_size = rng.random_range(15..=30u32);
    let customers = pop.customers();
    let ring = distinct(rng, ring_size, customers, |r| {
        r.random_range(0..customers) as u32
    });
    let exp_neg_10 = (-10f64).exp();
    for d in 0..COLLUSION_DAYS {
        for _ in 0..poisson(rng, exp_neg_10) {
            let c = ring[rng.random_range(0..ring.len())] as usize;
            let second = rng.random_range(22 * 3_600..29 * 3_600);
            let time_ms = day_start_ms + d * DAY_MS + second * 1000;
            let cents = 50 * rng.random_range(2..=18u64) * 100;
            let detail = match pop {
                Population::Handbook(_) => None,
                Population::Default(w) => {
                    let t = &w.terminals[terminal as usize];
                    Some(Detail {
                        channel: Channel::CardPresent,
                        country: t.country,
                        mcc: t.mcc,
                        device: 0,
                        lat_e4: t.lat_e4,
                        lon_e4: t.lon_e4,
                    })
                }
            };
            out(fraud(
                time_ms,
                c,
                u64::from(terminal),
                cents,
                Scenario::MerchantCollusion,
                detail,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Profile};
    use crate::seed::{self, Purpose};

    #[test]
    fn episodes_average_the_rate() {
        let mut rng = seed::rng(1, Purpose::CardDraws, 0);
        assert_eq!(episodes(&mut rng, 3.0), 3);
        assert_eq!(episodes(&mut rng, 0.0), 0);
        let total: u32 = (0..10_000).map(|_| episodes(&mut rng, 0.25)).sum();
        assert!((2_300..2_700).contains(&total), "{total}");
    }

    #[test]
    fn distinct_draws_do_not_repeat() {
        let mut rng = seed::rng(1, Purpose::CardDraws, 0);
        let v = distinct(&mut rng, 5, 6, |r| r.random_range(0..6));
        let mut s = v.clone();
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), 5);
        assert_eq!(distinct(&mut rng, 9, 3, |r| r.random_range(0..3)).len(), 3);
    }

    #[test]
    fn shapes_work_in_both_worlds() {
        for profile in [Profile::Handbook, Profile::Default] {
            let mut cfg = Config::new(profile);
            cfg.customers = 500;
            cfg.terminals = 500;
            let pop = Population::new(&cfg);
            let mut rng = seed::rng(2, Purpose::CardTesting, 0);
            let mut txs = Vec::new();
            card_testing(&pop, 0, &mut rng, &mut |t| txs.push(t));
            account_takeover(&pop, 0, &mut rng, &mut |t| txs.push(t));
            merchant_collusion(&pop, 0, &mut rng, &mut |t| txs.push(t));
            assert!(txs.len() > 20);
            assert!(txs.iter().all(|t| t.is_fraud() && t.cents > 0));
            assert!(
                txs.iter()
                    .all(|t| t.detail.is_some() == (profile == Profile::Default))
            );
        }
    }
}
