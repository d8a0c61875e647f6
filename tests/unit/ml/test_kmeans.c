/* SPDX-License-Identifier: MIT
 * Tests of ml/ml_kmeans: blobs recovered, mini-batch math, decay, starved-centre
 * re-seeding, stable ids, silhouette, choice of k and serialisation. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_kmeans.h"

static const double blob_mean[4][2] = {{0, 0}, {10, 0}, {0, 10}, {10, 10}};

/* n points per blob, uniform noise of half-width 1 around each of the first k blob means. */
static double *blobs(size_t k, size_t per, uint64_t seed)
{
    struct shop_ml_rand r;
    shop_ml_rand_init(&r, seed);
    double *x = malloc(k * per * 2 * sizeof(double));
    for (size_t b = 0; b < k; b++)
        for (size_t i = 0; i < per; i++)
            for (int j = 0; j < 2; j++)
                x[(b * per + i) * 2 + j] = blob_mean[b][j] + 2 * shop_ml_rand_unit(&r) - 1;
    return x;
}

Test(kmeans, well_separated_blobs_are_recovered)
{
    double *x = blobs(4, 50, 1);
    struct shop_ml_rand r;
    shop_ml_rand_init(&r, 2);
    struct shop_ml_kmeans *km = shop_ml_kmeans_new(4, 2);
    double inertia;
    cr_assert(zero(shop_ml_kmeans_fit(km, x, 200, NULL, &r, &inertia, NULL)));
    for (int b = 0; b < 4; b++) {
        double d2;
        size_t c = shop_ml_kmeans_nearest(km, blob_mean[b], &d2);
        cr_assert(lt(dbl, d2, 0.1), "blob %d is %g away from its centre", b, d2);
        cr_assert(epsilon_eq(dbl, km->weight[c], 50.0, 1e-12));
    }
    /* Uniform noise on [-1, 1]² has variance 2/3 per point. */
    cr_assert(epsilon_eq(dbl, inertia, 200 * 2.0 / 3, 25));
    cr_assert(epsilon_eq(dbl, shop_ml_kmeans_inertia(km, x, 200), inertia, 1e-9));
    shop_ml_kmeans_free(km);
    free(x);
}

Test(kmeans, lloyd_converges_to_the_means_of_a_hand_made_case)
{
    const double x[] = {0, 1, 2, 10, 11, 12, 13};
    struct shop_ml_rand r;
    shop_ml_rand_init(&r, 3);
    struct shop_ml_kmeans *km = shop_ml_kmeans_new(2, 1);
    double inertia;
    shop_ml_kmeans_fit(km, x, 7, NULL, &r, &inertia, NULL);
    double lo = fmin(km->centre[0], km->centre[1]), hi = fmax(km->centre[0], km->centre[1]);
    cr_assert(epsilon_eq(dbl, lo, 1.0, 1e-12));
    cr_assert(epsilon_eq(dbl, hi, 11.5, 1e-12));
    cr_assert(epsilon_eq(dbl, inertia, 2 + 5, 1e-12));   /* 1+0+1 + 2.25+.25+.25+2.25 */
    shop_ml_kmeans_free(km);
}

Test(kmeans, too_few_points_and_bad_shapes_are_rejected)
{
    const double x[] = {1, 2};
    struct shop_ml_rand r;
    shop_ml_rand_init(&r, 3);
    struct shop_ml_kmeans *km = shop_ml_kmeans_new(3, 1);
    struct shop_err err = {0};
    cr_assert(eq(int, shop_ml_kmeans_fit(km, x, 2, NULL, &r, NULL, &err), SHOP_EINVAL));
    cr_assert(eq(int, shop_ml_kmeans_partial_fit(km, x, 2, &r, NULL), SHOP_EINVAL));
    cr_assert(zero(ptr, shop_ml_kmeans_new(0, 2)));
    cr_assert(zero(ptr, shop_ml_kmeans_new(2, SHOP_ML_KMEANS_DIM_MAX + 1)));
    shop_ml_kmeans_free(km);
}

