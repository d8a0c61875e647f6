/* SPDX-License-Identifier: MIT
 * Reads from PostgreSQL without blocking ingestion: a small pool of threads,
 * each with its own blocking PGconn, takes jobs from a bounded queue and
 * hands results back to the submitting loop thread through h2o's
 * multithread queue. Only parameterised queries built by edge_reads.c run.
 *
 * Every read has a deadline to START (SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS): with the
 * database slow or down, queued reads would otherwise run minutes later for clients long
 * gone. A job's state moves once from QUEUED, by compare-and-swap: to RUNNING when a pool
 * thread takes it, to EXPIRED when the loop thread's deadline fires first (the client gets
 * 503 + Retry-After at once), or to GONE when the client disconnects. A pool thread runs
 * only jobs it moved to RUNNING; every job still comes back to its loop thread to be freed.
 * h2o frees an HTTP/2 request whose stream or connection goes away, but it does not read an
 * HTTP/1.1 connection while a request is being handled, so for those the loop thread peeks
 * at the socket every GONE_PROBE_MS while the read is queued.
 *
 * With SHOPSTREAM_PG_READ_DSN (streaming replicas), pool thread i reads from replica
 * i mod n, falling over to the next ones when it cannot connect (and staying on the one it
 * reached until that connection breaks), never to the primary;
 * tasks (edge_pg_submit: the ownership lookups, which must see the primary's latest
 * orders) keep a second connection of the thread's own to SHOPSTREAM_PG_DSN.
 */
#include "edge/edge.h"

#include <errno.h>
#include <libpq-fe.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "base/shop_log.h"
#include "base/shop_redact.h"

#define PG_QUEUE_MAX 1024
#define GONE_PROBE_MS 100

/* PARKED: back on its loop thread, waiting for the projections to pass its position
 * (X-Shopstream-After); it goes back to QUEUED when woken or when its wait is over. */
enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_EXPIRED, JOB_GONE, JOB_PARKED };

#define STATUS_BEHIND 1                /* run, not answered: the position is not passed yet */

/* What a read's answer says in X-Shopstream-Consistency. */
enum consistency { CONS_EVENTUAL = 0, CONS_FRESH, CONS_STALE };

struct pg_job {
    h2o_multithread_message_t super;   /* first: the receiver gets it back */
    struct pg_job *next;
    atomic_int state;                  /* enum job_state; leaves QUEUED once */
    struct edge_thread *t;
    struct edge_pg_task *task;         /* not NULL: a task (edge_pg_submit), not a read */
    struct shop_edge_read_req read;    /* what to read, checked on the loop thread */
    enum shop_edge_route route;
    /* Read-your-writes: what the read waits for (n_needs 0: nothing, answered at once). */
    struct shop_fresh_need *needs;     /* malloc'd */
    size_t n_needs;
    bool has_position;                 /* X-Shopstream-After was the caller's own token */
    int wait_s;                        /* Prefer: wait=N (or the default) */
    bool wait_asked;                   /* Prefer named a wait: Preference-Applied answers it */
    atomic_bool expired;               /* the wait is over: the next run answers what it finds */
    enum consistency cons;             /* set by the pool thread */
    char *behind;                      /* malloc'd "group:topic:partition, ..." when stale */
    h2o_linklist_t wait_link;          /* in t->waiters while parked */
    h2o_timeout_entry_t wait_deadline; /* linked from the first park until answered */
    /* Set by the pool thread. */
    int status;                        /* 200, 404 or 503; STATUS_BEHIND */
    char *body;                        /* malloc'd JSON, or NULL */
    char detail[160];
    /* Loop thread only. */
    h2o_req_t *req;                    /* NULL once the client went away or was answered */
    struct pg_job **req_slot;
    h2o_timeout_entry_t deadline;      /* the read must have started by then */
    h2o_timeout_entry_t probe;         /* HTTP/1.1: is the client still there? */
    int fd;                            /* HTTP/1.1 connection's socket, or -1 */
};

/* One pool thread. */
struct pg_worker {
    struct edge_pg *pg;
    pthread_t tid;
    int index;                         /* its preferred replica is index mod pg_read_n */
    char **read_dsns;                  /* borrowed from edge_pg; NULL: reads use the primary */
};

