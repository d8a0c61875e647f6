#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Starts, stops and reports a single-node Apache Kafka broker in KRaft combined
# mode, with its data and log under $SHOPSTREAM_STATE_DIR/kafka.
# Usage: kafka.sh start|stop|status
set -euo pipefail
. "$(dirname "$0")/env.sh"

dir=$SHOPSTREAM_STATE_DIR/kafka
pidfile=$dir/kafka.pid

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

ready() { kcat -b "$SHOPSTREAM_KAFKA_BROKERS" -L -m 3 >/dev/null 2>&1; }

write_config() {
    cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$SHOPSTREAM_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$SHOPSTREAM_KAFKA_PORT,CONTROLLER://127.0.0.1:$SHOPSTREAM_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$SHOPSTREAM_KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
# Topics are created by shopstream-admin, never by a stray producer.
auto.create.topics.enable=false
num.partitions=$SHOPSTREAM_KAFKA_PARTITIONS
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
min.insync.replicas=1
log.retention.hours=-1
PROPS
    cat > "$dir/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.logger.kafka=INFO
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
}

java_run() {
    java $SHOPSTREAM_KAFKA_HEAP -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$dir/log4j.properties" \
        -cp "$SHOPSTREAM_KAFKA_JARS/*" "$@"
}

start() {
    if running; then log "kafka already running (pid $(cat "$pidfile"))"; return 0; fi
    [ -f "$SHOPSTREAM_KAFKA_JARS/.complete" ] || die "kafka jars missing: run deploy/local/install.sh"
    mkdir -p "$dir"
    write_config
    if [ ! -f "$dir/data/meta.properties" ]; then
        log "formatting kafka storage"
        java_run kafka.tools.StorageTool format -t "$(java_run kafka.tools.StorageTool random-uuid)" \
            -c "$dir/server.properties" >"$dir/format.log" 2>&1 || { cat "$dir/format.log"; die "kafka format failed"; }
    fi
    log "starting kafka on 127.0.0.1:$SHOPSTREAM_KAFKA_PORT"
    # exec, so the pid saved below is the JVM's own and `stop` really stops the broker.
    (exec java $SHOPSTREAM_KAFKA_HEAP -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$dir/log4j.properties" \
        -cp "$SHOPSTREAM_KAFKA_JARS/*" kafka.Kafka "$dir/server.properties") </dev/null >"$dir/stdout.log" 2>&1 &
    echo $! > "$pidfile"
    # An open port is not a ready broker: wait for a metadata answer.
    for _ in $(seq 1 120); do
        if ready; then log "kafka ready"; return 0; fi
        running || { tail -n 30 "$dir/stdout.log" "$dir/server.log" 2>/dev/null; die "kafka exited during start"; }
        sleep 0.5
    done
    die "kafka did not answer metadata within 60 s (see $dir/server.log)"
}

stop() {
    running || { rm -f "$pidfile"; return 0; }
    local pid; pid=$(cat "$pidfile")
    log "stopping kafka (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if running && ready; then echo "kafka: up"; else echo "kafka: down"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
