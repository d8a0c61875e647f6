/* SPDX-License-Identifier: MIT
 * Readiness from state kept fresh in the background. One thread checks PostgreSQL
 * (select 1 on its own connection) and Kafka (a metadata request through the first
 * producer) every SHOPSTREAM_EDGE_READY_INTERVAL_MS and stores the outcome in struct edge's
 * atomics. /readyz only reads them on its loop thread: it costs nothing, never queues on the
 * read pool and never asks the broker, so a flood of it cannot starve reads or fail
 * readiness. After SIGTERM (draining) it answers 503 at once.
 *
 * With replicas (SHOPSTREAM_PG_READ_DSN) it checks each one too, with the same query, and
 * the edge is ready while the primary (ingest's ownership lookups) and at least one replica
 * answer: the read pool falls over between replicas, never to the primary. Replication lag
 * is not judged here; a read given X-Shopstream-After waits for its own position.
 */
#include "edge/edge.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/shop_arena.h"
#include "base/shop_log.h"

#define READY_KAFKA_TIMEOUT_MS 2000

struct edge_ready {
    struct edge *edge;
    int n_replicas;
    char **replica_dsns;               /* n_replicas, malloc'd */
    atomic_bool *replica_up;           /* n_replicas; logged on change */
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;                 /* CLOCK_MONOTONIC: wakes the thread to stop */
    bool stop;
};

/* Readiness thread. Bounded by connect_timeout and statement_timeout. */
static bool check_pg(struct edge *e, const char *dsn, int replica, PGconn **conn)
{
    if (*conn == NULL && (*conn = edge_pg_connect_dsn(e, dsn, "shopstream-edge", replica)) == NULL)
        return false;
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    if (shop_edge_read_init(&r, SHOP_READ_READY, "", false, NULL, &field, NULL) != 0 ||
        shop_edge_query_build(&r, &q) != 0)
        return false;
    PGresult *res = PQexecParams(*conn, q.sql, q.n_params, NULL, q.params, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!ok) {
        /* A fresh connection next time: this one may be broken in ways PQstatus misses. */
        PQfinish(*conn);
        *conn = NULL;
    }
    return ok;
}

/* Readiness thread. rd_kafka_metadata may be called from any thread. */
static bool check_kafka(struct edge *e)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(e->threads[0].rk, 0, NULL, &md,
                                                READY_KAFKA_TIMEOUT_MS);
    bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR && md->broker_cnt > 0;
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    return ok;
}

/* Logs a change of one dependency's state, once. */
static void note(atomic_bool *state, bool ok, const char *what)
{
    if (atomic_exchange(state, ok) == ok)
        return;
    if (ok)
        SHOP_LOG(SHOP_LOG_INFO, "edge", "readiness: dependency up", "dependency=%s", what);
    else
        SHOP_LOG(SHOP_LOG_WARN, "edge", "readiness: dependency down", "dependency=%s", what);
}

/* Readiness thread: every replica, each on its own connection; how many answered. */
static int check_replicas(struct edge_ready *r, PGconn **conns)
{
    int up = 0;
    for (int i = 0; i < r->n_replicas; i++) {
        char what[48];
        bool ok = check_pg(r->edge, r->replica_dsns[i], i, &conns[i]);
        snprintf(what, sizeof(what), "postgresql-replica-%d", i + 1);
        note(&r->replica_up[i], ok, what);
        up += ok;
    }
    return up;
}

static void *ready_main(void *arg)
{
    struct edge_ready *r = arg;
    struct edge *e = r->edge;
    PGconn *conn = NULL;
    PGconn **replicas = shop_xcalloc((size_t)r->n_replicas + 1, sizeof(*replicas));
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        pthread_mutex_unlock(&r->mu);
        note(&e->pg_up, check_pg(e, e->cfg->pg_dsn, -1, &conn), "postgresql");
        atomic_store(&e->pg_replicas_up, check_replicas(r, replicas));
        note(&e->kafka_up, check_kafka(e), "kafka");
        atomic_store(&e->ready_checked_us, edge_mono_us());
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + (int64_t)e->cfg->ready_interval_ms * 1000000;
        until.tv_sec += ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        pthread_mutex_lock(&r->mu);
        while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&r->mu);
    if (conn != NULL)
        PQfinish(conn);
    for (int i = 0; i < r->n_replicas; i++)
        if (replicas[i] != NULL)
            PQfinish(replicas[i]);
    free(replicas);
    return NULL;
}

static void ready_free(struct edge_ready *r)
{
    for (int i = 0; i < r->n_replicas; i++)
        free(r->replica_dsns[i]);
    free(r->replica_dsns);
    free(r->replica_up);
    free(r);
}

/* Main thread, after the producers are open. */
int edge_ready_start(struct edge *e, struct shop_err *err)
{
    struct edge_ready *r = shop_xcalloc(1, sizeof(*r));
    r->edge = e;
    r->n_replicas = e->cfg->pg_read_n;
    r->replica_dsns = shop_xcalloc((size_t)r->n_replicas + 1, sizeof(*r->replica_dsns));
    r->replica_up = shop_xcalloc((size_t)r->n_replicas + 1, sizeof(*r->replica_up));
    for (int i = 0; i < r->n_replicas; i++) {
        r->replica_dsns[i] = edge_pg_read_dsn(e, i);
        atomic_init(&r->replica_up[i], true);   /* logged when first found down */
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &attr);
    pthread_condattr_destroy(&attr);
    e->ready = r;
    if (pthread_create(&r->tid, NULL, ready_main, r) != 0) {
        e->ready = NULL;
        ready_free(r);
        return shop_err_set(err, SHOP_EIO, "could not start the readiness thread");
    }
    return 0;
}

/* Main thread, before the producers close. */
void edge_ready_stop(struct edge *e)
{
    struct edge_ready *r = e->ready;
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->tid, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    ready_free(r);
    e->ready = NULL;
}

/* Loop thread: reads the atomics, nothing else. */
void edge_ready_answer(struct edge_thread *t, h2o_req_t *req)
{
    struct edge *e = t->edge;
    /* A check waits at most the PostgreSQL timeout for the primary and for each replica,
     * plus the metadata timeout; past two intervals beyond that the thread is stuck and its
     * last answer is no longer news. */
    int64_t stale_us = ((int64_t)e->cfg->ready_interval_ms * 2 +
                        (int64_t)e->cfg->pg_timeout_ms * (1 + e->cfg->pg_read_n) +
                        READY_KAFKA_TIMEOUT_MS + 1000) * 1000;
    int64_t checked = atomic_load(&e->ready_checked_us);
    bool pg = atomic_load(&e->pg_up), kafka = atomic_load(&e->kafka_up);
    bool reads = e->cfg->pg_read_n == 0 || atomic_load(&e->pg_replicas_up) > 0;
    const char *detail = NULL;
    if (atomic_load(&e->draining))
        detail = "shutting down";
    else if (checked == 0)
        detail = "readiness not checked yet";
    else if (edge_mono_us() - checked > stale_us)
        detail = "readiness check is stale";
    else if (!pg && !kafka)
        detail = "database unavailable; kafka metadata unavailable";
    else if (!pg)
        detail = "database unavailable";
    else if (!kafka)
        detail = "kafka metadata unavailable";
    else if (!reads)
        detail = "every database replica unavailable";
    if (detail != NULL)
        edge_problem(t, req, SHOP_ROUTE_READYZ, 503, -1, "", detail, NULL);
    else
        edge_respond(t, req, SHOP_ROUTE_READYZ, 200, "application/json",
                     H2O_STRLIT("{\"status\":\"ready\"}"));
}
