/* SPDX-License-Identifier: MIT
 * The raw-producer side of the benchmarks: events decoded, authorised, stamped,
 * validated and packed exactly as the edge does (proto/core and the edge's own
 * ingest mapping, edge/core/edge_authz.c), then produced with
 * librdkafka alone under the edge's producer settings, waiting for every
 * delivery report. Shared by shopstream-bench-ingest (the raw limit beside
 * the HTTP figures) and shopstream-bench-projector (loading the topics). Shell.
 */
#ifndef SHOP_BENCH_PRODUCE_H
#define SHOP_BENCH_PRODUCE_H

#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"
#include "edge/core/edge_role.h"
#include "proto/core/shop_event.h"

/** One Kafka record, ready to produce. Strings and bytes live in the set's arena. */
struct bench_msg {
    const Shopstream__V1__Event *ev;    /* the stamped event (for COPY rows) */
    enum shop_stream stream;
    const char *key;
    const uint8_t *value;
    size_t len;
    struct shop_header hdrs[SHOP_CE_HEADERS_MAX];
    size_t n_hdrs;
    /* filled by the delivery report */
    int32_t partition;
    int64_t offset;
};

struct bench_msgs {
    struct bench_msg *v;
    size_t n, cap;
    size_t bytes;                       /* sum of value sizes */
    struct shop_arena arena;
};

void bench_msgs_init(struct bench_msgs *m);
void bench_msgs_fini(struct bench_msgs *m);

/** Decodes a POST /v1/events JSON body as the edge does (shop_event_batch_from_json),
 *  admits every event as the edge does for a token of subject with roles (a SHOP_EDGE_ROLE_BIT
 *  set: shop_authz_admit authorises, stamps at received_at_ms and validates), packs it, and
 *  appends the records. Returns 0, or SHOP_EINVAL with err naming the event and field. */
int bench_msgs_add_json(struct bench_msgs *m, const char *body, const char *subject, unsigned roles,
                        int64_t received_at_ms, struct shop_err *err);

struct bench_produce_opts {
    const char *brokers;
    const char *topic_prefix;           /* topics are <prefix><stream>.v1 */
    size_t warmup;                      /* the first records, produced and acknowledged before timing */
};

struct bench_produce_result {
    size_t timed, delivered, failed;    /* timed = records after the warm-up */
    double seconds;                     /* first timed produce → last delivery report */
    double cpu_s;                       /* this process's user+system CPU over those seconds
                                         * (getrusage: the producing thread and librdkafka's) */
    uint32_t *lat_us;                   /* produce → delivery report per timed record (owned) */
    size_t n_lat;
};

/** Produces every record of m (value copied, CloudEvents headers, key) with acks=all,
 *  enable.idempotence=true and the edge's linger, and waits for every delivery report;
 *  partition and offset of each record are filled in. Returns 0, SHOP_EKAFKA when a
 *  record could not be produced or acknowledged, SHOP_ECONFIG on bad settings. */
int bench_produce_all(struct bench_msgs *m, const struct bench_produce_opts *o, struct bench_produce_result *r,
                      struct shop_err *err);

/** Seconds on the monotonic clock. */
double bench_now_s(void);

struct shop_kafka_props;
/** SHOPSTREAM_KAFKA_PROPERTIES[_FILE] (TLS, SASL), loaded once and applied to every bench
 *  client; exits 2 listing every bad property, as the edge does. */
const struct shop_kafka_props *bench_kafka_props(void);

/** Deletes every stream's topic and the dead-letter topic under prefix, then the n_groups
 *  consumer groups named (a worker also commits its offsets to the broker), waiting up to
 *  15 s for each; a failure is logged, never fatal (a bench's cleanup). */
void bench_delete_topics(const char *brokers, const char *prefix, const char *const *groups, int n_groups);

#endif
