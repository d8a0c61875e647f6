/* SPDX-License-Identifier: MIT
 * shopstream-worker: parses --role, loads the configuration once (exit 2 listing
 * every error), prints the effective configuration, and runs the loop with the
 * role's shell.
 * Shell.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "proto/core/event_topic.h"
#include "workers/roles/roles.h"
#include "workers/worker.h"

/* Each row of the role table (workers/core/roles.c) and its shell. */
static const struct worker_role *const role_shells[SHOP_WORKER_ROLE_COUNT] = {
    [SHOP_WORKER_PROJECTOR] = &worker_projector_role,
    [SHOP_WORKER_INVENTORY] = &worker_inventory_role,
    [SHOP_WORKER_ML] = &worker_ml_role,
    [SHOP_WORKER_NOTIFY] = &worker_notify_role,
};

static void usage(FILE *out)
{
    char names[128];
    shop_role_list(names, sizeof(names));
    fprintf(out, "usage: shopstream-worker --role ROLE   (one of: %s)\n", names);
    for (int r = 0; r < SHOP_WORKER_ROLE_COUNT; r++) {
        const struct shop_role_desc *d = shop_role_desc((enum shop_worker_role)r);
        fprintf(out, "  %s: consumes", d->name);
        for (int i = 0; i < d->n_streams; i++) {
            char topic[SHOP_TOPIC_NAME_MAX];
            shop_topic_name(topic, sizeof(topic), "<SHOPSTREAM_TOPIC_PREFIX>", d->streams[i]);
            fprintf(out, "%s %s", i > 0 ? "," : "", topic);
        }
        fprintf(out, " as group %s\n", d->group);
    }
    fputs("Configuration comes from SHOPSTREAM_* environment variables (see docs/projections.md).\n", out);
}

static const char *env_get(const char *name)
{
    return getenv(name);
}

static const char *parse_role(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--role=", 7) == 0)
            return argv[i] + 7;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static struct shop_worker_cfg cfg;
    static struct shop_kafka_props kafka_props;
    struct shop_cfg_errs errs = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    }
    int bad = shop_worker_cfg_load(&cfg, parse_role(argc, argv), env_get, &errs) < 0;
    bad |= shop_kafka_props_load(&kafka_props, env_get, worker_kafka_owned, &errs) < 0;
    cfg.kafka_props = &kafka_props;
    if (bad) {
        for (int i = 0; i < errs.count; i++)
            SHOP_LOG(SHOP_LOG_ERROR, "worker", "invalid configuration", "err=\"%s\"", errs.msg[i]);
        usage(stderr);
        return 2;
    }
    shop_log_level_parse(cfg.log_level, &shop_log_level);
    char line[3072];
    shop_worker_cfg_format(&cfg, line, sizeof(line));
    SHOP_LOG(SHOP_LOG_INFO, "worker", "effective configuration", "%s", line);
    if (role_shells[cfg.role] == NULL) {
        SHOP_LOG(SHOP_LOG_ERROR, "worker", "role has no shell in this build", "role=%s",
                 shop_role_desc(cfg.role)->name);
        return 2;
    }
    return worker_run(&cfg, role_shells[cfg.role]);
}
