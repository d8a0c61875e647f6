/* SPDX-License-Identifier: MIT
 * workers/core/inv_plan.c and inv_outcome.c: the locking reads name what the batch
 * touches, the plan's statements and their array parameters, and the outbox
 * payloads decode (and validate) as inventory.* events.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "ev_fixture.h"
#include "proto/core/shop_event.h"
#include "workers/core/inv.h"

static struct shop_arena arena;

static void setup(void)
{
    arena = (struct shop_arena)SHOP_ARENA_INIT;
}

static void teardown(void)
{
    shop_arena_fini(&arena);
}

TestSuite(inv_plan, .init = setup, .fini = teardown);

#define T0 INT64_C(1700000000000)   /* the validator refuses times before 2000 */

static Shopstream__V1__Event *shopper(Shopstream__V1__Event *ev)
{
    ev->occurred_at_ms += T0;
    ev->received_at_ms += T0;
    ev->actor_role = "shopper";
    ev->actor_id = ev->user_id;
    return ev;
}

static const struct shop_sql_stmt *find(const struct shop_plan *plan, const char *name)
{
    for (int i = 0; i < plan->n; i++) {
        if (strcmp(plan->stmts[i].name, name) == 0)
            return &plan->stmts[i];
    }
    return NULL;
}

static uint8_t *unhex(const char *s, size_t *len)
{
    size_t n = strlen(s) / 2;
    uint8_t *b = shop_arena_alloc(&arena, n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        b[i] = (uint8_t)v;
    }
    *len = n;
    return b;
}

Test(inv_plan, the_reads_name_every_order_and_product_once)
{
    const char *products[] = {"p-2", "p-1", "p-2"};
    const int qty[] = {1, 1, 1};
    struct shop_proj_record recs[] = {
        {ev_upsert(&arena, 1, "p-3", "C", 100, 5), "shopstream.catalog.v1", 0, 10},
        {shopper(ev_placed(&arena, 2, "u-1", "o-1", 3, products, qty)), "shopstream.order.v1", 1, 20},
        {shopper(ev_cancelled(&arena, 3, "u-1", "o-0")), "shopstream.order.v1", 1, 21},
        {shopper(ev_cancelled(&arena, 4, "u-1", "o-0")), "shopstream.order.v1", 1, 22},
    };
    bool is_new[] = {true, true, true, false};
    struct shop_sql_stmt st;
    cr_assert_eq(shop_inv_build_order_read(recs, is_new, 4, &arena, &st), 2);
    cr_assert_str_eq(st.params[0], "{\"o-1\",\"o-0\"}");
    struct shop_inv_fold *f = shop_inv_fold_new(&arena, (struct shop_hash_seed){0, 0}, 5);
    shop_inv_fold_known_order(f, "o-0", "u-1", "confirmed", "held", "p-9", 2);
    cr_assert_eq(shop_inv_build_stock_lock(f, recs, is_new, 4, &st), 4);
    cr_assert_str_eq(st.params[0], "{\"p-3\",\"p-2\",\"p-1\",\"p-9\"}");
    cr_assert(strstr(st.sql, "order by product_id for update") != NULL, "locked in one order");
}

