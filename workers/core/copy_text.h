/* SPDX-License-Identifier: MIT
 * Builders for the text format of PostgreSQL's COPY ... FROM STDIN: one row per
 * line, columns separated by tabs, \N for NULL, backslash, tab, newline and
 * carriage return escaped. Pure; all memory comes from the caller's arena. The
 * data goes to the server with PQputCopyData, never into SQL text.
 */
#ifndef SHOP_COPY_TEXT_H
#define SHOP_COPY_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"

struct shop_copy_text {
    struct shop_arena *arena;
    char *buf;
    size_t len;
    size_t cap;
    size_t rows;       /* rows ended so far */
    int col;           /* columns in the current row */
};

void shop_copy_text_init(struct shop_copy_text *c, struct shop_arena *arena);
/** Appends a text column, escaped; s == NULL appends NULL (\N). */
void shop_copy_text_str(struct shop_copy_text *c, const char *s);
void shop_copy_text_int(struct shop_copy_text *c, int64_t v);
/** Ends the current row with a newline. */
void shop_copy_text_end_row(struct shop_copy_text *c);
/** The rows so far (NUL-terminated, in the arena); *len gets their length. */
const char *shop_copy_text_data(struct shop_copy_text *c, size_t *len);

#endif
