/* SPDX-License-Identifier: MIT
 * workers/core/order_life: the whole status x step table against the rules of
 * docs/events.md written out independently, and who may take which step. */
#include <criterion/criterion.h>
#include <string.h>

#include "workers/core/order_life.h"

/* The rules as prose turned into a predicate, independent of the table. */
static enum shop_order_verdict expected(enum shop_order_status s, enum shop_order_step st,
                                        enum shop_order_status *next)
{
    bool open = s == SHOP_ORDER_PLACED || s == SHOP_ORDER_CONFIRMED || s == SHOP_ORDER_PAID;
    if (s == SHOP_ORDER_NONE && st != SHOP_STEP_PLACE)
        return SHOP_ORDER_REFUSE;   /* nothing happens to an order never placed */
    switch (st) {
    case SHOP_STEP_PLACE:
        *next = SHOP_ORDER_PLACED;
        return s == SHOP_ORDER_NONE ? SHOP_ORDER_MOVE : SHOP_ORDER_REFUSE;
    case SHOP_STEP_CONFIRM:   /* the one decision: late, it is only noted */
        *next = SHOP_ORDER_CONFIRMED;
        if (s == SHOP_ORDER_PLACED)
            return SHOP_ORDER_MOVE;
        return s == SHOP_ORDER_CONFIRMED || s == SHOP_ORDER_REJECTED ? SHOP_ORDER_REFUSE : SHOP_ORDER_NOTE;
    case SHOP_STEP_REJECT:    /* the one decision: late, it still wins */
        *next = SHOP_ORDER_REJECTED;
        return s == SHOP_ORDER_CONFIRMED || s == SHOP_ORDER_REJECTED ? SHOP_ORDER_REFUSE : SHOP_ORDER_MOVE;
    case SHOP_STEP_PAY:
        *next = SHOP_ORDER_PAID;
        return s == SHOP_ORDER_PLACED || s == SHOP_ORDER_CONFIRMED ? SHOP_ORDER_MOVE : SHOP_ORDER_REFUSE;
    case SHOP_STEP_SHIP:
        *next = SHOP_ORDER_SHIPPED;
        return s == SHOP_ORDER_PAID ? SHOP_ORDER_MOVE : SHOP_ORDER_REFUSE;
    case SHOP_STEP_DELIVER:
        *next = SHOP_ORDER_DELIVERED;
        return s == SHOP_ORDER_SHIPPED ? SHOP_ORDER_MOVE : SHOP_ORDER_REFUSE;
    default:
        *next = SHOP_ORDER_CANCELLED;
        return open ? SHOP_ORDER_MOVE : SHOP_ORDER_REFUSE;
    }
}

Test(order_life, every_status_and_step)
{
    int moves = 0;
    for (int s = 0; s < SHOP_ORDER_STATUS_COUNT; s++) {
        for (int st = 0; st < SHOP_STEP_COUNT; st++) {
            enum shop_order_status want_next = SHOP_ORDER_NONE, next = SHOP_ORDER_NONE;
            const char *reason = NULL;
            enum shop_order_verdict want = expected((enum shop_order_status)s, (enum shop_order_step)st, &want_next);
            enum shop_order_verdict got = shop_order_judge((enum shop_order_status)s, (enum shop_order_step)st, &next, &reason);
            cr_assert_eq(got, want, "status %s step %d", shop_order_status_name((enum shop_order_status)s), st);
            if (got == SHOP_ORDER_MOVE) {
                cr_assert_eq(next, want_next, "status %s step %d", shop_order_status_name((enum shop_order_status)s), st);
                moves++;
            }
            if (got == SHOP_ORDER_REFUSE)
                cr_assert_not_null(reason);
        }
    }
    cr_assert_eq(moves, 14);   /* none 1, placed 4, confirmed 2, paid 3, shipped 2, delivered 1, cancelled 1 */
}

Test(order_life, refusal_reasons)
{
    enum shop_order_status next;
    const char *reason = NULL;
    cr_assert_eq(shop_order_judge(SHOP_ORDER_CONFIRMED, SHOP_STEP_PLACE, &next, &reason), SHOP_ORDER_REFUSE);
    cr_assert_str_eq(reason, SHOP_REFUSE_ORDER_EXISTS);
    cr_assert_eq(shop_order_judge(SHOP_ORDER_NONE, SHOP_STEP_CANCEL, &next, &reason), SHOP_ORDER_REFUSE);
    cr_assert_str_eq(reason, SHOP_REFUSE_UNKNOWN_ORDER);
    cr_assert_eq(shop_order_judge(SHOP_ORDER_SHIPPED, SHOP_STEP_CANCEL, &next, &reason), SHOP_ORDER_REFUSE);
    cr_assert_str_eq(reason, SHOP_REFUSE_ILLEGAL);
}

