//! One column's drift: a reference prepared once (sorted values or category counts, the method
//! and threshold chosen), tested against any number of current samples.
//!
//! Missing values (NaN, empty text) are left out on both sides. A side with no values left gives
//! no verdict: the report says why (`note`) and the column is not counted in the dataset's share.

use std::collections::HashMap;

use crate::method::{BINS, Kind, Method};
use crate::report::{ColumnReport, Histogram};
use crate::stats;

/// A column's values: numbers (NaN is missing) or text (`None` is missing).
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Numbers(Vec<f64>),
    Text(Vec<Option<String>>),
}

impl Data {
    pub fn len(&self) -> usize {
        match self {
            Data::Numbers(v) => v.len(),
            Data::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn kind(&self) -> Kind {
        match self {
            Data::Numbers(_) => Kind::Numeric,
            Data::Text(_) => Kind::Categorical,
        }
    }
}

/// A category: a number (numeric columns tested as categories) or a text value.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Number(f64),
    Text(String),
}

impl Key {
    fn label(&self) -> String {
        match self {
            Key::Number(v) => format_number(*v),
            Key::Text(s) => s.clone(),
        }
    }
}

/// How a column is tested, overriding the default choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Choice {
    pub method: Option<Method>,
    pub threshold: Option<f64>,
}

/// The reference side of one column, ready to test against.
#[derive(Debug, Clone)]
pub struct Reference {
    pub name: String,
    pub kind: Kind,
    pub method: Method,
    pub threshold: f64,
    /// Sorted finite values (numeric columns).
    sorted: Vec<f64>,
    /// Category counts, sorted by key (when the method reads categories).
    counts: Vec<(Key, f64)>,
    /// Non-missing values.
    rows: usize,
}

impl Reference {
    /// Prepares `data` as the reference of column `name`. Fails when the chosen method cannot
    /// read the column (e.g. `ks` on text).
    pub fn new(name: &str, data: &Data, choice: Choice) -> Result<Reference, String> {
        let mut sorted = Vec::new();
        let counts = match data {
            Data::Numbers(v) => {
                sorted = finite_sorted(v);
                count_numbers(&sorted)
            }
            Data::Text(v) => count_text(v),
        };
        let rows = counts.iter().map(|(_, c)| *c as usize).sum();
        let method = choice
            .method
            .unwrap_or_else(|| Method::default_for(data.kind(), rows, counts.len()));
        if method.needs_numbers() && data.kind() == Kind::Categorical {
            return Err(format!(
                "column {name:?}: method {method} needs numbers, and the column holds text"
            ));
        }
        let threshold = choice
            .threshold
            .unwrap_or_else(|| method.default_threshold());
        if !(threshold.is_finite() && threshold >= 0.0) {
            return Err(format!(
                "column {name:?}: threshold {threshold} must be a number ≥ 0"
            ));
        }
        Ok(Reference {
            name: name.to_string(),
            kind: data.kind(),
            method,
            threshold,
            sorted,
            counts,
            rows,
        })
    }

    /// Non-missing reference values.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Tests `current` against the reference. `scratch` is reused between calls.
    pub fn test(&self, current: &Data, scratch: &mut Vec<f64>) -> ColumnReport {
        let present = match current {
            Data::Numbers(v) => v.iter().any(|x| x.is_finite()),
            Data::Text(v) => v.iter().flatten().any(|s| !s.is_empty()),
        };
        if !present {
            // Before the kind check: a column of nothing reads as numbers from CSV.
            return self.no_verdict("no values in the current data".into());
        }
        if current.kind() != self.kind {
            return self.no_verdict(format!(
                "{} in the reference but {} in the current data",
                self.kind.as_str(),
                current.kind().as_str()
            ));
        }
        if let Data::Numbers(v) = current {
            scratch.clear();
            scratch.extend(v.iter().copied().filter(|x| x.is_finite()));
            scratch.sort_unstable_by(f64::total_cmp);
        }
        let text = match current {
            Data::Text(v) => Some(&v[..]),
            Data::Numbers(_) => None,
        };
        self.test_prepared(text, scratch)
    }

