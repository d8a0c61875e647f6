/* SPDX-License-Identifier: MIT
 * The worker config loader: defaults, topic names, every error listed, redaction.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "base/shop_err.h"
#include "workers/core/worker_cfg.h"

Test(worker_cfg, defaults_and_topic_names)
{
    static const char *const env[] = {"SHOPSTREAM_PG_DSN", "dbname=x", NULL};
    shop_cfg_table_use(env);
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(int, cfg.role, SHOP_WORKER_PROJECTOR));
    cr_assert(eq(str, (char *)cfg.group_id, "shopstream-projector"));
    cr_assert(eq(str, (char *)cfg.kafka_brokers, "127.0.0.1:19092"));
    cr_assert(eq(int, cfg.n_topics, 5));
    cr_assert(eq(str, cfg.topics[0], "shopstream.browse.v1"));
    cr_assert(eq(str, cfg.topics[3], "shopstream.catalog.v1"));
    cr_assert(eq(str, cfg.topics[4], "shopstream.inventory.v1"));
    cr_assert(eq(str, cfg.dlq_topic, "shopstream.dlq.v1"));
    cr_assert(eq(i64, cfg.batch_max, 5000));
    cr_assert(eq(i64, cfg.batch_linger_ms, 10));
    cr_assert(eq(i64, cfg.poll_budget, 256));
}

Test(worker_cfg, inventory_topics_group_and_low_stock)
{
    static const char *const env[] = {"SHOPSTREAM_PG_DSN", "dbname=x", NULL};
    static const char *const low[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_INVENTORY_LOW_STOCK", "0", NULL};
    static const char *const bad[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_INVENTORY_LOW_STOCK", "-1", NULL};
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    shop_cfg_table_use(env);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "inventory", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(str, (char *)cfg.group_id, "shopstream-inventory"));
    cr_assert(eq(int, cfg.n_topics, 2));
    cr_assert(eq(str, cfg.topics[0], "shopstream.order.v1"));
    cr_assert(eq(str, cfg.topics[1], "shopstream.catalog.v1"));
    cr_assert(eq(i64, cfg.inventory_low_stock, 5));
    shop_cfg_table_use(low);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "inventory", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(i64, cfg.inventory_low_stock, 0));
    shop_cfg_table_use(bad);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "inventory", shop_cfg_table_get, &errs), SHOP_ECONFIG));
    cr_assert(not(eq(ptr, strstr(errs.msg[0], "SHOPSTREAM_INVENTORY_LOW_STOCK"), NULL)), "%s", errs.msg[0]);
}

Test(worker_cfg, ml_topics_group_and_knobs)
{
    static const char *const env[] = {"SHOPSTREAM_PG_DSN", "dbname=x", NULL};
    static const char *const set[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_ML_LATENESS_MS", "0",
                                      "SHOPSTREAM_ML_RETRAIN_EVERY_MS", "86400000", "SHOPSTREAM_ML_DRIFT", "0.5",
                                      "SHOPSTREAM_ML_SWAP_AFTER_MS", "60000", "SHOPSTREAM_ML_SEGMENTS", "6",
                                      "SHOPSTREAM_ML_SEED", "7", "SHOPSTREAM_ML_CHECKPOINT_MS", "2000",
                                      "SHOPSTREAM_ML_IDLE_FLUSH_MS", "200", NULL};
    static const char *const bad[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_ML_DRIFT", "0.5x",
                                      "SHOPSTREAM_ML_SEGMENTS", "1", "SHOPSTREAM_ML_CHECKPOINT_MS", "-1",
                                      "SHOPSTREAM_ML_IDLE_FLUSH_MS", "0", "SHOPSTREAM_ML_LATENESS_MS", "-5", NULL};
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    shop_cfg_table_use(env);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "ml", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(str, (char *)cfg.group_id, "shopstream-ml"));
    cr_assert(eq(int, cfg.n_topics, 3));
    cr_assert(eq(str, cfg.topics[0], "shopstream.browse.v1"));
    cr_assert(eq(str, cfg.topics[1], "shopstream.cart.v1"));
    cr_assert(eq(str, cfg.topics[2], "shopstream.inventory.v1"));
    cr_assert(eq(i64, cfg.ml_lateness_ms, 6 * 3600 * 1000));
    cr_assert(eq(i64, cfg.ml_retrain_every_ms, 7 * 86400 * INT64_C(1000)));
    cr_assert(eq(dbl, cfg.ml_drift, 0.25));
    cr_assert(eq(i64, cfg.ml_swap_after_ms, 3600 * 1000));
    cr_assert(eq(i64, cfg.ml_segments, 4));
    cr_assert(eq(i64, cfg.ml_checkpoint_ms, 30000));
    cr_assert(eq(i64, cfg.ml_idle_flush_ms, 1000));
    shop_cfg_table_use(set);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "ml", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(i64, cfg.ml_lateness_ms, 0));
    cr_assert(eq(i64, cfg.ml_retrain_every_ms, 86400000));
    cr_assert(eq(dbl, cfg.ml_drift, 0.5));
    cr_assert(eq(i64, cfg.ml_swap_after_ms, 60000));
    cr_assert(eq(i64, cfg.ml_segments, 6));
    cr_assert(eq(i64, cfg.ml_seed, 7));
    cr_assert(eq(i64, cfg.ml_checkpoint_ms, 2000));
    cr_assert(eq(i64, cfg.ml_idle_flush_ms, 200));
    shop_cfg_table_use(bad);
    errs = (struct shop_cfg_errs){0};
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "ml", shop_cfg_table_get, &errs), SHOP_ECONFIG));
    cr_assert(eq(int, errs.count, 5));
    static const char *const named[] = {"SHOPSTREAM_ML_DRIFT", "SHOPSTREAM_ML_SEGMENTS", "SHOPSTREAM_ML_CHECKPOINT_MS",
                                        "SHOPSTREAM_ML_IDLE_FLUSH_MS", "SHOPSTREAM_ML_LATENESS_MS"};
    for (int i = 0; i < 5; i++) {
        bool found = false;
        for (int e = 0; e < errs.count; e++)
            found |= strstr(errs.msg[e], named[i]) != NULL;
        cr_assert(found, "no error names %s", named[i]);
    }
}

Test(worker_cfg, batch_linger_may_be_off_and_is_bounded)
{
    static const char *const off[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_BATCH_LINGER_MS", "0", NULL};
    static const char *const big[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_BATCH_LINGER_MS", "10001", NULL};
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    shop_cfg_table_use(off);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(i64, cfg.batch_linger_ms, 0));
    shop_cfg_table_use(big);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), SHOP_ECONFIG));
    cr_assert(not(eq(ptr, strstr(errs.msg[0], "SHOPSTREAM_BATCH_LINGER_MS"), NULL)), "%s", errs.msg[0]);
}

Test(worker_cfg, overrides)
{
    static const char *const env[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_TOPIC_PREFIX", "it7.",
                                      "SHOPSTREAM_KAFKA_GROUP_ID", "g2", "SHOPSTREAM_BATCH_MAX", "50",
                                      "SHOPSTREAM_POLL_BUDGET", "8", NULL};
    shop_cfg_table_use(env);
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(str, cfg.topics[1], "it7.cart.v1"));
    cr_assert(eq(str, cfg.dlq_topic, "it7.dlq.v1"));
    cr_assert(eq(str, (char *)cfg.group_id, "g2"));
    cr_assert(eq(i64, cfg.batch_max, 50));
    cr_assert(eq(i64, cfg.poll_budget, 8));
}

Test(worker_cfg, lists_every_error)
{
    static const char *const env[] = {"SHOPSTREAM_BATCH_MAX", "0", "SHOPSTREAM_POLL_BUDGET", "lots",
                                      "SHOPSTREAM_TOPIC_PREFIX", "bad prefix/", "SHOPSTREAM_LOG_LEVEL", "loud",
                                      NULL};
    shop_cfg_table_use(env);
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "warehouse", shop_cfg_table_get, &errs), SHOP_ECONFIG));
    cr_assert(eq(int, errs.count, 6));
    const char *want[] = {"--role", "SHOPSTREAM_PG_DSN", "SHOPSTREAM_TOPIC_PREFIX", "SHOPSTREAM_LOG_LEVEL",
                          "SHOPSTREAM_POLL_BUDGET", "SHOPSTREAM_BATCH_MAX"};
    for (int i = 0; i < 6; i++)
        cr_assert(not(eq(ptr, strstr(errs.msg[i], want[i]), NULL)), "%s in %s", want[i], errs.msg[i]);
}

Test(worker_cfg, format_shows_effective_values_without_secrets)
{
    static const char *const env[] = {"SHOPSTREAM_PG_DSN", "host=h password=pw", NULL};
    shop_cfg_table_use(env);
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), 0));
    char buf[1024];
    shop_worker_cfg_format(&cfg, buf, sizeof(buf));
    cr_assert(not(eq(ptr, strstr(buf, "group=shopstream-projector"), NULL)));
    cr_assert(not(eq(ptr, strstr(buf, "password=***"), NULL)));
    cr_assert(eq(ptr, strstr(buf, "pw\""), NULL));
}

/* Spaces around '=' and quoted values: the worker's old redaction let these through. */
Test(worker_cfg, format_redacts_every_dsn_form)
{
    static const char *const forms[] = {"host=h password = hunter2 user=u", "host=h password='hun ter2'",
                                        "postgresql://u:hun%40ter2@h/db", "postgresql://h/db?password=hunter2"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        const char *env[] = {"SHOPSTREAM_PG_DSN", forms[i], NULL};
        shop_cfg_table_use(env);
        struct shop_worker_cfg cfg;
        struct shop_cfg_errs errs = {0};
        cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), 0));
        char buf[2048];
        shop_worker_cfg_format(&cfg, buf, sizeof(buf));
        cr_assert(eq(ptr, strstr(buf, "hun"), NULL), "%s", buf);
        cr_assert(eq(ptr, strstr(buf, "ter2"), NULL), "%s", buf);
    }
}

