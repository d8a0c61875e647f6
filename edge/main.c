/* SPDX-License-Identifier: MIT
 * shopstream-edge: loads the configuration, opens one listener and one
 * producer per loop thread, starts the read pool and the readiness check, and
 * runs the loops. SIGTERM/SIGINT first fails readiness while the edge keeps
 * serving for SHOPSTREAM_EDGE_DRAIN_MS (so load balancers stop sending before
 * the listener goes), then closes the listeners, drains deliveries (bounded)
 * and exits 0; a second signal skips what is left of the drain period. Bad
 * configuration exits 2 listing every error.
 */
#include "edge/edge.h"

#include <errno.h>
#include <openssl/sha.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/shop_arena.h"
#include "base/shop_json_alloc.h"
#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "edge/core/edge_cpus.h"
#include "edge/producer.h"

static struct edge edge;

/* The only getenv caller: the loader sees the environment through shop_getenv_fn. */
static const char *env_get(const char *name)
{
    return getenv(name);
}

/* Lock-free atomics only: async-signal-safe. */
static void on_signal(int sig)
{
    if (atomic_exchange(&edge.draining, 1) != 0)
        atomic_store(&edge.stopping, 1);
}

static void thread_setup(struct edge_thread *t)
{
    struct edge *e = t->edge;
    t->loop = h2o_evloop_create();
    h2o_context_init(&t->ctx, t->loop, &e->h2o);
    t->accept_ctx.ctx = &t->ctx;
    t->accept_ctx.hosts = e->h2o.hosts;
    t->listener = h2o_evloop_socket_create(t->loop, t->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    edge_accept_start(t);
    h2o_timeout_init(t->loop, &t->answer_timeout, (uint64_t)e->cfg->delivery_timeout_ms + 2000);
    edge_kafka_attach(t);
    edge_pg_attach(t);
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = (uint64_t)edge_mono_us() ^ (uint64_t)(uintptr_t)t;   /* only spreads the sets */
    shop_token_cache_init(&t->tokens, e->cfg->jwt_cache_entries, seed);
}

/* Loop thread: stop accepting, then wait (bounded) for this thread's deliveries so every
 * waiting client gets its answer. */
static void thread_drain(struct edge_thread *t)
{
    h2o_socket_read_stop(t->listener);
    h2o_socket_close(t->listener);
    t->listener = NULL;
    int64_t deadline_us = edge_mono_us() + ((int64_t)t->edge->cfg->delivery_timeout_ms + 3000) * 1000;
    while (t->inflight > 0 && edge_mono_us() < deadline_us) {
        h2o_evloop_run(t->loop, 20);
        edge_kafka_drain(t);
    }
    /* A little longer so the last responses reach their sockets. */
    int64_t flush_us = edge_mono_us() + 200000;
    while (edge_mono_us() < flush_us)
        h2o_evloop_run(t->loop, 20);
}

static void *thread_main(void *arg)
{
    struct edge_thread *t = arg;
    thread_setup(t);
    /* The 100 ms cap lets every loop notice a signal; the drain is a safety net only. */
    while (!atomic_load(&t->edge->stopping)) {
        h2o_evloop_run(t->loop, 100);
        edge_kafka_drain(t);
        /* Draining: HTTP/1.1 responses close their keep-alive
         * connection, so clients reconnect (elsewhere) while this edge still answers. */
        if (!t->shutdown_told && atomic_load(&t->edge->draining)) {
            t->shutdown_told = true;
            h2o_context_request_shutdown(&t->ctx);
        }
    }
    thread_drain(t);
    shop_token_cache_fini(&t->tokens);
    return NULL;
}

/* Reads a key file; an HS256 secret file loses its trailing newline. */
static int read_key(const char *path, bool trim, unsigned char **out, size_t *len,
                    struct shop_cfg_errs *errs)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        shop_cfg_errorf(errs, "could not open JWT key file %s: %s", path, strerror(errno));
        return SHOP_ECONFIG;
    }
    unsigned char *buf = shop_xmalloc(65537);
    size_t n = fread(buf, 1, 65536, f);
    fclose(f);
    while (trim && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (n == 0) {
        shop_cfg_errorf(errs, "JWT key file %s is empty", path);
        free(buf);
        return SHOP_ECONFIG;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* The whole of a small file (a cgroup or /proc text) as a string in buf, or NULL. */
static const char *read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The CPU quota of this process's cgroup: the tightest cpu.max from its own cgroup v2
 * up to the root, or cgroup v1's cfs quota as mounted (a container sees its own). */
static int cgroup_cpu_limit(void)
{
    char text[4096], path[PATH_MAX], file[PATH_MAX + 64], q[64], p[64];
    int limit = 0;
    if (read_small("/proc/self/cgroup", text, sizeof(text)) != NULL &&
        shop_edge_cpus_v2_path(text, path, sizeof(path))) {
        for (;;) {
            snprintf(file, sizeof(file), "/sys/fs/cgroup%s/cpu.max",
                     strcmp(path, "/") == 0 ? "" : path);
            limit = shop_edge_cpus_min_limit(
                limit, shop_edge_cpus_from_cpu_max(read_small(file, q, sizeof(q))));
            char *slash = strrchr(path, '/');
            if (slash == NULL || slash == path)
                break;
            *slash = '\0';
        }
    }
    static const char *const v1[] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"};
    for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++) {
        char qf[128], pf[128];
        snprintf(qf, sizeof(qf), "%s/cpu.cfs_quota_us", v1[i]);
        snprintf(pf, sizeof(pf), "%s/cpu.cfs_period_us", v1[i]);
        limit = shop_edge_cpus_min_limit(
            limit, shop_edge_cpus_from_cfs(read_small(qf, q, sizeof(q)), read_small(pf, p, sizeof(p))));
    }
    return limit;
}

/* The default loop thread count: the CPUs this process may run on, not the host's. */
static int usable_cpus(void)
{
    cpu_set_t set;
    int affinity = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
    if (affinity <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        affinity = n > 0 ? (int)n : 1;
    }
    return shop_edge_cpus_usable(affinity, cgroup_cpu_limit());
}

/* Every connection holds a descriptor: take the hard limit, as servers do, and say when
 * the connection cap cannot be reached under it (past it, accept.c refuses with 503). */
static void raise_nofile(const struct shop_edge_config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)cfg->max_connections + 256)
        SHOP_LOG(SHOP_LOG_WARN, "edge", "file descriptor limit below the connection cap",
                 "nofile=%llu max_connections=%d", (unsigned long long)rl.rlim_cur,
                 cfg->max_connections);
}

