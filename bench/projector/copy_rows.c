/* SPDX-License-Identifier: MIT
 * PostgreSQL's own limit for the projector's input: the same events as flat
 * rows in one COPY (text format). Shell.
 */
#define _GNU_SOURCE
#include "bench/projector/copy_rows.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/ingest/bench_produce.h"
#include "proto/core/event_topic.h"

const char bench_copy_table_sql[] =
    "create table bench_copy_events (\n"
    "    event_id       uuid primary key,\n"
    "    type           text   not null,\n"
    "    user_id        text   not null,\n"
    "    product_id     text,\n"
    "    quantity       bigint,\n"
    "    amount_minor   bigint,\n"
    "    currency       char(3),\n"
    "    occurred_at_ms bigint not null,\n"
    "    topic          text   not null,\n"
    "    partition      int    not null,\n"
    "    kafka_offset   bigint not null)";

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return;
    while (b->len + more > b->cap)
        b->cap = b->cap ? b->cap * 2 : 1 << 20;
    b->p = shop_xrealloc(b->p, b->cap);
}

/* COPY text format: backslash, tab, newline and carriage return are escaped; NULL is \N. */
static void put_text(struct buf *b, const char *s)
{
    if (s == NULL || s[0] == '\0') {
        buf_reserve(b, 3);
        memcpy(b->p + b->len, "\\N\t", 3);
        b->len += 3;
        return;
    }
    size_t n = strlen(s);
    buf_reserve(b, 2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            b->p[b->len++] = '\\';
            c = c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
        }
        b->p[b->len++] = c;
    }
    b->p[b->len++] = '\t';
}

static void put_int(struct buf *b, bool present, int64_t v)
{
    if (!present) {
        put_text(b, NULL);
        return;
    }
    buf_reserve(b, 24);
    b->len += (size_t)snprintf(b->p + b->len, 24, "%" PRId64 "\t", v);
}

/* The columns an analyst would want flat: product, quantity and money of the payload. */
struct flat {
    const char *product;
    bool has_qty;
    int64_t qty;
    const Shopstream__V1__Money *money;
};

static struct flat flatten(const Shopstream__V1__Event *ev)
{
    struct flat f = {0};
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED:
        f.product = ev->product_viewed->product_id;
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED:
        f = (struct flat){ev->cart_item_added->product_id, true, ev->cart_item_added->quantity,
                          ev->cart_item_added->unit_price};
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_REMOVED:
        f.product = ev->cart_item_removed->product_id;
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_QUANTITY_SET:
        f = (struct flat){ev->cart_quantity_set->product_id, true, ev->cart_quantity_set->quantity, NULL};
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED: {
        const Shopstream__V1__OrderPlaced *op = ev->order_placed;
        f.product = op->n_lines > 0 ? op->lines[0]->product_id : NULL;
        f.has_qty = true;
        for (size_t i = 0; i < op->n_lines; i++)
            f.qty += op->lines[i]->quantity;
        f.money = op->total;
        break;
    }
    case SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PAID:
        f.money = ev->order_paid->amount;
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_UPSERTED:
        f = (struct flat){ev->product_upserted->product_id, true, ev->product_upserted->stock,
                          ev->product_upserted->price};
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_ADJUSTED:
        f = (struct flat){ev->stock_adjusted->product_id, true, ev->stock_adjusted->delta, NULL};
        break;
    default:
        break;
    }
    return f;
}

char *bench_copy_rows_build(const struct bench_msgs *m, const char *topic_prefix, size_t *len)
{
    struct buf b = {0};
    char topic[SHOP_TOPIC_NAME_MAX];
    for (size_t i = 0; i < m->n; i++) {
        const struct bench_msg *msg = &m->v[i];
        const Shopstream__V1__Event *ev = msg->ev;
        struct flat f = flatten(ev);
        shop_topic_name(topic, sizeof(topic), topic_prefix, msg->stream);
        put_text(&b, ev->id);
        put_text(&b, ev->type);
        put_text(&b, ev->user_id);
        put_text(&b, f.product);
        put_int(&b, f.has_qty, f.qty);
        put_int(&b, f.money != NULL, f.money ? f.money->amount_minor : 0);
        put_text(&b, f.money ? f.money->currency : NULL);
        put_int(&b, true, ev->occurred_at_ms);
        put_text(&b, topic);
        put_int(&b, true, msg->partition);
        put_int(&b, true, msg->offset);
        b.p[b.len - 1] = '\n';   /* the last column ends the row */
    }
    *len = b.len;
    return b.p;
}

int bench_copy_rows_run(PGconn *conn, const char *rows, size_t len, struct shop_err *err)
{
    PGresult *res = PQexec(conn, "copy bench_copy_events from stdin (format text)");
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        shop_err_set(err, SHOP_EPG, "could not start copy: %s", PQerrorMessage(conn));
        PQclear(res);
        return SHOP_EPG;
    }
    PQclear(res);
    /* Blocking connection: PQputCopyData queues and sends; chunks keep each call bounded. */
    const size_t chunk = 256 * 1024;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (PQputCopyData(conn, rows + off, (int)n) != 1)
            return shop_err_set(err, SHOP_EPG, "could not send copy data: %s", PQerrorMessage(conn));
    }
    if (PQputCopyEnd(conn, NULL) != 1)
        return shop_err_set(err, SHOP_EPG, "could not end copy: %s", PQerrorMessage(conn));
    int rc = 0;
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0)
            rc = shop_err_set(err, SHOP_EPG, "copy failed: %s", PQresultErrorMessage(res));
        PQclear(res);
    }
    return rc;
}
