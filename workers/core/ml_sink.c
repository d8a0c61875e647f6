/* SPDX-License-Identifier: MIT
 * The ml role's statements and the sink that fills them (workers/core/ml_sink.h). Pure.
 */
#include "workers/core/ml_sink.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workers/core/proj.h"

const char SHOP_MLSINK_SQL_EPOCH_CHECK[] =
    "select epoch from ml_lease where group_id = $1 and epoch = $2::bigint for share";

const char SHOP_MLSINK_SQL_LEASE_TAKE[] =
    "insert into ml_lease as l (group_id, epoch, holder) values ($1, 1, $2) "
    "on conflict (group_id) do update set epoch = l.epoch + 1, holder = excluded.holder, acquired_at = now() "
    "returning epoch";

/* Session-level: held as long as the lease connection lives. The key is the group's
 * hash in a namespace of its own (the two-int form), so no other lock collides. */
const char SHOP_MLSINK_SQL_TRY_LOCK[] = "select pg_try_advisory_lock(hashtext('shopstream-ml-lease'), hashtext($1))";

const char SHOP_MLSINK_SQL_MARK_READ[] = "select last_seq from ml_outbox_mark where group_id = $1";

static const char SQL_RECS[] =
    "insert into ml_user_recs as r (user_id, model_version, items, scores, fallback, updated_at_ms) "
    "select u.user_id, u.v, u.items::text[], u.scores::float8[], u.fb, u.at "
    "from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bool[], $6::bigint[]) "
    "as u(user_id, v, items, scores, fb, at) "
    "on conflict (user_id) do update set model_version = excluded.model_version, items = excluded.items, "
    "scores = excluded.scores, fallback = excluded.fallback, updated_at_ms = excluded.updated_at_ms";

static const char SQL_POPULAR[] =
    "insert into ml_popular (id, model_version, items, scores, updated_at_ms) "
    "values (1, $1::bigint, $2::text[], $3::float8[], $4::bigint) "
    "on conflict (id) do update set model_version = excluded.model_version, items = excluded.items, "
    "scores = excluded.scores, updated_at_ms = excluded.updated_at_ms";

static const char SQL_SIMILAR[] =
    "insert into ml_similar (product_id, model_version, items, scores, updated_at_ms) "
    "select u.product_id, u.v, u.items::text[], u.scores::float8[], u.at "
    "from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[]) as u(product_id, v, items, scores, at) "
    "on conflict (product_id) do update set model_version = excluded.model_version, items = excluded.items, "
    "scores = excluded.scores, updated_at_ms = excluded.updated_at_ms";

static const char SQL_USEGS[] =
    "insert into ml_user_segments (user_id, segment, model_version, features, updated_at_ms) "
    "select u.user_id, u.seg, u.v, u.features::float8[], u.at "
    "from unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::bigint[]) as u(user_id, seg, v, features, at) "
    "on conflict (user_id) do update set segment = excluded.segment, model_version = excluded.model_version, "
    "features = excluded.features, updated_at_ms = excluded.updated_at_ms";

static const char SQL_SEGS[] =
    "insert into ml_segments (segment, model_version, size, centre, label, profile) "
    "select u.seg, u.v, u.size, u.centre::float8[], u.label, u.profile::jsonb "
    "from unnest($1::int[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) "
    "as u(seg, v, size, centre, label, profile) "
    "on conflict (segment) do update set model_version = excluded.model_version, size = excluded.size, "
    "centre = excluded.centre, label = excluded.label, profile = excluded.profile";

/* The core drains the whole segmentation at once (every segment of one version): the
 * ids a refit retired go. */
static const char SQL_SEGS_RETIRE[] = "delete from ml_segments where segment <> all ($1::int[])";

/* start_date: the UTC day of start_ms (event time). */
static const char SQL_FORECASTS[] =
    "insert into ml_forecasts (product_id, model_version, method, start_date, daily, updated_at_ms) "
    "select u.product_id, u.v, u.method, (timestamp 'epoch' + u.start_ms * interval '1 millisecond')::date, "
    "u.daily::float8[], u.at "
    "from unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::bigint[]) "
    "as u(product_id, v, method, start_ms, daily, at) "
    "on conflict (product_id) do update set model_version = excluded.model_version, method = excluded.method, "
    "start_date = excluded.start_date, daily = excluded.daily, updated_at_ms = excluded.updated_at_ms";

