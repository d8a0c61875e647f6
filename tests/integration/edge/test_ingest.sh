#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shopstream-edge end to end on the shared broker and database: valid events reach
# Kafka with key and ce_* headers; every bad request gets its status and a problem
# body naming the field, and nothing from a rejected request reaches a topic; CORS;
# reads; /healthz /readyz /metrics; SIGTERM exits 0.
. "$(dirname "$0")/lib.sh"

BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS
PREFIX="it-edge-$$-$(date +%s)."
DB="it_edge_$$"
MARK="reject-$$"        # every rejected request carries this product id
cleanup() {
    stop_edge || true
    psql "$SHOPSTREAM_IT_PG_DSN" -qc "drop database if exists $DB" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

create_topics "$PREFIX" "$BROKERS"
psql "$SHOPSTREAM_IT_PG_DSN" -qc "create database $DB" >/dev/null
export EDGE_PG_DSN="$SHOPSTREAM_IT_PG_DSN dbname=$DB"
"$ADMIN" migrate --dsn "$EDGE_PG_DSN" >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log"; exit 1; }
psql "$EDGE_PG_DSN" -q >/dev/null <<'SQL'
insert into products values ('p1','Mug','kitchen',1250,'GBP',7,3,2,100);
insert into carts values ('u1', 1700000000500);
insert into cart_items values ('u1','p1',2,1250,'GBP',1700000000500), ('u1','p2',1,null,null,1700000000400);
insert into orders values ('o1','u1','paid',2500,'GBP',1700000000000,1700000001000),
                          ('o0','u1','placed',100,'GBP',1600000000000,1600000000000),
                          ('o2','u2','placed',900,'GBP',1700000000000,1700000000000);
insert into order_lines values ('o1',0,'p1',2,1250,'GBP'), ('o2',0,'p9',1,900,'GBP');
insert into order_status_history values
  ('o1','placed',1700000000000,'00000000-0000-4000-8000-000000000001'),
  ('o1','paid',1700000001000,'00000000-0000-4000-8000-000000000002');
SQL

start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_EDGE_BODY_MAX=4096 \
    SHOPSTREAM_EDGE_CORS_ORIGINS="https://shop.example" SHOPSTREAM_JWT_ISSUER=it-issuer
U1=$("$TOKEN" --sub u1 --iss it-issuer)
ADMIN_TOK=$("$TOKEN" --sub ops --role admin --iss it-issuer)
TP=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01

# ---- accepted ---------------------------------------------------------------------
req POST /v1/events -H "Authorization: Bearer $U1" -H 'Content-Type: application/json' \
    -H "traceparent: $TP" --data-binary '{"events":[
     {"type":"cart.item_added","product_id":"p1","quantity":2,"unit_price":{"amount_minor":1250,"currency":"GBP"}},
     {"type":"product.viewed","product_id":"p1"},
     {"type":"order.placed","order_id":"o-'$$'","lines":[{"product_id":"p1","quantity":1,"unit_price":{"amount_minor":1250,"currency":"GBP"}}],"total":{"amount_minor":1250,"currency":"GBP"}}]}'
check "valid JSON batch gets 202" [ "$STATUS" = 202 ]
check "202 body counts the events" body_has '"accepted":3'
CART_ID=$(jq -r '.ids[0]' "$TMP/body")
ORDER_ID=$(jq -r '.ids[2]' "$TMP/body")
consume "$BROKERS" "${PREFIX}cart.v1" >"$TMP/cart.txt"
check "cart event in kafka with key u1 and ce_id" grep -q "key=u1 .*ce_id=$CART_ID" "$TMP/cart.txt"
check "ce_type, ce_source, traceparent headers" \
    grep -q "ce_type=.*cart.item_added.*ce_source=shopstream-edge.*traceparent=$TP" "$TMP/cart.txt"
