//! Property tests: every feature the engine computes equals a brute-force recomputation from its
//! definition over the events accepted so far, on random event sequences that arrive out of
//! order (within and beyond the allowed lateness), with labels, and with sweeps at random times.
//!
//! The brute force keeps every accepted event in a plain list and recomputes each window by
//! scanning all of it; it shares no code with the engine.

use chrono::{Datelike, Timelike};
use fraudwatch_core::codes::{Channel, Country, Currency};
use fraudwatch_core::engine::{Engine, EngineConfig, EngineError, FeatureSet, LabelOutcome};
use fraudwatch_core::{Id, Label, LabelSource, Transaction};
use proptest::prelude::*;

const SEC: i64 = 1_000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const DELAY: i64 = 7 * DAY;
const T0: i64 = 1_522_540_831_000; // 2018-04-01T00:00:31Z

#[derive(Debug, Clone)]
struct Tx {
    id: u64,
    customer: u8,
    terminal: u8,
    cents: i64,
    time: i64,
    channel: Option<Channel>,
    country: Option<&'static str>,
    place: Option<(f64, f64)>,
}

#[derive(Debug, Clone)]
enum Ev {
    Tx(Tx),
    /// (transaction id, is fraud, labelled at)
    Label(u64, bool, i64),
}

impl Ev {
    fn time(&self) -> i64 {
        match self {
            Ev::Tx(t) => t.time,
            Ev::Label(_, _, at) => *at,
        }
    }
}

impl Tx {
    fn transaction(&self) -> Transaction {
        Transaction {
            transaction_id: Id::from(self.id),
            customer_id: Id::from(format!("customer-{}", self.customer).as_str()),
            terminal_id: Id::from(u64::from(self.terminal)),
            amount: self.cents as f64 / 100.0,
            currency: Currency::parse("EUR").expect("a currency"),
            timestamp: fraudwatch_core::time::from_millis(self.time).expect("a time in range"),
            merchant_category: None,
            country: self.country.and_then(Country::parse),
            channel: self.channel,
            device_id: None,
            lat: self.place.map(|p| p.0),
            lon: self.place.map(|p| p.1),
        }
    }
}

fn label(id: u64, fraud: bool, at: i64) -> Label {
    Label {
        transaction_id: Id::from(id),
        customer_id: Id::from("whoever"),
        is_fraud: fraud,
        source: LabelSource::Chargeback,
        labelled_at: fraudwatch_core::time::from_millis(at).expect("a time in range"),
        fraud_scenario: None,
    }
}

/// Everything accepted so far, in arrival order.
#[derive(Default)]
struct Brute {
    lateness: i64,
    newest: Option<i64>,
    txs: Vec<Tx>,
    /// Per accepted transaction id: its latest label (fraud, labelled at).
    labels: std::collections::HashMap<u64, (bool, i64)>,
    /// Per accepted transaction id: its amount was usual for its card when it was accepted.
    usual: std::collections::HashMap<u64, bool>,
}

impl Brute {
    fn admit(&mut self, time: i64) -> bool {
        if self.newest.is_some_and(|n| time < n - self.lateness) {
            return false;
        }
        self.newest = Some(self.newest.map_or(time, |n| n.max(time)));
        true
    }

    /// Same customer (or terminal), time in (t − w, t], accepted so far (the current one too).
    fn window<'a>(&'a self, t: i64, w: i64, same: impl Fn(&Tx) -> bool + 'a) -> Vec<&'a Tx> {
        self.txs
            .iter()
            .filter(|f| same(f) && f.time > t - w && f.time <= t)
            .collect()
    }

