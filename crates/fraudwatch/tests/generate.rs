//! `fraudwatch generate` through the binary: the handbook profile to CSV end to end, byte-identical
//! reruns, replay of the shared handbook file, the in-process bus, and bad flags named in the error.
//! The handbook data live in `shared/data/handbook` beside the repository (or `$FW_HANDBOOK_DIR`);
//! when they are missing the tests that need them fail.

mod common;

use common::{fraudwatch, handbook_dir, text};

use std::io::{BufRead, BufReader};
use std::process::Output;

use fraudwatch_core::handbook::{HEADER, Row};

/// The JSON summary a successful run prints last on stdout.
fn summary(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", text(o));
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out.lines().last().expect("a summary line");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn handbook_profile_30_days_to_csv_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let o = fraudwatch(
        &[
            "generate",
            "--profile",
            "handbook",
            "--days",
            "30",
            "--out",
            "x.csv",
        ],
        dir.path(),
    );
    let s = summary(&o);
    let file = std::fs::File::open(dir.path().join("x.csv")).unwrap();
    let mut lines = BufReader::new(file).lines().map(Result::unwrap);
    assert_eq!(lines.next().as_deref(), Some(HEADER));
    let rows: Vec<Row> = lines
        .enumerate()
        .map(|(i, l)| Row::parse(&l, i as u64 + 2).unwrap())
        .collect();
    let n = rows.len() as f64;
    assert_eq!(s["transactions"], rows.len());
    // April 2018 in the published data: 288,062 transactions, frauds building up to ~0.8%.
    assert!((n - 288_062.0).abs() / 288_062.0 < 0.04, "{n} transactions");
    let frauds = rows.iter().filter(|r| r.is_fraud).count() as u64;
    assert_eq!(s["frauds"], frauds);
    assert!(
        (0.004..0.009).contains(&(frauds as f64 / n)),
        "{frauds} frauds"
    );
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.transaction_id, i as u64, "ids in time order");
        assert_eq!(r.is_fraud, r.scenario > 0);
        assert!((0..30).contains(&r.time_days));
        assert_eq!(r.timestamp.timestamp(), 1_522_540_800 + r.time_seconds);
    }
    assert!(rows.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    for sc in 1..=3 {
        assert!(rows.iter().any(|r| r.scenario == sc), "scenario {sc}");
    }
    assert_eq!(s["source"], "profile:handbook");
    assert_eq!(s["labels"], 0, "a file carries the labels in its rows");
}

#[test]
fn same_seed_and_flags_give_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str, out: &str| {
        let o = fraudwatch(
            &[
                "generate",
                "--days",
                "10",
                "--customers",
                "2000",
                "--seed",
                seed,
                "--out",
                out,
            ],
            dir.path(),
        );
        summary(&o);
        std::fs::read(dir.path().join(out)).unwrap()
    };
    let a = run("7", "a.jsonl");
    assert!(a.len() > 1_000_000);
    assert!(a == run("7", "b.jsonl"), "same seed, different bytes");
    assert!(a != run("8", "c.jsonl"), "another seed, same bytes");
    let first: serde_json::Value =
        serde_json::from_slice(a.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["transaction_id"], "0");
    assert!(first["is_fraud"].is_boolean() && first["channel"].is_string());
}

#[test]
fn a_replay_writes_the_handbook_rows_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let src = handbook_dir(&["transactions.csv.gz"]).join("transactions.csv.gz");
    let o = fraudwatch(
        &[
            "generate",
            "--replay",
            src.to_str().unwrap(),
            "--count",
            "50000",
            "--out",
            "r.csv",
        ],
        dir.path(),
    );
    assert_eq!(summary(&o)["transactions"], 50_000);
    let original = BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(&src).unwrap(),
    ))
    .lines()
    .take(50_001)
    .map(Result::unwrap);
    let copy = BufReader::new(std::fs::File::open(dir.path().join("r.csv")).unwrap())
        .lines()
        .map(Result::unwrap);
    let mut n = 0;
    for (i, (a, b)) in original.zip(copy).enumerate() {
        assert_eq!(a, b, "line {}", i + 1);
        n += 1;
    }
    assert_eq!(n, 50_001);

    // The first 2 days, by event time.
    let o = fraudwatch(
        &[
            "generate",
            "--replay",
            src.to_str().unwrap(),
            "--days",
            "2",
            "--out",
            "d.jsonl",
        ],
        dir.path(),
    );
    let s = summary(&o);
    assert_eq!(
        s["last_event"].as_str().map(|t| &t[..10]),
        Some("2018-04-02")
    );
}

