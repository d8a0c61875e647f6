/* SPDX-License-Identifier: MIT
 * Versioned, endian-safe byte strings for every ml/ model. Pure.
 * Layout: magic[4] | u32 format version | u64 payload length | payload | u32 CRC-32
 * of everything before it. All integers little-endian, written byte by byte, so a
 * snapshot taken on one host loads on any other; f64 travels as its IEEE-754 bits.
 */
#ifndef SHOP_ML_CODEC_H
#define SHOP_ML_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"

#define SHOP_ML_HEADER_SIZE 16u   /* magic + version + payload length */
#define SHOP_ML_TRAILER_SIZE 4u   /* CRC-32 */

/** Growable output buffer. Zero-initialise (or shop_ml_writer_init), write a header,
 *  the payload, then shop_ml_writer_end(). Owns buf until shop_ml_writer_fini() or
 *  shop_ml_writer_take(). Allocation aborts on OOM. */
struct shop_ml_writer {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t start;   /* offset of the current header, for shop_ml_writer_end() */
};

void shop_ml_writer_init(struct shop_ml_writer *w);
void shop_ml_writer_fini(struct shop_ml_writer *w);
/** Hands buf (malloc'd; free() it) to the caller and leaves w empty. */
uint8_t *shop_ml_writer_take(struct shop_ml_writer *w, size_t *len);

/** Starts a model record: magic (4 bytes naming the model kind, e.g. "KMNS"),
 *  SHOP_ML_FORMAT_VERSION and a length that shop_ml_writer_end() fills in. */
void shop_ml_writer_begin(struct shop_ml_writer *w, const char magic[4]);
/** Patches the payload length and appends the CRC-32. */
void shop_ml_writer_end(struct shop_ml_writer *w);

void shop_ml_put_u8(struct shop_ml_writer *w, uint8_t v);
void shop_ml_put_u32(struct shop_ml_writer *w, uint32_t v);
void shop_ml_put_u64(struct shop_ml_writer *w, uint64_t v);
void shop_ml_put_i64(struct shop_ml_writer *w, int64_t v);
void shop_ml_put_f64(struct shop_ml_writer *w, double v);
void shop_ml_put_f64s(struct shop_ml_writer *w, const double *v, size_t n);
void shop_ml_put_bytes(struct shop_ml_writer *w, const void *p, size_t n);

/** Bounds-checked input cursor over one record's payload. Errors are sticky:
 *  after the first failure every getter returns SHOP_EBADMSG and stores 0. */
struct shop_ml_reader {
    const uint8_t *p;
    const uint8_t *end;
    uint32_t version;   /* format version found in the header */
    int rc;
};

/** Checks magic, version (1..SHOP_ML_FORMAT_VERSION), length and CRC of the record
 *  at buf and positions r at its payload. *used (may be NULL) gets the record's total
 *  size, so records can be concatenated. Returns 0 or SHOP_EBADMSG (err says why). */
int shop_ml_reader_open(struct shop_ml_reader *r, const uint8_t *buf, size_t len,
                        const char magic[4], size_t *used, struct shop_err *err);
/** Returns 0 when the payload was read exactly, else SHOP_EBADMSG. */
int shop_ml_reader_close(struct shop_ml_reader *r, struct shop_err *err);

int shop_ml_get_u8(struct shop_ml_reader *r, uint8_t *v);
int shop_ml_get_u32(struct shop_ml_reader *r, uint32_t *v);
int shop_ml_get_u64(struct shop_ml_reader *r, uint64_t *v);
int shop_ml_get_i64(struct shop_ml_reader *r, int64_t *v);
int shop_ml_get_f64(struct shop_ml_reader *r, double *v);
int shop_ml_get_f64s(struct shop_ml_reader *r, double *v, size_t n);
int shop_ml_get_bytes(struct shop_ml_reader *r, void *p, size_t n);
/** Reads a u64 count and fails unless it is <= max (guards allocations on load). */
int shop_ml_get_count(struct shop_ml_reader *r, uint64_t max, size_t *v);

/** CRC-32 (IEEE 802.3, reflected, as zlib's crc32()). */
uint32_t shop_ml_crc32(const uint8_t *p, size_t n);

#endif
