#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Readiness and shutdown. /readyz is answered from the background check's state, so it
# answers at once even while the only read-pool thread is stuck on a database that never
# replies (before, it queued behind that read). After SIGTERM, /readyz answers 503 while
# events and reads are still served for the drain period; then the edge exits 0.
. "$(dirname "$0")/lib.sh"
BH_PID=
DB="it_edge_ops_$$"
cleanup() {
    stop_edge || true
    [ -z "$BH_PID" ] || kill "$BH_PID" 2>/dev/null || true
    psql "$SHOPSTREAM_IT_PG_DSN" -qc "drop database if exists $DB" >/dev/null 2>&1 || true
    [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
PREFIX="it-edge-ops-$$."
create_topics "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS"
psql "$SHOPSTREAM_IT_PG_DSN" -qc "create database $DB" >/dev/null
DB_DSN="$SHOPSTREAM_IT_PG_DSN dbname=$DB"
"$ADMIN" migrate --dsn "$DB_DSN" >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log"; exit 1; }
U1=$("$TOKEN" --sub u1)

# A "database" that accepts connections and never answers.
python3 "$(dirname "$0")/blackhole.py" "$TMP/bh.count" >"$TMP/bh.port" &
BH_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/bh.port" ] && break; sleep 0.1; done
BH_DSN="host=127.0.0.1 port=$(cat "$TMP/bh.port") dbname=x user=x sslmode=disable"

# ---- /readyz never queues on the read pool ----------------------------------------------
EDGE_PG_DSN=$BH_DSN start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS" SHOPSTREAM_EDGE_PG_POOL=1 \
    SHOPSTREAM_EDGE_PG_TIMEOUT_MS=8000 SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS=60000 SHOPSTREAM_EDGE_DRAIN_MS=0
curl -s -o /dev/null --max-time 30 -H "Authorization: Bearer $U1" "http://127.0.0.1:$PORT/v1/products/p1" &
READ_PID=$!
for _ in $(seq 1 100); do [ "$(cat "$TMP/bh.count" 2>/dev/null || echo 0)" -ge 2 ] && break; sleep 0.1; done
check "the read and the readiness check both hang on the silent database" [ "$(cat "$TMP/bh.count")" -ge 2 ]
# The only pool thread is stuck for 8 s; the 3 s bound is a safety net, not a timing claim.
STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 3 "http://127.0.0.1:$PORT/readyz" || true)
check "/readyz answers while the read pool is stuck (got $STATUS)" [ "$STATUS" = 503 ]
check "/readyz says why" grep -Eq '"detail":"(readiness not checked yet|database unavailable)' "$TMP/body"
N=0
for _ in $(seq 1 200); do
    s=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$PORT/readyz" || true)
    [ "$s" = 503 ] && N=$((N + 1))
done
check "a burst of 200 /readyz all answered ($N)" [ "$N" = 200 ]
kill "$READ_PID" 2>/dev/null || true
stop_edge

# ---- readiness with both dependencies up, then SIGTERM ---------------------------------
EDGE_PG_DSN=$DB_DSN start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS" SHOPSTREAM_EDGE_DRAIN_MS=6000 \
    SHOPSTREAM_EDGE_READY_INTERVAL_MS=200
for _ in $(seq 1 100); do req GET /readyz; [ "$STATUS" = 200 ] && break; sleep 0.1; done
check "ready with kafka and postgresql up" [ "$STATUS" = 200 ]
N=0
for _ in $(seq 1 200); do
    s=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$PORT/readyz" || true)
    [ "$s" = 200 ] && N=$((N + 1))
done
check "a burst of 200 /readyz all ready ($N)" [ "$N" = 200 ]

kill -TERM "$EDGE_PID"
for _ in $(seq 1 50); do req GET /readyz; [ "$STATUS" = 503 ] && break; sleep 0.1; done
check "after SIGTERM /readyz answers 503" [ "$STATUS" = 503 ]
check "after SIGTERM /readyz says shutting down" body_has '"detail":"shutting down"'
check "after SIGTERM the 503 has Retry-After" hdr_has '^retry-after: '
post "$U1" '{"events":[{"type":"product.viewed","product_id":"p1"}]}'
check "while draining, an event still gets 202" [ "$STATUS" = 202 ]
req GET /v1/products/none-$$ -H "Authorization: Bearer $U1"
check "while draining, a read is still served (404 from the database, got $STATUS)" [ "$STATUS" = 404 ]
req GET /healthz
check "while draining, /healthz is 200" [ "$STATUS" = 200 ]
check "while draining, responses close their keep-alive connection" hdr_has '^connection: close'
check "the edge is still running after those requests" kill -0 "$EDGE_PID"
rc=0; wait "$EDGE_PID" || rc=$?; EDGE_PID=
check "after the drain period the edge exits 0 (rc=$rc)" [ "$rc" = 0 ]
check "it drained before closing its listeners" bash -c "grep -n 'draining: not ready' '$TMP/edge.log' | cut -d: -f1 | head -1 > '$TMP/a'; grep -n 'closing the listeners' '$TMP/edge.log' | cut -d: -f1 | head -1 > '$TMP/b'; [ -s '$TMP/a' ] && [ \$(cat '$TMP/a') -lt \$(cat '$TMP/b') ]"
check "the drain period ran out (not cut short)" grep -q 'closing the listeners.*cut_short=no' "$TMP/edge.log"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$PORT/healthz" || true)
check "after exit the port is closed" [ "$STATUS" = 000 ]

# ---- a second signal cuts the drain short ---------------------------------------------
EDGE_PG_DSN=$DB_DSN start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS" SHOPSTREAM_EDGE_DRAIN_MS=600000
kill -TERM "$EDGE_PID"
for _ in $(seq 1 50); do req GET /readyz; [ "$STATUS" = 503 ] && break; sleep 0.1; done
kill -TERM "$EDGE_PID"
rc=0; wait "$EDGE_PID" || rc=$?; EDGE_PID=
check "a second SIGTERM ends a 10-minute drain and exits 0 (rc=$rc)" [ "$rc" = 0 ]
check "the log says the drain was cut short" grep -q 'cut_short=yes' "$TMP/edge.log"

# ---- bad values exit 2 ----------------------------------------------------------------
for bad in SHOPSTREAM_EDGE_DRAIN_MS=-1 SHOPSTREAM_EDGE_READY_INTERVAL_MS=1 SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS=x; do
    rc=0; env "$bad" SHOPSTREAM_KAFKA_BROKERS=x SHOPSTREAM_PG_DSN=x "$EDGE" 2>"$TMP/bad.log" || rc=$?
    check "$bad exits 2" [ "$rc" = 2 ]
done

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
