/* SPDX-License-Identifier: MIT
 * The projector's fixed SQL texts and the two statements that run before the
 * fold (dedup, order read). Pure. Every value travels as an array parameter;
 * nothing is ever pasted into SQL text.
 */
#include <stdint.h>
#include <string.h>

#include "workers/core/proj_internal.h"
#include "workers/core/sql_array.h"
#include "workers/core/strmap.h"

/* Dedup and the applied-ids insert in one statement (docs/projections.md, "Dedup
 * window"). applied_events is partitioned by receipt bucket and its key includes the
 * bucket, so the key only refuses a second copy of an id in the same bucket; a client's
 * retry gets a new receipt time and may fall into another one. "dup" looks every id up
 * in the buckets the window reaches, $4..$5 and $6..$7 (constants, so the planner keeps
 * only those partitions), one probe per id and partition (the lateral limit 1 keeps it
 * a probe: "event_id = any($2)" was planned as a scan while a table was young). The
 * batch's own bucket is left out of the ranges while the key can decide there: then a
 * second copy in it fails the insert with a unique violation, which also settles two
 * transactions inserting the same record at once. Returns the ids applied before. */
const char SHOP_PROJ_SQL_APPLIED_INSERT[] =
    "with u as materialized (select * from unnest($2::uuid[], $3::int[]) as u(event_id, bucket)), "
    "dup as materialized (select u.event_id from u cross join lateral "
    "(select 1 from applied_events a where a.event_id = u.event_id and a.projector = $1::int "
    "and (a.bucket between $4::int and $5::int or a.bucket between $6::int and $7::int) limit 1) as hit), "
    "ins as (insert into applied_events (event_id, projector, bucket) "
    "select u.event_id, $1::int, u.bucket from u where not exists (select 1 from dup where dup.event_id = u.event_id)) "
    "select event_id from dup";

/* Partitions for the projector's current and next bucket, old ones dropped
 * (schema/migrations/0004_applied_events_window.sql). Outside any batch. */
const char SHOP_PROJ_SQL_DEDUP_MAINTAIN[] = "select applied_events_maintain($1::int, $2::int, $3::int)";

/* The layout's bucket width and this group's projector id (created on first use). */
const char SHOP_PROJ_SQL_DEDUP_LAYOUT[] = "select bucket_ms, applied_projector_id($1) from applied_events_layout";

/* The rendezvous of a placement and its decision, which two topics carry and two workers
 * may consume at once: each batch inserts the ids of the orders it places or decides into
 * order_gate before it reads orders and parked decisions, and deletes them again before
 * it commits (SHOP_PROJ_SQL_ORDER_UNGATE), so the table is empty between transactions. A
 * second batch inserting the same id waits on the first one's uncommitted row until it
 * commits (the row gone, the insert goes through), and its read, a later statement, sees
 * what the first committed. Ids in sorted order: two batches cannot deadlock on it. Row
 * locks, not advisory locks: those take a slot of the shared lock table each, and a batch
 * holds thousands of orders. */
const char SHOP_PROJ_SQL_ORDER_GATE[] =
    "insert into order_gate (order_id) "
    "select id from (select distinct id from unnest($1::text[]) as id order by id) as s "
    "on conflict do nothing";

const char SHOP_PROJ_SQL_ORDER_UNGATE[] = "delete from order_gate where order_id = any($1::text[])";

/* The orders the batch names (status, owner, lines in line order; FOR UPDATE) and the
 * decisions parked for them (in arrival order), one result: order rows ('o') first.
 * Columns: enum shop_proj_order_col, then a sort key. */
