/* SPDX-License-Identifier: MIT
 * Maps a request method and path to an edge route. Pure. Path parameters
 * point into the caller's path and are limited to a safe id alphabet.
 */
#ifndef SHOP_EDGE_ROUTE_H
#define SHOP_EDGE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

enum shop_edge_route {
    SHOP_ROUTE_OTHER = 0,   /* no route: 404 */
    SHOP_ROUTE_EVENTS,      /* POST /v1/events */
    SHOP_ROUTE_CART,        /* GET /v1/me/cart */
    SHOP_ROUTE_ORDERS,      /* GET /v1/me/orders */
    SHOP_ROUTE_ORDER,       /* GET /v1/orders/{id} */
    SHOP_ROUTE_PRODUCT,     /* GET /v1/products/{id} */
    SHOP_ROUTE_HEALTHZ,
    SHOP_ROUTE_READYZ,
    SHOP_ROUTE_METRICS,
    SHOP_ROUTE_COUNT
};

#define SHOP_ROUTE_ID_MAX 128

struct shop_edge_match {
    enum shop_edge_route route;
    int status;            /* 0 to dispatch, or 404 / 405 */
    bool preflight;        /* OPTIONS on a known route */
    const char *allow;     /* methods of the route, for Allow and CORS */
    const char *param;     /* {id}, not NUL-terminated */
    size_t param_len;
};

/** Matches method and path (a query string is ignored). */
void shop_edge_route_match(const char *method, size_t method_len, const char *path,
                           size_t path_len, struct shop_edge_match *m);

/** Metrics label of a route: "events", "cart", ... "other". */
const char *shop_edge_route_name(enum shop_edge_route r);

#endif
