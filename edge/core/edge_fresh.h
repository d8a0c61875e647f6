/* SPDX-License-Identifier: MIT
 * What a read given a position token waits for. Pure. A read is answered from the
 * projections of some worker roles (shop_edge_read_roles); it is fresh once each of
 * those roles' consumer groups has consumed past every position entry of a stream the
 * role consumes. Offsets are what the groups committed in consumer_offsets in the
 * transaction of their effects, so next_offset > offset means the event's effect is in
 * the same snapshot.
 */
#ifndef SHOP_EDGE_FRESH_H
#define SHOP_EDGE_FRESH_H

#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "edge/core/edge_position.h"
#include "edge/core/edge_reads.h"
#include "proto/core/event_topic.h"
#include "workers/core/roles.h"

struct shop_fresh_need {
    int role;                        /* enum shop_worker_role */
    int stream;
    int32_t partition;
    int64_t offset;                  /* passed when the group's next_offset > offset */
};

/** The roles whose projections answer kind, as bits 1u << enum shop_worker_role. */
unsigned shop_edge_read_roles(enum shop_edge_read kind);

/** The needs of position p for roles (bits): one per role and entry of a stream that role
 *  consumes. Writes at most cap; returns how many there are (may exceed cap). */
size_t shop_fresh_needs(const struct shop_position *p, unsigned roles, struct shop_fresh_need *out,
                        size_t cap);

/** A group's next offset on (stream, partition), -1 when unknown. */
typedef int64_t shop_fresh_next_fn(void *ctx, int role, int stream, int32_t partition);

/** How many of needs[0..n) next() does not show as passed. */
size_t shop_fresh_behind(const struct shop_fresh_need *needs, size_t n, shop_fresh_next_fn *next,
                         void *ctx);

/** The check's SQL: rows (group, topic, partition) of the needs not yet passed. Its four
 *  parameters come from shop_fresh_params. */
extern const char shop_fresh_sql[];

/** The check's parameters for needs[0..n) ($1 groups, $2 topics, $3 partitions, $4
 *  offsets, as PostgreSQL array literals in arena): groups[role] and topics[stream] name
 *  them (names of [A-Za-z0-9._-], checked by the configuration). */
void shop_fresh_params(const struct shop_fresh_need *needs, size_t n, const char *const *groups,
                       const char (*topics)[SHOP_TOPIC_NAME_MAX], struct shop_arena *arena,
                       const char *params[4]);

#endif
