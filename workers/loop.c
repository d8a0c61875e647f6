/* SPDX-License-Identifier: MIT
 * The worker loop: a uv_poll_t on librdkafka's wake-up pipe, a budgeted drain
 * with a uv_idle_t when more remains, one PG transaction per batch, a cron for
 * stats, a backoff timer for PostgreSQL outages, and a clean SIGTERM shutdown
 * (uv_loop_close returns 0). Shell. Loop thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/shop_log.h"
#include "workers/core/pgerr.h"
#include "workers/worker.h"

#define RETRY_FIRST_MS 100
#define CRON_MS 1000

int64_t worker_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t next_rnd(struct worker *w)
{
    w->rnd ^= w->rnd << 13;
    w->rnd ^= w->rnd >> 7;
    w->rnd ^= w->rnd << 17;
    return (uint32_t)(w->rnd >> 32);
}

static void batch_reset(struct worker *w)
{
    uv_timer_stop(&w->linger);
    w->linger_expired = false;
    for (size_t i = 0; i < w->batch.n; i++)
        rd_kafka_message_destroy(w->batch.recs[i].rkm);
    w->batch.n = 0;
    w->batch.n_dlq = 0;
    w->batch.bytes = 0;
    w->dlq_failed = 0;
    shop_arena_reset(&w->arena);
}

/* Marks record i for the dead-letter topic and produces it; its delivery is awaited
 * (worker_dlq_flush) before any offset past it commits. sqlstate is NULL for a record
 * that never reached PostgreSQL. */
static void dead_letter(struct worker *w, size_t i, enum shop_wm_fail why, const char *reason, const char *sqlstate)
{
    struct worker_rec *rec = &w->batch.recs[i];
    struct shop_proj_record *pr = &w->batch.prs[i];
    char *r = shop_arena_strdup(&w->arena, reason);
    for (char *c = r; *c != '\0'; c++)
        if (*c == '"' || *c == '\n')
            *c = *c == '"' ? '\'' : ' ';      /* keep the logfmt value quotable, the header one line */
    rec->dlq_reason = r;
    rec->dlq_sqlstate = sqlstate != NULL ? shop_arena_strdup(&w->arena, sqlstate) : NULL;
    shop_wm_failed(&w->metrics, pr->ev != NULL ? pr->ev->type : NULL, why, pr->topic);
    pr->ev = NULL;                           /* from now on it only advances its offset */
    w->stats.dlq++;
    w->batch.n_dlq++;
    SHOP_LOG(SHOP_LOG_WARN, "worker", "dead-lettering record", "topic=%s partition=%" PRId32
             " offset=%" PRId64 " sqlstate=%s err=\"%s\"", pr->topic, pr->partition, pr->offset,
             sqlstate != NULL ? sqlstate : "none", r);
    worker_dlq_produce(w, rec);
}

/* Decodes into the batch arena; a record that does not decode is dead-lettered now. */
static void batch_add(struct worker *w, rd_kafka_message_t *rkm)
{
    size_t i = w->batch.n++;
    struct worker_rec *rec = &w->batch.recs[i];
    struct shop_proj_record *pr = &w->batch.prs[i];
    struct shop_err err = {0};
    Shopstream__V1__Event *ev = NULL;
    const uint8_t *value = rkm->payload != NULL ? rkm->payload : (const uint8_t *)"";
    *rec = (struct worker_rec){.rkm = rkm};
    *pr = (struct shop_proj_record){.topic = rd_kafka_topic_name(rkm->rkt), .partition = rkm->partition,
                                    .offset = rkm->offset};
    w->batch.bytes += rkm->len + rkm->key_len;
    if (shop_event_decode(value, rkm->len, &w->limits, &w->arena, &ev, &err) == 0) {
        pr->ev = ev;
        return;
    }
    dead_letter(w, i, SHOP_WM_FAIL_UNDECODABLE, err.msg, NULL);
}

static void on_retry(uv_timer_t *handle);
static void on_fatal(uv_timer_t *handle);

