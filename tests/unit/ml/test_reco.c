/* SPDX-License-Identifier: MIT
 * Tests of ml/ml_reco: the bounded heap, deterministic tie-breaking, exclusion of bought
 * items, popularity fallback and the "POPM" record. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_als.h"
#include "ml/ml_codec.h"
#include "ml/ml_cooc.h"
#include "ml/ml_rand.h"
#include "ml/ml_reco.h"

static int cmp_rank(const void *a, const void *b)
{
    const struct shop_ml_scored *x = a, *y = b;
    return shop_ml_scored_before(x, y) ? -1 : shop_ml_scored_before(y, x) ? 1 : 0;
}

Test(reco, heap_keeps_the_n_best_of_a_stream_in_rank_order)
{
    enum { N = 2000, CAP = 10 };
    struct shop_ml_scored all[N], buf[CAP];
    struct shop_ml_rand rng;
    struct shop_ml_topn h;
    shop_ml_rand_init(&rng, 99);
    shop_ml_topn_init(&h, buf, CAP);
    for (uint32_t i = 0; i < N; i++) {
        /* Coarse scores make many ties, which must break by item id. */
        all[i] = (struct shop_ml_scored){i, (double)shop_ml_rand_below(&rng, 50)};
        shop_ml_topn_push(&h, all[i].item, all[i].score);
    }
    qsort(all, N, sizeof(all[0]), cmp_rank);
    cr_assert(eq(u32, shop_ml_topn_finish(&h), CAP));
    for (int k = 0; k < CAP; k++) {
        cr_assert(eq(u32, buf[k].item, all[k].item));
        cr_assert(epsilon_eq(dbl, buf[k].score, all[k].score, 0.0));
    }
}

Test(reco, equal_scores_rank_by_item_id_and_exclusions_apply)
{
    double scores[8] = {1, 3, 3, 0, 3, 3, 2, 3};
    const uint32_t bought[] = {2, 5};
    struct shop_ml_scored out[4];
    uint32_t n;
    shop_ml_reco_top(scores, 8, bought, 2, 4, out, &n);
    cr_assert(eq(u32, n, 4));
    cr_assert(eq(u32, out[0].item, 1));
    cr_assert(eq(u32, out[1].item, 4));
    cr_assert(eq(u32, out[2].item, 7));
    cr_assert(eq(u32, out[3].item, 6));
}

Test(reco, popularity_serves_cold_users_and_cold_items)
{
    struct shop_ml_pop pop;
    shop_ml_pop_init(&pop, 0);
    shop_ml_pop_add(&pop, 4, 5.0);
    shop_ml_pop_add(&pop, 1, 2.0);
    shop_ml_pop_add(&pop, 2, 5.0);
    shop_ml_pop_add(&pop, 1, 1.0);
    cr_assert(eq(u32, pop.n_items, 5));
    struct shop_ml_als_cfg cfg;
    struct shop_ml_als als;
    shop_ml_als_cfg_default(&cfg);
    cfg.factors = 4;
    shop_ml_als_init(&als, &cfg, 1, 5, NULL);
    double zero_x[4] = {0};
    struct shop_ml_scored out[3];
    uint32_t n;
    const uint32_t bought[] = {2};
    shop_ml_reco_user(&als, zero_x, &pop, bought, 1, 3, out, &n);
    cr_assert(eq(u32, n, 3));
    cr_assert(eq(u32, out[0].item, 4));
    cr_assert(eq(u32, out[1].item, 1));
    cr_assert(eq(u32, out[2].item, 0));
    /* An unknown item has no neighbours: popularity, never the item itself. */
    struct shop_ml_cooc c;
    struct shop_ml_similar sim;
    shop_ml_cooc_init(&c, 4, NULL);
    shop_ml_cooc_add(&c, 0, 0, NULL);
    shop_ml_cooc_similar(&c, 5, &sim);
    shop_ml_reco_similar(&sim, &pop, 4, 2, out, &n);
    cr_assert(eq(u32, n, 2));
    cr_assert(eq(u32, out[0].item, 2));
    cr_assert(eq(u32, out[1].item, 1));
    shop_ml_similar_fini(&sim);
    shop_ml_cooc_fini(&c);
    shop_ml_als_fini(&als);
    shop_ml_pop_fini(&pop);
}

