/* SPDX-License-Identifier: MIT
 * Edge metrics registry and Prometheus text rendering. Pure. */
#include "edge/core/edge_metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"

static const int statuses[SHOP_METRICS_STATUSES - 1] = {200, 202, 204, 400, 401, 403, 404,
                                                        405, 409, 413, 415, 429, 500, 503};
static const char *const stream_names[SHOP_METRICS_STREAMS] = {"browse", "cart", "order",
                                                               "catalog", "inventory"};
/* Produce-to-acknowledgement latency bounds in milliseconds. */
static const double bucket_ms[SHOP_METRICS_BUCKETS] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000,
                                                       2500, 5000};

void shop_edge_metrics_init(struct shop_edge_metrics *m)
{
    for (size_t r = 0; r < SHOP_ROUTE_COUNT; r++)
        for (size_t s = 0; s < SHOP_METRICS_STATUSES; s++)
            atomic_init(&m->requests[r][s], 0);
    for (size_t s = 0; s < SHOP_METRICS_STREAMS; s++) {
        atomic_init(&m->produced[s], 0);
        atomic_init(&m->produce_failed[s], 0);
    }
    for (size_t b = 0; b <= SHOP_METRICS_BUCKETS; b++)
        atomic_init(&m->latency_buckets[b], 0);
    atomic_init(&m->latency_sum_us, 0);
    atomic_init(&m->latency_count, 0);
    atomic_init(&m->unreachable_rejects, 0);
    for (size_t i = 0; i < SHOP_READ_NOT_RUN_REASONS; i++)
        atomic_init(&m->reads_not_run[i], 0);
    for (int i = 0; i < SHOP_METRICS_CONSISTENCIES; i++)
        atomic_init(&m->reads_consistency[i], 0);
    for (size_t c = 0; c < SHOP_RL_CLASSES; c++)
        for (size_t k = 0; k < SHOP_RL_KINDS; k++)
            atomic_init(&m->rate_limited[c][k], 0);
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i < SHOP_METRICS_STATUSES - 1; i++) {
        if (statuses[i] == status)
            return i;
    }
    return SHOP_METRICS_STATUSES - 1;
}

void shop_edge_metrics_request(struct shop_edge_metrics *m, enum shop_edge_route r, int status)
{
    if ((unsigned)r >= SHOP_ROUTE_COUNT)
        r = SHOP_ROUTE_OTHER;
    atomic_fetch_add_explicit(&m->requests[r][status_slot(status)], 1, memory_order_relaxed);
}

