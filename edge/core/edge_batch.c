/* SPDX-License-Identifier: MIT
 * Batch completion from delivery reports. Pure.
 */
#include "edge/core/edge_batch.h"

void shop_edge_batch_init(struct shop_edge_batch *b, size_t n)
{
    *b = (struct shop_edge_batch){.n = n};
}

static enum shop_batch_verdict answer(struct shop_edge_batch *b, enum shop_batch_verdict v)
{
    if (b->answered)
        return SHOP_BATCH_WAIT;
    b->answered = true;
    return v;
}

enum shop_batch_verdict shop_edge_batch_queued(struct shop_edge_batch *b, size_t produced, int err)
{
    b->produced = produced;
    b->pending = produced;
    if (err == 0 && produced == b->n)
        return SHOP_BATCH_WAIT;
    b->first_err = err;
    return answer(b, SHOP_BATCH_UNAVAILABLE);
}

enum shop_batch_verdict shop_edge_batch_report(struct shop_edge_batch *b, int err)
{
    if (b->pending == 0)
        return SHOP_BATCH_WAIT;   /* a report we did not wait for: a bug, never a 202 */
    b->pending--;
    if (err != 0) {
        b->failed++;
        if (b->first_err == 0)
            b->first_err = err;
    }
    if (b->pending > 0)
        return SHOP_BATCH_WAIT;
    if (b->failed == 0 && b->produced == b->n)
        return answer(b, SHOP_BATCH_ACCEPTED);
    return answer(b, SHOP_BATCH_UNAVAILABLE);
}

enum shop_batch_verdict shop_edge_batch_timeout(struct shop_edge_batch *b)
{
    return answer(b, SHOP_BATCH_UNAVAILABLE);
}

bool shop_edge_batch_done(const struct shop_edge_batch *b)
{
    return b->pending == 0;
}

int shop_edge_batch_status(enum shop_batch_verdict v)
{
    switch (v) {
    case SHOP_BATCH_ACCEPTED: return 202;
    case SHOP_BATCH_UNAVAILABLE: return 503;
    default: return 0;
    }
}