Test(reco, user_top_n_follows_factor_scores)
{
    struct shop_ml_als_cfg cfg;
    struct shop_ml_als als;
    struct shop_ml_pop pop;
    shop_ml_als_cfg_default(&cfg);
    cfg.factors = 2;
    shop_ml_als_init(&als, &cfg, 1, 4, NULL);
    const double y[] = {1, 0, 0, 1, 1, 1, 0.5, 0.5};
    memcpy(als.y, y, sizeof(y));
    shop_ml_pop_init(&pop, 4);
    double x[2] = {1.0, 2.0};
    struct shop_ml_scored out[4];
    uint32_t n;
    shop_ml_reco_user(&als, x, &pop, NULL, 0, 4, out, &n);
    cr_assert(eq(u32, n, 4));
    cr_assert(eq(u32, out[0].item, 2));
    cr_assert(epsilon_eq(dbl, out[0].score, 3.0, 1e-12));
    cr_assert(eq(u32, out[1].item, 1));
    cr_assert(eq(u32, out[2].item, 3));
    cr_assert(eq(u32, out[3].item, 0));
    const uint32_t bought[] = {1, 2};
    shop_ml_reco_user(&als, x, &pop, bought, 2, 4, out, &n);
    cr_assert(eq(u32, n, 2));
    cr_assert(eq(u32, out[0].item, 3));
    shop_ml_pop_fini(&pop);
    shop_ml_als_fini(&als);
}

Test(reco, item_scores_sum_weighted_neighbour_similarities)
{
    struct shop_ml_cooc c;
    struct shop_ml_similar sim;
    shop_ml_cooc_init(&c, 8, NULL);
    const uint32_t basket[][3] = {{0, 1, 2}, {0, 1, 3}, {1, 2, 3}};
    for (uint32_t u = 0; u < 3; u++)
        for (int t = 0; t < 3; t++)
            shop_ml_cooc_add(&c, u, basket[u][t], NULL);
    shop_ml_cooc_similar(&c, 3, &sim);
    const uint32_t hist[] = {0, 2};
    const double w[] = {1.0, 2.0};
    double scores[4];
    shop_ml_reco_item_scores(&sim, hist, w, 2, scores);
    cr_assert(epsilon_eq(dbl, scores[3], shop_ml_cooc_cosine(&c, 0, 3) + 2.0 * shop_ml_cooc_cosine(&c, 2, 3), 1e-12));
    cr_assert(epsilon_eq(dbl, scores[1], shop_ml_cooc_cosine(&c, 0, 1) + 2.0 * shop_ml_cooc_cosine(&c, 2, 1), 1e-12));
    shop_ml_similar_fini(&sim);
    shop_ml_cooc_fini(&c);
}

Test(reco, popularity_round_trip_and_rejection)
{
    struct shop_ml_pop pop, back;
    shop_ml_pop_init(&pop, 3);
    shop_ml_pop_add(&pop, 0, 1.5);
    shop_ml_pop_add(&pop, 2, 7.25);
    struct shop_ml_writer w;
    shop_ml_writer_init(&w);
    shop_ml_pop_encode(&pop, &w);
    size_t len, len2;
    uint8_t *bytes = shop_ml_writer_take(&w, &len);
    shop_ml_pop_init(&back, 0);
    cr_assert(eq(int, shop_ml_pop_decode(&back, bytes, len, NULL, NULL), 0));
    shop_ml_pop_encode(&back, &w);
    uint8_t *again = shop_ml_writer_take(&w, &len2);
    cr_assert(eq(sz, len, len2));
    cr_assert(zero(memcmp(bytes, again, len)));
    cr_assert(eq(int, shop_ml_pop_decode(&back, bytes, len - 1, NULL, NULL), SHOP_EBADMSG));
    bytes[20] ^= 0x10;
    cr_assert(eq(int, shop_ml_pop_decode(&back, bytes, len, NULL, NULL), SHOP_EBADMSG));
    memcpy(bytes, "ALSM", 4);
    cr_assert(eq(int, shop_ml_pop_decode(&back, bytes, len, NULL, NULL), SHOP_EBADMSG));
    free(again);
    free(bytes);
    shop_ml_writer_fini(&w);
    shop_ml_pop_fini(&back);
    shop_ml_pop_fini(&pop);
}
