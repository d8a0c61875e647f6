/* SPDX-License-Identifier: MIT
 * What the reads get (mlw.h's drain). Every value is computed when it changes, at a
 * point of the applied sequence: a user's list and features at their event (and for
 * everyone at a swap), the popularity list and the segments once per event-time hour,
 * forecasts at a day close (and at a swap), similar lists at a swap. The drain only hands the
 * latest of each out, sorted by key, so what ends in the read models never depends on
 * when the shell drains. Pure.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "workers/core/mlw_internal.h"

static const char *const feat_names[SHOP_ML_FEAT_DIM] = {
    "recency_days", "orders", "spend", "views", "cart_adds", "cart_to_order", "abandoned",
};

void mlw_user_fold(struct shop_mlw *m, struct mlw_user *u)
{
    if (!m->als_trained) {
        u->has_x = false;
        return;
    }
    uint32_t k = m->als.k;
    uint32_t *items = shop_xmalloc((u->n_inter + 1) * sizeof(*items));
    double *r = shop_xmalloc((u->n_inter + 1) * sizeof(*r));
    size_t n = 0;
    for (uint32_t i = 0; i < u->n_inter; i++) {
        double v = mlw_inter_value(m, u, &u->inter[i]);
        if (u->inter[i].item < m->als.n_items && v > MLW_R_EPS) {
            items[n] = u->inter[i].item;
            r[n++] = v;
        }
    }
    if (n == 0) {
        u->has_x = false;
    } else {
        if (u->x == NULL)
            u->x = shop_xmalloc((size_t)k * sizeof(*u->x));
        double *work = shop_xmalloc(shop_ml_als_work_len(k) * sizeof(*work));
        u->has_x = shop_ml_als_fold_in(&m->als, items, r, n, u->x, work, NULL) == 0;
        free(work);
    }
    free(items);
    free(r);
}

/* Popularity scores are held scaled (mlw_state.c's pop_add): this is the decayed weight
 * at at_ms. */
static double pop_scale(const struct shop_mlw *m, int64_t at_ms)
{
    return exp2(-(double)(at_ms - m->pop_ref_ms) / (double)m->cfg.interact.half_life_ms);
}

/* Keeps items with a positive score (a retracted or unknown item has none). */
static uint32_t keep_positive(struct shop_ml_scored *v, uint32_t n, double scale)
{
    uint32_t o = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].score * scale > 0) {
            v[o] = v[i];
            v[o++].score *= scale;
        }
    }
    return o;
}

void mlw_user_recs_refresh(struct shop_mlw *m, uint32_t ui, int64_t at_ms)
{
    struct mlw_user *u = &m->users[ui];
    uint32_t *excl = shop_xmalloc((u->n_inter + 1) * sizeof(*excl));
    size_t n_excl = 0;
    for (uint32_t i = 0; i < u->n_inter; i++) {
        if (u->inter[i].bought > 0)
            excl[n_excl++] = u->inter[i].item;   /* sorted: inter is */
    }
    if (u->recs == NULL)
        u->recs = shop_xmalloc(m->cfg.top_n * sizeof(*u->recs));
    if (u->has_x) {
        shop_ml_reco_user(&m->als, u->x, &m->pop, excl, n_excl, m->cfg.top_n, u->recs, &u->n_recs);
        u->recs_fallback = false;
    } else {
        shop_ml_reco_popular(&m->pop, excl, n_excl, m->cfg.top_n, u->recs, &u->n_recs);
        u->n_recs = keep_positive(u->recs, u->n_recs, pop_scale(m, at_ms));
        u->recs_fallback = true;
    }
    u->recs_version = m->model[MLW_REC].version;
    free(excl);
    u->recs_at = at_ms;
    u->recs_dirty = true;
    mlw_mark_user(m, ui);
}

void mlw_user_seg_refresh(struct shop_mlw *m, uint32_t ui, int64_t at_ms)
{
    struct mlw_user *u = &m->users[ui];
    if (u->segment < 0 || !u->feat.in_scaler)
        return;
    shop_ml_features_standardise(&m->scaler, &u->feat, at_ms, u->z);
    u->seg_at = at_ms;
    u->seg_dirty = true;
    mlw_mark_user(m, ui);
}

void mlw_user_refresh(struct shop_mlw *m, uint32_t ui, int64_t at_ms)
{
    mlw_user_recs_refresh(m, ui, at_ms);
    mlw_user_seg_refresh(m, ui, at_ms);
}

