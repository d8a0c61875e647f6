/* SPDX-License-Identifier: MIT
 * jansson's allocator, bump-allocating from a thread's current arena.
 * Invariant: a block is arena memory exactly when it lies in a chunk of the
 * thread's current arena; anything else came from malloc. Blocks are told apart
 * by address rather than by a header, because memory jansson returns outside a
 * window is freed by other libraries with plain free() (libjwt's
 * jwt_get_grants_json), so it must be exactly what malloc returned.
 */
#include "base/shop_json_alloc.h"

#include <assert.h>
#include <jansson.h>
#include <stdlib.h>

static _Thread_local struct shop_arena *current;

static void *json_alloc(size_t size)
{
    if (current != NULL)
        return shop_arena_alloc_uninit(current, size);
    return malloc(size);   /* jansson handles NULL itself */
}

/* Arena blocks are released with the arena; freeing them now would be a no-op. */
static void json_free(void *p)
{
    if (p == NULL || (current != NULL && shop_arena_owns(current, p)))
        return;
    free(p);
}

void shop_json_alloc_install(void)
{
    json_set_alloc_funcs(json_alloc, json_free);
}

void shop_json_alloc_begin(struct shop_arena *arena)
{
    assert(current == NULL);
    current = arena;
}

void shop_json_alloc_end(void)
{
    current = NULL;
}
