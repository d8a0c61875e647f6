/* SPDX-License-Identifier: MIT
 * Loads the edge configuration from SHOPSTREAM_* variables. Pure; reports
 * every error at once so an operator fixes them in one round. */
#define _POSIX_C_SOURCE 200809L
#include "edge/core/edge_config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/shop_defaults.h"
#include "base/shop_err.h"
#include "base/shop_redact.h"

static const char *opt_str(shop_getenv_fn get, const char *name)
{
    return shop_cfg_str(get, name, NULL);
}

static void load_jwt(struct shop_edge_config *cfg, shop_getenv_fn get, struct shop_cfg_errs *errs)
{
    const char *secret = opt_str(get, "SHOPSTREAM_JWT_SECRET");
    const char *secret_file = opt_str(get, "SHOPSTREAM_JWT_SECRET_FILE");
    const char *pub_file = opt_str(get, "SHOPSTREAM_JWT_PUBLIC_KEY_FILE");
    const char *jwks_file = opt_str(get, "SHOPSTREAM_JWT_JWKS_FILE");
    int n = (secret != NULL) + (secret_file != NULL) + (pub_file != NULL) + (jwks_file != NULL);
    if (n != 1) {
        shop_cfg_errorf(errs, "exactly one of SHOPSTREAM_JWT_SECRET, SHOPSTREAM_JWT_SECRET_FILE, "
                              "SHOPSTREAM_JWT_PUBLIC_KEY_FILE, SHOPSTREAM_JWT_JWKS_FILE must be "
                              "set (%d are)", n);
    }
    cfg->jwt_alg = (pub_file != NULL || jwks_file != NULL) && n == 1 ? SHOP_JWT_RS256 : SHOP_JWT_HS256;
    cfg->jwt_secret = secret;
    cfg->jwt_key_file = pub_file != NULL ? pub_file : secret_file;
    /* RS256 keys chosen by kid, re-read when the file changes (key rotation). */
    cfg->jwt_jwks_file = jwks_file;
    /* RFC 7518 3.2: an HS256 key must be at least as long as the hash. */
    if (secret != NULL && strlen(secret) < SHOP_JWT_SECRET_MIN)
        shop_cfg_errorf(errs, "SHOPSTREAM_JWT_SECRET must be at least %d bytes", SHOP_JWT_SECRET_MIN);
    cfg->jwt_issuer = opt_str(get, "SHOPSTREAM_JWT_ISSUER");
    cfg->jwt_audience = opt_str(get, "SHOPSTREAM_JWT_AUDIENCE");
    cfg->jwt_leeway_s = shop_cfg_int(get, "SHOPSTREAM_JWT_LEEWAY_S", 30, 0, 600, errs);
    cfg->jwt_cache_entries = (size_t)shop_cfg_int(get, "SHOPSTREAM_JWT_CACHE_ENTRIES", 8192, 0, 1 << 20, errs);
    /* 0: any lifetime. Else exp - iat (exp - now without iat) must be at most this. */
    cfg->jwt_max_lifetime_s = shop_cfg_int(get, "SHOPSTREAM_JWT_MAX_LIFETIME_S", 0, 0,
                                           INT64_C(366) * 86400, errs);
}

