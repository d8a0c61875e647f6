/* SPDX-License-Identifier: MIT
 * Batch completion from delivery reports. Pure.
 */
#include "edge/core/edge_batch.h"

void shop_edge_batch_init(struct shop_edge_batch *b, size_t n)
{
    *b = (struct shop_edge_batch){.n = n, .too_large_index = n};
}

static enum shop_batch_verdict answer(struct shop_edge_batch *b, enum shop_batch_verdict v)
{
    if (b->answered)
        return SHOP_BATCH_WAIT;
    b->answered = true;
    return v;
}

bool shop_edge_batch_err_too_large(int err)
{
    return err == SHOP_KAFKA_ERR_MESSAGE_TOO_LARGE || err == SHOP_KAFKA_ERR_RECORD_LIST_TOO_LARGE;
}

static void note_too_large(struct shop_edge_batch *b, size_t index, int err)
{
    if (shop_edge_batch_err_too_large(err) && index < b->too_large_index)
        b->too_large_index = index;
}

enum shop_batch_verdict shop_edge_batch_queued(struct shop_edge_batch *b, size_t produced, int err)
{
    b->produced = produced;
    b->pending = produced;
    if (err == 0 && produced == b->n)
        return SHOP_BATCH_WAIT;
    b->first_err = err;
    note_too_large(b, produced, err);
    return answer(b, b->too_large_index < b->n ? SHOP_BATCH_TOO_LARGE : SHOP_BATCH_UNAVAILABLE);
}

enum shop_batch_verdict shop_edge_batch_report(struct shop_edge_batch *b, size_t index, int err)
{
    if (b->pending == 0)
        return SHOP_BATCH_WAIT;   /* a report we did not wait for: a bug, never a 202 */
    b->pending--;
    if (err != 0) {
        b->failed++;
        if (b->first_err == 0)
            b->first_err = err;
        note_too_large(b, index, err);
    }
    if (b->pending > 0)
        return SHOP_BATCH_WAIT;
    if (b->failed == 0 && b->produced == b->n)
        return answer(b, SHOP_BATCH_ACCEPTED);
    /* A size refusal is the client's to fix; a retry of the same batch would fail again. */
    if (b->too_large_index < b->n)
        return answer(b, SHOP_BATCH_TOO_LARGE);
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
    case SHOP_BATCH_TOO_LARGE: return 413;
    default: return 0;
    }
}
