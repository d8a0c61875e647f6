/* SPDX-License-Identifier: MIT
 * The inventory role's fixed SQL texts, the two locking reads that run before the
 * fold, and the plan: one array-parameter statement per kind of write, the outbox
 * rows, the offsets last. Pure; every value travels as a parameter.
 */
#include <assert.h>
#include <string.h>

#include "workers/core/inv_internal.h"
#include "workers/core/sql_array.h"

/* The orders new order events name, locked in order_id order (rows are locked in the
 * order the sort returns them). An order that holds nothing has one row, product NULL. */
const char SHOP_INV_SQL_ORDER_READ[] =
    "select o.order_id, o.user_id, o.status, coalesce(r.state, 'none'), r.product_id, r.quantity "
    "from inventory_orders o left join inventory_reservations r on r.order_id = o.order_id "
    "where o.order_id = any($1::text[]) "
    "order by o.order_id, r.product_id for update of o";

/* Every transaction locks its products in the same (product_id) order after its orders,
 * so two instances reserving the same products across partitions wait for each other
 * instead of deadlocking. */
const char SHOP_INV_SQL_STOCK_LOCK[] =
    "select product_id, on_hand, reserved, low_stock_threshold, price_minor, currency, at_ms "
    "from inventory_stock where product_id = any($1::text[]) "
    "order by product_id for update";

/* Absolute values: the batch locked the rows it read. A product without a row gets one
 * (only catalog events create them). The threshold is the operators'. */
const char SHOP_INV_SQL_STOCK_UPSERT[] =
    "insert into inventory_stock as s (product_id, on_hand, reserved, price_minor, currency, at_ms) "
    "select * from unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[]) "
    "on conflict (product_id) do update set on_hand = excluded.on_hand, reserved = excluded.reserved, "
    "price_minor = coalesce(excluded.price_minor, s.price_minor), "
    "currency = coalesce(excluded.currency, s.currency), "
    "at_ms = greatest(s.at_ms, excluded.at_ms)";

/* No "on conflict": the batch read every order it names FOR UPDATE, so a conflict is a
 * concurrent transaction placing the same id; the batch is then split and the record,
 * consumed again, finds the order and is refused as a duplicate. */
const char SHOP_INV_SQL_ORDERS_INSERT[] =
    "insert into inventory_orders (order_id, user_id, status, outcome, reason, placed_event_id, "
    "placed_at_ms, updated_at_ms) "
    "select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], "
    "$7::bigint[], $8::bigint[])";

const char SHOP_INV_SQL_ORDERS_UPDATE[] =
    "update inventory_orders o set status = u.status, "
    "updated_at_ms = greatest(o.updated_at_ms, u.updated_at_ms) "
    "from unnest($1::text[], $2::text[], $3::bigint[]) as u(order_id, status, updated_at_ms) "
    "where o.order_id = u.order_id";

const char SHOP_INV_SQL_RESERVATIONS_INSERT[] =
    "insert into inventory_reservations (order_id, product_id, quantity, state) "
    "select * from unnest($1::text[], $2::text[], $3::bigint[], $4::text[])";

const char SHOP_INV_SQL_RESERVATIONS_UPDATE[] =
    "update inventory_reservations r set state = u.state "
    "from unnest($1::text[], $2::text[]) as u(order_id, state) where r.order_id = u.order_id";

const char SHOP_INV_SQL_REFUSED_INSERT[] =
    "insert into inventory_refused (event_id, consumer_group, event_type, order_id, user_id, reason, at_ms) "
    "select u.event_id, $1, u.event_type, u.order_id, u.user_id, u.reason, u.at_ms "
    "from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) "
    "as u(event_id, event_type, order_id, user_id, reason, at_ms) "
    "on conflict do nothing";

/* Payloads travel as hex text. An id already waiting (never: the fold decides each
 * outcome once) would be the same event; it is left alone. */
