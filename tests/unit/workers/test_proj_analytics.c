/* SPDX-License-Identifier: MIT
 * The projector's activity and analytics effects (0009_analytics.sql): what the fold
 * notes per user, product day and funnel stage, the sales sign of orders reaching or
 * leaving paid, the category moves, and where the statements sit in the plan.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "ev_fixture.h"
#include "workers/core/proj.h"
#include "workers/core/proj_internal.h"

static struct shop_arena arena = SHOP_ARENA_INIT;

static void teardown(void)
{
    shop_arena_fini(&arena);
}

TestSuite(proj_analytics, .fini = teardown);

static const char *const P12[] = {"p1", "p2"};
static const int Q23[] = {2, 3};
#define DAY INT64_C(86400000)

static struct shop_plan *plan_of(struct shop_proj_fold *f, Shopstream__V1__Event **evs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        shop_proj_fold_event(f, evs[i]);
    struct shop_plan *plan = shop_arena_alloc(&arena, sizeof(*plan));
    cr_assert(eq(int, shop_proj_plan_build(f, "g", 42, plan, NULL), 0));
    return plan;
}

static int stmt_index(const struct shop_plan *plan, const char *name)
{
    for (int i = 0; i < plan->n; i++) {
        if (strcmp(plan->stmts[i].name, name) == 0)
            return i;
    }
    return -1;
}

static void assert_param(const struct shop_plan *plan, const char *name, int i, const char *want)
{
    int k = stmt_index(plan, name);
    cr_assert(ge(int, k, 0), "no statement %s", name);
    cr_assert(lt(int, i, plan->stmts[k].n_params));
    cr_assert(eq(str, (char *)plan->stmts[k].params[i], (char *)want), "%s $%d: %s", name, i + 1, plan->stmts[k].params[i]);
}

static void assert_absent(const struct shop_plan *plan, const char *name)
{
    cr_assert(eq(int, stmt_index(plan, name), -1), "unexpected statement %s", name);
}

static Shopstream__V1__Event *at(Shopstream__V1__Event *ev, int64_t at_ms)
{
    ev->occurred_at_ms = at_ms;
    return ev;
}

static Shopstream__V1__Event *with_category(Shopstream__V1__Event *ev, const char *category)
{
    ev->product_upserted->category = (char *)category;
    return ev;
}

#define FOLD_INTO(f, ...)                                                                          \
    Shopstream__V1__Event *evs[] = {__VA_ARGS__};                                                  \
    struct shop_plan *plan = plan_of(f, evs, sizeof(evs) / sizeof(evs[0]))
#define FOLD(...)                                                                                  \
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);                                         \
    FOLD_INTO(f, __VA_ARGS__)

Test(proj_analytics, utc_days_round_down)
{
    cr_assert(eq(i32, proj_utc_day(0), 0));
    cr_assert(eq(i32, proj_utc_day(DAY - 1), 0));
    cr_assert(eq(i32, proj_utc_day(DAY), 1));
    cr_assert(eq(i32, proj_utc_day(-1), -1));
    cr_assert(eq(i32, proj_utc_day(-DAY), -1));
    cr_assert(eq(i32, proj_utc_day(INT64_C(1700000000000)), 19675));   /* 2023-11-14 */
}

Test(proj_analytics, activity_counts_the_users_own_events_and_their_span)
{
    FOLD(at(ev_view(&arena, 1, "u1", "p1"), 5000), at(ev_search(&arena, 2, "u1"), 3000),
         at(ev_add(&arena, 3, "u1", "p1", 1, -1), 9000), at(ev_set(&arena, 4, "u1", "p1", 3), 12000),
         at(ev_view(&arena, 5, "u2", "p1"), 7000),
         at(ev_placed(&arena, 6, "u1", "o1", 2, P12, Q23), 8000),
         at(ev_as(ev_paid(&arena, 7, "u1", "o1"), "service", "pay"), 20000));   /* a step: not seen */
    assert_param(plan, "user_activity", 0, "{\"u1\",\"u2\"}");
    assert_param(plan, "user_activity", 1, "{1,1}");         /* views */
    assert_param(plan, "user_activity", 2, "{1,0}");         /* searches */
    assert_param(plan, "user_activity", 3, "{1,0}");         /* cart adds */
    assert_param(plan, "user_activity", 4, "{1,0}");         /* orders placed */
    assert_param(plan, "user_activity", 5, "{3000,7000}");   /* first seen */
    assert_param(plan, "user_activity", 6, "{12000,7000}");  /* last seen: the set, not the payment */
    cr_assert(eq(sz, shop_proj_fold_stats(f)->no_projection, 0), "a search is applied now");
}

