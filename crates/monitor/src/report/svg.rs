//! The report's charts as inline SVG: no script, no external resource, and every coordinate
//! finite (non-finite or negative shares are skipped or clamped, never written as `NaN`).

use std::fmt::Write as _;

use super::html::{esc, fmt_num, fmt_pct};
use super::{ColumnReport, TimelinePoint};

/// The reference series' colour (bars, legend).
pub(super) const REFERENCE_COLOUR: &str = "#4c78a8";
/// The current window's colour.
pub(super) const CURRENT_COLOUR: &str = "#f58518";
pub(super) const DRIFT_COLOUR: &str = "#c62828";
const OK_COLOUR: &str = "#2e7d32";
const AXIS_COLOUR: &str = "#555";
const GRID_COLOUR: &str = "#e3e3e3";

/// At most this many bin labels under a histogram; the others are thinned out.
const MAX_BIN_LABELS: usize = 12;
/// At most this many time labels under the time line.
const MAX_TIME_LABELS: usize = 8;

/// `write!` into a `String`, which cannot fail.
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

/// A coordinate with one decimal; anything non-finite becomes 0 (callers clamp first).
fn c(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "0".to_owned()
    }
}

/// A share usable as a bar height or a point: finite and at least 0.
fn usable(v: f64) -> Option<f64> {
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at least `v` (1 when `v` is not positive).
fn nice_ceil(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&n| n >= v * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// How many intervals split the y axis `0..=top` (a `nice_ceil` value) into round steps.
fn tick_count(top: f64) -> usize {
    let mantissa = top / 10f64.powf(top.log10().floor());
    if (mantissa - 2.0).abs() < 1e-6 { 4 } else { 5 }
}

/// A short label for a window's end: `MM-DD HH:MM` of an RFC 3339 time, else the text shortened.
fn time_label(at: &str) -> String {
    match (at.get(4..5), at.get(10..11), at.get(5..16)) {
        (Some("-"), Some("T" | " "), Some(short)) => short.replacen(['T', ' '], " ", 1),
        _ => shorten(at, 16),
    }
}

/// A tick label for a share axis whose ticks are `step` apart: as many decimals as the step needs.
fn tick_label(v: f64, step: f64) -> String {
    let decimals = (-(step * 100.0).log10() - 1e-9).ceil().clamp(0.0, 4.0) as usize;
    format!("{:.*}%", decimals, v * 100.0)
}

/// Horizontal grid lines, y tick labels and the axes of a chart with the given plot area.
fn axes(out: &mut String, (l, t, r, b): (f64, f64, f64, f64), top: f64) {
    let ticks = tick_count(top);
    let mut grid = String::new();
    for k in 0..=ticks {
        let frac = k as f64 / ticks as f64;
        let y = b - frac * (b - t);
        if k > 0 {
            w!(grid, "M{} {}H{}", c(l), c(y), c(r));
        }
        w!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end" class="tick">{}</text>"#,
            c(l - 6.0),
            c(y + 4.0),
            tick_label(frac * top, top / ticks as f64)
        );
    }
    if !grid.is_empty() {
        w!(
            out,
            r#"<path d="{grid}" stroke="{GRID_COLOUR}" fill="none"/>"#
        );
    }
    w!(
        out,
        r#"<path class="axis" d="M{} {}V{}H{}" stroke="{AXIS_COLOUR}" fill="none"/>"#,
        c(l),
        c(t),
        c(b),
        c(r)
    );
}

/// A legend entry: a swatch and its text.
fn legend(out: &mut String, x: f64, y: f64, colour: &str, text: &str) {
    w!(
        out,
        r#"<rect class="legend" x="{}" y="{}" width="12" height="12" fill="{colour}"/><text x="{}" y="{}" class="legend-text">{}</text>"#,
        c(x),
        c(y - 10.0),
        c(x + 16.0),
        c(y),
        esc(text)
    );
}

/// A message centred in a chart's plot area.
fn message(out: &mut String, x: f64, y: f64, text: &str) {
    w!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" class="message">{}</text>"#,
        c(x),
        c(y),
        esc(text)
    );
}

