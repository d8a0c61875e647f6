/* SPDX-License-Identifier: MIT
 * Deterministic outcome ids: UUID v5 (RFC 9562, SHA-1, computed by libuuid) in a
 * fixed namespace, so a batch folded again after a crash, and a second relay of an
 * outbox row, name the same event. Pure: no clock, no randomness.
 */
#include <stdio.h>
#include <uuid/uuid.h>

#include "workers/core/inv.h"

/* Shopstream's inventory namespace; fixed forever (it is part of every outcome id). */
static const char inv_namespace[] = "8c0f1d5e-3b7a-4e1c-9d62-0a4b5c6d7e8f";

void shop_inv_outcome_id(enum shop_inv_kind kind, const char *order_id, const char *cause_id,
                         const char *product_id, char out[37])
{
    uuid_t ns, id;
    char name[512];
    const char *type = shop_inv_kind_type(kind);
    size_t len = 0;
    /* "<type>/<order id>" or "<type>/<event id>/<product id>": the type has no '/' and an
     * event id is a fixed-length UUID, so no two inputs share a name. Order and product
     * ids are at most 64 characters (the validator's bound), so the name fits. */
    if (kind == SHOP_INV_LOW_STOCK)
        len = (size_t)snprintf(name, sizeof(name), "%s/%s/%s", type, cause_id, product_id);
    else
        len = (size_t)snprintf(name, sizeof(name), "%s/%s", type, order_id);
    if (len >= sizeof(name))
        len = sizeof(name) - 1;
    uuid_parse(inv_namespace, ns);
    uuid_generate_sha1(id, ns, name, len);
    uuid_unparse_lower(id, out);
}
