/* SPDX-License-Identifier: MIT
 * The orders page cursor: base64url (RFC 4648 section 5, no padding) of
 * version 1, placed_at_ms as 8 big-endian bytes, the order id. Pure. */
#include "edge/core/edge_cursor.h"

#include <string.h>

#include "base/shop_err.h"

#define CURSOR_VERSION 1
#define KEY_MIN 10   /* version + 8 bytes of time + at least one id byte */
#define KEY_MAX (9 + SHOP_ROUTE_ID_MAX)

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(char c)
{
    const char *p = c != '\0' ? strchr(b64url, c) : NULL;
    return p != NULL ? (int)(p - b64url) : -1;
}

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
    size_t n = 9 + id_len, o = 0;
    if ((n * 8 + 5) / 6 + 1 > cap)
        return SHOP_ENOMEM;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)key[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)key[i + 1] << 8;
        if (i + 2 < n)
            v |= key[i + 2];
        size_t chars = n - i >= 3 ? 4 : n - i + 1;   /* 1 byte: 2 chars, 2 bytes: 3 */
        for (size_t k = 0; k < chars; k++)
            out[o++] = b64url[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
    return (int)o;
}

/* base64url text s[0..n) into key; the length of the key, or -1. Trailing bits must be
 * zero, so no two texts decode to one key. */
static long b64url_decode(const char *s, size_t n, unsigned char *key, size_t cap)
{
    if (n % 4 == 1 || n / 4 * 3 + (n % 4 != 0 ? n % 4 - 1 : 0) > cap)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        size_t chars = n - i >= 4 ? 4 : n - i;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = k < chars ? b64url_value(s[i + k]) : 0;
            if (d < 0)
                return -1;
            v = v << 6 | (uint32_t)d;
        }
        size_t bytes = chars - 1;
        if (bytes < 3 && (v & ((1u << (8 * (3 - bytes))) - 1)) != 0)
            return -1;
        for (size_t k = 0; k < bytes; k++)
            key[o++] = (unsigned char)(v >> (16 - 8 * k));
    }
    return (long)o;
}

int shop_edge_cursor_decode(const char *s, struct shop_edge_cursor *c)
{
    unsigned char key[KEY_MAX];
    size_t n = bounded_len(s, SHOP_EDGE_CURSOR_MAX);
    if (n == SHOP_EDGE_CURSOR_MAX)
        return SHOP_EINVAL;
    long len = b64url_decode(s, n, key, sizeof(key));
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
