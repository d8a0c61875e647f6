/* SPDX-License-Identifier: MIT
 * The projector fold and plan: for every event type and the tricky orderings,
 * assert the statements' parameter arrays (the SQL text is fixed).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "ev_fixture.h"
#include "workers/core/proj.h"
#include "workers/core/sql_array.h"

static struct shop_arena arena = SHOP_ARENA_INIT;

static void teardown(void)
{
    shop_arena_fini(&arena);
}

TestSuite(proj, .fini = teardown);

/* Folds events (all new) and builds the plan. */
static struct shop_plan *plan_of(struct shop_proj_fold *f, Shopstream__V1__Event **evs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        shop_proj_fold_event(f, evs[i]);
    struct shop_plan *plan = shop_arena_alloc(&arena, sizeof(*plan));
    cr_assert(eq(int, shop_proj_plan_build(f, "g", 42, plan, NULL), 0));
    return plan;
}

static const struct shop_sql_stmt *stmt(const struct shop_plan *plan, const char *name)
{
    for (int i = 0; i < plan->n; i++) {
        if (strcmp(plan->stmts[i].name, name) == 0)
            return &plan->stmts[i];
    }
    return NULL;
}

static void assert_param(const struct shop_plan *plan, const char *name, int i, const char *want)
{
    const struct shop_sql_stmt *st = stmt(plan, name);
    cr_assert(not(eq(ptr, (void *)st, NULL)), "no statement %s", name);
    cr_assert(lt(int, i, st->n_params));
    cr_assert(eq(str, (char *)st->params[i], (char *)want), "%s $%d", name, i + 1);
}

static void assert_absent(const struct shop_plan *plan, const char *name)
{
    cr_assert(eq(ptr, (void *)stmt(plan, name), NULL), "unexpected statement %s", name);
}

#define FOLD(...)                                                                                  \
    Shopstream__V1__Event *evs[] = {__VA_ARGS__};                                                  \
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);                                         \
    struct shop_plan *plan = plan_of(f, evs, sizeof(evs) / sizeof(evs[0]))

/* ---- array literals -------------------------------------------------------- */

Test(proj, array_literal_escapes_quotes_and_backslashes)
{
    struct shop_sql_array a;
    shop_sql_array_init(&a, &arena);
    shop_sql_array_text(&a, "a\"b\\c");
    shop_sql_array_text(&a, NULL);
    shop_sql_array_text(&a, "{x, y}");
    shop_sql_array_int(&a, -7);
    shop_sql_array_bool(&a, true);
    cr_assert(eq(str, (char *)shop_sql_array_end(&a), "{\"a\\\"b\\\\c\",NULL,\"{x, y}\",-7,t}"));
}

