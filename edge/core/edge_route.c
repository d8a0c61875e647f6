/* SPDX-License-Identifier: MIT
 * Route table of the edge. Pure. A row names the query parameters its route
 * takes; anything else in the query string is refused, never ignored. */
#include "edge/core/edge_route.h"

#include <stdio.h>
#include <string.h>

#include "base/shop_text.h"

#define ARG(a) (1u << (a))
#define STR_(x) #x
#define STR(x) STR_(x)

struct route_def {
    enum shop_edge_route route;
    const char *method;
    const char *prefix;  /* exact path, or prefix followed by one {id} segment */
    bool has_id;
    const char *suffix;  /* after the {id}: "" or e.g. "/similar" */
    const char *name;
    unsigned args;       /* ARG(SHOP_ARG_*) it takes */
};

static const struct route_def routes[] = {
    {SHOP_ROUTE_EVENTS, "POST", "/v1/events", false, "", "events", 0},
    {SHOP_ROUTE_CART, "GET", "/v1/me/cart", false, "", "cart", 0},
    {SHOP_ROUTE_ORDERS, "GET", "/v1/me/orders", false, "", "orders",
     ARG(SHOP_ARG_CURSOR) | ARG(SHOP_ARG_LIMIT)},
    {SHOP_ROUTE_ORDER, "GET", "/v1/orders/", true, "", "order", 0},
    {SHOP_ROUTE_PRODUCT, "GET", "/v1/products/", true, "", "product", 0},
    {SHOP_ROUTE_RECS, "GET", "/v1/me/recommendations", false, "", "recommendations",
     ARG(SHOP_ARG_LIMIT)},
    {SHOP_ROUTE_SIMILAR, "GET", "/v1/products/", true, "/similar", "similar", ARG(SHOP_ARG_LIMIT)},
    {SHOP_ROUTE_SEGMENT, "GET", "/v1/me/segment", false, "", "segment", 0},
    {SHOP_ROUTE_SEGMENTS, "GET", "/v1/segments", false, "", "segments", 0},
    {SHOP_ROUTE_FORECAST, "GET", "/v1/products/", true, "/forecast", "forecast",
     ARG(SHOP_ARG_DAYS)},
    {SHOP_ROUTE_ACTIVITY, "GET", "/v1/me/activity", false, "", "activity", 0},
    {SHOP_ROUTE_REVENUE, "GET", "/v1/analytics/revenue", false, "", "revenue",
     ARG(SHOP_ARG_FROM) | ARG(SHOP_ARG_TO) | ARG(SHOP_ARG_BY)},
    {SHOP_ROUTE_TOP_PRODUCTS, "GET", "/v1/analytics/top-products", false, "", "top_products",
     ARG(SHOP_ARG_FROM) | ARG(SHOP_ARG_TO) | ARG(SHOP_ARG_LIMIT) | ARG(SHOP_ARG_BY)},
    {SHOP_ROUTE_FUNNEL, "GET", "/v1/analytics/funnel", false, "", "funnel",
     ARG(SHOP_ARG_FROM) | ARG(SHOP_ARG_TO)},
    {SHOP_ROUTE_OPENAPI, "GET", "/v1/openapi.yaml", false, "", "openapi", 0},
    {SHOP_ROUTE_CONSOLE, "GET", "/console", false, "", "console", 0},
    {SHOP_ROUTE_OVERVIEW, "GET", "/v1/admin/overview", false, "", "overview", ARG(SHOP_ARG_THRESHOLD)},
    {SHOP_ROUTE_HEALTHZ, "GET", "/healthz", false, "", "healthz", 0},
    {SHOP_ROUTE_READYZ, "GET", "/readyz", false, "", "readyz", 0},
    {SHOP_ROUTE_METRICS, "GET", "/metrics", false, "", "metrics", 0},
};

static const char *const arg_names[SHOP_ARG_COUNT] = {
    [SHOP_ARG_CURSOR] = "cursor",
    [SHOP_ARG_LIMIT] = "limit",
    [SHOP_ARG_DAYS] = "days",
    [SHOP_ARG_FROM] = "from",
    [SHOP_ARG_TO] = "to",
    [SHOP_ARG_BY] = "by",
    [SHOP_ARG_THRESHOLD] = "threshold",
};