struct edge_pg {
    struct edge *edge;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pg_job *head, *tail;
    size_t len;
    bool stop;
    int n;
    struct pg_worker *workers;         /* n of them */
    char **read_dsns;                  /* cfg->pg_read_n, malloc'd (edge_pg_read_dsn) */
};

/* Pool thread: a connection for reads. With replicas, this thread's own first, then the
 * others in turn; never the primary, whose load the replicas are there to take. */
static PGconn *read_connect(struct edge *e, const struct pg_worker *w)
{
    int n = e->cfg->pg_read_n;
    if (n == 0)
        return edge_pg_connect(e);
    for (int k = 0; k < n; k++) {
        int i = (w->index + k) % n;
        PGconn *conn = edge_pg_connect_dsn(e, w->read_dsns[i], "shopstream-edge-read", i);
        if (conn != NULL)
            return conn;
    }
    return NULL;
}

/* Pool thread: the response from the query's row (none: 404). */
static void take_row(struct pg_job *job, PGresult *res)
{
    const char *cols[SHOP_READ_COLS_MAX];
    int n = PQnfields(res);
    if (PQntuples(res) == 0) {
        job->status = 404;
        return;
    }
    for (int i = 0; i < n && i < SHOP_READ_COLS_MAX; i++)
        cols[i] = PQgetisnull(res, 0, i) ? NULL : PQgetvalue(res, 0, i);
    if (n > SHOP_READ_COLS_MAX || shop_edge_read_shape(&job->read, cols, n, &job->body) != 0) {
        SHOP_LOG(SHOP_LOG_WARN, "edge", "read query returned an unexpected row", "kind=%d",
                 (int)job->read.kind);
        snprintf(job->detail, sizeof(job->detail), "database query failed");
        return;
    }
    job->status = 200;
}

/* Pool thread: a failed statement; a broken connection is dropped for a new one. */
static void query_failed(PGconn **conn, struct pg_job *job, PGresult *res, const char *what)
{
    char line[200];
    SHOP_LOG(SHOP_LOG_WARN, "edge", "read query failed", "kind=%d step=%s err=\"%s\"",
             (int)job->read.kind, what, edge_pg_first_line(PQresultErrorMessage(res), line, sizeof(line)));
    snprintf(job->detail, sizeof(job->detail), "database query failed");
    if (PQstatus(*conn) != CONNECTION_OK) {
        PQfinish(*conn);
        *conn = NULL;
    }
}

static bool exec_ok(PGconn *conn, const char *sql, PGresult **res)
{
    *res = PQexec(conn, sql);
    return PQresultStatus(*res) == PGRES_COMMAND_OK;
}

/* Pool thread: the check's rows (group, topic, partition not passed) as one header value. */
static char *behind_text(PGresult *res)
{
    size_t cap = 1;
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        cap += (size_t)PQgetlength(res, i, 0) + (size_t)PQgetlength(res, i, 1) +
               (size_t)PQgetlength(res, i, 2) + 4;
    char *buf = shop_xcalloc(1, cap), *o = buf;
    for (int i = 0; i < n; i++)
        o += sprintf(o, "%s%s:%s:%s", i > 0 ? ", " : "", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                     PQgetvalue(res, i, 2));
    return buf;
}

/* Pool thread: the position check and the read in one REPEATABLE READ snapshot, so
 * "fresh" means this very answer holds the effects of the caller's events; on a streaming
 * replica too, since the offsets replicate in the WAL of the effects they cover. While the
 * wait is not over, a position not passed yet answers nothing (STATUS_BEHIND). */
static void run_checked(struct edge *e, PGconn **conn, struct pg_job *job, const struct shop_edge_query *q)
{
    PGresult *res;
    if (!exec_ok(*conn, "begin isolation level repeatable read read only", &res)) {
        query_failed(conn, job, res, "begin");
        PQclear(res);
        return;
    }
    PQclear(res);
    struct shop_arena arena = SHOP_ARENA_INIT;
    const char *params[4];
    shop_fresh_params(job->needs, job->n_needs, e->cfg->read_groups,
                      (const char (*)[SHOP_TOPIC_NAME_MAX])e->threads[0].topics, &arena, params);
    res = PQexecParams(*conn, shop_fresh_sql, 4, NULL, params, NULL, NULL, 0);
    shop_arena_fini(&arena);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        query_failed(conn, job, res, "position");
        PQclear(res);
        PQclear(PQexec(*conn, "rollback"));
        return;
    }
    int behind = PQntuples(res);
    if (behind > 0 && !atomic_load(&job->expired)) {
        PQclear(res);
        job->status = STATUS_BEHIND;
        if (!exec_ok(*conn, "rollback", &res))
            query_failed(conn, job, res, "rollback");
        PQclear(res);
        return;
    }
    if (behind > 0) {
        free(job->behind);
        job->behind = behind_text(res);
    }
    PQclear(res);
    res = PQexecParams(*conn, q->sql, q->n_params, NULL, q->params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        query_failed(conn, job, res, "read");
        PQclear(res);
        PQclear(PQexec(*conn, "rollback"));
        return;
    }
    take_row(job, res);
    PQclear(res);
    if (!exec_ok(*conn, "commit", &res)) {
        query_failed(conn, job, res, "commit");
        job->status = 503;
    }
    PQclear(res);
    job->cons = behind > 0 ? CONS_STALE : CONS_FRESH;
}

