# SPDX-License-Identifier: MIT
# Shared helpers of the worker integration tests. Sourced, never run.
# Each test gets its own topic prefix, its own databases and its own consumer groups.
set -euo pipefail

if [ -z "${SHOPSTREAM_IT_KAFKA_BROKERS:-}" ] || [ -z "${SHOPSTREAM_IT_PG_DSN:-}" ]; then
    echo "skipped: SHOPSTREAM_IT_KAFKA_BROKERS and SHOPSTREAM_IT_PG_DSN are not set"
    exit 77
fi
SRC=${SHOPSTREAM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BUILD=${SHOPSTREAM_IT_BUILD_DIR:-${SHOPSTREAM_IT_DEFAULT_BUILD_DIR:-$SRC/build}}
WORKER=$BUILD/workers/shopstream-worker
ADMIN=$BUILD/tools/admin/shopstream-admin
GEN=$BUILD/tests/integration/workers/it-workers-gen
BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS
for b in "$WORKER" "$ADMIN" "$GEN"; do
    [ -x "$b" ] || { echo "missing $b (build first)"; exit 1; }
done

TEST=$(basename "$0" .sh)
RUN_ID=$(date +%s)$$
PREFIX="it.${TEST#it_}.$RUN_ID."
WORK=$(mktemp -d "/tmp/shopstream-$TEST.XXXXXX")
DBS=()

log() { printf '%s %s: %s\n' "$(date -u +%H:%M:%S)" "$TEST" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

cleanup() {
    local rc=$?
    local p
    for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done   # only our live children
    for db in "${DBS[@]}"; do psql "$SHOPSTREAM_IT_PG_DSN" -qXc "drop database if exists $db with (force)" >/dev/null 2>&1 || true; done
    if [ $rc -eq 0 ]; then rm -rf "$WORK"; else log "kept $WORK (worker logs)"; tail -n 30 "$WORK"/*.log 2>/dev/null >&2 || true; fi
}
trap cleanup EXIT

# private_pg: a PostgreSQL cluster of the test's own (deploy/local/pg.sh with its own state
# dir and a free port; never the shared one), for tests that stop and start it; stopped and
# removed on exit. Sets PG_STATE, PG_PRIV_PORT and PRIV_DSN (migrated); pgctl start|stop.
private_pg() {
    PG_PRIV_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    PG_STATE=$(mktemp -d "/tmp/shopstream-pg-$TEST.XXXXXX")
    chmod 755 "$PG_STATE"                  # as root the cluster belongs to 'postgres'
    trap 'rc=$?; pgctl stop || true; rm -rf "$PG_STATE"; (exit $rc); cleanup' EXIT
    pgctl start || { cat "$WORK/pg.log" >&2; fail "could not start the private postgresql"; }
    PRIV_DSN="host=$PG_STATE/pg/run port=$PG_PRIV_PORT dbname=shopstream user=shopstream"
    "$ADMIN" migrate --dsn "$PRIV_DSN" --dir "$SRC/schema/migrations" >/dev/null
}
pgctl() {
    env -u SHOPSTREAM_PG_DSN SHOPSTREAM_STATE_DIR="$PG_STATE" SHOPSTREAM_PG_PORT="$PG_PRIV_PORT" \
        bash "$SRC/deploy/local/pg.sh" "$1" >>"$WORK/pg.log" 2>&1
}

# Creates the test's topics (4 partitions) with shopstream-admin.
make_topics() {
    "$ADMIN" create-topics --brokers "$BROKERS" --prefix "$PREFIX" --partitions 4 >/dev/null
}

# new_db NAME: a fresh database with the schema applied; prints its DSN.
new_db() {
    local db="it_w_${1}_${RUN_ID}"
    psql "$SHOPSTREAM_IT_PG_DSN" -qXc "create database $db" >/dev/null
    DBS+=("$db")
    local dsn="$SHOPSTREAM_IT_PG_DSN dbname=$db"
    "$ADMIN" migrate --dsn "$dsn" --dir "$SRC/schema/migrations" >/dev/null
    echo "$dsn"
}

# start_worker DSN GROUP LOGNAME: runs a projector in the background; sets WPID.
start_worker() {
    SHOPSTREAM_PG_DSN="$1" SHOPSTREAM_KAFKA_GROUP_ID="$2" SHOPSTREAM_TOPIC_PREFIX="$PREFIX" \
    SHOPSTREAM_KAFKA_BROKERS="$BROKERS" SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS=6000 \
    SHOPSTREAM_STATS_INTERVAL_MS=2000 SHOPSTREAM_BATCH_MAX="${BATCH_MAX:-500}" \
        "$WORKER" --role projector >>"$WORK/$3.log" 2>&1 &
    WPID=$!
}

q() { psql "$1" -XAtqF, -c "$2"; }

# wait_offsets DSN GROUP TOTAL [TIMEOUT_S]: until PG's offsets cover TOTAL records.
wait_offsets() {
    local deadline=$(( $(date +%s) + ${4:-120} )) got
    while :; do
        got=$(q "$1" "select coalesce(sum(next_offset),0) from consumer_offsets where consumer_group = '$2'")
        [ "$got" = "$3" ] && return 0
        [ "$(date +%s)" -ge "$deadline" ] && fail "offsets of $2 reached $got of $3"
        sleep 0.3
    done
}

# dump DSN DIR: the read models as CSV, in the generator's column order, C-sorted.
dump() {
    mkdir -p "$2"
    q "$1" "select product_id, name, price_minor, currency, views, purchases from products" | LC_ALL=C sort >"$2/products.csv"
    q "$1" "select user_id, product_id, quantity, unit_price_minor from cart_items" | LC_ALL=C sort >"$2/cart_items.csv"
    q "$1" "select order_id, user_id, status, total_minor, coalesce(rejection->>'reason', '') from orders" | LC_ALL=C sort >"$2/orders.csv"
    q "$1" "select order_id, status, at_ms from order_status_history" | LC_ALL=C sort >"$2/history.csv"
    q "$1" "select order_id, event_id, type, user_id, actor_role, reason from refused_events" | LC_ALL=C sort >"$2/refused.csv"
    q "$1" "select order_id, event_id from order_decisions_pending" | LC_ALL=C sort >"$2/pending.csv"
    dump_analytics "$1" "$2"
}

# dump_analytics DSN DIR: 0009's models, rows that net to zero left out (whether one
# exists depends on batch boundaries), days as days since 1970-01-01.
dump_analytics() {
    local day="(day - date '1970-01-01')"
    q "$1" "select * from user_activity" | LC_ALL=C sort >"$2/user_activity.csv"
    q "$1" "select user_id, rtrim(currency), amount_minor, paid_orders from user_spend where amount_minor <> 0 or paid_orders <> 0" | LC_ALL=C sort >"$2/user_spend.csv"
    q "$1" "select product_id, $day, views, units from product_daily where views <> 0 or units <> 0" | LC_ALL=C sort >"$2/product_daily.csv"
    q "$1" "select product_id, $day, rtrim(currency), revenue_minor from product_daily_revenue where revenue_minor <> 0" | LC_ALL=C sort >"$2/product_daily_revenue.csv"
    q "$1" "select category, $day, rtrim(currency), revenue_minor from category_daily where revenue_minor <> 0" | LC_ALL=C sort >"$2/category_daily.csv"
    q "$1" "select stage, $day, user_id, n from funnel_daily where n <> 0" | LC_ALL=C sort >"$2/funnel_daily.csv"
}

# dump_full DSN DIR: every column of every read model, for run-against-run comparison
# (a refusal's group and time, and the order's status when it was refused, which
# depends on when the inventory's decision was read, left out).
dump_full() {
    mkdir -p "$2"
    local t
    for t in products cart_items carts orders order_lines order_status_history order_decisions_pending; do
        q "$1" "select * from $t" | LC_ALL=C sort >"$2/$t.csv"
    done
    q "$1" "select event_id, topic, partition, kafka_offset, type, order_id, user_id, actor_role, reason, occurred_at_ms from refused_events" | LC_ALL=C sort >"$2/refused_events.csv"
    dump_analytics "$1" "$2"
    q "$1" "select count(*) from applied_events" >"$2/applied_count"
}

expect_equal() {   # expect_equal DIR_A DIR_B WHAT
    diff -ru "$1" "$2" >"$WORK/diff.txt" || { head -n 40 "$WORK/diff.txt" >&2; fail "$3 differ"; }
}

gen_expect() {     # gen_expect SEED N DIR
    mkdir -p "$3"
    "$GEN" expect --seed "$1" --n "$2" --out "$3"
    local f; for f in "$3"/*.csv; do LC_ALL=C sort -o "$f" "$f"; done
}