/* Stops for good without committing the batch: the fatal stop runs from the loop, not
 * from inside a librdkafka callback that may have called worker_flush. */
static void begin_fatal(struct worker *w)
{
    w->fatal = true;
    if (w->exit_code == 0)
        w->exit_code = 1;
    uv_poll_stop(&w->wake);
    uv_idle_stop(&w->resume);
    uv_timer_stop(&w->linger);
    uv_timer_start(&w->retry, on_fatal, 0, 0);
}

/* PostgreSQL failed transiently: pause the assignment (the consumer is still polled by
 * the cron and the wake-up, so the group keeps us however long the outage lasts) and
 * retry with a backoff that keeps growing until a batch commits. Logged once per
 * outage; every retry is a debug line. */
static void begin_recovery(struct worker *w, const char *why)
{
    if (!w->in_outage) {
        w->in_outage = true;
        w->outage_since_ms = worker_now_ms();
        snprintf(w->outage_sqlstate, sizeof(w->outage_sqlstate), "%s", w->pg_sqlstate);
        SHOP_LOG(SHOP_LOG_ERROR, "worker", "postgresql unavailable; pausing consumption",
                 "sqlstate=%s err=\"%s\"", w->pg_sqlstate[0] ? w->pg_sqlstate : "none", why);
    }
    w->pg_down = true;
    worker_kafka_pause(w, true);
    uv_idle_stop(&w->resume);
    uv_timer_stop(&w->linger);
    if (!w->stopping && !w->fatal && !uv_is_active((uv_handle_t *)&w->retry)) {
        int64_t delay = shop_backoff_next(&w->backoff, next_rnd(w));
        SHOP_LOG(SHOP_LOG_DEBUG, "worker", "retrying postgresql", "in_ms=%" PRId64 " attempt=%" PRIu32
                 " err=\"%s\"", delay, w->backoff.failures, why);
        uv_timer_start(&w->retry, on_retry, (uint64_t)delay, 0);
    }
}

enum apply_outcome { APPLY_DONE = 0, APPLY_TRANSIENT, APPLY_FATAL };

/* Waits for the dead-letter deliveries. A delivery that failed for good stops the
 * worker; one that only timed out is retried with the batch. */
static enum apply_outcome settle_dead_letters(struct worker *w, struct shop_err *err)
{
    if (w->batch.n_dlq == 0)
        return APPLY_DONE;
    if (worker_dlq_flush(w, err) == 0)
        return APPLY_DONE;
    if (w->dlq_fatal) {
        SHOP_LOG(SHOP_LOG_FATAL, "worker", "the dead-letter topic refuses records; stopping",
                 "topic=%s err=\"%s\"", w->cfg->dlq_topic, w->dlq_error);
        return APPLY_FATAL;
    }
    return APPLY_TRANSIENT;
}

/* Applies records [lo, hi) of the batch, each committed range with its offsets in one
 * transaction, left to right so that every commit covers a prefix of each partition.
 * A poison failure (the data, see workers/core/pgerr.h) splits the range in halves
 * down to the records PostgreSQL refuses on their own; those are dead-lettered (the
 * delivery acknowledged before their offsets commit) and the rest is applied. */
