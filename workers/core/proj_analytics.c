/* SPDX-License-Identifier: MIT
 * The projector's activity and analytics models (schema/migrations/0009_analytics.sql):
 * what the fold notes of each applied event, and the statements that apply it. Pure.
 * Semantics: docs/projections.md, "Activity and analytics".
 *
 * In memory: per-user counters and the span seen, per-product daily views, and the
 * funnel stages the events name. Sales (units, revenue, spend, the paid stage) change
 * when an order reaches paid or leaves it; the fold keeps that as a net sign per order
 * and SHOP_PROJ_SQL_SALES turns it into rows from the order's stored lines, in the
 * same transaction.
 */
#include <assert.h>
#include <string.h>

#include "workers/core/proj_internal.h"
#include "workers/core/sql_array.h"

#define DAY_MS INT64_C(86400000)

int32_t proj_utc_day(int64_t ms)
{
    int64_t d = ms / DAY_MS;
    if (ms % DAY_MS < 0)
        d--;   /* rounds down before 1970 too, as floor() in SHOP_PROJ_SQL_SALES */
    return (int32_t)d;
}

/* A key of a string and a day: length-prefixed, so no two pairs collide. */
static const char *day_key(struct shop_arena *arena, char tag, const char *s, int32_t day)
{
    size_t len = strlen(s);
    char *key = shop_arena_alloc(arena, len + 2 * SHOP_I64_TEXT_MAX + 4);
    size_t n = 0;
    key[n++] = tag;
    n += shop_i64_text(key + n, day);
    key[n++] = ':';
    memcpy(key + n, s, len + 1);
    return key;
}

static struct proj_activity *activity_of(struct shop_proj_fold *f, const char *user_id, int64_t at_ms)
{
    struct proj_activity *a = shop_strmap_get(&f->activity, user_id);
    if (a == NULL) {
        a = shop_arena_alloc(f->arena, sizeof(*a));
        *a = (struct proj_activity){.user_id = user_id, .first_ms = at_ms, .last_ms = at_ms};
        shop_strmap_put(&f->activity, user_id, a);
    }
    a->first_ms = at_ms < a->first_ms ? at_ms : a->first_ms;
    a->last_ms = at_ms > a->last_ms ? at_ms : a->last_ms;
    return a;
}

static void funnel_note(struct shop_proj_fold *f, const char *stage, const char *user_id, int64_t at_ms)
{
    int32_t day = proj_utc_day(at_ms);
    const char *key = day_key(f->arena, stage[0], user_id, day);
    struct proj_funnel *s = shop_strmap_get(&f->funnel, key);
    if (s == NULL) {
        s = shop_arena_alloc(f->arena, sizeof(*s));
        *s = (struct proj_funnel){.stage = stage, .user_id = user_id, .day = day};
        shop_strmap_put(&f->funnel, key, s);
    }
    s->n++;
}

static void product_view_note(struct shop_proj_fold *f, const char *product_id, int64_t at_ms)
{
    int32_t day = proj_utc_day(at_ms);
    const char *key = day_key(f->arena, 'v', product_id, day);
    struct proj_product_day *d = shop_strmap_get(&f->product_days, key);
    if (d == NULL) {
        d = shop_arena_alloc(f->arena, sizeof(*d));
        *d = (struct proj_product_day){.product_id = product_id, .day = day};
        shop_strmap_put(&f->product_days, key, d);
    }
    d->views++;
}

/* Only the user's own activity counts as seen: browse, cart and placements. A step of
 * an order may be applied or refused depending on which topic was consumed first (a
 * payment read before or after the inventory's rejection), and is often posted by a
 * service; seen times from it would make a rebuild depend on that interleaving. */
void proj_activity_note(struct shop_proj_fold *f, const Shopstream__V1__Event *ev)
{
    if (ev->user_id == NULL || ev->user_id[0] == '\0')
        return;
    struct proj_activity *a = activity_of(f, ev->user_id, ev->occurred_at_ms);
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED:
        a->views++;
        product_view_note(f, ev->product_viewed->product_id, ev->occurred_at_ms);
        funnel_note(f, "viewed", ev->user_id, ev->occurred_at_ms);
        return;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_SEARCH_PERFORMED:
        a->searches++;
        return;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED:
        a->cart_adds++;
        funnel_note(f, "carted", ev->user_id, ev->occurred_at_ms);
        return;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED:
        a->orders++;
        funnel_note(f, "placed", ev->user_id, ev->occurred_at_ms);
        return;
    default:   /* the other cart events: seen only */
        return;
    }
}

static bool reached_paid(enum shop_order_status s)
{
    return s == SHOP_ORDER_PAID || s == SHOP_ORDER_SHIPPED || s == SHOP_ORDER_DELIVERED;
}

void proj_sale_note(struct proj_order *o, enum shop_order_status next, int64_t at_ms)
{
    bool was = reached_paid(o->status), now = reached_paid(next);
    if (!was && now) {
        o->sale++;
        o->paid_at_ms = at_ms;
    } else if (was && !now) {
        o->sale--;
    }
}