Test(proj, i64_text_covers_the_whole_range)
{
    static const struct {
        int64_t v;
        const char *want;
    } cases[] = {{0, "0"}, {7, "7"}, {-1, "-1"}, {1000, "1000"}, {-2147483648LL, "-2147483648"},
                 {INT64_MAX, "9223372036854775807"}, {INT64_MIN, "-9223372036854775808"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[SHOP_I64_TEXT_MAX];
        size_t n = shop_i64_text(buf, cases[i].v);
        cr_assert(eq(str, buf, (char *)cases[i].want));
        cr_assert(eq(sz, n, strlen(cases[i].want)));
    }
}

Test(proj, array_literal_empty_and_long)
{
    struct shop_sql_array a;
    shop_sql_array_init(&a, &arena);
    cr_assert(eq(str, (char *)shop_sql_array_end(&a), "{}"));
    shop_sql_array_init(&a, &arena);
    for (int i = 0; i < 1000; i++)
        shop_sql_array_int(&a, 1);
    cr_assert(eq(sz, strlen(shop_sql_array_end(&a)), 2 + 1000 + 999));
}

/* ---- browse and catalog ------------------------------------------------------ */

Test(proj, views_count_per_product_and_search_counts_in_the_activity)
{
    FOLD(ev_view(&arena, 1, "u1", "p1"), ev_view(&arena, 2, "u2", "p2"), ev_view(&arena, 3, "u1", "p1"),
         ev_search(&arena, 4, "u1"));
    cr_assert(eq(sz, shop_proj_fold_stats(f)->applied, 4));
    cr_assert(eq(sz, shop_proj_fold_stats(f)->no_projection, 0));
    assert_param(plan, "products_upsert", 0, "{\"p1\",\"p2\"}");
    assert_param(plan, "products_upsert", 1, "{NULL,NULL}"); /* no catalog fields */
    assert_param(plan, "products_upsert", 5, "{2,1}");      /* views */
    assert_param(plan, "products_upsert", 6, "{0,0}");      /* purchases */
    assert_param(plan, "products_upsert", 7, "{1003,1002}");
    assert_absent(plan, "cart_add");
    assert_absent(plan, "orders_insert");
}

Test(proj, upsert_sets_the_catalog_and_stock_is_not_the_projectors)
{
    FOLD(ev_adjust(&arena, 1, "p1", 5), ev_upsert(&arena, 2, "p1", "Sock", 250, 10),
         ev_adjust(&arena, 3, "p1", -3));
    cr_assert(eq(sz, shop_proj_fold_stats(f)->no_projection, 2));   /* the deltas: inventory_stock's */
    assert_param(plan, "products_upsert", 0, "{\"p1\"}");
    assert_param(plan, "products_upsert", 1, "{\"Sock\"}");
    assert_param(plan, "products_upsert", 2, "{NULL}");     /* empty category is NULL */
    assert_param(plan, "products_upsert", 3, "{250}");
    assert_param(plan, "products_upsert", 4, "{\"GBP\"}");
    const struct shop_sql_stmt *st = stmt(plan, "products_upsert");
    cr_assert(eq(int, st->n_params, 8));
    cr_assert(eq(ptr, strstr(st->sql, "stock"), NULL), "the projector never writes products.stock");
}

Test(proj, stock_adjusted_alone_writes_nothing)
{
    FOLD(ev_adjust(&arena, 1, "p1", 5), ev_adjust(&arena, 2, "p1", -2));
    cr_assert(eq(sz, shop_proj_fold_stats(f)->no_projection, 2));
    assert_absent(plan, "products_upsert");
}

/* ---- cart ------------------------------------------------------------------------ */

Test(proj, adds_compose_to_a_relative_delta_with_the_last_price)
{
    FOLD(ev_add(&arena, 1, "u1", "p1", 2, 100), ev_add(&arena, 2, "u1", "p1", 3, 120));
    assert_absent(plan, "cart_set");
    assert_absent(plan, "cart_delete");
    assert_param(plan, "cart_add", 0, "{\"u1\"}");
    assert_param(plan, "cart_add", 1, "{\"p1\"}");
    assert_param(plan, "cart_add", 2, "{5}");
    assert_param(plan, "cart_add", 3, "{120}");
    assert_param(plan, "cart_add", 4, "{\"GBP\"}");
    assert_param(plan, "carts_touch", 0, "{\"u1\"}");
    assert_param(plan, "carts_touch", 1, "{1002}");
}

Test(proj, add_set_remove_add_deletes_then_inserts_the_last_add)
{
    FOLD(ev_add(&arena, 1, "u1", "p1", 2, 100), ev_set(&arena, 2, "u1", "p1", 7),
         ev_remove(&arena, 3, "u1", "p1"), ev_add(&arena, 4, "u1", "p1", 1, -1));
    assert_param(plan, "cart_delete", 0, "{\"u1\"}");
    assert_param(plan, "cart_delete", 1, "{\"p1\"}");
    assert_param(plan, "cart_set", 2, "{1}");
    assert_param(plan, "cart_set", 3, "{NULL}");            /* the old price died with the line */
    assert_param(plan, "cart_set", 4, "{NULL}");
    assert_absent(plan, "cart_add");
}

Test(proj, set_then_add_is_absolute)
{
    FOLD(ev_set(&arena, 1, "u1", "p1", 4), ev_add(&arena, 2, "u1", "p1", 2, 90));
    assert_absent(plan, "cart_delete");                     /* the row keeps living */
    assert_param(plan, "cart_set", 2, "{6}");
    assert_param(plan, "cart_set", 3, "{90}");
}

Test(proj, remove_alone_deletes_and_set_zero_too)
{
    FOLD(ev_remove(&arena, 1, "u1", "p1"), ev_set(&arena, 2, "u1", "p2", 0));
    assert_param(plan, "cart_delete", 0, "{\"u1\",\"u1\"}");
    assert_param(plan, "cart_delete", 1, "{\"p1\",\"p2\"}");
    assert_absent(plan, "cart_set");
    assert_absent(plan, "cart_add");
}

Test(proj, clear_resets_earlier_lines_and_later_adds_start_from_empty)
{
    FOLD(ev_add(&arena, 1, "u1", "p1", 2, 100), ev_add(&arena, 2, "u2", "p1", 1, 100),
         ev_clear(&arena, 3, "u1"), ev_add(&arena, 4, "u1", "p2", 3, 50));
    assert_param(plan, "cart_clear", 0, "{\"u1\"}");
    assert_param(plan, "cart_add", 0, "{\"u2\",\"u1\"}");   /* u1/p1 vanished with the clear */
    assert_param(plan, "cart_add", 1, "{\"p1\",\"p2\"}");
    assert_param(plan, "cart_add", 2, "{1,3}");
    assert_absent(plan, "cart_delete");
}

Test(proj, clear_then_set_is_absolute_without_price)
{
    FOLD(ev_add(&arena, 1, "u1", "p1", 2, 100), ev_clear(&arena, 2, "u1"), ev_set(&arena, 3, "u1", "p1", 5));
    assert_param(plan, "cart_clear", 0, "{\"u1\"}");
    assert_param(plan, "cart_set", 2, "{5}");
    assert_param(plan, "cart_set", 3, "{NULL}");
}

/* ---- orders ----------------------------------------------------------------------- */

static const char *const P12[] = {"p1", "p2"};
static const int Q23[] = {2, 3};

Test(proj, placed_inserts_order_lines_history_and_counts_purchases)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23));
    assert_param(plan, "orders_insert", 0, "{\"o1\"}");
    assert_param(plan, "orders_insert", 1, "{\"u1\"}");
    assert_param(plan, "orders_insert", 2, "{\"placed\"}");
    assert_param(plan, "orders_insert", 3, "{500}");
    assert_param(plan, "orders_insert", 4, "{\"GBP\"}");
    assert_param(plan, "orders_insert", 5, "{1001}");
    const struct shop_sql_stmt *lines = stmt(plan, "order_lines_copy");
    cr_assert(not(eq(ptr, (void *)lines, NULL)));
    cr_assert(eq(str, (char *)lines->sql, (char *)SHOP_PROJ_SQL_ORDER_LINES_COPY));
    cr_assert(eq(str, (char *)lines->copy_data, "o1\t1\tp1\t2\t100\tGBP\no1\t2\tp2\t3\t100\tGBP\n"));
    assert_param(plan, "order_history", 1, "{\"placed\"}");
    assert_param(plan, "order_history", 3, "{\"00000000-0000-4000-8000-000000000001\"}");
    assert_param(plan, "products_upsert", 6, "{2,3}");      /* purchases */
    assert_param(plan, "orders_insert", 7, "{NULL}");       /* no rejection */
    assert_absent(plan, "orders_update");
    assert_absent(plan, "refused_insert");
}

