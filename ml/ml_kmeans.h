/* SPDX-License-Identifier: MIT
 * K-means customer segmentation. Pure. Batch: Lloyd with greedy k-means++ seeding and
 * restarts. Incremental: mini-batch updates where each centre moves by the batch's weight
 * over its total weight, with optional exponential decay and re-seeding of starved centres.
 * Invariant: id[c] names centre slot c's segment and survives refits (new centres are
 * matched to old ones by minimum total distance).
 */
#ifndef SHOP_ML_KMEANS_H
#define SHOP_ML_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "ml/ml_codec.h"
#include "ml/ml_rand.h"

#define SHOP_ML_KMEANS_K_MAX 64
#define SHOP_ML_KMEANS_DIM_MAX 64

struct shop_ml_kmeans {
    size_t k, dim;
    double *centre;      /* k × dim, row-major */
    double *weight;      /* k: decayed number of points absorbed */
    uint32_t *id;        /* k: stable segment id */
    uint32_t next_id;    /* next fresh segment id */
    double decay;        /* weight multiplier per incremental update; 1 = no fading */
    double starve_frac;  /* re-seed a centre below this share of the mean weight; 0 = never */
    uint64_t updates;    /* incremental updates since the last batch fit */
    int fitted;
    double *scratch;     /* k × (dim + 1) sums for mini-batches */
};

struct shop_ml_kmeans_opts {
    unsigned restarts;   /* k-means++ + Lloyd runs; the lowest inertia wins (default 10) */
    unsigned max_iter;   /* Lloyd iterations per run (default 300) */
    double tol;          /* stop when no centre moves more than tol² in total (default 1e-10) */
};

/** Allocates an unfitted model of k centres in dim dimensions (1..SHOP_ML_KMEANS_K_MAX,
 *  1..SHOP_ML_KMEANS_DIM_MAX); NULL when out of range. Free with shop_ml_kmeans_free(). */
struct shop_ml_kmeans *shop_ml_kmeans_new(size_t k, size_t dim);
void shop_ml_kmeans_free(struct shop_ml_kmeans *km);

/** Fades old behaviour: after half_life incremental updates (a mini-batch or a single
 *  event each) a point's weight has halved. 0 turns fading off. */
void shop_ml_kmeans_set_half_life(struct shop_ml_kmeans *km, double half_life);

/** Batch fit on n points x (n × dim). opts may be NULL for defaults. A refit keeps segment
 *  ids: each new centre takes the id of the old centre it is matched to. Writes the best
 *  inertia to *inertia (may be NULL). Returns 0, or SHOP_EINVAL when n < k. */
int shop_ml_kmeans_fit(struct shop_ml_kmeans *km, const double *x, size_t n,
                       const struct shop_ml_kmeans_opts *opts, struct shop_ml_rand *rnd,
                       double *inertia, struct shop_err *err);

/** Mini-batch update with n points. On an unfitted model the batch seeds it with a batch
 *  fit (needs n >= k, else SHOP_EINVAL). With n == 1 this is the per-event update. */
int shop_ml_kmeans_partial_fit(struct shop_ml_kmeans *km, const double *x, size_t n,
                               struct shop_ml_rand *rnd, struct shop_err *err);

/** Slot of the centre nearest to x; its squared distance into *dist2 (may be NULL). */
size_t shop_ml_kmeans_nearest(const struct shop_ml_kmeans *km, const double *x, double *dist2);
/** Stable segment id of the centre nearest to x. */
uint32_t shop_ml_kmeans_segment(const struct shop_ml_kmeans *km, const double *x);
/** Sum of squared distances of the n points to their nearest centres. */
double shop_ml_kmeans_inertia(const struct shop_ml_kmeans *km, const double *x, size_t n);

/** Gives km's centres the ids of the matching centres of old (minimum total squared
 *  distance, Hungarian method); centres left without a partner get fresh ids. */
void shop_ml_kmeans_match_ids(struct shop_ml_kmeans *km, const struct shop_ml_kmeans *old);

/** Mean silhouette of a labelling, over a random sample of at most sample points (all
 *  when sample == 0 or >= n). labels[i] in [0, k). Scratch is allocated internally. */
double shop_ml_silhouette(const double *x, size_t n, size_t dim, const uint32_t *labels, size_t k,
                          size_t sample, struct shop_ml_rand *rnd);

/** Fits k = k_min..k_max and reports inertia[k - k_min] and silhouette[k - k_min] (arrays
 *  of k_max - k_min + 1), and in *best_k the k with the highest silhouette. */
int shop_ml_kmeans_choose_k(const double *x, size_t n, size_t dim, size_t k_min, size_t k_max,
                            size_t sample, const struct shop_ml_kmeans_opts *opts,
                            struct shop_ml_rand *rnd, double *inertia, double *silhouette,
                            size_t *best_k, struct shop_err *err);

/** Serialises the model (magic "KMNS"). */
void shop_ml_kmeans_encode(const struct shop_ml_kmeans *km, struct shop_ml_writer *w);
/** Loads a model written by shop_ml_kmeans_encode() into a new *out (caller frees).
 *  Returns 0 or SHOP_EBADMSG. */
int shop_ml_kmeans_decode(struct shop_ml_kmeans **out, const uint8_t *buf, size_t len,
                          size_t *used, struct shop_err *err);

#endif
