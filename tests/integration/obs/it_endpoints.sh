#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every worker role is observable (docs/operations.md, "Watch: health, readiness and
# metrics"): the projector, inventory and ml workers run with SHOPSTREAM_WORKER_HTTP_PORT
# beside the edge; events posted through the edge are counted by type in each role's
# /metrics exactly as posted, lag per partition matches shopstream-admin lag, /readyz is
# 200 once assigned and 503 naming "database" for a worker whose PostgreSQL is
# unreachable, and promtool (Debian's prometheus package) accepts every scrape, the
# edge's too.
IT_NAME=obsep$$
. "$(dirname "$0")/../e2e/lib.sh"
it_require_env
command -v promtool >/dev/null || fail "promtool is missing (deploy/local/install.sh installs Debian's prometheus)"
command -v jq >/dev/null || fail "jq is missing"
it_make_db
it_make_topics
it_start_edge

declare -A PORT PID
# it_start_role ROLE [DSN] [GROUP] — a worker of ROLE with its own HTTP port in PORT[ROLE or GROUP].
it_start_role() {
    local role=$1 dsn=${2:-$IT_DSN} group=${3:-$IT_NAME-$1} port
    port=$(it_free_port)
    PORT[$group]=$port
    SHOPSTREAM_KAFKA_BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS SHOPSTREAM_TOPIC_PREFIX=$IT_PREFIX \
    SHOPSTREAM_PG_DSN=$dsn SHOPSTREAM_KAFKA_GROUP_ID=$group SHOPSTREAM_WORKER_HTTP_PORT=$port \
    SHOPSTREAM_WORKER_HTTP_ADDR=127.0.0.1 SHOPSTREAM_ML_IDLE_FLUSH_MS=200 SHOPSTREAM_PG_CONNECT_TIMEOUT_S=2 \
        "$IT_BIN/workers/shopstream-worker" --role "$role" >>"$IT_TMP/$group.log" 2>&1 &
    PID[$group]=$!
    IT_PIDS+=("$!")
}
url() { echo "http://127.0.0.1:${PORT[$IT_NAME-$1]}$2"; }
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }
answers() { [ "$(status_of "$2")" = "$1" ]; }   # answers STATUS URL, evaluated on every poll
scrape() { curl -fsS --max-time 5 "$(url "$1" /metrics)"; }
# processed ROLE TYPE — the role's events_processed_total for TYPE (0 when absent).
processed() {
    scrape "$1" | awk -v t="type=\"$2\"" '/^shopstream_worker_events_processed_total\{/ && index($0, t) { s += $2 } END { print s + 0 }'
}

counts() { [ "$(processed "$1" "$2")" = "$3" ]; }

roles=(projector inventory ml)
for r in "${roles[@]}"; do it_start_role "$r"; done
for r in "${roles[@]}"; do
    it_wait "$r answers /healthz" 60 answers 200 "$(url "$r" /healthz)"
done
ok "/healthz 200 on projector, inventory and ml"
for r in "${roles[@]}"; do
    it_wait "$r is ready (partitions assigned, postgresql up, lag in bound)" 90 answers 200 "$(url "$r" /readyz)"
    curl -s "$(url "$r" /readyz)" | jq -e '.status == "ready" and .partitions > 0 and .database == true' >/dev/null \
        || fail "$r's /readyz body: $(curl -s "$(url "$r" /readyz)")"
done
ok "/readyz 200 once partitions are assigned"

admin=$(it_token ops admin)
alice=$(it_token alice)
r=$(it_post "$admin" '{"events":[
  {"type":"catalog.product_upserted","product_id":"p1","name":"Mug","price":{"amount_minor":500,"currency":"GBP"},"stock":10},
  {"type":"catalog.product_upserted","product_id":"p2","name":"Lamp","price":{"amount_minor":2500,"currency":"GBP"},"stock":3}]}')
[ "${r%% *}" = 202 ] || fail "catalog upsert: $r"
r=$(it_post "$alice" '{"events":[
  {"type":"product.viewed","product_id":"p1"},{"type":"product.viewed","product_id":"p2"},
  {"type":"product.viewed","product_id":"p1"},
  {"type":"cart.item_added","product_id":"p1","quantity":2,"unit_price":{"amount_minor":500,"currency":"GBP"}},
  {"type":"cart.item_added","product_id":"p2","quantity":1},
  {"type":"order.placed","order_id":"o-1","lines":[{"product_id":"p1","quantity":2,"unit_price":{"amount_minor":500,"currency":"GBP"}}]}]}')
[ "${r%% *}" = 202 ] || fail "shopper events: $r"

