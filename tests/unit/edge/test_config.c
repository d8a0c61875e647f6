/* SPDX-License-Identifier: MIT
 * shop_edge_config_load: defaults, every error reported, redaction. */
#include <criterion/criterion.h>
#include <string.h>

#include "edge/core/edge_config.h"

#define SECRET "0123456789abcdef0123456789abcdef"

Test(config, defaults_with_the_required_variables)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_BROKERS", "k:9092", "SHOPSTREAM_PG_DSN",
                                      "dbname=x", "SHOPSTREAM_JWT_SECRET", SECRET, NULL};
    shop_cfg_table_use(env);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 4, &errs), 0, "%s", errs.msg[0]);
    cr_assert_eq(cfg.http_port, 8080);
    cr_assert_str_eq(cfg.topic_prefix, "shopstream.");
    cr_assert_eq(cfg.body_max, 1u << 20);
    cr_assert_eq(cfg.threads, 4);
    cr_assert_eq(cfg.delivery_timeout_ms, 5000);
    cr_assert_eq(cfg.jwt_alg, SHOP_JWT_HS256);
    cr_assert_null(cfg.cors_origins);
    cr_assert_null(cfg.jwt_issuer);
}

Test(config, reports_every_error)
{
    static const char *const env[] = {"SHOPSTREAM_HTTP_PORT", "99999", "SHOPSTREAM_EDGE_THREADS",
                                      "zero", "SHOPSTREAM_LOG_LEVEL", "loud", NULL};
    shop_cfg_table_use(env);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 2, &errs), SHOP_ECONFIG);
    /* port, brokers, dsn, jwt, threads, log level */
    cr_assert_eq(errs.count, 6);
    bool saw_port = false, saw_jwt = false;
    for (int i = 0; i < errs.count; i++) {
        saw_port |= strstr(errs.msg[i], "SHOPSTREAM_HTTP_PORT") != NULL;
        saw_jwt |= strstr(errs.msg[i], "SHOPSTREAM_JWT_SECRET") != NULL;
    }
    cr_assert(saw_port && saw_jwt);
}

Test(config, public_key_file_selects_rs256_and_two_key_sources_are_an_error)
{
    static const char *const rs[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                     "SHOPSTREAM_JWT_PUBLIC_KEY_FILE", "/k.pem", NULL};
    shop_cfg_table_use(rs);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0);
    cr_assert_eq(cfg.jwt_alg, SHOP_JWT_RS256);
    cr_assert_str_eq(cfg.jwt_key_file, "/k.pem");

    static const char *const both[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                       "SHOPSTREAM_JWT_PUBLIC_KEY_FILE", "/k.pem",
                                       "SHOPSTREAM_JWT_SECRET", SECRET, NULL};
    shop_cfg_table_use(both);
    struct shop_cfg_errs errs2 = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs2), SHOP_ECONFIG);
    cr_assert_eq(errs2.count, 1);
}

Test(config, short_secret_and_bad_prefix_are_rejected)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", "short", "SHOPSTREAM_TOPIC_PREFIX",
                                      "bad prefix/", NULL};
    shop_cfg_table_use(env);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), SHOP_ECONFIG);
    cr_assert_eq(errs.count, 2);
}

Test(config, describe_redacts_secrets)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN",
                                      "host=h password=hunter2", "SHOPSTREAM_JWT_SECRET", SECRET,
                                      NULL};
    shop_cfg_table_use(env);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0);
    char buf[2048];
    shop_edge_config_describe(&cfg, buf, sizeof(buf));
    cr_assert_null(strstr(buf, SECRET));
    cr_assert_null(strstr(buf, "hunter2"));
    cr_assert_not_null(strstr(buf, "kafka_brokers=k"));
}

