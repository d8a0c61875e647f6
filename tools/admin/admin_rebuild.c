/* SPDX-License-Identifier: MIT
 * `shopstream-admin rebuild --model M`: folds the topics into fresh tables beside the
 * live ones with the role's real worker (shopstream-worker in a shadow schema, its own
 * consumer group, stopped at a snapshot of the live group's offsets), then, with --swap
 * and the live group stopped, catches up to the live group's final offsets and swaps the
 * model's tables in one transaction (schema/migrations/0010_rebuild.sql). Backfilling a
 * new or emptied model is the same run. Shell.
 */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/shop_log.h"
#include "workers/core/sql_array.h"
#include "tools/admin/admin.h"

static int exec_ok(PGconn *conn, const char *sql, int n, const char *const *params, struct shop_err *err)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        shop_err_set(err, SHOP_EPG, "rebuild: %s", msg != NULL ? msg : PQerrorMessage(conn));
        PQclear(res);
        return SHOP_EPG;
    }
    PQclear(res);
    return 0;
}

static const char *text_array(struct shop_arena *arena, const char *const *names, int n)
{
    struct shop_sql_array a;
    shop_sql_array_init(&a, arena);
    for (int i = 0; i < n; i++)
        shop_sql_array_text(&a, names[i]);
    return shop_sql_array_end(&a);
}

/* "topic:partition:offset,...": where the rebuild's worker stops, the live group's offsets. */
static char *stop_list(const struct admin_parts *ps)
{
    size_t cap = (size_t)ps->n * (sizeof(ps->v[0].topic) + 48) + 1, len = 0;
    char *s = shop_xmalloc(cap);
    s[0] = '\0';
    for (int i = 0; i < ps->n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%s:%d:%lld", i > 0 ? "," : "", ps->v[i].topic,
                                ps->v[i].partition, (long long)ps->v[i].current);
    return s;
}

/* The worker beside this binary (installed together), else PATH's. */
static const char *worker_path(const char *given)
{
    static char path[4096];
    if (given != NULL)
        return given;
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
    if (n > 0) {
        path[n] = '\0';
        char *slash = strrchr(path, '/');
        if (slash != NULL) {
            strcpy(slash + 1, "shopstream-worker");
            if (access(path, X_OK) == 0)
                return path;
        }
    }
    return "shopstream-worker";
}

