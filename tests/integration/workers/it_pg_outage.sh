#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A PostgreSQL outage longer than max.poll.interval.ms, against a PRIVATE cluster started
# here (deploy/local/pg.sh with its own state dir and port; never the shared one): the
# worker pauses its assignment and keeps polling, so the group never evicts it (no
# MAXPOLL, no revoke); when PostgreSQL is back it resumes at PostgreSQL's offsets and
# every event is applied exactly once (equal to the generator's fold). Batches are
# bounded in bytes as well (SHOPSTREAM_BATCH_MAX_BYTES).
. "$(dirname "$0")/lib.sh"
SEED=41 N=3000
private_pg
DSN=$PRIV_DSN
make_topics
GROUP="it-outage-$RUN_ID"
TOTAL=$("$GEN" count --seed $SEED --n $N)
HALF=$((TOTAL / 2))
"$GEN" produce --brokers "$BROKERS" --prefix "$PREFIX" --seed $SEED --n $N --from 0 --to $HALF

MAX_POLL_MS=7000
SHOPSTREAM_KAFKA_MAX_POLL_INTERVAL_MS=$MAX_POLL_MS SHOPSTREAM_PG_STATEMENT_TIMEOUT_MS=3000 \
SHOPSTREAM_DLQ_TIMEOUT_MS=3000 SHOPSTREAM_PG_CONNECT_TIMEOUT_S=2 SHOPSTREAM_PG_RETRY_MAX_MS=1000 \
SHOPSTREAM_BATCH_MAX_BYTES=2048 start_worker "$DSN" "$GROUP" worker
wait_offsets "$DSN" "$GROUP" $HALF 120

pgctl stop || fail "could not stop the private postgresql"
log "postgresql stopped; producing the second half"
"$GEN" produce --brokers "$BROKERS" --prefix "$PREFIX" --seed $SEED --n $N --from $HALF
sleep $(( 2 * MAX_POLL_MS / 1000 + 2 ))           # well past max.poll.interval.ms
kill -0 "$WPID" || fail "the worker died during the outage"
pgctl start || { cat "$WORK/pg.log" >&2; fail "could not restart the private postgresql"; }
log "postgresql restarted"
wait_offsets "$DSN" "$GROUP" "$TOTAL" 120
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"

grep -Eq 'MAXPOLL|maximum poll interval' "$WORK/worker.log" && fail "the group evicted the worker (max.poll.interval.ms)"
[ "$(grep -c 'msg="partitions revoked"' "$WORK/worker.log")" -le 1 ] \
    || fail "the worker lost its partitions during the outage (only the SIGTERM revoke is expected)"
[ "$(grep -c 'msg="postgresql unavailable; pausing consumption"' "$WORK/worker.log")" = 1 ] \
    || fail "the outage was not logged exactly once"
grep -q 'msg="postgresql is back; a batch committed"' "$WORK/worker.log" || fail "no recovery log"
batches=$(grep 'msg="stats"' "$WORK/worker.log" | tail -n 1 | sed -n 's/.* batches=\([0-9]*\).*/\1/p')
[ "${batches:-0}" -ge $((TOTAL / 26)) ] || fail "$batches batches for $TOTAL records: the 2048-byte bound was not kept"

gen_expect $SEED $N "$WORK/expected"
dump "$DSN" "$WORK/got"
expect_equal "$WORK/expected" "$WORK/got" "the read models after the outage and the independent fold"
log "ok: $TOTAL records, paused through a ${MAX_POLL_MS}+ ms outage without eviction, $batches batches, equal to the fold"
