/* SPDX-License-Identifier: MIT
 * The ML role's core: every model of ml/ fed event by event from the browse, cart and
 * inventory streams, in event time, with retraining that runs on a copy while the
 * stream goes on. Pure: no I/O, no clock, no threads of its own (the shell runs a
 * job's training on another thread: shop_mlw_job_run touches only the job).
 *
 * Determinism is the contract: for the same records on each partition, the state,
 * every model and everything drained are the same however the partitions interleave,
 * however fast they arrive and wherever the process was checkpointed and restarted.
 * Three rules give it:
 *  - a reorder buffer: a pushed event is applied once the clock (the latest occurred_at
 *    pushed) is lateness_ms past it, in (occurred_at, stream, event id) order; with
 *    hold_partitions (the shell's setting) the clock is also held at the newest event of
 *    every partition that is not at its end, so a partition fetched ahead in event time
 *    waits for the others; the shell flushes the buffer when the consumer is idle and
 *    caught up;
 *  - retraining is taken at a point of the applied sequence (the event-time schedule
 *    or the drift measure) on a copy of the state, and swapped in at a later point
 *    (swap_after_ms of event time later): release stops there until the job is
 *    finished, so the result never depends on how long training took;
 *  - users touched between take and swap are folded in again against the new model.
 * An event pushed behind what was already applied (later than lateness_ms) is applied
 * on arrival and counted in stats.late: the only case where arrival order shows.
 *
 * Purchases are inventory.reserved (the order's owner, lines and spend); an
 * inventory.released retracts one; rejected orders never count. docs/ml.md.
 */
#ifndef SHOP_MLW_H
#define SHOP_MLW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"
#include "ml/ml_als.h"
#include "ml/ml_interact.h"
#include "proto/core/shop_event.h"

struct shop_mlw_cfg {
    int64_t lateness_ms;        /* reorder window; default 6 h (SHOPSTREAM_ML_LATENESS_MS) */
    int64_t retrain_every_ms;   /* event time between scheduled retrains; default 7 days */
    double drift_threshold;     /* retrain early when a model's drift passes it; default 0.25 */
    int64_t swap_after_ms;      /* event time from a job's take to its swap; default 1 h */
    uint32_t segments;          /* k of the segmentation; default 4 */
    uint32_t top_n;             /* kept per user (reads ask at most 100); default 200 */
    uint32_t similar_k;         /* neighbours kept per product; default 50 */
    uint32_t forecast_days;     /* horizon kept per product; default 28 */
    uint32_t min_users;         /* first training once this many users bought; default 20 */
    size_t buffer_max;          /* the shell pauses consumption past this; default 1,000,000 */
    bool hold_partitions;       /* partitions hold releases back (mlw_order.h); the shell sets it
                                   and marks caught-up partitions with shop_mlw_partition_idle */
    struct shop_ml_als_cfg als; /* docs/ml.md's chosen row: k 64, reg 60, alpha 5, CG 3 */
    struct shop_ml_interact_cfg interact;   /* view 1, cart 4, purchase 10, half-life 30 d */
    uint64_t seed;              /* every random choice of training is drawn from it */
};

void shop_mlw_cfg_default(struct shop_mlw_cfg *cfg);
/** 0, or SHOP_EINVAL with err naming the field. */
int shop_mlw_cfg_validate(const struct shop_mlw_cfg *cfg, struct shop_err *err);

struct shop_mlw;

/** A new, empty state. 0, or SHOP_EINVAL / SHOP_ENOMEM. */
int shop_mlw_new(const struct shop_mlw_cfg *cfg, struct shop_mlw **out, struct shop_err *err);
void shop_mlw_free(struct shop_mlw *m);

/* ---- input ------------------------------------------------------------------ */

enum shop_mlw_push {
    SHOP_MLW_BUFFERED = 0,   /* held for release */
    SHOP_MLW_IGNORED,        /* not an input (search, low stock, rejected...) or a duplicate id; an
                                inventory.committed is an input: it forgets the reserved order */
    SHOP_MLW_LATE            /* behind what was applied: applied now, in arrival order */
};

/** One consumed, validated record. Copies what it needs from ev. The partition's next
 *  offset becomes offset + 1 whatever the result. Never fails on valid input (an
 *  allocation failure is SHOP_ENOMEM, negative). */
int shop_mlw_push(struct shop_mlw *m, enum shop_stream stream, int32_t partition, int64_t offset,
                  const Shopstream__V1__Event *ev);

/** Applies the buffered events that are due (all of them with flush), in order, up to a
 *  job's swap point. Returns how many were applied. */
