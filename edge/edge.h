/* SPDX-License-Identifier: MIT
 * Shared state of the shopstream-edge shell. One struct edge per process
 * (read-only after start apart from its atomics) and one struct edge_thread
 * per loop thread, which owns its evloop, listener, producer and wake-up pipe.
 * Everything a thread owns is touched only on that thread.
 */
#ifndef EDGE_H
#define EDGE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <h2o.h>
#include <librdkafka/rdkafka.h>

#include "base/shop_err.h"
#include "edge/core/edge_batch.h"
#include "edge/core/edge_broker.h"
#include "edge/core/edge_budget.h"
#include "edge/core/edge_config.h"
#include "edge/core/edge_cors.h"
#include "edge/core/edge_jwks.h"
#include "edge/core/edge_jwt.h"
#include "edge/core/edge_metrics.h"
#include "edge/core/edge_reads.h"
#include "edge/core/edge_route.h"
#include "edge/core/edge_token_cache.h"
#include "edge/core/edge_authz.h"
#include "edge/core/edge_fresh.h"
#include "edge/core/edge_position.h"
#include "proto/core/event_topic.h"
#include "proto/core/shop_event.h"

/* What the producer hands each delivery report to; passed in, so kafka.c names no handler. */
typedef void edge_delivery_fn(const rd_kafka_message_t *rkm);

#define EDGE_SOURCE "shopstream-edge"
/* While every broker is known down, statistics bring a producer back within about a second
 * of a broker being UP again. As a safety net, one request per interval and thread is
 * produced anyway (it waits up to the delivery timeout). Much longer than the delivery
 * timeout, or a slow client's every request would be a probe. */
#define EDGE_PROBE_INTERVAL_US 30000000

struct edge_accept;
struct edge_console;
struct edge_pg;
struct edge_ready;
struct edge_limits;
struct edge_thread;
struct edge_watch;

struct edge {
    const struct shop_edge_config *cfg;
    struct shop_jwt_verifier jwt;
    struct shop_jwt_keyring keyring;   /* SHOPSTREAM_JWT_JWKS_FILE's keys (jwt.keyring) */
    pthread_t jwks_tid;
    atomic_bool jwks_stop;
    bool jwks_watching;
    struct shop_edge_cors cors;
    struct shop_event_limits limits;
    struct shop_edge_metrics metrics;
    atomic_int_fast64_t inflight;      /* events produced, not yet acknowledged */
    atomic_int_fast64_t kafka_ok_us;   /* edge_mono_us() of the latest acknowledgement or
                                        * statistics with a broker UP, on any thread */
    atomic_int stopping;
    struct shop_edge_budget inflight_bytes;   /* bytes held by requests waiting for the broker */
    struct shop_edge_budget connections;      /* open client connections */
    atomic_int draining;               /* SIGTERM seen: /readyz fails, requests still served */
    /* Readiness, kept fresh by the background check (ready.c); /readyz only reads these. */
    atomic_bool pg_up;
    atomic_int pg_replicas_up;         /* SHOPSTREAM_PG_READ_DSN entries that answered */
    atomic_bool kafka_up;
    atomic_int_fast64_t ready_checked_us;   /* edge_mono_us() when the last check finished */
    struct edge_ready *ready;
    struct edge_limits *rl;            /* per-client rate limits; NULL when all are off */
    h2o_globalconf_t h2o;
    struct edge_pg *pg;
    struct edge_thread *threads;
    int n_threads;
    int port;                          /* bound port (cfg->http_port may be 0) */
    /* Read-your-writes. */
    uint8_t position_key[SHOP_POS_KEY_LEN];   /* SHOPSTREAM_EDGE_POSITION_KEY's SHA-256 */
    struct edge_watch *watch;          /* the groups' offsets, for parked reads (watch.c) */
    atomic_int waiters;                /* reads parked waiting for a position, all threads */
    struct edge_console *console;      /* the operations console's rate and caches (console.c) */
};

