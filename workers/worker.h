/* SPDX-License-Identifier: MIT
 * The shopstream-worker shell: one uv loop, one librdkafka consumer, one
 * PGconn, one arena reset after every batch. Loop thread only: librdkafka's
 * callbacks used here (rebalance, delivery reports) run inside its poll calls.
 */
#ifndef SHOP_WORKER_H
#define SHOP_WORKER_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"
#include "base/shop_kafka_props.h"
#include "base/shop_prom.h"
#include "proto/core/shop_event.h"
#include "workers/core/backoff.h"
#include "workers/core/proj.h"
#include "workers/core/roles.h"
#include "workers/core/sql_array.h"
#include "workers/core/strmap.h"
#include "workers/core/wmetrics.h"
#include "workers/core/worker_cfg.h"

/* One consumed record waiting for the batch's commit. */
struct worker_rec {
    rd_kafka_message_t *rkm;       /* owned until the batch ends */
    const char *dlq_reason;        /* non-NULL: goes to the dead-letter topic */
    const char *dlq_sqlstate;      /* non-NULL: PostgreSQL refused it with this SQLSTATE */
};

struct worker_batch {
    size_t n;
    size_t n_dlq;                     /* records of this batch sent to the dead-letter topic */
    size_t bytes;                     /* keys and values of recs, against batch_max_bytes */
    size_t bad;                       /* set by apply: the record the fold refused, else SIZE_MAX */
    struct worker_rec *recs;          /* cfg->batch_max entries */
    struct shop_proj_record *prs;     /* decoded view of recs, same indexes */
};

struct worker_stats {
    uint64_t events, batches, dlq, duplicates, pg_failures, dedup_probes, splits;
    uint64_t refused, parked;                         /* order events refused, decisions parked */
    uint64_t refused_by[SHOP_PROJ_REFUSE_COUNT];      /* refused, by reason */
};

struct worker;

/** A role's shell: its hooks, called by the loop (workers/loop.c) and the consumer's
 *  rebalance (through the loop), never named by them. The row it belongs to (streams,
 *  group, tables) is in workers/core/roles.c; the hooks live in workers/roles/<role>.c.
 *  Only apply is required. */
struct worker_role {
    const char *name;
    /** Once, before the consumer starts: *role_state is the role's own state (what
     *  struct worker must not know). 0, WORKER_INIT_STOPPED, or an error that stops
     *  the worker (exit code w->exit_code if the role set one, else 1). */
    int (*init)(struct worker *w, void **role_state, struct shop_err *err);
    /** Applies the batch and its offsets in one PG transaction, records whose prs[i].ev is
     *  NULL only advancing offsets. 0; SHOP_EPG (w->pg_sqlstate and w->pg_message say
     *  why); or SHOP_EINVAL with b->bad the index of a record the fold refused (err says
     *  why). Either failure rolled back. */
    int (*apply)(struct worker *w, struct worker_batch *b, struct shop_err *err);
    /** Where newly assigned partitions start: sets parts->elems[i].offset. Also run after
     *  a PostgreSQL outage, to go back to what the role committed. 0, or an error (the
     *  partitions then start at the group's Kafka offsets, paused until PG is back). */
    int (*on_assign)(struct worker *w, rd_kafka_topic_partition_list_t *parts, struct shop_err *err);
    /** Every cron tick (about a second), now_ms the wall clock. */
    void (*cron)(struct worker *w, int64_t now_ms);
    /** Once, when the worker begins to stop (SIGTERM or a fatal stop), after the last
     *  batch and before the consumer leaves the group and PostgreSQL closes: a last
     *  write, closing the role's own handles. */
    void (*stop)(struct worker *w);
    /** Before parts are taken away by a rebalance (after the loop flushed its batch). */
    void (*on_revoke)(struct worker *w, rd_kafka_topic_partition_list_t *parts);
    /** Once, after the loop stopped. */
    void (*fini)(struct worker *w, void *role_state);
    /** At every scrape of /metrics (loop thread), after the worker's own families: appends
     *  the role's own (shop_prom_family, then samples), each series with base's labels (role
     *  and group, n_base of them) first. Reads what is in memory only: a scrape never
     *  blocks the loop (a count that needs PostgreSQL is taken in the cron). NULL for none.
     *  The notify role's per-endpoint families, the ml role's model versions go here. */
    void (*metrics)(struct worker *w, struct shop_prom *out, const struct shop_prom_label *base, size_t n_base);
    /** The role's consumer settings (name, value, ..., NULL), set before the operator's
     *  SHOPSTREAM_KAFKA_PROPERTIES (which may override them); NULL for none. */
    const char *const *consumer_props;
    /** The role commits the group's Kafka offsets itself (notify: only once every
     *  endpoint has a record); the loop commits none after a batch. */
    bool own_offsets;
};

