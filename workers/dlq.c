/* SPDX-License-Identifier: MIT
 * The worker's dead-letter producer (acks=all, idempotent): a record a role cannot
 * apply goes to <prefix>dlq.v1 with the reason, its source and the consumer group
 * in headers, and its delivery is awaited before any offset past it commits. Shell.
 * Loop thread unless said otherwise.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "workers/worker.h"

/* librdkafka retries what it can inside message.timeout.ms (= dlq_timeout_ms), so a
 * failed delivery has already been retried; only an outage-like error (a timeout, the
 * brokers unreachable) is worth retrying with the batch. Anything else (record too
 * large, topic missing, not authorized, a fatal idempotence error) fails again
 * whatever we do: the worker stops instead of spinning. */
static bool dlq_error_is_transient(rd_kafka_resp_err_t kerr)
{
    switch (kerr) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
        return true;
    default:
        return false;
    }
}

static void dlq_failure(struct worker *w, rd_kafka_resp_err_t kerr, const char *what)
{
    w->dlq_failed++;
    if (!dlq_error_is_transient(kerr) && !w->dlq_fatal) {
        w->dlq_fatal = true;
        snprintf(w->dlq_error, sizeof(w->dlq_error), "%s: %s", what, rd_kafka_err2name(kerr));
    }
    SHOP_LOG(SHOP_LOG_ERROR, "worker", "could not deliver to the dead-letter topic", "err=%s what=%s",
             rd_kafka_err2name(kerr), what);
}

/* Runs inside rd_kafka_flush()/rd_kafka_poll() on the producer: loop thread. */
static void on_dlq_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct worker *w = opaque;
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR)
        dlq_failure(w, rkm->err, "delivery");
}

int worker_dlq_open(struct worker *w, struct shop_err *err)
{
    char errstr[512], dlq_ms[24];
    snprintf(dlq_ms, sizeof(dlq_ms), "%" PRId64, w->cfg->dlq_timeout_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (worker_kafka_conf_set(conf, "bootstrap.servers", w->cfg->kafka_brokers, err) < 0 ||
        worker_kafka_conf_set(conf, "client.id", "shopstream-worker-dlq", err) < 0 ||
        worker_kafka_conf_set(conf, "acks", "all", err) < 0 ||
        worker_kafka_conf_set(conf, "enable.idempotence", "true", err) < 0 ||
        worker_kafka_conf_set(conf, "linger.ms", "0", err) < 0 ||
        worker_kafka_conf_set(conf, "message.timeout.ms", dlq_ms, err) < 0 ||
        shop_kafka_conf_apply(conf, w->cfg->kafka_props, err) < 0) {
        rd_kafka_conf_destroy(conf);
        return err->code;
    }
    rd_kafka_conf_set_opaque(conf, w);
    worker_kafka_set_log(conf);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dlq_delivery);
    w->dlq_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (w->dlq_rk == NULL) {
        rd_kafka_conf_destroy(conf);    /* rd_kafka_new() frees conf only on success */
        return shop_err_set(err, SHOP_EKAFKA, "could not create dead-letter producer: %s", errstr);
    }
    return 0;
}

int worker_dlq_produce(struct worker *w, const struct worker_rec *rec)
{
    const rd_kafka_message_t *rkm = rec->rkm;
    char part[16], off[24];
    snprintf(part, sizeof(part), "%" PRId32, rkm->partition);
    snprintf(off, sizeof(off), "%" PRId64, rkm->offset);
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(6);
    rd_kafka_header_add(hdrs, "x-shopstream-error", -1, rec->dlq_reason, -1);
    if (rec->dlq_sqlstate != NULL)
        rd_kafka_header_add(hdrs, "x-shopstream-sqlstate", -1, rec->dlq_sqlstate, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-topic", -1, topic, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-partition", -1, part, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-offset", -1, off, -1);
    rd_kafka_header_add(hdrs, "x-shopstream-consumer-group", -1, w->cfg->group_id, -1);
    rd_kafka_resp_err_t kerr = rd_kafka_producev(
        w->dlq_rk, RD_KAFKA_V_TOPIC(w->cfg->dlq_topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(rkm->key, rkm->key_len), RD_KAFKA_V_VALUE(rkm->payload, rkm->len),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(hdrs);  /* producev owns the headers only on success */
        dlq_failure(w, kerr, "produce");
        return SHOP_EKAFKA;
    }
    return 0;
}

/* Blocks until every dead-letter record is acknowledged (acks=all) or the timeout. */
int worker_dlq_flush(struct worker *w, struct shop_err *err)
{
    char fatal[256];
    rd_kafka_resp_err_t kerr = rd_kafka_fatal_error(w->dlq_rk, fatal, sizeof(fatal));
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        dlq_failure(w, kerr, fatal);
    kerr = rd_kafka_flush(w->dlq_rk, (int)w->cfg->dlq_timeout_ms);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return shop_err_set(err, SHOP_EKAFKA, "dead-letter flush: %s", rd_kafka_err2str(kerr));
    if (w->dlq_failed > 0)
        return shop_err_set(err, SHOP_EKAFKA, "%d dead-letter deliveries failed", w->dlq_failed);
    return 0;
}

void worker_dlq_close(struct worker *w)
{
    if (w->dlq_rk != NULL) {
        rd_kafka_flush(w->dlq_rk, (int)w->cfg->dlq_timeout_ms);
        rd_kafka_destroy(w->dlq_rk);
        w->dlq_rk = NULL;
    }
}
