/* SPDX-License-Identifier: MIT
 * The orders page cursor: round trips, URL-safe text, one text per key, and
 * everything else refused. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "base/shop_err.h"
#include "edge/core/edge_cursor.h"

static void round_trip(int64_t at, const char *id)
{
    struct shop_edge_cursor c = {.placed_at_ms = at}, back;
    char text[SHOP_EDGE_CURSOR_MAX];
    strcpy(c.order_id, id);
    int n = shop_edge_cursor_encode(&c, text, sizeof(text));
    cr_assert_gt(n, 0);
    cr_assert_eq((size_t)n, strlen(text));
    cr_assert_eq(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                 strlen(text), "%s is not base64url", text);
    cr_assert_eq(shop_edge_cursor_decode(text, &back), 0, "%s", text);
    cr_assert_eq(back.placed_at_ms, at);
    cr_assert_str_eq(back.order_id, id);
}

Test(cursor, round_trips_every_id_length_and_time)
{
    char id[SHOP_ROUTE_ID_MAX + 1] = "";
    for (int len = 1; len <= SHOP_ROUTE_ID_MAX; len++) {
        id[len - 1] = "a-Z_9.:"[len % 7];
        id[len] = '\0';
        round_trip(1700000000000 + len, id);
    }
    round_trip(0, "o");
    round_trip(-1, "o");
    round_trip(INT64_MAX, "o1");
    round_trip(INT64_MIN, "o1");
}

Test(cursor, the_longest_fits_the_bound)
{
    struct shop_edge_cursor c = {.placed_at_ms = INT64_MAX};
    memset(c.order_id, 'x', SHOP_ROUTE_ID_MAX);
    char text[SHOP_EDGE_CURSOR_MAX];
    cr_assert_lt(shop_edge_cursor_encode(&c, text, sizeof(text)), SHOP_EDGE_CURSOR_MAX);
    cr_assert_lt(strlen(text), (size_t)256, "fits one query value (SHOP_ROUTE_ARG_MAX)");
    cr_assert_eq(shop_edge_cursor_encode(&c, text, 10), SHOP_ENOMEM);
}

Test(cursor, refuses_ids_it_cannot_carry)
{
    struct shop_edge_cursor c = {.placed_at_ms = 1};
    char text[SHOP_EDGE_CURSOR_MAX];
    cr_assert_eq(shop_edge_cursor_encode(&c, text, sizeof(text)), SHOP_EINVAL);   /* empty */
    strcpy(c.order_id, "a/b");
    cr_assert_eq(shop_edge_cursor_encode(&c, text, sizeof(text)), SHOP_EINVAL);
}

Test(cursor, refuses_anything_it_did_not_write)
{
    struct shop_edge_cursor c = {.placed_at_ms = 1700000000000}, back;
    strcpy(c.order_id, "o-1");
    char good[SHOP_EDGE_CURSOR_MAX], bad[SHOP_EDGE_CURSOR_MAX + 8];
    int n = shop_edge_cursor_encode(&c, good, sizeof(good));
    const char *junk[] = {"", "A", "AQ", "not a cursor", "AQAAAYvL7sAAby0x=", "AQAAAYvL7sAAby0x+",
                          "AQAAAYvL7sAAby0x/", "%%%%"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        cr_assert_eq(shop_edge_cursor_decode(junk[i], &back), SHOP_EINVAL, "%s", junk[i]);
    strcpy(bad, good);
    bad[n - 1] = bad[n - 1] == 'A' ? 'B' : 'A';   /* another last char: trailing bits or id */
    int rc = shop_edge_cursor_decode(bad, &back);
    cr_assert(rc == SHOP_EINVAL || strcmp(back.order_id, "o-1") != 0);
    strcpy(bad, good);
    bad[0] = 'B';                                  /* version 5 */
    cr_assert_eq(shop_edge_cursor_decode(bad, &back), SHOP_EINVAL);
    strcpy(bad, good);
    bad[12] = '\0';                                /* the 9-byte header alone: no id */
    cr_assert_eq(shop_edge_cursor_decode(bad, &back), SHOP_EINVAL);
    memset(bad, 'A', sizeof(bad) - 1);             /* longer than any cursor */
    bad[sizeof(bad) - 1] = '\0';
    cr_assert_eq(shop_edge_cursor_decode(bad, &back), SHOP_EINVAL);
}

Test(cursor, one_text_per_key)
{
    /* "AQ" + "AAAAAAAAAG8" is version 1, time 0, id "o"; a last char with non-zero
     * trailing bits decodes to the same bytes and must be refused. */
    struct shop_edge_cursor c = {.placed_at_ms = 0}, back;
    strcpy(c.order_id, "o");
    char text[SHOP_EDGE_CURSOR_MAX];
    int n = shop_edge_cursor_encode(&c, text, sizeof(text));
    cr_assert_eq(n, 14);   /* 10 bytes: 13 full chars + 1, i.e. 3 groups + 2 chars */
    cr_assert_eq(shop_edge_cursor_decode(text, &back), 0);
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int accepted = 0;
    for (const char *a = alphabet; *a != '\0'; a++) {
        text[n - 1] = *a;
        if (shop_edge_cursor_decode(text, &back) == 0 && strcmp(back.order_id, "o") == 0)
            accepted++;
    }
    cr_assert_eq(accepted, 1);
}