static enum apply_outcome apply_split(struct worker *w, size_t lo, size_t hi, struct shop_err *err)
{
    int races = 0;
    for (;;) {
        struct worker_batch sub = {.n = hi - lo, .recs = w->batch.recs + lo, .prs = w->batch.prs + lo,
                                   .bad = SIZE_MAX};
        int rc = w->role->apply(w, &sub, err);
        if (rc == 0)
            return APPLY_DONE;
        if (w->fatal)                                    /* the role stopped the worker */
            return APPLY_FATAL;
        if (rc == SHOP_EINVAL && sub.bad < sub.n) {      /* the fold named the record */
            dead_letter(w, lo + sub.bad, SHOP_WM_FAIL_INVALID, err->msg, NULL);
        } else {
            bool connected = w->conn != NULL && PQstatus(w->conn) == CONNECTION_OK;
            enum shop_pgerr_kind kind = connected ? shop_pgerr_classify(w->pg_sqlstate) : SHOP_PGERR_TRANSIENT;
            /* A deadlock or serialization victim: the other transaction goes on, so the
             * same range run again at once almost always commits. Bounded, so a range
             * that keeps losing falls back to the outage path's backoff. */
            if (kind == SHOP_PGERR_RACE && races < WORKER_PG_RACE_RETRIES) {
                races++;
                shop_wm_txn_retry(&w->metrics);
                SHOP_LOG(SHOP_LOG_DEBUG, "worker", "transaction lost a race; running it again",
                         "records=%zu attempt=%d sqlstate=%s", hi - lo, races, w->pg_sqlstate);
                continue;
            }
            if (kind == SHOP_PGERR_TRANSIENT || kind == SHOP_PGERR_RACE)
                return APPLY_TRANSIENT;
            bool only_offsets = true;
            for (size_t i = lo; i < hi && only_offsets; i++)
                only_offsets = w->batch.prs[i].ev == NULL;
            if (kind == SHOP_PGERR_FATAL || only_offsets) {
                SHOP_LOG(SHOP_LOG_FATAL, "worker", "postgresql refuses what no record causes; stopping",
                         "sqlstate=%s err=\"%s\"", w->pg_sqlstate, err->msg);
                return APPLY_FATAL;
            }
            if (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                w->stats.splits++;
                SHOP_LOG(SHOP_LOG_DEBUG, "worker", "splitting a refused batch", "records=%zu sqlstate=%s",
                         hi - lo, w->pg_sqlstate);
                enum apply_outcome oc = apply_split(w, lo, mid, err);
                if (oc != APPLY_DONE)
                    return oc;
                lo = mid;
                continue;
            }
            char reason[SHOP_ERR_MSG_MAX];
            snprintf(reason, sizeof(reason), "postgresql refused the event: %s", w->pg_message);
            dead_letter(w, lo, SHOP_WM_FAIL_POSTGRES, reason, w->pg_sqlstate);
        }
        enum apply_outcome oc = settle_dead_letters(w, err);
        if (oc != APPLY_DONE)
            return oc;
    }
}

/* A bounded run (SHOPSTREAM_STOP_AT_OFFSETS) stops like SIGTERM, exit 0, once every
 * partition applied up to its stop offset; from the loop, not inside a callback. */
static void stop_at_check(struct worker *w)
{
    if (w->stop_reached || w->stopping || w->fatal || !shop_stop_at_done(&w->stop_at))
        return;
    w->stop_reached = true;
    SHOP_LOG(SHOP_LOG_INFO, "worker", "every partition reached its stop offset; stopping", "partitions=%zu",
             w->stop_at.n);
    uv_idle_stop(&w->resume);
    uv_timer_start(&w->retry, on_fatal, 0, 0);
}

static void stop_at_note_batch(struct worker *w)
{
    for (size_t i = 0; w->stop_at.on && i < w->batch.n; i++)
        shop_stop_at_note(&w->stop_at, w->batch.prs[i].topic, w->batch.prs[i].partition,
                          w->batch.prs[i].offset + 1);
}

/* A record at or past its partition's stop offset is never applied: the partition is
 * paused and the record dropped (nothing past the stop commits). */
static bool past_stop(struct worker *w, rd_kafka_message_t *rkm)
{
    const char *topic = rd_kafka_topic_name(rkm->rkt);
    if (!w->stop_at.on || rkm->offset < shop_stop_at_offset(&w->stop_at, topic, rkm->partition))
        return false;
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, topic, rkm->partition);
    rd_kafka_pause_partitions(w->rk, one);
    rd_kafka_topic_partition_list_destroy(one);
    rd_kafka_message_destroy(rkm);
    return true;
}

