/* SPDX-License-Identifier: MIT
 * What replay and rebuild need to know about a consumer group: its live members (Kafka's
 * DescribeConsumerGroups), and per partition of its role's topics the broker's
 * watermarks and the next offset the group committed in PostgreSQL. Shell.
 */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/core/event_topic.h"
#include "tools/admin/admin.h"

#define ADMIN_TIMEOUT_MS 10000

int admin_group_members(rd_kafka_t *rk, const char *group, char *who, size_t n, int *count, struct shop_err *err)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(opts, ADMIN_TIMEOUT_MS, errstr, sizeof(errstr));
    const char *groups[1] = {group};
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 2000);
    int rc = 0;
    *count = 0;
    who[0] = '\0';
    const rd_kafka_DescribeConsumerGroups_result_t *res = ev ? rd_kafka_event_DescribeConsumerGroups_result(ev) : NULL;
    size_t ng = 0;
    const rd_kafka_ConsumerGroupDescription_t **descs = res ? rd_kafka_DescribeConsumerGroups_result_groups(res, &ng) : NULL;
    if (ev == NULL || rd_kafka_event_error(ev) || ng != 1) {
        rc = shop_err_set(err, SHOP_EKAFKA, "could not describe consumer group %s: %s", group,
                          ev ? rd_kafka_event_error_string(ev) : "timed out");
    } else if (rd_kafka_ConsumerGroupDescription_error(descs[0]) != NULL) {
        rc = shop_err_set(err, SHOP_EKAFKA, "could not describe consumer group %s: %s", group,
                          rd_kafka_error_string(rd_kafka_ConsumerGroupDescription_error(descs[0])));
    } else {
        size_t len = 0, m = rd_kafka_ConsumerGroupDescription_member_count(descs[0]);
        *count = (int)m;
        for (size_t i = 0; i < m && len + 1 < n; i++) {
            const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(descs[0], i);
            int w = snprintf(who + len, n - len, "%s%s@%s", i > 0 ? ", " : "", rd_kafka_MemberDescription_client_id(md),
                             rd_kafka_MemberDescription_host(md));
            len = w < 0 ? len : len + (size_t)w >= n ? n - 1 : len + (size_t)w;
        }
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* Appends every partition of topic with its watermarks. */
static int add_topic(rd_kafka_t *rk, const char *topic, struct admin_parts *ps, struct shop_err *err)
{
    const struct rd_kafka_metadata *md;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, ADMIN_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
        int rc = shop_err_set(err, SHOP_EKAFKA, "could not read metadata of %s: %s", topic,
                              rd_kafka_err2str(e ? e : md->topics[0].err));
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            rd_kafka_metadata_destroy(md);
        return rc;
    }
    int rc = 0;
    for (int p = 0; p < md->topics[0].partition_cnt && rc == 0; p++) {
        if (ps->n == ADMIN_PARTS_MAX) {
            rc = shop_err_set(err, SHOP_ENOMEM, "more than %d partitions", ADMIN_PARTS_MAX);
            break;
        }
        struct admin_part *pt = &ps->v[ps->n];
        snprintf(pt->topic, sizeof(pt->topic), "%s", topic);
        pt->partition = p;
        e = rd_kafka_query_watermark_offsets(rk, topic, p, &pt->lo, &pt->hi, ADMIN_TIMEOUT_MS);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = shop_err_set(err, SHOP_EKAFKA, "could not query offsets of %s/%d: %s", topic, p, rd_kafka_err2str(e));
        ps->n++;
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

/* The group's committed next offsets in PostgreSQL; a partition without a row starts at 0. */
static int read_current(PGconn *conn, const char *group, struct admin_parts *ps, struct shop_err *err)
{
    for (int i = 0; i < ps->n; i++) {
        char part[16];
        snprintf(part, sizeof(part), "%d", ps->v[i].partition);
        const char *params[3] = {group, ps->v[i].topic, part};
        PGresult *res = PQexecParams(conn,
                                     "select next_offset from consumer_offsets"
                                     " where consumer_group = $1 and topic = $2 and partition = $3::int",
                                     3, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            PQclear(res);
            return shop_err_set(err, SHOP_EPG, "could not read consumer_offsets: %s", PQerrorMessage(conn));
        }
        ps->v[i].current = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
        ps->v[i].target = ps->v[i].current;
        PQclear(res);
    }
    return 0;
}

int admin_group_positions(rd_kafka_t *rk, PGconn *conn, const char *prefix, const struct shop_role_desc *role,
                          const char *only_topic, const char *group, struct admin_parts *ps, struct shop_err *err)
{
    ps->n = 0;
    for (int s = 0; s < role->n_streams; s++) {
        char topic[SHOP_TOPIC_NAME_MAX];
        if (shop_topic_name(topic, sizeof(topic), prefix, role->streams[s]) < 0)
            return shop_err_set(err, SHOP_ECONFIG, "topic prefix \"%s\" is too long", prefix);
        if (only_topic != NULL && strcmp(only_topic, topic) != 0)
            continue;
        int rc = add_topic(rk, topic, ps, err);
        if (rc < 0)
            return rc;
    }
    if (ps->n == 0)
        return shop_err_set(err, SHOP_EINVAL, "role %s consumes no topic %s", role->name, only_topic ? only_topic : "");
    return read_current(conn, group, ps, err);
}

int admin_kafka_set_offsets(rd_kafka_t *rk, const char *group, const struct admin_parts *ps, struct shop_err *err)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(ps->n);
    for (int i = 0; i < ps->n; i++)
        rd_kafka_topic_partition_list_add(list, ps->v[i].topic, ps->v[i].partition)->offset = ps->v[i].target;
    rd_kafka_AlterConsumerGroupOffsets_t *alter = rd_kafka_AlterConsumerGroupOffsets_new(group, list);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AlterConsumerGroupOffsets(rk, &alter, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 2000);
    int rc = 0;
    size_t n = 0;
    const rd_kafka_AlterConsumerGroupOffsets_result_t *res = ev ? rd_kafka_event_AlterConsumerGroupOffsets_result(ev) : NULL;
    const rd_kafka_group_result_t **groups = res ? rd_kafka_AlterConsumerGroupOffsets_result_groups(res, &n) : NULL;
    if (ev == NULL || rd_kafka_event_error(ev) || n != 1 || rd_kafka_group_result_error(groups[0]) != NULL) {
        rc = shop_err_set(err, SHOP_EKAFKA, "could not alter the group's kafka offsets: %s",
                          ev == NULL ? "timed out"
                          : rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev)
                          : n == 1 ? rd_kafka_error_string(rd_kafka_group_result_error(groups[0])) : "no result");
    } else {
        const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(groups[0]);
        for (int i = 0; parts != NULL && i < parts->cnt && rc == 0; i++) {
            if (parts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR)
                rc = shop_err_set(err, SHOP_EKAFKA, "could not alter the kafka offset of %s/%d: %s",
                                  parts->elems[i].topic, parts->elems[i].partition,
                                  rd_kafka_err2str(parts->elems[i].err));
        }
    }
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    rd_kafka_AlterConsumerGroupOffsets_destroy(alter);
    rd_kafka_queue_destroy(q);
    return rc;
}
