/* SPDX-License-Identifier: MIT
 * The ml role's hooks: the shell around the ML core (workers/core/mlw.h). One
 * instance of the group owns the models: init waits for the group's advisory lock on
 * a connection of its own (the lease), bumps ml_lease.epoch, loads the latest
 * checkpoint and only then joins the consumer group; every write transaction checks
 * the epoch. Each batch is pushed record by record, released, drained through the
 * sink (workers/core/ml_sink.c) and written with the consumer offsets in one
 * transaction; a retrain runs on libuv's thread pool while consumption goes on; the
 * state and models are checkpointed every SHOPSTREAM_ML_CHECKPOINT_MS; the ml.*
 * events go from ml_outbox to <prefix>ml.v1 (workers/relay.c). docs/ml.md, "The ML
 * worker". Shell. Loop thread, except the job's run.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/shop_log.h"
#include "ml/ml_version.h"
#include "proto/core/event_topic.h"
#include "workers/core/ml_sink.h"
#include "workers/core/mlw.h"
#include "workers/core/pgerr.h"
#include "workers/relay.h"
#include "workers/roles/roles.h"
#include "workers/worker.h"

#define ML_EXIT_FENCED 3           /* no longer the owner: restart as a standby */
#define STANDBY_RETRY_MS 1000

/* Where consumption of one partition goes on: the next offset after everything the
 * shell consumed (pushed, or dead-lettered: the core never saw those). consumer_offsets
 * gets less: the applied-through position (applied_next). */
struct ml_pos {
    char topic[SHOP_TOPIC_NAME_MAX];
    int32_t partition;
    int64_t next;
    int64_t written;                /* applied-through committed to consumer_offsets; -1: none yet */
    int64_t pending;                /* what the write in flight says */
};

struct ml {
    struct worker *w;
    struct shop_mlw_cfg mcfg;
    struct shop_mlw *m;
    PGconn *lease;                  /* holds the group's advisory lock for the process lifetime */
    int64_t epoch;
    char epoch_text[SHOP_I64_TEXT_MAX];
    char holder[160];               /* host:pid */
    uint64_t mark;                  /* ml_outbox_mark.last_seq */
    struct shop_arena arena;        /* one write's statements; reset before each */
    struct worker_relay relay;
    char topic[SHOP_TOPIC_NAME_MAX];
    struct ml_pos *pos;
    size_t n_pos, cap_pos;
    uv_work_t work;
    struct shop_mlw_job *job;       /* on the thread pool, or NULL */
    double job_cpu_s;               /* written by the job's thread before its after-callback */
    double last_train_s;
    uv_timer_t idle;                /* the idle flush's check */
    int64_t last_arrival_ms;
    int64_t ckpt_at_ms;
    uint64_t ckpts;
    size_t ckpt_bytes;
    int64_t ckpt_ms;
    bool dirty;                     /* a write failed: the state is ahead of PostgreSQL until reloaded */
    bool fenced;
    bool paused;                    /* the reorder buffer passed buffer_max */
    int64_t stats_at_ms;
    uint64_t job_started_ns;        /* uv_hrtime when the job was queued */
    struct shop_prom_hist retrain[3];   /* a job's wall time, per model it retrained */
};

/* The models in shop_mlw_stats.version's order. */
static const char *const model_names[3] = {"recommend", "segment", "forecast"};
/* A retrain's wall time, seconds: a small shop's warm retrain to a big shop's cold one. */
static const double retrain_bounds[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};

static const struct worker_relay_sql ml_relay_sql = {
    .lock = SHOP_MLSINK_SQL_RELAY_LOCK,
    .read = SHOP_MLSINK_SQL_OUTBOX_READ,
    .del = SHOP_MLSINK_SQL_OUTBOX_DELETE,
    .count = SHOP_MLSINK_SQL_OUTBOX_COUNT,
};

/* ---- positions ---------------------------------------------------------------- */

static struct ml_pos *pos_find(struct ml *ml, const char *topic, int32_t partition, bool add)
{
    for (size_t i = 0; i < ml->n_pos; i++) {
        if (ml->pos[i].partition == partition && strcmp(ml->pos[i].topic, topic) == 0)
            return &ml->pos[i];
    }
    if (!add)
        return NULL;
    if (ml->n_pos == ml->cap_pos) {
        ml->cap_pos = ml->cap_pos ? 2 * ml->cap_pos : 16;
        ml->pos = shop_xrealloc(ml->pos, ml->cap_pos * sizeof(*ml->pos));
    }
    struct ml_pos *p = &ml->pos[ml->n_pos++];
    snprintf(p->topic, sizeof(p->topic), "%s", topic);
    p->partition = partition;
    p->next = 0;
    p->written = p->pending = -1;
    return p;
}

static void pos_advance(struct ml *ml, const char *topic, int32_t partition, int64_t next)
{
    struct ml_pos *p = pos_find(ml, topic, partition, true);
    if (next > p->next)
        p->next = next;
}

static void on_state_offset(void *ctx, enum shop_stream stream, int32_t partition, int64_t next)
{
    void **args = ctx;
    struct worker *w = args[0];
    struct ml *ml = args[1];
    char topic[SHOP_TOPIC_NAME_MAX];
    if (shop_topic_name(topic, sizeof(topic), w->cfg->topic_prefix, stream) == 0)
        pos_advance(ml, topic, partition, next);
}

/* The state's own offsets merged in (what it pushed is never behind what the shell saw). */
static void pos_merge_state(struct worker *w, struct ml *ml)
{
    void *args[2] = {w, ml};
    shop_mlw_offsets(ml->m, on_state_offset, args);
}

static void on_ckpt_offset(void *ctx, const char *topic, int32_t partition, int64_t next)
{
    pos_advance(ctx, topic, partition, next);
}

/* The stream of one of the role's topics (cfg->topics is in the role table's order). */
static int stream_of(const struct worker *w, const char *topic, enum shop_stream *out)
{
    const struct shop_role_desc *d = shop_role_desc(w->cfg->role);
    for (int i = 0; i < w->cfg->n_topics; i++) {
        if (strcmp(topic, w->cfg->topics[i]) == 0) {
            *out = d->streams[i];
            return 0;
        }
    }
    return SHOP_ENOTFOUND;
}