/** What init returns to stop the worker before it starts, with exit code 0 (a standby
 *  told to stop while it waited). */
#define WORKER_INIT_STOPPED 1

/** What the consumer calls when the group moves partitions, inside its poll or close
 *  (loop thread). Passed in by the loop: the consumer mechanics (kafka.c) hold no policy. */
struct worker_rebalance {
    /** Sets where parts start; returns true to keep them paused after the assignment. */
    bool (*assigned)(struct worker *w, rd_kafka_topic_partition_list_t *parts);
    /** Before parts are taken away. */
    void (*revoked)(struct worker *w, rd_kafka_topic_partition_list_t *parts);
};

/** An assigned partition, mirrored by kafka.c at every (re)assignment: where lag per
 *  partition is read from before anything was consumed. */
struct worker_part {
    char topic[SHOP_TOPIC_NAME_MAX];
    int32_t partition;
    int64_t start;                 /* the offset it was assigned at; < 0: the group's Kafka offset */
};

struct worker_http;

struct worker {
    const struct shop_worker_cfg *cfg;
    const struct worker_role *role;
    void *role_state;              /* the role's own, from role->init */
    const struct worker_rebalance *rebalance;
    struct shop_event_limits limits;
    uv_loop_t *loop;
    uv_poll_t wake;                /* readable when the consumer queue went non-empty */
    uv_idle_t resume;              /* keeps draining while the budget ran out */
    uv_timer_t cron;               /* stats and a drain safety net */
    uv_timer_t linger;             /* closes a non-full batch batch_linger_ms after the queue ran empty */
    uv_timer_t retry;              /* PG reconnect backoff; also runs the fatal stop */
    uv_signal_t sigterm, sigint;
    int wake_fds[2];
    rd_kafka_t *rk;                /* consumer */
    rd_kafka_queue_t *rkq;         /* the consumer queue, io events enabled */
    rd_kafka_t *dlq_rk;            /* producer for the dead-letter topic, acks=all */
    PGconn *conn;
    struct shop_arena arena;
    struct worker_batch batch;
    struct worker_stats stats;
    int dlq_failed;                /* failed dead-letter deliveries in the current batch */
    bool dlq_fatal;                /* a delivery failed for good: stop the worker */
    char dlq_error[128];           /* why, for the fatal log */
    char pg_sqlstate[6];           /* SQLSTATE of the last failed statement, "" if none */
    char pg_message[160];          /* its primary message, for the dead-letter header */
    struct shop_hash_seed seed;    /* keys the fold's maps (hash flooding), from getrandom */
    uint64_t rnd;                  /* xorshift state for backoff jitter */
    struct shop_backoff backoff;   /* reset only after a batch commits */
    int64_t outage_since_ms;       /* when consumption paused, for the recovery log */
    char outage_sqlstate[6];       /* the failure logged when the outage began */
    int64_t retry_ms;
    bool polling, stopping, pg_down;
    bool in_outage;                /* since a transient failure, until a batch commits */
    bool fatal;                    /* stopping for good, the batch not committed: exit 1 */
    bool linger_expired;           /* the open batch waited batch_linger_ms: close it when the queue is empty */
    struct shop_stop_at stop_at;   /* a bounded run's own copy of cfg->stop_at, with what it reached */
    bool stop_reached;             /* every partition reached its stop offset: stopping, exit 0 */
    int exit_code;
    /* Observability (workers/http.c, docs/operations.md "Watch: health, readiness and metrics"). */
    struct shop_wm metrics;        /* counted by the loop */
    struct worker_http *http;      /* the HTTP endpoint; NULL when SHOPSTREAM_WORKER_HTTP_PORT is off */
    const char *unready;           /* set by a role: why /readyz answers 503 (the ml standby: "standby") */
    int64_t outbox_depth;          /* set by a role with an outbox (its cron); < 0: none */
    struct worker_part *parts;     /* the assignment (kafka.c) */
    int n_parts, cap_parts;
    int paused_parts;              /* assigned partitions paused by worker_kafka_pause or the assignment */
    uint64_t pg_seen_ms;           /* uv_now when PostgreSQL last answered (a commit or the probe) */
};