    fn handbook(&self, e: &Tx, extended: bool) -> Vec<f64> {
        let t = e.time;
        let amount = e.cents as f64 / 100.0;
        let mut ratios = vec![];
        let dt = chrono::DateTime::from_timestamp_millis(t).expect("a time in range");
        let mut out = vec![
            f64::from(u8::from(dt.weekday().num_days_from_monday() >= 5)),
            f64::from(u8::from(dt.hour() <= 6)),
        ];
        for days in [1, 7, 30] {
            let c = self.window(t, days * DAY, |f| f.customer == e.customer);
            let sum: i64 = c.iter().map(|f| f.cents).sum();
            let mean = sum as f64 / 100.0 / c.len() as f64;
            out.push(c.len() as f64);
            out.push(mean);
            ratios.push(if mean == 0.0 { 1.0 } else { amount / mean });
        }
        let known_fraud = |f: &&&Tx| self.labels.get(&f.id).is_some_and(|&(x, at)| x && at <= t);
        let mut oldest = -1.0;
        let mut usual_frauds = vec![];
        for days in [1, 7, 30] {
            let m = self.window(t - DELAY, days * DAY, |f| f.terminal == e.terminal);
            let frauds = m.iter().filter(known_fraud).count();
            usual_frauds.push(
                m.iter()
                    .filter(known_fraud)
                    .filter(|f| self.usual[&f.id])
                    .count() as f64,
            );
            if let Some(first) = m.iter().filter(known_fraud).map(|f| f.time).min() {
                oldest = (t - first) as f64 / DAY as f64;
            }
            out.push(m.len() as f64);
            out.push(if m.is_empty() {
                0.0
            } else {
                frauds as f64 / m.len() as f64
            });
        }
        if extended {
            out.push(amount);
            out.extend(ratios);
            out.push(oldest);
            out.extend_from_slice(&usual_frauds[1..]);
        }
        out
    }

    fn velocity(&self, e: &Tx) -> Vec<f64> {
        let t = e.time;
        let dt = chrono::DateTime::from_timestamp_millis(t).expect("a time in range");
        let mut out = vec![
            e.cents as f64 / 100.0,
            f64::from(dt.hour()),
            f64::from(u8::from(dt.weekday().num_days_from_monday() >= 5)),
            f64::from(u8::from(dt.hour() <= 6)),
        ];
        for c in [Channel::CardPresent, Channel::Online, Channel::Atm] {
            out.push(f64::from(u8::from(e.channel == Some(c))));
        }
        let mine = |f: &Tx| f.customer == e.customer;
        for w in [5 * MIN, 30 * MIN, DAY] {
            let c = self.window(t, w, mine);
            out.push(c.len() as f64);
            out.push(c.iter().map(|f| f.cents).sum::<i64>() as f64 / 100.0);
        }
        let month = self.window(t, 30 * DAY, mine);
        out.push(month.len() as f64);
        // Accepted before the current one and no later in time: the previous transactions.
        let prev: Vec<&Tx> = month.into_iter().filter(|f| f.id != e.id).collect();
        let latest = prev.iter().max_by_key(|f| {
            let arrival = self
                .txs
                .iter()
                .position(|g| g.id == f.id)
                .expect("accepted");
            (f.time, arrival)
        });
        out.push(latest.map_or(2_592_000.0, |f| (t - f.time) as f64 / 1000.0));
        out.push(zscore(
            e.cents,
            &prev.iter().map(|f| f.cents).collect::<Vec<_>>(),
        ));
        out.push(f64::from(u8::from(
            !prev.iter().any(|f| f.terminal == e.terminal),
        )));
        out.push(f64::from(u8::from(
            e.country.is_some() && !prev.iter().any(|f| f.country == e.country),
        )));
        let located: Vec<&&Tx> = prev.iter().filter(|f| f.place.is_some()).collect();
        let last_located = located.iter().max_by_key(|f| {
            let arrival = self
                .txs
                .iter()
                .position(|g| g.id == f.id)
                .expect("accepted");
            (f.time, arrival)
        });
        out.push(match (e.place, last_located) {
            (Some(a), Some(b)) => km(a, b.place.expect("located")),
            _ => 0.0,
        });
        let home = centroid(
            &located
                .iter()
                .map(|f| f.place.expect("located"))
                .collect::<Vec<_>>(),
        );
        out.push(match (e.place, home) {
            (Some(a), Some(h)) => km(a, h),
            _ => 0.0,
        });
        let theirs = |f: &Tx| f.terminal == e.terminal;
        out.push(self.window(t, HOUR, theirs).len() as f64);
        out.push(self.window(t, DAY, theirs).len() as f64);
        out
    }
}

fn zscore(x: i64, prev: &[i64]) -> f64 {
    if prev.len() < 2 || prev.iter().all(|&p| p == prev[0]) {
        return 0.0;
    }
    let n = prev.len() as f64;
    let mean = prev.iter().map(|&p| p as f64).sum::<f64>() / n;
    let var = prev.iter().map(|&p| (p as f64 - mean).powi(2)).sum::<f64>() / n;
    (x as f64 - mean) / var.sqrt()
}

