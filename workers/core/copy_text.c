/* SPDX-License-Identifier: MIT
 * COPY text-format rows. Pure. The buffer grows by doubling inside the arena,
 * like sql_array.c.
 */
#include "workers/core/copy_text.h"
#include "workers/core/sql_array.h"

#include <string.h>

void shop_copy_text_init(struct shop_copy_text *c, struct shop_arena *arena)
{
    *c = (struct shop_copy_text){.arena = arena, .cap = 256};
    c->buf = shop_arena_alloc(arena, c->cap);
    c->buf[0] = '\0';
}

static void reserve(struct shop_copy_text *c, size_t more)
{
    shop_text_reserve(c->arena, &c->buf, c->len, &c->cap, c->len + more + 1); /* and NUL */
}

static void separate(struct shop_copy_text *c)
{
    if (c->col++ > 0) {
        reserve(c, 1);
        c->buf[c->len++] = '\t';
    }
}

void shop_copy_text_str(struct shop_copy_text *c, const char *s)
{
    separate(c);
    if (s == NULL) {
        reserve(c, 2);
        c->buf[c->len++] = '\\';
        c->buf[c->len++] = 'N';
        return;
    }
    size_t n = strlen(s);
    reserve(c, 2 * n);                  /* worst case: every byte escaped */
    for (size_t i = 0; i < n; i++) {
        char e = s[i] == '\\' ? '\\' : s[i] == '\t' ? 't' : s[i] == '\n' ? 'n' : s[i] == '\r' ? 'r' : 0;
        if (e != 0) {
            c->buf[c->len++] = '\\';
            c->buf[c->len++] = e;
        } else {
            c->buf[c->len++] = s[i];
        }
    }
}

void shop_copy_text_int(struct shop_copy_text *c, int64_t v)
{
    separate(c);
    reserve(c, SHOP_I64_TEXT_MAX);
    c->len += shop_i64_text(c->buf + c->len, v);
}

void shop_copy_text_end_row(struct shop_copy_text *c)
{
    reserve(c, 1);
    c->buf[c->len++] = '\n';
    c->col = 0;
    c->rows++;
}

const char *shop_copy_text_data(struct shop_copy_text *c, size_t *len)
{
    c->buf[c->len] = '\0';
    *len = c->len;
    return c->buf;
}
