/* SPDX-License-Identifier: MIT
 * An outcome decided by the fold as a shopstream.v1.Event (inventory.*): the
 * deterministic id, the cause's times (so folding the batch again gives the same
 * bytes), the order's owner as user_id. Validated like any record before it is
 * written to the outbox, so subscribers can rely on it. Pure.
 */
#include <string.h>

#include "proto/core/shop_event.h"
#include "workers/core/inv.h"

#define INV_SOURCE "shopstream-worker/inventory"
#define INV_ACTOR "shopstream-inventory"

static Shopstream__V1__Money *money_new(struct shop_arena *arena, int64_t amount, const char *currency)
{
    Shopstream__V1__Money *m = shop_arena_alloc(arena, sizeof(*m));
    shopstream__v1__money__init(m);
    m->amount_minor = amount;
    m->currency = (char *)currency;
    return m;
}

/* What the order's lines of product cost, from the placement that was reserved: the
 * spend a subscriber (the ML worker) needs without joining the order topic. NULL when
 * the cause is no placement or the sum would overflow (the validator bounds a line,
 * not the sum of many). */
static Shopstream__V1__Money *line_amount(const Shopstream__V1__Event *cause, const char *product_id, struct shop_arena *arena)
{
    if (cause == NULL || cause->payload_case != SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED ||
        cause->order_placed == NULL)
        return NULL;
    int64_t sum = 0;
    const char *currency = NULL;
    for (size_t i = 0; i < cause->order_placed->n_lines; i++) {
        const Shopstream__V1__OrderLine *l = cause->order_placed->lines[i];
        if (l == NULL || l->unit_price == NULL || strcmp(l->product_id, product_id) != 0)
            continue;
        int64_t cost;
        if (__builtin_mul_overflow((int64_t)l->quantity, l->unit_price->amount_minor, &cost) ||
            __builtin_add_overflow(sum, cost, &sum))
            return NULL;
        currency = l->unit_price->currency;
    }
    if (currency == NULL)
        return NULL;
    Shopstream__V1__Money *m = shop_arena_alloc(arena, sizeof(*m));
    shopstream__v1__money__init(m);
    m->amount_minor = sum;
    m->currency = (char *)currency;
    return m;
}

static Shopstream__V1__StockLine **stock_lines(const struct shop_inv_outcome *oc, struct shop_arena *arena)
{
    Shopstream__V1__StockLine **lines = shop_arena_alloc(arena, (oc->n_lines + 1) * sizeof(*lines));
    for (size_t i = 0; i < oc->n_lines; i++) {
        Shopstream__V1__StockLine *l = shop_arena_alloc(arena, sizeof(*l));
        shopstream__v1__stock_line__init(l);
        l->product_id = (char *)oc->lines[i].product_id;
        l->quantity = oc->lines[i].requested;
        if (oc->kind == SHOP_INV_RESERVED)
            l->amount = line_amount(oc->cause, l->product_id, arena);
        lines[i] = l;
    }
    return lines;
}

static Shopstream__V1__StockRejected *rejected_msg(const struct shop_inv_outcome *oc, struct shop_arena *arena)
{
    Shopstream__V1__StockRejected *r = shop_arena_alloc(arena, sizeof(*r));
    shopstream__v1__stock_rejected__init(r);
    r->order_id = (char *)oc->order_id;
    r->reason = (char *)shop_inv_reason_name(oc->reason);
    r->n_lines = oc->n_lines;
    r->lines = shop_arena_alloc(arena, (oc->n_lines + 1) * sizeof(*r->lines));
    for (size_t i = 0; i < oc->n_lines; i++) {
        const struct shop_inv_line *src = &oc->lines[i];
        Shopstream__V1__StockShortLine *l = shop_arena_alloc(arena, sizeof(*l));
        shopstream__v1__stock_short_line__init(l);
        l->product_id = (char *)src->product_id;
        l->requested = src->requested;
        l->available = src->available > 0 ? src->available : 0;
        if (src->has_price)
            l->catalog_price = money_new(arena, src->price_minor, src->currency);
        r->lines[i] = l;
    }
    return r;
}

/* Sets the payload of kind (all but rejected and low stock carry order_id and lines). */
static void set_payload(Shopstream__V1__Event *ev, const struct shop_inv_outcome *oc, struct shop_arena *arena)
{
    switch (oc->kind) {
    case SHOP_INV_RESERVED:
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED;
        ev->stock_reserved = shop_arena_alloc(arena, sizeof(*ev->stock_reserved));
        shopstream__v1__stock_reserved__init(ev->stock_reserved);
        ev->stock_reserved->order_id = (char *)oc->order_id;
        ev->stock_reserved->n_lines = oc->n_lines;
        ev->stock_reserved->lines = stock_lines(oc, arena);
        break;
    case SHOP_INV_REJECTED:
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED;
        ev->stock_rejected = rejected_msg(oc, arena);
        break;
    case SHOP_INV_RELEASED:
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RELEASED;
        ev->stock_released = shop_arena_alloc(arena, sizeof(*ev->stock_released));
        shopstream__v1__stock_released__init(ev->stock_released);
        ev->stock_released->order_id = (char *)oc->order_id;
        ev->stock_released->n_lines = oc->n_lines;
        ev->stock_released->lines = stock_lines(oc, arena);
        break;
    case SHOP_INV_COMMITTED:
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_COMMITTED;
        ev->stock_committed = shop_arena_alloc(arena, sizeof(*ev->stock_committed));
        shopstream__v1__stock_committed__init(ev->stock_committed);
        ev->stock_committed->order_id = (char *)oc->order_id;
        ev->stock_committed->n_lines = oc->n_lines;
        ev->stock_committed->lines = stock_lines(oc, arena);
        break;
    default:
        ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_LOW_STOCK;
        ev->low_stock = shop_arena_alloc(arena, sizeof(*ev->low_stock));
        shopstream__v1__low_stock__init(ev->low_stock);
        ev->low_stock->product_id = (char *)oc->key;
        ev->low_stock->available = oc->available;
        ev->low_stock->threshold = oc->threshold;
        break;
    }
}

int shop_inv_outcome_encode(const struct shop_inv_outcome *oc, struct shop_arena *arena, uint8_t **out,
                            size_t *len, struct shop_err *err)
{
    Shopstream__V1__Event ev;
    shopstream__v1__event__init(&ev);
    ev.id = (char *)oc->event_id;
    ev.type = (char *)shop_inv_kind_type(oc->kind);
    ev.occurred_at_ms = oc->cause->occurred_at_ms;
    ev.received_at_ms = oc->cause->received_at_ms;
    ev.user_id = (char *)(oc->user_id != NULL ? oc->user_id : INV_ACTOR);
    ev.source = INV_SOURCE;
    ev.actor_id = INV_ACTOR;
    ev.actor_role = "service";
    set_payload(&ev, oc, arena);
    struct shop_problem p = {.index = -1};
    if (shop_event_validate(&ev, NULL, &p) < 0)
        return shop_err_set(err, SHOP_EINVAL, "outcome %s of %s is invalid: %s %s", ev.type, oc->key, p.field,
                            p.detail);
    *len = shopstream__v1__event__get_packed_size(&ev);
    *out = shop_arena_alloc_uninit(arena, *len + 1);
    shopstream__v1__event__pack(&ev, *out);
    return 0;
}
