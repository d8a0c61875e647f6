/* SPDX-License-Identifier: MIT
 * shop_edge_route_match: the route table, methods, ids, queries. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "edge/core/edge_route.h"

/* path may carry "?query", split off as h2o does (path_normalized, query_at). */
static struct shop_edge_match match(const char *method, const char *path)
{
    struct shop_edge_match m;
    const char *q = strchr(path, '?');
    size_t path_len = q != NULL ? (size_t)(q - path) : strlen(path);
    shop_edge_route_match(method, strlen(method), path, path_len, q != NULL ? q + 1 : NULL,
                          q != NULL ? strlen(q + 1) : 0, &m);
    return m;
}

Test(route, matches_fixed_paths)
{
    cr_assert_eq(match("POST", "/v1/events").route, SHOP_ROUTE_EVENTS);
    cr_assert_eq(match("POST", "/v1/events").status, 0);
    cr_assert_eq(match("GET", "/v1/me/cart").route, SHOP_ROUTE_CART);
    cr_assert_eq(match("GET", "/v1/me/orders?limit=3").route, SHOP_ROUTE_ORDERS);
    cr_assert_eq(match("GET", "/healthz").route, SHOP_ROUTE_HEALTHZ);
    cr_assert_eq(match("GET", "/readyz").route, SHOP_ROUTE_READYZ);
    cr_assert_eq(match("GET", "/metrics").route, SHOP_ROUTE_METRICS);
    cr_assert_eq(match("GET", "/v1/openapi.yaml").route, SHOP_ROUTE_OPENAPI);
    cr_assert_eq(match("GET", "/v1/openapi.yaml").status, 0);
    cr_assert_eq(match("POST", "/v1/openapi.yaml").status, 405);
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_OPENAPI), "openapi");
}

Test(route, extracts_ids)
{
    struct shop_edge_match m = match("GET", "/v1/orders/o-42");
    cr_assert_eq(m.route, SHOP_ROUTE_ORDER);
    cr_assert_eq(m.param_len, 4);
    cr_assert_eq(strncmp(m.param, "o-42", 4), 0);
    m = match("GET", "/v1/products/sku_1.2:x");
    cr_assert_eq(m.route, SHOP_ROUTE_PRODUCT);
    cr_assert_eq(m.param_len, 9);
}

/* The ML reads (issue 8): two fixed paths, two sub-resources of a product. */
Test(route, matches_the_ml_reads)
{
    cr_assert_eq(match("GET", "/v1/me/recommendations").route, SHOP_ROUTE_RECS);
    cr_assert_eq(match("GET", "/v1/me/segment").route, SHOP_ROUTE_SEGMENT);
    cr_assert_eq(match("GET", "/v1/segments").route, SHOP_ROUTE_SEGMENTS);
    struct shop_edge_match m = match("GET", "/v1/products/p-1.x/similar");
    cr_assert_eq(m.status, 0);
    cr_assert_eq(m.route, SHOP_ROUTE_SIMILAR);
    cr_assert_eq(m.param_len, 5);
    cr_assert_eq(strncmp(m.param, "p-1.x", 5), 0);
    m = match("GET", "/v1/products/p1/forecast");
    cr_assert_eq(m.route, SHOP_ROUTE_FORECAST);
    cr_assert_eq(m.param_len, 2);
    /* A product whose id is a sub-resource's name is still the product. */
    m = match("GET", "/v1/products/similar");
    cr_assert_eq(m.route, SHOP_ROUTE_PRODUCT);
    cr_assert_eq(m.param_len, 7);
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_RECS), "recommendations");
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_SIMILAR), "similar");
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_SEGMENT), "segment");
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_SEGMENTS), "segments");
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_FORECAST), "forecast");
}

