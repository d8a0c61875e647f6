/* SPDX-License-Identifier: MIT
 * Dedup by event id for any role (applied_events, docs/projections.md "Dedup
 * window"): a role keeps one struct worker_dedup in its role state, named by its
 * consumer group (its applied_projectors id), so two roles consuming the same
 * event each apply it once. Shell. Loop thread.
 */
#ifndef SHOP_WORKER_DEDUP_H
#define SHOP_WORKER_DEDUP_H

#include <stdbool.h>
#include <stdint.h>

#include "workers/worker.h"

struct worker_dedup {
    const char *group;             /* whose ids: the role's consumer group */
    bool probe;                    /* look ids up in their own bucket too (duplicates were seen lately) */
    int64_t bucket_ms;             /* applied_events_layout.bucket_ms, 0 until read */
    char projector[SHOP_I64_TEXT_MAX];   /* the group's applied_projectors.id, read with it */
    int64_t mark_ms;               /* newest receipt time of a committed batch */
    bool maintained;               /* span was maintained */
    struct shop_proj_dedup_span span;
    int64_t retry_at_ms;           /* after a failed maintenance: not before this (wall clock) */
};

/** Begins the batch's transaction with its new ids recorded in applied_events: is_new[i]
 *  is true for the first copy of an id not applied before (b->n + 1 entries). The caller
 *  goes on in the same transaction. 0, or SHOP_EPG (not begun, or to be rolled back). */
int worker_dedup_begin(struct worker *w, struct worker_dedup *d, struct worker_batch *b, bool *is_new,
                       struct shop_err *err);

/** After the batch committed: keeps applied_events' partitions to the window. */
void worker_dedup_committed(struct worker *w, struct worker_dedup *d, const struct worker_batch *b);

#endif
