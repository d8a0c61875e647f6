/* SPDX-License-Identifier: MIT
 * `shopstream-admin topics` and `create-topics`: creates the topics through the Kafka
 * admin API (the broker's auto-create is off on purpose) with the per-topic policy of
 * proto/core/event_topic_policy.c, and `topics` brings existing ones to it. librdkafka
 * 2.0.2 has no IncrementalAlterConfigs (2.2.0), so AlterConfigs is sent the topic's
 * whole override set: the policy merged into the overrides it has now. Shell. */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/shop_kafka_conf.h"
#include "base/shop_log.h"
#include "proto/core/event_topic.h"
#include "proto/core/event_topic_policy.h"
#include "tools/admin/admin.h"

#define ADMIN_TIMEOUT_MS 30000
#define CONFIGS_MAX 256   /* a topic's effective configs: about 40 on Kafka 3.x */

/* What metadata says of one topic; partitions 0 = it does not exist. */
struct topic_state {
    char name[SHOP_TOPIC_NAME_MAX];
    int partitions, replication;
};

/* One topic's configs as DescribeConfigs answered them; strings live in the result event. */
struct topic_configs {
    struct shop_topic_kv all[CONFIGS_MAX], overrides[CONFIGS_MAX];
    const char *source[CONFIGS_MAX];
    size_t n_all, n_overrides;
};

/* Reads one topic's metadata into st; an unknown topic leaves partitions 0. */
static int read_state(rd_kafka_t *rk, struct topic_state *st, struct shop_err *err)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, st->name, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        return shop_err_set(err, SHOP_EKAFKA, "could not read metadata of %s: %s", st->name, rd_kafka_err2str(e));
    st->partitions = st->replication = 0;
    if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        st->partitions = md->topics[0].partition_cnt;
        st->replication = st->partitions > 0 ? md->topics[0].partitions[0].replica_cnt : 0;
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

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

/* Options for one admin request: its timeouts. */
static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op)
{
    char errstr[256];
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, op);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS)
        rd_kafka_AdminOptions_set_operation_timeout(opts, 15000, errstr, sizeof(errstr));
    rd_kafka_AdminOptions_set_request_timeout(opts, ADMIN_TIMEOUT_MS, errstr, sizeof(errstr));
    return opts;
}

static int check_created(rd_kafka_event_t *ev, struct shop_err *err)
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

