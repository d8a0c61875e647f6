/* SPDX-License-Identifier: MIT
 * The ML core's state and how one event changes it (mlw.h): push into the reorder
 * buffer (mlw_order.h), release in event-time order, and apply: interactions, features,
 * segments, co-occurrence, popularity, daily demand and the reserved orders a release
 * can retract. Pure.
 *
 * Inputs: product.viewed (a view), cart.item_added (a cart add; it opens a cart),
 * inventory.reserved (a purchase per line with its spend; closes the open cart),
 * inventory.released (retracts the reservation it names), inventory.committed (forgets
 * it). A cart still open MLW_ABANDON_MS after its first add is abandoned, checked
 * when the applied clock enters a new hour. Everything else is ignored.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "workers/core/mlw_internal.h"

#define GROW(arr, n, cap)                                                          \
    do {                                                                           \
        if ((n) + 1 > (cap)) {                                                     \
            (cap) = (cap) ? (cap) * 2 : 16;                                        \
            (arr) = shop_xrealloc((arr), (size_t)(cap) * sizeof(*(arr)));          \
        }                                                                          \
    } while (0)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int shop_mlw_new(const struct shop_mlw_cfg *cfg, struct shop_mlw **out, struct shop_err *err)
{
    int rc = shop_mlw_cfg_validate(cfg, err);
    if (rc < 0)
        return rc;
    struct shop_mlw *m = shop_xcalloc(1, sizeof(*m));
    m->cfg = *cfg;
    /* The id sets' hash key comes from the seed: no result depends on it. */
    uint64_t st = cfg->seed ^ 0x6d6c77u;
    struct shop_hash_seed hs = {shop_ml_splitmix64(&st), shop_ml_splitmix64(&st)};
    struct shop_mlw_order_cfg oc = {.lateness_ms = cfg->lateness_ms,
                                    .dedup_window_ms = cfg->lateness_ms > MLW_DAY_MS ? cfg->lateness_ms : MLW_DAY_MS,
                                    .seed = hs,
                                    .hold_partitions = cfg->hold_partitions};
    rc = shop_mlw_order_new(&oc, &m->order, err);
    if (rc < 0) {
        free(m);
        return rc;
    }
    m->arena = (struct shop_arena)SHOP_ARENA_INIT;
    mlw_map_init(&m->user_ix, hs);
    mlw_map_init(&m->product_ix, hs);
    mlw_map_init(&m->held_ix, hs);
    rc = shop_ml_cooc_init(&m->cooc, MLW_COOC_HIST, err);
    if (rc < 0) {
        shop_mlw_order_free(m->order);
        free(m);
        return rc;
    }
    shop_ml_pop_init(&m->pop, 0);
    shop_ml_scaler_init(&m->scaler, SHOP_ML_FEAT_DIM);
    shop_ml_rand_init(&m->rnd, cfg->seed ^ 0x5e6du);
    m->hour = -1;
    m->day = -1;
    *out = m;
    return 0;
}

void mlw_state_fini(struct shop_mlw *m)
{
    for (uint32_t i = 0; i < m->n_users; i++) {
        free(m->users[i].id);
        free(m->users[i].inter);
        free(m->users[i].x);
        free(m->users[i].recs);
    }
    free(m->users);
    for (uint32_t i = 0; i < m->n_products; i++) {
        free(m->products[i].id);
        free(m->products[i].series);
        free(m->products[i].sim);
        free(m->products[i].fc_out);
    }
    free(m->products);
    for (uint32_t i = 0; i < m->n_held; i++) {
        free(m->held[i].order_id);
        free(m->held[i].lines);
    }
    free(m->held);
    free(m->open_carts);
    mlw_map_fini(&m->user_ix);
    mlw_map_fini(&m->product_ix);
    mlw_map_fini(&m->held_ix);
    shop_ml_cooc_fini(&m->cooc);
    shop_ml_pop_fini(&m->pop);
    shop_ml_als_fini(&m->als);
    shop_ml_kmeans_free(m->km);
    free(m->dirty_users);
    free(m->dirty_products);
    mlw_drain_fini(m);
    mlw_outs_clear(m);
    free(m->outs);
    free(m->pack);
    shop_mlw_order_free(m->order);
    shop_arena_fini(&m->arena);
    for (int i = 0; i < SHOP_MLW_PARTS_MAX; i++)
        free(m->part_bytes[i]);
}

