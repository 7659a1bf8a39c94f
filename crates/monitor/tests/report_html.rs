//! The HTML drift report, checked as text (no browser): escaping, no external resource, finite
//! SVG coordinates, and the edge cases (no column, no time line, 200 columns, long names).

use fraudwatch_monitor::report::{
    ColumnReport, DatasetVerdict, Histogram, Performance, Report, TimelinePoint, render_html,
};

const EVIL: &str = "<script>alert(1)</script>";

fn column(name: &str, drifted: bool) -> ColumnReport {
    ColumnReport {
        name: name.to_owned(),
        kind: "numeric".to_owned(),
        method: "ks".to_owned(),
        statistic: 0.2134,
        p_value: Some(1.2e-9),
        threshold: 0.05,
        drifted,
        note: None,
        histogram: Histogram {
            bins: vec!["[0, 10)".into(), "[10, 50)".into(), "[50, 200)".into()],
            reference: vec![0.5, 0.3, 0.2],
            current: vec![0.2, 0.3, 0.5],
        },
    }
}

fn report(columns: Vec<ColumnReport>, timeline: Vec<TimelinePoint>) -> Report {
    let drifted_columns: Vec<String> = columns
        .iter()
        .filter(|c| c.drifted)
        .map(|c| c.name.clone())
        .collect();
    let share = if columns.is_empty() {
        0.0
    } else {
        drifted_columns.len() as f64 / columns.len() as f64
    };
    Report {
        generated_at: "2026-11-02T00:05:00Z".into(),
        title: "features 2026-11-01T00:00Z – 2026-11-02T00:00Z".into(),
        reference_rows: 50_000,
        current_rows: 4_321,
        window_start: Some("2026-11-01T00:00:00Z".into()),
        window_end: Some("2026-11-02T00:00:00Z".into()),
        dataset: DatasetVerdict {
            share,
            threshold: 0.5,
            drifted: share >= 0.5,
            drifted_columns,
        },
        columns,
        prediction: None,
        performance: None,
        timeline,
    }
}

fn timeline(n: usize) -> Vec<TimelinePoint> {
    (0..n)
        .map(|i| TimelinePoint {
            at: format!("2026-11-01T{i:02}:00:00Z"),
            share: i as f64 / n.max(1) as f64,
            drifted_columns: i,
            prediction_statistic: Some(0.1),
        })
        .collect()
}

/// The `<svg …>…</svg>` fragments of a page.
fn svgs(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("unclosed <svg>") + start + 6;
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

/// Every value of `name="…"` attributes in `text`.
fn attr_values<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!(" {name}=\"");
    text.match_indices(&needle)
        .map(|(i, _)| {
            let v = &text[i + needle.len()..];
            &v[..v.find('"').expect("unterminated attribute")]
        })
        .collect()
}

/// Asserts every geometry attribute in every SVG holds only finite, sane numbers.
fn assert_finite_geometry(html: &str) {
    for svg in svgs(html) {
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "non-finite text in SVG: {svg}"
        );
        for attr in [
            "x",
            "y",
            "width",
            "height",
            "cx",
            "cy",
            "r",
            "d",
            "transform",
            "viewBox",
        ] {
            for value in attr_values(svg, attr) {
                let numbers = value
                    .split(|ch: char| !(ch.is_ascii_digit() || ch == '.' || ch == '-'))
                    .filter(|s| !s.is_empty() && *s != "-");
                for n in numbers {
                    let v: f64 = n
                        .parse()
                        .unwrap_or_else(|_| panic!("{attr}=\"{value}\": bad number {n}"));
                    assert!(
                        v.is_finite() && v.abs() < 10_000.0,
                        "{attr}=\"{value}\" in {svg}"
                    );
                }
                if matches!(attr, "width" | "height" | "r") {
                    assert!(!value.starts_with('-'), "negative {attr}=\"{value}\"");
                }
            }
        }
    }
}

fn assert_balanced(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    for tag in ["svg", "figure", "table", "tr", "section", "g", "text"] {
        let open =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        let close = html.matches(&format!("</{tag}>")).count();
        assert_eq!(
            open, close,
            "<{tag}> opened {open} times, closed {close} times"
        );
    }
}

