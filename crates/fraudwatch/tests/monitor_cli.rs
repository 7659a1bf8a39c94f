//! `fraudwatch monitor compare` and `monitor report` as a user meets them: two CSV files in,
//! JSON and a self-contained HTML page out; garbage files, flags and settings refused with a
//! message naming them; a column on one side only, NaNs and constants answered, not crashed on.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::path::Path;

use common::{fraudwatch, text};

/// `rows` rows of an amount (shifted by `shift`), a channel mix, a NaN-ridden column, a constant,
/// and `extra` as one more column.
fn csv(dir: &Path, name: &str, rows: usize, shift: f64, extra: &str) {
    let mut s = format!("amount,channel,sparse,constant,{extra}\n");
    for i in 0..rows {
        let amount = 20.0 + (i % 97) as f64 + shift;
        let channel = if (i * 7) % 10 < 3 {
            "online"
        } else {
            "card_present"
        };
        let sparse = if i % 3 == 0 {
            "NaN".to_string()
        } else {
            (i % 11).to_string()
        };
        s += &format!("{amount},{channel},{sparse},1,{}\n", i % 5);
    }
    std::fs::write(dir.join(name), s).unwrap();
}

#[test]
fn compare_writes_per_column_verdicts_and_the_dataset_share() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    csv(d, "ref.csv", 3000, 0.0, "only_ref");
    csv(d, "cur.csv", 3000, 40.0, "only_cur");
    let o = fraudwatch(
        &[
            "monitor",
            "compare",
            "--reference",
            "ref.csv",
            "--current",
            "cur.csv",
            "--out",
            "drift.json",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("drift.json")).unwrap()).unwrap();
    let column = |name: &str| {
        j["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {j}"))
            .clone()
    };
    let amount = column("amount");
    assert_eq!(
        (amount["method"].as_str(), amount["drifted"].as_bool()),
        (Some("wasserstein"), Some(true))
    );
    assert!(amount["statistic"].as_f64().unwrap() > 0.1);
    assert!(amount["p_value"].is_null(), "a distance has no p-value");
    assert_eq!(column("channel")["method"], "jensenshannon");
    assert_eq!(column("channel")["drifted"], false);
    assert_eq!(
        column("sparse")["drifted"],
        false,
        "NaNs are left out on both sides"
    );
    assert_eq!(column("constant")["drifted"], false);
    assert_eq!(column("only_ref")["note"], "missing from the current data");
    assert_eq!(column("only_cur")["note"], "missing from the reference");
    assert_eq!(
        j["dataset"]["drifted_columns"],
        serde_json::json!(["amount"])
    );
    assert_eq!(j["dataset"]["share"], 0.25, "4 columns compared");
    assert_eq!(j["dataset"]["drifted"], false);

    // Small files get statistical tests with p-values; stdout without --out.
    csv(d, "small-ref.csv", 500, 0.0, "x");
    csv(d, "small-cur.csv", 500, 40.0, "x");
    let o = fraudwatch(
        &[
            "monitor",
            "compare",
            "--reference",
            "small-ref.csv",
            "--current",
            "small-cur.csv",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["columns"][0]["method"], "ks");
    assert!(j["columns"][0]["p_value"].as_f64().unwrap() < 0.05);
    assert_eq!(
        j["columns"][1]["method"], "z",
        "two categories: the proportion Z-test"
    );
}

