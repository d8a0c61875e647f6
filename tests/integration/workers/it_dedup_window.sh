#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Dedup within the retry window, across applied_events partitions (one-minute buckets,
# a one-minute window and grace): a client's retry received in the next bucket, one
# received in the same bucket and one received a bucket *earlier* (a skewed edge) are
# applied once; once the stream has moved past window + grace, the first copy's
# partition is dropped and a retry that late is applied again. Each step is its own
# batch (the test waits for its offsets), so the lookups run against committed rows.
. "$(dirname "$0")/lib.sh"
make_topics
DSN=$(new_db window)
GROUP="it-window-$RUN_ID"
q "$DSN" "update applied_events_layout set bucket_ms = 60000" >/dev/null
export SHOPSTREAM_DEDUP_WINDOW_MS=60000 SHOPSTREAM_DEDUP_GRACE_MS=60000 SHOPSTREAM_LOG_LEVEL=debug
B=1700000040000          # a bucket boundary (28333334 * 60000)
B0=28333334
start_worker "$DSN" "$GROUP" worker
SENT=0
step() {   # step ID AT [PRODUCT]: one view with event id ID received at AT, applied before returning
    "$GEN" views --brokers "$BROKERS" --prefix "$PREFIX" --product "${3:-win}" --id "$1" --at "$2"
    SENT=$((SENT + 1))
    wait_offsets "$DSN" "$GROUP" "$SENT"
}
views() { q "$DSN" "select coalesce((select views from products where product_id = 'win'), 0)"; }

step 1 $((B + 1000))                    # A, bucket B0
step 2 $((B + 61500))                   # C, bucket B0+1
step 1 $((B + 61000))                   # A again 60 s later, bucket B0+1: found in B0
step 1 $((B + 30000))                   # A again, same bucket as its first copy: the key
step 2 $((B + 59500))                   # C again, received a bucket before its first copy
[ "$(views)" = 2 ] || fail "inside the window: win has $(views) views, want 2"
[ "$(q "$DSN" "select count(*) from applied_events where event_id = '00000001-0000-4000-8000-00000000beef'")" = 1 ] \
    || fail "A is recorded more than once"
[ "$(q "$DSN" "select bucket from applied_events where event_id = '00000001-0000-4000-8000-00000000beef'")" = $B0 ] \
    || fail "A is not in its first receipt bucket"
# The stream moves on: views of another product, received up to 5 minutes later.
for k in 2 3 4 5; do step $((100 + k)) $((B + k * 60000 + 10)) fill; done
parts=$(q "$DSN" "select string_agg(name, ' ' order by hi) from applied_events_parts")
log "partitions now: $parts"
case " $parts " in *" applied_events_b$B0 "*) fail "bucket $B0 is still there, past window + grace" ;; esac
step 1 $((B + 5 * 60000 + 1000))        # A again, ~5 minutes after its first copy: outside the window
[ "$(views)" = 3 ] || fail "a retry older than window + grace: win has $(views) views, want 3 (applied again)"
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
grep -q 'msg="applied_events maintained"' "$WORK/worker.log" || fail "no maintenance logged"
log "ok: retries inside the window applied once, across buckets; a retry past the window applied again"
