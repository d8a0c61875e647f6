/* SPDX-License-Identifier: MIT
 * Position tokens (edge/core/edge_position.h). Pure; OpenSSL only computes the MAC. */
#include "edge/core/edge_position.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <string.h>
#include <strings.h>

#include "base/shop_b64url.h"
#include "proto/core/shop_event.h"

#define HEAD_LEN (1 + SHOP_POS_MAC_LEN)
#define ENTRY_MAX (1 + 5 + 10)      /* stream, partition varint, offset varint */
#define BYTES_MAX (HEAD_LEN + SHOP_POS_ENTRIES_MAX * ENTRY_MAX)
#define SHOP_POS_SUB_MAX 256

static int cmp_pair(int s1, int32_t p1, int s2, int32_t p2)
{
    if (s1 != s2)
        return s1 < s2 ? -1 : 1;
    return p1 < p2 ? -1 : p1 > p2;
}

int shop_position_add(struct shop_position *p, int stream, int32_t partition, int64_t offset)
{
    if (stream < 0 || stream >= SHOP_STREAM_COUNT || partition < 0 || offset < 0)
        return -1;
    size_t lo = 0, hi = p->n;
    while (lo < hi) {   /* first entry not below (stream, partition) */
        size_t mid = (lo + hi) / 2;
        if (cmp_pair(p->e[mid].stream, p->e[mid].partition, stream, partition) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < p->n && cmp_pair(p->e[lo].stream, p->e[lo].partition, stream, partition) == 0) {
        if (offset > p->e[lo].offset)
            p->e[lo].offset = offset;
        return 0;
    }
    if (p->n == SHOP_POS_ENTRIES_MAX)
        return -1;
    memmove(&p->e[lo + 1], &p->e[lo], (p->n - lo) * sizeof(p->e[0]));
    p->e[lo] = (struct shop_pos_entry){stream, partition, offset};
    p->n++;
    return 0;
}

static size_t put_varint(uint8_t *o, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        o[n++] = (uint8_t)(b | (v != 0 ? 0x80 : 0));
    } while (v != 0);
    return n;
}

/* Reads one varint of at most max_bits from b[*i..n); -1 when cut off, overlong (a
 * redundant final zero byte, so encodings stay unique) or too large. */
