/* SPDX-License-Identifier: MIT
 * SQL for the read endpoints, their parameters, and the response shaping. Pure.
 * PostgreSQL builds the JSON itself so no value passes through string pasting on
 * either side; only a page's "next" cursor is added here (jansson), and a forecast's
 * days and stock-out date (edge_forecast.c) are shaped here from its stored columns. */
#include "edge/core/edge_reads.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "edge/core/edge_forecast.h"

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

/* ---- the ML read models (0007_ml.sql, written by the ML worker only) -------------------
 * Each is one statement of primary-key lookups: the list row, the published model
 * (ml_models) and, per listed item, its inventory_stock row. The stock is read by a
 * scalar subquery so that it stays one index lookup per item whatever the planner
 * thinks of the tables' sizes. What is out of stock is what GET /v1/products/{id}
 * shows as available 0, a product the inventory has not seen included: no order for
 * it can be reserved. The first $2 items left, in the stored order, are shown. */
#define ML_IN_STOCK(id) \
    "coalesce((select s.available from inventory_stock s where s.product_id = " id "), 0) > 0"
/* l: the list row (model_version, items, scores, fallback), m: the published model. The
 * version named is the list's, or without a list the published model's (null without
 * either); trained_at is the published model's when it is that version, else null (a
 * list not yet rewritten since a retrain names the version it came from). */
#define ML_ITEMS_AND_MODEL(model, exclude)                                                      \
    "m as (select version, trained_at_ms from ml_models where model = '" model "'), "           \
    "v as (select coalesce((select model_version from l), (select version from m)) as version), " \
    "it as (select x.product_id, x.score, x.n from l cross join lateral "                       \
    "unnest(l.items, l.scores) with ordinality as x(product_id, score, n) where "               \
    ML_IN_STOCK("x.product_id") exclude " order by x.n limit $2::int) "                          \
    "select json_build_object('items', coalesce((select json_agg(json_build_object("            \
    "'product_id', it.product_id, 'score', it.score) order by it.n) from it), '[]'::json), "    \
    "'model', json_build_object('version', v.version, 'trained_at', "                          \
    "(select m.trained_at_ms from m where m.version = v.version), 'fallback', "

/* The user's list, or the popularity list (fallback) for a user the model has no row for. */
static const char sql_recs[] =
    "with r as (select model_version, items, scores, fallback from ml_user_recs "
    "where user_id = $1::text), "
    "l as (select model_version, items, scores, fallback from r union all "
    "select model_version, items, scores, true from ml_popular "
    "where id = 1 and not exists (select 1 from r)), "
    ML_ITEMS_AND_MODEL("recommend", "")
    "coalesce((select l.fallback from l), true)))::text from v";

/* No row for a product the catalog (products, as GET /v1/products/{id}) does not know:
 * 404. A known product without co-occurrences has an empty list. */
static const char sql_similar[] =
    "with l as (select model_version, items, scores, false as fallback from ml_similar "
    "where product_id = $1::text), "
    ML_ITEMS_AND_MODEL("recommend", " and x.product_id <> $1::text")
    "false))::text from v where exists (select 1 from products p where p.product_id = $1::text)";

/* No row for a user not segmented yet: 404. */
static const char sql_segment[] =
    "select json_build_object('segment', u.segment, 'label', g.label, 'profile', g.profile, "
    "'model_version', u.model_version)::text from ml_user_segments u "
    "left join ml_segments g on g.segment = u.segment where u.user_id = $1::text";

/* Every segment: k rows (SHOPSTREAM_ML_SEGMENTS), read in primary-key order. */
static const char sql_segments[] =
    "select json_build_object('segments', coalesce((select json_agg(json_build_object("
    "'segment', g.segment, 'size', g.size, 'centre', g.centre, 'label', g.label, "
    "'profile', g.profile, 'model_version', g.model_version) order by g.segment) "
    "from ml_segments g), '[]'::json), "
    "'model_version', (select version from ml_models where model = 'segment'), "
    "'trained_at', (select trained_at_ms from ml_models where model = 'segment'))::text";

