/* SPDX-License-Identifier: MIT
 * The JSON body mapping: every type round trips JSON -> protobuf -> bytes ->
 * decode; unknown, missing and wrongly typed fields are named by their path. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

#define LINE(pid, q, amount) "{'product_id':'" pid "','quantity':" #q ",'unit_price':" MONEY(amount, "GBP") "}"

static const char *const every_type[] = {
    "{'type':'product.viewed','product_id':'p1','category':'mugs','referrer':'r'}",
    "{'type':'search.performed','query':'mug','results':4294967295}",
    "{'type':'cart.item_added','product_id':'p1','quantity':2,'unit_price':" MONEY(1999, "GBP") "}",
    "{'type':'cart.item_removed','product_id':'p1'}",
    "{'type':'cart.quantity_set','product_id':'p1','quantity':0}",
    "{'type':'cart.cleared','session_id':'s1','at':1699999999000}",
    "{'type':'order.placed','order_id':'o1','lines':[" LINE("p1", 1, 500) "," LINE("p2", 3, 20) "],"
    "'total':" MONEY(560, "GBP") "}",
    "{'type':'order.paid','order_id':'o1','amount':" MONEY(560, "GBP") ",'payment_ref':'pi_1'}",
    "{'type':'order.shipped','order_id':'o1','carrier':'DHL','tracking_id':'T1'}",
    "{'type':'order.delivered','order_id':'o1'}",
    "{'type':'order.cancelled','order_id':'o1','reason':'late'}",
    "{'type':'catalog.product_upserted','product_id':'p1','name':'Mug','category':'kitchen',"
    "'price':" MONEY(500, "GBP") ",'stock':12}",
    "{'type':'catalog.stock_adjusted','product_id':'p1','delta':-2,'reason':'breakage'}",
};

Test(event_json, every_type_round_trips_through_protobuf)
{
    for (size_t i = 0; i < sizeof(every_type) / sizeof(every_type[0]); i++) {
        struct shop_arena a = SHOP_ARENA_INIT;
        Shopstream__V1__Event *ev = t_event(&a, every_type[i]);
        size_t len, len2;
        uint8_t *bytes = t_pack(&a, ev, &len);
        Shopstream__V1__Event *back = NULL;
        struct shop_err err = {0};
        cr_assert_eq(shop_event_decode(bytes, len, NULL, &a, &back, &err), 0, "%s: %s",
                     every_type[i], err.msg);
        uint8_t *again = t_pack(&a, back, &len2);
        cr_assert_eq(len2, len);
        cr_assert_eq(memcmp(bytes, again, len), 0, "%s", every_type[i]);
        cr_assert_str_eq(back->type, shop_event_type_name(back->payload_case));
        cr_assert_str_eq(back->user_id, T_SUBJECT);
        shop_arena_fini(&a);
    }
}

Test(event_json, fields_map_by_proto_name)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_parse_one(
        &a, "{'type':'order.placed','id':'" T_UUID "','at':1699999999123,'session_id':'s9',"
            "'user_id':'u9','order_id':'o1','lines':[" LINE("p1", 2, 500) "]}");
    cr_assert_eq(ev->payload_case, SHOPSTREAM__V1__EVENT__PAYLOAD_ORDER_PLACED);
    cr_assert_str_eq(ev->id, T_UUID);
    cr_assert_eq(ev->occurred_at_ms, INT64_C(1699999999123));
    cr_assert_str_eq(ev->session_id, "s9");
    cr_assert_str_eq(ev->user_id, "u9");
    cr_assert_str_eq(ev->order_placed->order_id, "o1");
    cr_assert_eq(ev->order_placed->n_lines, 1);
    cr_assert_eq(ev->order_placed->lines[0]->quantity, 2);
    cr_assert_eq(ev->order_placed->lines[0]->unit_price->amount_minor, 500);
    cr_assert_str_eq(ev->order_placed->lines[0]->unit_price->currency, "GBP");
    cr_assert_null(ev->order_placed->total, "total is computed by stamping");
    cr_assert_eq(ev->received_at_ms, 0, "not stamped");
    shop_arena_fini(&a);
}

struct jcase {
    const char *body; /* whole body, single quotes */
    int index;
    const char *field;
};

#define B(ev) "{'events':[" ev "]}"
#define B2(ev) "{'events':[{'type':'cart.cleared'}," ev "]}"