Test(proj, whole_life_in_one_batch_inserts_final_status_with_full_history)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), ev_paid(&arena, 2, "u1", "o1"),
         ev_shipped(&arena, 3, "u1", "o1"), ev_delivered(&arena, 4, "u1", "o1"));
    assert_param(plan, "orders_insert", 2, "{\"delivered\"}");
    assert_param(plan, "orders_insert", 6, "{1004}");
    assert_param(plan, "order_history", 1, "{\"placed\",\"paid\",\"shipped\",\"delivered\"}");
    assert_param(plan, "order_history", 2, "{1001,1002,1003,1004}");
}

Test(proj, cancel_after_ship_is_refused_and_recorded)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), ev_paid(&arena, 2, "u1", "o1"),
         ev_shipped(&arena, 3, "u1", "o1"), ev_cancelled(&arena, 4, "u1", "o1"));
    cr_assert(eq(sz, shop_proj_fold_stats(f)->refused, 1));
    cr_assert(eq(sz, shop_proj_fold_stats(f)->refused_by[SHOP_PROJ_REFUSE_ILLEGAL], 1));
    assert_param(plan, "orders_insert", 2, "{\"shipped\"}");
    assert_param(plan, "order_history", 1, "{\"placed\",\"paid\",\"shipped\"}");
    assert_param(plan, "products_upsert", 6, "{2,3}");      /* purchases not returned */
    assert_param(plan, "refused_insert", 0, "{\"00000000-0000-4000-8000-000000000004\"}");
    assert_param(plan, "refused_insert", 9, "{\"illegal_transition\"}");
    assert_param(plan, "refused_insert", 10, "{\"shipped\"}");
}

