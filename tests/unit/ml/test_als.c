/* SPDX-License-Identifier: MIT
 * Tests of ml/ml_als: loss, training, planted structure, fold-in, the "ALSM" record. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_als.h"
#include "ml/ml_codec.h"

#define N_USERS 40
#define N_ITEMS 30
#define HALF_ITEMS 15

/* Two blocks: users < 20 like items < 15, the others items >= 15. Each user misses one
 * item of its block, which a model of rank >= 2 should still rank above the other block. */
static uint32_t held_out(uint32_t u)
{
    return (u < N_USERS / 2 ? 0 : HALF_ITEMS) + u % HALF_ITEMS;
}

static void planted(struct shop_ml_csr *r_ui, struct shop_ml_csr *r_iu)
{
    struct shop_ml_triplet t[N_USERS * HALF_ITEMS];
    size_t n = 0;
    for (uint32_t u = 0; u < N_USERS; u++) {
        uint32_t base = u < N_USERS / 2 ? 0 : HALF_ITEMS;
        for (uint32_t i = base; i < base + HALF_ITEMS; i++)
            if (i != held_out(u))
                t[n++] = (struct shop_ml_triplet){u, i, 1.0 + (u + i) % 3};
    }
    cr_assert(eq(int, shop_ml_csr_build(r_ui, N_USERS, N_ITEMS, t, n, NULL), 0));
    shop_ml_csr_transpose(r_ui, r_iu);
}

static void cfg_small(struct shop_ml_als_cfg *cfg, uint32_t cg_steps)
{
    shop_ml_als_cfg_default(cfg);
    cfg->factors = 6;
    cfg->cg_steps = cg_steps;
    cfg->reg = 0.1;
    cfg->alpha = 5.0;
    cfg->init_scale = 0.1;
    cfg->seed = 5;
}

/* reg (1 + n)^reg_exp for a row with n interactions (weighted lambda). */
static double row_reg(const struct shop_ml_als_cfg *cfg, size_t n)
{
    return cfg->reg * pow(1.0 + (double)n, cfg->reg_exp);
}

static double brute_loss(const struct shop_ml_als *als, const struct shop_ml_csr *r_ui)
{
    double loss = 0.0;
    size_t n_item[N_ITEMS] = {0};
    for (uint32_t u = 0; u < als->n_users; u++)
        for (uint32_t i = 0; i < als->n_items; i++) {
            double r = 0.0, s = 0.0;
            for (size_t t = r_ui->row_ptr[u]; t < r_ui->row_ptr[u + 1]; t++)
                if (r_ui->col[t] == i)
                    r = r_ui->val[t];
            for (uint32_t f = 0; f < als->k; f++)
                s += als->x[u * als->k + f] * als->y[i * als->k + f];
            double p = r > 0.0 ? 1.0 : 0.0;
            loss += (1.0 + als->cfg.alpha * r) * (p - s) * (p - s);
            n_item[i] += r > 0.0;
        }
    for (uint32_t u = 0; u < als->n_users; u++)
        for (uint32_t f = 0; f < als->k; f++)
            loss += row_reg(&als->cfg, r_ui->row_ptr[u + 1] - r_ui->row_ptr[u]) *
                    als->x[u * als->k + f] * als->x[u * als->k + f];
    for (uint32_t i = 0; i < als->n_items; i++)
        for (uint32_t f = 0; f < als->k; f++)
            loss += row_reg(&als->cfg, n_item[i]) * als->y[i * als->k + f] * als->y[i * als->k + f];
    return loss;
}

static void assert_loss_decreases(double reg, double reg_exp)
{
    struct shop_ml_csr r_ui, r_iu;
    struct shop_ml_als als;
    struct shop_ml_als_cfg cfg;
    planted(&r_ui, &r_iu);
    cfg_small(&cfg, 0);
    cfg.reg = reg;
    cfg.reg_exp = reg_exp;
    cr_assert(eq(int, shop_ml_als_init(&als, &cfg, N_USERS, N_ITEMS, NULL), 0));
    double prev = shop_ml_als_loss(&als, &r_ui), first = prev;
    cr_assert(epsilon_eq(dbl, prev, brute_loss(&als, &r_ui), 1e-9 * prev));
    for (int it = 0; it < 8; it++) {
        cr_assert(eq(int, shop_ml_als_train(&als, &r_ui, &r_iu, 1, NULL), 0));
        double loss = shop_ml_als_loss(&als, &r_ui);
        cr_assert(epsilon_eq(dbl, loss, brute_loss(&als, &r_ui), 1e-9 * loss));
        cr_assert(le(dbl, loss, prev * (1.0 + 1e-12)));
        prev = loss;
    }
    cr_assert(lt(dbl, prev, 0.25 * first));
    shop_ml_als_fini(&als);
    shop_ml_csr_fini(&r_iu);
    shop_ml_csr_fini(&r_ui);
}

