/* SPDX-License-Identifier: MIT
 * Lag, probe visibility and CPU readings for shopstream-bench-pipeline. Shell. */
#define _GNU_SOURCE
#include "bench/pipeline/pipe_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/shop_arena.h"
#include "base/shop_log.h"
#include "proto/core/event_topic.h"
#include "workers/core/roles.h"

double pipe_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- lag --------------------------------------------------------------------- */

int pipe_lag_open(struct pipe_lag *l, const char *dsn, const char *brokers, const char *prefix, const char *group,
                  struct shop_err *err)
{
    *l = (struct pipe_lag){.group = group};
    l->conn = PQconnectdb(dsn);
    if (PQstatus(l->conn) != CONNECTION_OK)
        return shop_err_set(err, SHOP_EPG, "could not connect: %s", PQerrorMessage(l->conn));
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return shop_err_set(err, SHOP_ECONFIG, "brokers: %s", errstr);
    }
    l->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (l->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return shop_err_set(err, SHOP_EKAFKA, "kafka client: %s", errstr);
    }
    const struct shop_role_desc *projector = shop_role_desc(SHOP_WORKER_PROJECTOR);
    l->n_topics = projector->n_streams;
    for (int t = 0; t < l->n_topics; t++) {
        shop_topic_name(l->topics[t], sizeof(l->topics[t]), prefix, projector->streams[t]);
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(l->rk, l->topics[t], NULL);
        rd_kafka_resp_err_t e = rd_kafka_metadata(l->rk, 0, rkt, &md, 10000);
        rd_kafka_topic_destroy(rkt);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            return shop_err_set(err, SHOP_EKAFKA, "metadata of %s: %s", l->topics[t], rd_kafka_err2str(e));
        int bad = md->topic_cnt != 1 || md->topics[0].err != 0 || md->topics[0].partition_cnt < 1;
        l->parts[t] = bad ? 0 : md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        if (bad || l->parts[t] > PIPE_PARTS_MAX)
            return shop_err_set(err, SHOP_EKAFKA, "topic %s is missing or has too many partitions", l->topics[t]);
    }
    return 0;
}

void pipe_lag_close(struct pipe_lag *l)
{
    if (l->conn != NULL)
        PQfinish(l->conn);
    if (l->rk != NULL)
        rd_kafka_destroy(l->rk);
    *l = (struct pipe_lag){0};
}

int pipe_lag_read(struct pipe_lag *l, int64_t *lag, int64_t *end, struct shop_err *err)
{
    int64_t lo[PIPE_TOPICS][PIPE_PARTS_MAX], hi[PIPE_TOPICS][PIPE_PARTS_MAX], next[PIPE_TOPICS][PIPE_PARTS_MAX];
    memset(next, 0, sizeof(next));
    /* Watermarks first: what was committed a moment later can only be more, never a
     * record that was not in the topic yet. */
    for (int t = 0; t < l->n_topics; t++)
        for (int p = 0; p < l->parts[t]; p++) {
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(l->rk, l->topics[t], p, &lo[t][p], &hi[t][p],
                                                                     5000);
            if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
                return shop_err_set(err, SHOP_EKAFKA, "watermarks of %s/%d: %s", l->topics[t], p,
                                    rd_kafka_err2str(e));
        }
    const char *params[1] = {l->group};
    PGresult *res = PQexecParams(l->conn, "select topic, partition, next_offset from consumer_offsets "
                                          "where consumer_group = $1", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        shop_err_set(err, SHOP_EPG, "consumer_offsets: %s", PQresultErrorMessage(res));
        PQclear(res);
        return SHOP_EPG;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        int p = atoi(PQgetvalue(res, r, 1));
        for (int t = 0; t < l->n_topics; t++)
            if (p >= 0 && p < l->parts[t] && strcmp(PQgetvalue(res, r, 0), l->topics[t]) == 0)
                next[t][p] = strtoll(PQgetvalue(res, r, 2), NULL, 10);
    }
    PQclear(res);
    *lag = 0;
    *end = 0;
    for (int t = 0; t < l->n_topics; t++)
        for (int p = 0; p < l->parts[t]; p++) {
            int64_t from = next[t][p] > lo[t][p] ? next[t][p] : lo[t][p];
            *lag += hi[t][p] > from ? hi[t][p] - from : 0;
            *end += hi[t][p];
        }
    return 0;
}

