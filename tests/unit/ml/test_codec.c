/* SPDX-License-Identifier: MIT
 * Tests of ml/ml_codec: byte layout, round trips, and rejection of bad input. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_codec.h"
#include "ml/ml_version.h"

static uint8_t *write_sample(size_t *len)
{
    struct shop_ml_writer w;
    shop_ml_writer_init(&w);
    shop_ml_writer_begin(&w, "TEST");
    shop_ml_put_u8(&w, 0xab);
    shop_ml_put_u32(&w, 0x01020304u);
    shop_ml_put_u64(&w, 0x0102030405060708ull);
    shop_ml_put_i64(&w, -2);
    shop_ml_put_f64(&w, 1.5);
    shop_ml_writer_end(&w);
    return shop_ml_writer_take(&w, len);
}

Test(codec, layout_is_little_endian)
{
    size_t len;
    uint8_t *b = write_sample(&len);
    cr_assert(eq(sz, len, 16 + 1 + 4 + 8 + 8 + 8 + 4));
    cr_assert(zero(memcmp(b, "TEST", 4)));
    cr_assert(eq(u8, b[4], SHOP_ML_FORMAT_VERSION));
    cr_assert(eq(u8, b[8], 29));            /* payload length, low byte first */
    cr_assert(eq(u8, b[16], 0xab));
    cr_assert(eq(u8, b[17], 0x04));
    cr_assert(eq(u8, b[20], 0x01));
    cr_assert(eq(u8, b[21], 0x08));
    cr_assert(eq(u8, b[29], 0xfe));          /* -2 in two's complement */
    cr_assert(eq(u8, b[44], 0x3f));          /* 1.5 = 0x3ff8000000000000, top byte */
    cr_assert(eq(u8, b[43], 0xf8));
    free(b);
}

Test(codec, crc32_matches_reference)
{
    cr_assert(eq(u32, shop_ml_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u));
}

Test(codec, round_trip_reads_back_every_value)
{
    size_t len, used;
    uint8_t *b = write_sample(&len);
    struct shop_ml_reader r;
    cr_assert(zero(shop_ml_reader_open(&r, b, len, "TEST", &used, NULL)));
    cr_assert(eq(sz, used, len));
    uint8_t u8;
    uint32_t u32;
    uint64_t u64;
    int64_t i64;
    double f;
    shop_ml_get_u8(&r, &u8);
    shop_ml_get_u32(&r, &u32);
    shop_ml_get_u64(&r, &u64);
    shop_ml_get_i64(&r, &i64);
    shop_ml_get_f64(&r, &f);
    cr_assert(zero(shop_ml_reader_close(&r, NULL)));
    cr_assert(eq(u8, u8, 0xab));
    cr_assert(eq(u32, u32, 0x01020304u));
    cr_assert(eq(u64, u64, 0x0102030405060708ull));
    cr_assert(eq(i64, i64, -2));
    cr_assert(eq(dbl, f, 1.5));
    free(b);
}

Test(codec, truncated_record_is_rejected_at_every_length)
{
    size_t len;
    uint8_t *b = write_sample(&len);
    for (size_t n = 0; n < len; n++) {
        struct shop_ml_reader r;
        struct shop_err err = {0};
        cr_assert(eq(int, shop_ml_reader_open(&r, b, n, "TEST", NULL, &err), SHOP_EBADMSG),
                  "accepted %zu of %zu bytes", n, len);
        cr_assert(not(zero(str, err.msg)));
    }
    free(b);
}