/* Pool thread: bounded by connect_timeout and statement_timeout. */
static void run_query(struct edge *e, const struct pg_worker *w, PGconn **conn,
                      struct pg_job *job)
{
    struct shop_edge_query q;
    job->status = 503;
    if (*conn == NULL && (*conn = read_connect(e, w)) == NULL) {
        snprintf(job->detail, sizeof(job->detail), "database unavailable");
        return;
    }
    if (shop_edge_query_build(&job->read, &q) != 0) {
        snprintf(job->detail, sizeof(job->detail), "bad read request");
        return;
    }
    if (job->n_needs > 0) {
        run_checked(e, conn, job, &q);
        return;
    }
    PGresult *res = PQexecParams(*conn, q.sql, q.n_params, NULL, q.params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        take_row(job, res);
    else
        query_failed(conn, job, res, "read");
    PQclear(res);
}

static struct pg_job *pop(struct edge_pg *pg)
{
    pthread_mutex_lock(&pg->mu);
    while (pg->head == NULL && !pg->stop)
        pthread_cond_wait(&pg->cv, &pg->mu);
    struct pg_job *job = pg->head;
    if (job != NULL) {
        pg->head = job->next;
        if (pg->head == NULL)
            pg->tail = NULL;
        pg->len--;
    }
    pthread_mutex_unlock(&pg->mu);
    return job;
}

static void *pool_main(void *arg)
{
    struct pg_worker *w = arg;
    struct edge_pg *pg = w->pg;
    PGconn *conn = NULL;               /* the primary: tasks, and reads without replicas */
    PGconn *read_conn = NULL;          /* a replica, with SHOPSTREAM_PG_READ_DSN */
    PGconn **reads = w->read_dsns != NULL ? &read_conn : &conn;
    struct pg_job *job;
    while ((job = pop(pg)) != NULL) {
        int queued = JOB_QUEUED;
        if (atomic_compare_exchange_strong(&job->state, &queued, JOB_RUNNING)) {
            if (job->task != NULL)
                job->task->run(job->task, pg->edge, &conn);
            else
                run_query(pg->edge, w, reads, job);
        }
        h2o_multithread_send_message(&job->t->pg_receiver, &job->super);
    }
    if (conn != NULL)
        PQfinish(conn);
    if (read_conn != NULL)
        PQfinish(read_conn);
    return NULL;
}

int edge_pg_start(struct edge *e, struct shop_err *err)
{
    struct edge_pg *pg = shop_xcalloc(1, sizeof(*pg));
    pg->edge = e;
    pg->n = e->cfg->pg_pool;
    pg->workers = shop_xcalloc((size_t)pg->n, sizeof(*pg->workers));
    if (e->cfg->pg_read_n > 0) {
        pg->read_dsns = shop_xcalloc((size_t)e->cfg->pg_read_n, sizeof(*pg->read_dsns));
        for (int i = 0; i < e->cfg->pg_read_n; i++)
            pg->read_dsns[i] = edge_pg_read_dsn(e, i);
    }
    pthread_mutex_init(&pg->mu, NULL);
    pthread_cond_init(&pg->cv, NULL);
    e->pg = pg;
    for (int i = 0; i < pg->n; i++) {
        struct pg_worker *w = &pg->workers[i];
        w->pg = pg;
        w->index = i;
        w->read_dsns = pg->read_dsns;
        if (pthread_create(&w->tid, NULL, pool_main, w) != 0)
            return shop_err_set(err, SHOP_EIO, "could not start database thread");
    }
    if (e->cfg->pg_read_n > 0)
        SHOP_LOG(SHOP_LOG_INFO, "edge", "reads go to postgresql replicas",
                 "replicas=%d pool=%d", e->cfg->pg_read_n, pg->n);
    return 0;
}

void edge_pg_stop(struct edge *e)
{
    struct edge_pg *pg = e->pg;
    pthread_mutex_lock(&pg->mu);
    pg->stop = true;
    pthread_cond_broadcast(&pg->cv);
    pthread_mutex_unlock(&pg->mu);
    for (int i = 0; i < pg->n; i++)
        pthread_join(pg->workers[i].tid, NULL);
}

static bool push(struct edge_pg *pg, struct pg_job *job)
{
    pthread_mutex_lock(&pg->mu);
    bool ok = pg->len < PG_QUEUE_MAX && !pg->stop;
    if (ok) {
        job->next = NULL;   /* a resubmitted read (read-your-writes) still has its last run's */
        if (pg->tail != NULL)
            pg->tail->next = job;
        else
            pg->head = job;
        pg->tail = job;
        pg->len++;
        pthread_cond_signal(&pg->cv);
    }
    pthread_mutex_unlock(&pg->mu);
    return ok;
}

/* Loop thread: the request no longer points at the job, nor the job at it. */
static void detach(struct pg_job *job)
{
    if (job->req != NULL)
        *job->req_slot = NULL;
    job->req = NULL;
}

static void job_free(struct pg_job *job)
{
    detach(job);
    if (h2o_timeout_is_linked(&job->deadline))
        h2o_timeout_unlink(&job->deadline);
    if (h2o_timeout_is_linked(&job->probe))
        h2o_timeout_unlink(&job->probe);
    if (h2o_timeout_is_linked(&job->wait_deadline))
        h2o_timeout_unlink(&job->wait_deadline);
    if (h2o_linklist_is_linked(&job->wait_link)) {
        h2o_linklist_unlink(&job->wait_link);
        atomic_fetch_sub(&job->t->n_waiters, 1);
        atomic_fetch_sub(&job->t->edge->waiters, 1);
    }
    free(job->needs);
    free(job->behind);
    free(job->body);
    free(job);
}

/* Loop thread: what the answer says of its freshness (200 and 404 only: a 503 read nothing). */
static void consistency_headers(struct pg_job *job)
{
    h2o_req_t *req = job->req;
    static const char *const names[] = {"eventual", "fresh", "stale"};
    const char *c = names[job->cons];
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-shopstream-consistency"), 0,
                          NULL, c, strlen(c));
    if (job->cons == CONS_STALE && job->behind != NULL) {
        size_t n = strlen(job->behind);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-shopstream-behind"), 0,
                              NULL, h2o_strdup(&req->pool, job->behind, n).base, n);
    }
    if (job->has_position && job->wait_asked) {
        char v[16];
        int n = snprintf(v, sizeof(v), "wait=%d", job->wait_s);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("preference-applied"), 0,
                              NULL, h2o_strdup(&req->pool, v, (size_t)n).base, (size_t)n);
    }
    shop_edge_metrics_consistency(&job->t->edge->metrics, (int)job->cons);
}

