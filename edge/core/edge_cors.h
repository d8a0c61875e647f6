/* SPDX-License-Identifier: MIT
 * CORS decisions for the edge (Fetch standard). Pure: the shell passes the
 * request headers in and copies the answer's header values out.
 */
#ifndef SHOP_EDGE_CORS_H
#define SHOP_EDGE_CORS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/shop_err.h"

#define SHOP_CORS_ORIGINS_MAX 16
#define SHOP_CORS_ORIGIN_LEN 128
/* Prefer and X-Shopstream-After: read-your-writes (docs/api.md). */
#define SHOP_CORS_ALLOW_HEADERS "Authorization, Content-Type, traceparent, Prefer, X-Shopstream-After"
/* Response headers a browser script may read (beyond the CORS-safelisted ones). */
#define SHOP_CORS_EXPOSE_HEADERS                                                               \
    "Retry-After, X-Shopstream-Position, X-Shopstream-Consistency, X-Shopstream-Behind, "        \
    "Preference-Applied"
#define SHOP_CORS_MAX_AGE_S 600

struct shop_edge_cors {
    bool enabled;
    bool any;                 /* "*" */
    size_t n;
    char origins[SHOP_CORS_ORIGINS_MAX][SHOP_CORS_ORIGIN_LEN];
};

/** Parses SHOPSTREAM_EDGE_CORS_ORIGINS: NULL (disabled), "*" or a comma list of origins.
 *  Returns 0 or SHOP_ECONFIG. */
int shop_edge_cors_parse(struct shop_edge_cors *c, const char *list, struct shop_err *err);

/** Value for Access-Control-Allow-Origin on an actual request from origin, or NULL
 *  when no CORS header should be sent. Borrowed from c (or "*"). */
const char *shop_edge_cors_allow_origin(const struct shop_edge_cors *c, const char *origin,
                                        size_t len);

struct shop_edge_preflight {
    int status;                 /* 204 allowed, 403 refused */
    const char *allow_origin;   /* NULL when refused */
    const char *allow_methods;
    const char *allow_headers;
    int max_age_s;
    /* Refused: the request part at fault, for the problem body. */
    const char *field;          /* "origin", "access-control-request-method", ...-headers */
    const char *detail;
};

/** Answers an OPTIONS preflight: the origin must be allowed, the requested method must be in
 *  route_methods ("GET, OPTIONS"), every requested header must be one we allow. */
void shop_edge_cors_preflight(const struct shop_edge_cors *c, const char *origin, size_t origin_len,
                              const char *method, size_t method_len, const char *headers,
                              size_t headers_len, const char *route_methods,
                              struct shop_edge_preflight *out);

#endif
