/* SPDX-License-Identifier: MIT
 * Metrics registry and Prometheus text rendering. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/core/edge_metrics.h"

Test(metrics, renders_counters_histogram_and_gauges)
{
    static struct shop_edge_metrics m;
    shop_edge_metrics_init(&m);
    shop_edge_metrics_request(&m, SHOP_ROUTE_EVENTS, 202);
    shop_edge_metrics_request(&m, SHOP_ROUTE_EVENTS, 202);
    shop_edge_metrics_request(&m, SHOP_ROUTE_PRODUCT, 404);
    shop_edge_metrics_request(&m, SHOP_ROUTE_OTHER, 418);
    shop_edge_metrics_delivery(&m, 1, true, 3000);     /* 3 ms */
    shop_edge_metrics_delivery(&m, 1, true, 7000000);  /* 7 s: only +Inf */
    shop_edge_metrics_delivery(&m, 3, false, 10);
    shop_edge_metrics_unreachable_reject(&m);
    shop_edge_metrics_read_not_run(&m, SHOP_READ_DEADLINE);
    shop_edge_metrics_rate_limited(&m, SHOP_RL_READS, SHOP_RL_BY_ADDRESS);
    shop_edge_metrics_rate_limited(&m, SHOP_RL_READS, SHOP_RL_BY_ADDRESS);
    struct shop_edge_gauges g = {.inflight_events = 5, .producer_queue_depth = 7,
                                 .producers_down = 1};
    struct shop_edge_metrics_snap snap;
    shop_edge_metrics_snapshot(&m, &snap);
    size_t n = 0;
    char *buf = shop_edge_metrics_render(&snap, &g, &n);
    cr_assert_eq(strlen(buf), n);
    cr_assert_not_null(strstr(buf, "shopstream_edge_requests_total{route=\"events\",status=\"202\"} 2\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_requests_total{route=\"product\",status=\"404\"} 1\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_requests_total{route=\"other\",status=\"other\"} 1\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_events_produced_total{stream=\"cart\"} 2\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_events_failed_total{stream=\"catalog\"} 1\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_produce_latency_seconds_bucket{le=\"0.002\"} 0\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_produce_latency_seconds_bucket{le=\"0.005\"} 1\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_produce_latency_seconds_bucket{le=\"5\"} 1\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_produce_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_produce_latency_seconds_count 2\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_inflight_events 5\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_producer_queue_depth 7\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_unreachable_rejects_total 1\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_producers_down 1\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_reads_not_run_total{reason=\"deadline\"} 1\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_reads_not_run_total{reason=\"client_gone\"} 0\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_rate_limited_total{class=\"reads\",key=\"address\"} 2\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_rate_limited_total{class=\"ingest\",key=\"subject\"} 0\n"));
    cr_assert_not_null(strstr(buf, "# TYPE shopstream_edge_produce_latency_seconds histogram\n"));
    free(buf);
}

/* The text of a snapshot, checked complete: it ends with the last metric's line. */
static char *render_complete(const struct shop_edge_metrics_snap *snap,
                             const struct shop_edge_gauges *g)
{
    size_t n = 0;
    char *buf = shop_edge_metrics_render(snap, g, &n);
    cr_assert_eq(strlen(buf), n);
    static const char last[] = "\nshopstream_edge_producers_down ";
    char *at = strstr(buf, last);
    cr_assert_not_null(at, "output was cut off before its last metric");
    cr_assert_eq(strchr(at + 1, '\n'), buf + n - 1, "the last metric's line ends the text");
    return buf;
}

/* Before: /metrics sized the text with one render and filled it with a second, reading the
 * live counters each time; counters that moved in between (a new route/status line, longer
 * numbers) made the second render longer than the buffer, cutting the text off. Now the
 * counters are read once into a snapshot and rendered once, so later increments cannot
 * change or cut it. */
Test(metrics, renders_one_snapshot_whatever_happens_after)
{
    static struct shop_edge_metrics m;
    shop_edge_metrics_init(&m);
    shop_edge_metrics_request(&m, SHOP_ROUTE_EVENTS, 202);
    struct shop_edge_gauges g = {0};
    struct shop_edge_metrics_snap snap;
    shop_edge_metrics_snapshot(&m, &snap);
    char *before = render_complete(&snap, &g);
    for (int r = 0; r < SHOP_ROUTE_COUNT; r++)
        for (int i = 0; i < 1000; i++)
            shop_edge_metrics_request(&m, (enum shop_edge_route)r, 400 + i % 20);
    for (int i = 0; i < 1000; i++)
        shop_edge_metrics_delivery(&m, i % 4, i % 3 != 0, i * 997);
    char *after = render_complete(&snap, &g);
    cr_assert_str_eq(after, before);
    cr_assert_not_null(strstr(after, "{route=\"events\",status=\"202\"} 1\n"));
    cr_assert_null(strstr(after, "status=\"401\""));
    free(before);
    free(after);
}

/* Every counter at its widest: far more text than any first guess of the buffer size. */
Test(metrics, never_truncates_however_long_the_text)
{
    struct shop_edge_metrics_snap snap;
    memset(&snap, 0, sizeof(snap));
    for (int r = 0; r < SHOP_ROUTE_COUNT; r++)
        for (int s = 0; s < SHOP_METRICS_STATUSES; s++)
            snap.requests[r][s] = UINT64_MAX - (uint64_t)s;
    for (int b = 0; b <= SHOP_METRICS_BUCKETS; b++)
        snap.latency_buckets[b] = 1000000007ULL * (uint64_t)(b + 1);
    struct shop_edge_gauges g = {.inflight_events = INT64_MAX, .producers_down = 3};
    char *buf = render_complete(&snap, &g);
    cr_assert_gt(strlen(buf), 8192);
    cr_assert_not_null(strstr(buf, "shopstream_edge_producers_down 3\n"));
    free(buf);
}

Test(metrics, histogram_count_equals_the_inf_bucket)
{
    struct shop_edge_metrics_snap snap;
    memset(&snap, 0, sizeof(snap));
    snap.latency_buckets[0] = 2;
    snap.latency_buckets[SHOP_METRICS_BUCKETS] = 3;
    struct shop_edge_gauges g = {0};
    char *buf = render_complete(&snap, &g);
    cr_assert_not_null(strstr(buf, "shopstream_edge_produce_latency_seconds_bucket{le=\"+Inf\"} 5\n"));
    cr_assert_not_null(strstr(buf, "shopstream_edge_produce_latency_seconds_count 5\n"));
    free(buf);
}
