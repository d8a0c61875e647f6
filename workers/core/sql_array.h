/* SPDX-License-Identifier: MIT
 * Builders for PostgreSQL array literals in text format ('{"a","b",NULL}'),
 * passed as one PQexecParams parameter and cast in SQL ($1::text[]). Pure; all
 * memory comes from the caller's arena. Values are quoted and escaped, never
 * pasted into SQL text.
 */
#ifndef SHOP_SQL_ARRAY_H
#define SHOP_SQL_ARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"

struct shop_sql_array {
    struct shop_arena *arena;
    char *buf;
    size_t len;
    size_t cap;
    size_t n;   /* elements so far */
};

void shop_sql_array_init(struct shop_sql_array *a, struct shop_arena *arena);
/** Appends a quoted text element; s == NULL appends SQL NULL. */
void shop_sql_array_text(struct shop_sql_array *a, const char *s);
void shop_sql_array_int(struct shop_sql_array *a, int64_t v);
/** Appends a float8 element: 17 significant digits (exact), NaN, Infinity, -Infinity. */
void shop_sql_array_float(struct shop_sql_array *a, double v);
void shop_sql_array_bool(struct shop_sql_array *a, bool v);
void shop_sql_array_null(struct shop_sql_array *a);
/** Makes *buf (len bytes used, *cap allocated, in arena) hold at least need bytes, doubling
 *  into a new arena block when it must; the old block is abandoned until the arena resets. */
void shop_text_reserve(struct shop_arena *arena, char **buf, size_t len, size_t *cap, size_t need);

/** Writes v in decimal and a NUL to buf (at least SHOP_I64_TEXT_MAX bytes); returns the
 *  number of digits and sign written. snprintf's cost, without its format parsing. */
#define SHOP_I64_TEXT_MAX 21
size_t shop_i64_text(char *buf, int64_t v);
/** Returns the NUL-terminated literal (lives in the arena); "{}" when empty. */
const char *shop_sql_array_end(struct shop_sql_array *a);

#endif
