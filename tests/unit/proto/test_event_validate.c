/* SPDX-License-Identifier: MIT
 * shop_event_validate: every rule, one valid and one invalid row at least.
 * Rows are JSON events (single quotes for readability), parsed and stamped
 * with the T_* values; field is the expected problem path, NULL when valid. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "helpers.h"

struct vcase {
    const char *json;
    const char *field;
};

#define PV(f) "{'type':'product.viewed','product_id':'p1'" f "}"
#define SP(f) "{'type':'search.performed'" f "}"
#define CA(f) "{'type':'cart.item_added','product_id':'p1'" f "}"
#define CQ(f) "{'type':'cart.quantity_set','product_id':'p1'" f "}"
#define LINE(pid, q, amount, cur) "{'product_id':'" pid "','quantity':" #q ",'unit_price':" MONEY(amount, cur) "}"
#define OP(f) "{'type':'order.placed','order_id':'o1'" f "}"
#define PAID(f) "{'type':'order.paid','order_id':'o1'" f "}"
#define SHIP(f) "{'type':'order.shipped','order_id':'o1'" f "}"
#define CANC(f) "{'type':'order.cancelled','order_id':'o1'" f "}"
#define PU(f) "{'type':'catalog.product_upserted','product_id':'p1'" f "}"
#define PU_OK ",'name':'Mug','stock':3,'price':" MONEY(500, "GBP")
#define SA(f) "{'type':'catalog.stock_adjusted','product_id':'p1'" f "}"
#define SLINE(pid, q) "{'product_id':'" pid "','quantity':" #q "}"
#define RES(f) "{'type':'inventory.reserved','order_id':'o1'" f "}"
#define REJ(f) "{'type':'inventory.rejected','order_id':'o1'" f "}"
#define SHORT(pid, req, av) "{'product_id':'" pid "','requested':" #req ",'available':" #av "}"
#define LOW(f) "{'type':'inventory.low_stock','product_id':'p1'" f "}"

static const struct vcase rules[] = {
    /* one valid event of each type */
    {PV(""), NULL},
    {PV(",'category':'mugs','referrer':'https://example.com/a'"), NULL},
    {SP(",'query':'blue mug','results':12"), NULL},
    {CA(",'quantity':2,'unit_price':" MONEY(1999, "GBP")), NULL},
    {CA(",'quantity':2"), NULL},
    {"{'type':'cart.item_removed','product_id':'p1'}", NULL},
    {CQ(",'quantity':0"), NULL},
    {"{'type':'cart.cleared'}", NULL},
    {OP(",'lines':[" LINE("p1", 2, 500, "GBP") "," LINE("p2", 1, 250, "GBP") "]"), NULL},
    {OP(",'lines':[" LINE("p1", 2, 500, "GBP") "],'total':" MONEY(1000, "GBP")), NULL},
    {PAID(",'amount':" MONEY(1000, "GBP") ",'payment_ref':'pi_123'"), NULL},
    {SHIP(",'carrier':'DHL','tracking_id':'JD0001'"), NULL},
    {"{'type':'order.delivered','order_id':'o1'}", NULL},
    {CANC(",'reason':'changed my mind'"), NULL},
    {PU(PU_OK ",'category':'kitchen'"), NULL},
    {SA(",'delta':-3,'reason':'breakage'"), NULL},
    /* the inventory worker's outcomes */
    {RES(",'lines':[" SLINE("p1", 2) "," SLINE("p2", 1) "]"), NULL},
    {RES(",'lines':[]"), "lines"},
    {RES(",'lines':[" SLINE("p1", 0) "]"), "lines[0].quantity"},
    {RES(",'lines':[" SLINE("p 1", 1) "]"), "lines[0].product_id"},
    {"{'type':'inventory.released','order_id':'o1','lines':[" SLINE("p1", 2) "]}", NULL},
    {"{'type':'inventory.committed','order_id':'','lines':[" SLINE("p1", 2) "]}", "order_id"},
    {REJ(",'reason':'out_of_stock','lines':[" SHORT("p1", 3, 1) "]"), NULL},
    {REJ(",'reason':'price_mismatch','lines':[{'product_id':'p1','requested':1,'available':4,"
         "'catalog_price':" MONEY(255, "GBP") "}]"), NULL},
    {REJ(",'reason':'price_mismatch','lines':[{'product_id':'p1','requested':1,'available':4,"
         "'catalog_price':" MONEY(255, "gbp") "}]"), "lines[0].catalog_price.currency"},
    {REJ(",'reason':'sold_out','lines':[" SHORT("p1", 3, 1) "]"), "reason"},
    {REJ(",'reason':'out_of_stock','lines':[" SHORT("p1", 3, -1) "]"), "lines[0].available"},
    {REJ(",'reason':'unknown_product','lines':[]"), "lines"},
    {LOW(",'available':2,'threshold':5"), NULL},
    {LOW(",'available':5,'threshold':5"), "available"},
    {LOW(",'available':0,'threshold':0"), "threshold"},
    /* envelope */
    {"{'type':'cart.cleared','id':'0b7e4c1a-93f2-4d5e-8a6b-1c2d3e4f5a6c'}", NULL},
    {"{'type':'cart.cleared','id':'0B7E4C1A-93F2-4D5E-8A6B-1C2D3E4F5A6C'}", "id"},
    {"{'type':'cart.cleared','id':'0b7e4c1a93f24d5e8a6b1c2d3e4f5a6c'}", "id"},
    {"{'type':'cart.cleared','id':'0b7e4c1a-93f2-4d5e-8a6b-1c2d3e4f5a6g'}", "id"},
    {"{'type':'cart.cleared','at':946684800000}", NULL},
    {"{'type':'cart.cleared','at':946684799999}", "occurred_at_ms"},
    {"{'type':'cart.cleared','at':1700000300000}", NULL},
    {"{'type':'cart.cleared','at':1700000300001}", "occurred_at_ms"},
    {"{'type':'cart.cleared','session_id':'" A128 "'}", NULL},
    {"{'type':'cart.cleared','session_id':'" A128 "a'}", "session_id"},
    {"{'type':'cart.cleared','session_id':'s\\u0001'}", "session_id"},
    {"{'type':'cart.cleared','user_id':'" T_SUBJECT "'}", NULL},
    /* product_id / order_id */
    {"{'type':'cart.item_removed','product_id':''}", "product_id"},
    {"{'type':'cart.item_removed','product_id':'" A64 "'}", NULL},
    {"{'type':'cart.item_removed','product_id':'" A64 "a'}", "product_id"},
    {"{'type':'cart.item_removed','product_id':'A.z_0:9-'}", NULL},
    {"{'type':'cart.item_removed','product_id':'a b'}", "product_id"},
    {"{'type':'cart.item_removed','product_id':'a/b'}", "product_id"},
    {"{'type':'order.delivered','order_id':'o\\u00e91'}", "order_id"},
    /* quantity */
    {CA(",'quantity':0"), "quantity"},
    {CA(",'quantity':-1"), "quantity"},
    {CA(",'quantity':10000"), NULL},
    {CA(",'quantity':10001"), "quantity"},
    {CQ(",'quantity':-1"), "quantity"},
    {CQ(",'quantity':10001"), "quantity"},
    /* money */
    {CA(",'quantity':1,'unit_price':" MONEY(0, "GBP")), NULL},
    {CA(",'quantity':1,'unit_price':" MONEY(1000000000000, "GBP")), NULL},
    {CA(",'quantity':1,'unit_price':" MONEY(1000000000001, "GBP")), "unit_price.amount_minor"},
    {CA(",'quantity':1,'unit_price':" MONEY(-1, "GBP")), "unit_price.amount_minor"},
    {CA(",'quantity':1,'unit_price':" MONEY(1, "gbp")), "unit_price.currency"},
    {CA(",'quantity':1,'unit_price':" MONEY(1, "GBPX")), "unit_price.currency"},
    {CA(",'quantity':1,'unit_price':" MONEY(1, "GB")), "unit_price.currency"},
    {PAID(",'amount':" MONEY(1, "G1P")), "amount.currency"},
    /* search */
    {SP(",'query':''"), "query"},
    {SP(",'query':'" A256 "'"), NULL},
    {SP(",'query':'" A256 "a'"), "query"},
    {SP(",'query':'caf\\u00e9 \\u2615'"), NULL},
    {SP(",'query':'a\\nb'"), "query"},
    {SP(",'query':'a\\u007fb'"), "query"},
    {SP(",'query':'a\\u0085b'"), "query"},
    /* free texts */
    {PV(",'category':'" A128 "'"), NULL},
    {PV(",'category':'" A128 "a'"), "category"},
    {PV(",'referrer':'" A256 "a'"), "referrer"},
    {PAID(",'amount':" MONEY(1, "GBP") ",'payment_ref':'" A256 "a'"), "payment_ref"},
    {SHIP(",'carrier':'" A256 "a'"), "carrier"},
    {SHIP(",'tracking_id':'a\\tb'"), "tracking_id"},
    {CANC(",'reason':'" A256 "'"), NULL},
    {CANC(",'reason':'" A256 "a'"), "reason"},
    /* order.placed */
    {OP(",'lines':[]"), "lines"},
    {"{'type':'order.placed','order_id':'o 1','lines':[" LINE("p1", 1, 5, "GBP") "]}", "order_id"},
    {OP(",'lines':[" LINE("p1", 1, 5, "GBP") "," LINE("p2", 0, 5, "GBP") "]"), "lines[1].quantity"},
    {OP(",'lines':[" LINE("p1", 1, 5, "GBP") "," LINE("p/2", 1, 5, "GBP") "]"), "lines[1].product_id"},
    {OP(",'lines':[" LINE("p1", 1, 5, "GBP") "," LINE("p2", 1, 5, "EUR") "]"), "lines[1].unit_price.currency"},
    {OP(",'lines':[" LINE("p1", 1, 5, "gb") "]"), "lines[0].unit_price.currency"},
    {OP(",'lines':[" LINE("p1", 1, -5, "GBP") "]"), "lines[0].unit_price.amount_minor"},
    {OP(",'lines':[" LINE("p1", 2, 5, "GBP") "],'total':" MONEY(11, "GBP")), "total.amount_minor"},
    {OP(",'lines':[" LINE("p1", 2, 5, "GBP") "],'total':" MONEY(10, "EUR")), "total.currency"},
    {OP(",'lines':[" LINE("p1", 10000, 1000000000000, "GBP") "]"), "total.amount_minor"},
    /* order.paid */
    {PAID(",'amount':" MONEY(-1, "GBP")), "amount.amount_minor"},
    /* catalog */
    {PU(PU_OK), NULL},
    {PU(",'name':'','stock':3,'price':" MONEY(5, "GBP")), "name"},
    {PU(",'name':'" A256 "','stock':3,'price':" MONEY(5, "GBP")), NULL},
    {PU(",'name':'" A256 "a','stock':3,'price':" MONEY(5, "GBP")), "name"},
    {PU(",'name':'Mug','stock':-1,'price':" MONEY(5, "GBP")), "stock"},
    {PU(",'name':'Mug','stock':0,'price':" MONEY(5, "GBP")), NULL},
    {PU(",'name':'Mug','stock':1,'price':" MONEY(-5, "GBP")), "price.amount_minor"},
    {PU(PU_OK ",'category':'" A128 "a'"), "category"},
    {SA(",'delta':0"), "delta"},
    {SA(",'delta':7"), NULL},
    /* stock and delta bounds: the extremes, the bound and one past it */
    {PU(",'name':'Mug','stock':1000000000000,'price':" MONEY(5, "GBP")), NULL},
    {PU(",'name':'Mug','stock':1000000000001,'price':" MONEY(5, "GBP")), "stock"},
    {PU(",'name':'Mug','stock':9223372036854775807,'price':" MONEY(5, "GBP")), "stock"},
    {PU(",'name':'Mug','stock':-9223372036854775808,'price':" MONEY(5, "GBP")), "stock"},
    {SA(",'delta':1000000000"), NULL},
    {SA(",'delta':-1000000000"), NULL},
    {SA(",'delta':1000000001"), "delta"},
    {SA(",'delta':-1000000001"), "delta"},
    {SA(",'delta':9223372036854775807"), "delta"},
    {SA(",'delta':-9223372036854775808"), "delta"},
    {SA(",'delta':1,'reason':'a\\rb'"), "reason"},
    {"{'type':'catalog.stock_adjusted','product_id':'','delta':1}", "product_id"},
};

