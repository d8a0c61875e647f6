/* SPDX-License-Identifier: MIT
 * The outbox relay shared by the roles that publish (workers/relay.h). Shell. Loop thread.
 */
#include "workers/relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "workers/core/sql_array.h"

#define RELAY_ROWS 500              /* outbox rows per relay transaction */
#define RELAY_TIMEOUT_MS 10000      /* message.timeout.ms of the producer */

/* Runs inside rd_kafka_flush() on the relay's producer: loop thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    struct worker_relay *r = opaque;
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    r->failed++;
    SHOP_LOG(SHOP_LOG_ERROR, r->comp, "could not deliver an outbox event", "err=%s topic=%s",
             rd_kafka_err2name(rkm->err), rd_kafka_topic_name(rkm->rkt));
}

int worker_relay_open(struct worker *w, struct worker_relay *r, const char *client_id, struct shop_err *err)
{
    char errstr[512], timeout[24];
    snprintf(timeout, sizeof(timeout), "%d", RELAY_TIMEOUT_MS);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (worker_kafka_conf_set(conf, "bootstrap.servers", w->cfg->kafka_brokers, err) < 0 ||
        worker_kafka_conf_set(conf, "client.id", client_id, err) < 0 ||
        worker_kafka_conf_set(conf, "acks", "all", err) < 0 ||
        worker_kafka_conf_set(conf, "enable.idempotence", "true", err) < 0 ||
        worker_kafka_conf_set(conf, "linger.ms", "1", err) < 0 ||
        worker_kafka_conf_set(conf, "message.timeout.ms", timeout, err) < 0 ||
        shop_kafka_conf_apply(conf, w->cfg->kafka_props, err) < 0) {
        rd_kafka_conf_destroy(conf);
        return err->code;
    }
    rd_kafka_conf_set_opaque(conf, r);
    worker_kafka_set_log(conf);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    r->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (r->rk == NULL) {
        rd_kafka_conf_destroy(conf);    /* rd_kafka_new() frees conf only on success */
        return shop_err_set(err, SHOP_EKAFKA, "could not create the %s outbox producer: %s", r->comp, errstr);
    }
    r->due = true;                      /* rows an earlier run left */
    return 0;
}

/* Produces one outbox row with the CloudEvents headers of its event. */
static int produce_row(struct worker *w, struct worker_relay *r, PGresult *res, int row)
{
    size_t len = 0;
    unsigned char *buf = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, 3), &len);
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
        const char *key = PQgetvalue(res, row, 2);
        rd_kafka_resp_err_t kerr = rd_kafka_producev(
            r->rk, RD_KAFKA_V_TOPIC(PQgetvalue(res, row, 1)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_HEADERS(hdrs),
            RD_KAFKA_V_END);
        rc = kerr == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : SHOP_EKAFKA;
    }
    if (rc < 0)
        rd_kafka_headers_destroy(hdrs);   /* producev owns the headers only on success */
    PQfreemem(buf);
    return rc;
}

