#!/usr/bin/env bash
# Runs every test: formatting and lints, then unit and integration tests against a real Kafka
# broker and a real PostgreSQL on loopback, both started (and installed if missing) by the
# project's own scripts. A missing service fails the run; nothing is skipped.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"
# shellcheck source=scripts/cargo-env.sh
source scripts/cargo-env.sh

scripts/install-build-deps.sh
eval "$(scripts/services-start.sh)"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked "$@"
