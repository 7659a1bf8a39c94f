//! The handbook's protocols (`shared/data/handbook/README.md`, "Evaluation protocols"): the fold
//! dates against the README's table, the baseline splits, the removal of known compromised cards
//! on hand-made data and against a brute-force reading of the README's rule, and the names.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use chrono::NaiveDate;
use fraudwatch_core::Id;
use fraudwatch_core::engine::DAY_MS;
use fraudwatch_models::ModelKind;
use fraudwatch_train::dataset::{date_of, day_number};
use fraudwatch_train::protocol::{Fold, Schedule, test_rows};
use fraudwatch_train::{Dataset, Protocol};

/// A 2018 date as a day number.
fn day(month: u32, d: u32) -> i64 {
    day_number(NaiveDate::from_ymd_opt(2018, month, d).unwrap())
}

/// `"MM-DD"` of a day number (every date of the protocols is in 2018).
fn md(day: i64) -> String {
    let date = date_of(day);
    assert_eq!(date.format("%Y").to_string(), "2018");
    date.format("%m-%d").to_string()
}

/// A fold as the README's table writes it: `"08-15..08-21 → 08-29..09-04"`.
fn row(fold: &Fold) -> String {
    format!(
        "{}..{} → {}..{}",
        md(fold.train.0),
        md(fold.train.1),
        md(fold.test.0),
        md(fold.test.1)
    )
}

fn rows(schedule: &Schedule) -> Vec<String> {
    schedule.folds().iter().map(row).collect()
}

#[test]
fn day_numbers_and_dates_agree() {
    assert_eq!(day_number(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()), 0);
    assert_eq!(date_of(0), NaiveDate::from_ymd_opt(1970, 1, 1).unwrap());
    for d in day(1, 1)..day(12, 31) {
        assert_eq!(day_number(date_of(d)), d);
    }
    assert_eq!(day(8, 15) - day(7, 11), 35);
}

#[test]
fn prequential_folds_are_the_readmes_table() {
    let test = Protocol::HandbookPrequential.schedule(ModelKind::Xgboost);
    assert_eq!(test.train_start, day(8, 15), "S = 2018-08-15");
    assert_eq!(
        (test.train_days, test.delay_days, test.test_days, test.folds),
        (7, 7, 7, 4)
    );
    assert_eq!(
        rows(&test),
        [
            "08-15..08-21 → 08-29..09-04",
            "08-08..08-14 → 08-22..08-28",
            "08-01..08-07 → 08-15..08-21",
            "07-25..07-31 → 08-08..08-14",
        ]
    );
    let indices: Vec<i64> = test.folds().iter().map(|f| f.index).collect();
    assert_eq!(indices, [0, 1, 2, 3]);

    let validation = test.validation();
    assert_eq!(validation.train_start, day(7, 11), "S = 2018-07-11");
    assert_eq!(
        (
            validation.train_days,
            validation.delay_days,
            validation.test_days,
            validation.folds
        ),
        (7, 7, 7, 4)
    );
    assert_eq!(
        rows(&validation),
        [
            "07-11..07-17 → 07-25..07-31",
            "07-04..07-10 → 07-18..07-24",
            "06-27..07-03 → 07-11..07-17",
            "06-20..06-26 → 07-04..07-10",
        ]
    );
    // Every validation fold is assessed before the first day a test fold is assessed, so the
    // test weeks never choose hyper-parameters.
    let first_test_day = test.folds().iter().map(|f| f.test.0).min().unwrap();
    assert!(validation.folds().iter().all(|f| f.test.1 < first_test_day));

    // The model does not change the prequential dates.
    for kind in ModelKind::ALL {
        assert_eq!(Protocol::HandbookPrequential.schedule(kind), test, "{kind}");
    }
}

