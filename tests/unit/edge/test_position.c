/* SPDX-License-Identifier: MIT
 * Read-your-writes positions: tokens round-trip for their subject only, every damaged
 * token is refused or foreign (never another position), Prefer: wait=N, and what a read
 * waits for (edge_fresh.c). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "edge/core/edge_fresh.h"
#include "edge/core/edge_position.h"

static const uint8_t key[SHOP_POS_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t other_key[SHOP_POS_KEY_LEN] = {9, 9, 9};

static struct shop_position pos, back;   /* large: not on the stack */

static size_t sample(char *tok, size_t cap)
{
    memset(&pos, 0, sizeof(pos));
    cr_assert_eq(shop_position_add(&pos, SHOP_STREAM_CART, 3, 1000), 0);
    cr_assert_eq(shop_position_add(&pos, SHOP_STREAM_BROWSE, 0, 7), 0);
    cr_assert_eq(shop_position_add(&pos, SHOP_STREAM_CART, 3, 999), 0);      /* lower: kept 1000 */
    cr_assert_eq(shop_position_add(&pos, SHOP_STREAM_CART, 1, 5), 0);
    cr_assert_eq(shop_position_add(&pos, SHOP_STREAM_ORDER, 2, INT64_MAX), 0);
    return shop_position_encode(&pos, key, "alice", tok, cap);
}

Test(position, keeps_one_entry_per_pair_with_the_largest_offset_in_order)
{
    char tok[SHOP_POS_TOKEN_MAX + 1];
    cr_assert_gt(sample(tok, sizeof(tok)), 0);
    cr_assert_eq(pos.n, 4);
    cr_assert_eq(pos.e[0].stream, SHOP_STREAM_BROWSE);
    cr_assert_eq(pos.e[1].partition, 1);
    cr_assert_eq(pos.e[2].partition, 3);
    cr_assert_eq(pos.e[2].offset, 1000);
    cr_assert_eq(pos.e[3].offset, INT64_MAX);
    cr_assert_eq(shop_position_add(&pos, SHOP_STREAM_COUNT, 0, 1), -1);
    cr_assert_eq(shop_position_add(&pos, SHOP_STREAM_CART, -1, 1), -1);
    cr_assert_eq(shop_position_add(&pos, SHOP_STREAM_CART, 0, -1), -1);
}

Test(position, round_trips_for_its_subject_only)
{
    char tok[SHOP_POS_TOKEN_MAX + 1];
    size_t n = sample(tok, sizeof(tok));
    cr_assert_eq(n, strlen(tok));
    cr_assert_eq(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), n);
    const char *why;
    cr_assert_eq(shop_position_decode(tok, n, key, "alice", &back, &why), SHOP_POS_MINE, "%s", why);
    cr_assert_eq(back.n, pos.n);
    cr_assert_eq(memcmp(back.e, pos.e, pos.n * sizeof(pos.e[0])), 0);
    cr_assert_eq(shop_position_decode(tok, n, key, "bob", &back, &why), SHOP_POS_FOREIGN);
    cr_assert_eq(back.n, 0, "a foreign token grants no position");
    cr_assert_eq(shop_position_decode(tok, n, key, "alic", &back, &why), SHOP_POS_FOREIGN);
    cr_assert_eq(shop_position_decode(tok, n, other_key, "alice", &back, &why), SHOP_POS_FOREIGN);
}

Test(position, every_flipped_character_is_refused_or_foreign)
{
    char tok[SHOP_POS_TOKEN_MAX + 1];
    size_t n = sample(tok, sizeof(tok));
    const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i++) {
        char saved = tok[i];
        for (const char *c = alpha; *c != '\0'; c++) {
            if (*c == saved)
                continue;
            tok[i] = *c;
            const char *why;
            enum shop_pos_result r = shop_position_decode(tok, n, key, "alice", &back, &why);
            cr_assert_neq(r, SHOP_POS_MINE, "char %zu as %c was taken", i, *c);
        }
        tok[i] = saved;
    }
}

Test(position, malformed_tokens_say_why)
{
    const char *why;
    const char *bad[] = {"", "!!!!", "A", "AQ==", "AAAA", "Ag" /* version 2 */};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(shop_position_decode(bad[i], strlen(bad[i]), key, "alice", &back, &why),
                     SHOP_POS_MALFORMED, "%s", bad[i]);
        cr_assert_neq(why[0], '\0');
    }
    char tok[SHOP_POS_TOKEN_MAX + 1];
    size_t n = sample(tok, sizeof(tok));
    cr_assert_eq(shop_position_decode(tok, n - 1, key, "alice", &back, &why) == SHOP_POS_MINE, 0,
                 "a cut token is never taken");
    char big[SHOP_POS_TOKEN_MAX + 2];
    memset(big, 'A', sizeof(big));
    cr_assert_eq(shop_position_decode(big, sizeof(big), key, "alice", &back, &why), SHOP_POS_MALFORMED);
}

Test(position, a_full_token_refuses_new_pairs_and_still_encodes)
{
    static char tok[SHOP_POS_TOKEN_MAX + 1];
    memset(&pos, 0, sizeof(pos));
    for (int i = 0; i < SHOP_POS_ENTRIES_MAX; i++)
        cr_assert_eq(shop_position_add(&pos, i % SHOP_STREAM_COUNT, i, (int64_t)1 << 40), 0);
    cr_assert_eq(shop_position_add(&pos, 0, 100000, 1), -1);
    cr_assert_eq(shop_position_add(&pos, 0, 0, 5), 0, "an existing pair still moves");
    size_t n = shop_position_encode(&pos, key, "alice", tok, sizeof(tok));
    cr_assert_gt(n, 0);
    const char *why;
    cr_assert_eq(shop_position_decode(tok, n, key, "alice", &back, &why), SHOP_POS_MINE, "%s", why);
    cr_assert_eq(back.n, SHOP_POS_ENTRIES_MAX);
}