/* Takes the relay's lock in a new transaction: true when this instance holds it. */
static int lock_turn(struct worker *w, struct worker_relay *r, bool *mine, struct shop_err *err)
{
    struct shop_sql_stmt sts[2] = {
        {.name = "begin", .sql = "begin"},
        {.name = "relay_lock", .sql = r->sql->lock},
    };
    PGresult *res = NULL;
    if (worker_pg_exec_pipeline(w, sts, 2, &res, err) < 0)
        return SHOP_EPG;
    *mine = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

/* One relay transaction: the next rows in order, produced and acknowledged, then
 * deleted. Returns the number of rows relayed, 0 when none waited or another instance
 * holds the relay, or an error (rolled back: the rows stay). */
static int relay_once(struct worker *w, struct worker_relay *r, struct shop_err *err)
{
    char limit[SHOP_I64_TEXT_MAX];
    shop_i64_text(limit, RELAY_ROWS);
    bool mine = false;
    PGresult *res = NULL;
    if (lock_turn(w, r, &mine, err) < 0)
        goto out_rollback;
    if (!mine) {
        worker_pg_rollback(w);
        return 0;
    }
    struct shop_sql_stmt st = {.name = "relay_read", .sql = r->sql->read, .n_params = r->topic != NULL ? 2 : 1,
                               .params = {limit, r->topic}};
    if (worker_pg_exec(w, &st, PGRES_TUPLES_OK, &res, err) < 0)
        goto out_rollback;
    int n = PQntuples(res);
    struct shop_sql_array ids;
    shop_sql_array_init(&ids, &w->arena);
    r->failed = 0;
    for (int row = 0; row < n; row++) {
        if (produce_row(w, r, res, row) < 0)
            r->failed++;
        shop_sql_array_text(&ids, PQgetvalue(res, row, 0));
    }
    PQclear(res);
    rd_kafka_resp_err_t kerr = rd_kafka_flush(r->rk, RELAY_TIMEOUT_MS + 1000);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR || r->failed > 0) {
        worker_pg_rollback(w);   /* the rows stay for the next turn */
        return shop_err_set(err, SHOP_EKAFKA, "%d of %d outbox events not delivered (%s)", r->failed, n,
                            rd_kafka_err2name(kerr));
    }
    if (n == 0) {
        worker_pg_rollback(w);
        return 0;
    }
    struct shop_sql_stmt sts[2] = {
        {.name = "relay_delete", .sql = r->sql->del, .n_params = 1, .params = {shop_sql_array_end(&ids)}},
        {.name = "commit", .sql = "commit"},
    };
    if (worker_pg_exec_pipeline(w, sts, 2, NULL, err) < 0)
        goto out_rollback;   /* delivered but not deleted: the next relay repeats them, same ids */
    return n;
out_rollback:
    worker_pg_rollback(w);
    return SHOP_EPG;
}

void worker_relay_run(struct worker *w, struct worker_relay *r)
{
    if (!r->due || w->conn == NULL)
        return;
    for (;;) {
        struct shop_err err = {0};
        int n = relay_once(w, r, &err);
        if (n < 0) {
            r->failures++;
            if (!r->failing)   /* once per outage; the cron retries every second */
                SHOP_LOG(SHOP_LOG_WARN, r->comp, "could not relay the outbox; retrying from the cron",
                         "err=\"%s\"", err.msg);
            r->failing = true;
            return;
        }
        if (r->failing)
            SHOP_LOG(SHOP_LOG_INFO, r->comp, "the outbox relays again", "relayed=%d", n);
        r->failing = false;
        r->relayed += (uint64_t)n;
        if (n < RELAY_ROWS) {   /* emptied, or another instance holds the relay */
            r->due = false;
            return;
        }
    }
}

#define COUNT_EVERY_MS 5000
#define COUNT_CAP 100000            /* the depth gauge saturates here: alerts sit below it */

void worker_relay_count(struct worker *w, struct worker_relay *r)
{
    if (w->conn == NULL || w->pg_down || uv_now(w->loop) - r->counted_ms < COUNT_EVERY_MS)
        return;
    char cap[SHOP_I64_TEXT_MAX];
    shop_i64_text(cap, COUNT_CAP);
    struct shop_sql_stmt st = {.name = "relay_count", .sql = r->sql->count, .n_params = 1, .params = {cap}};
    struct shop_err err = {0};
    PGresult *res = NULL;
    r->counted_ms = uv_now(w->loop);
    if (worker_pg_exec(w, &st, PGRES_TUPLES_OK, &res, &err) < 0) {
        SHOP_LOG(SHOP_LOG_DEBUG, r->comp, "could not count the outbox", "err=\"%s\"", err.msg);
        return;                         /* the gauge keeps its last count; the next batch sees the outage */
    }
    w->outbox_depth = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
}

void worker_relay_close(struct worker_relay *r)
{
    if (r->rk == NULL)
        return;
    rd_kafka_flush(r->rk, RELAY_TIMEOUT_MS);
    rd_kafka_destroy(r->rk);
    r->rk = NULL;
}
