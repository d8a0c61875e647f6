/* SPDX-License-Identifier: MIT
 * workers/core/inv_fold.c: the inventory fold over one batch: catalog counts and
 * deltas against reservations, all-or-none orders, the rejection reasons and their
 * short lines, the order life (order_life.c) and ownership, low stock, and the
 * deterministic outcome ids (checked against Python's uuid.uuid5).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "ev_fixture.h"
#include "workers/core/inv.h"

#define THRESHOLD 5

static struct shop_arena arena;

static void setup(void)
{
    arena = (struct shop_arena)SHOP_ARENA_INIT;
}

static void teardown(void)
{
    shop_arena_fini(&arena);
}

TestSuite(inv_fold, .init = setup, .fini = teardown);

static struct shop_inv_fold *fold_new(void)
{
    return shop_inv_fold_new(&arena, (struct shop_hash_seed){1, 2}, THRESHOLD);
}

static Shopstream__V1__Event *as(Shopstream__V1__Event *ev, const char *role)
{
    ev->actor_role = (char *)role;
    ev->actor_id = (char *)(strcmp(role, "shopper") == 0 ? ev->user_id : "svc");
    return ev;
}

/* A shopper's order of n lines at price each (100 is the fixtures' catalog price). */
static Shopstream__V1__Event *placed(int id, const char *user, const char *order, int n, const char *const *products,
                                     const int *qty, int64_t price)
{
    Shopstream__V1__Event *ev = as(ev_placed(&arena, id, user, order, n, products, qty), "shopper");
    for (int i = 0; i < n; i++)
        ev->order_placed->lines[i]->unit_price->amount_minor = price;
    return ev;
}

static Shopstream__V1__Event *placed1(int id, const char *user, const char *order, const char *product, int qty)
{
    const char *products[] = {product};
    const int q[] = {qty};
    return placed(id, user, order, 1, products, q, 100);
}

static struct shop_inv_stock stock_of(const struct shop_inv_fold *f, const char *product)
{
    struct shop_inv_stock st = {0};
    cr_assert(shop_inv_fold_stock(f, product, &st), "%s untouched", product);
    return st;
}

static const struct shop_inv_outcome *last_outcome(const struct shop_inv_fold *f)
{
    size_t n;
    const struct shop_inv_outcome *oc = shop_inv_fold_outcomes(f, &n);
    cr_assert_gt(n, 0);
    return &oc[n - 1];
}

static size_t n_outcomes(const struct shop_inv_fold *f)
{
    size_t n;
    shop_inv_fold_outcomes(f, &n);
    return n;
}

Test(inv_fold, outcome_ids_are_uuid_v5_of_type_and_order)
{
    char id[37];
    /* python3: uuid.uuid5(uuid.UUID('8c0f1d5e-3b7a-4e1c-9d62-0a4b5c6d7e8f'), 'inventory.reserved/o-1') */
    shop_inv_outcome_id(SHOP_INV_RESERVED, "o-1", NULL, NULL, id);
    cr_assert_str_eq(id, "17168477-e229-5e45-81a6-138142f5f3d1");
    shop_inv_outcome_id(SHOP_INV_LOW_STOCK, NULL, "00000000-0000-4000-8000-000000000007", "p-1", id);
    cr_assert_str_eq(id, "fd444f71-951a-5fc1-8cff-189dcf53d068");
    char other[37];
    shop_inv_outcome_id(SHOP_INV_REJECTED, "o-1", NULL, NULL, other);
    cr_assert_str_neq(id, other);
}

