#!/usr/bin/env python3
"""Reference values for the drift statistics of crates/monitor, computed by scipy and Evidently.

Writes crates/monitor/tests/fixtures/scipy.json, which crates/monitor/tests/scipy_fixtures.rs
checks the Rust implementation against (no Python needed to run the tests; the JSON is committed).

Regenerate (the versions the committed file was made with are recorded in its "versions"):

    python3 -m venv ~/.cache/fraudwatch/drift-venv
    ~/.cache/fraudwatch/drift-venv/bin/pip install \
        scipy==1.17.1 numpy==2.4.6 pandas==2.3.3 evidently==0.7.23
    ~/.cache/fraudwatch/drift-venv/bin/python scripts/drift-fixtures.py

(evidently 0.7.23 does not import with pandas 3, hence the pin.)

Inputs are deterministic. Small samples come from numpy's seeded Generator, rounded to 6
decimals *before* any reference value is computed, and are stored as JSON arrays. Samples above
10 000 values (KS's asymptotic path, the 200 000-row speed cases) are stored as a generator
spec instead, which the Rust test replays bit for bit: SplitMix64 (Steele, Lea & Flood 2014)
integers, value = (sum of `terms` draws mod `modulus` + `offset`) / `scale` — integer
arithmetic and one correctly rounded division, identical in both languages.

Non-finite reference values are written as the strings "NaN", "Infinity", "-Infinity".
"""

import json
import math
import os
import sys
import warnings

import numpy as np
import pandas as pd
import scipy
from scipy import stats
from scipy.spatial import distance
from scipy.special import smirnov

import evidently
from evidently.legacy.calculations.stattests.chisquare_stattest import _chi_stat_test
from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
from evidently.legacy.calculations.stattests.psi import _psi
from evidently.legacy.calculations.stattests.utils import get_binned_data
from evidently.legacy.calculations.stattests.wasserstein_distance_norm import _wasserstein_distance_norm
from evidently.legacy.calculations.stattests.z_stattest import _z_stat_test, proportions_diff_z_stat_ind
from evidently.legacy.core import ColumnType

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "monitor", "tests", "fixtures", "scipy.json")
rng = np.random.default_rng(20260511)

MASK = (1 << 64) - 1


