/* SPDX-License-Identifier: MIT
 * base64url (RFC 4648 section 5): JWT and JWK members are decoded leniently (padding
 * tolerated), the edge's own opaque tokens (the orders page cursor, the read-your-writes
 * position) strictly, so no two texts decode to the same token. Pure.
 */
#ifndef SHOP_B64URL_H
#define SHOP_B64URL_H

#include <stddef.h>
#include <stdint.h>

/** Characters shop_b64url_encode writes for n bytes (without the NUL). */
static inline size_t shop_b64url_len(size_t n)
{
    return (n * 8 + 5) / 6;
}

/** Encodes in[0..n) without padding into out, NUL-terminated. Returns the text's length,
 *  or 0 when cap is smaller than shop_b64url_len(n) + 1. */
size_t shop_b64url_encode(const unsigned char *in, size_t n, char *out, size_t cap);

/** Decodes src[0..len) (padding tolerated) into out (cap bytes). Returns the decoded
 *  length, or -1 on a bad character, an impossible length or overflow. */
ptrdiff_t shop_b64url_decode(const char *src, size_t len, unsigned char *out, size_t cap);

/** As shop_b64url_decode, but only the canonical text: no padding, zero trailing bits. */
ptrdiff_t shop_b64url_decode_strict(const char *src, size_t len, unsigned char *out, size_t cap);

#endif
