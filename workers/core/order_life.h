/* SPDX-License-Identifier: MIT
 * The order life cycle and who may move an order, shared by every role that
 * follows orders (the projector's read model, the inventory's reservations), so
 * that they agree on which events count. Pure.
 *
 *   placed -> confirmed | rejected        (the inventory's decision)
 *   placed | confirmed -> paid            (a payment may beat the confirmation)
 *   paid -> shipped -> delivered
 *   placed | confirmed | paid -> cancelled (never after shipped)
 *
 * The inventory decides at the placement, but its decision reaches a reader on
 * another topic, maybe after later steps. A late confirmation is noted in the history
 * and leaves the status; a late rejection always wins (the stock was never held, so
 * the inventory refused every step that followed: the paid, shipped, delivered or
 * cancelled the reader saw first never happened there). So every reader ends where the
 * inventory did, whatever order it read the topics in. Rules: docs/events.md.
 */
#ifndef SHOP_ORDER_LIFE_H
#define SHOP_ORDER_LIFE_H

#include <stdbool.h>

#include "proto/core/shop_event.h"

enum shop_order_status {
    SHOP_ORDER_NONE = 0,   /* not placed (yet) */
    SHOP_ORDER_PLACED,
    SHOP_ORDER_CONFIRMED,
    SHOP_ORDER_REJECTED,
    SHOP_ORDER_PAID,
    SHOP_ORDER_SHIPPED,
    SHOP_ORDER_DELIVERED,
    SHOP_ORDER_CANCELLED,
    SHOP_ORDER_STATUS_COUNT
};

/** "placed", ...; "none" for SHOP_ORDER_NONE and anything unknown. */
const char *shop_order_status_name(enum shop_order_status s);
/** Inverse of shop_order_status_name; SHOP_ORDER_NONE when unknown. */
enum shop_order_status shop_order_status_parse(const char *s);

/** What an event asks of an order. */
enum shop_order_step {
    SHOP_STEP_PLACE = 0,   /* order.placed */
    SHOP_STEP_CONFIRM,     /* inventory.reserved */
    SHOP_STEP_REJECT,      /* inventory.rejected */
    SHOP_STEP_PAY,         /* order.paid */
    SHOP_STEP_SHIP,        /* order.shipped */
    SHOP_STEP_DELIVER,     /* order.delivered */
    SHOP_STEP_CANCEL,      /* order.cancelled */
    SHOP_STEP_COUNT
};

/** The step of an order or inventory decision event; false for any other event
 *  (inventory.released/committed and low stock follow from steps, they are none). */
bool shop_order_step_of(const Shopstream__V1__Event *ev, enum shop_order_step *out);

enum shop_order_verdict {
    SHOP_ORDER_MOVE = 0,   /* the status becomes *next, the step is in the history */
    SHOP_ORDER_NOTE,       /* the step is in the history, the status stays */
    SHOP_ORDER_REFUSE      /* not applied: *reason says why */
};

/** Refusal reasons, as recorded and counted. */
#define SHOP_REFUSE_ORDER_EXISTS "order_exists"        /* a second order.placed for an id */
#define SHOP_REFUSE_UNKNOWN_ORDER "unknown_order"      /* a step for an order never placed */
#define SHOP_REFUSE_ILLEGAL "illegal_transition"       /* the life cycle forbids it */
#define SHOP_REFUSE_NOT_OWNER "not_owner"              /* a shopper acting on another's order */
#define SHOP_REFUSE_NOT_ALLOWED "not_allowed"          /* the actor's role may not take this step */

/** Judges step on an order in status cur. MOVE fills *next; REFUSE fills *reason. */
enum shop_order_verdict shop_order_judge(enum shop_order_status cur, enum shop_order_step step,
                                         enum shop_order_status *next, const char **reason);

/** Who posted an event: Event.actor_role. Records from before the edge stamped it
 *  (no actor fields) are LEGACY: taken as they were accepted then, when their
 *  user_id owns the order. */
enum shop_actor {
    SHOP_ACTOR_LEGACY = 0,
    SHOP_ACTOR_SHOPPER,
    SHOP_ACTOR_SERVICE,
    SHOP_ACTOR_ADMIN
};

/** The actor of ev; false when actor_role is set to something unknown. */
bool shop_actor_of(const Shopstream__V1__Event *ev, enum shop_actor *out);

/** Whether ev's actor may take step on an order owned by owner ("" when the order is
 *  not known yet: only a placement can meet that). NULL when it may, else the refusal
 *  reason. Decision steps are the inventory topic's and pass (only the inventory
 *  worker writes there). Shoppers may place and cancel their own orders; service and
 *  admin any step on any order. */
const char *shop_order_authority(const Shopstream__V1__Event *ev, enum shop_order_step step,
                                 const char *owner);

#endif
