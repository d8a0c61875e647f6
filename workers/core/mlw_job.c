/* SPDX-License-Identifier: MIT
 * Retraining off the loop thread (mlw.h): when a retrain comes due (the event-time
 * schedule or a drift measure), the take copies what training needs at that point of
 * the applied sequence; run trains on the copy only (warm ALS retrain, K-means refit,
 * the weekly forecast selection, every product's similar list from the pair counts); the swap puts the result in at the swap point, take
 * time + swap_after_ms of event time, whenever the shell finished the job. Pure.
 *
 * Drift, both measured since the last take:
 *  - recommend: new (user, item) interactions over those at the take: the share of the
 *    matrix the model has never been trained on;
 *  - segment: users whose features changed over the users at the take: the share of
 *    points whose assignment rests on mini-batch moves only.
 * Either passing drift_threshold makes a retrain due; so does applied time reaching the
 * previous take + retrain_every_ms. The first training waits for min_users buyers.
 * A job retrains both ALS and K-means; forecasts are selected when the last selection
 * is a week old (event time).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_csr.h"
#include "workers/core/mlw_internal.h"

struct fc_item {
    uint32_t product;
    double *y;
    size_t n;
    struct shop_ml_forecast fc;
    bool ok;
    double mae;
};

struct shop_mlw_job {
    int64_t take_ms, swap_ms;
    uint64_t version[MLW_MODELS];   /* the versions this job publishes (0: not retrained) */
    double drift_rec, drift_seg;
    /* recommend */
    bool do_rec;
    struct shop_ml_als als;
    struct shop_ml_csr r_ui, r_iu;
    uint32_t iters;
    double loss;
    /* every trained user's list under the new model, computed by run off the loop:
     * the swap hands it to the users untouched since the take */
    uint32_t top_n;
    size_t *excl_ptr;
    uint32_t *excl;
    struct shop_ml_scored *recs;
    uint32_t *n_recs;
    bool *has_recs;
    /* segment */
    bool do_seg;
    double *z;
    size_t n_z, dim, k;
    uint64_t seg_seed;
    struct shop_ml_kmeans *km;
    double inertia, silhouette;
    /* similar lists: the pair counts at the take, a top-K table for every item */
    bool do_sim;
    struct shop_ml_cooc cooc;
    struct shop_ml_similar sim;
    uint32_t similar_k;
    /* forecast */
    bool do_fc;
    struct fc_item *fc;
    size_t n_fc;
    int64_t fc_day;                 /* the first day not in the series copied */
    int rc;
};

static uint64_t seed_of(uint64_t seed, int which, uint64_t version)
{
    uint64_t s = seed ^ ((uint64_t)which << 56) ^ (version * 0x9e3779b97f4a7c15ULL);
    return shop_ml_splitmix64(&s);
}

bool mlw_due(struct shop_mlw *m)
{
    if (m->job_out || m->take_due)
        return false;
    if (m->model[MLW_REC].version == 0 && m->model[MLW_SEG].version == 0)
        return m->buyers >= m->cfg.min_users;
    if (m->applied_ms >= m->next_due_ms)
        return true;
    double dr = (double)(m->n_pairs - m->pairs_at_take) / (double)(m->pairs_at_take ? m->pairs_at_take : 1);
    double ds = (double)m->users_changed / (double)(m->users_at_take ? m->users_at_take : 1);
    return dr >= m->cfg.drift_threshold || ds >= m->cfg.drift_threshold;
}

bool shop_mlw_job_out(const struct shop_mlw *m)
{
    return m->job_out;
}

const char *shop_mlw_job_model(const struct shop_mlw_job *job, size_t i)
{
    return i < MLW_MODELS && job->version[i] != 0 ? mlw_model_names[i] : NULL;
}

static void als_copy(struct shop_ml_als *dst, const struct shop_ml_als *src)
{
    *dst = *src;
    size_t k = src->k;
    dst->x = shop_xmalloc(((size_t)src->n_users * k + 1) * sizeof(double));
    memcpy(dst->x, src->x, (size_t)src->n_users * k * sizeof(double));
    dst->y = shop_xmalloc(((size_t)src->n_items * k + 1) * sizeof(double));
    memcpy(dst->y, src->y, (size_t)src->n_items * k * sizeof(double));
    dst->yty = shop_xmalloc(k * k * sizeof(double));
    memcpy(dst->yty, src->yty, k * k * sizeof(double));
}

