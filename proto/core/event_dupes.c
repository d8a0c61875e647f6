/* SPDX-License-Identifier: MIT
 * Duplicate event ids inside one batch. Pure. Sorting (id, index) pairs makes it
 * O(n log n) whatever the ids are, so no crafted batch can make it quadratic
 * (a hash table would need a seed for that).
 */
#include <stdlib.h>
#include <string.h>

#include "proto/core/event_internal.h"

struct id_at {
    const char *id;
    size_t index;
};

/* By id, then by position, so the second of equal ids is its second occurrence. */
static int cmp_id_at(const void *a, const void *b)
{
    const struct id_at *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

ptrdiff_t shop_event_batch_duplicate(Shopstream__V1__Event *const *events, size_t n,
                                     struct shop_arena *arena)
{
    if (n < 2)
        return -1;
    struct id_at *v = shop_arena_alloc_uninit(arena, n * sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = (struct id_at){shop__str(events[i]->id), i};
    qsort(v, n, sizeof(*v), cmp_id_at);
    /* Every later member of a group of equal ids sits after its second occurrence, so the
     * smallest index that equals its predecessor is the earliest second occurrence. */
    size_t first = n;
    for (size_t i = 1; i < n; i++) {
        if (v[i].index < first && strcmp(v[i].id, v[i - 1].id) == 0)
            first = v[i].index;
    }
    return first < n ? (ptrdiff_t)first : -1;
}