fn vector((lat, lon): (f64, f64)) -> [f64; 3] {
    let (p, l) = (lat.to_radians(), lon.to_radians());
    [p.cos() * l.cos(), p.cos() * l.sin(), p.sin()]
}

/// Great-circle distance by the angle between unit vectors (not the engine's haversine).
fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (u, v) = (vector(a), vector(b));
    let cross = [
        u[1] * v[2] - u[2] * v[1],
        u[2] * v[0] - u[0] * v[2],
        u[0] * v[1] - u[1] * v[0],
    ];
    let sin = (cross[0].powi(2) + cross[1].powi(2) + cross[2].powi(2)).sqrt();
    let cos = u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
    6371.0088 * sin.atan2(cos)
}

fn centroid(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let mut s = [0.0; 3];
    for &p in points {
        for (a, b) in s.iter_mut().zip(vector(p)) {
            *a += b;
        }
    }
    let norm = (s[0] * s[0] + s[1] * s[1] + s[2] * s[2]).sqrt();
    (norm > 1e-9).then(|| {
        (
            (s[2] / norm).asin().to_degrees(),
            s[1].atan2(s[0]).to_degrees(),
        )
    })
}

/// Steps between consecutive event times: same time, window widths exactly, and in between.
fn step() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(SEC),
        Just(5 * MIN),
        Just(30 * MIN),
        Just(HOUR),
        Just(DAY),
        Just(7 * DAY),
        0..3 * HOUR,
        0..2 * DAY,
    ]
}

/// (customer, terminal, cents, step, channel, country, place)
type RawTx = (u8, u8, i64, i64, u8, u8, Option<(f64, f64)>);

fn raw_tx() -> impl Strategy<Value = RawTx> {
    (
        0u8..3,
        0u8..4,
        prop_oneof![Just(1000i64), 0..50_000i64],
        step(),
        0u8..4,
        0u8..3,
        // Places in Europe and on both sides of the antimeridian.
        proptest::option::weighted(
            0.6,
            prop_oneof![
                (40.0..60.0f64, -10.0..30.0f64),
                (-20.0..-15.0f64, 177.0..180.0f64),
                (-20.0..-15.0f64, -180.0..-177.0f64),
            ],
        ),
    )
}