Test(proj, cancel_returns_purchases)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), ev_paid(&arena, 2, "u1", "o1"),
         ev_cancelled(&arena, 3, "u1", "o1"));
    assert_param(plan, "orders_insert", 2, "{\"cancelled\"}");
    assert_param(plan, "products_upsert", 6, "{0,0}");
}

Test(proj, status_never_regresses_and_every_refusal_is_counted)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), ev_shipped(&arena, 2, "u1", "o1"),
         ev_paid(&arena, 3, "u1", "o1"), ev_paid(&arena, 4, "u1", "o1"), ev_shipped(&arena, 5, "u1", "o1"),
         ev_delivered(&arena, 6, "u1", "o1"), ev_cancelled(&arena, 7, "u1", "o1"),
         ev_placed(&arena, 8, "u1", "o1", 2, P12, Q23));
    const struct shop_proj_stats *st = shop_proj_fold_stats(f);
    cr_assert(eq(sz, st->refused, 4));
    cr_assert(eq(sz, st->refused_by[SHOP_PROJ_REFUSE_ILLEGAL], 3));   /* ship unpaid, pay twice, cancel delivered */
    cr_assert(eq(sz, st->refused_by[SHOP_PROJ_REFUSE_ORDER_EXISTS], 1));
    assert_param(plan, "orders_insert", 2, "{\"delivered\"}");
    assert_param(plan, "order_history", 1, "{\"placed\",\"paid\",\"shipped\",\"delivered\"}");
    assert_param(plan, "products_upsert", 6, "{2,3}");      /* placed once */
    assert_param(plan, "refused_insert", 9,
                 "{\"illegal_transition\",\"illegal_transition\",\"illegal_transition\",\"order_exists\"}");
    assert_param(plan, "refused_insert", 10, "{\"placed\",\"paid\",\"delivered\",\"delivered\"}");
}

