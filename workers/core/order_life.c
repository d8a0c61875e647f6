/* SPDX-License-Identifier: MIT
 * The order life cycle as a table: one row per status, one column per step. Pure.
 */
#include "workers/core/order_life.h"

#include <string.h>

static const char *const status_names[SHOP_ORDER_STATUS_COUNT] = {
    [SHOP_ORDER_NONE] = "none",           [SHOP_ORDER_PLACED] = "placed",
    [SHOP_ORDER_CONFIRMED] = "confirmed", [SHOP_ORDER_REJECTED] = "rejected",
    [SHOP_ORDER_PAID] = "paid",           [SHOP_ORDER_SHIPPED] = "shipped",
    [SHOP_ORDER_DELIVERED] = "delivered", [SHOP_ORDER_CANCELLED] = "cancelled",
};

const char *shop_order_status_name(enum shop_order_status s)
{
    return (unsigned)s < SHOP_ORDER_STATUS_COUNT ? status_names[s] : "none";
}

enum shop_order_status shop_order_status_parse(const char *s)
{
    for (int i = SHOP_ORDER_PLACED; i < SHOP_ORDER_STATUS_COUNT; i++) {
        if (s != NULL && strcmp(s, status_names[i]) == 0)
            return (enum shop_order_status)i;
    }
    return SHOP_ORDER_NONE;
}

#define P(x) SHOPSTREAM__V1__EVENT__PAYLOAD_##x

bool shop_order_step_of(const Shopstream__V1__Event *ev, enum shop_order_step *out)
{
    switch (ev->payload_case) {
    case P(ORDER_PLACED): *out = SHOP_STEP_PLACE; return true;
    case P(STOCK_RESERVED): *out = SHOP_STEP_CONFIRM; return true;
    case P(STOCK_REJECTED): *out = SHOP_STEP_REJECT; return true;
    case P(ORDER_PAID): *out = SHOP_STEP_PAY; return true;
    case P(ORDER_SHIPPED): *out = SHOP_STEP_SHIP; return true;
    case P(ORDER_DELIVERED): *out = SHOP_STEP_DELIVER; return true;
    case P(ORDER_CANCELLED): *out = SHOP_STEP_CANCEL; return true;
    default: return false;
    }
}

/* A cell: the verdict and, for a move, the next status. X refuses as illegal. */
struct cell {
    enum shop_order_verdict verdict;
    enum shop_order_status next;
};

#define X {SHOP_ORDER_REFUSE, SHOP_ORDER_NONE}
#define M(s) {SHOP_ORDER_MOVE, SHOP_ORDER_##s}
#define N {SHOP_ORDER_NOTE, SHOP_ORDER_NONE}

/* Rows: status; columns: place, confirm, reject, pay, ship, deliver, cancel. A
 * placement of a known order and any step of an unknown one are refused with their
 * own reasons before the table is read. */
static const struct cell table[SHOP_ORDER_STATUS_COUNT][SHOP_STEP_COUNT] = {
    [SHOP_ORDER_PLACED] = {X, M(CONFIRMED), M(REJECTED), M(PAID), X, X, M(CANCELLED)},
    [SHOP_ORDER_CONFIRMED] = {X, X, X, M(PAID), X, X, M(CANCELLED)},
    [SHOP_ORDER_REJECTED] = {X, X, X, X, X, X, X},
    [SHOP_ORDER_PAID] = {X, N, M(REJECTED), X, M(SHIPPED), X, M(CANCELLED)},
    [SHOP_ORDER_SHIPPED] = {X, N, M(REJECTED), X, X, M(DELIVERED), X},
    [SHOP_ORDER_DELIVERED] = {X, N, M(REJECTED), X, X, X, X},
    [SHOP_ORDER_CANCELLED] = {X, N, M(REJECTED), X, X, X, X},
};

enum shop_order_verdict shop_order_judge(enum shop_order_status cur, enum shop_order_step step,
                                         enum shop_order_status *next, const char **reason)
{
    if ((unsigned)step >= SHOP_STEP_COUNT || (unsigned)cur >= SHOP_ORDER_STATUS_COUNT) {
        *reason = SHOP_REFUSE_ILLEGAL;
        return SHOP_ORDER_REFUSE;
    }
    if (cur == SHOP_ORDER_NONE) {
        if (step == SHOP_STEP_PLACE) {
            *next = SHOP_ORDER_PLACED;
            return SHOP_ORDER_MOVE;
        }
        *reason = SHOP_REFUSE_UNKNOWN_ORDER;
        return SHOP_ORDER_REFUSE;
    }
    if (step == SHOP_STEP_PLACE) {
        *reason = SHOP_REFUSE_ORDER_EXISTS;
        return SHOP_ORDER_REFUSE;
    }
    const struct cell *c = &table[cur][step];
    if (c->verdict == SHOP_ORDER_REFUSE)
        *reason = SHOP_REFUSE_ILLEGAL;
    else if (c->verdict == SHOP_ORDER_MOVE)
        *next = c->next;
    return c->verdict;
}

bool shop_actor_of(const Shopstream__V1__Event *ev, enum shop_actor *out)
{
    static const char *const names[] = {"shopper", "service", "admin"};
    const char *role = ev->actor_role != NULL ? ev->actor_role : "";
    if (role[0] == '\0') {
        *out = SHOP_ACTOR_LEGACY;
        return true;
    }
    for (int i = 0; i < 3; i++) {
        if (strcmp(role, names[i]) == 0) {
            *out = (enum shop_actor)(SHOP_ACTOR_SHOPPER + i);
            return true;
        }
    }
    return false;
}

const char *shop_order_authority(const Shopstream__V1__Event *ev, enum shop_order_step step,
                                 const char *owner)
{
    if (step == SHOP_STEP_CONFIRM || step == SHOP_STEP_REJECT)
        return NULL;
    enum shop_actor actor;
    if (!shop_actor_of(ev, &actor))
        return SHOP_REFUSE_NOT_ALLOWED;
    if (actor == SHOP_ACTOR_SERVICE || actor == SHOP_ACTOR_ADMIN)
        return NULL;
    if (actor == SHOP_ACTOR_SHOPPER && step != SHOP_STEP_PLACE && step != SHOP_STEP_CANCEL)
        return SHOP_REFUSE_NOT_ALLOWED;
    /* A shopper or a legacy record: the event's user must own the order. */
    const char *user = ev->user_id != NULL ? ev->user_id : "";
    if (owner != NULL && owner[0] != '\0' && strcmp(owner, user) != 0)
        return SHOP_REFUSE_NOT_OWNER;
    return NULL;
}
