/* SPDX-License-Identifier: MIT
 * shopstream-bench-projector: how fast shopstream-worker --role projector
 * turns a backlog into read models, beside how fast PostgreSQL takes the same
 * events as rows through COPY, in one run.
 *   shopstream-bench-projector [--dsn ADMIN_DSN] [--brokers B] [--events N]
 *       [--partitions P] [--data DIR] [--seed S] [--build-dir DIR]
 *       [--schema-dir DIR] [--timeout-s S] [--prefill N] [--keep]
 * 1. a fresh database (created through ADMIN_DSN, a key=value DSN of a role that
 *    may create databases) migrated with shopstream-admin, and fresh topics;
 * 2. N Online Retail events (tools/replay/replay_gen: the catalog, then each
 *    shopper's sessions) decoded, stamped and packed by proto/core and produced
 *    with the raw producer (bench/ingest/bench_produce);
 * 3. the projector started as a child; the consumed offsets it commits to
 *    PostgreSQL are polled: steady state runs from its first committed batch to
 *    its last, end-to-end from the fork;
 * 4. the same N events as rows in one COPY into a table of the same database;
 * 5. (unless --prefill 0) a second database whose applied_events already holds N
 *    prefill ids (default 10 M) spread over the dedup window's receipt times, filled
 *    with one server-side insert from generate_series, and a second projector (its
 *    own group) over the same topics, measured like 3;
 * then the ratios projector / COPY and prefilled / fresh. Everything created (database, topics, consumer
 * group) is dropped unless --keep.
 * The worker's log goes to a file named on failure. Exit 0, 1 on failure, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/shop_cfg.h"
#include "base/shop_defaults.h"
#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "base/shop_redact.h"
#include "bench/common/bench_proc.h"
#include "bench/ingest/bench_produce.h"
#include "bench/projector/copy_rows.h"
#include "tools/replay/replay_gen.h"
#include "tools/retail/retail.h"

extern char **environ;

struct opts {
    const char *admin_dsn, *brokers, *data_dir, *build_dir, *schema_dir;
    size_t n_events, prefill;
    int partitions, timeout_s, keep;
    uint64_t seed;
};

/* What one run creates, so that it can be dropped. */
struct bench {
    const struct opts *o;
    char db[64], prefix[96], group[64], dsn[1024], log_path[256];
    char db_full[80], group_full[80], dsn_full[1100];   /* the prefilled run */
    char admin_bin[1200], worker_bin[1200];
    PGconn *admin, *conn, *conn_full;
    int db_created, db_full_created, topics_created;
    pid_t worker;
};

/* One projector run: from the fork to its first and last committed batch. */
struct run_fig {
    double first_s, last_s;
    int64_t first_consumed;
};

struct figures {
    double produce_s, copy_s, prefill_s;
    struct run_fig fresh, full;
    int64_t full_bytes;
};

static void usage(void)
{
    fprintf(stderr, "usage: shopstream-bench-projector [--dsn ADMIN_DSN] [--brokers B] [--events N] [--partitions P]\n"
                    "         [--data DIR] [--seed S] [--build-dir DIR] [--schema-dir DIR] [--timeout-s S]\n"
                    "         [--prefill N] [--keep]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){
        .admin_dsn = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_PG_DSN", "dbname=shopstream"),
        .brokers = shop_cfg_str(shop_cfg_getenv, "SHOPSTREAM_KAFKA_BROKERS", SHOP_DEFAULT_KAFKA_BROKERS),
        .data_dir = SHOP_DATA_DIR, .n_events = 200000, .prefill = 10000000, .partitions = 4, .timeout_s = 600, .seed = 11,
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--keep") == 0) { o->keep = 1; continue; }
        if (v == NULL) return -1;
        if (strcmp(a, "--dsn") == 0) o->admin_dsn = v;
        else if (strcmp(a, "--brokers") == 0) o->brokers = v;
        else if (strcmp(a, "--events") == 0) o->n_events = strtoul(v, NULL, 10);
        else if (strcmp(a, "--partitions") == 0) o->partitions = atoi(v);
        else if (strcmp(a, "--data") == 0) o->data_dir = v;
        else if (strcmp(a, "--seed") == 0) o->seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--build-dir") == 0) o->build_dir = v;
        else if (strcmp(a, "--schema-dir") == 0) o->schema_dir = v;
        else if (strcmp(a, "--timeout-s") == 0) o->timeout_s = atoi(v);
        else if (strcmp(a, "--prefill") == 0) o->prefill = strtoul(v, NULL, 10);
        else return -1;
        i++;
    }
    return o->n_events > 0 && o->partitions > 0 && o->timeout_s > 0 ? 0 : -1;
}