Test(proj, known_order_from_the_database_is_updated_and_cancel_uses_its_lines)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    shop_proj_fold_known_order(f, "o9", "paid", "u1", "p1", 4);
    shop_proj_fold_known_order(f, "o9", "paid", "u1", "p2", 1);
    Shopstream__V1__Event *evs[] = {ev_cancelled(&arena, 1, "u1", "o9")};
    struct shop_plan *plan = plan_of(f, evs, 1);
    assert_absent(plan, "orders_insert");
    assert_param(plan, "orders_update", 0, "{\"o9\"}");
    assert_param(plan, "orders_update", 1, "{\"cancelled\"}");
    assert_param(plan, "products_upsert", 0, "{\"p1\",\"p2\"}");
    assert_param(plan, "products_upsert", 6, "{-4,-1}");
}

Test(proj, known_order_refusals_change_nothing_but_their_records)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    shop_proj_fold_known_order(f, "o9", "delivered", "u1", "p1", 4);
    Shopstream__V1__Event *evs[] = {ev_cancelled(&arena, 1, "u1", "o9"), ev_paid(&arena, 2, "u1", "o9"),
                                    ev_paid(&arena, 3, "u1", "o404"),
                                    ev_placed(&arena, 4, "u1", "o9", 2, P12, Q23)};
    struct shop_plan *plan = plan_of(f, evs, 4);
    const struct shop_proj_stats *st = shop_proj_fold_stats(f);
    cr_assert(eq(sz, st->refused_by[SHOP_PROJ_REFUSE_ILLEGAL], 2));
    cr_assert(eq(sz, st->refused_by[SHOP_PROJ_REFUSE_UNKNOWN_ORDER], 1));
    cr_assert(eq(sz, st->refused_by[SHOP_PROJ_REFUSE_ORDER_EXISTS], 1));
    cr_assert(eq(int, plan->n, 1));
    assert_param(plan, "refused_insert", 8, "{\"o9\",\"o9\",\"o404\",\"o9\"}");
    assert_param(plan, "refused_insert", 9,
                 "{\"illegal_transition\",\"illegal_transition\",\"unknown_order\",\"order_exists\"}");
    assert_param(plan, "refused_insert", 10, "{\"delivered\",\"delivered\",\"none\",\"delivered\"}");
}

/* ---- dedup, order read, offsets ---------------------------------------------------- */

#define MIN_MS INT64_C(60000)

Test(proj, dedup_of_dead_letters_only_runs_nothing)
{
    struct shop_proj_record recs[] = {{NULL, "t", 0, 1}, {NULL, "t", 0, 2}};
    struct shop_sql_stmt st;
    bool is_new[2] = {true, true};
    struct shop_proj_dedup d = {.projector = "7", .bucket_ms = MIN_MS, .window_ms = MIN_MS};
    cr_assert(eq(sz, shop_proj_mark_unapplied(recs, 2, NULL, 0, &arena, is_new), 0));
    cr_assert(not(is_new[0]));
    cr_assert(not(is_new[1]));
    cr_assert(eq(sz, shop_proj_build_applied_insert(&d, recs, is_new, 2, &arena, &st), 0));
}

Test(proj, bucket_is_receipt_time_over_width)
{
    cr_assert(eq(i32, shop_proj_bucket(0, MIN_MS), 0));
    cr_assert(eq(i32, shop_proj_bucket(MIN_MS - 1, MIN_MS), 0));
    cr_assert(eq(i32, shop_proj_bucket(MIN_MS, MIN_MS), 1));
    cr_assert(eq(i32, shop_proj_bucket(-5, MIN_MS), 0));
    cr_assert(eq(i32, shop_proj_bucket(INT64_MAX, MIN_MS), INT32_MAX - 1), "far-off times stay an int");
}
Test(proj, mark_unapplied_marks_first_occurrence_of_ids_not_applied_before)
{
    Shopstream__V1__Event *a = ev_view(&arena, 1, "u1", "p1"), *b = ev_view(&arena, 2, "u1", "p1"),
                          *c = ev_view(&arena, 3, "u1", "p1");
    struct shop_proj_record recs[] = {{a, "t", 0, 1}, {NULL, "t", 0, 2}, {a, "t", 0, 3}, {b, "t", 0, 4},
                                      {c, "t", 0, 5}, {c, "t", 1, 9}};
    const char *applied[] = {"00000000-0000-4000-8000-000000000002"};   /* b was applied before */
    bool is_new[6];
    cr_assert(eq(sz, shop_proj_mark_unapplied(recs, 6, applied, 1, &arena, is_new), 2));
    cr_assert(is_new[0]);
    cr_assert(not(is_new[1]));
    cr_assert(not(is_new[2]));        /* a retry of a inside the batch */
    cr_assert(not(is_new[3]));
    cr_assert(is_new[4]);
    cr_assert(not(is_new[5]));
}

