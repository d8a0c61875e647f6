/* SPDX-License-Identifier: MIT
 * The offsets watcher of read-your-writes: one thread per edge process, whatever the
 * number of parked reads, so waiting never becomes a polling loop per request.
 *
 * It LISTENs on the primary for "shopstream_offsets", which a trigger on
 * consumer_offsets (migration 0008) NOTIFYs at every commit of a worker's batch. While
 * any read is parked it reads every group's offsets from the database the reads go to:
 * at once after a notification (at most every WATCH_MIN_MS), and every
 * SHOPSTREAM_EDGE_WATCH_MS in any case (a replica replays after the primary notified;
 * a lost connection loses notifications). When an offset moved it wakes the loop
 * threads that have parked reads. Its table is only a hint: a woken read checks its
 * position again in the snapshot it reads (pg.c), so a stale or missing row can delay
 * an answer but never make one "fresh" wrongly.
 *
 * With replicas (SHOPSTREAM_PG_READ_DSN) it reads each of them, since a read may go to
 * any: a cell holds the furthest offset any replica shows, and the threads are woken when
 * any replica's offsets moved (the sum of its rows grew), so a read parked on a replica
 * that lags the others runs again once that one has replayed too.
 */
#include "edge/edge.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/shop_arena.h"
#include "base/shop_log.h"

#define WATCH_PARTITIONS 1024     /* partitions per topic the table holds; more wait their deadline */
#define WATCH_MIN_MS 5            /* notifications are coalesced over this */
#define WATCH_IDLE_MS 1000        /* how often the thread looks up with no read parked */
#define WATCH_RETRY_MS 1000       /* reconnect back-off */

/* A database the reads go to: the primary, or one replica. */
struct watch_src {
    char *dsn;                    /* malloc'd */
    int replica;                  /* 0-based, or -1 for the primary */
    PGconn *conn;
    int64_t retry_ms;
    int64_t sum;                  /* of its next offsets at the last poll: it moved if this did */
};

struct edge_watch {
    struct edge *e;
    pthread_t tid;
    int kick_fd;                  /* eventfd: a read was parked, or stop */
    atomic_bool stop;
    _Atomic int64_t *next;        /* [role][stream][partition]: next offset, -1 unknown */
    PGconn *listen;               /* the primary, LISTENing */
    struct watch_src *srcs;       /* where the reads go */
    int n_srcs;
    int64_t listen_retry_ms;
};

static size_t slot(int role, int stream, int32_t partition)
{
    return ((size_t)role * SHOP_STREAM_COUNT + (size_t)stream) * WATCH_PARTITIONS + (size_t)partition;
}

int64_t edge_watch_next(void *edge, int role, int stream, int32_t partition)
{
    struct edge_watch *w = ((struct edge *)edge)->watch;
    if (w == NULL || role < 0 || role >= SHOP_WORKER_ROLE_COUNT || stream < 0 ||
        stream >= SHOP_STREAM_COUNT || partition < 0 || partition >= WATCH_PARTITIONS)
        return -1;
    return atomic_load_explicit(&w->next[slot(role, stream, partition)], memory_order_relaxed);
}

