#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_json_alloc.h"

static const char doc[] = "{\"events\":[{\"type\":\"product_viewed\",\"product_id\":\"p-1\"},"
                          "{\"type\":\"search_performed\",\"query\":\"red shoes\"}]}";

/* Criterion runs each test in its own process, so installing is local to the test. */

Test(json_alloc, parse_in_a_window_comes_from_the_arena)
{
    shop_json_alloc_install();
    struct shop_arena arena = SHOP_ARENA_INIT;
    shop_json_alloc_begin(&arena);
    json_t *root = json_loads(doc, JSON_REJECT_DUPLICATES, NULL);
    cr_assert_not_null(root);
    cr_assert(shop_arena_owns(&arena, root));
    json_t *ev = json_array_get(json_object_get(root, "events"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(ev, "query")), "red shoes");
    cr_assert(shop_arena_owns(&arena, json_string_value(json_object_get(ev, "query"))));
    cr_assert_gt(arena.total, 0);
    json_decref(root);
    shop_json_alloc_end();
    shop_arena_fini(&arena);
}

Test(json_alloc, outside_a_window_memory_is_plain_malloc)
{
    shop_json_alloc_install();
    json_t *v = json_loads(doc, 0, NULL);
    cr_assert_not_null(v);
    char *s = json_dumps(v, JSON_COMPACT);
    cr_assert_not_null(s);
    free(s);   /* as libjwt's callers do: must be exactly what malloc returned */
    json_decref(v);
}

Test(json_alloc, malloc_blocks_are_freed_inside_a_window)
{
    shop_json_alloc_install();
    json_t *outside = json_loads(doc, 0, NULL);
    struct shop_arena arena = SHOP_ARENA_INIT;
    shop_json_alloc_begin(&arena);
    json_t *inside = json_loads(doc, 0, NULL);
    cr_assert(!shop_arena_owns(&arena, outside));
    /* Mixing both kinds in one tree: the malloc'd value is freed with free() when the
     * arena-owned parent releases it (the sanitizer build checks that nothing leaks). */
    json_object_set(inside, "outside", outside);
    json_decref(outside);
    json_decref(inside);
    shop_json_alloc_end();
    shop_arena_fini(&arena);
}

Test(json_alloc, windows_without_install_change_nothing)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    shop_json_alloc_begin(&arena);
    json_t *v = json_loads(doc, 0, NULL);
    cr_assert_not_null(v);
    cr_assert(!shop_arena_owns(&arena, v));
    json_decref(v);
    shop_json_alloc_end();
    cr_assert_eq(arena.total, 0);
    shop_arena_fini(&arena);
}

Test(arena, owns_only_its_chunks)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    int local = 0;
    cr_assert(!shop_arena_owns(&arena, &local));
    char *p = shop_arena_alloc_uninit(&arena, 100);
    for (int i = 0; i < 200; i++)
        shop_arena_alloc_uninit(&arena, 1000);
    cr_assert(shop_arena_owns(&arena, p));
    cr_assert(shop_arena_owns(&arena, p + 99));
    cr_assert(!shop_arena_owns(&arena, &local));
    shop_arena_fini(&arena);
    cr_assert(!shop_arena_owns(&arena, p));
}
