//! The binary as a user meets it: stubs say so and fail, garbage flags and settings are refused
//! with a message naming them, and the embedded demo runs.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use common::{fraudwatch, text};

use std::process::Command;

#[test]
fn retrain_refuses_garbage_and_an_empty_extract_stops_at_validate() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[retrain]\nmin_label_rate = 2\n",
    )
    .unwrap();
    for (args, code, needle) in [
        (
            &["retrain"][..],
            1,
            "--once, --schedule CRON, or --task TASK --run-id ID",
        ),
        (&["retrain", "--schedule", "61 * * * *"], 2, "minute \"61\""),
        (&["retrain", "--schedule", "@daily"], 2, "expected 5 fields"),
        (
            &["retrain", "--task", "deploy", "--run-id", "r"],
            2,
            "unknown task \"deploy\"",
        ),
        (&["retrain", "--task", "train"], 2, "--run-id"),
        (
            &["retrain", "--once", "--run-id", "../etc"],
            2,
            "is not a run id",
        ),
        (
            &["retrain", "--once", "--schedule", "0 3 * * 1"],
            2,
            "--schedule",
        ),
        (&["retrain", "--on-drift"], 2, "--schedule"),
        (
            &["retrain", "--once", "--params", "nope.toml"],
            1,
            "--params \"nope.toml\"",
        ),
        (
            &["--config", "bad.toml", "retrain", "--once"],
            2,
            "min_label_rate = 2",
        ),
    ] {
        let o = fraudwatch(args, dir.path());
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
    }
    // Nothing on the topics, nothing in the store: the run stops at validate, with the reason.
    let o = fraudwatch(&["retrain", "--once", "--run-id", "empty"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(
            "retrain run empty stopped at validate: the extract holds no labelled transactions; the champion is unchanged"
        ),
        "{}",
        text(&o)
    );
}

#[test]
fn serve_refuses_bad_flags_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    for (args, code, needle) in [
        (&["serve", "--listen", "nowhere"][..], 2, "--listen"),
        (&["serve", "--lateness-secs=-5"], 2, "--lateness-secs"),
        (&["serve", "--feature-set", "magic"], 2, "--feature-set"),
        (&["serve", "--anomaly-review", "2"], 1, "--anomaly-review"),
        (&["--store", "mysql://x", "serve"], 1, "mysql://x"),
    ] {
        let o = fraudwatch(args, dir.path());
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
    }
}

#[test]
fn demo_runs_the_embedded_pipeline_and_is_honest() {
    let dir = tempfile::tempdir().unwrap();
    let o = fraudwatch(
        &[
            "demo",
            "--days",
            "2",
            "--history-days",
            "14",
            "--customers",
            "500",
            "--rate",
            "0",
            "--duration",
            "2s",
            "--listen",
            "127.0.0.1:0",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let number_after = |label: &str| -> u64 {
        let rest = &out[out
            .find(label)
            .unwrap_or_else(|| panic!("no {label:?} in {out}"))
            + label.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    let generated = number_after("generate: ");
    assert!(generated > 100, "{out}");
    assert_eq!(
        number_after("process:  "),
        generated,
        "one feature vector per transaction: {out}"
    );
    assert_eq!(
        number_after("score:    "),
        generated,
        "one score per transaction: {out}"
    );
    // Every alert opened a case, and the trained champion is in the registry.
    let alerts = number_after("scored, ");
    let cases = out[out.find("block), ").unwrap() + 8..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert_eq!(alerts, cases, "{out}");
    assert!(
        out.contains("serve:    the API answered on http://127.0.0.1:"),
        "{out}"
    );
    // The monitor followed the same topics (too few vectors here for a window of 20,000).
    number_after("monitor:  ");
    assert!(out.contains("/v1/drift/report"), "{out}");
    let aliases = std::fs::read_to_string(dir.path().join("registry/aliases.json")).unwrap();
    assert!(aliases.contains("champion"), "{aliases}");
    assert!(
        dir.path().join("fraudwatch.db").exists(),
        "the embedded store is created"
    );
    let o = fraudwatch(&["--bus", "kafka://127.0.0.1:9092", "demo"], dir.path());
    assert!(
        !o.status.success() && text(&o).contains("embedded"),
        "{}",
        text(&o)
    );
    for (flag, value) in [
        ("--days", "0"),
        ("--duration", "soon"),
        ("--duration", "0s"),
        ("--duration", "3d"),
        ("--duration", "99999999999999999999h"),
        ("--rate", "1e99"),
        ("--listen", "localhost"),
        ("--listen", "127.0.0.1:99999"),
    ] {
        let o = fraudwatch(&["demo", flag, value], dir.path());
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", text(&o));
        assert!(text(&o).contains(flag), "{flag} {value}: {}", text(&o));
    }
}

#[test]
fn config_shows_every_layer_merged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fw.toml"),
        "store_url = \"sqlite://from-file.db\"\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_fraudwatch"))
        .args(["--config", "fw.toml", "--partitions", "8", "config"])
        .current_dir(dir.path())
        .env("FRAUDWATCH_BUS_URL", "kafka://127.0.0.1:9092")
        .output()
        .unwrap();
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("bus_url = \"kafka://127.0.0.1:9092\""),
        "{out}"
    );
    assert!(
        out.contains("store_url = \"sqlite://from-file.db\""),
        "{out}"
    );
    assert!(out.contains("partitions = 8"), "{out}");
    assert!(out.contains("registry_url = \"file://registry\""), "{out}");
}

#[test]
fn garbage_flags_and_urls_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 8] = [
        (&["--partitions", "0", "config"], "--partitions"),
        (&["--partitions", "lots", "config"], "lots"),
        (&["--log-format", "xml", "config"], "xml"),
        (&["--bogus", "config"], "--bogus"),
        (&["frobnicate"], "frobnicate"),
        (&["--metrics-addr", "nonsense", "process"], "nonsense"),
        (&["--bus", "redis://x", "demo"], "redis://x"),
        (&["--store", "mysql://x", "demo"], "mysql://x"),
    ];
    for (args, named) in cases {
        let o = fraudwatch(args, dir.path());
        assert!(!o.status.success(), "{args:?} must fail");
        assert!(text(&o).contains(named), "{args:?}: {}", text(&o));
        assert!(!text(&o).contains("panicked"), "{args:?}: {}", text(&o));
    }
    let o = fraudwatch(&["--config", "missing.toml", "config"], dir.path());
    assert!(
        !o.status.success() && text(&o).contains("missing.toml"),
        "{}",
        text(&o)
    );
}