void shop_mlw_free(struct shop_mlw *m)
{
    if (m == NULL)
        return;
    if (m->ready != NULL)
        shop_mlw_job_free(m, m->ready);
    mlw_state_fini(m);
    free(m);
}

/* ---- users and products ---------------------------------------------------------- */

uint32_t mlw_user_get(struct shop_mlw *m, const char *id)
{
    uint32_t u = mlw_map_get(&m->user_ix, id);
    if (u != UINT32_MAX)
        return u;
    GROW(m->users, m->n_users, m->cap_users);
    u = m->n_users++;
    struct mlw_user *r = &m->users[u];
    memset(r, 0, sizeof(*r));
    r->id = shop_xstrdup(id);
    shop_ml_user_init(&r->feat);
    r->segment = -1;
    mlw_map_put(&m->user_ix, r->id, u);
    return u;
}

uint32_t mlw_product_get(struct shop_mlw *m, const char *id)
{
    uint32_t p = mlw_map_get(&m->product_ix, id);
    if (p != UINT32_MAX)
        return p;
    GROW(m->products, m->n_products, m->cap_products);
    p = m->n_products++;
    struct mlw_product *r = &m->products[p];
    memset(r, 0, sizeof(*r));
    r->id = shop_xstrdup(id);
    r->last_sale_day = -1;
    mlw_map_put(&m->product_ix, r->id, p);
    return p;
}

void mlw_mark_user(struct shop_mlw *m, uint32_t u)
{
    struct mlw_user *r = &m->users[u];
    if (!r->listed) {
        GROW(m->dirty_users, m->n_dirty_users, m->cap_dirty_users);
        m->dirty_users[m->n_dirty_users++] = u;
        r->listed = true;
    }
}

void mlw_mark_product(struct shop_mlw *m, uint32_t p)
{
    struct mlw_product *r = &m->products[p];
    if (!r->listed) {
        GROW(m->dirty_products, m->n_dirty_products, m->cap_dirty_products);
        m->dirty_products[m->n_dirty_products++] = p;
        r->listed = true;
    }
}

/* The user's interaction with item, created (sorted by item) when absent. */
static struct mlw_inter *inter_get(struct shop_mlw *m, struct mlw_user *u, uint32_t item, bool create)
{
    uint32_t lo = 0, hi = u->n_inter;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (u->inter[mid].item < item)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < u->n_inter && u->inter[lo].item == item)
        return &u->inter[lo];
    if (!create)
        return NULL;
    GROW(u->inter, u->n_inter, u->cap_inter);
    memmove(&u->inter[lo + 1], &u->inter[lo], (u->n_inter - lo) * sizeof(*u->inter));
    u->n_inter++;
    memset(&u->inter[lo], 0, sizeof(u->inter[lo]));
    u->inter[lo].item = item;
    m->n_pairs++;
    return &u->inter[lo];
}

double mlw_inter_value(const struct shop_mlw *m, const struct mlw_user *u, const struct mlw_inter *in)
{
    return shop_ml_interact_value(&m->cfg.interact, &in->acc, u->last_ms);
}

/* Takes back one event's weight w added at event_ms: the exact opposite of
 * shop_ml_interact_add, so a retraction leaves (up to rounding) what was there before. */
static void inter_sub(const struct shop_ml_interact_cfg *cfg, struct shop_ml_interact *acc, double w, int64_t event_ms)
{
    if (event_ms >= acc->as_of_ms) {
        acc->value = acc->value * shop_ml_decay(event_ms - acc->as_of_ms, cfg->half_life_ms) - w;
        acc->as_of_ms = event_ms;
    } else {
        acc->value -= w * shop_ml_decay(acc->as_of_ms - event_ms, cfg->half_life_ms);
    }
}

/* Popularity: the decayed interaction weight of every item, held as w 2^((t - ref) / half-life)
 * so that one add is O(1); rescaled when the exponent grows large (ranking unchanged). */