def num(x):
    """A float for JSON; non-finite values as strings (strict JSON has no NaN/Infinity)."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def r6(x):
    return np.round(np.asarray(x, dtype=float), 6)


def gen(spec):
    """SplitMix64-based sample; see the module docstring (mirrored in scipy_fixtures.rs)."""
    n, terms, modulus = spec["n"], spec["terms"], spec["modulus"]
    k = np.arange(1, n * terms + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(spec["seed"]) + k * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    draws = (z % np.uint64(modulus)).astype(np.int64).reshape(n, terms).sum(axis=1)
    return (draws + spec["offset"]).astype(np.float64) / float(spec["scale"])


def sample(x):
    """A stored sample: a spec dict (replayed) or values (rounded to 6 decimals)."""
    if isinstance(x, dict):
        return x, np.sort(gen(x))
    v = np.sort(r6(x))
    return [float(t) for t in v], v


# --------------------------------------------------------------------------- KS
def ks_case(name, a, b):
    a_json, a_v = sample(a)
    b_json, b_v = sample(b)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = stats.ks_2samp(a_v, b_v)  # two-sided, method="auto"
    fell_back = any("Exact calculation unsuccessful" in str(w.message) for w in caught)
    exact = max(len(a_v), len(b_v)) <= 10000 and not fell_back
    return {"name": name, "a": a_json, "b": b_json, "statistic": num(res.statistic),
            "p_value": num(res.pvalue), "exact": exact}


def spec(seed, n, terms=4, modulus=1000, offset=0, scale=100):
    return {"seed": seed, "n": n, "terms": terms, "modulus": modulus, "offset": offset, "scale": scale}


ks = []
N = rng.normal
# Exact path: equal sizes.
for n in (1, 2, 5, 10, 20, 50, 200):
    ks.append(ks_case(f"exact_equal_n{n}", N(0, 1, n), N(0.3, 1, n)))
ks.append(ks_case("exact_equal_identical", [1.5, 2.5, 3.5, 4.5, 5.5, 6.5], [1.5, 2.5, 3.5, 4.5, 5.5, 6.5]))
ks.append(ks_case("exact_equal_disjoint_n50", N(0, 1, 50), N(0, 1, 50) + 100))
ks.append(ks_case("exact_equal_near1", N(0, 1, 300), N(0, 1, 300)))
ks.append(ks_case("exact_equal_ties", rng.integers(0, 6, 400), rng.integers(0, 7, 400)))
ks.append(ks_case("exact_equal_n3000", N(0, 1, 3000), N(0.05, 1, 3000)))
# Exact path: unequal sizes.
for n1, n2, shift in ((1, 5, 0.5), (2, 3, 1.0), (7, 13, 0.8), (30, 45, 0.2), (100, 80, 0.5),
                      (97, 101, 0.1), (250, 1000, 0.15), (1000, 4000, 0.08), (2500, 3000, 0.03)):
    ks.append(ks_case(f"exact_unequal_{n1}_{n2}", N(0, 1, n1), N(shift, 1, n2)))
ks.append(ks_case("exact_unequal_disjoint", N(0, 1, 40), N(0, 1, 64) + 50))
ks.append(ks_case("exact_unequal_ties", np.round(N(0, 2, 900)), np.round(N(0.3, 2, 700))))
ks.append(ks_case("exact_unequal_large_d", N(0, 1, 1500), N(1.5, 1, 1200)))
ks.append(ks_case("exact_unequal_near1", N(0, 1, 333), N(0, 1, 500)))
_x = N(0, 1, 800)
ks.append(ks_case("exact_equal_p_near_1", _x, _x + N(0, 0.01, 800)))
ks.append(ks_case("exact_unequal_p_near_1", _x, np.concatenate([_x, N(0, 1, 7)])))
ks.append(ks_case("exact_single_vs_many", [0.25], N(0, 1, 60)))
ks.append(ks_case("exact_boundary_10000", spec(1, 10000), spec(2, 7000, offset=20)))
# Asymptotic path: max(n) > 10 000.
ks.append(ks_case("asymp_10001_equal", spec(3, 10001), spec(4, 10001, offset=15)))
ks.append(ks_case("asymp_same_dist", spec(5, 20000), spec(6, 15000)))
ks.append(ks_case("asymp_small_shift", spec(7, 20000), spec(8, 15000, offset=10)))
ks.append(ks_case("asymp_big_shift", spec(9, 30000), spec(10, 12000, offset=150)))
ks.append(ks_case("asymp_ties", spec(11, 25000, terms=1, modulus=40), spec(12, 18000, terms=1, modulus=41)))
# spec() samples have mean ~20 and sd ~5.8; these small sides overlap them.
ks.append(ks_case("asymp_en_50", spec(13, 20000), N(22, 5.8, 50)))
ks.append(ks_case("asymp_en_3", spec(14, 20001), [15.0, 19.9, 25.0]))
ks.append(ks_case("asymp_en_476", spec(15, 10001), N(20.5, 5.8, 500)))
ks.append(ks_case("asymp_en_20_shifted", spec(24, 12000), N(26, 5.8, 20)))
ks.append(ks_case("asymp_disjoint", spec(16, 11000), spec(17, 11000, offset=100000)))
ks.append(ks_case("asymp_200k_same", spec(18, 200000), spec(19, 200000)))
ks.append(ks_case("asymp_200k_shift", spec(20, 200000), spec(21, 200000, offset=3)))
ks.append(ks_case("asymp_150k_120k", spec(22, 150000), spec(23, 120000, offset=1)))

# --------------------------------------------------------------------------- kstwo / smirnov
kstwo = []
for n in (1, 2, 3, 5, 10, 20, 50, 100, 140, 141, 200, 500, 1000, 5000, 10000, 50000, 100000, 100001,
          200000, 1000000, 2000000):
    ds = {z / math.sqrt(n) for z in (0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0)}
    ds |= {0.5 / n, 0.75 / n, 1.0 / n, 1.5 / n, 0.01, 0.05, 0.1, 0.3, 0.5, 0.6, 0.9, 1 - 0.5 / n, 0.99}
    for d in sorted(ds):
        if 0 < d < 1:
            kstwo.append({"n": n, "d": d, "sf": num(stats.kstwo.sf(d, n))})
smirnov_cases = []
for n in (2, 5, 10, 50, 100, 1000, 10000, 100000, 1000000, 2000000):
    for d in (0.5 / n, 2.0 / n, 0.3 / math.sqrt(n), 1 / math.sqrt(n), 1.5 / math.sqrt(n), 0.05, 0.2, 0.5, 0.8):
        if 0 < d < 1:
            smirnov_cases.append({"n": n, "d": d, "sf": num(smirnov(n, d))})

# --------------------------------------------------------------------------- Wasserstein
def w_case(name, ref, cur):
    r_json, r_v = sample(ref)
    c_json, c_v = sample(cur)
    normed, _ = _wasserstein_distance_norm(pd.Series(r_v), pd.Series(c_v), ColumnType.Numerical, 0.1)
    return {"name": name, "reference": r_json, "current": c_json,
            "distance": num(stats.wasserstein_distance(r_v, c_v)), "normed": num(normed)}


wass = [
    w_case("normal_shift", N(0, 1, 500), N(0.2, 1, 700)),
    w_case("scale_change", N(5, 1, 300), N(5, 3, 300)),
    w_case("ties", rng.integers(0, 10, 400), rng.integers(2, 12, 350)),
    w_case("single_values", [3.0], [7.5]),
    w_case("identical", [1.0, 2.0, 2.0, 9.0], [1.0, 2.0, 2.0, 9.0]),
    w_case("constant_reference", [4.0] * 50, N(4, 0.01, 40)),
    w_case("tiny_std_reference", 4.0 + N(0, 0.0002, 80), N(4, 0.001, 40)),
    w_case("skewed", rng.lognormal(0, 1, 1000), rng.lognormal(0.1, 1.1, 800)),
    w_case("large_200k", spec(30, 200000), spec(31, 200000, offset=7)),
]

# --------------------------------------------------------------------------- binning, PSI, JS
def fill(p):
    """Evidently's zero filling, restated (used only for the explicit-bins cases)."""
    p = p.copy()
    nz = p[p != 0]
    if len(nz) and (p == 0).any():
        m = nz.min()
        p[p == 0] = m / 10**6 if m <= 0.0001 else 0.0001
    return p


