/* SPDX-License-Identifier: MIT
 * The operations console's data: request checks, the overview statement and its
 * parameters, the ingest rate and the body. Pure. PostgreSQL builds the database's part
 * of the body itself (the broker's watermarks come in as array parameters, so the lag is
 * one join); jansson adds the edge's counters and the dead letters. */
#include "edge/core/edge_console.h"
#include "edge/core/edge_reads.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lag per partition: the union of the partitions the broker listed and those a group
 * committed (so a partition shows even when the broker did not answer: lag null). A
 * partition without a committed offset is consumed from its low watermark, as the
 * workers start there (auto.offset.reset earliest), and as shopstream-admin lag counts.
 * Low stock: inventory_stock has one row per product and no index on available on
 * purpose (it changes with every reservation; an index would cost the inventory its HOT
 * updates), so this is one scan of that table per poll: docs/operations.md. */
const char shop_console_sql[] =
    "with w as (select * from unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) "
    "as w(topic, partition, lo, hi)), "
    "g as (select * from unnest($6::text[], $7::text[], $8::text[]) as g(role, grp, topic)), "
    "p as (select g.role, g.grp, w.topic, w.partition from g join w on w.topic = g.topic "
    "union select g.role, g.grp, o.topic, o.partition from g join consumer_offsets o "
    "on o.consumer_group = g.grp and o.topic = g.topic), "
    "l as (select p.role, p.grp, p.topic, p.partition, o.next_offset, w.hi, "
    "case when w.hi is null then null else greatest(w.hi - greatest(coalesce(o.next_offset, w.lo), w.lo), 0) "
    "end as lag from p left join w on w.topic = p.topic and w.partition = p.partition "
    "left join consumer_offsets o on o.consumer_group = p.grp and o.topic = p.topic "
    "and o.partition = p.partition), "
    "r as (select distinct role, grp from g), "
    "s as (select s.*, count(*) over () as n from inventory_stock s "
    "where s.available <= coalesce(s.low_stock_threshold, $1::bigint) "
    "order by s.available, s.product_id limit " "50" "), "
    "c as (select id, group_id, created_at from ml_checkpoints order by id desc limit 1) "
    "select json_build_object("
    "'groups', coalesce((select json_agg(json_build_object('role', r.role, 'group', r.grp, "
    "'lag', (select sum(l.lag) from l where l.role = r.role and l.grp = r.grp)::bigint, "
    "'partitions', coalesce((select json_agg(json_build_object('topic', l.topic, "
    "'partition', l.partition, 'next_offset', l.next_offset, 'high_watermark', l.hi, "
    "'lag', l.lag) order by l.topic, l.partition) from l where l.role = r.role and l.grp = r.grp), "
    "'[]'::json)) order by r.role, r.grp) from r), '[]'::json), "
    "'low_stock', json_build_object('threshold', $1::bigint, "
    "'count', coalesce((select max(n) from s), 0), "
    "'products', coalesce((select json_agg(json_build_object('product_id', s.product_id, "
    "'name', (select pr.name from products pr where pr.product_id = s.product_id), "
    "'on_hand', s.on_hand, 'reserved', s.reserved, 'available', s.available, "
    "'threshold', coalesce(s.low_stock_threshold, $1::bigint)) "
    "order by s.available, s.product_id) from s), '[]'::json)), "
    "'segments', json_build_object("
    "'model_version', (select version from ml_models where model = 'segment'), "
    "'rows', coalesce((select json_agg(json_build_object('segment', g.segment, 'label', g.label, "
    "'size', g.size) order by g.segment) from ml_segments g), '[]'::json)), "
    "'models', coalesce((select json_agg(json_build_object('model', m.model, 'version', m.version, "
    "'trained_at', m.trained_at_ms, 'watermark', m.watermark_ms) order by m.model) "
    "from ml_models m), '[]'::json), "
    "'snapshots', (select json_build_object('checkpoint', c.id, 'group', c.group_id, "
    "'created_at', (extract(epoch from c.created_at) * 1000)::bigint, "
    "'models', coalesce((select json_agg(json_build_object('model', n.model, 'version', n.version, "
    "'trained_at', n.trained_at_ms) order by n.model) from ml_snapshots n "
    "where n.checkpoint_id = c.id), '[]'::json)) from c))::text";

_Static_assert(SHOP_CONSOLE_LOW_STOCK_MAX == 50, "the statement's limit is SHOP_CONSOLE_LOW_STOCK_MAX");

int shop_console_init(bool admin, const struct shop_edge_match *m, int64_t *threshold,
                      const char **field, struct shop_err *err)
{
    *field = "";
    *threshold = SHOP_CONSOLE_THRESHOLD_DEFAULT;
    /* The role before the parameters, as the other admin reads. */
    if (!admin) {
        *field = "authorization";
        return shop_err_set(err, SHOP_EFORBIDDEN, "needs the admin role");
    }
    const char *v = m != NULL ? shop_edge_match_arg(m, SHOP_ARG_THRESHOLD) : NULL;
    if (v != NULL && shop_read_parse_decimal(v, SHOP_CONSOLE_THRESHOLD_MAX, threshold) != 0) {
        *field = "threshold";
        return shop_err_set(err, SHOP_EINVAL, "must be an integer from 0 to %d",
                            SHOP_CONSOLE_THRESHOLD_MAX);
    }
    return 0;
}

