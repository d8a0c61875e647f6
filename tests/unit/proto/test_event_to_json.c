/* SPDX-License-Identifier: MIT
 * Records and messages to JSON (proto/core/event_to_json.c): what shopstream-admin tail prints.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "helpers.h"
#include "proto/core/event_to_json.h"

/* The record for value[0..len) with the CloudEvents headers of ev (when non-NULL). */
static json_t *record_json(struct shop_arena *arena, const uint8_t *value, size_t len,
                           const struct shop_record_header *h, size_t n_h)
{
    struct shop_record r = {.topic = "shopstream.order.v1", .partition = 2, .offset = 41,
                            .timestamp_ms = T_RECEIVED_MS, .key = (const uint8_t *)"o-1", .key_len = 3,
                            .value = value, .value_len = len, .headers = h, .n_headers = n_h};
    return shop_record_to_json(&r, arena);
}

static const char *dump(json_t *j)
{
    static char buf[4096];
    char *s = json_dumps(j, JSON_COMPACT);
    snprintf(buf, sizeof(buf), "%s", s);
    free(s);
    return buf;
}

Test(event_to_json, an_order_comes_back_with_its_envelope_payload_and_headers)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&arena, "{'type':'order.placed','order_id':'o-1','at':1699999999000,"
                                                "'lines':[{'product_id':'p1','quantity':2,'unit_price':" MONEY(500, "GBP") "}],"
                                                "'total':" MONEY(1000, "GBP") "}");
    size_t len;
    uint8_t *buf = t_pack(&arena, ev, &len);
    struct shop_header ce[SHOP_CE_HEADERS_MAX];
    size_t n = shop_event_ce_headers(ev, NULL, &arena, ce);
    struct shop_record_header h[SHOP_CE_HEADERS_MAX];
    for (size_t i = 0; i < n; i++)
        h[i] = (struct shop_record_header){ce[i].name, (const uint8_t *)ce[i].value, strlen(ce[i].value)};
    json_t *j = record_json(&arena, buf, len, h, n);
    cr_assert_str_eq(json_string_value(json_object_get(j, "topic")), "shopstream.order.v1");
    cr_assert_eq(json_integer_value(json_object_get(j, "partition")), 2);
    cr_assert_eq(json_integer_value(json_object_get(j, "offset")), 41);
    cr_assert_eq(json_integer_value(json_object_get(j, "timestamp")), T_RECEIVED_MS);
    cr_assert_str_eq(json_string_value(json_object_get(j, "key")), "o-1");
    json_t *hd = json_object_get(j, "headers");
    cr_assert_str_eq(json_string_value(json_object_get(hd, "ce_type")), "com.shopstream.order.placed.v1");
    cr_assert_str_eq(json_string_value(json_object_get(hd, "ce_id")), T_UUID);
    json_t *e = json_object_get(j, "event");
    cr_assert_str_eq(json_string_value(json_object_get(e, "type")), "order.placed");
    cr_assert_eq(json_integer_value(json_object_get(e, "occurred_at_ms")), 1699999999000);
    cr_assert_str_eq(json_string_value(json_object_get(e, "user_id")), T_SUBJECT);
    json_t *op = json_object_get(e, "order_placed");
    cr_assert_str_eq(json_string_value(json_object_get(op, "order_id")), "o-1");
    json_t *line = json_array_get(json_object_get(op, "lines"), 0);
    cr_assert_eq(json_integer_value(json_object_get(line, "quantity")), 2);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(line, "unit_price"), "amount_minor")), 500);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(op, "total"), "currency")), "GBP");
    /* Default values are left out, as protoc --decode does: no session_id was sent. */
    cr_assert_null(json_object_get(e, "session_id"));
    cr_assert_null(json_object_get(j, "error"));
    cr_assert_null(json_object_get(j, "invalid"));
    cr_assert_null(json_object_get(j, "dead_letter"));
    json_decref(j);
    shop_arena_fini(&arena);
}

Test(event_to_json, an_undecodable_value_is_an_error_with_its_bytes)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    const uint8_t junk[] = {0xff, 0xff, 0x01};   /* a tag whose varint never ends properly */
    json_t *j = record_json(&arena, junk, sizeof(junk), NULL, 0);
    cr_assert_null(json_object_get(j, "event"));
    cr_assert(strstr(json_string_value(json_object_get(j, "error")), "could not unpack") != NULL, "%s", dump(j));
    cr_assert_str_eq(json_string_value(json_object_get(j, "value_base64")), "//8B");
    json_decref(j);
    shop_arena_fini(&arena);
}

Test(event_to_json, a_decodable_but_invalid_event_says_why)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    Shopstream__V1__Event ev = SHOPSTREAM__V1__EVENT__INIT;   /* no id, no type, no payload */
    ev.user_id = "u";
    size_t len;
    uint8_t *buf = t_pack(&arena, &ev, &len);
    json_t *j = record_json(&arena, buf, len, NULL, 0);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "event"), "user_id")), "u");
    cr_assert_not_null(json_object_get(j, "invalid"), "%s", dump(j));
    json_decref(j);
    shop_arena_fini(&arena);
}

