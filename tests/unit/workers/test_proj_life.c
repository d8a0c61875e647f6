/* SPDX-License-Identifier: MIT
 * The projector's order life cycle (issue 7): the inventory's decisions, the ownership
 * rule, refusals with their reasons, and decisions that arrive before their order.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdint.h>
#include <string.h>

#include "ev_fixture.h"
#include "workers/core/proj.h"

static struct shop_arena arena = SHOP_ARENA_INIT;

static void teardown(void)
{
    shop_arena_fini(&arena);
}

TestSuite(proj_life, .fini = teardown);

static const char *const P12[] = {"p1", "p2"};
static const int Q23[] = {2, 3};

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
    for (int i = 0; i < plan->n; i++)
        if (strcmp(plan->stmts[i].name, name) == 0)
            return &plan->stmts[i];
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

/* A known order of u1 with lines p1 x2, p2 x3, in status. */
static struct shop_proj_fold *known(const char *status)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    shop_proj_fold_known_order(f, "o9", status, "u1", "p1", 2);
    shop_proj_fold_known_order(f, "o9", status, "u1", "p2", 3);
    return f;
}

#define REJ_JSON                                                                                    \
    "{\"lines\":[{\"available\":1,\"catalog_price\":{\"amount_minor\":120,\"currency\":\"GBP\"},"  \
    "\"product_id\":\"p1\",\"requested\":2}],\"reason\":\"out_of_stock\"}"

/* ---- the inventory's decisions --------------------------------------------------- */

Test(proj_life, reservation_confirms_a_placed_order)
{
    FOLD(ev_as(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), "shopper", "u1"),
         ev_reserved(&arena, 2, "u1", "o1", "p1", 2));
    assert_param(plan, "orders_insert", 2, "{\"confirmed\"}");
    assert_param(plan, "orders_insert", 6, "{1002}");
    assert_param(plan, "orders_insert", 7, "{NULL}");
    assert_param(plan, "order_history", 1, "{\"placed\",\"confirmed\"}");
    assert_param(plan, "order_history", 3,
                 "{\"00000000-0000-4000-8000-000000000001\",\"00000000-0000-4000-8000-000000000002\"}");
    assert_absent(plan, "refused_insert");
}

Test(proj_life, rejection_stores_its_detail_and_returns_purchases)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23),
         ev_rejected(&arena, 2, "u1", "o1", "out_of_stock", "p1", 2, 1, 120));
    assert_param(plan, "orders_insert", 2, "{\"rejected\"}");
    /* The JSON travels as one quoted element of a jsonb[] literal. */
    assert_param(plan, "orders_insert", 7,
                 "{\"{\\\"lines\\\":[{\\\"available\\\":1,\\\"catalog_price\\\":{\\\"amount_minor\\\":120,"
                 "\\\"currency\\\":\\\"GBP\\\"},\\\"product_id\\\":\\\"p1\\\",\\\"requested\\\":2}],"
                 "\\\"reason\\\":\\\"out_of_stock\\\"}\"}");
    assert_param(plan, "order_history", 1, "{\"placed\",\"rejected\"}");
    assert_param(plan, "products_upsert", 6, "{0,0}");   /* a rejected order counts no purchases */
}

Test(proj_life, rejection_of_an_unknown_product_has_no_catalog_price)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23),
         ev_rejected(&arena, 2, "u1", "o1", "unknown_product", "p2", 3, 0, -1));
    const struct shop_sql_stmt *st = stmt(plan, "orders_insert");
    cr_assert(not(eq(ptr, strstr(st->params[7], "\\\"catalog_price\\\":null"), NULL)), "%s", st->params[7]);
    cr_assert(not(eq(ptr, strstr(st->params[7], "unknown_product"), NULL)));
}

Test(proj_life, decision_for_a_known_order_updates_it)
{
    struct shop_proj_fold *f = known("placed");
    Shopstream__V1__Event *evs[] = {ev_rejected(&arena, 1, "u1", "o9", "out_of_stock", "p1", 2, 1, 120)};
    struct shop_plan *plan = plan_of(f, evs, 1);
    assert_absent(plan, "orders_insert");
    assert_param(plan, "orders_update", 0, "{\"o9\"}");
    assert_param(plan, "orders_update", 1, "{\"rejected\"}");
    assert_param(plan, "orders_update", 3, "{\"" "{\\\"lines\\\":[{\\\"available\\\":1,\\\"catalog_price\\\":"
                                           "{\\\"amount_minor\\\":120,\\\"currency\\\":\\\"GBP\\\"},\\\"product_id\\\":"
                                           "\\\"p1\\\",\\\"requested\\\":2}],\\\"reason\\\":\\\"out_of_stock\\\"}\"}");
    assert_param(plan, "products_upsert", 6, "{-2,-3}");
}