#[test]
fn baseline_split_is_chapter_3_4_and_7_4_for_the_forest() {
    for kind in [ModelKind::Xgboost, ModelKind::Combined] {
        let s = Protocol::HandbookBaseline.schedule(kind);
        assert_eq!(s.folds, 1, "{kind}");
        assert_eq!(rows(&s), ["07-25..07-31 → 08-08..08-14"], "{kind}");
    }
    let forest = Protocol::HandbookBaseline.schedule(ModelKind::Iforest);
    assert_eq!(forest.folds, 1);
    assert_eq!(rows(&forest), ["07-11..07-17 → 07-25..07-31"]);
}

#[test]
fn protocols_parse_from_their_names() {
    for p in [Protocol::HandbookBaseline, Protocol::HandbookPrequential] {
        assert_eq!(p.name().parse::<Protocol>(), Ok(p));
    }
    assert_eq!(
        "handbook-baseline".parse::<Protocol>(),
        Ok(Protocol::HandbookBaseline)
    );
    assert_eq!(
        "handbook-prequential".parse::<Protocol>(),
        Ok(Protocol::HandbookPrequential)
    );
    for garbage in [
        "",
        "baseline",
        "Handbook-Baseline",
        "handbook-baseline ",
        "walk-forward",
    ] {
        let err = garbage.parse::<Protocol>().unwrap_err();
        assert!(
            err.contains(&format!("{garbage:?}")),
            "{garbage:?}: the message should name the value: {err}"
        );
        assert!(err.contains("handbook-prequential"), "{err}");
    }
}

/// The README's rule, read literally: on test day D, drop the transactions of every card with a
/// fraudulent transaction dated from the first training day through D − (delay + 1) days.
fn brute_force(data: &Dataset, fold: &Fold, delay: i64) -> (Vec<usize>, usize) {
    let mut kept = Vec::new();
    let mut removed = 0;
    for i in 0..data.len() {
        let d = data.day(i);
        if d < fold.test.0 || d > fold.test.1 {
            continue;
        }
        let known = (0..data.len()).any(|j| {
            data.card(j) == data.card(i)
                && data.fraud(j)
                && data.day(j) >= fold.train.0
                && data.day(j) <= d - (delay + 1)
        });
        if known {
            removed += 1;
        } else {
            kept.push(i);
        }
    }
    (kept, removed)
}

/// A small data set of one input; rows are pushed at noon (UTC) of their day.
struct Builder {
    data: Dataset,
    next: u64,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            data: Dataset::new(vec!["amount".to_string()]),
            next: 0,
        }
    }

    /// Adds a transaction of `card` on `day`; returns its row.
    fn tx(&mut self, day: i64, card: &str, fraud: bool) -> usize {
        self.tx_at(day * DAY_MS + DAY_MS / 2, card, fraud)
    }

    fn tx_at(&mut self, time_ms: i64, card: &str, fraud: bool) -> usize {
        let row = self.data.len();
        self.data
            .push(
                &Id::from(self.next),
                time_ms,
                &Id::from(card),
                fraud,
                &[self.next as f64],
            )
            .unwrap();
        self.next += 1;
        row
    }
}

