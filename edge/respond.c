/* SPDX-License-Identifier: MIT
 * The edge's responses: status lines, CORS and cache headers, problem bodies
 * (RFC 9457) with Retry-After and WWW-Authenticate, and the clocks the handlers
 * stamp with. Every handler answers through here; this file calls no handler.
 * Loop threads.
 */
#include "edge/edge.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/shop_arena.h"

int64_t edge_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t edge_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

const char *edge_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";   /* RFC 9110's name, as shop_problem_json's */
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

h2o_iovec_t edge_header(h2o_req_t *req, const char *name, size_t len)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

void edge_respond_cors(struct edge_thread *t, h2o_req_t *req)
{
    h2o_iovec_t origin = edge_header(req, H2O_STRLIT("origin"));
    const char *allow = shop_edge_cors_allow_origin(&t->edge->cors, origin.base, origin.len);
    if (allow == NULL)
        return;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, allow,
                   strlen(allow));
    if (strcmp(allow, "*") != 0)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Origin"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-expose-headers"), 0,
                          NULL, H2O_STRLIT(SHOP_CORS_EXPOSE_HEADERS));
}

/* Loop thread. */
void edge_respond(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route, int status,
                  const char *content_type, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = edge_reason(status);
    if (content_type != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                       strlen(content_type));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("cache-control"), 0, NULL,
                          H2O_STRLIT("no-store"));
    edge_respond_cors(t, req);
    req->res.content_length = len;
    shop_edge_metrics_request(&t->edge->metrics, route, status);
    h2o_send_inline(req, body, len);
}

/* The problem JSON of a too-large body, e.g. "body is larger than 1048576 bytes". */
char *edge_too_large_detail(struct edge *e, char *buf, size_t cap)
{
    snprintf(buf, cap, "body is larger than %zu bytes", e->cfg->body_max);
    return buf;
}

/* Loop thread. */
void edge_problem(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route, int status,
                  int index, const char *field, const char *detail, const char *extra_json)
{
    struct shop_problem p = {.index = index};
    snprintf(p.field, sizeof(p.field), "%s", field != NULL ? field : "");
    /* Every problem has a detail, so every problem has the same members. */
    snprintf(p.detail, sizeof(p.detail), "%s",
             detail != NULL && detail[0] != '\0' ? detail : edge_reason(status));
    struct shop_arena arena = SHOP_ARENA_INIT;
    char *json = shop_problem_json(&p, status, edge_reason(status), &arena);
    size_t len = strlen(json);
    if (extra_json != NULL && len > 0 && json[len - 1] == '}') {
        /* Splice more members into the object: {...,"ids":[...]} */
        h2o_iovec_t joined = h2o_concat(&req->pool, h2o_iovec_init(json, len - 1),
                                        h2o_iovec_init(H2O_STRLIT(",")),
                                        h2o_iovec_init(extra_json, strlen(extra_json)),
                                        h2o_iovec_init(H2O_STRLIT("}")));
        json = joined.base;
        len = joined.len;
    }
    if (status == 503) {
        char ra[16];
        int n = snprintf(ra, sizeof(ra), "%d", t->edge->cfg->retry_after_s);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                       h2o_strdup(&req->pool, ra, (size_t)n).base, (size_t)n);
    }
    if (status == 401)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer"));
    edge_respond(t, req, route, status, "application/problem+json", json, len);
    shop_arena_fini(&arena);
}

