#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job on the local stack: install what is missing, build, start Kafka,
# PostgreSQL, the edge, a projector, the inventory and the ml worker, play Online Retail shoppers
# through the edge over HTTP (the orders as an import, by a service), wait for both
# workers to catch up, and show what the projections and the stock hold. Safe to run again (same seed → same event ids → no change).
# Env: SHOPSTREAM_DATA_DIR (../shared/data), DEMO_CUSTOMERS (100), DEMO_SEED (42).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
: "${SHOPSTREAM_DATA_DIR:=$SHOPSTREAM_REPO/../shared/data}"
: "${DEMO_CUSTOMERS:=100}"
: "${DEMO_SEED:=42}"

"$here/install.sh"
. "$here/env.sh"   # again: PG_BIN is only known once install.sh has put PostgreSQL there
"$here/build.sh"
"$here/stack.sh" up
export SHOPSTREAM_JWT_SECRET_FILE=$SHOPSTREAM_STATE_DIR/jwt.secret
bin=$SHOPSTREAM_BUILD_DIR
url=http://127.0.0.1:$SHOPSTREAM_HTTP_PORT

# The catalog first, until the inventory has taken it: orders ride another topic, and
# an order read before its product's catalog event is rejected as unknown_product.
lag_of() { "$bin/tools/admin/shopstream-admin" lag --role "$1" --quiet 2>/dev/null || echo "?"; }
log "replaying the catalog of $DEMO_CUSTOMERS Online Retail customers through $url"
"$bin/tools/replay/shopstream-replay" --url "$url" --data "$SHOPSTREAM_DATA_DIR" \
    --customers "$DEMO_CUSTOMERS" --seed "$DEMO_SEED" --catalog-only
for _ in $(seq 1 240); do [ "$(lag_of inventory)" = 0 ] && break; sleep 0.5; done
log "replaying $DEMO_CUSTOMERS Online Retail customers through $url"
"$bin/tools/replay/shopstream-replay" --url "$url" --data "$SHOPSTREAM_DATA_DIR" \
    --customers "$DEMO_CUSTOMERS" --seed "$DEMO_SEED"

# The inventory decides the orders, then the projector reads its outcomes: both at lag 0,
# twice in a row (the outcomes the inventory relays last are new records for the projector
# and the ml worker).
log "waiting for the inventory, the projector and the ml worker to catch up"
lags() {
    local r l out=""
    for r in inventory projector ml; do
        l=$(lag_of "$r")
        out="$out$r=$l "
    done
    echo "$out"
}
settled=0
for _ in $(seq 1 480); do
    now=$(lags)
    if [ "$now" = "inventory=0 projector=0 ml=0 " ]; then settled=$((settled + 1)); else settled=0; fi
    [ "$settled" -ge 2 ] && break
    sleep 0.5
done
[ "$settled" -ge 2 ] || die "workers still behind ($now); see $SHOPSTREAM_STATE_DIR/{inventory,projector,ml}.log"

q() { "$PG_BIN/psql" "$SHOPSTREAM_PG_DSN" -X -P pager=off -c "$1"; }
echo
echo "== projections =="
q "select (select count(*) from orders) as orders, (select count(*) from carts) as carts,
          (select count(*) from cart_items) as cart_lines, (select count(*) from products) as products,
          (select count(*) from applied_events) as events_applied"
q "select p.product_id, p.name, p.views, p.purchases, s.on_hand, s.reserved, s.available
   from products p left join inventory_stock s using (product_id) order by p.views desc, p.product_id limit 5"
q "select status, count(*) as orders from orders group by status order by status"
q "select outcome, coalesce(reason, '') as reason, count(*) as orders from inventory_orders group by 1, 2 order by 1, 2"
q "select order_id, user_id, status, total_minor, currency, to_timestamp(placed_at_ms/1000) at time zone 'UTC' as placed
   from orders order by placed_at_ms desc, order_id limit 5"
q "select user_id, count(*) as lines, sum(quantity) as units from cart_items group by user_id order by user_id limit 5"
echo
echo "== the ml worker's models (docs/ml.md, \"The ML worker\") =="
q "select model, version, to_timestamp(trained_at_ms/1000) at time zone 'UTC' as trained, metrics from ml_models order by model"
q "select segment, size, label from ml_segments order by segment"
q "select (select count(*) from ml_user_recs) as users_with_recs, (select count(*) from ml_similar) as products_with_similar"

user=$("$PG_BIN/psql" "$SHOPSTREAM_PG_DSN" -XAtc "select user_id from cart_items order by user_id limit 1")
order=$("$PG_BIN/psql" "$SHOPSTREAM_PG_DSN" -XAt -v user="$user" <<<"select order_id from orders where user_id = :'user' order by placed_at_ms desc limit 1")
product=$("$PG_BIN/psql" "$SHOPSTREAM_PG_DSN" -XAtc "select product_id from products order by views desc, product_id limit 1")
export SHOPSTREAM_JWT_SECRET; SHOPSTREAM_JWT_SECRET=$(cat "$SHOPSTREAM_JWT_SECRET_FILE")
token=$("$bin/tools/token/shopstream-token" --sub "$user")
echo
echo "== the API, as the frontend calls it (user $user) =="
echo "\$ curl -s -H \"Authorization: Bearer \$TOKEN\" $url/v1/me/cart"
curl -s -H "Authorization: Bearer $token" "$url/v1/me/cart"; echo
echo "\$ curl -s -H \"Authorization: Bearer \$TOKEN\" $url/v1/orders/$order"
curl -s -H "Authorization: Bearer $token" "$url/v1/orders/$order"; echo
echo "\$ curl -s -H \"Authorization: Bearer \$TOKEN\" $url/v1/products/$product"
curl -s -H "Authorization: Bearer $token" "$url/v1/products/$product"; echo
cat <<MSG

Try it yourself:
  export SHOPSTREAM_JWT_SECRET=\$(cat $SHOPSTREAM_JWT_SECRET_FILE)
  TOKEN=\$($bin/tools/token/shopstream-token --sub $user)
  curl -s -X POST $url/v1/events -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
       -d '{"events":[{"type":"cart.item_added","product_id":"$product","quantity":1}]}'
  curl -s -H "Authorization: Bearer \$TOKEN" $url/v1/me/cart
  curl -s $url/metrics | head
Stop the stack with: deploy/local/stack.sh down
MSG