Test(proj, applied_insert_has_one_row_per_new_record_with_its_bucket)
{
    Shopstream__V1__Event *a = ev_view(&arena, 1, "u1", "p1"), *b = ev_view(&arena, 2, "u1", "p1");
    a->received_at_ms = 10 * MIN_MS + 5;
    b->received_at_ms = 10 * MIN_MS + 900;
    struct shop_proj_record recs[] = {{a, "t.browse", 0, 10}, {NULL, "t.browse", 0, 11}, {b, "t.cart", 3, 7}};
    bool is_new[] = {true, false, true};
    struct shop_proj_dedup d = {.projector = "7", .bucket_ms = MIN_MS, .window_ms = MIN_MS};
    struct shop_sql_stmt st;
    cr_assert(eq(sz, shop_proj_build_applied_insert(&d, recs, is_new, 3, &arena, &st), 2));
    cr_assert(eq(str, (char *)st.sql, (char *)SHOP_PROJ_SQL_APPLIED_INSERT));
    cr_assert(eq(ptr, strstr(st.sql, "on conflict"), NULL), "the key must refuse a copy in the own bucket");
    cr_assert(eq(int, st.n_params, 7));
    cr_assert(eq(str, (char *)st.params[0], "7"));
    cr_assert(eq(str, (char *)st.params[1],
                 "{\"00000000-0000-4000-8000-000000000001\",\"00000000-0000-4000-8000-000000000002\"}"));
    cr_assert(eq(str, (char *)st.params[2], "{10,10}"));
    /* Own bucket 10 left to the key; the window reaches 9 and 11. */
    cr_assert(eq(str, (char *)st.params[3], "9"));
    cr_assert(eq(str, (char *)st.params[4], "9"));
    cr_assert(eq(str, (char *)st.params[5], "11"));
    cr_assert(eq(str, (char *)st.params[6], "11"));
}

Test(proj, applied_insert_probes_every_bucket_of_the_window)
{
    /* A week's window over one-day buckets: a retry six days later must find the first
     * copy six buckets back, so the lookup covers them all. */
    const int64_t day = INT64_C(86400000);
    Shopstream__V1__Event *a = ev_view(&arena, 1, "u1", "p1");
    a->received_at_ms = 100 * day + 10;
    struct shop_proj_record recs[] = {{a, "t", 0, 1}};
    bool is_new[] = {true};
    struct shop_proj_dedup d = {.projector = "7", .bucket_ms = day, .window_ms = 7 * day};
    struct shop_sql_stmt st;
    cr_assert(eq(sz, shop_proj_build_applied_insert(&d, recs, is_new, 1, &arena, &st), 1));
    cr_assert(eq(str, (char *)st.params[3], "93"));
    cr_assert(eq(str, (char *)st.params[4], "99"));
    /* Ahead only the edges' clock skew: still bucket 100, so nothing after it. */
    cr_assert(eq(str, (char *)st.params[5], "101"));
    cr_assert(eq(str, (char *)st.params[6], "100"));
    /* Near the end of a bucket the skew reaches into the next one. */
    a->received_at_ms = 101 * day - 1000;
    cr_assert(eq(sz, shop_proj_build_applied_insert(&d, recs, is_new, 1, &arena, &st), 1));
    cr_assert(eq(str, (char *)st.params[5], "101"));
    cr_assert(eq(str, (char *)st.params[6], "101"));
}