/* The URI form has no "password" keyword; the old check missed it. */
Test(config, describe_redacts_uri_passwords_and_kafka_secrets)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN",
                                      "postgresql://u:hunter2@db:5432/shop?sslmode=verify-full",
                                      "SHOPSTREAM_JWT_SECRET", SECRET, NULL};
    shop_cfg_table_use(env);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0);
    static struct shop_kafka_props props;
    shop_kafka_props_init(&props);
    shop_kafka_props_parse_list(&props, "security.protocol=SASL_SSL;sasl.password=kafkapw", "V", &errs);
    cfg.kafka_props = &props;
    char buf[4096];
    shop_edge_config_describe(&cfg, buf, sizeof(buf));
    cr_assert_null(strstr(buf, "hunter2"), "%s", buf);
    cr_assert_null(strstr(buf, "kafkapw"), "%s", buf);
    cr_assert_not_null(strstr(buf, "pg_dsn=\"postgresql://u:***@db:5432/shop?sslmode=verify-full\""), "%s", buf);
    cr_assert_not_null(strstr(buf, "kafka_properties=\"security.protocol=SASL_SSL,sasl.password=***\""), "%s",
                       buf);
    cr_assert_not_null(strstr(buf, " max_connections=4096 "), "both appended parts survive: %s", buf);
}

Test(config, connection_time_and_byte_limits)
{
    static const char *const def[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET, NULL};
    shop_cfg_table_use(def);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0);
    cr_assert_eq(cfg.max_inflight_bytes, 256 << 20);
    cr_assert_eq(cfg.max_connections, 4096);
    cr_assert_eq(cfg.request_timeout_ms, 10000);
    char buf[2048];
    shop_edge_config_describe(&cfg, buf, sizeof(buf));
    cr_assert_not_null(strstr(buf, "max_inflight_bytes=268435456 max_connections=4096 "
                                   "request_timeout_ms=10000"));

    static const char *const set[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET,
                                      "SHOPSTREAM_EDGE_MAX_INFLIGHT_BYTES", "1048576",
                                      "SHOPSTREAM_EDGE_MAX_CONNECTIONS", "3",
                                      "SHOPSTREAM_EDGE_REQUEST_TIMEOUT_MS", "1000", NULL};
    shop_cfg_table_use(set);
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0);
    cr_assert_eq(cfg.max_inflight_bytes, 1048576);
    cr_assert_eq(cfg.max_connections, 3);
    cr_assert_eq(cfg.request_timeout_ms, 1000);

    static const char *const bad[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET,
                                      "SHOPSTREAM_EDGE_MAX_INFLIGHT_BYTES", "1000",
                                      "SHOPSTREAM_EDGE_MAX_CONNECTIONS", "0",
                                      "SHOPSTREAM_EDGE_REQUEST_TIMEOUT_MS", "soon", NULL};
    shop_cfg_table_use(bad);
    struct shop_cfg_errs errs2 = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs2), SHOP_ECONFIG);
    cr_assert_eq(errs2.count, 3);
    bool bytes = false, conns = false, timeout = false;
    for (int i = 0; i < errs2.count; i++) {
        bytes |= strstr(errs2.msg[i], "SHOPSTREAM_EDGE_MAX_INFLIGHT_BYTES") != NULL;
        conns |= strstr(errs2.msg[i], "SHOPSTREAM_EDGE_MAX_CONNECTIONS") != NULL;
        timeout |= strstr(errs2.msg[i], "SHOPSTREAM_EDGE_REQUEST_TIMEOUT_MS") != NULL;
    }
    cr_assert(bytes && conns && timeout);
}

Test(config, jwt_cache_entries_default_zero_turns_it_off_negative_refused)
{
    static const char *const dflt[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                       "SHOPSTREAM_JWT_SECRET", SECRET, NULL};
    static const char *const off[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET, "SHOPSTREAM_JWT_CACHE_ENTRIES", "0", NULL};
    static const char *const bad[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET, "SHOPSTREAM_JWT_CACHE_ENTRIES", "-1", NULL};
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    shop_cfg_table_use(dflt);
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 2, &errs), 0);
    cr_assert_eq(cfg.jwt_cache_entries, 8192);
    shop_cfg_table_use(off);
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 2, &errs), 0);
    cr_assert_eq(cfg.jwt_cache_entries, 0);
    shop_cfg_table_use(bad);
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 2, &errs), SHOP_ECONFIG);
    cr_assert(strstr(errs.msg[0], "SHOPSTREAM_JWT_CACHE_ENTRIES") != NULL, "%s", errs.msg[0]);
}

