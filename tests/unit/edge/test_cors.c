/* SPDX-License-Identifier: MIT
 * CORS origin lists and preflight answers. */
#include <criterion/criterion.h>
#include <string.h>

#include "edge/core/edge_cors.h"

#define S(x) x, strlen(x)

Test(cors, disabled_sends_nothing)
{
    struct shop_edge_cors c;
    cr_assert_eq(shop_edge_cors_parse(&c, NULL, NULL), 0);
    cr_assert_null(shop_edge_cors_allow_origin(&c, S("https://a.example")));
}

Test(cors, list_echoes_known_origins_only)
{
    struct shop_edge_cors c;
    cr_assert_eq(shop_edge_cors_parse(&c, "https://a.example, https://b.example", NULL), 0);
    cr_assert_str_eq(shop_edge_cors_allow_origin(&c, S("https://b.example")), "https://b.example");
    cr_assert_null(shop_edge_cors_allow_origin(&c, S("https://evil.example")));
    cr_assert_null(shop_edge_cors_allow_origin(&c, S("https://a.example.evil")));
}

Test(cors, star_allows_any)
{
    struct shop_edge_cors c;
    shop_edge_cors_parse(&c, "*", NULL);
    cr_assert_str_eq(shop_edge_cors_allow_origin(&c, S("https://x")), "*");
}

Test(cors, preflight_allows_listed_method_and_headers)
{
    struct shop_edge_cors c;
    shop_edge_cors_parse(&c, "https://a.example", NULL);
    struct shop_edge_preflight pf;
    shop_edge_cors_preflight(&c, S("https://a.example"), S("POST"),
                             S("authorization, Content-Type,traceparent"), "POST, OPTIONS", &pf);
    cr_assert_eq(pf.status, 204);
    cr_assert_str_eq(pf.allow_origin, "https://a.example");
    cr_assert_str_eq(pf.allow_headers,
                     "Authorization, Content-Type, traceparent, Prefer, X-Shopstream-After");
    cr_assert_gt(pf.max_age_s, 0);
}

Test(cors, preflight_allows_the_read_your_writes_headers_on_reads)
{
    struct shop_edge_cors c;
    shop_edge_cors_parse(&c, "https://a.example", NULL);
    struct shop_edge_preflight pf;
    shop_edge_cors_preflight(&c, S("https://a.example"), S("GET"),
                             S("authorization, x-shopstream-after, prefer"), "GET, OPTIONS", &pf);
    cr_assert_eq(pf.status, 204);
}

Test(cors, preflight_refuses_origin_method_or_header)
{
    struct shop_edge_cors c;
    shop_edge_cors_parse(&c, "https://a.example", NULL);
    struct shop_edge_preflight pf;
    shop_edge_cors_preflight(&c, S("https://evil"), S("POST"), NULL, 0, "POST, OPTIONS", &pf);
    cr_assert_eq(pf.status, 403);
    shop_edge_cors_preflight(&c, S("https://a.example"), S("DELETE"), NULL, 0, "POST, OPTIONS", &pf);
    cr_assert_eq(pf.status, 403);
    shop_edge_cors_preflight(&c, S("https://a.example"), S("POST"), S("x-admin"), "POST, OPTIONS",
                             &pf);
    cr_assert_eq(pf.status, 403);
    cr_assert_null(pf.allow_origin);
}

/* A refused preflight is a problem body naming the request part at fault. */
Test(cors, preflight_refusal_names_the_part)
{
    struct shop_edge_cors c;
    shop_edge_cors_parse(&c, "https://a.example", NULL);
    struct shop_edge_preflight pf;
    shop_edge_cors_preflight(&c, S("https://evil"), S("POST"), NULL, 0, "POST, OPTIONS", &pf);
    cr_assert_str_eq(pf.field, "origin");
    cr_assert_str_eq(pf.detail, "origin not allowed");
    shop_edge_cors_preflight(&c, S("https://a.example"), NULL, 0, NULL, 0, "POST, OPTIONS", &pf);
    cr_assert_str_eq(pf.field, "access-control-request-method");
    shop_edge_cors_preflight(&c, S("https://a.example"), S("DELETE"), NULL, 0, "POST, OPTIONS", &pf);
    cr_assert_str_eq(pf.field, "access-control-request-method");
    shop_edge_cors_preflight(&c, S("https://a.example"), S("POST"), S("x-admin"), "POST, OPTIONS",
                             &pf);
    cr_assert_str_eq(pf.field, "access-control-request-headers");
    shop_edge_cors_preflight(&c, S("https://a.example"), S("POST"), NULL, 0, "POST, OPTIONS", &pf);
    cr_assert_eq(pf.status, 204);
    cr_assert_null(pf.field);

    struct shop_edge_cors off;
    shop_edge_cors_parse(&off, NULL, NULL);
    shop_edge_cors_preflight(&off, S("https://a.example"), S("POST"), NULL, 0, "POST, OPTIONS", &pf);
    cr_assert_eq(pf.status, 403);
    cr_assert_str_eq(pf.field, "origin");
    cr_assert_str_eq(pf.detail, "cross-origin requests are not enabled");
}
