#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the edge publishes from client input, against the real broker: protobuf unknown
# fields are dropped, not republished; duplicate ids inside one batch are refused (400
# naming the second occurrence); an event past SHOPSTREAM_EDGE_EVENT_MAX is 413 naming it;
# a record the broker refuses as too large (the topic's max.message.bytes) is 413 naming
# the event, not a retriable 503, and the producer goes on working.
. "$(dirname "$0")/lib.sh"

BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS
PREFIX="it-input-$$-$(date +%s)."
DB="it_input_$$"
cleanup() { stop_edge || true; drop_edge_db "$DB"; rm -rf "$TMP"; }
trap cleanup EXIT
create_topics "$PREFIX" "$BROKERS"
make_edge_db "$DB"

start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_EDGE_EVENT_MAX=1024
U1=$("$TOKEN" --sub u1)
expect() {   # expect NAME STATUS [FIELD] [INDEX]
    check "$1: status $2 (got $STATUS)" [ "$STATUS" = "$2" ]
    check "$1: problem body" grep -q '"status":'"$2" "$TMP/body"
    if [ -n "${3:-}" ]; then check "$1: names field $3" grep -q "\"field\":\"$3\"" "$TMP/body"; fi
    if [ -n "${4:-}" ]; then check "$1: names event $4" grep -q "\"event_index\":$4" "$TMP/body"; fi
}

# ---- protobuf unknown fields -----------------------------------------------------------
# EventBatch{events:[Event{type:"cart.cleared", cart_cleared:{#1000:"NESTEDXX"},
# #1000:"SMUGGLEDSMUGGLED"}]}, hand-encoded; tag 1000 wire type 2 is the varint c2 3e.
printf '\x0a\x2f\x12\x0ccart.cleared\xaa\x01\x0b\xc2\x3e\x08NESTEDXX\xc2\x3e\x10SMUGGLEDSMUGGLED' >"$TMP/unknown.pb"
req POST /v1/events -H "Authorization: Bearer $U1" -H 'Content-Type: application/x-protobuf' \
    --data-binary "@$TMP/unknown.pb"
check "protobuf event with unknown fields gets 202 (got $STATUS)" [ "$STATUS" = 202 ]
kcat -b "$BROKERS" -C -t "${PREFIX}cart.v1" -o beginning -e -q -f '%s\n' 2>/dev/null >"$TMP/cart.bin" || true
check "the event reached kafka" [ -s "$TMP/cart.bin" ]
check "unknown fields are not republished" bash -c "! grep -qa -e SMUGGLED -e NESTEDXX '$TMP/cart.bin'"

# ---- duplicate ids inside one batch ----------------------------------------------------
ID1=$(cat /proc/sys/kernel/random/uuid)
ID2=$(cat /proc/sys/kernel/random/uuid)
MARK="dup-$$"
post "$U1" '{"events":[{"id":"'$ID1'","type":"product.viewed","product_id":"'$MARK'"},
  {"id":"'$ID2'","type":"product.viewed","product_id":"'$MARK'"},
  {"type":"product.viewed","product_id":"'$MARK'"},
  {"id":"'$ID1'","type":"cart.item_removed","product_id":"'$MARK'"},
  {"id":"'$ID2'","type":"product.viewed","product_id":"'$MARK'"}]}'
expect "duplicate id in a batch" 400 id 3
post "$U1" '{"events":[{"id":"'$ID1'","type":"product.viewed","product_id":"p1"},
  {"id":"'$ID2'","type":"product.viewed","product_id":"p1"}]}'
check "distinct ids get 202 (got $STATUS)" [ "$STATUS" = 202 ]

# ---- one event's encoded size (SHOPSTREAM_EDGE_EVENT_MAX=1024) ---------------------------
line() { echo '{"product_id":"p-'"$1"'-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","quantity":1,"unit_price":{"amount_minor":5,"currency":"GBP"}}'; }
lines() { local n=$1 out="" i; for i in $(seq 1 "$n"); do out="$out${out:+,}$(line "$i")"; done; echo "$out"; }
order() { echo '{"type":"order.placed","order_id":"'"$1"'","lines":['"$(lines "$2")"'],"total":{"amount_minor":'$((5 * $2))',"currency":"GBP"}}'; }
post "$U1" '{"events":[{"type":"cart.cleared"},'"$(order "big-$MARK" 20)"']}'
expect "event over SHOPSTREAM_EDGE_EVENT_MAX" 413 "" 1
check "413 names the limit" body_has 'more than 1024'
stop_edge

# ---- the broker refuses a record as too large --------------------------------------------
java -cp "${SHOPSTREAM_KAFKA_JARS:-${XDG_CACHE_HOME:-$HOME/.cache}/shopstream/kafka-3.9.1}/*" kafka.admin.ConfigCommand --bootstrap-server "$BROKERS" \
    --alter --entity-type topics --entity-name "${PREFIX}order.v1" \
    --add-config max.message.bytes=1500 >"$TMP/config.log" 2>&1 ||
    { cat "$TMP/config.log"; echo "could not set max.message.bytes"; exit 1; }
sleep 1   # the leader applies topic configuration asynchronously
start_edge "$PREFIX" "$BROKERS"
post "$U1" '{"events":[{"type":"cart.cleared"},'"$(order "big-$MARK" 20)"']}'
expect "record the broker refuses as too large" 413 "" 1
check "not a 503: no Retry-After" bash -c "! grep -qi '^retry-after:' '$TMP/hdrs'"
check "413 lists the ids" body_has '"ids":\["'
post "$U1" '{"events":['"$(order "small-$MARK" 1)"']}'
check "the producer goes on: a small order gets 202 (got $STATUS)" [ "$STATUS" = 202 ]
stop_edge
check "no fatal producer error logged" bash -c "! grep -q 'failed fatally' '$TMP/edge.log'"

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
