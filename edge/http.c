/* SPDX-License-Identifier: MIT
 * HTTP side of the edge shell: listeners, the router (request dispatch to the
 * handlers), h2o's own errors turned into problem bodies, /healthz, /metrics and
 * /v1/openapi.yaml (docs/openapi.yaml, compiled in); /console is console.c's.
 * Responses are edge/respond.c's, authentication edge/auth.c's: the handlers call
 * those, never this file. Loop threads; the only shared state is struct edge's
 * atomics.
 */
#include "edge/edge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/shop_arena.h"

/* h2o refuses a body past max_request_entity_size itself, before any handler runs, with a
 * plain-text 413 (h2o_send_error_413 on the host's fallback path), and a broken chunked body
 * with a plain-text 400. This output filter sees such a response before its headers leave
 * and swaps in our problem body (the 413's naming the limit), so every error is one. */
struct problem_ostream {
    h2o_ostream_t super;
    h2o_iovec_t body;
    bool sent;
};

/* Loop thread. h2o's own body is dropped; ours goes once, with whatever state it had. */
static void on_problem_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                            h2o_send_state_t state)
{
    struct problem_ostream *p = (struct problem_ostream *)self;
    size_t n = p->sent ? 0 : 1;
    p->sent = true;
    h2o_ostream_send_next(&p->super, req, n != 0 ? &p->body : NULL, n, state);
}

static bool is_h2o_own_error(h2o_req_t *req)
{
    if (req->res.status < 400)
        return false;
    ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    return i < 0 || !h2o_memis(req->res.headers.entries[i].value.base,
                               req->res.headers.entries[i].value.len,
                               H2O_STRLIT("application/problem+json"));
}

static enum shop_edge_route route_of(h2o_req_t *req)
{
    struct shop_edge_match m;
    if (req->path_normalized.base == NULL)
        return SHOP_ROUTE_OTHER;
    shop_edge_route_match(req->method.base, req->method.len, req->path_normalized.base,
                          req->path_normalized.len, NULL, 0, &m);
    return m.status == 404 ? SHOP_ROUTE_OTHER : m.route;
}

/* Loop thread: the response's headers are about to be set up. */
static void on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    if (is_h2o_own_error(req)) {
        struct edge_thread *t = H2O_STRUCT_FROM_MEMBER(struct edge_thread, ctx, req->conn->ctx);
        int status = req->res.status;
        struct shop_problem p = {.index = -1};
        if (status == 413) {
            snprintf(p.field, sizeof(p.field), "body");
            edge_too_large_detail(t->edge, p.detail, sizeof(p.detail));
        } else {
            snprintf(p.detail, sizeof(p.detail), "the HTTP layer refused the request: %s",
                     req->res.reason != NULL ? req->res.reason : edge_reason(status));
        }
        struct shop_arena arena = SHOP_ARENA_INIT;
        const char *json = shop_problem_json(&p, status, edge_reason(status), &arena);
        struct problem_ostream *o = (void *)h2o_add_ostream(req, sizeof(*o), slot);
        o->body = h2o_strdup(&req->pool, json, strlen(json));
        o->sent = false;
        o->super.do_send = on_problem_send;
        shop_arena_fini(&arena);
        slot = &o->super.next;
        req->res.headers = (h2o_headers_t){NULL};
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("application/problem+json"));
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("cache-control"), 0, NULL,
                              H2O_STRLIT("no-store"));
        edge_respond_cors(t, req);
        req->res.content_length = o->body.len;
        req->res.reason = edge_reason(status);
        shop_edge_metrics_request(&t->edge->metrics, route_of(req), status);
    }
    h2o_setup_next_ostream(req, slot);
}

static void answer_preflight(struct edge_thread *t, h2o_req_t *req, const struct shop_edge_match *m)
{
    h2o_iovec_t origin = edge_header(req, H2O_STRLIT("origin"));
    h2o_iovec_t method = edge_header(req, H2O_STRLIT("access-control-request-method"));
    h2o_iovec_t hdrs = edge_header(req, H2O_STRLIT("access-control-request-headers"));
    struct shop_edge_preflight pf;
    shop_edge_cors_preflight(&t->edge->cors, origin.base, origin.len, method.base, method.len,
                             hdrs.base, hdrs.len, m->allow, &pf);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, m->allow, strlen(m->allow));
    if (pf.status == 204) {
        char age[16];
        int n = snprintf(age, sizeof(age), "%d", pf.max_age_s);
        h2o_add_header_by_str(&req->pool, &req->res.headers,
                              H2O_STRLIT("access-control-allow-methods"), 0, NULL, pf.allow_methods,
                              strlen(pf.allow_methods));
        h2o_add_header_by_str(&req->pool, &req->res.headers,
                              H2O_STRLIT("access-control-allow-headers"), 0, NULL, pf.allow_headers,
                              strlen(pf.allow_headers));
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-max-age"),
                              0, NULL, h2o_strdup(&req->pool, age, (size_t)n).base, (size_t)n);
    }
    if (pf.status == 204)
        edge_respond(t, req, m->route, pf.status, NULL, "", 0);
    else
        edge_problem(t, req, m->route, pf.status, -1, pf.field, pf.detail, NULL);
}

