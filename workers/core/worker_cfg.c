/* SPDX-License-Identifier: MIT
 * Worker configuration loader. Pure: variables arrive through shop_getenv_fn,
 * errors are collected, nothing is printed.
 */
#include "workers/core/worker_cfg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_defaults.h"
#include "base/shop_err.h"
#include "base/shop_redact.h"

const char *shop_worker_role_name(enum shop_worker_role role)
{
    const struct shop_role_desc *d = shop_role_desc(role);
    return d != NULL ? d->name : NULL;
}

#define DAY_MS INT64_C(86400000)

/* The ml role's knobs; defaults as workers/core/mlw.h's. */
static void load_ml(struct shop_worker_cfg *cfg, shop_getenv_fn get, struct shop_cfg_errs *errs)
{
    cfg->ml_lateness_ms = shop_cfg_int(get, "SHOPSTREAM_ML_LATENESS_MS", 6 * 3600 * INT64_C(1000), 0, 30 * DAY_MS, errs);
    cfg->ml_retrain_every_ms =
        shop_cfg_int(get, "SHOPSTREAM_ML_RETRAIN_EVERY_MS", 7 * DAY_MS, 60000, 3660 * DAY_MS, errs);
    cfg->ml_drift = shop_cfg_double(get, "SHOPSTREAM_ML_DRIFT", 0.25, 0.0, 1e6, errs);
    cfg->ml_swap_after_ms = shop_cfg_int(get, "SHOPSTREAM_ML_SWAP_AFTER_MS", 3600 * INT64_C(1000), 0, 30 * DAY_MS, errs);
    cfg->ml_segments = shop_cfg_int(get, "SHOPSTREAM_ML_SEGMENTS", 4, 2, 64, errs);
    cfg->ml_seed = shop_cfg_int(get, "SHOPSTREAM_ML_SEED", 42, 0, INT64_MAX, errs);
    cfg->ml_checkpoint_ms = shop_cfg_int(get, "SHOPSTREAM_ML_CHECKPOINT_MS", 30000, 100, DAY_MS, errs);
    cfg->ml_idle_flush_ms = shop_cfg_int(get, "SHOPSTREAM_ML_IDLE_FLUSH_MS", 1000, 10, 3600 * INT64_C(1000), errs);
}

static void load_role(struct shop_worker_cfg *cfg, const char *role_name, struct shop_cfg_errs *errs)
{
    if (shop_role_parse(role_name, &cfg->role) == 0)
        return;
    char names[128];
    shop_role_list(names, sizeof(names));
    cfg->role = SHOP_WORKER_ROLE_COUNT;
    shop_cfg_errorf(errs, "--role must be one of: %s, got \"%s\"", names, role_name ? role_name : "(none)");
}

/* The role's streams' topics and the dead-letter topic, named by proto/core/event_topic.c. */
static void load_topics(struct shop_worker_cfg *cfg, struct shop_cfg_errs *errs)
{
    if (!shop_topic_prefix_ok(cfg->topic_prefix)) {
        if (strlen(cfg->topic_prefix) > SHOP_TOPIC_PREFIX_MAX)
            shop_cfg_errorf(errs, "SHOPSTREAM_TOPIC_PREFIX is too long (%zu bytes)", strlen(cfg->topic_prefix));
        else
            shop_cfg_errorf(errs, "SHOPSTREAM_TOPIC_PREFIX may hold only [A-Za-z0-9._-], got \"%s\"",
                            cfg->topic_prefix);
        return;
    }
    const struct shop_role_desc *d = shop_role_desc(cfg->role);
    cfg->n_topics = d != NULL ? d->n_streams : 0;
    for (int i = 0; i < cfg->n_topics; i++)
        shop_topic_name(cfg->topics[i], SHOP_TOPIC_NAME_MAX, cfg->topic_prefix, d->streams[i]);
    shop_topic_dlq_name(cfg->dlq_topic, SHOP_TOPIC_NAME_MAX, cfg->topic_prefix);
}

/* A rebuild's run: its tables in another schema, and where it stops. The schema name
 * reaches SQL only as a set_config() parameter; the check keeps it one plain identifier
 * so that no search_path list can be smuggled in. */
