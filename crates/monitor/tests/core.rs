//! The monitor's pure core: column tests and their defaults, table comparison, bad input, and
//! alerts over a synthetic stream (raised after the hysteresis, grown, escalated, ended; never
//! on noise or on a flapping column).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use fraudwatch_core::{DriftKind, Severity, time};
use fraudwatch_monitor::alarm::Hysteresis;
use fraudwatch_monitor::window::WindowSpec;
use fraudwatch_monitor::{
    Choice, Data, Method, Monitor, MonitorConfig, Options, Reference, Table, compare,
};

/// A deterministic stream of pseudo-random numbers (SplitMix64), uniform in [0, 1).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn normals(&mut self, n: usize, mean: f64) -> Vec<f64> {
        (0..n).map(|_| mean + self.normal()).collect()
    }
}

fn numbers(v: Vec<f64>) -> Data {
    Data::Numbers(v)
}

fn text(v: &[&str]) -> Data {
    Data::Text(
        v.iter()
            .map(|s| (!s.is_empty()).then(|| s.to_string()))
            .collect(),
    )
}

fn test(reference: &Data, current: &Data) -> fraudwatch_monitor::report::ColumnReport {
    Reference::new("x", reference, Choice::default())
        .unwrap()
        .test(current, &mut Vec::new())
}

#[test]
fn small_numeric_columns_get_ks_and_large_ones_wasserstein() {
    let mut rng = Rng(1);
    let small = numbers(rng.normals(800, 0.0));
    let same = test(&small, &numbers(rng.normals(800, 0.0)));
    assert_eq!(same.method, "ks");
    assert!(same.p_value.unwrap() > 0.05 && !same.drifted, "{same:?}");
    let moved = test(&small, &numbers(rng.normals(800, 0.5)));
    assert!(moved.p_value.unwrap() < 1e-6 && moved.drifted, "{moved:?}");

    let large = numbers(rng.normals(5000, 0.0));
    let same = test(&large, &numbers(rng.normals(5000, 0.0)));
    assert_eq!(same.method, "wasserstein");
    assert!(same.p_value.is_none() && same.statistic < 0.1 && !same.drifted);
    let moved = test(&large, &numbers(rng.normals(5000, 0.3)));
    assert!(
        (moved.statistic - 0.3).abs() < 0.05 && moved.drifted,
        "a shift of 0.3 σ: {moved:?}"
    );
    assert_eq!(moved.histogram.bins.len(), 20);
    let total: f64 = moved.histogram.current.iter().sum();
    assert!((total - 1.0).abs() < 1e-9, "shares sum to 1: {total}");
}

#[test]
fn categorical_columns_get_chi_square_z_or_jensen_shannon() {
    let mix = |n: usize, online: usize| -> Vec<&'static str> {
        (0..n)
            .map(|i| match i % 100 {
                k if k < online => "online",
                k if k < 90 => "pos",
                _ => "atm",
            })
            .collect()
    };
    let small = test(&text(&mix(500, 30)), &text(&mix(500, 30)));
    assert_eq!((small.method.as_str(), small.drifted), ("chisquare", false));
    let moved = test(&text(&mix(500, 30)), &text(&mix(500, 60)));
    assert!(moved.drifted && moved.p_value.unwrap() < 1e-6, "{moved:?}");

    let binary = test(&numbers([0.0, 1.0].repeat(300)), &numbers(vec![1.0; 600]));
    assert_eq!(binary.method, "z");
    assert!(binary.drifted);

    let large = test(&text(&mix(5000, 30)), &text(&mix(5000, 60)));
    assert_eq!(large.method, "jensenshannon");
    assert!(large.drifted && large.statistic > 0.1);
    // A category the reference never saw still shows, and still counts.
    let new = test(&text(&mix(5000, 30)), &text(&["crypto"; 100]));
    assert!(new.drifted);
    assert!(new.histogram.bins.contains(&"crypto".to_string()));
}

