/* SPDX-License-Identifier: MIT
 * Raw producer for the benchmarks: proto/core for the records, librdkafka
 * alone for the sending. Shell. Main thread only: delivery reports run inside
 * rd_kafka_poll()/rd_kafka_flush() on the calling thread.
 */
#define _GNU_SOURCE
#include "bench/ingest/bench_produce.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uuid/uuid.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "edge/core/edge_authz.h"
#include "proto/core/event_topic.h"

/* User+system CPU of the whole process, every thread included. */
static double process_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_msgs_init(struct bench_msgs *m)
{
    memset(m, 0, sizeof(*m));
}

void bench_msgs_fini(struct bench_msgs *m)
{
    free(m->v);
    shop_arena_fini(&m->arena);
    memset(m, 0, sizeof(*m));
}

static struct bench_msg *msgs_push(struct bench_msgs *m)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 1024;
        m->v = shop_xrealloc(m->v, m->cap * sizeof(*m->v));
    }
    struct bench_msg *msg = &m->v[m->n++];
    memset(msg, 0, sizeof(*msg));
    msg->partition = -1;
    msg->offset = -1;
    return msg;
}

/* What the edge's produce_one() does to one checked event, minus the sending. */
static void msg_pack(struct bench_msgs *m, Shopstream__V1__Event *ev)
{
    struct bench_msg *msg = msgs_push(m);
    size_t len = shopstream__v1__event__get_packed_size(ev);
    uint8_t *buf = shop_arena_alloc(&m->arena, len + 1);
    shopstream__v1__event__pack(ev, buf);
    msg->ev = ev;
    msg->stream = shop_event_stream(ev);
    msg->key = shop_event_key(ev);
    msg->value = buf;
    msg->len = len;
    msg->n_hdrs = shop_event_ce_headers(ev, NULL, &m->arena, msg->hdrs);
    m->bytes += len;
}

int bench_msgs_add_json(struct bench_msgs *m, const char *body, const char *subject, unsigned roles,
                        int64_t received_at_ms, struct shop_err *err)
{
    Shopstream__V1__Event **events;
    size_t n;
    struct shop_problem p = {.index = -1};
    if (shop_event_batch_from_json(body, strlen(body), NULL, &m->arena, &events, &n, &p) != 0)
        return shop_err_set(err, SHOP_EINVAL, "body: event %d field %s: %s", p.index, p.field, p.detail);
    for (size_t i = 0; i < n; i++) {
        uuid_t u;
        char uuid_text[37];
        uuid_generate_random(u);
        uuid_unparse_lower(u, uuid_text);
        struct shop_authz_ctx c = {.roles = roles, .sub = subject, .uuid_text = uuid_text,
                                   .now_ms = received_at_ms, .source = "shopstream-edge"};
        struct shop_authz_grant g;
        if (shop_authz_admit(events[i], (int)i, &c, &m->arena, &g, &p) != 0)
            return shop_err_set(err, SHOP_EINVAL, "event %zu field %s: %s", i, p.field, p.detail);
        msg_pack(m, events[i]);
    }
    return 0;
}

/* ---- producing ------------------------------------------------------------- */

struct run {
    struct bench_msgs *m;
    double *sent_s;                     /* per record, when it was handed to librdkafka */
    size_t warmup;
    struct bench_produce_result *r;
    size_t reported;
    double last_report_s;
    rd_kafka_resp_err_t first_err;
};

/* Inside rd_kafka_poll()/rd_kafka_flush(), on the calling thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct run *run = opaque;
    size_t i = (size_t)(uintptr_t)rkm->_private;
    double now = bench_now_s();
    run->reported++;
    run->last_report_s = now;
    if (rkm->err != 0) {
        if (run->r->failed++ == 0)
            run->first_err = rkm->err;
        return;
    }
    run->m->v[i].partition = rkm->partition;
    run->m->v[i].offset = rkm->offset;
    run->r->delivered++;
    if (i >= run->warmup) {
        double us = (now - run->sent_s[i]) * 1e6;
        run->r->lat_us[run->r->n_lat++] = us > 4e9 ? 4000000000u : (uint32_t)us;
    }
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum shop_log_level l = level <= 3 ? SHOP_LOG_ERROR : level <= 5 ? SHOP_LOG_WARN : SHOP_LOG_DEBUG;
    SHOP_LOG(l, "rdkafka", "librdkafka log", "client=%s fac=%s text=\"%s\"", rd_kafka_name(rk), fac, buf);
}

const struct shop_kafka_props *bench_kafka_props(void)
{
    /* What the bench measures is the edge's producer: those settings stay. */
    static const struct shop_kafka_owned owned[] = {
        {"bootstrap.servers", "use --brokers or SHOPSTREAM_KAFKA_BROKERS"},
        {"metadata.broker.list", "use --brokers or SHOPSTREAM_KAFKA_BROKERS"},
        {"acks", "the bench produces as the edge does (acks=all)"},
        {"request.required.acks", "the bench produces as the edge does (acks=all)"},
        {"enable.idempotence", "the bench produces as the edge does (idempotent)"},
        {NULL, NULL},
    };
    static struct shop_kafka_props props;
    static int loaded;
    if (!loaded) {
        struct shop_cfg_errs errs = {0};
        if (shop_kafka_props_load(&props, shop_cfg_getenv, owned, &errs) != 0) {
            for (int i = 0; i < errs.count; i++)
                SHOP_LOG(SHOP_LOG_FATAL, "bench", "bad configuration", "err=\"%s\"", errs.msg[i]);
            exit(2);
        }
        loaded = 1;
    }
    return &props;
}

