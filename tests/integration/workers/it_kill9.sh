#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (b) kill -9 while events stream in, several times, including one of two workers in a
# group (a rebalance). At the end the read models equal, column for column, those of a
# reference run (a fresh worker, one clean pass into another database) and the
# generator's independent fold: no event lost, none counted twice.
. "$(dirname "$0")/lib.sh"
SEED=37 N=12000 SLICES=8
make_topics
DSN=$(new_db kill)
REF=$(new_db ref)
GROUP="it-kill-$RUN_ID"
TOTAL=$("$GEN" count --seed $SEED --n $N)
BATCH_MAX=100

( step=$(( (TOTAL + SLICES - 1) / SLICES ))
  for ((s = 0; s < SLICES; s++)); do
      "$GEN" produce --brokers "$BROKERS" --prefix "$PREFIX" --seed $SEED --n $N \
          --from $((s * step)) --to $(((s + 1) * step))
      sleep 1.5
  done ) &
PRODUCER=$!

for i in 1 2 3 4; do
    start_worker "$DSN" "$GROUP" "kill$i"
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 1 + (r % 200) / 100 }')"
    kill -9 "$WPID"; wait "$WPID" 2>/dev/null || true
    log "killed worker $i at $(q "$DSN" "select coalesce(sum(next_offset),0) from consumer_offsets where consumer_group = '$GROUP'") of $TOTAL"
done

# Two workers in one group; kill one mid-stream, so the other takes its partitions over.
start_worker "$DSN" "$GROUP" pairA; A=$WPID
start_worker "$DSN" "$GROUP" pairB; B=$WPID
sleep 4
kill -9 "$A"; wait "$A" 2>/dev/null || true
log "killed one of two workers"
sleep 2
start_worker "$DSN" "$GROUP" pairA2; A=$WPID

wait "$PRODUCER"
wait_offsets "$DSN" "$GROUP" "$TOTAL" 240
kill -TERM "$A" "$B"
wait "$A" || fail "worker A exited $?"
wait "$B" || fail "worker B exited $?"
grep -q 'msg="partitions revoked"' "$WORK/pairB.log" || fail "worker B never saw a rebalance"

start_worker "$REF" "it-ref-$RUN_ID" reference
wait_offsets "$REF" "it-ref-$RUN_ID" "$TOTAL" 240
kill -TERM "$WPID"; wait "$WPID" || fail "reference worker exited $?"

dump_full "$DSN" "$WORK/killed-full"
dump_full "$REF" "$WORK/reference-full"
expect_equal "$WORK/reference-full" "$WORK/killed-full" "the killed run and the reference run"
gen_expect $SEED $N "$WORK/expected"
dump "$DSN" "$WORK/killed"
expect_equal "$WORK/expected" "$WORK/killed" "the killed run and the independent fold"
log "ok: $TOTAL records, $(cat "$WORK/killed-full/applied_count") events, equal to reference and fold"
