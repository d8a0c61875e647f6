/* SPDX-License-Identifier: MIT
 * rb-produce: a flat stream straight to three of the projector's topics, for the
 * rebalance bench (run.sh): --rate records per second in ticks of 10 ms, in turn a view
 * (browse), a cart add (cart), both keyed by one of 512 users, and a product upsert
 * (catalog, keyed by one of 64 products), so every partition of the three gets its share
 * every tick, for --seconds, then a flush. A steady stream is what makes a stall
 * visible: with records arriving every 10 ms on every partition, a gap between two
 * commits of one partition is consumption stopping.
 *
 *   rb-produce --brokers B --prefix P --rate R --seconds S
 *
 * Prints the records produced.
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/core/event_topic.h"
#include "proto/core/shop_event.h"

#define TICK_MS 10
#define N_USERS 512
#define N_PRODUCTS 64

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "rb-produce: %s: %s\n", what, detail);
    exit(1);
}

/* Delivery reports: the figure printed is what the broker acknowledged, so the bench
 * waits for exactly that many records; a failure is reported, never counted. */
static int64_t delivered, failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        delivered++;
        return;
    }
    if (failed++ == 0)
        fprintf(stderr, "rb-produce: a delivery failed: %s\n", rd_kafka_err2str(rkm->err));
}

static rd_kafka_t *producer(const char *brokers)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "linger.ms", "2", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        die("configuration", errstr);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL)
        die("producer", errstr);
    return rk;
}

static void produce_to(rd_kafka_t *rk, const char *topic, const char *key, Shopstream__V1__Event *ev)
{
    uint8_t buf[512];
    size_t len = shopstream__v1__event__pack(ev, buf);
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                    RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(rk, 10);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("produce", rd_kafka_err2str(err));
}

/* Record seq: its id a canonical UUID made of the run's start and seq. */
static void produce_one(rd_kafka_t *rk, char topics[][SHOP_TOPIC_NAME_MAX], int64_t seq, int64_t run_ms)
{
    char id[40], user[16], product[16];
    snprintf(id, sizeof(id), "%08" PRIx64 "-0000-4000-8000-%012" PRIx64, (uint64_t)run_ms & 0xffffffffu,
             (uint64_t)seq & UINT64_C(0xffffffffffff));
    snprintf(user, sizeof(user), "rb-u%03d", (int)(seq / 3 % N_USERS));
    snprintf(product, sizeof(product), "rb-p%02d", (int)(seq / 7 % N_PRODUCTS));
    Shopstream__V1__Event ev;
    Shopstream__V1__ProductViewed pv;
    Shopstream__V1__CartItemAdded ca;
    Shopstream__V1__ProductUpserted pu;
    Shopstream__V1__Money price;
    shopstream__v1__event__init(&ev);
    shopstream__v1__money__init(&price);
    price.amount_minor = 100 + seq % 900;
    price.currency = "GBP";
    ev.id = id;
    ev.user_id = user;
    ev.occurred_at_ms = ev.received_at_ms = now_ms();
    switch (seq % 3) {
    case 0:
        shopstream__v1__product_viewed__init(&pv);
        pv.product_id = product;
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED;
        ev.product_viewed = &pv;
        break;
    case 1:
        shopstream__v1__cart_item_added__init(&ca);
        ca.product_id = product;
        ca.quantity = 1;
        ca.unit_price = &price;
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED;
        ev.cart_item_added = &ca;
        break;
    default:
        shopstream__v1__product_upserted__init(&pu);
        pu.product_id = product;
        pu.name = product;
        pu.price = &price;
        pu.stock = 1000;
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_UPSERTED;
        ev.product_upserted = &pu;
        ev.actor_role = "admin";
        ev.actor_id = "rb-admin";
        break;
    }
    ev.type = (char *)shop_event_type_name(ev.payload_case);
    produce_to(rk, topics[seq % 3], seq % 3 == 2 ? product : user, &ev);
}

int main(int argc, char **argv)
{
    const char *brokers = NULL, *prefix = "";
    long rate = 2000, seconds = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--brokers") == 0)
            brokers = argv[i + 1];
        else if (strcmp(argv[i], "--prefix") == 0)
            prefix = argv[i + 1];
        else if (strcmp(argv[i], "--rate") == 0)
            rate = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtol(argv[i + 1], NULL, 10);
        else
            die("unknown option", argv[i]);
    }
    if (brokers == NULL || rate <= 0 || seconds <= 0)
        die("usage", "rb-produce --brokers B --prefix P --rate R --seconds S");
    char topics[3][SHOP_TOPIC_NAME_MAX];
    if (shop_topic_name(topics[0], sizeof(topics[0]), prefix, SHOP_STREAM_BROWSE) < 0 ||
        shop_topic_name(topics[1], sizeof(topics[1]), prefix, SHOP_STREAM_CART) < 0 ||
        shop_topic_name(topics[2], sizeof(topics[2]), prefix, SHOP_STREAM_CATALOG) < 0)
        die("prefix", prefix);
    rd_kafka_t *rk = producer(brokers);
    int64_t start = now_ms(), seq = 0;
    for (int64_t tick = 0; tick < seconds * 1000 / TICK_MS; tick++) {
        int64_t due = rate * (tick + 1) * TICK_MS / 1000;   /* records owed by the end of this tick */
        for (; seq < due; seq++)
            produce_one(rk, topics, seq, start);
        rd_kafka_poll(rk, 0);
        int64_t wait = start + (tick + 1) * TICK_MS - now_ms();
        if (wait > 0)
            nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = wait * 1000000}, NULL);
    }
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("flush", "timed out");
    rd_kafka_destroy(rk);
    if (failed > 0)
        fprintf(stderr, "rb-produce: %" PRId64 " of %" PRId64 " records not delivered\n", failed, seq);
    printf("%" PRId64 "\n", delivered);
    return 0;
}