#[test]
fn degenerate_columns_give_a_defined_answer() {
    // Missing values are left out; a side with none left gives no verdict, with the reason.
    let r = numbers(vec![1.0, 2.0, f64::NAN, 3.0]);
    let empty = test(&r, &numbers(vec![f64::NAN; 10]));
    assert!(!empty.drifted && empty.statistic.is_nan());
    assert_eq!(empty.note.as_deref(), Some("no values in the current data"));
    let none = test(&numbers(vec![]), &r);
    assert_eq!(none.note.as_deref(), Some("no values in the reference"));
    let zero_rows = test(&r, &numbers(vec![]));
    assert!(zero_rows.note.is_some());
    // Constant on both sides: no drift; constant reference, moved current: drift.
    let constant = test(&numbers(vec![5.0; 2000]), &numbers(vec![5.0; 2000]));
    assert!(!constant.drifted && constant.note.is_none(), "{constant:?}");
    let moved = test(&numbers(vec![5.0; 2000]), &numbers(vec![6.0; 2000]));
    assert!(moved.drifted, "{moved:?}");
    // Text where the reference had numbers: a note, not a panic.
    let kinds = test(&r, &text(&["a", "b"]));
    assert!(
        kinds
            .note
            .unwrap()
            .contains("numeric in the reference but categorical")
    );
    // A method that cannot read the column is a configuration error naming both.
    let err = Reference::new(
        "channel",
        &text(&["a"]),
        Choice {
            method: Some(Method::Ks),
            threshold: None,
        },
    )
    .unwrap_err();
    assert!(err.contains("\"channel\"") && err.contains("ks"), "{err}");
    let err = Reference::new(
        "x",
        &r,
        Choice {
            method: None,
            threshold: Some(f64::NAN),
        },
    )
    .unwrap_err();
    assert!(err.contains("threshold"), "{err}");
}

#[test]
fn tables_compare_column_by_column_and_count_only_what_was_compared() {
    let mut rng = Rng(7);
    let mut csv = |shift: f64, extra: &str| {
        let mut s = format!("amount,channel,score{extra}\n");
        for i in 0..3000 {
            let channel = if i % 10 < 3 { "online" } else { "pos" };
            let extra = if extra.is_empty() { "" } else { ",1" };
            s += &format!(
                "{},{channel},{}{extra}\n",
                50.0 + 10.0 * (rng.normal() + shift),
                rng.normal()
            );
        }
        Table::from_csv(s.as_bytes(), "t.csv").unwrap()
    };
    let (reference, current) = (csv(0.0, ",only_in_reference"), csv(1.0, ",only_in_current"));
    let c = compare(&reference, &current, &Options::default()).unwrap();
    let names: Vec<&str> = c.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "amount",
            "channel",
            "score",
            "only_in_reference",
            "only_in_current"
        ]
    );
    assert_eq!(
        c.columns[3].note.as_deref(),
        Some("missing from the current data")
    );
    assert_eq!(
        c.columns[4].note.as_deref(),
        Some("missing from the reference")
    );
    assert_eq!(c.dataset.drifted_columns, ["amount"]);
    assert!(
        (c.dataset.share - 1.0 / 3.0).abs() < 1e-12,
        "3 compared columns"
    );
    assert!(!c.dataset.drifted);
    let strict = Options {
        share_threshold: 0.3,
        ..Options::default()
    };
    assert!(
        compare(&reference, &current, &strict)
            .unwrap()
            .dataset
            .drifted
    );
    // Per-column choices: PSI on amount with a high threshold.
    let mut options = Options::default();
    options.columns.insert(
        "amount".into(),
        Choice {
            method: Some(Method::Psi),
            threshold: Some(100.0),
        },
    );
    let c = compare(&reference, &current, &options).unwrap();
    assert_eq!(c.columns[0].method, "psi");
    assert!(!c.columns[0].drifted && c.columns[0].statistic > 0.1);
    // The JSON names method, statistic, p-value and verdict per column.
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["columns"][0]["method"], "psi");
    assert!(
        json["columns"][3]["statistic"].is_null(),
        "NaN is written as null"
    );
    assert!(json["dataset"]["share"].is_number());
    let back: fraudwatch_monitor::Comparison = serde_json::from_value(json).unwrap();
    assert!(back.columns[3].statistic.is_nan());
}

fn inputs() -> Vec<String> {
    ["a", "b", "c", "d"].map(String::from).to_vec()
}

fn config() -> MonitorConfig {
    MonitorConfig {
        window: WindowSpec {
            rows: 3000,
            span_ms: None,
            step: 1000,
            min_rows: 2000,
            reorder: 0,
        },
        alerts: Hysteresis {
            raise_after: 2,
            clear_after: 2,
        },
        ..MonitorConfig::default()
    }
}

/// Pushes `n` rows whose columns have the given means, a minute of event time apart.
fn feed(
    m: &mut Monitor,
    rng: &mut Rng,
    clock: &mut i64,
    n: usize,
    means: [f64; 4],
) -> Vec<fraudwatch_core::DriftEvent> {
    let mut events = Vec::new();
    for _ in 0..n {
        *clock += 60_000;
        let row = means.map(|mu| mu + rng.normal());
        m.push_features(*clock, &row);
        let id = format!("t{clock}");
        m.push_score(
            *clock,
            &id,
            0.5 + 0.1 * rng.normal().clamp(-4.0, 4.0),
            false,
        );
        for e in m.advance(false, time::now()) {
            events.extend(e.events);
        }
    }
    events
}