static void take_rec(struct shop_mlw *m, struct shop_mlw_job *j)
{
    size_t n = 0;
    for (uint32_t u = 0; u < m->n_users; u++)
        n += m->users[u].n_inter;
    struct shop_ml_triplet *t = shop_xmalloc((n + 1) * sizeof(*t));
    size_t nt = 0;
    for (uint32_t u = 0; u < m->n_users; u++) {
        const struct mlw_user *ur = &m->users[u];
        for (uint32_t i = 0; i < ur->n_inter; i++) {
            double r = mlw_inter_value(m, ur, &ur->inter[i]);
            if (r > MLW_R_EPS)
                t[nt++] = (struct shop_ml_triplet){u, ur->inter[i].item, r};
        }
    }
    if (nt == 0 || m->n_products == 0) {
        free(t);
        return;
    }
    if (m->als_trained) {
        als_copy(&j->als, &m->als);
        j->iters = MLW_ALS_ITERS_WARM;
    } else {
        struct shop_ml_als_cfg c = m->cfg.als;
        c.seed = seed_of(m->cfg.seed, MLW_REC, j->version[MLW_REC]);
        if (shop_ml_als_init(&j->als, &c, m->n_users, m->n_products, NULL) != 0) {
            free(t);
            return;
        }
        j->iters = MLW_ALS_ITERS_FIRST;
    }
    shop_ml_als_resize(&j->als, m->n_users, m->n_products);
    /* What each user bought, excluded from their list. */
    j->top_n = m->cfg.top_n;
    j->excl_ptr = shop_xcalloc((size_t)m->n_users + 1, sizeof(*j->excl_ptr));
    size_t ne = 0;
    for (uint32_t u = 0; u < m->n_users; u++) {
        for (uint32_t i = 0; i < m->users[u].n_inter; i++)
            ne += m->users[u].inter[i].bought > 0;
        j->excl_ptr[u + 1] = ne;
    }
    j->excl = shop_xmalloc((ne + 1) * sizeof(*j->excl));
    ne = 0;
    for (uint32_t u = 0; u < m->n_users; u++) {
        for (uint32_t i = 0; i < m->users[u].n_inter; i++) {
            if (m->users[u].inter[i].bought > 0)
                j->excl[ne++] = m->users[u].inter[i].item;
        }
    }
    shop_ml_csr_build(&j->r_ui, m->n_users, m->n_products, t, nt, NULL);
    shop_ml_csr_transpose(&j->r_ui, &j->r_iu);
    free(t);
    j->do_rec = true;
}

static void take_seg(struct shop_mlw *m, struct shop_mlw_job *j)
{
    size_t dim = m->scaler.dim, n = 0;
    for (uint32_t u = 0; u < m->n_users; u++)
        n += m->users[u].feat.in_scaler;
    if (n < m->cfg.segments)
        return;
    j->z = shop_xmalloc(n * dim * sizeof(double));
    j->dim = dim;
    for (uint32_t u = 0; u < m->n_users; u++) {
        if (m->users[u].feat.in_scaler)
            shop_ml_features_standardise(&m->scaler, &m->users[u].feat, j->take_ms, j->z + j->n_z++ * dim);
    }
    j->k = m->cfg.segments;
    j->seg_seed = seed_of(m->cfg.seed, MLW_SEG, j->version[MLW_SEG]);
    j->do_seg = true;
}

static void take_fc(struct shop_mlw *m, struct shop_mlw_job *j)
{
    if (m->model[MLW_FC].version != 0 && j->take_ms < m->last_fc_select_ms + MLW_FC_SELECT_MS)
        return;
    int64_t end = m->day;   /* the open day is not in the series yet */
    j->fc = shop_xcalloc((size_t)m->n_products + 1, sizeof(*j->fc));
    for (uint32_t p = 0; p < m->n_products; p++) {
        const struct mlw_product *pr = &m->products[p];
        if (pr->n_days == 0 || pr->last_sale_day < 0 || pr->day0 >= end)
            continue;
        int64_t last = pr->day0 + (int64_t)pr->n_days;
        size_t n = (size_t)(end - pr->day0);
        if (n < 2 * SHOP_ML_FC_SEASON)
            continue;
        struct fc_item *f = &j->fc[j->n_fc++];
        f->product = p;
        f->n = n;
        f->y = shop_xcalloc(n, sizeof(double));
        size_t have = (size_t)((last < end ? last : end) - pr->day0);
        memcpy(f->y, pr->series, have * sizeof(double));
    }
    j->fc_day = end;
    j->do_fc = j->n_fc > 0;
}

