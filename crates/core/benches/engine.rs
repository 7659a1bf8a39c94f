//! The feature engine alone on one core: events per second for the `velocity` set (target
//! ≥ 1,000,000 events/s) and the `handbook` set, on a synthetic stream that the engine sees as
//! one endless stream (each batch is replayed shifted by its span, so state stays warm).
//!
//! `cargo bench -p fraudwatch-core --bench engine` prints criterion's report, then one line of
//! JSON with the median events/s of each set over repeated full runs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use fraudwatch_core::codes::{Channel, Country, Currency};
use fraudwatch_core::engine::{DAY_MS, Engine, EngineConfig, Event, FeatureSet};
use fraudwatch_core::{Id, Label, LabelSource, Transaction};

const T0: i64 = 1_522_540_800_000;
/// Events fed per measured run (the handbook's are half transactions, half labels).
const EVENTS_PER_RUN: usize = 500_000;

/// splitmix64: a small deterministic generator, so every run measures the same stream.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One input event, owned.
enum Owned {
    Tx(Transaction),
    Label(Label),
}

impl Owned {
    fn time(&self) -> i64 {
        match self {
            Owned::Tx(t) => t.timestamp.timestamp_millis(),
            Owned::Label(l) => l.labelled_at.timestamp_millis(),
        }
    }
    fn shift(&mut self, ms: i64) {
        let d = chrono::Duration::milliseconds(ms);
        match self {
            Owned::Tx(t) => t.timestamp += d,
            Owned::Label(l) => l.labelled_at += d,
        }
    }
    fn event(&self) -> Event<'_> {
        match self {
            Owned::Tx(t) => Event::Transaction(t),
            Owned::Label(l) => Event::Label(l),
        }
    }
}

/// A stream in time order: `transactions` over `days` for `customers` customers, a fifth of
/// them in bursts minutes after the previous one, each customer at 8 terminals of its own area.
/// With `labels`, every transaction is labelled 7 days later (1 % frauds).
fn stream(transactions: usize, customers: u64, days: i64, labels: bool) -> (Vec<Owned>, i64) {
    let span = days * DAY_MS;
    let mut rng = Rng(42);
    let eur = Currency::parse("EUR").expect("a currency");
    let countries = ["BE", "FR", "NL", "DE"].map(|c| Country::parse(c).expect("a country"));
    let mut txs: Vec<Transaction> = Vec::with_capacity(transactions);
    while txs.len() < transactions {
        let c = rng.below(customers);
        let mut time = T0 + rng.below(span as u64) as i64;
        let burst = if rng.below(5) == 0 {
            1 + rng.below(3)
        } else {
            0
        };
        for _ in 0..=burst {
            let terminal = (c * 7 + rng.below(8) * 13) % 10_000;
            let amount = ((5.0 + rng.unit() * 120.0) * 100.0).round() / 100.0;
            let located = rng.below(3) > 0;
            txs.push(Transaction {
                transaction_id: Id::from(txs.len() as u64),
                customer_id: Id::from(c),
                terminal_id: Id::from(terminal),
                amount,
                currency: eur,
                timestamp: fraudwatch_core::time::from_millis(time).expect("in range"),
                merchant_category: None,
                country: Some(countries[(c % 4) as usize]),
                channel: Some(Channel::ALL[rng.below(3) as usize]),
                device_id: None,
                lat: located.then(|| 50.0 + (c % 100) as f64 * 0.01 + rng.unit() * 0.05),
                lon: located.then(|| 4.0 + (c / 100) as f64 * 0.01 + rng.unit() * 0.05),
            });
            time += 1_000 + rng.below(600_000) as i64;
        }
    }
    txs.truncate(transactions);
    let mut events: Vec<Owned> = Vec::new();
    for t in txs {
        if labels {
            events.push(Owned::Label(Label {
                transaction_id: t.transaction_id.clone(),
                customer_id: t.customer_id.clone(),
                is_fraud: rng.below(100) == 0,
                source: LabelSource::Chargeback,
                labelled_at: t.timestamp + chrono::Duration::days(7),
                fraud_scenario: None,
            }));
        }
        events.push(Owned::Tx(t));
    }
    // Labels before transactions at the same time, as the file mode delivers them.
    events.sort_by_key(|e| (e.time(), matches!(e, Owned::Tx(_))));
    (events, span)
}

/// A warm engine and its stream; `run` feeds the stream once more, one span later.
struct Bench {
    engine: Engine,
    events: Vec<Owned>,
    span: i64,
    out: Vec<f64>,
}

impl Bench {
    fn new(set: FeatureSet) -> Self {
        let (events, span) = match set {
            // The handbook's rate, about 2 transactions per customer and day, twice its customers.
            FeatureSet::Velocity => stream(EVENTS_PER_RUN, 10_000, 25, false),
            FeatureSet::Handbook | FeatureSet::Risk => stream(EVENTS_PER_RUN / 2, 5_000, 20, true),
        };
        assert_eq!(events.len(), EVENTS_PER_RUN);
        let engine = Engine::new(EngineConfig::new(set));
        let out = vec![0.0; engine.width()];
        let mut b = Self {
            engine,
            events,
            span,
            out,
        };
        b.run(); // warm up: state and buffers reach their steady size
        b
    }

    fn run(&mut self) -> Duration {
        let start = Instant::now();
        for e in &self.events {
            let applied = self.engine.apply(e.event(), &mut self.out);
            black_box((applied.is_ok(), &self.out));
        }
        let took = start.elapsed();
        for e in &mut self.events {
            e.shift(self.span);
        }
        took
    }
}

fn engine_benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(25));
    for set in [FeatureSet::Velocity, FeatureSet::Handbook] {
        // Built on first use, so a filtered run (`-- velocity`) builds only its own stream.
        let mut bench: Option<Bench> = None;
        group.throughput(Throughput::Elements(EVENTS_PER_RUN as u64));
        group.bench_function(set.name(), |bencher| {
            let b = bench.get_or_insert_with(|| Bench::new(set));
            bencher.iter_custom(|iters| (0..iters).map(|_| b.run()).sum());
        });
    }
    group.finish();
}

/// Median events/s over `runs` full passes.
fn median_rate(set: FeatureSet, runs: usize) -> (f64, usize) {
    let mut b = Bench::new(set);
    let mut rates: Vec<f64> = (0..runs)
        .map(|_| b.events.len() as f64 / b.run().as_secs_f64())
        .collect();
    rates.sort_by(f64::total_cmp);
    (rates[runs / 2], b.events.len())
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    engine_benches(&mut c);
    c.final_summary();
    // `cargo test --benches` runs this binary in test mode: criterion's quick check is enough.
    // A filtered run (`cargo bench … -- velocity`) is for profiling: no summary.
    let filtered = std::env::args().skip(1).any(|a| !a.starts_with('-'));
    if std::env::args().any(|a| a == "--bench") && !filtered {
        let (velocity, nv) = median_rate(FeatureSet::Velocity, 9);
        let (handbook, nh) = median_rate(FeatureSet::Handbook, 9);
        println!(
            "{{\"bench\":\"engine\",\"unit\":\"events_per_sec\",\"statistic\":\"median of 9 runs\",\"velocity\":{velocity:.0},\"velocity_events_per_run\":{nv},\"handbook\":{handbook:.0},\"handbook_events_per_run\":{nh}}}"
        );
    }
}
