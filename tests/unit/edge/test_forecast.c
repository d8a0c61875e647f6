/* SPDX-License-Identifier: MIT
 * edge_forecast: the stock-out day of a forecast against the available units, the
 * forecast's calendar dates, the response body. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_err.h"
#include "edge/core/edge_forecast.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(forecast, stockout_is_the_first_day_the_running_sum_reaches_available)
{
    const double d[] = {1, 2, 3, 4};
    cr_assert_eq(shop_edge_forecast_stockout(d, N(d), 1), 0);
    cr_assert_eq(shop_edge_forecast_stockout(d, N(d), 2), 1);    /* 1, 3: reached on day 1 */
    cr_assert_eq(shop_edge_forecast_stockout(d, N(d), 3), 1);    /* exactly reached counts */
    cr_assert_eq(shop_edge_forecast_stockout(d, N(d), 4), 2);
    cr_assert_eq(shop_edge_forecast_stockout(d, N(d), 10), 3);
    cr_assert_eq(shop_edge_forecast_stockout(d, N(d), 11), -1, "not within the horizon");
}

Test(forecast, nothing_available_is_out_on_the_first_day)
{
    const double zero[] = {0, 0, 0};
    cr_assert_eq(shop_edge_forecast_stockout(zero, N(zero), 0), 0);
    cr_assert_eq(shop_edge_forecast_stockout(zero, N(zero), 1), -1, "no demand never runs out");
    cr_assert_eq(shop_edge_forecast_stockout(zero, 0, 0), -1, "no days, no date");
}

Test(forecast, negative_and_non_finite_values_are_no_demand)
{
    const double d[] = {-5, NAN, INFINITY, 2, -INFINITY, 2};
    cr_assert_eq(shop_edge_forecast_stockout(d, N(d), 2), 3);
    cr_assert_eq(shop_edge_forecast_stockout(d, N(d), 4), 5);
    cr_assert_float_eq(shop_edge_forecast_quantity(-0.25), 0, 0);
    cr_assert_float_eq(shop_edge_forecast_quantity(NAN), 0, 0);
    cr_assert_float_eq(shop_edge_forecast_quantity(0.25), 0.25, 0);
}

Test(forecast, float_rounding_does_not_postpone_the_day)
{
    double d[10];
    for (size_t i = 0; i < N(d); i++)
        d[i] = 0.1;   /* summed: 0.9999999999999999 on the tenth day */
    cr_assert_eq(shop_edge_forecast_stockout(d, N(d), 1), 9);
}

Test(forecast, dates_are_utc_calendar_days)
{
    char s[SHOP_EDGE_DATE_MAX];
    cr_assert_eq(shop_edge_forecast_date(0, s), 0);
    cr_assert_str_eq(s, "1970-01-01");
    shop_edge_forecast_date(-1, s);
    cr_assert_str_eq(s, "1969-12-31");
    shop_edge_forecast_date(59, s);
    cr_assert_str_eq(s, "1970-03-01");
    shop_edge_forecast_date(11016, s);   /* a leap day of a year divisible by 400 */
    cr_assert_str_eq(s, "2000-02-29");
    shop_edge_forecast_date(20423, s);
    cr_assert_str_eq(s, "2025-12-01");
    shop_edge_forecast_date(14974, s);   /* Online Retail's first invoice day */
    cr_assert_str_eq(s, "2010-12-31");
    shop_edge_forecast_date(2932896, s);
    cr_assert_str_eq(s, "9999-12-31");
    cr_assert_eq(shop_edge_forecast_date(2932897, s), SHOP_EINVAL);
    cr_assert_eq(shop_edge_forecast_date(-719529, s), SHOP_EINVAL);
}