/* What shop_ml_cooc_similar reads: the item counts and the pairs (no histories). */
static void take_sim(struct shop_mlw *m, struct shop_mlw_job *j)
{
    const struct shop_ml_cooc *c = &m->cooc;
    if (c->pairs.len == 0)
        return;
    j->cooc.n_items = c->n_items;
    j->cooc.item_count = shop_xmalloc(((size_t)c->n_items + 1) * sizeof(*c->item_count));
    memcpy(j->cooc.item_count, c->item_count, (size_t)c->n_items * sizeof(*c->item_count));
    j->cooc.pairs = c->pairs;
    j->cooc.pairs.key = shop_xmalloc(c->pairs.cap * sizeof(*c->pairs.key));
    memcpy(j->cooc.pairs.key, c->pairs.key, c->pairs.cap * sizeof(*c->pairs.key));
    j->cooc.pairs.val = shop_xmalloc(c->pairs.cap * sizeof(*c->pairs.val));
    memcpy(j->cooc.pairs.val, c->pairs.val, c->pairs.cap * sizeof(*c->pairs.val));
    j->similar_k = m->cfg.similar_k;
    j->do_sim = true;
}

struct shop_mlw_job *shop_mlw_job_take(struct shop_mlw *m)
{
    if (!m->take_due || m->job_out)
        return NULL;
    m->take_due = false;
    struct shop_mlw_job *j = shop_xcalloc(1, sizeof(*j));
    j->take_ms = m->applied_ms;
    j->swap_ms = m->applied_ms + m->cfg.swap_after_ms;
    for (int w = 0; w < MLW_MODELS; w++)
        j->version[w] = m->model[w].version + 1;
    j->drift_rec = (double)(m->n_pairs - m->pairs_at_take) / (double)(m->pairs_at_take ? m->pairs_at_take : 1);
    j->drift_seg = (double)m->users_changed / (double)(m->users_at_take ? m->users_at_take : 1);
    take_rec(m, j);
    take_seg(m, j);
    take_fc(m, j);
    take_sim(m, j);
    /* The drift and schedule restart at the take; users touched from now on are
     * folded in again against the new model at the swap. */
    m->pairs_at_take = m->n_pairs;
    m->users_at_take = 0;
    for (uint32_t u = 0; u < m->n_users; u++) {
        m->users[u].seg_changed = false;
        m->users[u].touched = false;
        m->users_at_take += m->users[u].feat.in_scaler;
    }
    m->users_changed = 0;
    m->next_due_ms = j->take_ms + m->cfg.retrain_every_ms;
    m->job_out = true;
    m->at_swap = false;
    m->take_ms = j->take_ms;
    m->swap_ms = j->swap_ms;
    return j;
}

void shop_mlw_job_run(struct shop_mlw_job *j)
{
    if (j->do_rec) {
        if (shop_ml_als_train(&j->als, &j->r_ui, &j->r_iu, j->iters, NULL) != 0)
            j->do_rec = false;
        else
            j->loss = shop_ml_als_loss(&j->als, &j->r_ui);
    }
    if (j->do_rec) {
        uint32_t nu = j->r_ui.n_rows, k = j->als.k;
        j->recs = shop_xmalloc(((size_t)nu * j->top_n + 1) * sizeof(*j->recs));
        j->n_recs = shop_xcalloc((size_t)nu + 1, sizeof(*j->n_recs));
        j->has_recs = shop_xcalloc((size_t)nu + 1, sizeof(*j->has_recs));
        for (uint32_t u = 0; u < nu; u++) {
            const double *x = j->als.x + (size_t)u * k;
            bool signal = false;
            for (uint32_t f = 0; f < k && !signal; f++)
                signal = x[f] > 0 || x[f] < 0;
            if (j->r_ui.row_ptr[u + 1] == j->r_ui.row_ptr[u] || !signal)
                continue;
            shop_ml_reco_user(&j->als, x, NULL, j->excl + j->excl_ptr[u], j->excl_ptr[u + 1] - j->excl_ptr[u],
                              j->top_n, j->recs + (size_t)u * j->top_n, &j->n_recs[u]);
            j->has_recs[u] = true;
        }
    }
    if (j->do_seg) {
        struct shop_ml_rand rnd;
        shop_ml_rand_init(&rnd, j->seg_seed);
        j->km = shop_ml_kmeans_new(j->k, j->dim);
        if (j->km == NULL || shop_ml_kmeans_fit(j->km, j->z, j->n_z, NULL, &rnd, &j->inertia, NULL) != 0) {
            j->do_seg = false;
        } else {
            uint32_t *labels = shop_xmalloc(j->n_z * sizeof(*labels));
            for (size_t i = 0; i < j->n_z; i++)
                labels[i] = (uint32_t)shop_ml_kmeans_nearest(j->km, j->z + i * j->dim, NULL);
            j->silhouette = j->k > 1 ? shop_ml_silhouette(j->z, j->n_z, j->dim, labels, j->k, 2000, &rnd) : 0;
            free(labels);
        }
    }
    if (j->do_sim)
        shop_ml_cooc_similar(&j->cooc, j->similar_k, &j->sim);
    for (size_t i = 0; i < j->n_fc; i++) {
        struct fc_item *f = &j->fc[i];
        double errors[SHOP_ML_FC_METHODS];
        if (f->n >= MLW_FC_HOLDOUT + 2 * SHOP_ML_FC_SEASON) {
            f->ok = shop_ml_forecast_select(&f->fc, f->y, f->n, MLW_FC_HOLDOUT, errors, NULL) == 0;
            f->mae = f->ok ? errors[f->fc.method] : 0;
        } else {
            /* Too short to hold 28 days out: TSB, which suits the sparse start of a series. */
            f->ok = shop_ml_forecast_fit(&f->fc, SHOP_ML_FC_TSB, f->y, f->n, NULL) == 0;
            f->mae = NAN;
        }
    }
}

