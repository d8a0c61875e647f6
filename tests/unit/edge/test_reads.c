/* SPDX-License-Identifier: MIT
 * Read queries: parameters, never pasted values; admin lifts the owner filter. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/shop_err.h"
#include "edge/core/edge_reads.h"

Test(reads, order_query_filters_by_owner_unless_admin)
{
    struct shop_edge_query q;
    cr_assert_eq(shop_edge_query_build(SHOP_READ_ORDER, "u1", "o1", false, &q), 0);
    cr_assert_eq(q.n_params, 2);
    cr_assert_str_eq(q.params[0], "o1");
    cr_assert_str_eq(q.params[1], "u1");
    cr_assert_eq(shop_edge_query_build(SHOP_READ_ORDER, "ops", "o1", true, &q), 0);
    cr_assert_null(q.params[1]);
}

Test(reads, values_never_appear_in_sql)
{
    const char *evil = "x'; drop table orders; --";
    struct shop_edge_query q;
    for (int k = 0; k < SHOP_READ_COUNT; k++) {
        cr_assert_eq(shop_edge_query_build((enum shop_edge_read)k, evil, evil, false, &q), 0);
        cr_assert_null(strstr(q.sql, evil));
    }
}

Test(reads, missing_inputs_are_rejected)
{
    struct shop_edge_query q;
    cr_assert_eq(shop_edge_query_build(SHOP_READ_CART, NULL, NULL, false, &q), SHOP_EINVAL);
    cr_assert_eq(shop_edge_query_build(SHOP_READ_PRODUCT, "u", NULL, false, &q), SHOP_EINVAL);
}
