#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs shopstream-bench-pipeline against an edge and a projector of its own: a fresh
# database (migrated) and fresh topics, shopstream-edge and shopstream-worker --role
# projector started on them, the benchmark, then both stopped and the database dropped.
# Arguments go to the benchmark. Environment:
#   SHOPSTREAM_BUILD_DIR, SHOPSTREAM_PG_DSN (a role that may create databases),
#   SHOPSTREAM_KAFKA_BROKERS, SHOPSTREAM_JWT_SECRET or SHOPSTREAM_JWT_SECRET_FILE  (required)
#   PIPE_HTTP_PORT   the edge's port (default 18090)
#   PIPE_KAFKA_PID   the broker's pid, for its CPU time per step (optional)
#   PIPE_PROJECTORS  projector processes in the group (default 1; at most the 4 partitions)
#   PIPE_KEEP=1      leave the database and the logs (topics are always left; they are cheap)
# The edge and the projector get the caller's SHOPSTREAM_* settings (e.g.
# SHOPSTREAM_EDGE_THREADS, SHOPSTREAM_BATCH_MAX, SHOPSTREAM_BATCH_LINGER_MS).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=${SHOPSTREAM_BUILD_DIR:?}
admin_dsn=${SHOPSTREAM_PG_DSN:?}
brokers=${SHOPSTREAM_KAFKA_BROKERS:?}
port=${PIPE_HTTP_PORT:-18090}
name=bench_pipe_$$_$(date +%s)
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
    if [ "${PIPE_KEEP:-0}" = 1 ]; then
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

SHOPSTREAM_HTTP_PORT=$port SHOPSTREAM_KAFKA_BROKERS=$brokers SHOPSTREAM_TOPIC_PREFIX=$prefix SHOPSTREAM_PG_DSN=$dsn \
    "$bin/edge/shopstream-edge" </dev/null >>"$tmp/edge.log" 2>&1 &
pids+=($!)
edge_pid=$!
proj_pids=()
for i in $(seq 1 "${PIPE_PROJECTORS:-1}"); do
    SHOPSTREAM_KAFKA_BROKERS=$brokers SHOPSTREAM_TOPIC_PREFIX=$prefix SHOPSTREAM_PG_DSN=$dsn \
    SHOPSTREAM_KAFKA_GROUP_ID=$group \
        "$bin/workers/shopstream-worker" --role projector </dev/null >>"$tmp/projector$i.log" 2>&1 &
    pids+=($!)
    pname=projector; [ "$i" -gt 1 ] && pname=projector$i
    proj_pids+=(--pid "$pname=$!")
done
for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    kill -0 "$edge_pid" 2>/dev/null || { echo "the edge exited during start" >&2; exit 1; }
    sleep 0.25
done

kafka_pid=()
[ -n "${PIPE_KAFKA_PID:-}" ] && kafka_pid=(--pid "kafka=$PIPE_KAFKA_PID")
"$bin/bench/pipeline/shopstream-bench-pipeline" --url "http://127.0.0.1:$port" --dsn "$dsn" --brokers "$brokers" \
    --topic-prefix "$prefix" --group "$group" --pid "edge=$edge_pid" "${proj_pids[@]}" "${kafka_pid[@]}" \
    "$@" 2>>"$tmp/bench.log"
