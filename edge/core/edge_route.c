/* SPDX-License-Identifier: MIT
 * Route table of the edge. Pure. */
#include "edge/core/edge_route.h"

#include <string.h>

struct route_def {
    enum shop_edge_route route;
    const char *method;
    const char *prefix;  /* exact path, or prefix followed by one {id} segment */
    bool has_id;
    const char *name;
};

static const struct route_def routes[] = {
    {SHOP_ROUTE_EVENTS, "POST", "/v1/events", false, "events"},
    {SHOP_ROUTE_CART, "GET", "/v1/me/cart", false, "cart"},
    {SHOP_ROUTE_ORDERS, "GET", "/v1/me/orders", false, "orders"},
    {SHOP_ROUTE_ORDER, "GET", "/v1/orders/", true, "order"},
    {SHOP_ROUTE_PRODUCT, "GET", "/v1/products/", true, "product"},
    {SHOP_ROUTE_HEALTHZ, "GET", "/healthz", false, "healthz"},
    {SHOP_ROUTE_READYZ, "GET", "/readyz", false, "readyz"},
    {SHOP_ROUTE_METRICS, "GET", "/metrics", false, "metrics"},
};

const char *shop_edge_route_name(enum shop_edge_route r)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (routes[i].route == r)
            return routes[i].name;
    }
    return "other";
}

static bool is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':';
}

static bool id_ok(const char *s, size_t n)
{
    if (n == 0 || n > SHOP_ROUTE_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_id_char(s[i]))
            return false;
    }
    return true;
}

static bool path_matches(const struct route_def *r, const char *path, size_t len,
                         struct shop_edge_match *m)
{
    size_t plen = strlen(r->prefix);
    if (len < plen || memcmp(path, r->prefix, plen) != 0)
        return false;
    if (!r->has_id)
        return len == plen;
    if (!id_ok(path + plen, len - plen))
        return false;
    m->param = path + plen;
    m->param_len = len - plen;
    return true;
}

static bool method_is(const char *method, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(method, want, len) == 0;
}

void shop_edge_route_match(const char *method, size_t method_len, const char *path,
                           size_t path_len, struct shop_edge_match *m)
{
    memset(m, 0, sizeof(*m));
    const char *q = memchr(path, '?', path_len);
    if (q != NULL)
        path_len = (size_t)(q - path);
    m->status = 404;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route_def *r = &routes[i];
        if (!path_matches(r, path, path_len, m))
            continue;
        m->route = r->route;
        m->allow = strcmp(r->method, "GET") == 0 ? "GET, OPTIONS" : "POST, OPTIONS";
        if (method_is(method, method_len, "OPTIONS")) {
            m->preflight = true;
            m->status = 0;
        } else if (method_is(method, method_len, r->method)) {
            m->status = 0;
        } else {
            m->status = 405;
        }
        return;
    }
    m->param = NULL;
    m->param_len = 0;
}