const char SHOP_PROJ_SQL_ORDER_READ[] =
    "with o as (select o.order_id, o.status, o.user_id, l.product_id, l.quantity, l.line_no "
    "from orders o left join order_lines l on l.order_id = o.order_id "
    "where o.order_id = any($1::text[]) for update of o), "
    "p as (select * from order_decisions_pending where order_id = any($1::text[])) "
    "select 'o', order_id, status, user_id, product_id, quantity::bigint, null::text, null::text, null::int, "
    "null::bigint, null::text, null::text, null::text, null::bigint, line_no::bigint from o "
    "union all "
    "select 'p', order_id, status, user_id, null, null, event_id::text, topic, partition, kafka_offset, type, "
    "actor_role, rejection::text, at_ms, at_ms from p "
    "order by 1, 2, 15, 7";

/* One upsert per product. The catalog fields come only with a catalog.product_upserted,
 * whose name the validator requires (never empty), so a non-NULL name is what says "this
 * batch set the catalog": the plan sends NULL names for every other product. Stock is
 * not the projector's (inventory_stock, the inventory worker). */
const char SHOP_PROJ_SQL_PRODUCTS_UPSERT[] =
    "insert into products as p (product_id, name, category, price_minor, currency, views, "
    "purchases, updated_at_ms) "
    "select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], "
    "$7::bigint[], $8::bigint[]) "
    "on conflict (product_id) do update set "
    "name = coalesce(excluded.name, p.name), "
    "category = case when excluded.name is null then p.category else excluded.category end, "
    "price_minor = case when excluded.name is null then p.price_minor else excluded.price_minor end, "
    "currency = case when excluded.name is null then p.currency else excluded.currency end, "
    "views = p.views + excluded.views, "
    "purchases = p.purchases + excluded.purchases, "
    "updated_at_ms = greatest(p.updated_at_ms, excluded.updated_at_ms)";

const char SHOP_PROJ_SQL_CART_CLEAR[] =
    "delete from cart_items where user_id = any($1::text[])";

const char SHOP_PROJ_SQL_CART_DELETE[] =
    "delete from cart_items c using unnest($1::text[], $2::text[]) as d(user_id, product_id) "
    "where c.user_id = d.user_id and c.product_id = d.product_id";

#define CART_UPSERT_HEAD                                                                           \
    "insert into cart_items as c "                                                                 \
    "(user_id, product_id, quantity, unit_price_minor, currency, updated_at_ms) "                  \
    "select u.user_id, u.product_id, least(u.quantity, 2147483647)::int, u.unit_price_minor, "     \
    "u.currency, u.updated_at_ms "                                                                 \
    "from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[]) "   \
    "as u(user_id, product_id, quantity, unit_price_minor, currency, updated_at_ms) "              \
    "on conflict (user_id, product_id) do update set "
#define CART_UPSERT_TAIL                                                                           \
    "unit_price_minor = coalesce(excluded.unit_price_minor, c.unit_price_minor), "                 \
    "currency = coalesce(excluded.currency, c.currency), "                                         \
    "updated_at_ms = greatest(c.updated_at_ms, excluded.updated_at_ms)"

const char SHOP_PROJ_SQL_CART_SET[] =
    CART_UPSERT_HEAD "quantity = excluded.quantity, " CART_UPSERT_TAIL;

const char SHOP_PROJ_SQL_CART_ADD[] =
    CART_UPSERT_HEAD "quantity = least(c.quantity::bigint + excluded.quantity, 2147483647)::int, "
    CART_UPSERT_TAIL;

const char SHOP_PROJ_SQL_CARTS_TOUCH[] =
    "insert into carts as c (user_id, updated_at_ms) "
    "select * from unnest($1::text[], $2::bigint[]) "
    "on conflict (user_id) do update set "
    "updated_at_ms = greatest(c.updated_at_ms, excluded.updated_at_ms)";

const char SHOP_PROJ_SQL_ORDERS_INSERT[] =
    "insert into orders (order_id, user_id, status, total_minor, currency, placed_at_ms, "
    "updated_at_ms, rejection) "
    "select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], "
    "$6::bigint[], $7::bigint[], $8::jsonb[]) "
    "on conflict do nothing";

