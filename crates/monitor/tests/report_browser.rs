//! The HTML drift report opened in a real headless Chromium (Debian's, driven by playwright-core):
//! every plot drawn and visible, nothing fetched, no console error, and the screenshot's pixels
//! show both series' colours.
//!
//! `scripts/chromium.sh` installs Chromium and playwright-core when missing; when that fails the
//! test fails (tests here never skip).  Set `FW_KEEP_REPORT=<dir>` to keep the page, the
//! screenshot and the JSON summary in `<dir>`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fraudwatch_monitor::report::{
    ColumnReport, DatasetVerdict, Histogram, Performance, Report, TimelinePoint, render_html,
};
use serde_json::Value;

const EVIL_NOTE: &str = "<script>alert(\"pwned\")</script> header came from the CSV";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

fn numeric_bins(edges: &[f64]) -> Vec<String> {
    edges
        .windows(2)
        .map(|w| format!("[{}, {})", w[0], w[1]))
        .collect()
}

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// name, kind, method, statistic, p-value, threshold, drifted.
type Spec<'a> = (&'a str, &'a str, &'a str, f64, Option<f64>, f64, bool);

fn col(
    (name, kind, method, statistic, p_value, threshold, drifted): Spec,
    bins: Vec<String>,
    reference: &[f64],
    current: &[f64],
) -> ColumnReport {
    ColumnReport {
        name: name.into(),
        kind: kind.into(),
        method: method.into(),
        statistic,
        p_value,
        threshold,
        drifted,
        note: None,
        histogram: Histogram {
            bins,
            reference: reference.to_vec(),
            current: current.to_vec(),
        },
    }
}