Test(proj_analytics, a_refused_placement_counts_nothing)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), ev_placed(&arena, 2, "u1", "o1", 2, P12, Q23));
    assert_param(plan, "user_activity", 4, "{1}");
    assert_param(plan, "funnel", 0, "{\"placed\"}");
    assert_param(plan, "funnel", 3, "{1}");
}

Test(proj_analytics, views_per_product_and_utc_day)
{
    FOLD(at(ev_view(&arena, 1, "u1", "p1"), DAY - 1), at(ev_view(&arena, 2, "u2", "p1"), DAY),
         at(ev_view(&arena, 3, "u1", "p1"), DAY + 5), at(ev_view(&arena, 4, "u1", "p2"), 10));
    assert_param(plan, "product_views", 0, "{\"p1\",\"p1\",\"p2\"}");
    assert_param(plan, "product_views", 1, "{0,1,0}");
    assert_param(plan, "product_views", 2, "{1,2,1}");
}

Test(proj_analytics, funnel_stages_per_day_and_user)
{
    FOLD(at(ev_view(&arena, 1, "u1", "p1"), 10), at(ev_view(&arena, 2, "u1", "p2"), 20),
         at(ev_add(&arena, 3, "u1", "p1", 1, -1), DAY + 1), at(ev_remove(&arena, 4, "u1", "p1"), DAY + 2),
         at(ev_placed(&arena, 5, "u2", "o1", 2, P12, Q23), 2 * DAY));
    assert_param(plan, "funnel", 0, "{\"viewed\",\"carted\",\"placed\"}");
    assert_param(plan, "funnel", 1, "{0,1,2}");
    assert_param(plan, "funnel", 2, "{\"u1\",\"u1\",\"u2\"}");
    assert_param(plan, "funnel", 3, "{2,1,1}");
}

Test(proj_analytics, placed_and_paid_in_one_batch_is_a_sale_on_the_payment_day)
{
    FOLD(at(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), 10),
         at(ev_as(ev_paid(&arena, 2, "u1", "o1"), "service", "pay"), DAY + 7),
         at(ev_as(ev_shipped(&arena, 3, "u1", "o1"), "service", "ship"), 2 * DAY));   /* still sold */
    /* summed by the fold, which holds the lines and the total: no lookup of stored rows */
    assert_absent(plan, "sales");
    assert_param(plan, "sales_folded", 0, "{\"u1\"}");   /* user_spend */
    assert_param(plan, "sales_folded", 1, "{\"GBP\"}");
    assert_param(plan, "sales_folded", 2, "{500}");
    assert_param(plan, "sales_folded", 3, "{1}");
    assert_param(plan, "sales_folded", 4, "{\"p1\",\"p2\"}");   /* product_daily_revenue, category_daily */
    assert_param(plan, "sales_folded", 5, "{1,1}");
    assert_param(plan, "sales_folded", 6, "{\"GBP\",\"GBP\"}");
    assert_param(plan, "sales_folded", 7, "{200,300}");
    assert_param(plan, "product_views", 0, "{\"p1\",\"p2\"}");  /* units beside the (no) views */
    assert_param(plan, "product_views", 1, "{1,1}");
    assert_param(plan, "product_views", 2, "{0,0}");
    assert_param(plan, "product_views", 3, "{2,3}");
    assert_param(plan, "funnel", 0, "{\"placed\",\"paid\"}");
    assert_param(plan, "funnel", 1, "{0,1}");
    assert_param(plan, "funnel", 2, "{\"u1\",\"u1\"}");
    assert_param(plan, "funnel", 3, "{1,1}");
    assert_param(plan, "products_lock", 0, "{\"p1\",\"p2\"}");
    int sales = stmt_index(plan, "sales_folded"), upsert = stmt_index(plan, "products_upsert");
    cr_assert(gt(int, sales, upsert), "the category is the one the batch leaves");
}

