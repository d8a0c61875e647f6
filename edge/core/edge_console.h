/* SPDX-License-Identifier: MIT
 * The operations console's data (GET /v1/admin/overview; the page is GET /console):
 * the request's checks, the one SQL statement that builds the database's part of the
 * answer from the broker's watermarks passed in as arrays, the ingest rate from the
 * edge's own counters, the dead letters, and the whole body. Pure: the shell
 * (edge/console.c) queries the broker and the database and passes the clock in.
 */
#ifndef SHOP_EDGE_CONSOLE_H
#define SHOP_EDGE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"
#include "edge/core/edge_metrics.h"
#include "edge/core/edge_route.h"

#define SHOP_CONSOLE_THRESHOLD_DEFAULT 5      /* ?threshold= without one */
#define SHOP_CONSOLE_THRESHOLD_MAX 1000000000
#define SHOP_CONSOLE_LOW_STOCK_MAX 50         /* products listed */
#define SHOP_CONSOLE_DLQ_MAX 20               /* newest dead letters shown */
#define SHOP_CONSOLE_RATE_SAMPLES 16
#define SHOP_CONSOLE_RATE_MIN_MS 1000         /* the rate's interval is at least this long */

/** The SQL of the overview's database part: one row, one column (JSON). Parameters:
 *  $1 threshold; $2..$5 the watermarks as arrays (topic text[], partition int[], low
 *  bigint[], high bigint[]); $6..$8 what each role consumes (role text[], group text[],
 *  topic text[], one element per role and topic). */
extern const char shop_console_sql[];
#define SHOP_CONSOLE_SQL_PARAMS 8

/** One partition's watermarks as the broker answered them. */
struct shop_console_watermark {
    const char *topic;
    int32_t partition;
    int64_t low, high;
};

/** One role's consumer group and a topic it consumes. */
struct shop_console_sub {
    const char *role, *group, *topic;
};

/** Checks an overview request: admin (else SHOP_EFORBIDDEN, *field "authorization"),
 *  then ?threshold= (0..SHOP_CONSOLE_THRESHOLD_MAX, default SHOP_CONSOLE_THRESHOLD_DEFAULT;
 *  else SHOP_EINVAL, *field "threshold"). m may be NULL. */
int shop_console_init(bool admin, const struct shop_edge_match *m, int64_t *threshold,
                      const char **field, struct shop_err *err);

/** The statement's eight parameters into params (strings in arena). Names are quoted
 *  as array elements, so any text is safe. */
void shop_console_params(int64_t threshold, const struct shop_console_watermark *w, size_t n_w,
                         const struct shop_console_sub *subs, size_t n_subs,
                         struct shop_arena *arena, const char *params[SHOP_CONSOLE_SQL_PARAMS]);

/** "{"a","b\"c"}": a PostgreSQL array literal of n texts, each quoted and escaped. */
char *shop_console_text_array(const char *const *v, size_t n, struct shop_arena *arena);

/** Samples of the events acknowledged so far, for the ingest rate. Caller-owned; zero
 *  it to start. Not thread-safe: the shell holds a lock around it. */
struct shop_console_rate {
    int64_t at_ms[SHOP_CONSOLE_RATE_SAMPLES];
    uint64_t total[SHOP_CONSOLE_RATE_SAMPLES];
    int n, head;                       /* head: the newest sample's slot */
};

/** Adds the sample (now_ms, total) (at most one per SHOP_CONSOLE_RATE_MIN_MS / 2) and
 *  computes the rate since the newest sample at least SHOP_CONSOLE_RATE_MIN_MS old (or
 *  the oldest, when none is): *per_s events per second over *interval_ms (0 and 0 with
 *  no earlier sample). A total that went down (a restart) restarts the samples. */
void shop_console_rate_update(struct shop_console_rate *r, int64_t now_ms, uint64_t total,
                              double *per_s, int64_t *interval_ms);

/** Acknowledged events of a snapshot (every stream). */
uint64_t shop_console_events_total(const struct shop_edge_metrics_snap *snap);

/** One dead letter: its record's place and the worker's headers (workers/dlq.c); any
 *  string may be NULL (the header was missing). */
struct shop_console_dead_letter {
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;              /* the record's; -1 when it has none */
    const char *error, *sqlstate, *source_topic, *source_partition, *source_offset, *group;
};

/** What the shell read of the dead-letter topic. */
struct shop_console_dlq {
    const char *topic;
    bool ok;                           /* false: the broker did not answer (error says why) */
    const char *error;
    int64_t total;                     /* records the topic holds (sum of high - low) */
    int64_t read_at_ms;                /* when it was read (cached for a few seconds) */
    const struct shop_console_dead_letter *letters;   /* newest first */
    size_t n_letters;
};

/** Everything the overview's body is made of. */
struct shop_console_parts {
    int64_t now_ms;
    const char *db_json;               /* the statement's column (a JSON object) */
    const char *kafka_error;           /* NULL, or why the watermarks are missing */
    const struct shop_edge_metrics_snap *snap;
    double rate_per_s;
    int64_t rate_interval_ms;
    const char *dlq_json;              /* shop_console_dlq_json's text */
};

/** The overview's JSON body (docs/api.md, "The operations console"): malloc'd, the
 *  caller frees it. Returns 0, or SHOP_EINVAL for a db_json or dlq_json that is not a
 *  JSON object (or NULL). */
int shop_console_overview_json(const struct shop_console_parts *p, char **json);

/** The dead letters' part of the body, as JSON text: malloc'd, the caller frees it. */
char *shop_console_dlq_json(const struct shop_console_dlq *q);

/** Sorts letters newest first (timestamp, then partition and offset) and keeps at most
 *  max; returns how many are kept. */
size_t shop_console_dlq_newest(struct shop_console_dead_letter *letters, size_t n, size_t max);

#endif
