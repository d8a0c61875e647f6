/* SPDX-License-Identifier: MIT
 * The worker's consumer mechanics: manual offsets, the subscription to the role's
 * topics, the wake-up pipe, assignment and lag. Where partitions start and what
 * happens before they go away is the caller's policy, passed in (struct
 * worker_rebalance); this file names no function above it. Shell. Loop thread
 * unless said otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "workers/worker.h"

/* librdkafka threads. */
static void on_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    enum shop_log_level lv = level <= 3 ? SHOP_LOG_ERROR : level <= 4 ? SHOP_LOG_WARN
                           : level <= 6 ? SHOP_LOG_INFO : SHOP_LOG_DEBUG;
    SHOP_LOG(lv, "kafka", "librdkafka", "fac=%s client=%s detail=\"%s\"", fac, rd_kafka_name(rk), buf);
}

static void on_kafka_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    SHOP_LOG(SHOP_LOG_WARN, "kafka", "kafka error", "client=%s err=%s reason=\"%s\"", rd_kafka_name(rk),
             rd_kafka_err2name((rd_kafka_resp_err_t)code), reason);
}

/* Mirrors the whole assignment (where each partition starts), for lag per partition.
 * Rebuilt from librdkafka's assignment after every change, so it holds for cooperative
 * rebalances too (their parts are only what moved); a kept partition keeps its start,
 * a new one takes its start from parts. */
static void mirror_assignment(struct worker *w, const rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *all = NULL;
    if (rd_kafka_assignment(w->rk, &all) != RD_KAFKA_RESP_ERR_NO_ERROR || all == NULL)
        return;
    struct worker_part *old = w->parts;
    int n_old = w->n_parts;
    struct worker_part *np = shop_xrealloc(NULL, (size_t)(all->cnt > 0 ? all->cnt : 1) * sizeof(*np));
    for (int i = 0; i < all->cnt; i++) {
        struct worker_part *p = &np[i];
        snprintf(p->topic, sizeof(p->topic), "%s", all->elems[i].topic);
        p->partition = all->elems[i].partition;
        p->start = all->elems[i].offset;
        for (int j = 0; j < n_old; j++)
            if (old[j].partition == p->partition && strcmp(old[j].topic, p->topic) == 0)
                p->start = old[j].start;
        const rd_kafka_topic_partition_t *given =
            parts != NULL ? rd_kafka_topic_partition_list_find(parts, p->topic, p->partition) : NULL;
        if (given != NULL)
            p->start = given->offset;
    }
    free(old);
    w->parts = np;
    w->cap_parts = all->cnt;
    w->n_parts = all->cnt;
    rd_kafka_topic_partition_list_destroy(all);
}

/* The group's protocol as librdkafka elected it: range or roundrobin (eager, the default,
 * WORKER_KAFKA_ASSIGNOR) take everything away and give it back; cooperative-sticky (opt-in)
 * moves partitions one by one. */
static bool cooperative(rd_kafka_t *rk)
{
    const char *proto = rd_kafka_rebalance_protocol(rk);
    return proto != NULL && strcmp(proto, "COOPERATIVE") == 0;
}