    /// Like [`Reference::test`], for a numeric current sample already sorted and free of
    /// missing values.
    pub fn test_sorted(&self, current_sorted: &[f64]) -> ColumnReport {
        self.test_prepared(None, current_sorted)
    }

    /// `text` holds a categorical current sample; numbers come `sorted`, without missing values.
    fn test_prepared(&self, text: Option<&[Option<String>]>, sorted: &[f64]) -> ColumnReport {
        if self.rows == 0 {
            return self.no_verdict("no values in the reference".into());
        }
        let counts = match text {
            Some(v) => count_text(v),
            None => count_numbers(sorted),
        };
        let current_rows: f64 = counts.iter().map(|(_, c)| c).sum();
        if current_rows == 0.0 {
            return self.no_verdict("no values in the current data".into());
        }
        let (statistic, p_value) = match self.method {
            Method::Ks => {
                let ks = stats::ks_2samp(&self.sorted, sorted);
                (ks.statistic, Some(ks.p_value))
            }
            Method::Wasserstein => (stats::wasserstein_normed(&self.sorted, sorted), None),
            Method::Psi | Method::Jensenshannon if self.reads_bins() => {
                let b = stats::bin_numeric(&self.sorted, sorted, BINS);
                (self.distance(&b.reference, &b.current), None)
            }
            _ => {
                let (r, c, _) = align(&self.counts, &counts);
                match self.method {
                    Method::Chisquare => {
                        let x = stats::chi_square(&r, &c);
                        (x.statistic, Some(x.p_value))
                    }
                    Method::Z => z_test(&r, &c),
                    // PSI fills empty categories itself; Jensen–Shannon needs no filling.
                    _ => (self.distance(&shares(&r), &shares(&c)), None),
                }
            }
        };
        // A NaN statistic or p-value (a degenerate sample) compares false: no evidence of drift.
        let drifted = self.method.drifted(statistic, p_value, self.threshold);
        ColumnReport {
            name: self.name.clone(),
            kind: self.kind.as_str().into(),
            method: self.method.as_str().into(),
            statistic,
            p_value,
            threshold: self.threshold,
            drifted,
            note: None,
            histogram: self.histogram(sorted, &counts),
        }
    }

    /// PSI and Jensen–Shannon bin numeric columns with more than 20 distinct reference values
    /// (as Evidently does); other columns are compared value by value.
    fn reads_bins(&self) -> bool {
        self.kind == Kind::Numeric && self.counts.len() > stats::EVIDENTLY_MIN_DISTINCT_FOR_BINS
    }

    fn distance(&self, reference: &[f64], current: &[f64]) -> f64 {
        match self.method {
            Method::Psi => stats::psi(reference, current),
            _ => stats::jensen_shannon(reference, current),
        }
    }

    fn no_verdict(&self, why: String) -> ColumnReport {
        ColumnReport {
            name: self.name.clone(),
            kind: self.kind.as_str().into(),
            method: self.method.as_str().into(),
            statistic: f64::NAN,
            p_value: None,
            threshold: self.threshold,
            drifted: false,
            note: Some(why),
            histogram: Histogram::default(),
        }
    }

    /// What the report draws: equal-width bins over both sides' range for numbers read as
    /// numbers, the categories otherwise (the most common [`SHOWN_CATEGORIES`]).
    fn histogram(&self, sorted: &[f64], counts: &[(Key, f64)]) -> Histogram {
        if self.method.needs_numbers() || self.reads_bins() {
            return numeric_histogram(&self.sorted, sorted);
        }
        let (r, c, keys) = align(&self.counts, counts);
        let (r, c) = (shares(&r), shares(&c));
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|&a, &b| (r[b] + c[b]).total_cmp(&(r[a] + c[a])));
        order.truncate(SHOWN_CATEGORIES);
        order.sort_unstable();
        Histogram {
            bins: order.iter().map(|&i| keys[i].label()).collect(),
            reference: order.iter().map(|&i| r[i]).collect(),
            current: order.iter().map(|&i| c[i]).collect(),
        }
    }
}

/// Categories drawn in a report's plot.
pub const SHOWN_CATEGORIES: usize = 20;
/// Bins drawn for a numeric column.
pub const SHOWN_BINS: usize = 20;