#[test]
fn user_text_is_escaped_everywhere() {
    let mut evil = column(EVIL, true);
    evil.note = Some(EVIL.into());
    evil.kind = EVIL.into();
    evil.method = EVIL.into();
    evil.histogram.bins = vec![
        EVIL.into(),
        "\" onmouseover=\"alert(2)".into(),
        "a&b".into(),
    ];
    let quote = column("\" onload=\"alert(3)", false);
    let mut r = report(vec![evil, quote], timeline(3));
    r.title = EVIL.into();
    r.generated_at = EVIL.into();
    r.window_start = Some(EVIL.into());
    r.timeline[1].at = EVIL.into();
    r.prediction = Some(column(EVIL, true));
    let html = render_html(&r);

    // The page has no inline script at all, so no user text can end up inside one.
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("\" onload=\"") && !html.contains("\" onmouseover=\""));
    assert!(html.contains("&quot; onload=&quot;alert(3)"));
    assert!(html.contains("a&amp;b"));
    assert!(html.contains(r#"data-column="&lt;script&gt;alert(1)&lt;/script&gt;""#));
    assert_balanced(&html);
}

#[test]
fn nothing_is_fetched_from_anywhere() {
    let mut r = report(
        vec![
            column("amount", true),
            column("https://evil.example/x.js", false),
        ],
        timeline(5),
    );
    r.columns[1].note = Some("see //cdn.example/lib.js".into());
    let html = render_html(&r);
    for attr in ["src", "href", "xlink:href", "action", "poster", "data"] {
        for value in attr_values(&html, attr) {
            assert!(
                value.starts_with('#'),
                "{attr}=\"{value}\": only in-page fragments are allowed"
            );
        }
    }
    for needle in [
        "url(", "@import", "<link", "<img", "<iframe", "<object", "<embed", "<base",
    ] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
    // URLs may appear as escaped text (a column literally named so), never in an attribute; an
    // SVG `xmlns="http://www.w3.org/2000/svg"` would be fine too (a namespace, never fetched),
    // but inline SVG in HTML does not need one and the page has none.
    // Inside a tag, a URL may only sit in an attribute that is never fetched.
    for (i, _) in html.match_indices("//") {
        let before = &html[..i];
        let tag_start = before.rfind('<').unwrap_or(0);
        if before.rfind('>').is_some_and(|gt| gt > tag_start) {
            continue; // text, escaped
        }
        let tag = &before[tag_start..];
        let attr = tag[..tag.rfind("=\"").expect("// outside an attribute value")]
            .rsplit(' ')
            .next()
            .unwrap_or_default();
        assert!(
            ["data-column", "aria-label", "xmlns"].contains(&attr),
            "URL in the {attr} attribute: {tag}"
        );
    }
    assert!(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"));
}

#[test]
fn non_finite_numbers_never_reach_the_svg() {
    let mut a = column("amount", true);
    a.statistic = f64::NAN;
    a.p_value = Some(f64::INFINITY);
    a.threshold = f64::NEG_INFINITY;
    a.histogram.reference = vec![f64::NAN, f64::INFINITY, -0.5];
    a.histogram.current = vec![0.4, f64::NEG_INFINITY, f64::NAN];
    let mut b = column("hour", false);
    b.histogram.reference = vec![f64::NAN; 3];
    b.histogram.current = vec![f64::INFINITY; 3];
    let mut tl = timeline(6);
    tl[0].share = f64::NAN;
    tl[3].share = f64::INFINITY;
    tl[4].share = -1.0;
    tl[5].share = 7.0;
    tl[2].prediction_statistic = Some(f64::NAN);
    let mut r = report(vec![a, b], tl);
    r.dataset.share = f64::NAN;
    r.dataset.threshold = f64::INFINITY;
    r.performance = Some(Performance {
        labelled: 10,
        frauds: 1,
        average_precision: Some(f64::NAN),
        alert_precision: None,
        reference_average_precision: Some(0.8),
        drifted: true,
    });
    let html = render_html(&r);
    assert!(
        !html.contains("NaN") && !html.contains("inf"),
        "non-finite number printed"
    );
    assert!(html.contains('—'));
    assert_finite_geometry(&html);
    assert_balanced(&html);
    // Only the one finite positive current share draws a bar.
    assert_eq!(html.matches("bar-cur").count(), 1);
    assert_eq!(html.matches("bar-ref").count(), 0);
}

#[test]
fn no_column_and_no_timeline_still_render() {
    let html = render_html(&report(Vec::new(), Vec::new()));
    assert!(html.contains("No columns were compared"));
    assert!(html.contains("no time line"));
    assert!(!html.contains("dist-plot") && !html.contains("timeline-plot"));
    assert!(html.contains("NO DATASET DRIFT"));
    assert_balanced(&html);

    let one = render_html(&report(vec![column("amount", false)], timeline(1)));
    assert_eq!(one.matches("class=\"timeline-plot\"").count(), 1);
    assert_eq!(one.matches("<circle").count(), 1);
    assert!(one.contains("class=\"threshold\"") && one.contains("stroke-dasharray"));
    assert_finite_geometry(&one);
}

#[test]
fn empty_and_all_zero_histograms_show_a_message() {
    let mut empty = column("empty", false);
    empty.note = Some("the current window has no values".into());
    empty.histogram = Histogram {
        bins: vec![],
        reference: vec![],
        current: vec![],
    };
    let mut zero = column("zero", false);
    zero.histogram.reference = vec![0.0; 3];
    zero.histogram.current = vec![0.0; 3];
    let mut ragged = column("ragged", false);
    ragged.histogram.current = vec![1.0];
    let html = render_html(&report(vec![empty, zero, ragged], timeline(2)));
    assert!(html.contains("no bins: nothing to compare"));
    assert!(html.contains("all shares are zero"));
    assert!(html.contains("no verdict") && html.contains("the current window has no values"));
    assert_eq!(html.matches("class=\"dist-plot\"").count(), 3);
    assert_finite_geometry(&html);
    assert_balanced(&html);
}

#[test]
fn two_hundred_columns_long_names_and_many_bins_render() {
    let long = "very_long_column_name_".repeat(25);
    let mut columns: Vec<ColumnReport> = (0..200)
        .map(|i| column(&format!("f{i:03}"), i % 7 == 0))
        .collect();
    columns[5].name = long.clone();
    columns[6].histogram = Histogram {
        bins: (0..300)
            .map(|i| format!("category-with-a-long-label-{i}"))
            .collect(),
        reference: vec![1.0 / 300.0; 300],
        current: vec![1.0 / 300.0; 300],
    };
    let html = render_html(&report(columns, timeline(500)));
    assert_eq!(html.matches("class=\"dist-plot\"").count(), 200);
    let names: Vec<&str> = attr_values(&html, "data-column");
    assert_eq!(names.len(), 200);
    assert_eq!(names[0], "f000");
    assert_eq!(names[5], long);
    assert!(
        html.contains(&format!(">{long}</a>")),
        "the table shows the long name in full"
    );
    let many_bins = svgs(&html)
        .into_iter()
        .find(|s| s.contains("category-with-a-long-label-299"))
        .expect("plot");
    assert_eq!(many_bins.matches("class=\"bar bar-ref\"").count(), 300);
    assert!(
        many_bins.matches("class=\"bin\"").count() <= 12,
        "bin labels are thinned"
    );
    assert!(
        many_bins.contains(">category-with-a…<"),
        "long bin labels are shortened"
    );
    assert_eq!(html.matches("<circle").count(), 500);
    assert!(html.matches("class=\"time\"").count() <= 9);
    assert_finite_geometry(&html);
    assert_balanced(&html);
}

#[test]
fn numbers_and_verdicts_are_shown() {
    let mut r = report(
        vec![column("amount", true), column("hour", false)],
        timeline(4),
    );
    r.columns[1].p_value = None;
    r.prediction = Some(column("risk_score", true));
    r.performance = Some(Performance {
        labelled: 812,
        frauds: 17,
        average_precision: Some(0.41),
        alert_precision: Some(0.6),
        reference_average_precision: Some(0.72),
        drifted: true,
    });
    let html = render_html(&r);
    assert!(html.contains("0.2134") && html.contains("1.20e-9") && html.contains("0.0500"));
    assert!(
        html.contains("50.0%"),
        "dataset share and threshold as percentages"
    );
    assert!(html.contains("DATASET DRIFT") && html.contains("drifted: amount"));
    assert_eq!(
        html.matches("<tr class=\"drifted\">").count(),
        2,
        "amount and the risk score"
    );
    assert!(
        html.contains("Prediction (risk score)") && html.contains("data-column=\"risk_score\"")
    );
    assert!(
        html.contains("Labelled transactions") && html.contains("812") && html.contains("degraded")
    );
    assert!(html.contains("4,321") || html.contains("4321"));
    assert_balanced(&html);
}
