/* SPDX-License-Identifier: MIT
 * K-means: batch Lloyd with greedy k-means++, mini-batch updates, stable ids. Pure.
 * Scratch memory comes from shop_xmalloc (aborts on OOM), never from globals.
 */
#include "ml/ml_kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"

static double dist2(const double *a, const double *b, size_t dim)
{
    double s = 0;
    for (size_t j = 0; j < dim; j++) {
        double d = a[j] - b[j];
        s += d * d;
    }
    return s;
}

static size_t nearest(const double *centre, size_t k, size_t dim, const double *x, double *best)
{
    size_t arg = 0;
    double b = dist2(x, centre, dim);
    for (size_t c = 1; c < k; c++) {
        double d = dist2(x, centre + c * dim, dim);
        if (d < b) {
            b = d;
            arg = c;
        }
    }
    if (best)
        *best = b;
    return arg;
}

struct shop_ml_kmeans *shop_ml_kmeans_new(size_t k, size_t dim)
{
    if (k < 1 || k > SHOP_ML_KMEANS_K_MAX || dim < 1 || dim > SHOP_ML_KMEANS_DIM_MAX)
        return NULL;
    struct shop_ml_kmeans *km = shop_xcalloc(1, sizeof(*km));
    km->k = k;
    km->dim = dim;
    km->centre = shop_xcalloc(k * dim, sizeof(double));
    km->weight = shop_xcalloc(k, sizeof(double));
    km->id = shop_xcalloc(k, sizeof(uint32_t));
    km->scratch = shop_xcalloc(k * (dim + 1), sizeof(double));
    km->decay = 1.0;
    km->starve_frac = 0.02;
    for (size_t c = 0; c < k; c++)
        km->id[c] = (uint32_t)c;
    km->next_id = (uint32_t)k;
    return km;
}

void shop_ml_kmeans_free(struct shop_ml_kmeans *km)
{
    if (km == NULL)
        return;
    free(km->centre);
    free(km->weight);
    free(km->id);
    free(km->scratch);
    free(km);
}

void shop_ml_kmeans_set_half_life(struct shop_ml_kmeans *km, double half_life)
{
    km->decay = half_life > 0 ? pow(0.5, 1.0 / half_life) : 1.0;
}

/* Draws an index with probability proportional to w[i] (sum total). */
static size_t sample_weighted(const double *w, size_t n, double total, struct shop_ml_rand *rnd)
{
    double t = shop_ml_rand_unit(rnd) * total;
    for (size_t i = 0; i < n; i++) {
        t -= w[i];
        if (t < 0)
            return i;
    }
    return n - 1;
}

/* Greedy k-means++ (Arthur & Vassilvitskii; the variant scikit-learn uses): each new
 * centre is the best of 2 + ln k D²-sampled candidates, which avoids unlucky picks. */
static void seed_plus_plus(const double *x, size_t n, size_t dim, size_t k, double *centre,
                           double *d2, double *cand_d2, struct shop_ml_rand *rnd)
{
    memcpy(centre, x + shop_ml_rand_below(rnd, n) * dim, dim * sizeof(double));
    double pot = 0;
    for (size_t i = 0; i < n; i++)
        pot += d2[i] = dist2(x + i * dim, centre, dim);
    unsigned trials = 2 + (unsigned)log((double)k);
    for (size_t c = 1; c < k; c++) {
        size_t best = 0;
        double best_pot = INFINITY;
        for (unsigned t = 0; t < trials; t++) {
            size_t cand = pot > 0 ? sample_weighted(d2, n, pot, rnd) : shop_ml_rand_below(rnd, n);
            double p = 0;
            for (size_t i = 0; i < n; i++) {
                double d = dist2(x + i * dim, x + cand * dim, dim);
                p += d < d2[i] ? d : d2[i];
            }
            if (p < best_pot) {
                best_pot = p;
                best = cand;
            }
        }
        memcpy(centre + c * dim, x + best * dim, dim * sizeof(double));
        pot = 0;
        for (size_t i = 0; i < n; i++) {
            double d = dist2(x + i * dim, centre + c * dim, dim);
            if (d < d2[i])
                d2[i] = d;
            pot += d2[i];
        }
    }
    (void)cand_d2;
}