/// A scenario: events in arrival order, and the lateness.
fn scenario() -> impl Strategy<Value = (Vec<Ev>, i64, Vec<bool>)> {
    let lateness = prop_oneof![Just(0), Just(MIN), Just(30 * MIN), Just(DAY), Just(8 * DAY)];
    (
        proptest::collection::vec(raw_tx(), 1..70),
        lateness,
        proptest::collection::vec((any::<bool>(), any::<bool>(), 0..10 * DAY, 0.0..1.3f64), 70),
        // Exactly the lateness is the edge case for both acceptance and eviction.
        proptest::collection::vec(prop_oneof![Just(0.0), Just(1.0), 0.0..1.3f64], 140),
        proptest::collection::vec(any::<bool>(), 140),
    )
        .prop_map(|(raw, lateness, label_draws, jitter, sweeps)| {
            let mut time = T0;
            let mut events = Vec::new();
            for (i, (customer, terminal, cents, step, channel, country, place)) in
                raw.into_iter().enumerate()
            {
                time += step;
                let tx = Tx {
                    id: i as u64,
                    customer,
                    terminal,
                    cents,
                    time,
                    channel: Channel::ALL.get(usize::from(channel)).copied(),
                    country: ["BE", "FR", ""]
                        .get(usize::from(country))
                        .copied()
                        .filter(|c| !c.is_empty()),
                    place,
                };
                let (labelled, fraud, delay, _) = label_draws[i];
                if labelled {
                    let at = if delay % 2 == 0 {
                        time + DELAY
                    } else {
                        time + delay
                    };
                    events.push(Ev::Label(tx.id, fraud, at));
                }
                events.push(Ev::Tx(tx));
            }
            // Arrival order: by time plus a delay of up to 1.3 × the lateness.
            let mut keyed: Vec<(i64, usize, Ev)> = events
                .into_iter()
                .enumerate()
                .map(|(i, e)| ((e.time() as f64 + jitter[i] * lateness as f64) as i64, i, e))
                .collect();
            keyed.sort_by_key(|(k, i, _)| (*k, *i));
            (
                keyed.into_iter().map(|(_, _, e)| e).collect(),
                lateness,
                sweeps,
            )
        })
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// The engine keeps places as unit vectors quantised to 1e-9: a few millimetres per point.
fn close_km(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-3
}

/// Features compared bit for bit, but the z-score (within 1e-9 relative) and the distances
/// (within 1 m).
fn check(
    set: FeatureSet,
    events: &[Ev],
    lateness: i64,
    sweeps: &[bool],
) -> Result<(), TestCaseError> {
    let mut engine = Engine::new(EngineConfig {
        feature_set: set,
        lateness_ms: lateness,
        label_delay_ms: DELAY,
    });
    let mut brute = Brute {
        lateness,
        ..Brute::default()
    };
    let mut out = vec![0.0; engine.width()];
    let approx = ["customer_amount_zscore_30day"];
    let km = ["customer_km_from_prev", "customer_km_from_home_30day"];
    for (i, ev) in events.iter().enumerate() {
        match ev {
            Ev::Tx(tx) => {
                let got = engine.transaction(&tx.transaction(), &mut out);
                if !brute.admit(tx.time) {
                    prop_assert!(matches!(got, Err(EngineError::TooLate { .. })), "{got:?}");
                    continue;
                }
                prop_assert_eq!(got, Ok(()));
                brute.txs.push(tx.clone());
                let amount = tx.cents as f64 / 100.0;
                let mean30 = brute.handbook(tx, false)[7];
                let ratio = if mean30 == 0.0 { 1.0 } else { amount / mean30 };
                brute.usual.insert(tx.id, ratio < 2.0);
                let want = match set {
                    FeatureSet::Handbook => brute.handbook(tx, false),
                    FeatureSet::Risk => brute.handbook(tx, true),
                    FeatureSet::Velocity => brute.velocity(tx),
                };
                for (spec, (&g, &w)) in engine.specs().iter().zip(out.iter().zip(&want)) {
                    let ok = if km.contains(&spec.name) {
                        close_km(g, w)
                    } else if approx.contains(&spec.name) {
                        close(g, w)
                    } else {
                        g.to_bits() == w.to_bits()
                    };
                    prop_assert!(
                        ok,
                        "event {} (tx {}): {} = {} but brute force says {}",
                        i,
                        tx.id,
                        spec.name,
                        g,
                        w
                    );
                }
            }
            Ev::Label(id, fraud, at) => {
                let got = engine.label(&label(*id, *fraud, *at));
                if !brute.admit(*at) {
                    prop_assert!(matches!(got, Err(EngineError::TooLate { .. })), "{got:?}");
                    continue;
                }
                let known = brute.txs.iter().any(|t| t.id == *id);
                if known {
                    brute.labels.insert(*id, (*fraud, *at));
                }
                match set {
                    FeatureSet::Velocity => prop_assert_eq!(got, Ok(LabelOutcome::Unused)),
                    FeatureSet::Handbook | FeatureSet::Risk if !known => {
                        prop_assert_eq!(got, Ok(LabelOutcome::NoWindow))
                    }
                    FeatureSet::Handbook | FeatureSet::Risk => prop_assert!(got.is_ok()),
                }
            }
        }
        if sweeps[i % sweeps.len()] {
            engine.sweep();
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn handbook_windows_equal_brute_force((events, lateness, sweeps) in scenario()) {
        check(FeatureSet::Handbook, &events, lateness, &sweeps)?;
    }

    #[test]
    fn risk_windows_equal_brute_force((events, lateness, sweeps) in scenario()) {
        check(FeatureSet::Risk, &events, lateness, &sweeps)?;
    }

    #[test]
    fn velocity_windows_equal_brute_force((events, lateness, sweeps) in scenario()) {
        check(FeatureSet::Velocity, &events, lateness, &sweeps)?;
    }
}

/// The out-of-order machinery is exercised: some scenarios do refuse and reorder events.
#[test]
fn scenarios_do_arrive_out_of_order() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut reordered, mut refused) = (0, 0);
    for _ in 0..200 {
        let (events, lateness, _) = scenario().new_tree(&mut runner).unwrap().current();
        let mut brute = Brute {
            lateness,
            ..Brute::default()
        };
        let mut newest = i64::MIN;
        for e in &events {
            reordered += usize::from(e.time() < newest);
            newest = newest.max(e.time());
            refused += usize::from(!brute.admit(e.time()));
        }
    }
    assert!(
        reordered > 100 && refused > 10,
        "reordered {reordered}, refused {refused}"
    );
}
