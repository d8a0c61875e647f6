/* SPDX-License-Identifier: MIT
 * Serving: bounded top-N heap, popularity model ("POPM" record), user top-N from ALS
 * factors with popularity fallback, similar items, item-to-item scoring. Pure.
 */
#include "ml/ml_reco.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "ml/ml_als.h"
#include "ml/ml_codec.h"
#include "ml/ml_cooc.h"

#define POP_ITEMS_MAX (1u << 28)

void shop_ml_topn_init(struct shop_ml_topn *h, struct shop_ml_scored *buf, uint32_t cap)
{
    h->v = buf;
    h->cap = cap;
    h->len = 0;
}

/* Min-heap on rank: the root is the entry every other entry ranks before. */
static void sift_down(struct shop_ml_scored *v, uint32_t len, uint32_t at)
{
    for (;;) {
        uint32_t l = 2 * at + 1, r = l + 1, worst = at;
        if (l < len && shop_ml_scored_before(&v[worst], &v[l]))
            worst = l;
        if (r < len && shop_ml_scored_before(&v[worst], &v[r]))
            worst = r;
        if (worst == at)
            return;
        struct shop_ml_scored t = v[at];
        v[at] = v[worst];
        v[worst] = t;
        at = worst;
    }
}

void shop_ml_topn_push(struct shop_ml_topn *h, uint32_t item, double score)
{
    struct shop_ml_scored e = {item, score};
    if (isnan(score) || h->cap == 0)
        return;
    if (h->len < h->cap) {
        uint32_t at = h->len++;
        while (at > 0) {
            uint32_t up = (at - 1) / 2;
            if (!shop_ml_scored_before(&h->v[up], &e))
                break;
            h->v[at] = h->v[up];
            at = up;
        }
        h->v[at] = e;
        return;
    }
    if (!shop_ml_scored_before(&e, &h->v[0]))
        return;
    h->v[0] = e;
    sift_down(h->v, h->len, 0);
}

uint32_t shop_ml_topn_finish(struct shop_ml_topn *h)
{
    /* Heap sort: popping the worst to the back leaves v best first. */
    for (uint32_t n = h->len; n > 1; n--) {
        struct shop_ml_scored t = h->v[0];
        h->v[0] = h->v[n - 1];
        h->v[n - 1] = t;
        sift_down(h->v, n - 1, 0);
    }
    return h->len;
}

void shop_ml_pop_init(struct shop_ml_pop *pop, uint32_t n_items)
{
    pop->n_items = n_items;
    pop->score = shop_xcalloc((size_t)n_items + 1, sizeof(*pop->score));
}

void shop_ml_pop_fini(struct shop_ml_pop *pop)
{
    free(pop->score);
    memset(pop, 0, sizeof(*pop));
}

void shop_ml_pop_add(struct shop_ml_pop *pop, uint32_t item, double w)
{
    if (item >= pop->n_items) {
        pop->score = shop_xrealloc(pop->score, ((size_t)item + 2) * sizeof(*pop->score));
        memset(pop->score + pop->n_items, 0, ((size_t)item + 2 - pop->n_items) * sizeof(*pop->score));
        pop->n_items = item + 1;
    }
    pop->score[item] += w;
}

void shop_ml_pop_encode(const struct shop_ml_pop *pop, struct shop_ml_writer *w)
{
    shop_ml_writer_begin(w, "POPM");
    shop_ml_put_u32(w, pop->n_items);
    shop_ml_put_f64s(w, pop->score, pop->n_items);
    shop_ml_writer_end(w);
}

int shop_ml_pop_decode(struct shop_ml_pop *pop, const uint8_t *buf, size_t len, size_t *used,
                       struct shop_err *err)
{
    struct shop_ml_reader r;
    int rc = shop_ml_reader_open(&r, buf, len, "POPM", used, err);
    if (rc != 0)
        return rc;
    uint32_t n;
    if (shop_ml_get_u32(&r, &n) != 0 || n > (size_t)(r.end - r.p) / 8)
        return shop_err_set(err, SHOP_EBADMSG, "popularity record: bad item count");
    struct shop_ml_pop fresh;
    shop_ml_pop_init(&fresh, n);
    bool ok = shop_ml_get_f64s(&r, fresh.score, n) == 0 && shop_ml_reader_close(&r, err) == 0;
    for (uint32_t i = 0; ok && i < n; i++)
        ok = isfinite(fresh.score[i]);
    if (!ok) {
        shop_ml_pop_fini(&fresh);
        return shop_err_set(err, SHOP_EBADMSG, "popularity record: inconsistent payload");
    }
    shop_ml_pop_fini(pop);
    *pop = fresh;
    return 0;
}