/* The lines of orders inserted by this batch, which read every order it names FOR
 * UPDATE first: no line of them can exist. Should another transaction insert the same
 * order in between, the primary key fails the COPY, the batch rolls back and, consumed
 * again, finds the order and leaves it alone. */
const char SHOP_PROJ_SQL_ORDER_LINES_COPY[] =
    "copy order_lines (order_id, line_no, product_id, quantity, unit_price_minor, currency) from stdin";

const char SHOP_PROJ_SQL_ORDERS_UPDATE[] =
    "update orders o set status = u.status, rejection = coalesce(u.rejection, o.rejection), "
    "updated_at_ms = greatest(o.updated_at_ms, u.updated_at_ms) "
    "from unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[]) as u(order_id, status, updated_at_ms, rejection) "
    "where o.order_id = u.order_id";

const char SHOP_PROJ_SQL_ORDER_HISTORY[] =
    "insert into order_status_history (order_id, status, at_ms, event_id) "
    "select * from unnest($1::text[], $2::text[], $3::bigint[], $4::uuid[]) "
    "on conflict do nothing";

/* In the batch's transaction, with its offsets: one row per refused event. */
const char SHOP_PROJ_SQL_REFUSED_INSERT[] =
    "insert into refused_events (consumer_group, event_id, topic, partition, kafka_offset, type, user_id, "
    "actor_role, occurred_at_ms, order_id, reason, order_status, refused_at_ms) "
    "select $12, u.*, $13::bigint from unnest($1::uuid[], $2::text[], $3::int[], $4::bigint[], $5::text[], "
    "$6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[]) as u "
    "on conflict do nothing";

const char SHOP_PROJ_SQL_PARKED_INSERT[] =
    "insert into order_decisions_pending (event_id, topic, partition, kafka_offset, type, user_id, actor_role, "
    "at_ms, order_id, status, rejection) "
    "select * from unnest($1::uuid[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[], $7::text[], "
    "$8::bigint[], $9::text[], $10::text[], $11::jsonb[]) "
    "on conflict do nothing";

const char SHOP_PROJ_SQL_PARKED_DELETE[] =
    "delete from order_decisions_pending p using unnest($1::text[], $2::uuid[]) as d(order_id, event_id) "
    "where p.order_id = d.order_id and p.event_id = d.event_id";

/* ---- activity and analytics (0009_analytics.sql; docs/projections.md) ----------------
 * Days travel as UTC days since 1970-01-01 (proj_utc_day). */

/* category_daily sums product_daily_revenue by each product's *current* category. A
 * sale adds to the category the product has when the sale is applied, and a category
 * change moves all the product's rows from the old category to the new one, so the
 * result is the same whichever of the two topics (order, catalog) was consumed first.
 * Two workers may apply a sale and a category change of one product at once: both
 * lock the product's row first (sorted, FOR UPDATE), in a statement of its own, so the
 * later one's statements see what the earlier one committed. */
const char SHOP_PROJ_SQL_PRODUCTS_LOCK[] = "call analytics_lock_products($1::text[])";

/* The category-move and sales statements probe keys through fenced laterals, which the
 * planner costs as if each probe read a young table's worst estimate (order_lines: 176
 * rows an order): above jit_optimize_above_cost, so every batch with a sale spent about
 * 0.55 s compiling the sales statement (inlining, optimisation, emission) to run it in
 * 10-170 ms. Off for the rest of the batch's transaction only; the commit resets it. */
const char SHOP_PROJ_SQL_JIT_OFF[] = "set local jit = off";

/* $1 product ids whose catalog the batch sets, $2 their new category ('' for none); runs
 * before products_upsert, while products still holds the old category. */
