//! Statistics of generated samples against what each scenario promises: the handbook profile
//! against the published dataset (`shared/data/handbook/README.md`), the default profile's
//! scenario shapes, the label delay, and drift.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;

use fraudwatch_core::Channel;
use fraudwatch_generator::geo::{self, FAR};
use fraudwatch_generator::population::Population;
use fraudwatch_generator::{
    Config, Drift, DriftKind, Event, Labels, Profile, Scenario, Summary, Tx, World, events,
};

const DAY_MS: i64 = 86_400_000;

fn world(profile: Profile, days: u32) -> Config {
    let mut c = Config::new(profile);
    c.days = Some(days);
    c
}

fn within(what: &str, got: f64, expected: f64, tolerance: f64) {
    let rel = (got - expected).abs() / expected;
    assert!(
        rel <= tolerance,
        "{what}: got {got:.5}, expected {expected:.5} ± {:.1}%",
        tolerance * 100.0
    );
}

/// The published dataset: 1,754,155 transactions over 183 days, 14,681 frauds (973 / 9,077 /
/// 4,631 by scenario), about 75 fraudulent cards a day from the second month on, mean amount 53.63.
#[test]
fn handbook_profile_reproduces_the_published_statistics() {
    let cfg = world(Profile::Handbook, 183);
    let start = cfg.start_ms;
    let mut s = Summary::default();
    let mut amount = 0u64;
    let mut customers = HashSet::new();
    let mut terminals = HashSet::new();
    let mut fraud_cards: BTreeMap<i64, HashSet<u64>> = BTreeMap::new();
    let mut first_month_frauds = 0u64;
    for tx in World::new(cfg).unwrap() {
        s.add_tx(&tx);
        amount += tx.cents;
        customers.insert(tx.customer);
        terminals.insert(tx.terminal);
        let day = (tx.time_ms - start) / DAY_MS;
        if tx.is_fraud() {
            fraud_cards.entry(day).or_default().insert(tx.customer);
            if day < 30 {
                first_month_frauds += 1;
            }
        }
    }
    let n = s.transactions as f64;
    within("transactions", n, 1_754_155.0, 0.03);
    within("transactions a day", n / 183.0, 9_586.0, 0.03);
    within("fraud rate", s.fraud_rate(), 14_681.0 / 1_754_155.0, 0.08);
    let share = |sc: Scenario| s.by_scenario[sc.index()] as f64 / s.frauds() as f64;
    within(
        "share of amount_over_220",
        share(Scenario::AmountOver220),
        973.0 / 14_681.0,
        0.20,
    );
    within(
        "share of compromised_terminal",
        share(Scenario::CompromisedTerminal),
        9_077.0 / 14_681.0,
        0.08,
    );
    within(
        "share of compromised_card",
        share(Scenario::CompromisedCard),
        4_631.0 / 14_681.0,
        0.10,
    );
    assert_eq!(s.by_scenario[Scenario::CardTesting.index()], 0);
    within("mean amount", amount as f64 / 100.0 / n, 53.63, 0.05);
    assert!(customers.len() >= 4_950, "{} customers", customers.len());
    assert!(terminals.len() >= 9_990, "{} terminals", terminals.len());
    let later: Vec<usize> = fraud_cards.range(30..).map(|(_, c)| c.len()).collect();
    within(
        "fraudulent cards a day after the first month",
        later.iter().sum::<usize>() as f64 / later.len() as f64,
        74.9,
        0.10,
    );
    let later_frauds = s.frauds() - first_month_frauds;
    assert!(
        (first_month_frauds as f64 / 30.0) < 0.8 * (later_frauds as f64 / 153.0),
        "the first month has fewer frauds as scenarios 2 and 3 build up"
    );
}

/// Splits each customer's transactions of a scenario into episodes: a new one starts after a gap
/// of more than `gap_ms`, or after a transaction for which `last` holds.
fn episodes(txs: &[Tx], scenario: Scenario, gap_ms: i64, last: fn(&Tx) -> bool) -> Vec<Vec<Tx>> {
    let mut by_customer: BTreeMap<u64, Vec<Tx>> = BTreeMap::new();
    for t in txs.iter().filter(|t| t.scenario == scenario) {
        by_customer.entry(t.customer).or_default().push(*t);
    }
    let mut out = Vec::new();
    for (_, v) in by_customer {
        let mut cur: Vec<Tx> = Vec::new();
        for t in v {
            if cur
                .last()
                .is_some_and(|l| t.time_ms - l.time_ms > gap_ms || last(l))
            {
                out.push(std::mem::take(&mut cur));
            }
            cur.push(t);
        }
        out.push(cur);
    }
    out
}