/* ---- PostgreSQL helpers ---------------------------------------------------------- */

/* One statement on conn; bytea parameters (lengths[i] > 0 or formats[i] 1) go binary,
 * results come as text, or binary with binary_out. The SQLSTATE is kept in w. */
static int exec_on(struct worker *w, PGconn *conn, const char *name, const char *sql, int n, const char *const *values,
                   const int *lengths, const int *formats, bool binary_out, ExecStatusType want, PGresult **out,
                   struct shop_err *err)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, values, lengths, formats, binary_out ? 1 : 0);
    return worker_pg_result(w, conn, res, name, want, out, err);
}

static int64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return (int64_t)v;
}

#define FENCED 1

/* Opens a write transaction on w->conn and checks the epoch under a share lock: 0,
 * FENCED when another instance took the models over, or SHOP_EPG. */
static int begin_fenced(struct worker *w, struct ml *ml, struct shop_err *err)
{
    struct shop_sql_stmt sts[2] = {
        {.name = "begin", .sql = "begin"},
        {.name = "ml_epoch_check", .sql = SHOP_MLSINK_SQL_EPOCH_CHECK, .n_params = 2,
         .params = {w->cfg->group_id, ml->epoch_text}},
    };
    PGresult *res = NULL;
    if (worker_pg_exec_pipeline(w, sts, 2, &res, err) < 0)
        return SHOP_EPG;
    int rows = PQntuples(res);
    PQclear(res);
    if (rows == 1)
        return 0;
    worker_pg_rollback(w);
    shop_err_set(err, SHOP_EPG, "the lease's epoch moved past %" PRId64 ": another instance owns the models",
                 ml->epoch);
    return FENCED;
}

static void stop_fenced(struct worker *w, struct ml *ml, const char *why)
{
    if (ml->fenced)
        return;
    ml->fenced = true;
    SHOP_LOG(SHOP_LOG_ERROR, "ml", "no longer the owner of the models; stopping to restart as a standby",
             "epoch=%" PRId64 " exit_code=%d err=\"%s\"", ml->epoch, ML_EXIT_FENCED, why);
    worker_stop(w, ML_EXIT_FENCED);
}

/* ---- writes ------------------------------------------------------------------------ */

static void on_out_event(void *ctx, const struct shop_mlw_out *out)
{
    struct shop_mlsink *s = ctx;
    if (out->seq <= s->mark)
        return;
    uint8_t *bytes = NULL;
    size_t len = 0;
    struct shop_err err = {0};
    if (shop_mlw_out_encode(out, s->arena, &bytes, &len, &err) < 0) {
        /* An event the core built failed its own validation: a bug. */
        SHOP_LOG(SHOP_LOG_FATAL, "ml", "could not encode an ml event", "seq=%" PRIu64 " err=\"%s\"", out->seq, err.msg);
        abort();
    }
    shop_mlsink_outbox(s, out->seq, out->event_id, out->key, bytes, len);
}

/* What a failed write means: fenced stops the worker (standby exit code), a statement
 * our own rows made fail is a bug that every retry repeats (stop), anything else is
 * transient: the state is ahead of PostgreSQL until on_assign reloads it. */
static void write_failed(struct worker *w, struct ml *ml, int rc, const struct shop_err *err)
{
    ml->dirty = true;                /* what was drained is lost: never checkpoint this state */
    if (rc == FENCED) {
        stop_fenced(w, ml, err->msg);
        return;
    }
    bool connected = w->conn != NULL && PQstatus(w->conn) == CONNECTION_OK;
    enum shop_pgerr_kind kind = connected ? shop_pgerr_classify(w->pg_sqlstate) : SHOP_PGERR_TRANSIENT;
    if (kind == SHOP_PGERR_POISON || kind == SHOP_PGERR_FATAL) {   /* a race reloads like an outage */
        SHOP_LOG(SHOP_LOG_FATAL, "ml", "postgresql refuses what the ml sink wrote; stopping", "sqlstate=%s err=\"%s\"",
                 w->pg_sqlstate, err->msg);
        worker_stop(w, 1);
    }
}

/* Applied through: the lowest offset the reorder buffer still holds, else where
 * consumption goes on. consumer_offsets says "event o's effect is visible" when its
 * next_offset > o (read-your-writes reads check it in the read's snapshot), so it must
 * not pass a record still buffered; the checkpoint's offsets (p->next) do, since the
 * checkpoint stores the buffer. */
static int64_t applied_next(struct ml *ml, const struct ml_pos *p)
{
    enum shop_stream stream;
    int64_t held;
    if (stream_of(ml->w, p->topic, &stream) == 0 && shop_mlw_held(ml->m, stream, p->partition, &held) &&
        held < p->next)
        return held;
    return p->next;
}

/* Every partition whose applied-through moved since the last commit, for
 * consumer_offsets (one row each): a release moves partitions that had no record in the
 * batch, and an idle flush or a swap moves them with no batch at all. */
static void add_applied_offsets(struct ml *ml, struct shop_mlsink *s)
{
    for (size_t i = 0; i < ml->n_pos; i++) {
        struct ml_pos *p = &ml->pos[i];
        p->pending = applied_next(ml, p);
        if (p->pending > p->written)
            shop_mlsink_offset(s, p->topic, p->partition, p->pending);
    }
}

/* Drains what changed, and the offsets applied through, into s's statements: true when
 * the core handed something out (offsets alone can be written again later). */
static bool drain_into(struct ml *ml, struct shop_mlsink *s)
{
    shop_arena_reset(&ml->arena);
    shop_mlsink_init(s, &ml->arena, ml->mark);
    struct shop_mlw_sink sink = shop_mlsink_sink(s);
    sink.event = on_out_event;
    shop_mlw_drain(ml->m, &sink);
    bool drained = !shop_mlsink_empty(s);
    add_applied_offsets(ml, s);
    return drained;
}

