/* SPDX-License-Identifier: MIT
 * `shopstream-admin lag`: how far a role's group is behind each partition of the
 * streams that role consumes (workers/core/roles.c), from the broker's high watermarks and the offsets the group
 * committed in PostgreSQL (the source of truth, written with its effects). Shell. */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_log.h"
#include "proto/core/event_topic.h"
#include "tools/admin/admin.h"


/* Committed next offset of (group, topic, partition) in PostgreSQL, 0 when none. */
static int64_t stored_offset(PGconn *conn, const char *group, const char *topic, int partition, int *failed)
{
    char part[16];
    snprintf(part, sizeof(part), "%d", partition);
    const char *params[3] = {group, topic, part};
    PGresult *res = PQexecParams(conn,
                                 "select next_offset from consumer_offsets"
                                 " where consumer_group = $1 and topic = $2 and partition = $3::int",
                                 3, NULL, params, NULL, NULL, 0);
    int64_t off = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        *failed = 1;
    else if (PQntuples(res) == 1)
        off = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return off;
}

int admin_lag(const char *brokers, const char *prefix, const char *dsn, const char *group,
              const struct shop_role_desc *role, int quiet, int64_t *total, struct shop_err *err)
{
    char topic[SHOP_TOPIC_NAME_MAX];
    rd_kafka_t *rk = admin_kafka_client(brokers, err);
    if (rk == NULL)
        return err->code;
    PGconn *conn = PQconnectdb(dsn);
    int rc = 0, failed = 0;
    *total = 0;
    if (PQstatus(conn) != CONNECTION_OK) {
        rc = shop_err_set(err, SHOP_EPG, "could not connect to postgresql: %s", PQerrorMessage(conn));
        goto out_destroy;
    }
    for (int s = 0; s < role->n_streams && rc == 0; s++) {
        if (shop_topic_name(topic, sizeof(topic), prefix, role->streams[s]) < 0) {
            rc = shop_err_set(err, SHOP_ECONFIG, "topic prefix \"%s\" is too long", prefix);
            break;
        }
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        rd_kafka_topic_destroy(rkt);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err) {
            rc = shop_err_set(err, SHOP_EKAFKA, "could not read metadata of %s: %s", topic,
                              rd_kafka_err2str(e ? e : md->topics[0].err));
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                rd_kafka_metadata_destroy(md);
            break;
        }
        for (int p = 0; p < md->topics[0].partition_cnt && rc == 0; p++) {
            int64_t lo, hi;
            e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
            if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
                rc = shop_err_set(err, SHOP_EKAFKA, "could not query offsets of %s/%d: %s", topic, p,
                                  rd_kafka_err2str(e));
                break;
            }
            int64_t next = stored_offset(conn, group, topic, p, &failed);
            int64_t lag = hi - (next > lo ? next : lo);
            *total += lag > 0 ? lag : 0;
            if (!quiet)
                printf("%-32s %3d  end %10lld  committed %10lld  lag %8lld\n", topic, p, (long long)hi,
                       (long long)next, (long long)(lag > 0 ? lag : 0));
        }
        rd_kafka_metadata_destroy(md);
    }
    if (failed && rc == 0)
        rc = shop_err_set(err, SHOP_EPG, "could not read consumer_offsets: %s", PQerrorMessage(conn));
out_destroy:
    PQfinish(conn);
    rd_kafka_destroy(rk);
    return rc;
}