Test(proj_life, confirmation_after_payment_is_noted_and_keeps_paid)
{
    struct shop_proj_fold *f = known("paid");
    Shopstream__V1__Event *evs[] = {ev_reserved(&arena, 1, "u1", "o9", "p1", 2)};
    struct shop_plan *plan = plan_of(f, evs, 1);
    cr_assert(eq(sz, shop_proj_fold_stats(f)->noted, 1));
    cr_assert(eq(sz, shop_proj_fold_stats(f)->applied, 1));
    assert_param(plan, "orders_update", 1, "{\"paid\"}");
    assert_param(plan, "orders_update", 2, "{1001}");    /* a noted step is a change of the row */
    assert_param(plan, "order_history", 1, "{\"confirmed\"}");
}

Test(proj_life, rejection_overrides_a_payment)
{
    struct shop_proj_fold *f = known("paid");
    Shopstream__V1__Event *evs[] = {ev_rejected(&arena, 1, "u1", "o9", "out_of_stock", "p1", 2, 1, 120)};
    struct shop_plan *plan = plan_of(f, evs, 1);
    assert_param(plan, "orders_update", 1, "{\"rejected\"}");
    assert_param(plan, "products_upsert", 6, "{-2,-3}");
}

Test(proj_life, rejection_after_cancel_wins_and_returns_nothing_twice)
{
    FOLD(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), ev_as(ev_cancelled(&arena, 2, "u1", "o1"), "shopper", "u1"),
         ev_rejected(&arena, 3, "u1", "o1", "out_of_stock", "p1", 2, 1, 120));
    assert_param(plan, "orders_insert", 2, "{\"rejected\"}");
    assert_param(plan, "order_history", 1, "{\"placed\",\"cancelled\",\"rejected\"}");
    assert_param(plan, "products_upsert", 6, "{0,0}");
    cr_assert(eq(sz, shop_proj_fold_stats(f)->noted, 0));
}

/* The inventory rejected at the placement and refused what followed; a projector that
 * read payments and fulfilment first ends rejected all the same. */
Test(proj_life, rejection_after_delivery_wins)
{
    FOLD(ev_as(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), "service", "importer"),
         ev_as(ev_paid(&arena, 2, "u1", "o1"), "service", "payments"),
         ev_as(ev_shipped(&arena, 3, "u1", "o1"), "service", "fulfil"),
         ev_as(ev_delivered(&arena, 4, "u1", "o1"), "service", "fulfil"),
         ev_rejected(&arena, 5, "u1", "o1", "unknown_product", "p1", 2, 0, -1));
    assert_param(plan, "orders_insert", 2, "{\"rejected\"}");
    assert_param(plan, "order_history", 1, "{\"placed\",\"paid\",\"shipped\",\"delivered\",\"rejected\"}");
    assert_param(plan, "products_upsert", 6, "{0,0}");
    assert_absent(plan, "refused_insert");
}

Test(proj_life, confirmation_after_delivery_is_noted)
{
    FOLD(ev_as(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), "service", "importer"),
         ev_as(ev_paid(&arena, 2, "u1", "o1"), "service", "payments"),
         ev_as(ev_shipped(&arena, 3, "u1", "o1"), "service", "fulfil"),
         ev_as(ev_delivered(&arena, 4, "u1", "o1"), "service", "fulfil"), ev_reserved(&arena, 5, "u1", "o1", "p1", 2));
    assert_param(plan, "orders_insert", 2, "{\"delivered\"}");
    cr_assert(eq(sz, shop_proj_fold_stats(f)->noted, 1));
    assert_absent(plan, "refused_insert");
}

Test(proj_life, the_happy_path_through_confirmed)
{
    FOLD(ev_as(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), "shopper", "u1"),
         ev_reserved(&arena, 2, "u1", "o1", "p1", 2), ev_as(ev_paid(&arena, 3, "u1", "o1"), "service", "payments"),
         ev_as(ev_shipped(&arena, 4, "u1", "o1"), "service", "fulfil"),
         ev_as(ev_delivered(&arena, 5, "u1", "o1"), "admin", "ops"));
    assert_param(plan, "orders_insert", 2, "{\"delivered\"}");
    assert_param(plan, "order_history", 1, "{\"placed\",\"confirmed\",\"paid\",\"shipped\",\"delivered\"}");
    assert_absent(plan, "refused_insert");
}

