/* SPDX-License-Identifier: MIT
 * The read endpoints' queries: SQL text and parameter lists shaped for
 * PQexecParams. Pure. Each query returns one row with one text column (the
 * response JSON) or no row (404). Values are never pasted into the SQL.
 */
#ifndef SHOP_EDGE_READS_H
#define SHOP_EDGE_READS_H

#include <stdbool.h>
#include <stddef.h>

enum shop_edge_read {
    SHOP_READ_CART = 0,   /* $1 user */
    SHOP_READ_ORDERS,     /* $1 user */
    SHOP_READ_ORDER,      /* $1 order id, $2 user or NULL for admin */
    SHOP_READ_PRODUCT,    /* $1 product id */
    SHOP_READ_READY,      /* select 1 */
    SHOP_READ_COUNT
};

#define SHOP_READ_PARAMS_MAX 2

struct shop_edge_query {
    const char *sql;
    int n_params;
    const char *params[SHOP_READ_PARAMS_MAX];  /* borrowed; NULL is SQL NULL */
};

/** Builds the query for read kind; user is the token subject, id the path parameter
 *  (NUL-terminated), admin lifts the own-orders restriction. Returns 0 or SHOP_EINVAL. */
int shop_edge_query_build(enum shop_edge_read kind, const char *user, const char *id, bool admin,
                          struct shop_edge_query *q);

#endif
