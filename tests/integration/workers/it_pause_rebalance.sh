#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A partition paused by a PostgreSQL outage, taken away by a rebalance and given back
# later must be consumed again. librdkafka 2.0.2 keeps an application pause on the
# partition after it is unassigned, so without the resume on revoke (workers/kafka.c,
# resume_stale) the partitions a worker had paused and got back after the outage were
# never fetched again (seen once: 4 of 12 partitions stuck for good).
# The sequence, against a PRIVATE cluster (as integration.workers.pg_outage):
#   A consumes everything; PostgreSQL stops, so A pauses every partition;
#   B joins: A gives everything away (eager) while paused, and gets half back;
#   PostgreSQL comes back: A and B resume what they hold;
#   B stops: A gets B's half, which A had paused before the rebalance;
#   the rest of the stream arrives: A must apply all of it (equal to the fold).
. "$(dirname "$0")/lib.sh"
SEED=43 N=3000
private_pg
DSN=$PRIV_DSN
make_topics
GROUP="it-pause-$RUN_ID"
TOTAL=$("$GEN" count --seed $SEED --n $N)
THIRD=$((TOTAL / 3))
produce() { "$GEN" produce --brokers "$BROKERS" --prefix "$PREFIX" --seed $SEED --n $N --from "$1" ${2:+--to "$2"}; }
# until_log LOG PATTERN WHAT: waits up to 60 s for a line of the worker's log.
until_log() {
    local deadline=$(( $(date +%s) + 60 ))
    until grep -q "$2" "$WORK/$1.log" 2>/dev/null; do
        [ "$(date +%s)" -ge "$deadline" ] && fail "$3"
        sleep 0.2
    done
}
export SHOPSTREAM_PG_STATEMENT_TIMEOUT_MS=3000 SHOPSTREAM_DLQ_TIMEOUT_MS=3000 SHOPSTREAM_PG_CONNECT_TIMEOUT_S=2 \
       SHOPSTREAM_PG_RETRY_MAX_MS=1000

produce 0 $THIRD
start_worker "$DSN" "$GROUP" a; A=$WPID
wait_offsets "$DSN" "$GROUP" $THIRD 120

pgctl stop || fail "could not stop the private postgresql"
produce $THIRD $((2 * THIRD))
until_log a 'msg="postgresql unavailable; pausing consumption"' "a did not pause for the outage"
start_worker "$DSN" "$GROUP" b; B=$WPID
until_log b 'msg="partition assigned"' "b got no partition"
until_log a 'msg="partitions revoked"' "a gave nothing away when b joined"
log "b joined during the outage; a gave its paused partitions away"

pgctl start || { cat "$WORK/pg.log" >&2; fail "could not restart the private postgresql"; }
until_log a 'msg="postgresql is back; a batch committed"' "a did not recover"
wait_offsets "$DSN" "$GROUP" $((2 * THIRD)) 120
kill -TERM "$B"; wait "$B" || fail "b exited $? after SIGTERM"
log "b stopped; a takes back the partitions it had paused before the rebalance"

produce $((2 * THIRD))
wait_offsets "$DSN" "$GROUP" "$TOTAL" 120
kill -TERM "$A"; wait "$A" || fail "a exited $? after SIGTERM"
[ "$(grep -c 'msg="partition assigned"' "$WORK/a.log")" -gt 20 ] ||
    fail "a was not given partitions again after b left"

gen_expect $SEED $N "$WORK/expected"
dump "$DSN" "$WORK/got"
expect_equal "$WORK/expected" "$WORK/got" "the read models after a pause across two rebalances and the independent fold"
log "ok: $TOTAL records; partitions paused, revoked and given back were consumed again"
