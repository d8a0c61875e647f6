/* SPDX-License-Identifier: MIT
 * Turns a fold into statements: one array literal per column, one statement
 * per kind of effect, in an order that respects foreign keys (orders before
 * their lines and history) and the cart composition (clear, then delete, then
 * upserts). Pure.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workers/core/copy_text.h"
#include "workers/core/proj_internal.h"
#include "workers/core/sql_array.h"

static int product_cmp(const void *a, const void *b)
{
    const struct proj_product *const *x = a, *const *y = b;
    return strcmp((*x)->product_id, (*y)->product_id);
}

/* A product's catalog fields travel only when the batch set them (has_catalog); the
 * upsert reads a non-NULL name as that flag. No stock: the inventory worker's. Rows go
 * in product order: every projector of the group updates the same popular products (views
 * and purchases come from every partition), and upserts that lock rows in one order
 * cannot deadlock one another. */
static void plan_products(const struct shop_proj_fold *f, struct shop_plan *plan)
{
    struct shop_sql_cols b;
    shop_sql_cols_init(&b, f->arena, 8);
    const struct proj_product **sorted = shop_arena_alloc(f->arena, (f->products.n + 1) * sizeof(*sorted));
    for (size_t i = 0; i < f->products.n; i++)
        sorted[i] = f->products.order[i];
    qsort(sorted, f->products.n, sizeof(*sorted), product_cmp);
    for (size_t i = 0; i < f->products.n; i++) {
        const struct proj_product *p = sorted[i];
        struct shop_sql_array *c = b.cols;
        assert(!p->has_catalog || p->name != NULL);
        shop_sql_array_text(&c[0], p->product_id);
        shop_sql_array_text(&c[1], p->has_catalog ? p->name : NULL);
        shop_sql_array_text(&c[2], p->has_catalog ? p->category : NULL);
        if (p->has_catalog && p->has_price)
            shop_sql_array_int(&c[3], p->price_minor);
        else
            shop_sql_array_null(&c[3]);
        shop_sql_array_text(&c[4], p->has_catalog ? p->currency : NULL);
        shop_sql_array_int(&c[5], p->views);
        shop_sql_array_int(&c[6], p->purchases);
        shop_sql_array_int(&c[7], p->updated_at_ms);
    }
    shop_sql_cols_emit(&b, plan, "products_upsert", SHOP_PROJ_SQL_PRODUCTS_UPSERT, NULL, 0);
}

static void add_cart_row(struct shop_sql_cols *b, const struct proj_cart_line *l)
{
    shop_sql_array_text(&b->cols[0], l->user_id);
    shop_sql_array_text(&b->cols[1], l->product_id);
    shop_sql_array_int(&b->cols[2], l->quantity);
    if (l->has_price)
        shop_sql_array_int(&b->cols[3], l->price_minor);
    else
        shop_sql_array_null(&b->cols[3]);
    shop_sql_array_text(&b->cols[4], l->has_price ? l->currency : NULL);
    shop_sql_array_int(&b->cols[5], l->updated_at_ms);
}

static void plan_carts(const struct shop_proj_fold *f, struct shop_plan *plan)
{
    struct shop_sql_cols clear, del, set, add, touch;
    shop_sql_cols_init(&clear, f->arena, 1);
    shop_sql_cols_init(&del, f->arena, 2);
    shop_sql_cols_init(&set, f->arena, 6);
    shop_sql_cols_init(&add, f->arena, 6);
    shop_sql_cols_init(&touch, f->arena, 2);
    for (size_t i = 0; i < f->users.n; i++) {
        const struct proj_cart_user *u = f->users.order[i];
        if (u->cleared)
            shop_sql_array_text(&clear.cols[0], u->user_id);
        shop_sql_array_text(&touch.cols[0], u->user_id);
        shop_sql_array_int(&touch.cols[1], u->updated_at_ms);
    }
    for (size_t i = 0; i < f->lines.n; i++) {
        const struct proj_cart_line *l = f->lines.order[i];
        if (l->mode == LINE_ABS && (l->fresh || l->quantity == 0)) {
            shop_sql_array_text(&del.cols[0], l->user_id);
            shop_sql_array_text(&del.cols[1], l->product_id);
        }
        if (l->quantity > 0)
            add_cart_row(l->mode == LINE_ABS ? &set : &add, l);
    }
    shop_sql_cols_emit(&clear, plan, "cart_clear", SHOP_PROJ_SQL_CART_CLEAR, NULL, 0);
    shop_sql_cols_emit(&del, plan, "cart_delete", SHOP_PROJ_SQL_CART_DELETE, NULL, 0);
    shop_sql_cols_emit(&set, plan, "cart_set", SHOP_PROJ_SQL_CART_SET, NULL, 0);
    shop_sql_cols_emit(&add, plan, "cart_add", SHOP_PROJ_SQL_CART_ADD, NULL, 0);
    shop_sql_cols_emit(&touch, plan, "carts_touch", SHOP_PROJ_SQL_CARTS_TOUCH, NULL, 0);
}

