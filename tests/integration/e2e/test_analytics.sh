#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Activity and analytics end to end, on the real broker and database: events posted over
# HTTP with their event times (two UTC days), folded by the projector, read back from
# GET /v1/me/activity and the admin analytics reads. A paid order cancelled the next
# day is taken back on its payment's day; a product moved to another category after its
# sales takes its revenue along; the parameter checks and the admin rule answer 4xx
# problems naming the field.
IT_NAME=e2eanalytics$$
. "$(dirname "$0")/lib.sh"
it_require_env
it_make_db
it_make_topics
it_start_edge
it_start_projector

D1=1793577600000   # 2026-11-02T00:00:00Z
D2=$((D1 + 86400000))
D3=$((D2 + 86400000))
admin=$(it_token ops admin)
alice=$(it_token alice)
bob=$(it_token bob)
carol=$(it_token carol)
payments=$(it_token payments service)
post_ok() { local r; r=$(it_post "$1" "$2"); [ "${r%% *}" = 202 ] || fail "$3: $r"; }

post_ok "$admin" '{"events":[
  {"type":"catalog.product_upserted","product_id":"p1","name":"Mug","category":"kitchen","price":{"amount_minor":500,"currency":"GBP"},"stock":10},
  {"type":"catalog.product_upserted","product_id":"p2","name":"Lamp","price":{"amount_minor":2500,"currency":"GBP"},"stock":10},
  {"type":"catalog.product_upserted","product_id":"p3","name":"Tea","category":"kitchen","price":{"amount_minor":300,"currency":"EUR"},"stock":10}]}' "catalog"
