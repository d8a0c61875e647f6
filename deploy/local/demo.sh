#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job on the local stack: install what is missing, build, start Kafka,
# PostgreSQL, the edge and a projector, play Online Retail shoppers through the
# edge over HTTP, wait for the projector to catch up, and show what the
# projections hold. Safe to run again (same seed → same event ids → no change).
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

log "replaying $DEMO_CUSTOMERS Online Retail customers through $url"
"$bin/tools/replay/shopstream-replay" --url "$url" --data "$SHOPSTREAM_DATA_DIR" \
    --customers "$DEMO_CUSTOMERS" --seed "$DEMO_SEED"

log "waiting for the projector to catch up"
for _ in $(seq 1 240); do
    lag=$("$bin/tools/admin/shopstream-admin" lag --quiet 2>/dev/null || echo "?")
    [ "$lag" = "0" ] && break
    sleep 0.5
done
[ "$lag" = "0" ] || die "projector still behind (lag $lag); see $SHOPSTREAM_STATE_DIR/projector.log"

q() { "$PG_BIN/psql" "$SHOPSTREAM_PG_DSN" -X -P pager=off -c "$1"; }
echo
echo "== projections =="
q "select (select count(*) from orders) as orders, (select count(*) from carts) as carts,
          (select count(*) from cart_items) as cart_lines, (select count(*) from products) as products,
          (select count(*) from applied_events) as events_applied"
q "select product_id, name, views, purchases, stock from products order by views desc, product_id limit 5"
q "select order_id, user_id, status, total_minor, currency, to_timestamp(placed_at_ms/1000) at time zone 'UTC' as placed
   from orders order by placed_at_ms desc, order_id limit 5"
q "select user_id, count(*) as lines, sum(quantity) as units from cart_items group by user_id order by user_id limit 5"

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