static const struct jcase json_cases[] = {
    /* body */
    {"", -1, ""},
    {"{'events':[", -1, ""},
    {"[]", -1, ""},
    {"{}", -1, "events"},
    {"{'events':{}}", -1, "events"},
    {"{'events':[]}", -1, "events"},
    {"{'events':[{'type':'cart.cleared'}],'extra':1}", -1, "extra"},
    {"{'events':[{'type':'cart.cleared','type':'cart.cleared'}]}", -1, ""},
    /* envelope */
    {B("1"), 0, ""},
    {B2("{}"), 1, "type"},
    {B2("{'type':7}"), 1, "type"},
    {B2("{'type':'cart.emptied'}"), 1, "type"},
    {B2("{'type':'cart.cleared','id':5}"), 1, "id"},
    {B2("{'type':'cart.cleared','at':'1700000000000'}"), 1, "at"},
    {B2("{'type':'cart.cleared','at':1.5}"), 1, "at"},
    {B2("{'type':'cart.cleared','session_id':null}"), 1, "session_id"},
    {B2("{'type':'cart.cleared','user_id':[]}"), 1, "user_id"},
    {B2("{'type':'cart.cleared','received_at_ms':1}"), 1, "received_at_ms"},
    {B2("{'type':'cart.cleared','source':'x'}"), 1, "source"},
    {B2("{'type':'cart.cleared','product_id':'p1'}"), 1, "product_id"},
    /* payload */
    {B("{'type':'cart.item_added','product_id':'p1'}"), 0, "quantity"},
    {B("{'type':'cart.item_added','quantity':1}"), 0, "product_id"},
    {B("{'type':'cart.item_added','product_id':'p1','quantity':'1'}"), 0, "quantity"},
    {B("{'type':'cart.item_added','product_id':'p1','quantity':1.5}"), 0, "quantity"},
    {B("{'type':'cart.item_added','product_id':'p1','quantity':2147483648}"), 0, "quantity"},
    {B("{'type':'cart.item_added','product_id':1,'quantity':1}"), 0, "product_id"},
    {B("{'type':'cart.item_added','product_id':'p1','quantity':1,'unit_price':5}"), 0, "unit_price"},
    {B("{'type':'cart.item_added','product_id':'p1','quantity':1,'unit_price':{'currency':'GBP'}}"), 0,
     "unit_price.amount_minor"},
    {B("{'type':'cart.item_added','product_id':'p1','quantity':1,'unit_price':{'amount_minor':1}}"), 0,
     "unit_price.currency"},
    {B("{'type':'cart.item_added','product_id':'p1','quantity':1,"
       "'unit_price':{'amount_minor':1,'currency':'GBP','cents':1}}"), 0, "unit_price.cents"},
    {B("{'type':'cart.item_added','product_id':'p1','quantity':1,'colour':'red'}"), 0, "colour"},
    {B("{'type':'search.performed','query':'q','results':-1}"), 0, "results"},
    {B("{'type':'order.placed','order_id':'o1'}"), 0, "lines"},
    {B("{'type':'order.placed','order_id':'o1','lines':{}}"), 0, "lines"},
    {B("{'type':'order.placed','order_id':'o1','lines':[" LINE("p1", 1, 5) ",3]}"), 0, "lines[1]"},
    {B("{'type':'order.placed','order_id':'o1','lines':[" LINE("p1", 1, 5) "," LINE("p2", 1, 5) ","
       "{'product_id':'p3','unit_price':" MONEY(5, "GBP") "}]}"), 0, "lines[2].quantity"},
    {B("{'type':'order.placed','order_id':'o1','lines':[{'product_id':'p3','quantity':true,"
       "'unit_price':" MONEY(5, "GBP") "}]}"), 0, "lines[0].quantity"},
    {B("{'type':'order.placed','order_id':'o1','lines':[{'product_id':'p3','quantity':1,"
       "'unit_price':{'amount_minor':5,'currency':3}}]}"), 0, "lines[0].unit_price.currency"},
    {B("{'type':'order.placed','order_id':'o1','lines':[{'product_id':'p3','quantity':1}]}"), 0,
     "lines[0].unit_price"},
    {B("{'type':'order.placed','order_id':'o1','lines':[" LINE("p1", 1, 5) "],'total':[]}"), 0, "total"},
    {B("{'type':'order.paid','order_id':'o1'}"), 0, "amount"},
    {B("{'type':'catalog.product_upserted','product_id':'p1','name':'n','price':" MONEY(5, "GBP") "}"),
     0, "stock"},
    {B("{'type':'catalog.stock_adjusted','product_id':'p1'}"), 0, "delta"},
    {B("{'type':'catalog.stock_adjusted','product_id':'p1','delta':1e3}"), 0, "delta"},
};

