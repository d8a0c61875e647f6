/* SPDX-License-Identifier: MIT
 * CORS origin matching and preflight answers. Pure. */
#include "edge/core/edge_cors.h"

#include <string.h>
#include <strings.h>

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

int shop_edge_cors_parse(struct shop_edge_cors *c, const char *list, struct shop_err *err)
{
    memset(c, 0, sizeof(*c));
    if (list == NULL || list[0] == '\0')
        return 0;
    c->enabled = true;
    const char *p = list;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        trim(&item, &n);
        if (n == 1 && item[0] == '*') {
            c->any = true;
        } else if (n > 0) {
            if (c->n == SHOP_CORS_ORIGINS_MAX || n >= SHOP_CORS_ORIGIN_LEN)
                return shop_err_set(err, SHOP_ECONFIG, "too many or too long CORS origins");
            memcpy(c->origins[c->n++], item, n);
        }
        p = comma != NULL ? comma + 1 : p + strlen(p);
    }
    return 0;
}

const char *shop_edge_cors_allow_origin(const struct shop_edge_cors *c, const char *origin,
                                        size_t len)
{
    if (!c->enabled || origin == NULL || len == 0)
        return NULL;
    if (c->any)
        return "*";
    for (size_t i = 0; i < c->n; i++) {
        if (strlen(c->origins[i]) == len && memcmp(c->origins[i], origin, len) == 0)
            return c->origins[i];
    }
    return NULL;
}

/* True when the token (e.g. "GET", "traceparent") is one of the comma list items. */
static bool list_has(const char *list, const char *tok, size_t n)
{
    const char *p = list;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t m = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        trim(&item, &m);
        if (m == n && strncasecmp(item, tok, n) == 0)
            return true;
        p = comma != NULL ? comma + 1 : p + strlen(p);
    }
    return false;
}

static bool headers_allowed(const char *h, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && h[j] != ',')
            j++;
        const char *item = h + i;
        size_t n = j - i;
        trim(&item, &n);
        if (n > 0 && !list_has(SHOP_CORS_ALLOW_HEADERS, item, n))
            return false;
        i = j + 1;
    }
    return true;
}

void shop_edge_cors_preflight(const struct shop_edge_cors *c, const char *origin, size_t origin_len,
                              const char *method, size_t method_len, const char *headers,
                              size_t headers_len, const char *route_methods,
                              struct shop_edge_preflight *out)
{
    memset(out, 0, sizeof(*out));
    out->status = 403;
    out->field = "origin";
    out->detail = c->enabled ? "origin not allowed" : "cross-origin requests are not enabled";
    const char *allow = shop_edge_cors_allow_origin(c, origin, origin_len);
    if (allow == NULL)
        return;
    out->field = "access-control-request-method";
    out->detail = "method not allowed here";
    if (method == NULL || method_len == 0)
        return;
    /* Method names are case-sensitive (RFC 9110 9.1). */
    const char *p = route_methods;
    bool method_ok = false;
    while (*p != '\0' && !method_ok) {
        const char *comma = strchr(p, ',');
        size_t m = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        trim(&item, &m);
        method_ok = m == method_len && memcmp(item, method, m) == 0;
        p = comma != NULL ? comma + 1 : p + strlen(p);
    }
    if (!method_ok)
        return;
    out->field = "access-control-request-headers";
    out->detail = "header not allowed";
    if (headers != NULL && !headers_allowed(headers, headers_len))
        return;
    out->status = 204;
    out->field = NULL;
    out->detail = NULL;
    out->allow_origin = allow;
    out->allow_methods = route_methods;
    out->allow_headers = SHOP_CORS_ALLOW_HEADERS;
    out->max_age_s = SHOP_CORS_MAX_AGE_S;
}