ParameterizedTestParameters(event_validate, rules)
{
    T_INDEX_PARAMS(rules);
}

ParameterizedTest(size_t *i, event_validate, rules)
{
    const struct vcase *c = &rules[*i];
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, c->json);
    struct shop_event_limits lim = shop_event_limits_default();
    struct shop_problem p = {.index = 7};
    int rc = shop_event_validate(ev, &lim, &p);
    if (c->field == NULL) {
        cr_assert_eq(rc, 0, "%s: field %s: %s", c->json, p.field, p.detail);
    } else {
        cr_assert_eq(rc, SHOP_EINVAL, "%s: accepted", c->json);
        cr_assert_str_eq(p.field, c->field, "%s: %s", c->json, p.detail);
        cr_assert_neq(p.detail[0], '\0');
        cr_assert_eq(p.index, 7, "index is the caller's");
    }
    shop_arena_fini(&a);
}

static int validate(const Shopstream__V1__Event *ev, struct shop_problem *p)
{
    return shop_event_validate(ev, NULL, p);
}

Test(event_validate, received_at_must_be_set)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, "{'type':'cart.cleared'}");
    struct shop_problem p = {0};
    cr_assert_eq(validate(ev, &p), 0);
    ev->received_at_ms = 0;
    cr_assert_eq(validate(ev, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "received_at_ms");
    shop_arena_fini(&a);
}

