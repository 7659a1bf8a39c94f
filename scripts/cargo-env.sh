# shellcheck shell=bash
# Sourced by the scripts that build: keeps the build outside the clone, so every clone on this
# machine (and every CI run) reuses one target directory and its long first build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/fraudwatch/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