static void add_order_lines(struct shop_copy_text *rows, const struct proj_order *o)
{
    for (size_t j = 0; j < o->n_lines; j++) {
        const struct proj_order_line *ol = &o->lines[j];
        shop_copy_text_str(rows, o->order_id);
        shop_copy_text_int(rows, (int64_t)j + 1);
        shop_copy_text_str(rows, ol->product_id);
        shop_copy_text_int(rows, ol->quantity);
        shop_copy_text_int(rows, ol->unit_price_minor);
        shop_copy_text_str(rows, ol->currency);
        shop_copy_text_end_row(rows);
    }
}

/* Appends a COPY ... FROM STDIN statement unless it has no rows. */
static void emit_copy(struct shop_copy_text *rows, struct shop_plan *plan, const char *name, const char *sql)
{
    if (rows->rows == 0)
        return;
    assert(plan->n < SHOP_PLAN_STMTS_MAX);
    struct shop_sql_stmt *st = &plan->stmts[plan->n++];
    *st = (struct shop_sql_stmt){.name = name, .sql = sql};
    st->copy_data = shop_copy_text_data(rows, &st->copy_len);
}

static void plan_orders(const struct shop_proj_fold *f, struct shop_plan *plan)
{
    struct shop_sql_cols ins, upd, hist;
    struct shop_copy_text lines;
    shop_sql_cols_init(&ins, f->arena, 8);
    shop_copy_text_init(&lines, f->arena);
    shop_sql_cols_init(&upd, f->arena, 4);
    shop_sql_cols_init(&hist, f->arena, 4);
    for (size_t i = 0; i < f->orders.n; i++) {
        const struct proj_order *o = f->orders.order[i];
        const char *status = shop_order_status_name(o->status);
        if (o->placed_here) {
            struct shop_sql_array *c = ins.cols;
            shop_sql_array_text(&c[0], o->order_id);
            shop_sql_array_text(&c[1], o->user_id);
            shop_sql_array_text(&c[2], status);
            shop_sql_array_int(&c[3], o->total_minor);
            shop_sql_array_text(&c[4], o->currency);
            shop_sql_array_int(&c[5], o->placed_at_ms);
            shop_sql_array_int(&c[6], o->updated_at_ms);
            shop_sql_array_text(&c[7], o->rejection);
            add_order_lines(&lines, o);
        } else if (o->changed) {
            shop_sql_array_text(&upd.cols[0], o->order_id);
            shop_sql_array_text(&upd.cols[1], status);
            shop_sql_array_int(&upd.cols[2], o->updated_at_ms);
            shop_sql_array_text(&upd.cols[3], o->rejection);
        }
    }
    for (size_t i = 0; i < f->n_history; i++) {
        const struct proj_history *h = &f->history[i];
        shop_sql_array_text(&hist.cols[0], h->order_id);
        shop_sql_array_text(&hist.cols[1], shop_order_status_name(h->status));
        shop_sql_array_int(&hist.cols[2], h->at_ms);
        shop_sql_array_text(&hist.cols[3], h->event_id);
    }
    shop_sql_cols_emit(&ins, plan, "orders_insert", SHOP_PROJ_SQL_ORDERS_INSERT, NULL, 0);
    emit_copy(&lines, plan, "order_lines_copy", SHOP_PROJ_SQL_ORDER_LINES_COPY);
    shop_sql_cols_emit(&upd, plan, "orders_update", SHOP_PROJ_SQL_ORDERS_UPDATE, NULL, 0);
    shop_sql_cols_emit(&hist, plan, "order_history", SHOP_PROJ_SQL_ORDER_HISTORY, NULL, 0);
}

static void add_src(struct shop_sql_array *c, const struct proj_src *s)
{
    shop_sql_array_text(&c[0], s->event_id);
    shop_sql_array_text(&c[1], s->topic);
    shop_sql_array_int(&c[2], s->partition);
    shop_sql_array_int(&c[3], s->offset);
    shop_sql_array_text(&c[4], s->type);
    shop_sql_array_text(&c[5], s->user_id);
    shop_sql_array_text(&c[6], s->actor_role);
    shop_sql_array_int(&c[7], s->at_ms);
}