#[test]
fn drift_raises_an_event_that_grows_escalates_and_ends() {
    let mut rng = Rng(3);
    let reference: Vec<Vec<f64>> = (0..2000)
        .map(|_| (0..4).map(|_| rng.normal()).collect())
        .collect();
    let risks: Vec<f64> = (0..2000)
        .map(|_| 0.5 + 0.1 * rng.normal().clamp(-4.0, 4.0))
        .collect();
    let mut m = Monitor::new(&inputs(), &reference, Some(&risks), Some(0.8), config()).unwrap();
    let mut clock = 1_700_000_000_000;

    let quiet = feed(&mut m, &mut rng, &mut clock, 20_000, [0.0; 4]);
    assert!(quiet.is_empty(), "no event on a stable stream: {quiet:?}");

    let drift_at = clock;
    let raised = feed(&mut m, &mut rng, &mut clock, 4_000, [1.0, 0.0, 0.0, 0.0]);
    assert_eq!(raised.len(), 1, "{raised:?}");
    let e = &raised[0];
    assert_eq!(
        (e.kind, e.severity, e.is_open()),
        (DriftKind::Data, Severity::Warning, true)
    );
    assert_eq!(
        e.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["a"]
    );
    assert!(e.start.timestamp_millis() > drift_at && e.detected >= e.start);
    assert_eq!(e.share, 0.25);

    // Two more features move: the event grows and becomes critical (share ≥ 0.5).
    let grown = feed(&mut m, &mut rng, &mut clock, 4_000, [1.0, 1.0, 1.0, 0.0]);
    let last = grown.last().unwrap();
    assert_eq!(last.id, e.id, "the same event, updated");
    assert_eq!(last.severity, Severity::Critical);
    assert_eq!(last.columns.len(), 3);
    assert_eq!(m.open_events().count(), 1);

    // Back to normal: the event ends, once.
    let ended = feed(&mut m, &mut rng, &mut clock, 8_000, [0.0; 4]);
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0].id, e.id);
    assert!(ended[0].end.is_some());
    assert_eq!(m.open_events().count(), 0);

    let report = m.evaluate(time::now()).report;
    assert_eq!(report.columns.len(), 4);
    assert!(report.timeline.len() > 30);
    assert!(report.prediction.is_some());
}

#[test]
fn a_flapping_column_never_raises_and_excluded_features_are_not_judged() {
    let mut rng = Rng(5);
    let reference: Vec<Vec<f64>> = (0..2000)
        .map(|_| (0..4).map(|_| rng.normal()).collect())
        .collect();
    // Each window is one step of fresh rows, so a column can flip between windows.
    let mut cfg = config();
    cfg.window = WindowSpec {
        rows: 1000,
        span_ms: None,
        step: 1000,
        min_rows: 1000,
        reorder: 0,
    };
    cfg.alerts.raise_after = 3;
    cfg.exclude = vec!["d".into()];
    let mut m = Monitor::new(&inputs(), &reference, None, None, cfg).unwrap();
    let mut clock = 0;
    let mut events = feed(&mut m, &mut rng, &mut clock, 3_000, [0.0; 4]);
    // Feature d drifts for good but is excluded; feature a drifts in every other window only.
    for k in 0..20 {
        let mean = if k % 2 == 0 { 3.0 } else { 0.0 };
        events.extend(feed(
            &mut m,
            &mut rng,
            &mut clock,
            1_000,
            [mean, 0.0, 0.0, 5.0],
        ));
    }
    assert!(events.is_empty(), "{events:?}");
    let report = m.evaluate(time::now()).report;
    assert_eq!(report.columns.len(), 3, "d is excluded");
    assert!(
        report.prediction.is_some(),
        "without reference risks, the first full window of scores became the reference"
    );
}

#[test]
fn bad_configuration_and_reference_are_named() {
    let reference = vec![vec![0.0; 4]; 10];
    let bad =
        |cfg: MonitorConfig| Monitor::new(&inputs(), &reference, None, None, cfg).unwrap_err();
    let mut cfg = config();
    cfg.exclude = vec!["nope".into()];
    assert!(bad(cfg).contains("\"nope\""));
    let mut cfg = config();
    cfg.share_threshold = 0.0;
    assert!(bad(cfg).contains("share_threshold"));
    let mut cfg = config();
    cfg.window.step = 0;
    assert!(bad(cfg).contains("window.step"));
    let short = vec![vec![0.0; 3]];
    let err = Monitor::new(&inputs(), &short, None, None, config()).unwrap_err();
    assert!(
        err.contains("reference row 0 has 3 values for 4 features"),
        "{err}"
    );
    // An empty window evaluates to notes, not a panic.
    let mut m = Monitor::new(&inputs(), &reference, None, None, config()).unwrap();
    let e = m.evaluate(time::now());
    assert!(e.events.is_empty());
    assert!(e.report.columns.iter().all(|c| c.note.is_some()));
    assert_eq!(e.report.dataset.share, 0.0);
}