/* The stored columns, shaped by edge_forecast.c: method (null: no forecast), the version
 * (the forecast's, else the published model's), the first day (days since 1970-01-01),
 * the daily values as a JSON array, and the available units (0 without a stock row). */
static const char sql_forecast[] =
    "select f.method, coalesce(f.model_version, "
    "(select version from ml_models where model = 'forecast'))::text, "
    "(f.start_date - date '1970-01-01')::text, array_to_json(f.daily)::text, "
    "coalesce((select s.available from inventory_stock s where s.product_id = p.product_id), 0)::text "
    "from products p left join ml_forecasts f on f.product_id = p.product_id "
    "where p.product_id = $1::text";

/* ---- activity and analytics (0009_analytics.sql, written by the projector) -------------
 * A user the projector has not seen gets zeros, an empty spend and null times: the left
 * join from one row. Spend lists currencies with a paid order or an amount left. */
static const char sql_activity[] =
    "select json_build_object('user_id', $1::text, 'views', coalesce(a.views, 0), "
    "'searches', coalesce(a.searches, 0), 'cart_adds', coalesce(a.cart_adds, 0), "
    "'orders', coalesce(a.orders, 0), 'spend', coalesce((select json_agg(json_build_object("
    "'amount_minor', s.amount_minor, 'currency', rtrim(s.currency), 'paid_orders', s.paid_orders) "
    "order by s.currency) from user_spend s where s.user_id = $1::text "
    "and (s.amount_minor <> 0 or s.paid_orders <> 0)), '[]'::json), "
    "'first_seen', a.first_seen_ms, 'last_seen', a.last_seen_ms)::text "
    "from (select 1) as one left join user_activity a on a.user_id = $1::text";

/* $1..$2: the first and last UTC day, as days since 1970-01-01; the response names the
 * range it covers in epoch milliseconds, to exclusive. */
#define DAY_FROM "(date '1970-01-01' + $1::int)"
#define DAY_TO "(date '1970-01-01' + $2::int)"
#define IN_RANGE(col) col " between " DAY_FROM " and " DAY_TO
#define RANGE_HEAD(by) \
    "'from', $1::bigint * 86400000, 'to', ($2::bigint + 1) * 86400000, 'by', '" by "', "
#define MONEY_OBJ(a, c) "json_build_object('amount_minor', " a ", 'currency', rtrim(" c "))"

/* Revenue: the lines of the orders paid on each day (a paid order cancelled or rejected
 * later is taken back on its payment's day), per currency; days and categories whose
 * revenue nets to 0 are left out. category_daily's day index bounds both. */
static const char sql_revenue_day[] =
    "select json_build_object(" RANGE_HEAD("day") "'rows', coalesce((select json_agg(json_build_object("
    "'day', (d.day - date '1970-01-01')::bigint * 86400000, 'date', to_char(d.day, 'YYYY-MM-DD'), "
    "'revenue', " MONEY_OBJ("d.rev", "d.currency") ") order by d.day, d.currency) from ("
    "select day, currency, sum(revenue_minor)::bigint as rev from category_daily where "
    IN_RANGE("day") " group by day, currency having sum(revenue_minor) <> 0) d), '[]'::json))::text";

static const char sql_revenue_category[] =
    "select json_build_object(" RANGE_HEAD("category") "'rows', coalesce((select json_agg(json_build_object("
    "'category', nullif(d.category, ''), 'revenue', " MONEY_OBJ("d.rev", "d.currency")
    ") order by d.currency, d.rev desc, d.category) from ("
    "select category, currency, sum(revenue_minor)::bigint as rev from category_daily where "
    IN_RANGE("day") " group by category, currency having sum(revenue_minor) <> 0) d), '[]'::json))::text";

/* The range's revenue of one product t.product_id, per currency (primary key range). */
#define PRODUCT_REVENUE                                                                     \
    "coalesce((select json_agg(" MONEY_OBJ("r.rev", "r.currency") " order by r.currency) from ("  \
    "select currency, sum(revenue_minor)::bigint as rev from product_daily_revenue r "       \
    "where r.product_id = t.product_id and " IN_RANGE("r.day") " group by currency) r), '[]'::json)"