check "order event in the order topic" bash -c "kcat -b '$BROKERS' -C -t '${PREFIX}order.v1' -o beginning -e -q -f '%h\n' 2>/dev/null | grep -q 'ce_id=$ORDER_ID'"

# Protobuf EventBatch{events:[Event{type:"cart.cleared", cart_cleared:{}}]}, hand-encoded.
printf '\x0a\x11\x12\x0ccart.cleared\xaa\x01\x00' >"$TMP/batch.pb"
req POST /v1/events -H "Authorization: Bearer $U1" -H 'Content-Type: application/x-protobuf' \
    --data-binary "@$TMP/batch.pb"
check "protobuf batch gets 202" [ "$STATUS" = 202 ]

CLIENT_ID=$(cat /proc/sys/kernel/random/uuid)
post "$U1" '{"events":[{"id":"'$CLIENT_ID'","type":"cart.item_removed","product_id":"p1"}]}'
check "client-supplied id is kept" body_has "$CLIENT_ID"

post "$ADMIN_TOK" '{"events":[{"type":"catalog.product_upserted","product_id":"p-'$$'","name":"Cup","price":{"amount_minor":500,"currency":"GBP"},"stock":4}]}'
check "admin catalog event gets 202" [ "$STATUS" = 202 ]
check "catalog event keyed by product id" bash -c "kcat -b '$BROKERS' -C -t '${PREFIX}catalog.v1' -o beginning -e -q -f 'key=%k\n' 2>/dev/null | grep -q 'key=p-$$'"

# ---- rejected: status + problem field, and nothing produced -------------------------
ev() { echo '{"type":"cart.item_added","product_id":"'$MARK'","quantity":1'"${1:-}"'}'; }
expect() {   # expect NAME STATUS FIELD
    check "$1: status $2 (got $STATUS)" [ "$STATUS" = "$2" ]
    check "$1: problem body" grep -q '"status":'"$2" "$TMP/body"
    if [ -n "${3:-}" ]; then check "$1: names field $3" grep -q "\"field\":\"$3\"" "$TMP/body"; fi
}
post "$U1" '{"events":[{"type":"cart.item_added","product_id":"'$MARK'",'
expect "malformed JSON" 400
post "$U1" '{"events":[{"type":"cart.item_added","product_id":"'$MARK'","quantity":"2"}]}'
expect "wrong type" 400 quantity
post "$U1" '{"events":[{"type":"cart.item_added","quantity":2,"session_id":"'$MARK'"}]}'
expect "missing field" 400 product_id
post "$U1" '{"events":['"$(ev ',"bogus":1')"']}'
expect "unknown field" 400 bogus
post "$U1" '{"events":[]}'
expect "empty batch" 400 events
post "$U1" '{"events":['"$(ev)"',{"type":"cart.item_added","product_id":"'$MARK'","quantity":0}]}'
expect "second event invalid" 400
check "names event index 1" body_has '"event_index":1'
post "$U1" '{"events":['"$(ev ',"user_id":"u2"')"']}'
expect "event claiming another user" 403 user_id
post "$U1" '{"events":[{"type":"catalog.stock_adjusted","product_id":"'$MARK'","delta":5}]}'
expect "non-admin catalog event" 403 type
BIG=$(head -c 6000 /dev/zero | tr '\0' 'x')
post "$U1" '{"events":['"$(ev ',"session_id":"'$BIG'"')"']}'
expect "oversized body" 413 body
check "413 names the limit" body_has 'larger than 4096 bytes'
# Far past any buffering room (2 x limit + 64 KiB used to get h2o's own text/plain 413):
# h2o refuses it from Content-Length alone, and the answer is still our problem JSON.
head -c 300000 /dev/zero | tr '\0' 'x' >"$TMP/huge"
req POST /v1/events -H "Authorization: Bearer $U1" -H 'Content-Type: application/json' --data-binary "@$TMP/huge"
expect "huge body" 413 body
check "huge body: problem content type" hdr_has '^content-type: application/problem+json'
check "huge body: names the limit" body_has 'larger than 4096 bytes'
req POST /v1/events -H "Authorization: Bearer $U1" -H 'Content-Type: application/json' \
    -H 'Transfer-Encoding: chunked' --data-binary "@$TMP/huge"
