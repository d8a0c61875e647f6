/* SPDX-License-Identifier: MIT
 * The projector's activity and analytics models (schema/migrations/0009_analytics.sql):
 * what the fold notes of each applied event, and the statements that apply it. Pure.
 * Semantics: docs/projections.md, "Activity and analytics".
 *
 * In memory: per-user counters and the span seen, per-product daily views, and the
 * funnel stages the events name. Sales (units, revenue, spend, the paid stage) change
 * when an order reaches paid or leaves it; the fold keeps that as a net sign per order.
 * An order placed and paid in the batch is summed here, from the lines and total the
 * fold holds (SHOP_PROJ_SQL_SALES_FOLDED, the views and funnel statements); any other
 * (paid later, or taken back) SHOP_PROJ_SQL_SALES turns into rows from the order's
 * stored lines, in the same transaction.
 */
#include <assert.h>
#include <stdlib.h>
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

/* Every product row the batch will write (products_upsert) and the products its sales
 * touch: locked first, in product order, in one statement (analytics_lock_products).
 * Every projector of a group writes the same popular products, and a transaction that
 * locked some of them here and the rest later in the upsert could hold a row another
 * one's upsert waits for while waiting for one it holds: 40P01, seen when three projectors
 * shared a stream. Returns whether a sale or a category move follows (they need the
 * lock for category_daily, proj_sql.c). */
static bool add_locks(const struct shop_proj_fold *f, struct shop_sql_array *ids)
{
    struct shop_strmap seen;
    static char mark;
    bool moves_or_sales = false;
    shop_strmap_init(&seen, f->arena);
    for (size_t i = 0; i < f->products.n; i++) {
        const struct proj_product *p = f->products.order[i];
        moves_or_sales |= p->has_catalog;
        if (shop_strmap_get(&seen, p->product_id) == NULL) {
            shop_strmap_put(&seen, p->product_id, &mark);
            shop_sql_array_text(ids, p->product_id);
        }
    }
    for (size_t i = 0; i < f->orders.n; i++) {
        const struct proj_order *o = f->orders.order[i];
        for (size_t j = 0; o->sale != 0 && j < o->n_lines; j++) {
            moves_or_sales = true;
            if (shop_strmap_get(&seen, o->lines[j].product_id) == NULL) {
                shop_strmap_put(&seen, o->lines[j].product_id, &mark);
                shop_sql_array_text(ids, o->lines[j].product_id);
            }
        }
    }
    return moves_or_sales;
}

void proj_analytics_plan_before(const struct shop_proj_fold *f, struct shop_plan *plan)
{
    struct shop_sql_cols lock, move;
    shop_sql_cols_init(&lock, f->arena, 1);
    shop_sql_cols_init(&move, f->arena, 2);
    bool moves_or_sales = add_locks(f, &lock.cols[0]);
    for (size_t i = 0; i < f->products.n; i++) {
        const struct proj_product *p = f->products.order[i];
        if (!p->has_catalog)
            continue;
        shop_sql_array_text(&move.cols[0], p->product_id);
        shop_sql_array_text(&move.cols[1], p->category != NULL ? p->category : "");
    }
    shop_sql_cols_emit(&lock, plan, "products_lock", SHOP_PROJ_SQL_PRODUCTS_LOCK, NULL, 0);
    if (moves_or_sales) {   /* a sale or a category move follows: no JIT (proj_sql.c) */
        assert(plan->n < SHOP_PLAN_STMTS_MAX);
        plan->stmts[plan->n++] = (struct shop_sql_stmt){.name = "jit_off", .sql = SHOP_PROJ_SQL_JIT_OFF};
    }
    shop_sql_cols_emit(&move, plan, "category_move", SHOP_PROJ_SQL_CATEGORY_MOVE, NULL, 0);
}

/* Sales the fold sums itself: orders placed and paid in this batch, whose lines, prices
 * and total it holds (the others' come from their stored rows: SHOP_PROJ_SQL_SALES). */
struct sale_units {
    const char *product_id;
    int32_t day;
    int64_t units;
};
struct sale_rev {
    const char *product_id, *currency;
    int32_t day;
    int64_t rev;
};
struct sale_spend {
    const char *user_id, *currency;
    int64_t amount, orders;
};
struct sale_paid {
    const char *user_id;
    int32_t day;
    int64_t n;
};
struct sales_fold {
    struct shop_strmap units, rev, spend, paid;   /* in first-seen order */
    uint64_t budget;   /* |units|, |revenue| and |totals| summed so far: every sum stays below it */
};

/* A key of a day and two strings, the first length-prefixed: no two triples collide. */
static const char *key3(struct shop_arena *arena, char tag, int32_t day, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *key = shop_arena_alloc(arena, la + lb + 2 * SHOP_I64_TEXT_MAX + 4);
    size_t n = 0;
    key[n++] = tag;
    n += shop_i64_text(key + n, day);
    key[n++] = ':';
    n += shop_i64_text(key + n, (int64_t)la);
    key[n++] = ':';
    memcpy(key + n, a, la);
    memcpy(key + n + la, b, lb + 1);
    return key;
}

