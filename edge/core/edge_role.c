/* SPDX-License-Identifier: MIT
 * Token roles: names and the bit set read from the "role" / "roles" claims. Pure.
 * Invariant: a set is never empty (no known role is the shopper default).
 */
#include "edge/core/edge_role.h"

#include <jansson.h>
#include <string.h>

#include "base/shop_err.h"

static const char *const names[SHOP_EDGE_ROLE_COUNT] = {"shopper", "service", "admin"};

const char *shop_edge_role_name(enum shop_edge_role r)
{
    if ((int)r < 0 || r >= SHOP_EDGE_ROLE_COUNT)
        return NULL;
    return names[r];
}

int shop_edge_role_parse(const char *name, enum shop_edge_role *out)
{
    for (int r = 0; name != NULL && r < SHOP_EDGE_ROLE_COUNT; r++) {
        if (strcmp(names[r], name) == 0) {
            *out = (enum shop_edge_role)r;
            return 0;
        }
    }
    return SHOP_EINVAL;
}

static unsigned bit_of(const json_t *v)
{
    enum shop_edge_role r;
    /* A string with an embedded NUL names no role (strlen would stop short of it). */
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return 0;
    return shop_edge_role_parse(json_string_value(v), &r) == 0 ? SHOP_EDGE_ROLE_BIT(r) : 0;
}

/* A claim's roles: a string or an array of strings. */
static unsigned bits_of(const char *js)
{
    if (js == NULL)
        return 0;
    json_t *v = json_loads(js, JSON_DECODE_ANY, NULL);
    unsigned set = bit_of(v);
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
            set |= bit_of(e);
    }
    json_decref(v);
    return set;
}

unsigned shop_edge_role_set_from_claims(const char *role_json, const char *roles_json)
{
    unsigned set = bits_of(role_json) | bits_of(roles_json);
    return set != 0 ? set : SHOP_EDGE_ROLE_BIT(SHOP_EDGE_ROLE_SHOPPER);
}

bool shop_edge_role_set_has(unsigned set, enum shop_edge_role r)
{
    return (int)r >= 0 && r < SHOP_EDGE_ROLE_COUNT && (set & SHOP_EDGE_ROLE_BIT(r)) != 0;
}