expect "huge chunked body" 413 body
check "huge chunked body: problem content type" hdr_has '^content-type: application/problem+json'
req POST /v1/events -H "Authorization: Bearer $U1" -H 'Content-Type: text/plain' --data-binary "{\"events\":[$(ev)]}"
expect "wrong content type" 415
req POST /v1/events -H 'Content-Type: application/json' --data-binary "{\"events\":[$(ev)]}"
expect "no token" 401
check "401 has WWW-Authenticate" hdr_has '^www-authenticate: Bearer'
post "garbage.token.here" "{\"events\":[$(ev)]}"
expect "bad token" 401
post "$("$TOKEN" --sub u1 --iss it-issuer --exp-s 1000)" "{\"events\":[$(ev)]}"
expect "expired token" 401
post "$("$TOKEN" --sub u1)" "{\"events\":[$(ev)]}"
expect "token without the configured issuer" 401
post "$(SHOPSTREAM_JWT_SECRET=another-secret-another-secret-0000 "$TOKEN" --sub u1 --iss it-issuer)" "{\"events\":[$(ev)]}"
expect "token with another secret" 401
NONE="$(printf '{"alg":"none","typ":"JWT"}' | b64url).$(printf '{"sub":"u1","iss":"it-issuer","exp":9999999999}' | b64url)."
post "$NONE" "{\"events\":[$(ev)]}"
expect "alg none token" 401
req GET /v1/events -H "Authorization: Bearer $U1"
expect "wrong method" 405
sleep 1
for s in browse cart order catalog; do
    consume "$BROKERS" "${PREFIX}$s.v1" >>"$TMP/all.txt"
    kcat -b "$BROKERS" -C -t "${PREFIX}$s.v1" -o beginning -e -q -f '%s\n' 2>/dev/null >>"$TMP/values.bin" || true
done
check "nothing from rejected requests reached kafka" bash -c "! grep -qa '$MARK' '$TMP/values.bin' '$TMP/all.txt'"
check "exactly the 6 accepted events are in kafka" [ "$(grep -c '^key=' "$TMP/all.txt")" = 6 ]

# ---- CORS ----------------------------------------------------------------------------
req OPTIONS /v1/events -H 'Origin: https://shop.example' -H 'Access-Control-Request-Method: POST' \
    -H 'Access-Control-Request-Headers: authorization, content-type, traceparent'
check "preflight 204" [ "$STATUS" = 204 ]
check "preflight allow-origin" hdr_has '^access-control-allow-origin: https://shop.example'
check "preflight allow-headers" hdr_has '^access-control-allow-headers: Authorization, Content-Type, traceparent'
check "preflight max-age" hdr_has '^access-control-max-age: '
req OPTIONS /v1/events -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'
check "preflight from unknown origin 403" [ "$STATUS" = 403 ]
check "refused preflight is a problem body" hdr_has '^content-type: application/problem+json'
check "refused preflight names the origin" body_has '"field":"origin"'
req GET /healthz -H 'Origin: https://shop.example'
check "actual request carries allow-origin" hdr_has '^access-control-allow-origin: https://shop.example'

