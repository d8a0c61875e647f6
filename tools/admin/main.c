/* SPDX-License-Identifier: MIT
 * shopstream-admin: the operations CLI, one row per command in the table below
 * (shopstream-admin help lists them). Defaults come from SHOPSTREAM_PG_DSN,
 * SHOPSTREAM_SCHEMA_DIR, SHOPSTREAM_KAFKA_BROKERS, SHOPSTREAM_TOPIC_PREFIX,
 * SHOPSTREAM_KAFKA_PARTITIONS and SHOPSTREAM_KAFKA_GROUP_ID; Kafka clients take
 * SHOPSTREAM_KAFKA_PROPERTIES[_FILE]. Exit 0 ok, 1 failure, 2 usage or configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_cfg.h"
#include "base/shop_defaults.h"
#include "base/shop_log.h"
#include "base/shop_redact.h"
#include "tools/admin/admin.h"

static int cmd_migrate(int argc, char **argv, struct admin_run *run)
{
    run->dsn = admin_dsn(argc, argv);
    const char *dir = admin_opt(argc, argv, "--dir",
                                shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_SCHEMA_DIR", SHOP_SCHEMA_DIR));
    return admin_migrate(run->dsn, dir, &run->err);
}

/* --partitions (else SHOPSTREAM_KAFKA_PARTITIONS) and --replication for new topics; 2 after
 * printing why when they are bad. */
static int topic_sizes(int argc, char **argv, long *partitions, long *replication)
{
    struct shop_cfg_errs errs = {0};
    *partitions = shop_cfg_int(shop_cfg_getenv, "SHOPSTREAM_KAFKA_PARTITIONS", 4, 1, 1024, &errs);
    long given = strtol(admin_opt(argc, argv, "--partitions", "0"), NULL, 10);
    *replication = strtol(admin_opt(argc, argv, "--replication", "1"), NULL, 10);
    if (given > 0)
        *partitions = given;
    if (errs.count > 0 || *replication < 1) {
        fprintf(stderr, "%s\n", errs.count ? errs.msg[0] : "--replication must be >= 1");
        return 2;
    }
    return 0;
}

static int cmd_create_topics(int argc, char **argv, struct admin_run *run)
{
    long partitions, replication;
    if (topic_sizes(argc, argv, &partitions, &replication) != 0)
        return 2;
    admin_load_kafka_props();
    return admin_create_topics(admin_brokers(argc, argv), admin_prefix(argc, argv), (int)partitions,
                               (int)replication, &run->err);
}

static int cmd_topics(int argc, char **argv, struct admin_run *run)
{
    long partitions, replication;
    if (topic_sizes(argc, argv, &partitions, &replication) != 0)
        return 2;
    admin_load_kafka_props();
    return admin_topics(admin_brokers(argc, argv), admin_prefix(argc, argv), (int)partitions, (int)replication,
                        admin_flag(argc, argv, "--dry-run"), &run->err);
}

static int cmd_tail(int argc, char **argv, struct admin_run *run)
{
    const char *format = admin_opt(argc, argv, "--format", "json");
    struct admin_tail_opts o = {
        .topic = admin_opt(argc, argv, "--topic", NULL),
        .from_beginning = admin_flag(argc, argv, "--from-beginning"),
        .text = strcmp(format, "text") == 0,
        .exit_at_end = admin_flag(argc, argv, "--exit-at-end"),
        .max = strtol(admin_opt(argc, argv, "--max", "0"), NULL, 10),
        .timeout_ms = strtol(admin_opt(argc, argv, "--timeout-ms", "0"), NULL, 10),
    };
    if (o.topic == NULL || (strcmp(format, "json") != 0 && !o.text)) {
        fprintf(stderr, "tail needs --topic T, and --format json or text\n");
        return 2;
    }
    admin_load_kafka_props();
    return admin_tail(admin_brokers(argc, argv), admin_prefix(argc, argv), &o, &run->err);
}

