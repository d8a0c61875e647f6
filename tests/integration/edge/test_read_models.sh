#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The read endpoints against the read models, through the real edge and PostgreSQL:
# rows inserted with psql are read back. GET /v1/me/orders pages with a cursor: a user
# with several pages walks them to the end and sees each order exactly once, in page
# order, also while orders are inserted meanwhile; bad ?limit= / ?cursor= / unknown
# parameters are 400 naming them; nobody sees another user's orders.
. "$(dirname "$0")/lib.sh"

PREFIX="it-edge-models-$$."
DB="it_edge_models_$$"
cleanup() {
    stop_edge || true
    psql "$SHOPSTREAM_IT_PG_DSN" -qc "drop database if exists $DB" >/dev/null 2>&1 || true
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

create_topics "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS"
psql "$SHOPSTREAM_IT_PG_DSN" -qc "create database $DB" >/dev/null
export EDGE_PG_DSN="$SHOPSTREAM_IT_PG_DSN dbname=$DB"
"$ADMIN" migrate --dsn "$EDGE_PG_DSN" >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log"; exit 1; }
sql() { psql "$EDGE_PG_DSN" -qAtX -v ON_ERROR_STOP=1 "$@"; }

# u1: 45 orders, three per millisecond (the order id breaks the ties); u2: 5; u3: 3.
sql >/dev/null <<'SQL'
insert into orders
  select 'o-' || lpad(i::text, 3, '0'), 'u1', 'placed', 100 * i, 'GBP',
         1700000000000 + (i / 3) * 1000, 1700000000000 + (i / 3) * 1000
  from generate_series(1, 45) i;
insert into orders
  select 'x-' || i, 'u2', 'placed', 100, 'GBP', 1700000000000 + i * 1000, 1700000000000 + i * 1000
  from generate_series(1, 5) i;
insert into orders
  select 'y-' || i, 'u3', 'placed', 100, 'GBP', 1700000000000 + i, 1700000000000 + i
  from generate_series(1, 3) i;
SQL
start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS"
U1=$("$TOKEN" --sub u1)
U2=$("$TOKEN" --sub u2)
U3=$("$TOKEN" --sub u3)
U4=$("$TOKEN" --sub u4)

# walk TOKEN LIMIT [HOOK]: follows "next" to the end; every order id, one a line, in
# $TMP/walk, the number of pages in PAGES. HOOK runs after the first page.
walk() {
    local tok=$1 limit=$2 hook=${3:-} next="" q
    : >"$TMP/walk"
    PAGES=0
    while :; do
        q="?limit=$limit"
        [ -z "$next" ] || q="$q&cursor=$next"
        req GET "/v1/me/orders$q" -H "Authorization: Bearer $tok"
        [ "$STATUS" = 200 ] || { fail "page $PAGES: status $STATUS $(cat "$TMP/body")"; return 1; }
        jq -r '.orders[].order_id' "$TMP/body" >>"$TMP/walk"
        PAGES=$((PAGES + 1))
        next=$(jq -r '.next // empty' "$TMP/body")
        [ "$PAGES" = 1 ] && [ -n "$hook" ] && "$hook"
        [ -n "$next" ] || break
        [ "$PAGES" -lt 100 ] || { fail "more than 100 pages"; return 1; }
    done
}
expected() { sql -c "select order_id from orders where user_id = '$1' order by placed_at_ms desc, order_id"; }

# ---- a cursor walk sees every order once, in order -----------------------------------
expected u1 >"$TMP/want"
walk "$U1" 7
check "u1 walked 45 orders in 7 pages of 7 (got $PAGES pages)" [ "$PAGES" = 7 ]
check "every order exactly once, newest first, ties by order id" diff "$TMP/want" "$TMP/walk"
check "no order seen twice" [ "$(sort "$TMP/walk" | uniq -d | wc -l)" = 0 ]
req GET "/v1/me/orders?limit=7" -H "Authorization: Bearer $U1"
check "a first page has 7 orders and a next cursor" \
    [ "$(jq -c '[(.orders|length), (.next|type), .user_id]' "$TMP/body")" = '[7,"string","u1"]' ]
check "pages keep the order fields" \
    [ "$(jq -c '.orders[0] | keys' "$TMP/body")" = '["order_id","placed_at","status","total","updated_at"]' ]
walk "$U1" 45
check "a limit of exactly every order: one page, next null" [ "$PAGES" = 1 ]
check "... with all 45" [ "$(wc -l <"$TMP/walk")" = 45 ]
walk "$U1" 44
check "one order past the limit: a second page with that one" \
    [ "$PAGES:$(tail -n 1 "$TMP/walk")" = "2:$(tail -n 1 "$TMP/want")" ]

# ---- the default page and the bound --------------------------------------------------
req GET /v1/me/orders -H "Authorization: Bearer $U1"
check "default page: 20 orders and a next cursor" \
    [ "$(jq -c '[(.orders|length), (.next|type)]' "$TMP/body")" = '[20,"string"]' ]
req GET "/v1/me/orders?limit=100" -H "Authorization: Bearer $U1"
check "limit 100 (the max) takes every order" \
    [ "$(jq -c '[(.orders|length), .next]' "$TMP/body")" = '[45,null]' ]
req GET /v1/me/orders -H "Authorization: Bearer $U3"
check "one page only: next is null" [ "$(jq -c '[(.orders|length), .next]' "$TMP/body")" = '[3,null]' ]
req GET /v1/me/orders -H "Authorization: Bearer $U4"
check "no orders: empty page, next null" [ "$(jq -c '[.orders, .next]' "$TMP/body")" = '[[],null]' ]

# ---- stable while orders arrive --------------------------------------------------------
# After the first page: one order newer than every other (before the cursor: not on a later
# page), one older (after it: on a later page) and one inside the walked range.
arrive() {
    sql -c "insert into orders values
      ('n-new','u1','placed',1,'GBP',1800000000000,1800000000000),
      ('n-old','u1','placed',1,'GBP',1600000000000,1600000000000),
      ('n-mid','u1','placed',1,'GBP',1700000003000,1700000003000)" >/dev/null
}
walk "$U1" 6 arrive
check "orders arriving meanwhile shift nothing: every first order once" \
    [ "$(grep -c '^o-' "$TMP/walk")" = 45 ]
check "... none twice" [ "$(sort "$TMP/walk" | uniq -d | wc -l)" = 0 ]
check "... the newer one is not on a later page, the older one is" \
    bash -c "! grep -q '^n-new$' '$TMP/walk' && grep -q '^n-old$' '$TMP/walk'"
expected u1 | grep -v -e '^n-new$' -e '^n-mid$' >"$TMP/want2"
grep -v '^n-mid$' "$TMP/walk" >"$TMP/walk2"
check "... and the order is still the page order" diff "$TMP/want2" "$TMP/walk2"
sql -c "delete from orders where order_id like 'n-%'" >/dev/null

# ---- nobody sees another user's orders -----------------------------------------------
walk "$U2" 2
check "u2 sees its 5 orders and none of u1's" [ "$(sort "$TMP/walk" | tr '\n' ' ')" = "x-1 x-2 x-3 x-4 x-5 " ]
req GET "/v1/me/orders?limit=3" -H "Authorization: Bearer $U1"
U1_NEXT=$(jq -r '.next' "$TMP/body")
req GET "/v1/me/orders?limit=50&cursor=$U1_NEXT" -H "Authorization: Bearer $U2"
check "u1's cursor in u2's hands still shows u2's orders only" \
    [ "$STATUS:$(jq -r '[.orders[].order_id | select(startswith("x-") | not)] | length' "$TMP/body")" = "200:0" ]

# ---- bad parameters: 400 naming them ---------------------------------------------------
expect400() {   # expect400 QUERY FIELD
    req GET "/v1/me/orders?$1" -H "Authorization: Bearer $U1"
    check "?$1: 400 naming $2 (got $STATUS $(cat "$TMP/body"))" \
        [ "$STATUS:$(jq -r '.field' "$TMP/body" 2>/dev/null)" = "400:$2" ]
}
expect400 "limit=0" limit
expect400 "limit=101" limit
expect400 "limit=ten" limit
expect400 "cursor=not-a-cursor" cursor
expect400 "cursor=" cursor
expect400 "cursor=%zz" cursor
expect400 "limit=5&limit=6" limit
expect400 "page=2" page
check "an unknown parameter is called that" body_has '"detail":"unknown query parameter"'
req GET "/v1/me/orders?limit=101" -H "Authorization: Bearer $U1"
check "the limit's detail names the bound" body_has '"detail":"must be an integer from 1 to 100"'
check "a 400 is a problem body" hdr_has '^content-type: application/problem+json'
req GET "/v1/products/p1?limit=1" -H "Authorization: Bearer $U1"
check "a parameter the route does not take is a 400 naming it" \
    [ "$STATUS:$(jq -r '.field' "$TMP/body")" = "400:limit" ]
req GET "/v1/me/orders?limit=5"
check "parameters do not lift authentication: 401" [ "$STATUS" = 401 ]

# ---- one order: statuses, rejection, history --------------------------------------------
E() { printf '00000000-0000-4000-8000-%012d' "$1"; }
sql >/dev/null <<SQL
insert into orders (order_id, user_id, status, total_minor, currency, placed_at_ms, updated_at_ms, rejection) values
  ('r-1','u1','rejected',2550,'GBP',1750000000000,1750000000400,
   '{"reason":"price_mismatch","lines":[{"product_id":"p1","requested":2,"available":7,"catalog_price":{"amount_minor":1275,"currency":"GBP"}},
                                        {"product_id":"p-gone","requested":1,"available":0,"catalog_price":null}]}'),
  ('c-1','u1','paid',1250,'GBP',1750000001000,1750000001900,null),
  ('d-1','u2','delivered',900,'GBP',1750000002000,1750000008000,null);
