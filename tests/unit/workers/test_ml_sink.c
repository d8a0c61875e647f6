/* SPDX-License-Identifier: MIT
 * The ml role's statements from what the core drains: one statement per table with a
 * row's list as its own array literal, the outbox past the mark, the offsets, and the
 * checkpoint's offsets JSON both ways.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>

#include "workers/core/ml_sink.h"

static struct shop_arena arena = SHOP_ARENA_INIT;

static void fini(void)
{
    shop_arena_fini(&arena);
}

TestSuite(ml_sink, .fini = fini);

static const struct shop_sql_stmt *find(const struct shop_plan *plan, const char *name)
{
    for (int i = 0; i < plan->n; i++)
        if (strcmp(plan->stmts[i].name, name) == 0)
            return &plan->stmts[i];
    return NULL;
}

Test(ml_sink, rows_become_one_statement_per_table)
{
    struct shop_mlsink s;
    shop_mlsink_init(&s, &arena, 0);
    struct shop_mlw_sink sink = shop_mlsink_sink(&s);
    struct shop_mlw_item items[] = {{"p\"1", 0.5}, {"p,2", 0.25}};
    sink.user_recs(sink.ctx, "u1", items, 2, false, 3, 1000);
    sink.user_recs(sink.ctx, "u2", items, 0, true, 3, 1000);
    sink.popular(sink.ctx, items, 1, 2, 900);
    sink.popular(sink.ctx, items, 2, 3, 1000);
    double f[] = {1.5, -0.125};
    sink.user_segment(sink.ctx, "u1", 2, f, 2, 4, 1000);
    const char *names[] = {"recency_days", "orders"};
    struct shop_mlw_segment seg = {.id = 2, .version = 4, .size = 10, .centre = f, .dim = 2,
                                   .label = "recent, frequent", .names = names, .plain = f};
    sink.segment(sink.ctx, &seg);
    sink.forecast(sink.ctx, "p1", "croston", 86400000, f, 2, 5, 1000);
    struct shop_mlw_metric m[] = {{"rmse", 0.5}};
    struct shop_mlw_model_info mi = {.model = "recommend", .version = 3, .trained_at_ms = 800, .watermark_ms = 1000,
                                     .metrics = m, .n_metrics = 1};
    sink.model(sink.ctx, &mi);
    shop_mlsink_offset(&s, "t.browse.v1", 1, 42);
    struct shop_plan plan = {0};
    shop_mlsink_plan(&s, "g", 5000, &plan);
    const struct shop_sql_stmt *recs = find(&plan, "ml_user_recs");
    cr_assert(not(eq(ptr, (void *)recs, NULL)));
    cr_assert(eq(int, recs->n_params, 6));
    cr_assert(eq(str, (char *)recs->params[0], "{\"u1\",\"u2\"}"));
    /* each row's list is an element: its own literal, quoted and escaped once more */
    cr_assert(eq(str, (char *)recs->params[2], "{\"{\\\"p\\\\\\\"1\\\",\\\"p,2\\\"}\",\"{}\"}"));
    cr_assert(eq(str, (char *)recs->params[3], "{\"{0.5,0.25}\",\"{}\"}"));
    cr_assert(eq(str, (char *)recs->params[4], "{f,t}"));
    const struct shop_sql_stmt *pop = find(&plan, "ml_popular");
    cr_assert(eq(str, (char *)pop->params[0], "3"), "the latest popular list wins");
    cr_assert(eq(str, (char *)pop->params[1], "{\"p\\\"1\",\"p,2\"}"));
    const struct shop_sql_stmt *segs = find(&plan, "ml_segments");
    cr_assert(eq(str, (char *)segs->params[5], "{\"{\\\"recency_days\\\":1.5,\\\"orders\\\":-0.125}\"}"));
    const struct shop_sql_stmt *retire = find(&plan, "ml_segments_retire");
    cr_assert(not(eq(ptr, (void *)retire, NULL)), "a refit's retired ids go");
    cr_assert(eq(str, (char *)retire->params[0], "{2}"));
    cr_assert(eq(str, (char *)find(&plan, "ml_models")->params[4], "{\"{\\\"rmse\\\":0.5}\"}"));
    cr_assert(eq(str, (char *)find(&plan, "ml_forecasts")->params[3], "{86400000}"));
    const struct shop_sql_stmt *off = find(&plan, "offsets");
    cr_assert(eq(int, off->n_params, 5));
    cr_assert(eq(str, (char *)off->params[0], "g"));
    cr_assert(eq(str, (char *)off->params[3], "{42}"));
    cr_assert(eq(str, (char *)off->params[4], "5000"));
    cr_assert(eq(ptr, (void *)find(&plan, "ml_outbox"), NULL));
    cr_assert(eq(ptr, (void *)find(&plan, "ml_similar"), NULL), "no rows, no statement");
}

