/* SPDX-License-Identifier: MIT
 * Implicit ALS: Gram matrices, per-row Cholesky and conjugate-gradient solves, training
 * sweeps, fold-in and the "ALSM" record. Pure. Dense loops are plain and contiguous so
 * that -O2 vectorises them; no BLAS.
 */
#include "ml/ml_als.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "ml/ml_codec.h"
#include "ml/ml_rand.h"

#define FACTORS_MAX 1024u

/* Four partial sums break the dependency chain of a reduction. */
static double dot(const double *restrict a, const double *restrict b, uint32_t k)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    uint32_t f = 0;
    for (; f + 4 <= k; f += 4) {
        s0 += a[f] * b[f];
        s1 += a[f + 1] * b[f + 1];
        s2 += a[f + 2] * b[f + 2];
        s3 += a[f + 3] * b[f + 3];
    }
    for (; f < k; f++)
        s0 += a[f] * b[f];
    return (s0 + s1) + (s2 + s3);
}

static void axpy(double a, const double *restrict x, double *restrict y, uint32_t k)
{
    for (uint32_t f = 0; f < k; f++)
        y[f] += a * x[f];
}

/* out = (G + reg I) v, G symmetric k x k. */
static void gram_mul(const double *restrict g, double reg, const double *restrict v,
                     double *restrict out, uint32_t k)
{
    for (uint32_t f = 0; f < k; f++)
        out[f] = dot(g + (size_t)f * k, v, k) + reg * v[f];
}

/* Lower triangle of a += w v v'. */
static void rank1_lower(double *restrict a, double w, const double *restrict v, uint32_t k)
{
    for (uint32_t f = 0; f < k; f++)
        axpy(w * v[f], v, a + (size_t)f * k, f + 1);
}

static void mirror_lower(double *a, uint32_t k)
{
    for (uint32_t f = 0; f < k; f++)
        for (uint32_t g = f + 1; g < k; g++)
            a[(size_t)f * k + g] = a[(size_t)g * k + f];
}

/* g = M'M for n rows of k factors. */
static void gram(const double *m, uint32_t n, uint32_t k, double *g)
{
    memset(g, 0, (size_t)k * k * sizeof(*g));
    for (uint32_t r = 0; r < n; r++)
        rank1_lower(g, 1.0, m + (size_t)r * k, k);
    mirror_lower(g, k);
}

/* Solves a x = b in place (b becomes x) for symmetric positive definite a, using and
 * overwriting its lower triangle. Returns -1 when a is not positive definite. */
static int cholesky_solve(double *restrict a, double *restrict b, uint32_t k)
{
    for (uint32_t j = 0; j < k; j++) {
        double *rj = a + (size_t)j * k;
        double d = rj[j] - dot(rj, rj, j);
        if (!(d > 0.0))
            return -1;
        rj[j] = sqrt(d);
        for (uint32_t i = j + 1; i < k; i++) {
            double *ri = a + (size_t)i * k;
            ri[j] = (ri[j] - dot(ri, rj, j)) / rj[j];
        }
    }
    for (uint32_t i = 0; i < k; i++)
        b[i] = (b[i] - dot(a + (size_t)i * k, b, i)) / a[(size_t)i * k + i];
    for (uint32_t i = k; i-- > 0;) {
        double s = b[i];
        for (uint32_t p = i + 1; p < k; p++)
            s -= a[(size_t)p * k + i] * b[p];
        b[i] = s / a[(size_t)i * k + i];
    }
    return 0;
}

/* The fixed side of one sweep: the other factors, their Gram matrix and hyper-parameters. */
struct sweep {
    const double *other;   /* rows of the fixed side */
    const double *g;       /* its Gram matrix */
    uint32_t k;
    double reg;
    double reg_exp;        /* a row with n interactions gets reg (1 + n)^reg_exp */
    double alpha;
    double *work;          /* 3k (CG) or k*k + k (Cholesky) */
};