static void load_services(struct shop_edge_config *cfg, shop_getenv_fn get,
                          struct shop_cfg_errs *errs)
{
    cfg->kafka_brokers = opt_str(get, "SHOPSTREAM_KAFKA_BROKERS");
    if (cfg->kafka_brokers == NULL)
        shop_cfg_errorf(errs, "SHOPSTREAM_KAFKA_BROKERS must be set");
    cfg->topic_prefix = shop_cfg_str(get, "SHOPSTREAM_TOPIC_PREFIX", SHOP_DEFAULT_TOPIC_PREFIX);
    if (strlen(cfg->topic_prefix) > 200 || strspn(cfg->topic_prefix,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            strlen(cfg->topic_prefix))
        shop_cfg_errorf(errs, "SHOPSTREAM_TOPIC_PREFIX may only hold [A-Za-z0-9._-], got \"%s\"",
                        cfg->topic_prefix);
    cfg->pg_dsn = opt_str(get, "SHOPSTREAM_PG_DSN");
    if (cfg->pg_dsn == NULL)
        shop_cfg_errorf(errs, "SHOPSTREAM_PG_DSN must be set");
    cfg->delivery_timeout_ms =
        (int)shop_cfg_int(get, "SHOPSTREAM_KAFKA_DELIVERY_TIMEOUT_MS", 5000, 100, 300000, errs);
    cfg->pg_pool = (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_PG_POOL", 2, 1, 64, errs);
    cfg->pg_timeout_ms = (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_PG_TIMEOUT_MS", 2000, 100, 60000, errs);
}

static bool is_blank(char c)
{
    return isspace((unsigned char)c) != 0;
}

/* Past one entry starting at s: to its ';' or the end; NULL on an unterminated quote. */
static const char *entry_end(const char *s)
{
    while (is_blank(*s))
        s++;
    if (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0)
        return s + strcspn(s, ";");
    bool quoted = false;
    for (; *s != '\0'; s++) {
        if (quoted && *s == '\\' && s[1] != '\0')
            s++;
        else if (*s == '\'')
            quoted = !quoted;
        else if (*s == ';' && !quoted)
            break;
    }
    return quoted ? NULL : s;
}

int shop_edge_dsn_split(const char *list, struct shop_edge_dsn_span *spans, int max,
                        struct shop_err *err)
{
    int n = 0;
    for (const char *at = list;;) {
        const char *end = entry_end(at);
        if (end == NULL)
            return shop_err_set(err, SHOP_EINVAL, "entry %d has an unterminated quote", n + 1);
        const char *b = at, *e = end;
        while (b < e && is_blank(*b))
            b++;
        while (e > b && is_blank(e[-1]))
            e--;
        if (b == e)
            return shop_err_set(err, SHOP_EINVAL, "entry %d is empty", n + 1);
        if (n == max)
            return shop_err_set(err, SHOP_EINVAL, "more than %d entries", max);
        spans[n].off = (size_t)(b - list);
        spans[n].len = (size_t)(e - b);
        n++;
        if (*end == '\0')
            return n;
        at = end + 1;
    }
}

/* Replicas for the reads. Each read-pool thread keeps to one, so more replicas than
 * threads would leave some without reads. */
static void load_replicas(struct shop_edge_config *cfg, shop_getenv_fn get,
                          struct shop_cfg_errs *errs)
{
    cfg->pg_read_dsn = opt_str(get, "SHOPSTREAM_PG_READ_DSN");
    if (cfg->pg_read_dsn == NULL)
        return;
    struct shop_err err = {0};
    int n = shop_edge_dsn_split(cfg->pg_read_dsn, cfg->pg_read, SHOP_EDGE_READ_DSN_MAX, &err);
    if (n < 0) {
        shop_cfg_errorf(errs, "SHOPSTREAM_PG_READ_DSN: %s", err.msg);
        return;
    }
    cfg->pg_read_n = n;
    if (n > cfg->pg_pool)
        shop_cfg_errorf(errs, "SHOPSTREAM_PG_READ_DSN names %d replicas but SHOPSTREAM_EDGE_PG_POOL "
                              "is %d: each pool thread reads from one replica", n, cfg->pg_pool);
}

/* Bounds on what clients can make the edge hold: connections, time, bytes. */
static void load_limits(struct shop_edge_config *cfg, shop_getenv_fn get,
                        struct shop_cfg_errs *errs)
{
    cfg->max_inflight_bytes = shop_cfg_int(get, "SHOPSTREAM_EDGE_MAX_INFLIGHT_BYTES", 256 << 20,
                                           1 << 20, (int64_t)1 << 40, errs);
    cfg->max_connections =
        (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_MAX_CONNECTIONS", 4096, 1, 1000000, errs);
    cfg->request_timeout_ms =
        (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_REQUEST_TIMEOUT_MS", 10000, 100, 600000, errs);
}

static void load_ratelimit(struct shop_rl_policy *p, shop_getenv_fn get, const char *quota,
                           const char *window, struct shop_cfg_errs *errs)
{
    p->quota = shop_cfg_int(get, quota, 0, 0, 1000000, errs);
    p->window_s = shop_cfg_int(get, window, 1, 1, 86400, errs);
}

static void load_ops(struct shop_edge_config *cfg, shop_getenv_fn get, struct shop_cfg_errs *errs)
{
    cfg->ready_interval_ms =
        (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_READY_INTERVAL_MS", 1000, 100, 60000, errs);
    cfg->drain_ms = (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_DRAIN_MS", 5000, 0, 600000, errs);
    cfg->read_queue_timeout_ms =
        (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS", 1000, 10, 60000, errs);
    load_ratelimit(&cfg->rl_ingest, get, "SHOPSTREAM_EDGE_RATELIMIT_INGEST",
                   "SHOPSTREAM_EDGE_RATELIMIT_INGEST_WINDOW_S", errs);
    load_ratelimit(&cfg->rl_reads, get, "SHOPSTREAM_EDGE_RATELIMIT_READS",
                   "SHOPSTREAM_EDGE_RATELIMIT_READS_WINDOW_S", errs);
    cfg->rl_clients =
        shop_cfg_int(get, "SHOPSTREAM_EDGE_RATELIMIT_CLIENTS", 65536, 64, 1 << 24, errs);
    struct shop_err err = {0};
    if (shop_rl_proxies_parse(&cfg->trusted_proxies, opt_str(get, "SHOPSTREAM_EDGE_TRUSTED_PROXIES"),
                              &err) != 0)
        shop_cfg_errorf(errs, "SHOPSTREAM_EDGE_TRUSTED_PROXIES: %s", err.msg);
}

static bool name_ok(const char *s)
{
    return s[0] != '\0' && strlen(s) <= 200 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(s);
}

/* Read-your-writes: the token key, and the groups whose offsets a read waits for. A key
 * shared by every edge replica makes a token good on any of them. */
static void load_fresh(struct shop_edge_config *cfg, shop_getenv_fn get, struct shop_cfg_errs *errs)
{
    static const char *const vars[SHOP_WORKER_ROLE_COUNT] = {
        [SHOP_WORKER_PROJECTOR] = "SHOPSTREAM_EDGE_GROUP_PROJECTOR",
        [SHOP_WORKER_INVENTORY] = "SHOPSTREAM_EDGE_GROUP_INVENTORY",
        [SHOP_WORKER_ML] = "SHOPSTREAM_EDGE_GROUP_ML",
        [SHOP_WORKER_NOTIFY] = "SHOPSTREAM_EDGE_GROUP_NOTIFY",   /* no read waits for it (edge_fresh.c) */
    };
    cfg->position_key = opt_str(get, "SHOPSTREAM_EDGE_POSITION_KEY");
    if (cfg->position_key != NULL && strlen(cfg->position_key) < 16)
        shop_cfg_errorf(errs, "SHOPSTREAM_EDGE_POSITION_KEY must be at least 16 characters");
    for (int r = 0; r < SHOP_WORKER_ROLE_COUNT; r++) {
        cfg->read_groups[r] = shop_cfg_str(get, vars[r], shop_role_desc((enum shop_worker_role)r)->group);
        if (!name_ok(cfg->read_groups[r]))
            shop_cfg_errorf(errs, "%s may only hold [A-Za-z0-9._-], got \"%s\"", vars[r],
                            cfg->read_groups[r]);
    }
    cfg->max_waiters = (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_MAX_WAITERS", 10000, 0, 1000000, errs);
    cfg->watch_ms = (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_WATCH_MS", 50, 5, 1000, errs);
}

int shop_edge_config_load(struct shop_edge_config *cfg, shop_getenv_fn get, int ncpu,
                          struct shop_cfg_errs *errs)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->http_host = shop_cfg_str(get, "SHOPSTREAM_HTTP_HOST", "0.0.0.0");
    cfg->http_port = (int)shop_cfg_int(get, "SHOPSTREAM_HTTP_PORT", 8080, 0, 65535, errs);
    load_services(cfg, get, errs);
    load_replicas(cfg, get, errs);
    load_jwt(cfg, get, errs);
    cfg->body_max = (size_t)shop_cfg_int(get, "SHOPSTREAM_EDGE_BODY_MAX", 1 << 20, 256, 64 << 20, errs);
    /* Far below the broker's 1 MiB record limit; the largest valid event (order.placed, 100
     * lines) is about 10 KiB. */
    cfg->event_max = (size_t)shop_cfg_int(get, "SHOPSTREAM_EDGE_EVENT_MAX", 64 << 10, 256, 1 << 20, errs);
    cfg->threads = (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_THREADS", ncpu > 0 ? ncpu : 1, 1, 256, errs);
    cfg->max_inflight = shop_cfg_int(get, "SHOPSTREAM_EDGE_MAX_INFLIGHT", 100000, 1, 100000000, errs);
    cfg->retry_after_s = (int)shop_cfg_int(get, "SHOPSTREAM_EDGE_RETRY_AFTER_S", 1, 1, 3600, errs);
    load_limits(cfg, get, errs);
    cfg->cors_origins = opt_str(get, "SHOPSTREAM_EDGE_CORS_ORIGINS");
    load_ops(cfg, get, errs);
    load_fresh(cfg, get, errs);
    const char *level = shop_cfg_str(get, "SHOPSTREAM_LOG_LEVEL", "info");
    if (shop_log_level_parse(level, &cfg->log_level) != 0)
        shop_cfg_errorf(errs, "SHOPSTREAM_LOG_LEVEL must be debug, info, warn or error, got \"%s\"",
                        level);
    return errs->count == 0 ? 0 : SHOP_ECONFIG;
}

static const char *or_unset(const char *s)
{
    return s != NULL ? s : "(unset)";
}

/* Appends pg_read_dsn="a;b" (each entry redacted), or nothing without replicas. */
static void describe_replicas(const struct shop_edge_config *cfg, char *buf, size_t cap)
{
    size_t used = strlen(buf);
    if (cfg->pg_read_n == 0 || used + 16 >= cap)
        return;
    used += (size_t)snprintf(buf + used, cap - used, " pg_read_dsn=\"");
    /* used may pass cap (snprintf counts what it cut); the loop and the close check it. */
    for (int i = 0; i < cfg->pg_read_n && used + 2 < cap; i++) {
        char one[512], safe[512];
        size_t len = cfg->pg_read[i].len < sizeof(one) - 1 ? cfg->pg_read[i].len : sizeof(one) - 1;
        memcpy(one, cfg->pg_read_dsn + cfg->pg_read[i].off, len);
        one[len] = '\0';
        shop_redact_dsn(one, safe, sizeof(safe));
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i > 0 ? ";" : "", safe);
    }
    if (used + 1 < cap)
        snprintf(buf + used, cap - used, "\"");
}

char *shop_edge_config_describe(const struct shop_edge_config *cfg, char *buf, size_t cap)
{
    char dsn[512];
    if (cfg->pg_dsn != NULL)
        shop_redact_dsn(cfg->pg_dsn, dsn, sizeof(dsn));
    int len = snprintf(buf, cap,
             "http=%s:%d kafka_brokers=%s topic_prefix=%s pg_dsn=\"%s\" jwt_alg=%s jwt_key=%s "
             "jwt_jwks=%s jwt_max_lifetime_s=%lld jwt_issuer=%s jwt_audience=%s jwt_leeway_s=%lld "
             "body_max=%zu event_max=%zu threads=%d "
             "max_inflight=%lld delivery_timeout_ms=%d retry_after_s=%d cors_origins=\"%s\" "
             "pg_pool=%d pg_timeout_ms=%d",
             cfg->http_host, cfg->http_port, or_unset(cfg->kafka_brokers), cfg->topic_prefix,
             cfg->pg_dsn != NULL ? dsn : "(unset)",
             shop_jwt_alg_name(cfg->jwt_alg),
             cfg->jwt_secret != NULL ? "(redacted)" : or_unset(cfg->jwt_key_file),
             or_unset(cfg->jwt_jwks_file), (long long)cfg->jwt_max_lifetime_s,
             or_unset(cfg->jwt_issuer), or_unset(cfg->jwt_audience), (long long)cfg->jwt_leeway_s,
             cfg->body_max, cfg->event_max, cfg->threads, (long long)cfg->max_inflight, cfg->delivery_timeout_ms,
             cfg->retry_after_s, or_unset(cfg->cors_origins), cfg->pg_pool, cfg->pg_timeout_ms);
    size_t used = strlen(buf);
    if (used < cap)
        snprintf(buf + used, cap - used,
                 " max_inflight_bytes=%lld max_connections=%d request_timeout_ms=%d",
                 (long long)cfg->max_inflight_bytes, cfg->max_connections,
                 cfg->request_timeout_ms);
    used = strlen(buf);
    if (used < cap)
        snprintf(buf + used, cap - used,
                 " ready_interval_ms=%d drain_ms=%d read_queue_timeout_ms=%d "
                 "ratelimit_ingest=%lld/%llds ratelimit_reads=%lld/%llds ratelimit_clients=%lld "
                 "trusted_proxies=%d",
                 cfg->ready_interval_ms, cfg->drain_ms, cfg->read_queue_timeout_ms,
                 (long long)cfg->rl_ingest.quota, (long long)cfg->rl_ingest.window_s,
                 (long long)cfg->rl_reads.quota, (long long)cfg->rl_reads.window_s,
                 (long long)cfg->rl_clients, cfg->trusted_proxies.n);
    describe_replicas(cfg, buf, cap);
    len = (int)strlen(buf);
    if (cfg->kafka_props != NULL && len >= 0 && (size_t)len + 20 < cap) {
        size_t at = (size_t)len;
        at += (size_t)snprintf(buf + at, cap - at, " kafka_properties=\"");
        at += shop_kafka_props_describe(cfg->kafka_props, buf + at, cap - at - 1);
        snprintf(buf + at, cap - at, "\"");
    }
    return buf;
}
