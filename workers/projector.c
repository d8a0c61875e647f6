/* SPDX-License-Identifier: MIT
 * The projector role: one batch, one transaction. Dedup by event id within the retry
 * window (applied_events, partitioned by receipt bucket), read the orders the batch
 * touches, fold in memory (workers/core), run the plan, store the offsets, commit;
 * after the commit, keep applied_events' partitions to the window. Statements travel
 * in libpq pipelines. Shell around the pure core. Loop thread.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_log.h"
#include "workers/core/sql_array.h"
#include "workers/worker.h"

#define SQLSTATE_UNIQUE_VIOLATION "23505"
#define DEDUP_CONFLICT 1   /* a unique violation on applied_events: redo the batch */

static const struct shop_sql_stmt begin_stmt = {.name = "begin", .sql = "begin"};

static void fold_known_orders(struct shop_proj_fold *f, PGresult *res)
{
    for (int r = 0; r < PQntuples(res); r++) {
        bool no_line = PQgetisnull(res, r, 2);
        shop_proj_fold_known_order(f, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
                                   no_line ? NULL : PQgetvalue(res, r, 2),
                                   no_line ? 0 : strtoll(PQgetvalue(res, r, 3), NULL, 10));
    }
}

/* applied_events_layout.bucket_ms (fixed once rows exist) and the group's projector
 * id, once per process; outside a batch (the id may be created, and commits). */
static int read_layout(struct worker *w, struct shop_err *err)
{
    if (w->dedup_bucket_ms > 0)
        return 0;
    struct shop_sql_stmt st = {.name = "dedup_layout", .sql = SHOP_PROJ_SQL_DEDUP_LAYOUT, .n_params = 1,
                               .params = {w->cfg->group_id}};
    PGresult *res = NULL;
    if (worker_pg_exec(w, &st, PGRES_TUPLES_OK, &res, err) < 0)
        return SHOP_EPG;
    int64_t v = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    int64_t id = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 1), NULL, 10) : 0;
    PQclear(res);
    if (v <= 0 || id <= 0)
        return shop_err_set(err, SHOP_EPG, "applied_events_layout holds no bucket_ms (migrate first)");
    shop_i64_text(w->dedup_projector, id);
    w->dedup_bucket_ms = v;
    return 0;
}

/* Begins, records the batch's new ids in applied_events (statement 1 looks them up
 * within the dedup window and returns the ones applied before) and reads (FOR UPDATE)
 * the orders the new events name into the fold: two round trips. A unique violation
 * (a copy of an id in its own bucket: a client retry, a replayed topic, another
 * transaction inserting the same record) rolls back and returns DEDUP_CONFLICT. */
static int dedup_read_orders(struct worker *w, struct worker_batch *b, bool *is_new, struct shop_proj_fold *f,
                             struct shop_err *err)
{
    struct shop_proj_dedup d = {.projector = w->dedup_projector, .bucket_ms = w->dedup_bucket_ms,
                                .window_ms = w->cfg->dedup_window_ms, .probe_own = w->dedup_probe};
    struct shop_sql_stmt sts[2] = {begin_stmt};
    shop_proj_mark_unapplied(b->prs, b->n, NULL, 0, &w->arena, is_new);
    bool insert = shop_proj_build_applied_insert(&d, b->prs, is_new, b->n, &w->arena, &sts[1]) > 0;
    PGresult *res = NULL;
    if (worker_pg_exec_pipeline(w, sts, insert ? 2 : 1, insert ? &res : NULL, err) < 0) {
        if (strcmp(w->pg_sqlstate, SQLSTATE_UNIQUE_VIOLATION) != 0)
            return SHOP_EPG;
        worker_pg_rollback(w);
        return DEDUP_CONFLICT;
    }
    int n_applied = insert ? PQntuples(res) : 0;
    if (n_applied > 0) {
        const char **ids = shop_arena_alloc(&w->arena, (size_t)n_applied * sizeof(*ids));
        for (int i = 0; i < n_applied; i++)
            ids[i] = shop_arena_strdup(&w->arena, PQgetvalue(res, i, 0));
        shop_proj_mark_unapplied(b->prs, b->n, ids, (size_t)n_applied, &w->arena, is_new);
    }
    PQclear(res);
    if (w->dedup_probe)
        w->dedup_probe = n_applied > 0;   /* probing stays on while batches keep holding applied ids */
    struct shop_sql_stmt read;
    if (shop_proj_build_order_read(b->prs, is_new, b->n, &w->arena, &read) > 0) {
        res = NULL;
        if (worker_pg_exec(w, &read, PGRES_TUPLES_OK, &res, err) < 0)
            return SHOP_EPG;
        fold_known_orders(f, res);
        PQclear(res);
    }
    return 0;
}

/* Opens the batch's transaction with its new ids recorded. Usually the batch's own
 * bucket is left to the key; after a unique violation the batch starts over looking
 * ids up there too, and keeps doing so while batches hold applied ids. */
static int begin_batch(struct worker *w, struct worker_batch *b, bool *is_new, struct shop_proj_fold *f,
                       struct shop_err *err)
{
    if (read_layout(w, err) < 0)
        return SHOP_EPG;
    for (int attempt = 0;; attempt++) {
        if (w->dedup_probe)
            w->stats.dedup_probes++;
        int rc = dedup_read_orders(w, b, is_new, f, err);
        if (rc != DEDUP_CONFLICT)
            return rc;
        /* Probing the own bucket, a conflict means another transaction inserted the same
         * record meanwhile; after three, leave it to the error path. */
        if (w->dedup_probe && attempt >= 3)
            return SHOP_EPG;
        w->dedup_probe = true;
    }
}

