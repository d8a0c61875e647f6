#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Read deadlines against a database that hangs: a TCP server that accepts and never
# answers, so each read holds the only pool thread until the connect timeout. A read that
# cannot start within SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS gets 503 + Retry-After and is
# never run; a queued read whose client disconnected (HTTP/1.1 and HTTP/2) is never run.
# "Never run" is counted twice: by the edge's metrics and by the connections the silent
# database saw (each run opens one, since the previous attempt failed).
. "$(dirname "$0")/lib.sh"
BH_PID=
cleanup() { stop_edge || true; [ -z "$BH_PID" ] || kill "$BH_PID" 2>/dev/null || true; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"; }
trap cleanup EXIT
PREFIX="it-edge-reads-$$."
create_topics "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS"
U1=$("$TOKEN" --sub u1)

python3 "$(dirname "$0")/blackhole.py" "$TMP/bh.count" >"$TMP/bh.port" &
BH_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/bh.port" ] && break; sleep 0.1; done
export EDGE_PG_DSN="host=127.0.0.1 port=$(cat "$TMP/bh.port") dbname=x user=x sslmode=disable"
accepts() { cat "$TMP/bh.count" 2>/dev/null || echo 0; }
metric() { curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
read_bg() {   # read_bg NAME [curl args]: one read in the background, status to $TMP/NAME
    local name=$1; shift
    curl -s -o /dev/null -w '%{http_code}' "$@" -H "Authorization: Bearer $U1" \
        "http://127.0.0.1:$PORT/v1/products/p1" >"$TMP/$name" 2>/dev/null &
    BG_PID=$!
}
# Waits (bounded) until the silent database has seen n connections.
wait_accepts() { for _ in $(seq 1 100); do [ "$(accepts)" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }

# One pool thread, 3 s connect timeout; the readiness check connects once at start and then
# not for a minute, so the connection count only moves with reads.
COMMON=(SHOPSTREAM_EDGE_PG_POOL=1 SHOPSTREAM_EDGE_PG_TIMEOUT_MS=3000
        SHOPSTREAM_EDGE_READY_INTERVAL_MS=60000 SHOPSTREAM_EDGE_DRAIN_MS=0)

# ---- the deadline ----------------------------------------------------------------------
start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS" "${COMMON[@]}" SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS=300 \
    SHOPSTREAM_EDGE_RETRY_AFTER_S=7
wait_accepts 1 || fail "the readiness check reached the silent database"
read_bg first --max-time 20
wait_accepts 2 || fail "the first read reached the silent database"
req GET /v1/products/p2 -H "Authorization: Bearer $U1"
check "a read queued behind a stuck one gets 503 (got $STATUS)" [ "$STATUS" = 503 ]
check "it carries Retry-After" hdr_has '^retry-after: 7'
check "it says the read could not start" body_has '"detail":"read could not start within 300 ms"'
wait "$BG_PID" || true
check "the first read ended 503 (database unavailable)" [ "$(cat "$TMP/first")" = 503 ]
check "metrics count one read not run at its deadline" [ "$(metric 'shopstream_edge_reads_not_run_total{reason="deadline"}')" = 1 ]
# If the expired read had run, it would have opened a third connection once the first
# read's connect timed out. Wait past that point with a read that must run.
read_bg third --max-time 20
wait_accepts 3 || true
wait "$BG_PID" || true
check "the expired read never reached the database ($(accepts) connections: check + first + third)" [ "$(accepts)" = 3 ]
stop_edge

# ---- clients that went away --------------------------------------------------------------
BEFORE=$(accepts)
start_edge "$PREFIX" "$SHOPSTREAM_IT_KAFKA_BROKERS" "${COMMON[@]}" SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS=30000
wait_accepts $((BEFORE + 1)) || fail "the readiness check reached the silent database"
read_bg holder --max-time 20
wait_accepts $((BEFORE + 2)) || fail "the holding read reached the silent database"
curl -s -o /dev/null --max-time 0.5 -H "Authorization: Bearer $U1" "http://127.0.0.1:$PORT/v1/products/p3" || true
if curl -s -o /dev/null --http2-prior-knowledge --max-time 2 "http://127.0.0.1:$PORT/healthz"; then
    curl -s -o /dev/null --http2-prior-knowledge --max-time 0.5 -H "Authorization: Bearer $U1" \
        "http://127.0.0.1:$PORT/v1/products/p4" || true
    GONE=2
else
    echo "note: this edge does not speak cleartext HTTP/2; only the HTTP/1.1 case is checked"
    GONE=1
fi
for _ in $(seq 1 50); do
    [ "$(metric 'shopstream_edge_reads_not_run_total{reason="client_gone"}')" = "$GONE" ] && break
    sleep 0.1
done
check "metrics count $GONE queued reads whose client left" [ "$(metric 'shopstream_edge_reads_not_run_total{reason="client_gone"}')" = "$GONE" ]
wait "$BG_PID" || true
read_bg last --max-time 20
wait_accepts $((BEFORE + 3)) || true
wait "$BG_PID" || true
check "the departed clients' reads never reached the database" [ "$(accepts)" = $((BEFORE + 3)) ]
check "no read ran past its deadline here" [ "$(metric 'shopstream_edge_reads_not_run_total{reason="deadline"}')" = 0 ]

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