static int get_varint(const uint8_t *b, size_t n, size_t *i, int max_bits, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < max_bits; shift += 7) {
        if (*i >= n)
            return -1;
        uint8_t c = b[(*i)++];
        if (shift > 0 && c == 0)
            return -1;
        if (shift + 7 > max_bits && (c & 0x7f) >> (max_bits - shift) != 0)
            return -1;
        x |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* HMAC over a domain tag, the subject with its length, and the entries. */
static void mac_of(const uint8_t key[SHOP_POS_KEY_LEN], const char *sub, const uint8_t *entries,
                   size_t n, uint8_t out[SHOP_POS_MAC_LEN])
{
    static const char tag[] = "shopstream-position-v1";
    static _Thread_local uint8_t msg[sizeof(tag) + 4 + SHOP_POS_SUB_MAX + BYTES_MAX];
    size_t sub_len = strlen(sub);
    if (sub_len > SHOP_POS_SUB_MAX)
        sub_len = SHOP_POS_SUB_MAX;   /* a JWT sub is at most 128 bytes */
    size_t m = 0;
    memcpy(msg, tag, sizeof(tag));
    m += sizeof(tag);
    for (int i = 3; i >= 0; i--)
        msg[m++] = (uint8_t)(sub_len >> (8 * i));
    memcpy(msg + m, sub, sub_len);
    m += sub_len;
    memcpy(msg + m, entries, n);
    m += n;
    uint8_t full[EVP_MAX_MD_SIZE];
    unsigned int full_len = 0;
    if (HMAC(EVP_sha256(), key, SHOP_POS_KEY_LEN, msg, m, full, &full_len) == NULL ||
        full_len < SHOP_POS_MAC_LEN) {
        memset(out, 0, SHOP_POS_MAC_LEN);   /* no MAC: a value no token carries by chance */
        out[0] = 1;
        return;
    }
    memcpy(out, full, SHOP_POS_MAC_LEN);
}

size_t shop_position_encode(const struct shop_position *p, const uint8_t key[SHOP_POS_KEY_LEN],
                            const char *sub, char *out, size_t cap)
{
    static _Thread_local unsigned char buf[BYTES_MAX];
    if (p->n == 0)
        return 0;
    size_t n = HEAD_LEN;
    for (size_t i = 0; i < p->n; i++) {
        buf[n++] = (uint8_t)p->e[i].stream;
        n += put_varint(buf + n, (uint64_t)p->e[i].partition);
        n += put_varint(buf + n, (uint64_t)p->e[i].offset);
    }
    buf[0] = SHOP_POS_VERSION;
    mac_of(key, sub, buf + HEAD_LEN, n - HEAD_LEN, buf + 1);
    return shop_b64url_encode(buf, n, out, cap);
}

enum shop_pos_result shop_position_decode(const char *text, size_t len,
                                          const uint8_t key[SHOP_POS_KEY_LEN], const char *sub,
                                          struct shop_position *p, const char **why)
{
    static _Thread_local unsigned char buf[BYTES_MAX];
    *why = "";
    if (len == 0 || len > SHOP_POS_TOKEN_MAX) {
        *why = "the position token is empty or too long";
        return SHOP_POS_MALFORMED;
    }
    ptrdiff_t n = shop_b64url_decode_strict(text, len, buf, sizeof(buf));
    if (n < 0) {
        *why = "the position token is not base64url";
        return SHOP_POS_MALFORMED;
    }
    if (n < HEAD_LEN + 3 || buf[0] != SHOP_POS_VERSION) {
        *why = "the position token has an unknown version or is cut off";
        return SHOP_POS_MALFORMED;
    }
    p->n = 0;
    size_t i = HEAD_LEN;
    while (i < (size_t)n) {
        uint64_t part, off;
        int stream = buf[i++];
        if (stream >= SHOP_STREAM_COUNT || get_varint(buf, (size_t)n, &i, 31, &part) != 0 ||
            get_varint(buf, (size_t)n, &i, 63, &off) != 0 || p->n == SHOP_POS_ENTRIES_MAX ||
            (p->n > 0 && cmp_pair(p->e[p->n - 1].stream, p->e[p->n - 1].partition, stream,
                                  (int32_t)part) >= 0)) {
            *why = "the position token's entries are not well-formed";
            p->n = 0;
            return SHOP_POS_MALFORMED;
        }
        p->e[p->n++] = (struct shop_pos_entry){stream, (int32_t)part, (int64_t)off};
    }
    uint8_t mac[SHOP_POS_MAC_LEN];
    mac_of(key, sub, buf + HEAD_LEN, (size_t)n - HEAD_LEN, mac);
    if (CRYPTO_memcmp(mac, buf + 1, SHOP_POS_MAC_LEN) != 0) {
        p->n = 0;
        return SHOP_POS_FOREIGN;
    }
    return SHOP_POS_MINE;
}

/* RFC 7240: Prefer: pref *( ";" param ) *( "," pref ), tokens case-insensitive,
 * whitespace around. Only "wait" matters here; the first one wins. */
bool shop_prefer_wait(const char *v, size_t len, int *wait_s)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < len && v[i] != ',' && v[i] != ';' && v[i] != '=' && v[i] != ' ' && v[i] != '\t')
            i++;
        bool is_wait = i - start == 4 && strncasecmp(v + start, "wait", 4) == 0;
        while (i < len && (v[i] == ' ' || v[i] == '\t'))
            i++;
        if (is_wait && i < len && v[i] == '=') {
            i++;
            while (i < len && (v[i] == ' ' || v[i] == '\t'))
                i++;
            bool quoted = i < len && v[i] == '"';
            i += quoted;
            long n = 0;
            size_t digits = 0;
            while (i < len && v[i] >= '0' && v[i] <= '9') {
                if (n < 1000000)
                    n = n * 10 + (v[i] - '0');
                i++;
                digits++;
            }
            if (quoted && i < len && v[i] == '"')
                i++;
            bool ends = i == len || v[i] == ',' || v[i] == ';' || v[i] == ' ' || v[i] == '\t';
            if (digits == 0 || !ends)
                return false;
            *wait_s = n > SHOP_POS_WAIT_MAX_S ? SHOP_POS_WAIT_MAX_S : (int)n;
            return true;
        }
        while (i < len && v[i] != ',')   /* the rest of this preference, its parameters */
            i++;
    }
    return false;
}