static const char SQL_MODELS[] =
    "insert into ml_models (model, version, trained_at_ms, watermark_ms, metrics) "
    "select u.model, u.v, u.trained, u.watermark, u.metrics::jsonb "
    "from unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[]) "
    "as u(model, v, trained, watermark, metrics) "
    "on conflict (model) do update set version = excluded.version, trained_at_ms = excluded.trained_at_ms, "
    "watermark_ms = excluded.watermark_ms, metrics = excluded.metrics";

/* A replay regenerates the same seq for the same event: what is already there stays. */
static const char SQL_OUTBOX[] =
    "insert into ml_outbox (seq, event_id, msg_key, payload) "
    "select u.seq, u.event_id, u.key, decode(u.payload, 'hex') "
    "from unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[]) as u(seq, event_id, key, payload) "
    "on conflict (seq) do nothing";

static const char SQL_MARK[] =
    "insert into ml_outbox_mark as m (group_id, last_seq) values ($1, $2::bigint) "
    "on conflict (group_id) do update set last_seq = greatest(m.last_seq, excluded.last_seq)";

const char SHOP_MLSINK_SQL_CKPT_INSERT[] =
    "insert into ml_checkpoints (group_id, epoch, watermark_ms, offsets, state, state_version) "
    "values ($1, $2::bigint, $3::bigint, $4::jsonb, $5::bytea, $6::bigint) returning id";

const char SHOP_MLSINK_SQL_SNAPSHOT_INSERT[] =
    "insert into ml_snapshots (checkpoint_id, model, version, format, payload, metrics, trained_at_ms) "
    "values ($1::bigint, $2, $3::bigint, $4::int, $5::bytea, $6::jsonb, $7::bigint)";

/* The latest two stay: the newest, and the one before it should the newest not load. */
const char SHOP_MLSINK_SQL_CKPT_PRUNE[] =
    "delete from ml_checkpoints where group_id = $1 and id < "
    "(select min(k.id) from (select id from ml_checkpoints where group_id = $1 order by id desc limit 2) k)";

const char SHOP_MLSINK_SQL_CKPT_LATEST[] =
    "select id, offsets::text, state, state_version from ml_checkpoints where group_id = $1 "
    "order by id desc limit 2";

const char SHOP_MLSINK_SQL_SNAPSHOTS_READ[] =
    "select model, version, coalesce(trained_at_ms, 0), payload, metrics::text from ml_snapshots "
    "where checkpoint_id = $1::bigint order by model";

/* One relay at a time across instances (a stale owner's last turn included). */
const char SHOP_MLSINK_SQL_RELAY_LOCK[] = "select pg_try_advisory_xact_lock(hashtext('ml_outbox'))";
const char SHOP_MLSINK_SQL_OUTBOX_READ[] =
    "select seq, $2::text, msg_key, payload from ml_outbox order by seq limit $1::int";
const char SHOP_MLSINK_SQL_OUTBOX_DELETE[] = "delete from ml_outbox where seq = any($1::bigint[])";
/* The outbox depth metric, counted up to $1 rows so a long outage's backlog stays cheap. */
const char SHOP_MLSINK_SQL_OUTBOX_COUNT[] = "select count(*) from (select 1 from ml_outbox limit $1::int) o";

static const int n_cols[SHOP_MLSINK_TABLES] = {
    [SHOP_MLSINK_RECS] = 6, [SHOP_MLSINK_SIMILAR] = 5, [SHOP_MLSINK_USEGS] = 5, [SHOP_MLSINK_SEGS] = 6,
    [SHOP_MLSINK_FORECASTS] = 6, [SHOP_MLSINK_MODELS] = 5, [SHOP_MLSINK_OUTBOX] = 4, [SHOP_MLSINK_OFFSETS] = 3,
};

void shop_mlsink_init(struct shop_mlsink *s, struct shop_arena *arena, uint64_t mark)
{
    memset(s, 0, sizeof(*s));
    s->arena = arena;
    s->mark = s->last_seq = mark;
    for (int t = 0; t < SHOP_MLSINK_TABLES; t++)
        shop_sql_cols_init(&s->t[t], arena, n_cols[t]);
}

