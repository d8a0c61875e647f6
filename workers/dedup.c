/* SPDX-License-Identifier: MIT
 * Dedup by event id within the retry window, for any role: applied_events,
 * partitioned by receipt bucket, keyed by the role's applied_projectors id. The
 * pure part (statements, buckets, the span of partitions) is workers/core/proj_sql.c.
 * Shell. Loop thread.
 */
#include "workers/dedup.h"

#include <stdlib.h>
#include <string.h>

#include "base/shop_log.h"

#define SQLSTATE_UNIQUE_VIOLATION "23505"
#define DEDUP_CONFLICT 1   /* a unique violation on applied_events: redo the batch */

static const struct shop_sql_stmt begin_stmt = {.name = "begin", .sql = "begin"};

/* applied_events_layout.bucket_ms (fixed once rows exist) and the group's projector
 * id, once per process; outside a batch (the id may be created, and commits). */
static int read_layout(struct worker *w, struct worker_dedup *d, struct shop_err *err)
{
    if (d->bucket_ms > 0)
        return 0;
    struct shop_sql_stmt st = {.name = "dedup_layout", .sql = SHOP_PROJ_SQL_DEDUP_LAYOUT, .n_params = 1,
                               .params = {d->group}};
    PGresult *res = NULL;
    if (worker_pg_exec(w, &st, PGRES_TUPLES_OK, &res, err) < 0)
        return SHOP_EPG;
    int64_t v = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    int64_t id = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 1), NULL, 10) : 0;
    PQclear(res);
    if (v <= 0 || id <= 0)
        return shop_err_set(err, SHOP_EPG, "applied_events_layout holds no bucket_ms (migrate first)");
    shop_i64_text(d->projector, id);
    d->bucket_ms = v;
    return 0;
}

/* Begins and records the batch's new ids in applied_events (the statement looks them
 * up within the dedup window and returns the ones applied before): one round trip. A
 * unique violation (a copy of an id in its own bucket: a client retry, a replayed
 * topic, another transaction inserting the same record) rolls back and returns
 * DEDUP_CONFLICT. */
static int record_ids(struct worker *w, struct worker_dedup *d, struct worker_batch *b, bool *is_new,
                      struct shop_err *err)
{
    struct shop_proj_dedup pd = {.projector = d->projector, .bucket_ms = d->bucket_ms,
                                 .window_ms = w->cfg->dedup_window_ms, .probe_own = d->probe};
    struct shop_sql_stmt sts[2] = {begin_stmt};
    shop_proj_mark_unapplied(b->prs, b->n, NULL, 0, &w->arena, is_new);
    bool insert = shop_proj_build_applied_insert(&pd, b->prs, is_new, b->n, &w->arena, &sts[1]) > 0;
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
    if (d->probe)
        d->probe = n_applied > 0;   /* probing stays on while batches keep holding applied ids */
    return 0;
}

/* Usually the batch's own bucket is left to the key; after a unique violation the
 * batch starts over looking ids up there too, and keeps doing so while batches hold
 * applied ids. */
int worker_dedup_begin(struct worker *w, struct worker_dedup *d, struct worker_batch *b, bool *is_new,
                       struct shop_err *err)
{
    if (read_layout(w, d, err) < 0)
        return SHOP_EPG;
    for (int attempt = 0;; attempt++) {
        if (d->probe)
            w->stats.dedup_probes++;
        int rc = record_ids(w, d, b, is_new, err);
        if (rc != DEDUP_CONFLICT)
            return rc;
        /* Probing the own bucket, a conflict means another transaction inserted the same
         * record meanwhile; after three, leave it to the error path. */
        if (d->probe && attempt >= 3)
            return SHOP_EPG;
        d->probe = true;
    }
}

/* The newest receipt time applied so far, and, when the span of partitions to keep
 * moved, one applied_events_maintain call (its own transaction; DDL, so never inside
 * a batch). A failure is logged and retried a little later; the default partition
 * takes rows meanwhile. */
void worker_dedup_committed(struct worker *w, struct worker_dedup *d, const struct worker_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const Shopstream__V1__Event *ev = b->prs[i].ev;
        if (ev != NULL && ev->received_at_ms > d->mark_ms)
            d->mark_ms = ev->received_at_ms;
    }
    if (d->mark_ms == 0)
        return;
    int64_t now = worker_now_ms();
    struct shop_proj_dedup_span sp;
    shop_proj_dedup_span(d->mark_ms, now, d->bucket_ms, w->cfg->dedup_window_ms, w->cfg->dedup_grace_ms, &sp);
    if ((d->maintained && sp.from == d->span.from && sp.drop_before == d->span.drop_before) ||
        now < d->retry_at_ms)
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
        d->retry_at_ms = now + 10000;
        return;
    }
    SHOP_LOG(SHOP_LOG_DEBUG, "worker", "applied_events maintained", "from=%d to=%d drop_before=%d dropped=%s",
             (int)sp.from, (int)sp.to, (int)sp.drop_before, PQgetvalue(res, 0, 0));
    PQclear(res);
    d->span = sp;
    d->maintained = true;
}
