/* SPDX-License-Identifier: MIT
 * CloudEvents Kafka binding headers and W3C traceparent checks. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "helpers.h"

#define TP_OK "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static const char *header(const struct shop_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

Test(event_headers, cart_event_headers)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, "{'type':'cart.item_removed','product_id':'p1','at':1700000000250}");
    struct shop_header h[SHOP_CE_HEADERS_MAX];
    size_t n = shop_event_ce_headers(ev, TP_OK, &a, h);
    cr_assert_eq(n, 8);
    cr_assert_str_eq(header(h, n, "ce_specversion"), "1.0");
    cr_assert_str_eq(header(h, n, "ce_id"), T_UUID);
    cr_assert_str_eq(header(h, n, "ce_type"), "com.shopstream.cart.item_removed.v1");
    cr_assert_str_eq(header(h, n, "ce_source"), T_SOURCE);
    cr_assert_str_eq(header(h, n, "ce_time"), "2023-11-14T22:13:20.250Z");
    cr_assert_str_eq(header(h, n, "ce_subject"), T_SUBJECT);
    cr_assert_str_eq(header(h, n, "content-type"), "application/x-protobuf");
    cr_assert_str_eq(header(h, n, "traceparent"), TP_OK);
    shop_arena_fini(&a);
}

Test(event_headers, catalog_subject_is_product_and_source_defaults)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, "{'type':'catalog.stock_adjusted','product_id':'sku-1','delta':5}");
    ev->source = "";
    struct shop_header h[SHOP_CE_HEADERS_MAX];
    size_t n = shop_event_ce_headers(ev, "not-a-traceparent", &a, h);
    cr_assert_eq(n, 7);
    cr_assert_str_eq(header(h, n, "ce_subject"), "sku-1");
    cr_assert_str_eq(header(h, n, "ce_source"), "/shopstream/edge");
    cr_assert_str_eq(header(h, n, "ce_type"), "com.shopstream.catalog.stock_adjusted.v1");
    cr_assert_null(header(h, n, "traceparent"));
    cr_assert_eq(shop_event_ce_headers(ev, NULL, &a, h), 7);
    shop_arena_fini(&a);
}

struct tcase {
    int64_t ms;
    const char *text;
};

static const struct tcase times[] = {
    {0, "1970-01-01T00:00:00.000Z"},
    {1, "1970-01-01T00:00:00.001Z"},
    {-1, "1969-12-31T23:59:59.999Z"},
    {INT64_C(946684800000), "2000-01-01T00:00:00.000Z"},
    {INT64_C(951782400123), "2000-02-29T00:00:00.123Z"},
    {INT64_C(1700000000000), "2023-11-14T22:13:20.000Z"},
    {INT64_C(1709251199999), "2024-02-29T23:59:59.999Z"},
    {INT64_C(4102444800000), "2100-01-01T00:00:00.000Z"},
    {INT64_C(253402300799999), "9999-12-31T23:59:59.999Z"},
};

ParameterizedTestParameters(event_headers, ce_time_is_rfc3339_utc_millis)
{
    T_INDEX_PARAMS(times);
}

ParameterizedTest(size_t *i, event_headers, ce_time_is_rfc3339_utc_millis)
{
    const struct tcase *c = &times[*i];
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, "{'type':'cart.cleared'}");
    ev->occurred_at_ms = c->ms;
    struct shop_header h[SHOP_CE_HEADERS_MAX];
    size_t n = shop_event_ce_headers(ev, NULL, &a, h);
    cr_assert_str_eq(header(h, n, "ce_time"), c->text, "%lld", (long long)c->ms);
    shop_arena_fini(&a);
}

struct tpcase {
    const char *tp;
    bool ok;
};

static const struct tpcase traceparents[] = {
    {TP_OK, true},
    {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", true},
    {"00-00000000000000000000000000000000-00f067aa0ba902b7-01", false},
    {"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false},
    {"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
    {"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
    {"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false},
    {"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false},
    {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", false},
    {"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false},
    {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", false},
    {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01", false},
    {"", false},
};

ParameterizedTestParameters(event_headers, traceparent_validity)
{
    T_INDEX_PARAMS(traceparents);
}

ParameterizedTest(size_t *i, event_headers, traceparent_validity)
{
    const struct tpcase *c = &traceparents[*i];
    cr_assert_eq(shop_traceparent_is_valid(c->tp), c->ok, "%s", c->tp);
}

Test(event_headers, null_traceparent_is_invalid)
{
    cr_assert_not(shop_traceparent_is_valid(NULL));
}
