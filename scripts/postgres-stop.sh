#!/usr/bin/env bash
# Stop the project-local PostgreSQL cluster started by scripts/postgres-start.sh
# (fast shutdown, waits for exit).  Does nothing if it is not running; other
# servers (e.g. the system "main" cluster) are left alone.
#
# Usage: scripts/postgres-stop.sh
# Environment: FW_DATA_DIR, FW_PG_DIR, FW_PG_BINDIR, FW_PG_STOP_TIMEOUT (60 s).
set -euo pipefail

FW_LOG_TAG=postgres
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/postgres.sh
source "$FW_SCRIPTS_DIR/lib/postgres.sh"

TIMEOUT="${FW_PG_STOP_TIMEOUT:-60}"
fw_require_uint FW_PG_STOP_TIMEOUT "$TIMEOUT"

if [[ ! -d "$FW_DATA_DIR" ]]; then
    fw_log "no data dir at $FW_DATA_DIR; nothing to stop"
    exit 0
fi
fw_abs_data_dir
fw_pg_paths
if [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
    fw_log "no cluster in $PGDATA_DIR; nothing to stop"
    exit 0
fi
PG_BINDIR="$(fw_pg_find_bindir "$(<"$PGDATA_DIR/PG_VERSION")")" || fw_die "PostgreSQL binaries not found"

exec {lock_fd}>"$FW_DATA_DIR/.postgres.lock"
flock -w 300 "$lock_fd" || fw_die "timed out waiting for $FW_DATA_DIR/.postgres.lock"

if ! fw_pg_running; then
    fw_log "cluster not running"
    exit 0
fi
fw_log "stopping cluster ($PGDATA_DIR)"
fw_pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t "$TIMEOUT" stop >/dev/null \
    || fw_die "pg_ctl stop failed (see $PG_LOG)"
fw_log "cluster stopped"