insert into order_lines values ('r-1',0,'p1',2,1275,'GBP'), ('c-1',0,'p1',1,1250,'GBP'), ('d-1',0,'p9',1,900,'GBP');
insert into order_status_history values
  ('r-1','placed',1750000000000,'$(E 1)'), ('r-1','rejected',1750000000400,'$(E 2)'),
  -- a payment that beat the confirmation: the confirmation is noted after it
  ('c-1','placed',1750000001000,'$(E 3)'), ('c-1','paid',1750000001500,'$(E 5)'),
  ('c-1','confirmed',1750000001900,'$(E 4)'),
  -- shipped and delivered in one millisecond: by event id (not by status name)
  ('d-1','placed',1750000002000,'$(E 6)'), ('d-1','confirmed',1750000003000,'$(E 7)'),
  ('d-1','paid',1750000004000,'$(E 8)'), ('d-1','delivered',1750000008000,'$(E 12)'),
  ('d-1','shipped',1750000008000,'$(E 9)');
SQL
req GET /v1/orders/r-1 -H "Authorization: Bearer $U1"
check "a rejected order: 200, status rejected" [ "$STATUS:$(jq -r .status "$TMP/body")" = "200:rejected" ]
check "... carries its rejection: reason and the short lines" \
    [ "$(jq -cS '.rejection' "$TMP/body")" = "$(jq -cS . <<<'{"reason":"price_mismatch","lines":[{"product_id":"p1","requested":2,"available":7,"catalog_price":{"amount_minor":1275,"currency":"GBP"}},{"product_id":"p-gone","requested":1,"available":0,"catalog_price":null}]}')" ]