def bin_case(name, ref, cur, bins):
    """bins: int (numpy edges with that many bins), or "evidently" (Evidently's own code path)."""
    r_json, r_v = sample(ref)
    c_json, c_v = sample(cur)
    rs, cs = pd.Series(r_v), pd.Series(c_v)
    case = {"name": name, "reference": r_json, "current": c_json}
    if bins == "evidently":
        # get_binned_data: Sturges edges if the reference has > 20 distinct values, else shares
        # per value (the n argument is ignored by the released numeric branch).
        mode = "sturges" if rs.nunique() > 20 else "values"
        r_sh, c_sh = get_binned_data(rs, cs, ColumnType.Numerical, 30, feel_zeroes=False)
        psi, _ = _psi(rs, cs, ColumnType.Numerical, 0.1)
        js, _ = _jensenshannon(rs, cs, ColumnType.Numerical, 0.1)
        if mode == "sturges":
            edges = np.histogram_bin_edges(np.concatenate([r_v, c_v]), bins="sturges")
        else:
            # get_binned_data lists the values in a set's order; put them in ascending order.
            keys = sorted(set(r_v) | set(c_v))
            listed = list(set(rs.dropna().unique()) | set(cs.dropna().unique()))
            idx = np.argsort(listed)
            r_sh, c_sh = np.asarray(r_sh)[idx], np.asarray(c_sh)[idx]
            assert np.array_equal(r_sh, [np.count_nonzero(r_v == k) / len(r_v) for k in keys])
            assert np.array_equal(c_sh, [np.count_nonzero(c_v == k) / len(c_v) for k in keys])
            edges = np.asarray(keys)
        case.update(mode=mode, bins=None, edges=[num(e) for e in edges])
    else:
        edges = np.histogram_bin_edges(np.concatenate([r_v, c_v]), bins=bins)
        r_sh = np.histogram(r_v, edges)[0] / len(r_v)
        c_sh = np.histogram(c_v, edges)[0] / len(c_v)
        rf, cf = fill(r_sh), fill(c_sh)
        psi = np.sum((rf - cf) * np.log(rf / cf))
        js = distance.jensenshannon(r_sh, c_sh)
        case.update(mode="bins", bins=bins, edges=[num(e) for e in edges])
    case.update(reference_shares=[num(s) for s in r_sh], current_shares=[num(s) for s in c_sh],
                psi=num(psi), js=num(js))
    return case