/* Walks items in id order alongside the sorted exclude list (no per-item search). */
void shop_ml_reco_top(const double *scores, uint32_t n_items, const uint32_t *exclude,
                      size_t n_exclude, uint32_t n, struct shop_ml_scored *out, uint32_t *n_out)
{
    struct shop_ml_topn h;
    shop_ml_topn_init(&h, out, n);
    size_t e = 0;
    for (uint32_t i = 0; i < n_items; i++) {
        while (e < n_exclude && exclude[e] < i)
            e++;
        if (e < n_exclude && exclude[e] == i)
            continue;
        shop_ml_topn_push(&h, i, scores[i]);
    }
    *n_out = shop_ml_topn_finish(&h);
}

void shop_ml_reco_popular(const struct shop_ml_pop *pop, const uint32_t *exclude, size_t n_exclude,
                          uint32_t n, struct shop_ml_scored *out, uint32_t *n_out)
{
    shop_ml_reco_top(pop->score, pop->n_items, exclude, n_exclude, n, out, n_out);
}

static bool has_signal(const double *x, uint32_t k)
{
    if (x == NULL)
        return false;
    for (uint32_t f = 0; f < k; f++)
        if (x[f] > 0.0 || x[f] < 0.0)
            return true;
    return false;
}

void shop_ml_reco_user(const struct shop_ml_als *als, const double *x, const struct shop_ml_pop *pop,
                       const uint32_t *exclude, size_t n_exclude, uint32_t n,
                       struct shop_ml_scored *out, uint32_t *n_out)
{
    if (als == NULL || !has_signal(x, als->k)) {
        shop_ml_reco_popular(pop, exclude, n_exclude, n, out, n_out);
        return;
    }
    struct shop_ml_topn h;
    shop_ml_topn_init(&h, out, n);
    size_t e = 0;
    uint32_t k = als->k;
    for (uint32_t i = 0; i < als->n_items; i++) {
        while (e < n_exclude && exclude[e] < i)
            e++;
        if (e < n_exclude && exclude[e] == i)
            continue;
        const double *y = als->y + (size_t)i * k;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        uint32_t f = 0;
        for (; f + 4 <= k; f += 4) {
            s0 += x[f] * y[f];
            s1 += x[f + 1] * y[f + 1];
            s2 += x[f + 2] * y[f + 2];
            s3 += x[f + 3] * y[f + 3];
        }
        for (; f < k; f++)
            s0 += x[f] * y[f];
        shop_ml_topn_push(&h, i, (s0 + s1) + (s2 + s3));
    }
    *n_out = shop_ml_topn_finish(&h);
}

void shop_ml_reco_similar(const struct shop_ml_similar *sim, const struct shop_ml_pop *pop,
                          uint32_t item, uint32_t n, struct shop_ml_scored *out, uint32_t *n_out)
{
    uint32_t len = item < sim->n_items ? sim->len[item] : 0;
    if (len == 0) {
        shop_ml_reco_popular(pop, &item, 1, n, out, n_out);
        return;
    }
    *n_out = len < n ? len : n;
    memcpy(out, sim->nb + (size_t)item * sim->k, *n_out * sizeof(*out));
}

void shop_ml_reco_item_scores(const struct shop_ml_similar *sim, const uint32_t *items,
                              const double *w, size_t n_hist, double *scores)
{
    memset(scores, 0, (size_t)sim->n_items * sizeof(*scores));
    for (size_t t = 0; t < n_hist; t++) {
        if (items[t] >= sim->n_items)
            continue;
        double wt = w ? w[t] : 1.0;
        const struct shop_ml_scored *nb = sim->nb + (size_t)items[t] * sim->k;
        for (uint32_t q = 0; q < sim->len[items[t]]; q++)
            scores[nb[q].item] += wt * nb[q].score;
    }
}