/* Weighted-lambda (Zhou et al. 2008): rows with more interactions are shrunk harder. */
static double row_reg(const struct sweep *s, size_t n)
{
    return s->reg * pow(1.0 + (double)n, s->reg_exp);
}

/* x = argmin for one row, exactly: (G + reg I + sum (c-1) y y') x = sum c y. */
static int row_cholesky(const struct sweep *s, const uint32_t *idx, const double *r, size_t n,
                        double *x)
{
    uint32_t k = s->k;
    double *a = s->work, *b = s->work + (size_t)k * k;
    memcpy(a, s->g, (size_t)k * k * sizeof(*a));
    double reg = row_reg(s, n);
    for (uint32_t f = 0; f < k; f++)
        a[(size_t)f * k + f] += reg;
    memset(b, 0, k * sizeof(*b));
    for (size_t t = 0; t < n; t++) {
        const double *y = s->other + (size_t)idx[t] * k;
        double c1 = s->alpha * r[t];
        rank1_lower(a, c1, y, k);
        axpy(1.0 + c1, y, b, k);
    }
    if (cholesky_solve(a, b, k) != 0)
        return -1;
    memcpy(x, b, k * sizeof(*x));
    return 0;
}

/* out = (G + reg I) v + sum (c-1) (y.v) y over the row's interactions. */
static void row_mul(const struct sweep *s, const uint32_t *idx, const double *r, size_t n,
                    const double *v, double *out)
{
    gram_mul(s->g, row_reg(s, n), v, out, s->k);
    for (size_t t = 0; t < n; t++) {
        const double *y = s->other + (size_t)idx[t] * s->k;
        axpy(s->alpha * r[t] * dot(y, v, s->k), y, out, s->k);
    }
}

/* A few conjugate-gradient steps from the current x (Takacs et al. 2011): the previous
 * sweep's solution is a good start, so 2-3 steps per sweep are enough. */
static void row_cg(const struct sweep *s, const uint32_t *idx, const double *r, size_t n,
                   double *x, uint32_t steps)
{
    uint32_t k = s->k;
    double *res = s->work, *p = s->work + k, *ap = s->work + 2 * (size_t)k;
    row_mul(s, idx, r, n, x, ap);
    for (uint32_t f = 0; f < k; f++)
        res[f] = -ap[f];
    for (size_t t = 0; t < n; t++)
        axpy(1.0 + s->alpha * r[t], s->other + (size_t)idx[t] * k, res, k);
    memcpy(p, res, k * sizeof(*p));
    double rs = dot(res, res, k);
    for (uint32_t it = 0; it < steps && rs > 1e-20; it++) {
        row_mul(s, idx, r, n, p, ap);
        double step = rs / dot(p, ap, k);
        axpy(step, p, x, k);
        axpy(-step, ap, res, k);
        double rs_new = dot(res, res, k);
        for (uint32_t f = 0; f < k; f++)
            p[f] = res[f] + (rs_new / rs) * p[f];
        rs = rs_new;
    }
}

static int sweep_rows(const struct sweep *s, const struct shop_ml_csr *m, double *rows,
                      uint32_t cg_steps)
{
    for (uint32_t u = 0; u < m->n_rows; u++) {
        size_t at = m->row_ptr[u], n = m->row_ptr[u + 1] - at;
        double *x = rows + (size_t)u * s->k;
        if (cg_steps > 0)
            row_cg(s, m->col + at, m->val + at, n, x, cg_steps);
        else if (row_cholesky(s, m->col + at, m->val + at, n, x) != 0)
            return -1;
    }
    return 0;
}

void shop_ml_als_cfg_default(struct shop_ml_als_cfg *cfg)
{
    cfg->factors = 64;
    cfg->cg_steps = 3;
    cfg->reg = 20.0;
    cfg->reg_exp = 0.0;
    cfg->alpha = 5.0;
    cfg->init_scale = 0.01;
    cfg->seed = 42;
}