/* ---- child processes --------------------------------------------------------- */

/* The environment plus overrides ("NAME=value"), which replace inherited values. */
static char **child_env(char *const *set, size_t n_set)
{
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = shop_xcalloc(n + n_set + 1, sizeof(*env));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int replaced = 0;
        for (size_t j = 0; j < n_set && !replaced; j++) {
            size_t len = strcspn(set[j], "=") + 1;
            replaced = strncmp(environ[i], set[j], len) == 0;
        }
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < n_set; j++)
        env[k++] = set[j];
    return env;
}


static int run_admin(struct bench *b, char *const *argv, struct shop_err *err)
{
    pid_t pid = bench_spawn(b->log_path, argv, environ);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return shop_err_set(err, SHOP_EIO, "%s %s failed (see %s)", argv[0], argv[1], b->log_path);
    return 0;
}

/* SIGTERM, then SIGKILL after 10 s. */
static void stop_worker(struct bench *b)
{
    if (b->worker <= 0)
        return;
    kill(b->worker, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(b->worker, NULL, WNOHANG) == b->worker) {
            b->worker = 0;
            return;
        }
        usleep(50000);
    }
    kill(b->worker, SIGKILL);
    waitpid(b->worker, NULL, 0);
    b->worker = 0;
}

/* ---- setup and teardown ------------------------------------------------------ */

static void find_binaries(struct bench *b)
{
    char self[1024] = {0}, dir[1100];
    if (b->o->build_dir != NULL) {
        snprintf(dir, sizeof(dir), "%s", b->o->build_dir);
    } else {
        /* <build>/bench/projector/shopstream-bench-projector */
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        self[n > 0 ? n : 0] = '\0';
        snprintf(dir, sizeof(dir), "%s/../..", dirname(self));
    }
    snprintf(b->admin_bin, sizeof(b->admin_bin), "%s/tools/admin/shopstream-admin", dir);
    snprintf(b->worker_bin, sizeof(b->worker_bin), "%s/workers/shopstream-worker", dir);
}

static int exec_ok(PGconn *conn, const char *sql, struct shop_err *err)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        shop_err_set(err, SHOP_EPG, "%.60s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : SHOP_EPG;
}

/* Creates database db (a name the bench made up) and applies the schema. */
static int create_db(struct bench *b, const char *db, const char *dsn, int *created, struct shop_err *err)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "create database %s", db);
    if (exec_ok(b->admin, sql, err) != 0)
        return SHOP_EPG;
    *created = 1;
    char migrate_dir[1100] = "";
    if (b->o->schema_dir != NULL)
        snprintf(migrate_dir, sizeof(migrate_dir), "%s", b->o->schema_dir);
    char *migrate[] = {b->admin_bin, "migrate", "--dsn", (char *)dsn, migrate_dir[0] ? "--dir" : NULL, migrate_dir,
                       NULL};
    return run_admin(b, migrate, err) != 0 ? SHOP_EIO : 0;
}

static int setup(struct bench *b, struct shop_err *err)
{
    b->admin = PQconnectdb(b->o->admin_dsn);
    if (PQstatus(b->admin) != CONNECTION_OK)
        return shop_err_set(err, SHOP_EPG, "could not connect with the admin dsn: %s", PQerrorMessage(b->admin));
    if (create_db(b, b->db, b->dsn, &b->db_created, err) != 0)
        return SHOP_EIO;
    char parts[16];
    snprintf(parts, sizeof(parts), "%d", b->o->partitions);
    char *topics[] = {b->admin_bin, "create-topics", "--brokers", (char *)b->o->brokers, "--prefix", b->prefix,
                      "--partitions", parts, NULL};
    b->topics_created = 1;
    if (run_admin(b, topics, err) != 0)
        return SHOP_EIO;
    b->conn = PQconnectdb(b->dsn);
    if (PQstatus(b->conn) != CONNECTION_OK)
        return shop_err_set(err, SHOP_EPG, "could not connect to %s: %s", b->db, PQerrorMessage(b->conn));
    return 0;
}

