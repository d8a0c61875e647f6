/* SPDX-License-Identifier: MIT
 * Daily demand forecasting: Holt-Winters, Croston, SBA, TSB, seasonal naive. Pure.
 */
#include "ml/ml_forecast.h"

#include <math.h>
#include <string.h>

#define M SHOP_ML_FC_SEASON
#define WARMUP_DAYS (2 * M)

void shop_ml_forecast_init(struct shop_ml_forecast *m, enum shop_ml_fc_method method,
                           double alpha, double beta, double gamma)
{
    memset(m, 0, sizeof(*m));
    m->method = method;
    m->alpha = alpha;
    m->beta = beta;
    m->gamma = gamma;
    m->phi = 0.9;   /* damped trend: a four-week horizon must not run away with a slope */
}

/* The first week only fills the seasonal buffer; at day 7 level = its mean and the
 * seasonal terms are its deviations from that mean. */
static void observe_hw(struct shop_ml_forecast *m, double y)
{
    size_t s = (size_t)(m->days % M);
    if (m->days < M) {
        m->season[s] = y;
        if (m->days == M - 1) {
            double mean = 0;
            for (int i = 0; i < M; i++)
                mean += m->season[i] / M;
            for (int i = 0; i < M; i++)
                m->season[i] -= mean;
            m->level = mean;
        }
        return;
    }
    double prev = m->level;
    m->level = m->alpha * (y - m->season[s]) + (1 - m->alpha) * (prev + m->phi * m->trend);
    m->trend = m->beta * (m->level - prev) + (1 - m->beta) * m->phi * m->trend;
    m->season[s] = m->gamma * (y - m->level) + (1 - m->gamma) * m->season[s];
}

static void observe_croston(struct shop_ml_forecast *m, double y)
{
    m->since++;
    if (!(y > 0))
        return;
    if (m->size > 0) {
        m->size += m->alpha * (y - m->size);
        m->interval += m->alpha * ((double)m->since - m->interval);
    } else {
        m->size = y;
        m->interval = (double)m->since;
    }
    m->since = 0;
}

static void observe_tsb(struct shop_ml_forecast *m, double y)
{
    m->since++;
    if (m->size > 0) {
        m->prob += m->beta * ((y > 0 ? 1.0 : 0.0) - m->prob);
        if (y > 0)
            m->size += m->alpha * (y - m->size);
    } else if (y > 0) {
        m->size = y;
        m->prob = 1.0 / (double)m->since;
    }
    if (y > 0)
        m->since = 0;
}

void shop_ml_forecast_observe(struct shop_ml_forecast *m, double demand)
{
    switch (m->method) {
    case SHOP_ML_FC_SNAIVE:
        m->season[m->days % M] = demand;
        break;
    case SHOP_ML_FC_HW:
        observe_hw(m, demand);
        break;
    case SHOP_ML_FC_CROSTON:
    case SHOP_ML_FC_SBA:
        observe_croston(m, demand);
        break;
    case SHOP_ML_FC_TSB:
    case SHOP_ML_FC_METHODS:
        observe_tsb(m, demand);
        break;
    }
    m->days++;
}

double shop_ml_forecast_at(const struct shop_ml_forecast *m, unsigned h)
{
    double f = 0;
    size_t s = (size_t)((m->days + h - 1) % M);
    switch (m->method) {
    case SHOP_ML_FC_SNAIVE:
        f = m->season[s];
        break;
    case SHOP_ML_FC_HW: {
        if (m->days < M)
            return 0;
        double damp = 0, p = 1;
        for (unsigned i = 0; i < h; i++)
        {
            p *= m->phi;
            damp += p;
        }
        f = m->level + damp * m->trend + m->season[s];
        break;
    }
    case SHOP_ML_FC_CROSTON:
        f = m->interval > 0 ? m->size / m->interval : 0;
        break;
    case SHOP_ML_FC_SBA:
        f = m->interval > 0 ? (1 - m->alpha / 2) * m->size / m->interval : 0;
        break;
    case SHOP_ML_FC_TSB:
    case SHOP_ML_FC_METHODS:
        f = m->prob * m->size;
        break;
    }
    return f > 0 ? f : 0;
}

/* One-step-ahead squared error of a parameter set over y, after the warm-up. */
static double one_step_sse(enum shop_ml_fc_method method, double a, double b, double g,
                           const double *y, size_t n)
{
    struct shop_ml_forecast m;
    shop_ml_forecast_init(&m, method, a, b, g);
    double sse = 0;
    for (size_t t = 0; t < n; t++) {
        if (t >= WARMUP_DAYS) {
            double e = y[t] - shop_ml_forecast_at(&m, 1);
            sse += e * e;
        }
        shop_ml_forecast_observe(&m, y[t]);
    }
    return sse;
}

static const double alphas[] = {0.02, 0.05, 0.1, 0.2, 0.3, 0.5};
static const double hw_betas[] = {0, 0.02, 0.1};
static const double hw_gammas[] = {0.02, 0.05, 0.1, 0.2, 0.3};
static const double tsb_betas[] = {0.02, 0.05, 0.1, 0.2, 0.3};
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