static void init_rows(double *m, uint32_t from, uint32_t to, uint32_t k, uint64_t seed,
                      double scale)
{
    for (uint32_t r = from; r < to; r++) {
        uint64_t st = seed ^ ((uint64_t)r * UINT64_C(0x9e3779b97f4a7c15));
        struct shop_ml_rand rng;
        shop_ml_rand_init(&rng, shop_ml_splitmix64(&st));
        for (uint32_t f = 0; f < k; f++)
            m[(size_t)r * k + f] = scale * shop_ml_rand_unit(&rng);
    }
}

static int check_cfg(const struct shop_ml_als_cfg *cfg, struct shop_err *err)
{
    if (cfg->factors < 1 || cfg->factors > FACTORS_MAX)
        return shop_err_set(err, SHOP_EINVAL, "factors must be in 1..%u: %u", FACTORS_MAX,
                            cfg->factors);
    if (!(cfg->reg >= 0.0 && isfinite(cfg->reg)) || !(cfg->alpha >= 0.0 && isfinite(cfg->alpha)) ||
        !(cfg->init_scale >= 0.0 && isfinite(cfg->init_scale)))
        return shop_err_set(err, SHOP_EINVAL, "reg, alpha and init scale must be finite and >= 0");
    if (!(cfg->reg_exp >= 0.0 && cfg->reg_exp <= 2.0))
        return shop_err_set(err, SHOP_EINVAL, "weighted-lambda exponent must be in 0..2: %g",
                            cfg->reg_exp);
    return 0;
}

int shop_ml_als_init(struct shop_ml_als *als, const struct shop_ml_als_cfg *cfg, uint32_t n_users,
                     uint32_t n_items, struct shop_err *err)
{
    memset(als, 0, sizeof(*als));
    int rc = check_cfg(cfg, err);
    if (rc != 0)
        return rc;
    als->cfg = *cfg;
    als->k = cfg->factors;
    als->yty = shop_xcalloc((size_t)als->k * als->k, sizeof(*als->yty));
    shop_ml_als_resize(als, n_users, n_items);
    return 0;
}

void shop_ml_als_fini(struct shop_ml_als *als)
{
    free(als->x);
    free(als->y);
    free(als->yty);
    memset(als, 0, sizeof(*als));
}

void shop_ml_als_resize(struct shop_ml_als *als, uint32_t n_users, uint32_t n_items)
{
    uint32_t k = als->k;
    /* Users and items draw from disjoint seed streams so their starts differ. */
    if (n_users > als->n_users) {
        als->x = shop_xrealloc(als->x, (size_t)n_users * k * sizeof(*als->x));
        init_rows(als->x, als->n_users, n_users, k, als->cfg.seed, als->cfg.init_scale);
        als->n_users = n_users;
    }
    if (n_items > als->n_items || als->y == NULL) {
        als->y = shop_xrealloc(als->y, ((size_t)n_items * k + 1) * sizeof(*als->y));
        init_rows(als->y, als->n_items, n_items, k, ~als->cfg.seed, als->cfg.init_scale);
        als->n_items = n_items;
        gram(als->y, als->n_items, k, als->yty);
    }
}

