# shellcheck shell=bash
# PostgreSQL helpers shared by scripts/postgres-*.sh.  Source after lib/common.sh.
#
# Environment (all optional):
#   FW_PG_PORT     TCP port on 127.0.0.1 (default 55432)
#   FW_PG_DIR      cluster directory (default $FW_DATA_DIR/postgres); holds data/
#                  (PGDATA), run/ (unix socket), postgres.log
#   FW_PG_BINDIR   directory with initdb/pg_ctl/postgres/psql (default: newest
#                  /usr/lib/postgresql/*/bin, or the one matching an existing cluster)

FW_PG_PORT="${FW_PG_PORT:-55432}"
fw_require_uint FW_PG_PORT "$FW_PG_PORT"
FW_PG_USER=fraudwatch
FW_PG_PASSWORD=fraudwatch
FW_PG_DATABASE=fraudwatch
FW_PG_URL="postgres://${FW_PG_USER}:${FW_PG_PASSWORD}@127.0.0.1:${FW_PG_PORT}/${FW_PG_DATABASE}"

# fw_pg_paths: set PG_DIR, PGDATA_DIR, PG_LOG, PG_SOCK_DIR (FW_DATA_DIR must be absolute).
# shellcheck disable=SC2034  # the variables are used by the sourcing scripts
fw_pg_paths() {
    PG_DIR="${FW_PG_DIR:-$FW_DATA_DIR/postgres}"
    PGDATA_DIR="$PG_DIR/data"
    PG_LOG="$PG_DIR/postgres.log"
    PG_SOCK_DIR="$PG_DIR/run"
    # Unix socket paths are limited to 107 bytes; fall back to a short private dir.
    if ((${#PG_SOCK_DIR} + ${#FW_PG_PORT} + 15 > 100)); then
        PG_SOCK_DIR="/tmp/fraudwatch-pg-$(printf '%s' "$PGDATA_DIR" | sha256sum | cut -c1-12)"
    fi
}

# fw_pg_as_owner CMD...: run CMD as the OS user owning the cluster (postgres when
# we are root, else the current user), from / so an unreadable cwd does not matter.
fw_pg_as_owner() {
    if ((EUID == 0)); then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# fw_pg_owner: the OS user owning the cluster.
fw_pg_owner() {
    if ((EUID == 0)); then printf 'postgres\n'; else id -un; fi
}

# fw_pg_find_bindir [MAJOR]: print a directory with the server binaries.
fw_pg_find_bindir() {
    local major="${1:-}" d p
    if [[ -n "${FW_PG_BINDIR:-}" ]]; then
        printf '%s\n' "$FW_PG_BINDIR"
        return 0
    fi
    if [[ -n "$major" && -x "/usr/lib/postgresql/$major/bin/pg_ctl" ]]; then
        printf '%s\n' "/usr/lib/postgresql/$major/bin"
        return 0
    fi
    while IFS= read -r d; do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" && -x "$d/psql" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    done < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V -r)
    # Non-Debian layouts: binaries on PATH.
    if p="$(command -v pg_ctl)" && command -v initdb >/dev/null && command -v psql >/dev/null; then
        dirname "$(readlink -f "$p")"
        return 0
    fi
    return 1
}

# fw_pg_psql_url ARGS...: psql against $FW_PG_URL (quiet, no psqlrc).
fw_pg_psql_url() {
    PGCONNECT_TIMEOUT=3 "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$FW_PG_URL" "$@"
}

# fw_pg_url_works: true if the fraudwatch credentials work on the port.
fw_pg_url_works() {
    [[ "$(fw_pg_psql_url -At -c 'select 1' 2>/dev/null)" == 1 ]]
}

# fw_pg_running: true if our cluster's postmaster is running.
fw_pg_running() {
    [[ -f "$PGDATA_DIR/PG_VERSION" ]] || return 1
    fw_pg_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}