/* Moves an empty centre to the point farthest from its own centre, as scikit-learn does. */
static void relocate_empty(const double *x, size_t n, size_t dim, double *centre, size_t c,
                           const double *d2)
{
    size_t far = 0;
    for (size_t i = 1; i < n; i++)
        if (d2[i] > d2[far])
            far = i;
    memcpy(centre + c * dim, x + far * dim, dim * sizeof(double));
}

/* Lloyd iterations until no centre moves by more than tol; returns the final inertia and
 * leaves point counts in count[k]. */
static double lloyd(const double *x, size_t n, size_t dim, size_t k, double *centre,
                    double *sum, double *count, double *d2, unsigned max_iter, double tol)
{
    double inertia = 0;
    for (unsigned it = 0; it <= max_iter; it++) {
        memset(sum, 0, k * dim * sizeof(double));
        memset(count, 0, k * sizeof(double));
        inertia = 0;
        for (size_t i = 0; i < n; i++) {
            size_t c = nearest(centre, k, dim, x + i * dim, &d2[i]);
            inertia += d2[i];
            count[c] += 1;
            for (size_t j = 0; j < dim; j++)
                sum[c * dim + j] += x[i * dim + j];
        }
        if (it == max_iter)
            break;
        double shift = 0;
        for (size_t c = 0; c < k; c++) {
            double *ce = centre + c * dim;
            if (!(count[c] > 0)) {
                relocate_empty(x, n, dim, centre, c, d2);
                shift = INFINITY;
                continue;
            }
            for (size_t j = 0; j < dim; j++) {
                double m = sum[c * dim + j] / count[c];
                shift += (m - ce[j]) * (m - ce[j]);
                ce[j] = m;
            }
        }
        if (shift <= tol)
            max_iter = it + 1;  /* one more pass computes inertia for the final centres */
    }
    return inertia;
}

int shop_ml_kmeans_fit(struct shop_ml_kmeans *km, const double *x, size_t n,
                       const struct shop_ml_kmeans_opts *opts, struct shop_ml_rand *rnd,
                       double *inertia, struct shop_err *err)
{
    if (n < km->k)
        return shop_err_set(err, SHOP_EINVAL, "k-means needs at least %zu points, got %zu",
                            km->k, n);
    struct shop_ml_kmeans_opts o = {10, 300, 1e-10};
    if (opts) {
        o.restarts = opts->restarts ? opts->restarts : o.restarts;
        o.max_iter = opts->max_iter ? opts->max_iter : o.max_iter;
        o.tol = opts->tol > 0 ? opts->tol : o.tol;
    }
    size_t k = km->k, dim = km->dim;
    double *best = shop_xmalloc(k * dim * sizeof(double));
    double *cur = shop_xmalloc(k * dim * sizeof(double));
    double *sum = shop_xmalloc(k * dim * sizeof(double));
    double *count = shop_xmalloc(k * sizeof(double));
    double *best_count = shop_xmalloc(k * sizeof(double));
    double *d2 = shop_xmalloc(2 * n * sizeof(double));
    double best_in = INFINITY;
    for (unsigned r = 0; r < o.restarts; r++) {
        seed_plus_plus(x, n, dim, k, cur, d2, d2 + n, rnd);
        double in = lloyd(x, n, dim, k, cur, sum, count, d2, o.max_iter, o.tol);
        if (in < best_in) {
            best_in = in;
            memcpy(best, cur, k * dim * sizeof(double));
            memcpy(best_count, count, k * sizeof(double));
        }
    }
    struct shop_ml_kmeans old = *km;   /* shallow: its arrays are swapped out below */
    km->centre = best;
    memcpy(km->weight, best_count, k * sizeof(double));
    if (km->fitted)
        shop_ml_kmeans_match_ids(km, &old);
    km->fitted = 1;
    km->updates = 0;
    free(old.centre);
    free(cur);
    free(sum);
    free(count);
    free(best_count);
    free(d2);
    if (inertia)
        *inertia = best_in;
    return 0;
}