static void job_release(struct shop_mlw_job *j)
{
    shop_ml_als_fini(&j->als);
    shop_ml_csr_fini(&j->r_ui);
    shop_ml_csr_fini(&j->r_iu);
    free(j->excl_ptr);
    free(j->excl);
    free(j->recs);
    free(j->n_recs);
    free(j->has_recs);
    free(j->z);
    shop_ml_kmeans_free(j->km);
    free(j->cooc.item_count);
    free(j->cooc.pairs.key);
    free(j->cooc.pairs.val);
    shop_ml_similar_fini(&j->sim);
    for (size_t i = 0; i < j->n_fc; i++)
        free(j->fc[i].y);
    free(j->fc);
    free(j);
}

static void set_metric(struct mlw_model *md, const char *name, double v)
{
    if (md->n_metrics < MLW_METRICS_MAX && isfinite(v))
        md->metrics[md->n_metrics++] = (struct shop_mlw_metric){name, v};
}

static void publish(struct shop_mlw *m, int which, const struct shop_mlw_job *j)
{
    struct mlw_model *md = &m->model[which];
    md->version = j->version[which];
    md->trained_at_ms = j->take_ms;
    md->watermark_ms = j->swap_ms;
    md->n_metrics = 0;
    md->dirty = true;
}

static void swap_rec(struct shop_mlw *m, struct shop_mlw_job *j)
{
    shop_ml_als_fini(&m->als);
    m->als = j->als;
    memset(&j->als, 0, sizeof(j->als));
    m->als_trained = true;
    publish(m, MLW_REC, j);
    struct mlw_model *md = &m->model[MLW_REC];
    set_metric(md, "loss", j->loss);
    set_metric(md, "users", m->als.n_users);
    set_metric(md, "items", m->als.n_items);
    set_metric(md, "interactions", (double)j->r_ui.nnz);
    set_metric(md, "drift", j->drift_rec);
    set_metric(md, "iterations", j->iters);
}

static void swap_seg(struct shop_mlw *m, struct shop_mlw_job *j)
{
    if (m->km != NULL)
        shop_ml_kmeans_match_ids(j->km, m->km);
    shop_ml_kmeans_free(m->km);
    m->km = j->km;
    j->km = NULL;
    publish(m, MLW_SEG, j);
    struct mlw_model *md = &m->model[MLW_SEG];
    set_metric(md, "inertia", j->inertia);
    set_metric(md, "silhouette", j->silhouette);
    set_metric(md, "users", (double)j->n_z);
    set_metric(md, "k", (double)j->k);
    set_metric(md, "drift", j->drift_seg);
    m->segments_dirty = true;
}