# ---- reads ---------------------------------------------------------------------------
req GET /v1/products/p1 -H "Authorization: Bearer $U1"
check "product 200" [ "$STATUS" = 200 ]
# products.stock (7 here) is no longer written: the stock is the inventory's, none yet.
check "product body" [ "$(jq -c '[.name,.price.amount_minor,.price.currency,.views,.purchases,has("stock"),.available]' "$TMP/body")" = '["Mug",1250,"GBP",3,2,false,0]' ]
req GET /v1/products/nope -H "Authorization: Bearer $U1"
check "unknown product 404" [ "$STATUS" = 404 ]
req GET /v1/products/p1
check "read without token 401" [ "$STATUS" = 401 ]
req GET /v1/me/cart -H "Authorization: Bearer $U1"
check "cart 200" [ "$STATUS" = 200 ]
check "cart body" [ "$(jq -c '[.user_id,(.items|length),.items[0].product_id,.items[0].quantity,.items[0].unit_price.amount_minor,.updated_at]' "$TMP/body")" = '["u1",2,"p1",2,1250,1700000000500]' ]
req GET /v1/me/orders -H "Authorization: Bearer $U1"
check "orders newest first, own only" [ "$(jq -c '[.orders[].order_id]' "$TMP/body")" = '["o1","o0"]' ]
req GET /v1/orders/o1 -H "Authorization: Bearer $U1"
check "own order 200" [ "$STATUS" = 200 ]
check "order body" [ "$(jq -c '[.status,.total.amount_minor,(.lines|length),[.history[].status],.placed_at]' "$TMP/body")" = '["paid",2500,1,["placed","paid"],1700000000000]' ]
req GET /v1/orders/o2 -H "Authorization: Bearer $U1"
check "another user's order 404" [ "$STATUS" = 404 ]
req GET /v1/orders/o2 -H "Authorization: Bearer $ADMIN_TOK"
check "admin reads any order" [ "$STATUS" = 200 ]

# ---- probes --------------------------------------------------------------------------
req GET /healthz;  check "healthz 200" [ "$STATUS" = 200 ]
req GET /readyz;   check "readyz 200" [ "$STATUS" = 200 ]
req GET /metrics
check "metrics 200" [ "$STATUS" = 200 ]
check "metrics: requests by route and status" body_has 'shopstream_edge_requests_total{route="events",status="202"}'
check "metrics: produced by stream" body_has 'shopstream_edge_events_produced_total{stream="cart"} [1-9]'
check "metrics: latency histogram" body_has 'shopstream_edge_produce_latency_seconds_count [1-9]'
check "metrics: queue depth and in-flight" bash -c "grep -q shopstream_edge_producer_queue_depth '$TMP/body' && grep -q 'shopstream_edge_inflight_events 0' '$TMP/body'"

rc=0; stop_edge || rc=$?
check "SIGTERM exits 0" [ "$rc" = 0 ]

# ---- overload: more events than SHOPSTREAM_EDGE_MAX_INFLIGHT -------------------------
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_EDGE_MAX_INFLIGHT=1 SHOPSTREAM_JWT_ISSUER=it-issuer
post "$U1" '{"events":[{"type":"product.viewed","product_id":"'$MARK'"},{"type":"product.viewed","product_id":"'$MARK'"}]}'
check "over the in-flight limit: 503" [ "$STATUS" = 503 ]
check "over the in-flight limit: Retry-After" hdr_has '^retry-after: '
check "over the in-flight limit: ids listed" body_has '"ids":\["'
post "$U1" '{"events":[{"type":"product.viewed","product_id":"p1"}]}'
check "within the in-flight limit: 202" [ "$STATUS" = 202 ]
stop_edge
check "nothing from the overloaded request reached kafka" bash -c "! kcat -b '$BROKERS' -C -t '${PREFIX}browse.v1' -o beginning -e -q -f '%s\n' 2>/dev/null | grep -qa '$MARK'"

# ---- bad config ------------------------------------------------------------------------
rc=0; env -i SHOPSTREAM_HTTP_PORT=x "$EDGE" 2>"$TMP/badcfg.log" || rc=$?
check "bad config exits 2" [ "$rc" = 2 ]
check "bad config lists every error" [ "$(grep -c 'bad configuration' "$TMP/badcfg.log")" -ge 4 ]

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