# What each role consumes of what was posted (workers/core/roles.c): type count.
declare -A want
want[projector]="catalog.product_upserted 2 product.viewed 3 cart.item_added 2 order.placed 1"
want[inventory]="catalog.product_upserted 2 order.placed 1"
want[ml]="product.viewed 3 cart.item_added 2"
caught_up() {
    local n
    n=$("$IT_BIN/tools/admin/shopstream-admin" lag --quiet --role "$1" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" \
        --prefix "$IT_PREFIX" --dsn "$IT_DSN" --group "$IT_NAME-$1") && [ "$n" = 0 ]
}
for r in "${roles[@]}"; do
    it_wait "$r caught up (shopstream-admin lag 0)" 90 caught_up "$r"
    set -- ${want[$r]}
    while [ $# -gt 0 ]; do
        it_wait "$r counts $2 x $1" 30 counts "$r" "$1" "$2"
        shift 2
    done
done
sleep 1   # one more cron tick: nothing is counted twice
for r in "${roles[@]}"; do
    set -- ${want[$r]}
    while [ $# -gt 0 ]; do
        got=$(processed "$r" "$1")
        [ "$got" = "$2" ] || fail "$r: events_processed_total{type=$1} is $got, $2 were posted"
        shift 2
    done
done
ok "events_processed_total by type equals the events posted, per role"

# Lag per partition: every partition of every topic the role consumes, as shopstream-admin
# lag sees it (from PostgreSQL's offsets and the broker's watermarks).
for r in "${roles[@]}"; do
    mine=$(scrape "$r" | sed -n 's/^shopstream_worker_consumer_lag{.*topic="\([^"]*\)",partition="\([0-9]*\)"} \(-\?[0-9]*\)$/\1 \2 \3/p' | sort)
    theirs=$("$IT_BIN/tools/admin/shopstream-admin" lag --role "$r" --brokers "$SHOPSTREAM_IT_KAFKA_BROKERS" \
        --prefix "$IT_PREFIX" --dsn "$IT_DSN" --group "$IT_NAME-$r" | awk '$3 == "end" { print $1, $2, $NF }' | sort)
    [ -n "$theirs" ] || fail "shopstream-admin lag printed no partition for $r"
    [ "$mine" = "$theirs" ] || fail "$r: lag per partition differs from shopstream-admin lag:
--- /metrics
$mine
--- shopstream-admin lag
$theirs"
done
ok "consumer_lag per partition present and equal to shopstream-admin lag"

has() { grep -q "$2" <<<"$(scrape "$1")"; }   # the whole scrape first: grep -q would cut curl off
has inventory '^shopstream_worker_outbox_depth{role="inventory",group="'"$IT_NAME"'-inventory"} [0-9]' \
    || fail "the inventory's outbox depth is missing"
has ml '^shopstream_worker_outbox_depth{role="ml",group="'"$IT_NAME"'-ml"} [0-9]' || fail "the ml outbox depth is missing"
has ml '^shopstream_ml_model_version{role="ml",group="'"$IT_NAME"'-ml",model="recommend"} [0-9]' \
    || fail "the ml model versions are missing"
has ml '^shopstream_ml_retrain_duration_seconds_count{role="ml",group="'"$IT_NAME"'-ml",model="segment"} [0-9]' \
    || fail "the ml retrain durations are missing"
has projector '^shopstream_worker_commit_duration_seconds_count{role="projector",group="'"$IT_NAME"'-projector"} [1-9]' \
    || fail "the projector committed no batch in its commit histogram"
has projector '^shopstream_worker_rebalances_total{role="projector",group="'"$IT_NAME"'-projector",kind="assign"} [1-9]' \
    || fail "the projector's assignment is not counted"
ok "outbox depth, model versions, retrain durations and commit latency are served"

for r in "${roles[@]}"; do
    scrape "$r" >"$IT_TMP/$r.prom"
    promtool check metrics <"$IT_TMP/$r.prom" || fail "promtool refuses the $r scrape"
done
curl -fsS "$IT_URL/metrics" >"$IT_TMP/edge.prom" || fail "edge /metrics"
promtool check metrics <"$IT_TMP/edge.prom" || fail "promtool refuses the edge scrape"
ok "promtool check metrics passes on projector, inventory, ml and edge"

[ "$(status_of "$(url projector /nope)")" = 404 ] || fail "an unknown path must be 404"
curl -s "$(url projector /nope)" | jq -e '.status == 404 and .field == "path"' >/dev/null || fail "404 problem body"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$(url projector /metrics)")
[ "$code" = 405 ] || fail "POST /metrics must be 405, got $code"
ok "unknown paths 404 and other methods 405, with problem bodies"

# PostgreSQL unreachable: a second projector (its own group) pointed at a port nothing
# listens on stays live but not ready, and says why.
it_start_role projector "host=127.0.0.1 port=1 dbname=nowhere user=nobody connect_timeout=2" "$IT_NAME-nopg"
nopg="http://127.0.0.1:${PORT[$IT_NAME-nopg]}"
it_wait "the worker without postgresql answers /healthz" 60 answers 200 "$nopg/healthz"
[ "$(status_of "$nopg/readyz")" = 503 ] || fail "/readyz must be 503 without postgresql: $(curl -s "$nopg/readyz")"
curl -s "$nopg/readyz" | jq -e '.status == "not ready" and (.failed | index("database"))' >/dev/null \
    || fail "/readyz must name the database: $(curl -s "$nopg/readyz")"
curl -fsS "$nopg/metrics" | promtool check metrics || fail "promtool refuses the scrape of a worker without postgresql"
ok "/readyz 503 naming the database when postgresql is unreachable"

# A clean stop: SIGTERM with a keep-alive connection open still exits 0.
exec 3<>"/dev/tcp/127.0.0.1/${PORT[$IT_NAME-projector]}"
printf 'GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n' >&3
pid=${PID[$IT_NAME-projector]}
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
exec 3<&-
[ "$rc" = 0 ] || fail "the projector exited $rc after SIGTERM with an open connection"
grep -q 'loop did not close cleanly' "$IT_TMP/$IT_NAME-projector.log" && fail "the projector's loop did not close cleanly"
ok "SIGTERM with an open connection: exit 0, the loop closed cleanly"
echo "1 passed, 0 failed"
