/* SPDX-License-Identifier: MIT
 * Implicit-feedback interaction weights: each event type has a weight (view < cart
 * add < purchase) that decays exponentially with a half-life. Pure: time is passed
 * in as epoch milliseconds. Invariant: a decayed sum is independent of event order.
 */
#ifndef SHOP_ML_INTERACT_H
#define SHOP_ML_INTERACT_H

#include <stdint.h>

#include "base/shop_err.h"

enum shop_ml_action {
    SHOP_ML_VIEW = 0,
    SHOP_ML_CART = 1,
    SHOP_ML_PURCHASE = 2,
};
#define SHOP_ML_ACTION_COUNT 3

struct shop_ml_interact_cfg {
    double weight[SHOP_ML_ACTION_COUNT]; /* by enum shop_ml_action */
    int64_t half_life_ms;                /* age at which a weight counts half */
};

/** A decayed running sum of weights, valid as of as_of_ms. Zero-initialise. */
struct shop_ml_interact {
    double value;
    int64_t as_of_ms;
};

/** Defaults: view 1, cart add 4, purchase 10, half-life 30 days. */
void shop_ml_interact_cfg_default(struct shop_ml_interact_cfg *cfg);

/** Returns 0, or SHOP_EINVAL unless 0 < view <= cart <= purchase and half-life > 0. */
int shop_ml_interact_cfg_validate(const struct shop_ml_interact_cfg *cfg, struct shop_err *err);

/** 2^(-age/half_life). A negative age (an event stamped in the future) counts fully. */
double shop_ml_decay(int64_t age_ms, int64_t half_life_ms);

/** Weight of one event of type action at event_ms, seen from now_ms; 0 for an unknown type. */
double shop_ml_interact_weight(const struct shop_ml_interact_cfg *cfg, enum shop_ml_action action,
                               int64_t event_ms, int64_t now_ms);

/** Adds one event to acc. Late events (before acc->as_of_ms) are decayed into the sum,
 *  so the result does not depend on arrival order. */
void shop_ml_interact_add(const struct shop_ml_interact_cfg *cfg, struct shop_ml_interact *acc,
                          enum shop_ml_action action, int64_t event_ms);

/** Value of acc seen from now_ms. */
double shop_ml_interact_value(const struct shop_ml_interact_cfg *cfg,
                              const struct shop_ml_interact *acc, int64_t now_ms);

#endif