Test(config, operations_defaults_and_values)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET, NULL};
    shop_cfg_table_use(env);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0);
    cr_assert_eq(cfg.ready_interval_ms, 1000);
    cr_assert_eq(cfg.drain_ms, 5000);
    cr_assert_eq(cfg.read_queue_timeout_ms, 1000);
    cr_assert_eq(cfg.rl_ingest.quota, 0, "rate limits are off by default");
    cr_assert_eq(cfg.rl_reads.quota, 0);
    cr_assert_eq(cfg.rl_ingest.window_s, 1);
    cr_assert_eq(cfg.rl_clients, 65536);
    cr_assert_eq(cfg.trusted_proxies.n, 0);

    static const char *const set[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET,
                                      "SHOPSTREAM_EDGE_DRAIN_MS", "0",
                                      "SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS", "250",
                                      "SHOPSTREAM_EDGE_RATELIMIT_INGEST", "100",
                                      "SHOPSTREAM_EDGE_RATELIMIT_READS", "20",
                                      "SHOPSTREAM_EDGE_RATELIMIT_READS_WINDOW_S", "60",
                                      "SHOPSTREAM_EDGE_TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1",
                                      NULL};
    shop_cfg_table_use(set);
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0, "%s", errs.msg[0]);
    cr_assert_eq(cfg.drain_ms, 0);
    cr_assert_eq(cfg.read_queue_timeout_ms, 250);
    cr_assert_eq(cfg.rl_ingest.quota, 100);
    cr_assert_eq(cfg.rl_reads.quota, 20);
    cr_assert_eq(cfg.rl_reads.window_s, 60);
    cr_assert_eq(cfg.trusted_proxies.n, 2);
}

Test(config, bad_operations_values_are_each_reported)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET,
                                      "SHOPSTREAM_EDGE_READY_INTERVAL_MS", "5",
                                      "SHOPSTREAM_EDGE_DRAIN_MS", "-1",
                                      "SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS", "soon",
                                      "SHOPSTREAM_EDGE_RATELIMIT_INGEST", "-3",
                                      "SHOPSTREAM_EDGE_RATELIMIT_READS_WINDOW_S", "0",
                                      "SHOPSTREAM_EDGE_RATELIMIT_CLIENTS", "1",
                                      "SHOPSTREAM_EDGE_TRUSTED_PROXIES", "10.0.0.0/40",
                                      NULL};
    shop_cfg_table_use(env);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), SHOP_ECONFIG);
    cr_assert_eq(errs.count, 7);
    bool saw_proxies = false;
    for (int i = 0; i < errs.count; i++)
        saw_proxies |= strstr(errs.msg[i], "SHOPSTREAM_EDGE_TRUSTED_PROXIES") != NULL;
    cr_assert(saw_proxies);
}

Test(config, jwks_file_selects_rs256_with_lifetime_and_event_bounds)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_JWKS_FILE", "/keys.json",
                                      "SHOPSTREAM_JWT_MAX_LIFETIME_S", "3600",
                                      "SHOPSTREAM_EDGE_EVENT_MAX", "4096", NULL};
    shop_cfg_table_use(env);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0, "%s", errs.msg[0]);
    cr_assert_eq(cfg.jwt_alg, SHOP_JWT_RS256);
    cr_assert_str_eq(cfg.jwt_jwks_file, "/keys.json");
    cr_assert_null(cfg.jwt_key_file);
    cr_assert_eq(cfg.jwt_max_lifetime_s, 3600);
    cr_assert_eq(cfg.event_max, 4096);

    static const char *const both[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                       "SHOPSTREAM_JWT_JWKS_FILE", "/keys.json",
                                       "SHOPSTREAM_JWT_PUBLIC_KEY_FILE", "/k.pem",
                                       "SHOPSTREAM_EDGE_EVENT_MAX", "100", NULL};
    shop_cfg_table_use(both);
    struct shop_cfg_errs errs2 = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs2), SHOP_ECONFIG);
    cr_assert_eq(errs2.count, 2, "two key sources, event max below 256");
}

Test(config, lifetime_bound_is_off_and_event_max_64k_by_default)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET, NULL};
    shop_cfg_table_use(env);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0);
    cr_assert_eq(cfg.jwt_max_lifetime_s, 0);
    cr_assert_null(cfg.jwt_jwks_file);
    cr_assert_eq(cfg.event_max, 65536);
}