/* The worker also commits its offsets to the broker (for lag monitoring): drop its group. */
static void delete_topics_and_group(struct bench *b)
{
    const char *groups[] = {b->group, b->group_full};
    bench_delete_topics(b->o->brokers, b->prefix, groups, b->db_full_created ? 2 : 1);
}

static void teardown(struct bench *b, int failed)
{
    stop_worker(b);
    if (b->conn != NULL)
        PQfinish(b->conn);
    if (b->conn_full != NULL)
        PQfinish(b->conn_full);
    for (int i = 0; i < 2 && !b->o->keep; i++) {
        char sql[256];
        struct shop_err err = {0};
        if (!(i == 0 ? b->db_created : b->db_full_created))
            continue;
        snprintf(sql, sizeof(sql), "drop database if exists %s with (force)", i == 0 ? b->db : b->db_full);
        if (exec_ok(b->admin, sql, &err) != 0)
            SHOP_LOG(SHOP_LOG_WARN, "bench", "could not drop database", "err=\"%s\"", err.msg);
    }
    if (b->admin != NULL)
        PQfinish(b->admin);
    if (!b->o->keep && b->topics_created)
        delete_topics_and_group(b);
    if (b->o->keep)
        printf("kept: databases %s %s, topics %s*.v1, consumer groups %s %s, log %s\n", b->db,
               b->db_full_created ? b->db_full : "-", b->prefix, b->group, b->group_full, b->log_path);
    else if (failed)
        fprintf(stderr, "worker and admin log: %s\n", b->log_path);
    else
        unlink(b->log_path);
}

/* ---- events ------------------------------------------------------------------ */

/* The first n events of the replay (catalog first, then each shopper in time order),
 * checked and packed as the edge would; grows the number of customers until enough. */
static int load_events(const struct opts *o, struct bench_msgs *m, int64_t *received_at_ms, struct shop_err *err)
{
    struct retail_row *rows;
    size_t n_rows, skipped;
    if (retail_load_dir(o->data_dir, &rows, &n_rows, &skipped, err) != 0)
        return SHOP_EIO;
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    *received_at_ms = now_ms;
    int rc = 0;
    for (size_t customers = o->n_events / 450 + 10; rc == 0; customers *= 2) {
        struct replay_opts ro = {.customers = customers, .seed = o->seed, .order_lines_max = 100};
        struct replay_plan plan;
        if (replay_plan_build(rows, n_rows, &ro, &plan) != 0) {
            rc = shop_err_set(err, SHOP_EINVAL, "no rows to replay in %s", o->data_dir);
            break;
        }
        bench_msgs_fini(m);
        bench_msgs_init(m);
        for (size_t i = 0; i < plan.n_reqs && m->n < o->n_events && rc == 0; i++)
            rc = bench_msgs_add_json(m, plan.reqs[i].body, plan.reqs[i].user_id,
                                     plan.reqs[i].admin ? SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_ADMIN)
                                                        : SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SERVICE),
                                     now_ms, err);
        size_t users = plan.n_users;
        replay_plan_free(&plan);
        if (m->n >= o->n_events || users < customers)
            break;
    }
    free(rows);
    if (rc == 0 && m->n < o->n_events)
        rc = shop_err_set(err, SHOP_EINVAL, "the dataset gives only %zu events", m->n);
    if (rc == 0)
        m->n = o->n_events;   /* the rest of the last request is left out */
    return rc;
}

/* ---- measuring --------------------------------------------------------------- */

static int64_t consumed(PGconn *conn, const char *group, struct shop_err *err)
{
    const char *params[1] = {group};
    PGresult *res = PQexecParams(conn, "select coalesce(sum(next_offset), 0) from consumer_offsets "
                                          "where consumer_group = $1", 1, NULL, params, NULL, NULL, 0);
    int64_t v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    else
        shop_err_set(err, SHOP_EPG, "could not read consumer_offsets: %s", PQresultErrorMessage(res));
    PQclear(res);
    return v;
}

