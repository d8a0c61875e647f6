/* SPDX-License-Identifier: MIT
 * Tests of ml/ml_cooc: exact incremental counts, batch recount equality, cosine,
 * neighbour tables and the "COOC" record. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_codec.h"
#include "ml/ml_cooc.h"
#include "ml/ml_rand.h"

static void add_all(struct shop_ml_cooc *c, const struct shop_ml_touch *ev, size_t n)
{
    for (size_t k = 0; k < n; k++)
        cr_assert(ge(int, shop_ml_cooc_add(c, ev[k].user, ev[k].item, NULL), 0));
}

/* Skewed synthetic stream: popular items recur, users revisit items. */
static struct shop_ml_touch *synthetic(size_t n, uint32_t n_users, uint32_t n_items, uint64_t seed)
{
    struct shop_ml_touch *ev = malloc(n * sizeof(*ev));
    struct shop_ml_rand rng;
    shop_ml_rand_init(&rng, seed);
    for (size_t k = 0; k < n; k++) {
        double u = shop_ml_rand_unit(&rng);
        ev[k].user = (uint32_t)shop_ml_rand_below(&rng, n_users);
        ev[k].item = (uint32_t)(u * u * n_items);
    }
    return ev;
}

Test(cooc, first_touch_pairs_with_bounded_history)
{
    struct shop_ml_cooc c;
    cr_assert(eq(int, shop_ml_cooc_init(&c, 2, NULL), 0));
    cr_assert(eq(int, shop_ml_cooc_add(&c, 0, 10, NULL), 1));
    cr_assert(eq(int, shop_ml_cooc_add(&c, 0, 11, NULL), 1));
    cr_assert(eq(int, shop_ml_cooc_add(&c, 0, 12, NULL), 1));
    cr_assert(eq(int, shop_ml_cooc_add(&c, 0, 13, NULL), 1));   /* history {11, 12} */
    cr_assert(eq(int, shop_ml_cooc_add(&c, 0, 11, NULL), 0));   /* repeat: no change */
    cr_assert(eq(u32, shop_ml_cooc_pair(&c, 10, 11), 1));
    cr_assert(eq(u32, shop_ml_cooc_pair(&c, 12, 10), 1));
    cr_assert(eq(u32, shop_ml_cooc_pair(&c, 10, 13), 0));        /* 10 fell out of the history */
    cr_assert(eq(u32, shop_ml_cooc_pair(&c, 11, 13), 1));
    cr_assert(eq(u32, shop_ml_cooc_pair(&c, 12, 13), 1));
    cr_assert(eq(u32, shop_ml_cooc_item(&c, 11), 1));
    cr_assert(eq(int, shop_ml_cooc_add(&c, 1, 11, NULL), 1));
    cr_assert(eq(int, shop_ml_cooc_add(&c, 1, 13, NULL), 1));
    cr_assert(eq(u32, shop_ml_cooc_item(&c, 11), 2));
    cr_assert(eq(u32, shop_ml_cooc_pair(&c, 11, 13), 2));
    cr_assert(epsilon_eq(dbl, shop_ml_cooc_cosine(&c, 11, 13), 2.0 / sqrt(2.0 * 2.0), 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_cooc_cosine(&c, 10, 11), 1.0 / sqrt(1.0 * 2.0), 1e-12));
    cr_assert(epsilon_eq(dbl, shop_ml_cooc_cosine(&c, 11, 11), 0.0, 1e-15));
    cr_assert(eq(int, shop_ml_cooc_add(&c, UINT32_MAX, 1, NULL), SHOP_EINVAL));
    shop_ml_cooc_fini(&c);
}

Test(cooc, streamed_counts_equal_batch_recount)
{
    const size_t n = 20000;
    struct shop_ml_touch *ev = synthetic(n, 300, 400, 7);
    struct shop_ml_cooc stream, batch, short_batch;
    shop_ml_cooc_init(&stream, 8, NULL);
    shop_ml_cooc_init(&batch, 8, NULL);
    shop_ml_cooc_init(&short_batch, 8, NULL);
    add_all(&stream, ev, n);
    cr_assert(eq(int, shop_ml_cooc_recount(&batch, ev, n, NULL), 0));
    cr_assert(shop_ml_cooc_counts_equal(&stream, &batch));
    cr_assert(shop_ml_cooc_counts_equal(&batch, &stream));
    cr_assert(gt(sz, stream.pairs.len, 1000));
    /* The check can fail: dropping one first touch changes the counts. */
    size_t k = 0;
    while (ev[k].user != 0)
        k++;
    memmove(ev + k, ev + k + 1, (n - k - 1) * sizeof(*ev));
    shop_ml_cooc_recount(&short_batch, ev, n - 1, NULL);
    cr_assert(not(shop_ml_cooc_counts_equal(&stream, &short_batch)));
    shop_ml_cooc_fini(&short_batch);
    shop_ml_cooc_fini(&batch);
    shop_ml_cooc_fini(&stream);
    free(ev);
}