size_t shop_mlw_release(struct shop_mlw *m, bool flush);

/** Marks (stream, partition) consumed up to its end (idle) or not, for hold_partitions:
 *  a partition that is not idle holds releases at its newest event. */
void shop_mlw_partition_idle(struct shop_mlw *m, enum shop_stream stream, int32_t partition, bool idle);

/** The time entries must be lateness_ms behind to be released (shop_mlw_order_due). */
int64_t shop_mlw_due(const struct shop_mlw *m);

/** Release stopped at a swap point: the job taken must be finished first. */
bool shop_mlw_waiting(const struct shop_mlw *m);
/** Events held in the reorder buffer. */
size_t shop_mlw_buffered(const struct shop_mlw *m);
/** The stream's clock: the latest occurred_at pushed (0 before any). */
int64_t shop_mlw_clock(const struct shop_mlw *m);

/** Where consumption of (stream, partition) goes on: 0 and *next, or SHOP_ENOTFOUND when the
 *  state has never seen the partition (start at the earliest offset). */
int shop_mlw_offset(const struct shop_mlw *m, enum shop_stream stream, int32_t partition, int64_t *next);
/** Applied through: the lowest offset of (stream, partition) whose event is still held in
 *  the reorder buffer, not yet applied: true and *offset, or false when none is. Every
 *  record of the partition below it was applied, or dealt with (a duplicate, a non-input,
 *  late and so applied at once), and its effect is in what the next drain hands out. The
 *  shell writes it to consumer_offsets (the next offset when nothing is held); the
 *  checkpoint's offsets stay shop_mlw_offsets', which cover the buffered events. */
bool shop_mlw_held(const struct shop_mlw *m, enum shop_stream stream, int32_t partition, int64_t *offset);
/** Calls cb for every partition seen, in (stream, partition) order. */
void shop_mlw_offsets(const struct shop_mlw *m,
                      void (*cb)(void *ctx, enum shop_stream stream, int32_t partition, int64_t next),
                      void *ctx);

/* ---- retraining ----------------------------------------------------------------- */

struct shop_mlw_job;

/** After a release: a retrain that came due (schedule or drift), or NULL. The job owns
 *  copies of what it trains on; m goes on applying and serving. At most one job is out
 *  at a time. */
struct shop_mlw_job *shop_mlw_job_take(struct shop_mlw *m);
/** The training (warm ALS retrain, K-means refit, forecast selection as due). Any
 *  thread; touches only the job. */
void shop_mlw_job_run(struct shop_mlw_job *job);
/** Loop thread, after run: hands the job back. Its models are swapped in atomically
 *  (new versions, stable segment ids, the users touched since the take folded in again,
 *  what the reads must refresh computed) at the swap point: at once when release is
 *  waiting there, else by the release that reaches it. m owns and frees job. */
void shop_mlw_job_finish(struct shop_mlw *m, struct shop_mlw_job *job);
/** Frees a job without finishing it (shutdown); m then discards the pending swap and
 *  takes the retrain again at the next release. */
void shop_mlw_job_free(struct shop_mlw *m, struct shop_mlw_job *job);
/** The models a job retrains, for its metrics: the name of model i (0 recommend, 1
 *  segment, 2 forecast, as shop_mlw_stats.version) when the job retrains it, else NULL. */
const char *shop_mlw_job_model(const struct shop_mlw_job *job, size_t i);
/** A job is out (taken, not finished or freed): no checkpoint may be taken. */
bool shop_mlw_job_out(const struct shop_mlw *m);

/* ---- what the reads and the topic get -------------------------------------------- */

struct shop_mlw_item {
    const char *product_id;
    double score;
};

struct shop_mlw_metric {
    const char *name;
    double value;
};

struct shop_mlw_model_info {
    const char *model;          /* "recommend", "segment", "forecast" */
    uint64_t version;
    int64_t trained_at_ms;      /* event time of the take */
    int64_t watermark_ms;       /* clock at the swap */
    const struct shop_mlw_metric *metrics;
    size_t n_metrics;
};

struct shop_mlw_segment {
    uint32_t id;                /* stable across refits */
    uint64_t version;
    uint64_t size;
    const double *centre;       /* standardised, dim values */
    size_t dim;
    const char *label;          /* shop_ml_features_profile: "recent, frequent, high spend" */
    const char *const *names;   /* dim feature names, e.g. "recency_days", "orders", "spend" */
    const double *plain;        /* the centre in plain units (days, counts, minor units) */
};

enum shop_mlw_out_kind { SHOP_MLW_SEGMENT_CHANGED, SHOP_MLW_MODEL_PUBLISHED };