/// Six monitored columns (numeric and categorical, three drifted, one without data and a
/// hostile note), the risk score, performance, and a day of hourly windows.
fn realistic_report() -> Report {
    let mut device = col(
        (
            "device_age_days",
            "numeric",
            "psi",
            f64::NAN,
            None,
            0.2,
            false,
        ),
        vec![],
        &[],
        &[],
    );
    device.note = Some(format!("the current window has no values; {EVIL_NOTE}"));
    let columns = vec![
        col(
            ("amount", "numeric", "ks", 0.1831, Some(3.2e-14), 0.05, true),
            numeric_bins(&[
                0.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0,
            ]),
            &[0.08, 0.14, 0.21, 0.19, 0.16, 0.11, 0.06, 0.04, 0.01],
            &[0.05, 0.09, 0.15, 0.17, 0.18, 0.16, 0.10, 0.07, 0.03],
        ),
        col(
            (
                "hour_of_day",
                "numeric",
                "wasserstein",
                0.031,
                None,
                0.1,
                false,
            ),
            numeric_bins(&[0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 24.0]),
            &[0.06, 0.12, 0.22, 0.24, 0.21, 0.15],
            &[0.07, 0.11, 0.21, 0.25, 0.20, 0.16],
        ),
        col(
            (
                "merchant_category",
                "categorical",
                "chisquare",
                412.7,
                Some(1.1e-85),
                0.05,
                true,
            ),
            labels(&[
                "grocery",
                "fuel",
                "electronics",
                "travel",
                "gaming",
                "fashion",
                "other",
            ]),
            &[0.31, 0.18, 0.09, 0.07, 0.03, 0.12, 0.20],
            &[0.22, 0.15, 0.17, 0.08, 0.11, 0.10, 0.17],
        ),
        col(
            (
                "country",
                "categorical",
                "jensenshannon",
                0.018,
                None,
                0.1,
                false,
            ),
            labels(&["DE", "FR", "NL", "ES", "IT", "other"]),
            &[0.34, 0.22, 0.12, 0.11, 0.10, 0.11],
            &[0.33, 0.23, 0.12, 0.10, 0.11, 0.11],
        ),
        device,
        col(
            ("tx_count_1h", "numeric", "psi", 0.34, None, 0.2, true),
            numeric_bins(&[0.0, 1.0, 2.0, 3.0, 5.0, 10.0, 50.0]),
            &[0.52, 0.24, 0.11, 0.08, 0.04, 0.01],
            &[0.31, 0.21, 0.14, 0.15, 0.12, 0.07],
        ),
    ];
    let drifted_columns = columns
        .iter()
        .filter(|c| c.drifted)
        .map(|c| c.name.clone())
        .collect();
    let prediction = col(
        (
            "risk_score",
            "numeric",
            "ks",
            0.094,
            Some(2.4e-5),
            0.05,
            true,
        ),
        numeric_bins(&[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
        &[0.61, 0.14, 0.07, 0.05, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01],
        &[0.52, 0.16, 0.09, 0.06, 0.05, 0.04, 0.03, 0.02, 0.02, 0.01],
    );
    let timeline = (0..24)
        .map(|h| TimelinePoint {
            at: format!("2026-11-01T{h:02}:00:00Z"),
            share: if h < 14 { (h % 3) as f64 / 6.0 } else { 0.5 },
            drifted_columns: if h < 14 { h % 3 } else { 3 },
            prediction_statistic: Some(0.02 + h as f64 * 0.003),
        })
        .collect();
    Report {
        generated_at: "2026-11-02T00:05:13Z".into(),
        title: "features 2026-11-01T00:00Z – 2026-11-02T00:00Z".into(),
        reference_rows: 200_000,
        current_rows: 18_342,
        window_start: Some("2026-11-01T00:00:02Z".into()),
        window_end: Some("2026-11-01T23:59:58Z".into()),
        dataset: DatasetVerdict {
            share: 0.5,
            threshold: 0.5,
            drifted: true,
            drifted_columns,
        },
        columns,
        prediction: Some(prediction),
        performance: Some(Performance {
            labelled: 1_204,
            frauds: 23,
            average_precision: Some(0.412),
            alert_precision: Some(0.58),
            reference_average_precision: Some(0.733),
            drifted: true,
        }),
        timeline,
    }
}

/// Runs scripts/chromium.sh and returns its KEY=VALUE lines.
fn set_up_browser(root: &Path) -> Vec<(String, String)> {
    let out = Command::new("bash")
        .arg(root.join("scripts/chromium.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/chromium.sh");
    assert!(
        out.status.success(),
        "scripts/chromium.sh failed ({}): cannot set up Chromium",
        out.status
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing or not a number in {v}"))
}

#[test]
fn report_renders_in_headless_chromium() {
    let root = repo_root();
    let env = set_up_browser(&root);
    for key in ["FW_CHROMIUM", "FW_NODE_PATH"] {
        assert!(
            env.iter().any(|(k, _)| k == key),
            "scripts/chromium.sh printed no {key}"
        );
    }

    let report = realistic_report();
    let dir = tempfile::tempdir().expect("tempdir");
    let html_path = dir.path().join("drift-report.html");
    let png_path = dir.path().join("drift-report.png");
    std::fs::write(&html_path, render_html(&report)).expect("write html");

    let out = Command::new("node")
        .arg(root.join("scripts/browser/screenshot.mjs"))
        .arg(&html_path)
        .arg(&png_path)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stderr(Stdio::inherit())
        .output()
        .expect("run node (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "screenshot.mjs failed ({}): {stdout}",
        out.status
    );
    let summary: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}"));
    eprintln!("{stdout}");
    if let Some(keep) = std::env::var_os("FW_KEEP_REPORT") {
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).expect("FW_KEEP_REPORT dir");
        std::fs::copy(&html_path, keep.join("drift-report.html")).expect("keep html");
        std::fs::copy(&png_path, keep.join("drift-report.png")).expect("keep png");
        std::fs::write(keep.join("drift-report.json"), stdout.as_bytes()).expect("keep json");
    }

    // Nothing fetched, nothing complained about, nothing executed.
    assert_eq!(
        summary["blocked_requests"], 0,
        "network requests: {}",
        summary["blocked_urls"]
    );
    assert_eq!(
        summary["other_requests"], 0,
        "requests: {}",
        summary["other_request_urls"]
    );
    assert_eq!(
        summary["console_errors"],
        Value::Array(vec![]),
        "console errors"
    );
    assert_eq!(
        summary["dialogs"],
        Value::Array(vec![]),
        "a dialog opened: user text ran as script"
    );
    assert_eq!(summary["scripts"], 0, "the page has no script element");
    assert!(
        summary["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Drift report: features"))
    );

    // One visible plot per column, then the risk score, each with bars drawn.
    let mut expected: Vec<&str> = report.columns.iter().map(|c| c.name.as_str()).collect();
    expected.push("risk_score");
    let columns: Vec<&str> = summary["dist_plot_columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(columns, expected);
    assert_eq!(summary["dist_plot_count"], expected.len());
    for plot in summary["dist_plots"].as_array().expect("plots") {
        let name = plot["column"].as_str().unwrap_or_default();
        assert_eq!(plot["visible"], true, "{name} not visible");
        assert!(
            num(plot, "width") >= 200.0 && num(plot, "height") >= 100.0,
            "{name} too small: {plot}"
        );
        assert!(num(plot, "paths") >= 1.0, "{name}: no axes drawn");
        if name == "device_age_days" {
            assert_eq!(plot["bars_reference"], 0);
            assert!(plot["messages"].to_string().contains("no bins"), "{plot}");
        } else {
            let bins = report
                .columns
                .iter()
                .chain(report.prediction.as_ref())
                .find(|c| c.name == name);
            let bins = bins.map_or(0, |c| c.histogram.bins.len());
            assert_eq!(num(plot, "bars_reference") as usize, bins, "{name}: {plot}");
            assert_eq!(num(plot, "bars_current") as usize, bins, "{name}: {plot}");
        }
    }

    // The verdict: header coloured as drifted, naming the drifted columns; their rows highlighted.
    assert_eq!(summary["header_class"], "drifted");
    let header = summary["header_text"].as_str().expect("header text");
    assert!(header.contains("DATASET DRIFT"), "{header}");
    for name in ["amount", "merchant_category", "tx_count_1h"] {
        assert!(
            header.contains(name),
            "{name} missing from the header: {header}"
        );
    }
    let drifted_rows: Vec<&str> = summary["drifted_rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        drifted_rows,
        ["amount", "merchant_category", "tx_count_1h", "risk_score"]
    );
    assert_eq!(summary["table_rows"], 7);

    // The time line: 24 points, the line and the dashed threshold.
    assert_eq!(summary["timeline_present"], true);
    let timeline = &summary["timeline"];
    assert_eq!(timeline["visible"], true);
    assert!(
        num(timeline, "width") >= 300.0 && num(timeline, "height") >= 100.0,
        "{timeline}"
    );
    assert_eq!(timeline["points"], 24);
    assert!(
        num(timeline, "paths") >= 3.0,
        "axes, line and threshold: {timeline}"
    );

    // Pixels: the page is not blank and both series' colours are on screen.
    let shot = &summary["screenshot"];
    assert!(num(shot, "bytes") > 20_000.0, "{shot}");
    assert!(
        num(shot, "height") > 900.0,
        "a full-page screenshot: {shot}"
    );
    assert!(num(shot, "distinct_colours") > 50.0, "{shot}");
    assert!(num(shot, "dominant_colour_share") < 0.9, "{shot}");
    assert!(
        num(&shot["matching_pixels"], "reference") > 1_000.0,
        "{shot}"
    );
    assert!(num(&shot["matching_pixels"], "current") > 1_000.0, "{shot}");
    let plot = &summary["plot_pixels"];
    assert_eq!(plot["column"], "amount");
    assert!(num(&plot["matching_pixels"], "reference") > 200.0, "{plot}");
    assert!(num(&plot["matching_pixels"], "current") > 200.0, "{plot}");
    assert!(png_path.metadata().expect("png").len() > 20_000);
}