static const char *i64_text(struct shop_arena *arena, int64_t v)
{
    char *buf = shop_arena_alloc(arena, SHOP_I64_TEXT_MAX);
    shop_i64_text(buf, v);
    return buf;
}

static int64_t u64_param(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;   /* bigint columns */
}

/* A row's list as two array literals: its ids and its scores. */
static void list_literals(struct shop_arena *arena, const struct shop_mlw_item *items, uint32_t n,
                          const char **ids, const char **scores)
{
    struct shop_sql_array a, b;
    shop_sql_array_init(&a, arena);
    shop_sql_array_init(&b, arena);
    for (uint32_t i = 0; i < n; i++) {
        shop_sql_array_text(&a, items[i].product_id);
        shop_sql_array_float(&b, items[i].score);
    }
    *ids = shop_sql_array_end(&a);
    *scores = shop_sql_array_end(&b);
}

static const char *floats_literal(struct shop_arena *arena, const double *v, size_t n)
{
    struct shop_sql_array a;
    shop_sql_array_init(&a, arena);
    for (size_t i = 0; i < n; i++)
        shop_sql_array_float(&a, v[i]);
    return shop_sql_array_end(&a);
}

/* jansson's text, copied into the arena. Non-finite numbers become null. */
static const char *json_text(struct shop_arena *arena, json_t *j)
{
    char *txt = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    const char *out = shop_arena_strdup(arena, txt != NULL ? txt : "{}");
    free(txt);
    return out;
}

static json_t *json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static void on_user_recs(void *ctx, const char *user_id, const struct shop_mlw_item *items, uint32_t n, bool fallback,
                         uint64_t version, int64_t at_ms)
{
    struct shop_mlsink *s = ctx;
    struct shop_sql_array *c = s->t[SHOP_MLSINK_RECS].cols;
    const char *ids, *scores;
    list_literals(s->arena, items, n, &ids, &scores);
    shop_sql_array_text(&c[0], user_id);
    shop_sql_array_int(&c[1], u64_param(version));
    shop_sql_array_text(&c[2], ids);
    shop_sql_array_text(&c[3], scores);
    shop_sql_array_bool(&c[4], fallback);
    shop_sql_array_int(&c[5], at_ms);
    s->rows++;
}

static void on_popular(void *ctx, const struct shop_mlw_item *items, uint32_t n, uint64_t version, int64_t at_ms)
{
    struct shop_mlsink *s = ctx;
    if (!s->has_popular)
        s->rows++;
    s->has_popular = true;                   /* one row: the latest list wins */
    s->popular[0] = i64_text(s->arena, u64_param(version));
    list_literals(s->arena, items, n, &s->popular[1], &s->popular[2]);
    s->popular[3] = i64_text(s->arena, at_ms);
}

static void on_similar(void *ctx, const char *product_id, const struct shop_mlw_item *items, uint32_t n,
                       uint64_t version, int64_t at_ms)
{
    struct shop_mlsink *s = ctx;
    struct shop_sql_array *c = s->t[SHOP_MLSINK_SIMILAR].cols;
    const char *ids, *scores;
    list_literals(s->arena, items, n, &ids, &scores);
    shop_sql_array_text(&c[0], product_id);
    shop_sql_array_int(&c[1], u64_param(version));
    shop_sql_array_text(&c[2], ids);
    shop_sql_array_text(&c[3], scores);
    shop_sql_array_int(&c[4], at_ms);
    s->rows++;
}

static void on_user_segment(void *ctx, const char *user_id, uint32_t segment, const double *features, size_t dim,
                            uint64_t version, int64_t at_ms)
{
    struct shop_mlsink *s = ctx;
    struct shop_sql_array *c = s->t[SHOP_MLSINK_USEGS].cols;
    shop_sql_array_text(&c[0], user_id);
    shop_sql_array_int(&c[1], segment);
    shop_sql_array_int(&c[2], u64_param(version));
    shop_sql_array_text(&c[3], floats_literal(s->arena, features, dim));
    shop_sql_array_int(&c[4], at_ms);
    s->rows++;
}

