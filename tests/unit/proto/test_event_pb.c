/* SPDX-License-Identifier: MIT
 * Protobuf input: shop_event_decode (worker) and shop_event_batch_from_pb (edge). */
#define _GNU_SOURCE   /* memmem */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

Test(event_pb, decode_rejects_unterminated_tag)
{
    const uint8_t junk[] = {0xff, 0xff}; /* a varint tag that never ends */
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = NULL;
    struct shop_err err = {0};
    cr_assert_eq(shop_event_decode(junk, sizeof(junk), NULL, &a, &ev, &err), SHOP_EBADMSG);
    cr_assert_str_eq(err.msg, "could not unpack event: 2 bytes");
    cr_assert_null(ev);
    shop_arena_fini(&a);
}

Test(event_pb, decode_rejects_truncated_message)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    size_t len;
    uint8_t *bytes = t_pack(&a, t_event(&a, "{'type':'cart.item_removed','product_id':'p1'}"), &len);
    Shopstream__V1__Event *ev = NULL;
    struct shop_err err = {0};
    cr_assert_eq(shop_event_decode(bytes, len - 1, NULL, &a, &ev, &err), SHOP_EBADMSG);
    cr_assert(strncmp(err.msg, "could not unpack event", 22) == 0, "%s", err.msg);
    shop_arena_fini(&a);
}

Test(event_pb, decode_validates_and_says_why)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *src = t_event(&a, "{'type':'cart.item_added','product_id':'p1','quantity':1}");
    src->cart_item_added->quantity = 0;
    size_t len;
    uint8_t *bytes = t_pack(&a, src, &len);
    Shopstream__V1__Event *ev = NULL;
    struct shop_err err = {0};
    cr_assert_eq(shop_event_decode(bytes, len, NULL, &a, &ev, &err), SHOP_EBADMSG);
    cr_assert_eq(err.code, SHOP_EBADMSG);
    cr_assert_str_eq(err.msg, "invalid event: field quantity: must be at least 1");
    shop_arena_fini(&a);
}

Test(event_pb, decode_of_empty_buffer_is_an_invalid_event)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = NULL;
    struct shop_err err = {0};
    cr_assert_eq(shop_event_decode((const uint8_t *)"", 0, NULL, &a, &ev, &err), SHOP_EBADMSG);
    cr_assert(strncmp(err.msg, "invalid event: field id", 23) == 0, "%s", err.msg);
    shop_arena_fini(&a);
}

Test(event_pb, decode_keeps_everything_in_the_arena)
{
    struct shop_arena a = SHOP_ARENA_INIT, b = SHOP_ARENA_INIT;
    size_t len;
    uint8_t *bytes = t_pack(&a, t_event(&a, "{'type':'search.performed','query':'mug','results':3}"), &len);
    size_t before = b.total;
    Shopstream__V1__Event *ev = NULL;
    cr_assert_eq(shop_event_decode(bytes, len, NULL, &b, &ev, NULL), 0);
    cr_assert_gt(b.total, before);
    cr_assert_str_eq(ev->search_performed->query, "mug");
    cr_assert_eq(ev->search_performed->results, 3);
    cr_assert_str_eq(ev->source, T_SOURCE);
    shop_arena_fini(&b); /* no free_unpacked: the arena owns it all */
    shop_arena_fini(&a);
}

Test(event_pb, allocator_allocates_from_arena)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    ProtobufCAllocator alloc;
    shop_event_pb_allocator(&a, &alloc);
    cr_assert_eq(alloc.allocator_data, &a);
    void *p = alloc.alloc(alloc.allocator_data, 100);
    cr_assert_not_null(p);
    cr_assert_geq(a.total, 100);
    alloc.free(alloc.allocator_data, p);
    shop_arena_fini(&a);
}

static uint8_t *pack_batch(struct shop_arena *a, Shopstream__V1__Event **evs, size_t n, size_t *len)
{
    Shopstream__V1__EventBatch b = SHOPSTREAM__V1__EVENT_BATCH__INIT;
    b.events = evs;
    b.n_events = n;
    *len = shopstream__v1__event_batch__get_packed_size(&b);
    uint8_t *buf = shop_arena_alloc(a, *len ? *len : 1);
    shopstream__v1__event_batch__pack(&b, buf);
    return buf;
}