/* The verification key: a secret, a key file (checked here: exit 2 on a short secret or a
 * key that is no RSA public key), or the JWKS file's first load. */
static void load_jwt_key(const struct shop_edge_config *cfg, struct shop_jwt_verifier *v,
                         struct shop_cfg_errs *errs)
{
    struct shop_err err = {0};
    if (cfg->jwt_jwks_file != NULL) {
        shop_jwt_keyring_init(&edge.keyring);
        edge.cfg = cfg;   /* edge_jwks_load reads the path from it */
        if (edge_jwks_load(&edge, &err) != 0)
            shop_cfg_errorf(errs, "SHOPSTREAM_JWT_JWKS_FILE: %s", err.msg);
        v->keyring = &edge.keyring;
        return;
    }
    unsigned char *key = NULL;
    const char *source = "SHOPSTREAM_JWT_SECRET";
    if (cfg->jwt_secret != NULL) {
        v->key = (const unsigned char *)cfg->jwt_secret;
        v->key_len = strlen(cfg->jwt_secret);
    } else if (cfg->jwt_key_file != NULL &&
               read_key(cfg->jwt_key_file, cfg->jwt_alg == SHOP_JWT_HS256, &key, &v->key_len,
                        errs) == 0) {
        v->key = key;
        source = cfg->jwt_alg == SHOP_JWT_HS256 ? "SHOPSTREAM_JWT_SECRET_FILE"
                                                : "SHOPSTREAM_JWT_PUBLIC_KEY_FILE";
    }
    if (v->key != NULL && shop_jwt_key_check(cfg->jwt_alg, v->key, v->key_len, &err) != 0)
        shop_cfg_errorf(errs, "%s: %s", source, err.msg);
}