/* Runs s's statements inside the fenced transaction, with the commit when asked. */
static int run_sink(struct worker *w, struct ml *ml, struct shop_mlsink *s, bool commit, struct shop_err *err)
{
    struct shop_plan *plan = shop_arena_alloc(&ml->arena, sizeof(*plan));
    shop_mlsink_plan(s, w->cfg->group_id, worker_now_ms(), plan);
    if (commit)
        plan->stmts[plan->n++] = (struct shop_sql_stmt){.name = "commit", .sql = "commit"};
    if (plan->n > 0 && worker_pg_exec_pipeline(w, plan->stmts, plan->n, NULL, err) < 0) {
        worker_pg_rollback(w);
        return SHOP_EPG;
    }
    return 0;
}

static void sink_committed(struct ml *ml, const struct shop_mlsink *s)
{
    if (s->last_seq > ml->mark)
        ml->relay.due = true;
    ml->mark = s->last_seq;
    for (size_t i = 0; i < ml->n_pos; i++)
        if (ml->pos[i].pending > ml->pos[i].written)
            ml->pos[i].written = ml->pos[i].pending;
}

/* Drains what changed into one transaction with the offsets applied through, the epoch
 * checked first. 0 (nothing to write is 0 too), FENCED or SHOP_EPG (rolled back). */
static int write_drained(struct worker *w, struct ml *ml, struct shop_err *err)
{
    struct shop_mlsink s;
    drain_into(ml, &s);
    if (shop_mlsink_empty(&s))
        return 0;
    if (w->conn == NULL)
        return shop_err_set(err, SHOP_EPG, "no postgresql connection");
    int rc = begin_fenced(w, ml, err);
    if (rc == 0)
        rc = run_sink(w, ml, &s, true, err);
    if (rc == 0)
        sink_committed(ml, &s);
    return rc;
}

/* ---- the retrain on the thread pool ----------------------------------------------- */

static void take_job(struct worker *w, struct ml *ml);

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A thread of libuv's pool: touches only the job. */
static void on_job_run(uv_work_t *req)
{
    struct ml *ml = req->data;
    double t0 = thread_cpu_s();
    shop_mlw_job_run(ml->job);
    ml->job_cpu_s = thread_cpu_s() - t0;
}

static void pause_if_full(struct worker *w, struct ml *ml)
{
    bool full = shop_mlw_buffered(ml->m) > ml->mcfg.buffer_max;
    if (full == ml->paused)
        return;
    ml->paused = full;
    worker_kafka_pause(w, full);
    SHOP_LOG(SHOP_LOG_INFO, "ml", full ? "reorder buffer full; consumption paused" : "consumption resumed",
             "buffered=%zu buffer_max=%zu waiting=%d", shop_mlw_buffered(ml->m), ml->mcfg.buffer_max,
             (int)shop_mlw_waiting(ml->m));
}

/* Releases what is due (all of it with flush) and writes it; a job that came due goes
 * to the thread pool. */
static void release_and_write(struct worker *w, struct ml *ml, bool flush)
{
    struct shop_err err = {0};
    shop_mlw_release(ml->m, flush);
    int rc = write_drained(w, ml, &err);
    if (rc != 0) {
        write_failed(w, ml, rc, &err);
        if (ml->dirty)
            worker_pg_failed(w, err.msg);
        return;
    }
    worker_relay_run(w, &ml->relay);
    take_job(w, ml);
    pause_if_full(w, ml);
}

/* Loop thread, after the run: swap the models in, then release up to the next swap. */
static void on_job_done(uv_work_t *req, int status)
{
    struct ml *ml = req->data;
    struct worker *w = ml->w;
    struct shop_mlw_job *job = ml->job;
    ml->job = NULL;
    if (status != 0 || w->stopping || w->fatal || ml->dirty || ml->fenced) {
        shop_mlw_job_free(ml->m, job);      /* the reloaded state takes the retrain again */
        return;
    }
    double wall_s = (double)(uv_hrtime() - ml->job_started_ns) / 1e9;
    for (size_t i = 0; i < 3; i++) {
        if (shop_mlw_job_model(job, i) != NULL)
            shop_prom_hist_observe(&ml->retrain[i], wall_s);
    }
    shop_mlw_job_finish(ml->m, job);
    ml->last_train_s = ml->job_cpu_s;
    SHOP_LOG(SHOP_LOG_INFO, "ml", "retrain swapped in", "cpu_s=%.3f clock_ms=%" PRId64, ml->last_train_s,
             shop_mlw_clock(ml->m));
    release_and_write(w, ml, false);
}

static void take_job(struct worker *w, struct ml *ml)
{
    if (ml->job != NULL || w->stopping || w->fatal || ml->dirty)
        return;
    ml->job = shop_mlw_job_take(ml->m);
    if (ml->job == NULL)
        return;
    ml->work.data = ml;
    ml->job_started_ns = uv_hrtime();
    int rc = uv_queue_work(w->loop, &ml->work, on_job_run, on_job_done);
    if (rc < 0) {
        SHOP_LOG(SHOP_LOG_ERROR, "ml", "could not queue the retrain", "err=%s", uv_strerror(rc));
        shop_mlw_job_free(ml->m, ml->job);
        ml->job = NULL;
    }
}

/* ---- hooks -------------------------------------------------------------------------- */

static int ml_apply(struct worker *w, struct worker_batch *b, struct shop_err *err)
{
    struct ml *ml = w->role_state;
    if (ml->dirty) {
        w->pg_sqlstate[0] = '\0';    /* transient for the loop: never split nor dead-letter for it */
        return shop_err_set(err, SHOP_EPG, "the ml state waits to be reloaded from its checkpoint");
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct shop_proj_record *pr = &b->prs[i];
        enum shop_stream stream;
        pos_advance(ml, pr->topic, pr->partition, pr->offset + 1);
        if (pr->ev == NULL || stream_of(w, pr->topic, &stream) < 0)
            continue;
        if (shop_mlw_push(ml->m, stream, pr->partition, pr->offset, pr->ev) < 0) {
            SHOP_LOG(SHOP_LOG_FATAL, "ml", "out of memory pushing an event", "topic=%s partition=%" PRId32
                     " offset=%" PRId64, pr->topic, pr->partition, pr->offset);
            abort();
        }
    }
    ml->last_arrival_ms = worker_now_ms();
    if (!shop_mlw_waiting(ml->m))
        shop_mlw_release(ml->m, false);
    int rc = write_drained(w, ml, err);
    if (rc != 0) {
        write_failed(w, ml, rc, err);
        return SHOP_EPG;
    }
    worker_relay_run(w, &ml->relay);
    take_job(w, ml);
    pause_if_full(w, ml);
    return 0;
}