Test(event_validate, type_must_match_payload)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, "{'type':'cart.cleared'}");
    struct shop_problem p = {0};
    ev->type = "cart.item_added";
    cr_assert_eq(validate(ev, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "type");
    ev->type = "";
    cr_assert_eq(validate(ev, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "type");
    shop_arena_fini(&a);
}

Test(event_validate, payload_is_required)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, "{'type':'cart.cleared'}");
    struct shop_problem p = {0};
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD__NOT_SET;
    cr_assert_eq(validate(ev, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "payload");
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_CLEARED;
    ev->cart_cleared = NULL;
    cr_assert_eq(validate(ev, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "payload");
    shop_arena_fini(&a);
}

Test(event_validate, user_id_rules)
{
    static const struct {
        const char *user_id;
        bool ok;
    } rows[] = {
        {"u", true},           {A128, true},         {A128 "a", false}, {"", false},
        {"a b", false},        {"caf\xc3\xa9", false}, {"a\tb", false},   {"auth0|1234~x", true},
    };
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, "{'type':'cart.cleared'}");
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct shop_problem p = {0};
        ev->user_id = (char *)rows[i].user_id;
        int rc = validate(ev, &p);
        cr_assert_eq(rc, rows[i].ok ? 0 : SHOP_EINVAL, "user_id %s", rows[i].user_id);
        if (!rows[i].ok)
            cr_assert_str_eq(p.field, "user_id");
    }
    shop_arena_fini(&a);
}