static void pop_add(struct shop_mlw *m, uint32_t item, double w, int64_t at_ms)
{
    int64_t hl = m->cfg.interact.half_life_ms;
    if (!m->pop_started) {
        m->pop_ref_ms = at_ms;
        m->pop_started = true;
    }
    double e = (double)(at_ms - m->pop_ref_ms) / (double)hl;
    if (e > 256) {
        double f = exp2(-e);
        for (uint32_t i = 0; i < m->pop.n_items; i++)
            m->pop.score[i] *= f;
        m->pop_ref_ms = at_ms;
        e = 0;
    }
    shop_ml_pop_add(&m->pop, item, w * exp2(e));
    m->popular_dirty = true;
}

static void touch_user(struct shop_mlw *m, uint32_t u, int64_t at_ms)
{
    struct mlw_user *r = &m->users[u];
    if (at_ms > r->last_ms)
        r->last_ms = at_ms;
    if (m->job_out)
        r->touched = true;
}

/* The user's features changed: segment drift, the mini-batch move and re-assignment. */
static void features_changed(struct shop_mlw *m, uint32_t u)
{
    struct mlw_user *r = &m->users[u];
    if (!r->seg_changed) {
        r->seg_changed = true;
        m->users_changed++;
    }
    mlw_user_move_segment(m, u, true, m->applied_ms);
}

void mlw_user_move_segment(struct shop_mlw *m, uint32_t u, bool mini_batch, int64_t at_ms)
{
    struct mlw_user *r = &m->users[u];
    if (m->km == NULL || !r->feat.in_scaler)
        return;
    double z[SHOP_ML_FEAT_DIM];
    shop_ml_features_standardise(&m->scaler, &r->feat, m->applied_ms, z);
    if (mini_batch) {
        shop_ml_kmeans_partial_fit(m->km, z, 1, &m->rnd, NULL);
        m->segments_dirty = true;
    }
    int64_t seg = shop_ml_kmeans_segment(m->km, z);
    if (seg != r->segment) {
        mlw_out_segment(m, u, r->segment, seg, at_ms);
        r->segment = seg;
    }
}

static void feature_event(struct shop_mlw *m, uint32_t u, enum shop_ml_user_event ev, int64_t value, int64_t at_ms)
{
    shop_ml_features_update(&m->users[u].feat, &m->scaler, ev, value, at_ms, NULL);
    features_changed(m, u);
}

/* ---- daily demand ------------------------------------------------------------------ */

static void series_add(struct mlw_product *p, int64_t day, double units)
{
    if (p->n_days == 0) {
        p->day0 = day;
    } else if (day < p->day0) {
        uint64_t shift = (uint64_t)(p->day0 - day);
        if (shift + p->n_days > MLW_SERIES_DAYS)
            return;   /* older than what is kept */
        uint32_t need = p->n_days + (uint32_t)shift;
        if (need > p->cap_days) {
            p->cap_days = need + 16;
            p->series = shop_xrealloc(p->series, p->cap_days * sizeof(*p->series));
        }
        memmove(p->series + shift, p->series, p->n_days * sizeof(*p->series));
        memset(p->series, 0, shift * sizeof(*p->series));
        p->n_days = need;
        p->day0 = day;
    }
    if (day >= p->day0 + (int64_t)p->n_days) {
        uint64_t need64 = (uint64_t)(day - p->day0) + 1;
        if (need64 > MLW_SERIES_DAYS + 64u) {
            /* Keep the last MLW_SERIES_DAYS days up to day. */
            int64_t new0 = day - (MLW_SERIES_DAYS - 1);
            uint32_t keep = 0;
            if (new0 < p->day0 + (int64_t)p->n_days) {
                keep = (uint32_t)(p->day0 + (int64_t)p->n_days - new0);
                memmove(p->series, p->series + (p->n_days - keep), keep * sizeof(*p->series));
            }
            p->day0 = new0;
            p->n_days = keep;
            need64 = MLW_SERIES_DAYS;
        }
        uint32_t need = (uint32_t)need64;
        if (need > p->cap_days) {
            p->cap_days = need + 32;
            p->series = shop_xrealloc(p->series, p->cap_days * sizeof(*p->series));
        }
        memset(p->series + p->n_days, 0, (need - p->n_days) * sizeof(*p->series));
        p->n_days = need;
    }
    double *v = &p->series[day - p->day0];
    *v += units;
    if (*v < 0)
        *v = 0;
}