#[test]
fn default_profile_scenarios_have_their_shapes_and_rates() {
    let cfg = world(Profile::Default, 61);
    let rates = cfg.rates;
    let w = World::new(cfg).unwrap();
    let Population::Default(pop) = w.population().clone() else {
        panic!("the default profile has the rich world")
    };
    let txs: Vec<Tx> = w.collect();
    let mut s = Summary::default();
    txs.iter().for_each(|t| s.add_tx(t));
    assert!(
        (0.005..0.02).contains(&s.fraud_rate()),
        "fraud rate {}",
        s.fraud_rate()
    );
    for sc in Scenario::FRAUDS {
        assert!(s.by_scenario[sc.index()] > 0, "{sc:?} never happened");
    }
    let drawing_days = 60.0;

    // Card testing: 5 to 15 small payments within minutes, then one large one.
    // (A customer can be tested twice in a run: an episode ends with its large purchase.)
    let ct = episodes(&txs, Scenario::CardTesting, 3 * 3_600_000, |t| {
        t.cents >= 25_000
    });
    within(
        "card testing episodes",
        ct.len() as f64,
        rates.card_testing * drawing_days,
        0.2,
    );
    for e in &ct {
        let (tests, last) = e.split_at(e.len() - 1);
        assert!((5..=15).contains(&tests.len()), "{} tests", tests.len());
        assert!(tests.iter().all(|t| (50..=500).contains(&t.cents)), "{e:?}");
        assert!(last[0].cents >= 25_000);
        let burst = tests[tests.len() - 1].time_ms - tests[0].time_ms;
        assert!(burst <= 30 * 60_000, "burst of {} s", burst / 1000);
        let wait = last[0].time_ms - tests[tests.len() - 1].time_ms;
        assert!((120_000..=1_800_000).contains(&wait), "{wait}");
        let device = e[0].detail.unwrap().device;
        assert!(device >= 3_000_000_000);
        assert!(
            e.iter().all(|t| t.detail.unwrap().device == device
                && t.detail.unwrap().channel == Channel::Online)
        );
    }
    let median_burst = {
        let mut v: Vec<i64> = ct
            .iter()
            .map(|e| e[e.len() - 2].time_ms - e[0].time_ms)
            .collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    assert!(
        (60_000..=600_000).contains(&median_burst),
        "median burst {median_burst} ms"
    );

    // Account takeover: new device, far-away country, amounts unlike the customer's.
    let ato = episodes(&txs, Scenario::AccountTakeover, 3 * DAY_MS, |_| false);
    within(
        "account takeover episodes",
        ato.len() as f64,
        rates.account_takeover * drawing_days,
        0.25,
    );
    let far: HashSet<_> = FAR.iter().map(|p| p.code).collect();
    for t in txs
        .iter()
        .filter(|t| t.scenario == Scenario::AccountTakeover)
    {
        let d = t.detail.unwrap();
        let cu = &pop.customers[t.customer as usize];
        assert!(d.device >= 3_000_000_000 && d.channel == Channel::Online);
        assert!(far.contains(&d.country), "{:?}", d.country);
        let km = geo::distance_km(
            f64::from(cu.lat_e4) / 1e4,
            f64::from(cu.lon_e4) / 1e4,
            f64::from(d.lat_e4) / 1e4,
            f64::from(d.lon_e4) / 1e4,
        );
        assert!(km > 2_500.0, "{km} km");
        assert!(
            t.amount() >= 2.99 * cu.mean_amount,
            "{} vs mean {}",
            t.amount(),
            cu.mean_amount
        );
    }

    // Merchant collusion: a terminal-level signal: a few terminals with nightly round amounts.
    let mut by_terminal: HashMap<u64, Vec<&Tx>> = HashMap::new();
    for t in txs
        .iter()
        .filter(|t| t.scenario == Scenario::MerchantCollusion)
    {
        by_terminal.entry(t.terminal).or_default().push(t);
        let hour = (t.time_ms.rem_euclid(DAY_MS)) / 3_600_000;
        assert!(!(5..22).contains(&hour), "collusion at {hour}h");
        assert_eq!(t.cents % 5_000, 0);
        assert!(pop.is_physical(t.terminal));
    }
    assert!(
        (2..=20).contains(&by_terminal.len()),
        "{} colluding terminals",
        by_terminal.len()
    );
    for (terminal, v) in &by_terminal {
        assert!(
            v.len() >= 20,
            "terminal {terminal}: only {} collusion payments",
            v.len()
        );
        let cards: HashSet<u64> = v.iter().map(|t| t.customer).collect();
        assert!(cards.len() >= 8, "a ring of cards, not one");
    }

    // Compromised terminals: every payment at one in its window is a fraud.
    let mut compromised: HashMap<u64, (i64, i64)> = HashMap::new();
    for t in txs
        .iter()
        .filter(|t| t.scenario == Scenario::CompromisedTerminal)
    {
        let e = compromised
            .entry(t.terminal)
            .or_insert((t.time_ms, t.time_ms));
        e.1 = t.time_ms;
    }
    let genuine_inside = txs
        .iter()
        .filter(|t| t.scenario == Scenario::Genuine)
        .filter(|t| {
            compromised
                .get(&t.terminal)
                .is_some_and(|(a, b)| (*a..=*b).contains(&t.time_ms))
        })
        .count();
    assert_eq!(genuine_inside, 0);
}

#[test]
fn every_transaction_is_labelled_exactly_the_delay_later() {
    let delay = 7 * DAY_MS;
    let mut cfg = world(Profile::Default, 20);
    cfg.customers = 2_000;
    let mut seen: HashMap<u64, i64> = HashMap::new();
    let mut labelled = HashSet::new();
    let mut clock = i64::MIN;
    let mut frauds = 0;
    for ev in events(World::new(cfg.clone()).unwrap(), delay, Labels::All) {
        match ev.unwrap() {
            Event::Transaction(t) => {
                assert!(t.time_ms >= clock, "transactions in event-time order");
                clock = t.time_ms;
                seen.insert(t.id, t.time_ms);
                frauds += u64::from(t.is_fraud());
            }
            Event::Label(l) => {
                let tx_time = seen[&l.transaction_id];
                assert_eq!(l.labelled_at_ms - tx_time, delay);
                assert_eq!(l.tx_time_ms, tx_time);
                assert!(
                    labelled.insert(l.transaction_id),
                    "one label per transaction"
                );
            }
        }
    }
    assert_eq!(labelled.len(), seen.len());
    let only_frauds = events(World::new(cfg).unwrap(), delay, Labels::Frauds)
        .filter(|e| matches!(e, Ok::<_, Infallible>(Event::Label(l)) if l.scenario.is_fraud()))
        .count();
    assert_eq!(only_frauds as u64, frauds);
}

#[test]
fn transactions_and_labels_come_in_event_time_order() {
    let delay = 30 * 60_000;
    let mut cfg = world(Profile::Handbook, 3);
    cfg.customers = 1_000;
    let evs: Vec<Event> = events(World::new(cfg).unwrap(), delay, Labels::All)
        .map(Result::unwrap)
        .collect();
    // A transaction's event time is its time, a label's is when it is learnt: the merged stream
    // never goes back in event time, and a label comes out as soon as event time reaches it.
    let time = |e: &Event| match e {
        Event::Transaction(t) => t.time_ms,
        Event::Label(l) => l.labelled_at_ms,
    };
    assert!(evs.windows(2).all(|w| time(&w[0]) <= time(&w[1])));
    let mut pending = std::collections::VecDeque::new();
    for e in &evs {
        match e {
            Event::Transaction(t) => {
                assert!(
                    pending.front().is_none_or(|&due| due > t.time_ms),
                    "a label due by {} is held back behind it",
                    t.time_ms
                );
                pending.push_back(t.time_ms + delay);
            }
            Event::Label(l) => assert_eq!(pending.pop_front(), Some(l.labelled_at_ms)),
        }
    }
    assert!(pending.is_empty());
}

fn mean_amount(txs: &[Tx]) -> f64 {
    txs.iter().map(|t| t.amount()).sum::<f64>() / txs.len() as f64
}

#[test]
fn drift_changes_the_world_at_its_time() {
    let mut cfg = world(Profile::Default, 40);
    cfg.customers = 4_000;
    let at = cfg.start_ms + 20 * DAY_MS;
    cfg.drift = Some(Drift::new(
        at,
        vec![DriftKind::Amount, DriftKind::Channel, DriftKind::Fraud],
    ));
    let txs: Vec<Tx> = World::new(cfg.clone()).unwrap().collect();
    let (before, after): (Vec<Tx>, Vec<Tx>) = txs.iter().partition(|t| t.time_ms < at);
    let genuine = |v: &[Tx]| {
        v.iter()
            .filter(|t| !t.is_fraud())
            .copied()
            .collect::<Vec<_>>()
    };
    within(
        "amount shift",
        mean_amount(&genuine(&after)) / mean_amount(&genuine(&before)),
        1.5,
        0.08,
    );
    let online = |v: &[Tx]| {
        v.iter()
            .filter(|t| t.detail.unwrap().channel == Channel::Online)
            .count() as f64
            / v.len() as f64
    };
    assert!(
        online(&after) > online(&before) + 0.2,
        "{} -> {}",
        online(&before),
        online(&after)
    );
    let rate = |v: &[Tx], sc: Scenario| v.iter().filter(|t| t.scenario == sc).count() as f64;
    assert!(rate(&after, Scenario::CardTesting) > 3.0 * rate(&before, Scenario::CardTesting));

    // Before the drift the world is the world without drift.
    cfg.drift = None;
    let plain: Vec<Tx> = World::new(cfg)
        .unwrap()
        .take_while(|t| t.time_ms < at - 14 * DAY_MS)
        .collect();
    assert_eq!(&before[..plain.len()], &plain[..]);
}
