/* SPDX-License-Identifier: MIT
 * Capped exponential backoff with equal or full jitter. Pure.
 */
#include "workers/core/backoff.h"

void shop_backoff_init(struct shop_backoff *b, int64_t first_ms, int64_t max_ms)
{
    b->first_ms = first_ms > 0 ? first_ms : 1;
    b->max_ms = max_ms > b->first_ms ? max_ms : b->first_ms;
    shop_backoff_reset(b);
}

void shop_backoff_reset(struct shop_backoff *b)
{
    b->step_ms = b->first_ms;
    b->failures = 0;
}

int64_t shop_backoff_next(struct shop_backoff *b, uint32_t rnd)
{
    int64_t step = b->step_ms;
    b->failures++;
    b->step_ms = step > b->max_ms / 2 ? b->max_ms : step * 2;
    /* Half fixed, half random: replicas that failed together do not retry together. */
    int64_t half = step / 2;
    return step - half + (int64_t)(rnd % (uint64_t)(half + 1));
}

int64_t shop_backoff_next_full(struct shop_backoff *b, uint32_t rnd)
{
    int64_t step = b->step_ms;
    b->failures++;
    b->step_ms = step > b->max_ms / 2 ? b->max_ms : step * 2;
    return (int64_t)(rnd % (uint64_t)(step + 1));
}
