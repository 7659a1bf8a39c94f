//! Edge cases of the engine: window boundaries, same-time events, delayed terminal windows,
//! lateness, and the velocity features' definitions.

use super::*;
use crate::codes::{Channel, Country, Currency};
use crate::label::LabelSource;

const T0: i64 = 1_522_540_800_000; // 2018-04-01T00:00:00Z, a Sunday

fn tx(id: u64, customer: &str, terminal: &str, amount: f64, ms: i64) -> Transaction {
    Transaction {
        transaction_id: Id::from(id),
        customer_id: Id::from(customer),
        terminal_id: Id::from(terminal),
        amount,
        currency: Currency::parse("EUR").unwrap(),
        timestamp: crate::time::from_millis(ms).unwrap(),
        merchant_category: None,
        country: None,
        channel: None,
        device_id: None,
        lat: None,
        lon: None,
    }
}

fn label(id: u64, fraud: bool, ms: i64) -> Label {
    Label {
        transaction_id: Id::from(id),
        customer_id: Id::from("c"),
        is_fraud: fraud,
        source: LabelSource::Chargeback,
        labelled_at: crate::time::from_millis(ms).unwrap(),
        fraud_scenario: None,
    }
}

fn engine(set: FeatureSet, lateness_ms: i64) -> Engine {
    Engine::new(EngineConfig {
        feature_set: set,
        lateness_ms,
        label_delay_ms: 7 * DAY_MS,
    })
}

fn run(e: &mut Engine, t: &Transaction) -> Vec<f64> {
    let mut out = vec![f64::NAN; e.width()];
    e.transaction(t, &mut out).unwrap();
    out
}

fn get(e: &Engine, out: &[f64], name: &str) -> f64 {
    let i = e.specs().iter().position(|s| s.name == name).unwrap();
    out[i]
}

#[test]
fn customer_window_excludes_exactly_t_minus_w() {
    let mut e = engine(FeatureSet::Handbook, 0);
    run(&mut e, &tx(1, "c", "m", 10.0, T0));
    let at_edge = run(&mut e, &tx(2, "c", "m", 20.0, T0 + DAY_MS));
    assert_eq!(get(&e, &at_edge, "customer_id_nb_tx_1day_window"), 1.0);
    assert_eq!(
        get(&e, &at_edge, "customer_id_avg_amount_1day_window"),
        20.0
    );
    assert_eq!(get(&e, &at_edge, "customer_id_nb_tx_7day_window"), 2.0);
    assert_eq!(
        get(&e, &at_edge, "customer_id_avg_amount_7day_window"),
        15.0
    );
    let mut e = engine(FeatureSet::Handbook, 0);
    run(&mut e, &tx(1, "c", "m", 10.0, T0));
    let inside = run(&mut e, &tx(2, "c", "m", 20.0, T0 + DAY_MS - 1));
    assert_eq!(get(&e, &inside, "customer_id_nb_tx_1day_window"), 2.0);
}

#[test]
fn same_second_events_count_n_then_n_plus_one() {
    let mut e = engine(FeatureSet::Handbook, 0);
    let a = run(&mut e, &tx(1, "c", "m", 10.0, T0 + 5_000));
    let b = run(&mut e, &tx(2, "c", "m", 30.0, T0 + 5_000));
    assert_eq!(get(&e, &a, "customer_id_nb_tx_1day_window"), 1.0);
    assert_eq!(get(&e, &b, "customer_id_nb_tx_1day_window"), 2.0);
    assert_eq!(get(&e, &b, "customer_id_avg_amount_30day_window"), 20.0);
}

#[test]
fn flags_of_the_handbook() {
    let mut e = engine(FeatureSet::Handbook, 0);
    let sunday_night = run(
        &mut e,
        &tx(1, "c", "m", 1.0, T0 + 6 * HOUR_MS + 59 * MINUTE_MS),
    );
    assert_eq!(&sunday_night[..2], &[1.0, 1.0]);
    let monday_morning = run(&mut e, &tx(2, "c", "m", 1.0, T0 + DAY_MS + 7 * HOUR_MS));
    assert_eq!(&monday_morning[..2], &[0.0, 0.0]);
}

#[test]
fn empty_terminal_windows_have_risk_zero() {
    let mut e = engine(FeatureSet::Handbook, 0);
    let out = run(&mut e, &tx(1, "c", "m", 1.0, T0));
    assert_eq!(&out[8..], &[0.0; 6]);
}