/* A committed batch in the metrics: its events by type, its size and its transaction's time. */
static void count_committed(struct worker *w, uint64_t started_ns)
{
    for (size_t i = 0; i < w->batch.n; i++) {
        if (w->batch.prs[i].ev != NULL)
            shop_wm_processed(&w->metrics, w->batch.prs[i].ev->type, 1);
    }
    shop_wm_batch(&w->metrics, w->batch.n, (double)(uv_hrtime() - started_ns) / 1e9);
    w->pg_seen_ms = uv_now(w->loop);
}

int worker_flush(struct worker *w)
{
    struct shop_err err = {0};
    if (w->batch.n == 0 || w->fatal)
        return 0;
    uint64_t started_ns = uv_hrtime();
    enum apply_outcome oc = w->pg_down ? APPLY_TRANSIENT : settle_dead_letters(w, &err);
    if (w->pg_down)
        shop_err_set(&err, SHOP_EPG, "postgresql is down");
    if (oc == APPLY_DONE)
        oc = apply_split(w, 0, w->batch.n, &err);
    if (oc != APPLY_DONE) {
        size_t n = w->batch.n;
        batch_reset(w);
        if (oc == APPLY_FATAL) {
            begin_fatal(w);
        } else {
            w->stats.pg_failures++;
            begin_recovery(w, err.msg);   /* what did not commit is consumed again from PG's offsets */
        }
        SHOP_LOG(SHOP_LOG_DEBUG, "worker", "batch not committed", "records=%zu err=\"%s\"", n, err.msg);
        return SHOP_EPG;
    }
    if (w->in_outage) {
        SHOP_LOG(SHOP_LOG_INFO, "worker", "postgresql is back; a batch committed", "retries=%" PRIu32
                 " outage_ms=%" PRId64, w->backoff.failures, worker_now_ms() - w->outage_since_ms);
        w->in_outage = false;
    }
    shop_backoff_reset(&w->backoff);
    stop_at_note_batch(w);
    count_committed(w, started_ns);
    if (!w->role->own_offsets)
        worker_kafka_commit_async(w, &w->batch);
    w->stats.events += w->batch.n;
    w->stats.batches++;
    batch_reset(w);
    stop_at_check(w);
    return 0;
}

static void on_linger(uv_timer_t *handle);

/* The consumer queue ran empty. Under a backlog that happens between two fetch
 * responses, so a non-full batch stays open for batch_linger_ms before it is
 * closed: fewer, fuller transactions. A full batch, a revoke and SIGTERM flush at
 * once; the timer only bounds how long records wait when the stream is slow. */
static void batch_linger(struct worker *w)
{
    if (w->batch.n == 0 || uv_is_active((uv_handle_t *)&w->linger))
        return;
    if (w->cfg->batch_linger_ms == 0 || w->linger_expired || w->stopping) {
        worker_flush(w);
        return;
    }
    uv_timer_start(&w->linger, on_linger, (uint64_t)w->cfg->batch_linger_ms, 0);
}

/* While PostgreSQL is down the assignment is paused and the consumer is still polled
 * (rebalances, group liveness); anything fetched before the pause is dropped, as the
 * recovery reassigns at PostgreSQL's offsets. */
static int drain_paused(struct worker *w, int64_t budget)
{
    for (int64_t i = 0; i < budget; i++) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(w->rk, 0);
        if (rkm == NULL)
            return 0;
        rd_kafka_message_destroy(rkm);
        if (!w->pg_down)
            return SHOP_MORE;   /* a rebalance callback found PostgreSQL back */
    }
    return SHOP_MORE;
}

int worker_consume(struct worker *w, int64_t budget)
{
    for (int64_t i = 0; i < budget; i++) {
        if (w->stopping || w->fatal || w->stop_reached)
            return 0;
        if (w->pg_down)
            return drain_paused(w, budget - i);
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(w->rk, 0);
        if (rkm == NULL) {
            batch_linger(w);            /* the queue is empty: close the batch, or soon */
            return 0;
        }
        if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                SHOP_LOG(SHOP_LOG_WARN, "worker", "consumer error", "err=%s detail=\"%s\"",
                         rd_kafka_err2name(rkm->err), rd_kafka_message_errstr(rkm));
            rd_kafka_message_destroy(rkm);
            continue;
        }
        if (past_stop(w, rkm))
            continue;
        batch_add(w, rkm);
        if (w->batch.n == (size_t)w->cfg->batch_max || w->batch.bytes >= (size_t)w->cfg->batch_max_bytes)
            worker_flush(w);
    }
    return SHOP_MORE;
}

