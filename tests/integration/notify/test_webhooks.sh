#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The notify role end to end: inventory outcomes on the real broker, a local HTTPS
# receiver behind a CA made here (real TLS, libcurl pointed at the CA), four endpoints:
#   fast  answers 200;
#   flaky answers 503 and slow hangs past the worker's timeout, both until fast has
#         received every status change (so fast getting everything first is what the
#         test needs to finish at all: head-of-line blocking would hang it);
#   dead  always answers 500: every webhook goes to its parking topic after N attempts.
# The first worker is killed with -9 mid-run; the second redelivers. Then: every status
# change reached fast, flaky and slow, deduplicated by id to exactly the expected set,
# with one stable id per change across endpoints, retries and the restart; every
# signature verifies (checked in Python, not by the worker's code); fast had everything
# before flaky or slow had anything; the parking topic holds every change for dead with
# its headers; the worker stops cleanly.
. "$(dirname "$0")/../workers/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
NGEN=$BUILD/tests/integration/notify/it-notify-gen
[ -x "$NGEN" ] || fail "missing $NGEN (build first)"
PY=/usr/bin/python3
PORT=${SHOPSTREAM_IT_NOTIFY_PORT:-35101}
MAX_ATTEMPTS=8
make_topics
TOPIC="${PREFIX}inventory.v1"
GROUP="it-notify-$RUN_ID"

# A CA and a certificate for 127.0.0.1 signed by it.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.pem" -days 2 \
    -subj "/CN=shopstream-it-ca" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$WORK/srv.key" -out "$WORK/srv.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$WORK/srv.ext"
openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
    -out "$WORK/srv.pem" -days 2 -extfile "$WORK/srv.ext" 2>/dev/null

"$NGEN" --brokers "$BROKERS" --topic "$TOPIC" --from 0 --to 40 >"$WORK/expected1.txt"
TOTAL=$(( $(wc -l <"$WORK/expected1.txt") ))
SECRET_FAST=fast-secret-0123456789 SECRET_FLAKY=flaky-secret-0123456789 SECRET_SLOW=slow-secret-0123456789
SECRET_DEAD=dead-secret-0123456789
printf '%s\n' "$SECRET_DEAD" >"$WORK/dead.secret"

start_receiver() {   # start_receiver EXPECTED
    "$PY" "$HERE/receiver.py" serve --port "$PORT" --cert "$WORK/srv.pem" --key "$WORK/srv.key" \
        --log "$WORK/requests.jsonl" --expected "$1" --slow-sleep 2 >>"$WORK/receiver.log" 2>&1 &
    RPID=$!
    local i
    for i in $(seq 50); do
        curl -s -o /dev/null --cacert "$WORK/ca.pem" -X POST -d '' "https://127.0.0.1:$PORT/probe" && return 0
        sleep 0.1
    done
    fail "the receiver did not start"
}

start_notify() {   # start_notify LOGNAME: sets WPID
    local base="https://127.0.0.1:$PORT"
    SHOPSTREAM_PG_DSN="$SHOPSTREAM_IT_PG_DSN" SHOPSTREAM_KAFKA_GROUP_ID="$GROUP" SHOPSTREAM_TOPIC_PREFIX="$PREFIX" \
    SHOPSTREAM_KAFKA_BROKERS="$BROKERS" SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS=6000 SHOPSTREAM_STATS_INTERVAL_MS=2000 \
    SHOPSTREAM_NOTIFY_ENDPOINTS="fast=$base/fast;flaky=$base/flaky;slow=$base/slow;dead=$base/dead" \
    SHOPSTREAM_NOTIFY_SECRET_FAST=$SECRET_FAST SHOPSTREAM_NOTIFY_SECRET_FLAKY=$SECRET_FLAKY \
    SHOPSTREAM_NOTIFY_SECRET_SLOW=$SECRET_SLOW SHOPSTREAM_NOTIFY_SECRET_DEAD_FILE="$WORK/dead.secret" \
    SHOPSTREAM_NOTIFY_CA_FILE="$WORK/ca.pem" SHOPSTREAM_NOTIFY_TIMEOUT_MS=800 SHOPSTREAM_NOTIFY_CONNECT_TIMEOUT_MS=500 \
    SHOPSTREAM_NOTIFY_MAX_ATTEMPTS=$MAX_ATTEMPTS SHOPSTREAM_NOTIFY_BACKOFF_BASE_MS=200 \
    SHOPSTREAM_NOTIFY_BACKOFF_MAX_MS=1000 SHOPSTREAM_NOTIFY_CONCURRENCY=4 SHOPSTREAM_NOTIFY_WINDOW=1000 \
        "$WORKER" --role notify >>"$WORK/$1.log" 2>&1 &
    WPID=$!
}

