/* SPDX-License-Identifier: MIT
 * it-notify-gen: writes inventory outcomes for orders [from, to) to the inventory topic
 * (what the inventory worker would have written) and prints the status changes the
 * notify role must deliver, one "order_id,status" line each. Order i is rejected when
 * i % 5 == 4, else confirmed and then shipped (i % 3 == 0), cancelled (i % 3 == 1) or
 * left confirmed; every 10th order also brings a low-stock event, which is no status
 * change. Event ids are UUID v5 of the order and the outcome: a second run writes the
 * same events.
 *   it-notify-gen --brokers B --topic T --from I --to J [--print-only]
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "proto/core/shop_event.h"

static const char *arg(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0 && strncmp(argv[i + 1], "--", 2) != 0)
            return argv[i + 1];
    fprintf(stderr, "usage: it-notify-gen --brokers B --topic T --from I --to J\n");
    exit(2);
}

static void event_id(const char *order_id, const char *kind, char out[37])
{
    uuid_t ns, id;
    char name[128];
    int len = snprintf(name, sizeof(name), "it-notify/%s/%s", order_id, kind);
    uuid_parse("0b7a4c3e-1f2d-4e5a-8b9c-7d6e5f4a3b2c", ns);
    uuid_generate_sha1(id, ns, name, (size_t)len);
    uuid_unparse_lower(id, out);
}

static int print_only;

static void produce(rd_kafka_t *rk, const char *topic, Shopstream__V1__Event *ev, const char *key)
{
    if (print_only)
        return;
    size_t len = shopstream__v1__event__get_packed_size(ev);
    uint8_t *buf = malloc(len);
    shopstream__v1__event__pack(ev, buf);
    if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                          RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_END) != 0) {
        fprintf(stderr, "could not produce\n");
        exit(1);
    }
    rd_kafka_poll(rk, 0);
}

static void envelope(Shopstream__V1__Event *ev, char *id, const char *type, const char *user, int64_t i)
{
    shopstream__v1__event__init(ev);
    ev->id = id;
    ev->type = (char *)type;
    ev->occurred_at_ms = INT64_C(1764000000000) + i * 1000;
    ev->received_at_ms = ev->occurred_at_ms;
    ev->user_id = (char *)user;
    ev->source = (char *)"shopstream-worker/inventory";
}

static void order_events(rd_kafka_t *rk, const char *topic, int64_t i)
{
    char order[32], user[32], product[32], id[37];
    snprintf(order, sizeof(order), "o%" PRId64, i);
    snprintf(user, sizeof(user), "u%" PRId64, i % 7);
    snprintf(product, sizeof(product), "p%" PRId64, i % 11);
    Shopstream__V1__Event ev;
    Shopstream__V1__Money amount = SHOPSTREAM__V1__MONEY__INIT;
    amount.amount_minor = 1000 + i;
    amount.currency = (char *)"GBP";
    Shopstream__V1__StockLine line = SHOPSTREAM__V1__STOCK_LINE__INIT, *lines[] = {&line};
    line.product_id = product;
    line.quantity = 1 + i % 3;
    if (i % 5 == 4) {
        Shopstream__V1__StockShortLine sl = SHOPSTREAM__V1__STOCK_SHORT_LINE__INIT, *sls[] = {&sl};
        Shopstream__V1__StockRejected rej = SHOPSTREAM__V1__STOCK_REJECTED__INIT;
        sl.product_id = product;
        sl.requested = 5;
        sl.available = 1;
        rej.order_id = order;
        rej.reason = (char *)"out_of_stock";
        rej.n_lines = 1;
        rej.lines = sls;
        event_id(order, "rejected", id);
        envelope(&ev, id, "inventory.rejected", user, i);
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED;
        ev.stock_rejected = &rej;
        produce(rk, topic, &ev, order);
        printf("%s,rejected\n", order);
        return;
    }
    Shopstream__V1__StockReserved res = SHOPSTREAM__V1__STOCK_RESERVED__INIT;
    line.amount = &amount;
    res.order_id = order;
    res.n_lines = 1;
    res.lines = lines;
    event_id(order, "reserved", id);
    envelope(&ev, id, "inventory.reserved", user, i);
    ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED;
    ev.stock_reserved = &res;
    produce(rk, topic, &ev, order);
    printf("%s,confirmed\n", order);
    line.amount = NULL;
    if (i % 3 == 0) {
        Shopstream__V1__StockCommitted com = SHOPSTREAM__V1__STOCK_COMMITTED__INIT;
        com.order_id = order;
        com.n_lines = 1;
        com.lines = lines;
        event_id(order, "committed", id);
        envelope(&ev, id, "inventory.committed", user, i);
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_COMMITTED;
        ev.stock_committed = &com;
        produce(rk, topic, &ev, order);
        printf("%s,shipped\n", order);
    } else if (i % 3 == 1) {
        Shopstream__V1__StockReleased rel = SHOPSTREAM__V1__STOCK_RELEASED__INIT;
        rel.order_id = order;
        rel.n_lines = 1;
        rel.lines = lines;
        event_id(order, "released", id);
        envelope(&ev, id, "inventory.released", user, i);
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RELEASED;
        ev.stock_released = &rel;
        produce(rk, topic, &ev, order);
        printf("%s,cancelled\n", order);
    }
}

static void low_stock(rd_kafka_t *rk, const char *topic, int64_t i)
{
    char product[32], id[37];
    snprintf(product, sizeof(product), "p%" PRId64, i % 11);
    Shopstream__V1__Event ev;
    Shopstream__V1__LowStock ls = SHOPSTREAM__V1__LOW_STOCK__INIT;
    ls.product_id = product;
    ls.available = 1;
    ls.threshold = 5;
    event_id(product, "low", id);
    envelope(&ev, id, "inventory.low_stock", "shopstream-inventory", i);
    ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_LOW_STOCK;
    ev.low_stock = &ls;
    produce(rk, topic, &ev, product);
}

int main(int argc, char **argv)
{
    const char *brokers = arg(argc, argv, "--brokers"), *topic = arg(argc, argv, "--topic");
    int64_t from = strtoll(arg(argc, argv, "--from"), NULL, 10), to = strtoll(arg(argc, argv, "--to"), NULL, 10);
    char errstr[256];
    print_only = strcmp(argv[argc - 1], "--print-only") == 0;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s\n", errstr);
        return 2;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "%s\n", errstr);
        return 2;
    }
    for (int64_t i = from; i < to; i++) {
        order_events(rk, topic, i);
        if (i % 10 == 0)
            low_stock(rk, topic, i);
    }
    int rc = rd_kafka_flush(rk, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : 1;
    rd_kafka_destroy(rk);
    if (rc != 0)
        fprintf(stderr, "could not deliver every event\n");
    return rc;
}
