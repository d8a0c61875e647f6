/* SPDX-License-Identifier: MIT
 * Stock-out date and response of GET /v1/products/{id}/forecast. Pure. */
#include "edge/core/edge_forecast.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

#include "base/shop_err.h"

/* Sums of float forecasts miss whole numbers by rounding (0.1 ten times is below 1);
 * a sum this close to the stock counts as reaching it. */
#define REACH_EPS 1e-9

double shop_edge_forecast_quantity(double q)
{
    return isfinite(q) && q > 0 ? q : 0;
}

long shop_edge_forecast_stockout(const double *daily, size_t n, int64_t available)
{
    double need = (double)available, sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += shop_edge_forecast_quantity(daily[i]);
        if (sum + REACH_EPS * fmax(1.0, need) >= need)
            return (long)i;
    }
    return -1;
}

/* Howard Hinnant's civil_from_days: exact for every day, no table, no time zone. */
int shop_edge_forecast_date(int64_t day, char out[SHOP_EDGE_DATE_MAX])
{
    if (day < -719528 || day > 2932896)   /* 0000-01-01 .. 9999-12-31 */
        return SHOP_EINVAL;
    int64_t z = day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    /* In range: y 0..9999, m 1..12, d 1..31; the casts tell the compiler so. */
    snprintf(out, SHOP_EDGE_DATE_MAX, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
             (unsigned)d % 100u);
    return 0;
}

static json_t *date_or_null(int64_t day)
{
    char text[SHOP_EDGE_DATE_MAX];
    return shop_edge_forecast_date(day, text) == 0 ? json_string(text) : NULL;
}

static json_t *daily_json(const struct shop_edge_forecast *f, int days)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < f->n_daily && i < (size_t)days; i++) {
        json_t *date = date_or_null(f->start_day + (int64_t)i);
        if (date == NULL) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, json_pack("{s:o,s:f}", "date", date, "quantity",
                                             shop_edge_forecast_quantity(f->daily[i])));
    }
    return arr;
}

int shop_edge_forecast_json(const struct shop_edge_forecast *f, int days, char **json)
{
    *json = NULL;
    bool has = f->method != NULL;
    json_t *daily = has ? daily_json(f, days) : json_array();
    if (daily == NULL)
        return SHOP_EINVAL;
    json_t *stockout = json_null();
    long at = has ? shop_edge_forecast_stockout(f->daily, f->n_daily, f->available) : -1;
    if (at >= 0 && (stockout = date_or_null(f->start_day + at)) == NULL) {
        json_decref(daily);
        return SHOP_EINVAL;
    }
    json_t *body = json_pack("{s:o,s:o,s:o,s:I,s:o}", "daily", daily, "method",
                             has ? json_string(f->method) : json_null(), "model_version",
                             f->has_version ? json_integer(f->model_version) : json_null(),
                             "available", (json_int_t)f->available, "stockout_date", stockout);
    if (body == NULL)
        return SHOP_EINVAL;
    *json = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    return *json != NULL ? 0 : SHOP_EINVAL;
}
