#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The last units of one product, ordered all at once through the edge: 200 shoppers
# each order 1 unit of a product with 25 in stock while 50 more order it beside 2 units
# of a plentiful one, with 2 inventory workers consuming the order topic's partitions
# (started once half the orders wait, so both begin with full batches at once), and a
# projector whose orders read model follows the outcomes.
# Then the owners cancel 5 reserved orders, a service pays and ships 5 others, a
# shopper tries to cancel another user's order, the service cancels a shipped one, a
# shopper tampers with a price and another orders a product the catalog never had.
# check_burst.py folds the expected state itself and checks it and the invariants
# (docs/inventory.md). With "kill9", one worker is killed with SIGKILL half-way
# through the orders and started again. With "scale", the group grows from one worker to
# three while the orders arrive and goes back to one with SIGTERM (as Kubernetes scales
# down); every outcome then reaches the topic exactly once (no id repeated).
MODE=${1:-burst}
IT_NAME=inv${MODE}$$
. "$(dirname "$0")/lib.sh"
it_require_env
TAIL=$IT_BIN/tests/integration/inventory/it-inventory-tail
[ -x "$TAIL" ] || fail "missing $TAIL (build first)"
HERE=$(cd "$(dirname "$0")" && pwd)
N_SINGLE=200 N_MULTI=50 SCARCE=25 PLENTY=100000 POST_PAR=16
# scale: more orders, posted 2 at a time, so they keep arriving through every rebalance.
[ "$MODE" = scale ] && N_MULTI=450 POST_PAR=2
N=$((N_SINGLE + N_MULTI))

it_make_db
it_make_topics
# Test scaffolding: every outbox row is also kept in outbox_copy, so the test can put
# relayed rows back as a crash between the delivery and the delete would leave them.
it_sql -c "create table outbox_copy as select * from inventory_outbox with no data;
  create function keep_outbox_copy() returns trigger language plpgsql as \$\$
  begin insert into outbox_copy select new.*; return new; end \$\$;
  create trigger keep_outbox_copy after insert on inventory_outbox for each row execute function keep_outbox_copy();" \
    >/dev/null
it_start_edge
it_start_projector   # the orders read model: confirmed or rejected from the inventory topic
start_workers() {
    inv_start inv1
    W1=$INV_PID
    [ "$MODE" = scale ] && return
    inv_start inv2
    W2=$INV_PID
}
# kill9 runs both workers throughout; burst stops them (SIGTERM) once the catalog is in
# and starts them again when half the orders wait, so both instances begin with full
# batches that all want the scarce product at once; race waits until both own
# partitions, then a service posts every order in one request on behalf of their
# shoppers, so both instances decide big batches at the same moment. The catalog must be
# in before any order: nothing orders the catalog topic against the order topic, and an
# order decided first would be rejected as unknown_product.
owns_orders() { grep -q 'partition assigned.*order\.v1' "$IT_TMP/$1.log"; }
owns_some() { grep -q 'partition assigned' "$IT_TMP/$1.log"; }
assigned() { owns_orders inv1 && { [ "$MODE" = scale ] || owns_orders inv2; }; }
start_workers
it_wait "the inventory workers own order partitions" 60 assigned