static double series_at(const struct mlw_product *p, int64_t day)
{
    if (p->n_days == 0 || day < p->day0 || day >= p->day0 + (int64_t)p->n_days)
        return 0;
    return p->series[day - p->day0];
}

/* Days before day are closed: each product's selected method observes them. */
void mlw_close_days(struct shop_mlw *m, int64_t day)
{
    for (uint32_t i = 0; i < m->n_products; i++) {
        struct mlw_product *p = &m->products[i];
        if (!p->has_fc || p->fc_day >= day)
            continue;
        for (int64_t d = p->fc_day; d < day; d++)
            shop_ml_forecast_observe(&p->fc, series_at(p, d));
        p->fc_day = day;
        if (p->last_sale_day >= day - MLW_FC_RECENT_DAYS)
            mlw_product_fc_refresh(m, i, day * MLW_DAY_MS);
    }
}

/* ---- orders held for a retraction ------------------------------------------------- */

static void held_remove(struct shop_mlw *m, uint32_t h)
{
    struct mlw_held *r = &m->held[h];
    mlw_map_del(&m->held_ix, r->order_id);
    free(r->order_id);
    free(r->lines);
    if (h != m->n_held - 1) {
        m->held[h] = m->held[m->n_held - 1];
        mlw_map_put(&m->held_ix, m->held[h].order_id, h);
    }
    m->n_held--;
}

static void held_expire(struct shop_mlw *m, int64_t now_ms)
{
    for (uint32_t h = 0; h < m->n_held;) {
        if (m->held[h].at_ms + MLW_HELD_MS < now_ms)
            held_remove(m, h);
        else
            h++;
    }
}

/* ---- the hour and the day ------------------------------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void cart_close(struct shop_mlw *m, uint32_t u)
{
    struct mlw_user *r = &m->users[u];
    if (r->cart_open_ms == 0)
        return;
    r->cart_open_ms = 0;
    for (uint32_t i = 0; i < m->n_open; i++) {
        if (m->open_carts[i] == u) {
            m->open_carts[i] = m->open_carts[--m->n_open];
            break;
        }
    }
}

/* Carts open past MLW_ABANDON_MS at now_ms are abandoned, in user order (the open list's
 * order depends on history a checkpoint does not keep). */
static void carts_expire(struct shop_mlw *m, int64_t now_ms)
{
    uint32_t *due = NULL;
    uint32_t n_due = 0, cap_due = 0;
    for (uint32_t i = 0; i < m->n_open; i++) {
        uint32_t u = m->open_carts[i];
        if (m->users[u].cart_open_ms + MLW_ABANDON_MS <= now_ms) {
            GROW(due, n_due, cap_due);
            due[n_due++] = u;
        }
    }
    if (n_due == 0)
        return;
    qsort(due, n_due, sizeof(*due), cmp_u32);
    for (uint32_t i = 0; i < n_due; i++) {
        uint32_t u = due[i];
        int64_t at = m->users[u].cart_open_ms + MLW_ABANDON_MS;
        cart_close(m, u);
        feature_event(m, u, SHOP_ML_EV_CART_ABANDON, 0, at);
        mlw_user_seg_refresh(m, u, now_ms);
    }
    free(due);
}

/* The popularity list and the segments, computed once per event-time hour when they
 * changed (each is O(items) or O(users)), then the abandoned carts. */
static void hour_pass(struct shop_mlw *m, int64_t at_ms)
{
    if (m->popular_dirty)
        mlw_popular_refresh(m, at_ms);
    if (m->segments_dirty)
        mlw_segments_refresh(m, at_ms);
    carts_expire(m, at_ms);
}

static void advance(struct shop_mlw *m, int64_t at_ms)
{
    int64_t hour = floor_div(at_ms, MLW_HOUR_MS), day = floor_div(at_ms, MLW_DAY_MS);
    if (m->hour >= 0 && hour > m->hour)
        hour_pass(m, at_ms);
    if (m->day >= 0 && day > m->day) {
        mlw_close_days(m, day);
        held_expire(m, at_ms);
    }
    if (hour > m->hour)
        m->hour = hour;
    if (day > m->day)
        m->day = day;
    if (at_ms > m->applied_ms)
        m->applied_ms = at_ms;
}