static void answer(struct pg_job *job)
{
    struct edge_thread *t = job->t;
    if (job->req == NULL || atomic_load(&job->state) != JOB_RUNNING)
        return;
    if (job->status == 200) {
        consistency_headers(job);
        edge_respond(t, job->req, job->route, 200, "application/json", job->body,
                     strlen(job->body));
    } else if (job->status == 404) {
        consistency_headers(job);
        const char *field, *detail;
        shop_edge_read_not_found(job->read.kind, &field, &detail);
        edge_problem(t, job->req, job->route, 404, -1, field, detail, NULL);
    } else {
        edge_problem(t, job->req, job->route, 503, -1, "", job->detail, NULL);
    }
}

static void on_read_deadline(h2o_timeout_entry_t *entry);
static void on_gone_probe(h2o_timeout_entry_t *entry);

/* Loop thread: queues a read (again), with its deadline to start; false when the queue is
 * full. The pool hands the job back through this thread's queue, so nothing after the
 * push races it. */
static bool submit(struct edge_thread *t, struct pg_job *job)
{
    atomic_store(&job->state, JOB_QUEUED);
    if (!push(t->edge->pg, job))
        return false;
    if (h2o_timeout_is_linked(&job->deadline))   /* still linked from an earlier run */
        h2o_timeout_unlink(&job->deadline);
    job->deadline.cb = on_read_deadline;
    h2o_timeout_link(t->loop, &t->read_queue_timeout, &job->deadline);
    if (job->fd >= 0 && !h2o_timeout_is_linked(&job->probe)) {
        job->probe.cb = on_gone_probe;
        h2o_timeout_link(t->loop, &t->gone_probe_timeout, &job->probe);
    }
    return true;
}

