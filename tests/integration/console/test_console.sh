#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The operations console (GET /console) in a real browser: the stack is the real one
# (edge, projector, inventory on the shared broker and database); the test posts known
# events (two the projector dead-letters: this database's CHECK refuses product pz-bad),
# waits for the workers, loads the page in Debian's headless Chromium with the admin
# token in the fragment, and checks what the page shows (check_console.py) against
# GET /v1/admin/overview and against what was posted. The ML worker is not started: its
# published models, segments and checkpoint are rows seeded here, and its group (no
# worker, no offsets) shows the whole of its topics as lag, which shopstream-admin lag
# confirms. The screenshot goes to artifacts/console.png at the repository root.
IT_NAME=console$$
. "$(dirname "$0")/../inventory/lib.sh"
it_require_env
here=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${SHOPSTREAM_CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || fail "chromium is not installed (deploy/local/install.sh installs Debian's chromium)"
PY=/usr/bin/python3
it_make_db
it_make_topics
it_sql -c "alter table products add constraint it_console_no_pz_bad check (product_id <> 'pz-bad')" >/dev/null
it_sql >/dev/null <<'SQL'
insert into ml_models (model, version, trained_at_ms, watermark_ms) values
  ('recommend', 7, 1700000000000, 1700000500000), ('segment', 3, 1700000100000, 1700000500000);
insert into ml_segments (segment, model_version, size, centre, label, profile) values
  (0, 3, 41, '{0,0}', 'recent, frequent', '{}'), (1, 3, 17, '{1,1}', 'lapsed', '{}');
insert into ml_checkpoints (group_id, epoch, watermark_ms, offsets, state) values ('it-ml', 1, 1700000500000, '[]', '\x00');
insert into ml_snapshots (checkpoint_id, model, version, format, payload, trained_at_ms)
  select id, m.model, m.version, 1, '\x00', 1700000000000 from ml_checkpoints,
  (values ('als', 7), ('kmeans', 3)) as m(model, version);
SQL

export SHOPSTREAM_EDGE_GROUP_PROJECTOR=$IT_NAME-projector SHOPSTREAM_EDGE_GROUP_INVENTORY=$IT_NAME-inventory \
       SHOPSTREAM_EDGE_GROUP_ML=$IT_NAME-ml
it_start_edge
it_start_projector
inv_start inventory
admin=$(it_token ops admin)
alice=$(it_token alice)

# The page is public static HTML; its data is not.
code=$(curl -sS -o "$IT_TMP/page.html" -w '%{http_code} %{content_type}' "$IT_URL/console")
[ "$code" = "200 text/html; charset=utf-8" ] || fail "GET /console: $code"
grep -q 'id="r202"' "$IT_TMP/page.html" || fail "the page served is not the console"
code=$(curl -sS -o "$IT_TMP/body" -w '%{http_code}' "$IT_URL/v1/admin/overview")
[ "$code" = 401 ] && jq -e '.status == 401 and .field == "authorization"' "$IT_TMP/body" >/dev/null \
    || fail "overview without a token: $code $(cat "$IT_TMP/body")"
code=$(curl -sS -o "$IT_TMP/body" -w '%{http_code}' -H "Authorization: Bearer $alice" "$IT_URL/v1/admin/overview")
[ "$code" = 403 ] && jq -e '.status == 403' "$IT_TMP/body" >/dev/null || fail "overview for a shopper: $code"
code=$(curl -sS -o "$IT_TMP/body" -w '%{http_code}' -H "Authorization: Bearer $admin" "$IT_URL/v1/admin/overview?threshold=x")
[ "$code" = 400 ] && jq -e '.field == "threshold"' "$IT_TMP/body" >/dev/null || fail "a bad threshold: $code"
ok "the page needs no token; its data needs an admin token (401, 403, 400)"

# What is posted, counted: 202 answers, their events, 4xx answers.
posted=0 events=0
post() {   # post TOKEN N JSON: expects 202 and N events
    local r; r=$(it_post "$1" "$3")
    [ "${r%% *}" = 202 ] || fail "post: $r"
    posted=$((posted + 1)); events=$((events + $2))
}
post "$admin" 3 '{"events":[
  {"type":"catalog.product_upserted","product_id":"p1","name":"Mug","price":{"amount_minor":500,"currency":"GBP"},"stock":10},
  {"type":"catalog.product_upserted","product_id":"p2","name":"Lamp","price":{"amount_minor":2500,"currency":"GBP"},"stock":2},
  {"type":"catalog.product_upserted","product_id":"p3","name":"Rug","price":{"amount_minor":9900,"currency":"GBP"},"stock":0}]}'
