/* SPDX-License-Identifier: MIT
 * What the ml role writes to PostgreSQL, built from what the ML core drains
 * (workers/core/mlw.h's struct shop_mlw_sink): one upsert per read table with one
 * array parameter per column (a row's list, a text[] or float8[], travels as its own
 * array literal, cast in SQL), the outbox rows past the mark, the mark, and the
 * consumer offsets; the epoch check that fences a stale owner; the checkpoint's and
 * the relay's statements; the checkpoint's offsets as JSON. Pure: needs only mlw.h's
 * types, never its functions. The segments drained are the whole segmentation: the
 * segments they do not name are deleted.
 */
#ifndef SHOP_ML_SINK_H
#define SHOP_ML_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"
#include "workers/core/mlw.h"
#include "workers/core/sql_plan.h"

enum {
    SHOP_MLSINK_RECS,
    SHOP_MLSINK_SIMILAR,
    SHOP_MLSINK_USEGS,
    SHOP_MLSINK_SEGS,
    SHOP_MLSINK_FORECASTS,
    SHOP_MLSINK_MODELS,
    SHOP_MLSINK_OUTBOX,
    SHOP_MLSINK_OFFSETS,
    SHOP_MLSINK_TABLES
};

struct shop_mlsink {
    struct shop_arena *arena;
    struct shop_sql_cols t[SHOP_MLSINK_TABLES];
    bool has_popular;
    const char *popular[4];      /* version, items, scores, at */
    uint64_t mark;               /* last outbox seq queued before this write */
    uint64_t last_seq;           /* the mark after it */
    size_t rows;                 /* rows of every statement, for the stats */
};

/** Starts one write's statements in arena; outbox rows with seq <= mark are skipped. */
void shop_mlsink_init(struct shop_mlsink *s, struct shop_arena *arena, uint64_t mark);
/** The drain's sink, writing into s; .event is NULL: the shell encodes each event
 *  (shop_mlw_out_encode) and hands it to shop_mlsink_outbox. */
struct shop_mlw_sink shop_mlsink_sink(struct shop_mlsink *s);
/** Queues one encoded ml.* event unless seq <= the mark. */
void shop_mlsink_outbox(struct shop_mlsink *s, uint64_t seq, const char *event_id, const char *key,
                        const uint8_t *bytes, size_t len);
/** Records the next offset of one consumed partition, for consumer_offsets. */
void shop_mlsink_offset(struct shop_mlsink *s, const char *topic, int32_t partition, int64_t next);
/** True when nothing was queued. */
bool shop_mlsink_empty(const struct shop_mlsink *s);
/** Appends the writes (read tables, outbox, mark, offsets) to plan; group names the
 *  consumer group, now_ms stamps consumer_offsets. Call once. */
void shop_mlsink_plan(struct shop_mlsink *s, const char *group, int64_t now_ms, struct shop_plan *plan);

/** The checkpoint's offsets: [{"topic":..,"partition":..,"offset":..}] (jansson), in
 *  arena. n entries of topics/partitions/nexts. */
const char *shop_mlsink_offsets_json(struct shop_arena *arena, const char *const *topics, const int32_t *partitions,
                                     const int64_t *nexts, size_t n);
/** Calls cb for every entry of such a JSON text. 0, or SHOP_EBADMSG naming what is wrong. */
int shop_mlsink_offsets_parse(const char *json, void (*cb)(void *ctx, const char *topic, int32_t partition,
                                                           int64_t next),
                              void *ctx, struct shop_err *err);

/* Every ml write transaction starts with it (after begin): one row while the lease's
 * epoch is still ours; for share, so a takeover's epoch bump waits for the commit. */
extern const char SHOP_MLSINK_SQL_EPOCH_CHECK[];
/* $1 group, $2 holder: the lease's epoch, bumped (1 for a new group). */
extern const char SHOP_MLSINK_SQL_LEASE_TAKE[];
extern const char SHOP_MLSINK_SQL_TRY_LOCK[];       /* $1 the group: pg_try_advisory_lock */
extern const char SHOP_MLSINK_SQL_MARK_READ[];      /* $1 group: last_seq, or no row */
extern const char SHOP_MLSINK_SQL_CKPT_INSERT[];
extern const char SHOP_MLSINK_SQL_SNAPSHOT_INSERT[];
extern const char SHOP_MLSINK_SQL_CKPT_PRUNE[];
extern const char SHOP_MLSINK_SQL_CKPT_LATEST[];
extern const char SHOP_MLSINK_SQL_SNAPSHOTS_READ[];
extern const char SHOP_MLSINK_SQL_RELAY_LOCK[];
extern const char SHOP_MLSINK_SQL_OUTBOX_READ[];
extern const char SHOP_MLSINK_SQL_OUTBOX_DELETE[];
/** $1 the cap: the rows waiting, counted up to the cap (the outbox depth metric). */
extern const char SHOP_MLSINK_SQL_OUTBOX_COUNT[];

#endif