static struct shop_ml_kmeans *two_centres(void)
{
    const double x[] = {0, 0, 10, 10};   /* centres 0 and 10, weight 2 each */
    struct shop_ml_rand r;
    shop_ml_rand_init(&r, 4);
    struct shop_ml_kmeans *km = shop_ml_kmeans_new(2, 1);
    shop_ml_kmeans_fit(km, x, 4, NULL, &r, NULL, NULL);
    km->starve_frac = 0;
    return km;
}

Test(kmeans, one_event_moves_its_centre_by_one_over_total_weight)
{
    struct shop_ml_kmeans *km = two_centres();
    const double p = 3;
    size_t c = shop_ml_kmeans_nearest(km, &p, NULL);
    cr_assert(zero(shop_ml_kmeans_partial_fit(km, &p, 1, NULL, NULL)));
    cr_assert(epsilon_eq(dbl, km->centre[c], 1.0, 1e-12));   /* (2·0 + 3) / 3 */
    cr_assert(epsilon_eq(dbl, km->weight[c], 3.0, 1e-12));
    cr_assert(epsilon_eq(dbl, km->centre[1 - c], 10.0, 1e-12));
    shop_ml_kmeans_free(km);
}

Test(kmeans, mini_batch_rate_is_batch_weight_over_total)
{
    struct shop_ml_kmeans *km = two_centres();
    const double b[] = {12, 14, 16, -2};
    const double hi_probe = 10;
    size_t hi = shop_ml_kmeans_nearest(km, &hi_probe, NULL);
    shop_ml_kmeans_partial_fit(km, b, 4, NULL, NULL);
    /* High centre: 3 points of mean 14, rate 3/5: 10 + .6·4 = 12.4. Low: rate 1/3: -2/3. */
    cr_assert(epsilon_eq(dbl, km->centre[hi], 12.4, 1e-12));
    cr_assert(epsilon_eq(dbl, km->centre[1 - hi], -2.0 / 3, 1e-12));
    cr_assert(epsilon_eq(dbl, km->weight[hi], 5.0, 1e-12));
    shop_ml_kmeans_free(km);
}

Test(kmeans, half_life_halves_old_weight_per_update)
{
    struct shop_ml_kmeans *km = two_centres();
    shop_ml_kmeans_set_half_life(km, 1);
    const double p = 10;
    size_t hi = shop_ml_kmeans_nearest(km, &p, NULL);
    shop_ml_kmeans_partial_fit(km, &p, 1, NULL, NULL);
    cr_assert(epsilon_eq(dbl, km->weight[hi], 2 * 0.5 + 1, 1e-12));
    cr_assert(epsilon_eq(dbl, km->weight[1 - hi], 1.0, 1e-12));
    shop_ml_kmeans_set_half_life(km, 2);
    cr_assert(epsilon_eq(dbl, km->decay, sqrt(0.5), 1e-12));
    shop_ml_kmeans_set_half_life(km, 0);
    cr_assert(epsilon_eq(dbl, km->decay, 1.0, 1e-15));
    shop_ml_kmeans_free(km);
}

Test(kmeans, faded_behaviour_lets_a_centre_follow_new_points)
{
    struct shop_ml_kmeans *fade = two_centres(), *keep = two_centres();
    shop_ml_kmeans_set_half_life(fade, 5);
    const double p = 20;
    for (int i = 0; i < 200; i++) {
        shop_ml_kmeans_partial_fit(fade, &p, 1, NULL, NULL);
        shop_ml_kmeans_partial_fit(keep, &p, 1, NULL, NULL);
    }
    double d_fade, d_keep;
    shop_ml_kmeans_nearest(fade, &p, &d_fade);
    shop_ml_kmeans_nearest(keep, &p, &d_keep);
    cr_assert(lt(dbl, d_fade, 1e-6));
    cr_assert(gt(dbl, d_keep, 1e-3));   /* 1/n rate: still 2/202 of the old centre left */
    shop_ml_kmeans_free(fade);
    shop_ml_kmeans_free(keep);
}

