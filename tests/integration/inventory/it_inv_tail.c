/* SPDX-License-Identifier: MIT
 * it-inventory-tail: reads a topic from the beginning of every partition to its
 * end and prints one line per record, for the inventory tests to check outcomes:
 *   <event id> <type> <key> <partition> <offset> <ce_id header> <detail>
 * detail is the rejection reason, "available/threshold" for low stock, or "-".
 * A record whose value does not decode prints "undecodable" as its type.
 *   it-inventory-tail --brokers B --topic T
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/core/shop_event.h"

static const char *arg(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    }
    fprintf(stderr, "usage: it-inventory-tail --brokers B --topic T\n");
    exit(2);
}

static rd_kafka_t *consumer(const char *brokers)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "group.id", "it-inventory-tail", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s\n", errstr);
        exit(2);
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        fprintf(stderr, "%s\n", errstr);
        exit(2);
    }
    return rk;
}

/* Assigns every partition of topic at its beginning; returns how many there are. */
static int assign_all(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
        md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "no metadata for %s\n", topic);
        exit(1);
    }
    int n = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return n;
}

static void print_record(const rd_kafka_message_t *rkm)
{
    const void *ce_id = NULL;
    size_t ce_len = 0;
    rd_kafka_headers_t *hdrs = NULL;
    char ce[64] = "-";
    if (rd_kafka_message_headers(rkm, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(hdrs, "ce_id", &ce_id, &ce_len) == RD_KAFKA_RESP_ERR_NO_ERROR && ce_len < sizeof(ce)) {
        memcpy(ce, ce_id, ce_len);
        ce[ce_len] = '\0';
    }
    char key[80] = "-";
    if (rkm->key_len < sizeof(key)) {
        memcpy(key, rkm->key, rkm->key_len);
        key[rkm->key_len] = '\0';
    }
    Shopstream__V1__Event *ev = shopstream__v1__event__unpack(NULL, rkm->len, rkm->payload);
    char detail[64] = "-";
    if (ev != NULL && ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED)
        snprintf(detail, sizeof(detail), "%s", ev->stock_rejected->reason);
    if (ev != NULL && ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD_LOW_STOCK)
        snprintf(detail, sizeof(detail), "%" PRId64 "/%" PRId64, ev->low_stock->available, ev->low_stock->threshold);
    printf("%s %s %s %d %" PRId64 " %s %s\n", ev != NULL ? ev->id : "-", ev != NULL ? ev->type : "undecodable",
           key, (int)rkm->partition, rkm->offset, ce, detail);
    if (ev != NULL)
        shopstream__v1__event__free_unpacked(ev, NULL);
}

int main(int argc, char **argv)
{
    const char *brokers = arg(argc, argv, "--brokers"), *topic = arg(argc, argv, "--topic");
    rd_kafka_t *rk = consumer(brokers);
    int left = assign_all(rk, topic);
    for (int idle = 0; left > 0 && idle < 300;) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (rkm == NULL) {
            idle++;
            continue;
        }
        idle = 0;
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            left--;
        else if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            fprintf(stderr, "consume: %s\n", rd_kafka_message_errstr(rkm));
        else
            print_record(rkm);
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return left > 0 ? 1 : 0;
}