#[test]
fn compare_and_report_refuse_garbage_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    csv(d, "ok.csv", 100, 0.0, "x");
    std::fs::write(d.join("empty.csv"), "").unwrap();
    std::fs::write(d.join("ragged.csv"), "a,b\n1,2\n3\n").unwrap();
    std::fs::write(d.join("dup.csv"), "a,a\n1,2\n").unwrap();
    std::fs::write(d.join("bad.toml"), "[monitor]\nshare_threshold = 2\n").unwrap();
    std::fs::write(
        d.join("method.toml"),
        "[monitor.columns]\nchannel = { method = \"ks\" }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("unknown.toml"),
        "[monitor.columns]\namount = { method = \"magic\" }\n",
    )
    .unwrap();
    fn compare<'a>(r: &'a str, c: &'a str) -> Vec<&'a str> {
        vec!["monitor", "compare", "--reference", r, "--current", c]
    }
    let mut cases: Vec<(Vec<&str>, &str)> = vec![
        (compare("nope.csv", "ok.csv"), "cannot open nope.csv"),
        (compare("ok.csv", "empty.csv"), "empty.csv: no header"),
        (
            compare("ok.csv", "ragged.csv"),
            "ragged.csv: line 3: 1 fields, the header has 2",
        ),
        (compare("dup.csv", "ok.csv"), "\"a\" appears twice"),
        (
            vec!["monitor", "compare", "--reference", "ok.csv"],
            "--current",
        ),
        (
            vec![
                "monitor",
                "report",
                "--reference",
                "ok.csv",
                "--out",
                "r.html",
            ],
            "--current",
        ),
        (vec!["monitor", "--report-every", "soon"], "--report-every"),
    ];
    let mut with = |config: &'static str, needle: &'static str| {
        let mut args = vec!["--config", config];
        args.extend(compare("ok.csv", "ok.csv"));
        cases.push((args, needle));
    };
    with("bad.toml", "share_threshold = 2");
    with("method.toml", "column \"channel\": method ks needs numbers");
    with("unknown.toml", "magic");
    for (args, needle) in cases {
        let o = fraudwatch(&args, d);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(
            text(&o).contains(needle),
            "{args:?}: expected {needle:?} in {}",
            text(&o)
        );
        assert!(!text(&o).contains("panicked"), "{args:?}: {}", text(&o));
    }
    // A header with no rows: every column is reported without a verdict, and nothing drifts.
    std::fs::write(d.join("header.csv"), "amount,channel,sparse,constant,x\n").unwrap();
    let o = fraudwatch(&compare("ok.csv", "header.csv"), d);
    assert!(o.status.success(), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["dataset"]["drifted"], false);
    assert!(
        j["columns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["note"] == "no values in the current data")
    );
}

#[test]
fn report_renders_a_comparison_or_says_there_is_none_yet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    csv(d, "ref.csv", 2000, 0.0, "x");
    csv(d, "cur.csv", 2000, 40.0, "x");
    let o = fraudwatch(
        &[
            "monitor",
            "report",
            "--reference",
            "ref.csv",
            "--current",
            "cur.csv",
            "--out",
            "drift.html",
            "--json",
            "drift.json",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let html = std::fs::read_to_string(d.join("drift.html")).unwrap();
    assert_eq!(
        html.matches("class=\"dist-plot\"").count(),
        5,
        "one plot per column"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("drift.json")).unwrap()).unwrap();
    assert_eq!(
        j["dataset"]["drifted_columns"],
        serde_json::json!(["amount"])
    );

    // The store's latest report: none before a monitor has judged a window.
    let o = fraudwatch(
        &[
            "--store",
            "sqlite://empty.db",
            "monitor",
            "report",
            "--out",
            "x.html",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("holds no report of monitor \"monitor\" yet"),
        "{}",
        text(&o)
    );
    // The stream without a champion to take the reference from.
    let o = fraudwatch(
        &["--registry", "file://reg", "monitor", "--duration", "1s"],
        d,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("has no champion"), "{}", text(&o));
}

#[test]
fn the_stream_takes_a_reference_file_naming_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = fraudwatch(
        &[
            "generate",
            "--profile",
            "handbook",
            "--days",
            "20",
            "--customers",
            "300",
            "--out",
            "tx.csv",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = fraudwatch(
        &[
            "--registry",
            "file://reg",
            "train",
            "--transactions",
            "tx.csv",
            "--promote",
        ],
        d,
    );
    assert!(o.status.success(), "{}", text(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let version = summary["version"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:");
    let bundle: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join(format!("reg/bundles/{version}.json"))).unwrap(),
    )
    .unwrap();
    let features: Vec<&str> = bundle["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let write = |name: &str, columns: &[&str], cell: &str| {
        let mut s = columns.join(",") + "\n";
        for _ in 0..50 {
            s += &vec![cell; columns.len()].join(",");
            s += "\n";
        }
        std::fs::write(d.join(name), s).unwrap();
    };
    write("full.csv", &features, "1");
    write("short.csv", &features[1..], "1");
    write("text.csv", &features, "x");
    let monitor = |reference: &str| {
        fraudwatch(
            &[
                "--registry",
                "file://reg",
                "--store",
                "sqlite://m.db",
                "monitor",
            ]
            .into_iter()
            .chain(["--reference", reference, "--duration", "1s"])
            .collect::<Vec<_>>(),
            d,
        )
    };
    let o = monitor("full.csv");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("monitored 0 vectors"), "{}", text(&o));
    let o = monitor("short.csv");
    assert!(
        text(&o).contains(&format!(
            "the champion's feature {:?} is missing from the reference",
            features[0]
        )),
        "{}",
        text(&o)
    );
    let o = monitor("text.csv");
    assert!(text(&o).contains("is not numeric"), "{}", text(&o));
    let o = monitor("nowhere.csv");
    assert!(text(&o).contains("cannot open nowhere.csv"), "{}", text(&o));
}