/* Starts the projector and polls the offsets it commits with each batch until all of
 * the backlog is in. Offsets of fresh topics start at 0, so their sum counts records. */
static int run_projector(struct bench *b, PGconn *conn, const char *dsn, const char *group, int64_t total,
                         struct run_fig *fig, struct shop_err *err)
{
    char v_brokers[512], v_prefix[160], v_dsn[1200], v_group[128];
    snprintf(v_brokers, sizeof(v_brokers), "SHOPSTREAM_KAFKA_BROKERS=%s", b->o->brokers);
    snprintf(v_prefix, sizeof(v_prefix), "SHOPSTREAM_TOPIC_PREFIX=%s", b->prefix);
    snprintf(v_dsn, sizeof(v_dsn), "SHOPSTREAM_PG_DSN=%s", dsn);
    snprintf(v_group, sizeof(v_group), "SHOPSTREAM_KAFKA_GROUP_ID=%s", group);
    char *set[] = {v_brokers, v_prefix, v_dsn, v_group};
    char **env = child_env(set, 4);
    char *argv[] = {b->worker_bin, "--role", "projector", NULL};
    double t0 = bench_now_s();
    b->worker = bench_spawn(b->log_path, argv, env);
    free(env);
    if (b->worker < 0)
        return shop_err_set(err, SHOP_EIO, "could not fork: %s", strerror(errno));
    int seen_first = 0;
    for (;;) {
        int64_t n = consumed(conn, group, err);
        double now = bench_now_s();
        if (n < 0)
            return SHOP_EPG;
        if (n > 0 && !seen_first) {
            seen_first = 1;
            fig->first_s = now - t0;
            fig->first_consumed = n;
        }
        if (n >= total) {
            fig->last_s = now - t0;
            return 0;
        }
        if (waitpid(b->worker, NULL, WNOHANG) == b->worker) {
            b->worker = 0;
            return shop_err_set(err, SHOP_EIO, "the projector exited after %" PRId64 " of %" PRId64 " events", n,
                                total);
        }
        if (now - t0 > b->o->timeout_s)
            return shop_err_set(err, SHOP_EIO, "timed out after %d s with %" PRId64 " of %" PRId64 " events",
                                b->o->timeout_s, n, total);
        usleep(20000);
    }
}

static int64_t count_rows(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int64_t v = PQresultStatus(res) == PGRES_TUPLES_OK ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return v;
}

static int run_copy(struct bench *b, const struct bench_msgs *m, struct figures *fig, struct shop_err *err)
{
    size_t len;
    char *rows = bench_copy_rows_build(m, b->prefix, &len);
    int rc = exec_ok(b->conn, bench_copy_table_sql, err);
    double t0 = bench_now_s();
    if (rc == 0)
        rc = bench_copy_rows_run(b->conn, rows, len, err);
    fig->copy_s = bench_now_s() - t0;
    free(rows);
    return rc;
}

/* The prefilled database: its applied_events holds o->prefill ids of the second run's
 * group, received evenly over the dedup window before now (so they fill the partitions
 * of the window's buckets, as a week of traffic would). One server-side insert from
 * generate_series, sorted by id so every partition's key grows at its right edge (a
 * denser index than random inserts leave: the lookups face ~10-30 % fewer pages), then
 * vacuum analyze, as autovacuum would have done by then. */
