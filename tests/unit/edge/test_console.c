/* SPDX-License-Identifier: MIT
 * edge/core/edge_console: the overview's checks, parameters, ingest rate, dead letters
 * and body. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "edge/core/edge_console.h"

static struct shop_edge_match match(const char *path_and_query)
{
    struct shop_edge_match m;
    const char *q = strchr(path_and_query, '?');
    size_t n = q != NULL ? (size_t)(q - path_and_query) : strlen(path_and_query);
    shop_edge_route_match("GET", 3, path_and_query, n, q != NULL ? q + 1 : NULL, q != NULL ? strlen(q + 1) : 0, &m);
    return m;
}

Test(console, routes_are_rows_of_the_table)
{
    struct shop_edge_match m = match("/console");
    cr_assert_eq(m.route, SHOP_ROUTE_CONSOLE);
    cr_assert_eq(m.status, 0);
    m = match("/v1/admin/overview?threshold=3");
    cr_assert_eq(m.route, SHOP_ROUTE_OVERVIEW);
    cr_assert_eq(m.status, 0);
    cr_assert_str_eq(shop_edge_match_arg(&m, SHOP_ARG_THRESHOLD), "3");
    m = match("/v1/admin/overview?limit=3");
    cr_assert_eq(m.status, 400);
    cr_assert_str_eq(m.field, "limit");
    m = match("/console?threshold=3");   /* the page takes no parameter */
    cr_assert_eq(m.status, 400);
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_OVERVIEW), "overview");
    cr_assert_str_eq(shop_edge_route_name(SHOP_ROUTE_CONSOLE), "console");
}

Test(console, admin_first_then_the_threshold)
{
    struct shop_err err = {0};
    const char *field;
    int64_t t;
    struct shop_edge_match m = match("/v1/admin/overview?threshold=x");
    cr_assert_eq(shop_console_init(false, &m, &t, &field, &err), SHOP_EFORBIDDEN);
    cr_assert_str_eq(field, "authorization");
    cr_assert_eq(shop_console_init(true, &m, &t, &field, &err), SHOP_EINVAL);
    cr_assert_str_eq(field, "threshold");
    m = match("/v1/admin/overview?threshold=1000000001");
    cr_assert_eq(shop_console_init(true, &m, &t, &field, &err), SHOP_EINVAL);
    m = match("/v1/admin/overview?threshold=-1");
    cr_assert_eq(shop_console_init(true, &m, &t, &field, &err), SHOP_EINVAL);
    m = match("/v1/admin/overview?threshold=0");
    cr_assert_eq(shop_console_init(true, &m, &t, &field, &err), 0);
    cr_assert_eq(t, 0);
    cr_assert_eq(shop_console_init(true, NULL, &t, &field, &err), 0);
    cr_assert_eq(t, SHOP_CONSOLE_THRESHOLD_DEFAULT);
}

Test(console, arrays_quote_every_element)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    const char *v[] = {"a", "b\"c", "d\\e", "", "{x,y}"};
    cr_assert_str_eq(shop_console_text_array(v, 5, &a), "{\"a\",\"b\\\"c\",\"d\\\\e\",\"\",\"{x,y}\"}");
    cr_assert_str_eq(shop_console_text_array(v, 0, &a), "{}");
    shop_arena_fini(&a);
}

Test(console, params_are_parallel_arrays)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_console_watermark w[] = {{"t.browse", 0, 2, 10}, {"t.browse", 1, 0, 7}};
    struct shop_console_sub s[] = {{"projector", "g1", "t.browse"}};
    const char *p[SHOP_CONSOLE_SQL_PARAMS];
    shop_console_params(5, w, 2, s, 1, &a, p);
    cr_assert_str_eq(p[0], "5");
    cr_assert_str_eq(p[1], "{\"t.browse\",\"t.browse\"}");
    cr_assert_str_eq(p[2], "{0,1}");
    cr_assert_str_eq(p[3], "{2,0}");
    cr_assert_str_eq(p[4], "{10,7}");
    cr_assert_str_eq(p[5], "{\"projector\"}");
    cr_assert_str_eq(p[6], "{\"g1\"}");
    cr_assert_str_eq(p[7], "{\"t.browse\"}");
    shop_console_params(5, NULL, 0, NULL, 0, &a, p);   /* the broker did not answer */
    cr_assert_str_eq(p[1], "{}");
    cr_assert_str_eq(p[4], "{}");
    shop_arena_fini(&a);
}

Test(console, rate_over_the_newest_sample_a_second_old)
{
    struct shop_console_rate r = {0};
    double per_s;
    int64_t ms;
    shop_console_rate_update(&r, 10000, 100, &per_s, &ms);
    cr_assert_eq(ms, 0);                             /* nothing to compare with yet */
    shop_console_rate_update(&r, 12000, 300, &per_s, &ms);
    cr_assert_eq(ms, 2000);
    cr_assert_float_eq(per_s, 100.0, 1e-9);
    shop_console_rate_update(&r, 12200, 320, &per_s, &ms);   /* too close to sample */
    cr_assert_eq(ms, 2200);                           /* the 12000 sample is too young */
    cr_assert_float_eq(per_s, 220.0 * 1000 / 2200, 1e-9);
    shop_console_rate_update(&r, 14000, 500, &per_s, &ms);
    cr_assert_eq(ms, 2000);
    cr_assert_float_eq(per_s, 100.0, 1e-9);
    shop_console_rate_update(&r, 15000, 10, &per_s, &ms);    /* a restart */
    cr_assert_eq(ms, 0);
    cr_assert_float_eq(per_s, 0.0, 1e-9);
}

