#!/usr/bin/env python3
"""The Python side of `scripts/bench-models.sh`: the same rows and models as the Rust bench, timed
in scikit-learn and XGBoost-Python.

    model_speed.py DIR

writes into DIR (the Rust bench reads them with FW_BENCH_DATA=DIR):
- train.f64, score.f64: 100,000 training and 10,000 scoring rows of 19 features, shaped like the
  `risk` feature set (flags, counts, lognormal amounts, ratios, terminal risks), seeded;
- xgb.json: XGBoost trained with the shipped config on the training rows;
- xgb_pred.f64: its predictions for the scoring rows (to check the Rust evaluator against);
- sk_iforest_score.f64: scikit-learn's Isolation Forest anomaly scores (−score_samples);
and prints one JSON object: ns per row of each Python scoring path on the scoring rows.

A .f64 file is a 16-byte header (rows, width: u64 little-endian) then rows × width f64
little-endian, row after row.

Everything runs on one thread (run it under `taskset -c N` to pin the core too): the target is a
per-core comparison with the Rust models.
"""

import os

# Before numpy / xgboost / sklearn load their thread pools.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import xgboost as xgb  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402

TRAIN_ROWS = 100_000
SCORE_ROWS = 10_000
SINGLE_ROWS = 1_000  # single-row loops: 1,000 calls, as each sklearn call costs milliseconds
SEED = 20_240_601

# The shipped XGBoost config (19 features, binary:logistic), one thread.
XGB_PARAMS = {
    "objective": "binary:logistic",
    "max_depth": 3,
    "eta": 0.1,
    "tree_method": "exact",
    "base_score": 0.5,
    "seed": 0,
    "nthread": 1,
}
XGB_ROUNDS = 100


def write_rows(path: Path, rows: np.ndarray) -> None:
    rows = np.ascontiguousarray(rows, dtype="<f8")
    if rows.ndim == 1:
        rows = rows[:, None]
    with open(path, "wb") as f:
        f.write(np.array(rows.shape, dtype="<u8").tobytes())
        f.write(rows.tobytes())


def make_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    """n rows of the `risk` set's 19 features, in its order (crates/core/src/engine/spec.rs)."""
    weekend = rng.random(n) < 2 / 7
    night = rng.random(n) < 0.15
    # The customer's usual amount, and this transaction's: a few are far above it.
    usual = rng.lognormal(3.5, 0.7, n)
    amount = usual * rng.lognormal(0.0, 0.6, n) * np.where(rng.random(n) < 0.02, 5.0, 1.0)
    nb1 = 1 + rng.poisson(1.5, n)
    nb7 = nb1 + rng.poisson(8, n)
    nb30 = nb7 + rng.poisson(35, n)
    # Window means: the usual amount, noisier over shorter windows, pulled by this amount.
    avg = [(usual * rng.lognormal(0.0, 0.5 / np.sqrt(k), n) * (k - 1) + amount) / k for k in (nb1, nb7, nb30)]
    # Terminals: 2% compromised (a third of their transactions are frauds).
    compromised = rng.random(n) < 0.02
    p = np.where(compromised, 0.3, 0.002)
    term_nb = [rng.poisson(lam, n) for lam in (8, 56, 240)]
    risk = [np.where(k > 0, rng.binomial(k, p) / np.maximum(k, 1), 0.0) for k in term_nb]
    oldest = np.where(risk[2] > 0, rng.uniform(7.0, 37.0, n), -1.0)
    return np.column_stack(
        [
            weekend, night,
            nb1, avg[0], nb7, avg[1], nb30, avg[2],
            term_nb[0], risk[0], term_nb[1], risk[1], term_nb[2], risk[2],
            amount, amount / avg[0], amount / avg[1], amount / avg[2],
            oldest,
        ]
    ).astype(np.float64)


def make_labels(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """A nonlinear rule plus noise, cut at its 99th percentile: ~1% positives."""
    score = (
        2.0 * ((x[:, 17] > 3.0) & (x[:, 1] == 1))  # far above the usual amount, at night
        + 4.0 * x[:, 11]  # terminal risk over 7 days
        + 1.5 * ((x[:, 18] >= 0) & (x[:, 18] <= 14) & (x[:, 13] > 0.05))  # a fresh compromise
        + 0.4 * np.log1p(x[:, 14] / 100.0)
        + rng.normal(0.0, 0.4, len(x))
    )
    return (score > np.quantile(score, 0.99)).astype(np.float64)


def median_ns(run, repeats: int) -> float:
    """Median over `repeats` of the nanoseconds `run()` reports (it times its own part)."""
    run()  # warm-up: first-call costs (allocations, lazy init) are not per-row costs
    return statistics.median(run() for _ in range(repeats))


def timed(f) -> int:
    t = time.perf_counter_ns()
    f()
    return time.perf_counter_ns() - t


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    x_train = make_rows(rng, TRAIN_ROWS)
    y_train = make_labels(rng, x_train)
    x = make_rows(rng, SCORE_ROWS)
    write_rows(out / "train.f64", x_train)
    write_rows(out / "score.f64", x)

    booster = xgb.train(XGB_PARAMS, xgb.DMatrix(x_train, label=y_train, nthread=1), XGB_ROUNDS)
    booster.save_model(out / "xgb.json")
    write_rows(out / "xgb_pred.f64", booster.predict(xgb.DMatrix(x, nthread=1)).astype(np.float64))

    forest = IsolationForest(n_estimators=100, max_samples=256, random_state=42, n_jobs=1).fit(x_train)
    write_rows(out / "sk_iforest_score.f64", -forest.score_samples(x))

    n, single = len(x), x[:SINGLE_ROWS]

    def xgb_dmatrix_batch(include_dmatrix: bool):
        # A fresh DMatrix per call: XGBoost keeps a prediction cache per DMatrix.
        def run():
            if include_dmatrix:
                return timed(lambda: booster.predict(xgb.DMatrix(x, nthread=1)))
            dm = xgb.DMatrix(x, nthread=1)
            return timed(lambda: booster.predict(dm))

        return run

    def loop(f):
        return lambda: timed(lambda: [f(single[i : i + 1]) for i in range(len(single))])

    per_row = {
        "xgboost": {
            "batch": {
                "predict_dmatrix": median_ns(xgb_dmatrix_batch(False), 20) / n,
                "predict_dmatrix_incl_creation": median_ns(xgb_dmatrix_batch(True), 20) / n,
                "inplace_predict": median_ns(lambda: timed(lambda: booster.inplace_predict(x)), 20) / n,
            },
            "single": {
                "predict_dmatrix_incl_creation": median_ns(
                    loop(lambda r: booster.predict(xgb.DMatrix(r, nthread=1))), 3
                ) / len(single),
                "inplace_predict": median_ns(loop(booster.inplace_predict), 5) / len(single),
            },
        },
        "iforest": {
            "batch": {"score_samples": median_ns(lambda: timed(lambda: forest.score_samples(x)), 10) / n},
            "single": {"score_samples": median_ns(loop(forest.score_samples), 3) / len(single)},
        },
    }
    print(
        json.dumps(
            {
                "versions": {"xgboost": xgb.__version__, "sklearn": sklearn.__version__, "numpy": np.__version__},
                "train_rows": TRAIN_ROWS,
                "score_rows": n,
                "positives": float(y_train.mean()),
                "ns_per_row": per_row,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