post "$alice" 3 '{"events":[{"type":"product.viewed","product_id":"p1"},{"type":"product.viewed","product_id":"p2"},
  {"type":"cart.item_added","product_id":"p1","quantity":7,"unit_price":{"amount_minor":500,"currency":"GBP"}}]}'
post "$alice" 1 '{"events":[{"type":"order.placed","order_id":"c-1","lines":[{"product_id":"p1","quantity":7,"unit_price":{"amount_minor":500,"currency":"GBP"}}]}]}'
post "$alice" 2 '{"events":[{"type":"product.viewed","product_id":"pz-bad"},{"type":"product.viewed","product_id":"pz-bad"}]}'
bad=0
for body in '{"events":[{"type":"product.viewed"}]}' 'not json'; do
    r=$(it_post "$alice" "$body")
    [ "${r%% *}" = 400 ] || fail "a bad post must be 400: $r"
    bad=$((bad + 1))
done
ok "posted $posted batches ($events events) and $bad bad requests"

lag_of() { "$IT_BIN/tools/admin/shopstream-admin" lag --quiet --role "$1" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" \
    --prefix "$IT_PREFIX" --dsn "$IT_DSN" --group "$IT_NAME-$1"; }
caught_up() { [ "$(lag_of projector)" = 0 ] && [ "$(lag_of inventory)" = 0 ]; }
it_wait "projector and inventory caught up" 60 caught_up
# The order's reservation holds 7 of p1: available 3, 2 and 0 are all at or below 5.
stock_is() { [ "$(it_sql -c "select string_agg(product_id || '=' || available, ',' order by product_id) from inventory_stock")" = "p1=3,p2=2,p3=0" ]; }
it_wait "inventory holds the order's reservation" 60 stock_is
dlq_is() { it_get "$admin" /v1/admin/overview | jq -e '.dead_letters.total == 2'; }
it_wait "the console's dead letters (cached a few seconds) show both" 30 dlq_is
# The ML group has no worker: the inventory's outcomes relay asynchronously, so wait
# until its lag (every record of its topics) stops moving before comparing.
ml_lag=-1
for _ in $(seq 1 50); do
    now=$(lag_of ml); [ "$now" = "$ml_lag" ] && break; ml_lag=$now; sleep 0.5
done

mkdir -p "$IT_REPO/artifacts"
chrome() {
    local flags=(--headless --disable-gpu --no-first-run --no-default-browser-check --disable-extensions
                 --disable-dev-shm-usage --user-data-dir="$IT_TMP/chrome" --virtual-time-budget=8000)
    [ "$(id -u)" -eq 0 ] && flags+=(--no-sandbox)   # root (CI containers) has no sandbox
    timeout 60 "$CHROMIUM" "${flags[@]}" "$@" 2>>"$IT_TMP/chromium.log"
}
chrome --dump-dom "$IT_URL/console#token=$admin" >"$IT_TMP/dom.html" || fail "chromium --dump-dom failed"
grep -qF "$admin" "$IT_TMP/dom.html" && fail "the token is still in the page (the fragment must be removed)"
chrome --window-size=1280,1900 --screenshot="$IT_REPO/artifacts/console.png" "$IT_URL/console#token=$admin" \
    >/dev/null || fail "chromium --screenshot failed"
head -c 8 "$IT_REPO/artifacts/console.png" | od -An -tx1 | grep -q '89 50 4e 47' || fail "no PNG screenshot"
ok "screenshot in artifacts/console.png"

"$PY" "$here/check_console.py" --dom "$IT_TMP/dom.html" --url "$IT_URL" --token "$admin" \
    --posted "$posted" --events "$events" --bad "$bad" --ml-lag "$ml_lag" \
    --projector "$IT_NAME-projector" --inventory "$IT_NAME-inventory" --ml "$IT_NAME-ml" \
    || fail "the page does not show what the API and the posts say"
ok "the console shows the API's and the posts' numbers"
