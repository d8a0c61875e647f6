/* SPDX-License-Identifier: MIT
 * Tests of ml/ml_interact: event weights and exponential time decay. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "ml/ml_interact.h"

#define DAY_MS (INT64_C(24) * 3600 * 1000)

Test(interact, default_weights_order_view_cart_purchase)
{
    struct shop_ml_interact_cfg cfg;
    shop_ml_interact_cfg_default(&cfg);
    cr_assert(eq(int, shop_ml_interact_cfg_validate(&cfg, NULL), 0));
    cr_assert(lt(dbl, cfg.weight[SHOP_ML_VIEW], cfg.weight[SHOP_ML_CART]));
    cr_assert(lt(dbl, cfg.weight[SHOP_ML_CART], cfg.weight[SHOP_ML_PURCHASE]));
}

Test(interact, rejects_unordered_weights_and_bad_half_life)
{
    struct shop_ml_interact_cfg cfg;
    struct shop_err err = {0};
    shop_ml_interact_cfg_default(&cfg);
    cfg.weight[SHOP_ML_CART] = 20.0;  /* above purchase */
    cr_assert(eq(int, shop_ml_interact_cfg_validate(&cfg, &err), SHOP_EINVAL));
    cr_assert(not(zero(str, err.msg)));
    shop_ml_interact_cfg_default(&cfg);
    cfg.half_life_ms = 0;
    cr_assert(eq(int, shop_ml_interact_cfg_validate(&cfg, NULL), SHOP_EINVAL));
}

Test(interact, weight_halves_every_half_life)
{
    struct shop_ml_interact_cfg cfg;
    shop_ml_interact_cfg_default(&cfg);
    cfg.half_life_ms = 10 * DAY_MS;
    double w0 = shop_ml_interact_weight(&cfg, SHOP_ML_PURCHASE, 0, 0);
    cr_assert(epsilon_eq(dbl, w0, 10.0, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_interact_weight(&cfg, SHOP_ML_PURCHASE, 0, 10 * DAY_MS),
                         5.0, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_interact_weight(&cfg, SHOP_ML_PURCHASE, 0, 30 * DAY_MS),
                         1.25, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_decay(5 * DAY_MS, 10 * DAY_MS), 0.70710678118654752, 1e-12));
}

Test(interact, future_event_counts_fully_and_unknown_type_zero)
{
    struct shop_ml_interact_cfg cfg;
    shop_ml_interact_cfg_default(&cfg);
    cr_assert(epsilon_eq(dbl, shop_ml_interact_weight(&cfg, SHOP_ML_VIEW, 1000, 0), 1.0, 1e-15));
    cr_assert(epsilon_eq(dbl, shop_ml_interact_weight(&cfg, (enum shop_ml_action)7, 0, 0), 0.0,
                         1e-15));
}

Test(interact, decayed_sum_is_independent_of_arrival_order)
{
    struct shop_ml_interact_cfg cfg;
    shop_ml_interact_cfg_default(&cfg);
    const int64_t t[] = {3 * DAY_MS, 0, 40 * DAY_MS, 17 * DAY_MS};
    const enum shop_ml_action a[] = {SHOP_ML_CART, SHOP_ML_VIEW, SHOP_ML_PURCHASE, SHOP_ML_VIEW};
    struct shop_ml_interact fwd = {0}, rev = {0};
    double expect = 0.0;
    int64_t now = 50 * DAY_MS;
    for (int k = 0; k < 4; k++) {
        shop_ml_interact_add(&cfg, &fwd, a[k], t[k]);
        shop_ml_interact_add(&cfg, &rev, a[3 - k], t[3 - k]);
        expect += shop_ml_interact_weight(&cfg, a[k], t[k], now);
    }
    cr_assert(epsilon_eq(dbl, shop_ml_interact_value(&cfg, &fwd, now), expect, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_interact_value(&cfg, &rev, now), expect, 1e-12));
    cr_assert(eq(i64, fwd.as_of_ms, 40 * DAY_MS));
}
