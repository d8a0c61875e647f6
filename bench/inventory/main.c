/* SPDX-License-Identifier: MIT
 * shopstream-bench-inventory: how many orders per second shopstream-worker --role
 * inventory decides (locks, all-or-none reservations, outcomes in the outbox, offsets,
 * the relay to the inventory topic), beside what the same PostgreSQL does with the
 * plainest reservation there is over the same orders: one guarded
 *   update inventory_stock set reserved = reserved + $n
 *   where product_id = $1 and on_hand - reserved >= $n
 * per line (prepared once), pipelined, one transaction per batch of the worker's size. One run:
 *   shopstream-bench-inventory [--dsn ADMIN_DSN] [--brokers B] [--orders N]
 *       [--products P] [--stock S] [--batch B] [--partitions K] [--build-dir DIR]
 *       [--schema-dir DIR] [--timeout-s T] [--seed X]
 * 1. a fresh database (migrated with shopstream-admin) and topics; P products with S
 *    units each, priced 100 GBP;
 * 2. N orders of 1-3 lines (1-3 units of random products) stamped and packed by
 *    proto/core and produced to the order topic (bench/ingest/bench_produce);
 * 3. the inventory worker started as a child; steady state runs from its first decided
 *    order to the last one decided and relayed (polled in PostgreSQL);
 * 4. the stock reset, then the guarded UPDATE loop over the same orders' lines;
 * then the ratio of the two rates, and of their CPU per order (the worker and its
 * PostgreSQL backend; this process and its backend for the loop, from /proc, so the
 * database must run on this machine). The database and topics are dropped at the end.
 * Exit 0, 1 on failure, 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "bench/common/bench_proc.h"
#include "bench/ingest/bench_produce.h"
#include "edge/core/edge_role.h"

extern char **environ;

struct opts {
    const char *admin_dsn, *brokers, *build_dir, *schema_dir;
    long orders, products, stock, batch, partitions, timeout_s;
    unsigned long seed;
};

struct order {
    int n;
    int product[3], qty[3];
};

struct bench {
    struct opts o;
    char db[64], prefix[96], group[64], dsn[1024], log_path[128];
    PGconn *admin, *conn;
    struct order *orders;
    pid_t worker;
};

static void usage(void)
{
    fputs("usage: shopstream-bench-inventory [--dsn ADMIN_DSN] [--brokers B] [--orders N] [--products P]\n"
          "       [--stock S] [--batch B] [--partitions K] [--build-dir DIR] [--schema-dir DIR]\n"
          "       [--timeout-s T] [--seed X]\n",
          stderr);
    exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"dsn", 1, NULL, 'd'},        {"brokers", 1, NULL, 'b'},   {"orders", 1, NULL, 'n'},
        {"products", 1, NULL, 'p'},   {"stock", 1, NULL, 's'},     {"batch", 1, NULL, 'B'},
        {"partitions", 1, NULL, 'k'}, {"build-dir", 1, NULL, 'D'}, {"schema-dir", 1, NULL, 'S'},
        {"timeout-s", 1, NULL, 't'},  {"seed", 1, NULL, 'x'},      {NULL, 0, NULL, 0}};
    *o = (struct opts){"host=127.0.0.1 port=55432 user=shopstream dbname=shopstream", "127.0.0.1:19092", ".",
                       "schema/migrations", 20000, 200, 300, 500, 4, 600, 7};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'd': o->admin_dsn = optarg; break;
        case 'b': o->brokers = optarg; break;
        case 'n': o->orders = strtol(optarg, NULL, 10); break;
        case 'p': o->products = strtol(optarg, NULL, 10); break;
        case 's': o->stock = strtol(optarg, NULL, 10); break;
        case 'B': o->batch = strtol(optarg, NULL, 10); break;
        case 'k': o->partitions = strtol(optarg, NULL, 10); break;
        case 'D': o->build_dir = optarg; break;
        case 'S': o->schema_dir = optarg; break;
        case 't': o->timeout_s = strtol(optarg, NULL, 10); break;
        case 'x': o->seed = strtoul(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (optind != argc || o->orders < 1 || o->products < 1 || o->batch < 1 || o->partitions < 1)
        usage();
}


static int run_admin(struct bench *b, char *const *argv)
{
    int status = 0;
    pid_t pid = bench_spawn(b->log_path, argv, environ);
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int exec_sql(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "bench-inventory: %s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    return ok ? 0 : -1;
}

static long count(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    long n = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return n;
}

/* The database, its schema, the topics and the stock. */
static int setup(struct bench *b)
{
    char sql[256], admin[1100];
    b->admin = PQconnectdb(b->o.admin_dsn);
    if (PQstatus(b->admin) != CONNECTION_OK)
        return fprintf(stderr, "bench-inventory: could not connect: %s", PQerrorMessage(b->admin)), -1;
    snprintf(sql, sizeof(sql), "create database %s", b->db);
    if (exec_sql(b->admin, sql) < 0)
        return -1;
    snprintf(b->dsn, sizeof(b->dsn), "%s dbname=%s", b->o.admin_dsn, b->db);
    snprintf(admin, sizeof(admin), "%s/tools/admin/shopstream-admin", b->o.build_dir);
    char parts[16];
    snprintf(parts, sizeof(parts), "%ld", b->o.partitions);
    char *migrate[] = {admin, "migrate", "--dsn", b->dsn, "--dir", (char *)b->o.schema_dir, NULL};
    char *topics[] = {admin, "create-topics", "--brokers", (char *)b->o.brokers, "--prefix", b->prefix,
                      "--partitions", parts, NULL};
    if (run_admin(b, migrate) < 0 || run_admin(b, topics) < 0)
        return fprintf(stderr, "bench-inventory: shopstream-admin failed (see %s)\n", b->log_path), -1;
    b->conn = PQconnectdb(b->dsn);
    if (PQstatus(b->conn) != CONNECTION_OK)
        return -1;
    snprintf(sql, sizeof(sql),
             "insert into inventory_stock (product_id, on_hand, price_minor, currency) "
             "select 'p-' || g, %ld, 100, 'GBP' from generate_series(0, %ld) g",
             b->o.stock, b->o.products - 1);
    return exec_sql(b->conn, sql);
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* N orders as the edge would publish them for their shoppers: JSON bodies decoded,
 * admitted (actor_role shopper: the prices are checked, and they match), packed. */
static int load_orders(struct bench *b, struct bench_msgs *m)
{
    uint64_t s = b->o.seed * 2654435761u + 1;
    b->orders = shop_xcalloc((size_t)b->o.orders, sizeof(*b->orders));
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    for (long i = 0; i < b->o.orders; i++) {
        struct order *o = &b->orders[i];
        char body[1024], user[32];
        int len = snprintf(body, sizeof(body),
                           "{\"events\":[{\"id\":\"5e1d0000-0000-4000-8000-%012ld\",\"type\":\"order.placed\","
                           "\"order_id\":\"bo-%ld\",\"lines\":[", i, i);
        o->n = 1 + (int)(next_rand(&s) % 3);
        for (int l = 0; l < o->n; l++) {
            o->product[l] = (int)(next_rand(&s) % (uint64_t)b->o.products);
            o->qty[l] = 1 + (int)(next_rand(&s) % 3);
            len += snprintf(body + len, sizeof(body) - (size_t)len,
                            "%s{\"product_id\":\"p-%d\",\"quantity\":%d,\"unit_price\":{\"amount_minor\":100,"
                            "\"currency\":\"GBP\"}}", l > 0 ? "," : "", o->product[l], o->qty[l]);
        }
        snprintf(body + len, sizeof(body) - (size_t)len, "]}]}");
        snprintf(user, sizeof(user), "u-%ld", i % 1000);
        struct shop_err err = {0};
        if (bench_msgs_add_json(m, body, user, SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SHOPPER), now_ms, &err) < 0)
            return fprintf(stderr, "bench-inventory: %s\n", err.msg), -1;
    }
    return 0;
}

