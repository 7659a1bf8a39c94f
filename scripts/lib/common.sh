# shellcheck shell=bash
# Shared helpers for scripts/*.sh.  Source it; do not run it.
#
# Environment (all optional):
#   FW_DATA_DIR   runtime data (broker logs, database cluster, pid files);
#                 default <repo>/.fraudwatch
#   FW_CACHE_DIR  downloads reused across clones (Kafka jars); default
#                 ${XDG_CACHE_HOME:-$HOME/.cache}/fraudwatch

FW_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
FW_REPO_ROOT="$(cd "$FW_SCRIPTS_DIR/.." && pwd -P)"
FW_DATA_DIR="${FW_DATA_DIR:-$FW_REPO_ROOT/.fraudwatch}"
FW_CACHE_DIR="${FW_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/fraudwatch}"
FW_LOG_TAG="${FW_LOG_TAG:-fraudwatch}"

fw_log() {
    printf '[%s] %s\n' "$FW_LOG_TAG" "$*" >&2
}

fw_die() {
    printf '[%s] ERROR: %s\n' "$FW_LOG_TAG" "$*" >&2
    exit 1
}

# fw_require_uint NAME VALUE: exit unless VALUE is a positive integer.
fw_require_uint() {
    [[ "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || fw_die "$1 must be a positive integer, got '$2'"
}

# fw_abs_data_dir: create FW_DATA_DIR and make it absolute.
fw_abs_data_dir() {
    mkdir -p "$FW_DATA_DIR"
    FW_DATA_DIR="$(cd "$FW_DATA_DIR" && pwd -P)"
}

# fw_port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
fw_port_open() {
    # shellcheck disable=SC2016  # $1 expands inside the child bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# fw_pid_alive PID [CMDLINE_SUBSTRING...]: true if PID runs and its command line
# contains every given substring (guards against recycled pids).
fw_pid_alive() {
    local pid="$1" cmdline needle
    shift
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    for needle in "$@"; do
        [[ "$cmdline" == *"$needle"* ]] || return 1
    done
    return 0
}

# fw_wait_pid_exit PID SECONDS: wait for PID to exit; false on timeout.
fw_wait_pid_exit() {
    local pid="$1" deadline=$((SECONDS + $2))
    while kill -0 "$pid" 2>/dev/null; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
    return 0
}
