/* SPDX-License-Identifier: MIT
 * The projector's pure core: turns one batch of decoded events into a plan, a
 * short list of fixed SQL statements whose parameters are PostgreSQL array
 * literals, to be run in one transaction by the shell. Nothing here runs SQL.
 *
 * Per batch the shell does:
 *   1. shop_proj_mark_unapplied  -> the candidates (first occurrence of each id)
 *      shop_proj_build_applied_insert -> look them up within the dedup window, insert the
 *                                  rest into applied_events, return the ones found; then
 *                                  mark_unapplied with those. Should the key refuse one
 *                                  (a copy in the same bucket), roll back, redo with
 *                                  probe_own.
 *   2. shop_proj_build_order_read-> passes the order gate for the orders the new events
 *                                  place or decide, then reads status, owner and lines
 *                                  of the orders they name and the decisions parked
 *                                  for them; shop_proj_fold_gated
 *      shop_proj_fold_known_order / shop_proj_fold_parked for each row it returned
 *   3. shop_proj_fold_record     for each new event, in batch order
 *      shop_proj_fold_offset     for each partition of the batch
 *   4. shop_proj_plan_build      -> the statements, offsets last; then COMMIT.
 * The fold semantics are written down in docs/projections.md.
 */
#ifndef SHOP_PROJ_H
#define SHOP_PROJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"
#include "shopstream/v1/events.pb-c.h"
#include "workers/core/order_life.h"
#include "workers/core/sql_plan.h"
#include "workers/core/strmap.h"

/** One consumed record. ev is NULL for a record that went to the dead-letter topic. */
struct shop_proj_record {
    const Shopstream__V1__Event *ev;
    const char *topic;
    int32_t partition;
    int64_t offset;
};

/** Outcome of folding one event. */
enum shop_proj_outcome {
    SHOP_PROJ_APPLIED = 0,     /* including an order step that was only noted in the history */
    SHOP_PROJ_NO_PROJECTION,   /* e.g. inventory.stock_adjusted: nothing to project */
    SHOP_PROJ_REFUSED,         /* an order event the life cycle or the ownership rule refuses:
                                * not applied, recorded in refused_events with its reason */
    SHOP_PROJ_PARKED,          /* an inventory decision for an order not placed yet: kept in
                                * order_decisions_pending until the placement arrives */
    SHOP_PROJ_OVERFLOW         /* a purchases sum would leave int64: the fold is unchanged and
                                * the record goes to the dead-letter topic */
};

/** Refusal reasons, indexes into shop_proj_stats.refused_by. */
enum shop_proj_refusal {
    SHOP_PROJ_REFUSE_ORDER_EXISTS = 0,
    SHOP_PROJ_REFUSE_UNKNOWN_ORDER,
    SHOP_PROJ_REFUSE_ILLEGAL,
    SHOP_PROJ_REFUSE_NOT_OWNER,
    SHOP_PROJ_REFUSE_NOT_ALLOWED,
    SHOP_PROJ_REFUSE_COUNT
};

/** The reason as recorded (SHOP_REFUSE_* of order_life.h); NULL past the last. */
const char *shop_proj_refusal_name(enum shop_proj_refusal r);

struct shop_proj_stats {
    size_t applied, noted, no_projection, refused, parked, overflow;
    size_t refused_by[SHOP_PROJ_REFUSE_COUNT];
};

/** The dedup window (docs/projections.md, "Dedup window"). */
struct shop_proj_dedup {
    const char *projector;   /* applied_events.projector: the group's applied_projectors.id, as text */
    int64_t bucket_ms;       /* applied_events_layout.bucket_ms: width of one partition */
    int64_t window_ms;       /* retries received this close to the first copy are applied once */
    bool probe_own;          /* also look the ids up in the batch's own bucket (after a key conflict) */
};

/** How much earlier than its first copy a retry may have been received (clock skew
 *  between edge replicas) and still be found: 5 minutes, as the validator's skew. */
#define SHOP_PROJ_DEDUP_SKEW_MS INT64_C(300000)

/** received_at_ms / bucket_ms, the partition key of applied_events (kept below INT32_MAX). */
int32_t shop_proj_bucket(int64_t received_at_ms, int64_t bucket_ms);

/** Statement 1: looks up the ids of the records marked in is_new in every bucket from
 *  window_ms before their receipt times to SHOP_PROJ_DEDUP_SKEW_MS (at most window_ms)
 *  after them (but the batch's own bucket unless
 *  probe_own, where the key decides), inserts those it does not find with their
 *  buckets, and returns the ids it found (applied before). A copy in the own bucket
 *  fails it with a unique violation; the batch is then redone with probe_own.
 *  Returns the number of ids; 0 means there is nothing to run. */
