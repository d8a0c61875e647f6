#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs bench/ryw/ryw_bench.py (what X-Shopstream-After adds to a read, beside the same
# read without it, and the pipeline's write-to-visible latency) against an edge and a
# projector of its own: a fresh database (migrated) and fresh topics, shopstream-edge and
# shopstream-worker --role projector started on them, the benchmark, then both stopped and
# the database dropped. Arguments go to ryw_bench.py (--pairs, --concurrency, --load-*).
# Environment:
#   SHOPSTREAM_BUILD_DIR, SHOPSTREAM_PG_DSN (a role that may create databases),
#   SHOPSTREAM_KAFKA_BROKERS, SHOPSTREAM_JWT_SECRET or SHOPSTREAM_JWT_SECRET_FILE  (required)
#   RYW_HTTP_PORT   the edge's port (default 18092)
#   RYW_KEEP=1      leave the database and the logs (topics are always left; they are cheap)
#   RYW_REPLICA_DSN a streaming replica of SHOPSTREAM_PG_DSN's cluster (e.g. deploy/local/pg.sh
#                   replica), without dbname: the edge reads from it (SHOPSTREAM_PG_READ_DSN)
# The edge and the projector get the caller's SHOPSTREAM_* settings (e.g.
# SHOPSTREAM_EDGE_THREADS, SHOPSTREAM_EDGE_PG_POOL, SHOPSTREAM_EDGE_WATCH_MS).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${SHOPSTREAM_BUILD_DIR:?}
admin_dsn=${SHOPSTREAM_PG_DSN:?}
brokers=${SHOPSTREAM_KAFKA_BROKERS:?}
port=${RYW_HTTP_PORT:-18092}
if [ -z "${SHOPSTREAM_JWT_SECRET:-}" ]; then
    SHOPSTREAM_JWT_SECRET=$(cat "${SHOPSTREAM_JWT_SECRET_FILE:?SHOPSTREAM_JWT_SECRET or SHOPSTREAM_JWT_SECRET_FILE}")
fi
export SHOPSTREAM_JWT_SECRET
unset SHOPSTREAM_JWT_SECRET_FILE   # the one secret, for the edge and the bench's tokens
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
name=bench_ryw_$$_$(date +%s)
prefix=${name//_/-}.
group=$name-projector
dsn="$admin_dsn dbname=$name"
tmp=$(mktemp -d)
pids=()

cleanup() {
    local rc=$?
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 1 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$p" 2>/dev/null || true
    done
    if [ $rc -ne 0 ]; then
        for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "---- $f (tail)" >&2; tail -n 30 "$f" >&2; }; done
    fi
    if [ "${RYW_KEEP:-0}" = 1 ]; then
        echo "kept: database $name, topics ${prefix}*.v1, group $group, logs $tmp" >&2
    else
        psql "$admin_dsn" -qXc "drop database if exists $name with (force)" >/dev/null 2>&1 || true
        rm -rf "$tmp"
    fi
    exit $rc
}
trap cleanup EXIT

psql "$admin_dsn" -qXc "create database $name" >/dev/null
"$bin/tools/admin/shopstream-admin" migrate --dsn "$dsn" --dir "$repo/schema/migrations" >"$tmp/admin.log" 2>&1
"$bin/tools/admin/shopstream-admin" create-topics --brokers "$brokers" --prefix "$prefix" --partitions 4 \
    >>"$tmp/admin.log" 2>&1

read_dsn=()
[ -z "${RYW_REPLICA_DSN:-}" ] || read_dsn=("SHOPSTREAM_PG_READ_DSN=$RYW_REPLICA_DSN dbname=$name")
env SHOPSTREAM_HTTP_PORT=$port SHOPSTREAM_KAFKA_BROKERS=$brokers SHOPSTREAM_TOPIC_PREFIX=$prefix SHOPSTREAM_PG_DSN="$dsn" \
SHOPSTREAM_EDGE_GROUP_PROJECTOR=$group "${read_dsn[@]}" \
    "$bin/edge/shopstream-edge" </dev/null >>"$tmp/edge.log" 2>&1 &
pids+=($!)
edge_pid=$!
SHOPSTREAM_KAFKA_BROKERS=$brokers SHOPSTREAM_TOPIC_PREFIX=$prefix SHOPSTREAM_PG_DSN=$dsn \
SHOPSTREAM_KAFKA_GROUP_ID=$group \
    "$bin/workers/shopstream-worker" --role projector </dev/null >>"$tmp/projector.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    kill -0 "$edge_pid" 2>/dev/null || { echo "the edge exited during start" >&2; exit 1; }
    sleep 0.25
done
# The projector has joined its group once it has committed a batch: one event, waited for.
curl -fsS -o /dev/null -X POST "http://127.0.0.1:$port/v1/events" \
    -H "Authorization: Bearer $("$bin/tools/token/shopstream-token" --sub "$name-warm")" \
    -H 'Content-Type: application/json' --data-binary '{"events":[{"type":"cart.cleared"}]}'
for _ in $(seq 1 240); do
    [ "$(psql "$dsn" -XAtqc "select count(*) from consumer_offsets where consumer_group = '$group'")" -gt 0 ] && break
    sleep 0.25
done

"$PY" "$here/ryw_bench.py" --url "http://127.0.0.1:$port" "$@"
