/* SPDX-License-Identifier: MIT
 * it-reads-explain DSN: runs EXPLAIN (FORMAT JSON) on every read query of the edge
 * (edge/core/edge_reads.c, one request per enum shop_edge_read kind and, for the
 * analytics reads, per ?by=), built by the edge's own shop_edge_read_init and
 * shop_edge_query_build with sample parameters, and fails on any Seq Scan of a table
 * holding at least SEQ_SCAN_ROWS_MAX rows (pg_class.reltuples, so ANALYZE first).
 * Prints one line per read: its kind, the tables it scans sequentially (small ones),
 * and a verdict. Exit 0: no large sequential scan; 1: some; 2: usage or connection.
 */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_err.h"
#include "edge/core/edge_reads.h"
#include "edge/core/edge_route.h"

#define SEQ_SCAN_ROWS_MAX 10000.0

struct sample {
    enum shop_edge_read kind;
    const char *path, *query;   /* the request the read answers */
    bool admin;
};

/* Sample parameters: ids and users the fill script creates, a week's range. */
static const struct sample samples[] = {
    {SHOP_READ_CART, "/v1/me/cart", NULL, false},
    {SHOP_READ_ORDERS, "/v1/me/orders", "limit=20", false},
    {SHOP_READ_ORDERS, "/v1/me/orders", "limit=20&cursor=", false},   /* second page: filled below */
    {SHOP_READ_ORDER, "/v1/orders/o-77", NULL, false},
    {SHOP_READ_ORDER, "/v1/orders/o-77", NULL, true},
    {SHOP_READ_PRODUCT, "/v1/products/p-77", NULL, false},
    {SHOP_READ_RECS, "/v1/me/recommendations", NULL, false},
    {SHOP_READ_SIMILAR, "/v1/products/p-77/similar", NULL, false},
    {SHOP_READ_SEGMENT, "/v1/me/segment", NULL, false},
    {SHOP_READ_SEGMENTS, "/v1/segments", NULL, true},
    {SHOP_READ_FORECAST, "/v1/products/p-77/forecast", NULL, true},
    {SHOP_READ_READY, NULL, NULL, false},
    {SHOP_READ_ACTIVITY, "/v1/me/activity", NULL, false},
    /* 2026-11-01 .. 2026-11-08 (exclusive): 7 UTC days */
    {SHOP_READ_REVENUE, "/v1/analytics/revenue", "from=1793491200000&to=1794096000000&by=day", true},
    {SHOP_READ_REVENUE, "/v1/analytics/revenue", "from=1793491200000&to=1794096000000&by=category", true},
    {SHOP_READ_TOP_PRODUCTS, "/v1/analytics/top-products", "from=1793491200000&to=1794096000000&by=units", true},
    {SHOP_READ_TOP_PRODUCTS, "/v1/analytics/top-products", "from=1793491200000&to=1794096000000&by=revenue&limit=100",
     true},
    {SHOP_READ_FUNNEL, "/v1/analytics/funnel", "from=1793491200000&to=1794096000000", true},
};

/* The sample user: the fill script gives u-77 orders, a cart, lists and activity. */
static const char *const sample_user = "u-77";