Test(route, ml_reads_take_their_own_parameters_only)
{
    struct shop_edge_match m = match("GET", "/v1/me/recommendations?limit=5");
    cr_assert_eq(m.status, 0);
    cr_assert_str_eq(shop_edge_match_arg(&m, SHOP_ARG_LIMIT), "5");
    m = match("GET", "/v1/products/p1/similar?limit=7");
    cr_assert_str_eq(shop_edge_match_arg(&m, SHOP_ARG_LIMIT), "7");
    m = match("GET", "/v1/products/p1/forecast?days=28");
    cr_assert_eq(m.status, 0);
    cr_assert_str_eq(shop_edge_match_arg(&m, SHOP_ARG_DAYS), "28");
    cr_assert_str_eq(shop_edge_arg_name(SHOP_ARG_DAYS), "days");
    m = match("GET", "/v1/products/p1/forecast?limit=3");
    cr_assert_eq(m.status, 400);
    cr_assert_str_eq(m.field, "limit");
    m = match("GET", "/v1/me/recommendations?days=3");
    cr_assert_eq(m.status, 400);
    cr_assert_str_eq(m.field, "days");
    cr_assert_eq(match("GET", "/v1/me/segment?limit=1").status, 400);
    cr_assert_eq(match("GET", "/v1/segments?cursor=x").status, 400);
    cr_assert_eq(match("POST", "/v1/products/p1/similar").status, 405);
    cr_assert_eq(match("DELETE", "/v1/segments").status, 405);
    cr_assert(match("OPTIONS", "/v1/products/p1/forecast").preflight);
}

Test(route, ml_sub_resources_need_one_good_id)
{
    cr_assert_eq(match("GET", "/v1/products//similar").status, 404);
    cr_assert_eq(match("GET", "/v1/products/a/b/similar").status, 404);
    cr_assert_eq(match("GET", "/v1/products/p1/similar/").status, 404);
    cr_assert_eq(match("GET", "/v1/products/p1/similarx").status, 404);
    cr_assert_eq(match("GET", "/v1/products/p1/forecasts").status, 404);
    cr_assert_eq(match("GET", "/v1/products/%27;x/forecast").status, 404);
    cr_assert_eq(match("GET", "/v1/me/recommendations/x").status, 404);
    cr_assert_eq(match("GET", "/v1/segments/1").status, 404);
    char longid[300] = "/v1/products/";
    memset(longid + strlen(longid), 'a', SHOP_ROUTE_ID_MAX);
    strcat(longid, "/similar");
    cr_assert_eq(match("GET", longid).status, 0);
    memmove(longid + strlen("/v1/products/") + 1, longid + strlen("/v1/products/"),
            strlen(longid) - strlen("/v1/products/") + 1);
    cr_assert_eq(match("GET", longid).status, 404, "an id of %d characters", SHOP_ROUTE_ID_MAX + 1);
}

Test(route, rejects_bad_ids_and_unknown_paths)
{
    cr_assert_eq(match("GET", "/v1/orders/").status, 404);
    cr_assert_eq(match("GET", "/v1/orders/a/b").status, 404);
    cr_assert_eq(match("GET", "/v1/products/%27;drop").status, 404);
    cr_assert_eq(match("GET", "/v1/eventsx").status, 404);
    cr_assert_eq(match("GET", "/").route, SHOP_ROUTE_OTHER);
    char longid[200] = "/v1/orders/";
    memset(longid + strlen(longid), 'a', 150);
    cr_assert_eq(match("GET", longid).status, 404);
}

Test(route, wrong_method_is_405_and_options_is_preflight)
{
    struct shop_edge_match m = match("GET", "/v1/events");
    cr_assert_eq(m.status, 405);
    cr_assert_str_eq(m.allow, "POST, OPTIONS");
    m = match("DELETE", "/v1/me/cart");
    cr_assert_eq(m.status, 405);
    m = match("OPTIONS", "/v1/events");
    cr_assert_eq(m.status, 0);
    cr_assert(m.preflight);
}

Test(route, names_for_metrics)
{
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_EVENTS), "events");
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_OTHER), "other");
}