char *shop_console_text_array(const char *const *v, size_t n, struct shop_arena *arena)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(v[i]) + 3;
    char *buf = shop_arena_alloc(arena, cap), *o = buf;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *o++ = ',';
        *o++ = '"';
        for (const char *s = v[i]; *s != '\0'; s++) {
            if (*s == '"' || *s == '\\')
                *o++ = '\\';
            *o++ = *s;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    return buf;
}

/* "{1,2}": n decimal integers. */
static char *int_array(const int64_t *v, size_t n, struct shop_arena *arena)
{
    char *buf = shop_arena_alloc(arena, n * 21 + 3), *o = buf;
    *o++ = '{';
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, "%s%" PRId64, i > 0 ? "," : "", v[i]);
    *o++ = '}';
    *o = '\0';
    return buf;
}

void shop_console_params(int64_t threshold, const struct shop_console_watermark *w, size_t n_w,
                         const struct shop_console_sub *subs, size_t n_subs,
                         struct shop_arena *arena, const char *params[SHOP_CONSOLE_SQL_PARAMS])
{
    size_t n_max = (n_w > n_subs ? n_w : n_subs) + 1;
    const char **texts = shop_arena_alloc(arena, n_max * sizeof(*texts));
    int64_t *nums = shop_arena_alloc(arena, n_max * sizeof(*nums));
    char *t = shop_arena_alloc(arena, 24);
    snprintf(t, 24, "%" PRId64, threshold);
    params[0] = t;
    for (size_t i = 0; i < n_w; i++)
        texts[i] = w[i].topic;
    params[1] = shop_console_text_array(texts, n_w, arena);
    for (size_t i = 0; i < n_w; i++)
        nums[i] = w[i].partition;
    params[2] = int_array(nums, n_w, arena);
    for (size_t i = 0; i < n_w; i++)
        nums[i] = w[i].low;
    params[3] = int_array(nums, n_w, arena);
    for (size_t i = 0; i < n_w; i++)
        nums[i] = w[i].high;
    params[4] = int_array(nums, n_w, arena);
    for (size_t i = 0; i < n_subs; i++)
        texts[i] = subs[i].role;
    params[5] = shop_console_text_array(texts, n_subs, arena);
    for (size_t i = 0; i < n_subs; i++)
        texts[i] = subs[i].group;
    params[6] = shop_console_text_array(texts, n_subs, arena);
    for (size_t i = 0; i < n_subs; i++)
        texts[i] = subs[i].topic;
    params[7] = shop_console_text_array(texts, n_subs, arena);
}

static int slot_back(const struct shop_console_rate *r, int k)
{
    return (r->head - k + SHOP_CONSOLE_RATE_SAMPLES) % SHOP_CONSOLE_RATE_SAMPLES;
}

void shop_console_rate_update(struct shop_console_rate *r, int64_t now_ms, uint64_t total,
                              double *per_s, int64_t *interval_ms)
{
    *per_s = 0;
    *interval_ms = 0;
    if (r->n > 0 && (total < r->total[r->head] || now_ms < r->at_ms[r->head]))
        r->n = 0;   /* counters or the clock went back: start again */
    /* The newest sample at least the minimum interval old; else the oldest. */
    int base = -1;
    for (int k = 0; k < r->n; k++) {
        int i = slot_back(r, k);
        base = i;
        if (now_ms - r->at_ms[i] >= SHOP_CONSOLE_RATE_MIN_MS)
            break;
    }
    if (base >= 0 && now_ms > r->at_ms[base]) {
        *interval_ms = now_ms - r->at_ms[base];
        *per_s = (double)(total - r->total[base]) * 1000.0 / (double)*interval_ms;
    }
    if (r->n == 0 || now_ms - r->at_ms[r->head] >= SHOP_CONSOLE_RATE_MIN_MS / 2) {
        r->head = r->n == 0 ? 0 : (r->head + 1) % SHOP_CONSOLE_RATE_SAMPLES;
        r->at_ms[r->head] = now_ms;
        r->total[r->head] = total;
        if (r->n < SHOP_CONSOLE_RATE_SAMPLES)
            r->n++;
    }
}

uint64_t shop_console_events_total(const struct shop_edge_metrics_snap *snap)
{
    uint64_t n = 0;
    for (int s = 0; s < SHOP_METRICS_STREAMS; s++)
        n += snap->produced[s];
    return n;
}

static int cmp_letters(const void *a, const void *b)
{
    const struct shop_console_dead_letter *x = a, *y = b;
    if (x->timestamp_ms != y->timestamp_ms)
        return x->timestamp_ms < y->timestamp_ms ? 1 : -1;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? 1 : (x->offset > y->offset ? -1 : 0);
}