Test(order_life, status_names_round_trip)
{
    for (int s = SHOP_ORDER_PLACED; s < SHOP_ORDER_STATUS_COUNT; s++)
        cr_assert_eq(shop_order_status_parse(shop_order_status_name((enum shop_order_status)s)), s);
    cr_assert_eq(shop_order_status_parse("Placed"), SHOP_ORDER_NONE);
    cr_assert_eq(shop_order_status_parse(NULL), SHOP_ORDER_NONE);
    cr_assert_str_eq(shop_order_status_name(SHOP_ORDER_STATUS_COUNT), "none");
}

static Shopstream__V1__Event ev_of(Shopstream__V1__Event__PayloadCase pc, char *user, char *role)
{
    Shopstream__V1__Event ev = SHOPSTREAM__V1__EVENT__INIT;
    ev.payload_case = pc;
    ev.user_id = user;
    ev.actor_id = role[0] != '\0' ? user : "";
    ev.actor_role = role;
    return ev;
}

#define P(x) SHOPSTREAM__V1__EVENT__PAYLOAD_##x

Test(order_life, steps_of_events)
{
    static const Shopstream__V1__Event__PayloadCase cases[] = {
        P(ORDER_PLACED), P(STOCK_RESERVED), P(STOCK_REJECTED), P(ORDER_PAID),
        P(ORDER_SHIPPED), P(ORDER_DELIVERED), P(ORDER_CANCELLED)};
    for (int i = 0; i < SHOP_STEP_COUNT; i++) {
        Shopstream__V1__Event ev = ev_of(cases[i], "u", "");
        enum shop_order_step st;
        cr_assert(shop_order_step_of(&ev, &st));
        cr_assert_eq(st, i);
    }
    Shopstream__V1__Event other = ev_of(P(STOCK_RELEASED), "u", "");
    enum shop_order_step st;
    cr_assert_not(shop_order_step_of(&other, &st));
    other.payload_case = P(CART_CLEARED);
    cr_assert_not(shop_order_step_of(&other, &st));
}

Test(order_life, shoppers_place_and_cancel_their_own_orders_only)
{
    Shopstream__V1__Event cancel = ev_of(P(ORDER_CANCELLED), "bob", "shopper");
    cr_assert_null(shop_order_authority(&cancel, SHOP_STEP_CANCEL, "bob"));
    cr_assert_str_eq(shop_order_authority(&cancel, SHOP_STEP_CANCEL, "alice"), SHOP_REFUSE_NOT_OWNER);
    Shopstream__V1__Event pay = ev_of(P(ORDER_PAID), "bob", "shopper");
    cr_assert_str_eq(shop_order_authority(&pay, SHOP_STEP_PAY, "bob"), SHOP_REFUSE_NOT_ALLOWED);
    Shopstream__V1__Event place = ev_of(P(ORDER_PLACED), "bob", "shopper");
    cr_assert_null(shop_order_authority(&place, SHOP_STEP_PLACE, ""));
}

Test(order_life, services_and_admins_act_on_any_order)
{
    const char *roles[] = {"service", "admin"};
    for (int r = 0; r < 2; r++) {
        Shopstream__V1__Event ship = ev_of(P(ORDER_SHIPPED), "svc", (char *)roles[r]);
        cr_assert_null(shop_order_authority(&ship, SHOP_STEP_SHIP, "alice"));
        Shopstream__V1__Event cancel = ev_of(P(ORDER_CANCELLED), "svc", (char *)roles[r]);
        cr_assert_null(shop_order_authority(&cancel, SHOP_STEP_CANCEL, "alice"));
    }
}

Test(order_life, legacy_records_need_the_owner_and_unknown_roles_are_refused)
{
    Shopstream__V1__Event paid = ev_of(P(ORDER_PAID), "alice", "");
    cr_assert_null(shop_order_authority(&paid, SHOP_STEP_PAY, "alice"));
    cr_assert_str_eq(shop_order_authority(&paid, SHOP_STEP_PAY, "bob"), SHOP_REFUSE_NOT_OWNER);
    Shopstream__V1__Event odd = ev_of(P(ORDER_PAID), "alice", "root");
    cr_assert_str_eq(shop_order_authority(&odd, SHOP_STEP_PAY, "alice"), SHOP_REFUSE_NOT_ALLOWED);
    Shopstream__V1__Event decided = ev_of(P(STOCK_RESERVED), "alice", "");
    cr_assert_null(shop_order_authority(&decided, SHOP_STEP_CONFIRM, "bob"));
}
