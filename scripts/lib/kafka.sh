# shellcheck shell=bash
# Kafka helpers shared by scripts/kafka-*.sh.  Source after lib/common.sh.
#
# Environment (all optional):
#   FW_KAFKA_PORT             client listener on 127.0.0.1 (default 9092)
#   FW_KAFKA_CONTROLLER_PORT  KRaft controller listener on 127.0.0.1 (default 9093)
#   FW_KAFKA_PARTITIONS       partitions for the pipeline topics (default 4)
#   FW_KAFKA_HEAP_OPTS        broker heap flags (default "-Xms256m -Xmx512m")
#   FW_KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 120)
#   FW_MVN                    maven command (default mvn)

FW_KAFKA_PORT="${FW_KAFKA_PORT:-9092}"
FW_KAFKA_CONTROLLER_PORT="${FW_KAFKA_CONTROLLER_PORT:-9093}"
FW_KAFKA_PARTITIONS="${FW_KAFKA_PARTITIONS:-4}"
FW_KAFKA_BOOTSTRAP="127.0.0.1:${FW_KAFKA_PORT}"
FW_KAFKA_POM="$FW_SCRIPTS_DIR/kafka/pom.xml"

# Pipeline topics; each also gets "<topic>.dlq".
FW_KAFKA_TOPICS=(transactions features scores labels drift-alerts)

fw_require_uint FW_KAFKA_PORT "$FW_KAFKA_PORT"
fw_require_uint FW_KAFKA_CONTROLLER_PORT "$FW_KAFKA_CONTROLLER_PORT"
fw_require_uint FW_KAFKA_PARTITIONS "$FW_KAFKA_PARTITIONS"

FW_KAFKA_VERSION="$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$FW_KAFKA_POM")"
[[ -n "$FW_KAFKA_VERSION" ]] || fw_die "cannot read kafka.version from $FW_KAFKA_POM"
FW_KAFKA_HOME="$FW_CACHE_DIR/kafka-$FW_KAFKA_VERSION"
FW_KAFKA_LIBS="$FW_KAFKA_HOME/libs"

fw_sha256() {
    sha256sum "$@" | sha256sum | cut -c1-16
}

# fw_kafka_resolve: make sure $FW_KAFKA_LIBS holds the broker + tools jars and the
# admin helper is compiled.  Uses a stamp so a second run (or another clone) skips maven.
fw_kafka_resolve() {
    command -v java >/dev/null || fw_die "java not found (Java 17+ required)"
    local stamp="$FW_KAFKA_LIBS/.fraudwatch-complete" want
    want="$(fw_sha256 "$FW_KAFKA_POM")"
    mkdir -p "$FW_KAFKA_HOME"
    # Serialize concurrent resolutions (two clones or scripts starting at once).
    exec {FW_KAFKA_RESOLVE_FD}>"$FW_KAFKA_HOME/.lock"
    flock "$FW_KAFKA_RESOLVE_FD"
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        command -v "${FW_MVN:-mvn}" >/dev/null || fw_die "maven (${FW_MVN:-mvn}) not found"
        fw_log "resolving Kafka $FW_KAFKA_VERSION jars with maven into $FW_KAFKA_LIBS"
        local tmp="$FW_KAFKA_HOME/libs.tmp.$$" started=$SECONDS
        rm -rf "$tmp"
        mkdir -p "$tmp"
        if ! "${FW_MVN:-mvn}" -B -ntp -Dstyle.color=never -f "$FW_KAFKA_POM" dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$tmp" >"$FW_KAFKA_HOME/mvn.log" 2>&1; then
            rm -rf "$tmp"
            grep -E 'ERROR|FAIL' "$FW_KAFKA_HOME/mvn.log" | tail -n 20 >&2 || true
            fw_die "maven could not resolve Kafka $FW_KAFKA_VERSION (full log: $FW_KAFKA_HOME/mvn.log)"
        fi
        # mvn leaves a target/ dir next to the pom; keep the clone clean.
        rm -rf "$FW_SCRIPTS_DIR/kafka/target"
        printf '%s\n' "$want" >"$tmp/.fraudwatch-complete"
        rm -rf "$FW_KAFKA_LIBS"
        mv "$tmp" "$FW_KAFKA_LIBS"
        fw_log "resolved $(find "$FW_KAFKA_LIBS" -name '*.jar' | wc -l) jars in $((SECONDS - started))s"
    fi
    fw_kafka_compile_admin
    flock -u "$FW_KAFKA_RESOLVE_FD"
    exec {FW_KAFKA_RESOLVE_FD}>&-
}

# Compiles scripts/kafka/FwKafkaAdmin.java once per source version.
fw_kafka_compile_admin() {
    local src="$FW_SCRIPTS_DIR/kafka/FwKafkaAdmin.java" sum
    sum="$(fw_sha256 "$src")"
    FW_KAFKA_ADMIN_CLASSES="$FW_KAFKA_HOME/fwadmin-$sum"
    [[ -f "$FW_KAFKA_ADMIN_CLASSES/FwKafkaAdmin.class" ]] && return 0
    command -v javac >/dev/null || fw_die "javac not found (install a JDK, e.g. openjdk-17-jdk-headless)"
    local tmp="$FW_KAFKA_ADMIN_CLASSES.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    javac -nowarn -d "$tmp" -cp "$FW_KAFKA_LIBS/*" "$src" >&2 || fw_die "javac failed for $src"
    mv "$tmp" "$FW_KAFKA_ADMIN_CLASSES"
}

# fw_kafka_java MAIN_CLASS ARGS...: run a Kafka tool class with quiet logging.
fw_kafka_java() {
    java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        -Djava.awt.headless=true -Dlog4j2.shutdownHookEnabled=false \
        -Dlog4j2.configurationFile="$FW_SCRIPTS_DIR/kafka/log4j2-tools.properties" \
        -cp "$FW_KAFKA_LIBS/*${FW_KAFKA_ADMIN_CLASSES:+:$FW_KAFKA_ADMIN_CLASSES}" "$@"
}

# fw_kafka_admin [--wait S] [--partitions N] COMMAND ARGS...: run the admin helper.
fw_kafka_admin() {
    fw_kafka_java FwKafkaAdmin --bootstrap "$FW_KAFKA_BOOTSTRAP" "$@"
}

# fw_kafka_default_topic_specs: "NAME:PARTITIONS" for every pipeline topic and its DLQ.
fw_kafka_default_topic_specs() {
    local t
    for t in "${FW_KAFKA_TOPICS[@]}"; do
        printf '%s:%s\n%s.dlq:%s\n' "$t" "$FW_KAFKA_PARTITIONS" "$t" "$FW_KAFKA_PARTITIONS"
    done
}