const char SHOP_INV_SQL_OUTBOX_INSERT[] =
    "insert into inventory_outbox (event_id, topic, key, payload, created_at_ms) "
    "select u.event_id, $1, u.key, decode(u.payload, 'hex'), $5::bigint "
    "from unnest($2::uuid[], $3::text[], $4::text[]) as u(event_id, key, payload) "
    "on conflict (event_id) do nothing";

/* The relay's turn, in its own transaction: one relay at a time across instances (a
 * transaction-scoped advisory lock; the others skip their turn), so the outbox goes
 * out in decision order and an order's outcomes reach its partition in order. */
const char SHOP_INV_SQL_RELAY_LOCK[] = "select pg_try_advisory_xact_lock(hashtext('inventory_outbox'))";

const char SHOP_INV_SQL_OUTBOX_READ[] =
    "select id, topic, key, payload from inventory_outbox order by id limit $1::int";

const char SHOP_INV_SQL_OUTBOX_DELETE[] = "delete from inventory_outbox where id = any($1::bigint[])";

/* The outbox depth metric, counted up to $1 rows so a long outage's backlog stays cheap. */
const char SHOP_INV_SQL_OUTBOX_COUNT[] = "select count(*) from (select 1 from inventory_outbox limit $1::int) o";

/* Appends s to a unique list (seen marks the ones taken). */
static void add_unique(struct shop_sql_array *a, struct shop_strmap *seen, const char *s)
{
    static char mark;
    if (s == NULL || s[0] == '\0' || shop_strmap_get(seen, s) != NULL)
        return;
    shop_strmap_put(seen, s, &mark);
    shop_sql_array_text(a, s);
}

size_t shop_inv_build_order_read(const struct shop_proj_record *recs, const bool *is_new, size_t n,
                                 struct shop_arena *arena, struct shop_sql_stmt *out)
{
    struct shop_sql_array ids;
    struct shop_strmap seen;
    shop_sql_array_init(&ids, arena);
    shop_strmap_init(&seen, arena);
    for (size_t i = 0; i < n; i++)
        add_unique(&ids, &seen, is_new[i] ? shop_event_order_id(recs[i].ev) : NULL);   /* "" for the catalog */
    *out = (struct shop_sql_stmt){.name = "inv_order_read", .sql = SHOP_INV_SQL_ORDER_READ, .n_params = 1};
    out->params[0] = shop_sql_array_end(&ids);
    return ids.n;
}

static void add_event_products(struct shop_sql_array *a, struct shop_strmap *seen, const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_UPSERTED:
        add_unique(a, seen, ev->product_upserted->product_id);
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_ADJUSTED:
        add_unique(a, seen, ev->stock_adjusted->product_id);
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED:
        for (size_t i = 0; i < ev->order_placed->n_lines; i++)
            add_unique(a, seen, ev->order_placed->lines[i]->product_id);
        break;
    default:
        break;
    }
}

size_t shop_inv_build_stock_lock(struct shop_inv_fold *f, const struct shop_proj_record *recs, const bool *is_new,
                                 size_t n, struct shop_sql_stmt *out)
{
    struct shop_sql_array ids;
    struct shop_strmap seen;
    shop_sql_array_init(&ids, f->arena);
    shop_strmap_init_seeded(&seen, f->arena, f->seed);
    for (size_t i = 0; i < n; i++) {
        if (is_new[i])
            add_event_products(&ids, &seen, recs[i].ev);
    }
    /* What known orders hold: a cancel or a ship in this batch moves it. */
    for (size_t i = 0; i < f->orders.n; i++) {
        const struct inv_order *o = f->orders.order[i];
        for (size_t j = 0; j < o->n_lines; j++)
            add_unique(&ids, &seen, o->lines[j].product_id);
    }
    *out = (struct shop_sql_stmt){.name = "inv_stock_lock", .sql = SHOP_INV_SQL_STOCK_LOCK, .n_params = 1};
    out->params[0] = shop_sql_array_end(&ids);
    return ids.n;
}

