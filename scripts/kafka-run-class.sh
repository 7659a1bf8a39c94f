#!/usr/bin/env bash
# Run any Kafka command-line class with the cached Kafka jars (quiet logging on stderr).
#
# Usage: scripts/kafka-run-class.sh CLASS [ARGS...]
# Examples:
#   scripts/kafka-run-class.sh org.apache.kafka.tools.ConsoleProducer \
#       --bootstrap-server 127.0.0.1:9092 --topic transactions
#   scripts/kafka-run-class.sh org.apache.kafka.tools.consumer.ConsoleConsumer \
#       --bootstrap-server 127.0.0.1:9092 --topic transactions --from-beginning --max-messages 1
#   scripts/kafka-run-class.sh org.apache.kafka.tools.TopicCommand \
#       --bootstrap-server 127.0.0.1:9092 --describe --topic transactions
#   scripts/kafka-run-class.sh org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
#       --bootstrap-server 127.0.0.1:9092 --list
# Environment: FW_CACHE_DIR (jar cache), FW_MVN.
set -euo pipefail

FW_LOG_TAG=kafka
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/kafka.sh
source "$FW_SCRIPTS_DIR/lib/kafka.sh"

if (($# < 1)); then
    sed -n '4,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
    exit 2
fi
fw_kafka_resolve
fw_kafka_java "$@"
