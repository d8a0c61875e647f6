/* SPDX-License-Identifier: MIT
 * The edge's SHOPSTREAM_* configuration. Pure: variables come through a
 * shop_getenv_fn, every error is collected, key files are only named here
 * (the shell reads them). Strings are borrowed from the getenv storage.
 */
#ifndef SHOP_EDGE_CONFIG_H
#define SHOP_EDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_cfg.h"
#include "base/shop_err.h"
#include "base/shop_kafka_props.h"
#include "base/shop_log.h"
#include "edge/core/edge_jwt.h"
#include "edge/core/edge_ratelimit.h"
#include "workers/core/roles.h"

/* Replicas SHOPSTREAM_PG_READ_DSN may name. */
#define SHOP_EDGE_READ_DSN_MAX 16

/* One connection string inside SHOPSTREAM_PG_READ_DSN: bytes [off, off + len). */
struct shop_edge_dsn_span {
    size_t off, len;
};

struct shop_edge_config {
    const char *http_host;
    int http_port;                 /* 0: pick a free port (tests) */
    const char *kafka_brokers;
    const char *topic_prefix;
    const char *pg_dsn;
    const char *pg_read_dsn;       /* SHOPSTREAM_PG_READ_DSN as set; NULL: reads use pg_dsn */
    int pg_read_n;                 /* connection strings in it (replicas) */
    struct shop_edge_dsn_span pg_read[SHOP_EDGE_READ_DSN_MAX];
    enum shop_jwt_alg jwt_alg;     /* HS256 with a secret, RS256 with a public key file */
    const char *jwt_secret;        /* value, or NULL when read from jwt_key_file */
    const char *jwt_key_file;      /* SHOPSTREAM_JWT_SECRET_FILE or _PUBLIC_KEY_FILE */
    const char *jwt_jwks_file;     /* SHOPSTREAM_JWT_JWKS_FILE: RS256 keys by kid, re-read */
    const char *jwt_issuer;        /* NULL: not checked */
    const char *jwt_audience;      /* NULL: not checked */
    int64_t jwt_leeway_s;
    int64_t jwt_max_lifetime_s;    /* 0: unbounded */
    size_t body_max;
    size_t event_max;              /* one event's encoded (protobuf) size */
    int threads;
    int64_t max_inflight;          /* events produced but not yet acknowledged */
    int64_t max_inflight_bytes;    /* bytes held by requests waiting for the broker */
    int max_connections;           /* open client connections, whole process */
    int request_timeout_ms;        /* headers + body of a request, and keep-alive idle */
    int delivery_timeout_ms;
    int retry_after_s;
    const char *cors_origins;      /* NULL: no CORS headers */
    int pg_pool;                   /* database threads for reads */
    int pg_timeout_ms;
    enum shop_log_level log_level;
    const struct shop_kafka_props *kafka_props; /* SHOPSTREAM_KAFKA_PROPERTIES[_FILE]; the shell reads them */
    size_t jwt_cache_entries;      /* verified tokens kept per loop thread; 0: off */
    /* Operations: readiness, shutdown, read deadline, per-client rate limits. */
    int ready_interval_ms;         /* background readiness check period */
    int drain_ms;                  /* after SIGTERM: not ready, still serving, this long */
    int read_queue_timeout_ms;     /* a read not started by then is answered 503, never run */
    struct shop_rl_policy rl_ingest;   /* quota 0: off */
    struct shop_rl_policy rl_reads;
    int64_t rl_clients;            /* buckets kept (bounded table) */
    struct shop_rl_proxies trusted_proxies;
    /* Read-your-writes (edge/core/edge_position.h, edge/watch.c). */
    const char *position_key;      /* SHOPSTREAM_EDGE_POSITION_KEY; NULL: a random key per process */
    const char *read_groups[SHOP_WORKER_ROLE_COUNT];   /* each role's consumer group, as its workers */
    int max_waiters;               /* reads parked waiting for a position, whole process */
    int watch_ms;                  /* the watcher's poll while reads wait */
};

/** Fills cfg from get; ncpu is the default thread count. Returns 0, or SHOP_ECONFIG
 *  with every problem listed in errs. */
int shop_edge_config_load(struct shop_edge_config *cfg, shop_getenv_fn get, int ncpu,
                          struct shop_cfg_errs *errs);

/** Splits list at every ';' outside a single-quoted keyword/value (libpq's quoting, with
 *  backslash escapes; a URI entry has none: write ';' in it as %3B), trimming blanks.
 *  Fills up to max spans; returns how many, or SHOP_EINVAL with err saying why (an empty
 *  entry, an unterminated quote, more than max). */
int shop_edge_dsn_split(const char *list, struct shop_edge_dsn_span *spans, int max,
                        struct shop_err *err);

/** logfmt description of cfg with secrets redacted; returns buf. */
char *shop_edge_config_describe(const struct shop_edge_config *cfg, char *buf, size_t cap);

#endif