static void on_resume(uv_idle_t *handle)
{
    struct worker *w = handle->data;
    if (worker_consume(w, w->cfg->poll_budget) != SHOP_MORE)
        uv_idle_stop(&w->resume);
}

static void start_draining(struct worker *w)
{
    if (worker_consume(w, w->cfg->poll_budget) == SHOP_MORE)
        uv_idle_start(&w->resume, on_resume);   /* no new wake-up for a non-empty queue */
    else
        uv_idle_stop(&w->resume);
}

/* The batch lingered long enough: take what arrived meanwhile, then close it. */
static void on_linger(uv_timer_t *handle)
{
    struct worker *w = handle->data;
    w->linger_expired = true;
    if (!w->pg_down && !w->stopping)
        start_draining(w);          /* flushes when the queue is empty or the batch full */
}

/* librdkafka wrote to the pipe: the consumer queue went non-empty. */
static void on_kafka_readable(uv_poll_t *handle, int status, int events)
{
    struct worker *w = handle->data;
    char buf[256];
    if (status < 0) {
        SHOP_LOG(SHOP_LOG_ERROR, "worker", "wake-up pipe failed", "err=%s", uv_strerror(status));
        return;
    }
    while (read(w->wake_fds[0], buf, sizeof(buf)) > 0)
        ;                                       /* to EAGAIN: uv_poll is level-triggered */
    start_draining(w);
}

/* Without an on_assign hook a role starts where the group's Kafka offsets are. */
static int role_position(struct worker *w, rd_kafka_topic_partition_list_t *parts, struct shop_err *err)
{
    if (w->role->on_assign != NULL)
        return w->role->on_assign(w, parts, err);
    for (int i = 0; i < parts->cnt; i++)
        parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
    return 0;
}

/* Positions come from the role (consumer_offsets for a role that commits there). If
 * PG is unreachable, assign at the Kafka-committed offsets (never ahead of PG's, as
 * Kafka is committed after PG), paused, and let the retry path reassign from PG. */
static bool on_assigned(struct worker *w, rd_kafka_topic_partition_list_t *parts)
{
    struct shop_err err = {0};
    shop_wm_rebalance(&w->metrics, SHOP_WM_ASSIGN);
    if (w->pg_down || role_position(w, parts, &err) < 0) {
        SHOP_LOG(SHOP_LOG_WARN, "worker", "could not read offsets; assigning at kafka offsets", "err=\"%s\"",
                 err.msg);
        for (int i = 0; i < parts->cnt; i++)
            parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        if (!w->pg_down && !w->stopping)
            begin_recovery(w, err.msg);   /* paused: the retry positions them from the role */
    }
    for (int i = 0; !w->pg_down && i < parts->cnt; i++)
        shop_stop_at_note(&w->stop_at, parts->elems[i].topic, parts->elems[i].partition, parts->elems[i].offset);
    return w->pg_down;         /* consumption stays paused until PG is back */
}

/* Flush what was consumed under the old assignment before giving partitions away,
 * so the next owner starts exactly where this one committed. A cooperative revoke names
 * only some partitions: the whole batch commits all the same (the kept partitions' records
 * are committed, not dropped, and their consumption goes on from where it was). If the
 * flush fails, the batch is dropped and the outage's retry seeks the kept partitions
 * back to PostgreSQL's offsets; the revoked ones are the next owner's. */