void mlw_product_fc_refresh(struct shop_mlw *m, uint32_t pi, int64_t at_ms)
{
    struct mlw_product *p = &m->products[pi];
    if (!p->has_fc)
        return;
    if (p->fc_out == NULL)
        p->fc_out = shop_xmalloc(m->cfg.forecast_days * sizeof(*p->fc_out));
    for (uint32_t h = 1; h <= m->cfg.forecast_days; h++)
        p->fc_out[h - 1] = shop_ml_forecast_at(&p->fc, h);
    p->fc_start = p->fc_day * MLW_DAY_MS;
    p->fc_at = at_ms;
    p->fc_dirty = true;
    mlw_mark_product(m, pi);
}

void mlw_popular_refresh(struct shop_mlw *m, int64_t at_ms)
{
    if (m->pop_list == NULL)
        m->pop_list = shop_xmalloc(m->cfg.top_n * sizeof(*m->pop_list));
    shop_ml_reco_popular(&m->pop, NULL, 0, m->cfg.top_n, m->pop_list, &m->n_pop_list);
    m->n_pop_list = keep_positive(m->pop_list, m->n_pop_list, pop_scale(m, at_ms));
    m->pop_at = at_ms;
    m->popular_dirty = false;
    m->popular_out = true;
}

/* A standardised centre in plain units: recency in days before at_ms (the scaler holds
 * the last-order day), counts and spend undone from their log1p (spend in minor units). */
static void plain_units(const struct shop_mlw *m, const double *z, int64_t at_ms, double *out)
{
    const struct shop_ml_scaler *s = &m->scaler;
    for (size_t j = 0; j < s->dim; j++) {
        double sd = shop_ml_scaler_sd(s, j);
        if (j == SHOP_ML_FEAT_RECENCY) {
            double last_day = s->mean[j] - z[j] * sd;
            out[j] = (double)at_ms / (double)MLW_DAY_MS - last_day;
            continue;
        }
        double v = s->mean[j] + z[j] * sd;
        if (j == SHOP_ML_FEAT_CART_TO_ORDER)
            out[j] = v;
        else if (j == SHOP_ML_FEAT_MONETARY)
            out[j] = expm1(v) * 100.0;
        else
            out[j] = expm1(v);
    }
}

static int cmp_segview(const void *a, const void *b)
{
    uint32_t x = ((const struct mlw_segview *)a)->id, y = ((const struct mlw_segview *)b)->id;
    return (x > y) - (x < y);
}

void mlw_segments_refresh(struct shop_mlw *m, int64_t at_ms)
{
    m->segments_dirty = false;
    if (m->km == NULL)
        return;
    size_t k = m->km->k, dim = m->km->dim;
    free(m->segview);
    m->segview = shop_xcalloc(k, sizeof(*m->segview));
    m->n_segview = k;
    for (size_t c = 0; c < k; c++) {
        struct mlw_segview *v = &m->segview[c];
        v->id = m->km->id[c];
        memcpy(v->centre, m->km->centre + c * dim, dim * sizeof(double));
        plain_units(m, v->centre, at_ms, v->plain);
        shop_ml_features_profile(v->centre, dim, v->label, sizeof(v->label));
    }
    qsort(m->segview, k, sizeof(*m->segview), cmp_segview);
    for (uint32_t i = 0; i < m->n_users; i++) {
        int64_t s = m->users[i].segment;
        if (s < 0)
            continue;
        struct mlw_segview key = {.id = (uint32_t)s};
        struct mlw_segview *v = bsearch(&key, m->segview, k, sizeof(*m->segview), cmp_segview);
        if (v != NULL)
            v->size++;
    }
    m->segview_version = m->model[MLW_SEG].version;
    m->segments_out = true;
}

void mlw_drain_fini(struct shop_mlw *m)
{
    free(m->pop_list);
    m->pop_list = NULL;
    free(m->segview);
    m->segview = NULL;
}

/* ---- the drain ------------------------------------------------------------------------ */

struct keyed {
    const char *id;
    uint32_t ix;
};

static int cmp_keyed(const void *a, const void *b)
{
    return strcmp(((const struct keyed *)a)->id, ((const struct keyed *)b)->id);
}

/* Sorts a list of user or product indices by their ids (byte order). */
static void sort_by_id(uint32_t *ix, uint32_t n, const char *(*id_of)(const struct shop_mlw *, uint32_t),
                       const struct shop_mlw *m)
{
    struct keyed *k = shop_xmalloc(((size_t)n + 1) * sizeof(*k));
    for (uint32_t i = 0; i < n; i++)
        k[i] = (struct keyed){id_of(m, ix[i]), ix[i]};
    qsort(k, n, sizeof(*k), cmp_keyed);
    for (uint32_t i = 0; i < n; i++)
        ix[i] = k[i].ix;
    free(k);
}

static const char *user_id_of(const struct shop_mlw *m, uint32_t i)
{
    return m->users[i].id;
}

static const char *product_id_of(const struct shop_mlw *m, uint32_t i)
{
    return m->products[i].id;
}

