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
#include <unistd.h>

#include "base/shop_log.h"
#include "workers/worker.h"

#define RETRY_FIRST_MS 100
#define CRON_MS 1000

int64_t worker_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void batch_reset(struct worker *w)
{
    uv_timer_stop(&w->linger);
    w->linger_expired = false;
    for (size_t i = 0; i < w->batch.n; i++)
        rd_kafka_message_destroy(w->batch.recs[i].rkm);
    w->batch.n = 0;
    w->batch.n_dlq = 0;
    w->dlq_failed = 0;
    shop_arena_reset(&w->arena);
}

/* Decodes into the batch arena; a poison record is dead-lettered now and its
 * delivery awaited before the batch commits. */
static void batch_add(struct worker *w, rd_kafka_message_t *rkm)
{
    struct worker_rec *rec = &w->batch.recs[w->batch.n];
    struct shop_proj_record *pr = &w->batch.prs[w->batch.n++];
    struct shop_err err = {0};
    Shopstream__V1__Event *ev = NULL;
    const uint8_t *value = rkm->payload != NULL ? rkm->payload : (const uint8_t *)"";
    *rec = (struct worker_rec){.rkm = rkm};
    *pr = (struct shop_proj_record){.topic = rd_kafka_topic_name(rkm->rkt), .partition = rkm->partition,
                                    .offset = rkm->offset};
    if (shop_event_decode(value, rkm->len, &w->limits, &w->arena, &ev, &err) == 0) {
        pr->ev = ev;
        return;
    }
    rec->dlq_reason = shop_arena_strdup(&w->arena, err.msg);
    for (char *c = err.msg; *c != '\0'; c++)
        if (*c == '"')
            *c = '\'';                         /* keep the logfmt value quotable */
    w->stats.dlq++;
    w->batch.n_dlq++;
    SHOP_LOG(SHOP_LOG_WARN, "worker", "dead-lettering record", "topic=%s partition=%" PRId32
             " offset=%" PRId64 " err=\"%s\"", pr->topic, pr->partition, pr->offset, err.msg);
    worker_dlq_produce(w, rec);
}

static void on_retry(uv_timer_t *handle);

/* Stops consuming until PostgreSQL is back; the retry timer reassigns from PG. */
static void begin_recovery(struct worker *w)
{
    w->pg_down = true;
    uv_poll_stop(&w->wake);
    uv_idle_stop(&w->resume);
    uv_timer_stop(&w->linger);
    if (!w->stopping)
        uv_timer_start(&w->retry, on_retry, (uint64_t)w->retry_ms, 0);
}

