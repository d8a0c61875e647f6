# SPDX-License-Identifier: MIT
# Helpers shared by the edge integration tests. Sourced, never run.
set -euo pipefail
if [ -z "${SHOPSTREAM_IT_KAFKA_BROKERS:-}" ] || [ -z "${SHOPSTREAM_IT_PG_DSN:-}" ]; then
    echo "SKIP: SHOPSTREAM_IT_KAFKA_BROKERS and SHOPSTREAM_IT_PG_DSN are not set"; exit 77
fi
BUILD=${1:-${SHOPSTREAM_IT_BUILD_DIR:-}}
[ -n "$BUILD" ] || { echo "usage: $0 BUILD_DIR"; exit 2; }
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
EDGE=$BUILD/edge/shopstream-edge
TOKEN=$BUILD/tools/token/shopstream-token
ADMIN=$BUILD/tools/admin/shopstream-admin
for b in "$EDGE" "$TOKEN" "$ADMIN"; do [ -x "$b" ] || { echo "missing $b"; exit 1; }; done
export SHOPSTREAM_JWT_SECRET=it-edge-secret-0123456789abcdef-0123456789
TMP=$(mktemp -d /tmp/edge-it.XXXXXX)
FAILS=0
EDGE_PID=

ok()   { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

# start_edge PREFIX BROKERS [VAR=VALUE...]: runs the edge on a free port, sets PORT.
start_edge() {
    local prefix=$1 brokers=$2; shift 2
    env SHOPSTREAM_HTTP_HOST=127.0.0.1 SHOPSTREAM_HTTP_PORT=0 SHOPSTREAM_KAFKA_BROKERS="$brokers" \
        SHOPSTREAM_TOPIC_PREFIX="$prefix" SHOPSTREAM_PG_DSN="${EDGE_PG_DSN:-$SHOPSTREAM_IT_PG_DSN}" \
        SHOPSTREAM_EDGE_THREADS=2 "$@" "$EDGE" 2>"$TMP/edge.log" &
    EDGE_PID=$!
    for _ in $(seq 1 50); do
        PORT=$(grep 'msg="listening"' "$TMP/edge.log" 2>/dev/null | grep -o ' port=[0-9]*' | cut -d= -f2 || true)
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    cat "$TMP/edge.log"; echo "edge did not start"; exit 1
}

stop_edge() {
    [ -n "$EDGE_PID" ] || return 0
    kill -TERM "$EDGE_PID" 2>/dev/null || true
    local rc=0
    wait "$EDGE_PID" || rc=$?
    EDGE_PID=
    return $rc
}

# req METHOD PATH [curl args...]: sets STATUS, body in $TMP/body, headers in $TMP/hdrs.
req() {
    local method=$1 path=$2; shift 2
    STATUS=$(curl -s -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code}' --max-time 20 \
        -X "$method" "http://127.0.0.1:$PORT$path" "$@" || true)
}

# post TOKEN JSON: POST /v1/events as JSON.
post() {
    local tok=$1 body=$2
    req POST /v1/events -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        --data-binary "$body"
}

body_has() { grep -q -- "$1" "$TMP/body"; }
hdr_has() { grep -qi -- "$1" "$TMP/hdrs"; }

# make_edge_db NAME: a migrated database of the test's own, for the edge (EDGE_PG_DSN): an
# order.placed needs the orders read model (the edge checks the order id is new); the
# caller drops it (drop_edge_db NAME) in its cleanup.
make_edge_db() {
    psql "$SHOPSTREAM_IT_PG_DSN" -qc "create database $1" >/dev/null
    export EDGE_PG_DSN="$SHOPSTREAM_IT_PG_DSN dbname=$1"
    "$ADMIN" migrate --dsn "$EDGE_PG_DSN" >"$TMP/migrate.log" 2>&1 || { cat "$TMP/migrate.log"; exit 1; }
}
drop_edge_db() { psql "$SHOPSTREAM_IT_PG_DSN" -qc "drop database if exists $1" >/dev/null 2>&1 || true; }

# create_topics PREFIX BROKERS
create_topics() {
    "$ADMIN" create-topics --brokers "$2" --prefix "$1" --partitions 1 >"$TMP/admin.log" 2>&1 ||
        { cat "$TMP/admin.log"; echo "could not create topics"; exit 1; }
}

# consume BROKERS TOPIC: every record as "key=K id=ID headers=H".
consume() {
    kcat -b "$1" -C -t "$2" -o beginning -e -q -f 'key=%k headers=%h\n' 2>/dev/null || true
}

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