post_ok "$alice" "{\"events\":[
  {\"type\":\"product.viewed\",\"product_id\":\"p1\",\"at\":$((D1 + 1000))},
  {\"type\":\"product.viewed\",\"product_id\":\"p1\",\"at\":$((D1 + 2000))},
  {\"type\":\"search.performed\",\"query\":\"mug\",\"at\":$((D1 + 3000))},
  {\"type\":\"cart.item_added\",\"product_id\":\"p1\",\"quantity\":3,\"at\":$((D1 + 4000))},
  {\"type\":\"order.placed\",\"order_id\":\"o-a1\",\"at\":$((D1 + 5000)),\"lines\":[{\"product_id\":\"p1\",\"quantity\":3,\"unit_price\":{\"amount_minor\":500,\"currency\":\"GBP\"}}]},
  {\"type\":\"order.placed\",\"order_id\":\"o-a2\",\"at\":$((D1 + 6000)),\"lines\":[{\"product_id\":\"p2\",\"quantity\":1,\"unit_price\":{\"amount_minor\":2500,\"currency\":\"GBP\"}}]}]}" "alice's events"
post_ok "$bob" "{\"events\":[
  {\"type\":\"product.viewed\",\"product_id\":\"p2\",\"at\":$((D2 + 1000))},
  {\"type\":\"cart.item_added\",\"product_id\":\"p3\",\"quantity\":2,\"at\":$((D2 + 2000))},
  {\"type\":\"order.placed\",\"order_id\":\"o-b1\",\"at\":$((D2 + 3000)),\"lines\":[{\"product_id\":\"p3\",\"quantity\":2,\"unit_price\":{\"amount_minor\":300,\"currency\":\"EUR\"}}]}]}" "bob's events"
# Payments after the placements are in the read model (the order topic is keyed by order).
placed() { [ "$(it_sql -c "select count(*) from orders")" = 3 ]; }
it_wait "three orders placed" 60 placed
post_ok "$payments" "{\"events\":[
  {\"type\":\"order.paid\",\"order_id\":\"o-a1\",\"user_id\":\"alice\",\"at\":$((D1 + 10000)),\"amount\":{\"amount_minor\":1500,\"currency\":\"GBP\"}},
  {\"type\":\"order.paid\",\"order_id\":\"o-a2\",\"user_id\":\"alice\",\"at\":$((D2 + 500)),\"amount\":{\"amount_minor\":2500,\"currency\":\"GBP\"}},
  {\"type\":\"order.paid\",\"order_id\":\"o-b1\",\"user_id\":\"bob\",\"at\":$((D2 + 4000)),\"amount\":{\"amount_minor\":600,\"currency\":\"EUR\"}}]}" "payments"
paid() { [ "$(it_sql -c "select count(*) from orders where status = 'paid'")" = 3 ]; }
it_wait "three orders paid" 60 paid
post_ok "$payments" "{\"events\":[{\"type\":\"order.cancelled\",\"order_id\":\"o-a2\",\"user_id\":\"alice\",\"at\":$((D3 + 9000))}]}" "cancel"
post_ok "$admin" '{"events":[{"type":"catalog.product_upserted","product_id":"p1","name":"Mug","category":"home","price":{"amount_minor":500,"currency":"GBP"},"stock":10}]}' "category change"
lag_zero() { [ "$("$IT_BIN/tools/admin/shopstream-admin" lag --quiet --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" --prefix "$IT_PREFIX" --dsn "$IT_DSN" --group "$IT_NAME-projector")" = 0 ]; }
it_wait "projector caught up" 60 lag_zero

# expect WHAT TOKEN PATH JQ: a 200 whose body satisfies JQ.
expect() {
    local body; body=$(it_get "$2" "$3")
    echo "$body" | jq -e "$4" >/dev/null || fail "$1: $3 answered $body"
    ok "$1"
}
expect "alice's activity" "$alice" /v1/me/activity \
  ".user_id == \"alice\" and .views == 2 and .searches == 1 and .cart_adds == 1 and .orders == 2
   and .spend == [{\"amount_minor\":1500,\"currency\":\"GBP\",\"paid_orders\":1}]
   and .first_seen == $((D1 + 1000)) and .last_seen == $((D1 + 6000))"
expect "bob's activity" "$bob" /v1/me/activity \
  ".views == 1 and .searches == 0 and .orders == 1 and .spend == [{\"amount_minor\":600,\"currency\":\"EUR\",\"paid_orders\":1}]"
expect "a user never seen: zeros and nulls" "$carol" /v1/me/activity \
  '. == {"user_id":"carol","views":0,"searches":0,"cart_adds":0,"orders":0,"spend":[],"first_seen":null,"last_seen":null}'

R="from=$D1&to=$D3"
expect "revenue by day: the cancelled order taken back on its payment's day" "$admin" "/v1/analytics/revenue?$R" \
  ".from == $D1 and .to == $D3 and .by == \"day\" and .rows == [
     {\"day\":$D1,\"date\":\"2026-11-02\",\"revenue\":{\"amount_minor\":1500,\"currency\":\"GBP\"}},
     {\"day\":$D2,\"date\":\"2026-11-03\",\"revenue\":{\"amount_minor\":600,\"currency\":\"EUR\"}}]"
expect "revenue by category: p1's sales moved with it to home" "$admin" "/v1/analytics/revenue?$R&by=category" \
  '.by == "category" and .rows == [{"category":"kitchen","revenue":{"amount_minor":600,"currency":"EUR"}},
                                    {"category":"home","revenue":{"amount_minor":1500,"currency":"GBP"}}]'
expect "top products by units" "$admin" "/v1/analytics/top-products?$R" \
  '.by == "units" and .products == [
     {"product_id":"p1","name":"Mug","units":3,"views":2,"revenue":[{"amount_minor":1500,"currency":"GBP"}]},
     {"product_id":"p3","name":"Tea","units":2,"views":0,"revenue":[{"amount_minor":600,"currency":"EUR"}]}]'
expect "top products by units, limit 1" "$admin" "/v1/analytics/top-products?$R&limit=1" '.products | length == 1 and .[0].product_id == "p1"'
expect "top products by revenue, per currency" "$admin" "/v1/analytics/top-products?$R&by=revenue&limit=1" \
  '.by == "revenue" and .currencies == [
     {"currency":"EUR","products":[{"product_id":"p3","name":"Tea","units":2,"views":0,"revenue":{"amount_minor":600,"currency":"EUR"}}]},
     {"currency":"GBP","products":[{"product_id":"p1","name":"Mug","units":3,"views":2,"revenue":{"amount_minor":1500,"currency":"GBP"}}]}]'
expect "funnel over both days" "$admin" "/v1/analytics/funnel?$R" \
  ".from == $D1 and .to == $D3 and .viewed == 2 and .carted == 2 and .placed == 2 and .paid == 2"
expect "funnel of the second day: alice's payment there was taken back" "$admin" "/v1/analytics/funnel?from=$D2&to=$((D2 + 1))" \
  ".from == $D2 and .to == $D3 and .viewed == 1 and .carted == 1 and .placed == 1 and .paid == 1"
expect "an empty range" "$admin" "/v1/analytics/funnel?from=0&to=1" '.viewed == 0 and .paid == 0'

# problem STATUS FIELD TOKEN PATH: a 4xx problem naming FIELD.
problem() {
    local code
    code=$(curl -s -o "$IT_TMP/p" -D "$IT_TMP/h" -w '%{http_code}' -H "Authorization: Bearer $3" "$IT_URL$4")
    [ "$code" = "$1" ] || fail "$4: status $code, want $1: $(cat "$IT_TMP/p")"
    jq -e --arg f "$2" '.field == $f and (.detail | length > 0)' "$IT_TMP/p" >/dev/null || fail "$4: $(cat "$IT_TMP/p")"
    grep -qi '^content-type: application/problem+json' "$IT_TMP/h" || fail "$4: not a problem body"
}
problem 403 authorization "$alice" "/v1/analytics/revenue?$R"
problem 403 authorization "$payments" "/v1/analytics/funnel?from=x"
problem 400 from "$admin" "/v1/analytics/revenue?to=$D3"
problem 400 from "$admin" "/v1/analytics/revenue?from=-1&to=$D3"
problem 400 to "$admin" "/v1/analytics/funnel?from=$D1"
problem 400 to "$admin" "/v1/analytics/funnel?from=$D2&to=$D1"
problem 400 to "$admin" "/v1/analytics/funnel?from=$D1&to=$((D1 + 367 * 86400000))"
problem 400 by "$admin" "/v1/analytics/revenue?$R&by=week"
problem 400 by "$admin" "/v1/analytics/top-products?$R&by=day"
problem 400 limit "$admin" "/v1/analytics/top-products?$R&limit=0"
problem 400 limit "$admin" "/v1/analytics/top-products?$R&limit=101"
problem 400 limit "$admin" "/v1/analytics/revenue?$R&limit=5"
problem 400 x "$alice" "/v1/me/activity?x=1"
ok "403 and 400 problems name the field"
