#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The order life cycle against the real broker and database (issue 7): the inventory's
# decisions read before their orders are parked, then applied when the placements
# arrive (confirmed; rejected with its detail); refused events (another user's cancel,
# a second placement of an id, a step of an order never placed, a shopper's payment, a
# rejected order shipped) are not applied, each recorded once with its reason and counted.
. "$(dirname "$0")/lib.sh"
make_topics
DSN=$(new_db life)
GROUP="it-life-$RUN_ID"
start_worker "$DSN" "$GROUP" worker

"$GEN" life --brokers "$BROKERS" --prefix "$PREFIX" --phase 1
wait_offsets "$DSN" "$GROUP" 2 60
[ "$(q "$DSN" "select count(*) from orders")" = 0 ] || fail "a decision created an order"
parked=$(q "$DSN" "select string_agg(order_id || ':' || status, ' ' order by order_id) from order_decisions_pending")
[ "$parked" = "life-a:confirmed life-b:rejected" ] || fail "parked decisions: $parked"
[ "$(q "$DSN" "select count(*) from refused_events")" = 0 ] || fail "an early decision was refused"

"$GEN" life --brokers "$BROKERS" --prefix "$PREFIX" --phase 2
wait_offsets "$DSN" "$GROUP" 9 60
got=$(q "$DSN" "select string_agg(order_id || ':' || user_id || ':' || status, ' ' order by order_id) from orders")
[ "$got" = "life-a:user-a:confirmed life-b:user-a:rejected" ] || fail "orders: $got"
rej=$(q "$DSN" "select rejection::text from orders where order_id = 'life-b'")
[ "$rej" = '{"lines": [{"available": 1, "requested": 2, "product_id": "life-p", "catalog_price": {"currency": "GBP", "amount_minor": 150}}], "reason": "out_of_stock"}' ] \
    || fail "rejection of life-b: $rej"
hist=$(q "$DSN" "select string_agg(order_id || ':' || status, ' ' order by order_id, at_ms) from order_status_history")
[ "$hist" = "life-a:confirmed life-a:placed life-b:rejected life-b:placed" ] || fail "history: $hist"
[ "$(q "$DSN" "select count(*) from order_decisions_pending")" = 0 ] || fail "a parked decision was left"
refused=$(q "$DSN" "select string_agg(order_id || ':' || type || ':' || user_id || ':' || actor_role || ':' || reason || ':' || order_status, ' ' order by kafka_offset, order_id) from refused_events where consumer_group = '$GROUP' and topic = '${PREFIX}order.v1'")
want="life-a:order.cancelled:user-b:shopper:not_owner:confirmed life-b:order.placed:user-b:shopper:order_exists:rejected life-ghost:order.paid:user-a:service:unknown_order:none life-a:order.paid:user-a:shopper:not_allowed:confirmed life-b:order.shipped:user-a:service:illegal_transition:rejected"
# Offsets are per partition: compare as sets.
[ "$(tr ' ' '\n' <<<"$refused" | LC_ALL=C sort)" = "$(tr ' ' '\n' <<<"$want" | LC_ALL=C sort)" ] \
    || fail "refused events: $refused"
[ "$(q "$DSN" "select purchases from products where product_id = 'life-p'")" = 2 ] \
    || fail "purchases of life-p: the rejected order's units must not count"

# The same records again (a client's retries, same ids): nothing changes, no second refusal.
"$GEN" life --brokers "$BROKERS" --prefix "$PREFIX" --phase 2
wait_offsets "$DSN" "$GROUP" 16 60
[ "$(q "$DSN" "select count(*) from refused_events")" = 5 ] || fail "a retried refusal was recorded twice"
kill -TERM "$WPID"; wait "$WPID" || fail "worker exited $?"
grep -q 'msg="stats".* refused=5 refused_order_exists=1 refused_unknown_order=1 refused_illegal_transition=1 refused_not_owner=1 refused_not_allowed=1 parked=2 ' "$WORK/worker.log" \
    || { grep 'msg="stats"' "$WORK/worker.log" | tail -n 2 >&2; fail "the stats line does not count the refusals and parked decisions"; }
log "ok: 2 decisions parked then applied, 5 refusals recorded once with their reasons"
