/* SPDX-License-Identifier: MIT
 * shop_kafka_conf against librdkafka itself (no broker): the file and the
 * variable are read, every property librdkafka refuses is listed, what only a
 * client's creation checks fails at load too, and apply really sets them. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/shop_kafka_conf.h"

static const struct shop_kafka_owned owned[] = {{"acks", "acks=all"}, {NULL, NULL}};
static struct shop_kafka_props props;

static bool any_error_has(const struct shop_cfg_errs *errs, const char *s)
{
    for (int i = 0; i < errs->count; i++) {
        if (strstr(errs->msg[i], s) != NULL)
            return true;
    }
    return false;
}

Test(kafka_conf, unknown_names_and_bad_values_are_all_listed)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_PROPERTIES",
                                      "security.protocol=bogus;no.such.property=1;linger.ms=-5", NULL};
    shop_cfg_table_use(env);
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, shop_kafka_props_load(&props, shop_cfg_table_get, owned, &errs), SHOP_ECONFIG));
    cr_assert(eq(int, errs.count, 3));
    cr_assert(any_error_has(&errs, "kafka property security.protocol"));
    cr_assert(any_error_has(&errs, "kafka property no.such.property"));
    cr_assert(any_error_has(&errs, "kafka property linger.ms"));
}

Test(kafka_conf, owned_names_are_refused)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_PROPERTIES", "acks=1", NULL};
    shop_cfg_table_use(env);
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, shop_kafka_props_load(&props, shop_cfg_table_get, owned, &errs), SHOP_ECONFIG));
    cr_assert(any_error_has(&errs, "acks is set by shopstream"));
}

Test(kafka_conf, what_only_client_creation_checks_fails_at_load)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_PROPERTIES",
                                      "security.protocol=ssl;ssl.ca.location=/nonexistent/ca.pem", NULL};
    shop_cfg_table_use(env);
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, shop_kafka_props_load(&props, shop_cfg_table_get, owned, &errs), SHOP_ECONFIG));
    cr_assert(any_error_has(&errs, "refused by librdkafka"), "%s", errs.msg[0]);
}

Test(kafka_conf, file_then_variable_are_applied)
{
    char path[] = "/tmp/test_kafka_conf.XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# from a Secret\nclient.id = from-file\nsasl.username: u\n", f);
    fclose(f);
    const char *const env[] = {"SHOPSTREAM_KAFKA_PROPERTIES_FILE", path, "SHOPSTREAM_KAFKA_PROPERTIES",
                               "linger.ms=7;sasl.password=s3cret", NULL};
    shop_cfg_table_use(env);
    struct shop_cfg_errs errs = {0};
    int rc = shop_kafka_props_load(&props, shop_cfg_table_get, owned, &errs);
    unlink(path);
    cr_assert(eq(int, rc, 0), "%s", errs.msg[0]);
    cr_assert(eq(int, props.n, 4));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    struct shop_err err = {0};
    rd_kafka_conf_set(conf, "client.id", "product-default", NULL, 0);
    cr_assert(eq(int, shop_kafka_conf_apply(conf, &props, &err), 0));
    char v[64];
    size_t n = sizeof(v);
    cr_assert(eq(int, rd_kafka_conf_get(conf, "client.id", v, &n), RD_KAFKA_CONF_OK));
    cr_assert(eq(str, v, "from-file"));
    n = sizeof(v);
    rd_kafka_conf_get(conf, "linger.ms", v, &n);
    cr_assert(eq(str, v, "7"));
    rd_kafka_conf_destroy(conf);
    conf = rd_kafka_conf_new();
    cr_assert(eq(int, shop_kafka_conf_apply(conf, NULL, &err), 0));
    rd_kafka_conf_destroy(conf);
}

Test(kafka_conf, a_missing_file_is_named)
{
    static const char *const env[] = {"SHOPSTREAM_KAFKA_PROPERTIES_FILE", "/nonexistent/kafka.properties", NULL};
    shop_cfg_table_use(env);
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, shop_kafka_props_load(&props, shop_cfg_table_get, owned, &errs), SHOP_ECONFIG));
    cr_assert(any_error_has(&errs, "/nonexistent/kafka.properties"));
}