/* Top $3 products by units sold in the range (ties by product id), with their views and
 * revenue per currency; products that sold nothing are left out. */
static const char sql_top_units[] =
    "with t as (select product_id, sum(units)::bigint as units, sum(views)::bigint as views "
    "from product_daily where " IN_RANGE("day") " group by product_id having sum(units) > 0 "
    "order by 2 desc, 1 limit $3::int) "
    "select json_build_object(" RANGE_HEAD("units") "'products', coalesce((select json_agg("
    "json_build_object('product_id', t.product_id, 'name', "
    "(select p.name from products p where p.product_id = t.product_id), "
    "'units', t.units, 'views', t.views, 'revenue', " PRODUCT_REVENUE
    ") order by t.units desc, t.product_id) from t), '[]'::json))::text";

/* Revenue in different currencies is not comparable: the top $3 per currency. */
static const char sql_top_revenue[] =
    "with r as (select currency, product_id, sum(revenue_minor)::bigint as rev from product_daily_revenue "
    "where " IN_RANGE("day") " group by currency, product_id having sum(revenue_minor) > 0), "
    "t as (select * from (select r.*, row_number() over (partition by currency order by rev desc, "
    "product_id) as n from r) k where n <= $3::int), "
    "g as (select t.currency, json_agg(json_build_object('product_id', t.product_id, 'name', "
    "(select p.name from products p where p.product_id = t.product_id), "
    "'units', coalesce(u.units, 0), 'views', coalesce(u.views, 0), "
    "'revenue', " MONEY_OBJ("t.rev", "t.currency") ") order by t.n) as products from t "
    "left join lateral (select sum(d.units)::bigint as units, sum(d.views)::bigint as views "
    "from product_daily d where d.product_id = t.product_id and " IN_RANGE("d.day") ") u on true "
    "group by t.currency) "
    "select json_build_object(" RANGE_HEAD("revenue") "'currencies', coalesce((select json_agg("
    "json_build_object('currency', rtrim(g.currency), 'products', g.products) order by g.currency) "
    "from g), '[]'::json))::text";

/* Each stage on its own: distinct users with at least one such event (paid: a paid order
 * not taken back) on a day of the range. A range of funnel_daily's primary key. */
#define FUNNEL_STAGE(s)                                                                      \
    "'" s "', (select count(distinct user_id) from funnel_daily where stage = '" s "' and " \
    IN_RANGE("day") " and n > 0)"
static const char sql_funnel[] =
    "select json_build_object('from', $1::bigint * 86400000, 'to', ($2::bigint + 1) * 86400000, "
    FUNNEL_STAGE("viewed") ", " FUNNEL_STAGE("carted") ", " FUNNEL_STAGE("placed") ", "
    FUNNEL_STAGE("paid") ")::text";

static const char sql_ready[] = "select 1::text";

int shop_read_parse_decimal(const char *s, int64_t max, int64_t *out)
{
    int64_t v = 0;
    if (*s == '\0')
        return SHOP_EINVAL;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return SHOP_EINVAL;
        v = v * 10 + (*s - '0');
        if (v > max)
            return SHOP_EINVAL;
    }
    *out = v;
    return 0;
}

/* A decimal count, 1..max. */
static int parse_count(const char *s, int max, int *out)
{
    int64_t v;
    if (shop_read_parse_decimal(s, max, &v) != 0 || v < 1)
        return SHOP_EINVAL;
    *out = (int)v;
    return 0;
}

/* Query parameter a of m as a count 1..max into *out (def when absent). */
static int init_count(const struct shop_edge_match *m, enum shop_edge_arg a, int def, int max,
                      int *out, const char **field, struct shop_err *err)
{
    const char *v = m != NULL ? shop_edge_match_arg(m, a) : NULL;
    *out = def;
    if (v != NULL && parse_count(v, max, out) != 0) {
        *field = shop_edge_arg_name(a);
        return shop_err_set(err, SHOP_EINVAL, "must be an integer from 1 to %d", max);
    }
    return 0;
}

