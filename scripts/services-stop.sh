#!/usr/bin/env bash
# Stop the local test services started by scripts/services-start.sh.
# Fine if they are not running.
#
# Usage: scripts/services-stop.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
rc=0
"$here/kafka-stop.sh" || rc=1
"$here/postgres-stop.sh" || rc=1
"$here/mlflow-stop.sh" || rc=1
exit "$rc"