int shop_ml_als_train(struct shop_ml_als *als, const struct shop_ml_csr *r_ui,
                      const struct shop_ml_csr *r_iu, uint32_t iters, struct shop_err *err)
{
    if (r_ui->n_rows != als->n_users || r_ui->n_cols != als->n_items ||
        r_iu->n_rows != als->n_items || r_iu->n_cols != als->n_users || r_iu->nnz != r_ui->nnz)
        return shop_err_set(err, SHOP_EINVAL, "interaction matrix %ux%u does not fit model %ux%u",
                            r_ui->n_rows, r_ui->n_cols, als->n_users, als->n_items);
    uint32_t k = als->k;
    double *g = shop_xmalloc((size_t)k * k * sizeof(*g));
    double *work = shop_xmalloc(((size_t)k * k + 3 * (size_t)k) * sizeof(*work));
    struct sweep s = {.k = k, .reg = als->cfg.reg, .reg_exp = als->cfg.reg_exp,
                      .alpha = als->cfg.alpha, .work = work};
    int rc = 0;
    for (uint32_t it = 0; it < iters && rc == 0; it++) {
        s.other = als->y;
        s.g = als->yty;
        rc = sweep_rows(&s, r_ui, als->x, als->cfg.cg_steps);
        gram(als->x, als->n_users, k, g);
        s.other = als->x;
        s.g = g;
        rc = rc ? rc : sweep_rows(&s, r_iu, als->y, als->cfg.cg_steps);
        gram(als->y, als->n_items, k, als->yty);
    }
    free(work);
    free(g);
    if (rc != 0)
        return shop_err_set(err, SHOP_EINVAL, "row system not positive definite (reg = %g)",
                            als->cfg.reg);
    return 0;
}

size_t shop_ml_als_work_len(uint32_t k)
{
    return (size_t)k * k + 3 * (size_t)k;
}

int shop_ml_als_fold_in(const struct shop_ml_als *als, const uint32_t *items, const double *r,
                        size_t n, double *x, double *work, struct shop_err *err)
{
    for (size_t t = 0; t < n; t++)
        if (items[t] >= als->n_items)
            return shop_err_set(err, SHOP_EINVAL, "unknown item %u (model has %u)", items[t],
                                als->n_items);
    struct sweep s = {.other = als->y, .g = als->yty, .k = als->k, .reg = als->cfg.reg,
                      .reg_exp = als->cfg.reg_exp, .alpha = als->cfg.alpha, .work = work};
    if (row_cholesky(&s, items, r, n, x) != 0)
        return shop_err_set(err, SHOP_EINVAL, "row system not positive definite (reg = %g)",
                            als->cfg.reg);
    return 0;
}

/* reg times (1 + interactions)^reg_exp for each item: the items' weighted lambda. */
static double *item_regs(const struct shop_ml_als *als, const struct shop_ml_csr *r_ui)
{
    double *reg = shop_xcalloc((size_t)als->n_items + 1, sizeof(*reg));
    for (size_t t = 0; t < r_ui->nnz; t++)
        reg[r_ui->col[t]] += 1.0;
    for (uint32_t i = 0; i < als->n_items; i++)
        reg[i] = als->cfg.reg * pow(1.0 + reg[i], als->cfg.reg_exp);
    return reg;
}

double shop_ml_als_loss(const struct shop_ml_als *als, const struct shop_ml_csr *r_ui)
{
    uint32_t k = als->k;
    double *gx = shop_xmalloc(k * sizeof(*gx));
    double *reg_i = item_regs(als, r_ui);
    double loss = 0.0;
    /* Every (u, i) contributes s^2 with p = 0, c = 1; observed pairs are corrected. */
    for (uint32_t u = 0; u < als->n_users; u++) {
        const double *x = als->x + (size_t)u * k;
        size_t n = r_ui->row_ptr[u + 1] - r_ui->row_ptr[u];
        gram_mul(als->yty, 0.0, x, gx, k);
        loss += dot(x, gx, k);
        loss += als->cfg.reg * pow(1.0 + (double)n, als->cfg.reg_exp) * dot(x, x, k);
        for (size_t t = r_ui->row_ptr[u]; t < r_ui->row_ptr[u + 1]; t++) {
            double sc = dot(x, als->y + (size_t)r_ui->col[t] * k, k);
            double c = 1.0 + als->cfg.alpha * r_ui->val[t];
            double p = r_ui->val[t] > 0.0 ? 1.0 : 0.0;
            loss += c * (p - sc) * (p - sc) - sc * sc;
        }
    }
    for (uint32_t i = 0; i < als->n_items; i++)
        loss += reg_i[i] * dot(als->y + (size_t)i * k, als->y + (size_t)i * k, k);
    free(reg_i);
    free(gx);
    return loss;
}