/* A time in UTC epoch milliseconds: decimal digits, 0..SHOP_READ_TIME_MAX_MS. */
static int parse_time_ms(const char *s, int64_t *out)
{
    return shop_read_parse_decimal(s, SHOP_READ_TIME_MAX_MS, out);
}

#define DAY_MS INT64_C(86400000)

/* ?from= and ?to= (both required): [from, to) in epoch milliseconds becomes the UTC days
 * it touches, from's day to the day of to's last millisecond. */
static int init_range(struct shop_edge_read_req *r, const struct shop_edge_match *m,
                      const char **field, struct shop_err *err)
{
    static const enum shop_edge_arg args[2] = {SHOP_ARG_FROM, SHOP_ARG_TO};
    int64_t ms[2];
    for (int i = 0; i < 2; i++) {
        const char *v = m != NULL ? shop_edge_match_arg(m, args[i]) : NULL;
        *field = shop_edge_arg_name(args[i]);
        if (v == NULL)
            return shop_err_set(err, SHOP_EINVAL, "required: UTC epoch milliseconds");
        if (parse_time_ms(v, &ms[i]) != 0)
            return shop_err_set(err, SHOP_EINVAL,
                                "must be UTC epoch milliseconds, an integer from 0 to %" PRId64,
                                SHOP_READ_TIME_MAX_MS);
    }
    *field = "to";
    if (ms[1] <= ms[0])
        return shop_err_set(err, SHOP_EINVAL, "must be after from");
    r->from_day = (int32_t)(ms[0] / DAY_MS);
    r->to_day = (int32_t)((ms[1] - 1) / DAY_MS);
    if (r->to_day - r->from_day + 1 > SHOP_READ_RANGE_DAYS_MAX)
        return shop_err_set(err, SHOP_EINVAL, "the range may touch at most %d UTC days",
                            SHOP_READ_RANGE_DAYS_MAX);
    *field = "";
    snprintf(r->from_day_text, sizeof(r->from_day_text), "%" PRId32, r->from_day);
    snprintf(r->to_day_text, sizeof(r->to_day_text), "%" PRId32, r->to_day);
    return 0;
}

/* ?by=: one of two names, the first when absent. */
static int init_by(struct shop_edge_read_req *r, const struct shop_edge_match *m, const char *a,
                   enum shop_edge_read_by by_a, const char *b, enum shop_edge_read_by by_b,
                   const char **field, struct shop_err *err)
{
    const char *v = m != NULL ? shop_edge_match_arg(m, SHOP_ARG_BY) : NULL;
    r->by = by_a;
    if (v == NULL || strcmp(v, a) == 0)
        return 0;
    if (strcmp(v, b) == 0) {
        r->by = by_b;
        return 0;
    }
    *field = "by";
    return shop_err_set(err, SHOP_EINVAL, "must be %s or %s", a, b);
}

/* The analytics reads: the range first, then by, then the limit. */
static int init_analytics(struct shop_edge_read_req *r, const struct shop_edge_match *m,
                          const char **field, struct shop_err *err)
{
    if (init_range(r, m, field, err) != 0)
        return SHOP_EINVAL;
    switch (r->kind) {
    case SHOP_READ_REVENUE:
        return init_by(r, m, "day", SHOP_READ_BY_DAY, "category", SHOP_READ_BY_CATEGORY, field, err);
    case SHOP_READ_TOP_PRODUCTS:
        if (init_by(r, m, "units", SHOP_READ_BY_UNITS, "revenue", SHOP_READ_BY_REVENUE, field, err) != 0 ||
            init_count(m, SHOP_ARG_LIMIT, SHOP_READ_TOP_LIMIT_DEFAULT, SHOP_READ_LIMIT_MAX, &r->limit, field,
                       err) != 0)
            return SHOP_EINVAL;
        snprintf(r->limit_text, sizeof(r->limit_text), "%d", r->limit);
        return 0;
    default: return 0;
    }
}

