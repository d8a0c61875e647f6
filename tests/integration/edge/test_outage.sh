#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Broker outage against a PRIVATE broker (never the shared one): while it is down,
# posts get 503 with Retry-After and never 202, and no request hangs; once the edge
# knows every broker is down it answers 503 at once without producing (counted, not
# timed); after the broker is back, posts get 202 again and every event that got 202
# is in the topic.
. "$(dirname "$0")/lib.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
KPORT=$(free_port); CPORT=$(free_port)
KSTATE="$TMP/state"
BROKERS="127.0.0.1:$KPORT"
PREFIX="it-edge-outage-$$."
kafka() {
    env -u SHOPSTREAM_KAFKA_BROKERS SHOPSTREAM_STATE_DIR="$KSTATE" SHOPSTREAM_KAFKA_PORT="$KPORT" \
        SHOPSTREAM_KAFKA_CONTROLLER_PORT="$CPORT" SHOPSTREAM_KAFKA_PARTITIONS=1 \
        bash "$REPO/deploy/local/kafka.sh" "$1" >>"$TMP/kafka.log" 2>&1
}
# deploy/local/kafka.sh stop signals the subshell that started java, not java itself, so the
# broker keeps running; stop the java process of OUR private state dir by its pid as well.
broker_pids() { ps -eo pid=,args= | awk -v d="$KSTATE/kafka/" 'index($0, d) && /kafka\.Kafka/ {print $1}'; }
kafka_down() {
    kafka stop || true
    local pids; pids=$(broker_pids)
    [ -z "$pids" ] && return 0
    kill $pids 2>/dev/null || true
    for _ in $(seq 1 60); do [ -z "$(broker_pids)" ] && return 0; sleep 0.5; done
    kill -9 $(broker_pids) 2>/dev/null || true
}
cleanup() { stop_edge || true; kafka_down; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"; }
trap cleanup EXIT

kafka start || { cat "$TMP/kafka.log"; exit 1; }
create_topics "$PREFIX" "$BROKERS"
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_KAFKA_DELIVERY_TIMEOUT_MS=3000 SHOPSTREAM_EDGE_RETRY_AFTER_S=2
U1=$("$TOKEN" --sub u1)

# One request with a client-chosen id; appends "status seconds id retry-after" to results.
shoot() {
    local id; id=$(cat /proc/sys/kernel/random/uuid)
    post "$U1" '{"events":[{"id":"'$id'","type":"product.viewed","product_id":"p1"}]}'
    local ra; ra=$( { grep -i '^retry-after:' "$TMP/hdrs" || true; } | tr -d '\r' | awk '{print $2}')
    echo "$STATUS $id ${ra:-none} $1" >>"$TMP/results"
}

for _ in $(seq 1 50); do shoot before; [ "$STATUS" = 202 ] && break; sleep 0.2; done
check "posts get 202 with the broker up" [ "$STATUS" = 202 ]

kafka_down
check "private broker is down" [ -z "$(broker_pids)" ]
START=$(date +%s)
while [ $(( $(date +%s) - START )) -lt 10 ]; do
    t0=$(date +%s%N); shoot down; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 )) >>"$TMP/latency_ms"
done
check "during the outage no request got 202" bash -c "! grep -q '^202 .* down$' '$TMP/results'"
check "during the outage requests got 503" grep -q '^503 .* down$' "$TMP/results"
check "every 503 carries Retry-After" bash -c "! grep -q '^503 .* none ' '$TMP/results'"
check "only 503 during the outage (no hang, no other status)" bash -c "! grep '^[0-9]* .* down$' '$TMP/results' | grep -vq '^503 '"
MAX_MS=$(sort -n "$TMP/latency_ms" | tail -1)
check "no request hung (slowest ${MAX_MS} ms < 8000)" [ "$MAX_MS" -lt 8000 ]
check "the 503 body lists the event id" grep -q '"ids":\["' "$TMP/body"
# Without the fast path each request would wait the 3 s delivery timeout, so at most
# 10/3 + 1 = 4 requests could finish in the 10 s window; we count them, never time them.
DOWN_N=$(grep -c ' down$' "$TMP/results")
check "503s came at once while down ($DOWN_N requests in the window, > 4 possible if each waited)" [ "$DOWN_N" -gt 4 ]
req GET /metrics
FAST=$(grep '^shopstream_edge_unreachable_rejects_total ' "$TMP/body" | awk '{print $2}')
check "metrics count the fast 503s (${FAST:-none})" [ "${FAST:-0}" -gt 0 ]
check "metrics show the producers down" grep -q '^shopstream_edge_producers_down [12]$' "$TMP/body"
check "the edge logged that kafka is unreachable" grep -q 'kafka unreachable, answering 503 at once' "$TMP/edge.log"

kafka start || { cat "$TMP/kafka.log"; exit 1; }
for _ in $(seq 1 120); do shoot after; [ "$STATUS" = 202 ] && break; sleep 0.5; done
check "posts get 202 after the broker is back" [ "$STATUS" = 202 ]
# Both loop threads must find the broker again, not just the one that served the 202.
for _ in $(seq 1 60); do
    req GET /metrics
    grep -q '^shopstream_edge_producers_down 0$' "$TMP/body" && break
    sleep 0.5
done
check "metrics show no producer down after recovery" grep -q '^shopstream_edge_producers_down 0$' "$TMP/body"
for _ in 1 2 3 4 5; do shoot after; done
sleep 1
kcat -b "$BROKERS" -C -t "${PREFIX}browse.v1" -o beginning -e -q -f '%h\n' 2>/dev/null >"$TMP/topic.txt" || true
missing=0
while read -r status id _ _; do
    [ "$status" = 202 ] || continue
    grep -q "ce_id=$id" "$TMP/topic.txt" || { echo "missing $id"; missing=$((missing + 1)); }
done <"$TMP/results"
check "every event that got 202 is in the topic ($(grep -c '^202' "$TMP/results") accepted)" [ "$missing" = 0 ]

rc=0; stop_edge || rc=$?
check "SIGTERM exits 0" [ "$rc" = 0 ]
echo "failures: $FAILS"
[ "$FAILS" = 0 ]
