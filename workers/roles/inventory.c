/* SPDX-License-Identifier: MIT
 * The inventory role's hooks: the only writer of stock. One batch, one transaction:
 * dedup by event id (workers/dedup.c), lock the orders and then the products the batch
 * touches in key order, fold (workers/core/inv_fold.c), write the plan, the outcomes
 * into inventory_outbox and the offsets, commit. After the commit (and from the cron)
 * the outbox is relayed to <prefix>inventory.v1 with an idempotent producer and the
 * delivered rows are deleted. docs/inventory.md. Shell around the pure core. Loop thread.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "proto/core/event_topic.h"
#include "workers/core/inv.h"
#include "workers/dedup.h"
#include "workers/roles/roles.h"
#include "workers/worker.h"

#define RELAY_ROWS 500              /* outbox rows per relay transaction */
#define RELAY_TIMEOUT_MS 10000      /* message.timeout.ms of the outcome producer */

struct inventory_stats {
    uint64_t reserved, rejected, released, committed, low_stock, refused, relayed, relay_failures;
    int64_t shortfall;
};

/* The role's own state, kept out of struct worker. */
struct inventory {
    struct worker_dedup dedup;
    rd_kafka_t *out_rk;             /* idempotent producer of the outcomes, acks=all */
    char topic[SHOP_TOPIC_NAME_MAX];
    int failed;                     /* failed deliveries of the current relay */
    bool relay_due;                 /* rows may wait in the outbox */
    bool relay_failing;             /* the last relay failed (logged once until it works) */
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
    inv->relay_due |= s->reserved + s->rejected + s->released + s->committed + s->low_stock > 0;
}

static void relay(struct worker *w, struct inventory *inv);

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
    relay(w, inv);
    return 0;
out_rollback:
    worker_pg_rollback(w);
    return SHOP_EPG;
}

/* Runs inside rd_kafka_flush() on the outcome producer: loop thread. */
static void on_outcome_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct inventory *inv = opaque;
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    inv->failed++;
    SHOP_LOG(SHOP_LOG_ERROR, "inventory", "could not deliver an outcome", "err=%s topic=%s",
             rd_kafka_err2name(rkm->err), rd_kafka_topic_name(rkm->rkt));
}

static int open_producer(struct worker *w, struct inventory *inv, struct shop_err *err)
{
    char errstr[512], timeout[24];
    snprintf(timeout, sizeof(timeout), "%d", RELAY_TIMEOUT_MS);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (worker_kafka_conf_set(conf, "bootstrap.servers", w->cfg->kafka_brokers, err) < 0 ||
        worker_kafka_conf_set(conf, "client.id", "shopstream-worker-inventory", err) < 0 ||
        worker_kafka_conf_set(conf, "acks", "all", err) < 0 ||
        worker_kafka_conf_set(conf, "enable.idempotence", "true", err) < 0 ||
        worker_kafka_conf_set(conf, "linger.ms", "1", err) < 0 ||
        worker_kafka_conf_set(conf, "message.timeout.ms", timeout, err) < 0 ||
        shop_kafka_conf_apply(conf, w->cfg->kafka_props, err) < 0) {
        rd_kafka_conf_destroy(conf);
        return err->code;
    }
    rd_kafka_conf_set_opaque(conf, inv);
    worker_kafka_set_log(conf);
    rd_kafka_conf_set_dr_msg_cb(conf, on_outcome_delivery);
    inv->out_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (inv->out_rk == NULL) {
        rd_kafka_conf_destroy(conf);    /* rd_kafka_new() frees conf only on success */
        return shop_err_set(err, SHOP_EKAFKA, "could not create the outcome producer: %s", errstr);
    }
    return 0;
}

