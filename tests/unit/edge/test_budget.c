/* SPDX-License-Identifier: MIT
 * shop_edge_budget: reservations up to the cap, the lone oversized one, release. */
#include <criterion/criterion.h>

#include "edge/core/edge_budget.h"

Test(budget, reserves_up_to_the_cap_and_refuses_past_it)
{
    struct shop_edge_budget b;
    shop_edge_budget_init(&b, 100);
    cr_assert(shop_edge_budget_reserve(&b, 60));
    cr_assert(shop_edge_budget_reserve(&b, 40));
    cr_assert_not(shop_edge_budget_reserve(&b, 1));
    cr_assert_eq(shop_edge_budget_used(&b), 100, "a refusal reserves nothing");
    shop_edge_budget_release(&b, 40);
    cr_assert_not(shop_edge_budget_reserve(&b, 41));
    cr_assert(shop_edge_budget_reserve(&b, 40));
}

Test(budget, one_reservation_larger_than_the_cap_goes_only_alone)
{
    struct shop_edge_budget b;
    shop_edge_budget_init(&b, 100);
    cr_assert(shop_edge_budget_reserve(&b, 1));
    cr_assert_not(shop_edge_budget_reserve(&b, 500), "not beside another");
    shop_edge_budget_release(&b, 1);
    cr_assert(shop_edge_budget_reserve(&b, 500), "alone it may go");
    cr_assert_not(shop_edge_budget_reserve(&b, 1), "and nothing else while it holds");
    shop_edge_budget_release(&b, 500);
    cr_assert_eq(shop_edge_budget_used(&b), 0);
}

Test(budget, a_cap_of_one_counts_connections)
{
    struct shop_edge_budget b;
    shop_edge_budget_init(&b, 1);
    cr_assert(shop_edge_budget_reserve(&b, 1));
    cr_assert_not(shop_edge_budget_reserve(&b, 1));
}
