/* SPDX-License-Identifier: MIT
 * The worker's HTTP endpoint: /healthz, /readyz and /metrics served on the worker's
 * own uv loop by libh2o built for libuv (Debian's libh2o-dev), so a scrape sees the
 * loop's state between two callbacks and needs no lock. Requests are answered at once
 * from memory (the registry, librdkafka's cached watermarks, the worker's flags): no
 * handler blocks. h2o's own handles are unreferenced, so only the listener and open
 * connections keep the loop alive, and shutdown closes those. Shell. Loop thread.
 */
#include <arpa/inet.h>
#include <h2o.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/shop_log.h"
#include "workers/worker.h"

#define PG_PROBE_MS 5000           /* an idle worker asks PostgreSQL this often */
#define LAGS_MAX 1024              /* partitions reported per scrape */
#define REQ_TIMEOUT_MS 10000       /* a connection's time to send its request */

struct worker_http {
    struct worker *w;
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    uv_tcp_t listener;
    bool listening;
    h2o_linklist_t conns;          /* struct http_conn, open connections */
};

struct http_handler {
    h2o_handler_t super;
    struct worker_http *http;
};

/* One accepted connection; h2o owns it once h2o_accept ran and closes the handle. */
struct http_conn {
    uv_tcp_t tcp;
    h2o_linklist_t link;
};

static void respond(h2o_req_t *req, int status, const char *reason, const char *ctype, const char *body,
                    size_t len)
{
    req->res.status = status;
    req->res.reason = reason;
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, strlen(ctype));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    h2o_send_inline(req, body, len);
}

static void respond_problem(h2o_req_t *req, int status, const char *title, const char *field, const char *detail)
{
    struct shop_problem p = {.index = -1};
    snprintf(p.field, sizeof(p.field), "%s", field);
    snprintf(p.detail, sizeof(p.detail), "%s", detail);
    struct shop_arena arena = SHOP_ARENA_INIT;
    const char *json = shop_problem_json(&p, status, title, &arena);
    respond(req, status, title, "application/problem+json", json, strlen(json));
    shop_arena_fini(&arena);
}

static int64_t total_lag(const struct shop_wm_lag *lags, size_t n)
{
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += lags[i].lag;
    return sum;
}

static bool pg_up(const struct worker *w)
{
    return w->conn != NULL && PQstatus(w->conn) == CONNECTION_OK && !w->pg_down;
}

static void answer_ready(struct worker *w, h2o_req_t *req)
{
    static struct shop_wm_lag lags[LAGS_MAX];
    size_t n = worker_kafka_lags(w, lags, LAGS_MAX);
    struct shop_wm_ready_in in = {.unready = w->unready, .assigned = w->n_parts, .pg_up = pg_up(w),
                                  .lag = total_lag(lags, n), .max_lag = w->cfg->ready_max_lag};
    char body[512];
    int status = shop_wm_ready(&in, body, sizeof(body));
    respond(req, status, status == 200 ? "OK" : "Service Unavailable", "application/json", body, strlen(body));
}

static void answer_metrics(struct worker *w, h2o_req_t *req)
{
    static struct shop_wm_lag lags[LAGS_MAX];
    struct shop_wm_view v = {.role = w->role->name, .group = w->cfg->group_id, .lags = lags,
                             .n_lags = worker_kafka_lags(w, lags, LAGS_MAX), .partitions_paused = w->paused_parts,
                             .outbox_depth = w->outbox_depth};
    struct shop_prom out = SHOP_PROM_INIT;
    shop_wm_render(&w->metrics, &v, &out);
    if (w->role->metrics != NULL) {
        struct shop_prom_label base[2];
        shop_wm_base_labels(&v, base);
        w->role->metrics(w, &out, base, 2);
    }
    size_t len = 0;
    char *text = shop_prom_take(&out, &len);
    respond(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", text, len);   /* copied to the pool */
    free(text);
}

/* Loop thread. Every request enters here. */
static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    struct worker *w = ((struct http_handler *)self)->http->w;
    bool get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
               h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    h2o_iovec_t path = req->path_normalized;
    bool healthz = h2o_memis(path.base, path.len, H2O_STRLIT("/healthz"));
    bool readyz = h2o_memis(path.base, path.len, H2O_STRLIT("/readyz"));
    bool metrics = h2o_memis(path.base, path.len, H2O_STRLIT("/metrics"));
    if (!healthz && !readyz && !metrics) {
        respond_problem(req, 404, "Not Found", "path", "no such resource: /healthz, /readyz and /metrics are served");
    } else if (!get) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, H2O_STRLIT("GET, HEAD"));
        respond_problem(req, 405, "Method Not Allowed", "method", "only GET and HEAD are allowed here");
    } else if (healthz) {
        respond(req, 200, "OK", "application/json", H2O_STRLIT("{\"status\":\"ok\"}"));   /* the loop runs */
    } else if (readyz) {
        answer_ready(w, req);
    } else {
        answer_metrics(w, req);
    }
    return 0;
}

static void on_conn_closed(uv_handle_t *handle)
{
    struct http_conn *c = H2O_STRUCT_FROM_MEMBER(struct http_conn, tcp, handle);
    h2o_linklist_unlink(&c->link);
    free(c);
}

static void on_refused_closed(uv_handle_t *handle)
{
    free(H2O_STRUCT_FROM_MEMBER(struct http_conn, tcp, handle));
}

