#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Measured speed beside the machine's raw limits, in one run: builds, brings the
# local stack up, then runs
#   shopstream-bench-ingest     edge ingest (single events, 100-event batches) vs the raw producer
#   shopstream-bench-projector  projector into PostgreSQL vs COPY of the same rows
#   shopstream-bench-inventory  inventory worker's orders/s vs a guarded UPDATE loop of the same orders
#   shopstream-bench-pipeline   edge + broker + projector + database: highest rate with a flat
#                               lag, freshness at half of it (its own edge on SHOPSTREAM_HTTP_PORT+1)
#   bench/ryw/run.sh            read-your-writes: a read with X-Shopstream-After vs the same read
#                               without it, under load, and write-to-visible (its own edge on +2)
#   bench/notify/run.sh         one notify worker draining a backlog of status changes into a
#                               local HTTPS receiver (+10, the worker's /metrics on +11) vs
#                               libcurl multi alone at the same concurrency
# and prints their figures (docs/benchmarks.md explains them).
# Usage: bench.sh [all|ingest|projector|inventory|pipeline|ryw|notify]
# Extra arguments for each program: SHOPSTREAM_BENCH_INGEST_ARGS, SHOPSTREAM_BENCH_PROJECTOR_ARGS,
# SHOPSTREAM_BENCH_INVENTORY_ARGS, SHOPSTREAM_BENCH_PIPELINE_ARGS, SHOPSTREAM_BENCH_RYW_ARGS, SHOPSTREAM_BENCH_NOTIFY_ARGS (e.g.
# SHOPSTREAM_BENCH_PROJECTOR_ARGS="--events 50000").
set -euo pipefail
here=$(dirname "$0")
. "$here/env.sh"
what=${1:-all}
case "$what" in all|ingest|projector|inventory|pipeline|ryw|notify) ;; *) echo "usage: $0 [all|ingest|projector|inventory|pipeline|ryw|notify]" >&2; exit 2 ;; esac

"$here/build.sh"
"$here/stack.sh" up
bin=$SHOPSTREAM_BUILD_DIR

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git -C "$SHOPSTREAM_REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
rc=0
if [ "$what" = all ] || [ "$what" = ingest ]; then
    echo
    # The stack's edge and topics; its projector consumes what this posts (bench-* users,
    # *-b order ids), so run it before the demo or accept those extra rows.
    # The edge's pid from stack.sh, so its CPU per request and per event is printed too.
    # shellcheck disable=SC2086
    SHOPSTREAM_JWT_SECRET_FILE=$SHOPSTREAM_STATE_DIR/jwt.secret \
    "$bin/bench/ingest/shopstream-bench-ingest" --url "http://127.0.0.1:$SHOPSTREAM_HTTP_PORT" \
        --brokers "$SHOPSTREAM_KAFKA_BROKERS" --topic-prefix shopstream. \
        --edge-pid "$(cat "$SHOPSTREAM_STATE_DIR/run/edge.pid")" ${SHOPSTREAM_BENCH_INGEST_ARGS:-} || rc=1
fi
if [ "$what" = all ] || [ "$what" = projector ]; then
    echo
    # Its own database, topics and projector process, all dropped at the end.
    # shellcheck disable=SC2086
    "$bin/bench/projector/shopstream-bench-projector" --dsn "$SHOPSTREAM_PG_DSN" --brokers "$SHOPSTREAM_KAFKA_BROKERS" \
        --build-dir "$bin" --schema-dir "$SHOPSTREAM_REPO/schema/migrations" ${SHOPSTREAM_BENCH_PROJECTOR_ARGS:-} || rc=1
fi
if [ "$what" = all ] || [ "$what" = inventory ]; then
    echo
    # Its own database, topics and inventory worker, all dropped at the end.
    # shellcheck disable=SC2086
    "$bin/bench/inventory/shopstream-bench-inventory" --dsn "$SHOPSTREAM_PG_DSN" --brokers "$SHOPSTREAM_KAFKA_BROKERS" \
        --build-dir "$bin" --schema-dir "$SHOPSTREAM_REPO/schema/migrations" ${SHOPSTREAM_BENCH_INVENTORY_ARGS:-} || rc=1
fi
if [ "$what" = all ] || [ "$what" = pipeline ]; then
    echo
    # Its own database, topics, edge and projector (bench/pipeline/run.sh), the database
    # dropped at the end. The stack's edge and projector stay idle meanwhile.
    # shellcheck disable=SC2086
    SHOPSTREAM_JWT_SECRET_FILE=$SHOPSTREAM_STATE_DIR/jwt.secret PIPE_HTTP_PORT=$((SHOPSTREAM_HTTP_PORT + 1)) \
    PIPE_KAFKA_PID=$(cat "$SHOPSTREAM_STATE_DIR/kafka/kafka.pid" 2>/dev/null || true) \
        "$SHOPSTREAM_REPO/bench/pipeline/run.sh" ${SHOPSTREAM_BENCH_PIPELINE_ARGS:-} || rc=1
fi
if [ "$what" = all ] || [ "$what" = ryw ]; then
    echo
    # Its own database, topics, edge and projector (bench/ryw/run.sh), the database dropped
    # at the end.
    # shellcheck disable=SC2086
    SHOPSTREAM_JWT_SECRET_FILE=$SHOPSTREAM_STATE_DIR/jwt.secret RYW_HTTP_PORT=$((SHOPSTREAM_HTTP_PORT + 2)) \
        "$SHOPSTREAM_REPO/bench/ryw/run.sh" ${SHOPSTREAM_BENCH_RYW_ARGS:-} || rc=1
fi
if [ "$what" = all ] || [ "$what" = notify ]; then
    echo
    # Its own topics, receiver and notify worker (bench/notify/run.sh); writes no database.
    # shellcheck disable=SC2086
    "$SHOPSTREAM_REPO/bench/notify/run.sh" --port $((SHOPSTREAM_HTTP_PORT + 10)) \
        --metrics-port $((SHOPSTREAM_HTTP_PORT + 11)) ${SHOPSTREAM_BENCH_NOTIFY_ARGS:-} || rc=1
fi
exit $rc
