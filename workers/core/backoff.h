/* SPDX-License-Identifier: MIT
 * Exponential backoff with a cap and jitter, for retrying PostgreSQL. Pure: the
 * random draw comes from the caller. The delay grows on every failure and goes back
 * to the first step only when the caller calls shop_backoff_reset, i.e. after a batch
 * committed, not merely after a reconnect (a batch that fails at once again must not
 * retry ten times a second).
 */
#ifndef SHOP_BACKOFF_H
#define SHOP_BACKOFF_H

#include <stdint.h>

struct shop_backoff {
    int64_t first_ms, max_ms;
    int64_t step_ms;        /* the un-jittered delay of the next failure */
    uint32_t failures;      /* since the last reset */
};

void shop_backoff_init(struct shop_backoff *b, int64_t first_ms, int64_t max_ms);

/** Delay before the next attempt after one more failure: "equal jitter", uniform in
 *  [step/2, step], step doubling from first_ms up to max_ms. rnd is a uniform random
 *  32-bit value. */
int64_t shop_backoff_next(struct shop_backoff *b, uint32_t rnd);

/** Like shop_backoff_next, with "full jitter": uniform in [0, step]. For many
 *  independent retries of one cause (webhook deliveries), which must spread out
 *  rather than keep a floor. */
int64_t shop_backoff_next_full(struct shop_backoff *b, uint32_t rnd);

void shop_backoff_reset(struct shop_backoff *b);

#endif