/* ---- the inputs ------------------------------------------------------------------------ */

static void interact(struct shop_mlw *m, uint32_t u, uint32_t p, enum shop_ml_action a, int64_t at_ms)
{
    struct mlw_inter *in = inter_get(m, &m->users[u], p, true);
    shop_ml_interact_add(&m->cfg.interact, &in->acc, a, at_ms);
    pop_add(m, p, m->cfg.interact.weight[a], at_ms);
    touch_user(m, u, at_ms);
}

/* A purchase's first touch feeds the co-occurrence (the similar lists come from the
 * counts in each job, mlw_job.c). */
static void cooc_touch(struct shop_mlw *m, uint32_t u, uint32_t p)
{
    shop_ml_cooc_add(&m->cooc, u, p, NULL);
}

static bool reserved(struct shop_mlw *m, const Shopstream__V1__Event *ev, uint32_t *who)
{
    const Shopstream__V1__StockReserved *r = ev->stock_reserved;
    if (r == NULL || r->order_id == NULL || r->n_lines == 0 ||
        mlw_map_get(&m->held_ix, r->order_id) != UINT32_MAX)
        return false;
    int64_t at = ev->occurred_at_ms;
    uint32_t u = mlw_user_get(m, ev->user_id);
    GROW(m->held, m->n_held, m->cap_held);
    struct mlw_held *h = &m->held[m->n_held];
    memset(h, 0, sizeof(*h));
    h->order_id = shop_xstrdup(r->order_id);
    h->user = u;
    h->at_ms = at;
    h->lines = shop_xcalloc(r->n_lines, sizeof(*h->lines));
    int64_t spend = 0;
    for (size_t i = 0; i < r->n_lines; i++) {
        const Shopstream__V1__StockLine *l = r->lines[i];
        uint32_t p = mlw_product_get(m, l->product_id);
        int64_t amount = l->amount != NULL ? l->amount->amount_minor : 0;
        h->lines[h->n_lines++] = (struct mlw_line){p, l->quantity, amount};
        if (__builtin_add_overflow(spend, amount, &spend))
            spend = INT64_MAX;
        interact(m, u, p, SHOP_ML_PURCHASE, at);
        inter_get(m, &m->users[u], p, true)->bought++;
        cooc_touch(m, u, p);
        struct mlw_product *pr = &m->products[p];
        series_add(pr, floor_div(at, MLW_DAY_MS), (double)l->quantity);
        if (floor_div(at, MLW_DAY_MS) > pr->last_sale_day)
            pr->last_sale_day = floor_div(at, MLW_DAY_MS);
    }
    h->spend = spend;
    mlw_map_put(&m->held_ix, h->order_id, m->n_held);
    m->n_held++;
    if (m->users[u].feat.orders == 0)
        m->buyers++;
    cart_close(m, u);
    feature_event(m, u, SHOP_ML_EV_ORDER, spend, at);
    m->stats.purchases++;
    *who = u;
    return true;
}

