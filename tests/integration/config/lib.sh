# SPDX-License-Identifier: MIT
# Helpers of the configuration integration tests. Sourced, never run.
set -euo pipefail
if [ -z "${SHOPSTREAM_IT_KAFKA_BROKERS:-}" ] || [ -z "${SHOPSTREAM_IT_PG_DSN:-}" ]; then
    echo "SKIP: SHOPSTREAM_IT_KAFKA_BROKERS and SHOPSTREAM_IT_PG_DSN are not set"; exit 77
fi
BUILD=${1:-${SHOPSTREAM_IT_BUILD_DIR:-}}
[ -n "$BUILD" ] || { echo "usage: $0 BUILD_DIR"; exit 2; }
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
EDGE=$BUILD/edge/shopstream-edge
WORKER=$BUILD/workers/shopstream-worker
ADMIN=$BUILD/tools/admin/shopstream-admin
TOKEN=$BUILD/tools/token/shopstream-token
for b in "$EDGE" "$WORKER" "$ADMIN" "$TOKEN"; do [ -x "$b" ] || { echo "missing $b"; exit 1; }; done
BROKERS=$SHOPSTREAM_IT_KAFKA_BROKERS
export SHOPSTREAM_JWT_SECRET=it-config-secret-0123456789abcdef-0123456789
RUN=$(date +%s)$$
PREFIX="it.config.$RUN."
TMP=$(mktemp -d /tmp/config-it.XXXXXX)
FAILS=0
PIDS=()
DBS=()

ok()   { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    for db in "${DBS[@]}"; do psql "$SHOPSTREAM_IT_PG_DSN" -qXc "drop database if exists $db with (force)" >/dev/null 2>&1 || true; done
    if [ "$FAILS" -eq 0 ]; then rm -rf "$TMP"; else echo "kept $TMP"; fi
}
trap cleanup EXIT

# wait_log FILE PATTERN [TENTHS]: until PATTERN is in FILE (default 10 s); 1 if it never is.
wait_log() {
    local i
    for i in $(seq 1 "${3:-100}"); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# run_edge LOG [VAR=VALUE...]: starts the edge on a free port in the background (PID in
# EDGE_PID, port in PORT, empty if it exited).
run_edge() {
    local log=$1; shift
    env SHOPSTREAM_HTTP_HOST=127.0.0.1 SHOPSTREAM_HTTP_PORT=0 SHOPSTREAM_KAFKA_BROKERS="$BROKERS" \
        SHOPSTREAM_TOPIC_PREFIX="$PREFIX" SHOPSTREAM_EDGE_THREADS=1 SHOPSTREAM_EDGE_PG_POOL=1 \
        SHOPSTREAM_EDGE_PG_TIMEOUT_MS=1000 "$@" "$EDGE" 2>"$log" &
    EDGE_PID=$!
    PIDS+=("$EDGE_PID")
    PORT=
    local i
    for i in $(seq 1 100); do
        PORT=$(grep 'msg="listening"' "$log" 2>/dev/null | grep -o ' port=[0-9]*' | cut -d= -f2 || true)
        [ -n "$PORT" ] && return 0
        kill -0 "$EDGE_PID" 2>/dev/null || return 0
        sleep 0.1
    done
}

# stop PID: SIGTERM and wait; prints nothing, never fails.
stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# run_worker LOG [VAR=VALUE...]: a projector in the background (PID in WORKER_PID).
run_worker() {
    local log=$1; shift
    env SHOPSTREAM_KAFKA_BROKERS="$BROKERS" SHOPSTREAM_TOPIC_PREFIX="$PREFIX" \
        SHOPSTREAM_KAFKA_GROUP_ID="it-config-$RUN" SHOPSTREAM_PG_RETRY_MAX_MS=200 "$@" \
        "$WORKER" --role projector 2>"$log" &
    WORKER_PID=$!
    PIDS+=("$WORKER_PID")
}

# exit_code CMD...: runs CMD (stderr to $TMP/last.log), prints its exit status.
exit_code() { local rc=0; "$@" 2>"$TMP/last.log" >/dev/null || rc=$?; echo "$rc"; }