static int init_page(struct shop_edge_read_req *r, const struct shop_edge_match *m,
                     const char **field, struct shop_err *err)
{
    const char *cursor = m != NULL ? shop_edge_match_arg(m, SHOP_ARG_CURSOR) : NULL;
    if (init_count(m, SHOP_ARG_LIMIT, SHOP_READ_LIMIT_DEFAULT, SHOP_READ_LIMIT_MAX, &r->limit,
                   field, err) != 0)
        return SHOP_EINVAL;
    if (cursor != NULL && shop_edge_cursor_decode(cursor, &r->cursor) != 0) {
        *field = "cursor";
        return shop_err_set(err, SHOP_EINVAL, "not a cursor this endpoint returned");
    }
    r->has_cursor = cursor != NULL;
    snprintf(r->limit_text, sizeof(r->limit_text), "%d", r->limit);
    snprintf(r->cursor_at_text, sizeof(r->cursor_at_text), "%" PRId64, r->cursor.placed_at_ms);
    return 0;
}

bool shop_edge_read_admin_only(enum shop_edge_read kind)
{
    return kind == SHOP_READ_SEGMENTS || kind == SHOP_READ_FORECAST || kind == SHOP_READ_REVENUE ||
           kind == SHOP_READ_TOP_PRODUCTS || kind == SHOP_READ_FUNNEL;
}

void shop_edge_read_not_found(enum shop_edge_read kind, const char **field, const char **detail)
{
    *field = "id";
    switch (kind) {
    case SHOP_READ_SIMILAR:
    case SHOP_READ_FORECAST: *detail = "no such product"; return;
    case SHOP_READ_SEGMENT:
        *field = "";
        *detail = "not segmented yet";
        return;
    default: *detail = "not found"; return;
    }
}

/* The parameters of a read that has some. */
static int init_args(struct shop_edge_read_req *r, const struct shop_edge_match *m,
                     const char **field, struct shop_err *err)
{
    switch (r->kind) {
    case SHOP_READ_ORDERS: return init_page(r, m, field, err);
    case SHOP_READ_RECS:
    case SHOP_READ_SIMILAR:
        if (init_count(m, SHOP_ARG_LIMIT, SHOP_READ_ML_LIMIT_DEFAULT, SHOP_READ_LIMIT_MAX,
                       &r->limit, field, err) != 0)
            return SHOP_EINVAL;
        snprintf(r->limit_text, sizeof(r->limit_text), "%d", r->limit);
        return 0;
    case SHOP_READ_FORECAST:
        return init_count(m, SHOP_ARG_DAYS, SHOP_FORECAST_DAYS_DEFAULT, SHOP_FORECAST_DAYS_MAX,
                          &r->days, field, err);
    case SHOP_READ_REVENUE:
    case SHOP_READ_TOP_PRODUCTS:
    case SHOP_READ_FUNNEL: return init_analytics(r, m, field, err);
    default: return 0;
    }
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
    /* The role before the parameters: a shopper learns nothing of an admin read. */
    if (shop_edge_read_admin_only(kind) && !admin) {
        *field = "authorization";
        return shop_err_set(err, SHOP_EFORBIDDEN, "needs the admin role");
    }
    return init_args(r, m, field, err);
}

/* The range's days, and for top-products the limit; set by init_range (from_day_text
 * empty: the request was not initialised with a range). */
