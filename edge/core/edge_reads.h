/* SPDX-License-Identifier: MIT
 * The read endpoints: a read request checked on the loop thread (its query
 * parameters and the token's role included), its SQL text and parameter list shaped
 * for PQexecParams, and the response shaped from the result row. Pure. Each query
 * returns one row (the response JSON in its first column, for a page also the key
 * of its last order when more follow; for a forecast its stored columns) or no row
 * (404). Values are never pasted into the SQL.
 */
#ifndef SHOP_EDGE_READS_H
#define SHOP_EDGE_READS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "edge/core/edge_cursor.h"
#include "edge/core/edge_route.h"

enum shop_edge_read {
    SHOP_READ_CART = 0,   /* $1 user */
    SHOP_READ_ORDERS,     /* $1 user, $2 limit, $3 $4 the cursor's key or NULL */
    SHOP_READ_ORDER,      /* $1 order id, $2 user or NULL for admin */
    SHOP_READ_PRODUCT,    /* $1 product id */
    SHOP_READ_RECS,       /* $1 user, $2 limit: the ML worker's top list (0007) */
    SHOP_READ_SIMILAR,    /* $1 product id, $2 limit */
    SHOP_READ_SEGMENT,    /* $1 user */
    SHOP_READ_SEGMENTS,   /* admin; no parameters */
    SHOP_READ_FORECAST,   /* admin; $1 product id; shaped by edge_forecast.h */
    SHOP_READ_READY,      /* select 1 */
    SHOP_READ_ACTIVITY,   /* $1 user: user_activity, user_spend (0009) */
    SHOP_READ_REVENUE,    /* admin; $1 $2 first and last UTC day; by day or category */
    SHOP_READ_TOP_PRODUCTS, /* admin; $1 $2 days, $3 limit; by units or revenue */
    SHOP_READ_FUNNEL,     /* admin; $1 $2 days */
    SHOP_READ_COUNT
};

/* ?by= of the analytics reads. */
enum shop_edge_read_by {
    SHOP_READ_BY_DAY = 0,     /* revenue (default) */
    SHOP_READ_BY_CATEGORY,    /* revenue */
    SHOP_READ_BY_UNITS,       /* top-products (default) */
    SHOP_READ_BY_REVENUE      /* top-products */
};

/* ?from= and ?to= are UTC epoch milliseconds, to exclusive; the read covers every UTC
 * day [from, to) touches, at most SHOP_READ_RANGE_DAYS_MAX of them. */
#define SHOP_READ_RANGE_DAYS_MAX 366
#define SHOP_READ_TIME_MAX_MS INT64_C(253402300800000)   /* 10000-01-01T00:00:00Z */
#define SHOP_READ_TOP_LIMIT_DEFAULT 10

#define SHOP_READ_PARAMS_MAX 4
#define SHOP_READ_COLS_MAX 5        /* columns of a read's row */
#define SHOP_READ_USER_MAX 128       /* a token subject (SHOP_JWT_SUB_MAX) */
#define SHOP_READ_LIMIT_DEFAULT 20   /* orders per page without ?limit= */
#define SHOP_READ_LIMIT_MAX 100
#define SHOP_READ_ML_LIMIT_DEFAULT 10   /* recommendations, similar items */

/** One read, as the loop thread hands it to a database thread: all its query needs. */
struct shop_edge_read_req {
    enum shop_edge_read kind;
    char user[SHOP_READ_USER_MAX + 1];   /* the token subject */
    char id[SHOP_ROUTE_ID_MAX + 1];      /* the path's {id}, or "" */
    bool admin;                          /* lifts the own-orders restriction */
    int limit;                           /* orders: page size; ML lists: items */
    int days;                            /* forecast: days shown */
    bool has_cursor;
    struct shop_edge_cursor cursor;      /* orders: start after this one */
    enum shop_edge_read_by by;           /* analytics: which grouping or ranking */
    int32_t from_day, to_day;            /* analytics: first and last UTC day (days since 1970-01-01) */
    char from_day_text[16], to_day_text[16];
    char limit_text[12];                 /* the numbers as query parameters */
    char cursor_at_text[24];
};

struct shop_edge_query {
    const char *sql;
    int n_params;
    const char *params[SHOP_READ_PARAMS_MAX];  /* borrowed from the request; NULL is SQL NULL */
};

/** Fills r for kind from the token subject user, admin and the route match m (its
 *  {id} and query parameters; m may be NULL). Returns 0; SHOP_EFORBIDDEN for a read
 *  only admins may make (shop_edge_read_admin_only) without admin, *field
 *  "authorization", checked before the parameters; or SHOP_EINVAL with *field the
 *  query parameter at fault ("cursor", "limit", "days", "from", "to", "by") and err->msg
 *  why. */
int shop_edge_read_init(struct shop_edge_read_req *r, enum shop_edge_read kind, const char *user,
                        bool admin, const struct shop_edge_match *m, const char **field,
                        struct shop_err *err);

/** True for the reads only an admin token may make: segments, forecast, analytics. */
bool shop_edge_read_admin_only(enum shop_edge_read kind);

/** What a 404 of kind names: *field ("id" or "" for none) and *detail. */
void shop_edge_read_not_found(enum shop_edge_read kind, const char **field, const char **detail);

/** Builds the query of r; q borrows r's strings. Returns 0 or SHOP_EINVAL. */
int shop_edge_query_build(const struct shop_edge_read_req *r, struct shop_edge_query *q);

/** The response of r from the query's one row: cols[i] the i-th column's text, NULL
 *  for SQL NULL. A page gets "next": the cursor of its last order when the query
 *  returned that key, else null. Returns 0 with *json malloc'd (the caller frees it),
 *  or SHOP_EINVAL for a row that is not what the query returns. */
int shop_edge_read_shape(const struct shop_edge_read_req *r, const char *const *cols, int n_cols,
                         char **json);

/** A query parameter of decimal digits only, 0..max (no sign, no blanks): 0, or SHOP_EINVAL. */
int shop_read_parse_decimal(const char *s, int64_t max, int64_t *out);

#endif