fn finite_sorted(v: &[f64]) -> Vec<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    s.sort_unstable_by(f64::total_cmp);
    s
}

/// Distinct values of a sorted sample with their counts (−0 and 0 are one value).
fn count_numbers(sorted: &[f64]) -> Vec<(Key, f64)> {
    let mut out: Vec<(Key, f64)> = Vec::new();
    for &x in sorted {
        match out.last_mut() {
            Some((Key::Number(v), n)) if *v == x => *n += 1.0,
            _ => out.push((Key::Number(x + 0.0), 1.0)),
        }
    }
    out
}

fn count_text(v: &[Option<String>]) -> Vec<(Key, f64)> {
    let mut map: HashMap<&str, f64> = HashMap::new();
    for s in v.iter().flatten().filter(|s| !s.is_empty()) {
        *map.entry(s.as_str()).or_default() += 1.0;
    }
    let mut out: Vec<(Key, f64)> = map
        .into_iter()
        .map(|(k, n)| (Key::Text(k.to_string()), n))
        .collect();
    out.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    out
}

/// Both sides' counts over the union of their categories (both inputs sorted by key).
fn align(a: &[(Key, f64)], b: &[(Key, f64)]) -> (Vec<f64>, Vec<f64>, Vec<Key>) {
    let (mut i, mut j) = (0, 0);
    let (mut ra, mut rb, mut keys) = (Vec::new(), Vec::new(), Vec::new());
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.partial_cmp(&y.0).unwrap_or(std::cmp::Ordering::Equal),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        let (key, x, y) = match order {
            std::cmp::Ordering::Less => (&a[i].0, a[i].1, 0.0),
            std::cmp::Ordering::Greater => (&b[j].0, 0.0, b[j].1),
            std::cmp::Ordering::Equal => (&a[i].0, a[i].1, b[j].1),
        };
        i += usize::from(order.is_le());
        j += usize::from(order.is_ge());
        keys.push(key.clone());
        ra.push(x);
        rb.push(y);
    }
    (ra, rb, keys)
}

fn shares(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    counts
        .iter()
        .map(|c| if total > 0.0 { c / total } else { 0.0 })
        .collect()
}

/// The proportion Z-test on the first category; more than two categories fall back to
/// chi-square's p-value (the Z-test is defined for two).
fn z_test(reference: &[f64], current: &[f64]) -> (f64, Option<f64>) {
    if reference.len() > 2 {
        let x = stats::chi_square(reference, current);
        return (x.statistic, Some(x.p_value));
    }
    let (rn, cn) = (reference.iter().sum(), current.iter().sum());
    let (z, p) = stats::proportion_z_test(reference[0], rn, current[0], cn);
    (z, Some(p))
}

fn numeric_histogram(reference: &[f64], current: &[f64]) -> Histogram {
    let ends = [
        reference.first(),
        reference.last(),
        current.first(),
        current.last(),
    ];
    let (lo, hi) = ends
        .into_iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    if lo > hi {
        return Histogram::default();
    }
    let bins = if hi > lo { SHOWN_BINS } else { 1 };
    let width = (hi - lo) / bins as f64;
    let edge = |k: usize| if k == bins { hi } else { lo + width * k as f64 };
    // Bins are [lo, hi) except the last, which includes its upper edge (as numpy's).
    let share = |s: &[f64], k: usize| {
        let below = |e: f64| s.partition_point(|&x| x < e);
        let end = if k + 1 == bins {
            s.len()
        } else {
            below(edge(k + 1))
        };
        let n = end.saturating_sub(if k == 0 { 0 } else { below(edge(k)) });
        if s.is_empty() {
            0.0
        } else {
            n as f64 / s.len() as f64
        }
    };
    Histogram {
        bins: (0..bins)
            .map(|k| format!("{}–{}", format_number(edge(k)), format_number(edge(k + 1))))
            .collect(),
        reference: (0..bins).map(|k| share(reference, k)).collect(),
        current: (0..bins).map(|k| share(current, k)).collect(),
    }
}

/// A number as a short label: integers without decimals, others with 4 significant digits.
pub fn format_number(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 1e-3 && v.abs() < 1e6 {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.3e}")
    }
}
