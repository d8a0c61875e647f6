#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# applied_events stays flat while events keep flowing past the window: one-minute
# buckets, a one-minute window and grace, five slices of 2000 distinct views received
# 100 ms apart (200 s of receipt time each). After every slice the row count and the
# size of all partitions are measured: the rows stay below what window + grace + two
# buckets can hold, and the size after the last slice is no larger than after the
# second (plus a page-level margin), while the events applied keep growing. Every
# event is applied (views = events): dropping partitions loses nothing.
. "$(dirname "$0")/lib.sh"
make_topics
DSN=$(new_db bounded)
GROUP="it-bounded-$RUN_ID"
q "$DSN" "update applied_events_layout set bucket_ms = 60000" >/dev/null
export SHOPSTREAM_DEDUP_WINDOW_MS=60000 SHOPSTREAM_DEDUP_GRACE_MS=60000
B=1700000040000 N=2000 STEP=100 SLICES=5
start_worker "$DSN" "$GROUP" worker
size_sql="select sum(pg_total_relation_size(relid)) from pg_partition_tree('applied_events')"
bound=$(( (60000 + 60000 + 2 * 60000) / STEP + N / 10 ))   # rows window + grace + two buckets hold, plus a batch
sizes=()
for ((s = 0; s < SLICES; s++)); do
    "$GEN" views --brokers "$BROKERS" --prefix "$PREFIX" --product flow --id $((s * N + 1)) --n $N \
        --at $((B + s * N * STEP)) --step $STEP
    wait_offsets "$DSN" "$GROUP" $(((s + 1) * N)) 180
    rows=$(q "$DSN" "select count(*) from applied_events")
    size=$(q "$DSN" "$size_sql")
    sizes+=("$size")
    log "slice $((s + 1)): $(((s + 1) * N)) events applied, applied_events $rows rows, $size bytes"
    [ "$rows" -le "$bound" ] || fail "applied_events holds $rows rows after $(((s + 1) * N)) events, bound $bound"
done
views=$(q "$DSN" "select views from products where product_id = 'flow'")
[ "$views" = $((SLICES * N)) ] || fail "flow has $views views, want $((SLICES * N))"
# Flat: the last size within the second's plus 25 % (page and free-space-map granularity).
[ "${sizes[4]}" -le $(( sizes[1] * 5 / 4 )) ] || fail "applied_events grew: ${sizes[*]} bytes"
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
log "ok: sizes ${sizes[*]} bytes over $((SLICES * N)) events"