static const struct shop_mlw_item *items_of(const struct shop_mlw *m, const struct shop_ml_scored *v, uint32_t n,
                                            struct shop_mlw_item *out)
{
    for (uint32_t i = 0; i < n; i++)
        out[i] = (struct shop_mlw_item){m->products[v[i].item].id, v[i].score};
    return out;
}

static void model_info(const struct shop_mlw *m, int which, struct shop_mlw_model_info *mi)
{
    const struct mlw_model *md = &m->model[which];
    *mi = (struct shop_mlw_model_info){.model = mlw_model_names[which], .version = md->version,
                                       .trained_at_ms = md->trained_at_ms, .watermark_ms = md->watermark_ms,
                                       .metrics = md->metrics, .n_metrics = md->n_metrics};
}

void shop_mlw_drain(struct shop_mlw *m, const struct shop_mlw_sink *sink)
{
    uint32_t cap = m->cfg.top_n > m->cfg.similar_k ? m->cfg.top_n : m->cfg.similar_k;
    struct shop_mlw_item *items = shop_xmalloc(((size_t)cap + 1) * sizeof(*items));
    sort_by_id(m->dirty_users, m->n_dirty_users, user_id_of, m);
    for (uint32_t i = 0; i < m->n_dirty_users; i++) {
        struct mlw_user *u = &m->users[m->dirty_users[i]];
        if (u->recs_dirty && sink->user_recs != NULL)
            sink->user_recs(sink->ctx, u->id, items_of(m, u->recs, u->n_recs, items), u->n_recs, u->recs_fallback,
                            u->recs_version, u->recs_at);
        if (u->seg_dirty && u->segment >= 0 && sink->user_segment != NULL)
            sink->user_segment(sink->ctx, u->id, (uint32_t)u->segment, u->z, m->scaler.dim,
                               m->model[MLW_SEG].version, u->seg_at);
        u->recs_dirty = u->seg_dirty = u->listed = false;
        free(u->recs);
        u->recs = NULL;
        u->n_recs = 0;
    }
    m->n_dirty_users = 0;
    if (m->popular_out && sink->popular != NULL)
        sink->popular(sink->ctx, items_of(m, m->pop_list, m->n_pop_list, items), m->n_pop_list,
                      m->model[MLW_REC].version, m->pop_at);
    m->popular_out = false;
    sort_by_id(m->dirty_products, m->n_dirty_products, product_id_of, m);
    for (uint32_t i = 0; i < m->n_dirty_products; i++) {
        struct mlw_product *p = &m->products[m->dirty_products[i]];
        if (p->sim_dirty && sink->similar != NULL)
            sink->similar(sink->ctx, p->id, items_of(m, p->sim, p->n_sim, items), p->n_sim,
                          m->model[MLW_REC].version, p->sim_at);
        if (p->fc_dirty && sink->forecast != NULL)
            sink->forecast(sink->ctx, p->id, shop_ml_forecast_method_name(p->fc.method), p->fc_start, p->fc_out,
                           m->cfg.forecast_days, m->model[MLW_FC].version, p->fc_at);
        p->sim_dirty = p->fc_dirty = p->listed = false;
        free(p->sim);
        p->sim = NULL;
        free(p->fc_out);
        p->fc_out = NULL;
    }
    m->n_dirty_products = 0;
    if (m->segments_out && sink->segment != NULL) {
        for (size_t i = 0; i < m->n_segview; i++) {
            const struct mlw_segview *v = &m->segview[i];
            struct shop_mlw_segment s = {.id = v->id, .version = m->segview_version, .size = v->size,
                                         .centre = v->centre, .dim = m->scaler.dim, .label = v->label,
                                         .names = feat_names, .plain = v->plain};
            sink->segment(sink->ctx, &s);
        }
    }
    m->segments_out = false;
    for (int w = 0; w < MLW_MODELS; w++) {
        if (m->model[w].dirty && sink->model != NULL) {
            struct shop_mlw_model_info mi;
            model_info(m, w, &mi);
            sink->model(sink->ctx, &mi);
        }
        m->model[w].dirty = false;
    }
    for (size_t i = 0; i < m->n_outs; i++) {
        mlw_out_fix(&m->outs[i]);
        if (sink->event != NULL)
            sink->event(sink->ctx, &m->outs[i].out);
    }
    mlw_outs_clear(m);
    free(items);
}

bool mlw_undrained(const struct shop_mlw *m)
{
    if (m->n_dirty_users || m->n_dirty_products || m->popular_out || m->segments_out || m->n_outs)
        return true;
    for (int w = 0; w < MLW_MODELS; w++) {
        if (m->model[w].dirty)
            return true;
    }
    return false;
}
