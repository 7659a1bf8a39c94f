//! `fraudwatch evaluate` and `fraudwatch train` through the binary: the handbook's baseline split
//! reproduced on the shared handbook data (metrics recomputed from the scores file), prequential
//! folds on a generated dataset with custom dates, bundles written to a `file://` registry and
//! read back, and bad flags and inputs named in the error, never a panic.
//!
//! The handbook data live in `shared/data/handbook` beside the repository (or
//! `$FW_HANDBOOK_DIR`); when they are missing the test that needs them fails.

#![allow(clippy::unwrap_used)]

mod common;

use common::{fraudwatch, handbook_dir, text};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Output;

use chrono::{Days, NaiveDate};
use serde_json::Value;

/// The baseline split in the handbook's README.
const BASELINE_TEST_ROWS: usize = 58_264;
const BASELINE_TEST_FRAUDS: usize = 385;
const BASELINE_REMOVED: usize = 8_816;
const BASELINE_TRAIN_ROWS: usize = 67_240;
const BASELINE_TRAIN_FRAUDS: usize = 598;

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", text(o));
    assert!(!text(o).contains("panicked"), "{}", text(o));
}

fn read_json(path: &Path) -> Value {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn plus(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap()
}

fn minus(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(n)).unwrap()
}

/// One transaction of a file in the handbook's layout: id, date, card, fraud.
#[derive(Debug, Clone, Copy)]
struct Tx {
    id: u64,
    day: NaiveDate,
    card: u64,
    fraud: bool,
}

fn parse_tx(line: &str) -> Tx {
    let c: Vec<&str> = line.split(',').collect();
    assert_eq!(c.len(), 9, "{line}");
    Tx {
        id: c[0].parse().unwrap(),
        day: date(&c[1][..10]),
        card: c[2].parse().unwrap(),
        fraud: c[7] == "1",
    }
}

/// The transactions of a file, in order, up to and including `last` (all when `None`).
fn transactions(lines: impl Iterator<Item = String>, last: Option<NaiveDate>) -> Vec<Tx> {
    let mut lines = lines;
    assert_eq!(
        lines.next().as_deref(),
        Some(fraudwatch_core::handbook::HEADER)
    );
    lines
        .map(|l| parse_tx(&l))
        .take_while(|t| last.is_none_or(|last| t.day <= last))
        .collect()
}

fn csv_lines(path: &Path) -> impl Iterator<Item = String> + use<> {
    BufReader::new(std::fs::File::open(path).unwrap())
        .lines()
        .map(Result::unwrap)
}

/// Rows and frauds dated `first..=last`.
fn count(txs: &[Tx], first: NaiveDate, last: NaiveDate) -> (usize, usize) {
    let in_range = txs.iter().filter(|t| (first..=last).contains(&t.day));
    let (mut rows, mut frauds) = (0, 0);
    for t in in_range {
        rows += 1;
        frauds += usize::from(t.fraud);
    }
    (rows, frauds)
}

/// `<name>-scores.csv`: (transaction id, score), after checking the header.
fn read_scores(path: &Path) -> Vec<(u64, f64)> {
    let mut lines = csv_lines(path);
    assert_eq!(lines.next().as_deref(), Some("transaction_id,score"));
    lines
        .map(|l| {
            let (id, score) = l.split_once(',').unwrap_or_else(|| panic!("{l:?}"));
            (id.parse().unwrap(), score.parse().unwrap())
        })
        .collect()
}

/// Generates `days` days of the handbook profile into `dir/name`; returns its first date.
fn generate(dir: &Path, name: &str, days: u32) -> NaiveDate {
    let o = fraudwatch(
        &[
            "generate",
            "--profile",
            "handbook",
            "--days",
            &days.to_string(),
            "--seed",
            "7",
            "--out",
            name,
        ],
        dir,
    );
    ok(&o);
    let first = csv_lines(&dir.join(name)).nth(1).expect("a data row");
    parse_tx(&first).day
}

// The handbook's metrics (README, "Metrics"), recomputed from the scores file.

