/* SPDX-License-Identifier: MIT
 * Where a bounded run of a worker stops (SHOPSTREAM_STOP_AT_OFFSETS): per partition
 * the offset of the first record it must not apply. shopstream-admin rebuild runs the
 * real role with a snapshot of the live group's offsets, so the rebuilt tables end
 * exactly where the live ones were. Pure.
 */
#ifndef SHOP_WORKER_STOP_AT_H
#define SHOP_WORKER_STOP_AT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "proto/core/event_topic.h"

struct shop_stop_at_entry {
    char topic[SHOP_TOPIC_NAME_MAX];
    int32_t partition;
    int64_t stop;       /* records at or past this offset are not applied */
    int64_t reached;    /* next offset applied (or assigned at) so far */
};

/** Empty (n == 0, on false): an unbounded run. */
struct shop_stop_at {
    bool on;
    size_t n;
    struct shop_stop_at_entry *entries;   /* heap, n entries, owned; never freed (process lifetime) */
};

/** Parses "topic:partition:offset,..." (the topic may hold ':' only before the last two
 *  fields). An empty text turns the bound on with no partition listed (nothing is
 *  applied). 0, or SHOP_EINVAL naming the bad item. */
int shop_stop_at_parse(const char *text, struct shop_stop_at *out, struct shop_err *err);

/** The stop offset of (topic, partition): 0 for a partition the list does not name
 *  (nothing of it is applied); INT64_MAX when the bound is off. */
int64_t shop_stop_at_offset(const struct shop_stop_at *sa, const char *topic, int32_t partition);

/** Notes that (topic, partition) applied (or starts) at next offset next. */
void shop_stop_at_note(struct shop_stop_at *sa, const char *topic, int32_t partition, int64_t next);

/** Whether every listed partition reached its stop offset (false when the bound is off). */
bool shop_stop_at_done(const struct shop_stop_at *sa);

#endif