/* A centre whose share of the weight fell below starve_frac of the mean no longer
 * describes a segment: move it to the batch point worst served by the current centres. */
static void reseed_starved(struct shop_ml_kmeans *km, const double *x, size_t n)
{
    double total = 0;
    for (size_t c = 0; c < km->k; c++)
        total += km->weight[c];
    double floor_w = km->starve_frac * total / (double)km->k;
    size_t starved = km->k;
    for (size_t c = 0; c < km->k; c++)
        if (km->weight[c] < floor_w && (starved == km->k || km->weight[c] < km->weight[starved]))
            starved = c;
    if (starved == km->k)
        return;
    size_t far = 0;
    double far_d = -1;
    for (size_t i = 0; i < n; i++) {
        double d;
        nearest(km->centre, km->k, km->dim, x + i * km->dim, &d);
        if (d > far_d) {
            far_d = d;
            far = i;
        }
    }
    if (!(far_d > 0))
        return;
    memcpy(km->centre + starved * km->dim, x + far * km->dim, km->dim * sizeof(double));
    km->weight[starved] = 2 * floor_w;   /* above the floor, so it gets time to gather points */
    km->id[starved] = km->next_id++;
}

static void update_one(struct shop_ml_kmeans *km, const double *x)
{
    size_t c = nearest(km->centre, km->k, km->dim, x, NULL);
    double *ce = km->centre + c * km->dim;
    km->weight[c] += 1.0;
    double lr = 1.0 / km->weight[c];
    for (size_t j = 0; j < km->dim; j++)
        ce[j] += lr * (x[j] - ce[j]);
}