Test(proj_life, cancel_from_confirmed_and_a_second_decision_is_illegal)
{
    struct shop_proj_fold *f = known("confirmed");
    Shopstream__V1__Event *evs[] = {ev_reserved(&arena, 1, "u1", "o9", "p1", 2),
                                    ev_as(ev_cancelled(&arena, 2, "u1", "o9"), "shopper", "u1")};
    struct shop_plan *plan = plan_of(f, evs, 2);
    assert_param(plan, "orders_update", 1, "{\"cancelled\"}");
    assert_param(plan, "refused_insert", 9, "{\"illegal_transition\"}");
    assert_param(plan, "refused_insert", 10, "{\"confirmed\"}");
    assert_param(plan, "products_upsert", 6, "{-2,-3}");
}

/* ---- decisions that arrive before their order -------------------------------------- */

Test(proj_life, decision_before_its_placement_in_one_batch_is_applied_at_the_placement)
{
    FOLD(ev_reserved(&arena, 1, "u1", "o1", "p1", 2), ev_placed(&arena, 2, "u1", "o1", 2, P12, Q23),
         ev_as(ev_paid(&arena, 3, "u1", "o1"), "service", "payments"));
    const struct shop_proj_stats *st = shop_proj_fold_stats(f);
    cr_assert(eq(sz, st->parked, 1));
    cr_assert(eq(sz, st->refused, 0));
    assert_param(plan, "orders_insert", 2, "{\"paid\"}");
    assert_param(plan, "order_history", 1, "{\"placed\",\"confirmed\",\"paid\"}");
    assert_param(plan, "order_history", 2, "{1002,1001,1003}");
    assert_absent(plan, "parked_insert");
    assert_absent(plan, "parked_delete");
}

Test(proj_life, decision_for_an_order_not_placed_yet_is_parked)
{
    const Shopstream__V1__Event *ev = ev_rejected(&arena, 7, "u1", "o1", "price_mismatch", "p1", 2, 5, 130);
    const struct shop_proj_record rec = {ev, "shopstream.inventory.v1", 3, 99};
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    cr_assert(eq(int, shop_proj_fold_record(f, &rec), SHOP_PROJ_PARKED));
    struct shop_plan *plan = shop_arena_alloc(&arena, sizeof(*plan));
    shop_proj_plan_build(f, "g", 42, plan, NULL);
    assert_absent(plan, "orders_insert");
    assert_absent(plan, "refused_insert");
    assert_param(plan, "parked_insert", 0, "{\"00000000-0000-4000-8000-000000000007\"}");
    assert_param(plan, "parked_insert", 1, "{\"shopstream.inventory.v1\"}");
    assert_param(plan, "parked_insert", 2, "{3}");
    assert_param(plan, "parked_insert", 3, "{99}");
    assert_param(plan, "parked_insert", 4, "{\"inventory.rejected\"}");
    assert_param(plan, "parked_insert", 7, "{1007}");
    assert_param(plan, "parked_insert", 8, "{\"o1\"}");
    assert_param(plan, "parked_insert", 9, "{\"rejected\"}");
    cr_assert(not(eq(ptr, strstr(stmt(plan, "parked_insert")->params[10], "price_mismatch"), NULL)));
}

Test(proj_life, parked_decision_from_an_earlier_batch_is_applied_and_deleted)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    const struct shop_proj_parked p = {.order_id = "o1", .event_id = "00000000-0000-4000-8000-000000000077",
                                       .topic = "t.inventory.v1", .type = "inventory.rejected", .user_id = "u1",
                                       .actor_role = "service", .partition = 1, .offset = 5,
                                       .status = "rejected", .rejection = REJ_JSON, .at_ms = 900};
    shop_proj_fold_parked(f, &p);
    Shopstream__V1__Event *evs[] = {ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23)};
    struct shop_plan *plan = plan_of(f, evs, 1);
    assert_param(plan, "orders_insert", 2, "{\"rejected\"}");
    const struct shop_sql_stmt *ins = stmt(plan, "orders_insert");
    cr_assert(not(eq(ptr, strstr(ins->params[7], "out_of_stock"), NULL)));
    assert_param(plan, "order_history", 1, "{\"placed\",\"rejected\"}");
    assert_param(plan, "order_history", 3,
                 "{\"00000000-0000-4000-8000-000000000001\",\"00000000-0000-4000-8000-000000000077\"}");
    assert_param(plan, "parked_delete", 0, "{\"o1\"}");
    assert_param(plan, "parked_delete", 1, "{\"00000000-0000-4000-8000-000000000077\"}");
    assert_absent(plan, "parked_insert");
}