#[test]
fn terminal_window_ends_at_the_delay_and_counts_labels_known_by_then() {
    // A fraud at the terminal at T0, labelled exactly 7 days later.
    let run_with = |label_first: bool| {
        let mut e = engine(FeatureSet::Handbook, 0);
        run(&mut e, &tx(1, "a", "m", 1.0, T0));
        run(&mut e, &tx(2, "b", "m", 1.0, T0 + HOUR_MS));
        let at = T0 + 7 * DAY_MS;
        if label_first {
            assert_eq!(e.label(&label(1, true, at)), Ok(LabelOutcome::Recorded));
        }
        let out = run(&mut e, &tx(3, "c", "m", 1.0, at));
        if !label_first {
            assert_eq!(e.label(&label(1, true, at)), Ok(LabelOutcome::Recorded));
        }
        (e, out)
    };
    let (e, out) = run_with(true);
    // Window (t − 8 d, t − 7 d] holds only transaction 1 (exactly at t − 7 d).
    assert_eq!(get(&e, &out, "terminal_id_nb_tx_1day_window"), 1.0);
    assert_eq!(get(&e, &out, "terminal_id_risk_1day_window"), 1.0);
    assert_eq!(get(&e, &out, "terminal_id_nb_tx_30day_window"), 1.0);
    let (_, out) = run_with(false);
    assert_eq!(
        out[8..10],
        [1.0, 0.0],
        "a label not yet seen does not count"
    );

    // One hour later both earlier transactions are in the window, one of them fraud.
    let (mut e, _) = run_with(true);
    let out = run(&mut e, &tx(4, "d", "m", 1.0, T0 + 7 * DAY_MS + HOUR_MS));
    assert_eq!(out[8..10], [2.0, 0.5]);
    // A day and a bit later transaction 1 has left the 1-day window but not the 7-day one.
    let out = run(
        &mut e,
        &tx(5, "d", "m", 1.0, T0 + 8 * DAY_MS + 30 * MINUTE_MS),
    );
    assert_eq!(out[8..12], [1.0, 0.0, 2.0, 0.5]);
    // A label for a transaction never seen changes nothing.
    assert_eq!(
        e.label(&label(99, true, T0 + 9 * DAY_MS)),
        Ok(LabelOutcome::NoWindow)
    );
}