static void update_batch(struct shop_ml_kmeans *km, const double *x, size_t n)
{
    size_t k = km->k, dim = km->dim;
    double *sum = km->scratch, *count = km->scratch + k * dim;
    memset(km->scratch, 0, k * (dim + 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        size_t c = nearest(km->centre, k, dim, x + i * dim, NULL);
        count[c] += 1;
        for (size_t j = 0; j < dim; j++)
            sum[c * dim + j] += x[i * dim + j];
    }
    for (size_t c = 0; c < k; c++) {
        if (!(count[c] > 0))
            continue;
        km->weight[c] += count[c];
        double lr = count[c] / km->weight[c];
        double *ce = km->centre + c * dim;
        for (size_t j = 0; j < dim; j++)
            ce[j] += lr * (sum[c * dim + j] / count[c] - ce[j]);
    }
}

int shop_ml_kmeans_partial_fit(struct shop_ml_kmeans *km, const double *x, size_t n,
                               struct shop_ml_rand *rnd, struct shop_err *err)
{
    if (!km->fitted)
        return shop_ml_kmeans_fit(km, x, n, NULL, rnd, NULL, err);
    if (km->decay < 1.0)
        for (size_t c = 0; c < km->k; c++)
            km->weight[c] *= km->decay;
    if (n == 1)
        update_one(km, x);
    else
        update_batch(km, x, n);
    km->updates++;
    if (km->starve_frac > 0)
        reseed_starved(km, x, n);
    return 0;
}

size_t shop_ml_kmeans_nearest(const struct shop_ml_kmeans *km, const double *x, double *d2)
{
    return nearest(km->centre, km->k, km->dim, x, d2);
}

uint32_t shop_ml_kmeans_segment(const struct shop_ml_kmeans *km, const double *x)
{
    return km->id[nearest(km->centre, km->k, km->dim, x, NULL)];
}

double shop_ml_kmeans_inertia(const struct shop_ml_kmeans *km, const double *x, size_t n)
{
    double s = 0, d;
    for (size_t i = 0; i < n; i++) {
        nearest(km->centre, km->k, km->dim, x + i * km->dim, &d);
        s += d;
    }
    return s;
}

/* Hungarian method (Kuhn–Munkres with potentials, O(m³)) on an m × m cost matrix a
 * (row-major); writes the row assigned to each column into row_of[m]. */
static void hungarian(const double *a, size_t m, size_t *row_of)
{
    double *u = shop_xcalloc(m + 1, sizeof(double)), *v = shop_xcalloc(m + 1, sizeof(double));
    double *minv = shop_xmalloc((m + 1) * sizeof(double));
    size_t *p = shop_xcalloc(m + 1, sizeof(size_t)), *way = shop_xcalloc(m + 1, sizeof(size_t));
    char *used = shop_xmalloc(m + 1);
    for (size_t i = 1; i <= m; i++) {
        size_t j0 = 0;
        p[0] = i;
        for (size_t j = 0; j <= m; j++) {
            minv[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            size_t i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            for (size_t j = 1; j <= m; j++) {
                if (used[j])
                    continue;
                double cur = a[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (size_t j = 0; j <= m; j++) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            size_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0 != 0);
    }
    for (size_t j = 1; j <= m; j++)
        row_of[j - 1] = p[j] - 1;
    free(u);
    free(v);
    free(minv);
    free(p);
    free(way);
    free(used);
}

void shop_ml_kmeans_match_ids(struct shop_ml_kmeans *km, const struct shop_ml_kmeans *old)
{
    size_t m = km->k > old->k ? km->k : old->k;
    double *cost = shop_xcalloc(m * m, sizeof(double));   /* dummy rows/columns cost 0 */
    size_t *row_of = shop_xmalloc(m * sizeof(size_t));
    uint32_t *ids = shop_xmalloc(km->k * sizeof(uint32_t));
    for (size_t i = 0; i < km->k; i++)
        for (size_t j = 0; j < old->k && km->dim == old->dim; j++)
            cost[i * m + j] = dist2(km->centre + i * km->dim, old->centre + j * old->dim, km->dim);
    hungarian(cost, m, row_of);
    uint32_t next = km->next_id > old->next_id ? km->next_id : old->next_id;
    for (size_t i = 0; i < km->k; i++)
        ids[i] = UINT32_MAX;
    for (size_t j = 0; j < old->k; j++)
        if (row_of[j] < km->k)
            ids[row_of[j]] = old->id[j];
    for (size_t i = 0; i < km->k; i++)
        km->id[i] = ids[i] != UINT32_MAX ? ids[i] : next++;
    km->next_id = next;
    free(cost);
    free(row_of);
    free(ids);
}

double shop_ml_silhouette(const double *x, size_t n, size_t dim, const uint32_t *labels, size_t k,
                          size_t sample, struct shop_ml_rand *rnd)
{
    size_t m = sample == 0 || sample > n ? n : sample;
    size_t *idx = shop_xmalloc(n * sizeof(size_t));
    double *sum = shop_xmalloc(k * sizeof(double)), *cnt = shop_xcalloc(k, sizeof(double));
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < m && m < n; i++) {   /* partial Fisher–Yates */
        size_t j = i + shop_ml_rand_below(rnd, n - i), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (size_t s = 0; s < m; s++)
        cnt[labels[idx[s]]] += 1;
    double total = 0;
    for (size_t s = 0; s < m; s++) {
        size_t i = idx[s], own = labels[i];
        memset(sum, 0, k * sizeof(double));
        for (size_t t = 0; t < m; t++)
            sum[labels[idx[t]]] += sqrt(dist2(x + i * dim, x + idx[t] * dim, dim));
        if (cnt[own] <= 1)
            continue;   /* a singleton scores 0 by convention */
        double a = sum[own] / (cnt[own] - 1), b = INFINITY;
        for (size_t c = 0; c < k; c++)
            if (c != own && cnt[c] > 0 && sum[c] / cnt[c] < b)
                b = sum[c] / cnt[c];
        if (isfinite(b))
            total += (b - a) / (a > b ? a : b);
    }
    free(idx);
    free(sum);
    free(cnt);
    return m ? total / (double)m : 0;
}

int shop_ml_kmeans_choose_k(const double *x, size_t n, size_t dim, size_t k_min, size_t k_max,
                            size_t sample, const struct shop_ml_kmeans_opts *opts,
                            struct shop_ml_rand *rnd, double *inertia, double *silhouette,
                            size_t *best_k, struct shop_err *err)
{
    if (k_min < 2 || k_max < k_min || k_max > SHOP_ML_KMEANS_K_MAX || n < k_max)
        return shop_err_set(err, SHOP_EINVAL, "invalid k range %zu..%zu for %zu points",
                            k_min, k_max, n);
    uint32_t *labels = shop_xmalloc(n * sizeof(uint32_t));
    double best_s = -INFINITY;
    int rc = 0;
    for (size_t k = k_min; k <= k_max && rc == 0; k++) {
        struct shop_ml_kmeans *km = shop_ml_kmeans_new(k, dim);
        if (km == NULL) {
            rc = shop_err_set(err, SHOP_EINVAL, "dimension %zu out of range", dim);
            break;
        }
        rc = shop_ml_kmeans_fit(km, x, n, opts, rnd, &inertia[k - k_min], err);
        for (size_t i = 0; i < n && rc == 0; i++)
            labels[i] = (uint32_t)shop_ml_kmeans_nearest(km, x + i * dim, NULL);
        double s = rc == 0 ? shop_ml_silhouette(x, n, dim, labels, k, sample, rnd) : 0;
        silhouette[k - k_min] = s;
        if (s > best_s) {
            best_s = s;
            *best_k = k;
        }
        shop_ml_kmeans_free(km);
    }
    free(labels);
    return rc;
}

void shop_ml_kmeans_encode(const struct shop_ml_kmeans *km, struct shop_ml_writer *w)
{
    shop_ml_writer_begin(w, "KMNS");
    shop_ml_put_u64(w, km->k);
    shop_ml_put_u64(w, km->dim);
    shop_ml_put_u8(w, (uint8_t)km->fitted);
    shop_ml_put_u32(w, km->next_id);
    shop_ml_put_f64(w, km->decay);
    shop_ml_put_f64(w, km->starve_frac);
    shop_ml_put_u64(w, km->updates);
    for (size_t c = 0; c < km->k; c++) {
        shop_ml_put_u32(w, km->id[c]);
        shop_ml_put_f64(w, km->weight[c]);
        shop_ml_put_f64s(w, km->centre + c * km->dim, km->dim);
    }
    shop_ml_writer_end(w);
}

int shop_ml_kmeans_decode(struct shop_ml_kmeans **out, const uint8_t *buf, size_t len,
                          size_t *used, struct shop_err *err)
{
    struct shop_ml_reader r;
    *out = NULL;
    int rc = shop_ml_reader_open(&r, buf, len, "KMNS", used, err);
    if (rc != 0)
        return rc;
    size_t k, dim;
    uint8_t fitted;
    shop_ml_get_count(&r, SHOP_ML_KMEANS_K_MAX, &k);
    shop_ml_get_count(&r, SHOP_ML_KMEANS_DIM_MAX, &dim);
    struct shop_ml_kmeans *km = shop_ml_kmeans_new(k, dim);
    if (km == NULL)
        return shop_err_set(err, SHOP_EBADMSG, "k-means record has k=%zu dim=%zu", k, dim);
    shop_ml_get_u8(&r, &fitted);
    km->fitted = fitted != 0;
    shop_ml_get_u32(&r, &km->next_id);
    shop_ml_get_f64(&r, &km->decay);
    shop_ml_get_f64(&r, &km->starve_frac);
    shop_ml_get_u64(&r, &km->updates);
    for (size_t c = 0; c < k; c++) {
        shop_ml_get_u32(&r, &km->id[c]);
        shop_ml_get_f64(&r, &km->weight[c]);
        shop_ml_get_f64s(&r, km->centre + c * dim, dim);
    }
    rc = shop_ml_reader_close(&r, err);
    if (rc != 0) {
        shop_ml_kmeans_free(km);
        return rc;
    }
    *out = km;
    return 0;
}
