/* SPDX-License-Identifier: MIT
 * The projector's fixed SQL texts and the two statements that run before the
 * fold (dedup, order read). Pure. Every value travels as an array parameter;
 * nothing is ever pasted into SQL text.
 */
#include <string.h>

#include "workers/core/proj.h"
#include "workers/core/sql_array.h"
#include "workers/core/strmap.h"

/* Which ids were applied before: one primary-key probe per id (the lateral limit 1
 * keeps it a probe: "event_id = any($2)" was planned as a scan of the group's whole
 * index while the table was young). Only run once a batch hit the key. */
const char SHOP_PROJ_SQL_DEDUP[] =
    "select u.event_id from unnest($2::uuid[]) as u(event_id), lateral "
    "(select 1 from applied_events a where a.projector = $1 and a.event_id = u.event_id limit 1) as hit";

/* A plain insert, not "on conflict do nothing returning": no speculative insertion per
 * row and no rows back, so it can share a pipeline with begin and the order read. The
 * primary key decides; a conflict fails the batch's attempt (see workers/projector.c). */
const char SHOP_PROJ_SQL_APPLIED_INSERT[] =
    "insert into applied_events (projector, event_id, topic, partition, kafka_offset) "
    "select $1, u.event_id, u.topic, u.partition, u.kafka_offset "
    "from unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[]) "
    "as u(event_id, topic, partition, kafka_offset)";

const char SHOP_PROJ_SQL_ORDER_READ[] =
    "select o.order_id, o.status, l.product_id, l.quantity "
    "from orders o left join order_lines l on l.order_id = o.order_id "
    "where o.order_id = any($1::text[]) "
    "order by o.order_id, l.line_no for update of o";

/* One upsert per product. The catalog fields and an absolute stock come only with a
 * catalog.product_upserted, whose name the validator requires (never empty), so a
 * non-NULL name is what says "this batch set the catalog": the plan sends NULL names
 * for every other product. */
const char SHOP_PROJ_SQL_PRODUCTS_UPSERT[] =
    "insert into products as p (product_id, name, category, price_minor, currency, stock, views, "
    "purchases, updated_at_ms) "
    "select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], "
    "$7::bigint[], $8::bigint[], $9::bigint[]) "
    "on conflict (product_id) do update set "
    "name = coalesce(excluded.name, p.name), "
    "category = case when excluded.name is null then p.category else excluded.category end, "
    "price_minor = case when excluded.name is null then p.price_minor else excluded.price_minor end, "
    "currency = case when excluded.name is null then p.currency else excluded.currency end, "
    "stock = case when excluded.name is null then p.stock + excluded.stock else excluded.stock end, "
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
    "updated_at_ms) "
    "select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], "
    "$6::bigint[], $7::bigint[]) "
    "on conflict do nothing";

/* The lines of orders inserted by this batch, which read every order it names FOR
 * UPDATE first: no line of them can exist. Should another transaction insert the same
 * order in between, the primary key fails the COPY, the batch rolls back and, consumed
 * again, finds the order and leaves it alone. */
const char SHOP_PROJ_SQL_ORDER_LINES_COPY[] =
    "copy order_lines (order_id, line_no, product_id, quantity, unit_price_minor, currency) from stdin";

const char SHOP_PROJ_SQL_ORDERS_UPDATE[] =
    "update orders o set status = u.status, "
    "updated_at_ms = greatest(o.updated_at_ms, u.updated_at_ms) "
    "from unnest($1::text[], $2::text[], $3::bigint[]) as u(order_id, status, updated_at_ms) "
    "where o.order_id = u.order_id";

const char SHOP_PROJ_SQL_ORDER_HISTORY[] =
    "insert into order_status_history (order_id, status, at_ms, event_id) "
    "select * from unnest($1::text[], $2::text[], $3::bigint[], $4::uuid[]) "
    "on conflict do nothing";

