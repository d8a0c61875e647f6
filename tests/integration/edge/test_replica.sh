#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reads from a real streaming replica of the test PostgreSQL, made by the project's own
# script (deploy/local/pg.sh replica: pg_basebackup -R, a hot standby on a private port):
# an edge with SHOPSTREAM_PG_READ_DSN at it serves reads from the replica (its
# connections are there, named shopstream-edge-read, and none on the primary), while the
# ownership lookups of ingest still see the primary (with the replica's replay paused, an
# order only the primary has is a 409 / 403, and reading it is a 404 until replay
# resumes); events through the edge, applied by a projector on the primary, are read back
# through the replica. Read-your-writes on the replica: 320 write-then-read pairs (8 at a
# time) are all "fresh" and each read shows its write; with replay paused a read answers
# "stale" after its wait, naming the partition behind; a read parked while replay is paused
# is answered "fresh" once replay resumes (the offsets watcher reads the replica, not the
# primary, which has nothing new to say). With the replica stopped reads are 503 +
# Retry-After, /readyz says so, ingest still works, and reads come back when it is started
# again.
. "$(dirname "$0")/lib.sh"

PREFIX="it-edge-replica-$$."
DB="it_edge_replica_$$"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
R_PORT=${SHOPSTREAM_IT_REPLICA_PORT:-$(free_port)}   # a free port; set it to pin one while developing
R_STATE=$(mktemp -d /tmp/shopstream-pg-replica.XXXXXX)
chmod 755 "$R_STATE"                   # as root the replica belongs to 'postgres'
R_DSN="host=$R_STATE/pg-replica/run port=$R_PORT dbname=$DB user=shopstream"
# The edge's replica DSN carries a password (trust ignores it) that no log line may show.
R_PW="it-replica-pw-$$"
PROJ_PID=
replica() {   # replica start|stop: deploy/local/pg.sh replica, of the test cluster
    env -u SHOPSTREAM_PG_DSN -u SHOPSTREAM_PG_REPLICA_DSN SHOPSTREAM_STATE_DIR="$R_STATE" \
        SHOPSTREAM_PG_REPLICA_PORT="$R_PORT" SHOPSTREAM_PG_REPLICA_SOURCE="$SHOPSTREAM_IT_PG_DSN" \
        bash "$REPO/deploy/local/pg.sh" replica "$1" >>"$TMP/replica.log" 2>&1
}
cleanup() {
    stop_edge || true
    [ -z "$PROJ_PID" ] || { kill "$PROJ_PID" 2>/dev/null; wait "$PROJ_PID" 2>/dev/null || true; }
    replica stop || true
    rm -rf "$R_STATE"
    drop_edge_db "$DB"
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT

create_topics "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS"
make_edge_db "$DB"
primary() { psql "$EDGE_PG_DSN" -qAtX -v ON_ERROR_STOP=1 "$@"; }
standby() { psql "$R_DSN" -qAtX -v ON_ERROR_STOP=1 "$@"; }
# Polls (bounded; nothing asserts how fast) until COMMAND succeeds.
wait_for() { local n=$1; shift; for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
# o-a is ua's, placed before the backup.
primary >/dev/null <<'SQL'
insert into orders (order_id, user_id, status, total_minor, currency, placed_at_ms, updated_at_ms)
values ('o-a','ua','placed',500,'GBP',1700000000000,1700000000000);
SQL

replica start || { cat "$TMP/replica.log"; echo "could not start the replica"; exit 1; }
check "the replica is a hot standby" [ "$(standby -c 'select pg_is_in_recovery()')" = t ]
check "the primary streams to it" \
    [ "$(psql "$SHOPSTREAM_IT_PG_DSN" -qAtX -c "select count(*) from pg_stat_replication where state = 'streaming'")" -ge 1 ]

start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS" SHOPSTREAM_EDGE_PG_POOL=2 \
    SHOPSTREAM_EDGE_GROUP_PROJECTOR="${PREFIX}projector" SHOPSTREAM_EDGE_POSITION_KEY="it-replica-key-$$-0123456789" \
    SHOPSTREAM_PG_READ_DSN="$R_DSN password=$R_PW" SHOPSTREAM_EDGE_READY_INTERVAL_MS=200 \
    SHOPSTREAM_EDGE_RETRY_AFTER_S=3 SHOPSTREAM_EDGE_PG_TIMEOUT_MS=2000
UA=$("$TOKEN" --sub ua)
UB=$("$TOKEN" --sub ub)
UC=$("$TOKEN" --sub uc)
check "the configuration line names the replica" grep -q "pg_read_dsn=\"host=$R_STATE" "$TMP/edge.log"
ready_is() { req GET /readyz; [ "$STATUS" = "$1" ]; }
check "ready with the primary and the replica up" wait_for 50 ready_is 200

# ---- reads are served by the replica -----------------------------------------------------
req GET /v1/orders/o-a -H "Authorization: Bearer $UA"
check "ua reads o-a (got $STATUS)" [ "$STATUS" = 200 ]
req GET /v1/orders/o-a -H "Authorization: Bearer $UA"    # the other pool thread, likely
readers() { psql "$1" -qAtX -c "select count(*) from pg_stat_activity where datname = '$DB' and application_name = 'shopstream-edge-read'"; }
check "the edge's read connections are on the replica ($(readers "$R_DSN"))" [ "$(readers "$R_DSN")" -ge 1 ]
check "... and none on the primary" [ "$(readers "$EDGE_PG_DSN")" = 0 ]

# ---- the ownership lookups see the primary ---------------------------------------------
standby -c 'select pg_wal_replay_pause()' >/dev/null
primary >/dev/null <<'SQL'
insert into orders (order_id, user_id, status, total_minor, currency, placed_at_ms, updated_at_ms)
values ('o-new','ua','placed',700,'GBP',1700000001000,1700000001000);
SQL
check "the paused replica has not got o-new" [ "$(standby -c "select count(*) from orders where order_id = 'o-new'")" = 0 ]
LINES='"lines":[{"product_id":"p1","quantity":1,"unit_price":{"amount_minor":700,"currency":"GBP"}}]'
post "$UA" '{"events":[{"type":"order.placed","order_id":"o-new",'"$LINES"'}]}'
check "placing o-new again is a 409: the lookup saw the primary (got $STATUS)" [ "$STATUS" = 409 ]
post "$UB" '{"events":[{"type":"order.cancelled","order_id":"o-new"}]}'
check "ub cancelling ua's o-new is a 403 (got $STATUS)" [ "$STATUS" = 403 ]
req GET /v1/orders/o-new -H "Authorization: Bearer $UA"
check "reading o-new while replay is paused is a 404: reads see the replica (got $STATUS)" [ "$STATUS" = 404 ]
standby -c 'select pg_wal_replay_resume()' >/dev/null
read_is() { req GET "$1" -H "Authorization: Bearer $2"; [ "$STATUS" = "$3" ]; }
check "o-new reads back once replay resumes" wait_for 100 read_is /v1/orders/o-new "$UA" 200

# ---- the projector writes the primary; the edge reads it back from the replica -----------
SHOPSTREAM_KAFKA_BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS SHOPSTREAM_TOPIC_PREFIX=$PREFIX \
SHOPSTREAM_PG_DSN=$EDGE_PG_DSN SHOPSTREAM_KAFKA_GROUP_ID="${PREFIX}projector" \
    "$BUILD/workers/shopstream-worker" --role projector >"$TMP/projector.log" 2>&1 &
PROJ_PID=$!
post "$UC" '{"events":[{"type":"cart.item_added","product_id":"p7","quantity":2,"unit_price":{"amount_minor":250,"currency":"GBP"}},{"type":"cart.item_added","product_id":"p8","quantity":1}]}'
check "uc's cart events are taken (got $STATUS)" [ "$STATUS" = 202 ]
cart_is() { req GET /v1/me/cart -H "Authorization: Bearer $UC"; [ "$STATUS" = 200 ] &&
    jq -e '[.items[] | [.product_id, .quantity]] == [["p7",2],["p8",1]]' "$TMP/body" >/dev/null; }
check "uc's cart, projected on the primary, reads back through the replica" wait_for 300 cart_is
check "... and the primary holds it too" \
    [ "$(primary -c "select count(*) from cart_items where user_id = 'uc'")" = 2 ]

# ---- read-your-writes on the replica -------------------------------------------------------
# pair USER TOKEN I: posts p-USER-I to USER's cart, reads the cart back with the position;
# prints "fresh" when the read said fresh and holds the item, else what it got.
pair() {
    local user=$1 tok=$2 i=$3 hdrs body pos
    hdrs=$(mktemp "$TMP/pair.XXXXXX")
    curl -s -o /dev/null -D "$hdrs" --max-time 20 -X POST "http://127.0.0.1:$PORT/v1/events" \
        -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        --data-binary '{"events":[{"type":"cart.item_added","product_id":"p-'"$user-$i"'","quantity":1}]}'
    pos=$(awk -F': ' 'tolower($1) == "x-shopstream-position" {print $2}' "$hdrs" | tr -d '\r')
    [ -n "$pos" ] || { echo "no position: $(head -1 "$hdrs")"; rm -f "$hdrs"; return; }
    body=$(curl -s -D "$hdrs" --max-time 20 "http://127.0.0.1:$PORT/v1/me/cart" \
        -H "Authorization: Bearer $tok" -H "X-Shopstream-After: $pos" -H 'Prefer: wait=10')
    if grep -qi '^x-shopstream-consistency: fresh' "$hdrs" &&
        jq -e --arg p "p-$user-$i" 'any(.items[]; .product_id == $p)' <<<"$body" >/dev/null; then
        echo fresh
    else
        echo "$user $i: $(grep -i '^x-shopstream-consistency' "$hdrs" | tr -d '\r') $(head -c 200 <<<"$body")"
    fi
    rm -f "$hdrs"
}
export -f pair
export PORT TMP
for k in 1 2 3 4 5 6 7 8; do
    tok=$("$TOKEN" --sub "rw$k")
    for i in $(seq 1 40); do echo "rw$k $tok $i"; done
done | xargs -P 8 -L 1 bash -c 'pair "$@"' _ >"$TMP/pairs"
check "320 write-then-read pairs through the replica: all fresh, each read shows its write ($(grep -c '^fresh$' "$TMP/pairs") fresh)" \
    [ "$(grep -c '^fresh$' "$TMP/pairs")" = 320 ]
grep -v '^fresh$' "$TMP/pairs" | head -5 || true

# Replay paused: the projector commits on the primary, the replica cannot show it.
UD=$("$TOKEN" --sub ud)
standby -c 'select pg_wal_replay_pause()' >/dev/null
post "$UD" '{"events":[{"type":"cart.item_added","product_id":"p-paused","quantity":1}]}'
POS=$(jq -r .position "$TMP/body")
check "the write is taken, with a position (got $STATUS)" [ "$STATUS" = 202 ] && [ -n "$POS" ]
committed() { [ "$(primary -c "select count(*) from cart_items where user_id = 'ud'")" = 1 ]; }
check "the projector committed it on the primary" wait_for 300 committed
req GET /v1/me/cart -H "Authorization: Bearer $UD" -H "X-Shopstream-After: $POS" -H 'Prefer: wait=1'
check "a read with replay paused answers 200 (got $STATUS)" [ "$STATUS" = 200 ]
check "... stale after its wait" hdr_has '^x-shopstream-consistency: stale'
check "... naming the projector's partition behind" hdr_has "^x-shopstream-behind: ${PREFIX}projector:${PREFIX}cart.v1:0"
check "... and without the write" [ "$(jq '.items | length' "$TMP/body")" = 0 ]
# A read parked now is answered when replay resumes: nothing more happens on the primary.
curl -s -o "$TMP/parked.body" -D "$TMP/parked.hdrs" --max-time 20 "http://127.0.0.1:$PORT/v1/me/cart" \
    -H "Authorization: Bearer $UD" -H "X-Shopstream-After: $POS" -H 'Prefer: wait=10' &
PARKED=$!
sleep 1   # lets it run once and park (nothing shows that; were it late, it would only be fresh sooner)
T0=$(date +%s%N)
standby -c 'select pg_wal_replay_resume()' >/dev/null
wait "$PARKED" || true
# A figure, not a check: woken by the watcher reading the replica this takes milliseconds;
# a watcher that read only the primary would leave the read to its 10 s deadline.
echo "figure: the parked read answered $(( ($(date +%s%N) - T0) / 1000000 )) ms after replay resumed"
check "a read parked while replay was paused answers fresh once it resumes" \
    grep -qi '^x-shopstream-consistency: fresh' "$TMP/parked.hdrs"
check "... with the write" [ "$(jq -c '[.items[].product_id]' "$TMP/parked.body")" = '["p-paused"]' ]

# ---- the replica stopped: reads 503, ingest goes on ---------------------------------------
replica stop || fail "could not stop the replica"
req GET /v1/orders/o-a -H "Authorization: Bearer $UA"
check "a read with the replica down is a 503 (got $STATUS)" [ "$STATUS" = 503 ]
check "it carries Retry-After" hdr_has '^retry-after: 3'
check "it is a problem+json" grep -qi '^content-type: application/problem+json' "$TMP/hdrs"
req GET /v1/orders/o-a -H "Authorization: Bearer $UA"
check "so is the next one (got $STATUS)" [ "$STATUS" = 503 ]
post "$UA" '{"events":[{"type":"product.viewed","product_id":"p1"}]}'
check "ingest still takes events (got $STATUS)" [ "$STATUS" = 202 ]
post "$UB" '{"events":[{"type":"order.cancelled","order_id":"o-a"}]}'
check "the ownership lookup still answers: ub cancelling o-a is a 403 (got $STATUS)" [ "$STATUS" = 403 ]
post "$UA" '{"events":[{"type":"order.cancelled","order_id":"o-a"}]}'
check "ua cancelling their own o-a is a 202 (got $STATUS)" [ "$STATUS" = 202 ]
check "/readyz is 503 with every replica down" wait_for 50 ready_is 503
check "... saying so" body_has 'every database replica unavailable'
check "the edge logged the replica down" grep -q 'dependency=postgresql-replica-1' "$TMP/edge.log"
check "it logged the failed connections" \
    wait_for 50 grep -q 'could not connect to a postgresql replica' "$TMP/edge.log"
check "no log line shows the replica DSN's password" bash -c "! grep -q -- '$R_PW' '$TMP/edge.log'"

replica start || fail "could not restart the replica"
check "reads come back with the replica" wait_for 100 read_is /v1/orders/o-a "$UA" 200
check "and /readyz" wait_for 50 ready_is 200

stop_edge || fail "the edge did not exit cleanly"
echo "failures: $FAILS"
[ "$FAILS" = 0 ]