admin=$(it_token ops admin)
service=$(it_token checkout service)
r=$(it_post "$admin" "{\"events\":[
  {\"type\":\"catalog.product_upserted\",\"product_id\":\"scarce\",\"name\":\"Last one\",\"price\":{\"amount_minor\":500,\"currency\":\"GBP\"},\"stock\":$SCARCE},
  {\"type\":\"catalog.product_upserted\",\"product_id\":\"plenty\",\"name\":\"Socks\",\"price\":{\"amount_minor\":300,\"currency\":\"GBP\"},\"stock\":$PLENTY}]}")
[ "${r%% *}" = 202 ] || fail "catalog upsert: $r"
catalog_in() { [ "$(it_sql -c "select count(*) from inventory_stock where price_minor is not null")" = 2 ]; }
it_wait "the catalog reached inventory_stock" 60 catalog_in
if [ "$MODE" = burst ]; then
    kill -TERM "$W1" "$W2"
    wait "$W1" || fail "inventory worker 1 did not stop cleanly on SIGTERM"
    wait "$W2" || fail "inventory worker 2 did not stop cleanly on SIGTERM"
fi
echo "{\"scarce\": $SCARCE, \"plenty\": $PLENTY}" >"$IT_TMP/stock.json"

# One body and one token per order; orders.json is what the judge folds.
mkdir -p "$IT_TMP/req"
jobs_file=$IT_TMP/jobs
: >"$jobs_file"
{
    echo '{'
    for i in $(seq 1 $N); do
        if [ "$i" -le $N_SINGLE ]; then
            user=s$i order=ob-$i
            lines='[{"product_id":"scarce","quantity":1,"unit_price":{"amount_minor":500,"currency":"GBP"}}]'
            jlines='[["scarce", 1]]'
        else
            user=m$i order=om-$i
            lines='[{"product_id":"scarce","quantity":1,"unit_price":{"amount_minor":500,"currency":"GBP"}},{"product_id":"plenty","quantity":2,"unit_price":{"amount_minor":300,"currency":"GBP"}}]'
            jlines='[["scarce", 1], ["plenty", 2]]'
        fi
        echo "{\"events\":[{\"id\":\"$(inv_uuid "$i")\",\"type\":\"order.placed\",\"order_id\":\"$order\",\"lines\":$lines}]}" \
            >"$IT_TMP/req/$order.json"
        printf '%s{"id":"%s","type":"order.placed","user_id":"%s","order_id":"%s","lines":%s}' \
            "$([ "$i" -gt 1 ] && echo ,)" "$(inv_uuid "$i")" "$user" "$order" "$lines" >>"$IT_TMP/race.events"
        it_token "$user" shopper >"$IT_TMP/req/$order.tok"
        echo "$IT_TMP/req/$order.tok $IT_TMP/req/$order.json" >>"$jobs_file"
        printf '%s"%s": {"user": "%s", "lines": %s}\n' "$([ "$i" -gt 1 ] && echo ,)" "$order" "$user" "$jlines"
    done
    echo '}'
} >"$IT_TMP/orders.json"
shuf -o "$jobs_file" "$jobs_file"

inv_sampler "$IT_TMP/samples.txt" "$IT_TMP/stop"
post_jobs() {   # post_jobs FROM TO: the lines FROM..TO of the job list, 16 at a time
    sed -n "$1,$2p" "$jobs_file" | IT_URL=$IT_URL xargs -P $POST_PAR -L 1 bash -c 'inv_post_file "$(cat "$0")" "$1"' \
        >>"$IT_TMP/codes"
}
if [ "$MODE" = race ]; then
    echo "{\"events\":[$(cat "$IT_TMP/race.events")]}" >"$IT_TMP/race.json"
    code=$(inv_post_file "$service" "$IT_TMP/race.json")
    [ "$code" = 202 ] || fail "the service's batch of $N orders: $code"
elif [ "$MODE" = scale ]; then
    # Five slices of the orders; each step's worker starts (or gets SIGTERM) as its slice
    # begins to post, so the rebalance happens while orders arrive.
    slice=$(( (N + 4) / 5 ))
    stop_inv() {   # stop_inv PID NAME: SIGTERM; it flushes, relays, leaves and exits 0
        kill -TERM "$1"
        wait "$1" || fail "inventory worker $2 exited $? after SIGTERM"
    }
    step() {   # step K WHAT: posts slice K (1-based) after WHAT
        post_jobs $(( (($1 - 1) * slice) + 1 )) $(( $1 * slice < N ? $1 * slice : N ))
        ok "scale: $2; $(it_sql -c "select count(*) from inventory_orders") of $N orders decided"
    }
    step 1 "one worker"
    inv_start inv2; W2=$INV_PID
    step 2 "a second worker joined"
    # Any partition: cooperative-sticky balances the count over both topics, so a member
    # may hold only catalog partitions.
    it_wait "the second worker owns partitions" 60 owns_some inv2
    inv_start inv3; W3=$INV_PID
    step 3 "a third worker joined"
    it_wait "the third worker owns partitions" 60 owns_some inv3
    stop_inv "$W3" inv3
    step 4 "the third worker left (SIGTERM)"
    stop_inv "$W2" inv2
    step 5 "the second worker left (SIGTERM)"
    [ "$(grep -c '^202$' "$IT_TMP/codes")" = $N ] || fail "not every order got 202: $(sort "$IT_TMP/codes" | uniq -c)"
else
    post_jobs 1 $((N / 2))
    if [ "$MODE" = kill9 ]; then
        kill -9 "$W2"
        ok "killed one inventory worker with SIGKILL half-way"
    else
        start_workers
    fi
    post_jobs $((N / 2 + 1)) $N
    [ "$(grep -c '^202$' "$IT_TMP/codes")" = $N ] || fail "not every order got 202: $(sort "$IT_TMP/codes" | uniq -c)"
fi
ok "$N orders accepted by the edge"
if [ "$MODE" = kill9 ]; then
    inv_start inv2-restarted
fi

all_decided() {
    [ "$(it_sql -c "select count(*) from inventory_orders")" = $N ] &&
        [ "$(it_sql -c "select count(*) from inventory_outbox")" = 0 ]
}
it_wait "every order decided and relayed" 180 all_decided
ok "every order decided, the outbox empty"
if [ "$MODE" = kill9 ]; then
    # A relay that died after its delivery reports and before its delete: the rows are
    # published again, with the same ids.
    it_sql -c "insert into inventory_outbox (event_id, topic, key, payload, created_at_ms)
               select event_id, topic, key, payload, created_at_ms from outbox_copy order by id limit 20" >/dev/null
    it_wait "the re-inserted rows relayed again" 60 all_decided
    ok "20 relayed outcomes put back in the outbox and relayed again"
fi

# Later steps of some reserved orders, in a fixed order the judge folds too. Payments
# and fulfilment post as a service on behalf of the owner (user_id in the body).
mapfile -t won < <(it_sql -c "select order_id from inventory_orders where outcome = 'reserved' order by order_id")
[ "${#won[@]}" -ge 12 ] || fail "only ${#won[@]} orders reserved"
owner_of() { it_sql -c "select user_id from inventory_orders where order_id = '$1'"; }
: >"$IT_TMP/actions"
k=100000
for o in "${won[@]:0:5}"; do
    k=$((k + 1))
    r=$(it_post "$(it_token "$(owner_of "$o")" shopper)" "{\"events\":[{\"id\":\"$(inv_uuid $k)\",\"type\":\"order.cancelled\",\"order_id\":\"$o\"}]}")
    [ "${r%% *}" = 202 ] || fail "cancel $o: $r"
    echo "cancel $o" >>"$IT_TMP/actions"
done
for o in "${won[@]:5:5}"; do
    k=$((k + 2))
    r=$(it_post "$service" "{\"events\":[
      {\"id\":\"$(inv_uuid $((k - 1)))\",\"type\":\"order.paid\",\"order_id\":\"$o\",\"user_id\":\"$(owner_of "$o")\",\"amount\":{\"amount_minor\":500,\"currency\":\"GBP\"}},
      {\"id\":\"$(inv_uuid $k)\",\"type\":\"order.shipped\",\"order_id\":\"$o\",\"user_id\":\"$(owner_of "$o")\"}]}")
    [ "${r%% *}" = 202 ] || fail "pay and ship $o: $r"
    echo "ship $o" >>"$IT_TMP/actions"
done
# Refused by the worker: another shopper's cancel (when the edge cannot see the order
# yet it is the worker's call) and a cancel after shipping.
r=$(it_post "$(it_token intruder shopper)" "{\"events\":[{\"id\":\"$(inv_uuid 200001)\",\"type\":\"order.cancelled\",\"order_id\":\"${won[10]}\"}]}")
intruder=${r%% *}
[ "$intruder" = 202 ] || [ "$intruder" = 403 ] || fail "intruder's cancel: $r"
r=$(it_post "$service" "{\"events\":[{\"id\":\"$(inv_uuid 200002)\",\"type\":\"order.cancelled\",\"order_id\":\"${won[5]}\",\"user_id\":\"$(owner_of "${won[5]}")\"}]}")
[ "${r%% *}" = 202 ] || fail "cancel after ship: $r"
# A shopper's tampered price (the catalog says 500) and a product the catalog never had:
# rejected price_mismatch and unknown_product, whatever stock is left.
r=$(it_post "$(it_token tamperer shopper)" "{\"events\":[{\"id\":\"$(inv_uuid 200003)\",\"type\":\"order.placed\",\"order_id\":\"tamper-1\",\"lines\":[{\"product_id\":\"plenty\",\"quantity\":1,\"unit_price\":{\"amount_minor\":1,\"currency\":\"GBP\"}}]}]}")
[ "${r%% *}" = 202 ] || fail "tampered order: $r"
r=$(it_post "$(it_token tamperer shopper)" "{\"events\":[{\"id\":\"$(inv_uuid 200004)\",\"type\":\"order.placed\",\"order_id\":\"ghost-1\",\"lines\":[{\"product_id\":\"plenty\",\"quantity\":1,\"unit_price\":{\"amount_minor\":300,\"currency\":\"GBP\"}},{\"product_id\":\"ghost\",\"quantity\":1,\"unit_price\":{\"amount_minor\":300,\"currency\":\"GBP\"}}]}]}")
[ "${r%% *}" = 202 ] || fail "order of an unknown product: $r"
cat >"$IT_TMP/extra_orders.json" <<'JSON'
{"tamper-1": {"user": "tamperer", "lines": [["plenty", 1]], "reason": "price_mismatch"},
 "ghost-1": {"user": "tamperer", "lines": [["plenty", 1], ["ghost", 1]], "reason": "unknown_product"}}
JSON
N=$((N + 2))
awk '{printf "%s[\"%s\", \"%s\"]", (NR > 1 ? ", " : "["), $1, $2} END {print "]"}' "$IT_TMP/actions" >"$IT_TMP/actions.json"

settled() {
    [ "$(it_sql -c "select count(*) from inventory_orders")" = $N ] &&
        [ "$(it_sql -c "select count(*) from inventory_reservations where state <> 'held'")" -ge 10 ] &&
        [ "$(it_sql -c "select count(*) from inventory_refused")" = "$([ "$intruder" = 202 ] && echo 2 || echo 1)" ] &&
        [ "$(it_sql -c "select count(*) from inventory_outbox")" = 0 ]
}
it_wait "cancels and shipments applied and relayed" 120 settled
# The projector's read model follows the topic: every order leaves placed.
projected() { [ "$(it_sql -c "select count(*) from orders where status <> 'placed'")" = $N ]; }
it_wait "the projector moved every order by its outcome" 120 projected
touch "$IT_TMP/stop"
wait "$INV_SAMPLER_PID" 2>/dev/null || true
[ "$(it_sql -c "select reason from inventory_refused where order_id = '${won[5]}'")" = illegal_transition ] ||
    fail "the cancel after shipping was not refused as illegal_transition"
[ "$intruder" = 403 ] || [ "$(it_sql -c "select reason from inventory_refused where order_id = '${won[10]}'")" = not_owner ] ||
    fail "the intruder's cancel was neither refused by the edge nor by the worker"
ok "an intruder's cancel and a cancel after shipping are refused"
[ "$(it_sql -c "select reason from inventory_orders where order_id = 'tamper-1'")" = price_mismatch ] ||
    fail "the tampered price was not rejected as price_mismatch"
ok "a tampered price is rejected price_mismatch, an unknown product unknown_product"

# What the edge shows of each product is inventory_stock (checked against the fold below).
for p in scarce plenty; do
    got=$(it_get "$admin" "/v1/products/$p" | jq -r '"\(.on_hand),\(.reserved),\(.available)"')
    want=$(it_sql -F, -c "select on_hand, reserved, available from inventory_stock where product_id = '$p'")
    [ "$got" = "$want" ] || fail "GET /v1/products/$p shows $got, inventory_stock holds $want"
done
ok "GET /v1/products/{id} shows on_hand, reserved and available of inventory_stock"

inv_tail "$IT_TMP/topic.txt" || fail "could not read ${IT_PREFIX}inventory.v1"
it_sql -F, -c "select product_id, on_hand, reserved, available from inventory_stock" >"$IT_TMP/inventory_stock.csv"
it_sql -F, -c "select order_id, user_id, outcome, coalesce(reason, '') from inventory_orders" >"$IT_TMP/inventory_orders.csv"
it_sql -F, -c "select order_id, product_id, quantity, state from inventory_reservations" >"$IT_TMP/inventory_reservations.csv"
it_sql -F, -c "select order_id, status, coalesce(rejection->>'reason', '') from orders" >"$IT_TMP/orders.csv"
INV_EXPECT_REPLAYS=$([ "$MODE" = kill9 ] && echo 20) INV_MAX_REPEATS=$([ "$MODE" = scale ] && echo 0) python3 "$HERE/check_burst.py" "$IT_TMP" || fail "the burst's invariants or its fold do not hold"
ok "burst ($MODE): $SCARCE units reserved of $N orders, every invariant and the fold hold"