Test(als, loss_matches_brute_force_and_decreases_every_sweep)
{
    assert_loss_decreases(0.1, 0.0);
}

/* Weighted lambda: each exact row solve still minimises the loss with its own reg. */
Test(als, weighted_lambda_loss_matches_brute_force_and_decreases_every_sweep)
{
    assert_loss_decreases(0.02, 1.0);
}

static void assert_recovers_blocks(uint32_t cg_steps, uint32_t iters)
{
    struct shop_ml_csr r_ui, r_iu;
    struct shop_ml_als als;
    struct shop_ml_als_cfg cfg;
    planted(&r_ui, &r_iu);
    cfg_small(&cfg, cg_steps);
    cfg.factors = 2;   /* the planted rank: no spare capacity to memorise the held-out zeros */
    shop_ml_als_init(&als, &cfg, N_USERS, N_ITEMS, NULL);
    cr_assert(eq(int, shop_ml_als_train(&als, &r_ui, &r_iu, iters, NULL), 0));
    double scores[N_ITEMS];
    for (uint32_t u = 0; u < N_USERS; u++) {
        shop_ml_als_scores(&als, als.x + u * als.k, scores);
        uint32_t other = u < N_USERS / 2 ? HALF_ITEMS : 0;
        for (uint32_t i = other; i < other + HALF_ITEMS; i++)
            cr_assert(gt(dbl, scores[held_out(u)], scores[i] + 0.5), "user %u item %u", u, i);
    }
    shop_ml_als_fini(&als);
    shop_ml_csr_fini(&r_iu);
    shop_ml_csr_fini(&r_ui);
}

Test(als, recovers_planted_blocks_exact_solves)
{
    assert_recovers_blocks(0, 10);
}

Test(als, recovers_planted_blocks_conjugate_gradient)
{
    assert_recovers_blocks(3, 15);
}

/* Gaussian elimination with partial pivoting on an n x (n+1) augmented matrix. */
static void gauss_solve(double *m, uint32_t n, double *x)
{
    for (uint32_t c = 0; c < n; c++) {
        uint32_t piv = c;
        for (uint32_t r = c + 1; r < n; r++)
            if (fabs(m[r * (n + 1) + c]) > fabs(m[piv * (n + 1) + c]))
                piv = r;
        for (uint32_t j = 0; j <= n; j++) {
            double t = m[c * (n + 1) + j];
            m[c * (n + 1) + j] = m[piv * (n + 1) + j];
            m[piv * (n + 1) + j] = t;
        }
        for (uint32_t r = 0; r < n; r++) {
            if (r == c)
                continue;
            double f = m[r * (n + 1) + c] / m[c * (n + 1) + c];
            for (uint32_t j = c; j <= n; j++)
                m[r * (n + 1) + j] -= f * m[c * (n + 1) + j];
        }
    }
    for (uint32_t r = 0; r < n; r++)
        x[r] = m[r * (n + 1) + n] / m[r * (n + 1) + r];
}

static void assert_fold_in_exact(double reg_exp)
{
    struct shop_ml_csr r_ui, r_iu;
    struct shop_ml_als als;
    struct shop_ml_als_cfg cfg;
    planted(&r_ui, &r_iu);
    cfg_small(&cfg, 3);
    cfg.reg_exp = reg_exp;
    shop_ml_als_init(&als, &cfg, N_USERS, N_ITEMS, NULL);
    shop_ml_als_train(&als, &r_ui, &r_iu, 5, NULL);
    uint32_t k = als.k, u = 23;
    size_t at = r_ui.row_ptr[u], n = r_ui.row_ptr[u + 1] - at;
    /* Reference: (Y'Y + reg_u I + sum (c-1) y y') x = sum c y, built from scratch. */
    double m[6 * 7] = {0}, want[6], got[6];
    for (uint32_t i = 0; i < N_ITEMS; i++) {
        double r = 0.0;
        for (size_t t = at; t < at + n; t++)
            if (r_ui.col[t] == i)
                r = r_ui.val[t];
        double c = 1.0 + cfg.alpha * r;
        const double *y = als.y + i * k;
        for (uint32_t f = 0; f < k; f++) {
            for (uint32_t g = 0; g < k; g++)
                m[f * (k + 1) + g] += c * y[f] * y[g];
            m[f * (k + 1) + k] += r > 0.0 ? c * y[f] : 0.0;
        }
    }
    for (uint32_t f = 0; f < k; f++)
        m[f * (k + 1) + f] += row_reg(&cfg, n);
    gauss_solve(m, k, want);
    double *work = malloc(shop_ml_als_work_len(k) * sizeof(*work));
    cr_assert(eq(int, shop_ml_als_fold_in(&als, r_ui.col + at, r_ui.val + at, n, got, work, NULL), 0));
    for (uint32_t f = 0; f < k; f++)
        cr_assert(epsilon_eq(dbl, got[f], want[f], 1e-9), "factor %u: %g vs %g", f, got[f], want[f]);
    uint32_t bad = N_ITEMS;
    double one = 1.0;
    cr_assert(eq(int, shop_ml_als_fold_in(&als, &bad, &one, 1, got, work, NULL), SHOP_EINVAL));
    free(work);
    shop_ml_als_fini(&als);
    shop_ml_csr_fini(&r_iu);
    shop_ml_csr_fini(&r_ui);
}