Test(cooc, similar_table_is_sorted_with_id_tie_break)
{
    struct shop_ml_cooc c;
    shop_ml_cooc_init(&c, 16, NULL);
    /* Items 1..4 each co-occur once with item 0 and have equal counts: a four-way tie. */
    for (uint32_t u = 0; u < 4; u++) {
        shop_ml_cooc_add(&c, u, 0, NULL);
        shop_ml_cooc_add(&c, u, 4 - u, NULL);
    }
    shop_ml_cooc_add(&c, 9, 0, NULL);
    shop_ml_cooc_add(&c, 9, 5, NULL);
    shop_ml_cooc_add(&c, 10, 5, NULL);   /* item 5 is less similar: count 2 */
    struct shop_ml_similar sim;
    shop_ml_cooc_similar(&c, 3, &sim);
    cr_assert(eq(u32, sim.len[0], 3));
    cr_assert(eq(u32, sim.nb[0].item, 1));
    cr_assert(eq(u32, sim.nb[1].item, 2));
    cr_assert(eq(u32, sim.nb[2].item, 3));
    cr_assert(epsilon_eq(dbl, sim.nb[0].score, 1.0 / sqrt(5.0), 1e-12));
    cr_assert(eq(u32, sim.len[5], 1));
    cr_assert(epsilon_eq(dbl, sim.nb[5 * 3].score, 1.0 / sqrt(10.0), 1e-12));
    shop_ml_similar_fini(&sim);
    shop_ml_cooc_fini(&c);
}

static uint8_t *encode(const struct shop_ml_cooc *c, size_t *len)
{
    struct shop_ml_writer w;
    shop_ml_writer_init(&w);
    shop_ml_cooc_encode(c, &w);
    return shop_ml_writer_take(&w, len);
}

Test(cooc, round_trip_is_byte_identical_and_resumes_exactly)
{
    const size_t n = 3000;
    struct shop_ml_touch *ev = synthetic(n, 50, 80, 11);
    struct shop_ml_cooc a, b, all;
    shop_ml_cooc_init(&a, 5, NULL);
    shop_ml_cooc_init(&all, 5, NULL);
    memset(&b, 0, sizeof(b));
    add_all(&a, ev, n / 2);
    size_t len, len2, used;
    uint8_t *bytes = encode(&a, &len);
    cr_assert(eq(int, shop_ml_cooc_decode(&b, bytes, len, &used, NULL), 0));
    cr_assert(eq(sz, used, len));
    uint8_t *again = encode(&b, &len2);
    cr_assert(eq(sz, len2, len));
    cr_assert(zero(memcmp(bytes, again, len)));
    /* The loaded instance continues the stream exactly. */
    add_all(&b, ev + n / 2, n - n / 2);
    add_all(&all, ev, n);
    cr_assert(shop_ml_cooc_counts_equal(&b, &all));
    free(again);
    free(bytes);
    shop_ml_cooc_fini(&all);
    shop_ml_cooc_fini(&b);
    shop_ml_cooc_fini(&a);
    free(ev);
}

Test(cooc, corrupted_or_truncated_record_is_rejected)
{
    struct shop_ml_touch *ev = synthetic(500, 20, 30, 3);
    struct shop_ml_cooc a, b;
    shop_ml_cooc_init(&a, 4, NULL);
    memset(&b, 0, sizeof(b));
    add_all(&a, ev, 500);
    size_t len;
    uint8_t *bytes = encode(&a, &len);
    struct shop_err err = {0};
    cr_assert(eq(int, shop_ml_cooc_decode(&b, bytes, len - 1, NULL, &err), SHOP_EBADMSG));
    cr_assert(eq(int, shop_ml_cooc_decode(&b, bytes, 20, NULL, NULL), SHOP_EBADMSG));
    bytes[len / 2] ^= 0x40;
    cr_assert(eq(int, shop_ml_cooc_decode(&b, bytes, len, NULL, &err), SHOP_EBADMSG));
    cr_assert(not(zero(str, err.msg)));
    bytes[len / 2] ^= 0x40;
    cr_assert(eq(int, shop_ml_cooc_decode(&b, bytes, len, NULL, NULL), 0));
    cr_assert(shop_ml_cooc_counts_equal(&a, &b));
    free(bytes);
    shop_ml_cooc_fini(&b);
    shop_ml_cooc_fini(&a);
    free(ev);
}
