/* SPDX-License-Identifier: MIT
 * `shopstream-admin tail`: prints the records of one topic as JSON lines, one per record,
 * headers included, through the pure decoder proto/core/event_to_json.c. It assigns every
 * partition itself (no consumer group, nothing committed), so tailing never moves a
 * worker's offsets or joins its group. Shell. */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "proto/core/event_to_json.h"
#include "proto/core/event_topic.h"
#include "proto/core/event_topic_policy.h"
#include "tools/admin/admin.h"

#define POLL_MS 100
#define HEADERS_MAX 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    stop = 1;
}

/* A stream's short name ("order", "dlq") is its topic under prefix; anything else is taken as is. */
static void resolve_topic(const char *topic, const char *prefix, char out[SHOP_TOPIC_NAME_MAX])
{
    for (size_t i = 0; i < SHOP_TOPIC_COUNT; i++)
        if (strcmp(topic, shop_topic_policy(i)->stream) == 0 &&
            shop_topic_name_at(out, SHOP_TOPIC_NAME_MAX, prefix, i) > 0)
            return;
    snprintf(out, SHOP_TOPIC_NAME_MAX, "%s", topic);
}

static rd_kafka_t *tail_consumer(const char *brokers, struct shop_err *err)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "client.id", "shopstream-admin-tail", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
        /* librdkafka 2.0.2 wants a group for assign(); with assign() it is never joined and,
         * nothing being committed, it never holds offsets. */
        rd_kafka_conf_set(conf, "group.id", "shopstream-admin-tail", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        shop_err_set(err, SHOP_ECONFIG, "invalid kafka configuration: %s", errstr);
        return NULL;
    }
    if (shop_kafka_conf_apply(conf, admin_kafka_props, err) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);   /* rd_kafka_new() frees conf only on success */
        shop_err_set(err, SHOP_EKAFKA, "could not create kafka consumer: %s", errstr);
    }
    return rk;
}

/* Assigns every partition of topic at the start offset; returns the partition count. */
static int assign_all(rd_kafka_t *rk, const char *topic, int64_t start, struct shop_err *err)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return shop_err_set(err, SHOP_EKAFKA, "could not read metadata of %s: %s", topic, rd_kafka_err2str(e));
    int n = 0;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        n = md->topics[0].partition_cnt;
    e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    rd_kafka_metadata_destroy(md);
    if (n == 0)
        return shop_err_set(err, SHOP_EKAFKA, "no such topic %s: %s", topic, rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = start;
    e = rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return shop_err_set(err, SHOP_EKAFKA, "could not assign %s: %s", topic, rd_kafka_err2str(e));
    return n;
}

/* The message as the pure decoder's record; header storage is the caller's. */
static void to_record(const rd_kafka_message_t *rkm, struct shop_record_header *h, struct shop_record *r)
{
    rd_kafka_timestamp_type_t tstype;
    rd_kafka_headers_t *hdrs = NULL;
    *r = (struct shop_record){.topic = rd_kafka_topic_name(rkm->rkt), .partition = rkm->partition,
                              .offset = rkm->offset, .timestamp_ms = rd_kafka_message_timestamp(rkm, &tstype),
                              .key = rkm->key, .key_len = rkm->key_len, .value = rkm->payload,
                              .value_len = rkm->len, .headers = h};
    if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    const char *name;
    const void *val;
    size_t size;
    while (r->n_headers < HEADERS_MAX && rd_kafka_header_get_all(hdrs, r->n_headers, &name, &val, &size) == 0) {
        h[r->n_headers] = (struct shop_record_header){name, val, size};
        r->n_headers++;
    }
}

/* --format text: "topic/partition@offset type key=... " then the event (or error) as JSON. */
static void print_text(json_t *j)
{
    json_t *ev = json_object_get(j, "event"), *hd = json_object_get(j, "headers");
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (json_object_get(j, "dead_letter") != NULL)
        type = "dead-letter";
    const char *key = json_string_value(json_object_get(j, "key"));
    json_t *body = json_object_get(j, "dead_letter") != NULL ? json_object_get(j, "dead_letter")
                   : ev != NULL                           ? ev
                                                          : j;
    char *s = json_dumps(body, JSON_COMPACT);
    printf("%s/%lld@%lld %s key=%s id=%s %s\n", json_string_value(json_object_get(j, "topic")),
           (long long)json_integer_value(json_object_get(j, "partition")),
           (long long)json_integer_value(json_object_get(j, "offset")), type != NULL ? type : "undecodable",
           key != NULL ? key : "-", json_string_value(json_object_get(hd, "ce_id")) ? json_string_value(json_object_get(hd, "ce_id")) : "-",
           s != NULL ? s : "{}");
    free(s);
}

static void print_record(const rd_kafka_message_t *rkm, bool text, struct shop_arena *arena)
{
    struct shop_record_header h[HEADERS_MAX];
    struct shop_record r;
    to_record(rkm, h, &r);
    json_t *j = shop_record_to_json(&r, arena);
    if (text) {
        print_text(j);
    } else {
        char *line = json_dumps(j, JSON_COMPACT);
        puts(line != NULL ? line : "{\"error\":\"could not write the record as JSON\"}");
        free(line);
    }
    json_decref(j);
    shop_arena_reset(arena);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int admin_tail(const char *brokers, const char *prefix, const struct admin_tail_opts *o, struct shop_err *err)
{
    char topic[SHOP_TOPIC_NAME_MAX];
    resolve_topic(o->topic, prefix, topic);
    rd_kafka_t *rk = tail_consumer(brokers, err);
    if (rk == NULL)
        return err->code;
    int n_parts = assign_all(rk, topic, o->from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END, err);
    if (n_parts < 0) {
        rd_kafka_destroy(rk);
        return n_parts;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    setvbuf(stdout, NULL, _IOLBF, 0);   /* one line per record, even into a pipe */
    struct shop_arena arena = SHOP_ARENA_INIT;
    long printed = 0;
    int at_end = 0;
    int64_t last = now_ms();
    while (!stop && (o->max <= 0 || printed < o->max)) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, POLL_MS);
        if (rkm == NULL) {
            if (o->timeout_ms > 0 && now_ms() - last >= o->timeout_ms)
                break;
            continue;
        }
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            at_end++;
        } else if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            SHOP_LOG(SHOP_LOG_WARN, "admin", "consumer error", "topic=%s err=\"%s\"", topic, rd_kafka_message_errstr(rkm));
        } else {
            print_record(rkm, o->text, &arena);
            printed++;
            last = now_ms();
        }
        rd_kafka_message_destroy(rkm);
        if (o->exit_at_end && at_end >= n_parts)
            break;
    }
    shop_arena_fini(&arena);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    SHOP_LOG(SHOP_LOG_INFO, "admin", "tail done", "topic=%s records=%ld", topic, printed);
    return 0;
}
