/* SPDX-License-Identifier: MIT
 * The ownership lookup of an ingest batch: one parameterised query on a pool thread
 * (edge_pg_submit), shop_authz_owner_sql (the orders' owners and placing events, where
 * order_id = any($1)), its rows copied out for the loop thread to check
 * (edge/core/edge_authz.c). Shell.
 * Invariant: a lookup that did not answer leaves ok false, and the batch is then
 * refused with 503 (never produced unchecked).
 */
#include "edge/edge.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_log.h"

/* Rows and their strings in one allocation, freed by edge_owners_fini. */
static void copy_rows(struct edge_owner_lookup *l, PGresult *res)
{
    size_t n = (size_t)PQntuples(res), bytes = n * sizeof(*l->rows);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            bytes += (size_t)PQgetlength(res, (int)i, c) + 1;   /* NULL: length 0, "" */
    l->rows = shop_xmalloc(bytes + 1);
    char *o = (char *)(l->rows + n);
    for (size_t i = 0; i < n; i++) {
        const char **col[3] = {&l->rows[i].order_id, &l->rows[i].user_id,
                               &l->rows[i].placed_event_id};
        for (int c = 0; c < 3; c++) {
            size_t len = (size_t)PQgetlength(res, (int)i, c);
            memcpy(o, PQgetvalue(res, (int)i, c), len);
            o[len] = '\0';
            *col[c] = o;
            o += len + 1;
        }
    }
    l->n_rows = n;
}

/* Pool thread: bounded by connect_timeout and statement_timeout, as the reads are. */
static void run_lookup(struct edge_pg_task *task, struct edge *e, PGconn **conn)
{
    struct edge_owner_lookup *l = (struct edge_owner_lookup *)task;
    l->ok = false;
    if (*conn == NULL && (*conn = edge_pg_connect(e)) == NULL)
        return;
    const char *params[1] = {l->param};
    PGresult *res = PQexecParams(*conn, shop_authz_owner_sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQnfields(res) == 3) {
        copy_rows(l, res);
        l->ok = true;
    } else {
        SHOP_LOG(SHOP_LOG_WARN, "edge", "order ownership lookup failed", "err=\"%.*s\"",
                 (int)strcspn(PQresultErrorMessage(res), "\n\""), PQresultErrorMessage(res));
        if (PQstatus(*conn) != CONNECTION_OK) {
            PQfinish(*conn);
            *conn = NULL;
        }
    }
    PQclear(res);
}

int edge_owners_start(struct edge_thread *t, struct edge_owner_lookup *l,
                      void (*on_done)(struct edge_pg_task *task, bool ran))
{
    l->task.run = run_lookup;
    l->task.done = on_done;
    l->ok = false;
    l->rows = NULL;
    l->n_rows = 0;
    return edge_pg_submit(t, &l->task);
}

void edge_owners_fini(struct edge_owner_lookup *l)
{
    free(l->rows);
    l->rows = NULL;
    l->n_rows = 0;
}