static void answer_metrics(struct edge_thread *t, h2o_req_t *req)
{
    struct edge *e = t->edge;
    struct shop_edge_gauges g = {.inflight_events = atomic_load(&e->inflight)};
    for (int i = 0; i < e->n_threads; i++) {
        if (e->threads[i].rk != NULL)
            g.producer_queue_depth += rd_kafka_outq_len(e->threads[i].rk);
        g.producers_down += atomic_load(&e->threads[i].kafka_down) ? 1 : 0;
    }
    /* One snapshot, rendered once: the text cannot be cut off by counters moving. */
    struct shop_edge_metrics_snap snap;
    shop_edge_metrics_snapshot(&e->metrics, &snap);
    size_t len = 0;
    char *text = shop_edge_metrics_render(&snap, &g, &len);
    char *buf = h2o_mem_alloc_pool(&req->pool, len + 1);
    memcpy(buf, text, len + 1);
    free(text);
    edge_respond(t, req, SHOP_ROUTE_METRICS, 200, "text/plain; version=0.0.4", buf, len);
}

static void dispatch(struct edge_thread *t, h2o_req_t *req, const struct shop_edge_match *m)
{
    /* The address's bucket first: a flood is refused before any token is verified. */
    if (edge_limit_address(t, req, m->route) != 0)
        return;
    switch (m->route) {
    case SHOP_ROUTE_EVENTS:
        edge_ingest(t, req);
        return;
    case SHOP_ROUTE_OPENAPI:
        edge_respond(t, req, m->route, 200, "application/yaml", edge_openapi_yaml,
                     edge_openapi_yaml_len);
        return;
    case SHOP_ROUTE_CONSOLE:
        edge_console_page(t, req);
        return;
    case SHOP_ROUTE_OVERVIEW:
        edge_console_overview(t, req, m);
        return;
    case SHOP_ROUTE_HEALTHZ:
        edge_respond(t, req, m->route, 200, "application/json", H2O_STRLIT("{\"status\":\"ok\"}"));
        return;
    case SHOP_ROUTE_METRICS:
        answer_metrics(t, req);
        return;
    case SHOP_ROUTE_READYZ:
        edge_ready_answer(t, req);
        return;
    default:
        edge_read(t, req, m->route, m);
        return;
    }
}

/* Loop thread. Every request enters here. */
static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct edge_thread *t = H2O_STRUCT_FROM_MEMBER(struct edge_thread, ctx, req->conn->ctx);
    struct shop_edge_match m;
    /* path_normalized has no query string; query_at is its '?' in the raw path. */
    bool has_query = req->query_at != SIZE_MAX;
    shop_edge_route_match(req->method.base, req->method.len, req->path_normalized.base,
                          req->path_normalized.len,
                          has_query ? req->path.base + req->query_at + 1 : NULL,
                          has_query ? req->path.len - req->query_at - 1 : 0, &m);
    if (m.status == 404) {
        edge_problem(t, req, SHOP_ROUTE_OTHER, 404, -1, "path", "no such resource", NULL);
    } else if (m.status == 405) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, m.allow,
                       strlen(m.allow));
        edge_problem(t, req, m.route, 405, -1, "method", "method not allowed here", NULL);
    } else if (m.status == 400) {
        edge_problem(t, req, m.route, 400, -1, m.field, m.detail, NULL);
    } else if (m.preflight) {
        answer_preflight(t, req, &m);
    } else {
        dispatch(t, req, &m);
    }
    return 0;
}

int edge_http_setup(struct edge *e, struct shop_err *err)
{
    h2o_config_init(&e->h2o);
    /* h2o refuses a body past our limit before reading it (content-length) or as soon as it
     * grows past it (chunked), so no body larger than the limit is ever buffered; the
     * filter turns h2o's plain 413 into our problem body. It sits on the fallback path,
     * which h2o's early errors use, and on "/" for any later one. */
    e->h2o.max_request_entity_size = e->cfg->body_max;
    /* No cleartext HTTP/2: h2o 2.2.5 would take both "Upgrade: h2c" and the prior-knowledge
     * preface here, and its HTTP/2 side has no idle timeout that PINGs leave alone and lets
     * one connection buffer up to 100 bodies at once. TLS and HTTP/2 end at the ingress. */
    e->h2o.http1.upgrade_to_http2 = 0;
    /* One deadline for a whole request, headers and body, from when h2o starts reading it
     * (the accept, or the previous response on a kept-alive connection, so it is also the
     * idle timeout): h2o closes the connection past it and a slow sender cannot hold a
     * connection and its buffer. */
    e->h2o.http1.req_timeout = (uint64_t)e->cfg->request_timeout_ms;
    h2o_hostconf_t *host = h2o_config_register_host(&e->h2o, h2o_iovec_init(H2O_STRLIT("default")),
                                                    65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = on_req;
    h2o_create_filter(path, sizeof(h2o_filter_t))->on_setup_ostream = on_setup_ostream;
    h2o_create_filter(&host->fallback_path, sizeof(h2o_filter_t))->on_setup_ostream =
        on_setup_ostream;
    return 0;
}

/* Main thread, before the loops start. SO_REUSEPORT: every thread gets its own accept queue. */
int edge_listen(struct edge *e, struct edge_thread *t, struct shop_err *err)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)e->port)};
    if (inet_pton(AF_INET, e->cfg->http_host, &addr.sin_addr) != 1)
        return shop_err_set(err, SHOP_ECONFIG, "SHOPSTREAM_HTTP_HOST is not an IPv4 address: %s",
                            e->cfg->http_host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return shop_err_set(err, SHOP_EIO, "could not create socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, SOMAXCONN) != 0) {
        int saved = errno;
        close(fd);
        return shop_err_set(err, SHOP_EIO, "could not listen on %s:%d: %s", e->cfg->http_host,
                            e->port, strerror(saved));
    }
    if (e->port == 0) {
        socklen_t len = sizeof(addr);
        getsockname(fd, (struct sockaddr *)&addr, &len);
        e->port = ntohs(addr.sin_port);
    }
    t->listen_fd = fd;
    return 0;
}
