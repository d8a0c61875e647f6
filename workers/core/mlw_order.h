/* SPDX-License-Identifier: MIT
 * The ML core's reorder buffer, partition offsets and dedup window. Pure.
 *
 * Why: the models must come out the same however the partitions interleave (mlw.h). So
 * events are not applied as they arrive but released in one total order, the key
 * (occurred_at_ms, stream, id): stream in enum order, id in byte order. The key is total
 * because two entries share one only when they share an id, and a repeated id is caught
 * here first. An entry is due once the clock (the largest occurred_at pushed) is
 * lateness_ms past it. Until then a slower partition can still slot an earlier event
 * in front of it.
 *
 * Every buffered key is greater than the last key popped. An entry at or behind that key
 * can no longer be put in order, so push answers LATE and the caller applies it at once.
 * That is the one place where arrival order shows.
 *
 * Dedup: Kafka delivers at least once and producers retry, so an id can come twice. An id
 * is remembered with its key and forgotten only when two things hold: the clock is more
 * than dedup_window_ms past its occurred_at, and its key is at or behind the last pop (it
 * is no longer buffered). Memory stays bounded by the window plus the buffer. An id is
 * never forgotten while its entry is still buffered, so two entries with one key never
 * meet in the buffer. A window of at least lateness_ms catches every duplicate that could
 * still be reordered. A duplicate changes nothing but its partition's offset; not even
 * the clock moves.
 *
 * The offsets are recorded on every push, duplicates included: they say where
 * consumption goes on, and they are only true together with the buffer and the window
 * they were saved with. So all three travel in one record (ml/ml_codec.h, magic "MLWO").
 * The record is canonical: it is written sorted, so equal contents give equal bytes
 * whatever the push order. That lets checkpoints be compared byte for byte.
 *
 * Beside the offsets (where consumption goes on, buffered records included), each
 * partition knows the lowest offset it still holds (shop_mlw_order_held): what has been
 * applied through, for readers that must know an event's effect is visible.
 *
 * Bounding the buffer is the caller's business (it pauses consumption), so this module
 * only reports counts and bytes. Each remembered id costs up to about 200 bytes: its key in the
 * expiry heap and a slot in a set kept at most half full. A buffered entry adds about 90
 * bytes and a copy of its record. push and pop cost O(log n); encode costs O(n log n).
 */
#ifndef SHOP_MLW_ORDER_H
#define SHOP_MLW_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "base/shop_siphash.h"
#include "ml/ml_codec.h"
#include "proto/core/shop_event.h"

#define SHOP_MLW_ID_MAX 36   /* the event id: canonical UUID text */

/** One consumed record. bytes is the packed shopstream.v1.Event. push copies it. */
struct shop_mlw_entry {
    enum shop_stream stream;
    int32_t partition;           /* >= 0 */
    int64_t offset;              /* >= 0 */
    int64_t occurred_at_ms;
    char id[SHOP_MLW_ID_MAX + 1];   /* 1..36 bytes, no NUL inside */
    const uint8_t *bytes;
    size_t len;
};

struct shop_mlw_order_cfg {
    int64_t lateness_ms;         /* >= 0 */
    int64_t dedup_window_ms;     /* >= 0; choose >= lateness_ms */
    struct shop_hash_seed seed;  /* keys the id set against chosen-id flooding; not visible in any result */
    /* Partitions hold the due point back: an entry is due once every partition seen,
     * idle ones apart, has pushed an event lateness_ms after it (a partition seen but
     * not pushed since start holds everything). So a partition consumed ahead in event
     * time (a backlog fetched unevenly, or only some partitions assigned after a
     * restart) waits for the others instead of making their records late. */
    bool hold_partitions;
};

enum shop_mlw_order_push {
    SHOP_MLW_ORDER_BUFFERED = 0,
    SHOP_MLW_ORDER_DUPLICATE,    /* id remembered: drop it */
    SHOP_MLW_ORDER_LATE          /* key at or behind the last pop: apply it now (not buffered) */
};

struct shop_mlw_order;