/* Loads the newest checkpoint of the group that restores (the one before it if the
 * newest does not) into a new state, with the positions its offsets name; none: an
 * empty state from the start of every partition. */
static int load_checkpoint(struct worker *w, struct ml *ml, PGconn *conn, struct shop_err *err)
{
    const char *params[1] = {w->cfg->group_id};
    PGresult *ck = NULL;
    if (exec_on(w, conn, "ml_ckpt_latest", SHOP_MLSINK_SQL_CKPT_LATEST, 1, params, NULL, NULL, true, PGRES_TUPLES_OK,
                &ck, err) < 0)
        return SHOP_EPG;
    int rc = 0;
    for (int r = 0; r < PQntuples(ck) && rc == 0; r++) {
        char id[SHOP_I64_TEXT_MAX];
        shop_i64_text(id, be64(PQgetvalue(ck, r, 0)));
        const char *sp[1] = {id};
        PGresult *sn = NULL;
        if (exec_on(w, conn, "ml_snapshots_read", SHOP_MLSINK_SQL_SNAPSHOTS_READ, 1, sp, NULL, NULL, true,
                    PGRES_TUPLES_OK, &sn, err) < 0) {
            rc = SHOP_EPG;
            break;
        }
        struct shop_mlw_part parts[SHOP_MLW_PARTS_MAX];
        size_t n = 0;
        parts[n++] = (struct shop_mlw_part){.model = "state", .version = (uint64_t)be64(PQgetvalue(ck, r, 3)),
                                            .bytes = (const uint8_t *)PQgetvalue(ck, r, 2),
                                            .len = (size_t)PQgetlength(ck, r, 2)};
        for (int s = 0; s < PQntuples(sn) && n < SHOP_MLW_PARTS_MAX; s++, n++) {
            parts[n] = (struct shop_mlw_part){.model = PQgetvalue(sn, s, 0),
                                              .version = (uint64_t)be64(PQgetvalue(sn, s, 1)),
                                              .trained_at_ms = be64(PQgetvalue(sn, s, 2)),
                                              .bytes = (const uint8_t *)PQgetvalue(sn, s, 3),
                                              .len = (size_t)PQgetlength(sn, s, 3)};
            snprintf(parts[n].metrics_json, sizeof(parts[n].metrics_json), "%.*s", PQgetlength(sn, s, 4),
                     PQgetvalue(sn, s, 4));
        }
        struct shop_err rerr = {0};
        if (shop_mlw_restore(ml->m, parts, n, &rerr) == 0) {
            char *offsets = shop_arena_alloc(&ml->arena, (size_t)PQgetlength(ck, r, 1) + 1);
            memcpy(offsets, PQgetvalue(ck, r, 1), (size_t)PQgetlength(ck, r, 1));
            if (shop_mlsink_offsets_parse(offsets, on_ckpt_offset, ml, &rerr) < 0)
                SHOP_LOG(SHOP_LOG_WARN, "ml", "checkpoint offsets unreadable; using the state's", "id=%s err=\"%s\"", id,
                         rerr.msg);
            SHOP_LOG(SHOP_LOG_INFO, "ml", "checkpoint loaded", "id=%s parts=%zu clock_ms=%" PRId64, id, n,
                     shop_mlw_clock(ml->m));
            PQclear(sn);
            rc = 1;
            break;
        }
        SHOP_LOG(SHOP_LOG_WARN, "ml", "checkpoint does not load; trying the one before", "id=%s err=\"%s\"", id,
                 rerr.msg);
        PQclear(sn);
    }
    if (rc == 0 && PQntuples(ck) > 0)
        SHOP_LOG(SHOP_LOG_WARN, "ml", "no checkpoint loads; starting from an empty state", "tried=%d", PQntuples(ck));
    else if (rc == 0)
        SHOP_LOG(SHOP_LOG_INFO, "ml", "no checkpoint yet; starting from an empty state", "group=%s", w->cfg->group_id);
    PQclear(ck);
    if (rc < 0)
        return rc;
    pos_merge_state(w, ml);
    return 0;
}

