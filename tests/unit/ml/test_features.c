/* SPDX-License-Identifier: MIT
 * Tests of ml/ml_features: contribution vectors, Welford add/remove against batch
 * statistics, the per-event update, profiles and serialisation. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_features.h"

#define DAY 86400000LL
#define T0 (1300000000000LL)

Test(features, contrib_is_log1p_of_counts_and_last_order_day)
{
    struct shop_ml_user u;
    shop_ml_user_init(&u);
    shop_ml_user_observe(&u, SHOP_ML_EV_VIEW, 0, T0);
    shop_ml_user_observe(&u, SHOP_ML_EV_CART_ADD, 0, T0);
    shop_ml_user_observe(&u, SHOP_ML_EV_CART_ADD, 0, T0);
    shop_ml_user_observe(&u, SHOP_ML_EV_ORDER, 12345, T0 + DAY);
    shop_ml_user_observe(&u, SHOP_ML_EV_CART_ABANDON, 0, T0 + 2 * DAY);
    double v[SHOP_ML_FEAT_DIM];
    shop_ml_user_contrib(&u, v);
    cr_assert(epsilon_eq(dbl, v[SHOP_ML_FEAT_RECENCY], (double)(T0 + DAY) / DAY, 1e-9));
    cr_assert(epsilon_eq(dbl, v[SHOP_ML_FEAT_FREQUENCY], log(2.0), 1e-12));
    cr_assert(epsilon_eq(dbl, v[SHOP_ML_FEAT_MONETARY], log1p(123.45), 1e-12));
    cr_assert(epsilon_eq(dbl, v[SHOP_ML_FEAT_VIEWS], log(2.0), 1e-12));
    cr_assert(epsilon_eq(dbl, v[SHOP_ML_FEAT_CART_ADDS], log(3.0), 1e-12));
    cr_assert(epsilon_eq(dbl, v[SHOP_ML_FEAT_CART_TO_ORDER], 0.5, 1e-12));
    cr_assert(epsilon_eq(dbl, v[SHOP_ML_FEAT_ABANDONED], log(2.0), 1e-12));
}

Test(features, cart_to_order_rate_is_capped_and_zero_without_carts)
{
    struct shop_ml_user u;
    shop_ml_user_init(&u);
    double v[SHOP_ML_FEAT_DIM];
    shop_ml_user_observe(&u, SHOP_ML_EV_ORDER, 100, T0);
    shop_ml_user_contrib(&u, v);
    cr_assert(epsilon_eq(dbl, v[SHOP_ML_FEAT_CART_TO_ORDER], 0.0, 1e-15));
    shop_ml_user_observe(&u, SHOP_ML_EV_ORDER, 100, T0);
    shop_ml_user_observe(&u, SHOP_ML_EV_CART_ADD, 0, T0);
    shop_ml_user_contrib(&u, v);
    cr_assert(epsilon_eq(dbl, v[SHOP_ML_FEAT_CART_TO_ORDER], 1.0, 1e-15));
}

Test(features, user_without_orders_uses_first_event_for_recency)
{
    struct shop_ml_user u;
    shop_ml_user_init(&u);
    shop_ml_user_observe(&u, SHOP_ML_EV_VIEW, 0, T0 + 5 * DAY);
    shop_ml_user_observe(&u, SHOP_ML_EV_VIEW, 0, T0 + 3 * DAY);
    double v[SHOP_ML_FEAT_DIM];
    shop_ml_user_contrib(&u, v);
    cr_assert(epsilon_eq(dbl, v[0], (double)(T0 + 3 * DAY) / DAY, 1e-9));
}

static void batch_stats(const double *v, size_t n, size_t dim, double *mean, double *var)
{
    for (size_t j = 0; j < dim; j++) {
        double s = 0, ss = 0;
        for (size_t i = 0; i < n; i++)
            s += v[i * dim + j];
        mean[j] = s / (double)n;
        for (size_t i = 0; i < n; i++)
            ss += (v[i * dim + j] - mean[j]) * (v[i * dim + j] - mean[j]);
        var[j] = ss / (double)n;
    }
}

Test(features, welford_add_and_remove_match_batch_statistics)
{
    enum { N = 50, D = 3 };
    double v[N * D], mean[D], var[D];
    for (int i = 0; i < N * D; i++)
        v[i] = sin(i * 1.7) * 10 + i % 7;
    struct shop_ml_scaler s;
    shop_ml_scaler_init(&s, D);
    for (int i = 0; i < N; i++)
        shop_ml_scaler_add(&s, v + i * D);
    for (int i = 0; i < 10; i++)   /* remove the first ten: stats of the last 40 remain */
        shop_ml_scaler_remove(&s, v + i * D);
    batch_stats(v + 10 * D, N - 10, D, mean, var);
    cr_assert(eq(u64, s.n, N - 10));
    for (int j = 0; j < D; j++) {
        cr_assert(epsilon_eq(dbl, s.mean[j], mean[j], 1e-9));
        cr_assert(epsilon_eq(dbl, shop_ml_scaler_sd(&s, (size_t)j), sqrt(var[j]), 1e-9));
    }
}

