/* SPDX-License-Identifier: MIT
 * `shopstream-admin create-topics`: creates the stream topics through the
 * Kafka admin API (the broker's auto-create is off on purpose). Shell. */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "proto/core/event_topic.h"
#include "tools/admin/admin.h"

/* Every stream's topic and the dead-letter topic (proto/core/event_topic.c names them). */
#define N_STREAMS ((size_t)SHOP_STREAM_COUNT + 1)

/* Whether every partition of every topic has a leader in one metadata reply. */
static bool all_led(rd_kafka_t *rk, char names[][SHOP_TOPIC_NAME_MAX], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, names[i], NULL);
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 5000);
        rd_kafka_topic_destroy(rkt);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            return false;
        bool led = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                   md->topics[0].partition_cnt > 0;
        for (int p = 0; led && p < md->topics[0].partition_cnt; p++)
            led = md->topics[0].partitions[p].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                  md->topics[0].partitions[p].leader >= 0;
        rd_kafka_metadata_destroy(md);
        if (!led)
            return false;
    }
    return true;
}

/* CreateTopics answers once the controller has the topics, before every partition has a
 * leader: a producer, a watermark query or a consumer right after would see
 * NOT_LEADER/LEADER_NOT_AVAILABLE. Return only once the topics can be used. */
static int wait_for_leaders(rd_kafka_t *rk, char names[][SHOP_TOPIC_NAME_MAX], size_t n, struct shop_err *err)
{
    for (int tries = 0; tries < 150; tries++) {
        if (all_led(rk, names, n))
            return 0;
        usleep(200 * 1000);
    }
    return shop_err_set(err, SHOP_EKAFKA, "topics created but some partitions have no leader after 30 s");
}

static int check_results(rd_kafka_event_t *ev, struct shop_err *err)
{
    size_t n;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        const char *name = rd_kafka_topic_result_name(res[i]);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            SHOP_LOG(SHOP_LOG_INFO, "admin", "created topic", "topic=%s", name);
        else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            SHOP_LOG(SHOP_LOG_INFO, "admin", "topic exists", "topic=%s", name);
        else
            rc = shop_err_set(err, SHOP_EKAFKA, "could not create topic %s: %s", name,
                              rd_kafka_topic_result_error_string(res[i]));
    }
    return rc;
}

rd_kafka_t *admin_kafka_client(const char *brokers, struct shop_err *err)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        shop_err_set(err, SHOP_ECONFIG, "invalid brokers: %s", errstr);
        return NULL;
    }
    if (shop_kafka_conf_apply(conf, admin_kafka_props, err) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf); /* rd_kafka_new() frees conf only on success */
        shop_err_set(err, SHOP_EKAFKA, "could not create kafka client: %s", errstr);
    }
    return rk;
}

int admin_create_topics(const char *brokers, const char *prefix, int partitions, int replication,
                        struct shop_err *err)
{
    char errstr[512], names[N_STREAMS][SHOP_TOPIC_NAME_MAX];
    rd_kafka_t *rk = admin_kafka_client(brokers, err);
    if (rk == NULL)
        return err->code;
    for (size_t i = 0; i < N_STREAMS; i++) {
        int len = i < (size_t)SHOP_STREAM_COUNT
                      ? shop_topic_name(names[i], sizeof(names[i]), prefix, (enum shop_stream)i)
                      : shop_topic_dlq_name(names[i], sizeof(names[i]), prefix);
        if (len < 0) {
            rd_kafka_destroy(rk);
            return shop_err_set(err, SHOP_ECONFIG, "topic prefix \"%s\" is too long", prefix);
        }
    }
    rd_kafka_NewTopic_t *topics[N_STREAMS];
    for (size_t i = 0; i < N_STREAMS; i++) {
        topics[i] = rd_kafka_NewTopic_new(names[i], partitions, replication, errstr, sizeof(errstr));
        /* Streams are an event log: keep everything so projections can be rebuilt by replay. */
        rd_kafka_NewTopic_set_config(topics[i], "retention.ms", "-1");
        rd_kafka_NewTopic_set_config(topics[i], "min.insync.replicas", replication > 1 ? "2" : "1");
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 15000, errstr, sizeof(errstr));
    rd_kafka_AdminOptions_set_request_timeout(opts, 30000, errstr, sizeof(errstr));
    rd_kafka_CreateTopics(rk, topics, N_STREAMS, opts, q);

    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 35000);
    int rc;
    if (ev == NULL)
        rc = shop_err_set(err, SHOP_EKAFKA, "timed out creating topics on %s", brokers);
    else if (rd_kafka_event_error(ev))
        rc = shop_err_set(err, SHOP_EKAFKA, "could not create topics: %s", rd_kafka_event_error_string(ev));
    else
        rc = check_results(ev, err);
    if (rc == 0)
        rc = wait_for_leaders(rk, names, N_STREAMS, err);
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy_array(topics, N_STREAMS);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}
