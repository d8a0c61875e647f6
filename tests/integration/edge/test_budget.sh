#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What requests may hold: past SHOPSTREAM_EDGE_MAX_INFLIGHT_BYTES of requests waiting for
# the broker, a request gets 503 + Retry-After at once although the event limit has room
# (one event plus 560 kB of white space each); a batch of more than 500 events
# is refused as such before the body is decoded, in JSON and protobuf.
. "$(dirname "$0")/lib.sh"
RAW="python3 $(dirname "$0")/rawhttp.py"

BH_FD=
cleanup() {
    if [ -n "$BH_FD" ]; then exec {BH_FD}>&-; fi
    stop_edge || true
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
U1=$("$TOKEN" --sub u1)

# ---- the early refusal of an over-long batch (the shared broker; nothing is produced) ----
PREFIX="it-edge-budget-$$."
create_topics "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS"
start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS"
# 501 events, then a broken tail: decoding all of it would fail on the tail; counting
# stops at event 501.
python3 -c 'import sys; sys.stdout.write("{\"events\":[" + "{\"type\":\"product.viewed\",\"product_id\":\"p\"}," * 501 + "}broken")' >"$TMP/long.json"
req POST /v1/events -H "Authorization: Bearer $U1" -H 'Content-Type: application/json' \
    --data-binary "@$TMP/long.json"
check "JSON batch of 501 events with a broken tail: 400 (got $STATUS)" [ "$STATUS" = 400 ]
check "JSON: refused for its length, before decoding" bash -c "grep -q '\"field\":\"events\"' '$TMP/body' && grep -q 'at most 500 events' '$TMP/body'"
# EventBatch with 501 empty Event records (0a 00), then a field with a length past the end.
python3 -c 'import sys; sys.stdout.buffer.write(b"\x0a\x00" * 501 + b"\x0a\x7f")' >"$TMP/long.pb"
req POST /v1/events -H "Authorization: Bearer $U1" -H 'Content-Type: application/x-protobuf' \
    --data-binary "@$TMP/long.pb"
check "protobuf batch of 501 events with a broken tail: 400 (got $STATUS)" [ "$STATUS" = 400 ]
check "protobuf: refused for its length, before decoding" bash -c "grep -q '\"field\":\"events\"' '$TMP/body' && grep -q 'at most 500 events' '$TMP/body'"
stop_edge

# ---- bytes in flight -----------------------------------------------------------------
# A broker that accepts connections and never answers keeps every produced event in
# flight until the delivery timeout.
rm -f "$TMP/bh.in"; mkfifo "$TMP/bh.in"
$RAW blackhole <"$TMP/bh.in" >"$TMP/bh.port" &
exec {BH_FD}>"$TMP/bh.in"
for _ in $(seq 1 50); do [ -s "$TMP/bh.port" ] && break; sleep 0.1; done
BH="127.0.0.1:$(cat "$TMP/bh.port")"
start_edge "it-edge-budget-bh-$$." "$BH" SHOPSTREAM_EDGE_BODY_MAX=600000 \
    SHOPSTREAM_EDGE_MAX_INFLIGHT_BYTES=1048576 SHOPSTREAM_KAFKA_DELIVERY_TIMEOUT_MS=10000 \
    SHOPSTREAM_EDGE_RETRY_AFTER_S=3 SHOPSTREAM_EDGE_THREADS=1
# One event and 560000 bytes of white space: more than half the byte budget.
python3 -c 'import sys; sys.stdout.write("{\"events\":[{\"type\":\"product.viewed\",\"product_id\":\"p1\"}]}" + " " * 560000)' >"$TMP/fat.json"
curl -s -o "$TMP/first.body" -w '%{http_code}' --max-time 60 -X POST "http://127.0.0.1:$PORT/v1/events" \
    -H "Authorization: Bearer $U1" -H 'Content-Type: application/json' \
    --data-binary "@$TMP/fat.json" >"$TMP/first.status" &
FIRST=$!
inflight() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^shopstream_edge_inflight_events /{print $2}'; }
for _ in $(seq 1 100); do [ "$(inflight)" = 1 ] && break; sleep 0.1; done
check "the first request waits for the broker" [ "$(inflight)" = 1 ]
T0=$(date +%s)
req POST /v1/events -H "Authorization: Bearer $U1" -H 'Content-Type: application/json' \
    --data-binary "@$TMP/fat.json"
check "second fat request past the byte budget: 503 (got $STATUS)" [ "$STATUS" = 503 ]
check "503 says bytes, not events" body_has 'too many bytes in flight'
check "503 carries Retry-After" hdr_has '^retry-after: 3'
check "the event limit had room (one event in flight)" [ "$(inflight)" = 1 ]
post "$U1" '{"events":[{"type":"product.viewed","product_id":"p1"}]}' &
SMALL=$!
for _ in $(seq 1 100); do [ "$(inflight)" = 2 ] && break; sleep 0.1; done
check "a small request still fits beside the first" [ "$(inflight)" = 2 ]
kill "$SMALL" "$FIRST" 2>/dev/null || true
wait "$SMALL" "$FIRST" 2>/dev/null || true
check "edge exits 0 on SIGTERM" stop_edge

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
