#!/usr/bin/env bash
# Stop the Kafka broker started by scripts/kafka-start.sh (pid file in
# $FW_DATA_DIR/kafka) and wait for it to exit.  Does nothing if it is not running;
# a broker started some other way is left alone.
#
# Usage: scripts/kafka-stop.sh
# Environment: FW_DATA_DIR, FW_KAFKA_STOP_TIMEOUT (60 s before SIGKILL).
set -euo pipefail

FW_LOG_TAG=kafka
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

TIMEOUT="${FW_KAFKA_STOP_TIMEOUT:-60}"
fw_require_uint FW_KAFKA_STOP_TIMEOUT "$TIMEOUT"

KAFKA_DIR="$FW_DATA_DIR/kafka"
if [[ ! -d "$KAFKA_DIR" ]]; then
    fw_log "no Kafka data dir at $KAFKA_DIR; nothing to stop"
    exit 0
fi
fw_abs_data_dir
KAFKA_DIR="$FW_DATA_DIR/kafka"
PID_FILE="$KAFKA_DIR/kafka.pid"
SERVER_PROPS="$KAFKA_DIR/config/server.properties"

exec {lock_fd}>"$KAFKA_DIR/.lock"
flock -w 300 "$lock_fd" || fw_die "timed out waiting for $KAFKA_DIR/.lock"

pid=""
[[ -f "$PID_FILE" ]] && pid="$(<"$PID_FILE")"
if [[ -z "$pid" ]] || ! fw_pid_alive "$pid" kafka.Kafka "$SERVER_PROPS"; then
    fw_log "broker not running"
    rm -f "$PID_FILE"
    exit 0
fi

fw_log "stopping broker (pid $pid)"
kill -TERM "$pid" 2>/dev/null || true
if ! fw_wait_pid_exit "$pid" "$TIMEOUT"; then
    fw_log "broker still running after ${TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    fw_wait_pid_exit "$pid" 10 || fw_die "could not stop pid $pid"
fi
rm -f "$PID_FILE"
fw_log "broker stopped"