Test(worker_cfg, bounded_run_schema_and_stop_offsets)
{
    static const char *const env[] = {"SHOPSTREAM_PG_DSN", "dbname=x", NULL};
    static const char *const run[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_PG_SCHEMA", "rebuild_carts",
                                      "SHOPSTREAM_STOP_AT_OFFSETS", "p.cart.v1:0:7,p.cart.v1:1:0", NULL};
    static const char *const bad[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_PG_SCHEMA", "x, public",
                                      "SHOPSTREAM_STOP_AT_OFFSETS", "p.cart.v1:0", NULL};
    static const char *const pub[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_PG_SCHEMA", "public", NULL};
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    shop_cfg_table_use(env);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(str, (char *)cfg.pg_schema, ""));
    cr_assert(not(cfg.stop_at.on));
    shop_cfg_table_use(run);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(str, (char *)cfg.pg_schema, "rebuild_carts"));
    cr_assert(eq(sz, cfg.stop_at.n, 2));
    cr_assert(eq(i64, shop_stop_at_offset(&cfg.stop_at, "p.cart.v1", 0), 7));
    shop_cfg_table_use(bad);
    errs = (struct shop_cfg_errs){0};
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), SHOP_ECONFIG));
    cr_assert(eq(int, errs.count, 2), "both the schema and the stop list are refused");
    shop_cfg_table_use(pub);
    errs = (struct shop_cfg_errs){0};
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), SHOP_ECONFIG));
}