check "... and its history: placed, rejected" [ "$(jq -c '[.history[] | [.status, .at]]' "$TMP/body")" = '[["placed",1750000000000],["rejected",1750000000400]]' ]
req GET /v1/orders/c-1 -H "Authorization: Bearer $U1"
check "an order not rejected has rejection null" [ "$(jq -c '[.status, .rejection]' "$TMP/body")" = '["paid",null]' ]
check "the history lists every applied step, a noted one too" \
    [ "$(jq -c '[.history[].status]' "$TMP/body")" = '["placed","paid","confirmed"]' ]
req GET /v1/orders/d-1 -H "Authorization: Bearer $U2"
check "a delivered order's whole life, steps of one millisecond by event id" \
    [ "$(jq -c '[.status, [.history[].status]]' "$TMP/body")" = '["delivered",["placed","confirmed","paid","shipped","delivered"]]' ]
check "the order keeps its fields" \
    [ "$(jq -c 'keys' "$TMP/body")" = '["history","lines","order_id","placed_at","rejection","status","total","updated_at","user_id"]' ]
req GET /v1/orders/d-1 -H "Authorization: Bearer $U1"
check "another user's order is still 404" [ "$STATUS:$(jq -r .field "$TMP/body")" = "404:id" ]
req GET /v1/orders/r-1 -H "Authorization: Bearer $U2"
check "... a rejected one too" [ "$STATUS" = 404 ]
req GET /v1/orders/d-1 -H "Authorization: Bearer $("$TOKEN" --sub ops --role admin)"
check "an admin reads any order" [ "$STATUS:$(jq -r .order_id "$TMP/body")" = "200:d-1" ]
req GET "/v1/me/orders?limit=100" -H "Authorization: Bearer $U1"
check "the rejected order is on its owner's pages with its status" \
    [ "$(jq -r '.orders[] | select(.order_id == "r-1") | .status' "$TMP/body")" = rejected ]