/* Produces one outbox row with the CloudEvents headers of its event. */
static int produce_row(struct worker *w, struct inventory *inv, PGresult *res, int r)
{
    size_t len = 0;
    unsigned char *buf = PQunescapeBytea((const unsigned char *)PQgetvalue(res, r, 3), &len);
    if (buf == NULL)
        return SHOP_ENOMEM;
    ProtobufCAllocator pa;
    shop_event_pb_allocator(&w->arena, &pa);
    Shopstream__V1__Event *ev = shopstream__v1__event__unpack(&pa, len, buf);
    int rc = ev != NULL ? 0 : SHOP_EBADMSG;
    rd_kafka_headers_t *hdrs = rd_kafka_headers_new(SHOP_CE_HEADERS_MAX);
    if (ev != NULL) {
        struct shop_header h[SHOP_CE_HEADERS_MAX];
        size_t nh = shop_event_ce_headers(ev, NULL, &w->arena, h);
        for (size_t i = 0; i < nh; i++)
            rd_kafka_header_add(hdrs, h[i].name, -1, h[i].value, -1);
        const char *key = PQgetvalue(res, r, 2);
        rd_kafka_resp_err_t kerr = rd_kafka_producev(
            inv->out_rk, RD_KAFKA_V_TOPIC(PQgetvalue(res, r, 1)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_HEADERS(hdrs),
            RD_KAFKA_V_END);
        rc = kerr == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : SHOP_EKAFKA;
    }
    if (rc < 0)
        rd_kafka_headers_destroy(hdrs);   /* producev owns the headers only on success */
    PQfreemem(buf);
    return rc;
}

/* One relay transaction: the next rows in decision order, produced and acknowledged,
 * then deleted. Returns the number of rows relayed, 0 when none waited or another
 * instance holds the relay, or an error (rolled back: the rows stay). */
static int relay_once(struct worker *w, struct inventory *inv, struct shop_err *err)
{
    char limit[SHOP_I64_TEXT_MAX];
    shop_i64_text(limit, RELAY_ROWS);
    struct shop_sql_stmt sts[3] = {
        {.name = "begin", .sql = "begin"},
        {.name = "inv_relay_lock", .sql = SHOP_INV_SQL_RELAY_LOCK},
    };
    PGresult *res = NULL;
    if (worker_pg_exec_pipeline(w, sts, 2, &res, err) < 0)
        goto out_rollback;
    bool mine = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!mine) {
        worker_pg_rollback(w);
        return 0;
    }
    sts[0] = (struct shop_sql_stmt){.name = "inv_outbox_read", .sql = SHOP_INV_SQL_OUTBOX_READ, .n_params = 1,
                                    .params = {limit}};
    if (worker_pg_exec(w, &sts[0], PGRES_TUPLES_OK, &res, err) < 0)
        goto out_rollback;
    int n = PQntuples(res);
    struct shop_sql_array ids;
    shop_sql_array_init(&ids, &w->arena);
    inv->failed = 0;
    for (int r = 0; r < n; r++) {
        if (produce_row(w, inv, res, r) < 0)
            inv->failed++;
        shop_sql_array_text(&ids, PQgetvalue(res, r, 0));
    }
    PQclear(res);
    rd_kafka_resp_err_t kerr = rd_kafka_flush(inv->out_rk, RELAY_TIMEOUT_MS + 1000);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR || inv->failed > 0) {
        worker_pg_rollback(w);   /* the rows stay for the next turn */
        return shop_err_set(err, SHOP_EKAFKA, "%d of %d outcomes not delivered (%s)", inv->failed, n,
                            rd_kafka_err2name(kerr));
    }
    sts[0] = (struct shop_sql_stmt){.name = "inv_outbox_delete", .sql = SHOP_INV_SQL_OUTBOX_DELETE, .n_params = 1,
                                    .params = {shop_sql_array_end(&ids)}};
    sts[1] = (struct shop_sql_stmt){.name = "commit", .sql = "commit"};
    if (n == 0) {
        worker_pg_rollback(w);
        return 0;
    }
    if (worker_pg_exec_pipeline(w, sts, 2, NULL, err) < 0)
        goto out_rollback;   /* delivered but not deleted: the next relay repeats them, same ids */
    return n;
out_rollback:
    worker_pg_rollback(w);
    return SHOP_EPG;
}

/* Relays until the outbox is empty; a failure is logged and left to the cron. */
static void relay(struct worker *w, struct inventory *inv)
{
    if (!inv->relay_due || w->conn == NULL)
        return;
    for (;;) {
        struct shop_err err = {0};
        int n = relay_once(w, inv, &err);
        if (n < 0) {
            inv->stats.relay_failures++;
            if (!inv->relay_failing)   /* once per outage; the cron retries every second */
                SHOP_LOG(SHOP_LOG_WARN, "inventory", "could not relay the outbox; retrying from the cron",
                         "err=\"%s\"", err.msg);
            inv->relay_failing = true;
            return;
        }
        if (inv->relay_failing)
            SHOP_LOG(SHOP_LOG_INFO, "inventory", "the outbox relays again", "relayed=%d", n);
        inv->relay_failing = false;
        inv->stats.relayed += (uint64_t)n;
        if (n < RELAY_ROWS) {   /* emptied, or another instance holds the relay */
            inv->relay_due = false;
            return;
        }
    }
}

static void inventory_cron(struct worker *w, int64_t now_ms)
{
    struct inventory *inv = w->role_state;
    if (w->conn != NULL && !w->pg_down) {
        inv->relay_due = true;   /* rows another instance or an earlier run left */
        relay(w, inv);
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
             s->relayed, s->relay_failures);
}

static int inventory_init(struct worker *w, void **role_state, struct shop_err *err)
{
    struct inventory *inv = shop_xcalloc(1, sizeof(*inv));
    inv->dedup.group = w->cfg->group_id;
    inv->relay_due = true;
    if (shop_topic_name(inv->topic, sizeof(inv->topic), w->cfg->topic_prefix, SHOP_STREAM_INVENTORY) < 0) {
        free(inv);
        return shop_err_set(err, SHOP_ECONFIG, "the inventory topic's name does not fit");
    }
    if (open_producer(w, inv, err) < 0) {
        free(inv);
        return err->code;
    }
    *role_state = inv;
    return 0;
}

static void inventory_fini(struct worker *w, void *role_state)
{
    struct inventory *inv = role_state;
    rd_kafka_flush(inv->out_rk, RELAY_TIMEOUT_MS);
    rd_kafka_destroy(inv->out_rk);
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
