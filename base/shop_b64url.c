/* SPDX-License-Identifier: MIT
 * base64url (base/shop_b64url.h). Pure. */
#include "base/shop_b64url.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

size_t shop_b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (shop_b64url_len(n) + 1 > cap)
        return 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        size_t chars = n - i >= 3 ? 4 : n - i + 1;   /* 1 byte: 2 chars, 2 bytes: 3 */
        for (size_t k = 0; k < chars; k++)
            out[o++] = alphabet[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
    return o;
}

/* strict: no padding, and the bits past the last byte must be zero. */
static ptrdiff_t decode(const char *src, size_t len, unsigned char *out, size_t cap, int strict)
{
    if (!strict)
        while (len > 0 && src[len - 1] == '=')
            len--;
    if (len % 4 == 1)
        return -1;   /* one character cannot end a group */
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = value_of((unsigned char)src[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (strict && acc != 0)
        return -1;
    return (ptrdiff_t)o;
}

ptrdiff_t shop_b64url_decode(const char *src, size_t len, unsigned char *out, size_t cap)
{
    return decode(src, len, out, cap, 0);
}

ptrdiff_t shop_b64url_decode_strict(const char *src, size_t len, unsigned char *out, size_t cap)
{
    return decode(src, len, out, cap, 1);
}
