#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Recover from a poison message (docs/operations.md): records PostgreSQL refuses (a CHECK
# this database adds, 23514) are dead-lettered and the rest applied; the dead letters'
# headers name their source record; once the cause is fixed (the CHECK dropped), a
# replay --by N of their topic back to the oldest one re-applies exactly them: every other
# replayed record is skipped by the dedup window, nothing is counted twice.
. "$(dirname "$0")/lib.sh"
make_topics
DSN=$(new_db redrive)
GROUP="it-redrive-$RUN_ID"
q "$DSN" "alter table products add constraint it_no_pz_bad check (product_id <> 'pz-bad')" >/dev/null
q "$DSN" "insert into products (product_id, purchases) values ('pz-stock', 9223372036854775800)" >/dev/null
"$GEN" poison-pg --brokers "$BROKERS" --prefix "$PREFIX" --round 1
TOTAL=306   # as it_poison.sh: 300 views + 2 refused views + upsert + 3 orders
BATCH_MAX=5000 start_worker "$DSN" "$GROUP" worker
wait_offsets "$DSN" "$GROUP" $TOTAL 120
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
views() { q "$DSN" "select coalesce(sum(views), 0) from products where product_id like '$1'"; }
[ "$(views 'pz-bad')" = 0 ] && [ "$(views 'pv-%')" = 300 ] || fail "before: pz-bad $(views pz-bad), pv $(views 'pv-%')"

# Find the records: the dead letters' headers.
kcat -C -b "$BROKERS" -t "${PREFIX}dlq.v1" -o beginning -e -q -f '%h\n' 2>/dev/null \
    | grep 'x-shopstream-sqlstate=23514' >"$WORK/dlq.txt" || fail "no CHECK-refused dead letters"
hdr() { sed -n "s/.*$1=\([^,]*\).*/\1/p"; }
TOPIC=$(head -n 1 "$WORK/dlq.txt" | hdr x-shopstream-topic)
N=0
while read -r line; do
    p=$(echo "$line" | hdr x-shopstream-partition); o=$(echo "$line" | hdr x-shopstream-offset)
    [ "$(echo "$line" | hdr x-shopstream-topic)" = "$TOPIC" ] || fail "dead letters of two topics"
    c=$(q "$DSN" "select next_offset from consumer_offsets where consumer_group = '$GROUP' and topic = '$TOPIC' and partition = $p")
    [ $((c - o)) -gt $N ] && N=$((c - o))
done <"$WORK/dlq.txt"
log "dead letters on $TOPIC; replaying it by $N"

# Fix the cause, re-drive, and check that only the dead letters took effect.
q "$DSN" "alter table products drop constraint it_no_pz_bad" >/dev/null
"$ADMIN" replay --brokers "$BROKERS" --prefix "$PREFIX" --dsn "$DSN" --group "$GROUP" --role projector \
    --topic "$TOPIC" --by "$N" >"$WORK/replay.out" 2>&1 || fail "replay: $(cat "$WORK/replay.out")"
start_worker "$DSN" "$GROUP" redrive
wait_offsets "$DSN" "$GROUP" $TOTAL 120
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
[ "$(views 'pz-bad')" = 2 ] || fail "the re-driven views: pz-bad has $(views pz-bad), want 2"
[ "$(views 'pv-%')" = 300 ] || fail "a replayed view was counted twice: $(views 'pv-%')"
grep -Eq 'duplicates=[1-9]' "$WORK/redrive.log" || fail "the replayed records were not skipped as duplicates"
log "ok: fixed and re-driven: the 2 dead-lettered views applied, the other replayed records skipped"