static int start_worker(struct bench *b)
{
    char bin[1100], batch[64], dsn[1100], brokers[300], prefix[128], group[96];
    snprintf(bin, sizeof(bin), "%s/workers/shopstream-worker", b->o.build_dir);
    snprintf(batch, sizeof(batch), "SHOPSTREAM_BATCH_MAX=%ld", b->o.batch);
    snprintf(dsn, sizeof(dsn), "SHOPSTREAM_PG_DSN=%s", b->dsn);
    snprintf(brokers, sizeof(brokers), "SHOPSTREAM_KAFKA_BROKERS=%s", b->o.brokers);
    snprintf(prefix, sizeof(prefix), "SHOPSTREAM_TOPIC_PREFIX=%s", b->prefix);
    snprintf(group, sizeof(group), "SHOPSTREAM_KAFKA_GROUP_ID=%s", b->group);
    size_t n = 0;
    while (environ[n] != NULL)
        n++;
    char **env = shop_xcalloc(n + 8, sizeof(*env));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "SHOPSTREAM_", 11) != 0 || strncmp(environ[i], "SHOPSTREAM_KAFKA_PROPERTIES", 27) == 0)
            env[k++] = environ[i];
    }
    char *set[] = {batch, dsn, brokers, prefix, group, "SHOPSTREAM_LOG_LEVEL=warn"};
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
        env[k++] = set[i];
    char *argv[] = {bin, "--role", "inventory", NULL};
    b->worker = bench_spawn(b->log_path, argv, env);
    free(env);
    return b->worker > 0 ? 0 : -1;
}