const char SHOP_PROJ_SQL_CATEGORY_MOVE[] =
    "with c as (select u.product_id, coalesce(p.category, '') as old_cat, u.cat as new_cat "
    "from unnest($1::text[], $2::text[]) as u(product_id, cat) "
    "cross join lateral (select p.category from products p where p.product_id = u.product_id limit 1) as p "
    "where coalesce(p.category, '') <> u.cat), "
    "d as (select x.cat, r.day, r.currency, sum(x.sign * r.revenue_minor)::bigint as rev "
    "from c cross join lateral (select r.day, r.currency, r.revenue_minor from product_daily_revenue r "
    "where r.product_id = c.product_id offset 0) as r "
    "cross join lateral (values (c.old_cat, -1), (c.new_cat, 1)) as x(cat, sign) "
    "group by x.cat, r.day, r.currency) "
    "insert into category_daily as g (category, day, currency, revenue_minor) "
    "select cat, day, currency, rev from d "
    "on conflict (category, day, currency) do update set revenue_minor = g.revenue_minor + excluded.revenue_minor";

/* Orders whose "reached paid" changed in the batch and that the fold could not sum itself
 * (placed in an earlier batch, or taken back; SHOP_PROJ_SQL_SALES_FOLDED has the rest): $2 +1 (paid here, $3 the payment's
 * occurred_at) or -1 (a paid order cancelled or rejected; $3 NULL: the payment's day
 * comes from its history row, so the reversal lands on the day of the sale and the
 * totals do not depend on whether a rejection was read before or after the payment).
 * From the order's stored lines (COPYed earlier in this transaction for a new order):
 * units and revenue per product and day, revenue per category, the owner's spend per
 * currency (the order total) and the paid stage of the funnel. Every lookup is a lateral
 * primary-key probe per order or product (the category once per product, not per day and
 * currency of its lines), fenced (limit 1 / offset 0) so the planner
 * cannot flatten it: as a hash join over a young table's estimates the statement read
 * all of order_lines, orders and products for every batch. */
const char SHOP_PROJ_SQL_SALES[] =
    "with s as materialized (select u.order_id, u.sign, floor(coalesce(u.paid_at_ms, "
    "(select min(h.at_ms) from order_status_history h where h.order_id = u.order_id and h.status = 'paid')) "
    "/ 86400000.0)::int as day from unnest($1::text[], $2::int[], $3::bigint[]) as u(order_id, sign, paid_at_ms)), "
    "l as materialized (select ol.product_id, s.day, ol.currency, sum(s.sign * ol.quantity)::bigint as units, "
    "sum(s.sign * ol.quantity * ol.unit_price_minor)::bigint as rev from s cross join lateral "
    "(select ol.product_id, ol.currency, ol.quantity, ol.unit_price_minor from order_lines ol "
    "where ol.order_id = s.order_id offset 0) as ol group by 1, 2, 3), "
    "o as materialized (select o.user_id, o.currency, o.total_minor, s.sign, s.day from s cross join lateral "
    "(select o.user_id, o.currency, o.total_minor from orders o where o.order_id = s.order_id limit 1) as o), "
    "pd as (insert into product_daily as t (product_id, day, units) "
    "select product_id, date '1970-01-01' + day, sum(units)::bigint from l group by 1, 2 "
    "on conflict (product_id, day) do update set units = t.units + excluded.units), "
    "pr as (insert into product_daily_revenue as t (product_id, day, currency, revenue_minor) "
    "select product_id, date '1970-01-01' + day, currency, rev from l "
    "on conflict (product_id, day, currency) do update set revenue_minor = t.revenue_minor + excluded.revenue_minor), "
    "c as materialized (select d.product_id, coalesce(p.category, '') as category from "
    "(select distinct product_id from l) as d left join lateral "
    "(select p.category from products p where p.product_id = d.product_id limit 1) as p on true), "
    "cd as (insert into category_daily as t (category, day, currency, revenue_minor) "
    "select c.category, date '1970-01-01' + l.day, l.currency, sum(l.rev)::bigint "
    "from l join c on c.product_id = l.product_id group by 1, 2, 3 "
    "on conflict (category, day, currency) do update set revenue_minor = t.revenue_minor + excluded.revenue_minor), "
    "us as (insert into user_spend as t (user_id, currency, amount_minor, paid_orders) "
    "select user_id, currency, sum(sign * total_minor)::bigint, sum(sign)::bigint from o group by 1, 2 "
    "on conflict (user_id, currency) do update set amount_minor = t.amount_minor + excluded.amount_minor, "
    "paid_orders = t.paid_orders + excluded.paid_orders) "
    "insert into funnel_daily as t (stage, day, user_id, n) "
    "select 'paid', date '1970-01-01' + day, user_id, sum(sign)::bigint from o group by 2, 3 "
    "on conflict (stage, day, user_id) do update set n = t.n + excluded.n";

