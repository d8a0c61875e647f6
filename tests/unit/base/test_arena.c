#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "base/shop_arena.h"

Test(arena, allocations_are_aligned_zeroed_and_survive_growth)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    char *first = shop_arena_strdup(&arena, "first");
    for (int i = 0; i < 1000; i++) {
        unsigned char *p = shop_arena_alloc(&arena, 100 + (size_t)i);
        cr_assert_eq((uintptr_t)p % _Alignof(max_align_t), 0);
        cr_assert_eq(p[0], 0);
        cr_assert_eq(p[99 + i], 0);
        memset(p, 0xab, 100 + (size_t)i);
    }
    cr_assert_str_eq(first, "first");
    cr_assert_gt(arena.total, 100000);
    shop_arena_reset(&arena);
    cr_assert_eq(arena.total, 0);
    cr_assert_str_eq(shop_arena_strndup(&arena, "abcdef", 3), "abc");
    shop_arena_fini(&arena);
    cr_assert_null(arena.head);
}

Test(arena, large_allocation_gets_its_own_chunk)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    unsigned char *p = shop_arena_alloc(&arena, 1 << 20);
    p[(1 << 20) - 1] = 7;
    cr_assert_eq(p[(1 << 20) - 1], 7);
    shop_arena_fini(&arena);
}
