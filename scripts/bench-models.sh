#!/usr/bin/env bash
# Scoring speed of the native models against scikit-learn / XGBoost-Python, on the same rows and
# the same core: Isolation Forest (100 trees, ψ = 256) and XGBoost (the shipped config) scoring
# 10,000 rows of 19 features, batched and one row at a time.
#
#   scripts/bench-models.sh [criterion args, e.g. --quick]
#
# 1. scripts/reference/model_speed.py writes the rows and models to $FW_CACHE_DIR/bench-models
#    and times the Python libraries (in the venv $FW_PYREF, created if missing);
# 2. the criterion bench `score` (groups iforest_data, gbtree_data) times the Rust models on
#    those rows and dumps their outputs;
# 3. checks the Rust XGBoost predictions against XGBoost's (max |diff| ≤ 1e-6), then prints one
#    JSON object: per model and mode, ns per row in Rust (criterion's median) and in Python (the
#    fastest Python path measured for that mode, median of its repeats), and the speedup.
# Logs go to stderr, the JSON alone to stdout. FW_BENCH_CPU (default 1) is the core both run on.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"
# shellcheck source=scripts/cargo-env.sh
source scripts/cargo-env.sh
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
FW_LOG_TAG=bench-models

cpu="${FW_BENCH_CPU:-1}"
pyref="${FW_PYREF:-$FW_CACHE_DIR/pyref}"
data="$FW_CACHE_DIR/bench-models"

if ! "$pyref/bin/python" -c 'import xgboost, sklearn, scipy' 2>/dev/null; then
    fw_log "creating the Python reference venv $pyref"
    python3 -m venv "$pyref"
    "$pyref/bin/pip" install --quiet xgboost scikit-learn >&2
fi

mkdir -p "$data"
# Outputs of a previous run must not pass for this one's.
rm -f "$data"/rust_*.f64
stamp="$data/.started"
touch "$stamp"

fw_log "Python reference on CPU $cpu"
taskset -c "$cpu" "$pyref/bin/python" scripts/reference/model_speed.py "$data" >"$data/python.json"

fw_log "building the bench"
cargo bench --locked -p fraudwatch-models --bench score --no-run >&2
fw_log "cargo bench on CPU $cpu"
# Only the groups on the shared rows (the filter is a regex on "group/function").
FW_BENCH_DATA="$data" taskset -c "$cpu" \
    cargo bench --locked -p fraudwatch-models --bench score -- '_data/' "$@" >&2

"$pyref/bin/python" - "$data" "$CARGO_TARGET_DIR/criterion" "$stamp" <<'EOF'
import json, os, sys
import numpy as np
from scipy.stats import spearmanr

data, criterion, stamp = sys.argv[1:]
column = lambda name: np.fromfile(os.path.join(data, name), dtype="<f8", offset=16)

def rust_ns_per_row(group, mode):
    d = os.path.join(criterion, group, mode)
    est = os.path.join(d, "new", "estimates.json")
    if os.path.getmtime(est) < os.path.getmtime(stamp):
        sys.exit(f"{est} is older than this run")
    rows = json.load(open(os.path.join(d, "new", "benchmark.json")))["throughput"]["Elements"]
    return json.load(open(est))["median"]["point_estimate"] / rows

diff = float(np.max(np.abs(column("rust_xgb_pred.f64") - column("xgb_pred.f64"))))
python = json.load(open(os.path.join(data, "python.json")))
result = {}
for model, group in [("iforest", "iforest_data"), ("xgboost", "gbtree_data")]:
    for mode in ("batch", "single"):
        paths = python["ns_per_row"][model][mode]
        fastest = min(paths, key=paths.get)
        rust, py = rust_ns_per_row(group, mode), paths[fastest]
        result[f"{model}_{mode}"] = {
            "rust_ns_per_row": round(rust, 1),
            "python_ns_per_row": round(py, 1),
            "python_path": fastest,
            "speedup": round(py / rust, 1),
        }
result["python_all_ns_per_row"] = python["ns_per_row"]
result["versions"] = python["versions"]
result["xgboost_max_abs_diff"] = diff
# Not the same trees (other random streams), so only a sanity check that both forests agree.
result["iforest_spearman_vs_sklearn"] = round(
    float(spearmanr(column("rust_iforest_score.f64"), column("sk_iforest_score.f64"))[0]), 4)
print(json.dumps(result, indent=2))
if not diff <= 1e-6:
    sys.exit(f"Rust XGBoost predictions differ from XGBoost's by up to {diff}")
EOF
