/* SPDX-License-Identifier: MIT
 * Per-client rate limits in the shell: one bucket per token subject and one per client
 * address, per route class (ingest, reads), with the arithmetic and the bounded table in
 * edge/core/edge_ratelimit.c.
 *
 * One table is shared by every loop thread, guarded by striped mutexes (a set always maps
 * to the same stripe). Per-thread tables would need no lock, but SO_REUSEPORT spreads a
 * client's connections over the threads, so the effective limit would be anywhere up to
 * threads x quota and the RateLimit fields would lie; a stripe is held for a few dozen
 * nanoseconds, and two threads only wait for each other on the same stripe.
 */
#include "edge/edge.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "base/shop_arena.h"
#include "base/shop_log.h"

#define STRIPES 64

struct edge_limits {
    struct shop_rl_table table;
    pthread_mutex_t stripe[STRIPES];
};

static const char *const class_names[SHOP_RL_CLASSES] = {"ingest", "reads"};
static const char *const kind_names[SHOP_RL_KINDS] = {"subject", "address"};

/* A secret seed, so nobody can aim keys at one set. */
static int random_seed(uint64_t seed[2], struct shop_err *err)
{
    if (getrandom(seed, 2 * sizeof(uint64_t), 0) == (ssize_t)(2 * sizeof(uint64_t)))
        return 0;
    return shop_err_set(err, SHOP_EIO, "could not read random bytes for the rate-limit seed");
}

int edge_limits_start(struct edge *e, struct shop_err *err)
{
    if (e->cfg->rl_ingest.quota == 0 && e->cfg->rl_reads.quota == 0)
        return 0;
    uint64_t seed[2];
    if (random_seed(seed, err) != 0)
        return err->code;
    struct edge_limits *l = shop_xcalloc(1, sizeof(*l));
    shop_rl_table_init(&l->table, (size_t)e->cfg->rl_clients, seed[0], seed[1]);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&l->stripe[i], NULL);
    e->rl = l;
    return 0;
}

static bool class_of(enum shop_edge_route route, enum shop_rl_class *c)
{
    switch (route) {
    case SHOP_ROUTE_EVENTS: *c = SHOP_RL_INGEST; return true;
    case SHOP_ROUTE_CART:
    case SHOP_ROUTE_ORDERS:
    case SHOP_ROUTE_ORDER:
    case SHOP_ROUTE_PRODUCT:
    case SHOP_ROUTE_RECS:
    case SHOP_ROUTE_SIMILAR:
    case SHOP_ROUTE_SEGMENT:
    case SHOP_ROUTE_SEGMENTS:
    case SHOP_ROUTE_FORECAST:
    case SHOP_ROUTE_ACTIVITY:
    case SHOP_ROUTE_REVENUE:
    case SHOP_ROUTE_TOP_PRODUCTS:
    case SHOP_ROUTE_FUNNEL:
    case SHOP_ROUTE_OVERVIEW: *c = SHOP_RL_READS; return true;
    default: return false;
    }
}

static void add_header(h2o_req_t *req, const char *name, size_t name_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_header(h2o_req_t *req, const char *name, size_t name_len, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return;
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, name_len, 0, NULL,
                          h2o_strdup(&req->pool, buf, (size_t)n).base, (size_t)n);
}

/* Loop thread: one bucket decision. The RateLimit fields (draft-ietf-httpapi-ratelimit-headers)
 * go on whatever the answer is; past the limit the answer is 429 with Retry-After. Returns 0,
 * or -1 when it answered. */
static int limit(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route,
                 enum shop_rl_class c, enum shop_rl_keykind k, const void *key, size_t len)
{
    struct edge *e = t->edge;
    const struct shop_rl_policy *p = c == SHOP_RL_INGEST ? &e->cfg->rl_ingest : &e->cfg->rl_reads;
    struct edge_limits *l = e->rl;
    if (l == NULL || p->quota == 0)
        return 0;
    /* The key names its class and kind, so one table holds every bucket. */
    char buf[2 + SHOP_JWT_SUB_MAX + 16];
    buf[0] = (char)('0' + c);
    buf[1] = (char)('0' + k);
    if (len > sizeof(buf) - 2)
        len = sizeof(buf) - 2;
    memcpy(buf + 2, key, len);
    uint64_t h = shop_rl_hash(&l->table, buf, len + 2);
    pthread_mutex_t *mu = &l->stripe[shop_rl_set_of(&l->table, h) % STRIPES];
    struct shop_rl_result r;
    pthread_mutex_lock(mu);
    shop_rl_take(&l->table, h, p, edge_mono_us(), &r);
    pthread_mutex_unlock(mu);
    add_header(req, H2O_STRLIT("ratelimit-policy"), "\"%s-%s\";q=%lld;w=%lld", class_names[c],
               kind_names[k], (long long)p->quota, (long long)p->window_s);
    add_header(req, H2O_STRLIT("ratelimit"), "\"%s-%s\";r=%lld;t=%lld", class_names[c],
               kind_names[k], (long long)r.remaining, (long long)r.reset_s);
    if (r.allowed)
        return 0;
    add_header(req, H2O_STRLIT("retry-after"), "%lld", (long long)r.retry_after_s);
    shop_edge_metrics_rate_limited(&e->metrics, c, k);
    char detail[160];
    snprintf(detail, sizeof(detail), "more than %lld %s requests per %lld s for this %s",
             (long long)p->quota, class_names[c], (long long)p->window_s,
             k == SHOP_RL_BY_SUBJECT ? "token subject" : "client address");
    edge_problem(t, req, route, 429, -1, "", detail, NULL);
    return -1;
}

/* The peer as 16 bytes (IPv4 mapped into IPv6); false when h2o cannot tell. */
static bool peer_of(h2o_req_t *req, uint8_t out[16])
{
    struct sockaddr_storage ss;
    if (req->conn->callbacks->get_peername == NULL ||
        req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss) == 0)
        return false;
    if (ss.ss_family == AF_INET) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(out, mapped, 12);
        memcpy(out + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        return true;
    }
    if (ss.ss_family == AF_INET6) {
        memcpy(out, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        return true;
    }
    return false;
}

int edge_limit_address(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route)
{
    enum shop_rl_class c;
    if (t->edge->rl == NULL || !class_of(route, &c))
        return 0;
    uint8_t peer[16], client[16];
    if (!peer_of(req, peer))
        return 0;
    /* Every X-Forwarded-For field line, in order, as one list. */
    h2o_iovec_t xff = {NULL, 0};
    if (t->edge->cfg->trusted_proxies.n > 0) {
        for (ssize_t i = -1; (i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("x-forwarded-for"),
                                                          i)) >= 0;) {
            h2o_iovec_t v = req->headers.entries[i].value;
            xff = xff.base == NULL ? v
                                   : h2o_concat(&req->pool, xff, h2o_iovec_init(H2O_STRLIT(",")), v);
        }
    }
    shop_rl_client_addr(&t->edge->cfg->trusted_proxies, peer, xff.base, xff.len, client);
    return limit(t, req, route, c, SHOP_RL_BY_ADDRESS, client, sizeof(client));
}

int edge_limit_subject(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route,
                       const char *sub)
{
    enum shop_rl_class c;
    if (t->edge->rl == NULL || !class_of(route, &c))
        return 0;
    return limit(t, req, route, c, SHOP_RL_BY_SUBJECT, sub, strnlen(sub, SHOP_JWT_SUB_MAX));
}
