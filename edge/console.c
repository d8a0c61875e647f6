/* SPDX-License-Identifier: MIT
 * The operations console: GET /console (the page, edge/console.html compiled in) and
 * GET /v1/admin/overview (its data, admin only). Shell.
 *
 * Nothing here blocks a loop thread: an overview is a task on the database pool
 * (edge_pg_submit). The pool thread asks the broker for the high watermarks with the
 * first producer's handle (rd_kafka_metadata and rd_kafka_query_watermark_offsets, each
 * bounded by CONSOLE_KAFKA_TIMEOUT_MS; the first failure skips the rest), runs the one
 * statement of edge/core/edge_console.c, and takes the dead letters from a cache that
 * one pool thread at a time refreshes every CONSOLE_DLQ_TTL_MS with a short-lived
 * consumer reading the newest records of <prefix>dlq.v1. The loop thread adds its own
 * counters and the ingest rate when the task comes back.
 */
#include "edge/edge.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "edge/core/edge_console.h"

#define CONSOLE_KAFKA_TIMEOUT_MS 1000
#define CONSOLE_DLQ_TTL_MS 5000
#define CONSOLE_DLQ_READ_MS 2000      /* reading the newest dead letters, at most */
#define CONSOLE_PARTITIONS_MAX 256    /* watermarks asked for, all topics */

struct edge_console {
    pthread_mutex_t mu;               /* rate; dlq_json, dlq_at_ms */
    struct shop_console_rate rate;
    char *dlq_json;                   /* malloc'd; NULL before the first read */
    int64_t dlq_at_ms;
    bool dlq_refreshing;              /* one pool thread reads the topic at a time */
};

struct console_job {
    struct edge_pg_task task;         /* first: the pool hands this back */
    struct edge_thread *t;
    h2o_req_t *req;                   /* NULL once the client went away */
    struct console_job **slot;        /* in req's pool: NULLs req when h2o frees it */
    int64_t threshold;
    bool db_ok;
    char *db_json;                    /* malloc'd, set by the pool thread */
    char *dlq_json;                   /* malloc'd copy of the cache */
    char kafka_error[160];
};

int edge_console_start(struct edge *e)
{
    struct edge_console *c = shop_xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    e->console = c;
    return 0;
}

void edge_console_stop(struct edge *e)
{
    if (e->console == NULL)
        return;
    free(e->console->dlq_json);
    pthread_mutex_destroy(&e->console->mu);
    free(e->console);
    e->console = NULL;
}

/* Any thread: a producer handle to ask the broker with (thread-safe calls only). */
static rd_kafka_t *any_rk(struct edge *e)
{
    for (int i = 0; i < e->n_threads; i++)
        if (e->threads[i].rk != NULL)
            return e->threads[i].rk;
    return NULL;
}

/* Pool thread: the partitions of topic and their watermarks appended to w. */
static int topic_watermarks(rd_kafka_t *rk, const char *topic, struct shop_console_watermark *w,
                            size_t *n, char *why, size_t why_cap)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t kerr = rd_kafka_metadata(rk, 0, rkt, &md, CONSOLE_KAFKA_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(why, why_cap, "metadata of %s: %s", topic, rd_kafka_err2str(kerr));
        return -1;
    }
    int rc = 0;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int p = 0; p < md->topics[0].partition_cnt && *n < CONSOLE_PARTITIONS_MAX; p++) {
            struct shop_console_watermark *x = &w[*n];
            kerr = rd_kafka_query_watermark_offsets(rk, topic, p, &x->low, &x->high,
                                                    CONSOLE_KAFKA_TIMEOUT_MS);
            if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(why, why_cap, "watermarks of %s/%d: %s", topic, p, rd_kafka_err2str(kerr));
                rc = -1;
                break;
            }
            x->topic = topic;
            x->partition = p;
            (*n)++;
        }
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

/* Pool thread: each role's group and topics into subs, and the watermarks of every
 * topic some role consumes into w. Returns how many subs; *n_w the watermarks. */