static void stop_worker(struct bench *b)
{
    if (b->worker <= 0)
        return;
    kill(b->worker, SIGTERM);
    for (int i = 0; i < 200 && waitpid(b->worker, NULL, WNOHANG) != b->worker; i++)
        usleep(50000);
    kill(b->worker, SIGKILL);
    waitpid(b->worker, NULL, 0);
    b->worker = 0;
}

struct run {
    double first_s, last_s;
    long first_n, reserved;
    int backend;                    /* the worker's PostgreSQL backend */
    double worker_cpu_s, backend_cpu_s;   /* over the steady state */
};


/* The worker's backend: the one other client of the bench's database. */
static int worker_backend(struct bench *b)
{
    return (int)count(b->conn, "select pid from pg_stat_activity where datname = current_database() "
                               "and pid <> pg_backend_pid() and backend_type = 'client backend' limit 1");
}

/* Polls until every order is decided and the outbox is empty. */
static int watch_worker(struct bench *b, struct run *r)
{
    double start = bench_now_s();
    r->first_s = 0;
    for (;;) {
        long n = count(b->conn, "select count(*) from inventory_orders");
        double t = bench_now_s() - start;
        if (n > 0 && r->first_n == 0) {
            r->first_s = t;
            r->first_n = n;
            r->backend = worker_backend(b);
            r->worker_cpu_s = -bench_proc_cpu_s(b->worker);
            r->backend_cpu_s = -bench_proc_cpu_s(r->backend);
        }
        if (n == b->o.orders && count(b->conn, "select count(*) from inventory_outbox") == 0) {
            r->last_s = t;
            r->worker_cpu_s += bench_proc_cpu_s(b->worker);
            r->backend_cpu_s += bench_proc_cpu_s(r->backend);
            break;
        }
        if (t > (double)b->o.timeout_s || waitpid(b->worker, NULL, WNOHANG) == b->worker)
            return fprintf(stderr, "bench-inventory: %ld of %ld orders decided (see %s)\n", n, b->o.orders,
                           b->log_path), -1;
        usleep(20000);
    }
    r->reserved = count(b->conn, "select count(*) from inventory_orders where outcome = 'reserved'");
    return 0;
}

static const char guarded_sql[] =
    "update inventory_stock set reserved = reserved + $2::bigint "
    "where product_id = $1 and on_hand - reserved >= $2::bigint";

/* Sends one batch (begin, the prepared guarded update per line, commit) as one pipeline. */
static int plain_batch(PGconn *conn, const struct order *orders, long n, long *lines, long *taken)
{
    char prod[32], qty[16];
    const char *params[2] = {prod, qty};
    PQsendQueryParams(conn, "begin", 0, NULL, NULL, NULL, NULL, 0);
    for (long i = 0; i < n; i++) {
        for (int l = 0; l < orders[i].n; l++) {
            snprintf(prod, sizeof(prod), "p-%d", orders[i].product[l]);
            snprintf(qty, sizeof(qty), "%d", orders[i].qty[l]);
            PQsendQueryPrepared(conn, "guarded", 2, params, NULL, NULL, 0);
            (*lines)++;
        }
    }
    PQsendQueryParams(conn, "commit", 0, NULL, NULL, NULL, NULL, 0);
    PQpipelineSync(conn);
    for (;;) {
        PGresult *res = PQgetResult(conn);
        if (res == NULL)
            continue;   /* between two statements' results */
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            return 0;
        }
        if (st != PGRES_COMMAND_OK) {
            fprintf(stderr, "bench-inventory: guarded update: %s", PQresultErrorMessage(res));
            PQclear(res);
            return -1;
        }
        *taken += strtol(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    }
}

struct plain {
    double seconds, client_cpu_s, backend_cpu_s;
    long lines, taken;
};

static int run_plain(struct bench *b, struct plain *p)
{
    if (exec_sql(b->conn, "update inventory_stock set reserved = 0") < 0 ||
        exec_sql(b->conn, "set synchronous_commit = off") < 0)
        return -1;
    PGresult *res = PQprepare(b->conn, "guarded", guarded_sql, 2, NULL);   /* parsed and planned once */
    bool prepared = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!prepared || PQenterPipelineMode(b->conn) != 1)
        return -1;
    double start = bench_now_s();
    p->client_cpu_s = -bench_proc_cpu_s(getpid());
    p->backend_cpu_s = -bench_proc_cpu_s(PQbackendPID(b->conn));
    for (long i = 0; i < b->o.orders; i += b->o.batch) {
        long n = b->o.orders - i < b->o.batch ? b->o.orders - i : b->o.batch;
        if (plain_batch(b->conn, b->orders + i, n, &p->lines, &p->taken) < 0)
            return -1;
    }
    p->seconds = bench_now_s() - start;
    p->client_cpu_s += bench_proc_cpu_s(getpid());
    p->backend_cpu_s += bench_proc_cpu_s(PQbackendPID(b->conn));
    PQexitPipelineMode(b->conn);
    return 0;
}

