/* SPDX-License-Identifier: MIT
 * What shopstream-bench-pipeline watches while it offers load: the projector's lag
 * (its offsets in PostgreSQL's consumer_offsets against the topics' high watermarks),
 * when sampled events become visible in the read model (a probe's row in `products`),
 * and the CPU time of the processes under test (/proc). Two sampler threads (lag;
 * probes), each with its own PostgreSQL connection, do the polling, so that the HTTP loop
 * is never blocked by it. Shell.
 */
#ifndef SHOP_PIPE_WATCH_H
#define SHOP_PIPE_WATCH_H

#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/shop_err.h"
#include "proto/core/event_topic.h"
#include "bench/pipeline/pipe_judge.h"

/* ---- lag --------------------------------------------------------------------- */

#define PIPE_TOPICS SHOP_STREAM_COUNT   /* room for the projector's streams (workers/core/roles.c) */
#define PIPE_PARTS_MAX 64

struct pipe_lag {
    PGconn *conn;
    rd_kafka_t *rk;
    const char *group;
    int n_topics;                  /* the projector's streams' topics */
    char topics[PIPE_TOPICS][SHOP_TOPIC_NAME_MAX];
    int parts[PIPE_TOPICS];
};

/** Connects to dsn and brokers and reads the partition counts of the projector's topics. */
int pipe_lag_open(struct pipe_lag *l, const char *dsn, const char *brokers, const char *prefix, const char *group,
                  struct shop_err *err);
void pipe_lag_close(struct pipe_lag *l);

/** Records in the topics that the group has not committed in PostgreSQL (sum over partitions
 *  of high watermark - max(next_offset, low watermark)); *end gets the sum of high watermarks. */
int pipe_lag_read(struct pipe_lag *l, int64_t *lag, int64_t *end, struct shop_err *err);

/* ---- probes ------------------------------------------------------------------ */

struct pipe_probe {
    char product[48];
    double t_sent, t_202, t_seen;  /* monotonic seconds; 0 = not yet */
    int failed;                    /* its request was not answered 202 */
};

/* ---- the sampler ------------------------------------------------------------- */

struct pipe_watch {
    struct pipe_lag lag;
    PGconn *probe_conn;
    double poll_s;                 /* probe poll period */
    pthread_t thread, probe_thread;
    pthread_mutex_t mu;
    int stop, running;
    /* guarded by mu */
    struct pipe_lag_sample *samples;   /* t_s: monotonic seconds */
    size_t n_samples, cap_samples;
    struct pipe_probe *probes;
    size_t n_probes, cap_probes, first_open;
    char err[SHOP_ERR_MSG_MAX];
};

int pipe_watch_start(struct pipe_watch *w, const char *dsn, const char *brokers, const char *prefix,
                     const char *group, double poll_s, struct shop_err *err);
void pipe_watch_stop(struct pipe_watch *w);

/** Registers a probe (called when its request is sent); returns its index. */
size_t pipe_watch_probe_add(struct pipe_watch *w, const char *product, double t_sent);
/** Its request was answered: 202 (ok) or not. */
void pipe_watch_probe_done(struct pipe_watch *w, size_t i, double t, int ok);

/** Copies the lag samples taken in [t0, t1] into out (t_s made relative to t0); returns the count. */
size_t pipe_watch_samples(struct pipe_watch *w, double t0, double t1, struct pipe_lag_sample **out);

/** Freshness (202 -> visible, ms; 0 when already visible at the 202) of probes [from, to), into
 *  *out (malloc'd); *unseen counts answered probes not visible (yet). Returns the count. */
size_t pipe_watch_freshness(struct pipe_watch *w, size_t from, size_t to, double **out, size_t *unseen);
size_t pipe_watch_n_probes(struct pipe_watch *w);
/** Probes in [from, to) answered 202 and not visible yet. */
size_t pipe_watch_unseen(struct pipe_watch *w, size_t from, size_t to);

/* ---- CPU --------------------------------------------------------------------- */

/** Busy and total CPU seconds of the whole machine since boot (/proc/stat, all cores). */
int pipe_cpu_machine(double *busy, double *total);

double pipe_now_s(void);

#endif