static double reltuples(PGconn *conn, const char *rel)
{
    const char *params[1] = {rel};
    PGresult *res = PQexecParams(conn, "select reltuples from pg_class where relname = $1", 1, NULL, params, NULL,
                                 NULL, 0);
    double n = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? atof(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return n;
}

/* Walks a plan node and its children; counts sequential scans of large tables. */
static int walk(PGconn *conn, const json_t *node, char *small, size_t small_len)
{
    int bad = 0;
    const char *type = json_string_value(json_object_get(node, "Node Type"));
    const char *rel = json_string_value(json_object_get(node, "Relation Name"));
    if (type != NULL && strcmp(type, "Seq Scan") == 0 && rel != NULL) {
        double n = reltuples(conn, rel);
        if (n >= SEQ_SCAN_ROWS_MAX) {
            printf("    Seq Scan on %s (%.0f rows)\n", rel, n);
            bad++;
        } else {
            size_t used = strlen(small);
            snprintf(small + used, small_len - used, " %s(%.0f)", rel, n);
        }
    }
    const json_t *plans = json_object_get(node, "Plans");
    size_t i;
    const json_t *child;
    json_array_foreach(plans, i, child)
        bad += walk(conn, child, small, small_len);
    return bad;
}

/* A match for the sample's request; a cursor of page two is made up here. */
static int sample_match(const struct sample *s, struct shop_edge_match *m)
{
    char query[256];
    const char *q = s->query;
    if (q != NULL && strstr(q, "cursor=") != NULL) {
        struct shop_edge_cursor c = {.placed_at_ms = INT64_C(1700000500000)};
        char text[SHOP_EDGE_CURSOR_MAX];
        snprintf(c.order_id, sizeof(c.order_id), "o-500");
        if (shop_edge_cursor_encode(&c, text, sizeof(text)) < 0)
            return -1;
        snprintf(query, sizeof(query), "%s%s", q, text);
        q = query;
    }
    shop_edge_route_match("GET", 3, s->path, strlen(s->path), q, q != NULL ? strlen(q) : 0, m);
    return m->status == 0 ? 0 : -1;
}

static int explain(PGconn *conn, const struct sample *s)
{
    struct shop_edge_match m;
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    struct shop_err err = {0};
    const char *field = "";
    if (s->path != NULL && sample_match(s, &m) != 0) {
        printf("%-14s %s: the route refused the sample\n", shop_edge_route_name(m.route), s->path);
        return 1;
    }
    if (shop_edge_read_init(&r, s->kind, sample_user, s->admin, s->path != NULL ? &m : NULL, &field, &err) != 0 ||
        shop_edge_query_build(&r, &q) != 0) {
        printf("kind %d: the sample is refused (%s: %s)\n", (int)s->kind, field, err.msg);
        return 1;
    }
    char *sql = malloc(strlen(q.sql) + 32);
    sprintf(sql, "explain (format json) %s", q.sql);
    PGresult *res = PQexecParams(conn, sql, q.n_params, NULL, q.params, NULL, NULL, 0);
    free(sql);
    const char *label = s->path != NULL ? s->path : "readyz";
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        printf("%s%s%s: explain failed: %s", label, s->query ? "?" : "", s->query ? s->query : "",
               PQresultErrorMessage(res));
        PQclear(res);
        return 1;
    }
    json_t *plan = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    PQclear(res);
    char small[512] = "";
    int bad = 0;
    size_t i;
    json_t *top;
    json_array_foreach(plan, i, top)
        bad += walk(conn, json_object_get(top, "Plan"), small, sizeof(small));
    json_decref(plan);
    printf("%s %s%s%s (admin=%d): %s%s%s\n", bad ? "FAIL" : "ok  ", label, s->query ? "?" : "",
           s->query ? s->query : "", s->admin, bad ? "sequential scan of a large table" : "no large seq scan",
           small[0] ? "; small seq scans:" : "", small);
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: it-reads-explain DSN\n");
        return 2;
    }
    PGconn *conn = PQconnectdb(argv[1]);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "it-reads-explain: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 2;
    }
    int failed = 0;
    bool seen[SHOP_READ_COUNT] = {0};
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
        failed += explain(conn, &samples[i]);
        seen[samples[i].kind] = true;
    }
    for (int k = 0; k < SHOP_READ_COUNT; k++) {
        if (!seen[k]) {
            printf("FAIL kind %d has no sample: every read must be explained\n", k);
            failed++;
        }
    }
    PQfinish(conn);
    printf("%d of %zu reads failed\n", failed, sizeof(samples) / sizeof(samples[0]));
    return failed ? 1 : 0;
}