/// Reference and current histograms of one column as grouped bars, shares on the y axis.
pub(super) fn dist_plot(col: &ColumnReport) -> String {
    const W: f64 = 520.0;
    const H: f64 = 280.0;
    let (l, t, r, b) = (56.0, 34.0, W - 12.0, H - 76.0);
    let h = &col.histogram;
    let n = h.bins.len().max(h.reference.len()).max(h.current.len());
    let value = |side: &[f64], i: usize| side.get(i).copied().and_then(usable);
    let max = (0..n)
        .flat_map(|i| [value(&h.reference, i), value(&h.current, i)])
        .flatten()
        .fold(0.0, f64::max);
    let top = nice_ceil(max);

    let mut out = String::with_capacity(2048 + n * 400);
    w!(
        out,
        r#"<svg class="dist-plot" data-column="{name}" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="Reference and current distribution of {name}">"#,
        name = esc(&col.name)
    );
    legend(&mut out, l + 4.0, 20.0, REFERENCE_COLOUR, "reference");
    legend(&mut out, l + 104.0, 20.0, CURRENT_COLOUR, "current");
    axes(&mut out, (l, t, r, b), top);
    w!(
        out,
        r#"<text class="axis-title" transform="translate(14 {}) rotate(-90)" text-anchor="middle">share of rows</text>"#,
        c((t + b) / 2.0)
    );

    if n == 0 {
        message(
            &mut out,
            (l + r) / 2.0,
            (t + b) / 2.0,
            "no bins: nothing to compare",
        );
    } else if max <= 0.0 {
        message(
            &mut out,
            (l + r) / 2.0,
            (t + b) / 2.0,
            "all shares are zero",
        );
    }
    let gw = (r - l) / n.max(1) as f64;
    let bar_w = (gw * 0.4).max(0.2);
    let label_step = n.div_ceil(MAX_BIN_LABELS).max(1);
    for i in 0..n {
        let gx = l + i as f64 * gw;
        let label = h.bins.get(i).map_or("", String::as_str);
        let (rv, cv) = (value(&h.reference, i), value(&h.current, i));
        w!(
            out,
            "<g><title>{}: reference {}, current {}</title>",
            esc(label),
            rv.map_or_else(|| "—".to_owned(), fmt_pct),
            cv.map_or_else(|| "—".to_owned(), fmt_pct)
        );
        for (v, x, colour, class) in [
            (rv, gx + gw * 0.1, REFERENCE_COLOUR, "bar bar-ref"),
            (cv, gx + gw * 0.5, CURRENT_COLOUR, "bar bar-cur"),
        ] {
            if let Some(v) = v.filter(|&v| v > 0.0) {
                let bh = (v / top).min(1.0) * (b - t);
                w!(
                    out,
                    r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}" fill="{colour}"/>"#,
                    c(x),
                    c(b - bh),
                    c(bar_w),
                    c(bh)
                );
            }
        }
        out.push_str("</g>");
        if i % label_step == 0 {
            let (x, y) = (gx + gw / 2.0, b + 12.0);
            w!(
                out,
                r#"<text class="bin" x="{}" y="{}" text-anchor="end" transform="rotate(-35 {} {})">{}</text>"#,
                c(x),
                c(y),
                c(x),
                c(y),
                esc(&shorten(label, 16))
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// The drift share of every evaluated window, with the dataset threshold as a dashed line.
/// Callers show a message instead when there is no point.
pub(super) fn timeline_plot(points: &[TimelinePoint], threshold: f64) -> String {
    const W: f64 = 960.0;
    const H: f64 = 270.0;
    let (l, t, r, b) = (56.0, 20.0, W - 20.0, H - 66.0);
    let n = points.len();
    let x_of = |i: usize| {
        if n <= 1 {
            (l + r) / 2.0
        } else {
            l + 12.0 + i as f64 * (r - l - 24.0) / (n - 1) as f64
        }
    };
    let y_of = |v: f64| b - v.clamp(0.0, 1.0) * (b - t);

    let mut out = String::with_capacity(2048 + n * 300);
    w!(
        out,
        r#"<svg class="timeline-plot" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="Share of drifted columns per window">"#
    );
    axes(&mut out, (l, t, r, b), 1.0);
    w!(
        out,
        r#"<text class="axis-title" transform="translate(14 {}) rotate(-90)" text-anchor="middle">drifted share</text>"#,
        c((t + b) / 2.0)
    );
    if threshold.is_finite() {
        let y = y_of(threshold);
        w!(
            out,
            r#"<path class="threshold" d="M{} {}H{}" stroke="{DRIFT_COLOUR}" stroke-width="1.5" stroke-dasharray="6 4" fill="none"/><text x="{}" y="{}" text-anchor="end" class="threshold-label">threshold {}</text>"#,
            c(l),
            c(y),
            c(r),
            c(r),
            c(y - 5.0),
            esc(&fmt_pct(threshold))
        );
    }

    // The line, broken where a window's share is not a number.
    let mut d = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match usable(p.share) {
            Some(v) => {
                w!(
                    d,
                    "{}{} {}",
                    if pen_down { "L" } else { "M" },
                    c(x_of(i)),
                    c(y_of(v))
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    if !d.is_empty() {
        w!(
            out,
            r#"<path class="share-line" d="{d}" stroke="{REFERENCE_COLOUR}" stroke-width="2" fill="none"/>"#
        );
    }
    for (i, p) in points.iter().enumerate() {
        let Some(v) = usable(p.share) else { continue };
        let colour = if threshold.is_finite() && v >= threshold {
            DRIFT_COLOUR
        } else {
            OK_COLOUR
        };
        let prediction = p
            .prediction_statistic
            .map(|s| format!(", prediction statistic {}", fmt_num(s)))
            .unwrap_or_default();
        w!(
            out,
            r#"<circle cx="{}" cy="{}" r="4" fill="{colour}"><title>{}: {} drifted ({} columns){}</title></circle>"#,
            c(x_of(i)),
            c(y_of(v)),
            esc(&p.at),
            fmt_pct(v),
            p.drifted_columns,
            esc(&prediction)
        );
    }
    let step = n.div_ceil(MAX_TIME_LABELS).max(1);
    for (i, p) in points.iter().enumerate() {
        // Every step-th window, and the last one unless it would crowd the previous label.
        if i % step == 0 || (i + 1 == n && i % step >= step.div_ceil(2)) {
            let (x, y) = (x_of(i), b + 14.0);
            w!(
                out,
                r#"<text class="time" x="{}" y="{}" text-anchor="end" transform="rotate(-25 {} {})">{}</text>"#,
                c(x),
                c(y),
                c(x),
                c(y),
                esc(&time_label(&p.at))
            );
        }
    }
    if points.iter().all(|p| usable(p.share).is_none()) {
        message(
            &mut out,
            (l + r) / 2.0,
            (t + b) / 2.0,
            "no window has a drift share",
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceil_rounds_up_to_a_round_number() {
        assert_eq!(nice_ceil(0.0), 1.0);
        assert_eq!(nice_ceil(f64::NAN), 1.0);
        assert!((nice_ceil(0.23) - 0.25).abs() < 1e-12);
        assert!((nice_ceil(0.5) - 0.5).abs() < 1e-12);
        assert!((nice_ceil(0.51) - 1.0).abs() < 1e-12);
        assert!((nice_ceil(0.013) - 0.02).abs() < 1e-12);
    }

    #[test]
    fn ticks_are_round() {
        let labels = |top: f64| {
            let n = tick_count(top);
            (0..=n)
                .map(|k| tick_label(top * k as f64 / n as f64, top / n as f64))
                .collect::<Vec<_>>()
        };
        assert_eq!(labels(0.25), ["0%", "5%", "10%", "15%", "20%", "25%"]);
        assert_eq!(labels(1.0), ["0%", "20%", "40%", "60%", "80%", "100%"]);
        assert_eq!(labels(0.2), ["0%", "5%", "10%", "15%", "20%"]);
        assert_eq!(labels(0.5), ["0%", "10%", "20%", "30%", "40%", "50%"]);
        assert_eq!(
            labels(0.01),
            ["0.0%", "0.2%", "0.4%", "0.6%", "0.8%", "1.0%"]
        );
    }

    #[test]
    fn time_labels_are_short() {
        assert_eq!(time_label("2026-11-01T05:00:00Z"), "11-01 05:00");
        assert_eq!(time_label("2026-11-01 05:00"), "11-01 05:00");
        assert_eq!(time_label("window 7"), "window 7");
        assert_eq!(time_label("é2026-11-01T05:00:00Z"), "é2026-11-01T05:…");
    }

    #[test]
    fn shorten_keeps_short_text_and_cuts_long_text() {
        assert_eq!(shorten("abc", 5), "abc");
        assert_eq!(shorten("abcdefgh", 5), "abcd…");
    }
}