static int setup_prefilled(struct bench *b, int64_t now_ms, struct figures *fig, struct shop_err *err)
{
    if (create_db(b, b->db_full, b->dsn_full, &b->db_full_created, err) != 0)
        return SHOP_EIO;
    b->conn_full = PQconnectdb(b->dsn_full);
    if (PQstatus(b->conn_full) != CONNECTION_OK)
        return shop_err_set(err, SHOP_EPG, "could not connect to %s: %s", b->db_full, PQerrorMessage(b->conn_full));
    char now[24], window[24], count[24];
    snprintf(now, sizeof(now), "%" PRId64, now_ms);
    snprintf(window, sizeof(window), "%" PRId64, shop_cfg_int(shop_cfg_getenv, "SHOPSTREAM_DEDUP_WINDOW_MS",
                                                              INT64_C(604800000), 1, INT64_MAX, NULL));
    snprintf(count, sizeof(count), "%zu", b->o->prefill);
    const char *p_ensure[2] = {now, window};
    const char *p_fill[4] = {b->group_full, now, window, count};
    double t0 = bench_now_s();
    PGresult *res = PQexecParams(
        b->conn_full,
        "select applied_events_ensure(k::int) from applied_events_layout l, "
        "generate_series(($1::bigint - $2::bigint) / l.bucket_ms, $1::bigint / l.bucket_ms + 1) k",
        2, NULL, p_ensure, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (ok && exec_ok(b->conn_full, "set work_mem = '512MB'", err) != 0)
        return SHOP_EPG;
    if (ok) {
        res = PQexecParams(b->conn_full,
                           "insert into applied_events (event_id, projector, bucket) "
                           "select s.id, (select applied_projector_id($1)), "   /* an initplan: once */
                           "((($2::bigint - $3::bigint) + s.g * ($3::bigint / $4::bigint)) "
                           "/ l.bucket_ms)::int from applied_events_layout l, "
                           "(select gen_random_uuid() as id, g from generate_series(0, $4::bigint - 1) g) s "
                           "order by s.id",
                           4, NULL, p_fill, NULL, NULL, 0);
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            shop_err_set(err, SHOP_EPG, "prefill: %s", PQresultErrorMessage(res));
        PQclear(res);
    } else {
        shop_err_set(err, SHOP_EPG, "could not create the prefill partitions: %s", PQerrorMessage(b->conn_full));
    }
    if (!ok || exec_ok(b->conn_full, "vacuum analyze applied_events", err) != 0)
        return SHOP_EPG;
    fig->prefill_s = bench_now_s() - t0;
    return 0;
}

static int64_t applied_bytes(PGconn *conn)
{
    return count_rows(conn, "select coalesce(sum(pg_total_relation_size(relid)), 0) "
                            "from pg_partition_tree('applied_events')");
}

/* Steady state: from the first poll that saw a committed batch to the last one. */
static double steady_rate(const struct run_fig *r, size_t n, int64_t *steady_n, double *steady_s)
{
    *steady_s = r->last_s - r->first_s;
    *steady_n = (int64_t)n - r->first_consumed;
    /* One batch held everything: no steady state to speak of, report end to end. */
    return *steady_n > 0 && *steady_s > 0 ? (double)*steady_n / *steady_s : (double)n / r->last_s;
}

/* "10 M" for whole millions, else the number. */
static const char *count_label(size_t n, char *buf, size_t len)
{
    if (n >= 1000000 && n % 1000000 == 0)
        snprintf(buf, len, "%zu M", n / 1000000);
    else
        snprintf(buf, len, "%zu", n);
    return buf;
}

static void print_figures(struct bench *b, size_t n, const struct figures *f)
{
    char prefill[32];
    count_label(b->o->prefill, prefill, sizeof(prefill));
    int64_t steady_n, full_n;
    double steady_s, full_s;
    double proj = steady_rate(&f->fresh, n, &steady_n, &steady_s);
    double copy = f->copy_s > 0 ? (double)n / f->copy_s : 0;
    printf("%-36s %9s %9s %11s\n", "mode", "events", "seconds", "events/s");
    printf("%-36s %9zu %9.2f %11.0f\n", "raw producer (loading the topics)", n, f->produce_s,
           f->produce_s > 0 ? (double)n / f->produce_s : 0);
    printf("%-36s %9" PRId64 " %9.2f %11.0f\n", "projector, first to last batch", steady_n, steady_s, proj);
    printf("%-36s %9zu %9.2f %11.0f   (first batch after %.2f s)\n", "projector, end to end (with start-up)", n,
           f->fresh.last_s, (double)n / f->fresh.last_s, f->fresh.first_s);
    double full = 0;
    if (b->db_full_created) {
        char label[64];
        full = steady_rate(&f->full, n, &full_n, &full_s);
        snprintf(label, sizeof(label), "projector, %s applied before", prefill);
        printf("%-36s %9" PRId64 " %9.2f %11.0f   (prefill %.1f s, applied_events %.0f MB after)\n", label,
               full_n, full_s, full, f->prefill_s, (double)f->full_bytes / 1048576.0);
    }
    printf("%-36s %9zu %9.2f %11.0f\n", "postgresql COPY of the same rows", n, f->copy_s, copy);
    printf("read models: %" PRId64 " applied events, %" PRId64 " products, %" PRId64 " orders, %" PRId64
           " cart lines\n",
           count_rows(b->conn, "select count(*) from applied_events"),
           count_rows(b->conn, "select count(*) from products"), count_rows(b->conn, "select count(*) from orders"),
           count_rows(b->conn, "select count(*) from cart_items"));
    printf("ratio projector / COPY = %.2f (aim >= 0.50)\n", copy > 0 ? proj / copy : 0.0);
    if (b->db_full_created)
        printf("ratio projector %s applied / fresh = %.2f; / COPY = %.2f\n", prefill,
               proj > 0 ? full / proj : 0.0, copy > 0 ? full / copy : 0.0);
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_opts(argc, argv, &o) != 0) {
        usage();
        return 2;
    }
    bench_kafka_props();   /* exits 2 on a bad SHOPSTREAM_KAFKA_PROPERTIES before any work */
    struct bench b = {.o = &o};
    long stamp = (long)time(NULL) % 1000000;
    snprintf(b.db, sizeof(b.db), "bench_proj_%d_%ld", (int)getpid(), stamp);
    snprintf(b.prefix, sizeof(b.prefix), "bench-proj-%d-%ld.", (int)getpid(), stamp);
    snprintf(b.group, sizeof(b.group), "bench-projector-%d-%ld", (int)getpid(), stamp);
    snprintf(b.dsn, sizeof(b.dsn), "%s dbname=%s", o.admin_dsn, b.db);
    snprintf(b.db_full, sizeof(b.db_full), "%s_full", b.db);
    snprintf(b.group_full, sizeof(b.group_full), "%s-full", b.group);
    snprintf(b.dsn_full, sizeof(b.dsn_full), "%s dbname=%s", o.admin_dsn, b.db_full);
    snprintf(b.log_path, sizeof(b.log_path), "%s/%s.log", shop_cfg_str(shop_cfg_getenv, "TMPDIR", "/tmp"), b.db);
    find_binaries(&b);

    struct bench_msgs m;
    struct figures fig = {0};
    struct shop_err err = {0};
    bench_msgs_init(&m);
    printf("projector benchmark: %zu Online Retail events (seed %llu), %d partitions, brokers %s, database %s\n",
           o.n_events, (unsigned long long)o.seed, o.partitions, o.brokers, b.db);
    fflush(stdout);
    int64_t received_at_ms = 0;
    int rc = load_events(&o, &m, &received_at_ms, &err);
    if (rc == 0)
        rc = setup(&b, &err);
    struct bench_produce_result pr = {0};
    if (rc == 0) {
        struct bench_produce_opts po = {.brokers = o.brokers, .topic_prefix = b.prefix, .warmup = 0};
        rc = bench_produce_all(&m, &po, &pr, &err);
        fig.produce_s = pr.seconds;
        free(pr.lat_us);
    }
    if (rc == 0)
        rc = run_projector(&b, b.conn, b.dsn, b.group, (int64_t)m.n, &fig.fresh, &err);
    stop_worker(&b);
    if (rc == 0)
        rc = run_copy(&b, &m, &fig, &err);
    if (rc == 0 && o.prefill > 0) {
        printf("prefilling %zu applied ids into a second database...\n", o.prefill);
        fflush(stdout);
        rc = setup_prefilled(&b, received_at_ms, &fig, &err);
        if (rc == 0)
            rc = run_projector(&b, b.conn_full, b.dsn_full, b.group_full, (int64_t)m.n, &fig.full, &err);
        stop_worker(&b);
        if (rc == 0)
            fig.full_bytes = applied_bytes(b.conn_full);
    }
    if (rc == 0)
        print_figures(&b, m.n, &fig);
    else
    {
        char msg[SHOP_ERR_MSG_MAX];   /* libpq's messages may quote parts of the DSN */
        shop_redact_text(err.msg, o.admin_dsn, msg, sizeof(msg));
        SHOP_LOG(SHOP_LOG_ERROR, "bench", "projector benchmark failed", "err=\"%s\"", msg);
    }
    teardown(&b, rc != 0);
    bench_msgs_fini(&m);
    return rc == 0 ? 0 : 1;
}