static void unpark(struct pg_job *job)
{
    h2o_linklist_unlink(&job->wait_link);
    atomic_fetch_sub(&job->t->n_waiters, 1);
    atomic_fetch_sub(&job->t->edge->waiters, 1);
}

static void resubmit(struct pg_job *job)
{
    if (submit(job->t, job))
        return;
    edge_problem(job->t, job->req, job->route, 503, -1, "", "too many reads queued", NULL);
    job_free(job);
}

/* Loop thread: the wait (Prefer: wait=N) is over. A parked read runs once more and
 * answers what it finds; one queued or running answers so itself. */
static void on_wait_deadline(h2o_timeout_entry_t *entry)
{
    struct pg_job *job = H2O_STRUCT_FROM_MEMBER(struct pg_job, wait_deadline, entry);
    atomic_store(&job->expired, true);
    if (atomic_load(&job->state) == JOB_PARKED) {
        unpark(job);
        resubmit(job);
    }
}

/* Loop thread: a read came back with its position not passed. It waits for the watcher
 * without holding a connection, or runs at once for the last time: no wait asked, the
 * wait already over, or too many parked. */
static void park(struct pg_job *job)
{
    struct edge_thread *t = job->t;
    struct edge *e = t->edge;
    bool first = !h2o_timeout_is_linked(&job->wait_deadline) && !atomic_load(&job->expired);
    if (atomic_load(&job->expired) || job->wait_s == 0 ||
        (first && atomic_load(&e->waiters) >= e->cfg->max_waiters)) {
        atomic_store(&job->expired, true);
        resubmit(job);
        return;
    }
    if (first) {
        job->wait_deadline.cb = on_wait_deadline;
        h2o_timeout_link(t->loop, &t->wait_timeouts[job->wait_s], &job->wait_deadline);
    }
    atomic_store(&job->state, JOB_PARKED);
    h2o_linklist_insert(&t->waiters, &job->wait_link);
    atomic_fetch_add(&t->n_waiters, 1);
    atomic_fetch_add(&e->waiters, 1);
    edge_watch_kick(e);
}

/* Loop thread (watch.c): the offsets moved. Reads whose position the watcher now shows
 * passed run again; the run checks it in its own snapshot. */
static void on_watch(struct edge_thread *t)
{
    h2o_linklist_t *node = t->waiters.next;
    while (node != &t->waiters) {
        struct pg_job *job = H2O_STRUCT_FROM_MEMBER(struct pg_job, wait_link, node);
        node = node->next;
        if (shop_fresh_behind(job->needs, job->n_needs, edge_watch_next, t->edge) == 0) {
            unpark(job);
            resubmit(job);
        }
    }
}

/* Loop thread: results from the pool. */
static void on_pg_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        struct pg_job *job = H2O_STRUCT_FROM_MEMBER(struct pg_job, super.link, messages->next);
        h2o_linklist_unlink(&job->super.link);
        if (job->task != NULL) {
            job->task->done(job->task, atomic_load(&job->state) == JOB_RUNNING);
        } else if (job->status == STATUS_BEHIND && job->req != NULL &&
                   atomic_load(&job->state) == JOB_RUNNING) {
            park(job);
            continue;
        } else {
            answer(job);
        }
        job_free(job);
    }
}

void edge_pg_attach(struct edge_thread *t)
{
    h2o_timeout_init(t->loop, &t->read_queue_timeout, (uint64_t)t->edge->cfg->read_queue_timeout_ms);
    h2o_timeout_init(t->loop, &t->gone_probe_timeout, GONE_PROBE_MS);
    h2o_multithread_register_receiver(t->ctx.queue, &t->pg_receiver, on_pg_done);
    h2o_linklist_init_anchor(&t->waiters);
    for (int i = 0; i <= SHOP_POS_WAIT_MAX_S; i++)
        h2o_timeout_init(t->loop, &t->wait_timeouts[i], (uint64_t)i * 1000);
    edge_watch_attach(t, on_watch);
}