static void load_config(struct shop_edge_config *cfg)
{
    struct shop_cfg_errs errs = {0};
    shop_edge_config_load(cfg, env_get, usable_cpus(), &errs);
    struct shop_jwt_verifier *v = &edge.jwt;
    v->alg = cfg->jwt_alg;
    v->issuer = cfg->jwt_issuer;
    v->audience = cfg->jwt_audience;
    v->leeway_s = cfg->jwt_leeway_s;
    v->max_lifetime_s = cfg->jwt_max_lifetime_s;
    load_jwt_key(cfg, v, &errs);   /* its errors join the others: one round of fixes */
    struct shop_err err = {0};
    if (shop_edge_cors_parse(&edge.cors, cfg->cors_origins, &err) != 0)
        shop_cfg_errorf(&errs, "SHOPSTREAM_EDGE_CORS_ORIGINS: %s", err.msg);
    static struct shop_kafka_props kafka_props;
    shop_kafka_props_load(&kafka_props, env_get, edge_kafka_owned, &errs);
    cfg->kafka_props = &kafka_props;
    if (errs.count > 0) {
        for (int i = 0; i < errs.count; i++)
            SHOP_LOG(SHOP_LOG_FATAL, "edge", "bad configuration", "err=\"%s\"", errs.msg[i]);
        exit(2);
    }
    shop_log_level = cfg->log_level;
}

/* The key of the position tokens: SHOPSTREAM_EDGE_POSITION_KEY's SHA-256, so every edge
 * replica given the same text makes and takes the same tokens; without it, a random key
 * (tokens are good on this process only, and none survives a restart). */
static int position_key(struct edge *e, struct shop_err *err)
{
    const char *k = e->cfg->position_key;
    if (k != NULL) {
        SHA256((const unsigned char *)k, strlen(k), e->position_key);
        return 0;
    }
    if (getrandom(e->position_key, sizeof(e->position_key), 0) != (ssize_t)sizeof(e->position_key))
        return shop_err_set(err, SHOP_EIO, "could not draw a random position key");
    SHOP_LOG(SHOP_LOG_WARN, "edge", "SHOPSTREAM_EDGE_POSITION_KEY is not set: position tokens are "
             "good on this process only", "position_key=random");
    return 0;
}

static int start(struct edge *e, struct shop_err *err)
{
    int rc = edge_http_setup(e, err);
    e->threads = shop_xcalloc((size_t)e->n_threads, sizeof(*e->threads));
    for (int i = 0; i < e->n_threads && rc == 0; i++) {
        struct edge_thread *t = &e->threads[i];
        t->edge = e;
        t->index = i;
        atomic_init(&t->kafka_fatal, false);
        atomic_init(&t->kafka_down, false);
        shop_edge_broker_init(&t->broker, EDGE_PROBE_INTERVAL_US);
        rc = edge_listen(e, t, err);
        if (rc == 0)
            rc = edge_kafka_open(e, t, edge_ingest_on_delivery, err);
    }
    if (rc == 0)
        rc = position_key(e, err);
    if (rc == 0)
        rc = edge_console_start(e);   /* before the pool, whose tasks use it */
    if (rc == 0)
        rc = edge_pg_start(e, err);
    if (rc == 0)
        rc = edge_watch_start(e, err);
    if (rc == 0)
        rc = edge_limits_start(e, err);
    if (rc == 0)
        rc = edge_ready_start(e, err);
    return rc;
}

