/* SPDX-License-Identifier: MIT
 * The orders page cursor: base64url (RFC 4648 section 5, no padding) of
 * version 1, placed_at_ms as 8 big-endian bytes, the order id. Pure. */
#include "edge/core/edge_cursor.h"

#include <string.h>

#include "base/shop_b64url.h"
#include "base/shop_err.h"

#define CURSOR_VERSION 1
#define KEY_MIN 10   /* version + 8 bytes of time + at least one id byte */
#define KEY_MAX (9 + SHOP_ROUTE_ID_MAX)

/* The path id rules (edge_route.c): what an order id in a URL may be. */
static int id_ok(const char *s, size_t n)
{
    if (n == 0 || n > SHOP_ROUTE_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

/* strlen bounded by cap (strnlen is POSIX, not C11). */
static size_t bounded_len(const char *s, size_t cap)
{
    const char *nul = memchr(s, '\0', cap);
    return nul != NULL ? (size_t)(nul - s) : cap;
}

int shop_edge_cursor_encode(const struct shop_edge_cursor *c, char *out, size_t cap)
{
    size_t id_len = bounded_len(c->order_id, sizeof(c->order_id));
    if (!id_ok(c->order_id, id_len))
        return SHOP_EINVAL;
    unsigned char key[KEY_MAX];
    uint64_t at = (uint64_t)c->placed_at_ms;
    key[0] = CURSOR_VERSION;
    for (int i = 0; i < 8; i++)
        key[1 + i] = (unsigned char)(at >> (56 - 8 * i));
    memcpy(key + 9, c->order_id, id_len);
    size_t o = shop_b64url_encode(key, 9 + id_len, out, cap);
    if (o == 0)
        return SHOP_ENOMEM;
    return (int)o;
}

int shop_edge_cursor_decode(const char *s, struct shop_edge_cursor *c)
{
    unsigned char key[KEY_MAX];
    size_t n = bounded_len(s, SHOP_EDGE_CURSOR_MAX);
    if (n == SHOP_EDGE_CURSOR_MAX)
        return SHOP_EINVAL;
    ptrdiff_t len = shop_b64url_decode_strict(s, n, key, sizeof(key));
    if (len < KEY_MIN || key[0] != CURSOR_VERSION || !id_ok((const char *)key + 9, (size_t)len - 9))
        return SHOP_EINVAL;
    uint64_t at = 0;
    for (int i = 0; i < 8; i++)
        at = at << 8 | key[1 + i];
    memset(c, 0, sizeof(*c));
    c->placed_at_ms = (int64_t)at;
    memcpy(c->order_id, key + 9, (size_t)len - 9);
    return 0;
}