Test(route, query_parameters_of_the_route_are_decoded)
{
    struct shop_edge_match m = match("GET", "/v1/me/orders?limit=3&cursor=AQ%2D_x+y");
    cr_assert_eq(m.status, 0);
    cr_assert_str_eq(shop_edge_match_arg(&m, SHOP_ARG_LIMIT), "3");
    cr_assert_str_eq(shop_edge_match_arg(&m, SHOP_ARG_CURSOR), "AQ-_x y");
    m = match("GET", "/v1/me/orders");
    cr_assert_eq(m.status, 0);
    cr_assert_null(shop_edge_match_arg(&m, SHOP_ARG_LIMIT));
    cr_assert_null(shop_edge_match_arg(&m, SHOP_ARG_CURSOR));
    m = match("GET", "/v1/me/orders?");
    cr_assert_eq(m.status, 0);
    m = match("GET", "/v1/me/orders?&limit=&&");   /* empty pairs skipped; an empty value is given */
    cr_assert_eq(m.status, 0);
    cr_assert_str_eq(shop_edge_match_arg(&m, SHOP_ARG_LIMIT), "");
    m = match("GET", "/v1/me/orders?limit");
    cr_assert_str_eq(shop_edge_match_arg(&m, SHOP_ARG_LIMIT), "");
    m = match("GET", "/v1/me/orders?%6cimit=5");     /* the name is decoded too */
    cr_assert_str_eq(shop_edge_match_arg(&m, SHOP_ARG_LIMIT), "5");
}

struct bad_query {   /* arrays, not pointers: Criterion copies parameters to the test process */
    char path[64];
    char field[16];
};

ParameterizedTestParameters(route, bad_query_is_400_naming_the_parameter)
{
    static struct bad_query cases[] = {
        {"/v1/me/orders?page=2", "page"},
        {"/v1/me/orders?limit=1&limit=2", "limit"},
        {"/v1/me/orders?cursor=%zz", "cursor"},
        {"/v1/me/orders?cursor=%4", "cursor"},
        {"/v1/me/orders?cursor=a%00b", "cursor"},
        {"/v1/me/orders?%zz=1", "query"},
        {"/v1/me/orders?na%00me=1", "query"},
        {"/v1/me/orders?%3Cscript%3E=1", "query"},   /* not echoed: no safe name */
        {"/v1/orders/o1?limit=1", "limit"},          /* a parameter of another route */
        {"/v1/products/p1?x", "x"},
        {"/healthz?probe=1", "probe"},
    };
    return cr_make_param_array(struct bad_query, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_query *c, route, bad_query_is_400_naming_the_parameter)
{
    struct shop_edge_match m = match("GET", c->path);
    cr_assert_eq(m.status, 400, "%s: status %d", c->path, m.status);
    cr_assert_str_eq(m.field, c->field, "%s", c->path);
    cr_assert_neq(m.detail[0], '\0');
}

Test(route, overlong_values_and_queries_are_400)
{
    char path[4096] = "/v1/me/orders?cursor=";
    memset(path + strlen(path), 'A', SHOP_ROUTE_ARG_MAX);
    cr_assert_eq(match("GET", path).status, 0);
    strcat(path, "A");
    struct shop_edge_match m = match("GET", path);
    cr_assert_eq(m.status, 400);
    cr_assert_str_eq(m.field, "cursor");
    char many[4096] = "/v1/me/orders?";
    while (strlen(many) < SHOP_ROUTE_QUERY_MAX + 20)
        strcat(many, "&");
    m = match("GET", many);
    cr_assert_eq(m.status, 400);
    cr_assert_str_eq(m.field, "query");
}

Test(route, options_and_wrong_methods_ignore_the_query)
{
    struct shop_edge_match m = match("OPTIONS", "/v1/me/orders?bogus=1");
    cr_assert_eq(m.status, 0);
    cr_assert(m.preflight);
    cr_assert_eq(match("POST", "/v1/me/orders?bogus=1").status, 405);
}
