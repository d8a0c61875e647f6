/* SPDX-License-Identifier: MIT
 * Per-user segmentation features from the event stream: recency, frequency and
 * monetary value (RFM) plus behaviour (views, cart adds, cart-to-order rate, abandoned
 * carts), standardised with running statistics that one event updates. Pure.
 * Invariant: the scaler holds exactly the contribution vectors cached in the users fed
 * through shop_ml_features_update(), so stats never need a rescan.
 */
#ifndef SHOP_ML_FEATURES_H
#define SHOP_ML_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "ml/ml_codec.h"

/* Feature layout. The first SHOP_ML_FEAT_RFM_DIM columns are plain RFM. */
enum shop_ml_feat {
    SHOP_ML_FEAT_RECENCY = 0,   /* days since the last order (first event if none) */
    SHOP_ML_FEAT_FREQUENCY,     /* log1p(orders) */
    SHOP_ML_FEAT_MONETARY,      /* log1p(spend in major units) */
    SHOP_ML_FEAT_VIEWS,         /* log1p(product views) */
    SHOP_ML_FEAT_CART_ADDS,     /* log1p(cart adds) */
    SHOP_ML_FEAT_CART_TO_ORDER, /* orders / cart adds, capped at 1; 0 without cart adds */
    SHOP_ML_FEAT_ABANDONED,     /* log1p(abandoned carts) */
    SHOP_ML_FEAT_DIM
};
#define SHOP_ML_FEAT_RFM_DIM 3

enum shop_ml_user_event {
    SHOP_ML_EV_VIEW,
    SHOP_ML_EV_CART_ADD,
    SHOP_ML_EV_ORDER,          /* value_minor: order total in minor units (pence) */
    SHOP_ML_EV_CART_ABANDON
};

/** Raw per-user counters plus the cached contribution to the scaler. Caller-owned
 *  (one per user, e.g. a row of the worker's state); zero it with shop_ml_user_init(). */
struct shop_ml_user {
    int64_t first_ms;          /* first event seen */
    int64_t last_order_ms;     /* 0 until the first order */
    uint32_t orders, views, cart_adds, abandoned;
    int64_t spend_minor;
    double contrib[SHOP_ML_FEAT_DIM]; /* time-free vector last added to the scaler */
    bool in_scaler;
};

/** Running mean and variance (Welford) of the users' contribution vectors. */
struct shop_ml_scaler {
    size_t dim;                /* SHOP_ML_FEAT_DIM or SHOP_ML_FEAT_RFM_DIM */
    uint64_t n;
    double mean[SHOP_ML_FEAT_DIM];
    double m2[SHOP_ML_FEAT_DIM];
};

void shop_ml_user_init(struct shop_ml_user *u);
/** Applies one event to the raw counters only. */
void shop_ml_user_observe(struct shop_ml_user *u, enum shop_ml_user_event ev, int64_t value_minor,
                          int64_t at_ms);
/** The user's time-free contribution vector: recency is kept as the last-order day so the
 *  scaler stays exact as time passes (a common shift moves the mean, not the variance);
 *  counts are log1p'd because they are heavy-tailed. */
void shop_ml_user_contrib(const struct shop_ml_user *u, double v[SHOP_ML_FEAT_DIM]);

/** Empty scaler over the first dim features (1..SHOP_ML_FEAT_DIM). */
void shop_ml_scaler_init(struct shop_ml_scaler *s, size_t dim);
void shop_ml_scaler_add(struct shop_ml_scaler *s, const double *v);
void shop_ml_scaler_remove(struct shop_ml_scaler *s, const double *v);
/** Standard deviation of feature j (population); 1 when undefined or zero. */
double shop_ml_scaler_sd(const struct shop_ml_scaler *s, size_t j);

/** Standardised features of u at now_ms into z[s->dim]; recency is measured at now_ms. */
void shop_ml_features_standardise(const struct shop_ml_scaler *s, const struct shop_ml_user *u,
                                  int64_t now_ms, double *z);

/** The per-event step: applies ev to u, swaps u's old contribution in s for the new one,
 *  and writes u's standardised vector at at_ms into z[s->dim] (z may be NULL). */
void shop_ml_features_update(struct shop_ml_user *u, struct shop_ml_scaler *s,
                             enum shop_ml_user_event ev, int64_t value_minor, int64_t at_ms,
                             double *z);

/** Readable profile of a centre in standardised space, e.g. "recent, frequent, high spend"
 *  (behaviour words are added when dim > SHOP_ML_FEAT_RFM_DIM). Writes a NUL-terminated
 *  string into buf (truncated to size). */
void shop_ml_features_profile(const double *centre, size_t dim, char *buf, size_t size);

/** Serialises the scaler (magic "FSCL"). */
void shop_ml_scaler_encode(const struct shop_ml_scaler *s, struct shop_ml_writer *w);
/** Loads a scaler written by shop_ml_scaler_encode(). Returns 0 or SHOP_EBADMSG. */
int shop_ml_scaler_decode(struct shop_ml_scaler *s, const uint8_t *buf, size_t len, size_t *used,
                          struct shop_err *err);

/** Serialises one user's state (magic "FUSR"), for snapshots beside the scaler. */
void shop_ml_user_encode(const struct shop_ml_user *u, struct shop_ml_writer *w);
int shop_ml_user_decode(struct shop_ml_user *u, const uint8_t *buf, size_t len, size_t *used,
                        struct shop_err *err);

#endif