static size_t gather(struct edge *e, struct shop_console_sub *subs, struct shop_console_watermark *w,
                     size_t *n_w, char *why, size_t why_cap)
{
    const char (*topics)[SHOP_TOPIC_NAME_MAX] = (const char (*)[SHOP_TOPIC_NAME_MAX])e->threads[0].topics;
    bool consumed[SHOP_STREAM_COUNT] = {false};
    size_t n = 0;
    for (int r = 0; r < SHOP_WORKER_ROLE_COUNT; r++) {
        const struct shop_role_desc *d = shop_role_desc((enum shop_worker_role)r);
        if (d == NULL || e->cfg->read_groups[r] == NULL)
            continue;   /* a role the edge knows no group of */
        for (int s = 0; s < d->n_streams; s++) {
            subs[n++] = (struct shop_console_sub){d->name, e->cfg->read_groups[r], topics[d->streams[s]]};
            consumed[d->streams[s]] = true;
        }
    }
    *n_w = 0;
    rd_kafka_t *rk = any_rk(e);
    if (rk == NULL) {
        snprintf(why, why_cap, "no producer to ask the broker with");
        return n;
    }
    for (int s = 0; s < SHOP_STREAM_COUNT; s++)
        if (consumed[s] && topic_watermarks(rk, topics[s], w, n_w, why, why_cap) != 0)
            break;
    return n;
}

static const char *header(rd_kafka_headers_t *hdrs, const char *name, struct shop_arena *a)
{
    const void *v;
    size_t len;
    if (hdrs == NULL || rd_kafka_header_get_last(hdrs, name, &v, &len) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        v == NULL)
        return NULL;
    return shop_arena_strndup(a, v, len);
}

static void take_letter(rd_kafka_message_t *rkm, struct shop_console_dead_letter *d, struct shop_arena *a)
{
    rd_kafka_headers_t *hdrs = NULL;
    rd_kafka_timestamp_type_t tt;
    rd_kafka_message_headers(rkm, &hdrs);
    d->partition = rkm->partition;
    d->offset = rkm->offset;
    d->timestamp_ms = rd_kafka_message_timestamp(rkm, &tt);
    d->error = header(hdrs, "x-shopstream-error", a);
    d->sqlstate = header(hdrs, "x-shopstream-sqlstate", a);
    d->source_topic = header(hdrs, "x-shopstream-topic", a);
    d->source_partition = header(hdrs, "x-shopstream-partition", a);
    d->source_offset = header(hdrs, "x-shopstream-offset", a);
    d->group = header(hdrs, "x-shopstream-consumer-group", a);
}

/* Pool thread: a consumer of its own, no group membership (assign only). */
static rd_kafka_t *dlq_consumer(struct edge *e, char *why, size_t why_cap)
{
    struct shop_err err = {0};
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", e->cfg->kafka_brokers, errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "group.id", "shopstream-edge-console", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr)) ||
        rd_kafka_conf_set(conf, "client.id", "shopstream-edge-console", errstr, sizeof(errstr)) ||
        shop_kafka_conf_apply(conf, e->cfg->kafka_props, &err) != 0) {
        snprintf(why, why_cap, "consumer configuration: %.120s", err.msg[0] ? err.msg : errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);    /* rd_kafka_new() frees conf only on success */
        snprintf(why, why_cap, "could not create consumer: %.120s", errstr);
    }
    return rk;
}

/* Pool thread: assigns each partition at its newest SHOP_CONSOLE_DLQ_MAX records and reads
 * up to the high watermarks it saw; q->letters in a. */
static int dlq_read_topic(rd_kafka_t *rk, struct shop_console_dlq *q, struct shop_arena *a,
                          char *why, size_t why_cap)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, q->topic, NULL);
    rd_kafka_resp_err_t kerr = rd_kafka_metadata(rk, 0, rkt, &md, CONSOLE_KAFKA_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(why, why_cap, "metadata of %s: %s", q->topic, rd_kafka_err2str(kerr));
        return -1;
    }
    int n_parts = md->topic_cnt == 1 && md->topics[0].err == 0 ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);   /* no topic yet: no dead letter yet */
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n_parts > 0 ? n_parts : 1);
    int waiting = 0, rc = 0;
    for (int p = 0; p < n_parts; p++) {
        int64_t lo, hi;
        kerr = rd_kafka_query_watermark_offsets(rk, q->topic, p, &lo, &hi, CONSOLE_KAFKA_TIMEOUT_MS);
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(why, why_cap, "watermarks of %s/%d: %s", q->topic, p, rd_kafka_err2str(kerr));
            rc = -1;
            goto out_destroy_list;
        }
        q->total += hi - lo;
        if (hi > lo) {
            int64_t from = hi - lo > SHOP_CONSOLE_DLQ_MAX ? hi - SHOP_CONSOLE_DLQ_MAX : lo;
            rd_kafka_topic_partition_list_add(list, q->topic, p)->offset = from;
            waiting++;
        }
    }
    struct shop_console_dead_letter *letters =
        shop_arena_alloc(a, (size_t)(waiting + 1) * SHOP_CONSOLE_DLQ_MAX * sizeof(*letters));
    size_t n = 0, cap = (size_t)waiting * SHOP_CONSOLE_DLQ_MAX;
    if (waiting > 0 && rd_kafka_assign(rk, list) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(why, why_cap, "could not assign %s", q->topic);
        rc = -1;
        goto out_destroy_list;
    }
    int64_t deadline_us = edge_mono_us() + CONSOLE_DLQ_READ_MS * 1000;
    /* Partition EOFs tell when each partition is read to its end. */
    while (waiting > 0 && edge_mono_us() < deadline_us) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (rkm == NULL)
            continue;
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            waiting--;
        else if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR && n < cap)
            take_letter(rkm, &letters[n++], a);
        rd_kafka_message_destroy(rkm);
    }
    q->letters = letters;
    q->n_letters = shop_console_dlq_newest(letters, n, SHOP_CONSOLE_DLQ_MAX);
