/* SPDX-License-Identifier: MIT
 * Completion of one POST /v1/events batch from its delivery reports. Pure:
 * the shell produces, feeds every report in, and answers what this says.
 * Invariant: SHOP_BATCH_ACCEPTED (202) only when every event of the batch was
 * queued and every delivery report succeeded; a batch has exactly one verdict.
 */
#ifndef SHOP_EDGE_BATCH_H
#define SHOP_EDGE_BATCH_H

#include <stdbool.h>
#include <stddef.h>

enum shop_batch_verdict {
    SHOP_BATCH_WAIT = 0,      /* no answer yet (or already answered) */
    SHOP_BATCH_ACCEPTED,      /* answer 202 */
    SHOP_BATCH_UNAVAILABLE,   /* answer 503 + Retry-After */
    SHOP_BATCH_TOO_LARGE      /* answer 413 naming too_large_index: retrying cannot help */
};

/* Kafka protocol error codes (librdkafka's RD_KAFKA_RESP_ERR_* use the same numbers) for a
 * record the producer or the broker refuses for its size (message.max.bytes, the topic's
 * max.message.bytes). */
#define SHOP_KAFKA_ERR_MESSAGE_TOO_LARGE 10
#define SHOP_KAFKA_ERR_RECORD_LIST_TOO_LARGE 18

struct shop_edge_batch {
    size_t n;          /* events in the request */
    size_t produced;   /* handed to the producer */
    size_t pending;    /* produced, report not yet seen */
    size_t failed;     /* reports with an error */
    int first_err;     /* the first failure: a report's or the produce call's error code */
    size_t too_large_index;   /* lowest index refused for its size; n when none */
    bool answered;
};

void shop_edge_batch_init(struct shop_edge_batch *b, size_t n);

/** True when err refuses a record for its size (not retriable as it is). */
bool shop_edge_batch_err_too_large(int err);

/** After the produce loop: produced of n were queued; err is the produce error that
 *  stopped the loop (0 if all were queued) at event `produced`. Returns TOO_LARGE when
 *  that event was refused for its size, UNAVAILABLE when it could not be queued for
 *  another reason (answer now; reports of the queued ones still arrive), else WAIT. */
enum shop_batch_verdict shop_edge_batch_queued(struct shop_edge_batch *b, size_t produced, int err);

/** The delivery report of event index (err 0: acknowledged). Returns the verdict to answer
 *  now, or WAIT. After the last report: ACCEPTED when all succeeded, else TOO_LARGE when
 *  one was refused for its size, else UNAVAILABLE. */
enum shop_batch_verdict shop_edge_batch_report(struct shop_edge_batch *b, size_t index, int err);

/** The request waited too long: UNAVAILABLE unless it was answered already. */
enum shop_batch_verdict shop_edge_batch_timeout(struct shop_edge_batch *b);

/** True when no report is outstanding (the batch may be freed). */
bool shop_edge_batch_done(const struct shop_edge_batch *b);

/** The HTTP status of a verdict: 202, 503, 413, or 0 for WAIT. */
int shop_edge_batch_status(enum shop_batch_verdict v);

#endif
