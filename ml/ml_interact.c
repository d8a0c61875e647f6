/* SPDX-License-Identifier: MIT
 * Interaction weights with exponential time decay. Pure; time is passed in.
 */
#include "ml/ml_interact.h"

#include <math.h>

void shop_ml_interact_cfg_default(struct shop_ml_interact_cfg *cfg)
{
    cfg->weight[SHOP_ML_VIEW] = 1.0;
    cfg->weight[SHOP_ML_CART] = 4.0;
    cfg->weight[SHOP_ML_PURCHASE] = 10.0;
    cfg->half_life_ms = INT64_C(30) * 24 * 3600 * 1000;
}

int shop_ml_interact_cfg_validate(const struct shop_ml_interact_cfg *cfg, struct shop_err *err)
{
    const double *w = cfg->weight;
    if (!(w[SHOP_ML_VIEW] > 0.0 && w[SHOP_ML_VIEW] <= w[SHOP_ML_CART] &&
          w[SHOP_ML_CART] <= w[SHOP_ML_PURCHASE] && isfinite(w[SHOP_ML_PURCHASE])))
        return shop_err_set(err, SHOP_EINVAL, "interaction weights must satisfy 0 < view <= cart <= purchase");
    if (cfg->half_life_ms <= 0)
        return shop_err_set(err, SHOP_EINVAL, "half-life must be positive: %lld ms",
                            (long long)cfg->half_life_ms);
    return 0;
}

double shop_ml_decay(int64_t age_ms, int64_t half_life_ms)
{
    if (age_ms <= 0 || half_life_ms <= 0)
        return 1.0;
    return exp2(-(double)age_ms / (double)half_life_ms);
}

double shop_ml_interact_weight(const struct shop_ml_interact_cfg *cfg, enum shop_ml_action action,
                               int64_t event_ms, int64_t now_ms)
{
    if ((unsigned)action >= SHOP_ML_ACTION_COUNT)
        return 0.0;
    return cfg->weight[action] * shop_ml_decay(now_ms - event_ms, cfg->half_life_ms);
}

void shop_ml_interact_add(const struct shop_ml_interact_cfg *cfg, struct shop_ml_interact *acc,
                          enum shop_ml_action action, int64_t event_ms)
{
    if ((unsigned)action >= SHOP_ML_ACTION_COUNT)
        return;
    double w = cfg->weight[action];
    if (!(acc->value > 0.0) || event_ms >= acc->as_of_ms) {
        /* Move the reference time forward so the sum stays O(1) in magnitude. */
        acc->value = acc->value * shop_ml_decay(event_ms - acc->as_of_ms, cfg->half_life_ms) + w;
        acc->as_of_ms = event_ms;
    } else {
        acc->value += w * shop_ml_decay(acc->as_of_ms - event_ms, cfg->half_life_ms);
    }
}

double shop_ml_interact_value(const struct shop_ml_interact_cfg *cfg,
                              const struct shop_ml_interact *acc, int64_t now_ms)
{
    return acc->value * shop_ml_decay(now_ms - acc->as_of_ms, cfg->half_life_ms);
}