static int read_mark(struct worker *w, struct ml *ml, PGconn *conn, struct shop_err *err)
{
    const char *params[1] = {w->cfg->group_id};
    PGresult *res = NULL;
    if (exec_on(w, conn, "ml_mark_read", SHOP_MLSINK_SQL_MARK_READ, 1, params, NULL, NULL, false, PGRES_TUPLES_OK, &res,
                err) < 0)
        return SHOP_EPG;
    ml->mark = PQntuples(res) == 1 ? strtoull(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    PQclear(res);
    return 0;
}

/* A new state, the latest checkpoint and the outbox mark: at start, and after a failed
 * write (what the state held past PostgreSQL is replayed from the checkpoint's offsets:
 * the same events again, the same rows, the same outbox seqs). */
static int reload_state(struct worker *w, struct ml *ml, PGconn *conn, struct shop_err *err)
{
    struct shop_mlw *fresh = NULL;
    if (shop_mlw_new(&ml->mcfg, &fresh, err) < 0)
        return err->code;
    struct shop_mlw *old = ml->m;
    struct ml_pos *old_pos = ml->pos;
    size_t old_n = ml->n_pos, old_cap = ml->cap_pos;
    ml->m = fresh;
    ml->pos = NULL;
    ml->n_pos = ml->cap_pos = 0;
    int rc = load_checkpoint(w, ml, conn, err);
    if (rc == 0)
        rc = read_mark(w, ml, conn, err);
    if (rc < 0) {                    /* keep what was there: the reload is tried again */
        shop_mlw_free(fresh);
        free(ml->pos);
        ml->m = old;
        ml->pos = old_pos;
        ml->n_pos = old_n;
        ml->cap_pos = old_cap;
        return rc;
    }
    if (old != NULL)
        shop_mlw_free(old);
    free(old_pos);
    ml->paused = false;              /* the reassignment resumes every partition */
    return 0;
}

/* Where partitions start: the state's positions, never consumer_offsets (those only
 * feed shopstream-admin lag); a partition never seen starts at 0 (auto.offset.reset
 * earliest if retention removed it). After a failed write, the state is reloaded first. */
static int ml_on_assign(struct worker *w, rd_kafka_topic_partition_list_t *parts, struct shop_err *err)
{
    struct ml *ml = w->role_state;
    if (ml->dirty) {
        if (ml->job != NULL)
            return shop_err_set(err, SHOP_EBUSY, "a retrain is running; the state reloads after it");
        if (w->conn == NULL || PQstatus(w->conn) != CONNECTION_OK)
            return shop_err_set(err, SHOP_EPG, "no postgresql connection");
        if (reload_state(w, ml, w->conn, err) < 0)
            return SHOP_EPG;
        ml->dirty = false;
        SHOP_LOG(SHOP_LOG_INFO, "ml", "state reloaded from the checkpoint after a failed write", "clock_ms=%" PRId64,
                 shop_mlw_clock(ml->m));
    }
    for (int i = 0; i < parts->cnt; i++) {
        const struct ml_pos *p = pos_find(ml, parts->elems[i].topic, parts->elems[i].partition, false);
        parts->elems[i].offset = p != NULL ? p->next : 0;
    }
    return 0;
}

/* Every assigned partition consumed up to its high watermark (as last fetched); each is
 * marked idle or not in the core, so one at its end holds no release back (a partition
 * the state saw but this instance is not assigned stays a hold). *released gets whether
 * a partition became idle. */
static bool caught_up(struct worker *w, struct ml *ml, bool *released)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    *released = false;
    if (w->rk == NULL || rd_kafka_assignment(w->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return false;
    bool all = parts->cnt > 0;
    for (int i = 0; i < parts->cnt; i++) {
        int64_t lo, hi;
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        const struct ml_pos *p = pos_find(ml, tp->topic, tp->partition, false);
        bool end = rd_kafka_get_watermark_offsets(w->rk, tp->topic, tp->partition, &lo, &hi) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR &&
                   hi >= 0 && (p != NULL ? p->next : 0) >= hi;
        enum shop_stream stream;
        if (stream_of(w, tp->topic, &stream) == 0) {
            int64_t due = shop_mlw_due(ml->m);
            shop_mlw_partition_idle(ml->m, stream, tp->partition, end);
            *released |= shop_mlw_due(ml->m) != due;
        }
        all &= end;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return all;
}

/* The consumer is caught up and nothing arrived for idle_flush_ms: release everything
 * the reorder buffer holds. */
static void on_idle_check(uv_timer_t *handle)
{
    struct ml *ml = handle->data;
    struct worker *w = ml->w;
    if (w->stopping || w->fatal || w->pg_down || ml->dirty || w->batch.n > 0 || shop_mlw_buffered(ml->m) == 0 ||
        shop_mlw_waiting(ml->m))
        return;
    bool released;
    bool all = caught_up(w, ml, &released);
    if (!all || worker_now_ms() - ml->last_arrival_ms < w->cfg->ml_idle_flush_ms) {
        if (released)   /* a partition reached its end: what it held back may be due now */
            release_and_write(w, ml, false);
        return;
    }
    SHOP_LOG(SHOP_LOG_DEBUG, "ml", "idle and caught up; flushing the reorder buffer", "buffered=%zu",
             shop_mlw_buffered(ml->m));
    release_and_write(w, ml, true);
}

/* Adds the partitions the state saw but the shell did not (none, normally). */
static size_t ckpt_offsets(struct worker *w, struct ml *ml, const char ***topics, int32_t **partitions, int64_t **nexts)
{
    pos_merge_state(w, ml);
    *topics = shop_arena_alloc(&ml->arena, (ml->n_pos + 1) * sizeof(**topics));
    *partitions = shop_arena_alloc(&ml->arena, (ml->n_pos + 1) * sizeof(**partitions));
    *nexts = shop_arena_alloc(&ml->arena, (ml->n_pos + 1) * sizeof(**nexts));
    for (size_t i = 0; i < ml->n_pos; i++) {
        (*topics)[i] = ml->pos[i].topic;
        (*partitions)[i] = ml->pos[i].partition;
        (*nexts)[i] = ml->pos[i].next;
    }
    return ml->n_pos;
}

/* One snapshot row: its payload goes binary. */
static int insert_snapshot(struct worker *w, const char *id, const struct shop_mlw_part *p, struct shop_err *err)
{
    char version[SHOP_I64_TEXT_MAX], format[SHOP_I64_TEXT_MAX], trained[SHOP_I64_TEXT_MAX];
    shop_i64_text(version, p->version > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)p->version);
    shop_i64_text(format, SHOP_ML_FORMAT_VERSION);
    shop_i64_text(trained, p->trained_at_ms);
    const char *values[7] = {id, p->model, version, format, (const char *)p->bytes,
                             p->metrics_json[0] ? p->metrics_json : "{}", p->trained_at_ms != 0 ? trained : NULL};
    int lengths[7] = {0, 0, 0, 0, (int)p->len, 0, 0};
    int formats[7] = {0, 0, 0, 0, 1, 0, 0};
    return exec_on(w, w->conn, "ml_snapshot_insert", SHOP_MLSINK_SQL_SNAPSHOT_INSERT, 7, values, lengths, formats, false,
                   PGRES_COMMAND_OK, NULL, err);
}

/* The checkpoint's rows, inside the fenced transaction: the state part in ml_checkpoints
 * with the offsets, each model in ml_snapshots, older checkpoints pruned. */
static int insert_checkpoint(struct worker *w, struct ml *ml, const struct shop_mlw_part *parts, int n,
                             struct shop_err *err)
{
    const struct shop_mlw_part *state = NULL;
    for (int i = 0; i < n; i++)
        if (strcmp(parts[i].model, "state") == 0)
            state = &parts[i];
    if (state == NULL)
        return shop_err_set(err, SHOP_EINVAL, "the checkpoint has no state part");
    const char **topics;
    int32_t *partitions;
    int64_t *nexts;
    size_t n_off = ckpt_offsets(w, ml, &topics, &partitions, &nexts);
    const char *offsets = shop_mlsink_offsets_json(&ml->arena, topics, partitions, nexts, n_off);
    char watermark[SHOP_I64_TEXT_MAX], sv[SHOP_I64_TEXT_MAX], id[SHOP_I64_TEXT_MAX];
    shop_i64_text(watermark, shop_mlw_clock(ml->m));
    shop_i64_text(sv, state->version > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)state->version);
    const char *values[6] = {w->cfg->group_id, ml->epoch_text, watermark, offsets, (const char *)state->bytes, sv};
    int lengths[6] = {0, 0, 0, 0, (int)state->len, 0};
    int formats[6] = {0, 0, 0, 0, 1, 0};
    PGresult *res = NULL;
    if (exec_on(w, w->conn, "ml_ckpt_insert", SHOP_MLSINK_SQL_CKPT_INSERT, 6, values, lengths, formats, false,
                PGRES_TUPLES_OK, &res, err) < 0)
        return SHOP_EPG;
    snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    for (int i = 0; i < n; i++) {
        if (&parts[i] != state && insert_snapshot(w, id, &parts[i], err) < 0)
            return SHOP_EPG;
    }
    const char *prune[1] = {w->cfg->group_id};
    if (exec_on(w, w->conn, "ml_ckpt_prune", SHOP_MLSINK_SQL_CKPT_PRUNE, 1, prune, NULL, NULL, false, PGRES_COMMAND_OK,
                NULL, err) < 0 ||
        exec_on(w, w->conn, "commit", "commit", 0, NULL, NULL, NULL, false, PGRES_COMMAND_OK, NULL, err) < 0)
        return SHOP_EPG;
    return 0;
}

/* A consistent cut of the state and its models, written with the offsets it covers and
 * what was drained before the cut (the core cuts only a drained state), in one
 * transaction. Not while a job is out or the state is ahead of PostgreSQL. */
static void checkpoint(struct worker *w, struct ml *ml, int64_t now_ms)
{
    if (ml->dirty || ml->fenced || ml->job != NULL || w->pg_down || w->conn == NULL ||
        PQstatus(w->conn) != CONNECTION_OK || shop_mlw_job_out(ml->m))
        return;
    struct shop_err err = {0};
    struct shop_mlw_part parts[SHOP_MLW_PARTS_MAX];
    struct shop_mlsink s;
    int64_t t0 = worker_now_ms();
    ml->ckpt_at_ms = now_ms;        /* a failed one is tried again a period later */
    bool drained = drain_into(ml, &s);
    int n = shop_mlw_checkpoint(ml->m, parts, SHOP_MLW_PARTS_MAX, &err);
    if (n < 0 && !drained) {
        SHOP_LOG(SHOP_LOG_WARN, "ml", "could not take a checkpoint", "err=\"%s\"", err.msg);
        return;
    }
    int rc = begin_fenced(w, ml, &err);
    if (rc == 0)
        rc = run_sink(w, ml, &s, n < 0, &err);
    if (rc == 0 && n >= 0 && insert_checkpoint(w, ml, parts, n, &err) < 0) {
        worker_pg_rollback(w);
        rc = SHOP_EPG;
    }
    if (rc != 0 && (drained || rc == FENCED)) {
        write_failed(w, ml, rc, &err);
        if (ml->dirty && !w->fatal && !w->stopping)
            worker_pg_failed(w, err.msg);
        return;
    }
    if (rc != 0) {
        SHOP_LOG(SHOP_LOG_WARN, "ml", "could not write a checkpoint; retrying next period", "sqlstate=%s err=\"%s\"",
                 w->pg_sqlstate, err.msg);
        return;
    }
    sink_committed(ml, &s);
    if (n < 0) {
        SHOP_LOG(SHOP_LOG_WARN, "ml", "could not take a checkpoint", "err=\"%s\"", err.msg);
        return;
    }
    ml->ckpts++;
    ml->ckpt_bytes = 0;
    for (int i = 0; i < n; i++)
        ml->ckpt_bytes += parts[i].len;
    ml->ckpt_ms = worker_now_ms() - t0;
    SHOP_LOG(SHOP_LOG_DEBUG, "ml", "checkpoint written", "bytes=%zu ms=%" PRId64 " clock_ms=%" PRId64, ml->ckpt_bytes,
             ml->ckpt_ms, shop_mlw_clock(ml->m));
}

/* The lease's session is what the advisory lock lives in: once it is gone another
 * instance may own the models, so this one stops owning them. */
static void check_lease(struct worker *w, struct ml *ml)
{
    PGresult *res = PQexec(ml->lease, "select 1");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!ok || PQstatus(ml->lease) != CONNECTION_OK)
        stop_fenced(w, ml, "the lease's connection (which holds the advisory lock) was lost");
}