/* The edge's producer settings (edge/kafka.c), so the only difference is HTTP and the edge. */
static rd_kafka_t *producer_new(const char *brokers, struct run *run, struct shop_err *err)
{
    const char *kv[][2] = {
        {"bootstrap.servers", brokers},
        {"client.id", "shopstream-bench"},
        {"acks", "all"},
        {"enable.idempotence", "true"},
        {"linger.ms", "2"},
        {"message.timeout.ms", "60000"},
        {"reconnect.backoff.max.ms", "1000"},
    };
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            shop_err_set(err, SHOP_ECONFIG, "kafka config %s=%s: %s", kv[i][0], kv[i][1], errstr);
            return NULL;
        }
    }
    if (shop_kafka_conf_apply(conf, bench_kafka_props(), err) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, run);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);   /* rd_kafka_new() frees conf only on success */
        shop_err_set(err, SHOP_EKAFKA, "could not create kafka producer: %s", errstr);
    }
    return rk;
}

/* Hands record i to librdkafka, waiting (polling delivery reports) while its queue is full. */
static rd_kafka_resp_err_t produce_one(rd_kafka_t *rk, char topics[][SHOP_TOPIC_NAME_MAX], struct run *run, size_t i)
{
    const struct bench_msg *msg = &run->m->v[i];
    for (;;) {
        rd_kafka_headers_t *rkh = rd_kafka_headers_new(msg->n_hdrs);
        for (size_t h = 0; h < msg->n_hdrs; h++)
            rd_kafka_header_add(rkh, msg->hdrs[h].name, -1, msg->hdrs[h].value, -1);
        run->sent_s[i] = bench_now_s();
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topics[msg->stream]), RD_KAFKA_V_KEY(msg->key, strlen(msg->key)),
            RD_KAFKA_V_VALUE((void *)msg->value, msg->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(rkh), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)i), RD_KAFKA_V_END);
        if (e == 0)
            return 0;
        rd_kafka_headers_destroy(rkh);   /* ownership passes only on success */
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return e;
        rd_kafka_poll(rk, 5);
    }
}

/* Produces records [from, to) and waits until every one of them is reported. */
static int produce_range(rd_kafka_t *rk, char topics[][SHOP_TOPIC_NAME_MAX], struct run *run, size_t from, size_t to,
                         struct shop_err *err)
{
    for (size_t i = from; i < to; i++) {
        rd_kafka_resp_err_t e = produce_one(rk, topics, run, i);
        if (e != 0)
            return shop_err_set(err, SHOP_EKAFKA, "could not produce record %zu: %s", i, rd_kafka_err2str(e));
        if ((i & 255) == 0)
            rd_kafka_poll(rk, 0);
    }
    while (run->reported < to) {
        if (rd_kafka_flush(rk, 60000) == RD_KAFKA_RESP_ERR__TIMED_OUT)
            return shop_err_set(err, SHOP_EKAFKA, "delivery reports missing after 60 s: %zu of %zu",
                                to - run->reported, to);
    }
    if (run->r->failed > 0)
        return shop_err_set(err, SHOP_EKAFKA, "%zu records not acknowledged: %s", run->r->failed,
                            rd_kafka_err2str(run->first_err));
    return 0;
}

/* Without it, records for a topic the producer has not seen yet wait for the next
 * leader query (up to a second) before the first send. */
static int fetch_metadata(rd_kafka_t *rk, char topics[][SHOP_TOPIC_NAME_MAX], struct shop_err *err)
{
    for (int s = 0; s < SHOP_STREAM_COUNT; s++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topics[s], NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (e == 0 && md->topic_cnt == 1 && md->topics[0].err != 0)
            e = md->topics[0].err;
        if (md != NULL)
            rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        if (e != 0)
            return shop_err_set(err, SHOP_EKAFKA, "topic %s: %s (create it with shopstream-admin create-topics)",
                                topics[s], rd_kafka_err2str(e));
    }
    return 0;
}