static void on_accept(uv_stream_t *listener, int status)
{
    struct worker_http *http = listener->data;
    if (status < 0)
        return;
    struct http_conn *c = shop_xcalloc(1, sizeof(*c));
    uv_tcp_init(listener->loop, &c->tcp);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_refused_closed);
        return;
    }
    h2o_linklist_insert(&http->conns, &c->link);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed);
    h2o_accept(&http->accept_ctx, sock);
}

static void on_unref(uv_handle_t *handle, void *arg)
{
    uv_unref(handle);
}

/* The router: one path, every request to on_req; h2o's handles made by its context
 * (timers, its thread queue) must not keep the loop alive. */
static void setup_h2o(struct worker_http *http)
{
    h2o_config_init(&http->config);
    http->config.http1.req_timeout = REQ_TIMEOUT_MS;
    h2o_hostconf_t *host = h2o_config_register_host(&http->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    struct http_handler *h = (void *)h2o_create_handler(path, sizeof(*h));
    h->super.on_req = on_req;
    h->http = http;
    h2o_context_init(&http->ctx, http->w->loop, &http->config);
    uv_walk(http->w->loop, on_unref, NULL);
    http->accept_ctx.ctx = &http->ctx;
    http->accept_ctx.hosts = http->config.hosts;
    h2o_linklist_init_anchor(&http->conns);
}

static int parse_addr(const struct shop_worker_cfg *cfg, struct sockaddr_storage *addr, struct shop_err *err)
{
    if (uv_ip4_addr(cfg->http_addr, (int)cfg->http_port, (struct sockaddr_in *)addr) == 0 ||
        uv_ip6_addr(cfg->http_addr, (int)cfg->http_port, (struct sockaddr_in6 *)addr) == 0)
        return 0;
    return shop_err_set(err, SHOP_ECONFIG, "SHOPSTREAM_WORKER_HTTP_ADDR must be an IPv4 or IPv6 address, got \"%s\"",
                        cfg->http_addr);
}

int worker_http_start(struct worker *w, struct shop_err *err)
{
    struct sockaddr_storage addr;
    if (w->cfg->http_port == 0)
        return 0;
    if (parse_addr(w->cfg, &addr, err) < 0)
        return err->code;
    struct worker_http *http = shop_xcalloc(1, sizeof(*http));
    http->w = w;
    w->http = http;
    setup_h2o(http);
    uv_tcp_init(w->loop, &http->listener);
    http->listener.data = http;
    http->listening = true;
    int rc = uv_tcp_bind(&http->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&http->listener, 128, on_accept);
    if (rc < 0)
        return shop_err_set(err, SHOP_EIO, "could not listen on %s:%" PRId64 ": %s", w->cfg->http_addr,
                            w->cfg->http_port, uv_strerror(rc));
    SHOP_LOG(SHOP_LOG_INFO, "worker", "http endpoint listening", "addr=%s port=%" PRId64, w->cfg->http_addr,
             w->cfg->http_port);
    return 0;
}

static void on_served(uv_timer_t *handle)
{
    uv_stop(handle->loop);
}

int worker_http_serve_for(struct worker *w, int64_t ms)
{
    if (w->http == NULL || !w->http->listening)
        return SHOP_EINVAL;
    uv_timer_t t;
    uv_timer_init(w->loop, &t);
    uv_timer_start(&t, on_served, (uint64_t)ms, 0);
    uv_run(w->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(w->loop, UV_RUN_NOWAIT);          /* t's close, before it leaves the stack */
    return 0;
}

void worker_http_cron(struct worker *w)
{
    if (w->http == NULL || w->pg_down || w->batch.n > 0)
        return;
    if (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK) {
        /* A role's own statement (the relay's) lost the connection and no batch came to
         * notice: recover now, so /readyz turns ready again without waiting for an event. */
        worker_pg_failed(w, "the connection to postgresql was lost");
        return;
    }
    if (uv_now(w->loop) - w->pg_seen_ms < PG_PROBE_MS)
        return;
    PGresult *res = PQexec(w->conn, "select 1");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (ok) {
        w->pg_seen_ms = uv_now(w->loop);
        return;
    }
    char why[256];
    snprintf(why, sizeof(why), "the readiness probe failed: %s", PQerrorMessage(w->conn));
    for (char *c = why; *c != '\0'; c++)
        if (*c == '\n' || *c == '"')
            *c = ' ';
    worker_pg_failed(w, why);                /* logged once per outage there */
}

void worker_http_stop(struct worker *w)
{
    struct worker_http *http = w->http;
    if (http == NULL || !http->listening)
        return;
    http->listening = false;
    uv_close((uv_handle_t *)&http->listener, NULL);
    h2o_context_request_shutdown(&http->ctx);     /* no keep-alive from now on */
    /* An idle connection reads EOF and h2o closes it; one answering closes after it. */
    for (h2o_linklist_t *n = http->conns.next; n != &http->conns; n = n->next) {
        struct http_conn *c = H2O_STRUCT_FROM_MEMBER(struct http_conn, link, n);
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
            shutdown(fd, SHUT_RD);
    }
}

void worker_http_free(struct worker *w)
{
    if (w->http == NULL)
        return;
    /* request_shutdown armed HTTP/2's graceful-shutdown tick; no connection is left for it. */
    if (h2o_timeout_is_linked(&w->http->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&w->http->ctx.http2._graceful_shutdown_timeout);
    h2o_context_dispose(&w->http->ctx);       /* closes its handles; runs the loop once */
    h2o_config_dispose(&w->http->config);
    free(w->http);
    w->http = NULL;
}