static void log_assign_error(const char *what, rd_kafka_error_t *error)
{
    if (error == NULL)
        return;
    SHOP_LOG(SHOP_LOG_ERROR, "worker", "could not change the assignment", "call=%s err=%s detail=\"%s\"", what,
             rd_kafka_error_name(error), rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
}

/* resume_stale: librdkafka 2.0.2 keeps a partition's application pause on its toppar
 * after the partition is unassigned (the unassign clears only its own pause), so a
 * partition paused by an outage, revoked, and assigned to us again later would never be
 * fetched (seen with range: 4 of 12 partitions stuck for good after a deadlock's pause
 * and two rebalances). So the revoke resumes what it gives away, and an assignment that
 * is not to stay paused is resumed before it is assigned (a resume sent after the
 * assign could be dropped as older than its fetch start, see worker_kafka_reassign;
 * resuming a partition that is not paused does nothing). */

/* Runs inside rd_kafka_consumer_poll() or rd_kafka_consumer_close(): loop thread.
 * Cooperative: parts is only what is added or taken away, the rest of the assignment
 * keeps being consumed (and stays paused if it was). Eager: parts is all of it. The
 * revoke runs the policy first (flush the open batch) in both. A failure that is
 * neither resets the assignment, as librdkafka asks. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t kerr, rd_kafka_topic_partition_list_t *parts,
                         void *opaque)
{
    struct worker *w = opaque;
    bool coop = cooperative(rk);
    if (kerr == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        w->rebalance->revoked(w, parts);
        rd_kafka_resume_partitions(rk, parts);   /* see resume_stale */
        if (coop)
            log_assign_error("incremental_unassign", rd_kafka_incremental_unassign(rk, parts));
        else
            rd_kafka_assign(rk, NULL);
        mirror_assignment(w, NULL);
        w->paused_parts = w->paused_parts > parts->cnt ? w->paused_parts - parts->cnt : 0;
        if (w->n_parts == 0)
            w->paused_parts = 0;
        SHOP_LOG(SHOP_LOG_INFO, "worker", "partitions revoked", "partitions=%d protocol=%s lost=%d", parts->cnt,
                 coop ? "cooperative" : "eager", rd_kafka_assignment_lost(rk));
        return;
    }
    if (kerr != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        SHOP_LOG(SHOP_LOG_ERROR, "worker", "rebalance failed; dropping the assignment", "err=%s",
                 rd_kafka_err2name(kerr));
        w->rebalance->revoked(w, parts);
        rd_kafka_resume_partitions(rk, parts);
        rd_kafka_assign(rk, NULL);
        w->n_parts = 0;
        w->paused_parts = 0;
        return;
    }
    bool paused = w->rebalance->assigned(w, parts);
    if (!paused)
        rd_kafka_resume_partitions(rk, parts);   /* see resume_stale */
    if (coop) {
        log_assign_error("incremental_assign", rd_kafka_incremental_assign(rk, parts));
    } else {
        rd_kafka_resp_err_t aerr = rd_kafka_assign(rk, parts);
        if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR)
            SHOP_LOG(SHOP_LOG_ERROR, "worker", "could not assign partitions", "err=%s", rd_kafka_err2name(aerr));
    }
    if (paused && parts->cnt > 0)
        rd_kafka_pause_partitions(rk, parts);
    mirror_assignment(w, parts);
    if (paused)
        w->paused_parts += parts->cnt;
    else if (!coop)
        w->paused_parts = 0;
    for (int i = 0; i < parts->cnt; i++)
        SHOP_LOG(SHOP_LOG_INFO, "worker", "partition assigned", "topic=%s partition=%" PRId32 " offset=%" PRId64
                 " protocol=%s", parts->elems[i].topic, parts->elems[i].partition, parts->elems[i].offset,
                 coop ? "cooperative" : "eager");
}

int worker_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, struct shop_err *err)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        return shop_err_set(err, SHOP_ECONFIG, "invalid kafka setting %s: %s", name, errstr);
    return 0;
}

const struct shop_kafka_owned worker_kafka_owned[] = {
    {"bootstrap.servers", "set SHOPSTREAM_KAFKA_BROKERS"},
    {"metadata.broker.list", "set SHOPSTREAM_KAFKA_BROKERS"},
    {"group.id", "set SHOPSTREAM_KAFKA_GROUP_ID"},
    {"session.timeout.ms", "set SHOPSTREAM_KAFKA_SESSION_TIMEOUT_MS"},
    {"max.poll.interval.ms", "set SHOPSTREAM_KAFKA_MAX_POLL_INTERVAL_MS"},
    {"enable.auto.commit", "offsets commit with the effects in PostgreSQL"},
    {"auto.commit.enable", "offsets commit with the effects in PostgreSQL"},
    {"enable.auto.offset.store", "offsets commit with the effects in PostgreSQL"},
    {"auto.offset.reset", "a partition without stored offsets is read from its start"},
    {"acks", "dead letters are produced with acks=all"},
    {"request.required.acks", "dead letters are produced with acks=all"},
    {"enable.idempotence", "dead letters are produced idempotently"},
    {"message.timeout.ms", "set SHOPSTREAM_DLQ_TIMEOUT_MS"},
    {"delivery.timeout.ms", "set SHOPSTREAM_DLQ_TIMEOUT_MS"},
    {NULL, NULL},
};