ParameterizedTestParameters(event_json, problems_name_the_field)
{
    T_INDEX_PARAMS(json_cases);
}

ParameterizedTest(size_t *i, event_json, problems_name_the_field)
{
    const struct jcase *c = &json_cases[*i];
    struct shop_arena a = SHOP_ARENA_INIT;
    char *body = t_json(&a, c->body);
    Shopstream__V1__Event **evs = NULL;
    size_t n = 0;
    struct shop_problem p = {0};
    int rc = shop_event_batch_from_json(body, strlen(body), NULL, &a, &evs, &n, &p);
    cr_assert_eq(rc, SHOP_EINVAL, "%s accepted", body);
    cr_assert_eq(p.index, c->index, "%s: index %d", body, p.index);
    cr_assert_str_eq(p.field, c->field, "%s: %s", body, p.detail);
    cr_assert_neq(p.detail[0], '\0');
    shop_arena_fini(&a);
}

static int parse(struct shop_arena *a, const char *body, const struct shop_event_limits *lim,
                 size_t *n, struct shop_problem *p)
{
    Shopstream__V1__Event **evs = NULL;
    return shop_event_batch_from_json(body, strlen(body), lim, a, &evs, n, p);
}

Test(event_json, batch_size_is_limited)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_event_limits lim = shop_event_limits_default();
    struct shop_problem p = {0};
    size_t n = 0;
    lim.batch_max = 2;
    const char *two = "{\"events\":[{\"type\":\"cart.cleared\"},{\"type\":\"cart.cleared\"}]}";
    const char *three = "{\"events\":[{\"type\":\"cart.cleared\"},{\"type\":\"cart.cleared\"},"
                        "{\"type\":\"cart.cleared\"}]}";
    cr_assert_eq(parse(&a, two, &lim, &n, &p), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(parse(&a, three, &lim, &n, &p), SHOP_EINVAL);
    cr_assert_eq(p.index, -1);
    cr_assert_str_eq(p.field, "events");
    cr_assert(strstr(p.detail, "2") != NULL, "%s", p.detail);
    shop_arena_fini(&a);
}

Test(event_json, default_batch_max_is_500)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    size_t cap = 501 * 24 + 32, n = 0;
    char *body = shop_arena_alloc(&a, cap);
    struct shop_problem p = {0};
    strcpy(body, "{\"events\":[");
    for (int i = 0; i < 500; i++)
        strcat(body, i ? ",{\"type\":\"cart.cleared\"}" : "{\"type\":\"cart.cleared\"}");
    strcat(body, "]}");
    cr_assert_eq(parse(&a, body, NULL, &n, &p), 0);
    cr_assert_eq(n, 500);
    body[strlen(body) - 2] = '\0';
    strcat(body, ",{\"type\":\"cart.cleared\"}]}");
    cr_assert_eq(parse(&a, body, NULL, &n, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "events");
    shop_arena_fini(&a);
}

Test(event_json, long_paths_are_cut_not_overflowed)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_problem p = {0};
    size_t n;
    const char *body = "{\"events\":[{\"type\":\"cart.cleared\",\"" A256 "\":1}]}";
    cr_assert_eq(parse(&a, body, NULL, &n, &p), SHOP_EINVAL);
    cr_assert_eq(strlen(p.field), sizeof(p.field) - 1);
    cr_assert_eq(strncmp(p.field, A64, 64), 0);
    shop_arena_fini(&a);
}

Test(event_json, fixture_batch_of_every_type_is_valid)
{
    FILE *f = fopen(SHOP_FIXTURES_DIR "/all_types.json", "rb");
    cr_assert_not_null(f);
    char buf[8192];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event **evs = NULL;
    size_t n = 0;
    struct shop_problem p = {0};
    cr_assert_eq(shop_event_batch_from_json(buf, len, NULL, &a, &evs, &n, &p), 0, "%d %s: %s",
                 p.index, p.field, p.detail);
    cr_assert_eq(n, 13);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(shop_event_stamp(evs[i], (int)i, T_SUBJECT, T_UUID, T_RECEIVED_MS, T_SOURCE, &a, &p), 0);
        cr_assert_eq(shop_event_validate(evs[i], NULL, &p), 0, "event %zu: %s: %s", i, p.field, p.detail);
    }
    shop_arena_fini(&a);
}