static void load_bounded_run(struct shop_worker_cfg *cfg, shop_getenv_fn get, struct shop_cfg_errs *errs)
{
    cfg->pg_schema = shop_cfg_str(get, "SHOPSTREAM_PG_SCHEMA", "");
    size_t len = strlen(cfg->pg_schema);
    bool ok = len < 64 && (len == 0 || (cfg->pg_schema[0] < '0' || cfg->pg_schema[0] > '9'));
    for (size_t i = 0; ok && i < len; i++) {
        char c = cfg->pg_schema[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    }
    if (!ok || strcmp(cfg->pg_schema, "public") == 0)
        shop_cfg_errorf(errs, "SHOPSTREAM_PG_SCHEMA must be a lower-case identifier other than public, got \"%s\"",
                        cfg->pg_schema);
    const char *stop = get("SHOPSTREAM_STOP_AT_OFFSETS");
    struct shop_err err = {0};
    if (stop != NULL && shop_stop_at_parse(stop, &cfg->stop_at, &err) < 0)
        shop_cfg_errorf(errs, "%s", err.msg);
}

static void load_log_level(struct shop_worker_cfg *cfg, shop_getenv_fn get, struct shop_cfg_errs *errs)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    cfg->log_level = shop_cfg_str(get, "SHOPSTREAM_LOG_LEVEL", "info");
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        if (strcmp(cfg->log_level, levels[i]) == 0)
            return;
    }
    shop_cfg_errorf(errs, "SHOPSTREAM_LOG_LEVEL must be debug, info, warn or error, got \"%s\"",
                    cfg->log_level);
}

/* The loop polls the consumer between PostgreSQL calls only, so no single blocking
 * call may outlast max.poll.interval.ms or the group evicts the worker. */
static void check_poll_deadline(const struct shop_worker_cfg *cfg, struct shop_cfg_errs *errs)
{
    const struct {
        const char *name;
        int64_t ms;
    } waits[] = {
        {"SHOPSTREAM_PG_STATEMENT_TIMEOUT_MS", cfg->pg_statement_timeout_ms},
        {"SHOPSTREAM_PG_CONNECT_TIMEOUT_S (in ms)", cfg->pg_connect_timeout_s * 1000},
        {"SHOPSTREAM_DLQ_TIMEOUT_MS", cfg->dlq_timeout_ms},
    };
    if (cfg->max_poll_interval_ms == 0)
        return;   /* already reported as out of range */
    for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
        if (waits[i].ms >= cfg->max_poll_interval_ms)
            shop_cfg_errorf(errs, "%s (%" PRId64 ") must be below SHOPSTREAM_KAFKA_MAX_POLL_INTERVAL_MS (%" PRId64
                            "): the loop must poll the consumer before the group evicts it",
                            waits[i].name, waits[i].ms, cfg->max_poll_interval_ms);
    }
    if (cfg->session_timeout_ms > cfg->max_poll_interval_ms)   /* librdkafka refuses it */
        shop_cfg_errorf(errs, "SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS (%" PRId64 ") must not exceed "
                        "SHOPSTREAM_KAFKA_MAX_POLL_INTERVAL_MS (%" PRId64 ")",
                        cfg->session_timeout_ms, cfg->max_poll_interval_ms);
}

