/* SPDX-License-Identifier: MIT
 * Read requests and queries: parameters, never pasted values; admin lifts the
 * owner filter; ?limit= and ?cursor= checked before any query; a page's "next". */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_err.h"
#include "edge/core/edge_reads.h"

static struct shop_edge_match orders_match(const char *query)
{
    struct shop_edge_match m;
    shop_edge_route_match("GET", 3, "/v1/me/orders", strlen("/v1/me/orders"), query,
                          query != NULL ? strlen(query) : 0, &m);
    cr_assert_eq(m.status, 0, "%s", query != NULL ? query : "");
    return m;
}

static struct shop_edge_match id_match(const char *path)
{
    struct shop_edge_match m;
    shop_edge_route_match("GET", 3, path, strlen(path), NULL, 0, &m);
    cr_assert_eq(m.status, 0);
    return m;
}

static int init(struct shop_edge_read_req *r, enum shop_edge_read kind, const char *user,
                bool admin, const struct shop_edge_match *m, const char **field)
{
    struct shop_err err = {0};
    return shop_edge_read_init(r, kind, user, admin, m, field, &err);
}

Test(reads, order_query_filters_by_owner_unless_admin)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    struct shop_edge_match m = id_match("/v1/orders/o1");
    cr_assert_eq(init(&r, SHOP_READ_ORDER, "u1", false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_eq(q.n_params, 2);
    cr_assert_str_eq(q.params[0], "o1");
    cr_assert_str_eq(q.params[1], "u1");
    cr_assert_eq(init(&r, SHOP_READ_ORDER, "ops", true, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_null(q.params[1]);
}

Test(reads, order_shows_rejection_and_history_in_step_order)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    struct shop_edge_match m = id_match("/v1/orders/o1");
    cr_assert_eq(init(&r, SHOP_READ_ORDER, "u1", false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_not_null(strstr(q.sql, "'rejection', o.rejection"));
    cr_assert_not_null(strstr(q.sql, "order by h.at_ms, h.event_id"));
}

Test(reads, product_stock_comes_from_the_inventory)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    struct shop_edge_match m = id_match("/v1/products/p1");
    cr_assert_eq(init(&r, SHOP_READ_PRODUCT, "u1", false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_str_eq(q.params[0], "p1");
    cr_assert_not_null(strstr(q.sql, "inventory_stock"));
    cr_assert_null(strstr(q.sql, "p.stock"), "products.stock is no longer written");
    cr_assert_null(strstr(q.sql, "'stock'"));
}

Test(reads, values_never_appear_in_sql)
{
    const char *evil = "x'; drop table orders; --";
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    struct shop_edge_match range;
    shop_edge_route_match("GET", 3, "/v1/analytics/top-products", strlen("/v1/analytics/top-products"),
                          "from=0&to=86400000", strlen("from=0&to=86400000"), &range);
    for (int k = 0; k < SHOP_READ_COUNT; k++) {
        const char *field;
        bool admin = shop_edge_read_admin_only((enum shop_edge_read)k);
        bool ranged = k == SHOP_READ_REVENUE || k == SHOP_READ_TOP_PRODUCTS || k == SHOP_READ_FUNNEL;
        cr_assert_eq(init(&r, (enum shop_edge_read)k, evil, admin, ranged ? &range : NULL, &field), 0);
        strcpy(r.id, evil);
        shop_edge_query_build(&r, &q);
        cr_assert_null(strstr(q.sql, evil));
    }
}

Test(reads, missing_inputs_are_rejected)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    cr_assert_eq(init(&r, SHOP_READ_CART, NULL, false, NULL, &field), SHOP_EINVAL);
    cr_assert_eq(init(&r, SHOP_READ_PRODUCT, "u", false, NULL, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), SHOP_EINVAL);   /* no {id} */
    char long_user[SHOP_READ_USER_MAX + 2];
    memset(long_user, 'u', sizeof(long_user) - 1);
    long_user[sizeof(long_user) - 1] = '\0';
    cr_assert_eq(init(&r, SHOP_READ_CART, long_user, false, NULL, &field), SHOP_EINVAL);
}

Test(reads, a_subject_of_the_full_length_stays_terminated)
{
    char user[SHOP_READ_USER_MAX + 1];
    memset(user, 'u', SHOP_READ_USER_MAX);
    user[SHOP_READ_USER_MAX] = '\0';
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    struct shop_edge_match m = id_match("/v1/orders/o1");
    cr_assert_eq(init(&r, SHOP_READ_ORDER, user, false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_str_eq(q.params[1], user);
}

Test(reads, orders_page_defaults_and_bounds)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    struct shop_edge_match m = orders_match(NULL);
    cr_assert_eq(init(&r, SHOP_READ_ORDERS, "u1", false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_eq(q.n_params, 4);
    cr_assert_str_eq(q.params[0], "u1");
    cr_assert_eq(atoi(q.params[1]), SHOP_READ_LIMIT_DEFAULT);
    cr_assert_null(q.params[2]);
    cr_assert_null(q.params[3]);
    cr_assert_null(strstr(q.sql, "offset"), "keyset pagination, never OFFSET");
    m = orders_match("limit=1");
    cr_assert_eq(init(&r, SHOP_READ_ORDERS, "u1", false, &m, &field), 0);
    cr_assert_eq(r.limit, 1);
    m = orders_match("limit=100");
    cr_assert_eq(init(&r, SHOP_READ_ORDERS, "u1", false, &m, &field), 0);
    cr_assert_eq(r.limit, SHOP_READ_LIMIT_MAX);
}

Test(reads, bad_limits_name_limit)
{
    const char *bad[] = {"limit=0", "limit=101", "limit=-1", "limit=", "limit=1x", "limit=+5",
                         "limit=99999999999999999999", "limit=%201"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct shop_edge_read_req r;
        const char *field = NULL;
        struct shop_edge_match m = orders_match(bad[i]);
        struct shop_err err = {0};
        cr_assert_eq(shop_edge_read_init(&r, SHOP_READ_ORDERS, "u1", false, &m, &field, &err),
                     SHOP_EINVAL, "%s", bad[i]);
        cr_assert_str_eq(field, "limit");
        cr_assert_str_eq(err.msg, "must be an integer from 1 to 100");
    }
}

Test(reads, cursor_sets_the_key_and_a_bad_one_names_cursor)
{
    struct shop_edge_cursor c = {.placed_at_ms = 1700000000123};
    strcpy(c.order_id, "o-7");
    char text[SHOP_EDGE_CURSOR_MAX], query[300];
    shop_edge_cursor_encode(&c, text, sizeof(text));
    snprintf(query, sizeof(query), "cursor=%s&limit=5", text);
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    struct shop_edge_match m = orders_match(query);
    cr_assert_eq(init(&r, SHOP_READ_ORDERS, "u1", false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_str_eq(q.params[1], "5");
    cr_assert_str_eq(q.params[2], "1700000000123");
    cr_assert_str_eq(q.params[3], "o-7");
    const char *bad[] = {"cursor=", "cursor=xyz", "cursor=AQAAAYvL7sAAby0x%3D"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct shop_err err = {0};
        m = orders_match(bad[i]);
        cr_assert_eq(shop_edge_read_init(&r, SHOP_READ_ORDERS, "u1", false, &m, &field, &err),
                     SHOP_EINVAL, "%s", bad[i]);
        cr_assert_str_eq(field, "cursor");
        cr_assert_neq(err.msg[0], '\0');
    }
}

static json_t *shape(enum shop_edge_read kind, const char *const *cols, int n)
{
    struct shop_edge_read_req r;
    const char *field;
    struct shop_edge_match m = orders_match(NULL);
    cr_assert_eq(init(&r, kind, "u1", false, kind == SHOP_READ_ORDERS ? &m : NULL, &field), 0);
    char *json = NULL;
    cr_assert_eq(shop_edge_read_shape(&r, cols, n, &json), 0);
    json_t *v = json_loads(json, 0, NULL);
    cr_assert_not_null(v, "%s", json);
    free(json);
    return v;
}

Test(reads, a_page_with_more_gets_the_cursor_of_its_last_order)
{
    const char *cols[] = {"{\"user_id\":\"u1\",\"orders\":[{\"order_id\":\"o2\"}]}",
                          "1700000000000", "o2"};
    json_t *v = shape(SHOP_READ_ORDERS, cols, 3);
    cr_assert_str_eq(json_string_value(json_object_get(v, "user_id")), "u1");
    cr_assert_eq(json_array_size(json_object_get(v, "orders")), 1);
    const char *next = json_string_value(json_object_get(v, "next"));
    cr_assert_not_null(next);
    struct shop_edge_cursor c;
    cr_assert_eq(shop_edge_cursor_decode(next, &c), 0);
    cr_assert_eq(c.placed_at_ms, 1700000000000);
    cr_assert_str_eq(c.order_id, "o2");
    json_decref(v);
}

Test(reads, the_last_page_has_next_null)
{
    const char *cols[] = {"{\"user_id\":\"u1\",\"orders\":[]}", NULL, NULL};
    json_t *v = shape(SHOP_READ_ORDERS, cols, 3);
    cr_assert(json_is_null(json_object_get(v, "next")));
    json_decref(v);
}

Test(reads, other_reads_are_the_row_as_is)
{
    const char *cols[] = {"{\"product_id\":\"p1\",\"on_hand\":3}"};
    json_t *v = shape(SHOP_READ_PRODUCT, cols, 1);
    cr_assert_eq(json_integer_value(json_object_get(v, "on_hand")), 3);
    cr_assert_null(json_object_get(v, "next"));
    json_decref(v);
}

Test(reads, unexpected_rows_are_refused)
{
    struct shop_edge_read_req r;
    const char *field;
    struct shop_edge_match m = orders_match(NULL);
    cr_assert_eq(init(&r, SHOP_READ_ORDERS, "u1", false, &m, &field), 0);
    char *json = NULL;
    const char *not_json[] = {"not json", NULL, NULL};
    cr_assert_eq(shop_edge_read_shape(&r, not_json, 3, &json), SHOP_EINVAL);
    const char *bad_key[] = {"{}", "17x", "o1"};
    cr_assert_eq(shop_edge_read_shape(&r, bad_key, 3, &json), SHOP_EINVAL);
    const char *bad_id[] = {"{}", "17", "o/1"};
    cr_assert_eq(shop_edge_read_shape(&r, bad_id, 3, &json), SHOP_EINVAL);
    const char *one[] = {"{}"};
    cr_assert_eq(shop_edge_read_shape(&r, one, 1, &json), SHOP_EINVAL);
    const char *null_body[] = {NULL};
    cr_assert_eq(shop_edge_read_shape(&r, null_body, 1, &json), SHOP_EINVAL);
    cr_assert_null(json);
}

/* ---- the ML reads (issue 8) ------------------------------------------------------- */

static struct shop_edge_match path_match(const char *path, const char *query)
{
    struct shop_edge_match m;
    shop_edge_route_match("GET", 3, path, strlen(path), query, query != NULL ? strlen(query) : 0,
                          &m);
    cr_assert_eq(m.status, 0, "%s?%s", path, query != NULL ? query : "");
    return m;
}

Test(reads, ml_lists_default_to_10_and_pass_the_limit)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    struct shop_edge_match m = path_match("/v1/me/recommendations", NULL);
    cr_assert_eq(init(&r, SHOP_READ_RECS, "u1", false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_eq(q.n_params, 2);
    cr_assert_str_eq(q.params[0], "u1");
    cr_assert_str_eq(q.params[1], "10");
    m = path_match("/v1/me/recommendations", "limit=100");
    cr_assert_eq(init(&r, SHOP_READ_RECS, "u1", false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_str_eq(q.params[1], "100");
    m = path_match("/v1/products/p1/similar", "limit=3");
    cr_assert_eq(init(&r, SHOP_READ_SIMILAR, "u1", false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_str_eq(q.params[0], "p1");
    cr_assert_str_eq(q.params[1], "3");
}

Test(reads, ml_lists_bad_limits_name_limit)
{
    const char *bad[] = {"limit=0", "limit=101", "limit=", "limit=x", "limit=-3"};
    const char *paths[] = {"/v1/me/recommendations", "/v1/products/p1/similar"};
    enum shop_edge_read kinds[] = {SHOP_READ_RECS, SHOP_READ_SIMILAR};
    for (size_t p = 0; p < 2; p++) {
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            struct shop_edge_read_req r;
            const char *field = NULL;
            struct shop_edge_match m = path_match(paths[p], bad[i]);
            struct shop_err err = {0};
            cr_assert_eq(shop_edge_read_init(&r, kinds[p], "u1", false, &m, &field, &err),
                         SHOP_EINVAL, "%s?%s", paths[p], bad[i]);
            cr_assert_str_eq(field, "limit");
            cr_assert_str_eq(err.msg, "must be an integer from 1 to 100");
        }
    }
}

Test(reads, forecast_days_default_14_and_at_most_28)
{
    struct shop_edge_read_req r;
    const char *field;
    struct shop_edge_match m = path_match("/v1/products/p1/forecast", NULL);
    cr_assert_eq(init(&r, SHOP_READ_FORECAST, "ops", true, &m, &field), 0);
    cr_assert_eq(r.days, 14);
    m = path_match("/v1/products/p1/forecast", "days=28");
    cr_assert_eq(init(&r, SHOP_READ_FORECAST, "ops", true, &m, &field), 0);
    cr_assert_eq(r.days, 28);
    const char *bad[] = {"days=0", "days=29", "days=", "days=1.5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct shop_err err = {0};
        m = path_match("/v1/products/p1/forecast", bad[i]);
        cr_assert_eq(shop_edge_read_init(&r, SHOP_READ_FORECAST, "ops", true, &m, &field, &err),
                     SHOP_EINVAL, "%s", bad[i]);
        cr_assert_str_eq(field, "days");
        cr_assert_str_eq(err.msg, "must be an integer from 1 to 28");
    }
}

Test(reads, segments_and_forecast_are_admin_only_before_their_parameters)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    struct shop_err err = {0};
    cr_assert(shop_edge_read_admin_only(SHOP_READ_SEGMENTS));
    cr_assert(shop_edge_read_admin_only(SHOP_READ_FORECAST));
    cr_assert_not(shop_edge_read_admin_only(SHOP_READ_RECS));
    cr_assert_not(shop_edge_read_admin_only(SHOP_READ_SEGMENT));
    cr_assert_not(shop_edge_read_admin_only(SHOP_READ_SIMILAR));
    cr_assert_eq(shop_edge_read_init(&r, SHOP_READ_SEGMENTS, "u1", false, NULL, &field, &err),
                 SHOP_EFORBIDDEN);
    cr_assert_str_eq(field, "authorization");
    struct shop_edge_match m = path_match("/v1/products/p1/forecast", "days=99");
    cr_assert_eq(shop_edge_read_init(&r, SHOP_READ_FORECAST, "u1", false, &m, &field, &err),
                 SHOP_EFORBIDDEN, "the role is checked before the days");
    cr_assert_eq(init(&r, SHOP_READ_SEGMENTS, "ops", true, NULL, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_eq(q.n_params, 0);
    r.admin = false;   /* a request that skipped init is still refused */
    cr_assert_eq(shop_edge_query_build(&r, &q), SHOP_EINVAL);
}

Test(reads, ml_queries_read_the_0007_tables_by_key)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    struct shop_edge_match m = path_match("/v1/me/recommendations", NULL);
    cr_assert_eq(init(&r, SHOP_READ_RECS, "u1", false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_not_null(strstr(q.sql, "from ml_user_recs where user_id = $1::text"));
    cr_assert_not_null(strstr(q.sql, "from ml_popular where id = 1"));
    cr_assert_not_null(strstr(q.sql, "from inventory_stock s where s.product_id = x.product_id"));
    cr_assert_not_null(strstr(q.sql, "model = 'recommend'"));
    m = path_match("/v1/products/p1/similar", NULL);
    cr_assert_eq(init(&r, SHOP_READ_SIMILAR, "u1", false, &m, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_not_null(strstr(q.sql, "from ml_similar where product_id = $1::text"));
    cr_assert_not_null(strstr(q.sql, "from products p where p.product_id = $1::text"));
    cr_assert_eq(init(&r, SHOP_READ_SEGMENT, "u1", false, NULL, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_not_null(strstr(q.sql, "where u.user_id = $1::text"));
}

Test(reads, not_found_names_what_is_missing)
{
    const char *field, *detail;
    shop_edge_read_not_found(SHOP_READ_ORDER, &field, &detail);
    cr_assert_str_eq(field, "id");
    cr_assert_str_eq(detail, "not found");
    shop_edge_read_not_found(SHOP_READ_SIMILAR, &field, &detail);
    cr_assert_str_eq(field, "id");
    cr_assert_str_eq(detail, "no such product");
    shop_edge_read_not_found(SHOP_READ_FORECAST, &field, &detail);
    cr_assert_str_eq(detail, "no such product");
    shop_edge_read_not_found(SHOP_READ_SEGMENT, &field, &detail);
    cr_assert_str_eq(field, "");
    cr_assert_str_eq(detail, "not segmented yet");
}

static json_t *shape_forecast(const char *query, const char *const *cols)
{
    struct shop_edge_read_req r;
    const char *field;
    struct shop_edge_match m = path_match("/v1/products/p1/forecast", query);
    cr_assert_eq(init(&r, SHOP_READ_FORECAST, "ops", true, &m, &field), 0);
    char *json = NULL;
    cr_assert_eq(shop_edge_read_shape(&r, cols, 5, &json), 0);
    json_t *v = json_loads(json, 0, NULL);
    cr_assert_not_null(v, "%s", json);
    free(json);
    return v;
}

/* 2025-12-01 is day 20423 since 1970-01-01. */
Test(reads, forecast_row_is_shaped_with_dates_and_the_stockout)
{
    const char *cols[] = {"croston", "4", "20423", "[1, 2, \"NaN\", 3.5, 4]", "6"};
    json_t *v = shape_forecast("days=3", cols);
    cr_assert_str_eq(json_string_value(json_object_get(v, "method")), "croston");
    cr_assert_eq(json_integer_value(json_object_get(v, "model_version")), 4);
    cr_assert_eq(json_integer_value(json_object_get(v, "available")), 6);
    json_t *daily = json_object_get(v, "daily");
    cr_assert_eq(json_array_size(daily), 3);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(daily, 0), "date")),
                     "2025-12-01");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(daily, 2), "date")),
                     "2025-12-03");
    cr_assert_float_eq(json_number_value(json_object_get(json_array_get(daily, 2), "quantity")), 0,
                       0, "NaN is demand 0");
    /* 1 + 2 + 0 + 3.5 = 6.5 >= 6 on the fourth day, past the three shown */
    cr_assert_str_eq(json_string_value(json_object_get(v, "stockout_date")), "2025-12-04");
    json_decref(v);
}

Test(reads, forecast_without_a_forecast_row_is_empty)
{
    const char *cols[] = {NULL, NULL, NULL, NULL, "0"};
    json_t *v = shape_forecast(NULL, cols);
    cr_assert_eq(json_array_size(json_object_get(v, "daily")), 0);
    cr_assert(json_is_null(json_object_get(v, "method")));
    cr_assert(json_is_null(json_object_get(v, "model_version")));
    cr_assert(json_is_null(json_object_get(v, "stockout_date")));
    json_decref(v);
}

Test(reads, forecast_rows_that_are_not_the_query_are_refused)
{
    struct shop_edge_read_req r;
    const char *field;
    struct shop_edge_match m = path_match("/v1/products/p1/forecast", NULL);
    cr_assert_eq(init(&r, SHOP_READ_FORECAST, "ops", true, &m, &field), 0);
    char *json = NULL;
    const char *no_avail[] = {"tsb", "1", "20423", "[1]", NULL};
    cr_assert_eq(shop_edge_read_shape(&r, no_avail, 5, &json), SHOP_EINVAL);
    const char *bad_days[] = {"tsb", "1", "20423", "{}", "3"};
    cr_assert_eq(shop_edge_read_shape(&r, bad_days, 5, &json), SHOP_EINVAL);
    const char *bad_start[] = {"tsb", "1", "x", "[1]", "3"};
    cr_assert_eq(shop_edge_read_shape(&r, bad_start, 5, &json), SHOP_EINVAL);
    const char *bad_version[] = {"tsb", "1.5", "20423", "[1]", "3"};
    cr_assert_eq(shop_edge_read_shape(&r, bad_version, 5, &json), SHOP_EINVAL);
    cr_assert_eq(shop_edge_read_shape(&r, bad_version, 4, &json), SHOP_EINVAL);
    cr_assert_null(json);
}

/* ---- activity and analytics (0009) -------------------------------------------------- */

static int analytics_init(struct shop_edge_read_req *r, enum shop_edge_read kind, const char *path,
                          const char *query, bool admin, const char **field, char *detail)
{
    struct shop_edge_match m;
    struct shop_err err = {0};
    shop_edge_route_match("GET", 3, path, strlen(path), query, query != NULL ? strlen(query) : 0, &m);
    cr_assert_eq(m.status, 0, "%s?%s: route status %d", path, query != NULL ? query : "", m.status);
    int rc = shop_edge_read_init(r, kind, "ops", admin, &m, field, &err);
    if (detail != NULL)
        strcpy(detail, err.msg);
    return rc;
}

Test(reads, activity_is_the_users_own_and_needs_no_admin)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    cr_assert_eq(init(&r, SHOP_READ_ACTIVITY, "u1", false, NULL, &field), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_eq(q.n_params, 1);
    cr_assert_str_eq(q.params[0], "u1");
    cr_assert_not_null(strstr(q.sql, "left join user_activity"), "a user never seen is a row of zeros");
    cr_assert(!shop_edge_read_admin_only(SHOP_READ_ACTIVITY));
}

Test(reads, analytics_reads_are_admin_only_before_their_parameters)
{
    static const struct {
        enum shop_edge_read kind;
        const char *path;
    } reads[] = {{SHOP_READ_REVENUE, "/v1/analytics/revenue"},
                 {SHOP_READ_TOP_PRODUCTS, "/v1/analytics/top-products"},
                 {SHOP_READ_FUNNEL, "/v1/analytics/funnel"}};
    for (size_t i = 0; i < 3; i++) {
        struct shop_edge_read_req r;
        const char *field;
        cr_assert(shop_edge_read_admin_only(reads[i].kind));
        cr_assert_eq(analytics_init(&r, reads[i].kind, reads[i].path, "from=x", false, &field, NULL),
                     SHOP_EFORBIDDEN);
        cr_assert_str_eq(field, "authorization");
        cr_assert_eq(analytics_init(&r, reads[i].kind, reads[i].path, "from=x", true, &field, NULL), SHOP_EINVAL);
        cr_assert_str_eq(field, "from");
    }
}

Test(reads, range_maps_to_the_utc_days_it_touches)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    /* 2023-11-15T00:00Z up to the next midnight: one day, 19676. */
    cr_assert_eq(analytics_init(&r, SHOP_READ_FUNNEL, "/v1/analytics/funnel", "from=1700006400000&to=1700092800000",
                                true, &field, NULL), 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_eq(q.n_params, 2);
    cr_assert_str_eq(q.params[0], "19676");
    cr_assert_str_eq(q.params[1], "19676");
    /* One millisecond past midnight touches the next day. */
    cr_assert_eq(analytics_init(&r, SHOP_READ_FUNNEL, "/v1/analytics/funnel", "from=1700006400000&to=1700092800001",
                                true, &field, NULL), 0);
    cr_assert_eq(r.to_day, 19677);
    /* Inside one day. */
    cr_assert_eq(analytics_init(&r, SHOP_READ_FUNNEL, "/v1/analytics/funnel", "from=1700010000000&to=1700010000001",
                                true, &field, NULL), 0);
    cr_assert_eq(r.from_day, 19676);
    cr_assert_eq(r.to_day, 19676);
    /* 366 days are allowed, 367 are not. */
    cr_assert_eq(analytics_init(&r, SHOP_READ_FUNNEL, "/v1/analytics/funnel", "from=0&to=31622400000", true, &field,
                                NULL), 0);
    cr_assert_eq(r.to_day - r.from_day + 1, 366);
    char detail[256];
    cr_assert_eq(analytics_init(&r, SHOP_READ_FUNNEL, "/v1/analytics/funnel", "from=0&to=31622400001", true, &field,
                                detail), SHOP_EINVAL);
    cr_assert_str_eq(field, "to");
    cr_assert_not_null(strstr(detail, "366"));
}

Test(reads, bad_ranges_name_the_parameter)
{
    static const struct {
        const char *query, *field;
    } cases[] = {
        {NULL, "from"},
        {"to=5", "from"},
        {"from=&to=5", "from"},
        {"from=-1&to=5", "from"},
        {"from=+1&to=5", "from"},
        {"from=1.5&to=5", "from"},
        {"from=1e3&to=5", "from"},
        {"from=253402300800001&to=253402300800002", "from"},
        {"from=99999999999999999999999&to=5", "from"},
        {"from=1", "to"},
        {"from=1&to=x", "to"},
        {"from=5&to=5", "to"},
        {"from=6&to=5", "to"},
        {"from=0&to=253402300800000", "to"},   /* far more than 366 days */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct shop_edge_read_req r;
        const char *field;
        cr_assert_eq(analytics_init(&r, SHOP_READ_REVENUE, "/v1/analytics/revenue", cases[i].query, true, &field,
                                    NULL), SHOP_EINVAL, "%s", cases[i].query ? cases[i].query : "(none)");
        cr_assert_str_eq(field, cases[i].field, "%s", cases[i].query ? cases[i].query : "(none)");
    }
}

Test(reads, by_and_limit_choose_the_query)
{
    struct shop_edge_read_req r;
    struct shop_edge_query q;
    const char *field;
    const char *range = "from=0&to=86400000";
    char query[128];
    cr_assert_eq(analytics_init(&r, SHOP_READ_REVENUE, "/v1/analytics/revenue", range, true, &field, NULL), 0);
    cr_assert_eq(r.by, SHOP_READ_BY_DAY);
    shop_edge_query_build(&r, &q);
    const char *by_day = q.sql;
    snprintf(query, sizeof(query), "%s&by=category", range);
    cr_assert_eq(analytics_init(&r, SHOP_READ_REVENUE, "/v1/analytics/revenue", query, true, &field, NULL), 0);
    cr_assert_eq(r.by, SHOP_READ_BY_CATEGORY);
    shop_edge_query_build(&r, &q);
    cr_assert(q.sql != by_day);
    cr_assert_not_null(strstr(q.sql, "category_daily"));
    snprintf(query, sizeof(query), "%s&by=units", range);
    cr_assert_eq(analytics_init(&r, SHOP_READ_REVENUE, "/v1/analytics/revenue", query, true, &field, NULL),
                 SHOP_EINVAL);
    cr_assert_str_eq(field, "by");

    cr_assert_eq(analytics_init(&r, SHOP_READ_TOP_PRODUCTS, "/v1/analytics/top-products", range, true, &field, NULL),
                 0);
    cr_assert_eq(r.by, SHOP_READ_BY_UNITS);
    cr_assert_eq(r.limit, SHOP_READ_TOP_LIMIT_DEFAULT);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_eq(q.n_params, 3);
    cr_assert_str_eq(q.params[2], "10");
    cr_assert_not_null(strstr(q.sql, "from product_daily where"));
    snprintf(query, sizeof(query), "%s&by=revenue&limit=100", range);
    cr_assert_eq(analytics_init(&r, SHOP_READ_TOP_PRODUCTS, "/v1/analytics/top-products", query, true, &field, NULL),
                 0);
    cr_assert_eq(shop_edge_query_build(&r, &q), 0);
    cr_assert_str_eq(q.params[2], "100");
    cr_assert_not_null(strstr(q.sql, "partition by currency"), "revenue is ranked per currency");
    static const char *const bad_limits[] = {"0", "101", "-1", "x", ""};
    for (size_t i = 0; i < 5; i++) {
        snprintf(query, sizeof(query), "%s&limit=%s", range, bad_limits[i]);
        cr_assert_eq(analytics_init(&r, SHOP_READ_TOP_PRODUCTS, "/v1/analytics/top-products", query, true, &field,
                                    NULL), SHOP_EINVAL, "%s", query);
        cr_assert_str_eq(field, "limit");
    }
    snprintf(query, sizeof(query), "%s&by=day", range);
    cr_assert_eq(analytics_init(&r, SHOP_READ_TOP_PRODUCTS, "/v1/analytics/top-products", query, true, &field, NULL),
                 SHOP_EINVAL);
    cr_assert_str_eq(field, "by");
}

Test(reads, analytics_routes_take_only_their_parameters)
{
    struct shop_edge_match m;
    shop_edge_route_match("GET", 3, "/v1/analytics/funnel", strlen("/v1/analytics/funnel"), "from=0&to=1&by=day",
                          strlen("from=0&to=1&by=day"), &m);
    cr_assert_eq(m.status, 400);
    cr_assert_str_eq(m.field, "by");
    shop_edge_route_match("GET", 3, "/v1/me/activity", strlen("/v1/me/activity"), "from=0", strlen("from=0"), &m);
    cr_assert_eq(m.status, 400);
    cr_assert_str_eq(m.field, "from");
    shop_edge_route_match("POST", 4, "/v1/analytics/revenue", strlen("/v1/analytics/revenue"), NULL, 0, &m);
    cr_assert_eq(m.status, 405);
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_TOP_PRODUCTS), "top_products");
}