Test(inv_fold, upsert_sets_on_hand_and_price_then_an_order_reserves)
{
    struct shop_inv_fold *f = fold_new();
    cr_assert_eq(shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "Socks", 100, 25)), SHOP_INV_APPLIED);
    cr_assert_eq(shop_inv_fold_event(f, placed1(2, "u-1", "o-1", "p-1", 3)), SHOP_INV_APPLIED);
    struct shop_inv_stock st = stock_of(f, "p-1");
    cr_assert_eq(st.on_hand, 25);
    cr_assert_eq(st.reserved, 3);
    cr_assert_eq(st.price_minor, 100);
    const struct shop_inv_outcome *oc = last_outcome(f);
    cr_assert_eq(oc->kind, SHOP_INV_RESERVED);
    cr_assert_str_eq(oc->event_id, "17168477-e229-5e45-81a6-138142f5f3d1");
    cr_assert_str_eq(oc->key, "o-1");
    cr_assert_str_eq(oc->user_id, "u-1");
    cr_assert_eq(oc->n_lines, 1);
    cr_assert_eq(oc->lines[0].requested, 3);
    cr_assert_eq(oc->lines[0].available, 22);
    enum shop_order_status s;
    enum shop_inv_hold h;
    cr_assert(shop_inv_fold_order(f, "o-1", &s, &h));
    cr_assert_eq(s, SHOP_ORDER_CONFIRMED);
    cr_assert_eq(h, SHOP_INV_HOLD_HELD);
}

Test(inv_fold, an_order_reserves_every_line_or_none)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "scarce", "A", 100, 1));
    shop_inv_fold_event(f, ev_upsert(&arena, 2, "plenty", "B", 100, 1000));
    const char *products[] = {"plenty", "scarce"};
    const int qty[] = {10, 2};
    shop_inv_fold_event(f, placed(3, "u-1", "o-1", 2, products, qty, 100));
    cr_assert_eq(stock_of(f, "plenty").reserved, 0, "no line of a rejected order is reserved");
    cr_assert_eq(stock_of(f, "scarce").reserved, 0);
    const struct shop_inv_outcome *oc = last_outcome(f);
    cr_assert_eq(oc->kind, SHOP_INV_REJECTED);
    cr_assert_eq(oc->reason, SHOP_INV_OUT_OF_STOCK);
    cr_assert_eq(oc->n_lines, 1, "only the short line is listed");
    cr_assert_str_eq(oc->lines[0].product_id, "scarce");
    cr_assert_eq(oc->lines[0].requested, 2);
    cr_assert_eq(oc->lines[0].available, 1);
    cr_assert(oc->lines[0].has_price);
    cr_assert_eq(oc->lines[0].price_minor, 100);
}

Test(inv_fold, the_same_product_on_two_lines_counts_once_summed)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 100, 5));
    const char *products[] = {"p-1", "p-1"};
    const int qty[] = {3, 3};
    shop_inv_fold_event(f, placed(2, "u-1", "o-1", 2, products, qty, 100));
    const struct shop_inv_outcome *oc = last_outcome(f);
    cr_assert_eq(oc->kind, SHOP_INV_REJECTED, "3 + 3 > 5 although each line fits");
    cr_assert_eq(oc->n_lines, 1);
    cr_assert_eq(oc->lines[0].requested, 6);
    shop_inv_fold_event(f, ev_adjust(&arena, 3, "p-1", 1));
    shop_inv_fold_event(f, placed(4, "u-1", "o-2", 2, products, qty, 100));
    oc = last_outcome(f);
    cr_assert_eq(oc->kind, SHOP_INV_LOW_STOCK, "available fell from 6 to 0");
    oc = oc - 1;
    cr_assert_eq(oc->kind, SHOP_INV_RESERVED);
    cr_assert_eq(oc->n_lines, 1);
    cr_assert_eq(oc->lines[0].requested, 6);
    cr_assert_eq(stock_of(f, "p-1").reserved, 6);
}

Test(inv_fold, a_shoppers_price_must_be_the_catalogs)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 255, 10));
    shop_inv_fold_event(f, placed1(2, "u-1", "o-1", "p-1", 1));   /* at 100 */
    const struct shop_inv_outcome *oc = last_outcome(f);
    cr_assert_eq(oc->kind, SHOP_INV_REJECTED);
    cr_assert_eq(oc->reason, SHOP_INV_PRICE_MISMATCH);
    cr_assert_eq(oc->lines[0].price_minor, 255, "the current price is listed");
    cr_assert_eq(stock_of(f, "p-1").reserved, 0);
}