out_destroy_list:
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

/* Pool thread: the dead-letter part, read from the broker now. Malloc'd JSON. */
static char *dlq_read(struct edge *e)
{
    char topic[SHOP_TOPIC_NAME_MAX], why[200] = "";
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_console_dlq q = {.topic = topic, .read_at_ms = edge_now_ms()};
    shop_topic_dlq_name(topic, sizeof(topic), e->cfg->topic_prefix);
    rd_kafka_t *rk = dlq_consumer(e, why, sizeof(why));
    q.ok = rk != NULL && dlq_read_topic(rk, &q, &arena, why, sizeof(why)) == 0;
    if (!q.ok) {
        SHOP_LOG(SHOP_LOG_WARN, "edge", "could not read the dead letters", "topic=%s err=\"%s\"",
                 topic, why);
        q.error = why;
    }
    char *json = shop_console_dlq_json(&q);
    if (rk != NULL) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    shop_arena_fini(&arena);
    return json;
}

/* Pool thread: the cached dead letters (a copy), refreshed first when stale and no other
 * thread refreshes them; a thread that finds a refresh under way takes the old copy. */
static char *dlq_cached(struct edge *e)
{
    struct edge_console *c = e->console;
    int64_t now = edge_now_ms();
    pthread_mutex_lock(&c->mu);
    bool refresh = !c->dlq_refreshing && (c->dlq_json == NULL || now - c->dlq_at_ms >= CONSOLE_DLQ_TTL_MS);
    if (refresh)
        c->dlq_refreshing = true;
    pthread_mutex_unlock(&c->mu);
    if (refresh) {
        char *json = dlq_read(e);
        pthread_mutex_lock(&c->mu);
        free(c->dlq_json);
        c->dlq_json = json;
        c->dlq_at_ms = now;
        c->dlq_refreshing = false;
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_lock(&c->mu);
    char *copy = c->dlq_json != NULL ? shop_xstrdup(c->dlq_json) : NULL;
    pthread_mutex_unlock(&c->mu);
    return copy != NULL ? copy
                        : shop_xstrdup("{\"topic\":\"\",\"total\":null,\"read_at\":0,"
                                       "\"error\":\"being read\",\"letters\":[]}");
}

/* Pool thread. */
static void run_overview(struct edge_pg_task *task, struct edge *e, PGconn **conn)
{
    struct console_job *job = (struct console_job *)task;
    struct shop_console_sub subs[SHOP_WORKER_ROLE_COUNT * SHOP_STREAM_COUNT];
    struct shop_console_watermark *w = shop_xcalloc(CONSOLE_PARTITIONS_MAX, sizeof(*w));
    size_t n_w;
    size_t n_subs = gather(e, subs, w, &n_w, job->kafka_error, sizeof(job->kafka_error));
    job->dlq_json = dlq_cached(e);
    if (*conn == NULL && (*conn = edge_pg_connect(e)) == NULL)
        goto out_free;
    struct shop_arena arena = SHOP_ARENA_INIT;
    const char *params[SHOP_CONSOLE_SQL_PARAMS];
    shop_console_params(job->threshold, w, n_w, subs, n_subs, &arena, params);
    PGresult *res = PQexecParams(*conn, shop_console_sql, SHOP_CONSOLE_SQL_PARAMS, NULL, params,
                                 NULL, NULL, 0);
    shop_arena_fini(&arena);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        job->db_json = shop_xstrdup(PQgetvalue(res, 0, 0));
        job->db_ok = true;
    } else {
        char line[200];
        SHOP_LOG(SHOP_LOG_WARN, "edge", "console query failed", "err=\"%s\"",
                 edge_pg_first_line(PQresultErrorMessage(res), line, sizeof(line)));
        if (PQstatus(*conn) != CONNECTION_OK) {
            PQfinish(*conn);
            *conn = NULL;
        }
    }
    PQclear(res);
out_free:
    free(w);
}

