/* SPDX-License-Identifier: MIT
 * SQL for the read endpoints, their parameters, and the response shaping. Pure.
 * PostgreSQL builds the JSON itself so no value passes through string pasting on
 * either side; only a page's "next" cursor is added here (jansson). */
#include "edge/core/edge_reads.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"

#define MONEY(a, c) "case when " a " is null then null else json_build_object('amount_minor', " a \
                    ", 'currency', rtrim(" c ")) end"

static const char sql_cart[] =
    "select json_build_object('user_id', $1::text, 'items', coalesce((select json_agg("
    "json_build_object('product_id', product_id, 'quantity', quantity, 'unit_price', "
    MONEY("unit_price_minor", "currency") ") order by product_id) from cart_items "
    "where user_id = $1::text), '[]'::json), 'updated_at', "
    "(select updated_at_ms from carts where user_id = $1::text))::text";

/* Keyset pagination: one order more than the page is read to know whether another page
 * follows; the page's last key then comes back in columns 2 and 3 (NULL on the last
 * page). "After the cursor" in the page order (placed_at desc, order_id asc) is
 * (placed_at < c) or (placed_at = c and order_id > c_id); the redundant placed_at <= c
 * lets orders_user_idx (user_id, placed_at_ms desc) bound the scan. An order inserted
 * meanwhile lands before or after the cursor and never shifts the pages: no OFFSET. */
static const char sql_orders[] =
    "with o as (select order_id, status, total_minor, currency, placed_at_ms, updated_at_ms, "
    "row_number() over (order by placed_at_ms desc, order_id) as n from (select * from orders "
    "where user_id = $1::text and ($3::bigint is null or (placed_at_ms <= $3::bigint and "
    "(placed_at_ms < $3::bigint or order_id > $4::text))) "
    "order by placed_at_ms desc, order_id limit $2::int + 1) page), "
    "last as (select placed_at_ms, order_id from o where n = $2::int "
    "and exists (select 1 from o where n > $2::int)) "
    "select json_build_object('user_id', $1::text, 'orders', coalesce((select json_agg("
    "json_build_object('order_id', order_id, 'status', status, 'total', "
    MONEY("total_minor", "currency") ", 'placed_at', placed_at_ms, 'updated_at', updated_at_ms) "
    "order by n) from o where n <= $2::int), '[]'::json))::text, "
    "(select placed_at_ms from last)::text, (select order_id from last)";

/* history: every applied step, in the order the projector lists them (at_ms, event_id);
 * rejection: orders.rejection (migration 0006), null unless the order was rejected. */
static const char sql_order[] =
    "select json_build_object('order_id', o.order_id, 'user_id', o.user_id, 'status', o.status, "
    "'lines', coalesce((select json_agg(json_build_object('product_id', l.product_id, "
    "'quantity', l.quantity, 'unit_price', " MONEY("l.unit_price_minor", "l.currency")
    ") order by l.line_no) from order_lines l where l.order_id = o.order_id), '[]'::json), "
    "'total', " MONEY("o.total_minor", "o.currency") ", 'rejection', o.rejection, "
    "'history', coalesce((select json_agg("
    "json_build_object('status', h.status, 'at', h.at_ms) order by h.at_ms, h.event_id) "
    "from order_status_history h where h.order_id = o.order_id), '[]'::json), "
    "'placed_at', o.placed_at_ms, 'updated_at', o.updated_at_ms)::text "
    "from orders o where o.order_id = $1::text and ($2::text is null or o.user_id = $2::text)";

/* Stock from the inventory worker's inventory_stock (its only writer), never the
 * projector's old products.stock; 0 for a product the inventory has not seen. */
static const char sql_product[] =
    "select json_build_object('product_id', p.product_id, 'name', p.name, "
    "'category', p.category, 'price', " MONEY("p.price_minor", "p.currency") ", "
    "'on_hand', coalesce(s.on_hand, 0), 'reserved', coalesce(s.reserved, 0), "
    "'available', coalesce(s.available, 0), 'views', p.views, 'purchases', p.purchases)::text "
    "from products p left join inventory_stock s on s.product_id = p.product_id "
    "where p.product_id = $1::text";

static const char sql_ready[] = "select 1::text";

/* ?limit=: decimal, 1..SHOP_READ_LIMIT_MAX. */
static int parse_limit(const char *s, int *out)
{
    int v = 0;
    if (*s == '\0')
        return SHOP_EINVAL;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return SHOP_EINVAL;
        v = v * 10 + (*s - '0');
        if (v > SHOP_READ_LIMIT_MAX)
            return SHOP_EINVAL;
    }
    if (v < 1)
        return SHOP_EINVAL;
    *out = v;
    return 0;
}

