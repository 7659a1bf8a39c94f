//! The drift report as one self-contained HTML page: inline CSS and inline SVG, no script and no
//! external resource (its Content-Security-Policy forbids every fetch), every user string escaped.

use std::fmt::Write as _;

use super::svg::{self, DRIFT_COLOUR};
use super::{ColumnReport, Performance, Report};

/// `write!` into a `String`, which cannot fail.
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

const STYLE: &str = r#"
:root { --drift: @DRIFT@; --ok: #2e7d32; --muted: #666; --line: #ddd; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #222; background: #f6f7f9; }
header { padding: 18px 28px; color: #fff; background: var(--ok); }
header.drifted { background: var(--drift); }
header h1 { margin: 0 0 4px; font-size: 22px; overflow-wrap: anywhere; }
header .meta { margin: 0; opacity: .9; }
header .verdict { margin: 10px 0 0; font-size: 16px; }
header .badge { display: inline-block; padding: 2px 10px; margin-right: 8px; border-radius: 4px;
  background: #fff; color: var(--ok); font-weight: 700; letter-spacing: .04em; }
header.drifted .badge { color: var(--drift); }
main { padding: 8px 28px 40px; max-width: 1500px; }
section { margin-top: 22px; }
h2 { font-size: 17px; margin: 0 0 10px; }
.empty { color: var(--muted); font-style: italic; }
table { border-collapse: collapse; background: #fff; width: 100%; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #eceff3; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { max-width: 320px; overflow-wrap: anywhere; font-weight: 600; }
td.name a { color: inherit; }
td.note { max-width: 360px; overflow-wrap: anywhere; color: var(--muted); }
tr.drifted td { background: #fdecea; }
tr.group th { background: #f6f7f9; font-size: 12px; text-transform: uppercase; color: var(--muted); }
.v-drift { color: var(--drift); font-weight: 700; }
.v-ok { color: var(--ok); }
.v-none { color: var(--muted); }
dl.perf { display: grid; grid-template-columns: max-content auto; gap: 4px 16px; margin: 0;
  padding: 12px 16px; background: #fff; }
dl.perf dt { color: var(--muted); }
dl.perf dd { margin: 0; font-variant-numeric: tabular-nums; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 14px; }
figure { margin: 0; padding: 10px 12px; background: #fff; border: 1px solid var(--line);
  border-top: 4px solid var(--ok); }
figure.drifted { border-top-color: var(--drift); }
figure.no-verdict { border-top-color: #9e9e9e; }
figcaption { margin-bottom: 6px; overflow-wrap: anywhere; }
figcaption .name { font-weight: 600; }
figcaption .detail, figure .note { color: var(--muted); font-size: 12px; }
svg { display: block; max-width: 100%; height: auto; background: #fff; }
svg text { font-size: 11px; fill: #444; }
svg .message { font-size: 13px; fill: var(--muted); font-style: italic; }
svg .axis-title { fill: var(--muted); }
svg .threshold-label { fill: var(--drift); }
.timeline { padding: 10px 12px; background: #fff; border: 1px solid var(--line); }
"#;

/// Escapes text for HTML element content and (quoted) attribute values.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// A statistic, p-value or threshold: "—" when not finite, scientific when tiny or huge.
pub(super) fn fmt_num(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() {
        "—".to_owned()
    } else if a == 0.0 {
        "0".to_owned()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{x:.2e}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.4}")
    }
}

/// A share as a percentage: "—" when not finite.
pub(super) fn fmt_pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        "—".to_owned()
    }
}

/// A count with thousands separators.
fn fmt_int(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn fmt_opt(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), fmt_num)
}

/// A column's verdict: class and word.
fn verdict(col: &ColumnReport) -> (&'static str, &'static str) {
    if col.drifted {
        ("v-drift", "drift")
    } else if col.note.is_some() {
        ("v-none", "no verdict")
    } else {
        ("v-ok", "no drift")
    }
}

/// Renders the report as one self-contained HTML page.
pub fn render_html(report: &Report) -> String {
    let mut out = String::with_capacity(16_384 + report.columns.len() * 8_192);
    let style = STYLE.replace("@DRIFT@", DRIFT_COLOUR);
    w!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Drift report: {}</title>\n<style>{style}</style>\n</head>\n<body>\n",
        esc(&report.title)
    );
    header(&mut out, report);
    out.push_str("<main>\n");
    table(&mut out, report);
    if let Some(perf) = &report.performance {
        performance(&mut out, perf);
    }
    out.push_str("<section id=\"timeline\"><h2>Drift share over time</h2>\n");
    if report.timeline.is_empty() {
        out.push_str("<p class=\"empty\">No window has been evaluated yet: no time line.</p>\n");
    } else {
        w!(
            out,
            "<div class=\"timeline\">{}</div>\n",
            svg::timeline_plot(&report.timeline, report.dataset.threshold)
        );
    }
    out.push_str("</section>\n");
    plots(&mut out, report);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn header(out: &mut String, report: &Report) {
    let d = &report.dataset;
    let window = match (&report.window_start, &report.window_end) {
        (None, None) => "unknown".to_owned(),
        (start, end) => format!(
            "{} – {}",
            esc(start.as_deref().unwrap_or("?")),
            esc(end.as_deref().unwrap_or("?"))
        ),
    };
    w!(
        out,
        "<header class=\"{}\">\n<h1>{}</h1>\n<p class=\"meta\">Generated {} · reference {} rows · \
         current {} rows · window {window}</p>\n",
        if d.drifted { "drifted" } else { "ok" },
        esc(&report.title),
        esc(&report.generated_at),
        fmt_int(report.reference_rows),
        fmt_int(report.current_rows)
    );
    let drifted = if d.drifted_columns.is_empty() {
        "no column drifted".to_owned()
    } else {
        let names: Vec<String> = d.drifted_columns.iter().map(|n| esc(n)).collect();
        format!("drifted: {}", names.join(", "))
    };
    w!(
        out,
        "<p class=\"verdict\"><span class=\"badge\">{}</span>{} of {} columns drifted ({}, threshold {}) · {drifted}</p>\n</header>\n",
        if d.drifted {
            "DATASET DRIFT"
        } else {
            "NO DATASET DRIFT"
        },
        d.drifted_columns.len(),
        report.columns.len(),
        fmt_pct(d.share),
        fmt_pct(d.threshold)
    );
}

fn table_row(out: &mut String, col: &ColumnReport, anchor: &str) {
    let (class, word) = verdict(col);
    w!(
        out,
        "<tr{}><td class=\"name\"><a href=\"#{anchor}\">{}</a></td><td>{}</td><td>{}</td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"{class}\">{word}</td><td class=\"note\">{}</td></tr>\n",
        if col.drifted {
            " class=\"drifted\""
        } else {
            ""
        },
        esc(&col.name),
        esc(&col.kind),
        esc(&col.method),
        fmt_num(col.statistic),
        fmt_opt(col.p_value),
        fmt_num(col.threshold),
        col.note.as_deref().map(esc).unwrap_or_default()
    );
}

fn table(out: &mut String, report: &Report) {
    out.push_str("<section id=\"statistics\"><h2>Statistics</h2>\n");
    if report.columns.is_empty() && report.prediction.is_none() {
        out.push_str("<p class=\"empty\">No columns were compared.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<table>\n<thead><tr><th>Column</th><th>Kind</th><th>Method</th><th>Statistic</th>\
         <th>p-value</th><th>Threshold</th><th>Verdict</th><th>Note</th></tr></thead>\n<tbody>\n",
    );
    for (i, col) in report.columns.iter().enumerate() {
        table_row(out, col, &format!("col-{i}"));
    }
    if let Some(pred) = &report.prediction {
        out.push_str("<tr class=\"group\"><th colspan=\"8\">Prediction (risk score)</th></tr>\n");
        table_row(out, pred, "prediction");
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn performance(out: &mut String, perf: &Performance) {
    let (class, word) = if perf.drifted {
        ("v-drift", "degraded")
    } else {
        ("v-ok", "holding up")
    };
    w!(
        out,
        "<section id=\"performance\"><h2>Performance on labelled transactions</h2>\n<dl class=\"perf\">\
         <dt>Labelled transactions</dt><dd>{}</dd><dt>Frauds</dt><dd>{}</dd>\
         <dt>Average precision</dt><dd>{}</dd><dt>Training average precision</dt><dd>{}</dd>\
         <dt>Alert precision</dt><dd>{}</dd><dt>Verdict</dt><dd class=\"{class}\">{word}</dd></dl>\n</section>\n",
        fmt_int(perf.labelled),
        fmt_int(perf.frauds),
        fmt_opt(perf.average_precision),
        fmt_opt(perf.reference_average_precision),
        fmt_opt(perf.alert_precision)
    );
}

fn figure(out: &mut String, col: &ColumnReport, id: &str) {
    let (class, word) = verdict(col);
    let p = col
        .p_value
        .map(|p| format!(" · p {}", fmt_num(p)))
        .unwrap_or_default();
    w!(
        out,
        "<figure id=\"{id}\"{}><figcaption><span class=\"name\">{}</span> · <span class=\"{class}\">{word}</span> \
         <span class=\"detail\">{} {} {}{p} (threshold {})</span></figcaption>\n{}\n",
        match class {
            "v-drift" => " class=\"drifted\"",
            "v-none" => " class=\"no-verdict\"",
            _ => "",
        },
        esc(&col.name),
        esc(&col.kind),
        esc(&col.method),
        fmt_num(col.statistic),
        fmt_num(col.threshold),
        svg::dist_plot(col)
    );
    if let Some(note) = &col.note {
        w!(out, "<p class=\"note\">{}</p>\n", esc(note));
    }
    out.push_str("</figure>\n");
}

fn plots(out: &mut String, report: &Report) {
    out.push_str("<section id=\"distributions\"><h2>Distributions: reference vs current</h2>\n");
    if report.columns.is_empty() {
        out.push_str("<p class=\"empty\">No columns were compared.</p>\n");
    } else {
        out.push_str("<div class=\"plots\">\n");
        for (i, col) in report.columns.iter().enumerate() {
            figure(out, col, &format!("col-{i}"));
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
    if let Some(pred) = &report.prediction {
        out.push_str("<section><h2>Prediction: risk score, reference vs current</h2>\n<div class=\"plots\">\n");
        figure(out, pred, "prediction");
        out.push_str("</div>\n</section>\n");
    }
}
