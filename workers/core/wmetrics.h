/* SPDX-License-Identifier: MIT
 * The worker's metrics registry, its Prometheus rendering (docs/operations.md,
 * "Watch: health, readiness and metrics") and its readiness verdict. Pure: the
 * shell counts into it from the loop thread and passes in, per scrape, what it
 * reads from librdkafka (lag per partition) and its own state; nothing here does
 * I/O or reads a clock. Every series carries the labels role and group.
 */
#ifndef SHOP_WMETRICS_H
#define SHOP_WMETRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_prom.h"

/** Event types tracked by name; a type past this many is counted as "unknown" (the
 *  decoder knows fewer types than this, so it only bounds a bug). */
#define SHOP_WM_TYPES_MAX 64
#define SHOP_WM_TYPE_NAME_MAX 64
/** Topics tracked for dead letters; more are counted under "other". */
#define SHOP_WM_TOPICS_MAX 8
#define SHOP_WM_TOPIC_NAME_MAX 256

/** Why an event failed (it went to the dead-letter topic). */
enum shop_wm_fail {
    SHOP_WM_FAIL_UNDECODABLE = 0,   /* not a valid event: type "unknown" */
    SHOP_WM_FAIL_INVALID,           /* the role's fold refused it (an overflow) */
    SHOP_WM_FAIL_POSTGRES,          /* PostgreSQL refused its statements (a poison event) */
    SHOP_WM_FAIL_COUNT
};

enum shop_wm_rebalance { SHOP_WM_ASSIGN = 0, SHOP_WM_REVOKE, SHOP_WM_REBALANCE_COUNT };

struct shop_wm_type {
    char name[SHOP_WM_TYPE_NAME_MAX];
    uint64_t processed;
    uint64_t failed[SHOP_WM_FAIL_COUNT];
};

struct shop_wm_topic_count {
    char topic[SHOP_WM_TOPIC_NAME_MAX];
    uint64_t n;
};

struct shop_wm {
    struct shop_wm_type types[SHOP_WM_TYPES_MAX + 1];   /* the last slot is "unknown" */
    size_t n_types;
    struct shop_prom_hist batch_events;                 /* events per committed batch */
    struct shop_prom_hist commit_seconds;               /* a batch's PostgreSQL transaction */
    uint64_t rebalances[SHOP_WM_REBALANCE_COUNT];
    uint64_t txn_retries;                               /* batches run again after a lost race */
    struct shop_wm_topic_count dead_letters[SHOP_WM_TOPICS_MAX + 1];   /* the last is "other" */
    size_t n_dead_letters;
};

/** One assigned partition's lag (high watermark - next offset), as the shell read it. */
struct shop_wm_lag {
    const char *topic;
    int32_t partition;
    int64_t lag;
};

/** What the shell samples at scrape time. */
struct shop_wm_view {
    const char *role, *group;
    const struct shop_wm_lag *lags;   /* partitions whose lag is known */
    size_t n_lags;
    int64_t partitions_paused;
    int64_t outbox_depth;             /* < 0: the role has no outbox (not rendered) */
};

void shop_wm_init(struct shop_wm *m);
/** Counts n events of type (NULL or "": "unknown") committed. */
void shop_wm_processed(struct shop_wm *m, const char *type, uint64_t n);
/** One event of type dead-lettered for why, read from topic. */
void shop_wm_failed(struct shop_wm *m, const char *type, enum shop_wm_fail why, const char *topic);
/** One committed batch of n records whose transaction took seconds. */
void shop_wm_batch(struct shop_wm *m, uint64_t n, double seconds);
void shop_wm_rebalance(struct shop_wm *m, enum shop_wm_rebalance kind);
/** A batch's transaction lost a race (deadlock, serialization failure) and runs again. */
void shop_wm_txn_retry(struct shop_wm *m);

/** The reason's label value: "undecodable", "invalid", "postgres". */
const char *shop_wm_fail_name(enum shop_wm_fail why);

/** The role and group labels (what every series carries), for a role's own metrics. */
void shop_wm_base_labels(const struct shop_wm_view *v, struct shop_prom_label out[2]);

/** Appends every worker family of m and v to out (HELP, TYPE, samples). */
void shop_wm_render(const struct shop_wm *m, const struct shop_wm_view *v, struct shop_prom *out);

/** What /readyz weighs. With unready set, only that is reported (the role has not started). */
struct shop_wm_ready_in {
    const char *unready;   /* the role's own reason (an ML standby: "standby"), or NULL */
    int assigned;          /* partitions assigned */
    bool pg_up;            /* the worker's connection is up and no outage is in progress */
    int64_t lag;           /* total over the assigned partitions whose lag is known */
    int64_t max_lag;       /* SHOPSTREAM_WORKER_READY_MAX_LAG */
};

/** 200 or 503, with a JSON body in buf (NUL-terminated, truncated to n - 1):
 *  {"status":"ready",...} or {"status":"not ready","failed":["partitions",...],...}
 *  naming every check that failed: the role's reason, "partitions", "database", "lag". */
int shop_wm_ready(const struct shop_wm_ready_in *in, char *buf, size_t n);

#endif