Test(inv_plan, one_batch_plans_stock_orders_refusals_outbox_and_offsets)
{
    struct shop_inv_fold *f = shop_inv_fold_new(&arena, (struct shop_hash_seed){0, 0}, 5);
    shop_inv_fold_known_product(f, "p-1", 10, 1, false, 0, true, 100, "GBP", 0);
    shop_inv_fold_known_order(f, "o-0", "u-1", "confirmed", "held", "p-1", 1);
    const char *products[] = {"p-1"};
    const int qty[] = {2};
    shop_inv_fold_event(f, shopper(ev_placed(&arena, 1, "u-1", "o-1", 1, products, qty)));
    shop_inv_fold_event(f, shopper(ev_placed(&arena, 2, "u-2", "o-1", 1, products, qty)));
    shop_inv_fold_event(f, shopper(ev_cancelled(&arena, 3, "u-1", "o-0")));
    shop_inv_fold_offset(f, "t.order.v1", 1, 8);
    shop_inv_fold_offset(f, "t.order.v1", 1, 9);
    struct shop_plan plan;
    struct shop_err err = {0};
    cr_assert_eq(shop_inv_plan_build(f, "grp", "t.inventory.v1", 77, &plan, &err), 0, "%s", err.msg);
    const char *want[] = {"inv_stock_upsert", "inv_orders_insert", "inv_orders_update", "inv_reservations_insert",
                          "inv_reservations_update", "inv_refused_insert", "inv_outbox_insert", "offsets"};
    cr_assert_eq(plan.n, 8);
    for (int i = 0; i < plan.n; i++)
        cr_assert_str_eq(plan.stmts[i].name, want[i]);
    const struct shop_sql_stmt *st = find(&plan, "inv_stock_upsert");
    cr_assert_str_eq(st->params[0], "{\"p-1\"}");
    cr_assert_str_eq(st->params[1], "{10}");
    cr_assert_str_eq(st->params[2], "{2}", "1 released, 2 reserved");
    st = find(&plan, "inv_orders_insert");
    cr_assert_str_eq(st->params[2], "{\"confirmed\"}");
    cr_assert_str_eq(st->params[3], "{\"reserved\"}");
    cr_assert_str_eq(st->params[4], "{NULL}");
    st = find(&plan, "inv_reservations_update");
    cr_assert_str_eq(st->params[1], "{\"released\"}");
    st = find(&plan, "inv_refused_insert");
    cr_assert_str_eq(st->params[0], "grp");
    cr_assert_str_eq(st->params[5], "{\"order_exists\"}");
    st = find(&plan, "offsets");
    cr_assert_str_eq(st->params[3], "{9}");
    cr_assert_str_eq(st->params[4], "77");
    st = find(&plan, "inv_outbox_insert");
    cr_assert_eq(st->n_params, 5);
    cr_assert_str_eq(st->params[0], "t.inventory.v1");
    cr_assert_str_eq(st->params[2], "{\"o-1\",\"o-0\"}");
    cr_assert_str_eq(st->params[4], "77");
    /* The first payload, {"<hex>",...}: the serialized inventory.reserved of o-1. */
    char *hex = shop_arena_strdup(&arena, st->params[3] + 2);
    *strchr(hex, '"') = '\0';
    size_t len;
    uint8_t *buf = unhex(hex, &len);
    Shopstream__V1__Event *ev = NULL;
    cr_assert_eq(shop_event_decode(buf, len, NULL, &arena, &ev, &err), 0, "%s", err.msg);
    cr_assert_str_eq(ev->type, "inventory.reserved");
    cr_assert(strstr(st->params[1], ev->id) == st->params[1] + 2, "the row's event_id is the payload's");
}

/* Decodes the outbox row's payload (the hex of one array element) like a subscriber. */
static Shopstream__V1__Event *outbox_event(const struct shop_inv_fold *f, size_t i)
{
    size_t n;
    const struct shop_inv_outcome *oc = shop_inv_fold_outcomes(f, &n);
    cr_assert_lt(i, n);
    uint8_t *buf;
    size_t len;
    struct shop_err err = {0};
    cr_assert_eq(shop_inv_outcome_encode(&oc[i], &arena, &buf, &len, &err), 0, "%s", err.msg);
    Shopstream__V1__Event *ev = NULL;
    cr_assert_eq(shop_event_decode(buf, len, NULL, &arena, &ev, &err), 0, "%s", err.msg);
    return ev;
}

