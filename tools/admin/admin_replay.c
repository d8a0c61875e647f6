/* SPDX-License-Identifier: MIT
 * `shopstream-admin replay`: rewinds a consumer group (to the earliest offset, a
 * timestamp, or by N per partition) where its offsets live, in PostgreSQL, in one
 * transaction, and then its Kafka offsets (lag monitoring and KEDA read those). It
 * refuses while the group has live members, and it refuses a rewind that would apply
 * events twice: the dedup roles skip a replayed event only while applied_events still
 * holds its id, and the ML role's positions are its checkpoints (docs/operations.md,
 * "Replay, rebuild and backfill"). Shell.
 */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_log.h"
#include "workers/core/sql_array.h"
#include "tools/admin/admin.h"

/* A record's Kafka timestamp may trail the receipt time its dedup bucket is made of
 * (the edge stamps received_at before it produces); records this close to the oldest
 * kept bucket count as not covered. */
#define COVER_MARGIN_MS (5 * 60 * 1000)

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Sets ps->v[i].target to the first offset at or after ts_ms (the end when none). */
static int offsets_at(rd_kafka_t *rk, int64_t ts_ms, struct admin_parts *ps, int64_t *out, struct shop_err *err)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(ps->n);
    for (int i = 0; i < ps->n; i++)
        rd_kafka_topic_partition_list_add(list, ps->v[i].topic, ps->v[i].partition)->offset = ts_ms;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, list, 10000);
    int rc = 0;
    for (int i = 0; i < ps->n && rc == 0; i++) {
        const rd_kafka_topic_partition_t *tp = &list->elems[i];
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR || tp->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            rc = shop_err_set(err, SHOP_EKAFKA, "could not look up offsets by time on %s/%d: %s", tp->topic,
                              tp->partition, rd_kafka_err2str(e ? e : tp->err));
        else
            out[i] = tp->offset < 0 ? ps->v[i].hi : tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

/* Where each partition goes: never forward, never before the log start. */
static int set_targets(rd_kafka_t *rk, const struct admin_replay_opts *o, struct admin_parts *ps, struct shop_err *err)
{
    int64_t *at = shop_xcalloc((size_t)ps->n, sizeof(*at));
    int rc = o->mode == ADMIN_REPLAY_TIMESTAMP ? offsets_at(rk, o->value, ps, at, err) : 0;
    for (int i = 0; i < ps->n && rc == 0; i++) {
        struct admin_part *p = &ps->v[i];
        int64_t cur = max64(p->current, p->lo);
        int64_t t = o->mode == ADMIN_REPLAY_EARLIEST ? p->lo : o->mode == ADMIN_REPLAY_BY ? cur - o->value : at[i];
        p->target = min64(max64(t, p->lo), p->current);
    }
    free(at);
    return rc;
}

static void print_plan(const struct admin_parts *ps, int dry_run)
{
    printf("%-40s %4s %12s %12s %12s %10s\n", "topic", "part", "current", "target", "end", "lag");
    for (int i = 0; i < ps->n; i++) {
        const struct admin_part *p = &ps->v[i];
        printf("%-40s %4d %12lld %12lld %12lld %10lld\n", p->topic, p->partition, (long long)p->current,
               (long long)p->target, (long long)p->hi, (long long)max64(p->hi - max64(p->current, p->lo), 0));
    }
    if (dry_run)
        printf("dry run: nothing changed\n");
}

/* The oldest receipt time applied_events still holds ids of (any group: every worker
 * drops partitions by its own mark); -1 when it holds none. */
static int dedup_cover_ms(PGconn *conn, int64_t *out, struct shop_err *err)
{
    PGresult *res = PQexec(conn,
                           "select least((select min(lo) from applied_events_parts),"
                           " (select min(hi) - 1 from applied_events_parts where lo is null),"
                           " (select min(bucket) from applied_events_default))::bigint"
                           " * (select bucket_ms from applied_events_layout)");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return shop_err_set(err, SHOP_EPG, "could not read the dedup window: %s", PQerrorMessage(conn));
    }
    *out = PQgetisnull(res, 0, 0) ? -1 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* A dedup role's rewind must stay where applied_events still holds the ids, or the
 * replayed events are applied a second time (counters doubled): refuse and say why. */
static int check_dedup_cover(rd_kafka_t *rk, PGconn *conn, const struct admin_replay_opts *o,
                             struct admin_parts *ps, struct shop_err *err)
{
    int64_t cover_ms = -1;
    int rc = dedup_cover_ms(conn, &cover_ms, err);
    if (rc < 0)
        return rc;
    int64_t *first = shop_xcalloc((size_t)ps->n, sizeof(*first));
    if (cover_ms >= 0)
        rc = offsets_at(rk, cover_ms + COVER_MARGIN_MS, ps, first, err);
    for (int i = 0; i < ps->n && rc == 0; i++) {
        const struct admin_part *p = &ps->v[i];
        int64_t covered_from = cover_ms < 0 ? p->current : min64(first[i], p->current);
        if (p->target >= covered_from || p->target >= p->current)
            continue;
        fprintf(stderr,
                "%s: %s/%d would replay offsets %lld..%lld, received before the oldest event ids "
                "applied_events still holds (%s); the %s role would apply them a second time. %s\n",
                o->dry_run ? "a replay would be refused" : "refusing", p->topic, p->partition, (long long)p->target, (long long)(covered_from - 1),
                cover_ms < 0 ? "it holds none" : "its oldest bucket",
                o->role->name,
                o->role == shop_role_desc(SHOP_WORKER_PROJECTOR)
                    ? "Rebuild the read models instead: shopstream-admin rebuild --model projector "
                      "(or --force into an empty database)"
                    : "This role has no rebuild; use --force only with its tables emptied");
        rc = o->dry_run ? 0 : 1;
    }
    free(first);
    return rc;
}

static int exec_params(PGconn *conn, const char *sql, int n, const char *const *params, struct shop_err *err)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    PQclear(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return shop_err_set(err, SHOP_EPG, "replay: %s", PQerrorMessage(conn));
    return 0;
}

/* The ML role restarts from its newest checkpoint (docs/ml.md): a rewind drops every
 * checkpoint that covers a replayed partition past its target, so the role reloads one
 * at or before the targets and replays from there (its outbox mark keeps the ml.*
 * events it already queued from going out twice). consumer_offsets (applied-through)
 * then says what the kept checkpoint covers. */
static const char ML_DROP_CHECKPOINTS[] =
    "delete from ml_checkpoints c where c.group_id = $1 and exists ("
    " select 1 from jsonb_array_elements(c.offsets) e"
    " join unnest($2::text[], $3::int[], $4::bigint[]) as t(topic, partition, target)"
    " on e->>'topic' = t.topic and (e->>'partition')::int = t.partition"
    " where (e->>'offset')::bigint > t.target)";
static const char ML_TARGETS_FROM_CHECKPOINT[] =
    "select t.topic, t.partition, coalesce(("
    " select (e->>'offset')::bigint from ml_checkpoints c, jsonb_array_elements(c.offsets) e"
    " where c.group_id = $1 and e->>'topic' = t.topic and (e->>'partition')::int = t.partition"
    " order by c.id desc limit 1), 0)"
    " from unnest($2::text[], $3::int[]) as t(topic, partition)";

static const char OFFSETS_SET[] =
    "insert into consumer_offsets as o (consumer_group, topic, partition, next_offset, updated_at_ms)"
    " select $1, u.topic, u.partition, u.next_offset, (extract(epoch from clock_timestamp()) * 1000)::bigint"
    " from unnest($2::text[], $3::int[], $4::bigint[]) as u(topic, partition, next_offset)"
    " on conflict (consumer_group, topic, partition) do update set next_offset = excluded.next_offset,"
    " updated_at_ms = excluded.updated_at_ms";

static int ml_targets(PGconn *conn, const char *group, struct admin_parts *ps, const char *topics,
                      const char *parts, struct shop_err *err)
{
    const char *params[3] = {group, topics, parts};
    PGresult *res = PQexecParams(conn, ML_TARGETS_FROM_CHECKPOINT, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return shop_err_set(err, SHOP_EPG, "replay: %s", PQerrorMessage(conn));
    }
    for (int r = 0; r < PQntuples(res) && r < ps->n; r++)
        ps->v[r].target = min64(ps->v[r].target, strtoll(PQgetvalue(res, r, 2), NULL, 10));
    PQclear(res);
    return 0;
}

/* One transaction: the group's rows locked, (ml: checkpoints dropped), offsets rewritten. */
static int rewrite_offsets(PGconn *conn, const struct admin_replay_opts *o, struct admin_parts *ps,
                           struct shop_err *err)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_sql_array topics, parts, targets;
    shop_sql_array_init(&topics, &arena);
    shop_sql_array_init(&parts, &arena);
    shop_sql_array_init(&targets, &arena);
    for (int i = 0; i < ps->n; i++) {
        shop_sql_array_text(&topics, ps->v[i].topic);
        shop_sql_array_int(&parts, ps->v[i].partition);
        shop_sql_array_int(&targets, ps->v[i].target);
    }
    const char *t = shop_sql_array_end(&topics), *p = shop_sql_array_end(&parts), *g = o->group;
    const char *lock[1] = {g};
    int rc = exec_params(conn, "begin", 0, NULL, err);
    if (rc == 0)
        rc = exec_params(conn, "select 1 from consumer_offsets where consumer_group = $1 for update", 1, lock, err);
    if (rc == 0 && o->role == shop_role_desc(SHOP_WORKER_ML)) {
        const char *drop[4] = {g, t, p, shop_sql_array_end(&targets)};
        rc = exec_params(conn, ML_DROP_CHECKPOINTS, 4, drop, err);
        if (rc == 0)
            rc = ml_targets(conn, g, ps, t, p, err);
        shop_sql_array_init(&targets, &arena);
        for (int i = 0; i < ps->n; i++)
            shop_sql_array_int(&targets, ps->v[i].target);
    }
    const char *set[4] = {g, t, p, shop_sql_array_end(&targets)};
    if (rc == 0)
        rc = exec_params(conn, OFFSETS_SET, 4, set, err);
    rc = rc == 0 ? exec_params(conn, "commit", 0, NULL, err) : (PQclear(PQexec(conn, "rollback")), rc);
    shop_arena_fini(&arena);
    return rc;
}