/* After a commit: the newest receipt time applied so far, and, when the span of
 * partitions to keep moved, one applied_events_maintain call (its own transaction;
 * DDL, so never inside a batch). A failure is logged and retried a little later; the
 * default partition takes rows meanwhile. */
static void dedup_maintain(struct worker *w, struct worker_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const Shopstream__V1__Event *ev = b->prs[i].ev;
        if (ev != NULL && ev->received_at_ms > w->dedup_mark_ms)
            w->dedup_mark_ms = ev->received_at_ms;
    }
    if (w->dedup_mark_ms == 0)
        return;
    int64_t now = worker_now_ms();
    struct shop_proj_dedup_span sp;
    shop_proj_dedup_span(w->dedup_mark_ms, now, w->dedup_bucket_ms, w->cfg->dedup_window_ms,
                         w->cfg->dedup_grace_ms, &sp);
    if ((w->dedup_maintained && sp.from == w->dedup_span.from && sp.drop_before == w->dedup_span.drop_before) ||
        now < w->dedup_retry_at_ms)
        return;
    char p[3][SHOP_I64_TEXT_MAX];
    shop_i64_text(p[0], sp.from);
    shop_i64_text(p[1], sp.to);
    shop_i64_text(p[2], sp.drop_before);
    struct shop_sql_stmt st = {.name = "dedup_maintain", .sql = SHOP_PROJ_SQL_DEDUP_MAINTAIN, .n_params = 3,
                               .params = {p[0], p[1], p[2]}};
    struct shop_err err = {0};
    PGresult *res = NULL;
    if (worker_pg_exec(w, &st, PGRES_TUPLES_OK, &res, &err) < 0) {
        SHOP_LOG(SHOP_LOG_WARN, "worker", "could not maintain applied_events partitions", "err=\"%s\"", err.msg);
        w->dedup_retry_at_ms = now + 10000;
        return;
    }
    SHOP_LOG(SHOP_LOG_DEBUG, "worker", "applied_events maintained", "from=%d to=%d drop_before=%d dropped=%s",
             (int)sp.from, (int)sp.to, (int)sp.drop_before, PQgetvalue(res, 0, 0));
    PQclear(res);
    w->dedup_span = sp;
    w->dedup_maintained = true;
}

/* Returns the index of a record the fold refused (its sums would overflow int64), or
 * b->n when every record folded. */
static size_t fold_batch(struct worker *w, struct worker_batch *b, const bool *is_new, struct shop_proj_fold *f)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct shop_proj_record *pr = &b->prs[i];
        shop_proj_fold_offset(f, pr->topic, pr->partition, pr->offset + 1);
        if (pr->ev == NULL)
            continue;
        if (!is_new[i]) {
            w->stats.duplicates++;
            continue;
        }
        enum shop_proj_outcome oc = shop_proj_fold_event(f, pr->ev);
        if (oc == SHOP_PROJ_OVERFLOW)
            return i;
        if (oc == SHOP_PROJ_REJECTED || oc == SHOP_PROJ_ORPHAN || oc == SHOP_PROJ_DUPLICATE_ORDER)
            SHOP_LOG(SHOP_LOG_DEBUG, "worker", "event changes nothing", "outcome=%d type=%s id=%s topic=%s "
                     "partition=%d offset=%lld", (int)oc, pr->ev->type, pr->ev->id, pr->topic,
                     (int)pr->partition, (long long)pr->offset);
    }
    return b->n;
}

/* Runs the plan and the commit: runs of plain statements go in one pipeline each (one
 * round trip), a COPY on its own. */
static int run_plan_and_commit(struct worker *w, struct shop_plan *plan, struct shop_err *err)
{
    assert(plan->n < SHOP_PLAN_STMTS_MAX);
    plan->stmts[plan->n++] = (struct shop_sql_stmt){.name = "commit", .sql = "commit"};
    for (int i = 0; i < plan->n;) {
        int j = i;
        while (j < plan->n && plan->stmts[j].copy_data == NULL)
            j++;
        if (j > i && worker_pg_exec_pipeline(w, &plan->stmts[i], j - i, NULL, err) < 0)
            return SHOP_EPG;
        if (j < plan->n && worker_pg_exec(w, &plan->stmts[j], PGRES_COMMAND_OK, NULL, err) < 0)
            return SHOP_EPG;
        i = j + 1;
    }
    return 0;
}

static int projector_apply(struct worker *w, struct worker_batch *b, struct shop_err *err)
{
    bool *is_new = shop_arena_alloc(&w->arena, (b->n + 1) * sizeof(*is_new));
    struct shop_proj_fold *f = shop_proj_fold_new_seeded(&w->arena, w->seed);
    struct shop_plan *plan = shop_arena_alloc(&w->arena, sizeof(*plan));
    if (begin_batch(w, b, is_new, f, err) < 0)
        goto out_rollback;
    size_t bad = fold_batch(w, b, is_new, f);
    if (bad < b->n) {
        worker_pg_rollback(w);
        b->bad = bad;
        return shop_err_set(err, SHOP_EINVAL, "the event's stock or purchases would overflow int64");
    }
    shop_proj_plan_build(f, w->cfg->group_id, worker_now_ms(), plan, err);
    if (run_plan_and_commit(w, plan, err) < 0)
        goto out_rollback;
    const struct shop_proj_stats *ps = shop_proj_fold_stats(f);
    w->stats.rejected += ps->rejected + ps->orphan + ps->duplicate_order;
    dedup_maintain(w, b);
    return 0;
out_rollback:
    worker_pg_rollback(w);
    return SHOP_EPG;
}

const struct worker_role_ops worker_projector_ops = {
    .apply = projector_apply,
};