size_t shop_console_dlq_newest(struct shop_console_dead_letter *letters, size_t n, size_t max)
{
    if (n > 1)
        qsort(letters, n, sizeof(*letters), cmp_letters);
    return n < max ? n : max;
}

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

/* The source offset and partition headers as numbers when they are (workers write
 * decimals), else their text. */
static json_t *number_or_text(const char *s)
{
    char *end;
    if (s == NULL)
        return json_null();
    long long v = strtoll(s, &end, 10);
    return *s != '\0' && *end == '\0' ? json_integer(v) : json_string(s);
}

static json_t *letter_json(const struct shop_console_dead_letter *d)
{
    json_t *o = json_object();
    json_object_set_new(o, "partition", json_integer(d->partition));
    json_object_set_new(o, "offset", json_integer(d->offset));
    json_object_set_new(o, "timestamp", d->timestamp_ms >= 0 ? json_integer(d->timestamp_ms) : json_null());
    json_object_set_new(o, "reason", str_or_null(d->error));
    json_object_set_new(o, "sqlstate", str_or_null(d->sqlstate));
    json_object_set_new(o, "group", str_or_null(d->group));
    json_object_set_new(o, "source_topic", str_or_null(d->source_topic));
    json_object_set_new(o, "source_partition", number_or_text(d->source_partition));
    json_object_set_new(o, "source_offset", number_or_text(d->source_offset));
    return o;
}

char *shop_console_dlq_json(const struct shop_console_dlq *q)
{
    json_t *o = json_object();
    json_object_set_new(o, "topic", json_string(q->topic != NULL ? q->topic : ""));
    json_object_set_new(o, "total", q->ok ? json_integer(q->total) : json_null());
    json_object_set_new(o, "read_at", json_integer(q->read_at_ms));
    json_object_set_new(o, "error", q->ok ? json_null() : json_string(q->error != NULL ? q->error : "unknown"));
    json_t *a = json_array();
    for (size_t i = 0; q->ok && i < q->n_letters; i++)
        json_array_append_new(a, letter_json(&q->letters[i]));
    json_object_set_new(o, "letters", a);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

/* The status slots of edge_metrics.c's table for the events route. */
static uint64_t requests_of(const struct shop_edge_metrics_snap *s, int lo, int hi)
{
    static const int statuses[SHOP_METRICS_STATUSES - 1] = {200, 202, 204, 400, 401, 403, 404,
                                                            405, 409, 413, 415, 429, 500, 503};
    uint64_t n = 0;
    for (int i = 0; i < SHOP_METRICS_STATUSES - 1; i++)
        if (statuses[i] >= lo && statuses[i] <= hi)
            n += s->requests[SHOP_ROUTE_EVENTS][i];
    return n;
}

static json_t *ingest_json(const struct shop_console_parts *p)
{
    json_t *o = json_object();
    uint64_t failed = 0;
    for (int s = 0; s < SHOP_METRICS_STREAMS; s++)
        failed += p->snap->produce_failed[s];
    json_object_set_new(o, "events_total", json_integer((json_int_t)shop_console_events_total(p->snap)));
    json_object_set_new(o, "events_failed_total", json_integer((json_int_t)failed));
    json_object_set_new(o, "events_per_s", json_real(p->rate_per_s));
    json_object_set_new(o, "interval_ms", json_integer(p->rate_interval_ms));
    json_t *r = json_object();
    json_object_set_new(r, "202", json_integer((json_int_t)requests_of(p->snap, 202, 202)));
    json_object_set_new(r, "4xx", json_integer((json_int_t)requests_of(p->snap, 400, 499)));
    json_object_set_new(r, "503", json_integer((json_int_t)requests_of(p->snap, 503, 503)));
    json_object_set_new(o, "requests", r);
    return o;
}

int shop_console_overview_json(const struct shop_console_parts *p, char **json)
{
    json_t *body = json_object();
    *json = NULL;
    json_object_set_new(body, "at", json_integer(p->now_ms));
    json_object_set_new(body, "ingest", ingest_json(p));
    json_t *db = p->db_json != NULL ? json_loads(p->db_json, JSON_REJECT_DUPLICATES, NULL) : NULL;
    json_t *dlq = p->dlq_json != NULL ? json_loads(p->dlq_json, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(db) || !json_is_object(dlq)) {
        json_decref(db);
        json_decref(dlq);
        json_decref(body);
        return SHOP_EINVAL;
    }
    /* The database's members in the order PostgreSQL built them. */
    const char *key;
    json_t *v;
    json_object_foreach(db, key, v) json_object_set(body, key, v);
    json_object_set_new(body, "kafka_error", str_or_null(p->kafka_error));
    json_object_set_new(body, "dead_letters", dlq);
    json_decref(db);
    *json = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    return *json != NULL ? 0 : SHOP_EINVAL;
}
