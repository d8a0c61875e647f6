/* SPDX-License-Identifier: MIT
 * Kafka record headers: CloudEvents 1.0 Kafka protocol binding, binary mode
 * (the value is the protobuf Event; attributes travel as ce_* headers), plus
 * the W3C traceparent when valid. Pure: ce_time comes from occurred_at_ms.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "proto/core/event_internal.h"

#define CE_TYPE_PREFIX "com.shopstream."
#define CE_TYPE_SUFFIX ".v1"
#define CE_SOURCE_DEFAULT "/shopstream/edge"
#define TRACEPARENT_LEN 55

static bool is_lower_hex(const char *s, size_t n, bool *all_zero)
{
    *all_zero = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        if (c != '0')
            *all_zero = false;
    }
    return true;
}

/* version "00" - trace-id (32 hex, not all 0) - parent-id (16 hex, not all 0) - flags (2 hex). */
bool shop_traceparent_is_valid(const char *s)
{
    bool zero;
    if (s == NULL || strlen(s) != TRACEPARENT_LEN)
        return false;
    if (s[0] != '0' || s[1] != '0' || s[2] != '-' || s[35] != '-' || s[52] != '-')
        return false;
    if (!is_lower_hex(s + 3, 32, &zero) || zero)
        return false;
    if (!is_lower_hex(s + 36, 16, &zero) || zero)
        return false;
    return is_lower_hex(s + 53, 2, &zero);
}

/* Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian date. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Writes v as exactly width decimal digits, zero-padded (0 <= v < 10^width). */
static char *put_digits(char *dst, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        dst[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return dst + width;
}

/* RFC 3339 UTC with milliseconds, e.g. 2024-03-01T12:00:00.250Z. Written digit by digit
 * (once per produced event): years 0-9999 take the fast path, others go through snprintf. */
static char *format_time(int64_t ms, struct shop_arena *arena)
{
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        char buf[48];
        snprintf(buf, sizeof(buf), "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d,
                 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)rem);
        return shop_arena_strdup(arena, buf);
    }
    char *out = shop_arena_alloc_uninit(arena, sizeof("2024-03-01T12:00:00.250Z"));
    char *o = put_digits(out, y, 4);
    *o++ = '-';
    o = put_digits(o, m, 2);
    *o++ = '-';
    o = put_digits(o, d, 2);
    *o++ = 'T';
    o = put_digits(o, sod / 3600, 2);
    *o++ = ':';
    o = put_digits(o, sod / 60 % 60, 2);
    *o++ = ':';
    o = put_digits(o, sod % 60, 2);
    *o++ = '.';
    o = put_digits(o, rem, 3);
    *o++ = 'Z';
    *o = '\0';
    return out;
}

/* Appends s to dst[0..len), cut to cap - 1 bytes in all (as snprintf cuts); returns the length. */
static size_t append(char *dst, size_t len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n > cap - 1 - len)
        n = cap - 1 - len;
    memcpy(dst + len, s, n);
    return len + n;
}

static char *ce_type(const Shopstream__V1__Event *ev, struct shop_arena *arena)
{
    const char *name = shop_event_type_name(ev->payload_case);
    char buf[96];
    size_t len = append(buf, 0, sizeof(buf), CE_TYPE_PREFIX);
    len = append(buf, len, sizeof(buf), name != NULL ? name : shop__str(ev->type));
    len = append(buf, len, sizeof(buf), CE_TYPE_SUFFIX);
    return shop_arena_strndup(arena, buf, len);
}

size_t shop_event_ce_headers(const Shopstream__V1__Event *ev, const char *traceparent,
                             struct shop_arena *arena, struct shop_header out[SHOP_CE_HEADERS_MAX])
{
    const char *source = shop__str(ev->source);
    const char *key = shop_event_key(ev);
    size_t n = 0;
    out[n++] = (struct shop_header){"ce_specversion", "1.0"};
    out[n++] = (struct shop_header){"ce_id", shop__str(ev->id)};
    out[n++] = (struct shop_header){"ce_type", ce_type(ev, arena)};
    out[n++] = (struct shop_header){"ce_source", source[0] != '\0' ? source : CE_SOURCE_DEFAULT};
    out[n++] = (struct shop_header){"ce_time", format_time(ev->occurred_at_ms, arena)};
    if (key[0] != '\0')
        out[n++] = (struct shop_header){"ce_subject", key};
    out[n++] = (struct shop_header){"content-type", "application/x-protobuf"};
    if (shop_traceparent_is_valid(traceparent))
        out[n++] = (struct shop_header){"traceparent", shop_arena_strdup(arena, traceparent)};
    return n;
}
