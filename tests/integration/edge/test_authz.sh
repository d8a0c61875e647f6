#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Who may post what, against the running edge, the shared broker and a database of its
# own: every cell of the authority matrix (13 client event types x no role, shopper,
# service, admin) is 202 or 403 naming the event's index and type; an accepted event
# carries actor_id / actor_role and the user it was posted for, order events are keyed
# by order id; cross-user cancel and pay, and a reused order id (409), against orders
# already in the read model; nothing from a refused batch reaches a topic. Then a
# PRIVATE PostgreSQL (never the shared one) is stopped: a batch that needs the ownership
# lookup gets 503 + Retry-After, one that does not is still taken.
. "$(dirname "$0")/lib.sh"

BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS
PREFIX="it-authz-$$-$(date +%s)."
DB="it_authz_$$"
MARK="refused-$$"          # every refused event carries this id somewhere
PROTO=$REPO/proto/shopstream/v1/events.proto
cleanup() {
    stop_edge || true
    [ -n "${PG_STATE:-}" ] && { pgctl stop || true; rm -rf "$PG_STATE"; }
    psql "$SHOPSTREAM_IT_PG_DSN" -qc "drop database if exists $DB" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

create_topics "$PREFIX" "$BROKERS"
psql "$SHOPSTREAM_IT_PG_DSN" -qc "create database $DB" >/dev/null
export EDGE_PG_DSN="$SHOPSTREAM_IT_PG_DSN dbname=$DB"
"$ADMIN" migrate --dsn "$EDGE_PG_DSN" >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log"; exit 1; }
# Orders the projector already applied: o-a is shopper ua's, o-b is ub's.
psql "$EDGE_PG_DSN" -q >/dev/null <<'SQL'
insert into orders (order_id, user_id, status, total_minor, currency, placed_at_ms, updated_at_ms)
values ('o-a','ua','placed',500,'GBP',1700000000000,1700000000000),
       ('o-b','ub','placed',900,'GBP',1700000000000,1700000000000);
insert into order_status_history (order_id, status, at_ms, event_id)
values ('o-a','placed',1700000000000,'6f1c0a52-0000-4000-8000-00000000000a');
SQL

start_edge "$PREFIX" "$BROKERS"
NONE=$("$TOKEN" --sub ua)
SHOPPER=$("$TOKEN" --sub ua --role shopper)
SERVICE=$("$TOKEN" --sub payments --role service)
ADMIN_TOK=$("$TOKEN" --sub ops --role admin)
UB=$("$TOKEN" --sub ub)

# ---- the matrix ------------------------------------------------------------------------
# One event per type; ORDER is replaced by a fresh order id per cell. The expected cells
# (shopper service admin): s own, o own order, b on behalf of a user, c catalog, - refused.
TYPES=(product.viewed search.performed cart.item_added cart.item_removed cart.quantity_set
       cart.cleared order.placed order.paid order.shipped order.delivered order.cancelled
       catalog.product_upserted catalog.stock_adjusted)
BODIES=('"product_id":"p1"' '"query":"mug","results":2' '"product_id":"p1","quantity":1'
        '"product_id":"p1"' '"product_id":"p1","quantity":2' ''
        '"order_id":"ORDER","lines":[{"product_id":"p1","quantity":1,"unit_price":{"amount_minor":500,"currency":"GBP"}}]'
        '"order_id":"ORDER","amount":{"amount_minor":500,"currency":"GBP"}' '"order_id":"ORDER","carrier":"RM"'
        '"order_id":"ORDER"' '"order_id":"ORDER"'
        '"product_id":"p-MARK","name":"Mug","price":{"amount_minor":500,"currency":"GBP"},"stock":3'
        '"product_id":"p-MARK","delta":2')
CELLS=(sbb sbb sbb sbb sbb sbb sbb -bb -bb -bb obb --c --c)

# event TYPE_INDEX ORDER_ID USER(or "") SESSION: one event's JSON.
event() {
    local b=${BODIES[$1]//ORDER/$2}
    b=${b//MARK/$4}
    local user=${3:+,\"user_id\":\"$3\"}
    echo "{\"type\":\"${TYPES[$1]}\",\"session_id\":\"$4\"${b:+,$b}$user}"
}

ACCEPTED=0
cell() {   # cell TOKEN ROLE_NAME EXPECT TYPE_INDEX
    local tok=$1 role=$2 want=$3 i=$4
    local sess="s-$role-$i" for="" user=""
    # A service or admin posts for a user named in the body; a shopper for themselves.
    case $role in service|admin) for="u-for-$role" ;; esac
    [ "$want" != c ] && user=$for
    [ "$want" = - ] && sess="$MARK-$role-$i"
    # Tried as the third event of a batch: the index is named, the batch is all or nothing.
    local lead; lead=$(event 0 "" "$for" "$sess")
    post "$tok" "{\"events\":[$lead,$lead,$(event "$i" "m-$$-$role-$i" "$user" "$sess")]}"
    local what="${TYPES[$i]} as $role"
    if [ "$want" = - ]; then
        check "$what: 403 (got $STATUS)" [ "$STATUS" = 403 ]
        check "$what: names index 2, field type and the type" \
            bash -c "jq -e '.event_index == 2 and .field == \"type\" and .event_type == \"${TYPES[$i]}\"' '$TMP/body' >/dev/null"
        return 0
    fi
    check "$what: 202 (got $STATUS $(head -c 200 "$TMP/body"))" [ "$STATUS" = 202 ]
    ACCEPTED=$((ACCEPTED + 3))
    if [ "$want" = b ]; then
        post "$tok" "{\"events\":[$(event "$i" "m2-$$-$role-$i" "" "$sess-nouser")]}"
        check "$what without user_id: 400 naming user_id (got $STATUS)" \
            bash -c "[ $STATUS = 400 ] && jq -e '.field == \"user_id\"' '$TMP/body' >/dev/null"
    fi
}
for i in "${!TYPES[@]}"; do
    c=${CELLS[$i]}
    cell "$NONE" none "${c:0:1}" "$i"
    cell "$SHOPPER" shopper "${c:0:1}" "$i"
    cell "$SERVICE" service "${c:1:1}" "$i"
    cell "$ADMIN_TOK" admin "${c:2:1}" "$i"
done

# ---- actors, users and keys in kafka ----------------------------------------------------
# topic TOPIC OFFSET: the record at OFFSET (one partition) decoded as text.
record() {
    kcat -b "$BROKERS" -C -t "$1" -o "$2" -c 1 -e -q -f '%s' 2>/dev/null >"$TMP/rec.bin" || true
    protoc-c --proto_path="$REPO/proto" --decode=shopstream.v1.Event "$PROTO" <"$TMP/rec.bin" 2>/dev/null
}
ORDER_TOPIC="${PREFIX}order.v1"
kcat -b "$BROKERS" -C -t "$ORDER_TOPIC" -o beginning -e -q -f '%k %o\n' 2>/dev/null >"$TMP/order_keys.txt" || true
check "order.paid posted by service is keyed by its order id" grep -q "^m-$$-service-7 " "$TMP/order_keys.txt"
off=$(awk -v k="m-$$-service-7" '$1 == k {print $2; exit}' "$TMP/order_keys.txt")
record "$ORDER_TOPIC" "${off:-0}" >"$TMP/paid.txt"
check "service's order.paid: actor_id payments, actor_role service" \
    bash -c "grep -q 'actor_id: \"payments\"' '$TMP/paid.txt' && grep -q 'actor_role: \"service\"' '$TMP/paid.txt'"
check "service's order.paid: for the user named in the body" grep -q 'user_id: "u-for-service"' "$TMP/paid.txt"
off=$(awk -v k="m-$$-none-6" '$1 == k {print $2; exit}' "$TMP/order_keys.txt")
record "$ORDER_TOPIC" "${off:-0}" >"$TMP/placed.txt"
check "a token without a role: actor_role shopper, user the subject" \
    bash -c "grep -q 'actor_role: \"shopper\"' '$TMP/placed.txt' && grep -q 'user_id: \"ua\"' '$TMP/placed.txt'"
record "${PREFIX}catalog.v1" 0 >"$TMP/catalog.txt"
check "admin's catalog event: actor_role admin" grep -q 'actor_role: "admin"' "$TMP/catalog.txt"

# ---- ownership against the read model ----------------------------------------------------
expect() {   # expect NAME STATUS INDEX FIELD TYPE
    check "$1: status $2 (got $STATUS $(head -c 200 "$TMP/body"))" [ "$STATUS" = "$2" ]
    check "$1: names index $3, field $4, type $5" \
        bash -c "jq -e '.event_index == $3 and .field == \"$4\" and .event_type == \"$5\"' '$TMP/body' >/dev/null"
}
VIEW='{"type":"product.viewed","product_id":"p1","session_id":"'$MARK'-own"}'
post "$UB" '{"events":['"$VIEW"',{"type":"order.cancelled","order_id":"o-a","session_id":"'$MARK'-own"}]}'
expect "shopper ub cancels ua's order" 403 1 order_id order.cancelled
post "$UB" '{"events":[{"type":"order.paid","order_id":"o-a","amount":{"amount_minor":500,"currency":"GBP"},"session_id":"'$MARK'-own"}]}'
expect "shopper ub pays ua's order" 403 0 type order.paid
post "$UB" '{"events":[{"type":"order.placed","order_id":"o-a","session_id":"'$MARK'-own","lines":[{"product_id":"p1","quantity":1,"unit_price":{"amount_minor":1,"currency":"GBP"}}]}]}'
expect "shopper ub places an order with ua's order id" 409 0 order_id order.placed
check "409 is titled Conflict, status line and body" \
    bash -c "jq -e '.title == \"Conflict\"' '$TMP/body' >/dev/null && grep -q '^HTTP/1.1 409 Conflict' '$TMP/hdrs'"
post "$NONE" '{"events":[{"type":"order.placed","order_id":"o-a","session_id":"'$MARK'-own","lines":[{"product_id":"p1","quantity":1,"unit_price":{"amount_minor":1,"currency":"GBP"}}]}]}'
expect "shopper ua places o-a again" 409 0 order_id order.placed
post "$SERVICE" '{"events":[{"type":"order.placed","order_id":"o-b","user_id":"ub","session_id":"'$MARK'-own","lines":[{"product_id":"p1","quantity":1,"unit_price":{"amount_minor":1,"currency":"GBP"}}]}]}'
expect "a service places an existing order id" 409 0 order_id order.placed
RETRY='{"events":[{"id":"6f1c0a52-0000-4000-8000-00000000000a","type":"order.placed","order_id":"o-a","session_id":"s-retry","lines":[{"product_id":"p1","quantity":1,"unit_price":{"amount_minor":500,"currency":"GBP"}}]}]}'
post "$NONE" "$RETRY"
check "ua posts the event that placed o-a again (a retry, same id): 202 (got $STATUS)" [ "$STATUS" = 202 ]
ACCEPTED=$((ACCEPTED + 1))
post "$UB" "${RETRY//s-retry/$MARK-retry}"
expect "ub posts the id of the event that placed ua's o-a" 409 0 order_id order.placed
P2='{"type":"order.placed","order_id":"o-dup-'$$'","session_id":"'$MARK'-own","lines":[{"product_id":"p1","quantity":1,"unit_price":{"amount_minor":1,"currency":"GBP"}}]}'
post "$UB" '{"events":['"$P2"','"$VIEW"','"$P2"']}'
check "one order id placed twice in a batch: 409 at index 2" \
    bash -c "[ $STATUS = 409 ] && jq -e '.event_index == 2' '$TMP/body' >/dev/null"
post "$NONE" '{"events":[{"type":"order.cancelled","order_id":"o-a","session_id":"s-own"}]}'
check "ua cancels their own order: 202" [ "$STATUS" = 202 ]
post "$SERVICE" '{"events":[{"type":"order.paid","order_id":"o-b","user_id":"ub","amount":{"amount_minor":900,"currency":"GBP"},"session_id":"s-own"},{"type":"order.cancelled","order_id":"o-a","user_id":"ua","session_id":"s-own"}]}'
check "a service pays and cancels any order: 202" [ "$STATUS" = 202 ]
ACCEPTED=$((ACCEPTED + 3))

sleep 1
for s in browse cart order catalog; do
    kcat -b "$BROKERS" -C -t "${PREFIX}$s.v1" -o beginning -e -q -f '%s\n' 2>/dev/null >>"$TMP/values.bin" || true
    kcat -b "$BROKERS" -C -t "${PREFIX}$s.v1" -o beginning -e -q -f '%k\n' 2>/dev/null >>"$TMP/keys.txt" || true
done
check "nothing from a refused batch reached kafka" bash -c "! grep -qa '$MARK' '$TMP/values.bin'"
check "exactly the $ACCEPTED accepted events are in kafka (got $(wc -l <"$TMP/keys.txt"))" \
    [ "$(wc -l <"$TMP/keys.txt")" = "$ACCEPTED" ]
req GET /metrics
check "metrics count the 409s" body_has 'shopstream_edge_requests_total{route="events",status="409"} [1-9]'
stop_edge

# ---- PostgreSQL down for the ownership lookup (a private cluster) ---------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PG_PRIV_PORT=$(free_port)
PG_STATE=$(mktemp -d /tmp/shopstream-pg-authz.XXXXXX)
chmod 755 "$PG_STATE"
pgctl() {
    env -u SHOPSTREAM_PG_DSN SHOPSTREAM_STATE_DIR="$PG_STATE" SHOPSTREAM_PG_PORT="$PG_PRIV_PORT" \
        bash "$REPO/deploy/local/pg.sh" "$1" >>"$TMP/pg.log" 2>&1
}
pgctl start || { cat "$TMP/pg.log"; echo "could not start the private postgresql"; exit 1; }
export EDGE_PG_DSN="host=$PG_STATE/pg/run port=$PG_PRIV_PORT dbname=shopstream user=shopstream"
"$ADMIN" migrate --dsn "$EDGE_PG_DSN" >"$TMP/migrate2.log" 2>&1 || { cat "$TMP/migrate2.log"; exit 1; }
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_EDGE_PG_TIMEOUT_MS=1000
placed() { echo '{"events":[{"type":"order.placed","order_id":"'$1'","session_id":"'$2'","lines":[{"product_id":"p1","quantity":1,"unit_price":{"amount_minor":1,"currency":"GBP"}}]}]}'; }
post "$NONE" "$(placed "o-up-$$" s-pg)"
check "postgresql up: order.placed 202" [ "$STATUS" = 202 ]
pgctl stop
post "$NONE" "$(placed "o-down-$$" "$MARK-pg")"
check "postgresql down: order.placed 503 (got $STATUS)" [ "$STATUS" = 503 ]
check "postgresql down: Retry-After" hdr_has '^retry-after: '
check "postgresql down: the detail says why" body_has 'ownership'
check "postgresql down: the ids are listed for a retry" body_has '"ids":\["'
post "$NONE" '{"events":[{"type":"order.cancelled","order_id":"o-a","session_id":"'$MARK'-pg"}]}'
check "postgresql down: a shopper's cancel 503" [ "$STATUS" = 503 ]
post "$NONE" '{"events":[{"type":"cart.item_added","product_id":"p1","quantity":1,"session_id":"s-pg"}]}'
check "postgresql down: an event without an ownership check is still taken" [ "$STATUS" = 202 ]
post "$SERVICE" '{"events":[{"type":"order.shipped","order_id":"o-a","user_id":"ua","session_id":"s-pg"}]}'
check "postgresql down: a service's order.shipped needs no lookup" [ "$STATUS" = 202 ]
pgctl start
ok=0
for _ in $(seq 1 50); do
    post "$NONE" "$(placed "o-back-$$" s-pg)"
    [ "$STATUS" = 202 ] && { ok=1; break; }
    sleep 0.2
done
check "postgresql back: order.placed 202 again" [ "$ok" = 1 ]
stop_edge
sleep 1
kcat -b "$BROKERS" -C -t "$ORDER_TOPIC" -o beginning -e -q -f '%s\n' 2>/dev/null >"$TMP/values2.bin" || true
check "nothing from the 503s reached kafka" bash -c "! grep -qa '$MARK-pg' '$TMP/values2.bin'"

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
