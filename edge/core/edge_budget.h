/* SPDX-License-Identifier: MIT
 * A process-wide budget of some quantity held by requests or connections (bytes
 * of in-flight requests, open connections). Pure: one atomic counter, no I/O;
 * any thread may reserve and release. Invariant: used never exceeds cap, except
 * that one reservation larger than the whole cap is admitted while nothing else
 * holds the budget, so a request that is legal by every other limit can still go.
 */
#ifndef SHOP_EDGE_BUDGET_H
#define SHOP_EDGE_BUDGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct shop_edge_budget {
    atomic_int_fast64_t used;
    int64_t cap;
};

void shop_edge_budget_init(struct shop_edge_budget *b, int64_t cap);

/** Reserves n (>= 0); false (nothing reserved) when it does not fit. */
bool shop_edge_budget_reserve(struct shop_edge_budget *b, int64_t n);

/** Gives back n reserved earlier. */
void shop_edge_budget_release(struct shop_edge_budget *b, int64_t n);

int64_t shop_edge_budget_used(struct shop_edge_budget *b);

#endif
