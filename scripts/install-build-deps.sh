#!/usr/bin/env bash
# Installs what building fraudwatch needs and a fresh machine may lack: a C/C++ toolchain, make,
# cmake and perl (librdkafka's build), ninja, clang and libclang (XGBoost's build and its bindings),
# pkg-config and zlib headers. Debian packages only; installs
# nothing that is already there, so it is fast on a second run.
set -euo pipefail

need=()
for pkg in build-essential cmake ninja-build clang libclang-dev perl pkg-config zlib1g-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
command -v cargo >/dev/null || { echo "[build-deps] ERROR: cargo not found; install Rust with rustup" >&2; exit 1; }
if ((${#need[@]})); then
    echo "[build-deps] installing: ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
