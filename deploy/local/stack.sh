#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The local stack: Kafka + PostgreSQL (deploy/local/{kafka,pg}.sh), the schema and
# topics (shopstream-admin), then the edge, one projector, one inventory and one ml worker, with pids
# and logs under $SHOPSTREAM_STATE_DIR. Idempotent: `up` twice is safe. A notify worker starts too
# when SHOPSTREAM_NOTIFY_ENDPOINTS is set (with its secrets; docs/webhooks.md): without endpoints
# the role refuses to start, as it would consume and commit past events nobody received.
# Usage: stack.sh up|down|status
set -euo pipefail
here=$(dirname "$0")
. "$here/env.sh"

bin=$SHOPSTREAM_BUILD_DIR
run=$SHOPSTREAM_STATE_DIR/run
mkdir -p "$run"

secret_file=$SHOPSTREAM_STATE_DIR/jwt.secret
[ -s "$secret_file" ] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$secret_file"; chmod 600 "$secret_file"; }
export SHOPSTREAM_JWT_SECRET_FILE=$secret_file
unset SHOPSTREAM_JWT_SECRET   # the edge takes exactly one source of the key

# Each worker's /healthz, /readyz and /metrics (docs/operations.md): the edge's port plus
# the role's place in this list (projector +1, inventory +2, ml +3, notify +4).
worker_roles=(projector inventory ml notify)
worker_port() {
    local i
    for i in "${!worker_roles[@]}"; do
        [ "${worker_roles[$i]}" = "$1" ] && { echo $((SHOPSTREAM_HTTP_PORT + i + 1)); return 0; }
    done
    die "no http port for worker role $1"
}

start_worker() { # role
    SHOPSTREAM_WORKER_HTTP_PORT=$(worker_port "$1") SHOPSTREAM_WORKER_HTTP_ADDR=127.0.0.1 \
        start_proc "$1" "$bin/workers/shopstream-worker" --role "$1"
}

alive() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

start_proc() { # name, command...
    local name=$1; shift
    if alive "$name"; then log "$name already running (pid $(cat "$run/$name.pid"))"; return 0; fi
    log "starting $name"
    "$@" </dev/null >>"$SHOPSTREAM_STATE_DIR/$name.log" 2>&1 &
    echo $! > "$run/$name.pid"
}

stop_proc() {
    alive "$1" || { rm -f "$run/$1.pid"; return 0; }
    local pid; pid=$(cat "$run/$1.pid")
    log "stopping $1 (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$run/$1.pid"
}

wait_http() {
    for _ in $(seq 1 80); do
        curl -fsS "http://127.0.0.1:$SHOPSTREAM_HTTP_PORT/readyz" >/dev/null 2>&1 && return 0
        alive edge || { tail -n 20 "$SHOPSTREAM_STATE_DIR/edge.log"; die "edge exited during start"; }
        sleep 0.25
    done
    die "edge not ready on port $SHOPSTREAM_HTTP_PORT (see $SHOPSTREAM_STATE_DIR/edge.log)"
}

up() {
    for b in edge/shopstream-edge workers/shopstream-worker tools/admin/shopstream-admin; do
        [ -x "$bin/$b" ] || die "$bin/$b not built: run deploy/local/build.sh"
    done
    "$here/pg.sh" start
    "$here/kafka.sh" start
    "$bin/tools/admin/shopstream-admin" migrate --dsn "$SHOPSTREAM_PG_DSN" --dir "$SHOPSTREAM_REPO/schema/migrations"
    "$bin/tools/admin/shopstream-admin" create-topics --brokers "$SHOPSTREAM_KAFKA_BROKERS" \
        --partitions "$SHOPSTREAM_KAFKA_PARTITIONS"
    if [ "${SHOPSTREAM_STACK_REPLICA:-0}" = 1 ]; then
        "$here/pg.sh" replica start
        SHOPSTREAM_PG_READ_DSN=$SHOPSTREAM_PG_REPLICA_DSN start_proc edge "$bin/edge/shopstream-edge"
    else
        start_proc edge "$bin/edge/shopstream-edge"
    fi
    start_worker projector
    start_worker inventory
    start_worker ml
    if [ -n "${SHOPSTREAM_NOTIFY_ENDPOINTS:-}" ]; then
        start_worker notify
    fi
    wait_http
    log "stack up: edge http://127.0.0.1:$SHOPSTREAM_HTTP_PORT, kafka $SHOPSTREAM_KAFKA_BROKERS, logs in $SHOPSTREAM_STATE_DIR"
    log "worker endpoints (/healthz /readyz /metrics): projector http://127.0.0.1:$(worker_port projector)," \
        "inventory http://127.0.0.1:$(worker_port inventory), ml http://127.0.0.1:$(worker_port ml)"
}

down() {
    stop_proc edge
    stop_proc projector
    stop_proc inventory
    stop_proc ml
    stop_proc notify
    "$here/kafka.sh" stop
    "$here/pg.sh" replica stop
    "$here/pg.sh" stop
}

status() {
    local rc=0
    for p in edge projector inventory ml; do
        local where=" http://127.0.0.1:$SHOPSTREAM_HTTP_PORT"
        [ "$p" = edge ] || where=" http://127.0.0.1:$(worker_port "$p")"
        if alive "$p"; then echo "$p: up$where"; else echo "$p: down"; rc=1; fi
    done
    if [ -n "${SHOPSTREAM_NOTIFY_ENDPOINTS:-}" ]; then
        if alive notify; then echo "notify: up"; else echo "notify: down"; rc=1; fi
    fi
    "$here/kafka.sh" status || rc=1
    "$here/pg.sh" status || rc=1
    if [ "${SHOPSTREAM_STACK_REPLICA:-0}" = 1 ]; then "$here/pg.sh" replica status || rc=1; fi
    return $rc
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