int shop_ml_forecast_fit(struct shop_ml_forecast *m, enum shop_ml_fc_method method,
                         const double *y, size_t n, struct shop_err *err)
{
    if (n < WARMUP_DAYS)
        return shop_err_set(err, SHOP_EINVAL, "forecast needs %d days, got %zu", WARMUP_DAYS, n);
    static const double zero[] = {0};
    const double *bs = zero, *gs = zero;
    size_t nb = 1, ng = 1;
    if (method == SHOP_ML_FC_HW) {
        bs = hw_betas, nb = LEN(hw_betas);
        gs = hw_gammas, ng = LEN(hw_gammas);
    } else if (method == SHOP_ML_FC_TSB) {
        bs = tsb_betas, nb = LEN(tsb_betas);
    }
    size_t na = method == SHOP_ML_FC_SNAIVE ? 1 : LEN(alphas);
    double best = INFINITY, ba = 0, bb = 0, bg = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            for (size_t l = 0; l < ng; l++) {
                double sse = one_step_sse(method, alphas[i], bs[j], gs[l], y, n);
                if (sse < best) {
                    best = sse;
                    ba = alphas[i], bb = bs[j], bg = gs[l];
                }
            }
    shop_ml_forecast_init(m, method, ba, bb, bg);
    for (size_t t = 0; t < n; t++)
        shop_ml_forecast_observe(m, y[t]);
    return 0;
}

int shop_ml_forecast_select(struct shop_ml_forecast *m, const double *y, size_t n,
                            size_t holdout, double *errors, struct shop_err *err)
{
    if (holdout == 0 || n < holdout + WARMUP_DAYS)
        return shop_err_set(err, SHOP_EINVAL, "series of %zu days is too short for a %zu-day "
                            "holdout", n, holdout);
    size_t fit_n = n - holdout;
    enum shop_ml_fc_method best = SHOP_ML_FC_TSB;
    double best_mae = INFINITY;
    for (int k = 0; k < SHOP_ML_FC_METHODS; k++) {
        struct shop_ml_forecast cand;
        shop_ml_forecast_fit(&cand, (enum shop_ml_fc_method)k, y, fit_n, NULL);
        double mae = 0;
        for (size_t h = 1; h <= holdout; h++)
            mae += fabs(y[fit_n + h - 1] - shop_ml_forecast_at(&cand, (unsigned)h));
        mae /= (double)holdout;
        if (errors)
            errors[k] = mae;
        if (k != SHOP_ML_FC_SNAIVE && mae < best_mae) {
            best_mae = mae;
            best = (enum shop_ml_fc_method)k;
        }
    }
    return shop_ml_forecast_fit(m, best, y, n, err);
}

double shop_ml_forecast_days_to_stockout(const struct shop_ml_forecast *m, double stock,
                                         unsigned horizon_max)
{
    if (!(stock > 0))
        return 0;
    double left = stock;
    for (unsigned h = 1; h <= horizon_max; h++) {
        double f = shop_ml_forecast_at(m, h);
        if (f >= left)
            return (double)(h - 1) + left / f;
        left -= f;
    }
    return (double)horizon_max;
}

const char *shop_ml_forecast_method_name(enum shop_ml_fc_method method)
{
    static const char *const names[] = {"snaive", "hw", "croston", "sba", "tsb"};
    return (unsigned)method < SHOP_ML_FC_METHODS ? names[method] : "unknown";
}

void shop_ml_forecast_encode(const struct shop_ml_forecast *m, struct shop_ml_writer *w)
{
    shop_ml_writer_begin(w, "FCST");
    shop_ml_put_u8(w, (uint8_t)m->method);
    shop_ml_put_f64(w, m->alpha);
    shop_ml_put_f64(w, m->beta);
    shop_ml_put_f64(w, m->gamma);
    shop_ml_put_f64(w, m->phi);
    shop_ml_put_u64(w, m->days);
    shop_ml_put_f64(w, m->level);
    shop_ml_put_f64(w, m->trend);
    shop_ml_put_f64s(w, m->season, M);
    shop_ml_put_f64(w, m->size);
    shop_ml_put_f64(w, m->interval);
    shop_ml_put_f64(w, m->prob);
    shop_ml_put_u32(w, m->since);
    shop_ml_writer_end(w);
}

int shop_ml_forecast_decode(struct shop_ml_forecast *m, const uint8_t *buf, size_t len,
                            size_t *used, struct shop_err *err)
{
    struct shop_ml_reader r;
    int rc = shop_ml_reader_open(&r, buf, len, "FCST", used, err);
    if (rc != 0)
        return rc;
    uint8_t method;
    memset(m, 0, sizeof(*m));
    if (shop_ml_get_u8(&r, &method) == 0 && method >= SHOP_ML_FC_METHODS)
        r.rc = SHOP_EBADMSG;
    m->method = (enum shop_ml_fc_method)method;
    shop_ml_get_f64(&r, &m->alpha);
    shop_ml_get_f64(&r, &m->beta);
    shop_ml_get_f64(&r, &m->gamma);
    shop_ml_get_f64(&r, &m->phi);
    shop_ml_get_u64(&r, &m->days);
    shop_ml_get_f64(&r, &m->level);
    shop_ml_get_f64(&r, &m->trend);
    shop_ml_get_f64s(&r, m->season, M);
    shop_ml_get_f64(&r, &m->size);
    shop_ml_get_f64(&r, &m->interval);
    shop_ml_get_f64(&r, &m->prob);
    shop_ml_get_u32(&r, &m->since);
    return shop_ml_reader_close(&r, err);
}