struct edge_thread {
    struct edge *edge;
    int index;
    pthread_t tid;
    h2o_evloop_t *loop;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    int listen_fd;
    h2o_socket_t *listener;
    struct edge_accept *accept;        /* accept.c's state */
    rd_kafka_t *rk;
    atomic_bool kafka_fatal;           /* set from librdkafka's threads */
    struct shop_edge_broker broker;    /* reachability of this producer's brokers */
    atomic_bool kafka_down;            /* broker is DOWN; read by /metrics on any thread */
    int wake_fds[2];                   /* librdkafka writes to [1] when the main queue fills */
    h2o_socket_t *wake_sock;
    char topics[SHOP_STREAM_COUNT][SHOP_TOPIC_NAME_MAX];
    edge_delivery_fn *on_delivery;     /* delivery reports go here (edge_kafka_open) */
    h2o_timeout_t answer_timeout;      /* hard bound on an ingest request's wait */
    int64_t inflight;                  /* this thread's share of edge->inflight */
    h2o_multithread_receiver_t pg_receiver;
    struct shop_token_cache tokens;    /* verified bearer tokens (edge_authenticate) */
    h2o_timeout_t read_queue_timeout;  /* a read not started by then is answered 503 */
    h2o_timeout_t gone_probe_timeout;  /* queued HTTP/1.1 reads: is the client still there? */
    bool shutdown_told;                /* h2o_context_request_shutdown called (drain) */
    /* Reads parked until the projections pass their position (pg.c), woken by watch.c. */
    h2o_linklist_t waiters;
    h2o_timeout_t wait_timeouts[SHOP_POS_WAIT_MAX_S + 1];   /* Prefer: wait=N, N seconds */
    h2o_multithread_receiver_t watch_receiver;
    h2o_multithread_message_t watch_msg;
    atomic_bool watch_pending;         /* watch_msg is queued to this thread */
    atomic_int n_waiters;              /* this thread's parked reads (the watcher reads it) */
    void (*on_watch)(struct edge_thread *t);   /* loop thread: the offsets moved */
};

/* docs/openapi.yaml, embedded at build time (edge/embed.cmake): GET /v1/openapi.yaml. */
extern const char edge_openapi_yaml[];
extern const size_t edge_openapi_yaml_len;

/* edge/console.html, embedded at build time the same way: GET /console. */
extern const char edge_console_html[];
extern const size_t edge_console_html_len;

/* console.c — the operations console: the page, and its data (admin) from a pool task */
int edge_console_start(struct edge *e);
void edge_console_stop(struct edge *e);
void edge_console_page(struct edge_thread *t, h2o_req_t *req);   /* loop thread */
void edge_console_overview(struct edge_thread *t, h2o_req_t *req, const struct shop_edge_match *m);

/* respond.c — loop thread: every handler answers through these */
void edge_respond(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route, int status,
                  const char *content_type, const char *body, size_t len);
/* A problem body (RFC 9457); extra_json, when not NULL, is appended as more members. */
void edge_problem(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route, int status,
                  int index, const char *field, const char *detail, const char *extra_json);
/* "body is larger than N bytes" into buf; returns buf. */
char *edge_too_large_detail(struct edge *e, char *buf, size_t cap);
/* The status line's reason phrase, also a problem body's title. */
const char *edge_reason(int status);
/* A request header's value; empty (base NULL) when absent. */
h2o_iovec_t edge_header(h2o_req_t *req, const char *name, size_t len);
/* Access-Control-Allow-Origin (and Vary) for the request's Origin, if allowed. */
void edge_respond_cors(struct edge_thread *t, h2o_req_t *req);
int64_t edge_now_ms(void);
int64_t edge_mono_us(void);

/* auth.c — loop thread: answers 401 (or 429) itself and returns non-zero on failure */
int edge_authenticate(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route,
                      struct shop_jwt_claims *claims);

/* http.c — the listener and the router */
int edge_http_setup(struct edge *e, struct shop_err *err);
int edge_listen(struct edge *e, struct edge_thread *t, struct shop_err *err);

/* accept.c — loop thread: takes over the listener's read callback */
void edge_accept_start(struct edge_thread *t);
void edge_accept_on_ready(h2o_socket_t *listener, const char *err);

/* ingest.c — loop thread */
void edge_ingest(struct edge_thread *t, h2o_req_t *req);
/* One delivery report (the callback main passes to edge_kafka_open). */
void edge_ingest_on_delivery(const rd_kafka_message_t *rkm);

/* kafka.c: the producer; deliver gets every delivery report (loop thread) */
int edge_kafka_open(struct edge *e, struct edge_thread *t, edge_delivery_fn *deliver, struct shop_err *err);
void edge_kafka_attach(struct edge_thread *t);   /* loop thread: watch the wake-up pipe */
void edge_kafka_drain(struct edge_thread *t);    /* loop thread: serve delivery reports */
void edge_kafka_close(struct edge_thread *t, int flush_ms);
void edge_kafka_delivered(struct edge_thread *t, bool ok);   /* loop thread: one report */
void edge_kafka_probe_done(struct edge_thread *t);          /* loop thread: a probe finished */
enum shop_broker_admit edge_kafka_admit(struct edge_thread *t);   /* loop thread: may we produce? */

