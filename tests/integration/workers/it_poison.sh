#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Records that PostgreSQL refuses for good, in the middle of a batch of good ones: two
# views of a product this database's CHECK forbids (23514) and an order whose purchases
# leave bigint (the test stores pz-stock's purchases at INT64_MAX - 7; PostgreSQL's
# 22003 refuses the sum). Stock is not the projector's any more (issue 7).
# The batch is split down to them, they reach <prefix>dlq.v1 with their SQLSTATE, every
# good record is applied exactly once, the worker goes on without an outage or an error
# per retry. Then: an offset another owner moved ahead is never moved back.
. "$(dirname "$0")/lib.sh"
make_topics
DSN=$(new_db poison)
GROUP="it-poison-$RUN_ID"
q "$DSN" "alter table products add constraint it_no_pz_bad check (product_id <> 'pz-bad')" >/dev/null
q "$DSN" "insert into products (product_id, purchases) values ('pz-stock', 9223372036854775800)" >/dev/null
"$GEN" poison-pg --brokers "$BROKERS" --prefix "$PREFIX" --round 1
TOTAL=306   # 300 views + 2 refused views + upsert + 3 orders
BATCH_MAX=5000 start_worker "$DSN" "$GROUP" worker
wait_offsets "$DSN" "$GROUP" $TOTAL 120

views=$(q "$DSN" "select coalesce(sum(views),0) || ',' || count(*) || ',' || min(views) || ',' || max(views) from products where product_id like 'pv-%'")
[ "$views" = "300,30,10,10" ] || fail "views (sum,products,min,max) = $views, want 300,30,10,10"
[ "$(q "$DSN" "select count(*) from products where product_id = 'pz-bad'")" = 0 ] || fail "pz-bad was applied"
got=$(q "$DSN" "select purchases from products where product_id = 'pz-stock'")
[ "$got" = 9223372036854775805 ] || fail "pz-stock has purchases $got, want INT64_MAX - 7 + 3 + 2"
[ "$(q "$DSN" "select string_agg(order_id, ' ' order by order_id) from orders")" = "pz-order-1 pz-order-3" ] \
    || fail "the refused order was applied, or a good one lost"

kcat -C -b "$BROKERS" -t "${PREFIX}dlq.v1" -o beginning -e -q -f '%h\n' >"$WORK/dlq.txt" 2>/dev/null \
    || fail "could not read the dead-letter topic"
[ "$(grep -c . "$WORK/dlq.txt")" = 3 ] || { cat "$WORK/dlq.txt" >&2; fail "want 3 dead letters"; }
[ "$(grep -c 'x-shopstream-sqlstate=23514' "$WORK/dlq.txt")" = 2 ] || fail "the CHECK violations lack their SQLSTATE"
grep 'x-shopstream-sqlstate=23514' "$WORK/dlq.txt" | grep -q 'x-shopstream-error=postgresql refused the event: .*it_no_pz_bad' \
    || fail "the dead letter does not carry PostgreSQL's message"
grep -q 'x-shopstream-topic=.*order.v1' "$WORK/dlq.txt" || fail "the order past INT64_MAX was not dead-lettered"
grep 'order.v1' "$WORK/dlq.txt" | grep -q 'x-shopstream-sqlstate=22003' \
    || fail "the order past INT64_MAX is not dead-lettered as out of range"
grep -q 'msg="postgresql unavailable' "$WORK/worker.log" && fail "poison was taken for an outage"
errors=$(grep -c 'level=error' "$WORK/worker.log" || true)
[ "$errors" -le 2 ] || fail "$errors error lines: a refused batch must not log per retry"

# The worker goes on. Round 2 orders 1 unit (fits) and 5 (past INT64_MAX: 22003).
"$GEN" poison-pg --brokers "$BROKERS" --prefix "$PREFIX" --round 2
wait_offsets "$DSN" "$GROUP" $((TOTAL + 52)) 60
[ "$(q "$DSN" "select sum(views) from products where product_id like 'pv-%'")" = 350 ] || fail "round 2 not applied once"
got=$(q "$DSN" "select purchases from products where product_id = 'pz-stock'")
[ "$got" = 9223372036854775806 ] || fail "pz-stock has purchases $got, want INT64_MAX - 1"
kcat -C -b "$BROKERS" -t "${PREFIX}dlq.v1" -o beginning -e -q -f '%h\n' >"$WORK/dlq2.txt" 2>/dev/null \
    || fail "could not read the dead-letter topic"
[ "$(grep -c . "$WORK/dlq2.txt")" = 4 ] || { cat "$WORK/dlq2.txt" >&2; fail "want 4 dead letters after round 2"; }
[ "$(grep 'order.v1' "$WORK/dlq2.txt" | grep -c 'x-shopstream-sqlstate=22003')" = 2 ] \
    || { cat "$WORK/dlq2.txt" >&2; fail "the stored purchases' overflow is not dead-lettered with 22003"; }

# Another owner committed further ahead (a rebalance's stale batch): our next commit on
# that partition must not move it back.
read -r TOPIC PART < <(q "$DSN" "select topic, partition from consumer_offsets where consumer_group = '$GROUP' and topic like '%browse.v1' order by next_offset desc limit 1" | tr , ' ')
q "$DSN" "update consumer_offsets set next_offset = next_offset + 1000000 where consumer_group = '$GROUP' and topic = '$TOPIC' and partition = $PART" >/dev/null
"$GEN" poison-pg --brokers "$BROKERS" --prefix "$PREFIX" --round 3
deadline=$(( $(date +%s) + 60 ))
until [ "$(q "$DSN" "select sum(views) from products where product_id like 'pv-%'")" = 400 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "round 3 not applied"
    sleep 0.3
done
ahead=$(q "$DSN" "select next_offset >= 1000000 from consumer_offsets where consumer_group = '$GROUP' and topic = '$TOPIC' and partition = $PART")
[ "$ahead" = t ] || fail "the offset of $TOPIC/$PART moved backwards"
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
log "ok: 4 dead letters with their SQLSTATE, 400 views applied once, offsets never backwards"