Test(proj_analytics, folded_sales_share_rows_with_views_and_sum_per_day_product_and_currency)
{
    static const char *const P1[] = {"p1"};
    static const int Q1[] = {4};
    FOLD(at(ev_view(&arena, 1, "u1", "p1"), DAY + 1), at(ev_view(&arena, 2, "u1", "p3"), DAY + 2),
         ev_placed(&arena, 3, "u1", "o1", 2, P12, Q23), at(ev_as(ev_paid(&arena, 4, "u1", "o1"), "service", "pay"), DAY + 3),
         ev_placed(&arena, 5, "u1", "o2", 1, P1, Q1), at(ev_as(ev_paid(&arena, 6, "u1", "o2"), "service", "pay"), DAY + 4));
    assert_param(plan, "product_views", 0, "{\"p1\",\"p2\",\"p3\"}");   /* in key order */
    assert_param(plan, "product_views", 1, "{1,1,1}");
    assert_param(plan, "product_views", 2, "{1,0,1}");
    assert_param(plan, "product_views", 3, "{6,3,0}");
    assert_param(plan, "sales_folded", 0, "{\"u1\"}");
    assert_param(plan, "sales_folded", 2, "{900}");
    assert_param(plan, "sales_folded", 3, "{2}");
    assert_param(plan, "sales_folded", 4, "{\"p1\",\"p2\"}");
    assert_param(plan, "sales_folded", 7, "{600,300}");
    assert_param(plan, "funnel", 0, "{\"viewed\",\"placed\",\"paid\"}");
    assert_param(plan, "funnel", 3, "{2,2,2}");
}

Test(proj_analytics, an_order_placed_earlier_and_paid_now_is_summed_from_its_stored_rows)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    shop_proj_fold_known_order(f, "o9", "confirmed", "u1", "p1", 2);
    FOLD_INTO(f, at(ev_as(ev_paid(&arena, 1, "u1", "o9"), "service", "pay"), DAY));
    assert_param(plan, "sales", 0, "{\"o9\"}");
    assert_param(plan, "sales", 1, "{1}");
    assert_param(plan, "sales", 2, "{86400000}");
    assert_absent(plan, "sales_folded");
}

Test(proj_analytics, paid_then_cancelled_in_one_batch_nets_to_nothing)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), ev_as(ev_paid(&arena, 2, "u1", "o1"), "service", "pay"),
         ev_as(ev_cancelled(&arena, 3, "u1", "o1"), "shopper", "u1"));
    assert_absent(plan, "sales");
    assert_absent(plan, "sales_folded");
    assert_absent(plan, "jit_off");   /* no sale is left to sum */
}

/* Every projector of a group writes the popular products: a transaction that locked some
 * rows first and others later in the upsert deadlocked with another's upsert (40P01,
 * integration.scale.projector). All of them go in one sorted lock before anything else. */
Test(proj_analytics, every_product_the_batch_writes_is_locked_first_and_upserted_in_order)
{
    FOLD(ev_view(&arena, 1, "u1", "p9"), ev_add(&arena, 2, "u1", "p1", 1, -1), ev_view(&arena, 3, "u2", "p5"),
         ev_view(&arena, 4, "u2", "p1"), ev_view(&arena, 5, "u3", "p9"));
    int lock = stmt_index(plan, "products_lock"), upsert = stmt_index(plan, "products_upsert");
    cr_assert(eq(int, lock, 0), "the lock comes first");
    cr_assert(gt(int, upsert, lock));
    const char *locked = plan->stmts[lock].params[0];   /* in the fold's order: the procedure sorts */
    cr_assert(eq(sz, strlen(locked), strlen("{\"p1\",\"p5\",\"p9\"}")), "%s", locked);
    cr_assert(strstr(locked, "\"p1\"") != NULL && strstr(locked, "\"p5\"") != NULL &&
              strstr(locked, "\"p9\"") != NULL, "%s", locked);
    assert_param(plan, "products_upsert", 0, "{\"p1\",\"p5\",\"p9\"}");
    assert_param(plan, "products_upsert", 5, "{1,1,2}");   /* views follow their products */
    assert_absent(plan, "jit_off");
}

Test(proj_analytics, a_paid_order_cancelled_later_is_taken_back_on_its_payment_day)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    shop_proj_fold_known_order(f, "o9", "shipped", "u1", "p1", 2);
    shop_proj_fold_known_order(f, "o9", "shipped", "u1", "p2", 3);
    FOLD_INTO(f, ev_rejected(&arena, 1, "u1", "o9", "out_of_stock", "p1", 2, 1, 100));
    assert_param(plan, "sales", 0, "{\"o9\"}");
    assert_param(plan, "sales", 1, "{-1}");
    assert_param(plan, "sales", 2, "{NULL}");   /* the day of its history's paid row */
    assert_param(plan, "products_lock", 0, "{\"p1\",\"p2\"}");
}

