#!/usr/bin/env bash
# Runs every test: formatting and lints, then unit and integration tests against a real Kafka
# broker, a real PostgreSQL, a real MLflow tracking server and headless Chromium on loopback, all
# started (and installed if missing) by the project's own scripts. A missing service fails the run; nothing is skipped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"
# shellcheck source=scripts/cargo-env.sh
source scripts/cargo-env.sh

scripts/install-build-deps.sh
eval "$(scripts/services-start.sh)"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
# One closing line over every test binary (cargo prints one per binary, the last often a doc-test
# run with nothing in it).
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"