Test(ml_sink, outbox_skips_what_the_mark_covers)
{
    struct shop_mlsink s;
    shop_mlsink_init(&s, &arena, 7);
    const uint8_t bytes[] = {0x0a, 0xff};
    shop_mlsink_outbox(&s, 6, "00000000-0000-5000-8000-000000000006", "u1", bytes, 2);
    shop_mlsink_outbox(&s, 7, "00000000-0000-5000-8000-000000000007", "u1", bytes, 2);
    cr_assert(shop_mlsink_empty(&s));
    shop_mlsink_outbox(&s, 9, "00000000-0000-5000-8000-000000000009", "recommend", bytes, 2);
    shop_mlsink_outbox(&s, 8, "00000000-0000-5000-8000-000000000008", "u2", bytes, 2);
    struct shop_plan plan = {0};
    shop_mlsink_plan(&s, "g", 1, &plan);
    const struct shop_sql_stmt *ob = find(&plan, "ml_outbox");
    cr_assert(eq(str, (char *)ob->params[0], "{9,8}"));
    cr_assert(eq(str, (char *)ob->params[3], "{\"0aff\",\"0aff\"}"));
    const struct shop_sql_stmt *mark = find(&plan, "ml_outbox_mark");
    cr_assert(eq(str, (char *)mark->params[1], "9"));
}

Test(ml_sink, floats_round_trip_and_name_non_finite_values)
{
    struct shop_sql_array a;
    shop_sql_array_init(&a, &arena);
    shop_sql_array_float(&a, 0.1);
    shop_sql_array_float(&a, -1e300);
    shop_sql_array_float(&a, 0.0 / 0.0);
    shop_sql_array_float(&a, -1.0 / 0.0);
    cr_assert(eq(str, (char *)shop_sql_array_end(&a), "{0.10000000000000001,-1.0000000000000001e+300,NaN,-Infinity}"));
}

struct seen {
    int n;
    char topic[32];
    int32_t partition;
    int64_t next;
};

static void on_offset(void *ctx, const char *topic, int32_t partition, int64_t next)
{
    struct seen *s = ctx;
    s->n++;
    snprintf(s->topic, sizeof(s->topic), "%s", topic);
    s->partition = partition;
    s->next = next;
}

Test(ml_sink, checkpoint_offsets_json_both_ways)
{
    const char *topics[] = {"a.browse.v1", "a.cart.v1"};
    int32_t parts[] = {0, 3};
    int64_t nexts[] = {5, 9000000000};
    const char *json = shop_mlsink_offsets_json(&arena, topics, parts, nexts, 2);
    cr_assert(eq(str, (char *)json,
                 "[{\"topic\":\"a.browse.v1\",\"partition\":0,\"offset\":5},{\"topic\":\"a.cart.v1\",\"partition\":3,"
                 "\"offset\":9000000000}]"));
    struct seen s = {0};
    struct shop_err err = {0};
    cr_assert(eq(int, shop_mlsink_offsets_parse(json, on_offset, &s, &err), 0));
    cr_assert(eq(int, s.n, 2));
    cr_assert(eq(str, s.topic, "a.cart.v1"));
    cr_assert(eq(i64, s.next, 9000000000));
    cr_assert(eq(int, shop_mlsink_offsets_parse("[{\"topic\":\"x\",\"partition\":-1,\"offset\":1}]", on_offset, &s, &err),
                 SHOP_EBADMSG));
    cr_assert(eq(int, shop_mlsink_offsets_parse("{}", on_offset, &s, &err), SHOP_EBADMSG));
}
