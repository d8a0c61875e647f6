#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SHOPSTREAM_KAFKA_PROPERTIES[_FILE] reach librdkafka in the edge, the worker and
# shopstream-admin: a bad name or value exits 2 listing each; a property the product owns
# (acks, enable.idempotence, enable.auto.commit, ...) is refused; and the properties
# given take effect: client.id and debug show in librdkafka's own log lines.
. "$(dirname "$0")/lib.sh"

"$ADMIN" create-topics --brokers "$BROKERS" --prefix "$PREFIX" --partitions 1 >/dev/null 2>&1 ||
    { echo "create-topics failed"; exit 1; }

# expect_exit2 WHAT PATTERN... -- CMD...: CMD exits 2 and its log matches every PATTERN.
expect_exit2() {
    local what=$1; shift
    local pats=()
    while [ "$1" != "--" ]; do pats+=("$1"); shift; done
    shift
    local rc
    rc=$(exit_code timeout 20 "$@")
    [ "$rc" = 2 ] || { fail "$what: exit $rc, want 2"; head -5 "$TMP/last.log"; return; }
    local p
    for p in "${pats[@]}"; do
        grep -q -- "$p" "$TMP/last.log" || { fail "$what: no \"$p\" in the log"; head -5 "$TMP/last.log"; return; }
    done
    ok "$what"
}

ENV_EDGE=(env SHOPSTREAM_HTTP_HOST=127.0.0.1 SHOPSTREAM_HTTP_PORT=0 SHOPSTREAM_KAFKA_BROKERS="$BROKERS"
          SHOPSTREAM_TOPIC_PREFIX="$PREFIX" SHOPSTREAM_PG_DSN="$SHOPSTREAM_IT_PG_DSN" SHOPSTREAM_EDGE_THREADS=1)
ENV_WORKER=(env SHOPSTREAM_KAFKA_BROKERS="$BROKERS" SHOPSTREAM_TOPIC_PREFIX="$PREFIX"
            SHOPSTREAM_PG_DSN="$SHOPSTREAM_IT_PG_DSN" SHOPSTREAM_KAFKA_GROUP_ID="it-config-$RUN")

expect_exit2 "edge: a bad security.protocol exits 2" 'security.protocol' -- \
    "${ENV_EDGE[@]}" SHOPSTREAM_KAFKA_PROPERTIES='security.protocol=bogus' "$EDGE"
expect_exit2 "edge: every bad property is listed" 'no.such.property' 'linger.ms' 'entry 3: no' -- \
    "${ENV_EDGE[@]}" SHOPSTREAM_KAFKA_PROPERTIES='no.such.property=1;linger.ms=-1;oops' "$EDGE"
expect_exit2 "edge: acks and enable.idempotence cannot be overridden" \
    'acks is set by shopstream and cannot be overridden' 'enable.idempotence is set by shopstream' -- \
    "${ENV_EDGE[@]}" SHOPSTREAM_KAFKA_PROPERTIES='acks=0;enable.idempotence=false' "$EDGE"
expect_exit2 "edge: a certificate file librdkafka cannot load exits 2" 'refused by librdkafka' -- \
    "${ENV_EDGE[@]}" SHOPSTREAM_KAFKA_PROPERTIES='security.protocol=ssl;ssl.ca.location=/nonexistent/ca.pem' "$EDGE"
expect_exit2 "edge: a missing properties file exits 2" '/nonexistent/kafka.properties' -- \
    "${ENV_EDGE[@]}" SHOPSTREAM_KAFKA_PROPERTIES_FILE=/nonexistent/kafka.properties "$EDGE"

expect_exit2 "worker: a bad security.protocol exits 2" 'security.protocol' -- \
    "${ENV_WORKER[@]}" SHOPSTREAM_KAFKA_PROPERTIES='security.protocol=bogus' "$WORKER" --role projector
expect_exit2 "worker: enable.auto.commit and group.id cannot be overridden" \
    'enable.auto.commit is set by shopstream' 'group.id is set by shopstream' -- \
    "${ENV_WORKER[@]}" SHOPSTREAM_KAFKA_PROPERTIES='enable.auto.commit=true;group.id=x' "$WORKER" --role projector

expect_exit2 "admin: a bad security.protocol exits 2" 'security.protocol' -- \
    env SHOPSTREAM_KAFKA_PROPERTIES='security.protocol=bogus' "$ADMIN" create-topics --brokers "$BROKERS" --prefix "$PREFIX"

# The properties take effect: librdkafka names each client "<client.id>#<type>-N" in its
# log lines, and logs at debug level only for the contexts in `debug`.
cat >"$TMP/edge.properties" <<PROPS
# as a Kubernetes Secret would mount it
client.id = it-props-edge-$RUN
debug: broker
PROPS
run_edge "$TMP/edge.log" SHOPSTREAM_PG_DSN="$SHOPSTREAM_IT_PG_DSN" SHOPSTREAM_LOG_LEVEL=debug \
    SHOPSTREAM_KAFKA_PROPERTIES_FILE="$TMP/edge.properties"
if [ -n "$PORT" ] && wait_log "$TMP/edge.log" "client=it-props-edge-$RUN#producer"; then
    ok "edge: client.id and debug from SHOPSTREAM_KAFKA_PROPERTIES_FILE reach librdkafka"
else
    fail "edge: no librdkafka log line from client it-props-edge-$RUN"; tail -5 "$TMP/edge.log"
fi
grep -q "kafka_properties=\"client.id=it-props-edge-$RUN,debug=broker\"" "$TMP/edge.log" &&
    ok "edge: the effective configuration lists the properties" || fail "edge: properties not described"
stop "$EDGE_PID"

run_worker "$TMP/worker.log" SHOPSTREAM_PG_DSN="$SHOPSTREAM_IT_PG_DSN" SHOPSTREAM_LOG_LEVEL=debug \
    SHOPSTREAM_KAFKA_PROPERTIES="client.id=it-props-worker-$RUN;debug=broker"
if wait_log "$TMP/worker.log" "client=it-props-worker-$RUN#consumer"; then
    ok "worker: client.id and debug from SHOPSTREAM_KAFKA_PROPERTIES reach the consumer"
else
    fail "worker: no librdkafka log line from consumer it-props-worker-$RUN"; tail -5 "$TMP/worker.log"
fi
if wait_log "$TMP/worker.log" "client=it-props-worker-$RUN#producer"; then
    ok "worker: and the dead-letter producer"
else
    fail "worker: no librdkafka log line from producer it-props-worker-$RUN"
fi
stop "$WORKER_PID"

[ "$FAILS" -eq 0 ] || exit 1
