#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# schema/migrations/0004 converts a filled applied_events: on a database migrated to
# 0003 with ids already applied, the migration keeps every id (in the partition of the
# migration's bucket, under its group's applied_projectors id), running its SQL a
# second time changes nothing, and a worker then still refuses a retry of a converted
# id while it applies a new one.
. "$(dirname "$0")/lib.sh"
make_topics
db="it_w_convert_$RUN_ID"
psql "$SHOPSTREAM_IT_PG_DSN" -qXc "create database $db" >/dev/null
DBS+=("$db")
DSN="$SHOPSTREAM_IT_PG_DSN dbname=$db"
GROUP="it-convert-$RUN_ID"
mkdir -p "$WORK/old"
cp "$SRC"/schema/migrations/000[123]_*.sql "$WORK/old/"
"$ADMIN" migrate --dsn "$DSN" --dir "$WORK/old" 2>/dev/null || fail "migrate to 0003"
q "$DSN" "insert into applied_events (projector, event_id, topic, partition, kafka_offset)
          select 'other-group', gen_random_uuid(), 't', 0, g from generate_series(1, 5000) g" >/dev/null
q "$DSN" "insert into applied_events values ('$GROUP', '00000001-0000-4000-8000-00000000beef', 't', 0, 1)" >/dev/null
"$ADMIN" migrate --dsn "$DSN" --dir "$SRC/schema/migrations" 2>/dev/null || fail "migrate 0004 over a filled table"
[ "$(q "$DSN" "select count(*) from applied_events")" = 5001 ] || fail "ids lost in the conversion"
[ "$(q "$DSN" "select relkind from pg_class where relname = 'applied_events'")" = p ] || fail "not partitioned"
[ "$(q "$DSN" "select count(*) from applied_events_default")" = 0 ] || fail "converted ids in the default partition"
[ "$(q "$DSN" "select count(*) from applied_events e join applied_projectors p on p.id = e.projector
              where p.name = 'other-group'")" = 5000 ] || fail "converted ids not under their group's projector id"
psql "$DSN" -qX -v ON_ERROR_STOP=1 -f "$SRC/schema/migrations/0004_applied_events_window.sql" >/dev/null 2>&1 \
    || fail "0004 run twice failed"
[ "$(q "$DSN" "select count(*) from applied_events")" = 5001 ] || fail "0004 run twice changed the ids"
now=$(( $(date +%s) * 1000 ))
start_worker "$DSN" "$GROUP" worker
"$GEN" views --brokers "$BROKERS" --prefix "$PREFIX" --product conv --id 1 --n 2 --at "$now" --step 1
wait_offsets "$DSN" "$GROUP" 2
[ "$(q "$DSN" "select views from products where product_id = 'conv'")" = 1 ] \
    || fail "a retry of a converted id was applied again, or the new id was not"
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
log "ok: 5001 ids converted and still deduplicating"
