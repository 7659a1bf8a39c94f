#!/usr/bin/env bash
# Manage topics on the local broker (127.0.0.1:$FW_KAFKA_PORT, default 9092).
#
# Usage:
#   scripts/kafka-topics.sh create NAME [PARTITIONS]   create if missing (default $FW_KAFKA_PARTITIONS, 4);
#                                                      prints "created NAME P" or "exists NAME P"
#   scripts/kafka-topics.sh create-defaults            the pipeline topics and their .dlq topics
#   scripts/kafka-topics.sh list                       topic names, one per line
#   scripts/kafka-topics.sh describe [NAME...]         "NAME PARTITIONS" per topic
#   scripts/kafka-topics.sh delete NAME...             delete topics (missing ones are ignored)
#
# Replication factor is always 1.  Environment: FW_KAFKA_PORT, FW_KAFKA_PARTITIONS,
# FW_KAFKA_WAIT (seconds to wait for the broker to answer, default 10), FW_CACHE_DIR.
set -euo pipefail

FW_LOG_TAG=kafka-topics
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/kafka.sh
source "$FW_SCRIPTS_DIR/lib/kafka.sh"

usage() {
    sed -n '3,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

WAIT="${FW_KAFKA_WAIT:-10}"
fw_require_uint FW_KAFKA_WAIT "$WAIT"

(($# >= 1)) || usage
cmd="$1"
shift
case "$cmd" in
    create)
        (($# >= 1 && $# <= 2)) || usage
        partitions="${2:-$FW_KAFKA_PARTITIONS}"
        fw_require_uint PARTITIONS "$partitions"
        fw_kafka_resolve
        fw_kafka_admin --wait "$WAIT" create "$1:$partitions"
        ;;
    create-defaults)
        (($# == 0)) || usage
        fw_kafka_resolve
        mapfile -t specs < <(fw_kafka_default_topic_specs)
        fw_kafka_admin --wait "$WAIT" create "${specs[@]}"
        ;;
    list)
        (($# == 0)) || usage
        fw_kafka_resolve
        fw_kafka_admin --wait "$WAIT" list
        ;;
    describe)
        fw_kafka_resolve
        fw_kafka_admin --wait "$WAIT" describe "$@"
        ;;
    delete)
        (($# >= 1)) || usage
        fw_kafka_resolve
        fw_kafka_admin --wait "$WAIT" delete "$@"
        ;;
    -h | --help | help) usage ;;
    *) usage ;;
esac