/* Loop thread: the read did not start in time. Answered now; the pool will skip it. */
static void on_read_deadline(h2o_timeout_entry_t *entry)
{
    struct pg_job *job = H2O_STRUCT_FROM_MEMBER(struct pg_job, deadline, entry);
    int queued = JOB_QUEUED;
    if (job->req == NULL || !atomic_compare_exchange_strong(&job->state, &queued, JOB_EXPIRED))
        return;
    struct edge_thread *t = job->t;
    char detail[96];
    snprintf(detail, sizeof(detail), "read could not start within %d ms",
             t->edge->cfg->read_queue_timeout_ms);
    shop_edge_metrics_read_not_run(&t->edge->metrics, SHOP_READ_DEADLINE);
    h2o_req_t *req = job->req;
    detach(job);
    edge_problem(t, req, job->route, 503, -1, "", detail, NULL);
}

/* Loop thread: an HTTP/1.1 client that closed its connection while its read was queued.
 * Its read is never run; answering lets h2o find the connection dead and close it. */
static void on_gone_probe(h2o_timeout_entry_t *entry)
{
    struct pg_job *job = H2O_STRUCT_FROM_MEMBER(struct pg_job, probe, entry);
    if (job->req == NULL || atomic_load(&job->state) != JOB_QUEUED)
        return;
    char c;
    ssize_t n = recv(job->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    bool gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    int queued = JOB_QUEUED;
    if (!gone || !atomic_compare_exchange_strong(&job->state, &queued, JOB_GONE)) {
        if (!gone)
            h2o_timeout_link(job->t->loop, &job->t->gone_probe_timeout, &job->probe);
        return;
    }
    shop_edge_metrics_read_not_run(&job->t->edge->metrics, SHOP_READ_CLIENT_GONE);
    h2o_req_t *req = job->req;
    detach(job);
    edge_problem(job->t, req, job->route, 503, -1, "", "client went away", NULL);
}

/* Loop thread: h2o frees the request (its client went away). A read still queued is
 * never run. */
static void on_req_dispose(void *p)
{
    struct pg_job **slot = p;
    struct pg_job *job = *slot;
    if (job == NULL)
        return;
    job->req = NULL;
    int queued = JOB_QUEUED;
    if (atomic_compare_exchange_strong(&job->state, &queued, JOB_GONE))
        shop_edge_metrics_read_not_run(&job->t->edge->metrics, SHOP_READ_CLIENT_GONE);
    else if (atomic_load(&job->state) == JOB_PARKED)
        job_free(job);   /* parked: only this thread holds it */
}

static enum shop_edge_read read_kind(enum shop_edge_route route)
{
    switch (route) {
    case SHOP_ROUTE_CART: return SHOP_READ_CART;
    case SHOP_ROUTE_ORDERS: return SHOP_READ_ORDERS;
    case SHOP_ROUTE_ORDER: return SHOP_READ_ORDER;
    case SHOP_ROUTE_RECS: return SHOP_READ_RECS;
    case SHOP_ROUTE_SIMILAR: return SHOP_READ_SIMILAR;
    case SHOP_ROUTE_SEGMENT: return SHOP_READ_SEGMENT;
    case SHOP_ROUTE_SEGMENTS: return SHOP_READ_SEGMENTS;
    case SHOP_ROUTE_FORECAST: return SHOP_READ_FORECAST;
    case SHOP_ROUTE_ACTIVITY: return SHOP_READ_ACTIVITY;
    case SHOP_ROUTE_REVENUE: return SHOP_READ_REVENUE;
    case SHOP_ROUTE_TOP_PRODUCTS: return SHOP_READ_TOP_PRODUCTS;
    case SHOP_ROUTE_FUNNEL: return SHOP_READ_FUNNEL;
    case SHOP_ROUTE_PRODUCT:
    default: return SHOP_READ_PRODUCT;
    }
}

/* Loop thread: X-Shopstream-After and Prefer into job. The caller's own token makes the
 * read wait for the groups it depends on; another user's (or another key's) token is as
 * if none was given. Returns -1 for a malformed token (400), with its reason in the
 * job's detail. */
static int read_position(struct edge_thread *t, h2o_req_t *req, const struct shop_jwt_claims *claims,
                         struct pg_job *job)
{
    job->cons = CONS_EVENTUAL;
    h2o_iovec_t after = edge_header(req, H2O_STRLIT("x-shopstream-after"));
    if (after.base == NULL)
        return 0;
    struct shop_position *pos = shop_xcalloc(1, sizeof(*pos));
    const char *why;
    enum shop_pos_result r = shop_position_decode(after.base, after.len, t->edge->position_key,
                                                  claims->sub, pos, &why);
    if (r == SHOP_POS_MALFORMED) {
        snprintf(job->detail, sizeof(job->detail), "%s", why);
        free(pos);
        return -1;
    }
    if (r == SHOP_POS_MINE) {
        unsigned roles = shop_edge_read_roles(job->read.kind);
        size_t n = shop_fresh_needs(pos, roles, NULL, 0);
        if (n > 0) {
            job->needs = shop_xcalloc(n, sizeof(*job->needs));
            job->n_needs = shop_fresh_needs(pos, roles, job->needs, n);
        }
        job->has_position = true;
        job->cons = CONS_FRESH;   /* nothing to wait for, or set by the check */
        job->wait_s = SHOP_POS_WAIT_DEFAULT_S;
        h2o_iovec_t prefer = edge_header(req, H2O_STRLIT("prefer"));
        if (prefer.base != NULL)
            job->wait_asked = shop_prefer_wait(prefer.base, prefer.len, &job->wait_s);
    }
    free(pos);
    return 0;
}

/* Loop thread: authenticates and queues the read, with its deadline to start. */
void edge_read(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route,
               const struct shop_edge_match *m)
{
    struct shop_jwt_claims claims = {0};
    if (edge_authenticate(t, req, route, &claims) != 0)
        return;
    struct pg_job *job = shop_xcalloc(1, sizeof(*job));
    struct shop_err err = {0};
    const char *field;
    int rc = shop_edge_read_init(&job->read, read_kind(route), claims.sub, claims.admin, m, &field,
                                 &err);
    if (rc != 0) {
        free(job);
        edge_problem(t, req, route, rc == SHOP_EFORBIDDEN ? 403 : 400, -1, field, err.msg, NULL);
        return;
    }
    if (read_position(t, req, &claims, job) != 0) {
        edge_problem(t, req, route, 400, -1, "X-Shopstream-After", job->detail, NULL);
        free(job);
        return;
    }
    atomic_init(&job->state, JOB_QUEUED);
    job->t = t;
    job->route = route;
    job->fd = -1;
    h2o_socket_t *sock = req->version < 0x200 ? req->conn->callbacks->get_socket(req->conn) : NULL;
    if (sock != NULL)
        job->fd = h2o_socket_get_fd(sock);
    if (!submit(t, job)) {
        free(job->needs);
        free(job);
        edge_problem(t, req, route, 503, -1, "", "too many reads queued", NULL);
        return;
    }
    job->req = req;
    job->req_slot = h2o_mem_alloc_shared(&req->pool, sizeof(*job->req_slot), on_req_dispose);
    *job->req_slot = job;
}

/* Loop thread: the task did not start in time. Told now; the pool will skip it. */
static void on_task_deadline(h2o_timeout_entry_t *entry)
{
    struct pg_job *job = H2O_STRUCT_FROM_MEMBER(struct pg_job, deadline, entry);
    int queued = JOB_QUEUED;
    if (job->task == NULL || !atomic_compare_exchange_strong(&job->state, &queued, JOB_EXPIRED))
        return;
    struct edge_pg_task *task = job->task;
    job->task = NULL;   /* done is called once; the job itself is freed when it comes back */
    task->done(task, false);
}

/* Loop thread: queues task with the reads' deadline to start. */
int edge_pg_submit(struct edge_thread *t, struct edge_pg_task *task)
{
    struct pg_job *job = shop_xcalloc(1, sizeof(*job));
    atomic_init(&job->state, JOB_QUEUED);
    job->t = t;
    job->task = task;
    job->fd = -1;
    if (!push(t->edge->pg, job)) {
        free(job);
        return -1;
    }
    /* As for reads: the job comes back through this thread's queue, so nothing races it. */
    job->deadline.cb = on_task_deadline;
    h2o_timeout_link(t->loop, &t->read_queue_timeout, &job->deadline);
    return 0;
}