/* kafka.c: the consumer mechanics (subscription, wake-up pipe, assignment, lag). */
/** The consumer's partition.assignment.strategy: eager (range, roundrobin) by default.
 *  The cooperative path (incremental assign/unassign) is built and passes the scaling
 *  tests, but measured worse with librdkafka 2.0.2 (bench/rebalance, docs/operations.md):
 *  its sticky assignor balances partition counts over all the subscribed topics, so a
 *  join moved every busy partition and took two or three rounds (2-4 s stalls where
 *  eager stalled 0.5 s), and partitions given in a round sometimes were not consumed for
 *  seconds (integration.inventory.burst 2 of 5 runs, a bench pass 8 s). So it is opt-in:
 *  SHOPSTREAM_KAFKA_PROPERTIES=partition.assignment.strategy=cooperative-sticky (every
 *  member of a group must then be restarted with it: librdkafka does not mix the two). */
#define WORKER_KAFKA_ASSIGNOR "range,roundrobin"
/** heartbeat.interval.ms (at most a third of the session timeout); workers/kafka.c. */
#define WORKER_KAFKA_HEARTBEAT_MS 1000
/** Times a batch's range runs again at once after a deadlock or a serialization failure
 *  (workers/core/pgerr.h, race) before it is handled as an outage (pause, back off). */
#define WORKER_PG_RACE_RETRIES 5
/** Kafka properties the worker sets itself; SHOPSTREAM_KAFKA_PROPERTIES may not name them. */
extern const struct shop_kafka_owned worker_kafka_owned[];
/** Pauses (pause true) or resumes every assigned partition: consumption stops while the
 *  consumer keeps being polled, so the group keeps the worker. */
void worker_kafka_pause(struct worker *w, bool pause);
/** Creates the consumer and subscribes to the role's topics (cfg->topics); rb is called
 *  on every rebalance. */
int worker_kafka_open(struct worker *w, const struct worker_rebalance *rb, struct shop_err *err);
void worker_kafka_commit_async(struct worker *w, const struct worker_batch *b);
/** Assigns the current assignment again at the positions position() sets, and resumes it:
 *  after a failed transaction, back to what PostgreSQL committed. */
int worker_kafka_reassign(struct worker *w,
                          int (*position)(struct worker *w, rd_kafka_topic_partition_list_t *parts,
                                          struct shop_err *err),
                          struct shop_err *err);
int64_t worker_kafka_lag(struct worker *w);
/** Lag per assigned partition (high watermark as last fetched - the next offset to
 *  consume), from librdkafka's cached values: no broker round trip. Fills out[0..max)
 *  with the partitions whose lag is known (topics borrowed from w->parts until the next
 *  rebalance); returns how many. */
size_t worker_kafka_lags(struct worker *w, struct shop_wm_lag *out, size_t max);
void worker_kafka_close(struct worker *w);
/** librdkafka's log and error callbacks for every client of the worker. */
void worker_kafka_set_log(rd_kafka_conf_t *conf);
int worker_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, struct shop_err *err);

