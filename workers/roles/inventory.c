/* SPDX-License-Identifier: MIT
 * The inventory role's hooks: the only writer of stock. One batch, one transaction:
 * dedup by event id (workers/dedup.c), lock the orders and then the products the batch
 * touches in key order, fold (workers/core/inv_fold.c), write the plan, the outcomes
 * into inventory_outbox and the offsets, commit. After the commit (and from the cron)
 * the outbox is relayed to <prefix>inventory.v1 with an idempotent producer and the
 * delivered rows are deleted (workers/relay.c). docs/inventory.md. Shell around the pure core. Loop thread.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_log.h"
#include "proto/core/event_topic.h"
#include "workers/core/inv.h"
#include "workers/dedup.h"
#include "workers/relay.h"
#include "workers/roles/roles.h"
#include "workers/worker.h"

struct inventory_stats {
    uint64_t reserved, rejected, released, committed, low_stock, refused;
    int64_t shortfall;
};

/* The role's own state, kept out of struct worker. */
struct inventory {
    struct worker_dedup dedup;
    struct worker_relay relay;      /* inventory_outbox to the inventory topic */
    char topic[SHOP_TOPIC_NAME_MAX];
    int64_t stats_at_ms;
    struct inventory_stats stats;
};

static void fold_known_orders(struct shop_inv_fold *f, PGresult *res)
{
    for (int r = 0; r < PQntuples(res); r++) {
        bool no_line = PQgetisnull(res, r, 4);
        shop_inv_fold_known_order(f, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), PQgetvalue(res, r, 2),
                                  PQgetvalue(res, r, 3), no_line ? NULL : PQgetvalue(res, r, 4),
                                  no_line ? 0 : strtoll(PQgetvalue(res, r, 5), NULL, 10));
    }
}

static int64_t col_i64(PGresult *res, int r, int c)
{
    return strtoll(PQgetvalue(res, r, c), NULL, 10);
}

static void fold_known_products(struct shop_inv_fold *f, PGresult *res)
{
    for (int r = 0; r < PQntuples(res); r++) {
        bool has_thr = !PQgetisnull(res, r, 3), has_price = !PQgetisnull(res, r, 4);
        shop_inv_fold_known_product(f, PQgetvalue(res, r, 0), col_i64(res, r, 1), col_i64(res, r, 2), has_thr,
                                    has_thr ? col_i64(res, r, 3) : 0, has_price, has_price ? col_i64(res, r, 4) : 0,
                                    has_price ? PQgetvalue(res, r, 5) : NULL, col_i64(res, r, 6));
    }
}

/* Runs a locking read and feeds its rows to the fold. */
static int read_locked(struct worker *w, const struct shop_sql_stmt *st, struct shop_inv_fold *f,
                       void (*feed)(struct shop_inv_fold *f, PGresult *res), struct shop_err *err)
{
    PGresult *res = NULL;
    if (worker_pg_exec(w, st, PGRES_TUPLES_OK, &res, err) < 0)
        return SHOP_EPG;
    feed(f, res);
    PQclear(res);
    return 0;
}

/* Opens the transaction with the new ids recorded, then locks the orders the new
 * events name and the products the batch touches, in that order and each in key order
 * (no two instances deadlock), reading them into the fold. */
static int begin_batch(struct worker *w, struct inventory *inv, struct worker_batch *b, bool *is_new,
                       struct shop_inv_fold *f, struct shop_err *err)
{
    if (worker_dedup_begin(w, &inv->dedup, b, is_new, err) < 0)
        return SHOP_EPG;
    struct shop_sql_stmt st;
    if (shop_inv_build_order_read(b->prs, is_new, b->n, &w->arena, &st) > 0 &&
        read_locked(w, &st, f, fold_known_orders, err) < 0)
        return SHOP_EPG;
    if (shop_inv_build_stock_lock(f, b->prs, is_new, b->n, &st) > 0 &&
        read_locked(w, &st, f, fold_known_products, err) < 0)
        return SHOP_EPG;
    return 0;
}

/* Returns the index of a record the fold refused (on_hand would overflow), or b->n. */
static size_t fold_batch(struct worker *w, struct worker_batch *b, const bool *is_new, struct shop_inv_fold *f)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct shop_proj_record *pr = &b->prs[i];
        shop_inv_fold_offset(f, pr->topic, pr->partition, pr->offset + 1);
        if (pr->ev == NULL)
            continue;
        if (!is_new[i]) {
            w->stats.duplicates++;
            continue;
        }
        enum shop_inv_result r = shop_inv_fold_event(f, pr->ev);
        if (r == SHOP_INV_OVERFLOW)
            return i;
    }
    return b->n;
}

static int run_plan_and_commit(struct worker *w, struct shop_plan *plan, struct shop_err *err)
{
    assert(plan->n < SHOP_PLAN_STMTS_MAX);
    plan->stmts[plan->n++] = (struct shop_sql_stmt){.name = "commit", .sql = "commit"};
    return worker_pg_exec_pipeline(w, plan->stmts, plan->n, NULL, err) < 0 ? SHOP_EPG : 0;
}

/* Counts a refusal in the worker's stats line, by reason (the reasons are order_life's,
 * as the projector's are). */
static void count_refusal(struct worker *w, const char *reason)
{
    w->stats.refused++;
    for (int i = 0; i < SHOP_PROJ_REFUSE_COUNT; i++) {
        if (strcmp(shop_proj_refusal_name((enum shop_proj_refusal)i), reason) == 0)
            w->stats.refused_by[i]++;
    }
}

