/* SPDX-License-Identifier: MIT
 * The worker's PostgreSQL side: one synchronous connection that runs plans with
 * PQexecParams (text array parameters, never values pasted into SQL), and reads
 * the consumer offsets that PostgreSQL owns. Shell. Loop thread.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_log.h"
#include "base/shop_redact.h"
#include "workers/core/sql_array.h"
#include "workers/worker.h"

/* A rebuild's run (SHOPSTREAM_PG_SCHEMA): the role's tables resolve in schema first, the
 * shared bookkeeping (consumer_offsets, applied_events) in public. The schema must
 * exist: search_path skips a missing one, and the run would write the live tables. */
static int use_schema(PGconn *conn, const char *schema, struct shop_err *err)
{
    char path[128];
    snprintf(path, sizeof(path), "%s, public", schema);
    const char *params[2] = {schema, path};
    PGresult *res = PQexecParams(conn,
                                 "select set_config('search_path', $2, false) "
                                 "from pg_namespace where nspname = $1",
                                 2, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = shop_err_set(err, SHOP_EPG, "could not set search_path: %s", PQerrorMessage(conn));
    else if (PQntuples(res) != 1)
        rc = shop_err_set(err, SHOP_ECONFIG, "SHOPSTREAM_PG_SCHEMA %s does not exist", schema);
    PQclear(res);
    return rc;
}

/* Our limits come first, so a DSN that sets its own wins. Bounded waits keep the loop
 * polling the consumer (max.poll.interval.ms): connect_timeout for the connect,
 * statement_timeout for a statement, keepalives and tcp_user_timeout for a server
 * that vanished without a reset. */
PGconn *worker_pg_open(const struct shop_worker_cfg *cfg, const char *app_name, struct shop_err *err)
{
    char connect_s[24];
    snprintf(connect_s, sizeof(connect_s), "%" PRId64, cfg->pg_connect_timeout_s);
    const char *const keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                                "keepalives_count", "tcp_user_timeout", "application_name", "dbname", NULL};
    const char *const vals[] = {connect_s, "1", "10", "5", "3", "30000", app_name, cfg->pg_dsn, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[SHOP_ERR_MSG_MAX];   /* libpq may quote parts of the DSN */
        shop_redact_text(PQerrorMessage(conn), cfg->pg_dsn, msg, sizeof(msg));
        shop_err_set(err, SHOP_EPG, "could not connect to postgresql: %s", msg);
        PQfinish(conn);
        return NULL;
    }
    char sql[128];
    snprintf(sql, sizeof(sql), "set statement_timeout = %" PRId64 "; set synchronous_commit = %s",
             cfg->pg_statement_timeout_ms, cfg->pg_synchronous_commit ? "on" : "off");
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        shop_err_set(err, SHOP_EPG, "could not set session settings: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    if (cfg->pg_schema[0] != '\0' && use_schema(conn, cfg->pg_schema, err) < 0) {
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

int worker_pg_connect(struct worker *w, struct shop_err *err)
{
    worker_pg_close(w);
    char app[64];   /* who is who in pg_stat_activity */
    snprintf(app, sizeof(app), "shopstream-worker/%s", shop_worker_role_name(w->cfg->role));
    w->conn = worker_pg_open(w->cfg, app, err);
    if (w->conn == NULL)
        return SHOP_EPG;
    w->pg_down = false;
    return 0;
}

/* Failures keep their SQLSTATE in w->pg_sqlstate; the loop classifies them once
 * (workers/core/pgerr.c). */
/* COPY ... FROM STDIN with the statement's rows; the result is the COPY's own. */
static PGresult *copy_in(struct worker *w, const struct shop_sql_stmt *st)
{
    PGresult *res = PQexec(w->conn, st->sql);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        return res;
    PQclear(res);
    if (PQputCopyData(w->conn, st->copy_data, (int)st->copy_len) != 1)
        PQputCopyEnd(w->conn, "could not send copy data");
    else
        PQputCopyEnd(w->conn, NULL);
    res = PQgetResult(w->conn);
    for (PGresult *more; (more = PQgetResult(w->conn)) != NULL;)
        PQclear(more);
    return res;
}

void worker_pg_note_failure(struct worker *w, const PGresult *res, const char *name, const char *detail,
                            struct shop_err *err)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(w->pg_sqlstate, sizeof(w->pg_sqlstate), "%s", state ? state : "");
    snprintf(w->pg_message, sizeof(w->pg_message), "%s: %s", name, msg ? msg : "no message");
    shop_err_set(err, SHOP_EPG, "%s: sqlstate=%s %s", name, state ? state : "none", detail);
}

int worker_pg_result(struct worker *w, PGconn *conn, PGresult *res, const char *name, ExecStatusType want,
                     PGresult **out, struct shop_err *err)
{
    w->pg_sqlstate[0] = '\0';
    w->pg_message[0] = '\0';
    if (PQresultStatus(res) != want) {
        worker_pg_note_failure(w, res, name, PQerrorMessage(conn), err);
        PQclear(res);
        return SHOP_EPG;
    }
    if (out != NULL)
        *out = res;
    else
        PQclear(res);
    return 0;
}

int worker_pg_exec(struct worker *w, const struct shop_sql_stmt *st, ExecStatusType want, PGresult **out,
                   struct shop_err *err)
{
    PGresult *res = st->copy_data != NULL
                        ? copy_in(w, st)
                        : PQexecParams(w->conn, st->sql, st->n_params, NULL, st->params, NULL, NULL, 0);
    return worker_pg_result(w, w->conn, res, st->name, want, out, err);
}

/* After an unexpected answer the protocol state is unknown: drop the connection, the
 * retry path reconnects. */
static int pipeline_broken(struct worker *w, struct shop_err *err)
{
    shop_err_set(err, SHOP_EPG, "pipeline: %s", PQerrorMessage(w->conn));
    worker_pg_close(w);
    return SHOP_EPG;
}

#define PIPELINE_LOST 1

/* Reads statement st's result: rc unchanged, SHOP_EPG at the first failure (kept in err),
 * or PIPELINE_LOST when there is no result. With out, a result of status want is handed
 * over instead of cleared. */
static int pipeline_result(struct worker *w, const struct shop_sql_stmt *st, ExecStatusType want, PGresult **out,
                           int rc, struct shop_err *err)
{
    PGresult *res = PQgetResult(w->conn);
    if (res == NULL)
        return PIPELINE_LOST;
    ExecStatusType status = PQresultStatus(res);
    if (status != want && rc == 0) {
        worker_pg_note_failure(w, res, st->name,
                               status == PGRES_PIPELINE_ABORTED ? "pipeline aborted" : PQresultErrorMessage(res), err);
        rc = SHOP_EPG;
    }
    if (status == want && out != NULL)
        *out = res;
    else
        PQclear(res);
    PQclear(PQgetResult(w->conn));         /* the NULL that ends each statement's results */
    return rc;
}

int worker_pg_exec_pipeline(struct worker *w, const struct shop_sql_stmt *sts, int n, PGresult **last,
                            struct shop_err *err)
{
    w->pg_sqlstate[0] = '\0';
    w->pg_message[0] = '\0';
    if (PQenterPipelineMode(w->conn) != 1)
        return pipeline_broken(w, err);
    for (int i = 0; i < n; i++) {
        if (PQsendQueryParams(w->conn, sts[i].sql, sts[i].n_params, NULL, sts[i].params, NULL, NULL, 0) != 1)
            return pipeline_broken(w, err);
    }
    if (PQpipelineSync(w->conn) != 1)
        return pipeline_broken(w, err);
    int rc = 0;
    PGresult *res = NULL;
    for (int i = 0; i < n; i++) {
        bool tuples = last != NULL && i == n - 1;
        rc = pipeline_result(w, &sts[i], tuples ? PGRES_TUPLES_OK : PGRES_COMMAND_OK, tuples ? &res : NULL, rc,
                             err);
        if (rc == PIPELINE_LOST) {
            PQclear(res);
            return pipeline_broken(w, err);
        }
    }
    PGresult *sync = PQgetResult(w->conn);
    bool synced = sync != NULL && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (!synced || PQexitPipelineMode(w->conn) != 1) {
        PQclear(res);
        return pipeline_broken(w, err);
    }
    if (last != NULL && rc == 0)
        *last = res;
    else
        PQclear(res);
    return rc;
}

/* Fills parts[i].offset from consumer_offsets, or 0 without a row: nothing of the
 * partition was applied, so start at its first record. A concrete offset needs no
 * ListOffsets lookup (OFFSET_BEGINNING held back one partition of fresh topics for up to
 * ~0.6 s after assignment); should retention have removed offset 0, the fetch is out of
 * range and auto.offset.reset=earliest moves it to the log start. */
int worker_pg_read_offsets(struct worker *w, rd_kafka_topic_partition_list_t *parts, struct shop_err *err)
{
    if (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK)
        return shop_err_set(err, SHOP_EPG, "no postgresql connection");
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_sql_array topics, partitions;
    shop_sql_array_init(&topics, &arena);
    shop_sql_array_init(&partitions, &arena);
    for (int i = 0; i < parts->cnt; i++) {
        shop_sql_array_text(&topics, parts->elems[i].topic);
        shop_sql_array_int(&partitions, parts->elems[i].partition);
        parts->elems[i].offset = 0;
    }
    struct shop_sql_stmt st = {.name = "offsets_read", .sql = SHOP_PROJ_SQL_OFFSETS_READ, .n_params = 3};
    st.params[0] = w->cfg->group_id;
    st.params[1] = shop_sql_array_end(&topics);
    st.params[2] = shop_sql_array_end(&partitions);
    PGresult *res = NULL;
    int rc = worker_pg_exec(w, &st, PGRES_TUPLES_OK, &res, err);
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        if (PQgetisnull(res, r, 2))
            continue;
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(
            parts, PQgetvalue(res, r, 0), (int32_t)strtol(PQgetvalue(res, r, 1), NULL, 10));
        if (tp != NULL)
            tp->offset = strtoll(PQgetvalue(res, r, 2), NULL, 10);
    }
    PQclear(res);
    shop_arena_fini(&arena);
    return rc;
}

void worker_pg_rollback(struct worker *w)
{
    if (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK)
        return;
    PQclear(PQexec(w->conn, "rollback"));
}

void worker_pg_close(struct worker *w)
{
    if (w->conn != NULL)
        PQfinish(w->conn);
    w->conn = NULL;
}
