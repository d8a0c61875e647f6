/* SPDX-License-Identifier: MIT
 * The type table: wire names, streams (topics), Kafka keys and the admin-only
 * rule for each payload case. Pure. Invariant: one row per payload case, in
 * payload-number order, so a lookup is an index.
 */
#include <string.h>

#include "proto/core/event_internal.h"

#define P(x) SHOPSTREAM__V1__EVENT__PAYLOAD_##x
#define D(x) &shopstream__v1__##x##__descriptor

static const struct shop__type_info types[] = {
    {P(PRODUCT_VIEWED), "product.viewed", SHOP_STREAM_BROWSE, D(product_viewed)},
    {P(SEARCH_PERFORMED), "search.performed", SHOP_STREAM_BROWSE, D(search_performed)},
    {P(CART_ITEM_ADDED), "cart.item_added", SHOP_STREAM_CART, D(cart_item_added)},
    {P(CART_ITEM_REMOVED), "cart.item_removed", SHOP_STREAM_CART, D(cart_item_removed)},
    {P(CART_QUANTITY_SET), "cart.quantity_set", SHOP_STREAM_CART, D(cart_quantity_set)},
    {P(CART_CLEARED), "cart.cleared", SHOP_STREAM_CART, D(cart_cleared)},
    {P(ORDER_PLACED), "order.placed", SHOP_STREAM_ORDER, D(order_placed)},
    {P(ORDER_PAID), "order.paid", SHOP_STREAM_ORDER, D(order_paid)},
    {P(ORDER_SHIPPED), "order.shipped", SHOP_STREAM_ORDER, D(order_shipped)},
    {P(ORDER_DELIVERED), "order.delivered", SHOP_STREAM_ORDER, D(order_delivered)},
    {P(ORDER_CANCELLED), "order.cancelled", SHOP_STREAM_ORDER, D(order_cancelled)},
    {P(PRODUCT_UPSERTED), "catalog.product_upserted", SHOP_STREAM_CATALOG, D(product_upserted)},
    {P(STOCK_ADJUSTED), "catalog.stock_adjusted", SHOP_STREAM_CATALOG, D(stock_adjusted)},
};

#define N_TYPES (sizeof(types) / sizeof(types[0]))
#define FIRST_CASE P(PRODUCT_VIEWED)

const struct shop__type_info *shop__type_info(Shopstream__V1__Event__PayloadCase pc)
{
    if ((int)pc < (int)FIRST_CASE || (int)pc >= (int)FIRST_CASE + (int)N_TYPES)
        return NULL;
    return &types[pc - FIRST_CASE];
}

const char *shop_event_type_name(Shopstream__V1__Event__PayloadCase pc)
{
    const struct shop__type_info *t = shop__type_info(pc);
    return t != NULL ? t->name : NULL;
}

int shop_event_type_parse(const char *name, Shopstream__V1__Event__PayloadCase *out)
{
    if (name == NULL)
        return SHOP_EINVAL;
    for (size_t i = 0; i < N_TYPES; i++) {
        if (strcmp(types[i].name, name) == 0) {
            *out = types[i].pc;
            return 0;
        }
    }
    return SHOP_EINVAL;
}

const ProtobufCMessage *shop__event_payload(const Shopstream__V1__Event *ev)
{
    if (shop__type_info(ev->payload_case) == NULL)
        return NULL;
    /* Every member of the payload union is a message pointer at the same address. */
    return (const ProtobufCMessage *)ev->product_viewed;
}

enum shop_stream shop_event_stream(const Shopstream__V1__Event *ev)
{
    const struct shop__type_info *t = shop__type_info(ev->payload_case);
    return t != NULL ? t->stream : SHOP_STREAM_COUNT;
}

const char *shop_stream_name(enum shop_stream s)
{
    static const char *const names[SHOP_STREAM_COUNT] = {"browse", "cart", "order", "catalog"};
    if ((int)s < 0 || s >= SHOP_STREAM_COUNT)
        return NULL;
    return names[s];
}

const char *shop_event_key(const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case P(PRODUCT_UPSERTED):
        return ev->product_upserted != NULL ? shop__str(ev->product_upserted->product_id) : "";
    case P(STOCK_ADJUSTED):
        return ev->stock_adjusted != NULL ? shop__str(ev->stock_adjusted->product_id) : "";
    default:
        return shop__str(ev->user_id);
    }
}

bool shop_event_is_admin_only(const Shopstream__V1__Event *ev)
{
    return shop_event_stream(ev) == SHOP_STREAM_CATALOG;
}
