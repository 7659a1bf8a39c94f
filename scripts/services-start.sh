#!/usr/bin/env bash
# Start the local test services (Kafka broker, PostgreSQL cluster, MLflow tracking server), in
# parallel, and print shell exports for their URLs on stdout:
#
#   eval "$(scripts/services-start.sh)"
#   # -> FW_KAFKA_URL=kafka://127.0.0.1:9092
#   #    FW_POSTGRES_URL=postgres://fraudwatch:fraudwatch@127.0.0.1:55432/fraudwatch
#    FW_MLFLOW_URL=http://127.0.0.1:5050
#
# Idempotent (see kafka-start.sh, postgres-start.sh, mlflow-start.sh); progress goes to stderr.
# Environment: everything those scripts accept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

started=$SECONDS
"$here/postgres-start.sh" >"$tmp/postgres.url" &
pg_pid=$!
"$here/mlflow-start.sh" >"$tmp/mlflow.env" &
mlflow_pid=$!
kafka_rc=0
"$here/kafka-start.sh" >"$tmp/kafka.url" || kafka_rc=$?
pg_rc=0
wait "$pg_pid" || pg_rc=$?
mlflow_rc=0
wait "$mlflow_pid" || mlflow_rc=$?

if ((kafka_rc != 0 || pg_rc != 0 || mlflow_rc != 0)); then
    printf '[services] ERROR: start failed (kafka exit %s, postgres exit %s, mlflow exit %s)\n' \
        "$kafka_rc" "$pg_rc" "$mlflow_rc" >&2
    exit 1
fi
printf '[services] ready after %ss\n' "$((SECONDS - started))" >&2
printf 'export FW_KAFKA_URL=%q\n' "$(<"$tmp/kafka.url")"
printf 'export FW_POSTGRES_URL=%q\n' "$(<"$tmp/postgres.url")"
cat "$tmp/mlflow.env"