static bool released(struct shop_mlw *m, const Shopstream__V1__Event *ev, uint32_t *who)
{
    const Shopstream__V1__StockReleased *r = ev->stock_released;
    uint32_t hi = r != NULL && r->order_id != NULL ? mlw_map_get(&m->held_ix, r->order_id) : UINT32_MAX;
    if (hi == UINT32_MAX)
        return false;
    struct mlw_held *h = &m->held[hi];
    uint32_t u = h->user;
    struct mlw_user *ur = &m->users[u];
    double w = m->cfg.interact.weight[SHOP_ML_PURCHASE];
    for (uint32_t i = 0; i < h->n_lines; i++) {
        const struct mlw_line *l = &h->lines[i];
        struct mlw_inter *in = inter_get(m, ur, l->item, true);
        inter_sub(&m->cfg.interact, &in->acc, w, h->at_ms);
        in->bought--;
        /* The popularity weight added at at_ms, taken back at its scale. */
        pop_add(m, l->item, -w, h->at_ms);
        series_add(&m->products[l->item], floor_div(h->at_ms, MLW_DAY_MS), -(double)l->quantity);
    }
    touch_user(m, u, ev->occurred_at_ms);
    /* The order's count and spend go back; the last-order day stays (it is not a sum). */
    struct shop_ml_user *f = &ur->feat;
    if (f->orders > 0) {
        f->orders--;
        f->spend_minor -= h->spend;
        if (f->spend_minor < 0)
            f->spend_minor = 0;
        if (f->orders == 0 && m->buyers > 0)
            m->buyers--;
        if (f->in_scaler)
            shop_ml_scaler_remove(&m->scaler, f->contrib);
        shop_ml_user_contrib(f, f->contrib);
        shop_ml_scaler_add(&m->scaler, f->contrib);
        f->in_scaler = true;
        features_changed(m, u);
    }
    held_remove(m, hi);
    m->stats.retracted++;
    *who = u;
    return true;
}

void mlw_apply(struct shop_mlw *m, const Shopstream__V1__Event *ev, bool late)
{
    int64_t at = ev->occurred_at_ms;
    if (!late)
        advance(m, at);
    bool applied = false;
    uint32_t who = UINT32_MAX;
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED:
        if (ev->product_viewed != NULL && ev->product_viewed->product_id != NULL) {
            uint32_t u = mlw_user_get(m, ev->user_id);
            uint32_t p = mlw_product_get(m, ev->product_viewed->product_id);
            interact(m, u, p, SHOP_ML_VIEW, at);
            feature_event(m, u, SHOP_ML_EV_VIEW, 0, at);
            who = u;
            applied = true;
        }
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED:
        if (ev->cart_item_added != NULL && ev->cart_item_added->product_id != NULL) {
            uint32_t u = mlw_user_get(m, ev->user_id);
            uint32_t p = mlw_product_get(m, ev->cart_item_added->product_id);
            interact(m, u, p, SHOP_ML_CART, at);
            feature_event(m, u, SHOP_ML_EV_CART_ADD, 0, at);
            struct mlw_user *r = &m->users[u];
            if (r->cart_open_ms == 0) {
                r->cart_open_ms = at != 0 ? at : 1;
                GROW(m->open_carts, m->n_open, m->cap_open);
                m->open_carts[m->n_open++] = u;
            }
            who = u;
            applied = true;
        }
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED:
        applied = reserved(m, ev, &who);
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RELEASED:
        applied = released(m, ev, &who);
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_COMMITTED:
        if (ev->stock_committed != NULL && ev->stock_committed->order_id != NULL) {
            uint32_t hi = mlw_map_get(&m->held_ix, ev->stock_committed->order_id);
            if (hi != UINT32_MAX) {
                held_remove(m, hi);
                applied = true;
            }
        }
        break;
    default:
        break;
    }
    if (who != UINT32_MAX) {
        mlw_user_fold(m, &m->users[who]);
        mlw_user_refresh(m, who, at);
    }
    if (applied)
        m->stats.applied++;
    else
        m->stats.ignored++;
}

/* ---- push and release ------------------------------------------------------------------ */

static bool is_input(const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED:
    case SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED:
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED:
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RELEASED:
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_COMMITTED:
        return ev->user_id != NULL && ev->user_id[0] != '\0';
    default:
        return false;
    }
}

