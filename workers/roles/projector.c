/* SPDX-License-Identifier: MIT
 * The projector role's hooks: one batch, one transaction. Dedup by event id within
 * the retry window (workers/dedup.c), read the orders the batch touches, fold in
 * memory (workers/core), run the plan, store the offsets, commit; after the commit,
 * keep applied_events' partitions to the window. Statements travel in libpq
 * pipelines. Its row (streams, group, tables) is in workers/core/roles.c. Shell
 * around the pure core. Loop thread.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_log.h"
#include "workers/core/sql_array.h"
#include "workers/dedup.h"
#include "workers/roles/roles.h"
#include "workers/worker.h"

/* The projector's own state, kept out of struct worker. */
struct projector {
    struct worker_dedup dedup;
};

static const char *col(PGresult *res, int r, enum shop_proj_order_col c)
{
    return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

static int64_t col_int(PGresult *res, int r, enum shop_proj_order_col c)
{
    return PQgetisnull(res, r, c) ? 0 : strtoll(PQgetvalue(res, r, c), NULL, 10);
}

/* The order read's rows: orders (status, owner, lines), then the decisions parked for them. */
static void fold_known_orders(struct shop_proj_fold *f, PGresult *res)
{
    for (int r = 0; r < PQntuples(res); r++) {
        const char *kind = col(res, r, SHOP_PROJ_COL_KIND);
        if (kind != NULL && kind[0] == SHOP_PROJ_ORDER_ROW) {
            shop_proj_fold_known_order(f, col(res, r, SHOP_PROJ_COL_ORDER_ID), col(res, r, SHOP_PROJ_COL_STATUS),
                                       col(res, r, SHOP_PROJ_COL_USER_ID), col(res, r, SHOP_PROJ_COL_PRODUCT_ID),
                                       col_int(res, r, SHOP_PROJ_COL_QUANTITY));
            continue;
        }
        const struct shop_proj_parked p = {
            .order_id = col(res, r, SHOP_PROJ_COL_ORDER_ID),
            .event_id = col(res, r, SHOP_PROJ_COL_EVENT_ID),
            .topic = col(res, r, SHOP_PROJ_COL_TOPIC),
            .type = col(res, r, SHOP_PROJ_COL_TYPE),
            .user_id = col(res, r, SHOP_PROJ_COL_USER_ID),
            .actor_role = col(res, r, SHOP_PROJ_COL_ACTOR_ROLE),
            .partition = (int32_t)col_int(res, r, SHOP_PROJ_COL_PARTITION),
            .offset = col_int(res, r, SHOP_PROJ_COL_OFFSET),
            .status = col(res, r, SHOP_PROJ_COL_STATUS),
            .rejection = col(res, r, SHOP_PROJ_COL_REJECTION),
            .at_ms = col_int(res, r, SHOP_PROJ_COL_AT_MS),
        };
        shop_proj_fold_parked(f, &p);
    }
}

/* Opens the batch's transaction with its new ids recorded (workers/dedup.c), passes the
 * order gate for the orders the new events place or decide and reads the orders they
 * name (FOR UPDATE) and their parked decisions into the fold: two round trips. */
static int begin_batch(struct worker *w, struct projector *pj, struct worker_batch *b, bool *is_new,
                       struct shop_proj_fold *f, struct shop_err *err)
{
    if (worker_dedup_begin(w, &pj->dedup, b, is_new, err) < 0)
        return SHOP_EPG;
    struct shop_sql_stmt read[2];
    if (shop_proj_build_order_read(b->prs, is_new, b->n, &w->arena, read) > 0) {
        /* One round trip; the read's snapshot is taken after the gate insert returned. */
        PGresult *res = NULL;
        if (worker_pg_exec_pipeline(w, read, 2, &res, err) < 0)
            return SHOP_EPG;
        shop_proj_fold_gated(f, read[0].params[0]);
        fold_known_orders(f, res);
        PQclear(res);
    }
    return 0;
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
        enum shop_proj_outcome oc = shop_proj_fold_record(f, pr);
        if (oc == SHOP_PROJ_OVERFLOW)
            return i;
        if (oc == SHOP_PROJ_REFUSED)
            SHOP_LOG(SHOP_LOG_DEBUG, "worker", "order event refused", "type=%s id=%s topic=%s partition=%d "
                     "offset=%lld", pr->ev->type, pr->ev->id, pr->topic, (int)pr->partition, (long long)pr->offset);
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
    struct projector *pj = w->role_state;
    bool *is_new = shop_arena_alloc(&w->arena, (b->n + 1) * sizeof(*is_new));
    struct shop_proj_fold *f = shop_proj_fold_new_seeded(&w->arena, w->seed);
    struct shop_plan *plan = shop_arena_alloc(&w->arena, sizeof(*plan));
    if (begin_batch(w, pj, b, is_new, f, err) < 0)
        goto out_rollback;
    size_t bad = fold_batch(w, b, is_new, f);
    if (bad < b->n) {
        worker_pg_rollback(w);
        b->bad = bad;
        return shop_err_set(err, SHOP_EINVAL, "the event's purchases would overflow int64");
    }
    shop_proj_plan_build(f, w->cfg->group_id, worker_now_ms(), plan, err);
    if (run_plan_and_commit(w, plan, err) < 0)
        goto out_rollback;
    const struct shop_proj_stats *ps = shop_proj_fold_stats(f);
    w->stats.refused += ps->refused;
    w->stats.parked += ps->parked;
    for (int i = 0; i < SHOP_PROJ_REFUSE_COUNT; i++)
        w->stats.refused_by[i] += ps->refused_by[i];
    worker_dedup_committed(w, &pj->dedup, b);
    return 0;
out_rollback:
    worker_pg_rollback(w);
    return SHOP_EPG;
}

static int projector_init(struct worker *w, void **role_state, struct shop_err *err)
{
    struct projector *pj = shop_xcalloc(1, sizeof(*pj));
    pj->dedup.group = w->cfg->group_id;
    *role_state = pj;
    return 0;
}

static void projector_fini(struct worker *w, void *role_state)
{
    free(role_state);
}

/* Offsets commit in consumer_offsets with the effects: partitions start there. */
const struct worker_role worker_projector_role = {
    .name = "projector",
    .init = projector_init,
    .apply = projector_apply,
    .on_assign = worker_pg_read_offsets,
    .fini = projector_fini,
};