Test(inv_fold, service_and_legacy_orders_are_taken_at_their_prices)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 255, 10));
    shop_inv_fold_event(f, as(placed1(2, "u-1", "o-1", "p-1", 1), "service"));
    cr_assert_eq(last_outcome(f)->kind, SHOP_INV_RESERVED);
    Shopstream__V1__Event *legacy = placed1(3, "u-1", "o-2", "p-1", 1);
    legacy->actor_role = legacy->actor_id = NULL;
    shop_inv_fold_event(f, legacy);
    cr_assert_eq(last_outcome(f)->kind, SHOP_INV_RESERVED);
    cr_assert_eq(stock_of(f, "p-1").reserved, 2);
}

Test(inv_fold, unknown_product_comes_before_the_other_reasons)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 255, 0));
    shop_inv_fold_event(f, ev_adjust(&arena, 2, "unpriced", 10));   /* a row, but no catalog price */
    const char *products[] = {"p-1", "ghost", "unpriced"};
    const int qty[] = {1, 1, 1};
    shop_inv_fold_event(f, placed(3, "u-1", "o-1", 3, products, qty, 100));
    const struct shop_inv_outcome *oc = last_outcome(f);
    cr_assert_eq(oc->reason, SHOP_INV_UNKNOWN_PRODUCT);
    cr_assert_eq(oc->n_lines, 2);
    cr_assert_str_eq(oc->lines[0].product_id, "ghost");
    cr_assert_not(oc->lines[0].has_price);
    cr_assert_eq(oc->lines[0].available, 0);
    cr_assert_str_eq(oc->lines[1].product_id, "unpriced");
}

Test(inv_fold, a_second_placed_is_refused_without_an_outcome)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 100, 10));
    shop_inv_fold_event(f, placed1(2, "u-1", "o-1", "p-1", 1));
    size_t before = n_outcomes(f);
    cr_assert_eq(shop_inv_fold_event(f, placed1(3, "u-2", "o-1", "p-1", 4)), SHOP_INV_REFUSED);
    cr_assert_eq(n_outcomes(f), before);
    cr_assert_eq(stock_of(f, "p-1").reserved, 1);
    size_t n;
    const struct shop_inv_refused *r = shop_inv_fold_refusals(f, &n);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(r[0].reason, SHOP_REFUSE_ORDER_EXISTS);
    cr_assert_str_eq(r[0].order_id, "o-1");
}

Test(inv_fold, the_owner_cancels_and_releases_another_shopper_may_not)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 100, 10));
    shop_inv_fold_event(f, placed1(2, "u-1", "o-1", "p-1", 4));
    cr_assert_eq(shop_inv_fold_event(f, as(ev_cancelled(&arena, 3, "u-2", "o-1"), "shopper")), SHOP_INV_REFUSED);
    size_t n;
    cr_assert_str_eq(shop_inv_fold_refusals(f, &n)[0].reason, SHOP_REFUSE_NOT_OWNER);
    cr_assert_eq(stock_of(f, "p-1").reserved, 4);
    cr_assert_eq(shop_inv_fold_event(f, as(ev_cancelled(&arena, 4, "u-1", "o-1"), "shopper")), SHOP_INV_APPLIED);
    cr_assert_eq(stock_of(f, "p-1").reserved, 0);
    cr_assert_eq(stock_of(f, "p-1").on_hand, 10);
    const struct shop_inv_outcome *oc = last_outcome(f);
    cr_assert_eq(oc->kind, SHOP_INV_RELEASED);
    cr_assert_eq(oc->lines[0].requested, 4);
    cr_assert_eq(shop_inv_fold_event(f, as(ev_cancelled(&arena, 5, "u-1", "o-1"), "shopper")), SHOP_INV_REFUSED,
                 "cancelled once");
}