const char *shop_edge_arg_name(enum shop_edge_arg a)
{
    return (unsigned)a < SHOP_ARG_COUNT ? arg_names[a] : "";
}

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
    /* The {id} is one segment: it ends at the route's suffix, which ends the path. */
    size_t slen = strlen(r->suffix);
    if (len - plen <= slen || memcmp(path + len - slen, r->suffix, slen) != 0)
        return false;
    size_t id_len = len - plen - slen;
    if (!id_ok(path + plen, id_len))
        return false;
    m->param = path + plen;
    m->param_len = id_len;
    return true;
}

static bool method_is(const char *method, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(method, want, len) == 0;
}

static int bad_arg(struct shop_edge_match *m, const char *field, const char *detail)
{
    m->status = 400;
    snprintf(m->field, sizeof(m->field), "%s", field);
    snprintf(m->detail, sizeof(m->detail), "%s", detail);
    return -1;
}

/* Percent-decodes s[0..n) into out (cap bytes with the NUL); '+' is a space, as in
 * form encoding. Returns the decoded length, -1 for a bad escape, -2 when too long. */
static long pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3 || shop_hex_digit(s[i + 1]) < 0 || shop_hex_digit(s[i + 2]) < 0)
                return -1;
            c = shop_hex_digit(s[i + 1]) * 16 + shop_hex_digit(s[i + 2]);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (o + 1 >= cap)
            return -2;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (long)o;
}

/* The query parameter a decoded name is, or SHOP_ARG_COUNT. */
static enum shop_edge_arg arg_of(const char *name)
{
    for (int a = 0; a < SHOP_ARG_COUNT; a++) {
        if (strcmp(name, arg_names[a]) == 0)
            return (enum shop_edge_arg)a;
    }
    return SHOP_ARG_COUNT;
}

/* A name safe to echo in a problem body, or "query". */
static const char *field_of(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n < 64 && id_ok(name, n) ? name : "query";
}

/* One name[=value] pair of the query string. */
static int take_pair(const struct route_def *r, const char *s, size_t n, struct shop_edge_match *m)
{
    const char *eq = memchr(s, '=', n);
    size_t name_len = eq != NULL ? (size_t)(eq - s) : n;
    char name[64];
    long len = pct_decode(s, name_len, name, sizeof(name));
    if (len < 0 || strlen(name) != (size_t)len)
        return bad_arg(m, "query", "bad query parameter name");
    enum shop_edge_arg a = arg_of(name);
    if (a == SHOP_ARG_COUNT || (r->args & ARG(a)) == 0)
        return bad_arg(m, field_of(name), "unknown query parameter");
    if (m->arg_given[a])
        return bad_arg(m, name, "query parameter given more than once");
    const char *v = eq != NULL ? eq + 1 : s + n;
    size_t v_len = (size_t)(s + n - v);
    len = pct_decode(v, v_len, m->args[a], sizeof(m->args[a]));
    if (len == -1)
        return bad_arg(m, name, "bad percent-encoding");
    if (len == -2)
        return bad_arg(m, name, "longer than " STR(SHOP_ROUTE_ARG_MAX) " bytes");
    if (strlen(m->args[a]) != (size_t)len)
        return bad_arg(m, name, "must not contain NUL");
    m->arg_given[a] = true;
    return 0;
}

/* Splits the query string on '&' (empty pairs are skipped). */
static int take_args(const struct route_def *r, const char *q, size_t n, struct shop_edge_match *m)
{
    if (n > SHOP_ROUTE_QUERY_MAX)
        return bad_arg(m, "query", "query string longer than " STR(SHOP_ROUTE_QUERY_MAX) " bytes");
    while (n > 0) {
        const char *amp = memchr(q, '&', n);
        size_t len = amp != NULL ? (size_t)(amp - q) : n;
        if (len > 0 && take_pair(r, q, len, m) != 0)
            return -1;
        if (amp == NULL)
            break;
        n -= len + 1;
        q = amp + 1;
    }
    return 0;
}

void shop_edge_route_match(const char *method, size_t method_len, const char *path,
                           size_t path_len, const char *query, size_t query_len,
                           struct shop_edge_match *m)
{
    memset(m, 0, sizeof(*m));
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
            if (query != NULL)
                take_args(r, query, query_len, m);
        } else {
            m->status = 405;
        }
        return;
    }
    m->param = NULL;
    m->param_len = 0;
}
