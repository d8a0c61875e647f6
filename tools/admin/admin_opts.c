/* SPDX-License-Identifier: MIT
 * The options every shopstream-admin command shares, so each default is written once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_cfg.h"
#include "base/shop_defaults.h"
#include "base/shop_kafka_conf.h"
#include "base/shop_kafka_props.h"
#include "base/shop_log.h"
#include "tools/admin/admin.h"

const struct shop_kafka_props *admin_kafka_props;

/* admin_kafka_client() only sets bootstrap.servers (--brokers). */
static const struct shop_kafka_owned admin_kafka_owned[] = {
    {"bootstrap.servers", "use --brokers or SHOPSTREAM_KAFKA_BROKERS"},
    {"metadata.broker.list", "use --brokers or SHOPSTREAM_KAFKA_BROKERS"},
    {NULL, NULL},
};

const char *admin_opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    }
    return def;
}

int admin_flag(int argc, char **argv, const char *name)
{
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return 1;
    }
    return 0;
}

const char *admin_brokers(int argc, char **argv)
{
    return admin_opt(argc, argv, "--brokers",
                     shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_KAFKA_BROKERS", SHOP_DEFAULT_KAFKA_BROKERS));
}

const char *admin_prefix(int argc, char **argv)
{
    return admin_opt(argc, argv, "--prefix",
                     shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_TOPIC_PREFIX", SHOP_DEFAULT_TOPIC_PREFIX));
}

const char *admin_dsn(int argc, char **argv)
{
    return admin_opt(argc, argv, "--dsn", shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_PG_DSN", "dbname=shopstream"));
}

const struct shop_role_desc *admin_role(int argc, char **argv, const char *def)
{
    enum shop_worker_role wr;
    const char *name = admin_opt(argc, argv, "--role", def);
    if (shop_role_parse(name, &wr) != 0) {
        char known[128];
        shop_role_list(known, sizeof(known));
        fprintf(stderr, "unknown --role %s (known: %s)\n", name, known);
        return NULL;
    }
    return shop_role_desc(wr);
}

void admin_load_kafka_props(void)
{
    static struct shop_kafka_props props;
    struct shop_cfg_errs errs = {0};
    if (shop_kafka_props_load(&props, shop_cfg_getenv, admin_kafka_owned, &errs) != 0) {
        for (int i = 0; i < errs.count; i++)
            SHOP_LOG(SHOP_LOG_FATAL, "admin", "bad configuration", "err=\"%s\"", errs.msg[i]);
        exit(2);
    }
    admin_kafka_props = &props;
}