Test(prefer, wait_among_other_preferences)
{
    int w = -1;
    cr_assert(shop_prefer_wait("wait=5", 6, &w));
    cr_assert_eq(w, 5);
    cr_assert(shop_prefer_wait("respond-async, wait=0", 21, &w));
    cr_assert_eq(w, 0);
    cr_assert(shop_prefer_wait("return=minimal; foo=\"x\", WAIT = 99", 34, &w));
    cr_assert_eq(w, SHOP_POS_WAIT_MAX_S, "clamped");
    cr_assert(shop_prefer_wait("wait=\"3\"", 8, &w));
    cr_assert_eq(w, 3);
    w = -1;
    cr_assert_not(shop_prefer_wait("return=minimal", 14, &w));
    cr_assert_not(shop_prefer_wait("wait=soon", 9, &w));
    cr_assert_not(shop_prefer_wait("wait=", 5, &w));
    cr_assert_not(shop_prefer_wait("waiting=3", 9, &w));
    cr_assert_eq(w, -1);
}

static int64_t next_of(void *ctx, int role, int stream, int32_t partition)
{
    const int64_t *table = ctx;   /* [role][stream], partition ignored */
    return table[role * SHOP_STREAM_COUNT + stream];
}

Test(fresh, a_read_waits_for_the_groups_that_consume_the_streams_it_reads)
{
    memset(&pos, 0, sizeof(pos));
    shop_position_add(&pos, SHOP_STREAM_CART, 0, 10);
    shop_position_add(&pos, SHOP_STREAM_ORDER, 1, 20);
    struct shop_fresh_need needs[8];
    /* The cart: the projector only, which consumes both streams. */
    size_t n = shop_fresh_needs(&pos, shop_edge_read_roles(SHOP_READ_CART), needs, 8);
    cr_assert_eq(n, 2);
    cr_assert_eq(needs[0].role, SHOP_WORKER_PROJECTOR);
    /* A product: the projector and the inventory (which does not consume the cart). */
    n = shop_fresh_needs(&pos, shop_edge_read_roles(SHOP_READ_PRODUCT), needs, 8);
    cr_assert_eq(n, 3);
    cr_assert_eq(needs[2].role, SHOP_WORKER_INVENTORY);
    cr_assert_eq(needs[2].stream, SHOP_STREAM_ORDER);
    /* A segment: the ML role, which consumes the cart but not the order topic. */
    n = shop_fresh_needs(&pos, shop_edge_read_roles(SHOP_READ_SEGMENT), needs, 8);
    cr_assert_eq(n, 1);
    cr_assert_eq(needs[0].stream, SHOP_STREAM_CART);
    cr_assert_eq(shop_fresh_needs(&pos, shop_edge_read_roles(SHOP_READ_READY), needs, 8), 0);
    cr_assert_eq(shop_fresh_needs(&pos, shop_edge_read_roles(SHOP_READ_PRODUCT), needs, 1), 3,
                 "counts past cap");

    int64_t table[SHOP_WORKER_ROLE_COUNT * SHOP_STREAM_COUNT];
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        table[i] = -1;
    n = shop_fresh_needs(&pos, shop_edge_read_roles(SHOP_READ_CART), needs, 8);
    cr_assert_eq(shop_fresh_behind(needs, n, next_of, table), 2, "unknown offsets are behind");
    table[SHOP_WORKER_PROJECTOR * SHOP_STREAM_COUNT + SHOP_STREAM_CART] = 10;
    table[SHOP_WORKER_PROJECTOR * SHOP_STREAM_COUNT + SHOP_STREAM_ORDER] = 21;
    cr_assert_eq(shop_fresh_behind(needs, n, next_of, table), 1, "next 10 has not consumed offset 10");
    table[SHOP_WORKER_PROJECTOR * SHOP_STREAM_COUNT + SHOP_STREAM_CART] = 11;
    cr_assert_eq(shop_fresh_behind(needs, n, next_of, table), 0);
}

Test(fresh, the_check_parameters_are_array_literals)
{
    struct shop_fresh_need needs[2] = {{SHOP_WORKER_PROJECTOR, SHOP_STREAM_CART, 3, 10},
                                       {SHOP_WORKER_ML, SHOP_STREAM_BROWSE, 0, 9000000000}};
    const char *groups[SHOP_WORKER_ROLE_COUNT] = {"gp", "gi", "gm"};
    static char topics[SHOP_STREAM_COUNT][SHOP_TOPIC_NAME_MAX];
    for (int s = 0; s < SHOP_STREAM_COUNT; s++)
        shop_topic_name(topics[s], sizeof(topics[s]), "x.", (enum shop_stream)s);
    struct shop_arena a = SHOP_ARENA_INIT;
    const char *p[4];
    shop_fresh_params(needs, 2, groups, (const char (*)[SHOP_TOPIC_NAME_MAX])topics, &a, p);
    cr_assert_str_eq(p[0], "{\"gp\",\"gm\"}");
    cr_assert_str_eq(p[1], "{\"x.cart.v1\",\"x.browse.v1\"}");
    cr_assert_str_eq(p[2], "{3,0}");
    cr_assert_str_eq(p[3], "{10,9000000000}");
    shop_arena_fini(&a);
}
