#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every read path has an index. Fills every table an edge read touches with a few
# hundred thousand rows (generate_series), VACUUM ANALYZE, then it-reads-explain runs
# EXPLAIN (FORMAT JSON) on every read query of edge/core/edge_reads.c with sample
# parameters and fails on a Seq Scan of any table of 10 000 rows or more. Then it drops
# one analytics index and one existing one and checks that the checker fails: the
# test can fail.
set -euo pipefail
if [ -z "${SHOPSTREAM_IT_PG_DSN:-}" ]; then echo "SKIP: SHOPSTREAM_IT_PG_DSN is not set"; exit 77; fi
BUILD=${1:-${SHOPSTREAM_IT_BUILD_DIR:-}}
[ -n "$BUILD" ] || { echo "usage: $0 BUILD_DIR"; exit 2; }
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
ADMIN=$BUILD/tools/admin/shopstream-admin
EXPLAIN=$BUILD/tests/integration/reads/it-reads-explain
for b in "$ADMIN" "$EXPLAIN"; do [ -x "$b" ] || { echo "missing $b"; exit 1; }; done
DB="it_reads_explain_$$"
LOG=$(mktemp /tmp/it-explain.XXXXXX)
cleanup() { psql "$SHOPSTREAM_IT_PG_DSN" -qXc "drop database if exists $DB with (force)" >/dev/null 2>&1 || true; rm -f "$LOG"; }
trap cleanup EXIT
fail() { echo "FAIL - $*"; exit 1; }

psql "$SHOPSTREAM_IT_PG_DSN" -qXc "create database $DB" >/dev/null
DSN="$SHOPSTREAM_IT_PG_DSN dbname=$DB"
"$ADMIN" migrate --dsn "$DSN" --dir "$REPO/schema/migrations" >"$LOG" 2>&1 || { cat "$LOG"; exit 1; }

echo "filling the read models"
psql "$DSN" -qX -v ON_ERROR_STOP=1 <<'SQL'
-- 200k products in 50 categories, with stock; 20k users; 300k orders of 15 per user.
insert into products (product_id, name, category, price_minor, currency, views, purchases, updated_at_ms)
  select 'p-' || i, 'Product ' || i, 'cat-' || (i % 50), 100 + i % 900, 'EUR', i % 97, i % 13, 1700000000000
  from generate_series(1, 200000) i;
insert into inventory_stock (product_id, on_hand, reserved) select 'p-' || i, 3 + i % 20, i % 3 from generate_series(1, 200000) i;
insert into orders (order_id, user_id, status, total_minor, currency, placed_at_ms, updated_at_ms)
  select 'o-' || i, 'u-' || (i % 20000), 'placed', 1000 + i % 5000, 'EUR', 1700000000000 + i * 1000, 1700000000000 + i * 1000
  from generate_series(1, 300000) i;
insert into order_lines (order_id, line_no, product_id, quantity, unit_price_minor, currency)
  select 'o-' || i, 1, 'p-' || (1 + i % 200000), 1 + i % 3, 500, 'EUR' from generate_series(1, 300000) i;
insert into order_status_history (order_id, status, at_ms, event_id)
  select 'o-' || i, 'placed', 1700000000000 + i * 1000, gen_random_uuid() from generate_series(1, 300000) i;
insert into cart_items (user_id, product_id, quantity, unit_price_minor, currency, updated_at_ms)
  select 'u-' || (i % 20000), 'p-' || i, 1 + i % 4, 300, 'EUR', 1700000000000 from generate_series(1, 200000) i;
insert into carts select 'u-' || i, 1700000000000 from generate_series(0, 19999) i;
-- The ML worker's models.
insert into ml_models values ('recommend', 3, 1700000000000, 1700000000000, '{}'), ('segment', 3, 1700000000000, 1700000000000, '{}'),
  ('forecast', 3, 1700000000000, 1700000000000, '{}');
