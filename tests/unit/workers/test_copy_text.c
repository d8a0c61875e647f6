/* SPDX-License-Identifier: MIT
 * COPY text-format rows: separators, NULL, escaping, growth.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "workers/core/copy_text.h"

static struct shop_arena arena = SHOP_ARENA_INIT;

static void teardown(void)
{
    shop_arena_fini(&arena);
}

TestSuite(copy_text, .fini = teardown);

Test(copy_text, empty_has_no_rows)
{
    struct shop_copy_text c;
    size_t len = 99;
    shop_copy_text_init(&c, &arena);
    cr_assert(eq(str, (char *)shop_copy_text_data(&c, &len), ""));
    cr_assert(eq(sz, len, 0));
    cr_assert(eq(sz, c.rows, 0));
}

Test(copy_text, tabs_between_columns_newline_after_rows_null_as_backslash_n)
{
    struct shop_copy_text c;
    size_t len;
    shop_copy_text_init(&c, &arena);
    shop_copy_text_str(&c, "a");
    shop_copy_text_int(&c, -42);
    shop_copy_text_str(&c, NULL);
    shop_copy_text_end_row(&c);
    shop_copy_text_str(&c, "");
    shop_copy_text_int(&c, 9223372036854775807LL);
    shop_copy_text_end_row(&c);
    cr_assert(eq(str, (char *)shop_copy_text_data(&c, &len), "a\t-42\t\\N\n\t9223372036854775807\n"));
    cr_assert(eq(sz, c.rows, 2));
}

Test(copy_text, escapes_backslash_tab_newline_and_carriage_return)
{
    struct shop_copy_text c;
    size_t len;
    shop_copy_text_init(&c, &arena);
    shop_copy_text_str(&c, "x\\y\tz\nw\rv \\N");
    shop_copy_text_end_row(&c);
    cr_assert(eq(str, (char *)shop_copy_text_data(&c, &len), "x\\\\y\\tz\\nw\\rv \\\\N\n"));
}

Test(copy_text, grows_past_its_first_block)
{
    struct shop_copy_text c;
    size_t len;
    char big[1000];
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    shop_copy_text_init(&c, &arena);
    for (int i = 0; i < 50; i++) {
        shop_copy_text_str(&c, big);
        shop_copy_text_end_row(&c);
    }
    const char *data = shop_copy_text_data(&c, &len);
    cr_assert(eq(sz, len, 50 * 1000));
    cr_assert(eq(sz, strlen(data), len));
    cr_assert(eq(chr, data[999], '\n'));
    cr_assert(eq(chr, data[len - 1], '\n'));
}
