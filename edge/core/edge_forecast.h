/* SPDX-License-Identifier: MIT
 * GET /v1/products/{id}/forecast: the stock-out date from a product's daily demand
 * forecast and its available units, the calendar dates of the forecast days, and the
 * response body. Pure.
 *
 * Days are event-time days, UTC, counted from 1970-01-01 (day 0), as the ML worker
 * stores them (ml_forecasts.start_date). A negative or non-finite forecast value is
 * demand 0: a shop never sells fewer than no units.
 */
#ifndef SHOP_EDGE_FORECAST_H
#define SHOP_EDGE_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOP_EDGE_DATE_MAX 16        /* "YYYY-MM-DD" with its NUL, room for 5-digit years */
#define SHOP_FORECAST_DAYS_DEFAULT 14
#define SHOP_FORECAST_DAYS_MAX 28

/** A product's stored forecast (ml_forecasts) and its stock (inventory_stock). */
struct shop_edge_forecast {
    const char *method;          /* "holt_winters", ...; NULL: the product has no forecast */
    bool has_version;
    int64_t model_version;
    int64_t start_day;           /* days since 1970-01-01 of daily[0] */
    const double *daily;         /* the whole stored horizon */
    size_t n_daily;
    int64_t available;           /* inventory_stock.available; 0 without a row */
};

/** The demand forecast for one day: the stored value, or 0 for a negative or
 *  non-finite one. */
double shop_edge_forecast_quantity(double q);

/** Index of the first day on which the forecast demand summed from daily[0] reaches
 *  available (so available <= 0 is day 0), or -1 when it does not within the n days. */
long shop_edge_forecast_stockout(const double *daily, size_t n, int64_t available);

/** Writes day (days since 1970-01-01, proleptic Gregorian) as "YYYY-MM-DD" into out.
 *  Returns 0, or SHOP_EINVAL for a day outside years 0..9999. */
int shop_edge_forecast_date(int64_t day, char out[SHOP_EDGE_DATE_MAX]);

/** The response: the first days (at most) days of the forecast as {date, quantity},
 *  method, model_version, available and stockout_date (over the whole stored horizon;
 *  null when not within it or without a forecast). Returns 0 with *json malloc'd (the
 *  caller frees it), or SHOP_EINVAL. */
int shop_edge_forecast_json(const struct shop_edge_forecast *f, int days, char **json);

#endif