Test(event_to_json, a_dead_letter_shows_its_reason_and_origin)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    const uint8_t junk[] = {0x0a, 0x05, 'a'};   /* field 1, 5 bytes announced, 1 there */
#define H(n, v) {n, (const uint8_t *)v, sizeof(v) - 1}
    const struct shop_record_header h[] = {
        H("x-shopstream-error", "could not unpack event: 3 bytes"), H("x-shopstream-topic", "shopstream.cart.v1"),
        H("x-shopstream-partition", "1"), H("x-shopstream-offset", "7"),
        H("x-shopstream-consumer-group", "shopstream-projector")};
    json_t *j = record_json(&arena, junk, sizeof(junk), h, sizeof(h) / sizeof(h[0]));
    json_t *dl = json_object_get(j, "dead_letter");
    cr_assert_str_eq(json_string_value(json_object_get(dl, "error")), "could not unpack event: 3 bytes");
    cr_assert_str_eq(json_string_value(json_object_get(dl, "topic")), "shopstream.cart.v1");
    cr_assert_str_eq(json_string_value(json_object_get(dl, "offset")), "7");
    cr_assert_str_eq(json_string_value(json_object_get(dl, "consumer_group")), "shopstream-projector");
    cr_assert_null(json_object_get(dl, "sqlstate"));
    cr_assert_not_null(json_object_get(j, "error"));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "headers"), "x-shopstream-offset")), "7");
    json_decref(j);
    shop_arena_fini(&arena);
}

Test(event_to_json, odd_keys_and_headers_never_break_the_line)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    const struct shop_record_header h[] = {
        H("dup", "a"), H("dup", "b"), {"empty", NULL, 0}, H("bin", "\xff\xfe"), {"\xc3(", (const uint8_t *)"x", 1},
        H("dup", "c")};
    struct shop_record r = {.topic = "t", .timestamp_ms = -1, .key = (const uint8_t *)"\x80", .key_len = 1,
                            .headers = h, .n_headers = sizeof(h) / sizeof(h[0])};
    json_t *j = shop_record_to_json(&r, &arena);
    cr_assert(json_is_null(json_object_get(j, "timestamp")));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "key"), "base64")), "gA==");
    json_t *hd = json_object_get(j, "headers");
    json_t *dup = json_object_get(hd, "dup");
    cr_assert_eq(json_array_size(dup), 3, "%s", dump(j));
    cr_assert_str_eq(json_string_value(json_array_get(dup, 2)), "c");
    cr_assert(json_is_null(json_object_get(hd, "empty")));
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(hd, "bin"), "base64")), "//4=");
    cr_assert_str_eq(json_string_value(json_object_get(hd, "wyg=")), "x");
    cr_assert(json_is_null(json_object_get(j, "event")));   /* no value: a tombstone */
    char *line = json_dumps(j, JSON_COMPACT);
    cr_assert_not_null(line);
    cr_assert_null(strchr(line, '\n'));
    free(line);
    json_decref(j);
    shop_arena_fini(&arena);
}

Test(event_to_json, unknown_fields_and_wide_integers_are_shown)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    Shopstream__V1__MlModelPublished mp = SHOPSTREAM__V1__ML_MODEL_PUBLISHED__INIT;
    mp.model = "segment";
    mp.version = UINT64_MAX;
    Shopstream__V1__MlMetric m = SHOPSTREAM__V1__ML_METRIC__INIT, *ms[] = {&m};
    m.name = "loss";
    m.value = 0.25;
    mp.n_metrics = 1;
    mp.metrics = ms;
    uint8_t tail[] = {0xc8, 0x03, 0x07};   /* field 57 (varint 7): a newer producer's field */
    ProtobufCMessageUnknownField uf = {.tag = 57, .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT, .len = 1, .data = tail + 2};
    mp.base.n_unknown_fields = 1;
    mp.base.unknown_fields = &uf;
    json_t *j = shop_message_to_json(&mp.base);
    cr_assert_str_eq(json_string_value(json_object_get(j, "version")), "18446744073709551615");
    cr_assert_eq(json_integer_value(json_array_get(json_object_get(j, "_unknown_fields"), 0)), 57);
    json_t *metric = json_array_get(json_object_get(j, "metrics"), 0);
    cr_assert(json_real_value(json_object_get(metric, "value")) > 0.24);
    cr_assert_null(json_object_get(j, "watermark_ms"));
    json_decref(j);
    shop_arena_fini(&arena);
}

Test(event_to_json, base64_is_the_padded_standard_alphabet)
{
    const char *cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *s = shop_json_base64((const uint8_t *)cases[i][0], strlen(cases[i][0]));
        cr_assert_str_eq(json_string_value(s), cases[i][1]);
        json_decref(s);
    }
    json_t *s = shop_json_base64((const uint8_t *)"\xfb\xff", 2);
    cr_assert_str_eq(json_string_value(s), "+/8=");
    json_decref(s);
}