#[test]
fn bench_measures_the_processor_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let o = fraudwatch(
        &[
            "bench",
            "process",
            "--transactions",
            "500",
            "--rate",
            "200",
            "--seconds",
            "1",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["throughput"]["transactions"], 500);
    assert!(v["throughput"]["events_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(
        v["latency"]["vectors"], 200,
        "every offered transaction got its vector: {out}"
    );
    assert!(v["latency"]["p99_ms"].as_f64().unwrap() >= v["latency"]["p50_ms"].as_f64().unwrap());
    for (args, named) in [
        (&["bench", "nothing"][..], "nothing"),
        (&["bench", "process", "--rate", "0"][..], "--rate"),
    ] {
        let o = fraudwatch(args, dir.path());
        assert!(
            !o.status.success() && text(&o).contains(named),
            "{args:?}: {}",
            text(&o)
        );
    }
}

#[test]
fn score_without_a_champion_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let registry = format!("file://{}", dir.path().join("registry").display());
    let o = fraudwatch(&["--registry", &registry, "score"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("has no champion"), "{}", text(&o));
    assert!(
        text(&o).contains("fraudwatch train --promote"),
        "{}",
        text(&o)
    );
    let o = fraudwatch(&["--registry", &registry, "score", "--shadow"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("has no challenger"), "{}", text(&o));
    let o = fraudwatch(&["score", "--anomaly-review", "7"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("--anomaly-review 7"), "{}", text(&o));
}

#[test]
fn the_airflow_dag_runs_every_retrain_task_in_order() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/airflow/fraudwatch_retrain.py"
    );
    let dag = std::fs::read_to_string(path).unwrap();
    let tasks = [
        "extract", "validate", "train", "evaluate", "compare", "register", "promote",
    ];
    let listed = format!("TASKS = [{}]", tasks.map(|t| format!("\"{t}\"")).join(", "));
    assert!(dag.contains(&listed), "{listed} in {path}");
    assert!(dag.contains("retrain --task {task}"), "{path}");
    // Valid Python (Airflow itself is not installed here).
    let o = Command::new("python3")
        .args([
            "-c",
            "import ast, sys; ast.parse(open(sys.argv[1]).read())",
            path,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // Each task name is one the binary takes.
    let dir = tempfile::tempdir().unwrap();
    for task in tasks {
        let o = fraudwatch(
            &["retrain", "--task", task, "--run-id", "r", "--help"],
            dir.path(),
        );
        assert!(o.status.success(), "{task}: {}", text(&o));
    }
}