/* The sales the fold summed itself (orders placed and paid in the batch, whose lines and
 * total it holds: proj_analytics.c): $1..$4 user_spend rows, $5..$8 product_daily_revenue
 * rows (product, day, currency, revenue), and category_daily from those by each product's
 * category, probed once per product as in SHOP_PROJ_SQL_SALES. Their units and their
 * paid stage travel with the views (SHOP_PROJ_SQL_PRODUCT_VIEWS) and the funnel. */
const char SHOP_PROJ_SQL_SALES_FOLDED[] =
    "with us as (insert into user_spend as t (user_id, currency, amount_minor, paid_orders) "
    "select * from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) "
    "on conflict (user_id, currency) do update set amount_minor = t.amount_minor + excluded.amount_minor, "
    "paid_orders = t.paid_orders + excluded.paid_orders), "
    "r as materialized (select * from unnest($5::text[], $6::int[], $7::text[], $8::bigint[]) "
    "as u(product_id, day, currency, rev)), "
    "c as materialized (select d.product_id, coalesce(p.category, '') as category from "
    "(select distinct product_id from r) as d left join lateral "
    "(select p.category from products p where p.product_id = d.product_id limit 1) as p on true), "
    "pr as (insert into product_daily_revenue as t (product_id, day, currency, revenue_minor) "
    "select product_id, date '1970-01-01' + day, currency, rev from r "
    "on conflict (product_id, day, currency) do update set revenue_minor = t.revenue_minor + excluded.revenue_minor) "
    "insert into category_daily as t (category, day, currency, revenue_minor) "
    "select c.category, date '1970-01-01' + r.day, r.currency, sum(r.rev)::bigint "
    "from r join c on c.product_id = r.product_id group by 1, 2, 3 "
    "on conflict (category, day, currency) do update set revenue_minor = t.revenue_minor + excluded.revenue_minor";

const char SHOP_PROJ_SQL_USER_ACTIVITY[] =
    "insert into user_activity as a (user_id, views, searches, cart_adds, orders, first_seen_ms, last_seen_ms) "
    "select * from unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], "
    "$7::bigint[]) "
    "on conflict (user_id) do update set views = a.views + excluded.views, "
    "searches = a.searches + excluded.searches, cart_adds = a.cart_adds + excluded.cart_adds, "
    "orders = a.orders + excluded.orders, first_seen_ms = least(a.first_seen_ms, excluded.first_seen_ms), "
    "last_seen_ms = greatest(a.last_seen_ms, excluded.last_seen_ms)";

/* Views and the units of the sales the fold summed, one row per (product, day). */
const char SHOP_PROJ_SQL_PRODUCT_VIEWS[] =
    "insert into product_daily as t (product_id, day, views, units) "
    "select u.product_id, date '1970-01-01' + u.day, u.views, u.units "
    "from unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[]) as u(product_id, day, views, units) "
    "on conflict (product_id, day) do update set views = t.views + excluded.views, units = t.units + excluded.units";

const char SHOP_PROJ_SQL_FUNNEL[] =
    "insert into funnel_daily as t (stage, day, user_id, n) "
    "select u.stage, date '1970-01-01' + u.day, u.user_id, u.n "
    "from unnest($1::text[], $2::int[], $3::text[], $4::bigint[]) as u(stage, day, user_id, n) "
    "on conflict (stage, day, user_id) do update set n = t.n + excluded.n";