/// AUC-ROC with tied scores counting one half (Mann–Whitney).
fn auc_roc(scored: &[(f64, bool)]) -> f64 {
    let mut v = scored.to_vec();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < v.len() {
        let j = i + v[i..].iter().take_while(|x| x.0 == v[i].0).count();
        let rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += rank * v[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let p = v.iter().filter(|x| x.1).count() as f64;
    let n = v.len() as f64 - p;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * n)
}

/// Step-wise average precision over the distinct thresholds.
fn average_precision(scored: &[(f64, bool)]) -> f64 {
    let mut v = scored.to_vec();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = v.iter().filter(|x| x.1).count() as f64;
    let (mut ap, mut tp, mut prev_recall, mut i) = (0.0, 0.0, 0.0, 0);
    while i < v.len() {
        let j = i + v[i..].iter().take_while(|x| x.0 == v[i].0).count();
        tp += v[i..j].iter().filter(|x| x.1).count() as f64;
        let recall = tp / positives;
        ap += (recall - prev_recall) * tp / j as f64;
        prev_recall = recall;
        i = j;
    }
    ap
}

/// Card Precision@100: per test day, the top 100 cards not detected on earlier days.
fn card_precision_at_100(scored: &[(Tx, f64)]) -> f64 {
    let mut days: BTreeMap<NaiveDate, HashMap<u64, (f64, bool)>> = BTreeMap::new();
    for (t, s) in scored {
        let card = days
            .entry(t.day)
            .or_default()
            .entry(t.card)
            .or_insert((*s, false));
        card.0 = card.0.max(*s);
        card.1 |= t.fraud;
    }
    let mut detected = HashSet::new();
    let mut precisions = Vec::new();
    for cards in days.values() {
        let mut ranked: Vec<(u64, f64, bool)> = cards
            .iter()
            .filter(|(c, _)| !detected.contains(*c))
            .map(|(&c, &(s, f))| (c, s, f))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top: Vec<u64> = ranked
            .iter()
            .take(100)
            .filter(|c| c.2)
            .map(|c| c.0)
            .collect();
        precisions.push(top.len() as f64 / 100.0);
        detected.extend(top);
    }
    precisions.iter().sum::<f64>() / precisions.len() as f64
}

fn metric(v: &Value, name: &str) -> f64 {
    v[name]
        .as_f64()
        .unwrap_or_else(|| panic!("{name} is not a number in {v}"))
}

#[test]
fn evaluate_reproduces_the_handbook_baseline() {
    let data = handbook_dir(&["transactions.csv.gz"]).join("transactions.csv.gz");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("result.json");
    let o = fraudwatch(
        &[
            "evaluate",
            "--transactions",
            data.to_str().unwrap(),
            "--protocol",
            "handbook-baseline",
            "--params",
            "handbook-baseline",
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    ok(&o);
    let r = read_json(&out);
    assert_eq!(r["protocol"], "handbook-baseline");
    assert_eq!(r["model"], "xgboost");
    assert_eq!(r["feature_set"], "handbook");
    assert_eq!(
        r["inputs"].as_array().unwrap().len(),
        15,
        "the amount and 14"
    );
    assert_eq!(r["inputs"][0], "amount");
    let folds = r["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 1);
    let f = &folds[0];
    assert_eq!(f["train"]["start"], "2018-07-25");
    assert_eq!(f["train"]["end"], "2018-07-31");
    assert_eq!(f["train"]["rows"], BASELINE_TRAIN_ROWS);
    assert_eq!(f["train"]["frauds"], BASELINE_TRAIN_FRAUDS);
    assert_eq!(f["test"]["start"], "2018-08-08");
    assert_eq!(f["test"]["end"], "2018-08-14");
    assert_eq!(f["test"]["rows"], BASELINE_TEST_ROWS);
    assert_eq!(f["test"]["frauds"], BASELINE_TEST_FRAUDS);
    assert_eq!(f["removed"], BASELINE_REMOVED);
    // The published XGBoost row (chapter 3.4).
    for (name, published) in [
        ("auc_roc", 0.862),
        ("average_precision", 0.639),
        ("card_precision_at_100", 0.273),
    ] {
        let v = metric(&r, name);
        assert!(
            (v - published).abs() <= 0.01,
            "{name} = {v}, published {published}"
        );
        assert_eq!(metric(f, name), v, "one fold: the mean is the fold's");
        assert_eq!(metric(&r["std"], name), 0.0);
    }

    // The scores: every kept test transaction of 2018-08-08..2018-08-14 once, in [0, 1].
    let scores = read_scores(&dir.path().join("result-scores.csv"));
    assert_eq!(scores.len(), BASELINE_TEST_ROWS);
    let (first, last) = (date("2018-08-08"), date("2018-08-14"));
    let lines = BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(&data).unwrap(),
    ))
    .lines()
    .map(Result::unwrap);
    let txs = transactions(lines, Some(last));
    assert_eq!(
        count(&txs, date("2018-07-25"), date("2018-07-31")),
        (BASELINE_TRAIN_ROWS, BASELINE_TRAIN_FRAUDS)
    );
    let test: HashMap<u64, Tx> = txs
        .iter()
        .filter(|t| (first..=last).contains(&t.day))
        .map(|t| (t.id, *t))
        .collect();
    assert_eq!(test.len(), BASELINE_TEST_ROWS + BASELINE_REMOVED);
    let mut seen = HashSet::new();
    let mut scored = Vec::with_capacity(scores.len());
    for &(id, score) in &scores {
        assert!(
            (0.0..=1.0).contains(&score),
            "transaction {id}: score {score}"
        );
        let t = test
            .get(&id)
            .unwrap_or_else(|| panic!("transaction {id} is not dated {first}..{last}"));
        assert!(seen.insert(id), "transaction {id} scored twice");
        scored.push((*t, score));
    }
    let labelled: Vec<(f64, bool)> = scored.iter().map(|(t, s)| (*s, t.fraud)).collect();
    assert_eq!(
        labelled.iter().filter(|x| x.1).count(),
        BASELINE_TEST_FRAUDS
    );
    // No scored card had a fraud known by the day before the delay (the removal rule).
    let known_frauds: HashMap<u64, NaiveDate> = txs
        .iter()
        .filter(|t| t.fraud && t.day >= date("2018-07-25"))
        .fold(HashMap::new(), |mut m, t| {
            m.entry(t.card).or_insert(t.day);
            m
        });
    for (t, _) in &scored {
        if let Some(&d) = known_frauds.get(&t.card) {
            assert!(
                d >= minus(t.day, 7),
                "transaction {}: its card had a fraud on {d}",
                t.id
            );
        }
    }
    // The report's metrics are those of the scores file.
    let close = |name: &str, ours: f64, tolerance: f64| {
        let theirs = metric(&r, name);
        assert!(
            (ours - theirs).abs() <= tolerance,
            "{name}: report {theirs}, from the scores {ours}"
        );
    };
    close("auc_roc", auc_roc(&labelled), 1e-9);
    close("average_precision", average_precision(&labelled), 1e-9);
    // Equal scores at the 100th card may rank either way.
    close(
        "card_precision_at_100",
        card_precision_at_100(&scored),
        0.005,
    );
}

#[test]
fn evaluate_runs_on_a_generated_dataset_with_custom_dates() {
    let dir = tempfile::tempdir().unwrap();
    let day0 = generate(dir.path(), "tx.csv", 60);
    let txs = transactions(csv_lines(&dir.path().join("tx.csv")), None);
    let start = plus(day0, 20);
    let start_flag = start.to_string();
    let base = [
        "evaluate",
        "--transactions",
        "tx.csv",
        "--protocol",
        "handbook-prequential",
        "--train-start",
        &start_flag,
        "--train-days",
        "7",
        "--delay-days",
        "7",
        "--test-days",
        "5",
        "--folds",
        "2",
    ];
    for (extra, model, set) in [
        (
            &[
                "--model",
                "iforest",
                "--params",
                "handbook-iforest",
                "--out",
                "if.json",
            ][..],
            "iforest",
            "handbook",
        ),
        (&["--out", "xgb.json"][..], "xgboost", "risk"),
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let o = fraudwatch(&args, dir.path());
        ok(&o);
        let out = extra[extra.len() - 1];
        let r = read_json(&dir.path().join(out));
        assert_eq!(r["protocol"], "handbook-prequential", "{out}");
        assert_eq!(r["model"], model);
        assert_eq!(r["feature_set"], set);
        assert_eq!(
            (&r["train_days"], &r["delay_days"], &r["test_days"]),
            (&7.into(), &7.into(), &5.into())
        );
        let folds = r["folds"].as_array().unwrap();
        assert_eq!(folds.len(), 2, "{out}");
        let mut scored_rows = 0;
        for (i, f) in folds.iter().enumerate() {
            assert_eq!(f["fold"], i);
            // Fold i starts test_days × i earlier.
            let train_start = minus(start, 5 * i as u64);
            let train_end = plus(train_start, 6);
            let (test_start, test_end) = (plus(train_start, 14), plus(train_start, 18));
            assert_eq!(f["train"]["start"], train_start.to_string(), "{out} {i}");
            assert_eq!(f["train"]["end"], train_end.to_string());
            assert_eq!(f["test"]["start"], test_start.to_string());
            assert_eq!(f["test"]["end"], test_end.to_string());
            let (rows, frauds) = count(&txs, train_start, train_end);
            assert_eq!(f["train"]["rows"], rows, "{out} {i}");
            assert_eq!(f["train"]["frauds"], frauds);
            let test_rows = f["test"]["rows"].as_u64().unwrap() as usize;
            let removed = f["removed"].as_u64().unwrap() as usize;
            assert_eq!(
                test_rows + removed,
                count(&txs, test_start, test_end).0,
                "{out} {i}"
            );
            assert!(test_rows > 0 && removed > 0, "{out} {i}: {f}");
            scored_rows += test_rows;
            for name in ["auc_roc", "average_precision", "card_precision_at_100"] {
                let v = metric(f, name);
                assert!((0.0..=1.0).contains(&v), "{out} {i}: {name} = {v}");
            }
            assert!(metric(f, "auc_roc") > 0.6, "{out} {i}: better than chance");
            assert!(f["bundle_version"].as_str().unwrap().starts_with("sha256:"));
        }
        assert_ne!(folds[0]["bundle_version"], folds[1]["bundle_version"]);
        for name in ["auc_roc", "average_precision", "card_precision_at_100"] {
            let mean = (metric(&folds[0], name) + metric(&folds[1], name)) / 2.0;
            assert!((metric(&r, name) - mean).abs() < 1e-12, "{out}: {name}");
            assert!((0.0..=0.5).contains(&metric(&r["std"], name)));
        }
        let scores = read_scores(&dir.path().join(out.replace(".json", "-scores.csv")));
        assert_eq!(scores.len(), scored_rows, "{out}");
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(&s.1)), "{out}");
    }
}

