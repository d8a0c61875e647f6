/* SPDX-License-Identifier: MIT
 * SQL for the read endpoints. Pure. PostgreSQL builds the JSON itself so no
 * value passes through string pasting on either side. */
#include "edge/core/edge_reads.h"

#include <string.h>

#include "base/shop_err.h"

#define MONEY(a, c) "case when " a " is null then null else json_build_object('amount_minor', " a \
                    ", 'currency', rtrim(" c ")) end"

static const char sql_cart[] =
    "select json_build_object('user_id', $1::text, 'items', coalesce((select json_agg("
    "json_build_object('product_id', product_id, 'quantity', quantity, 'unit_price', "
    MONEY("unit_price_minor", "currency") ") order by product_id) from cart_items "
    "where user_id = $1::text), '[]'::json), 'updated_at', "
    "(select updated_at_ms from carts where user_id = $1::text))::text";

static const char sql_orders[] =
    "select json_build_object('user_id', $1::text, 'orders', coalesce((select json_agg("
    "json_build_object('order_id', order_id, 'status', status, 'total', "
    MONEY("total_minor", "currency") ", 'placed_at', placed_at_ms, 'updated_at', updated_at_ms) "
    "order by placed_at_ms desc, order_id) from (select * from orders where user_id = $1::text "
    "order by placed_at_ms desc, order_id limit 100) o), '[]'::json))::text";

static const char sql_order[] =
    "select json_build_object('order_id', o.order_id, 'user_id', o.user_id, 'status', o.status, "
    "'lines', coalesce((select json_agg(json_build_object('product_id', l.product_id, "
    "'quantity', l.quantity, 'unit_price', " MONEY("l.unit_price_minor", "l.currency")
    ") order by l.line_no) from order_lines l where l.order_id = o.order_id), '[]'::json), "
    "'total', " MONEY("o.total_minor", "o.currency") ", 'history', coalesce((select json_agg("
    "json_build_object('status', h.status, 'at', h.at_ms) order by h.at_ms, h.status) "
    "from order_status_history h where h.order_id = o.order_id), '[]'::json), "
    "'placed_at', o.placed_at_ms, 'updated_at', o.updated_at_ms)::text "
    "from orders o where o.order_id = $1::text and ($2::text is null or o.user_id = $2::text)";

static const char sql_product[] =
    "select json_build_object('product_id', product_id, 'name', name, 'category', category, "
    "'price', " MONEY("price_minor", "currency") ", 'stock', stock, 'views', views, "
    "'purchases', purchases)::text from products where product_id = $1::text";

static const char sql_ready[] = "select 1::text";

int shop_edge_query_build(enum shop_edge_read kind, const char *user, const char *id, bool admin,
                          struct shop_edge_query *q)
{
    memset(q, 0, sizeof(*q));
    switch (kind) {
    case SHOP_READ_CART:
    case SHOP_READ_ORDERS:
        if (user == NULL)
            return SHOP_EINVAL;
        q->sql = kind == SHOP_READ_CART ? sql_cart : sql_orders;
        q->n_params = 1;
        q->params[0] = user;
        return 0;
    case SHOP_READ_ORDER:
        if (id == NULL || (!admin && user == NULL))
            return SHOP_EINVAL;
        q->sql = sql_order;
        q->n_params = 2;
        q->params[0] = id;
        q->params[1] = admin ? NULL : user;
        return 0;
    case SHOP_READ_PRODUCT:
        if (id == NULL)
            return SHOP_EINVAL;
        q->sql = sql_product;
        q->n_params = 1;
        q->params[0] = id;
        return 0;
    case SHOP_READ_READY:
        q->sql = sql_ready;
        return 0;
    default:
        return SHOP_EINVAL;
    }
}
