/* SPDX-License-Identifier: MIT
 * Versioned, endian-safe model byte strings (see ml_codec.h). Pure.
 * Integers are assembled with shifts, never by casting buffers, so the format does not
 * depend on the host's byte order or alignment.
 */
#include "ml/ml_codec.h"

#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "ml/ml_version.h"

void shop_ml_writer_init(struct shop_ml_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void shop_ml_writer_fini(struct shop_ml_writer *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

uint8_t *shop_ml_writer_take(struct shop_ml_writer *w, size_t *len)
{
    uint8_t *buf = w->buf;
    *len = w->len;
    memset(w, 0, sizeof(*w));
    return buf;
}

static uint8_t *reserve(struct shop_ml_writer *w, size_t n)
{
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        w->buf = shop_xrealloc(w->buf, cap);
        w->cap = cap;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

static void store_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t load_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void shop_ml_put_u8(struct shop_ml_writer *w, uint8_t v)
{
    *reserve(w, 1) = v;
}

void shop_ml_put_u32(struct shop_ml_writer *w, uint32_t v)
{
    store_le(reserve(w, 4), v, 4);
}

void shop_ml_put_u64(struct shop_ml_writer *w, uint64_t v)
{
    store_le(reserve(w, 8), v, 8);
}

void shop_ml_put_i64(struct shop_ml_writer *w, int64_t v)
{
    shop_ml_put_u64(w, (uint64_t)v);
}

void shop_ml_put_f64(struct shop_ml_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    shop_ml_put_u64(w, bits);
}

void shop_ml_put_f64s(struct shop_ml_writer *w, const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        shop_ml_put_f64(w, v[i]);
}

void shop_ml_put_bytes(struct shop_ml_writer *w, const void *p, size_t n)
{
    if (n > 0)
        memcpy(reserve(w, n), p, n);
}

void shop_ml_writer_begin(struct shop_ml_writer *w, const char magic[4])
{
    w->start = w->len;
    shop_ml_put_bytes(w, magic, 4);
    shop_ml_put_u32(w, SHOP_ML_FORMAT_VERSION);
    shop_ml_put_u64(w, 0);  /* payload length, patched by shop_ml_writer_end() */
}

void shop_ml_writer_end(struct shop_ml_writer *w)
{
    size_t payload = w->len - w->start - SHOP_ML_HEADER_SIZE;
    store_le(w->buf + w->start + 8, payload, 8);
    uint32_t crc = shop_ml_crc32(w->buf + w->start, w->len - w->start);
    shop_ml_put_u32(w, crc);
}

uint32_t shop_ml_crc32(const uint8_t *p, size_t n)
{
    /* Bitwise: models are written rarely, and a table would be a global. */
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

int shop_ml_reader_open(struct shop_ml_reader *r, const uint8_t *buf, size_t len,
                        const char magic[4], size_t *used, struct shop_err *err)
{
    memset(r, 0, sizeof(*r));
    r->rc = SHOP_EBADMSG;
    if (len < SHOP_ML_HEADER_SIZE + SHOP_ML_TRAILER_SIZE)
        return shop_err_set(err, SHOP_EBADMSG, "model record truncated: %zu bytes", len);
    if (memcmp(buf, magic, 4) != 0)
        return shop_err_set(err, SHOP_EBADMSG, "model record has the wrong magic");
    uint32_t version = (uint32_t)load_le(buf + 4, 4);
    if (version < 1 || version > SHOP_ML_FORMAT_VERSION)
        return shop_err_set(err, SHOP_EBADMSG, "unsupported model format version %u", version);
    uint64_t payload = load_le(buf + 8, 8);
    if (payload > len - SHOP_ML_HEADER_SIZE - SHOP_ML_TRAILER_SIZE)
        return shop_err_set(err, SHOP_EBADMSG, "model record truncated: %zu bytes", len);
    size_t body = SHOP_ML_HEADER_SIZE + (size_t)payload;
    if (shop_ml_crc32(buf, body) != (uint32_t)load_le(buf + body, 4))
        return shop_err_set(err, SHOP_EBADMSG, "model record fails its CRC check");
    r->p = buf + SHOP_ML_HEADER_SIZE;
    r->end = buf + body;
    r->version = version;
    r->rc = 0;
    if (used)
        *used = body + SHOP_ML_TRAILER_SIZE;
    return 0;
}

int shop_ml_reader_close(struct shop_ml_reader *r, struct shop_err *err)
{
    if (r->rc != 0)
        return shop_err_set(err, SHOP_EBADMSG, "model payload is malformed or truncated");
    if (r->p != r->end)
        return shop_err_set(err, SHOP_EBADMSG, "model payload has %zu trailing bytes",
                            (size_t)(r->end - r->p));
    return 0;
}

static const uint8_t *take(struct shop_ml_reader *r, size_t n)
{
    if (r->rc != 0 || (size_t)(r->end - r->p) < n) {
        r->rc = SHOP_EBADMSG;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

int shop_ml_get_u8(struct shop_ml_reader *r, uint8_t *v)
{
    const uint8_t *p = take(r, 1);
    *v = p ? *p : 0;
    return r->rc;
}

int shop_ml_get_u32(struct shop_ml_reader *r, uint32_t *v)
{
    const uint8_t *p = take(r, 4);
    *v = p ? (uint32_t)load_le(p, 4) : 0;
    return r->rc;
}

int shop_ml_get_u64(struct shop_ml_reader *r, uint64_t *v)
{
    const uint8_t *p = take(r, 8);
    *v = p ? load_le(p, 8) : 0;
    return r->rc;
}

int shop_ml_get_i64(struct shop_ml_reader *r, int64_t *v)
{
    uint64_t u;
    shop_ml_get_u64(r, &u);
    *v = (int64_t)u;
    return r->rc;
}

int shop_ml_get_f64(struct shop_ml_reader *r, double *v)
{
    uint64_t bits;
    shop_ml_get_u64(r, &bits);
    memcpy(v, &bits, sizeof(*v));
    return r->rc;
}

int shop_ml_get_f64s(struct shop_ml_reader *r, double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        shop_ml_get_f64(r, &v[i]);
    return r->rc;
}

int shop_ml_get_bytes(struct shop_ml_reader *r, void *p, size_t n)
{
    const uint8_t *src = take(r, n);
    if (src)
        memcpy(p, src, n);
    else if (n > 0)
        memset(p, 0, n);
    return r->rc;
}

int shop_ml_get_count(struct shop_ml_reader *r, uint64_t max, size_t *v)
{
    uint64_t u;
    shop_ml_get_u64(r, &u);
    if (r->rc == 0 && u > max)
        r->rc = SHOP_EBADMSG;
    *v = r->rc == 0 ? (size_t)u : 0;
    return r->rc;
}
