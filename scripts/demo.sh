#!/usr/bin/env bash
# Builds fraudwatch and runs the whole pipeline in one process on the embedded defaults
# (in-memory bus, SQLite store, local model registry): no services needed.
# Arguments go to `fraudwatch demo`; without any, it runs for 30 s (`--duration 30s`).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"
# shellcheck source=scripts/cargo-env.sh
source scripts/cargo-env.sh

scripts/install-build-deps.sh
mkdir -p .fraudwatch/demo
cd .fraudwatch/demo
# Through cargo: it puts the XGBoost library it built on the loader path.
[[ $# -gt 0 ]] || set -- --duration 30s
exec cargo run --release --locked --quiet --manifest-path "$root/Cargo.toml" -p fraudwatch -- demo "$@"