static void log_ml_stats(struct ml *ml)
{
    struct shop_mlw_stats s;
    shop_mlw_stats(ml->m, &s);
    SHOP_LOG(SHOP_LOG_INFO, "ml", "stats",
             "events=%" PRIu64 " applied=%" PRIu64 " ignored=%" PRIu64 " late=%" PRIu64 " duplicates=%" PRIu64
             " purchases=%" PRIu64 " retracted=%" PRIu64 " jobs=%" PRIu64 " users=%" PRIu64 " items=%" PRIu64
             " version_recommend=%" PRIu64 " version_segment=%" PRIu64 " version_forecast=%" PRIu64
             " buffered=%zu waiting=%d paused=%d clock_ms=%" PRId64 " checkpoints=%" PRIu64 " checkpoint_bytes=%zu"
             " checkpoint_ms=%" PRId64 " last_train_cpu_s=%.3f relayed=%" PRIu64 " relay_failures=%" PRIu64
             " epoch=%" PRId64,
             s.pushed, s.applied, s.ignored, s.late, s.duplicates, s.purchases, s.retracted, s.jobs, s.users, s.items,
             s.version[0], s.version[1], s.version[2], shop_mlw_buffered(ml->m), (int)shop_mlw_waiting(ml->m),
             (int)ml->paused, shop_mlw_clock(ml->m), ml->ckpts, ml->ckpt_bytes, ml->ckpt_ms, ml->last_train_s,
             ml->relay.relayed, ml->relay.failures, ml->epoch);
}