/* SHOPSTREAM_PG_READ_DSN: ';' splits, except inside a quoted keyword value. */
static void span_is(const char *list, const struct shop_edge_dsn_span *s, const char *want)
{
    cr_assert_eq(s->len, strlen(want), "%.*s", (int)s->len, list + s->off);
    cr_assert_eq(strncmp(list + s->off, want, s->len), 0, "%.*s", (int)s->len, list + s->off);
}

Test(config, read_dsn_splits_on_semicolons_outside_quotes)
{
    struct shop_edge_dsn_span s[4];
    struct shop_err err = {0};
    const char *one = "host=r1 port=5433";
    cr_assert_eq(shop_edge_dsn_split(one, s, 4, &err), 1);
    span_is(one, &s[0], "host=r1 port=5433");
    const char *three = " host=r1 ; host=r2 password='a;b\\' c' ;postgresql://u:p%3Bq@r3/db ";
    cr_assert_eq(shop_edge_dsn_split(three, s, 4, &err), 3, "%s", err.msg);
    span_is(three, &s[0], "host=r1");
    span_is(three, &s[1], "host=r2 password='a;b\\' c'");
    span_is(three, &s[2], "postgresql://u:p%3Bq@r3/db");
}

Test(config, read_dsn_refuses_empty_entries_open_quotes_and_too_many)
{
    struct shop_edge_dsn_span s[2];
    struct shop_err err = {0};
    cr_assert_eq(shop_edge_dsn_split("host=r1;", s, 2, &err), SHOP_EINVAL);
    cr_assert_str_eq(err.msg, "entry 2 is empty");
    cr_assert_eq(shop_edge_dsn_split(" ;host=r1", s, 2, &err), SHOP_EINVAL);
    cr_assert_str_eq(err.msg, "entry 1 is empty");
    cr_assert_eq(shop_edge_dsn_split("host=r1 password='x;y", s, 2, &err), SHOP_EINVAL);
    cr_assert_str_eq(err.msg, "entry 1 has an unterminated quote");
    cr_assert_eq(shop_edge_dsn_split("a=1;b=2;c=3", s, 2, &err), SHOP_EINVAL);
    cr_assert_str_eq(err.msg, "more than 2 entries");
}

Test(config, read_dsn_loads_checks_the_pool_and_is_redacted)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET, "SHOPSTREAM_PG_READ_DSN",
                                      "host=r1 password=hunter2;postgresql://u:pw2@r2/db", NULL};
    shop_cfg_table_use(env);
    struct shop_edge_config cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0, "%s", errs.msg[0]);
    cr_assert_eq(cfg.pg_read_n, 2);
    char buf[4096];
    shop_edge_config_describe(&cfg, buf, sizeof(buf));
    cr_assert_null(strstr(buf, "hunter2"), "%s", buf);
    cr_assert_null(strstr(buf, "pw2"), "%s", buf);
    cr_assert_not_null(strstr(buf, " pg_read_dsn=\"host=r1 password=***;postgresql://u:***@r2/db\""),
                       "%s", buf);

    static const char *const big[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                      "SHOPSTREAM_JWT_SECRET", SECRET, "SHOPSTREAM_PG_READ_DSN",
                                      "host=r1;host=r2;host=r3", "SHOPSTREAM_EDGE_PG_POOL", "2", NULL};
    shop_cfg_table_use(big);
    struct shop_cfg_errs errs2 = {0};
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs2), SHOP_ECONFIG);
    cr_assert_eq(errs2.count, 1);
    cr_assert_not_null(strstr(errs2.msg[0], "SHOPSTREAM_PG_READ_DSN names 3 replicas"), "%s",
                       errs2.msg[0]);

    static const char *const none[] = {"SHOPSTREAM_KAFKA_BROKERS", "k", "SHOPSTREAM_PG_DSN", "d",
                                       "SHOPSTREAM_JWT_SECRET", SECRET, NULL};
    shop_cfg_table_use(none);
    cr_assert_eq(shop_edge_config_load(&cfg, shop_cfg_table_get, 1, &errs), 0);
    cr_assert_eq(cfg.pg_read_n, 0);
    cr_assert_null(cfg.pg_read_dsn);
    shop_edge_config_describe(&cfg, buf, sizeof(buf));
    cr_assert_null(strstr(buf, "pg_read_dsn"), "%s", buf);
}