Test(als, fold_in_equals_the_exact_row_solve_with_items_fixed)
{
    assert_fold_in_exact(0.0);
}

Test(als, weighted_lambda_fold_in_uses_the_users_own_reg)
{
    assert_fold_in_exact(0.5);
}

Test(als, gram_cache_tracks_item_factors_and_resize_is_seeded)
{
    struct shop_ml_csr r_ui, r_iu;
    struct shop_ml_als als, big;
    struct shop_ml_als_cfg cfg;
    planted(&r_ui, &r_iu);
    cfg_small(&cfg, 3);
    shop_ml_als_init(&als, &cfg, N_USERS, N_ITEMS, NULL);
    shop_ml_als_train(&als, &r_ui, &r_iu, 3, NULL);
    for (uint32_t f = 0; f < als.k; f++)
        for (uint32_t g = 0; g < als.k; g++) {
            double s = 0.0;
            for (uint32_t i = 0; i < N_ITEMS; i++)
                s += als.y[i * als.k + f] * als.y[i * als.k + g];
            cr_assert(epsilon_eq(dbl, als.yty[f * als.k + g], s, 1e-10));
        }
    shop_ml_als_resize(&als, N_USERS + 2, N_ITEMS + 1);
    shop_ml_als_init(&big, &cfg, N_USERS + 2, N_ITEMS + 1, NULL);
    cr_assert(zero(memcmp(als.x + N_USERS * als.k, big.x + N_USERS * als.k,
                          2 * als.k * sizeof(double))));
    cr_assert(zero(memcmp(als.y + N_ITEMS * als.k, big.y + N_ITEMS * als.k, als.k * sizeof(double))));
    struct shop_ml_csr small_ui = r_ui;
    cr_assert(eq(int, shop_ml_als_train(&als, &small_ui, &r_iu, 1, NULL), SHOP_EINVAL));
    shop_ml_als_fini(&big);
    shop_ml_als_fini(&als);
    shop_ml_csr_fini(&r_iu);
    shop_ml_csr_fini(&r_ui);
}

Test(als, round_trip_is_byte_identical_and_bad_records_are_rejected)
{
    struct shop_ml_csr r_ui, r_iu;
    struct shop_ml_als als, back;
    struct shop_ml_als_cfg cfg;
    planted(&r_ui, &r_iu);
    cfg_small(&cfg, 3);
    cfg.reg_exp = 0.25;
    shop_ml_als_init(&als, &cfg, N_USERS, N_ITEMS, NULL);
    shop_ml_als_train(&als, &r_ui, &r_iu, 2, NULL);
    struct shop_ml_writer w;
    shop_ml_writer_init(&w);
    shop_ml_als_encode(&als, &w);
    size_t len, len2;
    uint8_t *bytes = shop_ml_writer_take(&w, &len);
    memset(&back, 0, sizeof(back));
    cr_assert(eq(int, shop_ml_als_decode(&back, bytes, len, NULL, NULL), 0));
    cr_assert(zero(memcmp(back.yty, als.yty, als.k * als.k * sizeof(double))));
    cr_assert(eq(dbl, back.cfg.reg_exp, 0.25));
    shop_ml_als_encode(&back, &w);
    uint8_t *again = shop_ml_writer_take(&w, &len2);
    cr_assert(eq(sz, len2, len));
    cr_assert(zero(memcmp(bytes, again, len)));
    cr_assert(eq(int, shop_ml_als_decode(&back, bytes, len - 4, NULL, NULL), SHOP_EBADMSG));
    bytes[40] ^= 1;
    cr_assert(eq(int, shop_ml_als_decode(&back, bytes, len, NULL, NULL), SHOP_EBADMSG));
    cr_assert(eq(u32, back.n_users, N_USERS));   /* a failed load leaves the model as it was */
    free(again);
    free(bytes);
    shop_ml_writer_fini(&w);
    shop_ml_als_fini(&back);
    shop_ml_als_fini(&als);
    shop_ml_csr_fini(&r_iu);
    shop_ml_csr_fini(&r_ui);
}