Test(inv_fold, shipping_commits_and_cancel_after_ship_is_illegal)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 100, 10));
    shop_inv_fold_event(f, placed1(2, "u-1", "o-1", "p-1", 4));
    cr_assert_eq(shop_inv_fold_event(f, as(ev_shipped(&arena, 3, "u-1", "o-1"), "shopper")), SHOP_INV_REFUSED,
                 "a shopper may not ship");
    size_t n;
    cr_assert_str_eq(shop_inv_fold_refusals(f, &n)[0].reason, SHOP_REFUSE_NOT_ALLOWED);
    cr_assert_eq(shop_inv_fold_event(f, as(ev_paid(&arena, 4, "u-1", "o-1"), "service")), SHOP_INV_APPLIED);
    cr_assert_eq(shop_inv_fold_event(f, as(ev_shipped(&arena, 5, "u-1", "o-1"), "service")), SHOP_INV_APPLIED);
    struct shop_inv_stock st = stock_of(f, "p-1");
    cr_assert_eq(st.on_hand, 6);
    cr_assert_eq(st.reserved, 0);
    cr_assert_eq(last_outcome(f)->kind, SHOP_INV_COMMITTED);
    cr_assert_eq(shop_inv_fold_event(f, as(ev_cancelled(&arena, 6, "u-1", "o-1"), "service")), SHOP_INV_REFUSED);
    cr_assert_str_eq(shop_inv_fold_refusals(f, &n)[1].reason, SHOP_REFUSE_ILLEGAL);
    cr_assert_eq(stock_of(f, "p-1").on_hand, 6);
}

Test(inv_fold, a_step_for_an_unknown_order_is_refused)
{
    struct shop_inv_fold *f = fold_new();
    cr_assert_eq(shop_inv_fold_event(f, as(ev_cancelled(&arena, 1, "u-1", "nope"), "service")), SHOP_INV_REFUSED);
    size_t n;
    cr_assert_str_eq(shop_inv_fold_refusals(f, &n)[0].reason, SHOP_REFUSE_UNKNOWN_ORDER);
}

Test(inv_fold, a_count_below_the_reservations_keeps_them)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 100, 10));
    shop_inv_fold_event(f, placed1(2, "u-1", "o-1", "p-1", 8));
    shop_inv_fold_event(f, ev_upsert(&arena, 3, "p-1", "A", 120, 3));
    struct shop_inv_stock st = stock_of(f, "p-1");
    cr_assert_eq(st.on_hand, 8, "on_hand := max(stock, reserved)");
    cr_assert_eq(st.reserved, 8);
    cr_assert_eq(st.price_minor, 120);
    cr_assert_eq(shop_inv_fold_stats(f)->shortfall, 5);
    shop_inv_fold_event(f, ev_adjust(&arena, 4, "p-1", -2));
    cr_assert_eq(stock_of(f, "p-1").on_hand, 8, "a removal stops at the reserved units");
    cr_assert_eq(shop_inv_fold_stats(f)->shortfall, 7);
    shop_inv_fold_event(f, ev_adjust(&arena, 5, "p-1", 4));
    cr_assert_eq(stock_of(f, "p-1").on_hand, 12);
}

Test(inv_fold, an_adjustment_that_would_overflow_changes_nothing)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_known_product(f, "p-1", INT64_MAX - 1, 0, false, 0, true, 100, "GBP", 0);
    cr_assert_eq(shop_inv_fold_event(f, ev_adjust(&arena, 1, "p-1", 5)), SHOP_INV_OVERFLOW);
    cr_assert_eq(stock_of(f, "p-1").on_hand, INT64_MAX - 1);
    cr_assert_eq(n_outcomes(f), 0);
}

