/* SPDX-License-Identifier: MIT
 * The worker's configuration, loaded from environment variables through a
 * shop_getenv_fn. Pure: collects every error, prints nothing. After loading,
 * the shell treats the struct as const.
 */
#ifndef SHOP_WORKER_CFG_H
#define SHOP_WORKER_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_cfg.h"
#include "base/shop_kafka_props.h"
#include "proto/core/event_topic.h"
#include "workers/core/notify.h"
#include "workers/core/roles.h"
#include "workers/core/stop_at.h"

/* The role (its streams, its default group) comes from the role table. */
#define SHOP_WORKER_TOPICS_MAX SHOP_STREAM_COUNT

struct shop_worker_cfg {
    enum shop_worker_role role;
    const char *kafka_brokers;       /* SHOPSTREAM_KAFKA_BROKERS */
    const char *group_id;            /* SHOPSTREAM_KAFKA_GROUP_ID, by default the role's group */
    const char *topic_prefix;        /* SHOPSTREAM_TOPIC_PREFIX */
    const char *pg_dsn;              /* SHOPSTREAM_PG_DSN (required) */
    const char *log_level;           /* SHOPSTREAM_LOG_LEVEL */
    bool pg_synchronous_commit;      /* SHOPSTREAM_PG_SYNCHRONOUS_COMMIT */
    int n_topics;                    /* the role's streams' topics, in the role table's order */
    char topics[SHOP_WORKER_TOPICS_MAX][SHOP_TOPIC_NAME_MAX];
    char dlq_topic[SHOP_TOPIC_NAME_MAX];
    int64_t poll_budget;             /* SHOPSTREAM_POLL_BUDGET: polls per loop turn */
    int64_t batch_max;               /* SHOPSTREAM_BATCH_MAX: records per transaction */
    int64_t batch_max_bytes;         /* SHOPSTREAM_BATCH_MAX_BYTES: record bytes per transaction */
    int64_t batch_linger_ms;         /* SHOPSTREAM_BATCH_LINGER_MS: keep a non-full batch open */
    int64_t stats_interval_ms;       /* SHOPSTREAM_STATS_INTERVAL_MS */
    int64_t pg_statement_timeout_ms; /* SHOPSTREAM_PG_STATEMENT_TIMEOUT_MS */
    int64_t pg_retry_max_ms;         /* SHOPSTREAM_PG_RETRY_MAX_MS: backoff cap */
    int64_t dlq_timeout_ms;          /* SHOPSTREAM_DLQ_TIMEOUT_MS: wait for dead-letter acks */
    int64_t session_timeout_ms;      /* SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS: group liveness */
    const struct shop_kafka_props *kafka_props; /* SHOPSTREAM_KAFKA_PROPERTIES[_FILE]; set by main */
    int64_t max_poll_interval_ms;    /* SHOPSTREAM_KAFKA_MAX_POLL_INTERVAL_MS: longest gap between polls */
    int64_t pg_connect_timeout_s;    /* SHOPSTREAM_PG_CONNECT_TIMEOUT_S: libpq connect_timeout */
    int64_t dedup_window_ms;         /* SHOPSTREAM_DEDUP_WINDOW_MS: retries this close are applied once */
    int64_t dedup_grace_ms;          /* SHOPSTREAM_DEDUP_GRACE_MS: receipt-time slack before dropping */
    int64_t inventory_low_stock;     /* SHOPSTREAM_INVENTORY_LOW_STOCK: default low-stock threshold */
    /* The ml role (docs/ml.md, "The ML worker"); event time unless said otherwise. */
    int64_t ml_lateness_ms;          /* SHOPSTREAM_ML_LATENESS_MS: the reorder window */
    int64_t ml_retrain_every_ms;     /* SHOPSTREAM_ML_RETRAIN_EVERY_MS: between scheduled retrains */
    double ml_drift;                 /* SHOPSTREAM_ML_DRIFT: retrain early past this drift */
    int64_t ml_swap_after_ms;        /* SHOPSTREAM_ML_SWAP_AFTER_MS: from a retrain's take to its swap */
    int64_t ml_segments;             /* SHOPSTREAM_ML_SEGMENTS: k of the segmentation */
    int64_t ml_seed;                 /* SHOPSTREAM_ML_SEED: every random choice of training */
    int64_t ml_checkpoint_ms;        /* SHOPSTREAM_ML_CHECKPOINT_MS: wall clock between checkpoints */
    int64_t ml_idle_flush_ms;        /* SHOPSTREAM_ML_IDLE_FLUSH_MS: caught up and idle this long: flush */
    /* A bounded run into other tables (shopstream-admin rebuild, docs/operations.md). */
    const char *pg_schema;           /* SHOPSTREAM_PG_SCHEMA: first on search_path; "" none */
    struct shop_stop_at stop_at;     /* SHOPSTREAM_STOP_AT_OFFSETS: stop there, exit 0 */
    /* The worker's HTTP endpoint (/healthz, /readyz, /metrics; docs/operations.md). */
    int64_t http_port;               /* SHOPSTREAM_WORKER_HTTP_PORT: 0 (unset or empty) is off */
    const char *http_addr;           /* SHOPSTREAM_WORKER_HTTP_ADDR: the bind address */
    int64_t ready_max_lag;           /* SHOPSTREAM_WORKER_READY_MAX_LAG: /readyz's lag bound, messages */
    struct shop_notify_cfg notify;   /* SHOPSTREAM_NOTIFY_*: loaded for the notify role only */
};

/** "projector"; NULL for an unknown role (the role table's name). */
const char *shop_worker_role_name(enum shop_worker_role role);

/** Fills cfg for role_name (from --role) from get. Strings are borrowed from get's
 *  storage. Returns 0, or SHOP_ECONFIG with every problem listed in errs. */
int shop_worker_cfg_load(struct shop_worker_cfg *cfg, const char *role_name, shop_getenv_fn get,
                         struct shop_cfg_errs *errs);

/** Writes the effective config as one logfmt fragment, the DSN's password and secret
 *  Kafka properties redacted.
 *  Returns the length written (truncated to n - 1). */
size_t shop_worker_cfg_format(const struct shop_worker_cfg *cfg, char *buf, size_t n);

#endif