Test(worker_cfg, http_endpoint_off_by_default_and_bounded)
{
    static const char *const env[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_WORKER_HTTP_PORT", "", NULL};
    static const char *const on[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_WORKER_HTTP_PORT", "9090",
                                     "SHOPSTREAM_WORKER_HTTP_ADDR", "127.0.0.1", "SHOPSTREAM_WORKER_READY_MAX_LAG",
                                     "5", NULL};
    static const char *const bad[] = {"SHOPSTREAM_PG_DSN", "dbname=x", "SHOPSTREAM_WORKER_HTTP_PORT", "65536",
                                      "SHOPSTREAM_WORKER_READY_MAX_LAG", "-1", NULL};
    struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    shop_cfg_table_use(env);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "ml", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(i64, cfg.http_port, 0));
    cr_assert(eq(str, (char *)cfg.http_addr, "0.0.0.0"));
    cr_assert(eq(i64, cfg.ready_max_lag, 100000));
    shop_cfg_table_use(on);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "ml", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(i64, cfg.http_port, 9090));
    cr_assert(eq(str, (char *)cfg.http_addr, "127.0.0.1"));
    cr_assert(eq(i64, cfg.ready_max_lag, 5));
    shop_cfg_table_use(bad);
    struct shop_cfg_errs berrs = {0};
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "ml", shop_cfg_table_get, &berrs), SHOP_ECONFIG));
    cr_assert(eq(int, berrs.count, 2));
}