Test(inv_plan, outcomes_decode_as_valid_inventory_events)
{
    struct shop_inv_fold *f = shop_inv_fold_new(&arena, (struct shop_hash_seed){0, 0}, 5);
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 255, 6));
    const char *products[] = {"p-1"};
    const int qty[] = {2};
    shop_inv_fold_event(f, shopper(ev_placed(&arena, 2, "u-1", "o-1", 1, products, qty)));   /* at 100: mismatch */
    Shopstream__V1__Event *svc = ev_placed(&arena, 3, "u-1", "o-2", 1, products, qty);
    svc->occurred_at_ms += T0;
    svc->received_at_ms += T0;
    svc->actor_role = "service";
    svc->actor_id = "checkout";
    shop_inv_fold_event(f, svc);

    Shopstream__V1__Event *ev = outbox_event(f, 0);
    cr_assert_str_eq(ev->type, "inventory.rejected");
    cr_assert_str_eq(ev->user_id, "u-1");
    cr_assert_eq(ev->occurred_at_ms, T0 + 1002, "the cause's time: folding again gives the same bytes");
    cr_assert_str_eq(ev->stock_rejected->reason, "price_mismatch");
    cr_assert_eq(ev->stock_rejected->n_lines, 1);
    cr_assert_eq(ev->stock_rejected->lines[0]->catalog_price->amount_minor, 255);
    cr_assert_eq(ev->stock_rejected->lines[0]->available, 6);
    cr_assert_str_eq(shop_event_key(ev), "o-1");

    ev = outbox_event(f, 1);
    cr_assert_str_eq(ev->type, "inventory.reserved");
    cr_assert_eq(ev->stock_reserved->lines[0]->quantity, 2);
    cr_assert_not_null(ev->stock_reserved->lines[0]->amount, "a reserved line carries its spend");
    cr_assert_eq(ev->stock_reserved->lines[0]->amount->amount_minor, 200, "what the order paid, not the catalog");
    cr_assert_str_eq(ev->stock_reserved->lines[0]->amount->currency, "GBP");
    char id[37];
    shop_inv_outcome_id(SHOP_INV_RESERVED, "o-2", NULL, NULL, id);
    cr_assert_str_eq(ev->id, id);

    ev = outbox_event(f, 2);
    cr_assert_str_eq(ev->type, "inventory.low_stock");
    cr_assert_eq(ev->low_stock->available, 4);
    cr_assert_eq(ev->low_stock->threshold, 5);
    cr_assert_str_eq(shop_event_key(ev), "p-1");
}

/* Lines of one product are summed into one stock line; so is what they cost. */
Test(inv_plan, reserved_amount_sums_the_lines_of_a_product)
{
    struct shop_inv_fold *f = shop_inv_fold_new(&arena, (struct shop_hash_seed){0, 0}, 0);
    shop_inv_fold_event(f, ev_upsert(&arena, 1, "p-1", "A", 100, 50));
    shop_inv_fold_event(f, ev_upsert(&arena, 2, "p-2", "B", 100, 50));
    const char *products[] = {"p-1", "p-2", "p-1"};
    const int qty[] = {2, 1, 3};
    Shopstream__V1__Event *svc = ev_placed(&arena, 3, "u-1", "o-1", 3, products, qty);
    svc->order_placed->lines[2]->unit_price->amount_minor = 70;   /* a service may post any price */
    svc->order_placed->total->amount_minor = 2 * 100 + 100 + 3 * 70;
    svc->occurred_at_ms += T0;
    svc->received_at_ms += T0;
    svc->actor_role = "service";
    svc->actor_id = "checkout";
    shop_inv_fold_event(f, svc);
    Shopstream__V1__Event *ev = outbox_event(f, 0);
    cr_assert_str_eq(ev->type, "inventory.reserved");
    cr_assert_eq(ev->stock_reserved->n_lines, 2);
    for (size_t i = 0; i < 2; i++) {
        const Shopstream__V1__StockLine *l = ev->stock_reserved->lines[i];
        bool one = strcmp(l->product_id, "p-1") == 0;
        cr_assert_eq(l->quantity, one ? 5 : 1);
        cr_assert_eq(l->amount->amount_minor, one ? 2 * 100 + 3 * 70 : 100, "%s", l->product_id);
    }
}