static void on_revoked(struct worker *w, rd_kafka_topic_partition_list_t *parts)
{
    shop_wm_rebalance(&w->metrics, SHOP_WM_REVOKE);
    if (w->batch.n > 0 && worker_flush(w) < 0)
        SHOP_LOG(SHOP_LOG_WARN, "worker", "could not flush before revoke; the next owner reprocesses",
                 "partitions=%d", parts->cnt);
    if (w->role->on_revoke != NULL)
        w->role->on_revoke(w, parts);
}

static const struct worker_rebalance rebalance = {.assigned = on_assigned, .revoked = on_revoked};

static void on_retry(uv_timer_t *handle)
{
    struct worker *w = handle->data;
    struct shop_err err = {0};
    int rc = 0;
    if (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK)
        rc = worker_pg_connect(w, &err);
    if (rc == 0)
        rc = worker_kafka_reassign(w, role_position, &err);   /* also resumes the partitions */
    if (rc < 0) {
        begin_recovery(w, err.msg);
        return;
    }
    SHOP_LOG(SHOP_LOG_DEBUG, "worker", "postgresql reachable; resuming from committed offsets",
             "attempt=%" PRIu32, w->backoff.failures);
    w->pg_down = false;     /* the backoff keeps growing until a batch commits */
    start_draining(w);
}

static void shutdown_worker(struct worker *w, int signum);

static void on_fatal(uv_timer_t *handle)
{
    shutdown_worker(handle->data, 0);
}

void worker_stop(struct worker *w, int exit_code)
{
    if (w->fatal || w->stopping)
        return;
    w->exit_code = exit_code;
    begin_fatal(w);
}

void worker_pg_failed(struct worker *w, const char *why)
{
    w->stats.pg_failures++;
    begin_recovery(w, why);
}

static void log_stats(struct worker *w, int64_t elapsed_ms)
{
    static struct worker_stats prev;
    double secs = elapsed_ms > 0 ? (double)elapsed_ms / 1000.0 : 1.0;
    SHOP_LOG(SHOP_LOG_INFO, "worker", "stats",
             "events_per_s=%.1f events=%" PRIu64 " batches=%" PRIu64 " dlq=%" PRIu64 " duplicates=%" PRIu64
             " refused=%" PRIu64 " refused_order_exists=%" PRIu64 " refused_unknown_order=%" PRIu64
             " refused_illegal_transition=%" PRIu64 " refused_not_owner=%" PRIu64 " refused_not_allowed=%" PRIu64
             " parked=%" PRIu64 " pg_failures=%" PRIu64 " dedup_probes=%" PRIu64 " splits=%" PRIu64
             " paused=%d lag=%" PRId64,
             (double)(w->stats.events - prev.events) / secs, w->stats.events, w->stats.batches, w->stats.dlq,
             w->stats.duplicates, w->stats.refused, w->stats.refused_by[SHOP_PROJ_REFUSE_ORDER_EXISTS],
             w->stats.refused_by[SHOP_PROJ_REFUSE_UNKNOWN_ORDER], w->stats.refused_by[SHOP_PROJ_REFUSE_ILLEGAL],
             w->stats.refused_by[SHOP_PROJ_REFUSE_NOT_OWNER], w->stats.refused_by[SHOP_PROJ_REFUSE_NOT_ALLOWED],
             w->stats.parked, w->stats.pg_failures, w->stats.dedup_probes, w->stats.splits, (int)w->pg_down,
             worker_kafka_lag(w));
    prev = w->stats;
}

/* Redis-style cron: stats every stats_interval_ms, and a drain as a safety net. */
static void on_cron(uv_timer_t *handle)
{
    struct worker *w = handle->data;
    static int64_t last_stats_ms;
    int64_t now = (int64_t)uv_now(w->loop);
    if (last_stats_ms == 0)
        last_stats_ms = now;
    if (now - last_stats_ms >= w->cfg->stats_interval_ms) {
        log_stats(w, now - last_stats_ms);
        last_stats_ms = now;
    }
    if (w->role->cron != NULL && !w->stopping && !w->fatal)
        w->role->cron(w, worker_now_ms());
    stop_at_check(w);          /* a bounded run that had nothing left to apply */
    if (!w->stopping && !w->fatal && !w->stop_reached)
        worker_http_cron(w);
    if (!w->stopping && !w->fatal && !w->stop_reached)
        start_draining(w);      /* while paused too: the group must see us poll */
}