Test(proj, applied_insert_probes_the_own_bucket_after_a_conflict_or_across_buckets)
{
    Shopstream__V1__Event *a = ev_view(&arena, 1, "u1", "p1"), *b = ev_view(&arena, 2, "u1", "p1");
    a->received_at_ms = 10 * MIN_MS + 5;
    b->received_at_ms = 11 * MIN_MS + 5;
    struct shop_proj_record recs[] = {{a, "t", 0, 1}, {b, "t", 0, 2}};
    bool is_new[] = {true, false};
    struct shop_proj_dedup d = {.projector = "7", .bucket_ms = MIN_MS, .window_ms = MIN_MS, .probe_own = true};
    struct shop_sql_stmt st;
    cr_assert(eq(sz, shop_proj_build_applied_insert(&d, recs, is_new, 2, &arena, &st), 1));
    cr_assert(eq(str, (char *)st.params[3], "9"));
    cr_assert(eq(str, (char *)st.params[4], "11"));
    cr_assert(eq(str, (char *)st.params[5], "1"), "second range empty");
    cr_assert(eq(str, (char *)st.params[6], "0"));
    /* Two buckets in one batch: b's first copy may be in a's bucket, so no bucket is left out. */
    is_new[1] = true;
    d.probe_own = false;
    cr_assert(eq(sz, shop_proj_build_applied_insert(&d, recs, is_new, 2, &arena, &st), 2));
    cr_assert(eq(str, (char *)st.params[2], "{10,11}"));
    cr_assert(eq(str, (char *)st.params[3], "9"));
    cr_assert(eq(str, (char *)st.params[4], "12"));
    cr_assert(eq(str, (char *)st.params[5], "1"));
    cr_assert(eq(str, (char *)st.params[6], "0"));
}

Test(proj, dedup_span_keeps_window_and_grace_behind_the_mark)
{
    const int64_t day = INT64_C(86400000);
    struct shop_proj_dedup_span sp;
    shop_proj_dedup_span(20 * day + 5, 30 * day, day, 7 * day, day, &sp);
    cr_assert(eq(i32, sp.from, 20));
    cr_assert(eq(i32, sp.to, 21));
    cr_assert(eq(i32, sp.drop_before, 12), "a retry received from day 19 on looks back to day 12");
    /* A mark ahead of the clock (a skewed edge) counts only up to the clock. */
    shop_proj_dedup_span(40 * day, 30 * day + 1, day, 7 * day, day, &sp);
    cr_assert(eq(i32, sp.from, 30));
    cr_assert(eq(i32, sp.drop_before, 22));
    /* Early times never drop below bucket 0. */
    shop_proj_dedup_span(day, 30 * day, day, 7 * day, day, &sp);
    cr_assert(eq(i32, sp.drop_before, 0));
}

Test(proj, order_read_names_each_order_of_new_events_once)
{
    Shopstream__V1__Event *a = ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), *b = ev_paid(&arena, 2, "u1", "o1"),
                          *c = ev_paid(&arena, 3, "u1", "o2"), *d = ev_view(&arena, 4, "u1", "p1"),
                          *e = ev_paid(&arena, 5, "u1", "o3"), *g = ev_reserved(&arena, 6, "u1", "o4", "p1", 1),
                          *h = ev_rejected(&arena, 7, "u1", "o1", "out_of_stock", "p1", 2, 0, 100);
    struct shop_proj_record recs[] = {{a, "t", 0, 1}, {b, "t", 0, 2}, {c, "t", 0, 3}, {d, "t", 0, 4},
                                      {e, "t", 0, 5}, {g, "i", 0, 1}, {h, "i", 0, 2}};
    bool is_new[] = {true, true, true, true, false, true, true};
    struct shop_sql_stmt st[2];
    cr_assert(eq(sz, shop_proj_build_order_read(recs, is_new, 7, &arena, st), 3));
    cr_assert(eq(str, (char *)st[0].name, "order_gate"));
    cr_assert(eq(str, (char *)st[0].params[0], "{\"o1\",\"o4\"}"));   /* placed or decided */
    cr_assert(eq(str, (char *)st[1].name, "order_read"));
    cr_assert(eq(str, (char *)st[1].params[0], "{\"o1\",\"o2\",\"o4\"}"));
}