/* Creates the n topics of idx[] (topic indexes) with their policy; existing ones are reported. */
static int create_topics(rd_kafka_t *rk, struct topic_state *st, const size_t *idx, size_t n, int partitions,
                         int replication, struct shop_err *err)
{
    char errstr[512], names[SHOP_TOPIC_COUNT][SHOP_TOPIC_NAME_MAX];
    rd_kafka_NewTopic_t *topics[SHOP_TOPIC_COUNT];
    for (size_t k = 0; k < n; k++) {
        struct shop_topic_kv kv[SHOP_TOPIC_POLICY_CONFIGS];
        size_t n_kv = shop_topic_policy_configs(shop_topic_policy(idx[k]), replication, kv);
        memcpy(names[k], st[idx[k]].name, sizeof(names[k]));
        topics[k] = rd_kafka_NewTopic_new(names[k], partitions, replication, errstr, sizeof(errstr));
        for (size_t c = 0; c < n_kv; c++)
            rd_kafka_NewTopic_set_config(topics[k], kv[c].name, kv[c].value);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(rk, topics, n, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 5000);
    int rc;
    if (ev == NULL)
        rc = shop_err_set(err, SHOP_EKAFKA, "timed out creating topics");
    else if (rd_kafka_event_error(ev))
        rc = shop_err_set(err, SHOP_EKAFKA, "could not create topics: %s", rd_kafka_event_error_string(ev));
    else
        rc = check_created(ev, err);
    if (rc == 0)
        rc = wait_for_leaders(rk, names, n, err);
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy_array(topics, n);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* Names every topic and reads whether it exists. */
static int read_states(rd_kafka_t *rk, const char *prefix, struct topic_state st[SHOP_TOPIC_COUNT],
                       struct shop_err *err)
{
    for (size_t i = 0; i < SHOP_TOPIC_COUNT; i++) {
        if (shop_topic_name_at(st[i].name, sizeof(st[i].name), prefix, i) < 0)
            return shop_err_set(err, SHOP_ECONFIG, "topic prefix \"%s\" is too long", prefix);
        int rc = read_state(rk, &st[i], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int admin_create_topics(const char *brokers, const char *prefix, int partitions, int replication,
                        struct shop_err *err)
{
    struct topic_state st[SHOP_TOPIC_COUNT] = {0};
    size_t idx[SHOP_TOPIC_COUNT];
    rd_kafka_t *rk = admin_kafka_client(brokers, err);
    if (rk == NULL)
        return err->code;
    /* Existing topics are only reported: create-topics never changes a topic. */
    for (size_t i = 0; i < SHOP_TOPIC_COUNT; i++)
        idx[i] = i;
    int rc = 0;
    for (size_t i = 0; i < SHOP_TOPIC_COUNT && rc == 0; i++)
        if (shop_topic_name_at(st[i].name, sizeof(st[i].name), prefix, i) < 0)
            rc = shop_err_set(err, SHOP_ECONFIG, "topic prefix \"%s\" is too long", prefix);
    if (rc == 0)
        rc = create_topics(rk, st, idx, SHOP_TOPIC_COUNT, partitions, replication, err);
    rd_kafka_destroy(rk);
    return rc;
}

/* Copies DescribeConfigs' entries of one resource into tc (borrowed strings). */
static void collect_configs(const rd_kafka_ConfigResource_t *res, struct topic_configs *tc)
{
    size_t n;
    const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(res, &n);
    tc->n_all = tc->n_overrides = 0;
    for (size_t i = 0; i < n && tc->n_all < CONFIGS_MAX; i++) {
        const char *name = rd_kafka_ConfigEntry_name(e[i]), *value = rd_kafka_ConfigEntry_value(e[i]);
        rd_kafka_ConfigSource_t src = rd_kafka_ConfigEntry_source(e[i]);
        tc->source[tc->n_all] = rd_kafka_ConfigSource_name(src);
        tc->all[tc->n_all++] = (struct shop_topic_kv){name, value != NULL ? value : ""};
        /* The topic's own overrides are what AlterConfigs must send again to keep. */
        if (src == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG && value != NULL && !rd_kafka_ConfigEntry_is_read_only(e[i]))
            tc->overrides[tc->n_overrides++] = (struct shop_topic_kv){name, value};
    }
}

/* Prints current against desired per setting; returns how many differ. */
static int print_diff(const struct topic_state *st, const struct topic_configs *tc, const struct shop_topic_kv *want,
                      size_t n_want)
{
    int differ = 0;
    for (size_t c = 0; c < n_want; c++) {
        const char *cur = tc != NULL ? shop_topic_config_get(tc->all, tc->n_all, want[c].name) : NULL;
        const char *src = "";
        for (size_t k = 0; tc != NULL && cur != NULL && k < tc->n_all; k++)
            if (strcmp(tc->all[k].name, want[c].name) == 0)
                src = tc->source[k];
        bool same = cur != NULL && strcmp(cur, want[c].value) == 0;
        differ += !same;
        printf("  %-24s current %-14s %-24s desired %-12s %s\n", want[c].name, cur != NULL ? cur : "-", src,
               want[c].value, same ? "ok" : "change");
    }
    return differ;
}

/* Sends AlterConfigs for one topic with its whole override set (policy merged in). */
static int alter_topic(rd_kafka_t *rk, const char *topic, const struct shop_topic_kv *set, size_t n,
                       struct shop_err *err)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    for (size_t i = 0; i < n; i++)
        rd_kafka_ConfigResource_set_config(res, set[i].name, set[i].value);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    rd_kafka_AlterConfigs(rk, &res, 1, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 5000);
    int rc = 0;
    if (ev == NULL) {
        rc = shop_err_set(err, SHOP_EKAFKA, "timed out altering %s", topic);
    } else if (rd_kafka_event_error(ev)) {
        rc = shop_err_set(err, SHOP_EKAFKA, "could not alter %s: %s", topic, rd_kafka_event_error_string(ev));
    } else {
        size_t cnt;
        const rd_kafka_ConfigResource_t **r =
            rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &cnt);
        if (cnt == 1 && rd_kafka_ConfigResource_error(r[0]) != RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = shop_err_set(err, SHOP_EKAFKA, "could not alter %s: %s", topic, rd_kafka_ConfigResource_error_string(r[0]));
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* Describes topic i, prints current against desired, and (unless dry_run) aligns it. */
static int align_topic(rd_kafka_t *rk, const struct topic_state *st, size_t i, bool dry_run, struct shop_err *err)
{
    static struct topic_configs tc;   /* CONFIGS_MAX x 3 entries: too big for the stack */
    struct shop_topic_kv want[SHOP_TOPIC_POLICY_CONFIGS], set[CONFIGS_MAX + SHOP_TOPIC_POLICY_CONFIGS];
    size_t n_want = shop_topic_policy_configs(shop_topic_policy(i), st->replication, want);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, st->name);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(rk, &res, 1, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 5000);
    int rc = 0;
    size_t cnt = 0;
    const rd_kafka_ConfigResource_t **r = NULL;
    if (ev != NULL && !rd_kafka_event_error(ev))
        r = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &cnt);
    if (cnt != 1 || rd_kafka_ConfigResource_error(r[0]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = shop_err_set(err, SHOP_EKAFKA, "could not describe %s: %s", st->name,
                          ev == NULL ? "timed out"
                          : cnt == 1 ? rd_kafka_ConfigResource_error_string(r[0])
                                     : rd_kafka_event_error_string(ev));
        goto out_destroy;
    }
    collect_configs(r[0], &tc);
    printf("%s  partitions %d  replication %d\n", st->name, st->partitions, st->replication);
    if (print_diff(st, &tc, want, n_want) == 0 || dry_run)
        goto out_destroy;
    size_t n_set = shop_topic_config_merge(tc.overrides, tc.n_overrides, want, n_want, set);
    rc = alter_topic(rk, st->name, set, n_set, err);   /* strings copied: tc may go with ev */
    if (rc == 0)
        SHOP_LOG(SHOP_LOG_INFO, "admin", "set topic config", "topic=%s configs=%zu", st->name, n_set);
out_destroy:
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_queue_destroy(q);
    return rc;
}

int admin_topics(const char *brokers, const char *prefix, int partitions, int replication, bool dry_run,
                 struct shop_err *err)
{
    struct topic_state st[SHOP_TOPIC_COUNT] = {0};
    size_t missing[SHOP_TOPIC_COUNT], n_missing = 0;
    rd_kafka_t *rk = admin_kafka_client(brokers, err);
    if (rk == NULL)
        return err->code;
    int rc = read_states(rk, prefix, st, err);
    for (size_t i = 0; i < SHOP_TOPIC_COUNT && rc == 0; i++) {
        if (st[i].partitions > 0) {
            rc = align_topic(rk, &st[i], i, dry_run, err);
            continue;
        }
        struct shop_topic_kv want[SHOP_TOPIC_POLICY_CONFIGS];
        size_t n_want = shop_topic_policy_configs(shop_topic_policy(i), replication, want);
        printf("%s  missing: %s with %d partitions, replication %d\n", st[i].name,
               dry_run ? "would create" : "creating", partitions, replication);
        print_diff(&st[i], NULL, want, n_want);
        missing[n_missing++] = i;
    }
    if (rc == 0 && n_missing > 0 && !dry_run)
        rc = create_topics(rk, st, missing, n_missing, partitions, replication, err);
    rd_kafka_destroy(rk);
    return rc;
}