static void on_closed(uv_handle_t *handle)
{
}

static void close_handles(struct worker *w)
{
    uv_handle_t *handles[] = {(uv_handle_t *)&w->wake,   (uv_handle_t *)&w->resume,  (uv_handle_t *)&w->cron,
                              (uv_handle_t *)&w->linger, (uv_handle_t *)&w->retry,   (uv_handle_t *)&w->sigterm,
                              (uv_handle_t *)&w->sigint};
    for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); i++) {
        if (!uv_is_closing(handles[i]))
            uv_close(handles[i], on_closed);
    }
}

/* Stop polling, flush and commit, leave the group, close every handle. */
static void shutdown_worker(struct worker *w, int signum)
{
    if (w->stopping)
        return;
    SHOP_LOG(SHOP_LOG_INFO, "worker", "shutting down", "signal=%d pending=%zu fatal=%d", signum, w->batch.n,
             (int)w->fatal);
    uv_poll_stop(&w->wake);
    uv_idle_stop(&w->resume);
    uv_timer_stop(&w->retry);
    if ((worker_flush(w) < 0 || w->pg_down || w->fatal) && w->exit_code == 0)
        w->exit_code = 1;
    w->stopping = true;
    log_stats(w, 0);
    if (w->role->stop != NULL)
        w->role->stop(w);
    worker_kafka_close(w);         /* revokes: flushes through on_revoked, may dead-letter */
    worker_dlq_close(w);
    worker_pg_close(w);
    worker_http_stop(w);
    close_handles(w);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    shutdown_worker(handle->data, signum);
}

static int handles_init(struct worker *w)
{
    int rc = uv_poll_init(w->loop, &w->wake, w->wake_fds[0]);
    if (rc < 0)
        return rc;
    uv_idle_init(w->loop, &w->resume);
    uv_timer_init(w->loop, &w->cron);
    uv_timer_init(w->loop, &w->linger);
    uv_timer_init(w->loop, &w->retry);
    uv_signal_init(w->loop, &w->sigterm);
    uv_signal_init(w->loop, &w->sigint);
    w->wake.data = w->resume.data = w->cron.data = w->linger.data = w;
    w->retry.data = w->sigterm.data = w->sigint.data = w;
    uv_poll_start(&w->wake, UV_READABLE, on_kafka_readable);
    uv_timer_start(&w->cron, on_cron, CRON_MS, CRON_MS);
    uv_signal_start(&w->sigterm, on_signal, SIGTERM);
    uv_signal_start(&w->sigint, on_signal, SIGINT);
    return 0;
}

static void worker_init(struct worker *w, const struct shop_worker_cfg *cfg, const struct worker_role *role,
                        uv_loop_t *loop)
{
    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->role = role;
    w->limits = shop_event_limits_default();
    w->loop = loop;
    w->wake_fds[0] = w->wake_fds[1] = -1;
    w->outbox_depth = -1;
    shop_wm_init(&w->metrics);
    shop_backoff_init(&w->backoff, RETRY_FIRST_MS, cfg->pg_retry_max_ms);
    uint64_t seed[3];
    if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
        /* No entropy yet (early boot): the clock and pid still differ per process. */
        seed[0] = (uint64_t)worker_now_ms() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        seed[1] = seed[0] * 0xbf58476d1ce4e5b9ULL + 1;
        seed[2] = seed[1] * 0x94d049bb133111ebULL + 1;
    }
    w->seed = (struct shop_hash_seed){seed[0], seed[1]};
    shop_strmap_seed_default(w->seed);      /* the maps built without a seed (dedup id sets) */
    w->rnd = seed[2] | 1;
    w->batch.recs = shop_xcalloc((size_t)cfg->batch_max, sizeof(*w->batch.recs));
    w->batch.prs = shop_xcalloc((size_t)cfg->batch_max, sizeof(*w->batch.prs));
    w->stop_at = cfg->stop_at;
    if (cfg->stop_at.n > 0) {
        w->stop_at.entries = shop_xcalloc(cfg->stop_at.n, sizeof(*w->stop_at.entries));
        memcpy(w->stop_at.entries, cfg->stop_at.entries, cfg->stop_at.n * sizeof(*w->stop_at.entries));
    }
}

