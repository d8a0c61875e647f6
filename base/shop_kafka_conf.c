/* SPDX-License-Identifier: MIT
 * Reads and checks the operator's Kafka client properties and applies them to
 * a librdkafka configuration. Shell (getenv through the caller, one file read,
 * librdkafka).
 */
#include "base/shop_kafka_conf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_redact.h"

#define PROPERTIES_FILE_MAX (256 * 1024)

static int read_file(const char *path, struct shop_kafka_props *props, struct shop_cfg_errs *errs)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        shop_cfg_errorf(errs, "SHOPSTREAM_KAFKA_PROPERTIES_FILE %s: %s", path, strerror(errno));
        return SHOP_ECONFIG;
    }
    char *buf = malloc(PROPERTIES_FILE_MAX + 1);
    size_t n = buf != NULL ? fread(buf, 1, PROPERTIES_FILE_MAX + 1, f) : 0;
    int failed = ferror(f);
    fclose(f);
    int rc = SHOP_ECONFIG;
    if (buf == NULL || failed)
        shop_cfg_errorf(errs, "SHOPSTREAM_KAFKA_PROPERTIES_FILE %s: could not read it", path);
    else if (n > PROPERTIES_FILE_MAX)
        shop_cfg_errorf(errs, "SHOPSTREAM_KAFKA_PROPERTIES_FILE %s is longer than %d bytes", path,
                        PROPERTIES_FILE_MAX);
    else
        rc = shop_kafka_props_parse_file(props, buf, n, "SHOPSTREAM_KAFKA_PROPERTIES_FILE", errs);
    free(buf);
    return rc;
}

/* librdkafka's message for a property, with the value taken out when it is a secret. */
static void conf_error(const struct shop_kafka_prop *p, const char *errstr, char *out, size_t n)
{
    if (shop_redact_kafka_is_secret(p->name))
        shop_redact_value(errstr, p->value, out, n);
    else
        snprintf(out, n, "%s", errstr);
}

/* The check client logs nothing: its only findings are what rd_kafka_new() returns. */
static void on_check_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

/* Every property goes through rd_kafka_conf_set(), so all bad ones are listed; the
 * client is made only when nothing else was wrong (earlier is set by the caller). */
static int check_with_librdkafka(const struct shop_kafka_props *props, bool earlier, struct shop_cfg_errs *errs)
{
    char errstr[512], msg[512];
    int rc = 0;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (int i = 0; i < props->n; i++) {
        const struct shop_kafka_prop *p = &props->p[i];
        if (rd_kafka_conf_set(conf, p->name, p->value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            conf_error(p, errstr, msg, sizeof(msg));
            shop_cfg_errorf(errs, "%s: kafka property %s: %s", p->origin, p->name, msg);
            rc = SHOP_ECONFIG;
        }
    }
    if (rc != 0 || earlier || props->n == 0) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    rd_kafka_conf_set_log_cb(conf, on_check_log);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);   /* rd_kafka_new() frees conf only on success */
        snprintf(msg, sizeof(msg), "%s", errstr);
        for (int i = 0; i < props->n; i++) {
            if (shop_redact_kafka_is_secret(props->p[i].name)) {
                char tmp[512];
                shop_redact_value(msg, props->p[i].value, tmp, sizeof(tmp));
                snprintf(msg, sizeof(msg), "%s", tmp);
            }
        }
        shop_cfg_errorf(errs, "kafka properties refused by librdkafka: %s", msg);
        return SHOP_ECONFIG;
    }
    rd_kafka_destroy(rk);
    return 0;
}

int shop_kafka_props_load(struct shop_kafka_props *props, shop_getenv_fn get,
                          const struct shop_kafka_owned *owned, struct shop_cfg_errs *errs)
{
    shop_kafka_props_init(props);
    const char *file = shop_cfg_str(get, "SHOPSTREAM_KAFKA_PROPERTIES_FILE", NULL);
    const char *list = shop_cfg_str(get, "SHOPSTREAM_KAFKA_PROPERTIES", NULL);
    int rc = 0;
    if (file != NULL && read_file(file, props, errs) != 0)
        rc = SHOP_ECONFIG;
    if (list != NULL && shop_kafka_props_parse_list(props, list, "SHOPSTREAM_KAFKA_PROPERTIES", errs) != 0)
        rc = SHOP_ECONFIG;
    if (shop_kafka_props_refuse(props, owned, errs) != 0)
        rc = SHOP_ECONFIG;
    if (check_with_librdkafka(props, rc != 0, errs) != 0)
        rc = SHOP_ECONFIG;
    return rc;
}

int shop_kafka_conf_apply(rd_kafka_conf_t *conf, const struct shop_kafka_props *props, struct shop_err *err)
{
    char errstr[512], msg[512];
    for (int i = 0; props != NULL && i < props->n; i++) {
        const struct shop_kafka_prop *p = &props->p[i];
        if (rd_kafka_conf_set(conf, p->name, p->value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            conf_error(p, errstr, msg, sizeof(msg));
            return shop_err_set(err, SHOP_ECONFIG, "kafka property %s (%s): %s", p->name, p->origin, msg);
        }
    }
    return 0;
}
