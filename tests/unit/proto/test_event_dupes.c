/* SPDX-License-Identifier: MIT
 * shop_event_batch_duplicate: the earliest second occurrence of an id in a batch. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "proto/core/shop_event.h"

#define N_BIG 5000

/* A batch whose event i has the id ids[i]; lives in a. */
static Shopstream__V1__Event **batch(struct shop_arena *a, const char *const *ids, size_t n)
{
    Shopstream__V1__Event **evs = shop_arena_alloc(a, n * sizeof(*evs));
    for (size_t i = 0; i < n; i++) {
        evs[i] = shop_arena_alloc(a, sizeof(**evs));
        shopstream__v1__event__init(evs[i]);
        evs[i]->id = (char *)ids[i];
    }
    return evs;
}

static ptrdiff_t dup_of(const char *const *ids, size_t n)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    ptrdiff_t r = shop_event_batch_duplicate(batch(&a, ids, n), n, &a);
    shop_arena_fini(&a);
    return r;
}

Test(event_dupes, none)
{
    const char *ids[] = {"a", "b", "c", "d"};
    cr_assert_eq(dup_of(ids, 4), -1);
    cr_assert_eq(dup_of(ids, 1), -1);
    cr_assert_eq(dup_of(ids, 0), -1);
}

Test(event_dupes, names_the_second_occurrence)
{
    const char *ids[] = {"x", "b", "c", "x"};
    cr_assert_eq(dup_of(ids, 4), 3);
    const char *adjacent[] = {"b", "a", "a"};
    cr_assert_eq(dup_of(adjacent, 3), 2);
}

Test(event_dupes, earliest_of_several_groups)
{
    /* groups: "z" at 1,5 and "m" at 2,4, "q" at 0,3,6 -> 3 is the earliest second occurrence */
    const char *ids[] = {"q", "z", "m", "q", "m", "z", "q"};
    cr_assert_eq(dup_of(ids, 7), 3);
    const char *triple[] = {"a", "b", "a", "a"};
    cr_assert_eq(dup_of(triple, 4), 2);
}

Test(event_dupes, large_batch)
{
    static char text[N_BIG][40];
    static const char *ids[N_BIG];
    for (size_t i = 0; i < N_BIG; i++) {
        snprintf(text[i], sizeof(text[i]), "00000000-0000-4000-8000-%012zu", i);
        ids[i] = text[i];
    }
    cr_assert_eq(dup_of(ids, N_BIG), -1);
    ids[N_BIG - 1] = ids[7];
    cr_assert_eq(dup_of(ids, N_BIG), N_BIG - 1);
    ids[4000] = ids[N_BIG - 2];
    cr_assert_eq(dup_of(ids, N_BIG), N_BIG - 2);   /* 4000 is the first of its pair */
}
