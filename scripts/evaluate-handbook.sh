#!/usr/bin/env bash
# Reproduces the model results table of docs/models.md on the fraud handbook's data: every row is
# one `fraudwatch evaluate` run (reports in .fraudwatch/evaluate/). About 2 minutes on 2 cores.
#   scripts/evaluate-handbook.sh [path/to/transactions.csv.gz]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
data="${1:-${FW_HANDBOOK_DIR:-$root/../shared/data/handbook}/transactions.csv.gz}"
out="$root/.fraudwatch/evaluate"
mkdir -p "$out"

run() { # name, then evaluate's flags
    local name="$1"
    shift
    "$root/scripts/fraudwatch" --log warn evaluate --transactions "$data" "$@" --out "$out/$name.json" >/dev/null
    python3 - "$out/$name.json" "$name" "$*" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["std"]
print(f"| {sys.argv[2]} | {r['feature_set']} | {r['model']} | {len(r['folds'])} | "
      f"{r['auc_roc']:.3f} ± {s['auc_roc']:.3f} | {r['average_precision']:.3f} ± {s['average_precision']:.3f} | "
      f"{r['card_precision_at_100']:.3f} ± {s['card_precision_at_100']:.3f} | `{sys.argv[3]}` |")
PY
}

echo "| run | features | model | folds | AUC-ROC | AP | CP@100 | flags |"
echo "|---|---|---|---|---|---|---|---|"
run handbook-baseline --protocol handbook-baseline --params handbook-baseline
run handbook-prequential --protocol handbook-prequential --params handbook-prequential
run default-validation --protocol handbook-prequential --validation
run default-test --protocol handbook-prequential
run combined-validation --protocol handbook-prequential --validation --model combined
run combined-test --protocol handbook-prequential --model combined
run iforest-handbook-inputs --protocol handbook-baseline --params handbook-iforest
run iforest-own-features --protocol handbook-baseline --model iforest
run iforest-own-features-validation --protocol handbook-prequential --validation --model iforest
