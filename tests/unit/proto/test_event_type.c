/* SPDX-License-Identifier: MIT
 * Type names, streams, keys and the admin-only rule. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

#define P(x) SHOPSTREAM__V1__EVENT__PAYLOAD_##x

static const struct {
    Shopstream__V1__Event__PayloadCase pc;
    const char *name;
    enum shop_stream stream;
} table[] = {
    {P(PRODUCT_VIEWED), "product.viewed", SHOP_STREAM_BROWSE},
    {P(SEARCH_PERFORMED), "search.performed", SHOP_STREAM_BROWSE},
    {P(CART_ITEM_ADDED), "cart.item_added", SHOP_STREAM_CART},
    {P(CART_ITEM_REMOVED), "cart.item_removed", SHOP_STREAM_CART},
    {P(CART_QUANTITY_SET), "cart.quantity_set", SHOP_STREAM_CART},
    {P(CART_CLEARED), "cart.cleared", SHOP_STREAM_CART},
    {P(ORDER_PLACED), "order.placed", SHOP_STREAM_ORDER},
    {P(ORDER_PAID), "order.paid", SHOP_STREAM_ORDER},
    {P(ORDER_SHIPPED), "order.shipped", SHOP_STREAM_ORDER},
    {P(ORDER_DELIVERED), "order.delivered", SHOP_STREAM_ORDER},
    {P(ORDER_CANCELLED), "order.cancelled", SHOP_STREAM_ORDER},
    {P(PRODUCT_UPSERTED), "catalog.product_upserted", SHOP_STREAM_CATALOG},
    {P(STOCK_ADJUSTED), "catalog.stock_adjusted", SHOP_STREAM_CATALOG},
    {P(STOCK_RESERVED), "inventory.reserved", SHOP_STREAM_INVENTORY},
    {P(STOCK_REJECTED), "inventory.rejected", SHOP_STREAM_INVENTORY},
    {P(STOCK_RELEASED), "inventory.released", SHOP_STREAM_INVENTORY},
    {P(STOCK_COMMITTED), "inventory.committed", SHOP_STREAM_INVENTORY},
    {P(LOW_STOCK), "inventory.low_stock", SHOP_STREAM_INVENTORY},
    {P(ML_SEGMENT_CHANGED), "ml.segment_changed", SHOP_STREAM_ML},
    {P(ML_MODEL_PUBLISHED), "ml.model_published", SHOP_STREAM_ML},
};

Test(event_type, every_case_has_its_name_and_parses_back)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        cr_assert_str_eq(shop_event_type_name(table[i].pc), table[i].name);
        Shopstream__V1__Event__PayloadCase pc = SHOPSTREAM__V1__EVENT__PAYLOAD__NOT_SET;
        cr_assert_eq(shop_event_type_parse(table[i].name, &pc), 0);
        cr_assert_eq(pc, table[i].pc);
    }
}

Test(event_type, unknown_names_and_cases_are_refused)
{
    Shopstream__V1__Event__PayloadCase pc;
    cr_assert_eq(shop_event_type_parse("cart.item_added ", &pc), SHOP_EINVAL);
    cr_assert_eq(shop_event_type_parse("Cart.item_added", &pc), SHOP_EINVAL);
    cr_assert_eq(shop_event_type_parse("", &pc), SHOP_EINVAL);
    cr_assert_eq(shop_event_type_parse(NULL, &pc), SHOP_EINVAL);
    cr_assert_null(shop_event_type_name(SHOPSTREAM__V1__EVENT__PAYLOAD__NOT_SET));
    cr_assert_null(shop_event_type_name((Shopstream__V1__Event__PayloadCase)15));
    cr_assert_null(shop_event_type_name((Shopstream__V1__Event__PayloadCase)36));
}

Test(event_type, every_case_routes_to_its_stream)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        Shopstream__V1__Event ev = SHOPSTREAM__V1__EVENT__INIT;
        Shopstream__V1__ProductViewed any = SHOPSTREAM__V1__PRODUCT_VIEWED__INIT;
        ev.payload_case = table[i].pc;
        ev.product_viewed = &any;
        cr_assert_eq(shop_event_stream(&ev), table[i].stream, "%s", table[i].name);
    }
}

Test(event_type, unset_payload_has_no_stream)
{
    Shopstream__V1__Event ev = SHOPSTREAM__V1__EVENT__INIT;
    cr_assert_eq(shop_event_stream(&ev), SHOP_STREAM_COUNT);
}

Test(event_type, stream_names)
{
    cr_assert_str_eq(shop_stream_name(SHOP_STREAM_BROWSE), "browse");
    cr_assert_str_eq(shop_stream_name(SHOP_STREAM_CART), "cart");
    cr_assert_str_eq(shop_stream_name(SHOP_STREAM_ORDER), "order");
    cr_assert_str_eq(shop_stream_name(SHOP_STREAM_CATALOG), "catalog");
    cr_assert_str_eq(shop_stream_name(SHOP_STREAM_INVENTORY), "inventory");
    cr_assert_null(shop_stream_name(SHOP_STREAM_COUNT));
}

Test(event_type, orders_are_keyed_by_order_id)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *paid = t_event(&a, "{\"type\":\"order.paid\",\"order_id\":\"o-1\","
                                              "\"amount\":{\"amount_minor\":5,\"currency\":\"GBP\"}}");
    cr_assert_str_eq(shop_event_key(paid), "o-1");
    cr_assert_str_eq(shop_event_order_id(paid), "o-1");
    Shopstream__V1__Event *cancel = t_event(&a, "{\"type\":\"order.cancelled\",\"order_id\":\"o-2\"}");
    cr_assert_str_eq(shop_event_key(cancel), "o-2");
    Shopstream__V1__Event *reserved =
        t_event(&a, "{\"type\":\"inventory.reserved\",\"order_id\":\"o-3\","
                    "\"lines\":[{\"product_id\":\"p\",\"quantity\":1}]}");
    cr_assert_str_eq(shop_event_key(reserved), "o-3");
    Shopstream__V1__Event *low = t_event(
        &a, "{\"type\":\"inventory.low_stock\",\"product_id\":\"p-4\",\"available\":1,\"threshold\":5}");
    cr_assert_str_eq(shop_event_key(low), "p-4");
    cr_assert_str_eq(shop_event_order_id(low), "");
    Shopstream__V1__Event *view = t_event(&a, "{\"type\":\"product.viewed\",\"product_id\":\"p\"}");
    cr_assert_str_eq(shop_event_order_id(view), "");
    shop_arena_fini(&a);
}

Test(event_type, key_is_user_except_for_catalog)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *cart = t_event(&a, "{\"type\":\"cart.cleared\"}");
    cr_assert_str_eq(shop_event_key(cart), T_SUBJECT);
    Shopstream__V1__Event *stock = t_event(
        &a, "{\"type\":\"catalog.stock_adjusted\",\"product_id\":\"sku-9\",\"delta\":-2}");
    cr_assert_str_eq(shop_event_key(stock), "sku-9");
    Shopstream__V1__Event *up = t_event(&a, "{\"type\":\"catalog.product_upserted\","
                                            "\"product_id\":\"sku-7\",\"name\":\"Mug\",\"stock\":3,"
                                            "\"price\":{\"amount_minor\":500,\"currency\":\"GBP\"}}");
    cr_assert_str_eq(shop_event_key(up), "sku-7");
    shop_arena_fini(&a);
}