Test(features, per_event_updates_equal_stats_recomputed_from_scratch)
{
    enum { USERS = 20 };
    struct shop_ml_user u[USERS];
    struct shop_ml_scaler s;
    shop_ml_scaler_init(&s, SHOP_ML_FEAT_DIM);
    for (int i = 0; i < USERS; i++)
        shop_ml_user_init(&u[i]);
    for (int e = 0; e < 500; e++) {
        int i = (e * 7) % USERS;
        shop_ml_features_update(&u[i], &s, (enum shop_ml_user_event)(e % 4), 100 + e,
                                T0 + e * 3600000LL, NULL);
    }
    double v[USERS * SHOP_ML_FEAT_DIM], mean[SHOP_ML_FEAT_DIM], var[SHOP_ML_FEAT_DIM];
    for (int i = 0; i < USERS; i++)
        shop_ml_user_contrib(&u[i], v + i * SHOP_ML_FEAT_DIM);
    batch_stats(v, USERS, SHOP_ML_FEAT_DIM, mean, var);
    cr_assert(eq(u64, s.n, USERS));
    for (int j = 0; j < SHOP_ML_FEAT_DIM; j++) {
        cr_assert(epsilon_eq(dbl, s.mean[j], mean[j], 1e-6 * (1 + fabs(mean[j]))), "feature %d", j);
        cr_assert(epsilon_eq(dbl, shop_ml_scaler_sd(&s, (size_t)j), var[j] > 0 ? sqrt(var[j]) : 1,
                             1e-6), "feature %d", j);
    }
}

Test(features, standardised_recency_is_positive_for_older_orders_and_time_free)
{
    struct shop_ml_user a, b;
    struct shop_ml_scaler s;
    shop_ml_scaler_init(&s, SHOP_ML_FEAT_RFM_DIM);
    shop_ml_user_init(&a);
    shop_ml_user_init(&b);
    double za[3], zb[3], later[3];
    shop_ml_features_update(&a, &s, SHOP_ML_EV_ORDER, 1000, T0, NULL);
    shop_ml_features_update(&b, &s, SHOP_ML_EV_ORDER, 9000, T0 + 10 * DAY, NULL);
    shop_ml_features_standardise(&s, &a, T0 + 20 * DAY, za);
    shop_ml_features_standardise(&s, &b, T0 + 20 * DAY, zb);
    shop_ml_features_standardise(&s, &a, T0 + 90 * DAY, later);
    cr_assert(epsilon_eq(dbl, za[0], 1.0, 1e-12));    /* two users: z = ±1 */
    cr_assert(epsilon_eq(dbl, zb[0], -1.0, 1e-12));
    cr_assert(epsilon_eq(dbl, za[2], -1.0, 1e-12));   /* a spent less */
    cr_assert(epsilon_eq(dbl, later[0], za[0], 1e-12));
}

Test(features, update_writes_the_standardised_vector)
{
    struct shop_ml_user u[3];
    struct shop_ml_scaler s;
    shop_ml_scaler_init(&s, SHOP_ML_FEAT_DIM);
    double z[SHOP_ML_FEAT_DIM], want[SHOP_ML_FEAT_DIM];
    for (int i = 0; i < 3; i++) {
        shop_ml_user_init(&u[i]);
        for (int e = 0; e <= i; e++)
            shop_ml_features_update(&u[i], &s, SHOP_ML_EV_ORDER, 500 * (e + 1), T0 + e * DAY, z);
    }
    shop_ml_features_standardise(&s, &u[2], T0 + 3 * DAY, want);
    for (int j = 0; j < SHOP_ML_FEAT_DIM; j++)
        cr_assert(epsilon_eq(dbl, z[j], want[j], 1e-12));
    cr_assert(gt(dbl, z[SHOP_ML_FEAT_FREQUENCY], 1.0));   /* the most frequent of three */
}