static void ml_cron(struct worker *w, int64_t now_ms)
{
    struct ml *ml = w->role_state;
    check_lease(w, ml);
    if (ml->fenced)
        return;
    if (w->conn != NULL && !w->pg_down) {
        ml->relay.due = true;
        worker_relay_run(w, &ml->relay);
        worker_relay_count(w, &ml->relay);
    }
    if (now_ms - ml->ckpt_at_ms >= w->cfg->ml_checkpoint_ms)
        checkpoint(w, ml, now_ms);
    if (now_ms - ml->stats_at_ms >= w->cfg->stats_interval_ms) {
        ml->stats_at_ms = now_ms;
        log_ml_stats(ml);
    }
}

/* Shutdown: a last checkpoint when the state is PostgreSQL's (nothing is flushed
 * early: the reorder buffer is part of the checkpoint). */
static void ml_stop(struct worker *w)
{
    struct ml *ml = w->role_state;
    uv_close((uv_handle_t *)&ml->idle, NULL);
    if (ml->job != NULL || shop_mlw_job_out(ml->m))
        SHOP_LOG(SHOP_LOG_INFO, "ml", "no last checkpoint: a retrain is out until its swap point; a restart replays "
                 "from the previous checkpoint", "checkpoints=%" PRIu64, ml->ckpts);
    else if (!ml->fenced && !ml->dirty && !w->pg_down && !w->fatal)
        checkpoint(w, ml, worker_now_ms());
    if (!ml->fenced && !w->pg_down && !w->fatal)
        worker_relay_run(w, &ml->relay);
    log_ml_stats(ml);
}

/* /metrics: each model's published version and the retrains' wall time (a standby has
 * no state yet: nothing). */
static void ml_metrics(struct worker *w, struct shop_prom *out, const struct shop_prom_label *base, size_t n_base)
{
    struct ml *ml = w->role_state;
    if (ml == NULL || ml->m == NULL)
        return;
    struct shop_mlw_stats s;
    shop_mlw_stats(ml->m, &s);
    struct shop_prom_label l[3] = {base[0], base[1]};
    shop_prom_family(out, "shopstream_ml_model_version", "gauge", "The version of each model serving now (0: none yet).");
    for (size_t i = 0; i < 3; i++) {
        l[2] = (struct shop_prom_label){"model", model_names[i]};
        shop_prom_sample_u64(out, "shopstream_ml_model_version", l, n_base + 1, s.version[i]);
    }
    shop_prom_family(out, "shopstream_ml_retrain_duration_seconds", "histogram",
                     "Wall time of a retrain job on the thread pool, observed for each model it retrained.");
    for (size_t i = 0; i < 3; i++) {
        l[2] = (struct shop_prom_label){"model", model_names[i]};
        shop_prom_histogram(out, "shopstream_ml_retrain_duration_seconds", l, n_base + 1, &ml->retrain[i]);
    }
}

/* ---- init: the lease ----------------------------------------------------------- */

/* Waits up to ms for SIGTERM or SIGINT (blocked while init runs): true if one came. */
static bool signalled(int64_t ms)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    int sig;
    while ((sig = sigtimedwait(&set, NULL, &ts)) < 0 && errno == EINTR)
        ;
    return sig == SIGTERM || sig == SIGINT;
}

/* Waits ms for SIGTERM or SIGINT: serving the HTTP endpoint meanwhile when it is on (a
 * standby stays live for its liveness probe), else asleep. True if one came. */
static bool standby_wait(struct worker *w, int64_t ms)
{
    if (worker_http_serve_for(w, ms) == 0)
        return signalled(0);
    return signalled(ms);
}

/* 1 when the lock is ours, 0 when another instance holds it, SHOP_EPG. */
static int try_lock(struct worker *w, struct ml *ml, struct shop_err *err)
{
    if (ml->lease == NULL || PQstatus(ml->lease) != CONNECTION_OK) {
        if (ml->lease != NULL)
            PQfinish(ml->lease);
        ml->lease = worker_pg_open(w->cfg, "shopstream-worker/ml-lease", err);
        if (ml->lease == NULL)
            return SHOP_EPG;
    }
    const char *params[1] = {w->cfg->group_id};
    PGresult *res = NULL;
    if (exec_on(w, ml->lease, "ml_try_lock", SHOP_MLSINK_SQL_TRY_LOCK, 1, params, NULL, NULL, false, PGRES_TUPLES_OK,
                &res, err) < 0)
        return SHOP_EPG;
    int mine = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return mine;
}

/* A standby waits here, before it joins the consumer group, so it never takes
 * partitions from the owner. 0 once the lock is ours, WORKER_INIT_STOPPED on SIGTERM. */
