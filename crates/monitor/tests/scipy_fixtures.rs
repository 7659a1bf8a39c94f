//! The drift statistics against reference values from scipy and Evidently.
//!
//! `tests/fixtures/scipy.json` is made by `scripts/drift-fixtures.py` (its header says how to
//! regenerate it, the JSON records the library versions). Tolerances: p-values within 1e-6
//! absolute, statistics within 1e-9 relative; shares and edges must match to the last bits that
//! matter (1e-12). Every failing case is listed with both values; the largest differences seen
//! are printed (`cargo test -p fraudwatch-monitor --test scipy_fixtures -- --nocapture`).

use fraudwatch_monitor::stats;
use serde_json::Value;
use std::fmt::Write as _;

const FIXTURES: &str = include_str!("fixtures/scipy.json");
const P_ABS: f64 = 1e-6;
const STAT_REL: f64 = 1e-9;

fn fixtures() -> Value {
    serde_json::from_str(FIXTURES).expect("tests/fixtures/scipy.json is valid JSON")
}

fn cases<'a>(root: &'a Value, key: &str) -> &'a [Value] {
    root[key]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("fixture section {key} missing"))
}

/// A number, or one of the strings the script writes for non-finite values.
fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        _ => f64::NAN,
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().map(num).collect())
        .unwrap_or_default()
}

fn name(case: &Value) -> String {
    case["name"].as_str().unwrap_or("?").to_string()
}

/// A stored sample: values, or a SplitMix64 spec replayed exactly as the script does; sorted.
fn sample(v: &Value) -> Vec<f64> {
    if let Some(spec) = v.as_object() {
        let get = |k: &str| spec.get(k).and_then(Value::as_i64).unwrap_or(0);
        let (seed, n, terms) = (get("seed") as u64, get("n") as usize, get("terms") as usize);
        let (modulus, offset, scale) = (get("modulus") as u64, get("offset"), get("scale") as f64);
        let mut k = 0u64;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let mut sum = 0i64;
            for _ in 0..terms {
                k += 1;
                let mut z = seed.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                sum += (z % modulus) as i64;
            }
            out.push((sum + offset) as f64 / scale);
        }
        return stats::clean_sorted(&out);
    }
    stats::clean_sorted(&nums(v))
}

/// Collects mismatches and the largest differences seen, per quantity.
#[derive(Default)]
struct Check {
    failures: Vec<String>,
    max: Vec<(String, f64)>,
}

impl Check {
    fn note(&mut self, what: &str, diff: f64) {
        match self.max.iter_mut().find(|(w, _)| w == what) {
            Some((_, m)) => *m = m.max(diff),
            None => self.max.push((what.to_string(), diff)),
        }
    }

    /// Same non-finite value, or within `abs` absolute and/or `rel` relative.
    fn close(&mut self, case: &str, what: &str, got: f64, want: f64, abs: f64, rel: f64) {
        let same_special = (got.is_nan() && want.is_nan()) || (got.is_infinite() && got == want);
        if same_special {
            return;
        }
        let d = (got - want).abs();
        let r = if want != 0.0 { d / want.abs() } else { d };
        if abs > 0.0 {
            self.note(&format!("{what} |Δ|"), d);
        }
        if rel > 0.0 {
            self.note(&format!("{what} rel Δ"), r);
        }
        let ok = d.is_finite() && (abs > 0.0 && d <= abs || rel > 0.0 && (r <= rel || d <= 1e-15));
        if !ok {
            self.failures.push(format!(
                "{case}: {what}: rust {got:e} vs reference {want:e}"
            ));
        }
    }

    fn p(&mut self, case: &str, what: &str, got: f64, want: f64) {
        self.close(case, what, got, want, P_ABS, 0.0);
        // Not required, but worth seeing: how far into the tail the p-values agree.
        if want > 1e-300 && got.is_finite() {
            self.note(
                &format!("{what} rel Δ (info, p > 1e-300)"),
                ((got - want) / want).abs(),
            );
        }
    }

    fn stat(&mut self, case: &str, what: &str, got: f64, want: f64) {
        self.close(case, what, got, want, 0.0, STAT_REL);
    }