static void job_free(struct console_job *job)
{
    if (job->req != NULL)
        *job->slot = NULL;
    free(job->db_json);
    free(job->dlq_json);
    free(job);
}

/* Loop thread: the body from the task's parts and this moment's counters. */
static void answer(struct console_job *job)
{
    struct edge_thread *t = job->t;
    struct edge *e = t->edge;
    struct shop_edge_metrics_snap snap;
    shop_edge_metrics_snapshot(&e->metrics, &snap);
    struct shop_console_parts p = {.now_ms = edge_now_ms(), .db_json = job->db_json,
                                   .kafka_error = job->kafka_error[0] ? job->kafka_error : NULL,
                                   .snap = &snap, .dlq_json = job->dlq_json};
    pthread_mutex_lock(&e->console->mu);
    shop_console_rate_update(&e->console->rate, p.now_ms, shop_console_events_total(&snap),
                             &p.rate_per_s, &p.rate_interval_ms);
    pthread_mutex_unlock(&e->console->mu);
    char *json;
    if (shop_console_overview_json(&p, &json) != 0) {
        edge_problem(t, job->req, SHOP_ROUTE_OVERVIEW, 503, -1, "", "console data unavailable", NULL);
        return;
    }
    char *body = h2o_mem_alloc_pool(&job->req->pool, strlen(json) + 1);
    memcpy(body, json, strlen(json) + 1);
    free(json);
    edge_respond(t, job->req, SHOP_ROUTE_OVERVIEW, 200, "application/json", body, strlen(body));
}

/* Loop thread: the task came back (ran), or did not start in time. */
static void on_overview_done(struct edge_pg_task *task, bool ran)
{
    struct console_job *job = (struct console_job *)task;
    h2o_req_t *req = job->req;
    if (req != NULL) {
        *job->slot = NULL;   /* answered now: h2o's dispose must not reach the job */
        if (!ran)
            edge_problem(job->t, req, SHOP_ROUTE_OVERVIEW, 503, -1, "", "read could not start in time", NULL);
        else if (!job->db_ok)
            edge_problem(job->t, req, SHOP_ROUTE_OVERVIEW, 503, -1, "", "database query failed", NULL);
        else
            answer(job);
        job->req = NULL;
    }
    job_free(job);
}

/* Loop thread: h2o frees the request; the task, queued or running, comes back anyway. */
static void on_req_dispose(void *p)
{
    struct console_job **slot = p;
    if (*slot != NULL)
        (*slot)->req = NULL;
}

/* Loop thread: GET /v1/admin/overview. */
void edge_console_overview(struct edge_thread *t, h2o_req_t *req, const struct shop_edge_match *m)
{
    struct shop_jwt_claims claims = {0};
    if (edge_authenticate(t, req, SHOP_ROUTE_OVERVIEW, &claims) != 0)
        return;
    struct shop_err err = {0};
    const char *field;
    int64_t threshold;
    int rc = shop_console_init(claims.admin, m, &threshold, &field, &err);
    if (rc != 0) {
        edge_problem(t, req, SHOP_ROUTE_OVERVIEW, rc == SHOP_EFORBIDDEN ? 403 : 400, -1, field, err.msg, NULL);
        return;
    }
    struct console_job *job = shop_xcalloc(1, sizeof(*job));
    job->task.run = run_overview;
    job->task.done = on_overview_done;
    job->t = t;
    job->threshold = threshold;
    if (edge_pg_submit(t, &job->task) != 0) {
        free(job);
        edge_problem(t, req, SHOP_ROUTE_OVERVIEW, 503, -1, "", "too many reads queued", NULL);
        return;
    }
    job->req = req;
    job->slot = h2o_mem_alloc_shared(&req->pool, sizeof(*job->slot), on_req_dispose);
    *job->slot = job;
}

/* Loop thread: GET /console. The page holds no data (every number comes from the
 * overview, which needs an admin token), so it is served without one. */
void edge_console_page(struct edge_thread *t, h2o_req_t *req)
{
    static const char csp[] = "default-src 'none'; script-src 'unsafe-inline'; "
                              "style-src 'unsafe-inline'; connect-src 'self'; img-src data:; "
                              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0,
                          NULL, csp, sizeof(csp) - 1);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0,
                          NULL, H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("no-referrer"));
    edge_respond(t, req, SHOP_ROUTE_CONSOLE, 200, "text/html; charset=utf-8", edge_console_html,
                 edge_console_html_len);
}