binning = []
for bins in ("evidently", 30, 10):
    tag = bins if isinstance(bins, int) else "ev"
    binning += [
        bin_case(f"{tag}_normal_shift", N(0, 1, 600), N(0.3, 1.2, 400), bins),
        bin_case(f"{tag}_current_outside_reference", N(0, 1, 500), N(4, 1, 300), bins),
        bin_case(f"{tag}_same_sample", *(lambda x: (x, x))(N(2, 1, 256)), bins),
        bin_case(f"{tag}_ties_one_decimal", np.round(N(0, 1, 800), 1), np.round(N(0.1, 1, 700), 1), bins),
        bin_case(f"{tag}_skewed", rng.exponential(1, 1000), rng.exponential(1.3, 900), bins),
        bin_case(f"{tag}_few_values", rng.integers(0, 8, 500), rng.integers(0, 10, 400), bins),
        bin_case(f"{tag}_power_of_two_total", N(0, 1, 1024), N(0.5, 1, 1024), bins),
    ]
binning.append(bin_case("ev_constant", [2.0] * 30, [2.0] * 12, "evidently"))
binning.append(bin_case("1_constant", [2.0] * 30, [2.0] * 12, 1))
binning.append(bin_case("5_single_each", [0.0], [1.0], 5))

js_vectors = []
for k in (2, 3, 5, 10, 30):
    for _ in range(3):
        p = rng.integers(0, 20, k).astype(float)
        q = rng.integers(0, 20, k).astype(float)
        p[0] += 1
        q[-1] += 1
        js_vectors.append({"p": p.tolist(), "q": q.tolist(), "distance": num(distance.jensenshannon(p, q))})
js_vectors.append({"p": [1.0, 0.0], "q": [0.0, 1.0], "distance": num(distance.jensenshannon([1, 0], [0, 1]))})
js_vectors.append({"p": [0.2, 0.8], "q": [0.2, 0.8], "distance": num(distance.jensenshannon([0.2, 0.8], [0.2, 0.8]))})

# --------------------------------------------------------------------------- chi-square
def chi_case(name, ref_codes, cur_codes):
    rs, cs = pd.Series(ref_codes), pd.Series(cur_codes)
    p_ev, _ = _chi_stat_test(rs, cs, ColumnType.Categorical, 0.05)  # Evidently's p-value
    keys = sorted(set(rs.unique()) | set(cs.unique()))
    rc = [float((rs == k).sum()) for k in keys]
    cc = [float((cs == k).sum()) for k in keys]
    k_norm = len(cs) / len(rs)
    with np.errstate(divide="ignore", invalid="ignore"):
        res = stats.chisquare(cc, [r * k_norm for r in rc])
    return {"name": name, "reference_counts": rc, "current_counts": cc, "statistic": num(res.statistic),
            "p_value": num(p_ev), "p_value_scipy": num(res.pvalue), "dof": len(keys) - 1}