Test(event_validate, source_is_bounded_text)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, "{'type':'cart.cleared'}");
    struct shop_problem p = {0};
    ev->source = A128;
    cr_assert_eq(validate(ev, &p), 0);
    ev->source = A128 "a";
    cr_assert_eq(validate(ev, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "source");
    shop_arena_fini(&a);
}

Test(event_validate, text_must_be_well_formed_utf8)
{
    static const char *const bad[] = {
        "\xff",         "\xc3",         "\xc0\xaf" /* overlong / */, "\xed\xa0\x80" /* surrogate */,
        "\xf4\x90\x80\x80" /* > U+10FFFF */, "a\x80",   "\xe2\x82",
    };
    static const char *const good[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x9b\x92", "plain"};
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, "{'type':'search.performed','query':'x'}");
    struct shop_problem p = {0};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ev->search_performed->query = (char *)bad[i];
        cr_assert_eq(validate(ev, &p), SHOP_EINVAL, "bad[%zu]", i);
        cr_assert_str_eq(p.field, "query");
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ev->search_performed->query = (char *)good[i];
        cr_assert_eq(validate(ev, &p), 0, "good[%zu]: %s", i, p.detail);
    }
    shop_arena_fini(&a);
}

static Shopstream__V1__Event *order_with_lines(struct shop_arena *a, size_t n)
{
    Shopstream__V1__Event *ev = t_event(a, OP(",'lines':[" LINE("p1", 1, 5, "GBP") "]"));
    Shopstream__V1__OrderPlaced *op = ev->order_placed;
    Shopstream__V1__OrderLine **lines = shop_arena_alloc(a, n * sizeof(*lines));
    for (size_t i = 0; i < n; i++)
        lines[i] = op->lines[0];
    op->lines = lines;
    op->n_lines = n;
    op->total->amount_minor = 5 * (int64_t)n;
    return ev;
}