static void worker_fini(struct worker *w)
{
    if (w->role->fini != NULL && w->role_state != NULL)
        w->role->fini(w, w->role_state);
    free(w->batch.recs);
    free(w->batch.prs);
    free(w->stop_at.entries);
    free(w->parts);
    shop_arena_fini(&w->arena);
}

/* Every exit path: the endpoint closed (if it still serves), the loop run out, h2o's
 * context disposed, then the loop closed. Returns uv_loop_close's code. */
static int close_loop(struct worker *w, uv_loop_t *loop)
{
    worker_http_stop(w);
    uv_run(loop, UV_RUN_DEFAULT);
    worker_http_free(w);
    return uv_loop_close(loop);
}

int worker_run(const struct shop_worker_cfg *cfg, const struct worker_role *role)
{
    uv_loop_t loop;
    struct worker w;
    struct shop_err err = {0};
    bool pg_down_at_start = false;
    uv_loop_init(&loop);
    worker_init(&w, cfg, role, &loop);
    if (worker_http_start(&w, &err) < 0) {
        SHOP_LOG(SHOP_LOG_FATAL, "worker", "could not start the http endpoint", "err=\"%s\"", err.msg);
        worker_fini(&w);
        close_loop(&w, &loop);
        return err.code == SHOP_ECONFIG ? 2 : 1;
    }
    int init_rc = role->init != NULL ? role->init(&w, &w.role_state, &err) : 0;
    if (init_rc != 0) {
        int code = init_rc == WORKER_INIT_STOPPED ? 0 : w.exit_code != 0 ? w.exit_code : 1;
        if (init_rc != WORKER_INIT_STOPPED)
            SHOP_LOG(SHOP_LOG_FATAL, "worker", "could not start the role", "role=%s err=\"%s\"", role->name,
                     err.msg);
        worker_fini(&w);
        close_loop(&w, &loop);
        SHOP_LOG(SHOP_LOG_INFO, "worker", "stopped", "exit_code=%d", code);
        return code;
    }
    if (worker_pg_connect(&w, &err) < 0) {
        SHOP_LOG(SHOP_LOG_WARN, "worker", "postgresql unavailable at start; will retry", "err=\"%s\"", err.msg);
        pg_down_at_start = true;
    }
    struct shop_err kerr = {0};
    if (worker_dlq_open(&w, &kerr) < 0 || worker_kafka_open(&w, &rebalance, &kerr) < 0) {
        SHOP_LOG(SHOP_LOG_FATAL, "worker", "could not start kafka client", "err=\"%s\"", kerr.msg);
        worker_kafka_close(&w);
        worker_dlq_close(&w);
        worker_pg_close(&w);
        worker_fini(&w);
        close_loop(&w, &loop);
        return 1;
    }
    handles_init(&w);
    if (pg_down_at_start)
        begin_recovery(&w, err.msg);
    SHOP_LOG(SHOP_LOG_INFO, "worker", "started", "role=%s group=%s", shop_worker_role_name(cfg->role),
             cfg->group_id);
    uv_run(&loop, UV_RUN_DEFAULT);
    int rc = close_loop(&w, &loop);
    if (rc != 0) {
        SHOP_LOG(SHOP_LOG_ERROR, "worker", "loop did not close cleanly", "err=%s", uv_strerror(rc));
        w.exit_code = 1;
    }
    worker_fini(&w);
    SHOP_LOG(SHOP_LOG_INFO, "worker", "stopped", "exit_code=%d", w.exit_code);
    return w.exit_code;
}