static void on_segment(void *ctx, const struct shop_mlw_segment *seg)
{
    struct shop_mlsink *s = ctx;
    struct shop_sql_array *c = s->t[SHOP_MLSINK_SEGS].cols;
    json_t *profile = json_object();
    for (size_t i = 0; seg->names != NULL && seg->plain != NULL && i < seg->dim; i++)
        json_object_set_new(profile, seg->names[i], json_num(seg->plain[i]));
    shop_sql_array_int(&c[0], seg->id);
    shop_sql_array_int(&c[1], u64_param(seg->version));
    shop_sql_array_int(&c[2], u64_param(seg->size));
    shop_sql_array_text(&c[3], floats_literal(s->arena, seg->centre, seg->dim));
    shop_sql_array_text(&c[4], seg->label != NULL ? seg->label : "");
    shop_sql_array_text(&c[5], json_text(s->arena, profile));
    s->rows++;
}

static void on_forecast(void *ctx, const char *product_id, const char *method, int64_t start_day_ms,
                        const double *daily, uint32_t n, uint64_t version, int64_t at_ms)
{
    struct shop_mlsink *s = ctx;
    struct shop_sql_array *c = s->t[SHOP_MLSINK_FORECASTS].cols;
    shop_sql_array_text(&c[0], product_id);
    shop_sql_array_int(&c[1], u64_param(version));
    shop_sql_array_text(&c[2], method);
    shop_sql_array_int(&c[3], start_day_ms);
    shop_sql_array_text(&c[4], floats_literal(s->arena, daily, n));
    shop_sql_array_int(&c[5], at_ms);
    s->rows++;
}

static const char *metrics_json(struct shop_arena *arena, const struct shop_mlw_model_info *mi)
{
    json_t *m = json_object();
    for (size_t i = 0; i < mi->n_metrics; i++)
        json_object_set_new(m, mi->metrics[i].name, json_num(mi->metrics[i].value));
    return json_text(arena, m);
}

static void on_model(void *ctx, const struct shop_mlw_model_info *mi)
{
    struct shop_mlsink *s = ctx;
    struct shop_sql_array *c = s->t[SHOP_MLSINK_MODELS].cols;
    shop_sql_array_text(&c[0], mi->model);
    shop_sql_array_int(&c[1], u64_param(mi->version));
    shop_sql_array_int(&c[2], mi->trained_at_ms);
    shop_sql_array_int(&c[3], mi->watermark_ms);
    shop_sql_array_text(&c[4], metrics_json(s->arena, mi));
    s->rows++;
}

struct shop_mlw_sink shop_mlsink_sink(struct shop_mlsink *s)
{
    return (struct shop_mlw_sink){
        .ctx = s,
        .user_recs = on_user_recs,
        .popular = on_popular,
        .similar = on_similar,
        .user_segment = on_user_segment,
        .segment = on_segment,
        .forecast = on_forecast,
        .model = on_model,
    };
}

void shop_mlsink_outbox(struct shop_mlsink *s, uint64_t seq, const char *event_id, const char *key,
                        const uint8_t *bytes, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (seq <= s->mark)
        return;                              /* queued before a restart: a replay makes it again */
    struct shop_sql_array *c = s->t[SHOP_MLSINK_OUTBOX].cols;
    char *h = shop_arena_alloc(s->arena, 2 * len + 1);
    for (size_t i = 0; i < len; i++) {
        h[2 * i] = hex[bytes[i] >> 4];
        h[2 * i + 1] = hex[bytes[i] & 15];
    }
    h[2 * len] = '\0';
    shop_sql_array_int(&c[0], u64_param(seq));
    shop_sql_array_text(&c[1], event_id);
    shop_sql_array_text(&c[2], key);
    shop_sql_array_text(&c[3], h);
    if (seq > s->last_seq)
        s->last_seq = seq;
    s->rows++;
}

void shop_mlsink_offset(struct shop_mlsink *s, const char *topic, int32_t partition, int64_t next)
{
    struct shop_sql_array *c = s->t[SHOP_MLSINK_OFFSETS].cols;
    shop_sql_array_text(&c[0], topic);
    shop_sql_array_int(&c[1], partition);
    shop_sql_array_int(&c[2], next);
}