Test(kmeans, starved_centre_is_reseeded_with_a_fresh_id)
{
    struct shop_ml_kmeans *km = two_centres();
    km->starve_frac = 0.1;
    const double zero = 0;
    size_t lo = shop_ml_kmeans_nearest(km, &zero, NULL);
    km->weight[lo] = 0.001;   /* the centre at 0 has (almost) nothing left */
    uint32_t old_id = km->id[lo], next = km->next_id;
    const double far[] = {11, 500};   /* both go to the centre at 10 */
    shop_ml_kmeans_partial_fit(km, far, 2, NULL, NULL);
    cr_assert(epsilon_eq(dbl, km->centre[lo], 500.0, 1e-12));
    cr_assert(ne(u32, km->id[lo], old_id));
    cr_assert(eq(u32, km->id[lo], next));
    cr_assert(eq(u32, km->next_id, next + 1));
    shop_ml_kmeans_free(km);
}

Test(kmeans, refit_keeps_segment_ids)
{
    double *x = blobs(4, 50, 5);
    struct shop_ml_rand r;
    shop_ml_rand_init(&r, 6);
    struct shop_ml_kmeans *km = shop_ml_kmeans_new(4, 2);
    shop_ml_kmeans_fit(km, x, 200, NULL, &r, NULL, NULL);
    uint32_t before[4];
    for (int b = 0; b < 4; b++)
        before[b] = shop_ml_kmeans_segment(km, blob_mean[b]);
    for (uint64_t seed = 10; seed < 20; seed++) {   /* other seeds permute the slots */
        shop_ml_rand_init(&r, seed);
        shop_ml_kmeans_fit(km, x, 200, NULL, &r, NULL, NULL);
        for (int b = 0; b < 4; b++)
            cr_assert(eq(u32, shop_ml_kmeans_segment(km, blob_mean[b]), before[b]));
    }
    cr_assert(eq(u32, km->next_id, 4));
    shop_ml_kmeans_free(km);
    free(x);
}

Test(kmeans, match_ids_follows_permuted_centres_and_names_new_ones)
{
    struct shop_ml_kmeans *old = shop_ml_kmeans_new(3, 1), *cur = shop_ml_kmeans_new(4, 1);
    const double oc[] = {0, 10, 20}, cc[] = {19, 45, 1, 11};
    memcpy(old->centre, oc, sizeof(oc));
    old->id[0] = 7, old->id[1] = 3, old->id[2] = 9;
    old->next_id = 12;
    memcpy(cur->centre, cc, sizeof(cc));
    shop_ml_kmeans_match_ids(cur, old);
    cr_assert(eq(u32, cur->id[0], 9));
    cr_assert(eq(u32, cur->id[2], 7));
    cr_assert(eq(u32, cur->id[3], 3));
    cr_assert(eq(u32, cur->id[1], 12));   /* no partner: a fresh id */
    cr_assert(eq(u32, cur->next_id, 13));
    shop_ml_kmeans_free(old);
    shop_ml_kmeans_free(cur);
}

Test(kmeans, match_ids_minimises_total_not_greedy_distance)
{
    /* Greedy would give new 0 (at 5) to old 0 (at 4) and leave new 1 (at 0) with old 1 (at
     * 10): cost 1 + 100. The optimum crosses them: 1 + 16... old0→new1 (16), old1→new0 (25). */
    struct shop_ml_kmeans *old = shop_ml_kmeans_new(2, 1), *cur = shop_ml_kmeans_new(2, 1);
    old->centre[0] = 4, old->centre[1] = 10;
    cur->centre[0] = 5, cur->centre[1] = 0;
    old->id[0] = 100, old->id[1] = 200;
    shop_ml_kmeans_match_ids(cur, old);
    cr_assert(eq(u32, cur->id[0], 200));
    cr_assert(eq(u32, cur->id[1], 100));
    shop_ml_kmeans_free(old);
    shop_ml_kmeans_free(cur);
}

