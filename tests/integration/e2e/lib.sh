# SPDX-License-Identifier: MIT
# Helpers for process-level integration tests (sourced). Each test gets its own
# topic prefix, consumer group and database, so tests share one broker and one
# PostgreSQL without seeing each other. Everything started is stopped on exit.
set -euo pipefail

it_require_env() {
    if [ -z "${SHOPSTREAM_IT_KAFKA_BROKERS:-}" ] || [ -z "${SHOPSTREAM_IT_PG_DSN:-}" ] || [ -z "${SHOPSTREAM_IT_BUILD_DIR:-}" ]; then
        echo "skipped: SHOPSTREAM_IT_KAFKA_BROKERS, SHOPSTREAM_IT_PG_DSN and SHOPSTREAM_IT_BUILD_DIR are not set"
        exit 77
    fi
    IT_BIN=$SHOPSTREAM_IT_BUILD_DIR
    IT_REPO=${SHOPSTREAM_IT_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
    IT_NAME=${IT_NAME:-it$$}
    IT_TMP=$(mktemp -d)
    IT_PIDS=()
    IT_DB=""
    trap it_cleanup EXIT
    export SHOPSTREAM_JWT_SECRET; SHOPSTREAM_JWT_SECRET=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    export SHOPSTREAM_LOG_LEVEL=${SHOPSTREAM_LOG_LEVEL:-info}
}

it_cleanup() {
    local rc=$?
    for p in "${IT_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
        for f in "$IT_TMP"/*.log; do [ -f "$f" ] && { echo "---- $f (tail)"; tail -n 40 "$f"; }; done
    fi
    [ -n "$IT_DB" ] && psql "$SHOPSTREAM_IT_PG_DSN" -qXc "drop database if exists $IT_DB with (force)" >/dev/null 2>&1 || true
    rm -rf "$IT_TMP"
    exit $rc
}

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# A fresh database with the schema applied; sets IT_DSN.
it_make_db() {
    IT_DB=${IT_NAME//[^a-z0-9_]/_}_db
    psql "$SHOPSTREAM_IT_PG_DSN" -qXc "drop database if exists $IT_DB with (force)" >/dev/null
    psql "$SHOPSTREAM_IT_PG_DSN" -qXc "create database $IT_DB" >/dev/null
    IT_DSN="$SHOPSTREAM_IT_PG_DSN dbname=$IT_DB"
    "$IT_BIN/tools/admin/shopstream-admin" migrate --dsn "$IT_DSN" --dir "$IT_REPO/schema/migrations" >/dev/null 2>&1 \
        || fail "migrate"
}

# Topics under a fresh prefix on $1 (default: the shared broker); sets IT_PREFIX.
it_make_topics() {
    IT_PREFIX="$IT_NAME-$RANDOM."
    "$IT_BIN/tools/admin/shopstream-admin" create-topics --brokers "${1:-$SHOPSTREAM_IT_KAFKA_BROKERS}" \
        --prefix "$IT_PREFIX" --partitions 3 >/dev/null 2>&1 || fail "create-topics"
}

# it_free_port: a port for a listener that cannot take port 0 (a private broker, a
# worker's HTTP endpoint). Below the kernel's ephemeral range: a connect() probe cannot
# see a port some client holds as its local end, and the Kafka clients hold many. Off
# the 29xxx block a developer's own stack uses.
it_free_port() {
    local low p
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % (low - 20000)))
        [ $((p / 1000)) = 29 ] && continue
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    fail "no free port"
}

# it_edge_port LOG PID FROM_LINE: the port the edge logged it listens on, after line
# FROM_LINE of LOG (an edge started on port 0 picks its own: nothing can take it between
# a probe and the bind). Fails with the log's tail if the edge exits first.
it_edge_port() {
    local log=$1 pid=$2 from=$3 port deadline=$((SECONDS + 60))
    while :; do
        port=$(tail -n +"$((from + 1))" "$log" 2>/dev/null | grep 'msg="listening"' | grep -o ' port=[0-9]*' \
               | head -n1 | cut -d= -f2 || true)
        [ -n "$port" ] && { echo "$port"; return 0; }
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; fail "the edge exited before it listened"; }
        [ $SECONDS -lt $deadline ] || { tail -n 20 "$log" >&2; fail "timed out waiting for the edge to listen"; }
        sleep 0.1
    done
}

# it_start_edge [brokers] — sets IT_URL and IT_EDGE_PID.
it_start_edge() {
    local port from
    from=$(wc -l <"$IT_TMP/edge.log" 2>/dev/null || echo 0)
    SHOPSTREAM_HTTP_HOST=127.0.0.1 SHOPSTREAM_HTTP_PORT=0 SHOPSTREAM_KAFKA_BROKERS=${1:-$SHOPSTREAM_IT_KAFKA_BROKERS} \
    SHOPSTREAM_TOPIC_PREFIX=$IT_PREFIX SHOPSTREAM_PG_DSN=$IT_DSN SHOPSTREAM_EDGE_THREADS=2 \
        "$IT_BIN/edge/shopstream-edge" >>"$IT_TMP/edge.log" 2>&1 &
    IT_EDGE_PID=$!
    IT_PIDS+=("$IT_EDGE_PID")
    port=$(it_edge_port "$IT_TMP/edge.log" "$IT_EDGE_PID" "$from")
    IT_URL=http://127.0.0.1:$port
    it_wait "edge answers /healthz" 60 curl -fsS -o /dev/null "$IT_URL/healthz"
}

# it_start_projector [brokers] [log name] — echoes nothing, sets IT_PROJ_PID.
it_start_projector() {
    SHOPSTREAM_KAFKA_BROKERS=${1:-$SHOPSTREAM_IT_KAFKA_BROKERS} SHOPSTREAM_TOPIC_PREFIX=$IT_PREFIX \
    SHOPSTREAM_PG_DSN=$IT_DSN SHOPSTREAM_KAFKA_GROUP_ID=$IT_NAME-projector \
        "$IT_BIN/workers/shopstream-worker" --role projector >>"$IT_TMP/${2:-projector}.log" 2>&1 &
    IT_PROJ_PID=$!
    IT_PIDS+=("$IT_PROJ_PID")
}

it_token() { "$IT_BIN/tools/token/shopstream-token" --sub "$1" ${2:+--role "$2"}; }

# it_post TOKEN JSON — prints "STATUS BODY".
it_post() {
    curl -sS --max-time 30 -o "$IT_TMP/body" -w '%{http_code}' -X POST "$IT_URL/v1/events" \
        -H "Authorization: Bearer $1" -H 'Content-Type: application/json' --data-binary "$2" || echo -n "000"
    echo " $(cat "$IT_TMP/body" 2>/dev/null)"
}

it_get() { curl -sS --max-time 10 -H "Authorization: Bearer $1" "$IT_URL$2"; }

# it_wait DESCRIPTION SECONDS COMMAND... — polls until COMMAND succeeds. The bound only
# keeps a broken run from hanging; nothing asserts how fast it happened.
it_wait() {
    local what=$1 secs=$2; shift 2
    local deadline=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || fail "timed out waiting for: $what"
        sleep 0.2
    done
}

it_sql() { psql "$IT_DSN" -XAtq "$@"; }
