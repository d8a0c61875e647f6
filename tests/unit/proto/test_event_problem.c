/* SPDX-License-Identifier: MIT
 * RFC 9457 problem bodies. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "helpers.h"

static json_t *load(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    cr_assert_not_null(j, "%s: %s", s, e.text);
    return j;
}

Test(event_problem, body_names_index_and_field)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_problem p = {.index = 2, .field = "lines[0].quantity", .detail = "must be at least 1"};
    json_t *j = load(shop_problem_json(&p, 400, "Invalid event", &a));
    cr_assert_str_eq(json_string_value(json_object_get(j, "type")), "about:blank");
    cr_assert_str_eq(json_string_value(json_object_get(j, "title")), "Invalid event");
    cr_assert_eq(json_integer_value(json_object_get(j, "status")), 400);
    cr_assert_str_eq(json_string_value(json_object_get(j, "detail")), "must be at least 1");
    cr_assert_eq(json_integer_value(json_object_get(j, "event_index")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(j, "field")), "lines[0].quantity");
    json_decref(j);
    shop_arena_fini(&a);
}

Test(event_problem, batch_level_problem_has_no_event_index)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_problem p = {.index = -1, .field = "events", .detail = "must hold at least one event"};
    json_t *j = load(shop_problem_json(&p, 400, NULL, &a));
    cr_assert_null(json_object_get(j, "event_index"));
    cr_assert_str_eq(json_string_value(json_object_get(j, "title")), "Bad Request");
    cr_assert_str_eq(json_string_value(json_object_get(j, "field")), "events");
    json_decref(j);
    shop_arena_fini(&a);
}

Test(event_problem, empty_field_and_detail_are_left_out)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_problem p = {.index = -1};
    json_t *j = load(shop_problem_json(&p, 503, NULL, &a));
    cr_assert_null(json_object_get(j, "field"));
    cr_assert_null(json_object_get(j, "detail"));
    cr_assert_eq(json_integer_value(json_object_get(j, "status")), 503);
    cr_assert_eq(json_object_size(j), 3);
    json_decref(j);
    j = load(shop_problem_json(NULL, 401, "Unauthorized", &a));
    cr_assert_eq(json_object_size(j), 3);
    json_decref(j);
    shop_arena_fini(&a);
}

Test(event_problem, escapes_and_survives_bad_utf8)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_problem p = {.index = 0, .field = "q\"x", .detail = "bad \xff byte"};
    json_t *j = load(shop_problem_json(&p, 400, NULL, &a));
    cr_assert_str_eq(json_string_value(json_object_get(j, "field")), "q\"x");
    cr_assert_str_eq(json_string_value(json_object_get(j, "detail")), "bad ? byte");
    json_decref(j);
    shop_arena_fini(&a);
}

Test(event_problem, json_problems_are_cut_on_utf8_boundaries)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    /* A 95-byte key ending in a 2-byte sequence: the 96-byte field cannot hold it whole. */
    const char *body = "{\"events\":[{\"type\":\"cart.cleared\",\"" A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\":1}]}";
    Shopstream__V1__Event **evs;
    size_t n;
    struct shop_problem p = {0};
    cr_assert_eq(shop_event_batch_from_json(body, strlen(body), NULL, &a, &evs, &n, &p), SHOP_EINVAL);
    cr_assert_eq(strlen(p.field), 94);
    json_t *j = load(shop_problem_json(&p, 400, NULL, &a));
    cr_assert_eq(strlen(json_string_value(json_object_get(j, "field"))), 94);
    json_decref(j);
    shop_arena_fini(&a);
}
