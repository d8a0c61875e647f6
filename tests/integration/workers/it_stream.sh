#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (a) After a stream, the projections equal the fold computed independently by the
# generator; (c) client retries (same event id produced again) count once.
. "$(dirname "$0")/lib.sh"
SEED=11 N=3000
make_topics
DSN=$(new_db main)
TOTAL=$("$GEN" count --seed $SEED --n $N)
"$GEN" produce --brokers "$BROKERS" --prefix "$PREFIX" --seed $SEED --n $N
start_worker "$DSN" "it-proj-$RUN_ID" worker
wait_offsets "$DSN" "it-proj-$RUN_ID" "$TOTAL"
gen_expect $SEED $N "$WORK/expected"
dump "$DSN" "$WORK/actual"
expect_equal "$WORK/expected" "$WORK/actual" "projections and the independent fold"
applied=$(q "$DSN" "select count(*) from applied_events")
[ "$applied" = "$N" ] || fail "applied_events holds $applied ids, want $N (of $TOTAL records)"
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
# The late retries land in batches after their first copy, in its receipt bucket (the
# same bytes): the applied-ids insert must have hit the key and those batches gone
# through the probe path.
grep -q 'msg="stats".* dedup_probes=[1-9]' "$WORK/worker.log" || fail "no batch went through the dedup probe path"
log "ok: $TOTAL records, $N distinct events"