#[test]
fn rows_read_partition_after_partition_are_judged_in_event_time_order() {
    let mut rng = Rng(9);
    let reference: Vec<Vec<f64>> = (0..2000)
        .map(|_| (0..4).map(|_| rng.normal()).collect())
        .collect();
    // Two partitions of 12,000 rows each, a minute apart; feature a moves at row 8,000.
    let drift_at = 8_000 * 60_000;
    let partition = |rng: &mut Rng| -> Vec<(i64, [f64; 4])> {
        (0..12_000)
            .map(|k| {
                let at = k * 60_000 + 1;
                let mean = if at >= drift_at { 2.0 } else { 0.0 };
                (
                    at,
                    [
                        mean + rng.normal(),
                        rng.normal(),
                        rng.normal(),
                        rng.normal(),
                    ],
                )
            })
            .collect()
    };
    let (a, b) = (partition(&mut rng), partition(&mut rng));
    let run = |reorder: usize| {
        let mut cfg = config();
        cfg.window.reorder = reorder;
        let mut m = Monitor::new(&inputs(), &reference, None, None, cfg).unwrap();
        let mut events = Vec::new();
        // A catching-up consumer: all of partition a, then all of b.
        for (at, row) in a.iter().chain(&b) {
            m.push_features(*at, row);
            events.extend(
                m.advance(false, time::now())
                    .into_iter()
                    .flat_map(|e| e.events),
            );
        }
        events.extend(
            m.advance(true, time::now())
                .into_iter()
                .flat_map(|e| e.events),
        );
        events
    };
    let ordered = run(100_000);
    assert!(!ordered.is_empty());
    assert!(
        ordered[0].start.timestamp_millis() > drift_at,
        "in event-time order the drift starts after it happened: {ordered:?}"
    );
    // Taken as they come, the second partition's early rows land after the first's drifted
    // ones: windows that mix days, and an event that opens and closes and opens again.
    let arrival = run(0);
    assert!(arrival.len() > ordered.len(), "{arrival:?}");
}

#[test]
fn a_moved_risk_score_raises_prediction_drift_and_labels_judge_performance() {
    let mut rng = Rng(11);
    let reference: Vec<Vec<f64>> = (0..2000)
        .map(|_| (0..4).map(|_| rng.normal()).collect())
        .collect();
    // Frauds (one in 20) between 0.45 and 0.5, the rest below: what the stream starts with.
    let risk_of = |fraud: bool, rng: &mut Rng| {
        if fraud {
            0.45 + 0.05 * rng.uniform()
        } else {
            rng.uniform() * 0.45
        }
    };
    let risks: Vec<f64> = (0..2000).map(|i| risk_of(i % 20 == 0, &mut rng)).collect();
    let mut cfg = config();
    cfg.performance.min_labelled = 500;
    cfg.performance.labelled_rows = 2000;
    let mut m = Monitor::new(&inputs(), &reference, Some(&risks), Some(0.9), cfg).unwrap();
    let mut events = Vec::new();
    let mut clock = 0;
    for k in 0..12_000 {
        clock += 60_000;
        let row: Vec<f64> = (0..4).map(|_| rng.normal()).collect();
        m.push_features(clock, &row);
        // Features stay put; from row 6,000 the risks move up and stop ranking frauds first.
        let moved = k >= 6_000;
        let fraud = k % 20 == 0;
        let risk = if moved {
            0.5 + 0.5 * rng.uniform()
        } else {
            risk_of(fraud, &mut rng)
        };
        let id = format!("t{k}");
        m.push_score(clock, &id, risk, risk > 0.45);
        if k >= 100 {
            // Labels arrive 100 transactions late.
            m.push_label(&format!("t{}", k - 100), (k - 100) % 20 == 0);
        }
        events.extend(
            m.advance(false, time::now())
                .into_iter()
                .flat_map(|e| e.events),
        );
    }
    let kinds: Vec<DriftKind> = events.iter().map(|e| e.kind).collect();
    assert!(!kinds.contains(&DriftKind::Data), "{events:?}");
    let prediction = events
        .iter()
        .find(|e| e.kind == DriftKind::Prediction)
        .unwrap();
    assert_eq!(prediction.columns[0].name, "risk");
    assert!(prediction.start.timestamp_millis() > 6_000 * 60_000);
    let performance = events
        .iter()
        .find(|e| e.kind == DriftKind::Performance)
        .unwrap();
    assert_eq!(performance.severity, Severity::Critical);
    assert_eq!(performance.columns[0].name, "average_precision");
    assert!(performance.start.timestamp_millis() > 6_000 * 60_000);
}
