/* SPDX-License-Identifier: MIT
 * The edge's metrics registry and its Prometheus text rendering. Pure. Counters
 * are relaxed atomics so every loop thread updates one shared registry without
 * locks; a scrape may see counters from slightly different instants.
 */
#ifndef SHOP_EDGE_METRICS_H
#define SHOP_EDGE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "edge/core/edge_ratelimit.h"
#include "edge/core/edge_route.h"

#define SHOP_METRICS_STREAMS 5   /* browse, cart, order, catalog, inventory: enum shop_stream order */
#define SHOP_METRICS_STATUSES 15 /* the statuses we answer, plus "other" */
#define SHOP_METRICS_BUCKETS 12
#define SHOP_METRICS_CONSISTENCIES 3   /* X-Shopstream-Consistency: eventual, fresh, stale */

/** Why a queued read was never run. */
enum shop_read_not_run { SHOP_READ_DEADLINE, SHOP_READ_CLIENT_GONE, SHOP_READ_NOT_RUN_REASONS };

struct shop_edge_metrics {
    atomic_uint_fast64_t requests[SHOP_ROUTE_COUNT][SHOP_METRICS_STATUSES];
    atomic_uint_fast64_t produced[SHOP_METRICS_STREAMS];
    atomic_uint_fast64_t produce_failed[SHOP_METRICS_STREAMS];
    atomic_uint_fast64_t latency_buckets[SHOP_METRICS_BUCKETS + 1]; /* last is +Inf */
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t latency_count;
    atomic_uint_fast64_t unreachable_rejects; /* requests answered 503 without producing */
    atomic_uint_fast64_t reads_not_run[SHOP_READ_NOT_RUN_REASONS];
    atomic_uint_fast64_t rate_limited[SHOP_RL_CLASSES][SHOP_RL_KINDS];
    atomic_uint_fast64_t reads_consistency[SHOP_METRICS_CONSISTENCIES];
};

/** Values sampled by the shell at scrape time. */
struct shop_edge_gauges {
    int64_t inflight_events;
    int64_t producer_queue_depth;
    int64_t producers_down;        /* producers that know every broker is unreachable */
};

void shop_edge_metrics_init(struct shop_edge_metrics *m);
void shop_edge_metrics_request(struct shop_edge_metrics *m, enum shop_edge_route r, int status);
/** One delivery report for stream s (0..3): ok, and produce-to-ack latency. */
void shop_edge_metrics_delivery(struct shop_edge_metrics *m, int s, bool ok, int64_t latency_us);

/** One request answered 503 at once because every broker was known to be unreachable. */
void shop_edge_metrics_unreachable_reject(struct shop_edge_metrics *m);

/** A queued read answered 503 at its deadline, or dropped because its client went away. */
void shop_edge_metrics_read_not_run(struct shop_edge_metrics *m, enum shop_read_not_run why);
/** A read answered with X-Shopstream-Consistency c (0 eventual, 1 fresh, 2 stale). */
void shop_edge_metrics_consistency(struct shop_edge_metrics *m, int c);
/** A request answered 429 by the limit of class c on key kind k. */
void shop_edge_metrics_rate_limited(struct shop_edge_metrics *m, enum shop_rl_class c,
                                    enum shop_rl_keykind k);

/** Plain copies of every counter, read once: a scrape renders one instant's values, and the
 *  histogram's +Inf bucket equals its count. */
struct shop_edge_metrics_snap {
    uint64_t requests[SHOP_ROUTE_COUNT][SHOP_METRICS_STATUSES];
    uint64_t produced[SHOP_METRICS_STREAMS];
    uint64_t produce_failed[SHOP_METRICS_STREAMS];
    uint64_t latency_buckets[SHOP_METRICS_BUCKETS + 1];
    uint64_t latency_sum_us;
    uint64_t unreachable_rejects;
    uint64_t reads_not_run[SHOP_READ_NOT_RUN_REASONS];
    uint64_t rate_limited[SHOP_RL_CLASSES][SHOP_RL_KINDS];
    uint64_t reads_consistency[SHOP_METRICS_CONSISTENCIES];
};

void shop_edge_metrics_snapshot(const struct shop_edge_metrics *m,
                                struct shop_edge_metrics_snap *snap);

/** The Prometheus text exposition (version 0.0.4) of one snapshot, rendered once into a
 *  buffer that grows as needed (it never truncates). Returns a malloc'd NUL-terminated text
 *  the caller frees; its length in *len. */
char *shop_edge_metrics_render(const struct shop_edge_metrics_snap *snap,
                               const struct shop_edge_gauges *g, size_t *len);

#endif