Test(inv_fold, low_stock_once_when_available_falls_below_the_threshold)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 100, 7));
    cr_assert_eq(n_outcomes(f), 0, "7 is not below 5");
    shop_inv_fold_event(f, placed1(2, "u-1", "o-1", "p-1", 3));
    const struct shop_inv_outcome *oc = last_outcome(f);
    cr_assert_eq(oc->kind, SHOP_INV_LOW_STOCK);
    cr_assert_str_eq(oc->key, "p-1");
    cr_assert_eq(oc->available, 4);
    cr_assert_eq(oc->threshold, THRESHOLD);
    char id[37];
    shop_inv_outcome_id(SHOP_INV_LOW_STOCK, NULL, "00000000-0000-4000-8000-000000000002", "p-1", id);
    cr_assert_str_eq(oc->event_id, id);
    shop_inv_fold_event(f, placed1(3, "u-1", "o-2", "p-1", 1));
    cr_assert_eq(last_outcome(f)->kind, SHOP_INV_RESERVED, "still low: no second alert");
}

Test(inv_fold, a_products_own_threshold_wins)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_known_product(f, "p-1", 100, 0, true, 50, true, 100, "GBP", 0);
    shop_inv_fold_event(f, placed1(1, "u-1", "o-1", "p-1", 60));
    const struct shop_inv_outcome *oc = last_outcome(f);
    cr_assert_eq(oc->kind, SHOP_INV_LOW_STOCK);
    cr_assert_eq(oc->threshold, 50);
}

Test(inv_fold, stored_orders_release_what_they_hold)
{
    struct shop_inv_fold *f = fold_new();
    cr_assert_eq(shop_inv_fold_known_order(f, "o-1", "u-1", "paid", "held", "p-1", 2), 0);
    cr_assert_eq(shop_inv_fold_known_order(f, "o-1", "u-1", "paid", "held", "p-2", 3), 0);
    shop_inv_fold_known_product(f, "p-1", 10, 2, false, 0, true, 100, "GBP", 0);
    shop_inv_fold_known_product(f, "p-2", 10, 3, false, 0, true, 100, "GBP", 0);
    cr_assert_eq(shop_inv_fold_event(f, as(ev_cancelled(&arena, 1, "u-1", "o-1"), "shopper")), SHOP_INV_APPLIED);
    cr_assert_eq(stock_of(f, "p-1").reserved, 0);
    cr_assert_eq(stock_of(f, "p-2").reserved, 0);
    cr_assert_eq(last_outcome(f)->n_lines, 2);
    cr_assert_eq(shop_inv_fold_known_order(f, "o-2", "u-1", "bogus", "held", "p-1", 1), SHOP_EINVAL);
}

Test(inv_fold, reserved_never_exceeds_on_hand_over_a_burst)
{
    struct shop_inv_fold *f = fold_new();
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "scarce", "A", 100, 25));
    shop_inv_fold_event(f, ev_upsert(&arena, 2, "plenty", "B", 100, 100000));
    int reserved = 0;
    for (int i = 0; i < 200; i++) {
        char *order = shop_arena_alloc(&arena, 16);
        snprintf(order, 16, "o-%d", i);
        const char *products[] = {"plenty", "scarce"};
        const int qty[] = {1 + i % 3, 1};
        shop_inv_fold_event(f, placed(10 + i, "u-1", order, i % 2 ? 2 : 1, i % 2 ? products : products + 1,
                                      i % 2 ? qty : qty + 1, 100));
        struct shop_inv_stock st = stock_of(f, "scarce");
        cr_assert_leq(st.reserved, st.on_hand);
        enum shop_order_status s;
        enum shop_inv_hold h;
        shop_inv_fold_order(f, order, &s, &h);
        reserved += s == SHOP_ORDER_CONFIRMED;
    }
    cr_assert_eq(stock_of(f, "scarce").reserved, 25);
    cr_assert_eq(reserved, 25);
    cr_assert_eq(shop_inv_fold_stats(f)->reserved, 25);
    cr_assert_eq(shop_inv_fold_stats(f)->rejected, 175);
}
