#!/usr/bin/env bash
# Start an MLflow tracking server (the model registry's production backend) on
# 127.0.0.1:$FW_MLFLOW_PORT (default 5050), with a SQLite backend store and
# artifacts served over HTTP (--serve-artifacts, MLflow's default), and print
#   export FW_MLFLOW_URL=http://127.0.0.1:5050
# on stdout, for `eval "$(scripts/mlflow-start.sh)"`.  The registry URL is then
# mlflow+$FW_MLFLOW_URL.
#
# Usage: scripts/mlflow-start.sh
#
# Idempotent: if our server is already running, or any MLflow server answers on the
# port, it is reused.  MLflow comes from PyPI, pinned, into a virtual environment
# outside the clone ($FW_CACHE_DIR/mlflow-venv), installed on first use.  Progress
# goes to stderr.
#
# Environment: FW_DATA_DIR, FW_CACHE_DIR (see lib/common.sh), FW_MLFLOW_PORT (5050),
# FW_MLFLOW_WORKERS (2), FW_MLFLOW_VERSION (3.17.2), FW_MLFLOW_START_TIMEOUT (180 s),
# FW_PYTHON (python3).
#
# Files: $FW_DATA_DIR/mlflow/{mlflow.db,artifacts/}, pid in mlflow.pid, server
# output in mlflow.log.
set -euo pipefail

FW_LOG_TAG=mlflow
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PORT="${FW_MLFLOW_PORT:-5050}"
WORKERS="${FW_MLFLOW_WORKERS:-2}"
VERSION="${FW_MLFLOW_VERSION:-3.17.2}"
TIMEOUT="${FW_MLFLOW_START_TIMEOUT:-180}"
fw_require_uint FW_MLFLOW_PORT "$PORT"
fw_require_uint FW_MLFLOW_WORKERS "$WORKERS"
fw_require_uint FW_MLFLOW_START_TIMEOUT "$TIMEOUT"
URL="http://127.0.0.1:$PORT"
VENV="$FW_CACHE_DIR/mlflow-venv"

fw_abs_data_dir
MLFLOW_DIR="$FW_DATA_DIR/mlflow"
PID_FILE="$MLFLOW_DIR/mlflow.pid"
LOG="$MLFLOW_DIR/mlflow.log"
mkdir -p "$MLFLOW_DIR/artifacts"

started_at=$SECONDS

# True if an MLflow server answers on the port (health, then an MLflow API call,
# so another HTTP server on the port is not mistaken for MLflow).
mlflow_answers() {
    [[ "$(curl -fsS --max-time 3 "$URL/health" 2>/dev/null)" == OK ]] \
        && curl -fsS --max-time 5 -o /dev/null \
            "$URL/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default" 2>/dev/null
}

# Prints the pid of the server this script started, if it still runs; returns 2 if it
# runs on another port than $PORT (one server per data dir: a second one would share
# its database and pid file).
our_server_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 1
    pid="$(<"$PID_FILE")"
    fw_pid_alive "$pid" mlflow server "$MLFLOW_DIR" || return 1
    printf '%s\n' "$pid"
    fw_pid_alive "$pid" "--port $PORT " || return 2
}

ready() {
    fw_log "MLflow ready on $URL after $((SECONDS - started_at))s"
    printf 'export FW_MLFLOW_URL=%q\n' "$URL"
    exit 0
}

# Installs the pinned MLflow into $VENV once; a stamp names the installed version,
# so another clone (or a second run) skips pip.
install_mlflow() {
    local stamp="$VENV/.fraudwatch-mlflow" python="${FW_PYTHON:-python3}" t0=$SECONDS
    [[ -f "$stamp" && "$(<"$stamp")" == "$VERSION" && -x "$VENV/bin/mlflow" ]] && return 0
    command -v "$python" >/dev/null || fw_die "$python not found (MLflow needs Python 3.10+)"
    mkdir -p "$FW_CACHE_DIR"
    exec {install_fd}>"$FW_CACHE_DIR/.mlflow-venv.lock"
    flock -w 900 "$install_fd" || fw_die "timed out waiting for $FW_CACHE_DIR/.mlflow-venv.lock"
    if [[ ! -f "$stamp" || "$(<"$stamp")" != "$VERSION" || ! -x "$VENV/bin/mlflow" ]]; then
        fw_log "installing MLflow $VERSION from PyPI into $VENV (log $FW_CACHE_DIR/mlflow-pip.log)"
        rm -rf "$VENV"
        "$python" -m venv "$VENV" || fw_die "cannot create a virtual environment with $python (Debian: apt-get install python3-venv)"
        if ! "$VENV/bin/pip" install --disable-pip-version-check -q "mlflow==$VERSION" \
            >"$FW_CACHE_DIR/mlflow-pip.log" 2>&1; then
            tail -n 20 "$FW_CACHE_DIR/mlflow-pip.log" >&2
            fw_die "pip could not install mlflow==$VERSION (full log: $FW_CACHE_DIR/mlflow-pip.log)"
        fi
        printf '%s\n' "$VERSION" >"$stamp"
        fw_log "MLflow $VERSION installed in $((SECONDS - t0))s"
    fi
    exec {install_fd}>&-
}

exec {lock_fd}>"$MLFLOW_DIR/.lock"
flock -w 900 "$lock_fd" || fw_die "timed out waiting for $MLFLOW_DIR/.lock (another mlflow-start/stop running?)"

rc=0
pid="$(our_server_pid)" || rc=$?
if ((rc == 2)); then
    fw_die "our MLflow server (pid $pid) serves $MLFLOW_DIR on another port; stop it with scripts/mlflow-stop.sh or set FW_MLFLOW_PORT to its port"
elif ((rc == 0)); then
    if mlflow_answers; then
        fw_log "server already running (pid $pid)"
        ready
    fi
    fw_log "server pid $pid is running but not answering yet; waiting"
elif fw_port_open "$PORT"; then
    mlflow_answers || fw_die "127.0.0.1:$PORT is in use by something that does not answer as MLflow (set FW_MLFLOW_PORT)"
    fw_log "an MLflow server already answers on $URL; reusing it"
    ready
else
    install_mlflow
    rm -f "$PID_FILE"
    fw_log "starting MLflow $VERSION on $URL with $WORKERS workers (log $LOG)"
    printf '\n===== %s starting MLflow %s =====\n' "$(date -Is)" "$VERSION" >>"$LOG"
    (
        cd "$MLFLOW_DIR"
        # setsid: the server and its workers form one process group, which
        # mlflow-stop.sh signals as a whole.  Job execution (GenAI evaluation jobs,
        # seven huey consumers, ~1.6 GiB more) is off: the registry needs none of it.
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false exec setsid nohup "$VENV/bin/mlflow" server \
            --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" \
            --backend-store-uri "sqlite:///$MLFLOW_DIR/mlflow.db" \
            --serve-artifacts --artifacts-destination "$MLFLOW_DIR/artifacts" \
            >>"$LOG" 2>&1 </dev/null {lock_fd}>&-
    ) &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"
    fw_log "server pid $pid"
fi

deadline=$((started_at + TIMEOUT))
until mlflow_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
        tail -n 30 "$LOG" >&2
        fw_die "MLflow exited during start-up (full log: $LOG)"
    fi
    if ((SECONDS >= deadline)); then
        tail -n 30 "$LOG" >&2
        fw_die "MLflow did not answer on $URL within ${TIMEOUT}s (pid $pid still running; stop it with scripts/mlflow-stop.sh)"
    fi
    sleep 0.5
done
ready
