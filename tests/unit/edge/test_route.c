/* SPDX-License-Identifier: MIT
 * shop_edge_route_match: the route table, methods, ids, queries. */
#include <criterion/criterion.h>
#include <string.h>

#include "edge/core/edge_route.h"

static struct shop_edge_match match(const char *method, const char *path)
{
    struct shop_edge_match m;
    shop_edge_route_match(method, strlen(method), path, strlen(path), &m);
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
