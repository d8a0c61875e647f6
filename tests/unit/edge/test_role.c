/* SPDX-License-Identifier: MIT
 * shop_role: names, parsing, and the bit set read from the role / roles claims. */
#include <criterion/criterion.h>
#include <string.h>

#include "edge/core/edge_role.h"

#define B(r) SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_##r)

Test(edge_role, names_round_trip)
{
    for (int r = 0; r < SHOP_EDGE_ROLE_COUNT; r++) {
        enum shop_edge_role back;
        cr_assert_eq(shop_edge_role_parse(shop_edge_role_name((enum shop_edge_role)r), &back), 0);
        cr_assert_eq((int)back, r);
    }
    cr_assert_str_eq(shop_edge_role_name(SHOP_EDGE_ROLE_SHOPPER), "shopper");
    cr_assert_str_eq(shop_edge_role_name(SHOP_EDGE_ROLE_SERVICE), "service");
    cr_assert_str_eq(shop_edge_role_name(SHOP_EDGE_ROLE_ADMIN), "admin");
    cr_assert_null(shop_edge_role_name(SHOP_EDGE_ROLE_COUNT));
    enum shop_edge_role r;
    cr_assert_neq(shop_edge_role_parse("inventory", &r), 0);
    cr_assert_neq(shop_edge_role_parse("", &r), 0);
    cr_assert_neq(shop_edge_role_parse(NULL, &r), 0);
}

struct claims_case {
    const char *role, *roles;
    unsigned want;
};

Test(edge_role, set_from_claims)
{
    static const struct claims_case cases[] = {
        {NULL, NULL, B(SHOPPER)},
        {"\"shopper\"", NULL, B(SHOPPER)},
        {"\"service\"", NULL, B(SERVICE)},
        {"\"admin\"", NULL, B(ADMIN)},
        {NULL, "[\"service\",\"admin\"]", B(SERVICE) | B(ADMIN)},
        {"\"shopper\"", "[\"admin\"]", B(SHOPPER) | B(ADMIN)},
        {NULL, "\"service\"", B(SERVICE)},
        {"[\"admin\"]", NULL, B(ADMIN)},
        {"\"superuser\"", NULL, B(SHOPPER)},
        {NULL, "[\"superuser\",\"service\"]", B(SERVICE)},
        {NULL, "[]", B(SHOPPER)},
        {"42", "{\"admin\":true}", B(SHOPPER)},
        {"\"adm\\u0000in\"", NULL, B(SHOPPER)},
        {"\"admin\\u0000\"", NULL, B(SHOPPER)},
        {"not json", NULL, B(SHOPPER)},
        {NULL, "[[\"admin\"]]", B(SHOPPER)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct claims_case *c = &cases[i];
        cr_expect_eq(shop_edge_role_set_from_claims(c->role, c->roles), c->want, "role=%s roles=%s",
                     c->role ? c->role : "-", c->roles ? c->roles : "-");
    }
}