static void delete_topics(struct bench *b)
{
    bench_delete_topics(b->o.brokers, b->prefix, NULL, 0);
}

static void teardown(struct bench *b, int failed)
{
    stop_worker(b);
    if (b->conn != NULL)
        PQfinish(b->conn);
    if (b->admin != NULL) {
        char sql[128];
        snprintf(sql, sizeof(sql), "drop database if exists %s with (force)", b->db);
        exec_sql(b->admin, sql);
        PQfinish(b->admin);
    }
    delete_topics(b);
    if (!failed)
        unlink(b->log_path);
}

static void print_figures(const struct bench *b, const struct run *r, const struct plain *p)
{
    double steady_s = r->last_s - r->first_s;
    long steady_n = b->o.orders - r->first_n;
    double role_rate = steady_s > 0 ? (double)steady_n / steady_s : 0;
    double plain_rate = p->seconds > 0 ? (double)b->o.orders / p->seconds : 0;
    printf("bench-inventory: %ld orders of 1-3 lines over %ld products of %ld units, batch %ld, %ld partitions, "
           "database %s\n", b->o.orders, b->o.products, b->o.stock, b->o.batch, b->o.partitions, b->db);
    printf("inventory role: %ld orders decided (%ld reserved, %ld rejected), steady %ld in %.2f s = %.0f orders/s\n",
           b->o.orders, r->reserved, b->o.orders - r->reserved, steady_n, steady_s, role_rate);
    printf("postgresql guarded UPDATE loop, same orders: %ld lines (%ld taken) in %.2f s = %.0f orders/s\n", p->lines,
           p->taken, p->seconds, plain_rate);
    printf("ratio inventory / guarded UPDATE = %.2f\n", plain_rate > 0 ? role_rate / plain_rate : 0);
    /* CPU per order holds still on a busy machine, where the rates move with the neighbours. */
    double role_us = steady_n > 0 ? 1e6 * (r->worker_cpu_s + r->backend_cpu_s) / (double)steady_n : 0;
    double plain_us = 1e6 * (p->client_cpu_s + p->backend_cpu_s) / (double)b->o.orders;
    printf("cpu per order: inventory role %.1f us (worker %.1f + its backend %.1f), guarded UPDATE loop %.1f us "
           "(client %.1f + backend %.1f)\n", role_us, steady_n > 0 ? 1e6 * r->worker_cpu_s / (double)steady_n : 0,
           steady_n > 0 ? 1e6 * r->backend_cpu_s / (double)steady_n : 0, plain_us,
           1e6 * p->client_cpu_s / (double)b->o.orders, 1e6 * p->backend_cpu_s / (double)b->o.orders);
    printf("ratio cpu guarded UPDATE / inventory = %.2f\n", role_us > 0 ? plain_us / role_us : 0);
}

int main(int argc, char **argv)
{
    static struct bench b;
    parse(argc, argv, &b.o);
    snprintf(b.db, sizeof(b.db), "bench_inv_%d", (int)getpid());
    snprintf(b.prefix, sizeof(b.prefix), "bench.inv.%d.", (int)getpid());
    snprintf(b.group, sizeof(b.group), "bench-inventory-%d", (int)getpid());
    snprintf(b.log_path, sizeof(b.log_path), "/tmp/shopstream-bench-inventory-%d.log", (int)getpid());
    struct bench_msgs m;
    bench_msgs_init(&m);
    struct run r = {0};
    struct bench_produce_result pr = {0};
    struct bench_produce_opts po = {.brokers = b.o.brokers, .topic_prefix = b.prefix};
    struct shop_err err = {0};
    struct plain p = {0};
    int failed = setup(&b) < 0 || load_orders(&b, &m) < 0;
    if (!failed && bench_produce_all(&m, &po, &pr, &err) < 0)
        failed = fprintf(stderr, "bench-inventory: %s\n", err.msg) > 0;
    free(pr.lat_us);
    failed = failed || start_worker(&b) < 0 || watch_worker(&b, &r) < 0;
    stop_worker(&b);
    failed = failed || run_plain(&b, &p) < 0;
    if (!failed)
        print_figures(&b, &r, &p);
    teardown(&b, failed);
    bench_msgs_fini(&m);
    free(b.orders);
    return failed ? 1 : 0;
}
