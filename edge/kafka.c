/* SPDX-License-Identifier: MIT
 * One idempotent producer per loop thread. Its main queue (delivery reports,
 * errors, statistics) wakes that thread's evloop through a pipe, so delivery callbacks run
 * on the thread that owns the request and need no locks. Errors and statistics
 * keep the thread's broker reachability (struct shop_edge_broker) current.
 */
#include "edge/edge.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/shop_log.h"
#include "edge/producer.h"
#include "proto/core/event_topic.h"

/* Loop thread, inside rd_kafka_poll(): the report goes to the callback passed in. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct edge_thread *t = opaque;
    t->on_delivery(rkm);
}

/* librdkafka thread. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum shop_log_level l = level <= 3 ? SHOP_LOG_ERROR : level <= 5 ? SHOP_LOG_WARN
                          : level == 6 ? SHOP_LOG_INFO : SHOP_LOG_DEBUG;
    SHOP_LOG(l, "rdkafka", "librdkafka log", "client=%s fac=%s text=\"%s\"", rd_kafka_name(rk), fac,
             buf);
}

/* Loop thread (or the main thread's final flush, when the loops are gone). */
static void set_reachable(struct edge_thread *t, const char *how)
{
    atomic_store(&t->kafka_down, false);
    SHOP_LOG(SHOP_LOG_INFO, "edge", "kafka reachable again", "thread=%d via=%s", t->index, how);
}

/* Loop thread. A statistics document arrives every EDGE_KAFKA_STATS_INTERVAL_MS; while every
 * broker is known down it is how we learn that one is back without producing. Returning 0
 * lets librdkafka free json. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct edge_thread *t = opaque;
    if (edge_producer_on_stats(&t->broker, json, len)) {
        atomic_store_explicit(&t->edge->kafka_ok_us, edge_mono_us(), memory_order_relaxed);
        set_reachable(t, "statistics");
    }
    return 0;
}

void edge_kafka_delivered(struct edge_thread *t, bool ok)
{
    if (ok)
        atomic_store_explicit(&t->edge->kafka_ok_us, edge_mono_us(), memory_order_relaxed);
    if (shop_edge_broker_delivered(&t->broker, ok))
        set_reachable(t, "delivery");
}

/* Loop thread. Another thread's producer that reached a broker after this one went down
 * is evidence enough: without it, one thread could refuse for up to a statistics interval
 * after its neighbour already accepts again. */
enum shop_broker_admit edge_kafka_admit(struct edge_thread *t)
{
    int64_t ok_us = atomic_load_explicit(&t->edge->kafka_ok_us, memory_order_relaxed);
    if (shop_edge_broker_peer_up(&t->broker, ok_us))
        set_reachable(t, "another producer");
    return shop_edge_broker_admit(&t->broker, edge_mono_us());
}

void edge_kafka_probe_done(struct edge_thread *t)
{
    shop_edge_broker_probe_done(&t->broker, edge_mono_us());
}

/* Loop thread. librdkafka's "ts" and edge_mono_us() both read CLOCK_MONOTONIC, so a
 * statistics snapshot can be ordered against the moment the brokers went down. */
static void note_error(struct edge_thread *t, int err, const char *reason)
{
    if (!edge_producer_on_error(&t->broker, err, edge_mono_us()))
        return;
    atomic_store(&t->kafka_down, true);
    SHOP_LOG(SHOP_LOG_WARN, "edge", "kafka unreachable, answering 503 at once",
             "thread=%d reason=\"%s\"", t->index, reason);
}

/* Loop thread (errors arrive through the main queue, served by rd_kafka_poll). */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct edge_thread *t = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[256];
        rd_kafka_fatal_error(rk, buf, sizeof(buf));
        atomic_store(&t->kafka_fatal, true);
        SHOP_LOG(SHOP_LOG_ERROR, "edge", "producer failed fatally", "thread=%d err=\"%s\"",
                 t->index, buf);
        return;
    }
    note_error(t, err, reason);
    SHOP_LOG(SHOP_LOG_WARN, "edge", "kafka error", "thread=%d err=%s reason=\"%s\"", t->index,
             rd_kafka_err2name(err), reason);
}