Test(proj_life, parked_decision_stays_parked_while_its_order_is_absent)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    const struct shop_proj_parked p = {.order_id = "o1", .event_id = "00000000-0000-4000-8000-000000000077",
                                       .topic = "t", .type = "inventory.reserved", .user_id = "u1",
                                       .actor_role = "service", .status = "confirmed", .at_ms = 900};
    shop_proj_fold_parked(f, &p);
    Shopstream__V1__Event *evs[] = {ev_view(&arena, 1, "u1", "p1")};
    struct shop_plan *plan = plan_of(f, evs, 1);
    assert_absent(plan, "parked_insert");
    assert_absent(plan, "parked_delete");
}

/* ---- who may move an order -------------------------------------------------------- */

Test(proj_life, shopper_cancel_of_another_users_order_is_refused_not_owner)
{
    struct shop_proj_fold *f = known("placed");
    Shopstream__V1__Event *evs[] = {ev_as(ev_cancelled(&arena, 1, "u2", "o9"), "shopper", "u2")};
    struct shop_plan *plan = plan_of(f, evs, 1);
    cr_assert(eq(sz, shop_proj_fold_stats(f)->refused_by[SHOP_PROJ_REFUSE_NOT_OWNER], 1));
    assert_absent(plan, "orders_update");
    assert_absent(plan, "order_history");
    assert_param(plan, "refused_insert", 5, "{\"u2\"}");
    assert_param(plan, "refused_insert", 6, "{\"shopper\"}");
    assert_param(plan, "refused_insert", 9, "{\"not_owner\"}");
    assert_param(plan, "refused_insert", 10, "{\"placed\"}");
}

Test(proj_life, legacy_record_of_another_user_is_refused_not_owner)
{
    struct shop_proj_fold *f = known("placed");
    Shopstream__V1__Event *evs[] = {ev_paid(&arena, 1, "u2", "o9")};   /* no actor fields */
    struct shop_plan *plan = plan_of(f, evs, 1);
    assert_param(plan, "refused_insert", 6, "{\"\"}");
    assert_param(plan, "refused_insert", 9, "{\"not_owner\"}");
}

Test(proj_life, shopper_may_not_pay_ship_or_deliver_even_their_own_order)
{
    struct shop_proj_fold *f = known("placed");
    Shopstream__V1__Event *evs[] = {ev_as(ev_paid(&arena, 1, "u1", "o9"), "shopper", "u1"),
                                    ev_as(ev_shipped(&arena, 2, "u1", "o9"), "shopper", "u1"),
                                    ev_as(ev_delivered(&arena, 3, "u1", "o9"), "shopper", "u1")};
    struct shop_plan *plan = plan_of(f, evs, 3);
    cr_assert(eq(sz, shop_proj_fold_stats(f)->refused_by[SHOP_PROJ_REFUSE_NOT_ALLOWED], 3));
    assert_param(plan, "refused_insert", 9, "{\"not_allowed\",\"not_allowed\",\"not_allowed\"}");
    assert_absent(plan, "orders_update");
}

Test(proj_life, service_and_admin_may_move_any_users_order)
{
    struct shop_proj_fold *f = known("placed");
    Shopstream__V1__Event *evs[] = {ev_as(ev_paid(&arena, 1, "u1", "o9"), "service", "payments"),
                                    ev_as(ev_cancelled(&arena, 2, "someone", "o9"), "admin", "ops")};
    struct shop_plan *plan = plan_of(f, evs, 2);
    assert_absent(plan, "refused_insert");
    assert_param(plan, "orders_update", 1, "{\"cancelled\"}");
    assert_param(plan, "order_history", 1, "{\"paid\",\"cancelled\"}");
}

Test(proj_life, second_placement_by_another_user_is_order_exists)
{
    FOLD(ev_as(ev_placed(&arena, 1, "u1", "o1", 2, P12, Q23), "shopper", "u1"),
         ev_as(ev_placed(&arena, 2, "u2", "o1", 2, P12, Q23), "shopper", "u2"));
    assert_param(plan, "orders_insert", 1, "{\"u1\"}");
    assert_param(plan, "refused_insert", 5, "{\"u2\"}");
    assert_param(plan, "refused_insert", 9, "{\"order_exists\"}");
    assert_param(plan, "products_upsert", 6, "{2,3}");
}