static void plan_stock(const struct shop_inv_fold *f, struct shop_plan *plan)
{
    struct shop_sql_cols b;
    shop_sql_cols_init(&b, f->arena, 6);
    for (size_t i = 0; i < f->products.n; i++) {
        const struct inv_product *p = f->products.order[i];
        if (!p->dirty)
            continue;
        shop_sql_array_text(&b.cols[0], p->product_id);
        shop_sql_array_int(&b.cols[1], p->on_hand);
        shop_sql_array_int(&b.cols[2], p->reserved);
        if (p->has_price)
            shop_sql_array_int(&b.cols[3], p->price_minor);
        else
            shop_sql_array_null(&b.cols[3]);
        shop_sql_array_text(&b.cols[4], p->has_price ? p->currency : NULL);
        shop_sql_array_int(&b.cols[5], p->at_ms);
    }
    shop_sql_cols_emit(&b, plan, "inv_stock_upsert", SHOP_INV_SQL_STOCK_UPSERT, NULL, 0);
}

static void add_new_order(struct shop_sql_cols *ins, struct shop_sql_cols *res, const struct inv_order *o)
{
    bool rejected = o->reason != SHOP_INV_REASON_NONE;
    shop_sql_array_text(&ins->cols[0], o->order_id);
    shop_sql_array_text(&ins->cols[1], o->user_id);
    shop_sql_array_text(&ins->cols[2], shop_order_status_name(o->status));
    shop_sql_array_text(&ins->cols[3], rejected ? "rejected" : "reserved");
    shop_sql_array_text(&ins->cols[4], rejected ? shop_inv_reason_name(o->reason) : NULL);
    shop_sql_array_text(&ins->cols[5], o->placed_event_id);
    shop_sql_array_int(&ins->cols[6], o->placed_at_ms);
    shop_sql_array_int(&ins->cols[7], o->updated_at_ms);
    for (size_t j = 0; j < o->n_lines; j++) {
        shop_sql_array_text(&res->cols[0], o->order_id);
        shop_sql_array_text(&res->cols[1], o->lines[j].product_id);
        shop_sql_array_int(&res->cols[2], o->lines[j].quantity);
        shop_sql_array_text(&res->cols[3], shop_inv_hold_name(o->hold));
    }
}

static void plan_orders(const struct shop_inv_fold *f, struct shop_plan *plan)
{
    struct shop_sql_cols ins, upd, res, res_upd;
    shop_sql_cols_init(&ins, f->arena, 8);
    shop_sql_cols_init(&upd, f->arena, 3);
    shop_sql_cols_init(&res, f->arena, 4);
    shop_sql_cols_init(&res_upd, f->arena, 2);
    for (size_t i = 0; i < f->orders.n; i++) {
        const struct inv_order *o = f->orders.order[i];
        if (!o->stored) {
            add_new_order(&ins, &res, o);
            continue;
        }
        if (o->dirty) {
            shop_sql_array_text(&upd.cols[0], o->order_id);
            shop_sql_array_text(&upd.cols[1], shop_order_status_name(o->status));
            shop_sql_array_int(&upd.cols[2], o->updated_at_ms);
        }
        if (o->hold_changed) {
            shop_sql_array_text(&res_upd.cols[0], o->order_id);
            shop_sql_array_text(&res_upd.cols[1], shop_inv_hold_name(o->hold));
        }
    }
    shop_sql_cols_emit(&ins, plan, "inv_orders_insert", SHOP_INV_SQL_ORDERS_INSERT, NULL, 0);
    shop_sql_cols_emit(&upd, plan, "inv_orders_update", SHOP_INV_SQL_ORDERS_UPDATE, NULL, 0);
    shop_sql_cols_emit(&res, plan, "inv_reservations_insert", SHOP_INV_SQL_RESERVATIONS_INSERT, NULL, 0);
    shop_sql_cols_emit(&res_upd, plan, "inv_reservations_update", SHOP_INV_SQL_RESERVATIONS_UPDATE, NULL, 0);
}