Test(proj, the_gate_is_opened_again_before_the_offsets)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    shop_proj_fold_gated(f, "{\"o1\"}");
    shop_proj_fold_offset(f, "t.order", 0, 2);
    Shopstream__V1__Event *evs[] = {ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23)};
    struct shop_plan *plan = plan_of(f, evs, 1);
    cr_assert(eq(str, (char *)plan->stmts[plan->n - 2].name, "order_ungate"));
    cr_assert(eq(str, (char *)plan->stmts[plan->n - 2].params[0], "{\"o1\"}"));
    cr_assert(eq(str, (char *)plan->stmts[plan->n - 1].name, "offsets"));
    struct shop_proj_fold *g = shop_proj_fold_new(&arena);
    shop_proj_fold_gated(g, "{}");
    struct shop_plan *p2 = plan_of(g, evs, 1);
    for (int i = 0; i < p2->n; i++)
        cr_assert(not(eq(str, (char *)p2->stmts[i].name, "order_ungate")));
}

Test(proj, offsets_keep_the_highest_per_partition_and_come_last)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    shop_proj_fold_offset(f, "t.cart", 0, 11);
    shop_proj_fold_offset(f, "t.cart", 1, 4);
    shop_proj_fold_offset(f, "t.cart", 0, 13);
    shop_proj_fold_offset(f, "t.order", 0, 2);
    Shopstream__V1__Event *evs[] = {ev_add(&arena, 1, "u1", "p1", 1, -1)};
    struct shop_plan *plan = plan_of(f, evs, 1);
    const struct shop_sql_stmt *st = &plan->stmts[plan->n - 1];
    cr_assert(eq(str, (char *)st->name, "offsets"));
    cr_assert(eq(str, (char *)st->params[0], "g"));
    cr_assert(eq(str, (char *)st->params[1], "{\"t.cart\",\"t.cart\",\"t.order\"}"));
    cr_assert(eq(str, (char *)st->params[2], "{0,1,0}"));
    cr_assert(eq(str, (char *)st->params[3], "{13,4,2}"));
    cr_assert(eq(str, (char *)st->params[4], "42"));
}

Test(proj, statement_order_puts_orders_before_their_lines)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), ev_add(&arena, 2, "u1", "p1", 1, -1),
         ev_clear(&arena, 3, "u1"), ev_remove(&arena, 4, "u1", "p3"), ev_set(&arena, 5, "u1", "p4", 2),
         ev_add(&arena, 6, "u1", "p5", 1, -1));
    const char *want[] = {"products_lock", "products_upsert", "cart_clear", "cart_delete", "cart_set",
                          "cart_add", "carts_touch", "orders_insert", "order_lines_copy", "order_history",
                          "user_activity", "funnel"};
    cr_assert(eq(int, plan->n, 12));
    for (int i = 0; i < plan->n; i++)
        cr_assert(eq(str, (char *)plan->stmts[i].name, (char *)want[i]));
    for (int i = 0; i < plan->n; i++)
        cr_assert(eq(ptr, strstr(plan->stmts[i].sql, "u1"), NULL), "values never reach SQL text");
    for (int i = 0; i < plan->n; i++)
        cr_assert(eq(int, plan->stmts[i].copy_data != NULL, strncmp(plan->stmts[i].sql, "copy ", 5) == 0));
}