/* ready.c — readiness checked in the background; /readyz answered from its state */
int edge_ready_start(struct edge *e, struct shop_err *err);
void edge_ready_stop(struct edge *e);
void edge_ready_answer(struct edge_thread *t, h2o_req_t *req);   /* loop thread */

/* limits.c — per-client rate limits; loop thread. Each returns 0, or answers 429 and
 * returns -1. Routes outside the ingest and reads classes are never limited. */
int edge_limits_start(struct edge *e, struct shop_err *err);
int edge_limit_address(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route);
int edge_limit_subject(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route,
                       const char *sub);

/* jwks.c — SHOPSTREAM_JWT_JWKS_FILE: the first load (main thread, before the loops) and
 * the watcher thread that re-reads the file when it changes. */
int edge_jwks_load(struct edge *e, struct shop_err *err);
void edge_jwks_watch_start(struct edge *e);
void edge_jwks_watch_stop(struct edge *e);

/* pgconn.c — connections to the primary and the replicas, for every part of the edge */
struct pg_conn *edge_pg_connect(struct edge *e);   /* the primary; NULL (logged) when it fails */
struct pg_conn *edge_pg_connect_to(struct edge *e, const char *dsn, const char *app);
/* Any thread: a connection to dsn (application_name app); replica is the 0-based index
 * the log names, or -1 for the primary. NULL (logged, the DSN redacted) when it fails. */
struct pg_conn *edge_pg_connect_dsn(struct edge *e, const char *dsn, const char *app, int replica);
/* Any thread: SHOPSTREAM_PG_READ_DSN's entry i (0 <= i < cfg->pg_read_n), malloc'd. */
char *edge_pg_read_dsn(const struct edge *e, int i);
/* The first line of a libpq message into buf, without quotes: one logfmt value. */
const char *edge_pg_first_line(const char *msg, char *buf, size_t cap);

/* pg.c — the read pool; jobs come back on the submitting loop thread */
int edge_pg_start(struct edge *e, struct shop_err *err);
void edge_pg_stop(struct edge *e);
void edge_pg_attach(struct edge_thread *t);
void edge_read(struct edge_thread *t, h2o_req_t *req, enum shop_edge_route route,
               const struct shop_edge_match *m);
/* Work other than a read, run with a pool thread's connection. */
struct edge_pg_task {
    /* Pool thread. *conn is that thread's connection to the primary (never a replica),
     * NULL until connected (edge_pg_connect);
     * a task that finds it broken PQfinish()es it and sets it to NULL. */
    void (*run)(struct edge_pg_task *task, struct edge *e, struct pg_conn **conn);
    /* The submitting loop thread, exactly once: ran is false when the task did not start
     * within SHOPSTREAM_EDGE_READ_QUEUE_TIMEOUT_MS (it never runs then). */
    void (*done)(struct edge_pg_task *task, bool ran);
};
/* Loop thread: queues task; 0, or -1 when the queue is full (done is never called). */
int edge_pg_submit(struct edge_thread *t, struct edge_pg_task *task);

/* watch.c — one thread per process: LISTENs for the workers' commits (a trigger on
 * consumer_offsets NOTIFYs) and, while reads are parked, reads every group's offsets
 * (at most every SHOPSTREAM_EDGE_WATCH_MS, and at once after a notification), then wakes
 * the loop threads that have parked reads. It only ever hints: a woken read checks its
 * position again in the snapshot it reads from. */
int edge_watch_start(struct edge *e, struct shop_err *err);
void edge_watch_stop(struct edge *e);
/* Loop thread: register t's wake-up, on_watch(t) runs on t when the offsets moved. */
void edge_watch_attach(struct edge_thread *t, void (*on_watch)(struct edge_thread *t));
/* Any thread: a read was parked (the watcher polls while any is). */
void edge_watch_kick(struct edge *e);
/* Any thread: the offsets seen last, for shop_fresh_behind (-1: not known). */
int64_t edge_watch_next(void *edge, int role, int stream, int32_t partition);

/* owners.c — the ownership lookup of an ingest batch (edge/core/edge_authz.h) */
struct edge_owner_lookup {
    struct edge_pg_task task;
    const char *param;                 /* shop_authz_owner_param(); borrowed until done */
    bool ok;                           /* set by run: the query answered */
    struct shop_authz_owner *rows;     /* malloc'd, with their strings; edge_owners_fini */
    size_t n_rows;
};
/* Loop thread: runs the lookup; on_done(task, ran) comes back on this thread (ran && l->ok:
 * rows are valid). Returns -1 when the pool's queue is full. */
int edge_owners_start(struct edge_thread *t, struct edge_owner_lookup *l,
                      void (*on_done)(struct edge_pg_task *task, bool ran));
void edge_owners_fini(struct edge_owner_lookup *l);

#endif
