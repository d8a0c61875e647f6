/* SPDX-License-Identifier: MIT
 * Connections to PostgreSQL for every part of the edge (the read pool, the ownership
 * lookups, readiness, the offsets watcher): the primary (SHOPSTREAM_PG_DSN) or a
 * replica (SHOPSTREAM_PG_READ_DSN), with the connect and statement timeouts, and errors
 * logged once with the DSN redacted. Below pg.c, ready.c and watch.c; calls none of them.
 */
#include "edge/edge.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "base/shop_log.h"
#include "base/shop_redact.h"

/* First line of a libpq message, for one logfmt value. */
const char *edge_pg_first_line(const char *msg, char *buf, size_t cap)
{
    size_t n = strcspn(msg, "\n\"");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, msg, n);
    buf[n] = '\0';
    return buf;
}

PGconn *edge_pg_connect_dsn(struct edge *e, const char *dsn, const char *app, int replica)
{
    char timeout[16], opts[64];
    snprintf(timeout, sizeof(timeout), "%d", (e->cfg->pg_timeout_ms + 999) / 1000);
    snprintf(opts, sizeof(opts), "-c statement_timeout=%d", e->cfg->pg_timeout_ms);
    const char *const kw[] = {"dbname", "connect_timeout", "options", "application_name", NULL};
    const char *const val[] = {dsn, timeout, opts, app, NULL};
    PGconn *conn = PQconnectdbParams(kw, val, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        char line[200], safe[256];   /* libpq may quote parts of the DSN */
        shop_redact_text(PQerrorMessage(conn), dsn, safe, sizeof(safe));
        if (replica < 0)
            SHOP_LOG(SHOP_LOG_WARN, "edge", "could not connect to postgresql", "err=\"%s\"",
                     edge_pg_first_line(safe, line, sizeof(line)));
        else
            SHOP_LOG(SHOP_LOG_WARN, "edge", "could not connect to a postgresql replica",
                     "replica=%d err=\"%s\"", replica + 1, edge_pg_first_line(safe, line, sizeof(line)));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

PGconn *edge_pg_connect_to(struct edge *e, const char *dsn, const char *app)
{
    return edge_pg_connect_dsn(e, dsn, app, -1);
}

PGconn *edge_pg_connect(struct edge *e)
{
    return edge_pg_connect_dsn(e, e->cfg->pg_dsn, "shopstream-edge", -1);
}

char *edge_pg_read_dsn(const struct edge *e, int i)
{
    const struct shop_edge_dsn_span *s = &e->cfg->pg_read[i];
    char *dsn = shop_xmalloc(s->len + 1);
    memcpy(dsn, e->cfg->pg_read_dsn + s->off, s->len);
    dsn[s->len] = '\0';
    return dsn;
}