/* dlq.c: the dead-letter producer. */
int worker_dlq_open(struct worker *w, struct shop_err *err);
int worker_dlq_produce(struct worker *w, const struct worker_rec *rec);
int worker_dlq_flush(struct worker *w, struct shop_err *err);
void worker_dlq_close(struct worker *w);

/* pg.c */
/** A connection with the worker's session settings (timeouts, keepalives) named app_name
 *  (pg_stat_activity; a DSN's own application_name wins); NULL and err on failure.
 *  worker_pg_connect opens w->conn with it ("shopstream-worker/<role>"); a role may keep
 *  its own. */
PGconn *worker_pg_open(const struct shop_worker_cfg *cfg, const char *app_name, struct shop_err *err);
int worker_pg_connect(struct worker *w, struct shop_err *err);
/** Records a failed statement's SQLSTATE and message in w (what the loop classifies and
 *  the dead-letter header carries) and err (name and detail). */
/** Checks res (from a statement on conn) against want: 0 with *out = res (or res cleared
 *  when out is NULL), or SHOP_EPG with res cleared and the failure noted in w and err. */
int worker_pg_result(struct worker *w, PGconn *conn, PGresult *res, const char *name, ExecStatusType want,
                     PGresult **out, struct shop_err *err);
void worker_pg_note_failure(struct worker *w, const PGresult *res, const char *name, const char *detail,
                            struct shop_err *err);
int worker_pg_exec(struct worker *w, const struct shop_sql_stmt *st, ExecStatusType want, PGresult **out,
                   struct shop_err *err);
/** Sends sts[0..n) (none a COPY) in one pipeline, one round trip, and reads every result.
 *  With last, the last statement is a query and *last gets its rows (the caller clears
 *  them). After the first failure the server skips the rest; that failure is in err and
 *  w->pg_sqlstate. 0, or SHOP_EPG (the connection is closed if the protocol state became
 *  unknown). */
int worker_pg_exec_pipeline(struct worker *w, const struct shop_sql_stmt *sts, int n, PGresult **last,
                            struct shop_err *err);
/** The on_assign of every role that commits its offsets in consumer_offsets with its
 *  effects: parts start at the group's stored next offsets (0 without a row). */
int worker_pg_read_offsets(struct worker *w, rd_kafka_topic_partition_list_t *parts, struct shop_err *err);
void worker_pg_rollback(struct worker *w);
void worker_pg_close(struct worker *w);

/* http.c: /healthz, /readyz, /metrics on the worker's loop (libh2o built for libuv). */
/** Starts the endpoint on w->loop when cfg->http_port is set (else w->http stays NULL):
 *  before anything else makes handles on the loop. 0, or SHOP_ECONFIG / SHOP_EIO. */
int worker_http_start(struct worker *w, struct shop_err *err);
/** Serves the endpoint for ms while a role waits before the consumer starts (the ml
 *  standby): 0, or SHOP_EINVAL when the endpoint is off (the caller sleeps instead). */
int worker_http_serve_for(struct worker *w, int64_t ms);
/** The cron's part: while the endpoint is on and the worker idle, probes PostgreSQL
 *  every few seconds, so /readyz sees an outage that no batch ran into. */
void worker_http_cron(struct worker *w);
/** Stops accepting and closes every connection (the loop then runs out). */
void worker_http_stop(struct worker *w);
/** After the loop ran out: h2o's context and configuration. */
void worker_http_free(struct worker *w);

/* loop.c */
int worker_flush(struct worker *w);
int worker_consume(struct worker *w, int64_t budget);
/** Runs role for cfg until SIGTERM/SIGINT or a fatal error; the exit code. */
int worker_run(const struct shop_worker_cfg *cfg, const struct worker_role *role);

/** Stops the worker for good without committing the open batch: the loop shuts down
 *  (the role's stop hook runs) and the process exits with exit_code. */
void worker_stop(struct worker *w, int exit_code);
/** A role's own write (outside apply) failed transiently: pause consumption and retry
 *  PostgreSQL with the backoff; the retry runs on_assign again before resuming. */
void worker_pg_failed(struct worker *w, const char *why);

int64_t worker_now_ms(void);

#endif