#define OFFSETS_UPSERT                                                                        \
    "insert into consumer_offsets as o (consumer_group, topic, partition, next_offset, "         \
    "updated_at_ms) "                                                                          \
    "select $1, u.topic, u.partition, u.next_offset, $5::bigint "                              \
    "from unnest($2::text[], $3::int[], $4::bigint[]) as u(topic, partition, next_offset) "    \
    "on conflict (consumer_group, topic, partition) do update set "                            \
    "next_offset = excluded.next_offset, updated_at_ms = excluded.updated_at_ms "

/* Never backwards: a stale owner's late commit. */
const char SHOP_PROJ_SQL_OFFSETS[] = OFFSETS_UPSERT "where o.next_offset <= excluded.next_offset";

/* Backwards too, for the ML role: its lease fences a stale owner, and a replay from a
 * checkpoint rewrites older rows, which these offsets must then describe (read-your-writes
 * checks them in the snapshot of the rows). */
const char SHOP_PROJ_SQL_OFFSETS_SET[] = OFFSETS_UPSERT;

const char SHOP_PROJ_SQL_OFFSETS_READ[] =
    "select u.topic, u.partition, o.next_offset "
    "from unnest($2::text[], $3::int[]) as u(topic, partition) "
    "left join consumer_offsets o on o.consumer_group = $1 and o.topic = u.topic "
    "and o.partition = u.partition";

size_t shop_proj_mark_unapplied(const struct shop_proj_record *recs, size_t n, const char *const *applied_ids,
                                size_t n_applied, struct shop_arena *arena, bool *is_new)
{
    static char mark;
    struct shop_strmap taken;        /* applied before, or claimed by an earlier record */
    size_t count = 0;
    shop_strmap_init(&taken, arena);
    for (size_t i = 0; i < n_applied; i++) {
        if (shop_strmap_get(&taken, applied_ids[i]) == NULL)
            shop_strmap_put(&taken, applied_ids[i], &mark);
    }
    for (size_t i = 0; i < n; i++) {
        const Shopstream__V1__Event *ev = recs[i].ev;
        is_new[i] = false;
        if (ev == NULL || shop_strmap_get(&taken, ev->id) != NULL)
            continue;
        shop_strmap_put(&taken, ev->id, &mark);
        is_new[i] = true;
        count++;
    }
    return count;
}

int32_t shop_proj_bucket(int64_t received_at_ms, int64_t bucket_ms)
{
    int64_t b = received_at_ms > 0 ? received_at_ms / bucket_ms : 0;
    return b < INT32_MAX ? (int32_t)b : INT32_MAX - 1;   /* far-off times: the default partition */
}

static int64_t clamp_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

size_t shop_proj_build_applied_insert(const struct shop_proj_dedup *d, const struct shop_proj_record *recs,
                                      const bool *is_new, size_t n, struct shop_arena *arena,
                                      struct shop_sql_stmt *out)
{
    struct shop_sql_array ids, buckets;
    shop_sql_array_init(&ids, arena);
    shop_sql_array_init(&buckets, arena);
    int64_t min_r = INT64_MAX, max_r = INT64_MIN;
    int32_t own = -1;
    bool one_bucket = true;
    for (size_t i = 0; i < n; i++) {
        if (!is_new[i])
            continue;
        int64_t r = recs[i].ev->received_at_ms;
        int32_t b = shop_proj_bucket(r, d->bucket_ms);
        min_r = r < min_r ? r : min_r;
        max_r = r > max_r ? r : max_r;
        one_bucket = one_bucket && (own < 0 || own == b);
        own = b;
        shop_sql_array_text(&ids, recs[i].ev->id);
        shop_sql_array_int(&buckets, b);
    }
    /* Exact for retries received up to window_ms after the first copy, or up to the edges'
     * clock skew before it (a retry through another edge); looking a whole window ahead
     * would cost one more probe per id for a case that does not arise. */
    int64_t ahead = d->window_ms < SHOP_PROJ_DEDUP_SKEW_MS ? d->window_ms : SHOP_PROJ_DEDUP_SKEW_MS;
    int64_t lo = shop_proj_bucket(clamp_add(min_r, -d->window_ms), d->bucket_ms);
    int64_t hi = shop_proj_bucket(clamp_add(max_r, ahead), d->bucket_ms);
    int64_t r1lo = lo, r1hi = hi, r2lo = 1, r2hi = 0;   /* second range empty */
    if (one_bucket && !d->probe_own) {
        r1hi = own - 1;
        r2lo = own + 1;
        r2hi = hi;
    }
    *out = (struct shop_sql_stmt){.name = "applied_insert", .sql = SHOP_PROJ_SQL_APPLIED_INSERT, .n_params = 7};
    out->params[0] = d->projector;
    out->params[1] = shop_sql_array_end(&ids);
    out->params[2] = shop_sql_array_end(&buckets);
    const int64_t bounds[4] = {r1lo, r1hi, r2lo, r2hi};
    for (int i = 0; i < 4; i++) {
        char *t = shop_arena_alloc(arena, SHOP_I64_TEXT_MAX);
        shop_i64_text(t, bounds[i]);
        out->params[3 + i] = t;
    }
    return ids.n;
}

