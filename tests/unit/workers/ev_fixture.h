/* SPDX-License-Identifier: MIT
 * Builders of in-memory v1 events for the worker tests. Everything lives in the
 * given arena; ids are derived from a counter so they are canonical UUIDs.
 */
#ifndef TEST_WORKERS_EV_FIXTURE_H
#define TEST_WORKERS_EV_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "base/shop_arena.h"
#include "shopstream/v1/events.pb-c.h"

static inline Shopstream__V1__Event *ev_new(struct shop_arena *a, int id, const char *user, int64_t at_ms)
{
    Shopstream__V1__Event *ev = shop_arena_alloc(a, sizeof(*ev));
    shopstream__v1__event__init(ev);
    char *uuid = shop_arena_alloc(a, 37);
    snprintf(uuid, 37, "00000000-0000-4000-8000-%012d", id);
    ev->id = uuid;
    ev->user_id = (char *)user;
    ev->occurred_at_ms = at_ms;
    ev->received_at_ms = at_ms;
    return ev;
}

static inline Shopstream__V1__Money *money(struct shop_arena *a, int64_t amount, const char *cur)
{
    Shopstream__V1__Money *m = shop_arena_alloc(a, sizeof(*m));
    shopstream__v1__money__init(m);
    m->amount_minor = amount;
    m->currency = (char *)cur;
    return m;
}

static inline Shopstream__V1__Event *ev_view(struct shop_arena *a, int id, const char *user, const char *product)
{
    Shopstream__V1__Event *ev = ev_new(a, id, user, 1000 + id);
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED;
    ev->product_viewed = shop_arena_alloc(a, sizeof(*ev->product_viewed));
    shopstream__v1__product_viewed__init(ev->product_viewed);
    ev->product_viewed->product_id = (char *)product;
    return ev;
}

static inline Shopstream__V1__Event *ev_search(struct shop_arena *a, int id, const char *user)
{
    Shopstream__V1__Event *ev = ev_new(a, id, user, 1000 + id);
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_SEARCH_PERFORMED;
    ev->search_performed = shop_arena_alloc(a, sizeof(*ev->search_performed));
    shopstream__v1__search_performed__init(ev->search_performed);
    ev->search_performed->query = "socks";
    return ev;
}

static inline Shopstream__V1__Event *ev_add(struct shop_arena *a, int id, const char *user, const char *product,
                                            int qty, int64_t price)
{
    Shopstream__V1__Event *ev = ev_new(a, id, user, 1000 + id);
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED;
    ev->cart_item_added = shop_arena_alloc(a, sizeof(*ev->cart_item_added));
    shopstream__v1__cart_item_added__init(ev->cart_item_added);
    ev->cart_item_added->product_id = (char *)product;
    ev->cart_item_added->quantity = qty;
    if (price >= 0)
        ev->cart_item_added->unit_price = money(a, price, "GBP");
    return ev;
}

static inline Shopstream__V1__Event *ev_set(struct shop_arena *a, int id, const char *user, const char *product,
                                            int qty)
{
    Shopstream__V1__Event *ev = ev_new(a, id, user, 1000 + id);
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_QUANTITY_SET;
    ev->cart_quantity_set = shop_arena_alloc(a, sizeof(*ev->cart_quantity_set));
    shopstream__v1__cart_quantity_set__init(ev->cart_quantity_set);
    ev->cart_quantity_set->product_id = (char *)product;
    ev->cart_quantity_set->quantity = qty;
    return ev;
}

static inline Shopstream__V1__Event *ev_remove(struct shop_arena *a, int id, const char *user, const char *product)
{
    Shopstream__V1__Event *ev = ev_new(a, id, user, 1000 + id);
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_REMOVED;
    ev->cart_item_removed = shop_arena_alloc(a, sizeof(*ev->cart_item_removed));
    shopstream__v1__cart_item_removed__init(ev->cart_item_removed);
    ev->cart_item_removed->product_id = (char *)product;
    return ev;
}

static inline Shopstream__V1__Event *ev_clear(struct shop_arena *a, int id, const char *user)
{
    Shopstream__V1__Event *ev = ev_new(a, id, user, 1000 + id);
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_CLEARED;
    ev->cart_cleared = shop_arena_alloc(a, sizeof(*ev->cart_cleared));
    shopstream__v1__cart_cleared__init(ev->cart_cleared);
    return ev;
}

/* An order with lines {product, qty} at unit price 100 GBP-minor each. */
static inline Shopstream__V1__Event *ev_placed(struct shop_arena *a, int id, const char *user, const char *order,
                                               int n, const char *const *products, const int *qty)
{
    Shopstream__V1__Event *ev = ev_new(a, id, user, 1000 + id);
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED;
    Shopstream__V1__OrderPlaced *op = shop_arena_alloc(a, sizeof(*op));
    shopstream__v1__order_placed__init(op);
    op->order_id = (char *)order;
    op->n_lines = (size_t)n;
    op->lines = shop_arena_alloc(a, (size_t)n * sizeof(*op->lines));
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        Shopstream__V1__OrderLine *l = shop_arena_alloc(a, sizeof(*l));
        shopstream__v1__order_line__init(l);
        l->product_id = (char *)products[i];
        l->quantity = qty[i];
        l->unit_price = money(a, 100, "GBP");
        total += 100 * qty[i];
        op->lines[i] = l;
    }
    op->total = money(a, total, "GBP");
    ev->order_placed = op;
    return ev;
}

