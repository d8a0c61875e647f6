/* SPDX-License-Identifier: MIT
 * The roles a bearer token may carry (claim "role": a string, or "roles": an array of
 * strings): shopper, service, admin. Pure. A token's roles are a bit set; a token that
 * names none of the known roles is a shopper (the default), so a bit set is never empty.
 * Unknown role strings are ignored, never an error: they grant nothing.
 */
#ifndef SHOP_EDGE_ROLE_H
#define SHOP_EDGE_ROLE_H

#include <stdbool.h>

enum shop_edge_role {
    SHOP_EDGE_ROLE_SHOPPER = 0,   /* the default: their own browse, cart and order events */
    SHOP_EDGE_ROLE_SERVICE,       /* trusted backends: checkout, payments, fulfilment, importers */
    SHOP_EDGE_ROLE_ADMIN,         /* everything service may, plus the catalog */
    SHOP_EDGE_ROLE_COUNT
};

#define SHOP_EDGE_ROLE_BIT(r) (1u << (unsigned)(r))
#define SHOP_EDGE_ROLES_ALL ((1u << SHOP_EDGE_ROLE_COUNT) - 1u)

/** "shopper", "service", "admin"; NULL for anything else. */
const char *shop_edge_role_name(enum shop_edge_role r);

/** The role named name (exact, lower case); returns 0 or SHOP_EINVAL for an unknown name. */
int shop_edge_role_parse(const char *name, enum shop_edge_role *out);

/** The bit set of a token's claims, given the JSON text of its "role" and "roles" claims
 *  (either may be NULL when absent). Each may be a string or an array of strings; other
 *  JSON values and unknown names are ignored. No known role: SHOP_EDGE_ROLE_BIT(SHOPPER). */
unsigned shop_edge_role_set_from_claims(const char *role_json, const char *roles_json);

/** True when set holds r. */
bool shop_edge_role_set_has(unsigned set, enum shop_edge_role r);

#endif
