#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (e) SIGTERM while events stream in: the worker flushes and commits its batch, leaves
# the group and exits 0 (uv_loop_close returned 0). A second worker then finishes the
# stream, and the result equals the independent fold: nothing lost, nothing doubled.
. "$(dirname "$0")/lib.sh"
SEED=23 N=4000
make_topics
DSN=$(new_db main)
GROUP="it-term-$RUN_ID"
TOTAL=$("$GEN" count --seed $SEED --n $N)
BATCH_MAX=50
"$GEN" produce --brokers "$BROKERS" --prefix "$PREFIX" --seed $SEED --n $N --to 2000
start_worker "$DSN" "$GROUP" first
"$GEN" produce --brokers "$BROKERS" --prefix "$PREFIX" --seed $SEED --n $N --from 2000 &
PRODUCER=$!
sleep 1.5
kill -TERM "$WPID"
wait "$WPID" || fail "worker exited $? after SIGTERM"
grep -q 'msg="stopped" exit_code=0' "$WORK/first.log" || fail "no clean stop in the log"
grep -q 'msg="partitions revoked"' "$WORK/first.log" || fail "did not leave the group"
committed=$(q "$DSN" "select coalesce(sum(next_offset),0) from consumer_offsets where consumer_group = '$GROUP'")
log "first worker committed $committed of $TOTAL records before SIGTERM"
wait "$PRODUCER"
start_worker "$DSN" "$GROUP" second
wait_offsets "$DSN" "$GROUP" "$TOTAL"
kill -TERM "$WPID"; wait "$WPID" || fail "second worker exited $?"
gen_expect $SEED $N "$WORK/expected"
dump "$DSN" "$WORK/actual"
expect_equal "$WORK/expected" "$WORK/actual" "projections and the independent fold"
log "ok"