void edge_watch_kick(struct edge *e)
{
    uint64_t one = 1;
    if (e->watch != NULL && write(e->watch->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        SHOP_LOG(SHOP_LOG_WARN, "edge", "could not wake the offsets watcher", "err=\"%s\"", strerror(errno));
}

/* Loop thread: the watcher's message. */
static void on_watch_msg(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    struct edge_thread *t = H2O_STRUCT_FROM_MEMBER(struct edge_thread, watch_receiver, receiver);
    while (!h2o_linklist_is_empty(messages))
        h2o_linklist_unlink(messages->next);   /* only ever t->watch_msg */
    atomic_store(&t->watch_pending, false);
    if (t->on_watch != NULL)
        t->on_watch(t);
}

void edge_watch_attach(struct edge_thread *t, void (*on_watch)(struct edge_thread *t))
{
    t->on_watch = on_watch;
    atomic_init(&t->watch_pending, false);
    atomic_init(&t->n_waiters, 0);
    h2o_multithread_register_receiver(t->ctx.queue, &t->watch_receiver, on_watch_msg);
}

static int64_t now_ms(void)
{
    return edge_mono_us() / 1000;
}

/* Watcher thread: the LISTEN connection, (re)made after WATCH_RETRY_MS. */
static void listen_open(struct edge_watch *w)
{
    if (w->listen != NULL || now_ms() < w->listen_retry_ms)
        return;
    w->listen_retry_ms = now_ms() + WATCH_RETRY_MS;
    if ((w->listen = edge_pg_connect_to(w->e, w->e->cfg->pg_dsn, "shopstream-edge-watch")) == NULL)
        return;
    PGresult *res = PQexec(w->listen, "listen shopstream_offsets");
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        char line[200];
        SHOP_LOG(SHOP_LOG_WARN, "edge", "could not LISTEN for the workers' commits; polling only",
                 "err=\"%s\"", edge_pg_first_line(PQresultErrorMessage(res), line, sizeof(line)));
        PQfinish(w->listen);
        w->listen = NULL;
    }
    PQclear(res);
}

/* Watcher thread: true when a notification came (or the connection broke). */
static bool listen_drain(struct edge_watch *w)
{
    bool any = false;
    if (w->listen == NULL)
        return false;
    if (PQconsumeInput(w->listen) != 1) {
        PQfinish(w->listen);
        w->listen = NULL;
        return true;   /* notifications may be lost: look now */
    }
    PGnotify *n;
    while ((n = PQnotifies(w->listen)) != NULL) {
        any = true;
        PQfreemem(n);
    }
    return any;
}

static int role_of(const struct edge *e, const char *group)
{
    for (int r = 0; r < SHOP_WORKER_ROLE_COUNT; r++)
        if (strcmp(e->cfg->read_groups[r], group) == 0)
            return r;
    return -1;
}

static int stream_of(const struct edge *e, const char *topic)
{
    for (int s = 0; s < SHOP_STREAM_COUNT; s++)
        if (strcmp(e->threads[0].topics[s], topic) == 0)
            return s;
    return -1;
}

/* Watcher thread: a cell to next; true when it changed. One source: as it is (a rebuilt
 * projection's offsets may go back); several: the furthest any shows. */
static bool store_next(struct edge_watch *w, _Atomic int64_t *cell, int64_t next)
{
    if (w->n_srcs == 1)
        return atomic_exchange_explicit(cell, next, memory_order_relaxed) != next;
    int64_t old = atomic_load_explicit(cell, memory_order_relaxed);
    while (old < next) {
        if (atomic_compare_exchange_weak_explicit(cell, &old, next, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    }
    return false;
}

/* Watcher thread: one source's offsets into the table; true when they moved. */
static bool poll_src(struct edge_watch *w, struct watch_src *src, const char *groups)
{
    struct edge *e = w->e;
    if (src->conn == NULL) {
        if (now_ms() < src->retry_ms)
            return false;
        src->retry_ms = now_ms() + WATCH_RETRY_MS;
        if ((src->conn = edge_pg_connect_dsn(e, src->dsn, "shopstream-edge-watch", src->replica)) == NULL)
            return false;
    }
    const char *params[] = {groups};
    PGresult *res = PQexecParams(src->conn,
                                 "select consumer_group, topic, partition, next_offset from consumer_offsets "
                                 "where consumer_group = any($1::text[])",
                                 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char line[200], db[24] = "primary";
        if (src->replica >= 0)
            snprintf(db, sizeof(db), "replica-%d", src->replica + 1);
        SHOP_LOG(SHOP_LOG_WARN, "edge", "could not read the consumer offsets", "db=%s err=\"%s\"",
                 db, edge_pg_first_line(PQresultErrorMessage(res), line, sizeof(line)));
        if (PQstatus(src->conn) != CONNECTION_OK) {
            PQfinish(src->conn);
            src->conn = NULL;
        }
        PQclear(res);
        return false;
    }
    int64_t sum = 0;
    bool moved = false;
    for (int i = 0; i < PQntuples(res); i++) {
        int role = role_of(e, PQgetvalue(res, i, 0));
        int stream = stream_of(e, PQgetvalue(res, i, 1));
        long part = strtol(PQgetvalue(res, i, 2), NULL, 10);
        int64_t next = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        if (role < 0 || stream < 0 || part < 0 || part >= WATCH_PARTITIONS)
            continue;
        sum += next;
        moved |= store_next(w, &w->next[slot(role, stream, (int32_t)part)], next);
    }
    PQclear(res);
    moved |= sum != src->sum;
    src->sum = sum;
    return moved;
}

/* Watcher thread: every group's offsets from every source; true when any moved. */
static bool poll_offsets(struct edge_watch *w)
{
    struct edge *e = w->e;
    char groups[SHOP_WORKER_ROLE_COUNT * 210 + 8], *o = groups;   /* a group name is at most 200 */
    *o++ = '{';
    for (int r = 0; r < SHOP_WORKER_ROLE_COUNT; r++)
        o += sprintf(o, "%s\"%s\"", r > 0 ? "," : "", e->cfg->read_groups[r]);
    strcpy(o, "}");
    bool moved = false;
    for (int i = 0; i < w->n_srcs; i++)
        moved |= poll_src(w, &w->srcs[i], groups);
    return moved;
}

static void wake_threads(struct edge_watch *w)
{
    struct edge *e = w->e;
    for (int i = 0; i < e->n_threads; i++) {
        struct edge_thread *t = &e->threads[i];
        if (atomic_load(&t->n_waiters) > 0 && !atomic_exchange(&t->watch_pending, true))
            h2o_multithread_send_message(&t->watch_receiver, &t->watch_msg);
    }
}

static void *watch_main(void *arg)
{
    struct edge_watch *w = arg;
    struct edge *e = w->e;
    int64_t last_poll = 0;
    bool pending = false;   /* a notification not yet followed by a poll */
    while (!atomic_load(&w->stop)) {
        bool waiting = atomic_load(&e->waiters) > 0;
        /* Not before the first parked read: an edge nobody waits on opens no connection
         * of its own (a read that parks meanwhile is polled at once, then every watch_ms). */
        if (waiting || w->listen != NULL)
            listen_open(w);
        int64_t now = now_ms();
        int timeout = WATCH_IDLE_MS;
        if (waiting) {
            int64_t due = last_poll + (pending ? WATCH_MIN_MS : e->cfg->watch_ms);
            timeout = due > now ? (int)(due - now) : 0;
        }
        struct pollfd fds[2] = {{.fd = w->kick_fd, .events = POLLIN},
                                {.fd = w->listen != NULL ? PQsocket(w->listen) : -1, .events = POLLIN}};
        if (poll(fds, 2, timeout) < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            uint64_t v;
            if (read(w->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                break;
        }
        if (fds[1].revents != 0 && listen_drain(w))
            pending = true;
        waiting = atomic_load(&e->waiters) > 0;
        now = now_ms();
        if (!waiting) {
            pending = false;
            continue;
        }
        if (now - last_poll < (pending ? WATCH_MIN_MS : e->cfg->watch_ms))
            continue;
        last_poll = now;
        pending = false;
        if (poll_offsets(w))
            wake_threads(w);
    }
    return NULL;
}

static void watch_srcs_free(struct edge_watch *w)
{
    for (int i = 0; i < w->n_srcs; i++) {
        if (w->srcs[i].conn != NULL)
            PQfinish(w->srcs[i].conn);
        free(w->srcs[i].dsn);
    }
    free(w->srcs);
}

int edge_watch_start(struct edge *e, struct shop_err *err)
{
    struct edge_watch *w = shop_xcalloc(1, sizeof(*w));
    size_t cells = (size_t)SHOP_WORKER_ROLE_COUNT * SHOP_STREAM_COUNT * WATCH_PARTITIONS;
    w->e = e;
    w->next = shop_xcalloc(cells, sizeof(*w->next));
    w->n_srcs = e->cfg->pg_read_n > 0 ? e->cfg->pg_read_n : 1;
    w->srcs = shop_xcalloc((size_t)w->n_srcs, sizeof(*w->srcs));
    for (int i = 0; i < w->n_srcs; i++) {
        w->srcs[i].replica = e->cfg->pg_read_n > 0 ? i : -1;
        w->srcs[i].dsn = e->cfg->pg_read_n > 0 ? edge_pg_read_dsn(e, i) : shop_xstrdup(e->cfg->pg_dsn);
    }
    for (size_t i = 0; i < cells; i++)
        atomic_init(&w->next[i], -1);
    if ((w->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        watch_srcs_free(w);
        free(w->next);
        free(w);
        return shop_err_set(err, SHOP_EIO, "could not create the watcher's eventfd: %s", strerror(errno));
    }
    atomic_init(&w->stop, false);
    e->watch = w;
    if (pthread_create(&w->tid, NULL, watch_main, w) != 0) {
        e->watch = NULL;
        close(w->kick_fd);
        watch_srcs_free(w);
        free(w->next);
        free(w);
        return shop_err_set(err, SHOP_EIO, "could not start the offsets watcher");
    }
    return 0;
}

void edge_watch_stop(struct edge *e)
{
    struct edge_watch *w = e->watch;
    if (w == NULL)
        return;
    atomic_store(&w->stop, true);
    edge_watch_kick(e);
    pthread_join(w->tid, NULL);
    e->watch = NULL;
    if (w->listen != NULL)
        PQfinish(w->listen);
    watch_srcs_free(w);
    close(w->kick_fd);
    free(w->next);
    free(w);
}
