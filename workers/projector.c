/* SPDX-License-Identifier: MIT
 * The projector role: one batch, one transaction. Dedup by event id (applied_events,
 * its primary key the arbiter), read the orders the batch touches, fold in memory
 * (workers/core), run the plan, store the offsets, commit. Statements travel in libpq
 * pipelines: usually two round trips per batch. Shell around the pure core. Loop thread.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_log.h"
#include "workers/worker.h"

#define SQLSTATE_UNIQUE_VIOLATION "23505"

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

/* One round trip: [begin,] insert the new records' ids into applied_events, read (FOR
 * UPDATE) the orders their events name into the fold. */
static int insert_ids_read_orders(struct worker *w, struct worker_batch *b, const bool *is_new, bool begin,
                                  struct shop_proj_fold *f, struct shop_err *err)
{
    struct shop_sql_stmt sts[3];
    int n = 0;
    if (begin)
        sts[n++] = begin_stmt;
    if (shop_proj_build_applied_insert(w->cfg->group_id, b->prs, is_new, b->n, &w->arena, &sts[n]) > 0)
        n++;
    bool read = shop_proj_build_order_read(b->prs, is_new, b->n, &w->arena, &sts[n]) > 0;
    n += read;
    PGresult *res = NULL;
    if (n > 0 && worker_pg_exec_pipeline(w, sts, n, read ? &res : NULL, err) < 0)
        return SHOP_EPG;
    if (read)
        fold_known_orders(f, res);
    PQclear(res);
    return 0;
}

/* Begins and asks which of the batch's ids applied_events already holds; marks the
 * records that are new. Returns how many ids were applied before, or SHOP_EPG. */
static int begin_probe(struct worker *w, struct worker_batch *b, bool *is_new, struct shop_err *err)
{
    struct shop_sql_stmt sts[2] = {begin_stmt};
    bool probe = shop_proj_build_dedup(w->cfg->group_id, b->prs, b->n, &w->arena, &sts[1]) > 0;
    PGresult *res = NULL;
    if (worker_pg_exec_pipeline(w, sts, probe ? 2 : 1, probe ? &res : NULL, err) < 0)
        return SHOP_EPG;
    int n_applied = probe ? PQntuples(res) : 0;
    const char **ids = shop_arena_alloc(&w->arena, ((size_t)n_applied + 1) * sizeof(*ids));
    for (int i = 0; i < n_applied; i++)
        ids[i] = shop_arena_strdup(&w->arena, PQgetvalue(res, i, 0));
    PQclear(res);
    shop_proj_mark_unapplied(b->prs, b->n, ids, (size_t)n_applied, &w->arena, is_new);
    return n_applied;
}

/* Opens the batch's transaction, records its new event ids in applied_events and reads
 * the orders they name. Usually no id of a batch was applied before, so all of this is
 * one round trip and the primary key decides: a unique violation (a client retry, a
 * replayed topic) rolls that attempt back and the batch starts over, probing
 * applied_events first. Probing stays on while batches keep holding applied ids. */
static int begin_batch(struct worker *w, struct worker_batch *b, bool *is_new, struct shop_proj_fold *f,
                       struct shop_err *err)
{
    if (!w->dedup_probe) {
        shop_proj_mark_unapplied(b->prs, b->n, NULL, 0, &w->arena, is_new);
        if (insert_ids_read_orders(w, b, is_new, true, f, err) == 0)
            return 0;
        if (strcmp(w->pg_sqlstate, SQLSTATE_UNIQUE_VIOLATION) != 0)
            return SHOP_EPG;
        worker_pg_rollback(w);          /* nothing was folded: the failed insert skipped the read */
        w->dedup_probe = true;
    }
    w->stats.dedup_probes++;
    int n_applied = begin_probe(w, b, is_new, err);
    if (n_applied < 0)
        return SHOP_EPG;
    w->dedup_probe = n_applied > 0;
    return insert_ids_read_orders(w, b, is_new, false, f, err);
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
    return 0;
out_rollback:
    worker_pg_rollback(w);
    return SHOP_EPG;
}

const struct worker_role_ops worker_projector_ops = {
    .apply = projector_apply,
};