/* Runs the role's worker into the shadow schema until it reached every stop offset. */
static int run_worker(const struct admin_rebuild_opts *o, const char *group, const char *schema, const char *stops,
                      struct shop_err *err)
{
    const char *bin = worker_path(o->worker);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return shop_err_set(err, SHOP_EIO, "could not fork the rebuild's worker");
    if (pid == 0) {
        setenv("SHOPSTREAM_PG_DSN", o->dsn, 1);
        setenv("SHOPSTREAM_KAFKA_BROKERS", o->brokers, 1);
        setenv("SHOPSTREAM_TOPIC_PREFIX", o->prefix, 1);
        setenv("SHOPSTREAM_KAFKA_GROUP_ID", group, 1);
        setenv("SHOPSTREAM_PG_SCHEMA", schema, 1);
        setenv("SHOPSTREAM_STOP_AT_OFFSETS", stops, 1);
        unsetenv("SHOPSTREAM_WORKER_HTTP_PORT");   /* never the live worker's port */
        execlp(bin, bin, "--role", o->model->role == SHOP_WORKER_PROJECTOR ? "projector" : "?", (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return shop_err_set(err, SHOP_EIO, "the rebuild's worker (%s) failed: status %d", bin,
                            WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}

/* The rebuild group's bookkeeping, after the swap or when given up. */
static int forget_group(PGconn *conn, const char *group, struct shop_err *err)
{
    const char *p[1] = {group};
    int rc = exec_ok(conn, "delete from consumer_offsets where consumer_group = $1", 1, p, err);
    if (rc == 0)
        rc = exec_ok(conn, "delete from applied_events where projector = "
                           "(select id from applied_projectors where name = $1)", 1, p, err);
    if (rc == 0)
        rc = exec_ok(conn, "delete from applied_projectors where name = $1", 1, p, err);
    return rc;
}

static int swap(PGconn *conn, const struct admin_rebuild_opts *o, const char *schema, const char *group,
                struct shop_arena *arena, struct shop_err *err)
{
    int n = 0;
    while (n < SHOP_READ_MODEL_TABLES_MAX && o->model->tables[n] != NULL)
        n++;
    const char *p[4] = {schema, text_array(arena, o->model->tables, n), o->live_group, group};
    int rc = exec_ok(conn, "begin", 0, NULL, err);
    if (rc == 0)
        rc = exec_ok(conn, "select rebuild_swap($1, $2::text[], $3, $4)", 4, p, err);
    if (rc == 0)
        rc = exec_ok(conn, "commit", 0, NULL, err);
    else
        PQclear(PQexec(conn, "rollback"));
    return rc == 0 ? forget_group(conn, group, err) : rc;
}

/* Refuses when group has members; 1 after printing who. */
static int refuse_members(rd_kafka_t *rk, const char *group, const char *why, struct shop_err *err)
{
    char who[1024];
    int count;
    int rc = admin_group_members(rk, group, who, sizeof(who), &count, err);
    if (rc < 0 || count == 0)
        return rc;
    fprintf(stderr, "refusing: consumer group %s has %d live member%s (%s); %s\n", group, count,
            count > 1 ? "s" : "", who, why);
    return 1;
}

int admin_rebuild(const struct admin_rebuild_opts *o, struct shop_err *err)
{
    static struct admin_parts ps;
    char schema[64], group[256];
    const char *tables[64];
    struct shop_arena arena = SHOP_ARENA_INIT;
    const struct shop_role_desc *role = shop_role_desc(o->model->role);
    snprintf(schema, sizeof(schema), "rebuild_%s", o->model->name);
    snprintf(group, sizeof(group), "%s.rebuild.%s", o->live_group, o->model->name);
    rd_kafka_t *rk = admin_kafka_client(o->brokers, err);
    if (rk == NULL)
        return err->code;
    PGconn *conn = PQconnectdb(o->dsn);
    int rc = 0;
    if (PQstatus(conn) != CONNECTION_OK) {
        rc = shop_err_set(err, SHOP_EPG, "could not connect to postgresql: %s", PQerrorMessage(conn));
        goto out_close;
    }
    rc = refuse_members(rk, group, "another rebuild of the model is running", err);
    if (rc == 0 && o->swap)
        rc = refuse_members(rk, o->live_group, "stop the live role before --swap (scale it to 0); "
                                               "reads keep being served", err);
    int n = shop_read_model_role_tables(o->model->role, tables, 64);
    const char *prep[2] = {schema, text_array(&arena, tables, n)};
    if (rc == 0)
        rc = exec_ok(conn, "select rebuild_prepare($1, $2::text[])", 2, prep, err);
    /* The live group's offsets now: with --swap the group is stopped, so they are final. */
    if (rc == 0)
        rc = admin_group_positions(rk, conn, o->prefix, role, NULL, o->live_group, &ps, err);
    if (rc == 0) {
        char *stops = stop_list(&ps);
        printf("rebuilding model %s into schema %s with group %s up to the live group's offsets\n",
               o->model->name, schema, group);
        fflush(stdout);
        rc = run_worker(o, group, schema, stops, err);
        free(stops);
    }
    if (rc == 0 && o->swap) {
        rc = swap(conn, o, schema, group, &arena, err);
        if (rc == 0)
            printf("swapped model %s: its live tables are the rebuilt ones, the old ones are in %s_old; "
                   "start the %s role again\n", o->model->name, schema, role->name);
    } else if (rc == 0) {
        printf("rebuilt %s at the live group's offsets as of the start; run again to catch up, "
               "and with --swap (the live group stopped) to swap\n", schema);
    }
out_close:
    shop_arena_fini(&arena);
    PQfinish(conn);
    rd_kafka_destroy(rk);
    return rc;
}