bool shop_mlsink_empty(const struct shop_mlsink *s)
{
    return s->rows == 0 && s->t[SHOP_MLSINK_OFFSETS].cols[0].n == 0;
}

void shop_mlsink_plan(struct shop_mlsink *s, const char *group, int64_t now_ms, struct shop_plan *plan)
{
    static const char *const names[SHOP_MLSINK_TABLES] = {"ml_user_recs", "ml_similar", "ml_user_segments",
                                                         "ml_segments", "ml_forecasts", "ml_models", "ml_outbox"};
    static const char *const sqls[SHOP_MLSINK_TABLES] = {SQL_RECS, SQL_SIMILAR, SQL_USEGS, SQL_SEGS,
                                                        SQL_FORECASTS, SQL_MODELS, SQL_OUTBOX};
    if (s->has_popular) {
        struct shop_sql_stmt *st = &plan->stmts[plan->n++];
        *st = (struct shop_sql_stmt){.name = "ml_popular", .sql = SQL_POPULAR, .n_params = 4};
        for (int i = 0; i < 4; i++)
            st->params[i] = s->popular[i];
    }
    for (int t = 0; t < SHOP_MLSINK_OUTBOX + 1; t++) {
        shop_sql_cols_emit(&s->t[t], plan, names[t], sqls[t], NULL, 0);
        if (t == SHOP_MLSINK_SEGS && s->t[t].cols[0].n > 0) {
            const char *ids = plan->stmts[plan->n - 1].params[0];
            plan->stmts[plan->n++] = (struct shop_sql_stmt){.name = "ml_segments_retire", .sql = SQL_SEGS_RETIRE,
                                                             .n_params = 1, .params = {ids}};
        }
    }
    if (s->last_seq > s->mark) {
        struct shop_sql_stmt *st = &plan->stmts[plan->n++];
        *st = (struct shop_sql_stmt){.name = "ml_outbox_mark", .sql = SQL_MARK, .n_params = 2};
        st->params[0] = group;
        st->params[1] = i64_text(s->arena, u64_param(s->last_seq));
    }
    const char *scalars[1] = {group};
    shop_sql_cols_emit(&s->t[SHOP_MLSINK_OFFSETS], plan, "offsets", SHOP_PROJ_SQL_OFFSETS_SET, scalars, 1);
    if (s->t[SHOP_MLSINK_OFFSETS].cols[0].n > 0) {
        struct shop_sql_stmt *st = &plan->stmts[plan->n - 1];
        st->params[st->n_params++] = i64_text(s->arena, now_ms);
    }
}

const char *shop_mlsink_offsets_json(struct shop_arena *arena, const char *const *topics, const int32_t *partitions,
                                     const int64_t *nexts, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:i, s:I}", "topic", topics[i], "partition", (int)partitions[i],
                                           "offset", (json_int_t)nexts[i]));
    char *txt = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(a);
    const char *out = shop_arena_strdup(arena, txt != NULL ? txt : "[]");
    free(txt);
    return out;
}

int shop_mlsink_offsets_parse(const char *json, void (*cb)(void *ctx, const char *topic, int32_t partition,
                                                           int64_t next),
                              void *ctx, struct shop_err *err)
{
    json_error_t jerr;
    json_t *a = json_loads(json, 0, &jerr);
    if (a == NULL || !json_is_array(a)) {
        json_decref(a);
        return shop_err_set(err, SHOP_EBADMSG, "checkpoint offsets are not a JSON array");
    }
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        const char *topic = NULL;
        json_int_t partition = -1, next = -1;
        if (json_unpack(e, "{s:s, s:I, s:I}", "topic", &topic, "partition", &partition, "offset", &next) != 0 ||
            partition < 0 || partition > INT32_MAX || next < 0) {
            json_decref(a);
            return shop_err_set(err, SHOP_EBADMSG, "checkpoint offsets: entry %zu is not {topic, partition, offset}", i);
        }
        cb(ctx, topic, (int32_t)partition, (int64_t)next);
    }
    json_decref(a);
    return 0;
}