int shop_worker_cfg_load(struct shop_worker_cfg *cfg, const char *role_name, shop_getenv_fn get,
                         struct shop_cfg_errs *errs)
{
    memset(cfg, 0, sizeof(*cfg));
    load_role(cfg, role_name, errs);
    const struct shop_role_desc *role = shop_role_desc(cfg->role);
    cfg->kafka_brokers = shop_cfg_str(get, "SHOPSTREAM_KAFKA_BROKERS", SHOP_DEFAULT_KAFKA_BROKERS);
    cfg->group_id = shop_cfg_str(get, "SHOPSTREAM_KAFKA_GROUP_ID", role != NULL ? role->group : "");
    cfg->topic_prefix = shop_cfg_str(get, "SHOPSTREAM_TOPIC_PREFIX", SHOP_DEFAULT_TOPIC_PREFIX);
    cfg->pg_dsn = shop_cfg_str(get, "SHOPSTREAM_PG_DSN", NULL);
    if (cfg->pg_dsn == NULL)
        shop_cfg_errorf(errs, "SHOPSTREAM_PG_DSN must be set");
    load_topics(cfg, errs);
    load_log_level(cfg, get, errs);
    cfg->poll_budget = shop_cfg_int(get, "SHOPSTREAM_POLL_BUDGET", 256, 1, 1000000, errs);
    cfg->batch_max = shop_cfg_int(get, "SHOPSTREAM_BATCH_MAX", 5000, 1, 100000, errs);
    /* Records are up to ~1 MB each, so a count alone bounds nothing: 5000 of them would
     * be 5 GB of arena. The record that crosses the bound still joins the batch. */
    cfg->batch_max_bytes =
        shop_cfg_int(get, "SHOPSTREAM_BATCH_MAX_BYTES", 16 * 1024 * 1024, 1024, INT64_C(1) << 30, errs);
    /* How long a non-full batch waits for more records once the consumer queue ran
     * empty: under a backlog the queue empties between fetch responses, and closing
     * the batch there made batches a third of batch_max. 0 closes it at once. */
    cfg->batch_linger_ms = shop_cfg_int(get, "SHOPSTREAM_BATCH_LINGER_MS", 10, 0, 10000, errs);
    cfg->stats_interval_ms = shop_cfg_int(get, "SHOPSTREAM_STATS_INTERVAL_MS", 10000, 100, 3600000, errs);
    cfg->pg_statement_timeout_ms =
        shop_cfg_int(get, "SHOPSTREAM_PG_STATEMENT_TIMEOUT_MS", 30000, 0, 3600000, errs);
    cfg->pg_retry_max_ms = shop_cfg_int(get, "SHOPSTREAM_PG_RETRY_MAX_MS", 5000, 10, 600000, errs);
    cfg->dlq_timeout_ms = shop_cfg_int(get, "SHOPSTREAM_DLQ_TIMEOUT_MS", 30000, 100, 600000, errs);
    /* Off is safe here: offsets commit in the same transaction as the effects, so a
     * crash loses both together and the batch is consumed again. */
    cfg->pg_synchronous_commit = shop_cfg_bool(get, "SHOPSTREAM_PG_SYNCHRONOUS_COMMIT", false, errs);
    cfg->session_timeout_ms =
        shop_cfg_int(get, "SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS", 45000, 1000, 3600000, errs);
    cfg->max_poll_interval_ms =
        shop_cfg_int(get, "SHOPSTREAM_KAFKA_MAX_POLL_INTERVAL_MS", 300000, 1000, 86400000, errs);
    cfg->pg_connect_timeout_s = shop_cfg_int(get, "SHOPSTREAM_PG_CONNECT_TIMEOUT_S", 5, 2, 600, errs);
    check_poll_deadline(cfg, errs);
    /* Dedup is exact for retries received within the window of the first copy; older
     * ids are dropped with their applied_events partition (docs/projections.md). */
    cfg->dedup_window_ms =
        shop_cfg_int(get, "SHOPSTREAM_DEDUP_WINDOW_MS", INT64_C(604800000), 1, INT64_C(315360000000), errs);
    cfg->dedup_grace_ms =
        shop_cfg_int(get, "SHOPSTREAM_DEDUP_GRACE_MS", INT64_C(86400000), 0, INT64_C(315360000000), errs);
    /* The inventory role's default threshold: available below it is low stock (0: never). */
    cfg->inventory_low_stock =
        shop_cfg_int(get, "SHOPSTREAM_INVENTORY_LOW_STOCK", 5, 0, INT64_C(1000000000000), errs);
    load_ml(cfg, get, errs);
    load_bounded_run(cfg, get, errs);
    /* Off unless set: tests start many workers on one host. Containers set 9090. */
    cfg->http_port = shop_cfg_int(get, "SHOPSTREAM_WORKER_HTTP_PORT", 0, 0, 65535, errs);
    cfg->http_addr = shop_cfg_str(get, "SHOPSTREAM_WORKER_HTTP_ADDR", "0.0.0.0");
    cfg->ready_max_lag =
        shop_cfg_int(get, "SHOPSTREAM_WORKER_READY_MAX_LAG", 100000, 0, INT64_C(1000000000000000), errs);
    if (cfg->role == SHOP_WORKER_NOTIFY)
        shop_notify_cfg_load(&cfg->notify, get, errs);
    return errs->count > 0 ? SHOP_ECONFIG : 0;
}