static int wait_for_lease(struct worker *w, struct ml *ml)
{
    bool told = false, told_pg = false;
    for (;;) {
        struct shop_err err = {0};
        int rc = try_lock(w, ml, &err);
        if (rc == 1)
            break;
        w->unready = "standby";             /* /readyz: 503 naming it until the lease is ours */
        if (rc == 0 && !told) {
            SHOP_LOG(SHOP_LOG_INFO, "ml", "standby: another instance owns the models; waiting for the lease",
                     "group=%s retry_ms=%d", w->cfg->group_id, STANDBY_RETRY_MS);
            told = true;
        } else if (rc < 0 && !told_pg) {
            SHOP_LOG(SHOP_LOG_WARN, "ml", "could not ask for the lease; retrying", "err=\"%s\"", err.msg);
            told_pg = true;
        }
        if (standby_wait(w, STANDBY_RETRY_MS)) {
            SHOP_LOG(SHOP_LOG_INFO, "ml", "stopped while waiting for the lease", "group=%s", w->cfg->group_id);
            return WORKER_INIT_STOPPED;
        }
    }
    w->unready = NULL;
    if (signalled(0))
        return WORKER_INIT_STOPPED;
    return 0;
}

static int take_lease(struct worker *w, struct ml *ml, struct shop_err *err)
{
    const char *params[2] = {w->cfg->group_id, ml->holder};
    PGresult *res = NULL;
    if (exec_on(w, ml->lease, "ml_lease_take", SHOP_MLSINK_SQL_LEASE_TAKE, 2, params, NULL, NULL, false,
                PGRES_TUPLES_OK, &res, err) < 0)
        return SHOP_EPG;
    ml->epoch = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    shop_i64_text(ml->epoch_text, ml->epoch);
    PQclear(res);
    SHOP_LOG(SHOP_LOG_INFO, "ml", "owner of the models", "group=%s epoch=%" PRId64 " holder=%s", w->cfg->group_id,
             ml->epoch, ml->holder);
    return 0;
}

static int core_cfg(const struct shop_worker_cfg *cfg, struct shop_mlw_cfg *mcfg, struct shop_err *err)
{
    shop_mlw_cfg_default(mcfg);
    mcfg->lateness_ms = cfg->ml_lateness_ms;
    mcfg->retrain_every_ms = cfg->ml_retrain_every_ms;
    mcfg->drift_threshold = cfg->ml_drift;
    mcfg->swap_after_ms = cfg->ml_swap_after_ms;
    mcfg->segments = (uint32_t)cfg->ml_segments;
    mcfg->seed = (uint64_t)cfg->ml_seed;
    /* Partitions consumed ahead in event time (an uneven backlog, or only some assigned
     * after a restart) must wait for the others; mark_idle says which are at their end. */
    mcfg->hold_partitions = true;
    return shop_mlw_cfg_validate(mcfg, err);
}

/* Everything after the lease is ours: epoch, state, producer, idle check. */
static int start_owner(struct worker *w, struct ml *ml, struct shop_err *err)
{
    if (take_lease(w, ml, err) < 0 || reload_state(w, ml, ml->lease, err) < 0)
        return err->code;
    if (shop_topic_name(ml->topic, sizeof(ml->topic), w->cfg->topic_prefix, SHOP_STREAM_ML) < 0)
        return shop_err_set(err, SHOP_ECONFIG, "the ml topic's name does not fit");
    ml->relay = (struct worker_relay){.comp = "ml", .sql = &ml_relay_sql, .topic = ml->topic};
    if (worker_relay_open(w, &ml->relay, "shopstream-worker-ml", err) < 0)
        return err->code;
    uv_timer_init(w->loop, &ml->idle);
    ml->idle.data = ml;
    int64_t tick = w->cfg->ml_idle_flush_ms / 4 > 10 ? w->cfg->ml_idle_flush_ms / 4 : 10;
    uv_timer_start(&ml->idle, on_idle_check, (uint64_t)tick, (uint64_t)tick);
    ml->last_arrival_ms = ml->ckpt_at_ms = ml->stats_at_ms = worker_now_ms();
    for (size_t i = 0; i < 3; i++)
        shop_prom_hist_init(&ml->retrain[i], retrain_bounds, sizeof(retrain_bounds) / sizeof(retrain_bounds[0]));
    w->outbox_depth = 0;            /* counted by the cron */
    return 0;
}

static void ml_free(struct ml *ml)
{
    if (ml->m != NULL)
        shop_mlw_free(ml->m);
    if (ml->lease != NULL)
        PQfinish(ml->lease);       /* the advisory lock goes with the session */
    worker_relay_close(&ml->relay);
    shop_arena_fini(&ml->arena);
    free(ml->pos);
    free(ml);
}

static int ml_init(struct worker *w, void **role_state, struct shop_err *err)
{
    struct ml *ml = shop_xcalloc(1, sizeof(*ml));
    ml->w = w;
    ml->arena = (struct shop_arena)SHOP_ARENA_INIT;
    char host[128] = "unknown";
    gethostname(host, sizeof(host) - 1);
    snprintf(ml->holder, sizeof(ml->holder), "%s:%ld", host, (long)getpid());
    if (core_cfg(w->cfg, &ml->mcfg, err) < 0) {
        ml_free(ml);
        return SHOP_ECONFIG;
    }
    /* SIGTERM is taken synchronously while a standby waits; the loop's handlers come later. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    int rc = wait_for_lease(w, ml);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        rc = start_owner(w, ml, err);
    if (rc != 0) {
        ml_free(ml);
        return rc;
    }
    *role_state = ml;
    return 0;
}

static void ml_fini(struct worker *w, void *role_state)
{
    ml_free(role_state);
}

/* Small fetches per partition, so the partitions interleave finely: the reorder buffer
 * then holds little more than SHOPSTREAM_ML_LATENESS_MS of skew; a partition fetched ahead
 * in event time waits for the others anyway (hold_partitions). */
static const char *const ml_consumer_props[] = {
    "max.partition.fetch.bytes", "65536",
    /* The group has one member (the lease's owner). A killed owner's membership keeps
     * its partitions until the session times out, and the next owner's releases wait for
     * every partition (hold_partitions): 10 s instead of librdkafka's 45. */
    "session.timeout.ms", "10000",
    NULL,
};

const struct worker_role worker_ml_role = {
    .name = "ml",
    .init = ml_init,
    .apply = ml_apply,
    .on_assign = ml_on_assign,
    .cron = ml_cron,
    .stop = ml_stop,
    .fini = ml_fini,
    .metrics = ml_metrics,
    .consumer_props = ml_consumer_props,
};
