#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The edge's transport under hostile clients (and its thread count): one loop thread
# under a one-CPU affinity mask; no cleartext HTTP/2 (neither the h2c
# upgrade nor prior knowledge); a request whose headers or body trickle in is cut off
# at SHOPSTREAM_EDGE_REQUEST_TIMEOUT_MS; past SHOPSTREAM_EDGE_MAX_CONNECTIONS a
# connection gets a 503 problem; out of file descriptors, a connection gets a 503 and
# the loop does not spin; the edge serves again once connections close.
. "$(dirname "$0")/lib.sh"
RAW="python3 $(dirname "$0")/rawhttp.py"

BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS
PREFIX="it-edge-transport-$$."
HOLD_FD=
HOLD_PID=
release() { if [ -n "$HOLD_FD" ]; then exec {HOLD_FD}>&-; HOLD_FD=; fi; wait "$HOLD_PID" 2>/dev/null || true; }
cleanup() { release; stop_edge || true; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"; }
trap cleanup EXIT

# hold N: N kept-alive connections, each served once; their statuses in $TMP/hold.out.
hold() {
    rm -f "$TMP/hold.in" "$TMP/hold.out"; mkfifo "$TMP/hold.in"
    $RAW hold "$PORT" "$1" <"$TMP/hold.in" >"$TMP/hold.out" &
    HOLD_PID=$!
    exec {HOLD_FD}>"$TMP/hold.in"
    for _ in $(seq 1 900); do grep -q '^ready$' "$TMP/hold.out" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
# healthz_until STATUS: polls /healthz (safety net 10 s) until it answers STATUS.
healthz_until() {
    for _ in $(seq 1 100); do req GET /healthz; [ "$STATUS" = "$1" ] && return 0; sleep 0.1; done
    return 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$EDGE_PID/stat"; }

create_topics "$PREFIX" "$BROKERS"
U1=$("$TOKEN" --sub u1)

# ---- loop threads default to the CPUs the process may use ---------------------------
# One allowed CPU (taskset): one loop thread, however many the host has.
printf '#!/bin/sh\nexec taskset -c 0 "%s"\n' "$EDGE" >"$TMP/edge-cpu0"; chmod +x "$TMP/edge-cpu0"
REAL_EDGE=$EDGE; EDGE=$TMP/edge-cpu0
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_EDGE_THREADS=
EDGE=$REAL_EDGE
check "one allowed CPU: one loop thread (host has $(getconf _NPROCESSORS_ONLN))" \
    grep -q 'msg="listening".* threads=1$' "$TMP/edge.log"
# h2o's own refusals (here a broken chunked body) are problem bodies like every error.
$RAW send "$PORT" 'POST /v1/events HTTP/1.1\r\nHost: e\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n' >"$TMP/chunked.out"
check "broken chunked body: 400" grep -q '^HTTP/1.1 400 ' "$TMP/chunked.out"
check "broken chunked body: problem body" grep -qi '^content-type: application/problem+json' "$TMP/chunked.out"
check "broken chunked body: problem members" grep -q '"title":"Bad Request","status":400,"detail":' "$TMP/chunked.out"
stop_edge

# ---- no cleartext HTTP/2 ----------------------------------------------------------
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_EDGE_REQUEST_TIMEOUT_MS=1000
V=$(curl -s -o /dev/null -w '%{http_version}' --max-time 10 --http2 "http://127.0.0.1:$PORT/healthz" || true)
check "Upgrade: h2c is not taken (answered over HTTP/$V)" [ "$V" = 1.1 ]
V=$(curl -s -o /dev/null -w '%{http_version}' --max-time 10 --http2-prior-knowledge \
    "http://127.0.0.1:$PORT/healthz" || true)
check "the HTTP/2 preface is not taken (got HTTP/${V:-none})" [ "$V" != 2 ]
printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00' >"$TMP/preface"
python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),timeout=10); s.sendall(open(sys.argv[2],"rb").read()); print(s.recv(64)[:12].decode("latin-1"))' \
    "$PORT" "$TMP/preface" >"$TMP/preface.out" 2>&1 || true
check "a raw preface gets HTTP/1.1 400, not a SETTINGS frame" grep -q '^HTTP/1.1 400' "$TMP/preface.out"

# ---- slow clients are cut off -----------------------------------------------------
# 5 s of trickling: far past the 1 s timeout set here, within h2o's 10 s default.
OUT=$($RAW trickle "$PORT" 0.2 '' 'GET /healthz HTTP/1.1\r\nHost: e\r\n\r\n')
check "headers trickling past the request timeout: closed without an answer (got $OUT)" [ "$OUT" = closed ]
OUT=$($RAW trickle "$PORT" 0.2 'POST /v1/events HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n' \
    '{"events":[{"type":"x"}]}')
check "a body trickling past the request timeout: closed without an answer (got $OUT)" [ "$OUT" = closed ]
OUT=$($RAW trickle "$PORT" 0.01 '' 'GET /healthz HTTP/1.1\r\nHost: e\r\n\r\n')
check "a prompt request is still answered (got $OUT)" [ "$OUT" = "answered HTTP/1.1 200 OK" ]
check "h2o closed the slow connections (edge alive)" kill -0 "$EDGE_PID"
stop_edge

# ---- connection cap -----------------------------------------------------------------
start_edge "$PREFIX" "$BROKERS" SHOPSTREAM_EDGE_MAX_CONNECTIONS=3 SHOPSTREAM_EDGE_RETRY_AFTER_S=2
hold 3 || fail "could not open the held connections"
check "three connections up to the cap are served" [ "$(grep -c '^200$' "$TMP/hold.out")" = 3 ]
req GET /healthz
check "past the cap: 503 (got $STATUS)" [ "$STATUS" = 503 ]
check "past the cap: problem body naming the connection" grep -q '"field":"connection"' "$TMP/body"
check "past the cap: Retry-After" hdr_has '^retry-after: 2'
release
check "once connections close, requests are served again" healthz_until 200
stop_edge

# ---- out of file descriptors ------------------------------------------------------
start_edge "$PREFIX" "$BROKERS"
healthz_until 200 || fail "edge did not answer"
sleep 1   # let the producers and the read pool open their connections
NFD=$(ls "/proc/$EDGE_PID/fd" | wc -l)
prlimit --pid "$EDGE_PID" --nofile=$((NFD + 3)):$((NFD + 3))
hold 20 || fail "could not open the held connections"
check "some connections are served up to the descriptor limit" grep -q '^200$' "$TMP/hold.out"
check "past the descriptor limit: 503, not a connection left hanging" grep -q '^503$' "$TMP/hold.out"
check "past the descriptor limit: no connection without an answer" bash -c "! grep -q '^none$' '$TMP/hold.out'"
# One more connection that nobody reads: before the fix it sat in the accept queue with
# the listener always readable, and the loop spun on EMFILE.
python3 -c 'import socket,sys,time; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); time.sleep(3)' "$PORT" &
IDLE_PID=$!
sleep 0.5
T0=$(cpu_ticks); sleep 2; T1=$(cpu_ticks)
wait "$IDLE_PID" || true
TICKS=$(getconf CLK_TCK)
check "no accept spin while out of descriptors (cpu $((T1 - T0)) ticks in 2 s)" [ $((T1 - T0)) -lt "$TICKS" ]
release
check "once connections close, requests are served again" healthz_until 200
check "edge exits 0 on SIGTERM" stop_edge

echo "failures: $FAILS"
[ "$FAILS" = 0 ]