static int build_analytics(const struct shop_edge_read_req *r, struct shop_edge_query *q)
{
    q->n_params = 2;
    q->params[0] = r->from_day_text;
    q->params[1] = r->to_day_text;
    switch (r->kind) {
    case SHOP_READ_REVENUE: q->sql = r->by == SHOP_READ_BY_CATEGORY ? sql_revenue_category : sql_revenue_day; break;
    case SHOP_READ_TOP_PRODUCTS:
        q->sql = r->by == SHOP_READ_BY_REVENUE ? sql_top_revenue : sql_top_units;
        q->n_params = 3;
        q->params[2] = r->limit_text;
        if (r->limit < 1)
            return SHOP_EINVAL;
        break;
    default: q->sql = sql_funnel; break;
    }
    return r->admin && r->from_day_text[0] != '\0' ? 0 : SHOP_EINVAL;
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
    case SHOP_READ_RECS:
        q->sql = sql_recs;
        q->n_params = 2;
        q->params[0] = r->user;
        q->params[1] = r->limit_text;
        return r->user[0] != '\0' && r->limit >= 1 ? 0 : SHOP_EINVAL;
    case SHOP_READ_SIMILAR:
        q->sql = sql_similar;
        q->n_params = 2;
        q->params[0] = r->id;
        q->params[1] = r->limit_text;
        return r->id[0] != '\0' && r->limit >= 1 ? 0 : SHOP_EINVAL;
    case SHOP_READ_SEGMENT:
        q->sql = sql_segment;
        q->n_params = 1;
        q->params[0] = r->user;
        return r->user[0] != '\0' ? 0 : SHOP_EINVAL;
    case SHOP_READ_SEGMENTS:
        q->sql = sql_segments;
        return r->admin ? 0 : SHOP_EINVAL;
    case SHOP_READ_FORECAST:
        q->sql = sql_forecast;
        q->n_params = 1;
        q->params[0] = r->id;
        return r->id[0] != '\0' && r->admin ? 0 : SHOP_EINVAL;
    case SHOP_READ_READY:
        q->sql = sql_ready;
        return 0;
    case SHOP_READ_ACTIVITY:
        q->sql = sql_activity;
        q->n_params = 1;
        q->params[0] = r->user;
        return r->user[0] != '\0' ? 0 : SHOP_EINVAL;
    case SHOP_READ_REVENUE:
    case SHOP_READ_TOP_PRODUCTS:
    case SHOP_READ_FUNNEL:
        return build_analytics(r, q);
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

/* A decimal int64, the whole text. */
static int parse_i64(const char *s, int64_t *out)
{
    char *end;
    if (s == NULL || *s == '\0')
        return SHOP_EINVAL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || errno != 0)
        return SHOP_EINVAL;
    *out = v;
    return 0;
}

/* The forecast's row: method, version, first day, daily (a JSON array), available. A
 * daily value that is not a number (PostgreSQL writes NaN as "NaN") is demand 0. */
static int shape_forecast(const struct shop_edge_read_req *r, const char *const *cols, int n_cols,
                          char **json)
{
    struct shop_edge_forecast f = {.method = n_cols == 5 ? cols[0] : NULL};
    if (n_cols != 5 || parse_i64(cols[4], &f.available) != 0)
        return SHOP_EINVAL;
    f.has_version = cols[1] != NULL;
    if (f.has_version && parse_i64(cols[1], &f.model_version) != 0)
        return SHOP_EINVAL;
    if (f.method == NULL)
        return shop_edge_forecast_json(&f, r->days, json);
    json_t *daily = json_loads(cols[3] != NULL ? cols[3] : "", 0, NULL);
    int rc = SHOP_EINVAL;
    if (!json_is_array(daily) || parse_i64(cols[2], &f.start_day) != 0)
        goto out_decref;
    double *values = shop_xcalloc(json_array_size(daily) + 1, sizeof(*values));
    size_t i;
    json_t *v;
    json_array_foreach(daily, i, v)
        values[i] = json_is_number(v) ? json_number_value(v) : 0;
    f.daily = values;
    f.n_daily = json_array_size(daily);
    rc = shop_edge_forecast_json(&f, r->days, json);
    free(values);
out_decref:
    json_decref(daily);
    return rc;
}

int shop_edge_read_shape(const struct shop_edge_read_req *r, const char *const *cols, int n_cols,
                         char **json)
{
    *json = NULL;
    if (r->kind == SHOP_READ_FORECAST)
        return shape_forecast(r, cols, n_cols, json);
    if (n_cols < 1 || cols[0] == NULL)
        return SHOP_EINVAL;
    if (r->kind == SHOP_READ_ORDERS)
        return shape_page(cols, n_cols, json);
    *json = shop_xstrdup(cols[0]);
    return 0;
}
