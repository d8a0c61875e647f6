/* SPDX-License-Identifier: MIT
 * Maps a request method, path and query string to an edge route. Pure. Path
 * parameters point into the caller's path and are limited to a safe id alphabet;
 * query parameters are only those the route's row names, percent-decoded into
 * the match.
 */
#ifndef SHOP_EDGE_ROUTE_H
#define SHOP_EDGE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

enum shop_edge_route {
    SHOP_ROUTE_OTHER = 0,   /* no route: 404 */
    SHOP_ROUTE_EVENTS,      /* POST /v1/events */
    SHOP_ROUTE_CART,        /* GET /v1/me/cart */
    SHOP_ROUTE_ORDERS,      /* GET /v1/me/orders?cursor=&limit= */
    SHOP_ROUTE_ORDER,       /* GET /v1/orders/{id} */
    SHOP_ROUTE_PRODUCT,     /* GET /v1/products/{id} */
    SHOP_ROUTE_RECS,        /* GET /v1/me/recommendations?limit= */
    SHOP_ROUTE_SIMILAR,     /* GET /v1/products/{id}/similar?limit= */
    SHOP_ROUTE_SEGMENT,     /* GET /v1/me/segment */
    SHOP_ROUTE_SEGMENTS,    /* GET /v1/segments (admin) */
    SHOP_ROUTE_FORECAST,    /* GET /v1/products/{id}/forecast?days= (admin) */
    SHOP_ROUTE_ACTIVITY,    /* GET /v1/me/activity */
    SHOP_ROUTE_REVENUE,     /* GET /v1/analytics/revenue?from=&to=&by= (admin) */
    SHOP_ROUTE_TOP_PRODUCTS,/* GET /v1/analytics/top-products?from=&to=&limit=&by= (admin) */
    SHOP_ROUTE_FUNNEL,      /* GET /v1/analytics/funnel?from=&to= (admin) */
    SHOP_ROUTE_OPENAPI,     /* GET /v1/openapi.yaml: the contract, no token */
    SHOP_ROUTE_CONSOLE,     /* GET /console: the operations console's page, no token */
    SHOP_ROUTE_OVERVIEW,    /* GET /v1/admin/overview?threshold= (admin): the console's data */
    SHOP_ROUTE_HEALTHZ,
    SHOP_ROUTE_READYZ,
    SHOP_ROUTE_METRICS,
    SHOP_ROUTE_COUNT
};

/* Query parameters some route takes; a route's row lists the ones it takes. */
enum shop_edge_arg {
    SHOP_ARG_CURSOR = 0,
    SHOP_ARG_LIMIT,
    SHOP_ARG_DAYS,
    SHOP_ARG_FROM,
    SHOP_ARG_TO,
    SHOP_ARG_BY,
    SHOP_ARG_THRESHOLD,
    SHOP_ARG_COUNT
};

#define SHOP_ROUTE_ID_MAX 128
#define SHOP_ROUTE_ARG_MAX 256      /* bytes of one decoded query value */
#define SHOP_ROUTE_QUERY_MAX 2048   /* bytes of the whole query string */

struct shop_edge_match {
    enum shop_edge_route route;
    int status;            /* 0 to dispatch, or 400 / 404 / 405 */
    bool preflight;        /* OPTIONS on a known route */
    const char *allow;     /* methods of the route, for Allow and CORS */
    const char *param;     /* {id}, not NUL-terminated */
    size_t param_len;
    /* The route's query parameters, percent-decoded and NUL-terminated; read them with
     * shop_edge_match_arg. Held by value, so a match may be copied. */
    bool arg_given[SHOP_ARG_COUNT];
    char args[SHOP_ARG_COUNT][SHOP_ROUTE_ARG_MAX + 1];
    /* Status 400: the query parameter at fault ("query" when it has no safe name). */
    char field[64];
    char detail[96];
};

/** Matches method, path (without the query string) and query (the text after '?',
 *  NULL or empty when there is none). A query parameter the route does not take, one
 *  given twice, a bad percent-escape, a NUL or an overlong value is status 400 naming
 *  it; OPTIONS and 405 never look at the query. */
void shop_edge_route_match(const char *method, size_t method_len, const char *path,
                           size_t path_len, const char *query, size_t query_len,
                           struct shop_edge_match *m);

/** Query parameter a of m, or NULL when the request did not give it. */
static inline const char *shop_edge_match_arg(const struct shop_edge_match *m, enum shop_edge_arg a)
{
    return m->arg_given[a] ? m->args[a] : NULL;
}

/** Name of a query parameter: "cursor", "limit", "days", "from", "to", "by", "threshold". */
const char *shop_edge_arg_name(enum shop_edge_arg a);

/** Metrics label of a route: "events", "cart", ... "other". */
const char *shop_edge_route_name(enum shop_edge_route r);

#endif