int bench_produce_all(struct bench_msgs *m, const struct bench_produce_opts *o, struct bench_produce_result *r,
                      struct shop_err *err)
{
    memset(r, 0, sizeof(*r));
    size_t warmup = o->warmup < m->n ? o->warmup : 0;
    struct run run = {.m = m, .warmup = warmup, .r = r};
    run.sent_s = shop_xcalloc(m->n + 1, sizeof(*run.sent_s));
    r->lat_us = shop_xcalloc(m->n + 1, sizeof(*r->lat_us));
    r->timed = m->n - warmup;
    char topics[SHOP_STREAM_COUNT][SHOP_TOPIC_NAME_MAX];
    for (int s = 0; s < SHOP_STREAM_COUNT; s++)
        shop_topic_name(topics[s], sizeof(topics[s]), o->topic_prefix, (enum shop_stream)s);
    int rc = SHOP_EKAFKA;
    rd_kafka_t *rk = producer_new(o->brokers, &run, err);
    if (rk == NULL)
        goto out_free;
    /* The warm-up connects, fetches every topic's metadata and the idempotent producer
     * id, which a running edge has long done; only what follows is timed. */
    rc = fetch_metadata(rk, topics, err);
    if (rc == 0)
        rc = produce_range(rk, topics, &run, 0, warmup, err);
    if (rc != 0)
        goto out_destroy;
    double t0 = bench_now_s(), cpu0 = process_cpu_s();
    rc = produce_range(rk, topics, &run, warmup, m->n, err);
    r->cpu_s = process_cpu_s() - cpu0;
    r->seconds = run.last_report_s > t0 ? run.last_report_s - t0 : 0;
out_destroy:
    rd_kafka_destroy(rk);
out_free:
    free(run.sent_s);
    return rc;
}

void bench_delete_topics(const char *brokers, const char *prefix, const char *const *groups, int n_groups)
{
    enum { N_TOPICS = SHOP_STREAM_COUNT + 1 };    /* every stream and the dead letters */
    char errstr[256], names[N_TOPICS][SHOP_TOPIC_NAME_MAX];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    struct shop_err err = {0};
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        shop_kafka_conf_apply(conf, bench_kafka_props(), &err) != 0) {
        rd_kafka_conf_destroy(conf);
        SHOP_LOG(SHOP_LOG_WARN, "bench", "could not delete topics", "err=\"%s\"", err.msg[0] ? err.msg : errstr);
        return;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return;
    }
    rd_kafka_DeleteTopic_t *dt[N_TOPICS];
    for (int i = 0; i < N_TOPICS; i++) {
        if (i < SHOP_STREAM_COUNT)
            shop_topic_name(names[i], sizeof(names[i]), prefix, (enum shop_stream)i);
        else
            shop_topic_dlq_name(names[i], sizeof(names[i]), prefix);
        dt[i] = rd_kafka_DeleteTopic_new(names[i]);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, dt, N_TOPICS, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    if (ev == NULL || rd_kafka_event_error(ev) != 0)
        SHOP_LOG(SHOP_LOG_WARN, "bench", "could not delete topics", "prefix=%s err=\"%s\"", prefix,
                 ev ? rd_kafka_event_error_string(ev) : "timed out");
    if (ev != NULL && rd_kafka_event_error(ev) == 0) {
        size_t cnt = 0;
        const rd_kafka_topic_result_t **tr =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
            if (rd_kafka_topic_result_error(tr[i]) != 0)
                SHOP_LOG(SHOP_LOG_WARN, "bench", "could not delete topic", "topic=%s err=\"%s\"",
                         rd_kafka_topic_result_name(tr[i]), rd_kafka_err2str(rd_kafka_topic_result_error(tr[i])));
        }
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy_array(dt, N_TOPICS);
    if (n_groups > 0) {
        rd_kafka_DeleteGroup_t **dg = calloc((size_t)n_groups, sizeof(*dg));
        for (int i = 0; dg != NULL && i < n_groups; i++)
            dg[i] = rd_kafka_DeleteGroup_new(groups[i]);
        if (dg != NULL) {
            rd_kafka_DeleteGroups(rk, dg, (size_t)n_groups, NULL, q);
            ev = rd_kafka_queue_poll(q, 15000);
            if (ev != NULL)
                rd_kafka_event_destroy(ev);
            rd_kafka_DeleteGroup_destroy_array(dg, (size_t)n_groups);
            free(dg);
        }
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}