/* A format-version-1 record: the current one without the weighted-lambda exponent (8 bytes
 * after alpha, at payload offset 24), version 1, length and CRC patched. */
static uint8_t *as_version_1(const uint8_t *b, size_t len, size_t *len1)
{
    size_t at = SHOP_ML_HEADER_SIZE + 24;
    uint8_t *v1 = malloc(len);
    memcpy(v1, b, at);
    memcpy(v1 + at, b + at + 8, len - at - 8);
    *len1 = len - 8;
    v1[4] = 1;
    uint64_t payload = *len1 - SHOP_ML_HEADER_SIZE - SHOP_ML_TRAILER_SIZE;
    for (int i = 0; i < 8; i++)
        v1[8 + i] = (uint8_t)(payload >> (8 * i));
    uint32_t crc = shop_ml_crc32(v1, *len1 - 4);
    for (int i = 0; i < 4; i++)
        v1[*len1 - 4 + i] = (uint8_t)(crc >> (8 * i));
    return v1;
}

Test(als, version_1_record_loads_as_plain_als)
{
    struct shop_ml_csr r_ui, r_iu;
    struct shop_ml_als als, back;
    struct shop_ml_als_cfg cfg;
    planted(&r_ui, &r_iu);
    cfg_small(&cfg, 3);
    shop_ml_als_init(&als, &cfg, N_USERS, N_ITEMS, NULL);
    shop_ml_als_train(&als, &r_ui, &r_iu, 2, NULL);
    struct shop_ml_writer w;
    shop_ml_writer_init(&w);
    shop_ml_als_encode(&als, &w);
    size_t len, len1;
    uint8_t *bytes = shop_ml_writer_take(&w, &len);
    uint8_t *v1 = as_version_1(bytes, len, &len1);
    memset(&back, 0, sizeof(back));
    back.cfg.reg_exp = 1.0;
    cr_assert(eq(int, shop_ml_als_decode(&back, v1, len1, NULL, NULL), 0));
    cr_assert(eq(dbl, back.cfg.reg_exp, 0.0));
    cr_assert(eq(dbl, back.cfg.reg, als.cfg.reg));
    cr_assert(eq(dbl, back.cfg.alpha, als.cfg.alpha));
    cr_assert(zero(memcmp(back.y, als.y, (size_t)N_ITEMS * als.k * sizeof(double))));
    shop_ml_als_encode(&back, &w);   /* re-encoded as the current version */
    uint8_t *again = shop_ml_writer_take(&w, &len1);
    cr_assert(eq(sz, len1, len));
    cr_assert(zero(memcmp(again, bytes, len)));
    free(again);
    free(v1);
    free(bytes);
    shop_ml_writer_fini(&w);
    shop_ml_als_fini(&back);
    shop_ml_als_fini(&als);
    shop_ml_csr_fini(&r_iu);
    shop_ml_csr_fini(&r_ui);
}

Test(als, rejects_bad_configuration)
{
    struct shop_ml_als als;
    struct shop_ml_als_cfg cfg;
    shop_ml_als_cfg_default(&cfg);
    cfg.factors = 0;
    cr_assert(eq(int, shop_ml_als_init(&als, &cfg, 1, 1, NULL), SHOP_EINVAL));
    shop_ml_als_cfg_default(&cfg);
    cfg.reg = -1.0;
    cr_assert(eq(int, shop_ml_als_init(&als, &cfg, 1, 1, NULL), SHOP_EINVAL));
    shop_ml_als_cfg_default(&cfg);
    cfg.reg_exp = 2.5;
    cr_assert(eq(int, shop_ml_als_init(&als, &cfg, 1, 1, NULL), SHOP_EINVAL));
    cfg.reg_exp = NAN;
    cr_assert(eq(int, shop_ml_als_init(&als, &cfg, 1, 1, NULL), SHOP_EINVAL));
}