Test(proj_life, refusal_is_recorded_with_its_record_group_and_time)
{
    struct shop_proj_fold *f = known("shipped");
    Shopstream__V1__Event *ev = ev_as(ev_cancelled(&arena, 5, "u1", "o9"), "shopper", "u1");
    ev->type = "order.cancelled";
    const struct shop_proj_record rec = {ev, "shopstream.order.v1", 2, 1234};
    cr_assert(eq(int, shop_proj_fold_record(f, &rec), SHOP_PROJ_REFUSED));
    shop_proj_fold_offset(f, rec.topic, rec.partition, rec.offset + 1);
    struct shop_plan *plan = shop_arena_alloc(&arena, sizeof(*plan));
    shop_proj_plan_build(f, "grp", 777, plan, NULL);
    const char *want[] = {"{\"00000000-0000-4000-8000-000000000005\"}", "{\"shopstream.order.v1\"}", "{2}",
                          "{1234}", "{\"order.cancelled\"}", "{\"u1\"}", "{\"shopper\"}", "{1005}", "{\"o9\"}",
                          "{\"illegal_transition\"}", "{\"shipped\"}", "grp", "777"};
    const struct shop_sql_stmt *st = stmt(plan, "refused_insert");
    cr_assert(eq(int, st->n_params, 13));
    for (int i = 0; i < 13; i++)
        cr_assert(eq(str, (char *)st->params[i], (char *)want[i]), "$%d", i + 1);
    cr_assert(eq(str, (char *)plan->stmts[plan->n - 1].name, "offsets"));   /* offsets still last */
}

Test(proj_life, refusal_reasons_have_their_names)
{
    cr_assert(eq(str, (char *)shop_proj_refusal_name(SHOP_PROJ_REFUSE_ORDER_EXISTS), "order_exists"));
    cr_assert(eq(str, (char *)shop_proj_refusal_name(SHOP_PROJ_REFUSE_UNKNOWN_ORDER), "unknown_order"));
    cr_assert(eq(str, (char *)shop_proj_refusal_name(SHOP_PROJ_REFUSE_ILLEGAL), "illegal_transition"));
    cr_assert(eq(str, (char *)shop_proj_refusal_name(SHOP_PROJ_REFUSE_NOT_OWNER), "not_owner"));
    cr_assert(eq(str, (char *)shop_proj_refusal_name(SHOP_PROJ_REFUSE_NOT_ALLOWED), "not_allowed"));
    cr_assert(eq(ptr, (void *)shop_proj_refusal_name(SHOP_PROJ_REFUSE_COUNT), NULL));
}

/* ---- released, committed, low stock: no step ---------------------------------------- */

Test(proj_life, other_inventory_outcomes_have_no_projection)
{
    Shopstream__V1__Event *ev = ev_new(&arena, 1, "u1", 1001);
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RELEASED;
    Shopstream__V1__StockReleased *r = shop_arena_alloc(&arena, sizeof(*r));
    shopstream__v1__stock_released__init(r);
    r->order_id = "o9";
    ev->stock_released = r;
    struct shop_proj_fold *f = known("cancelled");
    cr_assert(eq(int, shop_proj_fold_event(f, ev), SHOP_PROJ_NO_PROJECTION));
}

/* ---- checked purchases -------------------------------------------------------------- */

Test(proj_life, cancel_returning_purchases_past_int64_min_changes_nothing)
{
    struct shop_proj_fold *f = shop_proj_fold_new(&arena);
    shop_proj_fold_known_order(f, "o1", "placed", "u1", "p1", INT64_MAX);
    shop_proj_fold_known_order(f, "o2", "placed", "u1", "p1", 2);
    cr_assert(eq(int, shop_proj_fold_event(f, ev_cancelled(&arena, 1, "u1", "o1")), SHOP_PROJ_APPLIED));
    cr_assert(eq(int, shop_proj_fold_event(f, ev_cancelled(&arena, 2, "u1", "o2")), SHOP_PROJ_OVERFLOW));
    struct shop_plan *plan = shop_arena_alloc(&arena, sizeof(*plan));
    shop_proj_plan_build(f, "g", 42, plan, NULL);
    assert_param(plan, "products_upsert", 6, "{-9223372036854775807}");
    assert_param(plan, "orders_update", 0, "{\"o1\"}");   /* o2 untouched */
    cr_assert(eq(sz, shop_proj_fold_stats(f)->overflow, 1));
}