void shop_proj_dedup_span(int64_t mark_ms, int64_t now_ms, int64_t bucket_ms, int64_t window_ms,
                          int64_t grace_ms, struct shop_proj_dedup_span *out)
{
    /* A receipt time ahead of this clock (a skewed edge) must not drop partitions early. */
    int64_t m = mark_ms < now_ms ? mark_ms : now_ms;
    out->from = shop_proj_bucket(m, bucket_ms);
    out->to = out->from + 1;
    out->drop_before = shop_proj_bucket(clamp_add(m, -clamp_add(window_ms, grace_ms)), bucket_ms);
}

/* The order of a life-cycle step (order_life.h); NULL for any other event (released and
 * committed follow from steps). */
const char *proj_order_id_of(const Shopstream__V1__Event *ev)
{
    enum shop_order_step step;
    return shop_order_step_of(ev, &step) ? shop_event_order_id(ev) : NULL;
}

/* Placements and decisions meet through order_gate; other steps find their order row. */
static bool gated(const Shopstream__V1__Event *ev)
{
    return ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED ||
           ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED ||
           ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED;
}

size_t shop_proj_build_order_read(const struct shop_proj_record *recs, const bool *is_new, size_t n,
                                  struct shop_arena *arena, struct shop_sql_stmt out[2])
{
    static char mark;
    struct shop_sql_array ids, gate;
    struct shop_strmap seen, seen_gate;
    shop_sql_array_init(&ids, arena);
    shop_sql_array_init(&gate, arena);
    shop_strmap_init(&seen, arena);
    shop_strmap_init(&seen_gate, arena);
    for (size_t i = 0; i < n; i++) {
        const char *order_id = is_new[i] ? proj_order_id_of(recs[i].ev) : NULL;
        if (order_id == NULL)
            continue;
        if (gated(recs[i].ev) && shop_strmap_get(&seen_gate, order_id) == NULL) {
            shop_strmap_put(&seen_gate, order_id, &mark);
            shop_sql_array_text(&gate, order_id);
        }
        if (shop_strmap_get(&seen, order_id) != NULL)
            continue;
        shop_strmap_put(&seen, order_id, &mark);
        shop_sql_array_text(&ids, order_id);
    }
    out[0] = (struct shop_sql_stmt){.name = "order_gate", .sql = SHOP_PROJ_SQL_ORDER_GATE, .n_params = 1};
    out[0].params[0] = shop_sql_array_end(&gate);
    out[1] = (struct shop_sql_stmt){.name = "order_read", .sql = SHOP_PROJ_SQL_ORDER_READ, .n_params = 1};
    out[1].params[0] = shop_sql_array_end(&ids);
    return ids.n;
}