#[test]
fn the_memory_bus_gets_every_transaction_and_its_label() {
    let dir = tempfile::tempdir().unwrap();
    let o = fraudwatch(
        &[
            "generate",
            "--profile",
            "handbook",
            "--count",
            "5000",
            "--label-delay",
            "30m",
        ],
        dir.path(),
    );
    let s = summary(&o);
    assert_eq!(s["transactions"], 5_000);
    assert_eq!(s["labels"], 5_000);
    assert_eq!(s["label_delay_ms"], 1_800_000);
    assert_eq!(s["topics"][0], "transactions");
    assert_eq!(s["topics"][1], "labels");
    assert!(
        text(&o).contains("memory://"),
        "warns that memory:// ends with the process"
    );
    let o = fraudwatch(
        &[
            "generate",
            "--count",
            "2000",
            "--labels",
            "frauds",
            "--topic-prefix",
            "x-",
        ],
        dir.path(),
    );
    let s = summary(&o);
    assert_eq!(s["labels"], s["frauds"]);
    assert_eq!(s["topics"][0], "x-transactions");
}

#[test]
fn bad_flags_and_inputs_are_named_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = "0,2018-04-01T00:00:31,596,3156,57.16,31,0,0,0\n1,2018-04-01T00:02:10,4961,3412,81.51,130,0,0,0\n";
    std::fs::write(
        dir.path().join("bad.csv"),
        format!("{HEADER}\n{good}2,2018-04-01T00:03:00,7,8,12.x,180,0,0,0\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notcsv.csv"), "hello\n").unwrap();
    let cases: [(&[&str], &[&str]); 14] = [
        (
            &["generate", "--rate", "-5"],
            &["--rate", "-5 must be a positive number"],
        ),
        (
            &["generate", "--rate", "0"],
            &["--rate", "must be a positive number"],
        ),
        (
            &["generate", "--speed", "fast"],
            &["--speed", "\"fast\" is not a number"],
        ),
        (
            &["generate", "--profile", "fancy"],
            &[
                "--profile",
                "unknown profile \"fancy\"",
                "handbook, default",
            ],
        ),
        (
            &["generate", "--replay", "missing.csv.gz"],
            &["cannot read", "missing.csv.gz"],
        ),
        (
            &["generate", "--replay", "bad.csv", "--out", "o.csv"],
            &["bad.csv", "line 4", "tx_amount = \"12.x\""],
        ),
        (
            &["generate", "--replay", "notcsv.csv"],
            &["notcsv.csv", "line 1", "header"],
        ),
        (
            &["generate", "--label-delay", "7"],
            &["--label-delay", "\"7\" is not a duration"],
        ),
        (
            &["generate", "--label-delay", "-1d"],
            &["--label-delay", "negative"],
        ),
        (&["generate", "--drift-at", "2024-01-10"], &["--drift"]),
        (
            &["generate", "--drift-at", "2024-01-10", "--drift", "weather"],
            &["unknown drift kind \"weather\""],
        ),
        (
            &[
                "generate",
                "--profile",
                "handbook",
                "--drift-at",
                "2018-05-01",
                "--drift",
                "channel",
            ],
            &["channel drift", "--profile default"],
        ),
        (
            &["generate", "--scenario-rate", "phishing=3"],
            &["--scenario-rate", "unknown scenario \"phishing\""],
        ),
        (
            &["generate", "--out", "x.txt"],
            &["--out x.txt", "cannot tell the format"],
        ),
    ];
    for (args, named) in cases {
        let o = fraudwatch(args, dir.path());
        let out = text(&o);
        assert!(!o.status.success(), "{args:?} must fail: {out}");
        for n in named {
            assert!(out.contains(n), "{args:?}: {n:?} not in: {out}");
        }
        assert!(!out.contains("panicked"), "{args:?}: {out}");
    }
    for bad in ["--days", "--count", "--customers"] {
        let o = fraudwatch(&["generate", bad, "0"], dir.path());
        assert!(
            !o.status.success() && text(&o).contains(bad),
            "{bad}: {}",
            text(&o)
        );
    }
}

#[test]
fn the_default_world_round_trips_through_the_csv_layout() {
    let dir = tempfile::tempdir().unwrap();
    let o = fraudwatch(
        &[
            "generate",
            "--days",
            "2",
            "--customers",
            "2000",
            "--out",
            "world.csv",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = fraudwatch(
        &["generate", "--replay", "world.csv", "--out", "back.csv"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let world = std::fs::read_to_string(dir.path().join("world.csv")).unwrap();
    assert_eq!(
        world,
        std::fs::read_to_string(dir.path().join("back.csv")).unwrap()
    );
    let codes: std::collections::BTreeSet<&str> = world
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next())
        .collect();
    assert!(
        codes.contains("4"),
        "card testing (code 4) is in the file: {codes:?}"
    );
}
