/* SPDX-License-Identifier: MIT
 * The page cursor of GET /v1/me/orders: the key of the last order a page showed,
 * as opaque URL-safe text (base64url of a version byte, the big-endian
 * placed_at_ms and the order id). Pure. Decoding is strict: one text per key.
 * The cursor is no secret and grants nothing: a page only ever shows the token
 * subject's own orders, wherever it starts.
 */
#ifndef SHOP_EDGE_CURSOR_H
#define SHOP_EDGE_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "edge/core/edge_route.h"

/* base64url of 1 + 8 + SHOP_ROUTE_ID_MAX bytes, with the NUL */
#define SHOP_EDGE_CURSOR_MAX 192

/** Where a page of orders ends: its last order, in the page order (newest
 *  placed_at first, then order id ascending). The next page starts after it. */
struct shop_edge_cursor {
    int64_t placed_at_ms;
    char order_id[SHOP_ROUTE_ID_MAX + 1];
};

/** Writes the text of c into out (cap bytes, NUL included). Returns its length, or
 *  SHOP_EINVAL for an order id outside the path id rules, SHOP_ENOMEM when cap is
 *  too small. */
int shop_edge_cursor_encode(const struct shop_edge_cursor *c, char *out, size_t cap);

/** Parses what shop_edge_cursor_encode wrote (NUL-terminated s). Returns 0, or
 *  SHOP_EINVAL for anything else: not base64url, not canonical, another version,
 *  a bad order id. */
int shop_edge_cursor_decode(const char *s, struct shop_edge_cursor *c);

#endif