/* Every day of 1900..2100 follows the one before it in the calendar. */
Test(forecast, consecutive_days_are_consecutive_dates)
{
    char prev[SHOP_EDGE_DATE_MAX], cur[SHOP_EDGE_DATE_MAX];
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    shop_edge_forecast_date(-25567, prev);
    cr_assert_str_eq(prev, "1900-01-01");
    for (int64_t day = -25566; day < 47482; day++) {
        cr_assert_eq(shop_edge_forecast_date(day, cur), 0);
        int y, m, d, py, pm, pd;
        sscanf(prev, "%d-%d-%d", &py, &pm, &pd);
        sscanf(cur, "%d-%d-%d", &y, &m, &d);
        bool leap = (py % 4 == 0 && py % 100 != 0) || py % 400 == 0;
        int len = mdays[pm - 1] + (pm == 2 && leap ? 1 : 0);
        if (pd < len)
            cr_assert(y == py && m == pm && d == pd + 1, "%s after %s", cur, prev);
        else if (pm < 12)
            cr_assert(y == py && m == pm + 1 && d == 1, "%s after %s", cur, prev);
        else
            cr_assert(y == py + 1 && m == 1 && d == 1, "%s after %s", cur, prev);
        memcpy(prev, cur, sizeof(cur));
    }
    cr_assert_str_eq(prev, "2099-12-31");
}

static json_t *body_of(const struct shop_edge_forecast *f, int days)
{
    char *json = NULL;
    cr_assert_eq(shop_edge_forecast_json(f, days, &json), 0);
    json_t *v = json_loads(json, 0, NULL);
    cr_assert_not_null(v, "%s", json);
    free(json);
    return v;
}

Test(forecast, body_shows_the_days_asked_and_the_stockout_over_the_whole_horizon)
{
    const double d[] = {2, 2, 2, 2, 2};
    struct shop_edge_forecast f = {.method = "holt_winters", .has_version = true,
                                   .model_version = 9, .start_day = 20423, .daily = d,
                                   .n_daily = N(d), .available = 7};
    json_t *v = body_of(&f, 2);
    cr_assert_eq(json_array_size(json_object_get(v, "daily")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(v, "stockout_date")), "2025-12-04");
    cr_assert_str_eq(json_string_value(json_object_get(v, "method")), "holt_winters");
    cr_assert_eq(json_integer_value(json_object_get(v, "model_version")), 9);
    json_decref(v);
    v = body_of(&f, 28);
    cr_assert_eq(json_array_size(json_object_get(v, "daily")), 5, "no more days than stored");
    json_t *last = json_array_get(json_object_get(v, "daily"), 4);
    cr_assert_str_eq(json_string_value(json_object_get(last, "date")), "2025-12-05");
    cr_assert_float_eq(json_number_value(json_object_get(last, "quantity")), 2, 0);
    json_decref(v);
    f.available = 11;
    v = body_of(&f, 28);
    cr_assert(json_is_null(json_object_get(v, "stockout_date")));
    json_decref(v);
    f.available = 0;
    v = body_of(&f, 1);
    cr_assert_str_eq(json_string_value(json_object_get(v, "stockout_date")), "2025-12-01");
    json_decref(v);
}

Test(forecast, body_keys_in_order)
{
    const double d[] = {1};
    struct shop_edge_forecast f = {.method = "sba", .start_day = 0, .daily = d, .n_daily = 1,
                                   .available = 3};
    char *json = NULL;
    cr_assert_eq(shop_edge_forecast_json(&f, 14, &json), 0);
    cr_assert_str_eq(json, "{\"daily\":[{\"date\":\"1970-01-01\",\"quantity\":1.0}],"
                           "\"method\":\"sba\",\"model_version\":null,\"available\":3,"
                           "\"stockout_date\":null}");
    free(json);
}

Test(forecast, a_day_off_the_calendar_is_refused)
{
    const double d[] = {1, 1};
    struct shop_edge_forecast f = {.method = "sba", .start_day = 2932896, .daily = d,
                                   .n_daily = 2, .available = 2};
    char *json = NULL;
    cr_assert_eq(shop_edge_forecast_json(&f, 14, &json), SHOP_EINVAL);
    cr_assert_null(json);
}