static rd_kafka_conf_t *producer_conf(struct edge *e, struct edge_thread *t, struct shop_err *err)
{
    char client[64];
    snprintf(client, sizeof(client), "shopstream-edge-%d", t->index);
    rd_kafka_conf_t *conf = edge_kafka_conf_new(e->cfg, client, err);
    if (conf == NULL)
        return NULL;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    rd_kafka_conf_set_opaque(conf, t);
    return conf;
}

/* Main thread: creates the producer and points its main queue's wake-ups at a pipe. */
int edge_kafka_open(struct edge *e, struct edge_thread *t, edge_delivery_fn *deliver, struct shop_err *err)
{
    t->on_delivery = deliver;
    for (int s = 0; s < SHOP_STREAM_COUNT; s++)
        if (shop_topic_name(t->topics[s], sizeof(t->topics[s]), e->cfg->topic_prefix, (enum shop_stream)s) < 0)
            return shop_err_set(err, SHOP_ECONFIG, "SHOPSTREAM_TOPIC_PREFIX is too long");
    rd_kafka_conf_t *conf = producer_conf(e, t, err);
    if (conf == NULL)
        return err->code;
    char errstr[512];
    t->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (t->rk == NULL) {
        rd_kafka_conf_destroy(conf);   /* rd_kafka_new() frees conf only on success */
        return shop_err_set(err, SHOP_EKAFKA, "could not create kafka producer: %s", errstr);
    }
    if (pipe2(t->wake_fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return shop_err_set(err, SHOP_EIO, "could not create pipe: %s", strerror(errno));
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(t->rk);
    rd_kafka_queue_io_event_enable(q, t->wake_fds[1], "1", 1);
    rd_kafka_queue_destroy(q);
    return 0;
}

/* Loop thread. librdkafka writes one wake-up only when the queue goes non-empty, so the
 * queue is drained until empty every time. */
void edge_kafka_drain(struct edge_thread *t)
{
    while (rd_kafka_poll(t->rk, 0) > 0)
        ;
}

/* Loop thread: the pipe became readable. The socket is DONT_READ, so h2o leaves the bytes
 * in the pipe: read them ourselves, or the level-triggered poll spins the thread.
 * librdkafka writes one byte per wake-up (none again until the queue is served), so a
 * short read has emptied the pipe: no second read just to see EAGAIN (one system call per
 * delivery wake-up). A byte written after it keeps the pipe readable and wakes us again. */
static void on_kafka_wake(h2o_socket_t *sock, const char *err)
{
    struct edge_thread *t = sock->data;
    char buf[64];
    if (err != NULL) {
        SHOP_LOG(SHOP_LOG_ERROR, "edge", "kafka wake-up pipe failed", "err=\"%s\"", err);
        return;
    }
    while (read(t->wake_fds[0], buf, sizeof(buf)) == (ssize_t)sizeof(buf))
        ;
    edge_kafka_drain(t);
}

void edge_kafka_attach(struct edge_thread *t)
{
    t->wake_sock = h2o_evloop_socket_create(t->loop, t->wake_fds[0], H2O_SOCKET_FLAG_DONT_READ);
    t->wake_sock->data = t;
    h2o_socket_read_start(t->wake_sock, on_kafka_wake);
    edge_kafka_drain(t);   /* anything queued before the watch began */
}

/* Main thread, after every loop has stopped: nothing reads t->rk any more. */
void edge_kafka_close(struct edge_thread *t, int flush_ms)
{
    if (t->rk == NULL)
        return;
    if (rd_kafka_flush(t->rk, flush_ms) != 0)
        SHOP_LOG(SHOP_LOG_WARN, "edge", "producer not fully flushed", "thread=%d outq=%d",
                 t->index, rd_kafka_outq_len(t->rk));
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(t->rk);
    rd_kafka_queue_io_event_enable(q, -1, NULL, 0);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(t->rk);
    t->rk = NULL;
}
