/* SPDX-License-Identifier: MIT
 * The type table: wire names, streams (topics) and Kafka keys of each payload
 * case (who may post which is edge/core/edge_authz.c's). Pure. Invariant: one row
 * per payload case, in payload-number order, so a lookup is an index.
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
    {P(STOCK_RESERVED), "inventory.reserved", SHOP_STREAM_INVENTORY, D(stock_reserved)},
    {P(STOCK_REJECTED), "inventory.rejected", SHOP_STREAM_INVENTORY, D(stock_rejected)},
    {P(STOCK_RELEASED), "inventory.released", SHOP_STREAM_INVENTORY, D(stock_released)},
    {P(STOCK_COMMITTED), "inventory.committed", SHOP_STREAM_INVENTORY, D(stock_committed)},
    {P(LOW_STOCK), "inventory.low_stock", SHOP_STREAM_INVENTORY, D(low_stock)},
    {P(ML_SEGMENT_CHANGED), "ml.segment_changed", SHOP_STREAM_ML, D(ml_segment_changed)},
    {P(ML_MODEL_PUBLISHED), "ml.model_published", SHOP_STREAM_ML, D(ml_model_published)},
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

#define ORDER_OF(field) (ev->field != NULL ? shop__str(ev->field->order_id) : "")

const char *shop_event_order_id(const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case P(ORDER_PLACED):
        return ORDER_OF(order_placed);
    case P(ORDER_PAID):
        return ORDER_OF(order_paid);
    case P(ORDER_SHIPPED):
        return ORDER_OF(order_shipped);
    case P(ORDER_DELIVERED):
        return ORDER_OF(order_delivered);
    case P(ORDER_CANCELLED):
        return ORDER_OF(order_cancelled);
    case P(STOCK_RESERVED):
        return ORDER_OF(stock_reserved);
    case P(STOCK_REJECTED):
        return ORDER_OF(stock_rejected);
    case P(STOCK_RELEASED):
        return ORDER_OF(stock_released);
    case P(STOCK_COMMITTED):
        return ORDER_OF(stock_committed);
    default:
        return "";
    }
}

/* Orders by order id, so an order's events keep their order whoever posts them
 * (shopper, payments, fulfilment); products by product id; the rest by user. */
const char *shop_event_key(const Shopstream__V1__Event *ev)
{
    switch (ev->payload_case) {
    case P(PRODUCT_UPSERTED):
        return ev->product_upserted != NULL ? shop__str(ev->product_upserted->product_id) : "";
    case P(STOCK_ADJUSTED):
        return ev->stock_adjusted != NULL ? shop__str(ev->stock_adjusted->product_id) : "";
    case P(LOW_STOCK):
        return ev->low_stock != NULL ? shop__str(ev->low_stock->product_id) : "";
    case P(ML_SEGMENT_CHANGED):
        return ev->ml_segment_changed != NULL ? shop__str(ev->ml_segment_changed->user_id) : "";
    case P(ML_MODEL_PUBLISHED):
        return ev->ml_model_published != NULL ? shop__str(ev->ml_model_published->model) : "";
    default:
        break;
    }
    const char *order = shop_event_order_id(ev);
    return order[0] != '\0' ? order : shop__str(ev->user_id);
}
