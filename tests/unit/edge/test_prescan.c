/* SPDX-License-Identifier: MIT
 * shop_edge_prescan: event counts of undecoded JSON and protobuf batch bodies. */
#include <criterion/criterion.h>
#include <string.h>

#include "edge/core/edge_prescan.h"

static long json(const char *s, size_t max)
{
    return shop_edge_prescan_json(s, strlen(s), max);
}

Test(prescan, json_counts_the_events_array)
{
    cr_assert_eq(json("{\"events\":[]}", 500), 0);
    cr_assert_eq(json(" {\"events\" : [ {\"a\":[1,2,{\"b\":\"],}\"}]} ]}", 500), 1);
    cr_assert_eq(json("{\"events\":[{},{},{}]}", 500), 3);
    cr_assert_eq(json("{\"x\":{\"events\":[1,2]},\"events\":[1]}", 500), 1, "only the top level");
    cr_assert_eq(json("{\"events\":[\"a\\\"],\",2]}", 500), 2, "escaped quote inside a string");
}

Test(prescan, json_stops_counting_past_max_before_the_end)
{
    /* The tail is broken: the count is known before it is reached. */
    cr_assert_eq(json("{\"events\":[1,2,3,4 broken", 2), 3);
    cr_assert_eq(json("{\"events\":[{},{},{}]}", 2), 3);
    cr_assert_eq(json("{\"events\":[{},{}]}", 2), 2);
}

Test(prescan, json_leaves_what_it_does_not_recognise_to_the_decoder)
{
    cr_assert_eq(json("[1,2,3]", 2), -1, "not an object");
    cr_assert_eq(json("{\"events\":{}}", 2), -1, "not an array");
    cr_assert_eq(json("{\"other\":1}", 2), -1, "no events member");
    cr_assert_eq(json("{\"events\":[1,2", 5), -1, "truncated below max");
    cr_assert_eq(json("{\"\\u0065vents\":[1,2,3]}", 2), -1, "escaped key");
    cr_assert_eq(json("", 2), -1);
    cr_assert_eq(json("{\"events\":[1}", 5), -1, "mismatched bracket");
}

Test(prescan, protobuf_counts_field_one_records)
{
    static const uint8_t three[] = {0x0a, 0x00, 0x0a, 0x02, 0x12, 0x00, 0x0a, 0x00};
    cr_assert_eq(shop_edge_prescan_pb(three, sizeof(three), 500), 3);
    cr_assert_eq(shop_edge_prescan_pb(three, 0, 500), 0);
    /* Other fields and wire types are skipped, not counted. */
    static const uint8_t mixed[] = {0x10, 0x96, 0x01, 0x1d, 1, 2, 3, 4, 0x0a, 0x00,
                                    0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x22, 0x01, 0x00};
    cr_assert_eq(shop_edge_prescan_pb(mixed, sizeof(mixed), 500), 1);
}

Test(prescan, protobuf_stops_past_max_and_refuses_broken_wire)
{
    static const uint8_t long_then_broken[] = {0x0a, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x0a, 0x7f};
    cr_assert_eq(shop_edge_prescan_pb(long_then_broken, sizeof(long_then_broken), 2), 3);
    cr_assert_eq(shop_edge_prescan_pb(long_then_broken, sizeof(long_then_broken), 5), -1,
                 "length past the end");
    static const uint8_t group[] = {0x0b};
    cr_assert_eq(shop_edge_prescan_pb(group, sizeof(group), 5), -1, "wire type 3");
    static const uint8_t field0[] = {0x02, 0x00};
    cr_assert_eq(shop_edge_prescan_pb(field0, sizeof(field0), 5), -1, "field number 0");
    static const uint8_t endless[] = {0x0a, 0xff, 0xff};
    cr_assert_eq(shop_edge_prescan_pb(endless, sizeof(endless), 5), -1, "varint runs out");
}
