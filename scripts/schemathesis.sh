#!/usr/bin/env bash
# Fuzzes a running fraudwatch API from its own OpenAPI document with schemathesis (from PyPI, in
# a venv under the cache dir, created if missing): every operation, generated valid and invalid
# inputs, every check (no 5xx, documented status codes and content types, response schemas).
#
#   scripts/schemathesis.sh BASE_URL API_KEY [extra schemathesis args...]
#
# Exit status: schemathesis's (0 when no failure was found).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
FW_LOG_TAG=schemathesis

[[ $# -ge 2 ]] || fw_die "usage: $0 BASE_URL API_KEY [schemathesis args...]"
base="$1" key="$2"
shift 2

venv="${FW_SCHEMATHESIS_VENV:-$FW_CACHE_DIR/schemathesis}"
if ! "$venv/bin/st" --version >/dev/null 2>&1; then
    fw_log "installing schemathesis into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis>=4,<5' >&2
fi

exec "$venv/bin/st" --config-file "$FW_SCRIPTS_DIR/schemathesis.toml" run "$base/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $key" \
    --checks all \
    --max-examples "${FW_SCHEMATHESIS_EXAMPLES:-50}" \
    --seed "${FW_SCHEMATHESIS_SEED:-1}" \
    --no-color \
    "$@"