chi = []
for k, n_ref, n_cur, tilt in ((3, 50, 60, 0.0), (3, 500, 400, 0.3), (5, 1000, 1000, 0.05), (8, 300, 900, 0.2),
                              (12, 1000, 250, 0.0), (30, 5000, 4000, 0.1), (4, 200, 200, 1.5)):
    w = np.ones(k)
    w2 = w * np.exp(tilt * np.arange(k) / k)
    chi.append(chi_case(f"k{k}_tilt{tilt}", rng.choice(k, n_ref, p=w / w.sum()), rng.choice(k, n_cur, p=w2 / w2.sum())))
chi.append(chi_case("missing_in_reference", rng.choice(3, 100), np.concatenate([rng.choice(3, 90), [3] * 10])))
chi.append(chi_case("missing_in_current", rng.choice(4, 100), rng.choice(3, 120)))
chi.append(chi_case("identical", [0, 1, 1, 2, 2, 2], [0, 1, 1, 2, 2, 2]))
chi.append(chi_case("one_category", [7] * 20, [7] * 5))
chi.append(chi_case("very_small_p", rng.choice(3, 1000, p=[0.6, 0.3, 0.1]), rng.choice(3, 1000, p=[0.2, 0.3, 0.5])))

z_cases = []
for n1, p1, n2, p2 in ((100, 0.3, 100, 0.5), (1000, 0.1, 800, 0.12), (50, 0.5, 70, 0.5), (20, 0.05, 30, 0.9),
                       (1000, 0.5, 1000, 0.45), (5000, 0.01, 5000, 0.02), (900, 0.2, 900, 0.6), (10, 0.0, 10, 0.3)):
    ref = (rng.random(n1) < p1).astype(int)
    cur = (rng.random(n2) < p2).astype(int)
    z_cases.append((ref, cur))
z_cases.append((np.zeros(40, int), np.zeros(25, int)))  # one and the same value on both sides
z_cases.append((np.ones(40, int), np.concatenate([np.ones(20, int), np.zeros(5, int)])))
z_tests = []
for ref, cur in z_cases:
    rs, cs = pd.Series(ref), pd.Series(cur)
    p_ev, _ = _z_stat_test(rs, cs, ColumnType.Categorical, 0.05)
    keys = sorted(set(ref) | set(cur))
    first = keys[0]
    r_true, c_true = float((ref != first).sum()), float((cur != first).sum())
    same = rs.nunique() == 1 and cs.nunique() == 1 and rs.unique()[0] == cs.unique()[0]
    if same:
        z, p_sc = 0.0, 1.0
    else:
        z = proportions_diff_z_stat_ind(rs.apply(lambda x: 0 if x == first else 1),
                                        cs.apply(lambda x: 0 if x == first else 1))
        p_sc = 2 * stats.norm.sf(abs(z))
    z_tests.append({"reference_true": r_true, "reference_n": float(len(ref)), "current_true": c_true,
                    "current_n": float(len(cur)), "statistic": num(z), "p_value": num(p_ev), "p_value_scipy": num(p_sc)})

# --------------------------------------------------------------------------- chi2_sf
chi2 = []
for dof in (0.5, 1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100, 200, 500, 1000, 5000, 10000, 100000):
    xs = {dof * f for f in (1e-3, 0.01, 0.1, 0.5, 0.8, 0.9, 0.95, 1, 1.05, 1.1, 1.25, 1.5, 2, 3, 5, 10)}
    xs |= {0.5, 1.0, 3.841458820694124, 10.0, 50.0, 100.0, 300.0, 700.0, 1400.0}
    for x in sorted(xs):
        sf = stats.chi2.sf(x, dof)
        if sf > 1e-300:
            chi2.append({"x": x, "dof": dof, "sf": num(sf)})

out = {
    "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
                 "pandas": pd.__version__, "evidently": evidently.__version__},
    "generator": "scripts/drift-fixtures.py",
    "ks": ks, "kstwo": kstwo, "smirnov": smirnov_cases, "wasserstein": wass, "binning": binning,
    "jensen_shannon": js_vectors, "chi_square": chi, "z_test": z_tests, "chi2_sf": chi2,
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(out, f, separators=(",", ":"), allow_nan=False)
    f.write("\n")
counts = {k: len(v) for k, v in out.items() if isinstance(v, list)}
print(f"wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes): {counts}")
