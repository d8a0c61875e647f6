/* SPDX-License-Identifier: MIT
 * shopstream-admin: operator commands.
 *   shopstream-admin migrate [--dsn DSN] [--dir DIR]
 *   shopstream-admin create-topics [--brokers B] [--prefix P] [--partitions N] [--replication R]
 *   shopstream-admin lag [--role R] [--brokers B] [--prefix P] [--dsn DSN] [--group G] [--quiet]
 * Defaults come from SHOPSTREAM_PG_DSN, SHOPSTREAM_SCHEMA_DIR, SHOPSTREAM_KAFKA_BROKERS,
 * SHOPSTREAM_TOPIC_PREFIX, SHOPSTREAM_KAFKA_PARTITIONS and SHOPSTREAM_KAFKA_GROUP_ID; Kafka clients
 * take SHOPSTREAM_KAFKA_PROPERTIES[_FILE]. Exit 0 ok, 1 failure, 2 usage or configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_cfg.h"
#include "base/shop_defaults.h"
#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "base/shop_redact.h"
#include "tools/admin/admin.h"

static void usage(void)
{
    fprintf(stderr, "usage: shopstream-admin migrate [--dsn DSN] [--dir DIR]\n"
                    "       shopstream-admin create-topics [--brokers B] [--prefix P] [--partitions N] "
                    "[--replication R]\n"
                    "       shopstream-admin lag [--role R] [--brokers B] [--prefix P] [--dsn DSN] [--group G] [--quiet]\n");
}

/* admin_kafka_client() only sets bootstrap.servers (--brokers). */
static const struct shop_kafka_owned admin_kafka_owned[] = {
    {"bootstrap.servers", "use --brokers or SHOPSTREAM_KAFKA_BROKERS"},
    {"metadata.broker.list", "use --brokers or SHOPSTREAM_KAFKA_BROKERS"},
    {NULL, NULL},
};

/* Exits 2 listing every bad property. */
static void load_kafka_props(void)
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

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    }
    return def;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    struct shop_cfg_errs errs = {0};
    struct shop_err err = {0};
    const char *dsn = NULL;   /* whose password must not reach the log */
    int rc;
    if (strcmp(argv[1], "migrate") == 0) {
        dsn = opt(argc, argv, "--dsn", shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_PG_DSN", "dbname=shopstream"));
        const char *dir = opt(argc, argv, "--dir", shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_SCHEMA_DIR", SHOP_SCHEMA_DIR));
        rc = admin_migrate(dsn, dir, &err);
    } else if (strcmp(argv[1], "create-topics") == 0) {
        const char *brokers = opt(argc, argv, "--brokers",
                                  shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_KAFKA_BROKERS", SHOP_DEFAULT_KAFKA_BROKERS));
        const char *prefix = opt(argc, argv, "--prefix", shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_TOPIC_PREFIX", SHOP_DEFAULT_TOPIC_PREFIX));
        long partitions = shop_cfg_int(shop_cfg_getenv, "SHOPSTREAM_KAFKA_PARTITIONS", 4, 1, 1024, &errs);
        partitions = strtol(opt(argc, argv, "--partitions", "0"), NULL, 10) > 0
                         ? strtol(opt(argc, argv, "--partitions", "0"), NULL, 10) : partitions;
        long replication = strtol(opt(argc, argv, "--replication", "1"), NULL, 10);
        if (errs.count > 0 || replication < 1) {
            fprintf(stderr, "%s\n", errs.count ? errs.msg[0] : "--replication must be >= 1");
            return 2;
        }
        load_kafka_props();
        rc = admin_create_topics(brokers, prefix, (int)partitions, (int)replication, &err);
    } else if (strcmp(argv[1], "lag") == 0) {
        int64_t total;
        int quiet = 0;
        for (int i = 2; i < argc; i++)
            quiet |= strcmp(argv[i], "--quiet") == 0;
        enum shop_worker_role wr;
        const char *role_name = opt(argc, argv, "--role", "projector");
        if (shop_role_parse(role_name, &wr) != 0) {
            char known[128];
            shop_role_list(known, sizeof(known));
            fprintf(stderr, "unknown --role %s (known: %s)\n", role_name, known);
            return 2;
        }
        const struct shop_role_desc *role = shop_role_desc(wr);
        load_kafka_props();
        dsn = opt(argc, argv, "--dsn", shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_PG_DSN", "dbname=shopstream"));
        rc = admin_lag(opt(argc, argv, "--brokers", shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_KAFKA_BROKERS", SHOP_DEFAULT_KAFKA_BROKERS)),
                       opt(argc, argv, "--prefix", shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_TOPIC_PREFIX", SHOP_DEFAULT_TOPIC_PREFIX)),
                       dsn,
                       opt(argc, argv, "--group", shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_KAFKA_GROUP_ID", role->group)),
                       role, quiet, &total, &err);
        if (rc == 0)
            printf(quiet ? "%lld\n" : "total lag %lld\n", (long long)total);
    } else {
        usage();
        return 2;
    }
    if (rc != 0) {
        char msg[SHOP_ERR_MSG_MAX];   /* libpq's messages may quote parts of the DSN */
        shop_redact_text(err.msg, dsn, msg, sizeof(msg));
        SHOP_LOG(SHOP_LOG_ERROR, "admin", "command failed", "cmd=%s err=\"%s\"", argv[1], msg);
        return 1;
    }
    return 0;
}