/* ---- the sampler ------------------------------------------------------------- */

/* Sampler thread: the probes still open (answered or not, not visible) in one query by
 * primary key; their visibility time is when the answer arrived (an upper bound). */
static void poll_probes(struct pipe_watch *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->first_open < w->n_probes && (w->probes[w->first_open].t_seen > 0 || w->probes[w->first_open].failed))
        w->first_open++;
    size_t from = w->first_open, to = w->n_probes, len = 2;
    for (size_t i = from; i < to; i++)
        len += strlen(w->probes[i].product) + 1;
    char *arr = shop_xcalloc(len + 1, 1);
    size_t n = 0, k = 0;
    arr[n++] = '{';
    for (size_t i = from; i < to; i++) {
        if (w->probes[i].t_seen > 0 || w->probes[i].failed)
            continue;
        n += (size_t)sprintf(arr + n, "%s%s", k++ > 0 ? "," : "", w->probes[i].product);
    }
    arr[n++] = '}';
    pthread_mutex_unlock(&w->mu);
    if (k == 0) {
        free(arr);
        return;
    }
    const char *params[1] = {arr};
    PGresult *res = PQexecParams(w->probe_conn, "select product_id from products where product_id = any($1::text[])",
                                 1, NULL, params, NULL, NULL, 0);
    double now = pipe_now_s();
    free(arr);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pthread_mutex_lock(&w->mu);
        snprintf(w->err, sizeof(w->err), "probe poll: %s", PQresultErrorMessage(res));
        pthread_mutex_unlock(&w->mu);
        PQclear(res);
        return;
    }
    pthread_mutex_lock(&w->mu);
    for (int r = 0; r < PQntuples(res); r++) {
        const char *prod = PQgetvalue(res, r, 0);
        for (size_t i = from; i < to; i++)
            if (w->probes[i].t_seen <= 0 && strcmp(w->probes[i].product, prod) == 0) {
                w->probes[i].t_seen = now;
                break;
            }
    }
    pthread_mutex_unlock(&w->mu);
    PQclear(res);
}

#define LAG_EVERY_S 0.2

static int stopping(struct pipe_watch *w)
{
    pthread_mutex_lock(&w->mu);
    int stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

/* Lag thread: one reading every LAG_EVERY_S. */
static void *lag_sampler(void *arg)
{
    struct pipe_watch *w = arg;
    while (!stopping(w)) {
        double now = pipe_now_s();
        int64_t lag, end;
        struct shop_err err = {0};
        int rc = pipe_lag_read(&w->lag, &lag, &end, &err);
        pthread_mutex_lock(&w->mu);
        if (rc == 0) {
            if (w->n_samples == w->cap_samples) {
                w->cap_samples = w->cap_samples ? w->cap_samples * 2 : 1024;
                w->samples = shop_xrealloc(w->samples, w->cap_samples * sizeof(*w->samples));
            }
            /* The middle of the reading: watermarks and offsets take a few round trips. */
            w->samples[w->n_samples++] = (struct pipe_lag_sample){.t_s = (now + pipe_now_s()) / 2, .lag = lag};
        } else {
            snprintf(w->err, sizeof(w->err), "%s", err.msg);
        }
        pthread_mutex_unlock(&w->mu);
        double left = LAG_EVERY_S - (pipe_now_s() - now);
        if (left > 0)
            usleep((useconds_t)(left * 1e6));
    }
    return NULL;
}

/* Probe thread: a query every poll_s, on a connection of its own. */
static void *probe_sampler(void *arg)
{
    struct pipe_watch *w = arg;
    while (!stopping(w)) {
        double now = pipe_now_s();
        poll_probes(w);
        double left = w->poll_s - (pipe_now_s() - now);
        if (left > 0)
            usleep((useconds_t)(left * 1e6));
    }
    return NULL;
}

int pipe_watch_start(struct pipe_watch *w, const char *dsn, const char *brokers, const char *prefix,
                     const char *group, double poll_s, struct shop_err *err)
{
    *w = (struct pipe_watch){.poll_s = poll_s};
    pthread_mutex_init(&w->mu, NULL);
    int rc = pipe_lag_open(&w->lag, dsn, brokers, prefix, group, err);
    if (rc != 0)
        return rc;
    w->probe_conn = PQconnectdb(dsn);
    if (PQstatus(w->probe_conn) != CONNECTION_OK)
        return shop_err_set(err, SHOP_EPG, "could not connect: %s", PQerrorMessage(w->probe_conn));
    if (pthread_create(&w->thread, NULL, lag_sampler, w) != 0)
        return shop_err_set(err, SHOP_EIO, "could not start the lag thread");
    w->running = 1;
    if (pthread_create(&w->probe_thread, NULL, probe_sampler, w) != 0)
        return shop_err_set(err, SHOP_EIO, "could not start the probe thread");
    w->running = 2;
    return 0;
}

void pipe_watch_stop(struct pipe_watch *w)
{
    if (w->running) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        if (w->running == 2)
            pthread_join(w->probe_thread, NULL);
        w->running = 0;
    }
    pipe_lag_close(&w->lag);
    if (w->probe_conn != NULL)
        PQfinish(w->probe_conn);
    w->probe_conn = NULL;
    free(w->samples);
    free(w->probes);
    w->samples = NULL;
    w->probes = NULL;
    pthread_mutex_destroy(&w->mu);
}