Test(event_pb, batch_round_trips)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *evs[2] = {
        t_parse_one(&a, "{'type':'cart.item_removed','product_id':'p1'}"),
        t_parse_one(&a, "{'type':'order.delivered','order_id':'o1'}"),
    };
    size_t len, n = 0;
    uint8_t *body = pack_batch(&a, evs, 2, &len);
    Shopstream__V1__Event **out = NULL;
    struct shop_problem p = {0};
    cr_assert_eq(shop_event_batch_from_pb(body, len, NULL, &a, &out, &n, &p), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(out[0]->cart_item_removed->product_id, "p1");
    cr_assert_str_eq(out[1]->order_delivered->order_id, "o1");
    shop_arena_fini(&a);
}

Test(event_pb, batch_limits_and_junk)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(&a, "{'type':'cart.cleared'}");
    Shopstream__V1__Event *evs[3] = {ev, ev, ev};
    struct shop_event_limits lim = shop_event_limits_default();
    lim.batch_max = 2;
    Shopstream__V1__Event **out = NULL;
    size_t len, n = 0;
    struct shop_problem p = {0};
    uint8_t *body = pack_batch(&a, evs, 3, &len);
    cr_assert_eq(shop_event_batch_from_pb(body, len, &lim, &a, &out, &n, &p), SHOP_EINVAL);
    cr_assert_eq(p.index, -1);
    cr_assert_str_eq(p.field, "events");
    body = pack_batch(&a, evs, 0, &len);
    cr_assert_eq(shop_event_batch_from_pb(body, len, &lim, &a, &out, &n, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "events");
    const uint8_t junk[] = {0x0a, 0x05, 0x01};
    cr_assert_eq(shop_event_batch_from_pb(junk, sizeof(junk), &lim, &a, &out, &n, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "");
    cr_assert(strstr(p.detail, "could not unpack") != NULL, "%s", p.detail);
    shop_arena_fini(&a);
}

/* Attaches one length-delimited unknown field (tag 1000, "SMUGGLED") to m; protobuf-c keeps
 * the bytes after the tag, the length prefix included. */
static void smuggle(struct shop_arena *a, ProtobufCMessage *m)
{
    ProtobufCMessageUnknownField *u = shop_arena_alloc(a, sizeof(*u));
    *u = (ProtobufCMessageUnknownField){.tag = 1000, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
                                        .len = 9, .data = (uint8_t *)"\x08SMUGGLED"};
    m->n_unknown_fields = 1;
    m->unknown_fields = u;
}

static bool has_smuggled(const uint8_t *buf, size_t len)
{
    return memmem(buf, len, "SMUGGLED", 8) != NULL;
}

Test(event_pb, batch_drops_unknown_fields_at_every_depth)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(&a,
        "{'type':'order.placed','order_id':'o1','lines':[{'product_id':'p1','quantity':1,"
        "'unit_price':" MONEY(5, "GBP") "}],'total':" MONEY(5, "GBP") "}");
    Shopstream__V1__Event *plain = t_parse_one(&a, "{'type':'cart.cleared'}");
    smuggle(&a, &ev->base);
    smuggle(&a, &ev->order_placed->base);
    smuggle(&a, &ev->order_placed->lines[0]->base);
    smuggle(&a, &ev->order_placed->lines[0]->unit_price->base);
    smuggle(&a, &ev->order_placed->total->base);
    smuggle(&a, &plain->cart_cleared->base);
    Shopstream__V1__Event *evs[2] = {ev, plain};
    size_t len, n = 0;
    uint8_t *body = pack_batch(&a, evs, 2, &len);
    cr_assert(has_smuggled(body, len), "the input carries them");
    Shopstream__V1__Event **out = NULL;
    struct shop_problem p = {0};
    cr_assert_eq(shop_event_batch_from_pb(body, len, NULL, &a, &out, &n, &p), 0);
    cr_assert_eq(n, 2);
    for (size_t i = 0; i < n; i++) {
        size_t plen = shopstream__v1__event__get_packed_size(out[i]);
        uint8_t *rec = shop_arena_alloc(&a, plen);
        shopstream__v1__event__pack(out[i], rec);
        cr_assert_not(has_smuggled(rec, plen), "event %zu republishes an unknown field", i);
    }
    cr_assert_str_eq(out[0]->order_placed->lines[0]->product_id, "p1", "known fields stay");
    cr_assert_eq(out[0]->order_placed->total->amount_minor, 5);
    shop_arena_fini(&a);
}
