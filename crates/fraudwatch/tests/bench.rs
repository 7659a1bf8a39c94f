//! `fraudwatch bench` on the embedded pipeline: the JSON result's shape and consistency, flat out
//! and open loop (never a bound on time: speed is reported, not asserted), and garbage flags
//! refused with the usage status.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::{fraudwatch, text};
use serde_json::Value;

/// Runs the pipeline bench with `extra` flags; its JSON, checked to be the same on standard
/// output and in `--out`.
fn bench(extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench.json");
    let mut args = vec![
        "bench",
        "--mode",
        "embedded",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = fraudwatch(&args, dir.path());
    assert!(o.status.success(), "{}", text(&o));
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let stdout: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(file, stdout);
    file
}

/// Every transaction has a score latency, every alert a case latency, and each summary is
/// ordered.
fn check(v: &Value, events: u64) {
    assert_eq!(v["bench"], "pipeline", "{v}");
    assert_eq!(v["mode"], "embedded", "{v}");
    assert_eq!(v["events"], events, "{v}");
    assert_eq!(v["dead_letters"], 0, "{v}");
    assert!(v["seconds"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["events_per_second"].as_f64().unwrap() > 0.0, "{v}");
    let alerts = v["alerts"].as_u64().unwrap();
    assert!(alerts > 0, "the champion alerts on some: {v}");
    assert!(alerts < events / 10, "and lets most through: {v}");
    for (end, count) in [("score_published", events), ("case_committed", alerts)] {
        let l = &v["latency_ms"][end];
        assert_eq!(l["count"], count, "{end}: {v}");
        let p = ["p50", "p95", "p99", "max"].map(|k| l[k].as_f64().unwrap());
        assert!(p[0] >= 0.0 && p.is_sorted(), "{end}: {p:?}");
    }
}

#[test]
fn flat_out_reports_every_score_and_case() {
    let v = bench(&["--events", "20000"]);
    check(&v, 20_000);
    assert_eq!(v["rate"], Value::Null, "{v}");
    assert!(v["produce_seconds"].as_f64().unwrap() > 0.0, "{v}");
}

#[test]
fn open_loop_measures_only_the_offered_transactions() {
    // The warm-up's transactions go through first and are not counted.
    let v = bench(&["--events", "3000", "--rate", "3000"]);
    check(&v, 3_000);
    assert_eq!(v["rate"], 3000, "{v}");
    assert_eq!(v["produce_seconds"], Value::Null, "{v}");
}

/// `bench api`: every request answered 200 by the live scorer, latencies ordered.
#[test]
fn api_bench_scores_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let o = fraudwatch(
        &["bench", "api", "--events", "2000", "--rate", "1000"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(
        (v["bench"].as_str(), v["requests"].as_u64()),
        (Some("api"), Some(2000)),
        "{v}"
    );
    assert_eq!(
        (v["ok"].as_u64(), v["errors"].as_u64()),
        (Some(2000), Some(0)),
        "{v}"
    );
    let l = &v["latency_ms"];
    assert_eq!(l["count"], 2000);
    let p = ["p50", "p95", "p99", "max"].map(|k| l[k].as_f64().unwrap());
    assert!(p[0] > 0.0 && p.is_sorted(), "{p:?}");
}

#[test]
fn garbage_flags_are_usage_errors_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    for (args, named) in [
        (&["bench", "--mode", "nonsense"][..], "--mode"),
        (&["bench", "--events", "0"][..], "--events"),
        (&["bench", "--rate", "-1"][..], "--rate"),
        (&["bench", "--rate", "fast"][..], "--rate"),
        (&["bench", "--scorers", "0"][..], "--scorers"),
    ] {
        let o = fraudwatch(args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(named), "{args:?}: {}", text(&o));
    }
    // Kafka mode runs on the configured services, and says which setting is missing.
    let o = fraudwatch(&["bench", "--mode", "kafka"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("--bus kafka://"), "{}", text(&o));
    let missing = dir.path().join("no/such/dir/bench.json");
    let o = fraudwatch(&["bench", "--out", missing.to_str().unwrap()], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("cannot create"), "{}", text(&o));
}

/// `bench monitor`: the monitor ingests every vector and score the pipeline run produced and
/// judges windows; the rates are reported side by side, never bounded.
#[test]
fn monitor_bench_ingests_every_vector_and_score() {
    let v = bench(&["monitor", "--events", "30000"]);
    assert_eq!(
        (v["bench"].as_str(), v["mode"].as_str()),
        (Some("monitor"), Some("embedded")),
        "{v}"
    );
    assert_eq!(
        (v["events"].as_u64(), v["scores"].as_u64()),
        (Some(30_000), Some(30_000)),
        "{v}"
    );
    assert_eq!(v["undecodable"], 0, "{v}");
    // The default window: 20,000 rows, judged every 5,000.
    assert_eq!(
        (v["window_rows"].as_u64(), v["window_step"].as_u64()),
        (Some(20_000), Some(5_000)),
        "{v}"
    );
    assert!(v["evaluations"].as_u64().unwrap() >= 1, "{v}");
    for rate in [
        "seconds",
        "events_per_second",
        "evaluations_per_second",
        "core_seconds",
        "core_events_per_second",
        "pipeline_events_per_second",
    ] {
        assert!(v[rate].as_f64().unwrap() > 0.0, "{rate}: {v}");
    }
    let (monitor, pipeline) = (
        v["events_per_second"].as_f64(),
        v["pipeline_events_per_second"].as_f64(),
    );
    assert_eq!(v["keeps_up"].as_bool(), Some(monitor >= pipeline), "{v}");

    // It drains a backlog: an offered rate is refused, not ignored.
    let dir = tempfile::tempdir().unwrap();
    let o = fraudwatch(&["bench", "monitor", "--rate", "1000"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("--rate"), "{}", text(&o));
    let o = fraudwatch(&["bench", "monitor", "--events", "0"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--events"), "{}", text(&o));
}