static const char *int_text(struct shop_arena *arena, int64_t v)
{
    char *t = shop_arena_alloc(arena, SHOP_I64_TEXT_MAX);
    shop_i64_text(t, v);
    return t;
}

/* Refused events, and the decisions parked (consumed here, still waiting) or resolved
 * (parked before, applied here). */
static void plan_refusals_and_parked(const struct shop_proj_fold *f, const char *group, int64_t now_ms,
                                     struct shop_plan *plan)
{
    struct shop_sql_cols ref, ins, del;
    shop_sql_cols_init(&ref, f->arena, 11);
    shop_sql_cols_init(&ins, f->arena, 11);
    shop_sql_cols_init(&del, f->arena, 2);
    for (size_t i = 0; i < f->n_refusals; i++) {
        const struct proj_refusal *r = &f->refusals[i];
        add_src(ref.cols, &r->src);
        shop_sql_array_text(&ref.cols[8], r->order_id);
        shop_sql_array_text(&ref.cols[9], r->reason);
        shop_sql_array_text(&ref.cols[10], shop_order_status_name(r->status));
    }
    for (size_t i = 0; i < f->n_parked; i++) {
        const struct proj_parked *p = f->parked_all[i];
        if (p->stored && p->resolved) {
            shop_sql_array_text(&del.cols[0], p->order_id);
            shop_sql_array_text(&del.cols[1], p->src.event_id);
        } else if (!p->stored && !p->resolved) {
            add_src(ins.cols, &p->src);
            shop_sql_array_text(&ins.cols[8], p->order_id);
            shop_sql_array_text(&ins.cols[9], shop_order_status_name(
                                                  p->step == SHOP_STEP_REJECT ? SHOP_ORDER_REJECTED : SHOP_ORDER_CONFIRMED));
            shop_sql_array_text(&ins.cols[10], p->rejection);
        }
    }
    size_t before = (size_t)plan->n;
    shop_sql_cols_emit(&ref, plan, "refused_insert", SHOP_PROJ_SQL_REFUSED_INSERT, NULL, 0);
    if ((size_t)plan->n > before) {   /* two constants after the arrays */
        struct shop_sql_stmt *st = &plan->stmts[plan->n - 1];
        st->params[st->n_params++] = group;
        st->params[st->n_params++] = int_text(f->arena, now_ms);
    }
    shop_sql_cols_emit(&ins, plan, "parked_insert", SHOP_PROJ_SQL_PARKED_INSERT, NULL, 0);
    shop_sql_cols_emit(&del, plan, "parked_delete", SHOP_PROJ_SQL_PARKED_DELETE, NULL, 0);
    if (f->gated != NULL) {   /* order_gate is empty between transactions */
        assert(plan->n < SHOP_PLAN_STMTS_MAX);
        plan->stmts[plan->n++] = (struct shop_sql_stmt){
            .name = "order_ungate", .sql = SHOP_PROJ_SQL_ORDER_UNGATE, .n_params = 1, .params = {f->gated}};
    }
}

static void plan_offsets(const struct shop_proj_fold *f, const char *group, int64_t now_ms,
                         struct shop_plan *plan)
{
    struct shop_sql_cols b;
    shop_sql_cols_init(&b, f->arena, 3);
    for (size_t i = 0; i < f->offsets.n; i++) {
        const struct proj_offset *o = f->offsets.order[i];
        shop_sql_array_text(&b.cols[0], o->topic);
        shop_sql_array_int(&b.cols[1], o->partition);
        shop_sql_array_int(&b.cols[2], o->next_offset);
    }
    if (b.cols[0].n == 0)
        return;
    struct shop_sql_stmt *st = &plan->stmts[plan->n++];
    *st = (struct shop_sql_stmt){.name = "offsets", .sql = SHOP_PROJ_SQL_OFFSETS, .n_params = 5};
    st->params[0] = group;
    for (int i = 0; i < 3; i++)
        st->params[1 + i] = shop_sql_array_end(&b.cols[i]);
    char *now = shop_arena_alloc(f->arena, 24);
    snprintf(now, 24, "%" PRId64, now_ms);
    st->params[4] = now;
}

int shop_proj_plan_build(const struct shop_proj_fold *f, const char *group, int64_t now_ms,
                         struct shop_plan *plan, struct shop_err *err)
{
    plan->n = 0;
    proj_analytics_plan_before(f, plan);
    plan_products(f, plan);
    plan_carts(f, plan);
    plan_orders(f, plan);
    proj_analytics_plan_after(f, plan);
    plan_refusals_and_parked(f, group, now_ms, plan);
    plan_offsets(f, group, now_ms, plan);
    return 0;
}
