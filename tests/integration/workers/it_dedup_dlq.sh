#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# (d) A junk record and an invalid event go to <prefix>dlq.v1 with the original value
# and the x-shopstream-* headers, and the events after them are still applied.
# (c) The same three event ids produced twice are applied once.
. "$(dirname "$0")/lib.sh"
make_topics
DSN=$(new_db main)
GROUP="it-dlq-$RUN_ID"
"$GEN" poison --brokers "$BROKERS" --prefix "$PREFIX"
"$GEN" poison --brokers "$BROKERS" --prefix "$PREFIX"      # a full resend: same ids
start_worker "$DSN" "$GROUP" worker
wait_offsets "$DSN" "$GROUP" 10
views=$(q "$DSN" "select views from products where product_id = 'dlq-probe'")
[ "$views" = "3" ] || fail "dlq-probe has $views views, want 3"
kcat -C -b "$BROKERS" -t "${PREFIX}dlq.v1" -o beginning -e -q \
    -f '%k|%h\n' >"$WORK/dlq.txt" 2>/dev/null || fail "could not read the dead-letter topic"
kcat -C -b "$BROKERS" -t "${PREFIX}dlq.v1" -o beginning -e -q -c 1 \
    -f '%k|%s' >"$WORK/dlq_first.bin" 2>/dev/null || fail "could not read the dead-letter topic"
[ "$(grep -c . "$WORK/dlq.txt")" = "4" ] || { cat "$WORK/dlq.txt" >&2; fail "want 4 dead letters"; }
grep -q "x-shopstream-error=could not unpack" "$WORK/dlq.txt" || fail "no undecodable reason header"
grep -q "x-shopstream-error=invalid event: field id" "$WORK/dlq.txt" || fail "no invalid-event reason header"
grep -q "x-shopstream-topic=${PREFIX}browse.v1" "$WORK/dlq.txt" || fail "no source topic header"
grep -q "x-shopstream-consumer-group=$GROUP" "$WORK/dlq.txt" || fail "no consumer group header"
grep -q "x-shopstream-offset=0" "$WORK/dlq.txt" || fail "no offset header"
cmp -s "$WORK/dlq_first.bin" <(printf 'user-dlq|\377\377\377 junk') || fail "the junk key or value was not kept"
grep -q 'msg="dead-lettering record".*offset=0' "$WORK/worker.log" || fail "poison record not logged with its offset"
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
log "ok: 4 dead letters, views counted once"