/* The role's own consumer settings (struct worker_role), before the operator's. */
static int role_props(rd_kafka_conf_t *conf, const char *const *props, struct shop_err *err)
{
    for (size_t i = 0; props != NULL && props[i] != NULL && props[i + 1] != NULL; i += 2) {
        if (worker_kafka_conf_set(conf, props[i], props[i + 1], err) < 0)
            return err->code;
    }
    return 0;
}

static rd_kafka_conf_t *consumer_conf(struct worker *w, struct shop_err *err)
{
    char session_ms[24];
    char max_poll_ms[24];
    char heartbeat_ms[24];
    snprintf(session_ms, sizeof(session_ms), "%" PRId64, w->cfg->session_timeout_ms);
    /* A member learns of a rebalance at its next heartbeat, so the interval bounds how long
     * the others wait for it: librdkafka's 3000 made a leave stall partitions 2.9 s, 1000
     * made it 0.9 s (bench/rebalance, docs/operations.md). Never above a third of the
     * session. SHOPSTREAM_KAFKA_PROPERTIES may set another. */
    int64_t hb = w->cfg->session_timeout_ms / 3 < WORKER_KAFKA_HEARTBEAT_MS ? w->cfg->session_timeout_ms / 3
                                                                            : WORKER_KAFKA_HEARTBEAT_MS;
    snprintf(heartbeat_ms, sizeof(heartbeat_ms), "%" PRId64, hb > 1 ? hb : 1);
    snprintf(max_poll_ms, sizeof(max_poll_ms), "%" PRId64, w->cfg->max_poll_interval_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (worker_kafka_conf_set(conf, "bootstrap.servers", w->cfg->kafka_brokers, err) < 0 ||
        worker_kafka_conf_set(conf, "group.id", w->cfg->group_id, err) < 0 ||
        worker_kafka_conf_set(conf, "client.id", "shopstream-worker", err) < 0 ||
        worker_kafka_conf_set(conf, "enable.auto.commit", "false", err) < 0 ||
        worker_kafka_conf_set(conf, "enable.auto.offset.store", "false", err) < 0 ||
        worker_kafka_conf_set(conf, "auto.offset.reset", "earliest", err) < 0 ||
        worker_kafka_conf_set(conf, "session.timeout.ms", session_ms, err) < 0 ||
        worker_kafka_conf_set(conf, "max.poll.interval.ms", max_poll_ms, err) < 0 ||
        worker_kafka_conf_set(conf, "heartbeat.interval.ms", heartbeat_ms, err) < 0 ||
        worker_kafka_conf_set(conf, "partition.assignment.strategy", WORKER_KAFKA_ASSIGNOR, err) < 0 ||
        role_props(conf, w->role->consumer_props, err) < 0 ||
        shop_kafka_conf_apply(conf, w->cfg->kafka_props, err) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, w);
    worker_kafka_set_log(conf);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    return conf;
}

/* set_consumer, io_event_enable on the final (consumer) queue, subscribe. */
static int consumer_wire(struct worker *w, struct shop_err *err)
{
    rd_kafka_poll_set_consumer(w->rk);
    w->rkq = rd_kafka_queue_get_consumer(w->rk);
    rd_kafka_queue_io_event_enable(w->rkq, w->wake_fds[1], "1", 1);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(w->cfg->n_topics);
    for (int i = 0; i < w->cfg->n_topics; i++)
        rd_kafka_topic_partition_list_add(topics, w->cfg->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t kerr = rd_kafka_subscribe(w->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return shop_err_set(err, SHOP_EKAFKA, "could not subscribe: %s", rd_kafka_err2str(kerr));
    return 0;
}

void worker_kafka_set_log(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, on_kafka_log);
    rd_kafka_conf_set_error_cb(conf, on_kafka_error);
}

int worker_kafka_open(struct worker *w, const struct worker_rebalance *rb, struct shop_err *err)
{
    char errstr[512];
    w->rebalance = rb;
    if (pipe2(w->wake_fds, O_NONBLOCK | O_CLOEXEC) < 0)
        return shop_err_set(err, SHOP_EIO, "could not create wake-up pipe: %s", strerror(errno));
    rd_kafka_conf_t *conf = consumer_conf(w, err);
    if (conf == NULL)
        return err->code;
    w->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (w->rk == NULL) {
        rd_kafka_conf_destroy(conf);    /* rd_kafka_new() frees conf only on success */
        return shop_err_set(err, SHOP_EKAFKA, "could not create kafka consumer: %s", errstr);
    }
    return consumer_wire(w, err);
}

/* For lag monitoring only: PostgreSQL holds the offsets that count. */
void worker_kafka_commit_async(struct worker *w, const struct worker_batch *b)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < b->n; i++) {
        const rd_kafka_message_t *rkm = b->recs[i].rkm;
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(list, rd_kafka_topic_name(rkm->rkt), rkm->partition);
        if (tp == NULL)
            tp = rd_kafka_topic_partition_list_add(list, rd_kafka_topic_name(rkm->rkt), rkm->partition);
        if (rkm->offset + 1 > tp->offset)
            tp->offset = rkm->offset + 1;
    }
    rd_kafka_resp_err_t kerr = rd_kafka_commit(w->rk, list, 1);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        SHOP_LOG(SHOP_LOG_DEBUG, "worker", "could not commit offsets to kafka", "err=%s",
                 rd_kafka_err2name(kerr));
    rd_kafka_topic_partition_list_destroy(list);
}