Test(console, rate_keeps_a_bounded_ring)
{
    struct shop_console_rate r = {0};
    double per_s;
    int64_t ms;
    for (int i = 0; i < 100; i++)
        shop_console_rate_update(&r, 1000 * i, (uint64_t)(50 * i), &per_s, &ms);
    cr_assert_eq(r.n, SHOP_CONSOLE_RATE_SAMPLES);
    cr_assert_eq(ms, 1000);
    cr_assert_float_eq(per_s, 50.0, 1e-9);
}

Test(console, dead_letters_newest_first_and_cut)
{
    struct shop_console_dead_letter d[3] = {
        {.partition = 0, .offset = 1, .timestamp_ms = 100},
        {.partition = 1, .offset = 4, .timestamp_ms = 300},
        {.partition = 0, .offset = 2, .timestamp_ms = 200},
    };
    cr_assert_eq(shop_console_dlq_newest(d, 3, 2), 2);
    cr_assert_eq(d[0].timestamp_ms, 300);
    cr_assert_eq(d[1].timestamp_ms, 200);
}

static json_t *body_of(const struct shop_console_parts *p)
{
    char *text;
    cr_assert_eq(shop_console_overview_json(p, &text), 0);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    cr_assert_not_null(j);
    return j;
}

Test(console, body_has_the_counters_the_database_part_and_the_dead_letters)
{
    struct shop_edge_metrics m;
    struct shop_edge_metrics_snap snap;
    shop_edge_metrics_init(&m);
    for (int i = 0; i < 3; i++)
        shop_edge_metrics_request(&m, SHOP_ROUTE_EVENTS, 202);
    shop_edge_metrics_request(&m, SHOP_ROUTE_EVENTS, 400);
    shop_edge_metrics_request(&m, SHOP_ROUTE_EVENTS, 413);
    shop_edge_metrics_request(&m, SHOP_ROUTE_EVENTS, 503);
    shop_edge_metrics_request(&m, SHOP_ROUTE_CART, 404);   /* not ingest */
    shop_edge_metrics_delivery(&m, 0, true, 10);
    shop_edge_metrics_delivery(&m, 2, true, 10);
    shop_edge_metrics_delivery(&m, 2, false, 10);
    shop_edge_metrics_snapshot(&m, &snap);
    struct shop_console_dead_letter d = {.partition = 2, .offset = 9, .timestamp_ms = 5,
                                         .error = "postgresql refused the event", .sqlstate = "23514",
                                         .source_topic = "t.browse.v1", .source_partition = "1",
                                         .source_offset = "x7", .group = "g"};
    struct shop_console_dlq q = {.topic = "t.dlq.v1", .ok = true, .total = 4, .read_at_ms = 6,
                                 .letters = &d, .n_letters = 1};
    char *dlq = shop_console_dlq_json(&q);
    struct shop_console_parts p = {.now_ms = 7, .db_json = "{\"groups\":[],\"low_stock\":{}}",
                                   .snap = &snap, .rate_per_s = 1.5, .rate_interval_ms = 2000,
                                   .dlq_json = dlq};
    json_t *j = body_of(&p);
    json_t *g = json_object_get(j, "ingest");
    cr_assert_eq(json_integer_value(json_object_get(g, "events_total")), 2);
    cr_assert_eq(json_integer_value(json_object_get(g, "events_failed_total")), 1);
    cr_assert_float_eq(json_real_value(json_object_get(g, "events_per_s")), 1.5, 1e-9);
    json_t *r = json_object_get(g, "requests");
    cr_assert_eq(json_integer_value(json_object_get(r, "202")), 3);
    cr_assert_eq(json_integer_value(json_object_get(r, "4xx")), 2);
    cr_assert_eq(json_integer_value(json_object_get(r, "503")), 1);
    cr_assert(json_is_array(json_object_get(j, "groups")));
    cr_assert(json_is_null(json_object_get(j, "kafka_error")));
    json_t *l = json_array_get(json_object_get(json_object_get(j, "dead_letters"), "letters"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(l, "sqlstate")), "23514");
    cr_assert_eq(json_integer_value(json_object_get(l, "source_partition")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(l, "source_offset")), "x7");   /* not a number: as sent */
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "dead_letters"), "total")), 4);
    json_decref(j);
    free(dlq);
}

Test(console, a_broker_error_is_said_and_a_bad_database_part_refused)
{
    struct shop_edge_metrics_snap snap = {0};
    struct shop_console_dlq q = {.topic = "t.dlq.v1", .ok = false, .error = "timed out"};
    char *dlq = shop_console_dlq_json(&q);
    struct shop_console_parts p = {.db_json = "{}", .kafka_error = "metadata: timed out", .snap = &snap,
                                   .dlq_json = dlq};
    json_t *j = body_of(&p);
    cr_assert_str_eq(json_string_value(json_object_get(j, "kafka_error")), "metadata: timed out");
    json_t *dl = json_object_get(j, "dead_letters");
    cr_assert(json_is_null(json_object_get(dl, "total")));
    cr_assert_str_eq(json_string_value(json_object_get(dl, "error")), "timed out");
    json_decref(j);
    char *text;
    p.db_json = "[1]";
    cr_assert_eq(shop_console_overview_json(&p, &text), SHOP_EINVAL);
    p.db_json = NULL;
    cr_assert_eq(shop_console_overview_json(&p, &text), SHOP_EINVAL);
    free(dlq);
}