/* Refuses while the group has members: a running worker keeps its fetch positions and
 * would commit past the rewind. 0 when empty, 1 (printed why) otherwise. */
static int refuse_live(rd_kafka_t *rk, const char *group, int dry_run, struct shop_err *err)
{
    char who[1024];
    int count;
    int rc = admin_group_members(rk, group, who, sizeof(who), &count, err);
    if (rc < 0 || count == 0)
        return rc;
    fprintf(stderr, "%s: consumer group %s has %d live member%s (%s); stop them first (scale the role to 0)\n",
            dry_run ? "note" : "refusing", group, count, count > 1 ? "s" : "", who);
    return dry_run ? 0 : 1;
}

int admin_replay(const struct admin_replay_opts *o, struct shop_err *err)
{
    static struct admin_parts ps;
    rd_kafka_t *rk = admin_kafka_client(o->brokers, err);
    if (rk == NULL)
        return err->code;
    PGconn *conn = PQconnectdb(o->dsn);
    int rc;
    if (PQstatus(conn) != CONNECTION_OK) {
        rc = shop_err_set(err, SHOP_EPG, "could not connect to postgresql: %s", PQerrorMessage(conn));
        goto out_close;
    }
    rc = admin_group_positions(rk, conn, o->prefix, o->role, o->topic, o->group, &ps, err);
    if (rc == 0)
        rc = set_targets(rk, o, &ps, err);
    if (rc == 0)
        rc = refuse_live(rk, o->group, o->dry_run, err);
    if (rc == 0 && !o->force && o->role != shop_role_desc(SHOP_WORKER_ML))
        rc = check_dedup_cover(rk, conn, o, &ps, err);
    if (rc == 0 && !o->dry_run)
        rc = rewrite_offsets(conn, o, &ps, err);
    if (rc == 0)
        print_plan(&ps, o->dry_run);
    if (rc == 0 && !o->dry_run && admin_kafka_set_offsets(rk, o->group, &ps, err) < 0) {
        /* PostgreSQL is the source of truth and was rewritten; Kafka's only feed lag. */
        SHOP_LOG(SHOP_LOG_WARN, "admin", "kafka offsets not rewound; lag monitors see the old ones", "err=\"%s\"",
                 err->msg);
        rc = 0;
    }
    if (rc == 0 && !o->dry_run)
        printf("group %s rewound in postgresql and kafka; start the %s role again\n", o->group, o->role->name);
out_close:
    PQfinish(conn);
    rd_kafka_destroy(rk);
    return rc;
}