/* Cooperative: the assignment is not ours to replace outside the rebalance callback
 * (librdkafka refuses rd_kafka_assign, and an incremental unassign + assign here could
 * answer a rebalance already queued for our next poll out of turn), so only the fetch
 * positions move: a seek, whose version barrier also drops what was fetched for the old
 * positions. Waited for (SEEK_TIMEOUT_MS), so a partition whose fetch has not started yet
 * (its start offset still being looked up) fails here and the caller's retry seeks it
 * again. A position the role left unset is the group's Kafka offset (earliest without
 * one). The resume follows the seeks. */
#define SEEK_TIMEOUT_MS 5000

static int seek_assignment(struct worker *w, rd_kafka_topic_partition_list_t *parts, struct shop_err *err)
{
    bool unset = false;
    for (int i = 0; i < parts->cnt; i++)
        unset |= parts->elems[i].offset == RD_KAFKA_OFFSET_INVALID;
    if (unset) {
        rd_kafka_topic_partition_list_t *kafka = rd_kafka_topic_partition_list_copy(parts);
        rd_kafka_resp_err_t kerr = rd_kafka_committed(w->rk, kafka, SEEK_TIMEOUT_MS);
        for (int i = 0; kerr == RD_KAFKA_RESP_ERR_NO_ERROR && i < parts->cnt; i++) {
            if (parts->elems[i].offset == RD_KAFKA_OFFSET_INVALID)
                parts->elems[i].offset = kafka->elems[i].offset >= 0 ? kafka->elems[i].offset : RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_topic_partition_list_destroy(kafka);
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
            return shop_err_set(err, SHOP_EKAFKA, "could not read the group's kafka offsets: %s",
                                rd_kafka_err2str(kerr));
    }
    rd_kafka_error_t *error = rd_kafka_seek_partitions(w->rk, parts, SEEK_TIMEOUT_MS);
    if (error != NULL) {
        int rc = shop_err_set(err, SHOP_EKAFKA, "could not seek: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return rc;
    }
    for (int i = 0; i < parts->cnt; i++) {
        if (parts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR)
            return shop_err_set(err, SHOP_EKAFKA, "could not seek %s [%" PRId32 "] to %" PRId64 ": %s",
                                parts->elems[i].topic, parts->elems[i].partition, parts->elems[i].offset,
                                rd_kafka_err2name(parts->elems[i].err));
    }
    rd_kafka_resume_partitions(w->rk, parts);
    return 0;
}

/* After a failed transaction: go back to what the role committed. Eager: assigning
 * again moves the fetch positions; librdkafka drops records fetched for the old
 * positions. The resume (of the outage's pause) goes first: librdkafka drops a
 * partition op whose version is older than one already served, and the assign's fetch
 * start is made on its main thread after the old fetcher stopped; a resume sent after
 * the assign could draw its version just before that start and reach the queue just
 * after it, be dropped, and leave the partition paused for good (seen once under
 * load). Sent before the assign, it is served first. Nothing is polled in between.
 * Cooperative: seek_assignment. */
int worker_kafka_reassign(struct worker *w,
                          int (*position)(struct worker *w, rd_kafka_topic_partition_list_t *parts,
                                          struct shop_err *err),
                          struct shop_err *err)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t kerr = rd_kafka_assignment(w->rk, &parts);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return shop_err_set(err, SHOP_EKAFKA, "could not read assignment: %s", rd_kafka_err2str(kerr));
    int rc = parts->cnt > 0 ? position(w, parts, err) : 0;
    if (rc == 0 && parts->cnt > 0 && cooperative(w->rk)) {
        rc = seek_assignment(w, parts, err);
        mirror_assignment(w, parts);
        if (rc == 0)
            w->paused_parts = 0;
    } else if (rc == 0 && parts->cnt > 0) {
        rd_kafka_resume_partitions(w->rk, parts);
        kerr = rd_kafka_assign(w->rk, parts);
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = shop_err_set(err, SHOP_EKAFKA, "could not reassign: %s", rd_kafka_err2str(kerr));
        mirror_assignment(w, parts);
        w->paused_parts = 0;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return rc;
}

void worker_kafka_pause(struct worker *w, bool pause)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (w->rk == NULL || rd_kafka_assignment(w->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    if (parts->cnt > 0)
        (pause ? rd_kafka_pause_partitions : rd_kafka_resume_partitions)(w->rk, parts);
    w->paused_parts = pause ? parts->cnt : 0;
    rd_kafka_topic_partition_list_destroy(parts);
}

/* Sum over assigned partitions of (high watermark - position), from cached values. */
int64_t worker_kafka_lag(struct worker *w)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    int64_t lag = 0;
    if (w->rk == NULL || rd_kafka_assignment(w->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    rd_kafka_position(w->rk, parts);
    for (int i = 0; i < parts->cnt; i++) {
        int64_t lo, hi;
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        if (rd_kafka_get_watermark_offsets(w->rk, tp->topic, tp->partition, &lo, &hi) ==
                RD_KAFKA_RESP_ERR_NO_ERROR && tp->offset >= 0 && hi > tp->offset)
            lag += hi - tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return lag;
}

size_t worker_kafka_lags(struct worker *w, struct shop_wm_lag *out, size_t max)
{
    if (w->rk == NULL || w->n_parts == 0)
        return 0;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(w->n_parts);
    for (int i = 0; i < w->n_parts; i++)
        rd_kafka_topic_partition_list_add(list, w->parts[i].topic, w->parts[i].partition);
    rd_kafka_position(w->rk, list);          /* local: the last consumed offset + 1 */
    size_t n = 0;
    for (int i = 0; i < list->cnt && n < max; i++) {
        int64_t lo, hi;
        int64_t next = list->elems[i].offset >= 0 ? list->elems[i].offset : w->parts[i].start;
        if (next < 0 || rd_kafka_get_watermark_offsets(w->rk, w->parts[i].topic, w->parts[i].partition, &lo, &hi) !=
                            RD_KAFKA_RESP_ERR_NO_ERROR || hi < 0)
            continue;                        /* nothing fetched yet: unknown */
        out[n++] = (struct shop_wm_lag){w->parts[i].topic, w->parts[i].partition, hi > next ? hi - next : 0};
    }
    rd_kafka_topic_partition_list_destroy(list);
    return n;
}

void worker_kafka_close(struct worker *w)
{
    if (w->rk != NULL) {
        rd_kafka_resp_err_t kerr = rd_kafka_consumer_close(w->rk);   /* revokes: rebalance->revoked */
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
            SHOP_LOG(SHOP_LOG_WARN, "worker", "could not close consumer cleanly", "err=%s",
                     rd_kafka_err2name(kerr));
        if (w->rkq != NULL)
            rd_kafka_queue_destroy(w->rkq);
        rd_kafka_destroy(w->rk);
        w->rk = NULL;
    }
    for (int i = 0; i < 2; i++) {
        if (w->wake_fds[i] >= 0)
            close(w->wake_fds[i]);
        w->wake_fds[i] = -1;
    }
}