#[test]
fn removal_of_known_compromised_cards() {
    let schedule = Protocol::HandbookBaseline.schedule(ModelKind::Xgboost);
    let fold = schedule.folds()[0];
    let delay = schedule.delay_days;
    assert_eq!(delay, 7);
    let (train_start, test_start, test_end) = (fold.train.0, fold.test.0, fold.test.1);
    assert_eq!(
        (train_start, test_start, test_end),
        (day(7, 25), day(8, 8), day(8, 14))
    );
    let test_days: Vec<i64> = (test_start..=test_end).collect();

    let mut b = Builder::new();
    // a: a fraud on the first training day (its first minute): removed from every test day.
    b.tx_at(train_start * DAY_MS, "a", true);
    let a: Vec<usize> = test_days.iter().map(|&d| b.tx(d, "a", false)).collect();

    // b: first fraud on D − 8 for D = 08-11 (its last millisecond): removed from D on, not before.
    let d = day(8, 11);
    b.tx_at((d - 8) * DAY_MS + DAY_MS - 1, "b", true);
    let b_rows: Vec<(i64, usize)> = test_days
        .iter()
        .map(|&t| (t, b.tx(t, "b", false)))
        .collect();

    // c: a fraud the day before the first training day: does not count.
    b.tx(train_start - 1, "c", true);
    b.tx_at(train_start * DAY_MS - 1, "c", true);
    let c: Vec<usize> = test_days.iter().map(|&t| b.tx(t, "c", true)).collect();

    // e: a fraud on D − 7 for D = 08-14: the card stays on D.
    b.tx(day(8, 14) - 7, "e", true);
    let e_before = b.tx(day(8, 13), "e", false);
    let e_on = b.tx(day(8, 14), "e", true);

    // f: frauds during the test week itself stay in it (they are what is being tested).
    let f: Vec<usize> = test_days.iter().map(|&t| b.tx(t, "f", true)).collect();

    // g: never a fraud.
    let g: Vec<usize> = test_days.iter().map(|&t| b.tx(t, "g", false)).collect();

    // h: a fraud after the test week does not reach back.
    let h = b.tx(test_start, "h", false);
    b.tx(test_end + 1, "h", true);

    // Rows outside the test week are never returned.
    b.tx(test_start - 1, "g", false);
    b.tx(test_end + 1, "g", false);

    let data = b.data;
    let (kept, removed) = test_rows(&data, &fold, delay);
    let in_test = data.days(test_start, test_end);
    assert_eq!(
        kept.len() + removed,
        in_test.len(),
        "kept and removed add up"
    );
    assert!(kept.windows(2).all(|w| w[0] < w[1]), "row order is kept");
    assert!(kept.iter().all(|i| in_test.contains(i)));

    for i in &a {
        assert!(
            !kept.contains(i),
            "card a (fraud on the first training day), row {i}"
        );
    }
    for &(t, i) in &b_rows {
        assert_eq!(
            kept.contains(&i),
            t < d,
            "card b (first fraud on {}): day {}",
            date_of(d - 8),
            date_of(t)
        );
    }
    assert!(kept.contains(&b_rows[2].1), "D − 1 = 08-10 is kept");
    assert!(!kept.contains(&b_rows[3].1), "D = 08-11 is removed");
    for i in c.iter().chain(&f).chain(&g) {
        assert!(kept.contains(i), "row {i}");
    }
    assert!(kept.contains(&e_before) && kept.contains(&e_on), "card e");
    assert!(kept.contains(&h), "card h");
    // a: 7 rows, b: 08-11 to 08-14.
    assert_eq!(removed, 7 + 4);

    assert_eq!((kept, removed), brute_force(&data, &fold, delay));
}

/// splitmix64: a seeded stream of test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn removal_agrees_with_the_brute_force_rule_on_random_data() {
    let first = day(6, 10);
    let last = day(9, 10);
    for seed in 0..8 {
        let mut rng = Rng(seed);
        let mut data = Dataset::new(vec!["x".to_string()]);
        let cards = 40 + rng.below(40);
        for i in 0..3_000u64 {
            let t = first * DAY_MS + rng.below(((last - first) * DAY_MS) as u64) as i64;
            let card = rng.below(cards);
            // Rare frauds, so that many cards stay clean and the rule has something to decide.
            let fraud = rng.below(100) < 2;
            data.push(&Id::from(i), t, &Id::from(card), fraud, &[0.0])
                .unwrap();
        }
        for protocol in [Protocol::HandbookBaseline, Protocol::HandbookPrequential] {
            let s = protocol.schedule(ModelKind::Xgboost);
            for schedule in [s, s.validation()] {
                for fold in schedule.folds() {
                    for delay in [0, 3, schedule.delay_days] {
                        let got = test_rows(&data, &fold, delay);
                        let want = brute_force(&data, &fold, delay);
                        assert_eq!(
                            got,
                            want,
                            "seed {seed}, {} fold {} delay {delay}",
                            protocol.name(),
                            fold.index
                        );
                        let in_test = data.days(fold.test.0, fold.test.1).len();
                        assert_eq!(got.0.len() + got.1, in_test);
                    }
                }
            }
        }
    }
}