/* Products whose category the batch sets, and products the batch's sales touch: locked
 * first, in product order (analytics_lock_products). */
static void add_locks(const struct shop_proj_fold *f, struct shop_sql_array *ids)
{
    struct shop_strmap seen;
    static char mark;
    shop_strmap_init(&seen, f->arena);
    for (size_t i = 0; i < f->products.n; i++) {
        const struct proj_product *p = f->products.order[i];
        if (p->has_catalog && shop_strmap_get(&seen, p->product_id) == NULL) {
            shop_strmap_put(&seen, p->product_id, &mark);
            shop_sql_array_text(ids, p->product_id);
        }
    }
    for (size_t i = 0; i < f->orders.n; i++) {
        const struct proj_order *o = f->orders.order[i];
        for (size_t j = 0; o->sale != 0 && j < o->n_lines; j++) {
            if (shop_strmap_get(&seen, o->lines[j].product_id) == NULL) {
                shop_strmap_put(&seen, o->lines[j].product_id, &mark);
                shop_sql_array_text(ids, o->lines[j].product_id);
            }
        }
    }
}

void proj_analytics_plan_before(const struct shop_proj_fold *f, struct shop_plan *plan)
{
    struct shop_sql_cols lock, move;
    shop_sql_cols_init(&lock, f->arena, 1);
    shop_sql_cols_init(&move, f->arena, 2);
    add_locks(f, &lock.cols[0]);
    for (size_t i = 0; i < f->products.n; i++) {
        const struct proj_product *p = f->products.order[i];
        if (!p->has_catalog)
            continue;
        shop_sql_array_text(&move.cols[0], p->product_id);
        shop_sql_array_text(&move.cols[1], p->category != NULL ? p->category : "");
    }
    shop_sql_cols_emit(&lock, plan, "products_lock", SHOP_PROJ_SQL_PRODUCTS_LOCK, NULL, 0);
    if (lock.cols[0].n > 0) {   /* a sale or a category move follows: no JIT (proj_sql.c) */
        assert(plan->n < SHOP_PLAN_STMTS_MAX);
        plan->stmts[plan->n++] = (struct shop_sql_stmt){.name = "jit_off", .sql = SHOP_PROJ_SQL_JIT_OFF};
    }
    shop_sql_cols_emit(&move, plan, "category_move", SHOP_PROJ_SQL_CATEGORY_MOVE, NULL, 0);
}

void proj_analytics_plan_after(const struct shop_proj_fold *f, struct shop_plan *plan)
{
    struct shop_sql_cols sales, act, views, fun;
    shop_sql_cols_init(&sales, f->arena, 3);
    shop_sql_cols_init(&act, f->arena, 7);
    shop_sql_cols_init(&views, f->arena, 3);
    shop_sql_cols_init(&fun, f->arena, 4);
    for (size_t i = 0; i < f->orders.n; i++) {
        const struct proj_order *o = f->orders.order[i];
        if (o->sale == 0)
            continue;
        shop_sql_array_text(&sales.cols[0], o->order_id);
        shop_sql_array_int(&sales.cols[1], o->sale);
        if (o->sale > 0)
            shop_sql_array_int(&sales.cols[2], o->paid_at_ms);
        else
            shop_sql_array_null(&sales.cols[2]);   /* paid in an earlier batch: its history row */
    }
    for (size_t i = 0; i < f->activity.n; i++) {
        const struct proj_activity *a = f->activity.order[i];
        struct shop_sql_array *c = act.cols;
        shop_sql_array_text(&c[0], a->user_id);
        shop_sql_array_int(&c[1], a->views);
        shop_sql_array_int(&c[2], a->searches);
        shop_sql_array_int(&c[3], a->cart_adds);
        shop_sql_array_int(&c[4], a->orders);
        shop_sql_array_int(&c[5], a->first_ms);
        shop_sql_array_int(&c[6], a->last_ms);
    }
    for (size_t i = 0; i < f->product_days.n; i++) {
        const struct proj_product_day *d = f->product_days.order[i];
        shop_sql_array_text(&views.cols[0], d->product_id);
        shop_sql_array_int(&views.cols[1], d->day);
        shop_sql_array_int(&views.cols[2], d->views);
    }
    for (size_t i = 0; i < f->funnel.n; i++) {
        const struct proj_funnel *s = f->funnel.order[i];
        shop_sql_array_text(&fun.cols[0], s->stage);
        shop_sql_array_int(&fun.cols[1], s->day);
        shop_sql_array_text(&fun.cols[2], s->user_id);
        shop_sql_array_int(&fun.cols[3], s->n);
    }
    shop_sql_cols_emit(&sales, plan, "sales", SHOP_PROJ_SQL_SALES, NULL, 0);
    shop_sql_cols_emit(&act, plan, "user_activity", SHOP_PROJ_SQL_USER_ACTIVITY, NULL, 0);
    shop_sql_cols_emit(&views, plan, "product_views", SHOP_PROJ_SQL_PRODUCT_VIEWS, NULL, 0);
    shop_sql_cols_emit(&fun, plan, "funnel", SHOP_PROJ_SQL_FUNNEL, NULL, 0);
}