Test(codec, any_flipped_bit_is_rejected)
{
    size_t len;
    uint8_t *b = write_sample(&len);
    for (size_t i = 0; i < len * 8; i++) {
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
        struct shop_ml_reader r;
        cr_assert(eq(int, shop_ml_reader_open(&r, b, len, "TEST", NULL, NULL), SHOP_EBADMSG),
                  "bit %zu", i);
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    free(b);
}

Test(codec, wrong_magic_and_future_version_are_rejected)
{
    size_t len;
    uint8_t *b = write_sample(&len);
    struct shop_ml_reader r;
    cr_assert(eq(int, shop_ml_reader_open(&r, b, len, "KMNS", NULL, NULL), SHOP_EBADMSG));
    b[4] = SHOP_ML_FORMAT_VERSION + 1;
    uint32_t crc = shop_ml_crc32(b, len - 4);   /* valid CRC, so only the version is wrong */
    for (int i = 0; i < 4; i++)
        b[len - 4 + i] = (uint8_t)(crc >> (8 * i));
    struct shop_err err = {0};
    cr_assert(eq(int, shop_ml_reader_open(&r, b, len, "TEST", NULL, &err), SHOP_EBADMSG));
    cr_assert(not(zero(ptr, strstr(err.msg, "version"))));
    free(b);
}

Test(codec, reading_past_payload_fails_and_sticks)
{
    struct shop_ml_writer w = {0};
    shop_ml_writer_begin(&w, "TEST");
    shop_ml_put_u32(&w, 7);
    shop_ml_writer_end(&w);
    struct shop_ml_reader r;
    cr_assert(zero(shop_ml_reader_open(&r, w.buf, w.len, "TEST", NULL, NULL)));
    uint64_t v = 99;
    cr_assert(eq(int, shop_ml_get_u64(&r, &v), SHOP_EBADMSG));
    cr_assert(eq(u64, v, 0));
    uint8_t u8 = 1;
    cr_assert(eq(int, shop_ml_get_u8(&r, &u8), SHOP_EBADMSG));   /* sticky */
    cr_assert(eq(int, shop_ml_reader_close(&r, NULL), SHOP_EBADMSG));
    shop_ml_writer_fini(&w);
}

Test(codec, unread_payload_is_an_error)
{
    struct shop_ml_writer w = {0};
    shop_ml_writer_begin(&w, "TEST");
    shop_ml_put_u32(&w, 7);
    shop_ml_put_u32(&w, 8);
    shop_ml_writer_end(&w);
    struct shop_ml_reader r;
    cr_assert(zero(shop_ml_reader_open(&r, w.buf, w.len, "TEST", NULL, NULL)));
    uint32_t v;
    shop_ml_get_u32(&r, &v);
    cr_assert(eq(int, shop_ml_reader_close(&r, NULL), SHOP_EBADMSG));
    shop_ml_writer_fini(&w);
}

Test(codec, count_above_limit_is_rejected)
{
    struct shop_ml_writer w = {0};
    shop_ml_writer_begin(&w, "TEST");
    shop_ml_put_u64(&w, 1000);
    shop_ml_writer_end(&w);
    struct shop_ml_reader r;
    size_t n = 5;
    cr_assert(zero(shop_ml_reader_open(&r, w.buf, w.len, "TEST", NULL, NULL)));
    cr_assert(eq(int, shop_ml_get_count(&r, 999, &n), SHOP_EBADMSG));
    cr_assert(eq(sz, n, 0));
    shop_ml_writer_fini(&w);
}

Test(codec, concatenated_records_are_read_in_turn)
{
    struct shop_ml_writer w = {0};
    shop_ml_writer_begin(&w, "AAAA");
    shop_ml_put_f64(&w, -0.25);
    shop_ml_writer_end(&w);
    shop_ml_writer_begin(&w, "BBBB");
    shop_ml_put_u32(&w, 42);
    shop_ml_writer_end(&w);
    struct shop_ml_reader r;
    size_t used;
    double f;
    uint32_t u;
    cr_assert(zero(shop_ml_reader_open(&r, w.buf, w.len, "AAAA", &used, NULL)));
    shop_ml_get_f64(&r, &f);
    cr_assert(zero(shop_ml_reader_close(&r, NULL)));
    cr_assert(zero(shop_ml_reader_open(&r, w.buf + used, w.len - used, "BBBB", NULL, NULL)));
    shop_ml_get_u32(&r, &u);
    cr_assert(zero(shop_ml_reader_close(&r, NULL)));
    cr_assert(eq(dbl, f, -0.25));
    cr_assert(eq(u32, u, 42));
    shop_ml_writer_fini(&w);
}