int shop_mlw_push(struct shop_mlw *m, enum shop_stream stream, int32_t partition, int64_t offset,
                  const Shopstream__V1__Event *ev)
{
    m->stats.pushed++;
    bool input = is_input(ev);
    struct shop_mlw_entry e = {.stream = stream, .partition = partition, .offset = offset,
                               .occurred_at_ms = ev->occurred_at_ms};
    snprintf(e.id, sizeof(e.id), "%s", ev->id != NULL ? ev->id : "");
    if (input) {
        /* The buffer holds bytes: the packed event, unpacked again when released. */
        size_t len = shopstream__v1__event__get_packed_size(ev);
        if (len + 1 > m->cap_pack) {
            m->cap_pack = len + 256;
            m->pack = shop_xrealloc(m->pack, m->cap_pack);
        }
        shopstream__v1__event__pack(ev, m->pack);
        e.bytes = m->pack;
        e.len = len;
    } else {
        /* Not an input: buffered empty, so that the dedup window and the offsets stay
         * the buffer's (mlw_order.h) and the clock is every record's. */
        e.bytes = (const uint8_t *)"";
        e.len = 0;
    }
    enum shop_mlw_order_push r = shop_mlw_order_push(m->order, &e);
    if (r == SHOP_MLW_ORDER_DUPLICATE) {
        m->stats.duplicates++;
        return SHOP_MLW_IGNORED;
    }
    if (!input) {
        m->stats.ignored++;
        return SHOP_MLW_IGNORED;
    }
    if (r == SHOP_MLW_ORDER_LATE) {
        m->stats.late++;
        mlw_apply(m, ev, true);
        return SHOP_MLW_LATE;
    }
    return SHOP_MLW_BUFFERED;
}

static void apply_entry(struct shop_mlw *m, const struct shop_mlw_entry *e)
{
    if (e->len == 0)
        return;   /* a non-input: counted as ignored when pushed */
    shop_arena_reset(&m->arena);
    Shopstream__V1__Event *ev = NULL;
    struct shop_err err;
    if (shop_event_decode(e->bytes, e->len, NULL, &m->arena, &ev, &err) < 0) {
        m->stats.ignored++;
        return;
    }
    mlw_apply(m, ev, false);
}

size_t shop_mlw_release(struct shop_mlw *m, bool flush)
{
    size_t n = 0;
    if (!m->job_out && !m->take_due && mlw_due(m))
        m->take_due = true;
    while (!m->take_due) {
        if (m->job_out && m->at_swap) {
            if (m->ready == NULL)
                break;
            mlw_swap(m, m->ready);
            continue;
        }
        int64_t limit = m->job_out ? m->swap_ms : INT64_MAX;
        struct shop_mlw_entry e;
        if (!shop_mlw_order_pop(m->order, flush, limit, &e)) {
            /* Every entry before the swap point has been applied once the clock is
             * lateness past it, or on a flush once the stream has reached it (a record at
             * or after the swap point was pushed): this is the swap point. A flush before
             * that does not swap, so an idle consumer swaps where a busy one does. */
            int64_t clock = shop_mlw_order_clock(m->order), due = shop_mlw_order_due(m->order);
            bool passed = due >= INT64_MIN + m->cfg.lateness_ms && due - m->cfg.lateness_ms >= m->swap_ms;
            if (m->job_out && (passed || (flush && clock >= m->swap_ms))) {
                m->at_swap = true;
                continue;
            }
            break;
        }
        apply_entry(m, &e);
        n++;
        if (!m->job_out && mlw_due(m))
            m->take_due = true;
    }
    return n;
}

int64_t shop_mlw_due(const struct shop_mlw *m)
{
    return shop_mlw_order_due(m->order);
}

void shop_mlw_partition_idle(struct shop_mlw *m, enum shop_stream stream, int32_t partition, bool idle)
{
    shop_mlw_order_set_idle(m->order, stream, partition, idle);
}

bool shop_mlw_waiting(const struct shop_mlw *m)
{
    return m->take_due || (m->job_out && m->at_swap && m->ready == NULL);
}

size_t shop_mlw_buffered(const struct shop_mlw *m)
{
    return shop_mlw_order_buffered(m->order);
}

int64_t shop_mlw_clock(const struct shop_mlw *m)
{
    return shop_mlw_order_clock(m->order);
}

int shop_mlw_offset(const struct shop_mlw *m, enum shop_stream stream, int32_t partition, int64_t *next)
{
    return shop_mlw_order_offset(m->order, stream, partition, next);
}

bool shop_mlw_held(const struct shop_mlw *m, enum shop_stream stream, int32_t partition, int64_t *offset)
{
    return shop_mlw_order_held(m->order, stream, partition, offset);
}

void shop_mlw_offsets(const struct shop_mlw *m,
                      void (*cb)(void *ctx, enum shop_stream stream, int32_t partition, int64_t next), void *ctx)
{
    shop_mlw_order_offsets(m->order, cb, ctx);
}