Test(features, profile_names_the_rfm_corners)
{
    char buf[128];
    const double best[3] = {-1.2, 1.0, 0.9}, lapsed[3] = {1.5, -0.8, -0.7}, mid[3] = {0, 0, 0};
    shop_ml_features_profile(best, 3, buf, sizeof(buf));
    cr_assert(eq(str, buf, "recent, frequent, high spend"));
    shop_ml_features_profile(lapsed, 3, buf, sizeof(buf));
    cr_assert(eq(str, buf, "lapsed, one-off, low spend"));
    shop_ml_features_profile(mid, 3, buf, sizeof(buf));
    cr_assert(eq(str, buf, "mid spend"));
    shop_ml_features_profile(best, 3, buf, 8);
    cr_assert(eq(str, buf, "recent,"));   /* truncated, still terminated */
}

Test(features, profile_adds_behaviour_words)
{
    char buf[256];
    double c[SHOP_ML_FEAT_DIM] = {0, 0, 0, 1, 0, -1, 1};
    shop_ml_features_profile(c, SHOP_ML_FEAT_DIM, buf, sizeof(buf));
    cr_assert(eq(str, buf, "mid spend, many views, carts rarely converted, abandons carts"));
}

Test(features, scaler_round_trip_is_byte_identical)
{
    struct shop_ml_scaler s, back;
    shop_ml_scaler_init(&s, SHOP_ML_FEAT_DIM);
    double v[SHOP_ML_FEAT_DIM] = {1, 2, 3, 4, 5, 0.5, 7};
    shop_ml_scaler_add(&s, v);
    v[2] = -9.25;
    shop_ml_scaler_add(&s, v);
    struct shop_ml_writer w1 = {0}, w2 = {0};
    shop_ml_scaler_encode(&s, &w1);
    cr_assert(zero(shop_ml_scaler_decode(&back, w1.buf, w1.len, NULL, NULL)));
    shop_ml_scaler_encode(&back, &w2);
    cr_assert(eq(sz, w1.len, w2.len));
    cr_assert(zero(memcmp(w1.buf, w2.buf, w1.len)));
    cr_assert(eq(u64, back.n, 2));
    cr_assert(epsilon_eq(dbl, back.mean[2], (3 - 9.25) / 2, 1e-15));
    for (size_t n = 0; n < w1.len; n++)
        cr_assert(eq(int, shop_ml_scaler_decode(&back, w1.buf, n, NULL, NULL), SHOP_EBADMSG));
    w1.buf[20] ^= 1;
    cr_assert(eq(int, shop_ml_scaler_decode(&back, w1.buf, w1.len, NULL, NULL), SHOP_EBADMSG));
    shop_ml_writer_fini(&w1);
    shop_ml_writer_fini(&w2);
}

Test(features, user_round_trip_is_byte_identical)
{
    struct shop_ml_user u, back;
    struct shop_ml_scaler s;
    shop_ml_scaler_init(&s, SHOP_ML_FEAT_DIM);
    shop_ml_user_init(&u);
    shop_ml_features_update(&u, &s, SHOP_ML_EV_ORDER, 4200, T0, NULL);
    shop_ml_features_update(&u, &s, SHOP_ML_EV_VIEW, 0, T0 + DAY, NULL);
    struct shop_ml_writer w1 = {0}, w2 = {0};
    shop_ml_user_encode(&u, &w1);
    cr_assert(zero(shop_ml_user_decode(&back, w1.buf, w1.len, NULL, NULL)));
    shop_ml_user_encode(&back, &w2);
    cr_assert(eq(sz, w1.len, w2.len));
    cr_assert(zero(memcmp(w1.buf, w2.buf, w1.len)));
    cr_assert(eq(i64, back.spend_minor, 4200));
    cr_assert(back.in_scaler);
    cr_assert(eq(int, shop_ml_user_decode(&back, w1.buf, w1.len - 1, NULL, NULL), SHOP_EBADMSG));
    shop_ml_writer_fini(&w1);
    shop_ml_writer_fini(&w2);
}
