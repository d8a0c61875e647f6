/* SPDX-License-Identifier: MIT
 * Tests of ml/ml_forecast: hand-computed Croston/SBA/TSB, Holt-Winters on a pure weekly
 * pattern, selection, days to stock-out and serialisation. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <string.h>

#include "ml/ml_forecast.h"

static void feed(struct shop_ml_forecast *m, const double *y, size_t n)
{
    for (size_t t = 0; t < n; t++)
        shop_ml_forecast_observe(m, y[t]);
}

Test(forecast, croston_and_sba_match_hand_computation)
{
    /* Day 3: size 3, interval 3. Day 5: size 3 + .5(5 - 3) = 4, interval 3 + .5(2 - 3) = 2.5. */
    const double y[] = {0, 0, 3, 0, 5};
    struct shop_ml_forecast c, s;
    shop_ml_forecast_init(&c, SHOP_ML_FC_CROSTON, 0.5, 0, 0);
    shop_ml_forecast_init(&s, SHOP_ML_FC_SBA, 0.5, 0, 0);
    feed(&c, y, 5);
    feed(&s, y, 5);
    cr_assert(epsilon_eq(dbl, c.size, 4.0, 1e-12));
    cr_assert(epsilon_eq(dbl, c.interval, 2.5, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&c, 1), 1.6, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&c, 9), 1.6, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&s, 1), 1.6 * 0.75, 1e-12));
    shop_ml_forecast_observe(&c, 0);   /* zero days do not move Croston's estimates */
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&c, 1), 1.6, 1e-12));
}

Test(forecast, tsb_matches_hand_computation)
{
    /* Day 2: size 4, p = 1/2. Day 3: p = .5 + .5(0 - .5) = .25. Day 4: p = .25 + .5(1 - .25)
     * = .625, size = 4 + .5(2 - 4) = 3. Forecast .625 * 3 = 1.875. */
    const double y[] = {0, 4, 0, 2};
    struct shop_ml_forecast m;
    shop_ml_forecast_init(&m, SHOP_ML_FC_TSB, 0.5, 0.5, 0);
    feed(&m, y, 4);
    cr_assert(epsilon_eq(dbl, m.prob, 0.625, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&m, 1), 1.875, 1e-12));
    shop_ml_forecast_observe(&m, 0);   /* unlike Croston, TSB decays on zero days */
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&m, 1), 0.3125 * 3, 1e-12));
}

static const double week[7] = {10, 12, 14, 11, 20, 0, 3};

Test(forecast, holt_winters_reproduces_a_pure_weekly_pattern)
{
    double y[56];
    for (int t = 0; t < 56; t++)
        y[t] = week[t % 7];
    struct shop_ml_forecast m;
    cr_assert(zero(shop_ml_forecast_fit(&m, SHOP_ML_FC_HW, y, 56, NULL)));
    for (unsigned h = 1; h <= 14; h++)
        cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&m, h), week[(56 + h - 1) % 7], 1e-9),
                  "h=%u", h);
}

Test(forecast, holt_winters_follows_a_level_shift)
{
    double y[140];
    for (int t = 0; t < 140; t++)
        y[t] = week[t % 7] + (t >= 70 ? 30 : 0);
    struct shop_ml_forecast m;
    shop_ml_forecast_fit(&m, SHOP_ML_FC_HW, y, 140, NULL);
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&m, 1), week[0] + 30, 1.0));
}

Test(forecast, seasonal_naive_repeats_last_week)
{
    double y[21];
    for (int t = 0; t < 21; t++)
        y[t] = t;
    struct shop_ml_forecast m;
    shop_ml_forecast_fit(&m, SHOP_ML_FC_SNAIVE, y, 21, NULL);
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&m, 1), 14, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&m, 7), 20, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_at(&m, 8), 14, 1e-12));
}

Test(forecast, forecasts_are_never_negative)
{
    double y[70];
    for (int t = 0; t < 70; t++)
        y[t] = t % 7 == 5 ? 0 : 100 - t;   /* falling, with a closed day */
    struct shop_ml_forecast m;
    shop_ml_forecast_init(&m, SHOP_ML_FC_HW, 0.5, 0.5, 0.1);
    feed(&m, y, 70);
    for (unsigned h = 1; h <= 200; h++)
        cr_assert(ge(dbl, shop_ml_forecast_at(&m, h), 0.0));
}