static int init_page(struct shop_edge_read_req *r, const struct shop_edge_match *m,
                     const char **field, struct shop_err *err)
{
    r->limit = SHOP_READ_LIMIT_DEFAULT;
    const char *limit = m != NULL ? shop_edge_match_arg(m, SHOP_ARG_LIMIT) : NULL;
    const char *cursor = m != NULL ? shop_edge_match_arg(m, SHOP_ARG_CURSOR) : NULL;
    if (limit != NULL && parse_limit(limit, &r->limit) != 0) {
        *field = "limit";
        return shop_err_set(err, SHOP_EINVAL, "must be an integer from 1 to %d",
                            SHOP_READ_LIMIT_MAX);
    }
    if (cursor != NULL && shop_edge_cursor_decode(cursor, &r->cursor) != 0) {
        *field = "cursor";
        return shop_err_set(err, SHOP_EINVAL, "not a cursor this endpoint returned");
    }
    r->has_cursor = cursor != NULL;
    snprintf(r->limit_text, sizeof(r->limit_text), "%d", r->limit);
    snprintf(r->cursor_at_text, sizeof(r->cursor_at_text), "%" PRId64, r->cursor.placed_at_ms);
    return 0;
}

int shop_edge_read_init(struct shop_edge_read_req *r, enum shop_edge_read kind, const char *user,
                        bool admin, const struct shop_edge_match *m, const char **field,
                        struct shop_err *err)
{
    memset(r, 0, sizeof(*r));
    *field = "";
    if ((unsigned)kind >= SHOP_READ_COUNT || user == NULL || strlen(user) > SHOP_READ_USER_MAX)
        return shop_err_set(err, SHOP_EINVAL, "bad read request");
    r->kind = kind;
    r->admin = admin;
    memcpy(r->user, user, strlen(user));
    if (m != NULL && m->param != NULL) {
        if (m->param_len > SHOP_ROUTE_ID_MAX)
            return shop_err_set(err, SHOP_EINVAL, "bad read request");
        memcpy(r->id, m->param, m->param_len);
    }
    return kind == SHOP_READ_ORDERS ? init_page(r, m, field, err) : 0;
}

int shop_edge_query_build(const struct shop_edge_read_req *r, struct shop_edge_query *q)
{
    memset(q, 0, sizeof(*q));
    switch (r->kind) {
    case SHOP_READ_CART:
        q->sql = sql_cart;
        q->n_params = 1;
        q->params[0] = r->user;
        return r->user[0] != '\0' ? 0 : SHOP_EINVAL;
    case SHOP_READ_ORDERS:
        q->sql = sql_orders;
        q->n_params = 4;
        q->params[0] = r->user;
        q->params[1] = r->limit_text;
        q->params[2] = r->has_cursor ? r->cursor_at_text : NULL;
        q->params[3] = r->has_cursor ? r->cursor.order_id : NULL;
        return r->user[0] != '\0' && r->limit >= 1 ? 0 : SHOP_EINVAL;
    case SHOP_READ_ORDER:
        q->sql = sql_order;
        q->n_params = 2;
        q->params[0] = r->id;
        q->params[1] = r->admin ? NULL : r->user;
        return r->id[0] != '\0' && (r->admin || r->user[0] != '\0') ? 0 : SHOP_EINVAL;
    case SHOP_READ_PRODUCT:
        q->sql = sql_product;
        q->n_params = 1;
        q->params[0] = r->id;
        return r->id[0] != '\0' ? 0 : SHOP_EINVAL;
    case SHOP_READ_READY:
        q->sql = sql_ready;
        return 0;
    default:
        return SHOP_EINVAL;
    }
}

/* The page's body with "next" set: the cursor after its last order, or null. */
static int shape_page(const char *const *cols, int n_cols, char **json)
{
    if (n_cols != 3)
        return SHOP_EINVAL;
    json_t *body = json_loads(cols[0], JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body))
        goto out_decref;
    json_t *next = json_null();
    if (cols[1] != NULL && cols[2] != NULL) {
        struct shop_edge_cursor c = {0};
        char text[SHOP_EDGE_CURSOR_MAX], *end;
        c.placed_at_ms = strtoll(cols[1], &end, 10);
        if (*end != '\0' || strlen(cols[2]) >= sizeof(c.order_id))
            goto out_decref;
        memcpy(c.order_id, cols[2], strlen(cols[2]));
        if (shop_edge_cursor_encode(&c, text, sizeof(text)) < 0)
            goto out_decref;
        next = json_string(text);
    }
    json_object_set_new(body, "next", next);
    *json = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    return *json != NULL ? 0 : SHOP_EINVAL;
out_decref:
    json_decref(body);
    return SHOP_EINVAL;
}

int shop_edge_read_shape(const struct shop_edge_read_req *r, const char *const *cols, int n_cols,
                         char **json)
{
    *json = NULL;
    if (n_cols < 1 || cols[0] == NULL)
        return SHOP_EINVAL;
    if (r->kind == SHOP_READ_ORDERS)
        return shape_page(cols, n_cols, json);
    *json = shop_xstrdup(cols[0]);
    return 0;
}