int worker_flush(struct worker *w)
{
    struct shop_err err = {0};
    if (w->batch.n == 0)
        return 0;
    int rc = w->pg_down ? shop_err_set(&err, SHOP_EPG, "postgresql is down") : 0;
    if (rc == 0 && w->batch.n_dlq > 0)
        rc = worker_dlq_flush(w, &err);
    if (rc == 0)
        rc = w->role->apply(w, &w->batch, &err);
    if (rc < 0) {
        w->stats.pg_failures++;
        SHOP_LOG(SHOP_LOG_ERROR, "worker", "could not apply batch; will reprocess from committed offsets",
                 "records=%zu err=\"%s\"", w->batch.n, err.msg);
        batch_reset(w);
        begin_recovery(w);
        return rc;
    }
    worker_kafka_commit_async(w, &w->batch);
    w->stats.events += w->batch.n;
    w->stats.batches++;
    batch_reset(w);
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

int worker_consume(struct worker *w, int64_t budget)
{
    for (int64_t i = 0; i < budget; i++) {
        if (w->stopping || w->pg_down)
            return 0;
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
        batch_add(w, rkm);
        if (w->batch.n == (size_t)w->cfg->batch_max)
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

static void on_retry(uv_timer_t *handle)
{
    struct worker *w = handle->data;
    struct shop_err err = {0};
    int rc = 0;
    if (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK)
        rc = worker_pg_connect(w, &err);
    if (rc == 0)
        rc = worker_kafka_reassign_from_pg(w, &err);
    if (rc < 0) {
        w->retry_ms = w->retry_ms * 2 > w->cfg->pg_retry_max_ms ? w->cfg->pg_retry_max_ms : w->retry_ms * 2;
        SHOP_LOG(SHOP_LOG_WARN, "worker", "postgresql still unavailable", "retry_ms=%" PRId64 " err=\"%s\"",
                 w->retry_ms, err.msg);
        uv_timer_start(&w->retry, on_retry, (uint64_t)w->retry_ms, 0);
        return;
    }
    SHOP_LOG(SHOP_LOG_INFO, "worker", "postgresql is back; resuming from committed offsets", "%s", "");
    w->pg_down = false;
    w->retry_ms = RETRY_FIRST_MS;
    uv_poll_start(&w->wake, UV_READABLE, on_kafka_readable);
    start_draining(w);
}

static void log_stats(struct worker *w, int64_t elapsed_ms)
{
    static struct worker_stats prev;
    double secs = elapsed_ms > 0 ? (double)elapsed_ms / 1000.0 : 1.0;
    SHOP_LOG(SHOP_LOG_INFO, "worker", "stats",
             "events_per_s=%.1f events=%" PRIu64 " batches=%" PRIu64 " dlq=%" PRIu64 " duplicates=%" PRIu64
             " no_effect=%" PRIu64 " pg_failures=%" PRIu64 " dedup_probes=%" PRIu64 " lag=%" PRId64,
             (double)(w->stats.events - prev.events) / secs, w->stats.events, w->stats.batches, w->stats.dlq,
             w->stats.duplicates, w->stats.rejected, w->stats.pg_failures, w->stats.dedup_probes,
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
    if (!w->pg_down && !w->stopping)
        start_draining(w);
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
    SHOP_LOG(SHOP_LOG_INFO, "worker", "shutting down", "signal=%d pending=%zu", signum, w->batch.n);
    uv_poll_stop(&w->wake);
    uv_idle_stop(&w->resume);
    if (worker_flush(w) < 0 || w->pg_down)
        w->exit_code = 1;
    w->stopping = true;
    log_stats(w, 0);
    worker_kafka_close(w);
    worker_pg_close(w);
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

static void worker_init(struct worker *w, const struct shop_worker_cfg *cfg, uv_loop_t *loop)
{
    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->role = &worker_projector_ops;        /* the only role; chosen by cfg->role */
    w->limits = shop_event_limits_default();
    w->loop = loop;
    w->wake_fds[0] = w->wake_fds[1] = -1;
    w->retry_ms = RETRY_FIRST_MS;
    w->batch.recs = shop_xcalloc((size_t)cfg->batch_max, sizeof(*w->batch.recs));
    w->batch.prs = shop_xcalloc((size_t)cfg->batch_max, sizeof(*w->batch.prs));
}

static void worker_fini(struct worker *w)
{
    free(w->batch.recs);
    free(w->batch.prs);
    shop_arena_fini(&w->arena);
}

int worker_run(const struct shop_worker_cfg *cfg)
{
    uv_loop_t loop;
    struct worker w;
    struct shop_err err = {0};
    uv_loop_init(&loop);
    worker_init(&w, cfg, &loop);
    if (worker_pg_connect(&w, &err) < 0) {
        SHOP_LOG(SHOP_LOG_WARN, "worker", "postgresql unavailable at start; will retry", "err=\"%s\"", err.msg);
        w.pg_down = true;
    }
    if (worker_kafka_open(&w, &err) < 0) {
        SHOP_LOG(SHOP_LOG_FATAL, "worker", "could not start kafka client", "err=\"%s\"", err.msg);
        worker_kafka_close(&w);
        worker_pg_close(&w);
        worker_fini(&w);
        uv_loop_close(&loop);
        return 1;
    }
    handles_init(&w);
    if (w.pg_down)
        begin_recovery(&w);
    SHOP_LOG(SHOP_LOG_INFO, "worker", "started", "role=%s group=%s", shop_worker_role_name(cfg->role),
             cfg->group_id);
    uv_run(&loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&loop);
    if (rc != 0) {
        SHOP_LOG(SHOP_LOG_ERROR, "worker", "loop did not close cleanly", "err=%s", uv_strerror(rc));
        w.exit_code = 1;
    }
    worker_fini(&w);
    SHOP_LOG(SHOP_LOG_INFO, "worker", "stopped", "exit_code=%d", w.exit_code);
    return w.exit_code;
}