void shop_edge_metrics_delivery(struct shop_edge_metrics *m, int s, bool ok, int64_t latency_us)
{
    if (s < 0 || s >= SHOP_METRICS_STREAMS)
        return;
    if (!ok) {
        atomic_fetch_add_explicit(&m->produce_failed[s], 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&m->produced[s], 1, memory_order_relaxed);
    if (latency_us < 0)
        latency_us = 0;
    size_t b = 0;
    while (b < SHOP_METRICS_BUCKETS && (double)latency_us > bucket_ms[b] * 1000.0)
        b++;
    atomic_fetch_add_explicit(&m->latency_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us, (uint_fast64_t)latency_us, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_count, 1, memory_order_relaxed);
}

void shop_edge_metrics_unreachable_reject(struct shop_edge_metrics *m)
{
    atomic_fetch_add_explicit(&m->unreachable_rejects, 1, memory_order_relaxed);
}

void shop_edge_metrics_consistency(struct shop_edge_metrics *m, int c)
{
    if (c >= 0 && c < SHOP_METRICS_CONSISTENCIES)
        atomic_fetch_add_explicit(&m->reads_consistency[c], 1, memory_order_relaxed);
}

void shop_edge_metrics_read_not_run(struct shop_edge_metrics *m, enum shop_read_not_run why)
{
    if ((unsigned)why < SHOP_READ_NOT_RUN_REASONS)
        atomic_fetch_add_explicit(&m->reads_not_run[why], 1, memory_order_relaxed);
}

void shop_edge_metrics_rate_limited(struct shop_edge_metrics *m, enum shop_rl_class c,
                                    enum shop_rl_keykind k)
{
    if ((unsigned)c < SHOP_RL_CLASSES && (unsigned)k < SHOP_RL_KINDS)
        atomic_fetch_add_explicit(&m->rate_limited[c][k], 1, memory_order_relaxed);
}

static uint64_t load(const atomic_uint_fast64_t *a)
{
    return atomic_load_explicit((atomic_uint_fast64_t *)a, memory_order_relaxed);
}

void shop_edge_metrics_snapshot(const struct shop_edge_metrics *m,
                                struct shop_edge_metrics_snap *snap)
{
    for (size_t r = 0; r < SHOP_ROUTE_COUNT; r++)
        for (size_t s = 0; s < SHOP_METRICS_STATUSES; s++)
            snap->requests[r][s] = load(&m->requests[r][s]);
    for (size_t s = 0; s < SHOP_METRICS_STREAMS; s++) {
        snap->produced[s] = load(&m->produced[s]);
        snap->produce_failed[s] = load(&m->produce_failed[s]);
    }
    for (size_t b = 0; b <= SHOP_METRICS_BUCKETS; b++)
        snap->latency_buckets[b] = load(&m->latency_buckets[b]);
    snap->latency_sum_us = load(&m->latency_sum_us);
    snap->unreachable_rejects = load(&m->unreachable_rejects);
    for (size_t i = 0; i < SHOP_READ_NOT_RUN_REASONS; i++)
        snap->reads_not_run[i] = load(&m->reads_not_run[i]);
    for (int i = 0; i < SHOP_METRICS_CONSISTENCIES; i++)
        snap->reads_consistency[i] = load(&m->reads_consistency[i]);
    for (size_t c = 0; c < SHOP_RL_CLASSES; c++)
        for (size_t k = 0; k < SHOP_RL_KINDS; k++)
            snap->rate_limited[c][k] = load(&m->rate_limited[c][k]);
}

/* A growing text buffer: a scrape is a few KiB, so doubling from 4 KiB is one or two
 * reallocations, and nothing is ever cut off. */
struct out {
    char *buf;
    size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        o->cap = o->cap * 2 > o->len + (size_t)n + 1 ? o->cap * 2 : o->len + (size_t)n + 1;
        o->buf = shop_xrealloc(o->buf, o->cap);
    }
}

