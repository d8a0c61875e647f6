/* SPDX-License-Identifier: MIT
 * Implicit-feedback ALS (Hu, Koren & Volinsky 2008): preference p = [r > 0], confidence
 * c = 1 + alpha * r, loss sum_ui c (p - x_u.y_i)^2 + reg (|X|^2 + |Y|^2); optionally
 * weighted lambda (Zhou et al. 2008): a row with n interactions is regularised by
 * reg (1 + n)^reg_exp instead of reg (0, the default, is plain ALS). Rows are solved
 * exactly (Cholesky) or by a few warm-started conjugate-gradient steps, both against a
 * cached Gram matrix Y'Y. Pure. Invariant: yty always equals Y'Y of the current y.
 */
#ifndef SHOP_ML_ALS_H
#define SHOP_ML_ALS_H

#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "ml/ml_csr.h"

struct shop_ml_writer;

struct shop_ml_als_cfg {
    uint32_t factors;    /* k */
    uint32_t cg_steps;   /* per row and sweep; 0 = exact Cholesky solves */
    double reg;          /* lambda */
    double reg_exp;      /* weighted lambda, 0..2: reg (1 + n)^reg_exp for n interactions */
    double alpha;        /* confidence slope */
    double init_scale;   /* initial factors are uniform in [0, init_scale) */
    uint64_t seed;       /* row r of the users (items) is seeded from (seed, r) */
};

struct shop_ml_als {
    struct shop_ml_als_cfg cfg;
    uint32_t n_users;
    uint32_t n_items;
    uint32_t k;
    double *x;     /* n_users * k, row-major */
    double *y;     /* n_items * k */
    double *yty;   /* k * k: Y'Y, cached for fold-in */
};

/** Defaults tuned on MovieLens 100K (see docs/ml.md). */
void shop_ml_als_cfg_default(struct shop_ml_als_cfg *cfg);

/** Allocates a model with seeded random factors. Owns memory until shop_ml_als_fini().
 *  SHOP_EINVAL for factors outside 1..1024, a negative/non-finite reg or alpha, or a
 *  reg_exp outside 0..2. */
int shop_ml_als_init(struct shop_ml_als *als, const struct shop_ml_als_cfg *cfg, uint32_t n_users,
                     uint32_t n_items, struct shop_err *err);
void shop_ml_als_fini(struct shop_ml_als *als);

/** Grows the model to new id counts; new rows get their seeded random start. */
void shop_ml_als_resize(struct shop_ml_als *als, uint32_t n_users, uint32_t n_items);

/** Runs iters alternating sweeps (users, then items) from the current factors: on a fresh
 *  model this is a full training, on a trained one a warm retrain that bounds the drift of
 *  folded-in users. r_ui is users x items, r_iu its transpose (shop_ml_csr_transpose()).
 *  SHOP_EINVAL when their shapes do not match the model. */
int shop_ml_als_train(struct shop_ml_als *als, const struct shop_ml_csr *r_ui,
                      const struct shop_ml_csr *r_iu, uint32_t iters, struct shop_err *err);

/** Doubles of scratch that shop_ml_als_fold_in() needs for k factors. */
size_t shop_ml_als_work_len(uint32_t k);

/** Solves one user exactly against the fixed item factors: the user's n interactions
 *  (items[], strengths r[]) give x (k doubles). work has shop_ml_als_work_len(k) doubles.
 *  Thread-safe on a shared model. SHOP_EINVAL for an unknown item. */
int shop_ml_als_fold_in(const struct shop_ml_als *als, const uint32_t *items, const double *r,
                        size_t n, double *x, double *work, struct shop_err *err);

/** The training objective on r_ui (for tests and diagnostics). */
double shop_ml_als_loss(const struct shop_ml_als *als, const struct shop_ml_csr *r_ui);

/** scores[i] = x . y_i for every item. */
void shop_ml_als_scores(const struct shop_ml_als *als, const double *x, double *scores);

/** Record "ALSM" with configuration and factors (the Gram cache is rebuilt on load).
 *  Loading replaces als (initialised or zeroed); SHOP_EBADMSG on a bad record. A format
 *  version 1 record (no weighted lambda) loads with reg_exp 0. */
void shop_ml_als_encode(const struct shop_ml_als *als, struct shop_ml_writer *w);
int shop_ml_als_decode(struct shop_ml_als *als, const uint8_t *buf, size_t len, size_t *used,
                       struct shop_err *err);

#endif