/* Logs what the batch refused (each with its reason) and what the catalog could not take. */
static void note_batch(struct worker *w, struct inventory *inv, const struct shop_inv_fold *f)
{
    size_t n;
    const struct shop_inv_refused *r = shop_inv_fold_refusals(f, &n);
    for (size_t i = 0; i < n; i++) {
        SHOP_LOG(SHOP_LOG_DEBUG, "inventory", "event refused", "reason=%s type=%s id=%s order=%s user=%s",
                 r[i].reason, r[i].ev->type, r[i].ev->id, r[i].order_id, r[i].ev->user_id);
        count_refusal(w, r[i].reason);
    }
    const struct shop_inv_stats *s = shop_inv_fold_stats(f);
    if (s->shortfall > 0)
        SHOP_LOG(SHOP_LOG_WARN, "inventory", "catalog stock below the reserved units; reservations kept",
                 "shortfall=%" PRId64, s->shortfall);
    inv->stats.reserved += s->reserved;
    inv->stats.rejected += s->rejected;
    inv->stats.released += s->released;
    inv->stats.committed += s->committed;
    inv->stats.low_stock += s->low_stock;
    inv->stats.refused += s->refused;
    inv->stats.shortfall += s->shortfall;
    inv->relay.due |= s->reserved + s->rejected + s->released + s->committed + s->low_stock > 0;
}

static int inventory_apply(struct worker *w, struct worker_batch *b, struct shop_err *err)
{
    struct inventory *inv = w->role_state;
    bool *is_new = shop_arena_alloc(&w->arena, (b->n + 1) * sizeof(*is_new));
    struct shop_inv_fold *f = shop_inv_fold_new(&w->arena, w->seed, w->cfg->inventory_low_stock);
    struct shop_plan *plan = shop_arena_alloc(&w->arena, sizeof(*plan));
    if (begin_batch(w, inv, b, is_new, f, err) < 0)
        goto out_rollback;
    size_t bad = fold_batch(w, b, is_new, f);
    if (bad < b->n) {
        worker_pg_rollback(w);
        b->bad = bad;
        return shop_err_set(err, SHOP_EINVAL, "the event's on_hand would overflow int64");
    }
    if (shop_inv_plan_build(f, w->cfg->group_id, inv->topic, worker_now_ms(), plan, err) < 0) {
        /* An outcome built from validated events failed validation: a bug. */
        SHOP_LOG(SHOP_LOG_FATAL, "inventory", "could not build an outcome", "err=\"%s\"", err->msg);
        abort();
    }
    if (run_plan_and_commit(w, plan, err) < 0)
        goto out_rollback;
    worker_dedup_committed(w, &inv->dedup, b);
    note_batch(w, inv, f);
    worker_relay_run(w, &inv->relay);
    return 0;
out_rollback:
    worker_pg_rollback(w);
    return SHOP_EPG;
}

static void inventory_cron(struct worker *w, int64_t now_ms)
{
    struct inventory *inv = w->role_state;
    if (w->conn != NULL && !w->pg_down) {
        inv->relay.due = true;   /* rows another instance or an earlier run left */
        worker_relay_run(w, &inv->relay);
        worker_relay_count(w, &inv->relay);
    }
    if (now_ms - inv->stats_at_ms < w->cfg->stats_interval_ms)
        return;
    inv->stats_at_ms = now_ms;
    const struct inventory_stats *s = &inv->stats;
    SHOP_LOG(SHOP_LOG_INFO, "inventory", "stats",
             "reserved=%" PRIu64 " rejected=%" PRIu64 " released=%" PRIu64 " committed=%" PRIu64
             " low_stock=%" PRIu64 " refused=%" PRIu64 " shortfall=%" PRId64 " relayed=%" PRIu64
             " relay_failures=%" PRIu64,
             s->reserved, s->rejected, s->released, s->committed, s->low_stock, s->refused, s->shortfall,
             inv->relay.relayed, inv->relay.failures);
}

static const struct worker_relay_sql relay_sql = {
    .lock = SHOP_INV_SQL_RELAY_LOCK,
    .read = SHOP_INV_SQL_OUTBOX_READ,
    .del = SHOP_INV_SQL_OUTBOX_DELETE,
    .count = SHOP_INV_SQL_OUTBOX_COUNT,
};

static int inventory_init(struct worker *w, void **role_state, struct shop_err *err)
{
    struct inventory *inv = shop_xcalloc(1, sizeof(*inv));
    inv->dedup.group = w->cfg->group_id;
    inv->relay = (struct worker_relay){.comp = "inventory", .sql = &relay_sql};
    if (shop_topic_name(inv->topic, sizeof(inv->topic), w->cfg->topic_prefix, SHOP_STREAM_INVENTORY) < 0) {
        free(inv);
        return shop_err_set(err, SHOP_ECONFIG, "the inventory topic's name does not fit");
    }
    if (worker_relay_open(w, &inv->relay, "shopstream-worker-inventory", err) < 0) {
        free(inv);
        return err->code;
    }
    *role_state = inv;
    w->outbox_depth = 0;            /* counted by the cron */
    return 0;
}

static void inventory_fini(struct worker *w, void *role_state)
{
    struct inventory *inv = role_state;
    worker_relay_close(&inv->relay);
    free(inv);
}

/* Offsets commit in consumer_offsets with the effects: partitions start there. */
const struct worker_role worker_inventory_role = {
    .name = "inventory",
    .init = inventory_init,
    .apply = inventory_apply,
    .on_assign = worker_pg_read_offsets,
    .cron = inventory_cron,
    .fini = inventory_fini,
};
