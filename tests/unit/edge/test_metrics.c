/* SPDX-License-Identifier: MIT
 * Metrics registry and Prometheus text rendering. */
#include <criterion/criterion.h>
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
    struct shop_edge_gauges g = {.inflight_events = 5, .producer_queue_depth = 7,
                                 .producers_down = 1};
    char buf[8192];
    size_t n = shop_edge_metrics_render(&m, &g, buf, sizeof(buf));
    cr_assert_lt(n, sizeof(buf));
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
    cr_assert_not_null(strstr(buf, "# TYPE shopstream_edge_produce_latency_seconds histogram\n"));
}

Test(metrics, reports_needed_size_when_buffer_is_small)
{
    static struct shop_edge_metrics m;
    shop_edge_metrics_init(&m);
    struct shop_edge_gauges g = {0};
    char small[16];
    size_t need = shop_edge_metrics_render(&m, &g, small, sizeof(small));
    cr_assert_gt(need, sizeof(small));
    cr_assert_eq(strlen(small), sizeof(small) - 1);
    char big[8192];
    cr_assert_eq(shop_edge_metrics_render(&m, &g, big, sizeof(big)), need);
}