size_t shop_worker_cfg_format(const struct shop_worker_cfg *cfg, char *buf, size_t n)
{
    char dsn[512], props[1024];
    shop_redact_dsn(cfg->pg_dsn ? cfg->pg_dsn : "", dsn, sizeof(dsn));
    if (cfg->kafka_props != NULL)
        shop_kafka_props_describe(cfg->kafka_props, props, sizeof(props));
    else
        snprintf(props, sizeof(props), "(none)");
    char topics[SHOP_WORKER_TOPICS_MAX * SHOP_TOPIC_NAME_MAX];
    size_t tl = 0;
    topics[0] = '\0';
    for (int i = 0; i < cfg->n_topics; i++)
        tl += (size_t)snprintf(topics + tl, sizeof(topics) - tl, "%s%s", i > 0 ? "," : "", cfg->topics[i]);
    const char *role = shop_worker_role_name(cfg->role);
    int len = snprintf(buf, n,
                       "role=%s brokers=%s group=%s topic_prefix=%s topics=%s dlq=%s "
                       "pg_dsn=\"%s\" poll_budget=%" PRId64 " batch_max=%" PRId64 " batch_max_bytes=%" PRId64
                       " batch_linger_ms=%" PRId64 " stats_interval_ms=%" PRId64 " pg_statement_timeout_ms=%" PRId64
                       " pg_retry_max_ms=%" PRId64 " dlq_timeout_ms=%" PRId64 " session_timeout_ms=%" PRId64 " max_poll_interval_ms=%" PRId64 " pg_connect_timeout_s=%" PRId64
                       " dedup_window_ms=%" PRId64 " dedup_grace_ms=%" PRId64 " inventory_low_stock=%" PRId64
                       " ml_lateness_ms=%" PRId64 " ml_retrain_every_ms=%" PRId64 " ml_drift=%g ml_swap_after_ms=%" PRId64
                       " ml_segments=%" PRId64 " ml_seed=%" PRId64 " ml_checkpoint_ms=%" PRId64 " ml_idle_flush_ms=%" PRId64
                       " pg_schema=%s stop_at_partitions=%lld"
                       " http_port=%" PRId64 " http_addr=%s ready_max_lag=%" PRId64
                       " pg_synchronous_commit=%s log_level=%s kafka_properties=\"%s\"",
                       role != NULL ? role : "(none)", cfg->kafka_brokers, cfg->group_id,
                       cfg->topic_prefix, topics,
                       cfg->dlq_topic, dsn, cfg->poll_budget, cfg->batch_max, cfg->batch_max_bytes, cfg->batch_linger_ms, cfg->stats_interval_ms,
                       cfg->pg_statement_timeout_ms, cfg->pg_retry_max_ms, cfg->dlq_timeout_ms,
                       cfg->session_timeout_ms, cfg->max_poll_interval_ms, cfg->pg_connect_timeout_s,
                       cfg->dedup_window_ms, cfg->dedup_grace_ms, cfg->inventory_low_stock,
                       cfg->ml_lateness_ms, cfg->ml_retrain_every_ms, cfg->ml_drift, cfg->ml_swap_after_ms,
                       cfg->ml_segments, cfg->ml_seed, cfg->ml_checkpoint_ms, cfg->ml_idle_flush_ms,
                       cfg->pg_schema[0] ? cfg->pg_schema : "(none)",
                       cfg->stop_at.on ? (long long)cfg->stop_at.n : -1LL,
                       cfg->http_port, cfg->http_addr != NULL ? cfg->http_addr : "", cfg->ready_max_lag,
                       cfg->pg_synchronous_commit ? "on" : "off", cfg->log_level, props);
    if (len < 0)
        return 0;
    return (size_t)len < n ? (size_t)len : n - 1;
}