const char SHOP_PROJ_SQL_OFFSETS[] =
    "insert into consumer_offsets as o (consumer_group, topic, partition, next_offset, "
    "updated_at_ms) "
    "select $1, u.topic, u.partition, u.next_offset, $5::bigint "
    "from unnest($2::text[], $3::int[], $4::bigint[]) as u(topic, partition, next_offset) "
    "on conflict (consumer_group, topic, partition) do update set "
    "next_offset = excluded.next_offset, updated_at_ms = excluded.updated_at_ms "
    "where o.next_offset <= excluded.next_offset";   /* never backwards: a stale owner's late commit */

const char SHOP_PROJ_SQL_OFFSETS_READ[] =
    "select u.topic, u.partition, o.next_offset "
    "from unnest($2::text[], $3::int[]) as u(topic, partition) "
    "left join consumer_offsets o on o.consumer_group = $1 and o.topic = u.topic "
    "and o.partition = u.partition";

size_t shop_proj_build_dedup(const char *group, const struct shop_proj_record *recs, size_t n,
                             struct shop_arena *arena, struct shop_sql_stmt *out)
{
    static char mark;
    struct shop_sql_array ids;
    struct shop_strmap seen;
    shop_sql_array_init(&ids, arena);
    shop_strmap_init(&seen, arena);
    for (size_t i = 0; i < n; i++) {
        const Shopstream__V1__Event *ev = recs[i].ev;
        if (ev == NULL || shop_strmap_get(&seen, ev->id) != NULL)
            continue;
        shop_strmap_put(&seen, ev->id, &mark);
        shop_sql_array_text(&ids, ev->id);
    }
    *out = (struct shop_sql_stmt){.name = "dedup", .sql = SHOP_PROJ_SQL_DEDUP, .n_params = 2};
    out->params[0] = group;
    out->params[1] = shop_sql_array_end(&ids);
    return ids.n;
}

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

size_t shop_proj_build_applied_insert(const char *group, const struct shop_proj_record *recs, const bool *is_new,
                                      size_t n, struct shop_arena *arena, struct shop_sql_stmt *out)
{
    struct shop_sql_array ids, topics, parts, offs;
    shop_sql_array_init(&ids, arena);
    shop_sql_array_init(&topics, arena);
    shop_sql_array_init(&parts, arena);
    shop_sql_array_init(&offs, arena);
    for (size_t i = 0; i < n; i++) {
        if (!is_new[i])
            continue;
        shop_sql_array_text(&ids, recs[i].ev->id);
        shop_sql_array_text(&topics, recs[i].topic);
        shop_sql_array_int(&parts, recs[i].partition);
        shop_sql_array_int(&offs, recs[i].offset);
    }
    *out = (struct shop_sql_stmt){.name = "applied_insert", .sql = SHOP_PROJ_SQL_APPLIED_INSERT, .n_params = 5};
    out->params[0] = group;
    out->params[1] = shop_sql_array_end(&ids);
    out->params[2] = shop_sql_array_end(&topics);
    out->params[3] = shop_sql_array_end(&parts);
    out->params[4] = shop_sql_array_end(&offs);
    return ids.n;
}

static const char *order_id_of(const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED:
        return ev->order_placed->order_id;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PAID:
        return ev->order_paid->order_id;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_SHIPPED:
        return ev->order_shipped->order_id;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_DELIVERED:
        return ev->order_delivered->order_id;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_CANCELLED:
        return ev->order_cancelled->order_id;
    default:
        return NULL;
    }
}

size_t shop_proj_build_order_read(const struct shop_proj_record *recs, const bool *is_new, size_t n,
                                  struct shop_arena *arena, struct shop_sql_stmt *out)
{
    static char mark;
    struct shop_sql_array ids;
    struct shop_strmap seen;
    shop_sql_array_init(&ids, arena);
    shop_strmap_init(&seen, arena);
    for (size_t i = 0; i < n; i++) {
        const char *order_id = is_new[i] ? order_id_of(recs[i].ev) : NULL;
        if (order_id == NULL || shop_strmap_get(&seen, order_id) != NULL)
            continue;
        shop_strmap_put(&seen, order_id, &mark);
        shop_sql_array_text(&ids, order_id);
    }
    *out = (struct shop_sql_stmt){.name = "order_read", .sql = SHOP_PROJ_SQL_ORDER_READ, .n_params = 1};
    out->params[0] = shop_sql_array_end(&ids);
    return ids.n;
}
