/* SPDX-License-Identifier: MIT
 * PostgreSQL array literals in text format. Pure. The buffer grows by doubling
 * inside the arena (the old block is simply abandoned until the arena resets).
 */
#include "workers/core/sql_array.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t shop_i64_text(char *buf, int64_t v)
{
    char tmp[SHOP_I64_TEXT_MAX];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;   /* INT64_MIN too */
    size_t n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        buf[len++] = '-';
    while (n > 0)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

void shop_sql_array_init(struct shop_sql_array *a, struct shop_arena *arena)
{
    a->arena = arena;
    a->cap = 64;
    a->buf = shop_arena_alloc(arena, a->cap);
    a->buf[0] = '{';
    a->len = 1;
    a->n = 0;
}

void shop_text_reserve(struct shop_arena *arena, char **buf, size_t len, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t grown = *cap;
    while (need > grown)
        grown *= 2;
    char *p = shop_arena_alloc(arena, grown);
    memcpy(p, *buf, len);
    *buf = p;
    *cap = grown;
}

static void reserve(struct shop_sql_array *a, size_t more)
{
    shop_text_reserve(a->arena, &a->buf, a->len, &a->cap, a->len + more + 2); /* '}' and NUL */
}

static void separate(struct shop_sql_array *a)
{
    if (a->n++ > 0) {
        reserve(a, 1);
        a->buf[a->len++] = ',';
    }
}

void shop_sql_array_text(struct shop_sql_array *a, const char *s)
{
    if (s == NULL) {
        shop_sql_array_null(a);
        return;
    }
    separate(a);
    size_t n = strlen(s);
    reserve(a, 2 * n + 2);              /* worst case: every byte escaped */
    a->buf[a->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            a->buf[a->len++] = '\\';
        a->buf[a->len++] = s[i];
    }
    a->buf[a->len++] = '"';
}

void shop_sql_array_int(struct shop_sql_array *a, int64_t v)
{
    separate(a);
    reserve(a, SHOP_I64_TEXT_MAX);
    a->len += shop_i64_text(a->buf + a->len, v);
}

void shop_sql_array_float(struct shop_sql_array *a, double v)
{
    separate(a);
    reserve(a, 32);
    if (isnan(v))
        a->len += (size_t)snprintf(a->buf + a->len, 32, "NaN");
    else if (isinf(v))
        a->len += (size_t)snprintf(a->buf + a->len, 32, "%s", v > 0 ? "Infinity" : "-Infinity");
    else
        a->len += (size_t)snprintf(a->buf + a->len, 32, "%.17g", v);   /* round-trips exactly */
}

void shop_sql_array_bool(struct shop_sql_array *a, bool v)
{
    separate(a);
    reserve(a, 1);
    a->buf[a->len++] = v ? 't' : 'f';
}

void shop_sql_array_null(struct shop_sql_array *a)
{
    separate(a);
    reserve(a, 4);
    memcpy(a->buf + a->len, "NULL", 4);
    a->len += 4;
}

const char *shop_sql_array_end(struct shop_sql_array *a)
{
    reserve(a, 0);
    a->buf[a->len++] = '}';
    a->buf[a->len] = '\0';
    return a->buf;
}
