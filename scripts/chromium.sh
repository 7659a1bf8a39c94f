#!/usr/bin/env bash
# Make sure headless Chromium and playwright-core are installed for the browser checks of
# fraudwatch's HTML pages (crates/monitor/tests/report_browser.rs, scripts/browser/*.mjs).
#
# Usage: scripts/chromium.sh
#
# Idempotent: installs Debian's chromium package when $FW_CHROMIUM is missing (needs root and
# apt-get), and playwright-core at the version pinned in scripts/browser/package-lock.json into
# $FW_CACHE_DIR/browser/node_modules (outside the clone; reused by every clone).  A stamp holds
# the hash of package.json + package-lock.json, so a second run touches no registry.  Playwright
# never downloads a browser of its own (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1, --ignore-scripts):
# the checks drive Debian's Chromium through executablePath.
#
# Progress goes to stderr; stdout gets one KEY=VALUE per line (the value is the rest of the
# line; read it line by line rather than eval it):
#   FW_CHROMIUM=/usr/bin/chromium
#   FW_NODE_PATH=/root/.cache/fraudwatch/browser/node_modules
#   FW_BROWSER_SCRIPTS=<repo>/scripts/browser
#
# Environment: FW_CACHE_DIR (see lib/common.sh), FW_CHROMIUM (default /usr/bin/chromium).
set -euo pipefail

FW_LOG_TAG=chromium
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

CHROMIUM="${FW_CHROMIUM:-/usr/bin/chromium}"
BROWSER_SRC="$FW_SCRIPTS_DIR/browser"
BROWSER_DIR="$FW_CACHE_DIR/browser"
NODE_MODULES="$BROWSER_DIR/node_modules"
STAMP="$NODE_MODULES/.fraudwatch-complete"
started_at=$SECONDS

# Playwright must never fetch a browser build: this machine (and CI) reach package registries only.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

install_chromium() {
    ((EUID == 0)) || fw_die "$CHROMIUM not found; install it (Debian: sudo apt-get install chromium) or set FW_CHROMIUM"
    command -v apt-get >/dev/null || fw_die "$CHROMIUM not found and apt-get is unavailable; set FW_CHROMIUM"
    fw_log "$CHROMIUM not found; installing Debian's chromium package"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine's package lists may be empty or stale: update once, then install.
    apt-get update -q >&2
    apt-get install -y -q chromium >&2
}

install_playwright() {
    command -v npm >/dev/null || fw_die "npm not found (install Node.js 20+ with npm)"
    fw_log "installing playwright-core ($(node -p 'require(process.argv[1]).dependencies["playwright-core"]' \
        "$BROWSER_SRC/package.json")) into $NODE_MODULES"
    local tmp="$BROWSER_DIR/install.tmp.$$" t0=$SECONDS
    rm -rf "$tmp"
    mkdir -p "$tmp"
    cp "$BROWSER_SRC/package.json" "$BROWSER_SRC/package-lock.json" "$tmp/"
    if ! npm ci --prefix "$tmp" --ignore-scripts --no-audit --no-fund --loglevel=error >&2; then
        rm -rf "$tmp"
        fw_die "npm ci failed for $BROWSER_SRC/package-lock.json"
    fi
    printf '%s\n' "$want" >"$tmp/node_modules/.fraudwatch-complete"
    rm -rf "$NODE_MODULES"
    mv "$tmp/node_modules" "$NODE_MODULES"
    rm -rf "$tmp"
    fw_log "playwright-core installed in $((SECONDS - t0))s"
}

mkdir -p "$BROWSER_DIR"
# Serialize concurrent runs (parallel tests, two clones).
exec {lock_fd}>"$BROWSER_DIR/.lock"
flock -w 900 "$lock_fd" || fw_die "timed out waiting for $BROWSER_DIR/.lock"

if [[ ! -x "$CHROMIUM" ]]; then
    install_chromium
    [[ -x "$CHROMIUM" ]] || fw_die "$CHROMIUM still missing after installing chromium"
fi
version="$("$CHROMIUM" --version 2>/dev/null)" || fw_die "$CHROMIUM --version failed"

command -v node >/dev/null || fw_die "node not found (install Node.js 20+)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || fw_die "Node.js 20+ required (playwright-core), found $(node --version)"

want="$(cat "$BROWSER_SRC/package.json" "$BROWSER_SRC/package-lock.json" | sha256sum | cut -c1-16)"
if [[ ! -f "$STAMP" || "$(<"$STAMP")" != "$want" ]]; then
    install_playwright
fi
[[ -f "$NODE_MODULES/playwright-core/package.json" ]] || fw_die "playwright-core missing from $NODE_MODULES"

fw_log "ready after $((SECONDS - started_at))s: $version, playwright-core" \
    "$(node -p 'require(process.argv[1]).version' "$NODE_MODULES/playwright-core/package.json")"
printf 'FW_CHROMIUM=%s\nFW_NODE_PATH=%s\nFW_BROWSER_SCRIPTS=%s\n' "$CHROMIUM" "$NODE_MODULES" "$BROWSER_SRC"