/** One ml.* event for the outbox. seq counts every event the state ever produced
 *  (restored with it), so a replay produces the same seq for the same event. */
struct shop_mlw_out {
    uint64_t seq;
    enum shop_mlw_out_kind kind;
    char event_id[37];          /* UUID v5 of the change */
    const char *key;            /* Kafka key: the user id, or the model name */
    int64_t occurred_at_ms;     /* event time: the clock when it happened */
    /* segment changed */
    const char *user_id;
    int64_t old_segment;        /* -1: none */
    int64_t new_segment;
    uint64_t model_version;
    /* model published */
    const struct shop_mlw_model_info *model;
};

/** Where shop_mlw_drain hands what changed since the previous drain. Every pointer is
 *  valid only during the call. at_ms is the clock. NULL hooks are skipped. */
struct shop_mlw_sink {
    void *ctx;
    void (*user_recs)(void *ctx, const char *user_id, const struct shop_mlw_item *items, uint32_t n,
                      bool fallback, uint64_t version, int64_t at_ms);
    void (*popular)(void *ctx, const struct shop_mlw_item *items, uint32_t n, uint64_t version, int64_t at_ms);
    void (*similar)(void *ctx, const char *product_id, const struct shop_mlw_item *items, uint32_t n,
                    uint64_t version, int64_t at_ms);
    void (*user_segment)(void *ctx, const char *user_id, uint32_t segment, const double *features, size_t dim,
                         uint64_t version, int64_t at_ms);
    void (*segment)(void *ctx, const struct shop_mlw_segment *s);
    void (*forecast)(void *ctx, const char *product_id, const char *method, int64_t start_day_ms,
                     const double *daily, uint32_t n, uint64_t version, int64_t at_ms);
    void (*model)(void *ctx, const struct shop_mlw_model_info *mi);
    void (*event)(void *ctx, const struct shop_mlw_out *ev);
};

/** Hands everything changed since the last drain to sink, then forgets it: each user's
 *  new top list, segment and features, the popularity list, the similar lists and the
 *  forecasts that moved, the segments after a refit or a move, the models published
 *  and the ml.* events, in seq order. Deterministic order (by key). */
void shop_mlw_drain(struct shop_mlw *m, const struct shop_mlw_sink *sink);

/** Encodes out as a shopstream.v1.Event in arena (type ml.segment_changed or
 *  ml.model_published, source "shopstream-worker/ml", actor "shopstream-ml", validated).
 *  0, or SHOP_EINVAL. */
int shop_mlw_out_encode(const struct shop_mlw_out *out, struct shop_arena *arena, uint8_t **bytes, size_t *len,
                        struct shop_err *err);

/* ---- checkpoints -------------------------------------------------------------------- */

/** One record of a checkpoint: "state" (users, products, orders held, the reorder buffer,
 *  the dedup window, the offsets, the counters), then one per model in the library's
 *  form: "als", "cooc", "kmeans", "scaler", "pop", "forecast". */
struct shop_mlw_part {
    const char *model;
    uint64_t version;           /* the model's version (the state's: its seq) */
    int64_t trained_at_ms;      /* event time of its training; 0 if never trained */
    const uint8_t *bytes;
    size_t len;
    char metrics_json[512];     /* its training metrics as a JSON object */
};

#define SHOP_MLW_PARTS_MAX 8

/** Encodes a consistent cut into parts (at most SHOP_MLW_PARTS_MAX; bytes owned by m
 *  until the next call or shop_mlw_free). Refused (SHOP_EBUSY) while a job is out or
 *  while changes wait for shop_mlw_drain (drain, then checkpoint, and write both in one
 *  transaction). Returns the number of parts, or a negative error. */
int shop_mlw_checkpoint(struct shop_mlw *m, struct shop_mlw_part *parts, size_t max, struct shop_err *err);
/** Loads a checkpoint into a new, empty m made with the same configuration. Checks every
 *  record (bounds, CRC, consistency); on failure m is unchanged. 0 or SHOP_EBADMSG. */
int shop_mlw_restore(struct shop_mlw *m, const struct shop_mlw_part *parts, size_t n, struct shop_err *err);

struct shop_mlw_stats {
    uint64_t pushed, applied, ignored, duplicates, late, purchases, retracted;
    uint64_t jobs, users, items;
    uint64_t version[3];        /* recommend, segment, forecast */
    double last_train_s;        /* CPU seconds of the last job's run (measured by the shell) */
};

void shop_mlw_stats(const struct shop_mlw *m, struct shop_mlw_stats *out);

#endif