/** A new, empty buffer. 0, or SHOP_EINVAL (err names the field). */
int shop_mlw_order_new(const struct shop_mlw_order_cfg *cfg, struct shop_mlw_order **out, struct shop_err *err);
void shop_mlw_order_free(struct shop_mlw_order *o);

/** Sets the partition's next offset to e->offset + 1, then classifies e (see the
 *  header comment). A buffered e's bytes are copied. Allocation failure aborts. */
enum shop_mlw_order_push shop_mlw_order_push(struct shop_mlw_order *o, const struct shop_mlw_entry *e);

/** The least buffered entry into *out, if it is due (clock - lateness_ms has reached it,
 *  or flush) and its occurred_at_ms < limit_ms (a swap point the caller must stop at;
 *  INT64_MAX for none). out->bytes is owned by o and valid until the next pop, push,
 *  decode or free. Returns false when nothing may be popped. */
bool shop_mlw_order_pop(struct shop_mlw_order *o, bool flush, int64_t limit_ms, struct shop_mlw_entry *out);

/** Entries held, and the bytes they hold. */
size_t shop_mlw_order_buffered(const struct shop_mlw_order *o);
size_t shop_mlw_order_bytes(const struct shop_mlw_order *o);
/** Ids remembered by the dedup window (buffered ones included). */
size_t shop_mlw_order_remembered(const struct shop_mlw_order *o);
/** The time entries must be lateness_ms behind to be due: the clock, or with
 *  hold_partitions the least of it and each non-idle partition's newest occurred_at
 *  (INT64_MIN while one has pushed nothing since start). */
int64_t shop_mlw_order_due(const struct shop_mlw_order *o);
/** Marks a partition seen as consumed up to its end (idle: it holds nothing back) or
 *  not; a push marks its partition not idle. Not part of the record. */
void shop_mlw_order_set_idle(struct shop_mlw_order *o, enum shop_stream stream, int32_t partition, bool idle);
/** The largest occurred_at_ms pushed (duplicates aside), or 0 before any. */
int64_t shop_mlw_order_clock(const struct shop_mlw_order *o);
/** The key of the last pop: false before any. id may be NULL; otherwise it gets
 *  SHOP_MLW_ID_MAX + 1 bytes. */
bool shop_mlw_order_last(const struct shop_mlw_order *o, int64_t *occurred_at_ms, enum shop_stream *stream,
                         char *id);

/** 0 and *next (where consumption of the partition goes on), or SHOP_ENOTFOUND when no
 *  record of the partition was ever pushed. */
int shop_mlw_order_offset(const struct shop_mlw_order *o, enum shop_stream stream, int32_t partition,
                          int64_t *next);
/** The lowest offset of (stream, partition) whose entry is still buffered with bytes to
 *  apply: true and *offset, or false when none is (never pushed, or everything pushed on
 *  it was popped, late, a duplicate or empty: an empty entry has nothing to apply, it is
 *  how the ML core buffers its non-inputs). So every offset below it has been dealt with;
 *  consumer_offsets says "applied" with it (docs/ml.md). O(1); pop keeps it in O(log n). */
bool shop_mlw_order_held(const struct shop_mlw_order *o, enum shop_stream stream, int32_t partition, int64_t *offset);
/** Calls cb for every partition seen, in (stream, partition) order. */
void shop_mlw_order_offsets(const struct shop_mlw_order *o,
                            void (*cb)(void *ctx, enum shop_stream stream, int32_t partition, int64_t next),
                            void *ctx);

/** Appends one "MLWO" record: the clock, the last pop, the offsets, the ids remembered
 *  behind the last pop, and the buffered entries with their bytes, each list sorted.
 *  The configuration is not part of it: decode keeps the target's. */
void shop_mlw_order_encode(const struct shop_mlw_order *o, struct shop_ml_writer *w);
/** Replaces o's content with the record at buf. It checks everything: bounds, CRC, strict
 *  order of each list, ids unique, keys consistent with the clock and the last pop. Then
 *  it forgets what o's window says is expired. *used (may be NULL) gets the record's
 *  size. 0, or SHOP_EBADMSG with o unchanged. */
int shop_mlw_order_decode(struct shop_mlw_order *o, const uint8_t *buf, size_t len, size_t *used,
                          struct shop_err *err);

#endif