Test(event_validate, order_lines_are_limited)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_problem p = {0};
    cr_assert_eq(validate(order_with_lines(&a, 100), &p), 0, "%s: %s", p.field, p.detail);
    cr_assert_eq(validate(order_with_lines(&a, 101), &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "lines");
    struct shop_event_limits lim = shop_event_limits_default();
    lim.order_lines_max = 2;
    cr_assert_eq(shop_event_validate(order_with_lines(&a, 3), &lim, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "lines");
    shop_arena_fini(&a);
}

Test(event_validate, order_total_is_required_once_stamped)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, OP(",'lines':[" LINE("p1", 1, 5, "GBP") "]"));
    struct shop_problem p = {0};
    ev->order_placed->total = NULL;
    cr_assert_eq(validate(ev, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "total");
    shop_arena_fini(&a);
}

Test(event_validate, limits_are_honoured)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    Shopstream__V1__Event *ev = t_event(&a, CA(",'quantity':6,'unit_price':" MONEY(101, "GBP")));
    struct shop_event_limits lim = shop_event_limits_default();
    struct shop_problem p = {0};
    cr_assert_eq(shop_event_validate(ev, &lim, &p), 0);
    lim.quantity_max = 5;
    cr_assert_eq(shop_event_validate(ev, &lim, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "quantity");
    lim = shop_event_limits_default();
    lim.amount_minor_max = 100;
    cr_assert_eq(shop_event_validate(ev, &lim, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "unit_price.amount_minor");
    lim = shop_event_limits_default();
    lim.max_future_skew_ms = 0;
    ev->occurred_at_ms = ev->received_at_ms + 1;
    cr_assert_eq(shop_event_validate(ev, &lim, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "occurred_at_ms");
    shop_arena_fini(&a);
}

Test(event_validate, defaults_are_documented_values)
{
    struct shop_event_limits lim = shop_event_limits_default();
    cr_assert_eq(lim.batch_max, 500);
    cr_assert_eq(lim.max_future_skew_ms, 300000);
    cr_assert_eq(lim.min_occurred_at_ms, INT64_C(946684800000));
    cr_assert_eq(lim.quantity_max, 10000);
    cr_assert_eq(lim.amount_minor_max, INT64_C(1000000000000));
    cr_assert_eq(lim.order_lines_max, 100);
}

Test(event_validate, uuid_canonical_form)
{
    cr_assert(shop_uuid_is_canonical("00000000-0000-0000-0000-000000000000"));
    cr_assert(shop_uuid_is_canonical(T_UUID));
    cr_assert_not(shop_uuid_is_canonical(NULL));
    cr_assert_not(shop_uuid_is_canonical(""));
    cr_assert_not(shop_uuid_is_canonical("0b7e4c1a-93f2-4d5e-8a6b-1c2d3e4f5a6b0"));
    cr_assert_not(shop_uuid_is_canonical("0b7e4c1a-93f2-4d5e-8a6b-1c2d3e4f5a6"));
    cr_assert_not(shop_uuid_is_canonical("0b7e4c1a+93f2-4d5e-8a6b-1c2d3e4f5a6b"));
    cr_assert_not(shop_uuid_is_canonical("{b7e4c1a-93f2-4d5e-8a6b-1c2d3e4f5a6b}"));
}

Test(event_validate, actor_is_both_or_neither_and_a_known_role)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_problem p = {0};
    Shopstream__V1__Event *ev = t_event(&a, "{'type':'cart.cleared'}");
    cr_assert_eq(shop_event_validate(ev, NULL, &p), 0);     /* records from before the fields */
    ev->actor_id = "svc-payments";
    ev->actor_role = "service";
    cr_assert_eq(shop_event_validate(ev, NULL, &p), 0);
    ev->actor_role = "root";
    cr_assert_eq(shop_event_validate(ev, NULL, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "actor_role");
    ev->actor_role = "";
    cr_assert_eq(shop_event_validate(ev, NULL, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "actor_role");
    ev->actor_id = "";
    ev->actor_role = "admin";
    cr_assert_eq(shop_event_validate(ev, NULL, &p), SHOP_EINVAL);
    cr_assert_str_eq(p.field, "actor_id");
    shop_arena_fini(&a);
}

Test(event_validate, stamping_clears_actor_fields_the_body_named)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_problem p = {0};
    Shopstream__V1__Event *ev = t_parse_one(&a, "{'type':'cart.cleared'}");
    ev->actor_id = "someone";
    ev->actor_role = "admin";
    cr_assert_eq(shop_event_stamp(ev, 0, T_SUBJECT, T_UUID, T_RECEIVED_MS, T_SOURCE, &a, &p), 0);
    cr_assert_null(ev->actor_id);
    cr_assert_null(ev->actor_role);
    shop_arena_fini(&a);
}