size_t shop_proj_build_applied_insert(const struct shop_proj_dedup *d, const struct shop_proj_record *recs,
                                      const bool *is_new, size_t n, struct shop_arena *arena,
                                      struct shop_sql_stmt *out);

/** Which applied_events partitions a projector keeps, from mark_ms (the newest receipt
 *  time it applied) and now_ms (its clock, which caps mark_ms): buckets from..to must
 *  exist, buckets before drop_before are dropped. A retry received up to grace_ms
 *  before mark and within window_ms of its first copy still finds it. */
struct shop_proj_dedup_span {
    int32_t from, to, drop_before;
};
void shop_proj_dedup_span(int64_t mark_ms, int64_t now_ms, int64_t bucket_ms, int64_t window_ms,
                          int64_t grace_ms, struct shop_proj_dedup_span *out);

/** Sets is_new[i] for the first record carrying each id that is not among applied_ids
 *  (none for the candidates; then as statement 1 returned them); DLQ records are never new.
 *  Returns how many are new. */
size_t shop_proj_mark_unapplied(const struct shop_proj_record *recs, size_t n, const char *const *applied_ids,
                                size_t n_applied, struct shop_arena *arena, bool *is_new);

/** Statement 2, two statements in one pipeline: out[0] inserts into order_gate the ids of
 *  the orders the new events place or decide (SHOP_PROJ_SQL_ORDER_GATE: the placement and
 *  the decision of one order come from two topics, whose partitions two workers may own;
 *  the gate makes the later batch wait for the earlier one), out[1] then reads the
 *  existing orders' rows (SHOP_PROJ_ORDER_ROW: status, owner, lines; FOR UPDATE) and the
 *  parked decisions (SHOP_PROJ_PARKED_ROW) of every order id the new order and decision
 *  events name. Hand out[0].params[0] to shop_proj_fold_gated, so that the plan opens the
 *  gate again. Returns the number of order ids; 0 means there is nothing to run. */
size_t shop_proj_build_order_read(const struct shop_proj_record *recs, const bool *is_new, size_t n,
                                  struct shop_arena *arena, struct shop_sql_stmt out[2]);

/** Column 0 of a row of the order read: which kind of row it is. */
#define SHOP_PROJ_ORDER_ROW 'o'
#define SHOP_PROJ_PARKED_ROW 'p'

/** The order read's columns (see SHOP_PROJ_SQL_ORDER_READ). */
enum shop_proj_order_col {
    SHOP_PROJ_COL_KIND = 0, SHOP_PROJ_COL_ORDER_ID, SHOP_PROJ_COL_STATUS, SHOP_PROJ_COL_USER_ID,
    SHOP_PROJ_COL_PRODUCT_ID, SHOP_PROJ_COL_QUANTITY, SHOP_PROJ_COL_EVENT_ID, SHOP_PROJ_COL_TOPIC,
    SHOP_PROJ_COL_PARTITION, SHOP_PROJ_COL_OFFSET, SHOP_PROJ_COL_TYPE, SHOP_PROJ_COL_ACTOR_ROLE,
    SHOP_PROJ_COL_REJECTION, SHOP_PROJ_COL_AT_MS, SHOP_PROJ_ORDER_COLS
};

/** A decision parked by an earlier batch (a row of order_decisions_pending). */
struct shop_proj_parked {
    const char *order_id, *event_id, *topic, *type, *user_id, *actor_role;
    int32_t partition;
    int64_t offset;
    const char *status;      /* "confirmed" or "rejected" */
    const char *rejection;   /* orders.rejection JSON for a rejection, else NULL */
    int64_t at_ms;           /* the decision's occurred_at_ms */
};

struct shop_proj_fold;

/** A fold living in arena, its maps hashing with the all-zero seed (tests, benches). */
struct shop_proj_fold *shop_proj_fold_new(struct shop_arena *arena);
/** A fold whose maps, keyed by client-chosen ids, hash with seed (see strmap.h). */
struct shop_proj_fold *shop_proj_fold_new_seeded(struct shop_arena *arena, struct shop_hash_seed seed);

/** Feeds one order row of the order read: its status, its owner (orders.user_id) and one
 *  line; product_id is NULL for an order without lines. Strings are copied into the arena. */
void shop_proj_fold_known_order(struct shop_proj_fold *f, const char *order_id, const char *status,
                                const char *user_id, const char *product_id, int64_t quantity);

