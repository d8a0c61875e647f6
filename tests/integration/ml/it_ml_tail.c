/* SPDX-License-Identifier: MIT
 * it-ml-tail: reads a topic from the beginning of every partition to its end and prints
 * one JSON object per record, for the ML tests to check the ml topic's events:
 *   {"partition":P,"offset":O,"key":"..","value_hash":"<FNV-1a 64 of the value>",
 *    "headers":{"ce_id":"..",...},"valid":true|false,"error":"..",
 *    "event":{"id","type","occurred_at_ms","user_id","source","actor_id","actor_role",
 *             "segment_changed":{"user_id","old_segment","new_segment","model_version"} |
 *             "model_published":{"model","version","watermark_ms","metrics":{name:value}}}}
 * valid is shop_event_decode's verdict (unpacked and every field checked); the event is
 * printed whenever the value unpacks.
 *   it-ml-tail --brokers B --topic T
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"
#include "proto/core/shop_event.h"

static const char *arg(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    }
    fprintf(stderr, "usage: it-ml-tail --brokers B --topic T\n");
    exit(2);
}

/* A JSON string of n bytes of s: quotes, backslashes and control bytes escaped. */
static void put_str(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void put_cstr(const char *s) { put_str(s != NULL ? s : "", s != NULL ? strlen(s) : 0); }

static rd_kafka_t *consumer(const char *brokers)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "group.id", "it-ml-tail", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
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

static void put_event(const Shopstream__V1__Event *ev)
{
    printf(",\"event\":{\"id\":");
    put_cstr(ev->id);
    printf(",\"type\":");
    put_cstr(ev->type);
    printf(",\"occurred_at_ms\":%" PRId64 ",\"received_at_ms\":%" PRId64 ",\"user_id\":", ev->occurred_at_ms,
           ev->received_at_ms);
    put_cstr(ev->user_id);
    printf(",\"source\":");
    put_cstr(ev->source);
    printf(",\"actor_id\":");
    put_cstr(ev->actor_id);
    printf(",\"actor_role\":");
    put_cstr(ev->actor_role);
    if (ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD_ML_SEGMENT_CHANGED) {
        const Shopstream__V1__MlSegmentChanged *s = ev->ml_segment_changed;
        printf(",\"segment_changed\":{\"user_id\":");
        put_cstr(s->user_id);
        printf(",\"old_segment\":%" PRId64 ",\"new_segment\":%" PRId64 ",\"model_version\":%" PRIu64 "}",
               s->old_segment, s->new_segment, s->model_version);
    } else if (ev->payload_case == SHOPSTREAM__V1__EVENT__PAYLOAD_ML_MODEL_PUBLISHED) {
        const Shopstream__V1__MlModelPublished *m = ev->ml_model_published;
        printf(",\"model_published\":{\"model\":");
        put_cstr(m->model);
        printf(",\"version\":%" PRIu64 ",\"watermark_ms\":%" PRId64 ",\"metrics\":{", m->version, m->watermark_ms);
        for (size_t i = 0; i < m->n_metrics; i++) {
            if (i > 0)
                putchar(',');
            put_cstr(m->metrics[i]->name);
            printf(":%.17g", m->metrics[i]->value);
        }
        printf("}}");
    } else {
        printf(",\"payload_case\":%d", (int)ev->payload_case);
    }
    putchar('}');
}

static void print_record(const rd_kafka_message_t *rkm, struct shop_arena *arena)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < rkm->len; i++)
        h = (h ^ ((const uint8_t *)rkm->payload)[i]) * UINT64_C(1099511628211);
    printf("{\"partition\":%d,\"offset\":%" PRId64 ",\"key\":", (int)rkm->partition, rkm->offset);
    put_str(rkm->key != NULL ? rkm->key : "", rkm->key != NULL ? rkm->key_len : 0);
    printf(",\"value_hash\":\"%016" PRIx64 "\",\"headers\":{", h);
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(rkm, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *name;
        const void *val;
        size_t len;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &len) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
            if (i > 0)
                putchar(',');
            put_cstr(name);
            putchar(':');
            put_str(val != NULL ? val : "", val != NULL ? len : 0);
        }
    }
    putchar('}');
    struct shop_err err = {0};
    Shopstream__V1__Event *ev = NULL;
    shop_arena_reset(arena);
    int valid = shop_event_decode(rkm->payload, rkm->len, NULL, arena, &ev, &err) == 0;
    printf(",\"valid\":%s", valid ? "true" : "false");
    if (!valid) {
        printf(",\"error\":");
        put_cstr(err.msg);
        ev = shopstream__v1__event__unpack(NULL, rkm->len, rkm->payload);
    }
    if (ev != NULL)
        put_event(ev);
    if (!valid && ev != NULL)
        shopstream__v1__event__free_unpacked(ev, NULL);
    printf("}\n");
}

int main(int argc, char **argv)
{
    const char *brokers = arg(argc, argv, "--brokers"), *topic = arg(argc, argv, "--topic");
    struct shop_arena arena = SHOP_ARENA_INIT;
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
            print_record(rkm, &arena);
        rd_kafka_message_destroy(rkm);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    shop_arena_fini(&arena);
    return left > 0 ? 1 : 0;
}
