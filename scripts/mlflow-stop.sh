#!/usr/bin/env bash
# Stop the MLflow server started by scripts/mlflow-start.sh (pid file in
# $FW_DATA_DIR/mlflow) with its workers, and wait for it to exit.  Does nothing if
# it is not running; a server started some other way is left alone.  The data
# (mlflow.db, artifacts/) stays.
#
# Usage: scripts/mlflow-stop.sh
# Environment: FW_DATA_DIR, FW_MLFLOW_STOP_TIMEOUT (30 s before SIGKILL).
set -euo pipefail

FW_LOG_TAG=mlflow
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TIMEOUT="${FW_MLFLOW_STOP_TIMEOUT:-30}"
fw_require_uint FW_MLFLOW_STOP_TIMEOUT "$TIMEOUT"

if [[ ! -d "$FW_DATA_DIR/mlflow" ]]; then
    fw_log "no MLflow data dir at $FW_DATA_DIR/mlflow; nothing to stop"
    exit 0
fi
fw_abs_data_dir
MLFLOW_DIR="$FW_DATA_DIR/mlflow"
PID_FILE="$MLFLOW_DIR/mlflow.pid"

exec {lock_fd}>"$MLFLOW_DIR/.lock"
flock -w 300 "$lock_fd" || fw_die "timed out waiting for $MLFLOW_DIR/.lock"

pid=""
[[ -f "$PID_FILE" ]] && pid="$(<"$PID_FILE")"
if [[ -z "$pid" ]] || ! fw_pid_alive "$pid" mlflow server "$MLFLOW_DIR"; then
    fw_log "server not running"
    rm -f "$PID_FILE"
    exit 0
fi

# The server was started with setsid, so its pid is its process group: signal the
# group, which holds the worker processes too.
fw_log "stopping server (pid $pid and its workers)"
kill -TERM -- "-$pid" 2>/dev/null || true
if ! fw_wait_pid_exit "$pid" "$TIMEOUT"; then
    fw_log "server still running after ${TIMEOUT}s; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || true
    fw_wait_pid_exit "$pid" 10 || fw_die "could not stop pid $pid"
fi
# Workers may outlive the leader by a moment.
for _ in $(seq 1 50); do
    pgrep -g "$pid" >/dev/null 2>&1 || break
    sleep 0.2
done
rm -f "$PID_FILE"
fw_log "server stopped"