static void plan_refused(const struct shop_inv_fold *f, const char *group, struct shop_plan *plan)
{
    struct shop_sql_cols b;
    shop_sql_cols_init(&b, f->arena, 6);
    for (size_t i = 0; i < f->n_refusals; i++) {
        const struct shop_inv_refused *r = &f->refusals[i];
        shop_sql_array_text(&b.cols[0], r->ev->id);
        shop_sql_array_text(&b.cols[1], r->ev->type);
        shop_sql_array_text(&b.cols[2], r->order_id);
        shop_sql_array_text(&b.cols[3], r->ev->user_id);
        shop_sql_array_text(&b.cols[4], r->reason);
        shop_sql_array_int(&b.cols[5], r->ev->occurred_at_ms);
    }
    const char *scalars[1] = {group};
    shop_sql_cols_emit(&b, plan, "inv_refused_insert", SHOP_INV_SQL_REFUSED_INSERT, scalars, 1);
}

static const char *hex_of(struct shop_arena *arena, const uint8_t *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *s = shop_arena_alloc_uninit(arena, 2 * len + 1);
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[buf[i] >> 4];
        s[2 * i + 1] = digits[buf[i] & 15];
    }
    s[2 * len] = '\0';
    return s;
}

static const char *i64_param(struct shop_arena *arena, int64_t v)
{
    char *t = shop_arena_alloc(arena, SHOP_I64_TEXT_MAX);
    shop_i64_text(t, v);
    return t;
}

static int plan_outbox(const struct shop_inv_fold *f, const char *topic, int64_t now_ms, struct shop_plan *plan,
                       struct shop_err *err)
{
    struct shop_sql_cols b;
    shop_sql_cols_init(&b, f->arena, 3);
    for (size_t i = 0; i < f->n_outcomes; i++) {
        const struct shop_inv_outcome *oc = &f->outcomes[i];
        uint8_t *buf;
        size_t len;
        if (shop_inv_outcome_encode(oc, f->arena, &buf, &len, err) < 0)
            return SHOP_EINVAL;
        shop_sql_array_text(&b.cols[0], oc->event_id);
        shop_sql_array_text(&b.cols[1], oc->key);
        shop_sql_array_text(&b.cols[2], hex_of(f->arena, buf, len));
    }
    /* $1 topic, $2..$4 the rows, $5 the time: the scalar after the arrays. */
    if (b.cols[0].n == 0)
        return 0;
    const char *scalars[1] = {topic};
    shop_sql_cols_emit(&b, plan, "inv_outbox_insert", SHOP_INV_SQL_OUTBOX_INSERT, scalars, 1);
    struct shop_sql_stmt *st = &plan->stmts[plan->n - 1];
    st->params[st->n_params++] = i64_param(f->arena, now_ms);
    return 0;
}

static void plan_offsets(const struct shop_inv_fold *f, const char *group, int64_t now_ms, struct shop_plan *plan)
{
    struct shop_sql_cols b;
    shop_sql_cols_init(&b, f->arena, 3);
    for (size_t i = 0; i < f->offsets.n; i++) {
        const struct inv_offset *o = f->offsets.order[i];
        shop_sql_array_text(&b.cols[0], o->topic);
        shop_sql_array_int(&b.cols[1], o->partition);
        shop_sql_array_int(&b.cols[2], o->next_offset);
    }
    const char *scalars[1] = {group};
    shop_sql_cols_emit(&b, plan, "offsets", SHOP_PROJ_SQL_OFFSETS, scalars, 1);
    if (b.cols[0].n > 0) {
        struct shop_sql_stmt *st = &plan->stmts[plan->n - 1];
        st->params[st->n_params++] = i64_param(f->arena, now_ms);
    }
}

int shop_inv_plan_build(const struct shop_inv_fold *f, const char *group, const char *topic, int64_t now_ms,
                        struct shop_plan *plan, struct shop_err *err)
{
    plan->n = 0;
    plan_stock(f, plan);
    plan_orders(f, plan);
    plan_refused(f, group, plan);
    if (plan_outbox(f, topic, now_ms, plan, err) < 0)
        return SHOP_EINVAL;
    plan_offsets(f, group, now_ms, plan);
    return 0;
}