/** The order ids the batch's transaction inserted into order_gate (an array literal, as
 *  built by shop_proj_build_order_read): the plan deletes them before the offsets. */
void shop_proj_fold_gated(struct shop_proj_fold *f, const char *order_ids);

/** Feeds one parked decision of the order read, before any event is folded. It is
 *  applied when its order's placement is folded (and then deleted by the plan).
 *  Strings are copied into the arena. */
void shop_proj_fold_parked(struct shop_proj_fold *f, const struct shop_proj_parked *p);

/** Folds one new, validated record (rec->ev not NULL). rec and the event must outlive
 *  the plan. Sums are checked: an event whose purchases effect would overflow int64
 *  changes nothing and returns SHOP_PROJ_OVERFLOW (the caller dead-letters it). An order
 *  event is judged by the order life cycle and the ownership rule (order_life.h): a
 *  refused one changes nothing but a refused_events row (rec names it there). */
enum shop_proj_outcome shop_proj_fold_record(struct shop_proj_fold *f, const struct shop_proj_record *rec);

/** shop_proj_fold_record of an event without a Kafka position (tests, benches): a refusal
 *  is recorded with topic "" and partition and offset -1. */
enum shop_proj_outcome shop_proj_fold_event(struct shop_proj_fold *f, const Shopstream__V1__Event *ev);

/** Records that partition (topic, partition) was consumed up to next_offset (exclusive).
 *  The highest value per partition wins. topic must outlive the plan. */
void shop_proj_fold_offset(struct shop_proj_fold *f, const char *topic, int32_t partition,
                           int64_t next_offset);

const struct shop_proj_stats *shop_proj_fold_stats(const struct shop_proj_fold *f);

/** Appends the effect statements and, last, the consumer_offsets upsert to plan.
 *  Statements with nothing to do are left out. now_ms stamps consumer_offsets and
 *  refused_events.refused_at_ms; group names the refusals' consumer_group. */
int shop_proj_plan_build(const struct shop_proj_fold *f, const char *group, int64_t now_ms,
                         struct shop_plan *plan, struct shop_err *err);

/* The fixed SQL texts, exported so tests can name them. */
extern const char SHOP_PROJ_SQL_APPLIED_INSERT[];
extern const char SHOP_PROJ_SQL_DEDUP_MAINTAIN[];
extern const char SHOP_PROJ_SQL_DEDUP_LAYOUT[];
extern const char SHOP_PROJ_SQL_ORDER_GATE[];
extern const char SHOP_PROJ_SQL_ORDER_UNGATE[];
extern const char SHOP_PROJ_SQL_ORDER_READ[];
extern const char SHOP_PROJ_SQL_PRODUCTS_UPSERT[];
extern const char SHOP_PROJ_SQL_CART_CLEAR[];
extern const char SHOP_PROJ_SQL_CART_DELETE[];
extern const char SHOP_PROJ_SQL_CART_SET[];
extern const char SHOP_PROJ_SQL_CART_ADD[];
extern const char SHOP_PROJ_SQL_CARTS_TOUCH[];
extern const char SHOP_PROJ_SQL_ORDERS_INSERT[];
extern const char SHOP_PROJ_SQL_ORDER_LINES_COPY[];
extern const char SHOP_PROJ_SQL_ORDERS_UPDATE[];
extern const char SHOP_PROJ_SQL_ORDER_HISTORY[];
extern const char SHOP_PROJ_SQL_REFUSED_INSERT[];
extern const char SHOP_PROJ_SQL_PARKED_INSERT[];
extern const char SHOP_PROJ_SQL_PARKED_DELETE[];
extern const char SHOP_PROJ_SQL_JIT_OFF[];
extern const char SHOP_PROJ_SQL_PRODUCTS_LOCK[];
extern const char SHOP_PROJ_SQL_CATEGORY_MOVE[];
extern const char SHOP_PROJ_SQL_SALES[];
extern const char SHOP_PROJ_SQL_SALES_FOLDED[];
extern const char SHOP_PROJ_SQL_USER_ACTIVITY[];
extern const char SHOP_PROJ_SQL_PRODUCT_VIEWS[];
extern const char SHOP_PROJ_SQL_FUNNEL[];
extern const char SHOP_PROJ_SQL_OFFSETS[];
extern const char SHOP_PROJ_SQL_OFFSETS_SET[];   /* the same, moving backwards too (ML) */
extern const char SHOP_PROJ_SQL_OFFSETS_READ[];

#endif