    fn vec(&mut self, case: &str, what: &str, got: &[f64], want: &[f64]) {
        if got.len() != want.len() {
            self.failures.push(format!(
                "{case}: {what}: rust has {} values, reference {}",
                got.len(),
                want.len()
            ));
            return;
        }
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            self.close(case, &format!("{what}[{k}]"), *g, *w, 0.0, 1e-12);
        }
    }

    fn finish(self, section: &str, count: usize) {
        let mut summary = format!("{section}: {count} cases");
        let mut grouped: Vec<(String, f64)> = Vec::new();
        for (what, m) in &self.max {
            // Fold per-index entries ("shares[3] rel Δ") into one line per quantity.
            let key = match what.find('[') {
                Some(i) => format!(
                    "{}{}",
                    &what[..i],
                    &what[what.find(']').map_or(i, |j| j + 1)..]
                ),
                None => what.clone(),
            };
            match grouped.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => *v = v.max(*m),
                None => grouped.push((key, *m)),
            }
        }
        for (what, m) in grouped {
            let _ = write!(summary, "; max {what} = {m:.3e}");
        }
        println!("{summary}");
        assert!(
            self.failures.is_empty(),
            "{section}: {} mismatches:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

#[test]
fn fixture_versions_are_recorded() {
    let root = fixtures();
    for lib in ["numpy", "scipy", "evidently"] {
        assert!(root["versions"][lib].is_string(), "versions.{lib} missing");
    }
    println!("fixtures made with {}", root["versions"]);
}

#[test]
fn ks_2samp_matches_scipy() {
    let root = fixtures();
    let list = cases(&root, "ks");
    let mut check = Check::default();
    let (mut exact, mut asymptotic) = (0, 0);
    for case in list {
        let n = name(case);
        let (a, b) = (sample(&case["a"]), sample(&case["b"]));
        let start = std::time::Instant::now();
        let ks = stats::ks_2samp(&a, &b);
        let secs = start.elapsed().as_secs_f64();
        check.stat(&n, "statistic", ks.statistic, num(&case["statistic"]));
        check.p(&n, "p_value", ks.p_value, num(&case["p_value"]));
        let want_exact = case["exact"].as_bool().unwrap_or(false);
        if ks.exact != want_exact {
            check.failures.push(format!(
                "{n}: exact: rust {} vs scipy {want_exact}",
                ks.exact
            ));
        }
        if want_exact {
            exact += 1;
        } else {
            asymptotic += 1;
        }
        // Generous for an unoptimised test build on a shared machine; release is ~100× faster.
        if secs > 20.0 {
            check.failures.push(format!("{n}: took {secs:.1} s"));
        }
    }
    println!("ks: {exact} exact-path cases, {asymptotic} asymptotic-path cases");
    check.finish("ks_2samp", list.len());
}

#[test]
fn kstwo_and_smirnov_match_scipy() {
    let root = fixtures();
    let mut check = Check::default();
    let list = cases(&root, "kstwo");
    for case in list {
        let (n, d) = (num(&case["n"]), num(&case["d"]));
        let label = format!("kstwo n={n} d={d}");
        check.p(&label, "sf", stats::kstwo_sf(d, n), num(&case["sf"]));
    }
    check.finish("kstwo.sf", list.len());
    let mut check = Check::default();
    let list = cases(&root, "smirnov");
    for case in list {
        let (n, d) = (num(&case["n"]), num(&case["d"]));
        let label = format!("smirnov n={n} d={d}");
        check.p(&label, "sf", stats::smirnov_sf(n, d), num(&case["sf"]));
    }
    check.finish("special.smirnov", list.len());
}

#[test]
fn wasserstein_matches_scipy_and_evidently() {
    let root = fixtures();
    let list = cases(&root, "wasserstein");
    let mut check = Check::default();
    for case in list {
        let n = name(case);
        let (r, c) = (sample(&case["reference"]), sample(&case["current"]));
        check.stat(
            &n,
            "distance",
            stats::wasserstein(&r, &c),
            num(&case["distance"]),
        );
        check.stat(
            &n,
            "normed",
            stats::wasserstein_normed(&r, &c),
            num(&case["normed"]),
        );
    }
    check.finish("wasserstein", list.len());
}

#[test]
fn binning_psi_and_js_match_evidently() {
    let root = fixtures();
    let list = cases(&root, "binning");
    let mut check = Check::default();
    for case in list {
        let n = name(case);
        let (r, c) = (sample(&case["reference"]), sample(&case["current"]));
        let (edges, rs, cs) = match case["mode"].as_str() {
            Some("values") => {
                let v = stats::value_shares(&r, &c);
                (v.values, v.reference, v.current)
            }
            mode => {
                let bins = match mode {
                    Some("sturges") => stats::sturges_bins(&r, &c),
                    _ => case["bins"].as_u64().unwrap_or(0) as usize,
                };
                let b = stats::bin_numeric(&r, &c, bins);
                (b.edges, b.reference, b.current)
            }
        };
        check.vec(&n, "edges", &edges, &nums(&case["edges"]));
        check.vec(
            &n,
            "reference_shares",
            &rs,
            &nums(&case["reference_shares"]),
        );
        check.vec(&n, "current_shares", &cs, &nums(&case["current_shares"]));
        check.stat(&n, "psi", stats::psi(&rs, &cs), num(&case["psi"]));
        check.stat(&n, "js", stats::jensen_shannon(&rs, &cs), num(&case["js"]));
    }
    check.finish("binning + PSI + JS", list.len());
}

#[test]
fn jensen_shannon_matches_scipy() {
    let root = fixtures();
    let list = cases(&root, "jensen_shannon");
    let mut check = Check::default();
    for (k, case) in list.iter().enumerate() {
        let got = stats::jensen_shannon(&nums(&case["p"]), &nums(&case["q"]));
        check.stat(&format!("js #{k}"), "distance", got, num(&case["distance"]));
    }
    check.finish("jensenshannon", list.len());
}

#[test]
fn chi_square_matches_evidently() {
    let root = fixtures();
    let list = cases(&root, "chi_square");
    let mut check = Check::default();
    for case in list {
        let n = name(case);
        let x = stats::chi_square(
            &nums(&case["reference_counts"]),
            &nums(&case["current_counts"]),
        );
        check.stat(&n, "statistic", x.statistic, num(&case["statistic"]));
        check.p(&n, "p_value", x.p_value, num(&case["p_value"]));
        check.p(
            &n,
            "p_value (scipy)",
            x.p_value,
            num(&case["p_value_scipy"]),
        );
        let dof = case["dof"].as_u64().unwrap_or(u64::MAX) as usize;
        if x.dof != dof {
            check
                .failures
                .push(format!("{n}: dof: rust {} vs {dof}", x.dof));
        }
    }
    check.finish("chi_square", list.len());
}

#[test]
fn proportion_z_test_matches_evidently() {
    let root = fixtures();
    let list = cases(&root, "z_test");
    let mut check = Check::default();
    for (k, case) in list.iter().enumerate() {
        let label = format!("z #{k}");
        let (z, p) = stats::proportion_z_test(
            num(&case["reference_true"]),
            num(&case["reference_n"]),
            num(&case["current_true"]),
            num(&case["current_n"]),
        );
        check.stat(&label, "statistic", z, num(&case["statistic"]));
        check.p(&label, "p_value", p, num(&case["p_value"]));
        check.p(
            &label,
            "p_value (scipy norm.sf)",
            p,
            num(&case["p_value_scipy"]),
        );
    }
    check.finish("proportion_z_test", list.len());
}

#[test]
fn chi2_sf_matches_scipy() {
    let root = fixtures();
    let list = cases(&root, "chi2_sf");
    let mut check = Check::default();
    for case in list {
        let (x, dof) = (num(&case["x"]), num(&case["dof"]));
        let label = format!("chi2.sf(x={x}, dof={dof})");
        let got = stats::chi2_sf(x, dof);
        let want = num(&case["sf"]);
        // Absolute for the verdicts, and relative: the tail itself must be right.
        check.close(&label, "sf", got, want, P_ABS, 0.0);
        check.close(&label, "sf", got, want, 0.0, 1e-10);
    }
    check.finish("chi2.sf", list.len());
}
