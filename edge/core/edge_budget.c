/* SPDX-License-Identifier: MIT
 * Process-wide budget on one atomic. Pure. */
#include "edge/core/edge_budget.h"

void shop_edge_budget_init(struct shop_edge_budget *b, int64_t cap)
{
    atomic_init(&b->used, 0);
    b->cap = cap;
}

bool shop_edge_budget_reserve(struct shop_edge_budget *b, int64_t n)
{
    /* Add first, then check: two threads racing for the last room cannot both pass. */
    int_fast64_t before = atomic_fetch_add(&b->used, (int_fast64_t)n);
    if (before + n <= b->cap || before == 0)
        return true;
    atomic_fetch_sub(&b->used, (int_fast64_t)n);
    return false;
}

void shop_edge_budget_release(struct shop_edge_budget *b, int64_t n)
{
    atomic_fetch_sub(&b->used, (int_fast64_t)n);
}

int64_t shop_edge_budget_used(struct shop_edge_budget *b)
{
    return (int64_t)atomic_load(&b->used);
}