static int cmd_lag(int argc, char **argv, struct admin_run *run)
{
    const struct shop_role_desc *role = admin_role(argc, argv, "projector");
    if (role == NULL)
        return 2;
    int quiet = admin_flag(argc, argv, "--quiet");
    int64_t total;
    admin_load_kafka_props();
    run->dsn = admin_dsn(argc, argv);
    const char *group = admin_opt(argc, argv, "--group",
                                  shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_KAFKA_GROUP_ID", role->group));
    int rc = admin_lag(admin_brokers(argc, argv), admin_prefix(argc, argv), run->dsn, group, role, quiet,
                       &total, &run->err);
    if (rc == 0)
        printf(quiet ? "%lld\n" : "total lag %lld\n", (long long)total);
    return rc;
}

/* The group's role: --role, else the role whose default group it is. */
static const struct shop_role_desc *group_role(int argc, char **argv, const char *group)
{
    if (admin_opt(argc, argv, "--role", NULL) != NULL)
        return admin_role(argc, argv, NULL);
    for (int r = 0; r < SHOP_WORKER_ROLE_COUNT; r++) {
        const struct shop_role_desc *d = shop_role_desc((enum shop_worker_role)r);
        if (strcmp(d->group, group) == 0)
            return d;
    }
    fprintf(stderr, "group %s is no role's default group: say which role consumes it with --role\n", group);
    return NULL;
}

/* A whole non-negative number, else -1. */
static int64_t parse_count(const char *s)
{
    char *end;
    long long v = s != NULL ? strtoll(s, &end, 10) : -1;
    return s == NULL || *s == '\0' || *end != '\0' || v < 0 ? -1 : v;
}

static int cmd_replay(int argc, char **argv, struct admin_run *run)
{
    struct admin_replay_opts o = {.group = admin_opt(argc, argv, "--group", NULL),
                                  .topic = admin_opt(argc, argv, "--topic", NULL),
                                  .dry_run = admin_flag(argc, argv, "--dry-run"),
                                  .force = admin_flag(argc, argv, "--force")};
    const char *ts = admin_opt(argc, argv, "--to-timestamp", NULL), *by = admin_opt(argc, argv, "--by", NULL);
    int modes = admin_flag(argc, argv, "--to-earliest") + (ts != NULL) + (by != NULL);
    if (o.group == NULL || modes != 1) {
        fprintf(stderr, "replay needs --group G and one of --to-earliest, --to-timestamp MS, --by N\n");
        return 2;
    }
    o.mode = ts != NULL ? ADMIN_REPLAY_TIMESTAMP : by != NULL ? ADMIN_REPLAY_BY : ADMIN_REPLAY_EARLIEST;
    o.value = parse_count(ts != NULL ? ts : by != NULL ? by : "0");
    if (o.value < 0) {
        fprintf(stderr, "%s must be a whole number >= 0, got \"%s\"\n", ts != NULL ? "--to-timestamp" : "--by",
                ts != NULL ? ts : by);
        return 2;
    }
    if ((o.role = group_role(argc, argv, o.group)) == NULL)
        return 2;
    admin_load_kafka_props();
    o.brokers = admin_brokers(argc, argv);
    o.prefix = admin_prefix(argc, argv);
    o.dsn = run->dsn = admin_dsn(argc, argv);
    return admin_replay(&o, &run->err);
}

static int cmd_rebuild(int argc, char **argv, struct admin_run *run)
{
    const char *name = admin_opt(argc, argv, "--model", NULL);
    struct admin_rebuild_opts o = {.model = shop_read_model_find(name), .swap = admin_flag(argc, argv, "--swap"),
                                   .worker = admin_opt(argc, argv, "--worker", NULL)};
    if (o.model == NULL) {
        char known[256];
        shop_read_model_list(known, sizeof(known));
        fprintf(stderr, "unknown --model %s (known: %s)\n", name != NULL ? name : "(none)", known);
        return 2;
    }
    const struct shop_role_desc *role = shop_role_desc(o.model->role);
    o.live_group = admin_opt(argc, argv, "--group", shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_KAFKA_GROUP_ID", role->group));
    admin_load_kafka_props();
    o.brokers = admin_brokers(argc, argv);
    o.prefix = admin_prefix(argc, argv);
    o.dsn = run->dsn = admin_dsn(argc, argv);
    return admin_rebuild(&o, &run->err);
}

static int cmd_help(int argc, char **argv, struct admin_run *run);

/* The command table: a new command is a row here and a file tools/admin/admin_<cmd>.c. */
static const struct admin_cmd commands[] = {
    {"migrate", "[--dsn DSN] [--dir DIR]", "apply pending schema migrations", cmd_migrate},
    {"create-topics", "[--brokers B] [--prefix P] [--partitions N] [--replication R]",
     "create every topic that does not exist yet, with its policy; existing ones are left as they are",
     cmd_create_topics},
    {"topics", "[--brokers B] [--prefix P] [--partitions N] [--replication R] [--dry-run]",
     "create missing topics and set retention, compaction and min.insync.replicas per topic "
     "(docs/topics.md); --dry-run prints current and desired config", cmd_topics},
    {"lag", "[--role R] [--brokers B] [--prefix P] [--dsn DSN] [--group G] [--quiet]",
     "a group's lag per partition, from its offsets in PostgreSQL", cmd_lag},
    {"tail", "--topic T [--from-beginning] [--format json|text] [--max N] [--timeout-ms MS] [--exit-at-end] "
             "[--brokers B] [--prefix P]",
     "print a topic's records as JSON lines, headers included (T: a topic or a stream: order, dlq, ...)",
     cmd_tail},
    {"replay", "--group G (--to-earliest | --to-timestamp MS | --by N) [--dry-run] [--topic T] [--role R] [--force] "
     "[--brokers B] [--prefix P] [--dsn DSN]",
     "rewind a stopped consumer group in PostgreSQL and Kafka; refuses live members and double effects",
     cmd_replay},
    {"rebuild", "--model M [--swap] [--group G] [--worker PATH] [--brokers B] [--prefix P] [--dsn DSN]",
     "fold the topics into fresh tables beside the live ones; --swap (live group stopped) swaps them in",
     cmd_rebuild},
    {"help", "", "this list", cmd_help},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: shopstream-admin COMMAND [OPTIONS]\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-14s %s\n  %-14s   %s\n", commands[i].name, commands[i].usage, "", commands[i].help);
}

static int cmd_help(int argc, char **argv, struct admin_run *run)
{
    (void)argc, (void)argv, (void)run;
    usage(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const struct admin_cmd *cmd = NULL;
    for (size_t i = 0; argc >= 2 && i < N_COMMANDS; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            cmd = &commands[i];
    if (cmd == NULL) {
        if (argc >= 2)
            fprintf(stderr, "unknown command %s\n", argv[1]);
        usage(stderr);
        return 2;
    }
    struct admin_run run = {0};
    int rc = cmd->fn(argc, argv, &run);
    if (rc < 0) {
        char msg[SHOP_ERR_MSG_MAX];   /* libpq's messages may quote parts of the DSN */
        shop_redact_text(run.err.msg, run.dsn, msg, sizeof(msg));
        SHOP_LOG(SHOP_LOG_ERROR, "admin", "command failed", "cmd=%s err=\"%s\"", argv[1], msg);
    }
    return rc < 0 ? 1 : rc;   /* a negative shop_err code is a failure, exit 1 */
}