static uint64_t mag(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

#define SALES_BUDGET (UINT64_C(1) << 62)   /* below INT64_MAX: no sum of the fold overflows */

/* Whether the order's sums fit the budget; if so, charges it. Past it (absurd prices or
 * quantities) the order goes to SQL, which fails the batch as it always did. */
static bool sales_charge(struct sales_fold *s, const struct proj_order *o)
{
    uint64_t need = mag(o->total_minor);
    if (need >= SALES_BUDGET)
        return false;
    for (size_t j = 0; j < o->n_lines; j++) {
        uint64_t q = mag(o->lines[j].quantity), p = mag(o->lines[j].unit_price_minor);
        if (q >= (UINT64_C(1) << 31) || p >= (UINT64_C(1) << 31))
            return false;
        need += q + q * p;   /* each below 2^62 + 2^31: no wrap */
        if (need >= SALES_BUDGET)
            return false;
    }
    if (s->budget + need >= SALES_BUDGET)
        return false;
    s->budget += need;
    return true;
}

static void sales_add(const struct shop_proj_fold *f, struct sales_fold *s, const struct proj_order *o)
{
    int32_t day = proj_utc_day(o->paid_at_ms);
    for (size_t j = 0; j < o->n_lines; j++) {
        const struct proj_order_line *l = &o->lines[j];
        const char *ku = day_key(f->arena, 'u', l->product_id, day);
        struct sale_units *u = shop_strmap_get(&s->units, ku);
        if (u == NULL) {
            u = shop_arena_alloc(f->arena, sizeof(*u));
            *u = (struct sale_units){.product_id = l->product_id, .day = day};
            shop_strmap_put(&s->units, ku, u);
        }
        u->units += l->quantity;
        const char *kr = key3(f->arena, 'r', day, l->currency, l->product_id);
        struct sale_rev *r = shop_strmap_get(&s->rev, kr);
        if (r == NULL) {
            r = shop_arena_alloc(f->arena, sizeof(*r));
            *r = (struct sale_rev){.product_id = l->product_id, .currency = l->currency, .day = day};
            shop_strmap_put(&s->rev, kr, r);
        }
        r->rev += l->quantity * l->unit_price_minor;
    }
    const char *ks = key3(f->arena, 's', 0, o->currency, o->user_id);
    struct sale_spend *sp = shop_strmap_get(&s->spend, ks);
    if (sp == NULL) {
        sp = shop_arena_alloc(f->arena, sizeof(*sp));
        *sp = (struct sale_spend){.user_id = o->user_id, .currency = o->currency};
        shop_strmap_put(&s->spend, ks, sp);
    }
    sp->amount += o->total_minor;
    sp->orders++;
    const char *kp = day_key(f->arena, 'P', o->user_id, day);
    struct sale_paid *pd = shop_strmap_get(&s->paid, kp);
    if (pd == NULL) {
        pd = shop_arena_alloc(f->arena, sizeof(*pd));
        *pd = (struct sale_paid){.user_id = o->user_id, .day = day};
        shop_strmap_put(&s->paid, kp, pd);
    }
    pd->n++;
}

struct day_row {
    const char *product_id;
    int32_t day;
    int64_t views, units;
};

static int day_row_cmp(const void *a, const void *b)
{
    const struct day_row *x = a, *y = b;
    int c = strcmp(x->product_id, y->product_id);
    return c != 0 ? c : (x->day > y->day) - (x->day < y->day);
}

/* The daily rows: views, with the units of the folded sales on the same (product, day),
 * and the units of the other days; in key order, so that the upsert walks the primary
 * key's leaves once instead of jumping between them for every row. */
static void plan_product_days(const struct shop_proj_fold *f, const struct sales_fold *s, struct shop_plan *plan)
{
    struct shop_sql_cols views;
    struct shop_strmap taken;
    static char mark;
    size_t n = 0;
    struct day_row *rows = shop_arena_alloc(f->arena, (f->product_days.n + s->units.n + 1) * sizeof(*rows));
    shop_sql_cols_init(&views, f->arena, 4);
    shop_strmap_init(&taken, f->arena);
    for (size_t i = 0; i < f->product_days.n; i++) {
        const struct proj_product_day *d = f->product_days.order[i];
        const char *ku = day_key(f->arena, 'u', d->product_id, d->day);
        const struct sale_units *u = shop_strmap_get(&s->units, ku);
        if (u != NULL)
            shop_strmap_put(&taken, ku, &mark);
        rows[n++] = (struct day_row){d->product_id, d->day, d->views, u != NULL ? u->units : 0};
    }
    for (size_t i = 0; i < s->units.n; i++) {
        const struct sale_units *u = s->units.order[i];
        if (shop_strmap_get(&taken, day_key(f->arena, 'u', u->product_id, u->day)) == NULL)
            rows[n++] = (struct day_row){u->product_id, u->day, 0, u->units};
    }
    qsort(rows, n, sizeof(*rows), day_row_cmp);
    for (size_t i = 0; i < n; i++) {
        shop_sql_array_text(&views.cols[0], rows[i].product_id);
        shop_sql_array_int(&views.cols[1], rows[i].day);
        shop_sql_array_int(&views.cols[2], rows[i].views);
        shop_sql_array_int(&views.cols[3], rows[i].units);
    }
    shop_sql_cols_emit(&views, plan, "product_views", SHOP_PROJ_SQL_PRODUCT_VIEWS, NULL, 0);
}

static int sale_rev_cmp(const void *a, const void *b)
{
    const struct sale_rev *x = *(const struct sale_rev *const *)a, *y = *(const struct sale_rev *const *)b;
    int c = strcmp(x->product_id, y->product_id);
    if (c == 0)
        c = (x->day > y->day) - (x->day < y->day);
    return c != 0 ? c : strcmp(x->currency, y->currency);
}

static void plan_sales_folded(const struct shop_proj_fold *f, const struct sales_fold *s, struct shop_plan *plan)
{
    struct shop_sql_cols c;   /* spend first: there is a spend row whenever there is a revenue row */
    shop_sql_cols_init(&c, f->arena, 8);
    for (size_t i = 0; i < s->spend.n; i++) {
        const struct sale_spend *sp = s->spend.order[i];
        shop_sql_array_text(&c.cols[0], sp->user_id);
        shop_sql_array_text(&c.cols[1], sp->currency);
        shop_sql_array_int(&c.cols[2], sp->amount);
        shop_sql_array_int(&c.cols[3], sp->orders);
    }
    const struct sale_rev **revs = shop_arena_alloc(f->arena, (s->rev.n + 1) * sizeof(*revs));
    for (size_t i = 0; i < s->rev.n; i++)
        revs[i] = s->rev.order[i];
    qsort(revs, s->rev.n, sizeof(*revs), sale_rev_cmp);   /* key order, as the daily rows */
    for (size_t i = 0; i < s->rev.n; i++) {
        const struct sale_rev *r = revs[i];
        shop_sql_array_text(&c.cols[4], r->product_id);
        shop_sql_array_int(&c.cols[5], r->day);
        shop_sql_array_text(&c.cols[6], r->currency);
        shop_sql_array_int(&c.cols[7], r->rev);
    }
    shop_sql_cols_emit(&c, plan, "sales_folded", SHOP_PROJ_SQL_SALES_FOLDED, NULL, 0);
}

void proj_analytics_plan_after(const struct shop_proj_fold *f, struct shop_plan *plan)
{
    struct shop_sql_cols sales, act, fun;
    struct sales_fold folded = {.budget = 0};
    shop_sql_cols_init(&sales, f->arena, 3);
    shop_sql_cols_init(&act, f->arena, 7);
    shop_sql_cols_init(&fun, f->arena, 4);
    shop_strmap_init(&folded.units, f->arena);
    shop_strmap_init(&folded.rev, f->arena);
    shop_strmap_init(&folded.spend, f->arena);
    shop_strmap_init(&folded.paid, f->arena);
    for (size_t i = 0; i < f->orders.n; i++) {
        const struct proj_order *o = f->orders.order[i];
        if (o->sale == 0)
            continue;
        if (o->placed_here && o->sale > 0 && sales_charge(&folded, o)) {
            sales_add(f, &folded, o);
            continue;
        }
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
    for (size_t i = 0; i < f->funnel.n; i++) {
        const struct proj_funnel *s = f->funnel.order[i];
        shop_sql_array_text(&fun.cols[0], s->stage);
        shop_sql_array_int(&fun.cols[1], s->day);
        shop_sql_array_text(&fun.cols[2], s->user_id);
        shop_sql_array_int(&fun.cols[3], s->n);
    }
    for (size_t i = 0; i < folded.paid.n; i++) {   /* not in f->funnel, which has no paid stage */
        const struct sale_paid *p = folded.paid.order[i];
        shop_sql_array_text(&fun.cols[0], "paid");
        shop_sql_array_int(&fun.cols[1], p->day);
        shop_sql_array_text(&fun.cols[2], p->user_id);
        shop_sql_array_int(&fun.cols[3], p->n);
    }
    shop_sql_cols_emit(&sales, plan, "sales", SHOP_PROJ_SQL_SALES, NULL, 0);
    plan_sales_folded(f, &folded, plan);
    shop_sql_cols_emit(&act, plan, "user_activity", SHOP_PROJ_SQL_USER_ACTIVITY, NULL, 0);
    plan_product_days(f, &folded, plan);
    shop_sql_cols_emit(&fun, plan, "funnel", SHOP_PROJ_SQL_FUNNEL, NULL, 0);
}