void shop_ml_als_scores(const struct shop_ml_als *als, const double *x, double *scores)
{
    for (uint32_t i = 0; i < als->n_items; i++)
        scores[i] = dot(x, als->y + (size_t)i * als->k, als->k);
}

void shop_ml_als_encode(const struct shop_ml_als *als, struct shop_ml_writer *w)
{
    shop_ml_writer_begin(w, "ALSM");
    shop_ml_put_u32(w, als->k);
    shop_ml_put_u32(w, als->cfg.cg_steps);
    shop_ml_put_f64(w, als->cfg.reg);
    shop_ml_put_f64(w, als->cfg.alpha);
    shop_ml_put_f64(w, als->cfg.reg_exp);   /* since format version 2 */
    shop_ml_put_f64(w, als->cfg.init_scale);
    shop_ml_put_u64(w, als->cfg.seed);
    shop_ml_put_u32(w, als->n_users);
    shop_ml_put_u32(w, als->n_items);
    shop_ml_put_f64s(w, als->x, (size_t)als->n_users * als->k);
    shop_ml_put_f64s(w, als->y, (size_t)als->n_items * als->k);
    shop_ml_writer_end(w);
}

static bool all_finite(const double *v, size_t n)
{
    for (size_t t = 0; t < n; t++)
        if (!isfinite(v[t]))
            return false;
    return true;
}

static int als_read(struct shop_ml_reader *r, struct shop_ml_als *als)
{
    struct shop_ml_als_cfg cfg;
    uint32_t n_users, n_items;
    shop_ml_get_u32(r, &cfg.factors);
    shop_ml_get_u32(r, &cfg.cg_steps);
    shop_ml_get_f64(r, &cfg.reg);
    shop_ml_get_f64(r, &cfg.alpha);
    cfg.reg_exp = 0.0;   /* version 1 records predate weighted lambda */
    if (r->version >= 2)
        shop_ml_get_f64(r, &cfg.reg_exp);
    shop_ml_get_f64(r, &cfg.init_scale);
    shop_ml_get_u64(r, &cfg.seed);
    shop_ml_get_u32(r, &n_users);
    shop_ml_get_u32(r, &n_items);
    size_t left = (size_t)(r->end - r->p) / 8;
    if (r->rc != 0 || check_cfg(&cfg, NULL) != 0 ||
        (uint64_t)n_users + n_items > left / cfg.factors)
        return SHOP_EBADMSG;
    shop_ml_als_init(als, &cfg, 0, 0, NULL);
    free(als->y);
    als->n_users = n_users;
    als->n_items = n_items;
    als->x = shop_xmalloc(((size_t)n_users * als->k + 1) * sizeof(*als->x));
    als->y = shop_xmalloc(((size_t)n_items * als->k + 1) * sizeof(*als->y));
    if (shop_ml_get_f64s(r, als->x, (size_t)n_users * als->k) != 0 ||
        shop_ml_get_f64s(r, als->y, (size_t)n_items * als->k) != 0 ||
        !all_finite(als->x, (size_t)n_users * als->k) ||
        !all_finite(als->y, (size_t)n_items * als->k))
        return SHOP_EBADMSG;
    gram(als->y, n_items, als->k, als->yty);
    return 0;
}

int shop_ml_als_decode(struct shop_ml_als *als, const uint8_t *buf, size_t len, size_t *used,
                       struct shop_err *err)
{
    struct shop_ml_reader r;
    int rc = shop_ml_reader_open(&r, buf, len, "ALSM", used, err);
    if (rc != 0)
        return rc;
    struct shop_ml_als fresh;
    memset(&fresh, 0, sizeof(fresh));
    if (als_read(&r, &fresh) != 0 || shop_ml_reader_close(&r, err) != 0) {
        shop_ml_als_fini(&fresh);
        return shop_err_set(err, SHOP_EBADMSG, "ALS record: inconsistent payload");
    }
    shop_ml_als_fini(als);
    *als = fresh;
    return 0;
}