#[test]
fn late_events_are_placed_exactly_and_too_late_ones_refused() {
    let mut e = engine(FeatureSet::Handbook, 10 * MINUTE_MS);
    run(&mut e, &tx(1, "c", "m", 10.0, T0));
    run(&mut e, &tx(2, "c", "m", 20.0, T0 + 20 * MINUTE_MS));
    // 5 minutes late: it sees transaction 1 but not 2 (which is later in event time).
    let late = run(&mut e, &tx(3, "c", "m", 40.0, T0 + 15 * MINUTE_MS));
    assert_eq!(late[2..4], [2.0, 25.0]);
    // The next in-order event sees all three.
    let next = run(&mut e, &tx(4, "c", "m", 50.0, T0 + 21 * MINUTE_MS));
    assert_eq!(next[2..4], [4.0, 30.0]);
    // Older than newest − lateness: refused, with the reason, and nothing changes.
    let mut out = vec![0.0; e.width()];
    let err = e
        .transaction(&tx(5, "c", "m", 1.0, T0 + 10 * MINUTE_MS), &mut out)
        .unwrap_err();
    assert!(matches!(err, EngineError::TooLate { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("transaction 5 at 2018-04-01T00:10:00.000Z"),
        "{err}"
    );
    // Exactly newest − lateness is still accepted.
    let edge = run(&mut e, &tx(6, "c", "m", 1.0, T0 + 11 * MINUTE_MS));
    assert_eq!(edge[2], 2.0);
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let mut e = engine(FeatureSet::Velocity, 0);
    let mut short = vec![0.0; 3];
    assert_eq!(
        e.transaction(&tx(1, "c", "m", 1.0, T0), &mut short),
        Err(EngineError::OutputWidth { got: 3, want: 22 })
    );
    let mut out = vec![0.0; e.width()];
    for amount in [f64::NAN, -1.0, f64::INFINITY] {
        let err = e
            .transaction(&tx(1, "c", "m", amount, T0), &mut out)
            .unwrap_err();
        assert!(matches!(err, EngineError::BadAmount { .. }), "{err}");
    }
    assert_eq!(e.newest(), None, "refused events do not move the clock");
}

#[test]
fn velocity_features_follow_their_definitions() {
    let mut e = engine(FeatureSet::Velocity, 0);
    let mut a = tx(1, "c", "m1", 10.0, T0 + 10 * HOUR_MS);
    a.channel = Some(Channel::Online);
    a.country = Country::parse("BE");
    (a.lat, a.lon) = (Some(50.85), Some(4.35));
    let first = run(&mut e, &a);
    assert_eq!(get(&e, &first, "customer_secs_since_prev_tx"), 2_592_000.0);
    assert_eq!(get(&e, &first, "customer_new_terminal_30day"), 1.0);
    assert_eq!(get(&e, &first, "customer_new_country_30day"), 1.0);
    assert_eq!(get(&e, &first, "channel_online"), 1.0);
    assert_eq!(get(&e, &first, "channel_atm"), 0.0);
    assert_eq!(get(&e, &first, "hour_of_day"), 10.0);
    assert_eq!(get(&e, &first, "customer_km_from_prev"), 0.0);

    let mut b = tx(2, "c", "m1", 30.0, T0 + 10 * HOUR_MS + 4 * MINUTE_MS);
    b.country = Country::parse("BE");
    let second = run(&mut e, &b);
    assert_eq!(get(&e, &second, "customer_secs_since_prev_tx"), 240.0);
    assert_eq!(get(&e, &second, "customer_nb_tx_5min"), 2.0);
    assert_eq!(get(&e, &second, "customer_amount_5min"), 40.0);
    assert_eq!(get(&e, &second, "customer_new_terminal_30day"), 0.0);
    assert_eq!(get(&e, &second, "customer_new_country_30day"), 0.0);
    assert_eq!(
        get(&e, &second, "customer_amount_zscore_30day"),
        0.0,
        "one previous"
    );
    assert_eq!(get(&e, &second, "terminal_nb_tx_1hour"), 2.0);

    let mut c = tx(3, "c", "m2", 50.0, T0 + 10 * HOUR_MS + 6 * MINUTE_MS);
    c.country = Country::parse("FR");
    (c.lat, c.lon) = (Some(48.8566), Some(2.3522));
    let third = run(&mut e, &c);
    assert_eq!(
        get(&e, &third, "customer_nb_tx_5min"),
        2.0,
        "a left at 10:05"
    );
    assert_eq!(get(&e, &third, "customer_nb_tx_30min"), 3.0);
    assert_eq!(get(&e, &third, "customer_amount_30min"), 90.0);
    // previous amounts 10, 30: mean 20, std 10.
    assert_eq!(get(&e, &third, "customer_amount_zscore_30day"), 3.0);
    assert_eq!(get(&e, &third, "customer_new_terminal_30day"), 1.0);
    assert_eq!(get(&e, &third, "customer_new_country_30day"), 1.0);
    let km = get(&e, &third, "customer_km_from_prev");
    assert!((km - 264.0).abs() < 2.0, "{km}");
    let home = get(&e, &third, "customer_km_from_home_30day");
    assert!(
        (home - km).abs() < 1e-5,
        "one located previous: home is there (to 1 cm)"
    );
    assert_eq!(get(&e, &third, "terminal_nb_tx_1hour"), 1.0);
    assert_eq!(get(&e, &third, "customer_nb_tx_30day"), 3.0);
}

#[test]
fn sweeping_never_changes_features() {
    let events: Vec<Transaction> = (0..400u64)
        .map(|i| {
            let ms = T0 + (i as i64) * 7 * HOUR_MS + (i as i64 % 3) * 1000;
            tx(
                i,
                &format!("c{}", i % 5),
                &format!("m{}", i % 7),
                i as f64,
                ms,
            )
        })
        .collect();
    for set in FeatureSet::ALL {
        let mut swept = engine(set, HOUR_MS);
        let mut plain = engine(set, HOUR_MS);
        for (i, t) in events.iter().enumerate() {
            if i % 3 == 0 {
                let l = label(i as u64, i % 2 == 0, t.timestamp.timestamp_millis());
                assert_eq!(swept.label(&l), plain.label(&l));
            }
            assert_eq!(run(&mut swept, t), run(&mut plain, t), "{set} event {i}");
            swept.sweep();
        }
        assert!(swept.stats().entries < plain.stats().entries, "{set}");
    }
}

#[test]
fn eviction_keeps_what_a_late_event_at_the_floor_can_still_see() {
    for sweep in [false, true] {
        let mut e = engine(FeatureSet::Handbook, 10 * MINUTE_MS);
        run(&mut e, &tx(1, "c", "m", 10.0, T0 + 1));
        run(&mut e, &tx(2, "c", "m", 20.0, T0 + DAY_MS + 10 * MINUTE_MS));
        if sweep {
            e.sweep();
        }
        // Exactly newest − lateness: its 1-day window (T0, T0 + 1 d] still holds transaction 1.
        let late = run(&mut e, &tx(3, "c", "m", 30.0, T0 + DAY_MS));
        assert_eq!(late[2..4], [2.0, 20.0], "sweep {sweep}");
    }
}
