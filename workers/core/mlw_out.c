/* SPDX-License-Identifier: MIT
 * The ML core's ml.* events: a segment change of a user and a model published, each
 * numbered by the state's seq (restored with it) and named by a UUID v5 of that number,
 * so a replay from a checkpoint produces the same event under the same id. Pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "base/shop_arena.h"
#include "workers/core/mlw_internal.h"

#define MLW_SOURCE "shopstream-worker/ml"
#define MLW_ACTOR "shopstream-ml"

const char *const mlw_model_names[MLW_MODELS] = {"recommend", "segment", "forecast"};

/* Shopstream's ML namespace; fixed forever (it is part of every ml.* event id). */
static const char mlw_namespace[] = "3e9a6c1b-7d24-4f58-a0c3-91b2d4e6f708";

static void out_id(const char *type, uint64_t seq, char out[37])
{
    uuid_t ns, id;
    char name[64];
    int len = snprintf(name, sizeof(name), "%s/%llu", type, (unsigned long long)seq);
    uuid_parse(mlw_namespace, ns);
    uuid_generate_sha1(id, ns, name, (size_t)len);
    uuid_unparse_lower(id, out);
}

static struct mlw_outrec *out_new(struct shop_mlw *m)
{
    if (m->n_outs + 1 > m->cap_outs) {
        m->cap_outs = m->cap_outs ? m->cap_outs * 2 : 64;
        m->outs = shop_xrealloc(m->outs, m->cap_outs * sizeof(*m->outs));
    }
    struct mlw_outrec *r = &m->outs[m->n_outs++];
    memset(r, 0, sizeof(*r));
    r->out.seq = ++m->seq;
    return r;
}

void mlw_out_segment(struct shop_mlw *m, uint32_t u, int64_t old_seg, int64_t new_seg, int64_t at_ms)
{
    struct mlw_outrec *r = out_new(m);
    r->key = shop_xstrdup(m->users[u].id);
    r->out.kind = SHOP_MLW_SEGMENT_CHANGED;
    out_id("ml.segment_changed", r->out.seq, r->out.event_id);
    r->out.occurred_at_ms = at_ms;
    r->out.old_segment = old_seg;
    r->out.new_segment = new_seg;
    r->out.model_version = m->model[MLW_SEG].version;
}

void mlw_out_model(struct shop_mlw *m, int which)
{
    struct mlw_outrec *r = out_new(m);
    const struct mlw_model *md = &m->model[which];
    r->out.kind = SHOP_MLW_MODEL_PUBLISHED;
    out_id("ml.model_published", r->out.seq, r->out.event_id);
    r->out.occurred_at_ms = md->watermark_ms;
    r->out.model_version = md->version;
    r->info = (struct shop_mlw_model_info){.model = mlw_model_names[which], .version = md->version,
                                           .trained_at_ms = md->trained_at_ms, .watermark_ms = md->watermark_ms,
                                           .n_metrics = md->n_metrics};
    memcpy(r->metrics, md->metrics, sizeof(r->metrics));
}

/* The record's pointers into itself, set when it is handed out (the array moves). */
void mlw_out_fix(struct mlw_outrec *r)
{
    if (r->out.kind == SHOP_MLW_SEGMENT_CHANGED) {
        r->out.key = r->key;
        r->out.user_id = r->key;
        r->out.model = NULL;
    } else {
        r->info.metrics = r->metrics;
        r->out.key = r->info.model;
        r->out.user_id = NULL;
        r->out.model = &r->info;
    }
}

void mlw_outs_clear(struct shop_mlw *m)
{
    for (size_t i = 0; i < m->n_outs; i++)
        free(m->outs[i].key);
    m->n_outs = 0;
}

int shop_mlw_out_encode(const struct shop_mlw_out *out, struct shop_arena *arena, uint8_t **bytes, size_t *len,
                        struct shop_err *err)
{
    Shopstream__V1__Event ev;
    shopstream__v1__event__init(&ev);
    ev.id = (char *)out->event_id;
    ev.occurred_at_ms = out->occurred_at_ms;
    ev.received_at_ms = out->occurred_at_ms;
    ev.source = MLW_SOURCE;
    ev.actor_id = MLW_ACTOR;
    ev.actor_role = "service";
    if (out->kind == SHOP_MLW_SEGMENT_CHANGED) {
        if (out->user_id == NULL)
            return shop_err_set(err, SHOP_EINVAL, "segment change %llu has no user", (unsigned long long)out->seq);
        ev.type = "ml.segment_changed";
        ev.user_id = (char *)out->user_id;
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ML_SEGMENT_CHANGED;
        Shopstream__V1__MlSegmentChanged *s = shop_arena_alloc(arena, sizeof(*s));
        shopstream__v1__ml_segment_changed__init(s);
        s->user_id = (char *)out->user_id;
        s->old_segment = out->old_segment;
        s->new_segment = out->new_segment;
        s->model_version = out->model_version;
        ev.ml_segment_changed = s;
    } else if (out->kind == SHOP_MLW_MODEL_PUBLISHED && out->model != NULL) {
        const struct shop_mlw_model_info *mi = out->model;
        ev.type = "ml.model_published";
        ev.user_id = MLW_ACTOR;
        ev.payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ML_MODEL_PUBLISHED;
        Shopstream__V1__MlModelPublished *p = shop_arena_alloc(arena, sizeof(*p));
        shopstream__v1__ml_model_published__init(p);
        p->model = (char *)mi->model;
        p->version = mi->version;
        p->watermark_ms = mi->watermark_ms;
        p->n_metrics = mi->n_metrics;
        p->metrics = shop_arena_alloc(arena, (mi->n_metrics + 1) * sizeof(*p->metrics));
        for (size_t i = 0; i < mi->n_metrics; i++) {
            Shopstream__V1__MlMetric *mt = shop_arena_alloc(arena, sizeof(*mt));
            shopstream__v1__ml_metric__init(mt);
            mt->name = (char *)mi->metrics[i].name;
            mt->value = mi->metrics[i].value;
            p->metrics[i] = mt;
        }
        ev.ml_model_published = p;
    } else {
        return shop_err_set(err, SHOP_EINVAL, "ml event %llu has an unknown kind", (unsigned long long)out->seq);
    }
    struct shop_problem pr = {.index = -1};
    if (shop_event_validate(&ev, NULL, &pr) < 0)
        return shop_err_set(err, SHOP_EINVAL, "%s %llu is invalid: %s %s", ev.type, (unsigned long long)out->seq,
                            pr.field, pr.detail);
    *len = shopstream__v1__event__get_packed_size(&ev);
    *bytes = shop_arena_alloc_uninit(arena, *len + 1);
    shopstream__v1__event__pack(&ev, *bytes);
    return 0;
}