#[test]
fn train_registers_a_bundle_that_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let day0 = generate(dir.path(), "tx.csv", 40);
    let txs = transactions(csv_lines(&dir.path().join("tx.csv")), None);
    let reg = dir.path().join("reg");
    let registry = format!("file://{}", reg.display());
    let start = plus(day0, 20);
    let start_flag = start.to_string();
    let train = |extra: &[&str]| -> Value {
        let mut args = vec![
            "--registry",
            &registry,
            "train",
            "--transactions",
            "tx.csv",
            "--train-start",
            &start_flag,
            "--train-days",
            "14",
        ];
        args.extend_from_slice(extra);
        let o = fraudwatch(&args, dir.path());
        ok(&o);
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
    };
    let aliases = || read_json(&reg.join("aliases.json"));
    let bundle_path = |version: &Value| {
        let hex = version.as_str().unwrap().strip_prefix("sha256:").unwrap();
        assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        reg.join("bundles").join(format!("{hex}.json"))
    };

    let s = train(&["--out", "bundle.json", "--promote"]);
    let v1 = s["version"].clone();
    assert!(v1.as_str().unwrap().starts_with("sha256:"), "{s}");
    assert_eq!(s["model"], "xgboost");
    assert_eq!(s["feature_set"], "risk");
    assert_eq!(s["champion"], true);
    let (rows, frauds) = count(&txs, start, plus(start, 13));
    assert_eq!(s["data"]["rows"], rows);
    assert_eq!(s["data"]["frauds"], frauds);
    assert_eq!(s["data"]["start"], start_flag);
    assert_eq!(s["data"]["end"], plus(start, 13).to_string());
    let a = aliases();
    assert_eq!(a["champion"], v1);
    assert_eq!(a["challenger"], v1);
    let bytes = std::fs::read(dir.path().join("bundle.json")).unwrap();
    assert!(
        bytes == std::fs::read(bundle_path(&v1)).unwrap(),
        "--out and the registry hold the same bytes"
    );

    // The loader the scorer uses checks the hash against the content.
    let loaded = fraudwatch_models::Bundle::from_json(&bytes).unwrap();
    assert_eq!(loaded.version, v1.as_str().unwrap());
    let b: Value = serde_json::from_slice(&bytes).unwrap();
    let risk: Vec<&str> = fraudwatch_core::engine::FeatureSet::Risk.names().collect();
    let features: Vec<&str> = b["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(features, risk);
    assert_eq!(s["inputs"], risk.len());
    assert_eq!(b["feature_set"], "risk");
    assert_eq!(b["model"], "xgboost");
    assert!(
        b["iforest"].is_object(),
        "the forest gives the anomaly score"
    );
    assert!(!b["xgboost"].as_str().unwrap().is_empty());
    assert_eq!(b["scaling"].as_array().unwrap().len(), risk.len());
    let reference = b["reference"].as_array().unwrap();
    assert_eq!(reference.len(), 2000, "reference_rows of default.toml");
    for row in reference {
        let row = row.as_array().unwrap();
        assert_eq!(row.len(), risk.len());
        assert!(row.iter().all(|v| v.as_f64().is_some_and(f64::is_finite)));
    }
    let (review, block) = (
        metric(&b["thresholds"], "review"),
        metric(&b["thresholds"], "block"),
    );
    assert!((0.0..=1.0).contains(&review) && review <= block && block <= 1.0);

    // The same again without --promote: the challenger moves, the champion stays. (`created_at`
    // is part of the content, so the second bundle has another version.)
    let s2 = train(&[]);
    let v2 = s2["version"].clone();
    assert_ne!(v2, v1);
    assert_eq!(s2["champion"], false);
    assert_eq!(s2["data"], s["data"]);
    let a = aliases();
    assert_eq!(a["champion"], v1);
    assert_eq!(a["challenger"], v2);
    assert_eq!(a.as_object().unwrap().len(), 2);
    let second =
        fraudwatch_models::Bundle::from_json(&std::fs::read(bundle_path(&v2)).unwrap()).unwrap();
    assert_eq!(second.features, loaded.features);
    let mut stored: Vec<String> = std::fs::read_dir(reg.join("bundles"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    stored.sort();
    let mut expected = vec![
        bundle_path(&v1)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned(),
        bundle_path(&v2)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned(),
    ];
    expected.sort();
    assert_eq!(stored, expected, "two bundles, no temporary files left");
}

#[test]
fn bad_flags_and_inputs_are_named_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let day0 = generate(dir.path(), "tx.csv", 10);
    let p = |name: &str| dir.path().join(name);
    let text_of = std::fs::read_to_string(p("tx.csv")).unwrap();
    let lines: Vec<&str> = text_of.lines().collect();
    std::fs::write(
        p("unknown.toml"),
        "feature_set = \"risk\"\nmodel = \"xgboost\"\nlearning_rate = 0.3\n[xgboost]\nrounds = 10\n",
    )
    .unwrap();
    std::fs::write(
        p("zero.toml"),
        "feature_set = \"risk\"\nmodel = \"xgboost\"\n[xgboost]\nrounds = 0\n",
    )
    .unwrap();
    // Cut inside line 1001's timestamp.
    std::fs::write(
        p("trunc.csv"),
        format!("{}\n{}", lines[..1000].join("\n"), &lines[1000][..12]),
    )
    .unwrap();
    std::fs::write(
        p("garbage.csv"),
        format!("{}\nhello,world\n", lines[..500].join("\n")),
    )
    .unwrap();
    std::fs::write(p("header.csv"), format!("{}\n", lines[0])).unwrap();
    // A gzip file cut in its first days (before the training window: reading stops after it).
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text_of.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(p("cut.csv.gz"), &gz[..gz.len() / 5]).unwrap();
    std::fs::create_dir(p("corrupt")).unwrap();
    std::fs::write(p("corrupt/aliases.json"), "[1, 2").unwrap();

    let d3 = plus(day0, 3).to_string();
    // Training days before the data, the test day in them.
    let before = minus(day0, 3).to_string();
    let reg = format!("file://{}", p("reg").display());
    let eval_flags = [
        ("--transactions", "tx.csv"),
        ("--protocol", "handbook-prequential"),
        ("--train-start", &d3),
        ("--train-days", "2"),
        ("--delay-days", "1"),
        ("--test-days", "1"),
        ("--folds", "1"),
        // Quick to train: what fails here is not the model.
        ("--model", "iforest"),
    ];
    let train_flags = [
        ("--registry", &reg[..]),
        ("--transactions", "tx.csv"),
        ("--train-start", &d3),
        ("--train-days", "2"),
        ("--model", "iforest"),
    ];
    // The subcommand with its flags, `changes` replacing or adding some ("" for a bare flag).
    let command = |sub: &str, flags: &[(&str, &str)], changes: &[(&str, &str)]| {
        let mut args = vec![sub.to_string()];
        let unchanged = flags
            .iter()
            .filter(|(f, _)| !changes.iter().any(|(c, _)| c == f));
        for (flag, value) in unchanged.chain(changes) {
            args.push(flag.to_string());
            if !value.is_empty() {
                args.push(value.to_string());
            }
        }
        args
    };
    let evaluate = |changes: &[(&str, &str)]| command("evaluate", &eval_flags, changes);
    let train = |changes: &[(&str, &str)]| command("train", &train_flags, changes);
    let mut cases: Vec<(Vec<String>, Vec<&str>)> = Vec::new();
    for run in [&evaluate as &dyn Fn(&[(&str, &str)]) -> Vec<String>, &train] {
        cases.extend([
            (
                run(&[("--params", "/nonexistent.toml")]),
                vec![
                    "/nonexistent.toml",
                    "no such file",
                    "default, handbook-baseline, handbook-prequential, handbook-iforest",
                ],
            ),
            (
                run(&[("--params", "unknown.toml")]),
                vec!["unknown.toml", "learning_rate"],
            ),
            (
                run(&[("--params", "zero.toml")]),
                vec!["zero.toml", "xgboost.rounds = 0"],
            ),
            (
                run(&[("--model", "svm")]),
                vec!["--model", "'svm'", "xgboost, iforest or combined"],
            ),
            (
                run(&[("--train-start", "2018-13-01")]),
                vec!["--train-start", "2018-13-01"],
            ),
            (run(&[("--train-days", "0")]), vec!["--train-days", "'0'"]),
            (
                run(&[("--transactions", "missing.csv")]),
                vec!["missing.csv", "No such file"],
            ),
            (
                run(&[("--transactions", "trunc.csv")]),
                vec!["trunc.csv", "line 1001", "tx_datetime"],
            ),
            (
                run(&[("--transactions", "garbage.csv")]),
                vec!["garbage.csv", "line 501", "transaction_id = \"hello\""],
            ),
            (
                run(&[("--transactions", "cut.csv.gz")]),
                vec!["cut.csv.gz", "line ", "cannot read"],
            ),
            (
                run(&[("--train-start", "2030-01-01")]),
                vec![
                    "0 rows from 2030-01-01 to 2030-01-02",
                    "nothing to train on",
                ],
            ),
            (
                run(&[("--train-start", &before)]),
                vec![&before, "nothing to train on"],
            ),
        ]);
    }
    cases.extend([
        (
            evaluate(&[("--protocol", "nope")]),
            vec![
                "--protocol",
                "'nope'",
                "handbook-baseline or handbook-prequential",
            ],
        ),
        (
            evaluate(&[("--folds", "0")]),
            vec!["--folds", "0 is not in 1..=520"],
        ),
        (
            evaluate(&[("--test-days", "0")]),
            vec!["--test-days", "'0'"],
        ),
        (
            evaluate(&[("--out", "no/such/dir/result.json")]),
            vec!["cannot write", "no/such/dir/result.json"],
        ),
        (
            // No --train-start: the last days of the file.
            command(
                "train",
                &[("--registry", &reg), ("--transactions", "header.csv")],
                &[],
            ),
            vec!["header.csv", "no transactions"],
        ),
        (
            train(&[("--registry", "ftp://x")]),
            vec!["registry URL \"ftp://x\"", "file://DIR"],
        ),
        (
            train(&[("--registry", "file://")]),
            vec!["registry URL \"file://\"", "file://DIR"],
        ),
        (
            train(&[("--registry", &format!("file://{}", p("corrupt").display()))]),
            vec!["aliases.json", "not a JSON object of aliases"],
        ),
        // A run that fails moves no alias (checked below).
        (
            train(&[("--promote", ""), ("--out", "no/such/dir/b.json")]),
            vec!["cannot write", "no/such/dir/b.json"],
        ),
    ]);
    for (args, named) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = fraudwatch(&args, dir.path());
        let out = text(&o);
        assert!(!o.status.success(), "{args:?} must fail: {out}");
        assert_ne!(o.status.code(), Some(101), "{args:?}: {out}");
        assert!(!out.contains("panicked"), "{args:?}: {out}");
        for n in named {
            assert!(out.contains(n), "{args:?}: {n:?} not in: {out}");
        }
    }
    assert!(
        !p("reg/aliases.json").exists(),
        "no failed train moved an alias"
    );

    // The same flags work: the failures above are the changes'.
    let args = evaluate(&[]);
    ok(&fraudwatch(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    ));
    let args = train(&[]);
    ok(&fraudwatch(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        dir.path(),
    ));
    assert!(p("reg/aliases.json").exists());
}
