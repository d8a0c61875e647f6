#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Scaling the projector group while the stream flows: one worker, then two, then three
# (each joins while records arrive), then back to two and one with SIGTERM (as Kubernetes
# scales a Deployment down). Every step is a rebalance (eager, the default: workers/worker.h
# WORKER_KAFKA_ASSIGNOR). Every member must stop with exit 0 after its last flush: members
# contend for the same product rows, which once deadlocked (docs/projections.md). At the
# end the read models equal the generator's independent fold (it_gen.c, as
# integration.workers.kill9 uses it): no event lost, none counted twice. IT_SCALE_PROPS
# (SHOPSTREAM_KAFKA_PROPERTIES of every worker) runs it with another assignor, e.g.
# partition.assignment.strategy=cooperative-sticky, where a revoke names only what moves.
. "$(dirname "$0")/../workers/lib.sh"
SEED=41 N=24000 SLICES=60
make_topics
DSN=$(new_db scale)
GROUP="it-scale-$RUN_ID"
TOTAL=$("$GEN" count --seed $SEED --n $N)
BATCH_MAX=200
# Batches stay open 300 ms after the queue runs empty, so a revoke mostly finds one open:
# what the revoke policy (flush before losing partitions) is there for.
export SHOPSTREAM_BATCH_LINGER_MS=300
export SHOPSTREAM_KAFKA_PROPERTIES=${IT_SCALE_PROPS:-}
want_protocol=eager
case "${IT_SCALE_PROPS:-}" in *cooperative*) want_protocol=cooperative ;; esac

# The stream: the whole workload in slices, one every ~0.4 s, for as long as the steps take.
( step=$(( (TOTAL + SLICES - 1) / SLICES ))
  for ((s = 0; s < SLICES; s++)); do
      "$GEN" produce --brokers "$BROKERS" --prefix "$PREFIX" --seed $SEED --n $N \
          --from $((s * step)) --to $(((s + 1) * step))
      sleep 0.3
  done ) &
PRODUCER=$!

assigned() { grep -c 'msg="partition assigned"' "$WORK/$1.log" 2>/dev/null || true; }
committed() { q "$DSN" "select coalesce(sum(next_offset),0) from consumer_offsets where consumer_group = '$GROUP'"; }
# wait_assigned LOG: until that worker has been given partitions.
wait_assigned() {
    local deadline=$(( $(date +%s) + 60 ))
    until [ "$(assigned "$1")" -gt 0 ]; do
        [ "$(date +%s)" -ge "$deadline" ] && fail "$1 got no partition in 60 s"
        sleep 0.2
    done
}
# settle: the group moved partitions and consumption went on (the committed sum grew).
settle() {
    local before; before=$(committed)
    sleep 3
    [ "$(committed)" -gt "$before" ] || log "nothing committed in 3 s after $1 (the stream may have ended)"
    log "$1: $(committed) of $TOTAL committed"
}
stop_worker() {   # stop_worker PID NAME: SIGTERM, and it must exit 0 after its last flush
    kill -TERM "$1"
    wait "$1" || fail "$2 exited $? after SIGTERM"
    grep -q 'msg="stopped" exit_code=0' "$WORK/$2.log" || fail "$2 did not stop cleanly"
}

start_worker "$DSN" "$GROUP" w1; W1=$WPID
wait_assigned w1
settle "one worker"
start_worker "$DSN" "$GROUP" w2; W2=$WPID
wait_assigned w2
settle "two workers"
start_worker "$DSN" "$GROUP" w3; W3=$WPID
wait_assigned w3
settle "three workers"
stop_worker "$W3" w3
settle "back to two"
stop_worker "$W2" w2
settle "back to one"

wait "$PRODUCER"
wait_offsets "$DSN" "$GROUP" "$TOTAL" 180
stop_worker "$W1" w1

for w in w1 w2 w3; do
    grep -q "msg=\"partition assigned\".* protocol=$want_protocol" "$WORK/$w.log" ||
        fail "$w was not assigned partitions by a $want_protocol rebalance"
    ! grep -q 'msg="could not change the assignment"\|msg="could not assign partitions"\|msg="rebalance failed' "$WORK/$w.log" ||
        fail "$w: $(grep -m1 'could not change the assignment\|could not assign partitions\|rebalance failed' "$WORK/$w.log")"
done
# Cooperative: w1 keeps partitions through every join (a revoke names only what moves), so
# none of its revokes before its own stop took everything it had.
if [ "$want_protocol" = cooperative ]; then
    revokes=$(grep -c 'msg="partitions revoked"' "$WORK/w1.log")
    [ "$revokes" -ge 2 ] || fail "w1 gave nothing away when w2 and w3 joined ($revokes revokes)"
fi
gen_expect $SEED $N "$WORK/expected"
dump "$DSN" "$WORK/actual"
expect_equal "$WORK/expected" "$WORK/actual" "the projections after scaling 1-2-3-2-1 and the independent fold"
log "ok: $TOTAL records, 1 -> 3 -> 1 projectors ($want_protocol), equal to the fold"