static void render_requests(const struct shop_edge_metrics_snap *m, struct out *o)
{
    put(o, "# HELP shopstream_edge_requests_total HTTP requests by route and status.\n"
           "# TYPE shopstream_edge_requests_total counter\n");
    for (size_t r = 0; r < SHOP_ROUTE_COUNT; r++) {
        for (size_t s = 0; s < SHOP_METRICS_STATUSES; s++) {
            uint64_t v = m->requests[r][s];
            if (v == 0)
                continue;
            char code[8];
            if (s < SHOP_METRICS_STATUSES - 1)
                snprintf(code, sizeof(code), "%d", statuses[s]);
            else
                snprintf(code, sizeof(code), "other");
            put(o, "shopstream_edge_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                shop_edge_route_name((enum shop_edge_route)r), code, (unsigned long long)v);
        }
    }
}

static void render_streams(const struct shop_edge_metrics_snap *m, struct out *o)
{
    put(o, "# HELP shopstream_edge_events_produced_total Events acknowledged by the broker.\n"
           "# TYPE shopstream_edge_events_produced_total counter\n");
    for (size_t s = 0; s < SHOP_METRICS_STREAMS; s++)
        put(o, "shopstream_edge_events_produced_total{stream=\"%s\"} %llu\n", stream_names[s],
            (unsigned long long)m->produced[s]);
    put(o, "# HELP shopstream_edge_events_failed_total Events whose delivery failed.\n"
           "# TYPE shopstream_edge_events_failed_total counter\n");
    for (size_t s = 0; s < SHOP_METRICS_STREAMS; s++)
        put(o, "shopstream_edge_events_failed_total{stream=\"%s\"} %llu\n", stream_names[s],
            (unsigned long long)m->produce_failed[s]);
}

static void render_latency(const struct shop_edge_metrics_snap *m, struct out *o)
{
    put(o, "# HELP shopstream_edge_produce_latency_seconds Time from produce to broker "
           "acknowledgement.\n# TYPE shopstream_edge_produce_latency_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t b = 0; b < SHOP_METRICS_BUCKETS; b++) {
        cum += m->latency_buckets[b];
        put(o, "shopstream_edge_produce_latency_seconds_bucket{le=\"%g\"} %llu\n",
            bucket_ms[b] / 1000.0, (unsigned long long)cum);
    }
    cum += m->latency_buckets[SHOP_METRICS_BUCKETS];
    put(o, "shopstream_edge_produce_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
        (unsigned long long)cum);
    put(o, "shopstream_edge_produce_latency_seconds_sum %.6f\n",
        (double)m->latency_sum_us / 1e6);
    /* The count is the +Inf bucket, so the two agree by construction. */
    put(o, "shopstream_edge_produce_latency_seconds_count %llu\n", (unsigned long long)cum);
}

static void render_limits(const struct shop_edge_metrics_snap *m, struct out *o)
{
    static const char *const reasons[SHOP_READ_NOT_RUN_REASONS] = {"deadline", "client_gone"};
    static const char *const classes[SHOP_RL_CLASSES] = {"ingest", "reads"};
    static const char *const kinds[SHOP_RL_KINDS] = {"subject", "address"};
    put(o, "# HELP shopstream_edge_reads_not_run_total Queued reads never run: answered 503 at "
           "their deadline, or dropped because the client went away.\n"
           "# TYPE shopstream_edge_reads_not_run_total counter\n");
    for (size_t i = 0; i < SHOP_READ_NOT_RUN_REASONS; i++)
        put(o, "shopstream_edge_reads_not_run_total{reason=\"%s\"} %llu\n", reasons[i],
            (unsigned long long)m->reads_not_run[i]);
    static const char *const cons[SHOP_METRICS_CONSISTENCIES] = {"eventual", "fresh", "stale"};
    put(o, "# HELP shopstream_edge_reads_consistency_total Reads answered 200 or 404, by their "
           "X-Shopstream-Consistency (eventual: no position token of the caller's own).\n"
           "# TYPE shopstream_edge_reads_consistency_total counter\n");
    for (size_t i = 0; i < SHOP_METRICS_CONSISTENCIES; i++)
        put(o, "shopstream_edge_reads_consistency_total{consistency=\"%s\"} %llu\n", cons[i],
            (unsigned long long)m->reads_consistency[i]);
    put(o, "# HELP shopstream_edge_rate_limited_total Requests answered 429, by route class and "
           "the key whose limit was reached.\n# TYPE shopstream_edge_rate_limited_total counter\n");
    for (size_t c = 0; c < SHOP_RL_CLASSES; c++)
        for (size_t k = 0; k < SHOP_RL_KINDS; k++)
            put(o, "shopstream_edge_rate_limited_total{class=\"%s\",key=\"%s\"} %llu\n",
                classes[c], kinds[k], (unsigned long long)m->rate_limited[c][k]);
}

char *shop_edge_metrics_render(const struct shop_edge_metrics_snap *m,
                               const struct shop_edge_gauges *g, size_t *len)
{
    struct out o = {shop_xmalloc(4096), 4096, 0};
    o.buf[0] = '\0';
    render_requests(m, &o);
    render_streams(m, &o);
    render_latency(m, &o);
    render_limits(m, &o);
    put(&o, "# HELP shopstream_edge_inflight_events Events produced and not yet acknowledged.\n"
            "# TYPE shopstream_edge_inflight_events gauge\nshopstream_edge_inflight_events %lld\n",
        (long long)g->inflight_events);
    put(&o, "# HELP shopstream_edge_producer_queue_depth Messages in the producers' queues.\n"
            "# TYPE shopstream_edge_producer_queue_depth gauge\n"
            "shopstream_edge_producer_queue_depth %lld\n",
        (long long)g->producer_queue_depth);
    put(&o, "# HELP shopstream_edge_unreachable_rejects_total Requests answered 503 at once, "
            "without producing, because every broker was known to be unreachable.\n"
            "# TYPE shopstream_edge_unreachable_rejects_total counter\n"
            "shopstream_edge_unreachable_rejects_total %llu\n",
        (unsigned long long)m->unreachable_rejects);
    put(&o, "# HELP shopstream_edge_producers_down Producers that know every broker is "
            "unreachable.\n# TYPE shopstream_edge_producers_down gauge\n"
            "shopstream_edge_producers_down %lld\n",
        (long long)g->producers_down);
    *len = o.len;
    return o.buf;
}
