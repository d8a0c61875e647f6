#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ML reads (issue 8) through the real edge and PostgreSQL: rows of the ML worker's
# read models (migration 0007) and of inventory_stock are inserted with psql, as the
# worker and the inventory would leave them, and read back: shapes, limits, what is out
# of stock left out, the popularity fallback, the model version named, the stock-out
# date, the admin routes' 403, 401 without a token, 400 / 404 problems; first with the
# ML tables empty (the worker never ran), last with the database hanging (the reads'
# deadline).
. "$(dirname "$0")/lib.sh"

PREFIX="it-edge-ml-$$."
DB="it_edge_ml_$$"
BH_PID=
cleanup() {
    stop_edge || true
    [ -z "$BH_PID" ] || kill "$BH_PID" 2>/dev/null || true
    drop_edge_db "$DB"
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

create_topics "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS"
make_edge_db "$DB"
sql() { psql "$EDGE_PG_DSN" -qAtX -v ON_ERROR_STOP=1 "$@"; }

# The catalog (the projector's products) and the inventory. p2 is sold out (available 0),
# p4 has no inventory row (the inventory has not seen it), the others are in stock.
sql >/dev/null <<'SQL'
insert into products (product_id, name, category, price_minor, currency)
  select 'p' || i, 'P' || i, 'c', 100, 'GBP' from generate_series(1, 30) i;
insert into inventory_stock (product_id, on_hand, reserved)
  select 'p' || i, 10, 0 from generate_series(1, 30) i where i <> 4;
update inventory_stock set reserved = 10 where product_id = 'p2';
update inventory_stock set on_hand = 7 where product_id = 'p1';
SQL
start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS"
U1=$("$TOKEN" --sub u1)
U2=$("$TOKEN" --sub u2)
U3=$("$TOKEN" --sub u3)
U5=$("$TOKEN" --sub u5)
SVC=$("$TOKEN" --sub checkout --role service)
ADM=$("$TOKEN" --sub ops --role admin)

get() { local tok=$1 path=$2; req GET "$path" -H "Authorization: Bearer $tok"; }
j() { jq -c "$1" "$TMP/body" 2>/dev/null; }
is_json() { hdr_has '^content-type: application/json'; }
is_problem() {   # is_problem STATUS FIELD: a problem body of that status naming FIELD
    [ "$STATUS" = "$1" ] && hdr_has '^content-type: application/problem+json' &&
        [ "$(j '[.status, (.field // "")]')" = "[$1,\"$2\"]" ]
}

# ---- the worker never ran: every ML table empty ------------------------------------------
get "$U1" /v1/me/recommendations
check "no ML data: recommendations 200, no items, fallback, no model (got $STATUS $(cat "$TMP/body"))" \
    [ "$STATUS:$(j '[.items, .model]')" = '200:[[],{"version":null,"trained_at":null,"fallback":true}]' ]
check "... as JSON" is_json
get "$U1" /v1/products/p1/similar
check "no ML data: similar 200, no items, no model (got $STATUS $(cat "$TMP/body"))" \
    [ "$STATUS:$(j '[.items, .model]')" = '200:[[],{"version":null,"trained_at":null,"fallback":false}]' ]
get "$U1" /v1/me/segment
check "no ML data: segment 404 problem (got $STATUS $(cat "$TMP/body"))" is_problem 404 ""
check "... saying not segmented yet" body_has '"detail":"not segmented yet"'
get "$ADM" /v1/segments
check "no ML data: segments 200, none, no model (got $STATUS $(cat "$TMP/body"))" \
    [ "$STATUS:$(j '[.segments, .model_version, .trained_at]')" = '200:[[],null,null]' ]
get "$ADM" /v1/products/p1/forecast
check "no ML data: forecast 200, no days, no method, no stock-out (got $STATUS $(cat "$TMP/body"))" \
    [ "$STATUS:$(j '[.daily, .method, .model_version, .available, .stockout_date]')" = '200:[[],null,null,7,null]' ]

# ---- the worker's rows ---------------------------------------------------------------------
# recommend v7 is published. u1's list (v7) holds p2 (sold out) and p4 (no stock row);
# u5's list is still of v6 (not rewritten since the retrain); u3's has 15 items in stock;
# u2 has no row: the popularity list. The similar list of p1 holds p1 itself and p2.
sql >/dev/null <<'SQL'
insert into ml_models (model, version, trained_at_ms, watermark_ms) values
  ('recommend', 7, 1764547200000, 1764550000000),
  ('segment', 3, 1764540000000, 1764550000000),
  ('forecast', 5, 1764500000000, 1764550000000);
insert into ml_user_recs values
  ('u1', 7, '{p1,p2,p3,p4,p5,p6}', '{0.9,0.8,0.7,0.6,0.5,0.4}', false, 1764550000000),
  ('u5', 6, '{p8,p9}', '{2.5,1.5}', false, 1764540000000),
  ('u3', 7, (select array_agg('p' || i order by i) from generate_series(10, 24) i),
            (select array_agg(100.0 - i order by i) from generate_series(10, 24) i), false, 1);
insert into ml_popular values (1, 7, '{p6,p2,p5,p4,p1}', '{30,20,10,5,1}', 1764550000000);
insert into ml_similar values ('p1', 7, '{p1,p2,p7,p3}', '{1,0.9,0.8,0.7}', 1764550000000);
insert into ml_segments values
  (0, 3, 40, '{0.5,-1.25,2}', 'lapsed, occasional, low spend', '{"recency_days":120,"orders":1,"spend":900}'),
  (1, 3, 12, '{-1,1.5,0.25}', 'recent, frequent, high spend', '{"recency_days":3,"orders":14,"spend":52000}');
insert into ml_user_segments values ('u1', 1, 3, '{-0.9,1.4,0.3}', 1764550000000);
insert into ml_forecasts values
  ('p1', 5, 'holt_winters', '2025-12-01', (select array_agg(2.0::float8) from generate_series(1, 28)), 1),
  ('p2', 5, 'croston', '2025-12-01', '{0.5,0.5}', 1),
  ('p3', 4, 'tsb', '2025-12-02', '{1,1,1}', 1),
  ('p4', 5, 'sba', '2025-12-01', '{0,0}', 1);
SQL

# ---- GET /v1/me/recommendations ---------------------------------------------------------------
get "$U1" /v1/me/recommendations
check "recommendations: the user's list without what is out of stock, in stored order (got $(cat "$TMP/body"))" \
    [ "$STATUS:$(j '[.items[].product_id]')" = '200:["p1","p3","p5","p6"]' ]
check "... each item a product id and its score" [ "$(j '.items[0]')" = '{"product_id":"p1","score":0.9}' ]
check "... naming the model version and its training time, not a fallback" \
    [ "$(j '.model')" = '{"version":7,"trained_at":1764547200000,"fallback":false}' ]
check "... and nothing else" [ "$(j 'keys')" = '["items","model"]' ]
get "$U1" "/v1/me/recommendations?limit=2"
check "limit=2: the first two left" [ "$(j '[.items[].product_id]')" = '["p1","p3"]' ]
get "$U3" /v1/me/recommendations
check "no limit: 10 items (got $(j '.items | length'))" \
    [ "$(j '[.items[].product_id] | join(",")')" = '"p10,p11,p12,p13,p14,p15,p16,p17,p18,p19"' ]
get "$U3" "/v1/me/recommendations?limit=100"
check "limit=100: all 15" [ "$(j '.items | length')" = 15 ]
get "$U2" /v1/me/recommendations
check "a user without a row: the popularity list, in stock, as a fallback (got $(cat "$TMP/body"))" \
    [ "$(j '[[.items[].product_id], .model]')" = '[["p6","p5","p1"],{"version":7,"trained_at":1764547200000,"fallback":true}]' ]
get "$U5" /v1/me/recommendations
check "a list of an older version names that version, without the new one's training time" \
    [ "$(j '[[.items[].product_id], .model]')" = '[["p8","p9"],{"version":6,"trained_at":null,"fallback":false}]' ]
sql -c "update inventory_stock set reserved = on_hand where product_id = 'p3'" >/dev/null
get "$U1" /v1/me/recommendations
check "a product selling out leaves the list at once" [ "$(j '[.items[].product_id]')" = '["p1","p5","p6"]' ]
sql -c "update inventory_stock set reserved = 0 where product_id = 'p3'" >/dev/null
sql -c "update ml_user_recs set fallback = true where user_id = 'u5'" >/dev/null
get "$U5" /v1/me/recommendations
check "a row the worker marked fallback says so" [ "$(j '.model.fallback')" = true ]
for bad in limit=0 limit=101 limit=ten "limit=" "limit=-1"; do
    get "$U1" "/v1/me/recommendations?$bad"
    check "?$bad: 400 naming limit (got $STATUS $(cat "$TMP/body"))" is_problem 400 limit
done
check "... saying the range" body_has '"detail":"must be an integer from 1 to 100"'
get "$U1" "/v1/me/recommendations?days=3"
check "a parameter of another route: 400 naming it" is_problem 400 days

# ---- GET /v1/products/{id}/similar ------------------------------------------------------------
get "$U1" /v1/products/p1/similar
check "similar: bought together, without itself and what is out of stock (got $STATUS $(cat "$TMP/body"))" \
    [ "$STATUS:$(j '[.items[].product_id]')" = '200:["p7","p3"]' ]
check "... the same shape, naming the model" \
    [ "$(j '[.items[0], .model]')" = '[{"product_id":"p7","score":0.8},{"version":7,"trained_at":1764547200000,"fallback":false}]' ]
get "$U1" "/v1/products/p1/similar?limit=1"
check "limit=1: one" [ "$(j '[.items[].product_id]')" = '["p7"]' ]
get "$U1" /v1/products/p9/similar
check "a known product bought with nothing: 200, empty, the published model" \
    [ "$STATUS:$(j '[.items, .model.version]')" = '200:[[],7]' ]
get "$U1" /v1/products/nope/similar
check "an unknown product: 404 problem naming id (got $STATUS $(cat "$TMP/body"))" is_problem 404 id
check "... saying no such product" body_has '"detail":"no such product"'
get "$U1" "/v1/products/p1/similar?limit=500"
check "similar ?limit=500: 400 naming limit" is_problem 400 limit

# ---- GET /v1/me/segment -------------------------------------------------------------------------
get "$U1" /v1/me/segment
check "segment: id, readable label, profile, model version (got $STATUS $(cat "$TMP/body"))" \
    [ "$STATUS:$(jq -cS . "$TMP/body")" = '200:{"label":"recent, frequent, high spend","model_version":3,"profile":{"orders":14,"recency_days":3,"spend":52000},"segment":1}' ]
get "$U2" /v1/me/segment
check "a user not segmented yet: 404 problem" is_problem 404 ""

# ---- GET /v1/segments (admin) ----------------------------------------------------------------
get "$ADM" /v1/segments
check "segments: each one's size, centre, label, profile, version, by id (got $STATUS $(cat "$TMP/body"))" \
    [ "$STATUS:$(j '[.segments[] | [.segment, .size, .centre, .label, .profile.orders, .model_version]]')" = '200:[[0,40,[0.5,-1.25,2],"lapsed, occasional, low spend",1,3],[1,12,[-1,1.5,0.25],"recent, frequent, high spend",14,3]]' ]
check "... and the segmentation's version and training time" \
    [ "$(j '[.model_version, .trained_at]')" = '[3,1764540000000]' ]
get "$U1" /v1/segments
check "segments as a shopper: 403 naming authorization (got $STATUS $(cat "$TMP/body"))" is_problem 403 authorization
check "... saying the admin role is needed" body_has '"detail":"needs the admin role"'
get "$SVC" /v1/segments
check "segments as a service: 403" is_problem 403 authorization

# ---- GET /v1/products/{id}/forecast (admin) -----------------------------------------------------
get "$ADM" /v1/products/p1/forecast
check "forecast: 14 days by default from the first forecast day (got $STATUS $(j '[.daily[0], (.daily | length)]'))" \
    [ "$STATUS:$(j '[.daily[0], (.daily | length), .daily[13].date]')" = '200:[{"date":"2025-12-01","quantity":2},14,"2025-12-14"]' ]
check "... the method and the model version" [ "$(j '[.method, .model_version]')" = '["holt_winters",5]' ]
check "... stock-out when 2 a day reaches the 7 available: the fourth day" \
    [ "$(j '[.available, .stockout_date]')" = '[7,"2025-12-04"]' ]
get "$ADM" "/v1/products/p1/forecast?days=3"
check "days=3: three days, the stock-out date still over the whole horizon" \
    [ "$(j '[[.daily[].date], .stockout_date]')" = '[["2025-12-01","2025-12-02","2025-12-03"],"2025-12-04"]' ]
get "$ADM" "/v1/products/p1/forecast?days=28"
check "days=28: all 28" [ "$(j '[(.daily | length), .daily[27].date]')" = '[28,"2025-12-28"]' ]
get "$ADM" /v1/products/p2/forecast
check "nothing available: out of stock on the first day" \
    [ "$(j '[.method, .available, .stockout_date]')" = '["croston",0,"2025-12-01"]' ]
get "$ADM" /v1/products/p4/forecast
check "no inventory row: 0 available, the first day" [ "$(j '[.available, .stockout_date]')" = '[0,"2025-12-01"]' ]
get "$ADM" /v1/products/p3/forecast
check "demand that never reaches the stock within the horizon: null, its own version" \
    [ "$(j '[.model_version, .available, .stockout_date, (.daily | length)]')" = '[4,10,null,3]' ]
sql -c "update inventory_stock set reserved = 9 where product_id = 'p3'" >/dev/null
get "$ADM" /v1/products/p3/forecast
check "... a reservation moves it: 1 available, out on the first day" [ "$(j '.stockout_date')" = '"2025-12-02"' ]
get "$ADM" /v1/products/p9/forecast
check "a known product without a forecast: 200, no days, the published version" \
    [ "$STATUS:$(j '[.daily, .method, .model_version, .stockout_date]')" = '200:[[],null,5,null]' ]
get "$ADM" /v1/products/nope/forecast
check "forecast of an unknown product: 404 naming id" is_problem 404 id
for bad in days=0 days=29 days=x "days="; do
    get "$ADM" "/v1/products/p1/forecast?$bad"
    check "forecast ?$bad: 400 naming days (got $STATUS $(cat "$TMP/body"))" is_problem 400 days
done
check "... saying the range" body_has '"detail":"must be an integer from 1 to 28"'
get "$U1" /v1/products/p1/forecast
check "forecast as a shopper: 403" is_problem 403 authorization
get "$U1" "/v1/products/p1/forecast?days=99"
check "... also with a bad days: the role first" is_problem 403 authorization
get "$SVC" /v1/products/p1/forecast
check "forecast as a service: 403" is_problem 403 authorization

# ---- no token: 401 -------------------------------------------------------------------------------
for path in /v1/me/recommendations /v1/products/p1/similar /v1/me/segment /v1/segments /v1/products/p1/forecast; do
    req GET "$path"
    check "$path without a token: 401 naming authorization" is_problem 401 authorization
done

# ---- per-route metrics -----------------------------------------------------------------------------
curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$TMP/metrics"
for r in recommendations similar segment segments forecast; do
    check "metrics count the $r route's 200s" grep -q "^shopstream_edge_requests_total{route=\"$r\",status=\"200\"} [1-9]" "$TMP/metrics"
done
check "... and the 403s of an admin route" grep -q '^shopstream_edge_requests_total{route="forecast",status="403"} 3$' "$TMP/metrics"
stop_edge

# ---- the read pool's deadline holds for the ML reads too ------------------------------------------
# A database that accepts and never answers holds the one pool thread with the first read;
# the next one cannot start within 300 ms: 503 + Retry-After, as for every read.
python3 "$(dirname "$0")/blackhole.py" "$TMP/bh.count" >"$TMP/bh.port" &
BH_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/bh.port" ] && break; sleep 0.1; done
EDGE_PG_DSN="host=127.0.0.1 port=$(cat "$TMP/bh.port") dbname=x user=x sslmode=disable" \
    start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS" SHOPSTREAM_EDGE_PG_POOL=1 \
    SHOPSTREAM_EDGE_PG_TIMEOUT_MS=3000 SHOPSTREAM_EDGE_READY_INTERVAL_MS=60000 \
    SHOPSTREAM_EDGE_DRAIN_MS=0 SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS=300
curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $U1" \
    "http://127.0.0.1:$PORT/v1/me/recommendations" >"$TMP/first" 2>/dev/null &
FIRST=$!
for _ in $(seq 1 100); do [ "$(cat "$TMP/bh.count" 2>/dev/null || echo 0)" -ge 2 ] && break; sleep 0.1; done
get "$U1" /v1/me/segment
check "an ML read queued behind a stuck one: 503 (got $STATUS $(cat "$TMP/body"))" \
    [ "$STATUS:$(j .detail)" = '503:"read could not start within 300 ms"' ]
check "... with Retry-After" hdr_has '^retry-after: '
wait "$FIRST" || true
check "the stuck one: 503, the database unavailable" [ "$(cat "$TMP/first")" = 503 ]

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
