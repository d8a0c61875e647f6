/* SPDX-License-Identifier: MIT
 * shop_event_stamp: what the edge fills in before validation. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

static int stamp(struct shop_arena *a, Shopstream__V1__Event *ev, int index, struct shop_problem *p)
{
    return shop_event_stamp(ev, index, T_SUBJECT, T_UUID, T_RECEIVED_MS, T_SOURCE, a, p);
}

Test(event_stamp, fills_what_the_edge_owns)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(&a, "{'type':'cart.cleared'}");
    struct shop_problem p = {0};
    cr_assert_eq(stamp(&a, ev, 0, &p), 0);
    cr_assert_str_eq(ev->user_id, T_SUBJECT);
    cr_assert_str_eq(ev->id, T_UUID);
    cr_assert_eq(ev->received_at_ms, T_RECEIVED_MS);
    cr_assert_eq(ev->occurred_at_ms, T_RECEIVED_MS);
    cr_assert_str_eq(ev->source, T_SOURCE);
    cr_assert_eq(shop_event_validate(ev, NULL, &p), 0);
    shop_arena_fini(&a);
}

Test(event_stamp, keeps_client_id_and_time)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(
        &a, "{'type':'cart.cleared','id':'11111111-2222-4333-8444-555555555555','at':1699999999000}");
    struct shop_problem p = {0};
    cr_assert_eq(stamp(&a, ev, 0, &p), 0);
    cr_assert_str_eq(ev->id, "11111111-2222-4333-8444-555555555555");
    cr_assert_eq(ev->occurred_at_ms, INT64_C(1699999999000));
    shop_arena_fini(&a);
}

Test(event_stamp, other_users_subject_is_forbidden)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(&a, "{'type':'cart.cleared','user_id':'mallory'}");
    struct shop_problem p = {.index = -1};
    cr_assert_eq(stamp(&a, ev, 3, &p), SHOP_EFORBIDDEN);
    cr_assert_eq(p.index, 3);
    cr_assert_str_eq(p.field, "user_id");
    cr_assert_str_eq(ev->user_id, "mallory", "left untouched");
    shop_arena_fini(&a);
}

Test(event_stamp, same_subject_is_accepted)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(&a, "{'type':'cart.cleared','user_id':'" T_SUBJECT "'}");
    struct shop_problem p = {0};
    cr_assert_eq(stamp(&a, ev, 0, &p), 0);
    cr_assert_str_eq(ev->user_id, T_SUBJECT);
    shop_arena_fini(&a);
}

Test(event_stamp, type_comes_from_payload_when_absent)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(&a, "{'type':'order.delivered','order_id':'o1'}");
    ev->type = "";
    struct shop_problem p = {0};
    cr_assert_eq(stamp(&a, ev, 0, &p), 0);
    cr_assert_str_eq(ev->type, "order.delivered");
    shop_arena_fini(&a);
}

Test(event_stamp, order_total_is_the_sum_of_lines)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(
        &a, "{'type':'order.placed','order_id':'o1','lines':["
            "{'product_id':'p1','quantity':3,'unit_price':" MONEY(250, "EUR") "},"
            "{'product_id':'p2','quantity':1,'unit_price':" MONEY(99, "EUR") "}]}");
    struct shop_problem p = {0};
    cr_assert_eq(stamp(&a, ev, 0, &p), 0);
    cr_assert_not_null(ev->order_placed->total);
    cr_assert_eq(ev->order_placed->total->amount_minor, 849);
    cr_assert_str_eq(ev->order_placed->total->currency, "EUR");
    cr_assert_eq(shop_event_validate(ev, NULL, &p), 0, "%s: %s", p.field, p.detail);
    shop_arena_fini(&a);
}

Test(event_stamp, given_total_is_kept_for_validation)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(
        &a, "{'type':'order.placed','order_id':'o1','lines':["
            "{'product_id':'p1','quantity':3,'unit_price':" MONEY(250, "EUR") "}],"
            "'total':" MONEY(1, "EUR") "}");
    struct shop_problem p = {0};
    cr_assert_eq(stamp(&a, ev, 0, &p), 0);
    cr_assert_eq(ev->order_placed->total->amount_minor, 1);
    cr_assert_eq(shop_event_validate(ev, NULL, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "total.amount_minor");
    shop_arena_fini(&a);
}

Test(event_stamp, mixed_currencies_leave_total_unset)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(
        &a, "{'type':'order.placed','order_id':'o1','lines':["
            "{'product_id':'p1','quantity':1,'unit_price':" MONEY(250, "EUR") "},"
            "{'product_id':'p2','quantity':1,'unit_price':" MONEY(99, "GBP") "}]}");
    struct shop_problem p = {0};
    cr_assert_eq(stamp(&a, ev, 0, &p), 0);
    cr_assert_null(ev->order_placed->total);
    cr_assert_eq(shop_event_validate(ev, NULL, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "lines[1].unit_price.currency");
    shop_arena_fini(&a);
}