count() { "$PY" "$HERE/receiver.py" count --log "$WORK/requests.jsonl" --endpoint "$@"; }

wait_count() {     # wait_count ENDPOINT N TIMEOUT_S [--failed]
    local deadline=$(( $(date +%s) + $3 ))
    until [ "$(count "$1" ${4:-})" -ge "$2" ]; do
        [ "$(date +%s)" -ge "$deadline" ] && fail "$1 answered $(count "$1" ${4:-}) of $2 ${4:-status changes}"
        kill -0 "$WPID" 2>/dev/null || fail "the worker exited"
        sleep 0.3
    done
}

parked() {
    kcat -C -b "$BROKERS" -t "${PREFIX}notify.dead.parked.v1" -e -q -f '%h\t%s\n' 2>/dev/null || true
}

# The second half is written after the kill; how many changes it brings is known now.
: >"$WORK/requests.jsonl"
EXPECTED_ALL=$(( TOTAL + $("$NGEN" --brokers "$BROKERS" --topic "$TOPIC" --from 40 --to 100 --print-only | wc -l) ))
start_receiver "$EXPECTED_ALL"

start_notify first
A=$WPID
wait_count fast "$TOTAL" 60
for ep in flaky slow dead; do wait_count $ep 1 30 --failed; done   # each has failed by now
kill -9 "$A"; wait "$A" 2>/dev/null || true
log "killed the first worker after fast had $(count fast) of $EXPECTED_ALL; failed: flaky $(count flaky --failed), slow $(count slow --failed), dead $(count dead --failed)"

"$NGEN" --brokers "$BROKERS" --topic "$TOPIC" --from 40 --to 100 >"$WORK/expected2.txt"
cat "$WORK/expected1.txt" "$WORK/expected2.txt" >"$WORK/expected.txt"
[ "$(wc -l <"$WORK/expected.txt")" -eq "$EXPECTED_ALL" ] || fail "the generator is not deterministic"

start_notify second
wait_count fast "$EXPECTED_ALL" 60
wait_count flaky "$EXPECTED_ALL" 60
wait_count slow "$EXPECTED_ALL" 60
deadline=$(( $(date +%s) + 60 ))
until [ "$(parked | wc -l)" -ge "$EXPECTED_ALL" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "the parking topic holds $(parked | wc -l) of $EXPECTED_ALL"
    sleep 1
done
kill -TERM "$WPID"
wait "$WPID" || fail "the worker exited $? on SIGTERM"
grep -q 'msg="webhook parked"' "$WORK/second.log" || fail "no parking logged"

parked >"$WORK/parked.txt"
"$PY" "$HERE/receiver.py" check --log "$WORK/requests.jsonl" --expected "$WORK/expected.txt" \
    --secrets "fast=$SECRET_FAST,flaky=$SECRET_FLAKY,slow=$SECRET_SLOW,dead=$SECRET_DEAD" \
    --parked "$WORK/parked.txt" --max-attempts "$MAX_ATTEMPTS" --want-duplicates || fail "the deliveries are wrong"
log "ok"