/* Main thread: waits for the first signal, keeps serving (not ready) for the drain period
 * or until a second signal, then tells the loops to stop. */
static void wait_and_drain(struct edge *e)
{
    const struct timespec tick = {.tv_sec = 0, .tv_nsec = 50 * 1000000};
    while (!atomic_load(&e->draining))
        nanosleep(&tick, NULL);
    SHOP_LOG(SHOP_LOG_INFO, "edge", "draining: not ready, still serving", "drain_ms=%d",
             e->cfg->drain_ms);
    int64_t until_us = edge_mono_us() + (int64_t)e->cfg->drain_ms * 1000;
    while (!atomic_load(&e->stopping) && edge_mono_us() < until_us)
        nanosleep(&tick, NULL);
    SHOP_LOG(SHOP_LOG_INFO, "edge", "closing the listeners", "cut_short=%s",
             atomic_load(&e->stopping) ? "yes" : "no");
    atomic_store(&e->stopping, 1);
}

int main(void)
{
    static struct shop_edge_config cfg;
    char desc[4096];
    shop_json_alloc_install();   /* first: before any thread touches jansson */
    load_config(&cfg);
    edge.cfg = &cfg;
    edge.limits = shop_event_limits_default();
    edge.n_threads = cfg.threads;
    edge.port = cfg.http_port;
    shop_edge_metrics_init(&edge.metrics);
    shop_edge_budget_init(&edge.inflight_bytes, cfg.max_inflight_bytes);
    shop_edge_budget_init(&edge.connections, cfg.max_connections);
    raise_nofile(&cfg);
    atomic_init(&edge.inflight, 0);
    atomic_init(&edge.kafka_ok_us, 0);
    atomic_init(&edge.stopping, 0);
    atomic_init(&edge.draining, 0);
    atomic_init(&edge.pg_up, false);
    atomic_init(&edge.pg_replicas_up, 0);
    atomic_init(&edge.kafka_up, false);
    atomic_init(&edge.ready_checked_us, 0);
    atomic_init(&edge.waiters, 0);
    SHOP_LOG(SHOP_LOG_INFO, "edge", "effective configuration", "%s",
             shop_edge_config_describe(&cfg, desc, sizeof(desc)));

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct shop_err err = {0};
    if (start(&edge, &err) != 0) {
        SHOP_LOG(SHOP_LOG_FATAL, "edge", "could not start", "err=\"%s\"", err.msg);
        return err.code == SHOP_ECONFIG ? 2 : 1;
    }
    edge_jwks_watch_start(&edge);
    for (int i = 0; i < edge.n_threads; i++)
        pthread_create(&edge.threads[i].tid, NULL, thread_main, &edge.threads[i]);
    SHOP_LOG(SHOP_LOG_INFO, "edge", "listening", "host=%s port=%d threads=%d", cfg.http_host,
             edge.port, edge.n_threads);

    wait_and_drain(&edge);
    for (int i = 0; i < edge.n_threads; i++)
        pthread_join(edge.threads[i].tid, NULL);
    atomic_store(&edge.stopping, 2);
    edge_watch_stop(&edge);   /* the loops are gone: nobody reads its table any more */
    edge_jwks_watch_stop(&edge);
    edge_ready_stop(&edge);   /* first: its metadata request uses a producer */
    edge_pg_stop(&edge);      /* before the producers: console tasks ask the broker with one */
    edge_console_stop(&edge);
    for (int i = 0; i < edge.n_threads; i++)
        edge_kafka_close(&edge.threads[i], 1000);
    SHOP_LOG(SHOP_LOG_INFO, "edge", "stopped", "inflight=%lld",
             (long long)atomic_load(&edge.inflight));
    return 0;
}