size_t pipe_watch_probe_add(struct pipe_watch *w, const char *product, double t_sent)
{
    pthread_mutex_lock(&w->mu);
    if (w->n_probes == w->cap_probes) {
        w->cap_probes = w->cap_probes ? w->cap_probes * 2 : 1024;
        w->probes = shop_xrealloc(w->probes, w->cap_probes * sizeof(*w->probes));
    }
    size_t i = w->n_probes++;
    w->probes[i] = (struct pipe_probe){.t_sent = t_sent};
    snprintf(w->probes[i].product, sizeof(w->probes[i].product), "%s", product);
    pthread_mutex_unlock(&w->mu);
    return i;
}

void pipe_watch_probe_done(struct pipe_watch *w, size_t i, double t, int ok)
{
    pthread_mutex_lock(&w->mu);
    if (ok)
        w->probes[i].t_202 = t;
    else
        w->probes[i].failed = 1;
    pthread_mutex_unlock(&w->mu);
}

size_t pipe_watch_samples(struct pipe_watch *w, double t0, double t1, struct pipe_lag_sample **out)
{
    pthread_mutex_lock(&w->mu);
    *out = shop_xcalloc(w->n_samples + 1, sizeof(**out));
    size_t n = 0;
    for (size_t i = 0; i < w->n_samples; i++)
        if (w->samples[i].t_s >= t0 && w->samples[i].t_s <= t1)
            (*out)[n++] = (struct pipe_lag_sample){.t_s = w->samples[i].t_s - t0, .lag = w->samples[i].lag};
    pthread_mutex_unlock(&w->mu);
    return n;
}

size_t pipe_watch_freshness(struct pipe_watch *w, size_t from, size_t to, double **out, size_t *unseen)
{
    pthread_mutex_lock(&w->mu);
    if (to > w->n_probes)
        to = w->n_probes;
    *out = shop_xcalloc(to - from + 1, sizeof(**out));
    size_t n = 0;
    *unseen = 0;
    for (size_t i = from; i < to; i++) {
        const struct pipe_probe *p = &w->probes[i];
        if (p->failed || p->t_202 <= 0)
            continue;
        if (p->t_seen <= 0) {
            (*unseen)++;
            continue;
        }
        (*out)[n++] = p->t_seen > p->t_202 ? (p->t_seen - p->t_202) * 1000 : 0;
    }
    pthread_mutex_unlock(&w->mu);
    return n;
}

size_t pipe_watch_n_probes(struct pipe_watch *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->n_probes;
    pthread_mutex_unlock(&w->mu);
    return n;
}

size_t pipe_watch_unseen(struct pipe_watch *w, size_t from, size_t to)
{
    pthread_mutex_lock(&w->mu);
    size_t n = 0;
    for (size_t i = from; i < to && i < w->n_probes; i++)
        n += !w->probes[i].failed && w->probes[i].t_seen <= 0;
    pthread_mutex_unlock(&w->mu);
    return n;
}

/* ---- CPU --------------------------------------------------------------------- */

int pipe_cpu_machine(double *busy, double *total)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]);
    fclose(f);
    if (n < 4)
        return -1;
    double tick = (double)sysconf(_SC_CLK_TCK), all = 0;
    for (int i = 0; i < 8; i++)
        all += (double)v[i];
    *total = all / tick;
    *busy = (all - (double)v[3] - (double)v[4]) / tick;
    return 0;
}
