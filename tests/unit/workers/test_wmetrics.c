/* SPDX-License-Identifier: MIT
 * The worker's metrics registry and rendering (workers/core/wmetrics.c): the contract's
 * names and labels, counts by type and reason, the overflow slots, and /readyz's verdict. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workers/core/wmetrics.h"

static char *render(const struct shop_wm *m, const struct shop_wm_view *v)
{
    struct shop_prom p = SHOP_PROM_INIT;
    shop_wm_render(m, v, &p);
    size_t len;
    return shop_prom_take(&p, &len);
}

static void expect_line(const char *text, const char *line)
{
    char want[512];
    snprintf(want, sizeof(want), "\n%s\n", line);
    cr_assert(strstr(text, want) != NULL, "missing line: %s\n---\n%s", line, text);
}

static const struct shop_wm_view plain = {.role = "projector", .group = "g1", .outbox_depth = -1};

Test(wmetrics, counts_processed_and_failed_by_type)
{
    struct shop_wm m;
    shop_wm_init(&m);
    shop_wm_processed(&m, "order.placed", 3);
    shop_wm_processed(&m, "order.placed", 2);
    shop_wm_processed(&m, NULL, 1);
    shop_wm_failed(&m, "order.paid", SHOP_WM_FAIL_POSTGRES, "p.order.v1");
    shop_wm_failed(&m, NULL, SHOP_WM_FAIL_UNDECODABLE, "p.order.v1");
    char *text = render(&m, &plain);
    expect_line(text, "shopstream_worker_events_processed_total{role=\"projector\",group=\"g1\",type=\"order.placed\"} 5");
    expect_line(text, "shopstream_worker_events_processed_total{role=\"projector\",group=\"g1\",type=\"unknown\"} 1");
    expect_line(text, "shopstream_worker_events_failed_total{role=\"projector\",group=\"g1\",type=\"order.paid\","
                      "reason=\"postgres\"} 1");
    expect_line(text, "shopstream_worker_events_failed_total{role=\"projector\",group=\"g1\",type=\"unknown\","
                      "reason=\"undecodable\"} 1");
    expect_line(text, "shopstream_worker_dead_letters_total{role=\"projector\",group=\"g1\",topic=\"p.order.v1\"} 2");
    cr_assert(strstr(text, "# TYPE shopstream_worker_events_processed_total counter\n") != NULL);
    free(text);
}

Test(wmetrics, types_past_the_table_count_as_unknown)
{
    struct shop_wm m;
    shop_wm_init(&m);
    char name[32];
    for (int i = 0; i < SHOP_WM_TYPES_MAX + 5; i++) {
        snprintf(name, sizeof(name), "t.%d", i);
        shop_wm_processed(&m, name, 1);
    }
    char *text = render(&m, &plain);
    expect_line(text, "shopstream_worker_events_processed_total{role=\"projector\",group=\"g1\",type=\"unknown\"} 5");
    cr_assert(strstr(text, "type=\"t.64\"") == NULL);
    free(text);
}

Test(wmetrics, batches_rebalances_lag_paused_and_outbox)
{
    struct shop_wm m;
    shop_wm_init(&m);
    shop_wm_batch(&m, 3, 0.002);
    shop_wm_batch(&m, 700, 0.3);
    shop_wm_rebalance(&m, SHOP_WM_ASSIGN);
    shop_wm_rebalance(&m, SHOP_WM_ASSIGN);
    shop_wm_rebalance(&m, SHOP_WM_REVOKE);
    shop_wm_txn_retry(&m);
    const struct shop_wm_lag lags[2] = {{"p.cart.v1", 0, 12}, {"p.cart.v1", 2, 0}};
    struct shop_wm_view v = {.role = "inventory", .group = "gi", .lags = lags, .n_lags = 2, .partitions_paused = 4,
                             .outbox_depth = 9};
    char *text = render(&m, &v);
    expect_line(text, "shopstream_worker_batch_events_bucket{role=\"inventory\",group=\"gi\",le=\"5\"} 1");
    expect_line(text, "shopstream_worker_batch_events_bucket{role=\"inventory\",group=\"gi\",le=\"1000\"} 2");
    expect_line(text, "shopstream_worker_batch_events_count{role=\"inventory\",group=\"gi\"} 2");
    expect_line(text, "shopstream_worker_commit_duration_seconds_bucket{role=\"inventory\",group=\"gi\",le=\"0.0025\"} 1");
    expect_line(text, "shopstream_worker_commit_duration_seconds_count{role=\"inventory\",group=\"gi\"} 2");
    expect_line(text, "shopstream_worker_rebalances_total{role=\"inventory\",group=\"gi\",kind=\"assign\"} 2");
    expect_line(text, "shopstream_worker_rebalances_total{role=\"inventory\",group=\"gi\",kind=\"revoke\"} 1");
    expect_line(text, "shopstream_worker_transaction_retries_total{role=\"inventory\",group=\"gi\"} 1");
    expect_line(text, "shopstream_worker_consumer_lag{role=\"inventory\",group=\"gi\",topic=\"p.cart.v1\",partition=\"0\"} 12");
    expect_line(text, "shopstream_worker_consumer_lag{role=\"inventory\",group=\"gi\",topic=\"p.cart.v1\",partition=\"2\"} 0");
    expect_line(text, "shopstream_worker_partitions_paused{role=\"inventory\",group=\"gi\"} 4");
    expect_line(text, "shopstream_worker_outbox_depth{role=\"inventory\",group=\"gi\"} 9");
    free(text);
}

Test(wmetrics, no_outbox_no_depth_family)
{
    struct shop_wm m;
    shop_wm_init(&m);
    char *text = render(&m, &plain);
    cr_assert(strstr(text, "outbox_depth") == NULL);
    cr_assert(strstr(text, "# TYPE shopstream_worker_consumer_lag gauge\n") != NULL);
    free(text);
}

Test(wmetrics, ready_when_every_check_passes)
{
    char body[256];
    struct shop_wm_ready_in in = {.assigned = 3, .pg_up = true, .lag = 10, .max_lag = 10};
    cr_assert(eq(int, shop_wm_ready(&in, body, sizeof(body)), 200));
    cr_assert(strstr(body, "\"status\":\"ready\"") != NULL, "%s", body);
    cr_assert(strstr(body, "failed") == NULL, "%s", body);
}

Test(wmetrics, not_ready_names_every_failed_check)
{
    char body[256];
    struct shop_wm_ready_in in = {.assigned = 0, .pg_up = false, .lag = 11, .max_lag = 10};
    cr_assert(eq(int, shop_wm_ready(&in, body, sizeof(body)), 503));
    cr_assert(strstr(body, "\"failed\":[\"partitions\",\"database\",\"lag\"]") != NULL, "%s", body);
    in = (struct shop_wm_ready_in){.assigned = 2, .pg_up = false, .max_lag = 10};
    cr_assert(eq(int, shop_wm_ready(&in, body, sizeof(body)), 503));
    cr_assert(strstr(body, "\"failed\":[\"database\"]") != NULL, "%s", body);
}

Test(wmetrics, a_standby_reports_only_its_reason)
{
    char body[256];
    struct shop_wm_ready_in in = {.unready = "standby", .max_lag = 10};
    cr_assert(eq(int, shop_wm_ready(&in, body, sizeof(body)), 503));
    cr_assert(strstr(body, "\"failed\":[\"standby\"]") != NULL, "%s", body);
}

Test(wmetrics, a_short_buffer_still_gets_json)
{
    char body[24];
    struct shop_wm_ready_in in = {.assigned = 1, .pg_up = true, .max_lag = 10};
    cr_assert(eq(int, shop_wm_ready(&in, body, sizeof(body)), 200));
    cr_assert(eq(str, body, "{\"status\":\"ready\"}"));
}
