/* SPDX-License-Identifier: MIT
 * Per-product daily demand forecasting. Pure. Holt-Winters (additive, weekly season,
 * damped trend) for steady sellers; Croston, SBA and TSB for intermittent demand; the
 * method is chosen per product by holdout error. A model is a small caller-owned struct
 * whose state one day's demand updates (shop_ml_forecast_observe), so the worker can
 * feed it day by day and snapshot it as bytes.
 */
#ifndef SHOP_ML_FORECAST_H
#define SHOP_ML_FORECAST_H

#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "ml/ml_codec.h"

#define SHOP_ML_FC_SEASON 7   /* days in the season: one week */

enum shop_ml_fc_method {
    SHOP_ML_FC_SNAIVE = 0,    /* seasonal naive: the same weekday last week (the baseline) */
    SHOP_ML_FC_HW,            /* Holt-Winters additive, weekly season, damped trend */
    SHOP_ML_FC_CROSTON,       /* Croston: smoothed size over smoothed interval */
    SHOP_ML_FC_SBA,           /* Syntetos-Boylan: Croston times (1 - alpha/2) */
    SHOP_ML_FC_TSB,           /* Teunter-Syntetos-Babai: smoothed probability times size */
    SHOP_ML_FC_METHODS
};

struct shop_ml_forecast {
    enum shop_ml_fc_method method;
    double alpha, beta, gamma, phi;  /* smoothing weights; phi damps the HW trend */
    uint64_t days;                   /* days observed */
    double level, trend;             /* HW */
    double season[SHOP_ML_FC_SEASON];/* HW seasonal terms, or the last week for SNAIVE;
                                        index = day number mod SHOP_ML_FC_SEASON */
    double size, interval, prob;     /* Croston/SBA/TSB */
    uint32_t since;                  /* days since the last non-zero demand */
};

/** Empty model of one method with given parameters (unused ones are ignored). */
void shop_ml_forecast_init(struct shop_ml_forecast *m, enum shop_ml_fc_method method,
                           double alpha, double beta, double gamma);
/** Updates the state with one day's demand (days must be fed in order, zeros included). */
void shop_ml_forecast_observe(struct shop_ml_forecast *m, double demand);
/** Forecast of demand h >= 1 days after the last observed day (never negative). */
double shop_ml_forecast_at(const struct shop_ml_forecast *m, unsigned h);

/** Fits method's parameters on y[0..n) by a small grid (lowest one-step squared error
 *  after a two-week warm-up) and leaves m's state after observing all of y.
 *  Returns 0, or SHOP_EINVAL when n < 2 * SHOP_ML_FC_SEASON. */
int shop_ml_forecast_fit(struct shop_ml_forecast *m, enum shop_ml_fc_method method,
                         const double *y, size_t n, struct shop_err *err);

/** Chooses among HW, Croston, SBA and TSB by mean absolute error on the last holdout
 *  days (each fitted on the days before), then refits the winner on all of y.
 *  errors[SHOP_ML_FC_METHODS] (may be NULL) receives each method's holdout MAE
 *  (SNAIVE's too, for reference). Returns 0 or SHOP_EINVAL when the series is too short. */
int shop_ml_forecast_select(struct shop_ml_forecast *m, const double *y, size_t n,
                            size_t holdout, double *errors, struct shop_err *err);

/** Days until cumulative forecast demand exceeds stock, linear within the last day;
 *  0 when stock <= 0, horizon_max when it lasts beyond that. */
double shop_ml_forecast_days_to_stockout(const struct shop_ml_forecast *m, double stock,
                                         unsigned horizon_max);

/** Short name of a method ("hw", "croston", ...). */
const char *shop_ml_forecast_method_name(enum shop_ml_fc_method method);

/** Serialises the model (magic "FCST"). */
void shop_ml_forecast_encode(const struct shop_ml_forecast *m, struct shop_ml_writer *w);
/** Loads a model written by shop_ml_forecast_encode(). Returns 0 or SHOP_EBADMSG. */
int shop_ml_forecast_decode(struct shop_ml_forecast *m, const uint8_t *buf, size_t len,
                            size_t *used, struct shop_err *err);

#endif