# A subject of the longest length (128) reads its own order (the read kept the
# subject in 128 bytes, without its terminating NUL, so the order id ran into it).
LONG=$(head -c 128 /dev/zero | tr '\0' 'l')
sql -c "insert into orders values ('l-1','$LONG','placed',1,'GBP',1,1)" >/dev/null
req GET /v1/orders/l-1 -H "Authorization: Bearer $("$TOKEN" --sub "$LONG")"
check "a 128-character subject reads its own order" [ "$STATUS:$(jq -r .user_id "$TMP/body")" = "200:$LONG" ]

# ---- products: stock from the inventory -------------------------------------------------
# p1's products.stock is stale (the projector no longer writes it); the inventory has
# 10 on hand, 3 reserved. p2 is not in the inventory yet.
sql >/dev/null <<'SQL'
insert into products (product_id, name, category, price_minor, currency, stock, views, purchases)
  values ('p1','Mug','kitchen',1250,'GBP',999,3,2), ('p2','Cup','kitchen',500,'GBP',42,0,0);
insert into inventory_stock (product_id, on_hand, reserved) values ('p1', 10, 3);
SQL
req GET /v1/products/p1 -H "Authorization: Bearer $U1"
check "a product shows on_hand, reserved and available from the inventory" \
    [ "$(jq -c '[.on_hand, .reserved, .available]' "$TMP/body")" = '[10,3,7]' ]
check "... never the stale products.stock" [ "$(jq -c 'has("stock")' "$TMP/body")" = false ]
check "... and keeps its catalog fields" \
    [ "$(jq -c '[.product_id,.name,.category,.price.amount_minor,.price.currency,.views,.purchases]' "$TMP/body")" = '["p1","Mug","kitchen",1250,"GBP",3,2]' ]
sql -c "update inventory_stock set reserved = 10 where product_id = 'p1'" >/dev/null
req GET /v1/products/p1 -H "Authorization: Bearer $U1"
check "a reservation moves it at once" [ "$(jq -c '[.on_hand, .reserved, .available]' "$TMP/body")" = '[10,10,0]' ]
req GET /v1/products/p2 -H "Authorization: Bearer $U1"
check "a product the inventory has not seen: 0 on hand, 0 reserved, 0 available" \
    [ "$STATUS:$(jq -c '[.on_hand, .reserved, .available, has("stock")]' "$TMP/body")" = '200:[0,0,0,false]' ]
req GET /v1/products/p3 -H "Authorization: Bearer $U1"
check "an unknown product is 404" [ "$STATUS" = 404 ]

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