#define EV_ORDER_STATUS(fn, field, type, init, CASE)                                                \
    static inline Shopstream__V1__Event *fn(struct shop_arena *a, int id, const char *user,           \
                                            const char *order)                                        \
    {                                                                                                 \
        Shopstream__V1__Event *ev = ev_new(a, id, user, 1000 + id);                                   \
        ev->payload_case = CASE;                                                                      \
        type *m = shop_arena_alloc(a, sizeof(*m));                                                    \
        init(m);                                                                                      \
        m->order_id = (char *)order;                                                                  \
        ev->field = m;                                                                                \
        return ev;                                                                                    \
    }
EV_ORDER_STATUS(ev_paid, order_paid, Shopstream__V1__OrderPaid, shopstream__v1__order_paid__init,
                SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PAID)
EV_ORDER_STATUS(ev_shipped, order_shipped, Shopstream__V1__OrderShipped, shopstream__v1__order_shipped__init,
                SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_SHIPPED)
EV_ORDER_STATUS(ev_delivered, order_delivered, Shopstream__V1__OrderDelivered,
                shopstream__v1__order_delivered__init, SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_DELIVERED)
EV_ORDER_STATUS(ev_cancelled, order_cancelled, Shopstream__V1__OrderCancelled,
                shopstream__v1__order_cancelled__init, SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_CANCELLED)

static inline Shopstream__V1__Event *ev_upsert(struct shop_arena *a, int id, const char *product, const char *name,
                                               int64_t price, int64_t stock)
{
    Shopstream__V1__Event *ev = ev_new(a, id, "admin", 1000 + id);
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_UPSERTED;
    Shopstream__V1__ProductUpserted *u = shop_arena_alloc(a, sizeof(*u));
    shopstream__v1__product_upserted__init(u);
    u->product_id = (char *)product;
    u->name = (char *)name;
    u->category = "";
    u->price = money(a, price, "GBP");
    u->stock = stock;
    ev->product_upserted = u;
    return ev;
}

static inline Shopstream__V1__Event *ev_adjust(struct shop_arena *a, int id, const char *product, int64_t delta)
{
    Shopstream__V1__Event *ev = ev_new(a, id, "admin", 1000 + id);
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_ADJUSTED;
    Shopstream__V1__StockAdjusted *s = shop_arena_alloc(a, sizeof(*s));
    shopstream__v1__stock_adjusted__init(s);
    s->product_id = (char *)product;
    s->delta = delta;
    ev->stock_adjusted = s;
    return ev;
}

/* Stamps the actor as the edge does (role "shopper", "service" or "admin"). */
static inline Shopstream__V1__Event *ev_as(Shopstream__V1__Event *ev, const char *role, const char *actor)
{
    ev->actor_role = (char *)role;
    ev->actor_id = (char *)actor;
    return ev;
}

/* The inventory's decisions (user_id: the order's owner). */
static inline Shopstream__V1__Event *ev_reserved(struct shop_arena *a, int id, const char *user, const char *order,
                                                 const char *product, int64_t qty)
{
    Shopstream__V1__Event *ev = ev_as(ev_new(a, id, user, 1000 + id), "service", "inventory");
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED;
    ev->type = "inventory.reserved";
    Shopstream__V1__StockReserved *r = shop_arena_alloc(a, sizeof(*r));
    shopstream__v1__stock_reserved__init(r);
    r->order_id = (char *)order;
    Shopstream__V1__StockLine *l = shop_arena_alloc(a, sizeof(*l));
    shopstream__v1__stock_line__init(l);
    l->product_id = (char *)product;
    l->quantity = qty;
    r->n_lines = 1;
    r->lines = shop_arena_alloc(a, sizeof(*r->lines));
    r->lines[0] = l;
    ev->stock_reserved = r;
    return ev;
}

/* One short line; price < 0: no catalog price (an unknown product). */
static inline Shopstream__V1__Event *ev_rejected(struct shop_arena *a, int id, const char *user, const char *order,
                                                 const char *reason, const char *product, int64_t requested,
                                                 int64_t available, int64_t price)
{
    Shopstream__V1__Event *ev = ev_as(ev_new(a, id, user, 1000 + id), "service", "inventory");
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED;
    ev->type = "inventory.rejected";
    Shopstream__V1__StockRejected *r = shop_arena_alloc(a, sizeof(*r));
    shopstream__v1__stock_rejected__init(r);
    r->order_id = (char *)order;
    r->reason = (char *)reason;
    Shopstream__V1__StockShortLine *l = shop_arena_alloc(a, sizeof(*l));
    shopstream__v1__stock_short_line__init(l);
    l->product_id = (char *)product;
    l->requested = requested;
    l->available = available;
    if (price >= 0)
        l->catalog_price = money(a, price, "GBP");
    r->n_lines = 1;
    r->lines = shop_arena_alloc(a, sizeof(*r->lines));
    r->lines[0] = l;
    ev->stock_rejected = r;
    return ev;
}

#endif