Test(proj_analytics, steps_that_keep_paid_or_never_reach_it_sell_nothing)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    shop_proj_fold_known_order(f, "o8", "paid", "u1", "p1", 1);
    shop_proj_fold_known_order(f, "o7", "placed", "u1", "p1", 1);
    shop_proj_fold_known_order(f, "o6", "cancelled", "u1", "p1", 1);
    FOLD_INTO(f, ev_as(ev_shipped(&arena, 1, "u1", "o8"), "service", "ship"),
              ev_reserved(&arena, 2, "u1", "o8", "p1", 1),                              /* a note */
              ev_as(ev_cancelled(&arena, 3, "u1", "o7"), "shopper", "u1"),
              ev_rejected(&arena, 4, "u1", "o6", "out_of_stock", "p1", 2, 1, 100),               /* cancelled -> rejected */
              ev_as(ev_paid(&arena, 5, "u1", "o6"), "service", "pay"));          /* refused */
    assert_absent(plan, "sales");
}

Test(proj_analytics, a_category_change_moves_the_products_rows_before_the_upsert)
{
    FOLD(with_category(ev_upsert(&arena, 1, "p1", "Sock", 250, 0), "socks"),
         ev_upsert(&arena, 2, "p2", "Hat", 300, 0), ev_view(&arena, 3, "u1", "p3"));
    assert_param(plan, "products_lock", 0, "{\"p1\",\"p2\",\"p3\"}");   /* p3's views too */
    assert_param(plan, "category_move", 0, "{\"p1\",\"p2\"}");
    assert_param(plan, "category_move", 1, "{\"socks\",\"\"}");   /* none: '' as in category_daily */
    int lock = stmt_index(plan, "products_lock"), move = stmt_index(plan, "category_move");
    int upsert = stmt_index(plan, "products_upsert");
    cr_assert(eq(int, lock, 0), "the lock comes first: later statements see what it waited for");
    cr_assert(lt(int, move, upsert), "the move reads the old category");
}

Test(proj_analytics, the_last_category_of_the_batch_wins)
{
    FOLD(with_category(ev_upsert(&arena, 1, "p1", "Sock", 250, 0), "socks"),
         with_category(ev_upsert(&arena, 2, "p1", "Sock", 250, 0), "hats"));
    assert_param(plan, "category_move", 1, "{\"hats\"}");
}

Test(proj_analytics, statements_fit_the_plan)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    shop_proj_fold_known_order(f, "o9", "paid", "u1", "p1", 2);
    FOLD_INTO(f, with_category(ev_upsert(&arena, 1, "p1", "Sock", 250, 0), "socks"), ev_view(&arena, 2, "u1", "p1"),
              ev_add(&arena, 3, "u1", "p1", 1, -1), ev_clear(&arena, 4, "u1"), ev_remove(&arena, 5, "u1", "p3"),
              ev_set(&arena, 6, "u1", "p4", 2), ev_placed(&arena, 7, "u1", "o1", 2, P12, Q23),
              ev_as(ev_cancelled(&arena, 8, "u1", "o9"), "shopper", "u1"), ev_placed(&arena, 9, "u1", "o1", 2, P12, Q23),
              ev_reserved(&arena, 10, "u1", "o404", "p1", 1), ev_placed(&arena, 11, "u1", "o2", 2, P12, Q23),
              ev_as(ev_paid(&arena, 12, "u1", "o2"), "service", "pay"));
    shop_proj_fold_offset(f, "t", 0, 10);
    cr_assert(shop_proj_plan_build(f, "g", 42, plan, NULL) == 0);
    cr_assert(ge(int, stmt_index(plan, "sales"), 0));
    cr_assert(ge(int, stmt_index(plan, "sales_folded"), 0));
    cr_assert(ge(int, stmt_index(plan, "jit_off"), 0));
    cr_assert(lt(int, plan->n, SHOP_PLAN_STMTS_MAX), "room for the commit");
    for (int i = 0; i < plan->n; i++)
        cr_assert(eq(ptr, strstr(plan->stmts[i].sql, "u1"), NULL), "values never reach SQL text");
}

Test(proj_analytics, no_jit_for_a_batch_with_sales_or_category_moves)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), ev_as(ev_paid(&arena, 2, "u1", "o1"), "service", "pay"));
    int jit = stmt_index(plan, "jit_off"), sales = stmt_index(plan, "sales_folded");
    cr_assert(ge(int, jit, 0), "no jit_off");
    cr_assert(eq(str, (char *)plan->stmts[jit].sql, (char *)SHOP_PROJ_SQL_JIT_OFF));
    cr_assert(lt(int, jit, sales), "compiling the sales statement cost more than running it");
    cr_assert(eq(int, stmt_index(plan, "products_lock"), 0));
}

Test(proj_analytics, jit_stays_for_a_batch_without_them)
{
    FOLD(ev_view(&arena, 1, "u1", "p3"));
    assert_absent(plan, "jit_off");
}