Test(kmeans, silhouette_matches_hand_computation)
{
    const double x[] = {0, 1, 5, 6};
    const uint32_t labels[] = {0, 0, 1, 1};
    /* Point 0: a = 1, b = 5.5; point 1: a = 1, b = 4.5; symmetric for 2 and 3. */
    double want = ((4.5 / 5.5) + (3.5 / 4.5)) / 2;
    cr_assert(epsilon_eq(dbl, shop_ml_silhouette(x, 4, 1, labels, 2, 0, NULL), want, 1e-12));
}

Test(kmeans, choose_k_finds_the_number_of_blobs)
{
    double *x = blobs(4, 60, 8);
    struct shop_ml_rand r;
    shop_ml_rand_init(&r, 9);
    double inertia[7], sil[7];
    size_t best = 0;
    cr_assert(zero(shop_ml_kmeans_choose_k(x, 240, 2, 2, 8, 0, NULL, &r, inertia, sil, &best,
                                           NULL)));
    cr_assert(eq(sz, best, 4));
    for (int i = 1; i < 7; i++)
        cr_assert(le(dbl, inertia[i], inertia[i - 1] + 1e-9));
    cr_assert(gt(dbl, sil[2], 0.7));
    cr_assert(eq(int, shop_ml_kmeans_choose_k(x, 240, 2, 1, 8, 0, NULL, &r, inertia, sil, &best,
                                              NULL), SHOP_EINVAL));
    free(x);
}

Test(kmeans, round_trip_is_byte_identical_and_resumes_identically)
{
    double *x = blobs(3, 20, 11);
    struct shop_ml_rand r;
    shop_ml_rand_init(&r, 12);
    struct shop_ml_kmeans *km = shop_ml_kmeans_new(3, 2), *back;
    shop_ml_kmeans_fit(km, x, 60, NULL, &r, NULL, NULL);
    shop_ml_kmeans_set_half_life(km, 100);
    shop_ml_kmeans_partial_fit(km, x, 10, &r, NULL);
    struct shop_ml_writer w1 = {0}, w2 = {0};
    shop_ml_kmeans_encode(km, &w1);
    cr_assert(zero(shop_ml_kmeans_decode(&back, w1.buf, w1.len, NULL, NULL)));
    shop_ml_kmeans_encode(back, &w2);
    cr_assert(eq(sz, w1.len, w2.len));
    cr_assert(zero(memcmp(w1.buf, w2.buf, w1.len)));
    shop_ml_kmeans_partial_fit(km, x + 20, 5, &r, NULL);
    shop_ml_kmeans_partial_fit(back, x + 20, 5, &r, NULL);
    cr_assert(zero(memcmp(km->centre, back->centre, 6 * sizeof(double))));
    shop_ml_kmeans_free(back);
    for (size_t n = 0; n < w1.len; n++) {
        cr_assert(eq(int, shop_ml_kmeans_decode(&back, w1.buf, n, NULL, NULL), SHOP_EBADMSG));
        cr_assert(zero(ptr, back));
    }
    w1.buf[w1.len / 2] ^= 0x10;
    cr_assert(eq(int, shop_ml_kmeans_decode(&back, w1.buf, w1.len, NULL, NULL), SHOP_EBADMSG));
    shop_ml_writer_fini(&w1);
    shop_ml_writer_fini(&w2);
    shop_ml_kmeans_free(km);
    free(x);
}

Test(kmeans, oversized_k_in_a_record_is_rejected)
{
    struct shop_ml_writer w = {0};
    shop_ml_writer_begin(&w, "KMNS");
    shop_ml_put_u64(&w, SHOP_ML_KMEANS_K_MAX + 1);
    shop_ml_put_u64(&w, 2);
    shop_ml_writer_end(&w);
    struct shop_ml_kmeans *km;
    cr_assert(eq(int, shop_ml_kmeans_decode(&km, w.buf, w.len, NULL, NULL), SHOP_EBADMSG));
    shop_ml_writer_fini(&w);
}