insert into ml_user_recs (user_id, model_version, items, scores, updated_at_ms)
  select 'u-' || i, 3, array['p-1', 'p-2', 'p-3', 'p-' || (i % 200000 + 1)], array[0.9, 0.8, 0.7, 0.5], 1700000000000
  from generate_series(0, 199999) i;
insert into ml_popular values (1, 3, array['p-1', 'p-2'], array[0.9, 0.8], 1700000000000);
insert into ml_similar (product_id, model_version, items, scores, updated_at_ms)
  select 'p-' || i, 3, array['p-1', 'p-' || (i % 200000 + 1)], array[0.9, 0.5], 1700000000000 from generate_series(1, 200000) i;
insert into ml_user_segments (user_id, segment, model_version, features, updated_at_ms)
  select 'u-' || i, i % 8, 3, array[0.1, 0.2], 1700000000000 from generate_series(0, 199999) i;
insert into ml_segments (segment, model_version, size, centre, label, profile)
  select s, 3, 100, array[0.1, 0.2], 'segment ' || s, '{}' from generate_series(0, 7) s;
insert into ml_forecasts (product_id, model_version, method, start_date, daily, updated_at_ms)
  select 'p-' || i, 3, 'croston', date '2026-11-01', array[1.0, 2.0, 0.5], 1700000000000 from generate_series(1, 200000) i;
-- Activity and analytics (0009): 400 days from 2025-10-01, so a week is a small part.
insert into user_activity select 'u-' || i, i % 50, i % 7, i % 11, i % 5, 1700000000000, 1700000000000 + i
  from generate_series(0, 199999) i;
insert into user_spend select 'u-' || i, 'EUR', 1000 * (i % 9), i % 9 from generate_series(0, 199999) i;
insert into product_daily select 'p-' || p, date '2025-10-01' + d, (p * d) % 17, (p + d) % 5
  from generate_series(1, 1000) p, generate_series(0, 399) d;
insert into product_daily_revenue select 'p-' || p, date '2025-10-01' + d, c, 500 * ((p + d) % 5)
  from generate_series(1, 500) p, generate_series(0, 399) d, unnest(array['EUR', 'GBP']) c;
insert into category_daily select 'cat-' || k, date '2025-10-01' + d, c, 1000 * k
  from generate_series(0, 49) k, generate_series(0, 399) d, unnest(array['EUR', 'GBP']) c;
insert into funnel_daily select s, date '2025-10-01' + d, 'u-' || u, 1
  from unnest(array['viewed', 'carted', 'placed', 'paid']) s, generate_series(0, 399) d, generate_series(0, 199) u;
vacuum analyze;
SQL

"$EXPLAIN" "$DSN" | tee "$LOG"
grep -q '^ok   /v1/analytics/funnel' "$LOG" || fail "the funnel read was not explained"

# The checker must be able to fail: without the day index, revenue by day scans
# category_daily; without the user index, the orders page scans orders. Each index is
# put back before the next is dropped.
for pair in category_daily_day_idx:category_daily orders_user_idx:orders; do
    idx=${pair%%:*} table=${pair#*:}
    def=$(psql "$DSN" -qXAtc "select pg_get_indexdef('$idx'::regclass)")
    psql "$DSN" -qXc "drop index $idx" -c "analyze $table" >/dev/null
    if "$EXPLAIN" "$DSN" >"$LOG" 2>&1; then
        cat "$LOG"; fail "the checker passed without $idx"
    fi
    grep -q "Seq Scan on $table " "$LOG" || { cat "$LOG"; fail "without $idx the checker failed for another reason"; }
    echo "ok   - without $idx the checker fails: $(grep -m1 "Seq Scan on $table " "$LOG" | sed 's/^ *//')"
    psql "$DSN" -qXc "$def" -c "analyze $table" >/dev/null
done
"$EXPLAIN" "$DSN" >"$LOG" 2>&1 || { cat "$LOG"; fail "the indexes put back did not restore the plans"; }
echo "ok   - every read uses an index"