static void swap_fc(struct shop_mlw *m, struct shop_mlw_job *j)
{
    double mae = 0;
    size_t n_mae = 0, n_ok = 0;
    for (size_t i = 0; i < j->n_fc; i++) {
        struct fc_item *f = &j->fc[i];
        if (!f->ok)
            continue;
        struct mlw_product *p = &m->products[f->product];
        p->fc = f->fc;
        p->has_fc = true;
        p->fc_day = j->fc_day;
        n_ok++;
        if (isfinite(f->mae)) {
            mae += f->mae;
            n_mae++;
        }
    }
    m->last_fc_select_ms = j->take_ms;
    publish(m, MLW_FC, j);
    struct mlw_model *md = &m->model[MLW_FC];
    set_metric(md, "products", (double)n_ok);
    set_metric(md, "holdout_mae", n_mae ? mae / (double)n_mae : 0);
}

/* The swap point: applied events are all before swap_ms, none at or after it. */
void mlw_swap(struct shop_mlw *m, struct shop_mlw_job *j)
{
    int64_t at = j->swap_ms;
    if (j->do_rec)
        swap_rec(m, j);
    if (j->do_seg)
        swap_seg(m, j);
    if (j->do_fc)
        swap_fc(m, j);
    /* Every user's list and segment under the new models, in index order. Users
     * untouched since the take keep their trained row; the others (and users new
     * since) are folded in again against the new item factors. */
    uint32_t k = m->als.k;
    for (uint32_t u = 0; u < m->n_users; u++) {
        struct mlw_user *ur = &m->users[u];
        if (j->do_seg)
            mlw_user_move_segment(m, u, false, at);
        bool listed = false;
        if (j->do_rec) {
            if (u < j->r_ui.n_rows && !ur->touched && j->has_recs[u]) {
                if (ur->x == NULL)
                    ur->x = shop_xmalloc((size_t)k * sizeof(*ur->x));
                memcpy(ur->x, m->als.x + (size_t)u * k, (size_t)k * sizeof(*ur->x));
                ur->has_x = true;
                /* The list run computed: what mlw_user_recs_refresh would compute now. */
                if (ur->recs == NULL)
                    ur->recs = shop_xmalloc(m->cfg.top_n * sizeof(*ur->recs));
                ur->n_recs = j->n_recs[u];
                memcpy(ur->recs, j->recs + (size_t)u * j->top_n, ur->n_recs * sizeof(*ur->recs));
                ur->recs_fallback = false;
                ur->recs_version = m->model[MLW_REC].version;
                ur->recs_at = at;
                ur->recs_dirty = true;
                mlw_mark_user(m, u);
                listed = true;
            } else {
                mlw_user_fold(m, ur);
            }
        }
        ur->touched = false;
        if (!listed)
            mlw_user_recs_refresh(m, u, at);
        mlw_user_seg_refresh(m, u, at);
    }
    if (j->do_fc) {
        /* Days closed between take and swap are observed now. */
        mlw_close_days(m, m->day);
        for (uint32_t p = 0; p < m->n_products; p++)
            mlw_product_fc_refresh(m, p, at);
    }
    if (j->do_seg)
        mlw_segments_refresh(m, at);
    /* Similar lists of the pair counts at the take, every item with neighbours. */
    for (uint32_t p = 0; j->do_sim && p < j->sim.n_items && p < m->n_products; p++) {
        struct mlw_product *pr = &m->products[p];
        uint32_t len = j->sim.len[p];
        if (len == 0)
            continue;
        if (pr->sim == NULL)
            pr->sim = shop_xmalloc(m->cfg.similar_k * sizeof(*pr->sim));
        memcpy(pr->sim, j->sim.nb + (size_t)p * j->sim.k, len * sizeof(*pr->sim));
        pr->n_sim = len;
        pr->sim_at = at;
        pr->sim_dirty = true;
        mlw_mark_product(m, p);
    }
    for (int w = 0; w < MLW_MODELS; w++) {
        if (j->version[w] == m->model[w].version && m->model[w].dirty)
            mlw_out_model(m, w);
    }
    m->stats.jobs++;
    m->job_out = false;
    m->at_swap = false;
    m->ready = NULL;
    job_release(j);
}

void shop_mlw_job_finish(struct shop_mlw *m, struct shop_mlw_job *j)
{
    if (j == NULL)
        return;
    if (m->at_swap)
        mlw_swap(m, j);
    else
        m->ready = j;   /* swapped in when release reaches the swap point */
}

void shop_mlw_job_free(struct shop_mlw *m, struct shop_mlw_job *j)
{
    if (j == NULL)
        return;
    if (m->ready == j)
        m->ready = NULL;
    m->job_out = false;
    m->at_swap = false;
    /* Taken again at the next release. */
    m->next_due_ms = m->applied_ms;
    job_release(j);
}