Test(forecast, selection_picks_holt_winters_for_a_weekly_pattern)
{
    double y[84], errors[SHOP_ML_FC_METHODS];
    for (int t = 0; t < 84; t++)
        y[t] = week[t % 7];
    struct shop_ml_forecast m;
    cr_assert(zero(shop_ml_forecast_select(&m, y, 84, 28, errors, NULL)));
    cr_assert(eq(int, m.method, SHOP_ML_FC_HW));
    cr_assert(epsilon_eq(dbl, errors[SHOP_ML_FC_HW], 0.0, 1e-9));
    cr_assert(gt(dbl, errors[SHOP_ML_FC_CROSTON], 1.0));
    cr_assert(eq(u64, m.days, 84));   /* refitted on the whole series */
}

Test(forecast, selection_prefers_an_intermittent_method_for_sparse_demand)
{
    double y[200] = {0};
    for (int t = 0; t < 200; t++)   /* a demand of 4 about every 9 days, off the week */
        y[t] = (t * 37) % 9 == 0 ? 4 : 0;
    struct shop_ml_forecast m;
    double errors[SHOP_ML_FC_METHODS];
    cr_assert(zero(shop_ml_forecast_select(&m, y, 200, 28, errors, NULL)));
    cr_assert(ne(int, m.method, SHOP_ML_FC_HW));
    cr_assert(ne(int, m.method, SHOP_ML_FC_SNAIVE));
}

Test(forecast, too_short_series_are_rejected)
{
    double y[13] = {0};
    struct shop_ml_forecast m;
    struct shop_err err = {0};
    cr_assert(eq(int, shop_ml_forecast_fit(&m, SHOP_ML_FC_HW, y, 13, &err), SHOP_EINVAL));
    cr_assert(eq(int, shop_ml_forecast_select(&m, y, 13, 7, NULL, NULL), SHOP_EINVAL));
}

Test(forecast, days_to_stockout_integrates_the_forecast)
{
    struct shop_ml_forecast m;
    shop_ml_forecast_init(&m, SHOP_ML_FC_CROSTON, 0.1, 0, 0);
    shop_ml_forecast_observe(&m, 2);   /* size 2, interval 1: 2 units a day */
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_days_to_stockout(&m, 5, 365), 2.5, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_days_to_stockout(&m, 0, 365), 0.0, 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_days_to_stockout(&m, 1e9, 30), 30.0, 1e-12));
    double y[28];
    for (int t = 0; t < 28; t++)
        y[t] = week[t % 7];
    struct shop_ml_forecast hw;
    shop_ml_forecast_fit(&hw, SHOP_ML_FC_HW, y, 28, NULL);
    /* Next days are 10, 12, 14: 30 units last until 2 + 8/14 days. */
    cr_assert(epsilon_eq(dbl, shop_ml_forecast_days_to_stockout(&hw, 30, 365), 2 + 8.0 / 14,
                         1e-9));
}

Test(forecast, round_trip_is_byte_identical_and_resumes_identically)
{
    double y[60];
    for (int t = 0; t < 60; t++)
        y[t] = week[t % 7] + (t % 5);
    struct shop_ml_forecast m, back;
    shop_ml_forecast_select(&m, y, 60, 14, NULL, NULL);
    struct shop_ml_writer w1 = {0}, w2 = {0};
    shop_ml_forecast_encode(&m, &w1);
    cr_assert(zero(shop_ml_forecast_decode(&back, w1.buf, w1.len, NULL, NULL)));
    shop_ml_forecast_encode(&back, &w2);
    cr_assert(eq(sz, w1.len, w2.len));
    cr_assert(zero(memcmp(w1.buf, w2.buf, w1.len)));
    shop_ml_forecast_observe(&m, 7);
    shop_ml_forecast_observe(&back, 7);
    cr_assert(eq(dbl, shop_ml_forecast_at(&m, 3), shop_ml_forecast_at(&back, 3)));
    for (size_t n = 0; n < w1.len; n++)
        cr_assert(eq(int, shop_ml_forecast_decode(&back, w1.buf, n, NULL, NULL), SHOP_EBADMSG));
    shop_ml_writer_fini(&w1);
    shop_ml_writer_fini(&w2);
}

Test(forecast, unknown_method_is_rejected_on_load)
{
    struct shop_ml_forecast m;
    shop_ml_forecast_init(&m, SHOP_ML_FC_TSB, 0.1, 0.1, 0);
    m.method = SHOP_ML_FC_METHODS;   /* not a method: encode writes it, decode must refuse */
    struct shop_ml_writer w = {0};
    shop_ml_forecast_encode(&m, &w);
    cr_assert(eq(int, shop_ml_forecast_decode(&m, w.buf, w.len, NULL, NULL), SHOP_EBADMSG));
    shop_ml_writer_fini(&w);
}
