/* SPDX-License-Identifier: MIT
 * The notify role's core (workers/core/notify.h): endpoint configuration, which
 * events are status changes, the webhook body and id, the signature, retries, the
 * offset window and the metrics text.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "workers/core/notify.h"
#include "workers/core/worker_cfg.h"
#include "ev_fixture.h"

static int load(const char *const *env, struct shop_notify_cfg *cfg, struct shop_cfg_errs *errs)
{
    shop_cfg_table_use(env);
    return shop_notify_cfg_load(cfg, shop_cfg_table_get, errs);
}

Test(notify_cfg, endpoints_secrets_and_knobs)
{
    static const char *const env[] = {
        "SHOPSTREAM_NOTIFY_ENDPOINTS", " shop=https://hooks.example.com/a ; back-office=https://bo.example/h;",
        "SHOPSTREAM_NOTIFY_SECRET_SHOP", "0123456789abcdef",
        "SHOPSTREAM_NOTIFY_SECRET_BACK_OFFICE_FILE", "/run/secrets/bo",
        "SHOPSTREAM_NOTIFY_MAX_ATTEMPTS", "3", NULL};
    struct shop_notify_cfg cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, load(env, &cfg, &errs), 0), "%s", errs.msg[0]);
    cr_assert(eq(int, cfg.n_endpoints, 2));
    cr_assert(eq(str, cfg.endpoints[0].name, "shop"));
    cr_assert(eq(str, cfg.endpoints[0].url, "https://hooks.example.com/a"));
    cr_assert(eq(str, cfg.endpoints[0].secret, "0123456789abcdef"));
    cr_assert(eq(str, cfg.endpoints[1].name, "back-office"));
    cr_assert(eq(str, cfg.endpoints[1].secret_file, "/run/secrets/bo"));
    cr_assert(eq(i64, cfg.max_attempts, 3));
    cr_assert(eq(i64, cfg.window, 1000));
    char line[2048];
    shop_notify_cfg_format(&cfg, line, sizeof(line));
    cr_assert(not(eq(ptr, strstr(line, "back-office=https://bo.example/h"), NULL)), "%s", line);
    cr_assert(eq(ptr, strstr(line, "0123456789abcdef"), NULL), "a secret in %s", line);
}

/* Each bad configuration and a word its message must hold. */
struct bad_cfg {     /* arrays, not pointers: Criterion copies the parameters to another process */
    char endpoints[64], secret[24], extra_name[48], extra_value[16], want[40];
};

ParameterizedTestParameters(notify_cfg, refuses)
{
    static struct bad_cfg cases[] = {
        {"", "0123456789abcdef", "", "", "at least one endpoint"},
        {"shop", "0123456789abcdef", "", "", "name=url"},
        {"Shop=https://a.example", "0123456789abcdef", "", "", "name=url"},
        {"shop=http://a.example", "0123456789abcdef", "", "", "SHOPSTREAM_NOTIFY_ALLOW_HTTP"},
        {"shop=https://a.example/x y", "0123456789abcdef", "", "", "https://"},
        {"shop=https://a.example;shop=https://b.example", "0123456789abcdef", "", "", "twice"},
        {"shop=https://a.example", "", "", "", "SHOPSTREAM_NOTIFY_SECRET_SHOP"},
        {"shop=https://a.example", "short", "", "", "16 to 256 bytes"},
        {"shop=https://a.example", "0123456789abcdef", "SHOPSTREAM_NOTIFY_SECRET_SHOP_FILE", "/x", "only one"},
        {"shop=https://a.example", "0123456789abcdef", "SHOPSTREAM_NOTIFY_BACKOFF_BASE_MS", "999999", "BACKOFF_MAX"},
        {"shop=https://a.example", "0123456789abcdef", "SHOPSTREAM_NOTIFY_MAX_ATTEMPTS", "0", "MAX_ATTEMPTS"},
    };
    return cr_make_param_array(struct bad_cfg, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_cfg *c, notify_cfg, refuses)
{
    const char *env[] = {"SHOPSTREAM_NOTIFY_ENDPOINTS", c->endpoints, "SHOPSTREAM_NOTIFY_SECRET_SHOP",
                         c->secret, c->extra_name[0] != '\0' ? c->extra_name : NULL, c->extra_value, NULL};
    struct shop_notify_cfg cfg;
    struct shop_cfg_errs errs = {0};
    cr_assert(eq(int, load(env, &cfg, &errs), SHOP_ECONFIG));
    bool found = false;
    for (int i = 0; i < errs.count; i++)
        found |= strstr(errs.msg[i], c->want) != NULL;
    cr_assert(found, "no error names \"%s\" (first: %s)", c->want, errs.count > 0 ? errs.msg[0] : "none");
}

Test(notify_cfg, only_the_notify_role_needs_endpoints)
{
    static const char *const env[] = {"SHOPSTREAM_PG_DSN", "dbname=x", NULL};
    static struct shop_worker_cfg cfg;
    struct shop_cfg_errs errs = {0};
    shop_cfg_table_use(env);
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "projector", shop_cfg_table_get, &errs), 0));
    cr_assert(eq(int, shop_worker_cfg_load(&cfg, "notify", shop_cfg_table_get, &errs), SHOP_ECONFIG));
    cr_assert(eq(str, (char *)cfg.group_id, "shopstream-notify"));
    cr_assert(eq(str, cfg.topics[0], "shopstream.inventory.v1"));
}

Test(notify_cfg, parking_topic)
{
    char t[64];
    cr_assert(eq(int, shop_notify_parking_topic(t, sizeof(t), "shopstream.", "shop"), 0));
    cr_assert(eq(str, t, "shopstream.notify.shop.parked.v1"));
    cr_assert(eq(int, shop_notify_parking_topic(t, 8, "shopstream.", "shop"), SHOP_ENOMEM));
}

static Shopstream__V1__Event *outcome(struct shop_arena *a, Shopstream__V1__Event__PayloadCase pc)
{
    Shopstream__V1__Event *ev = ev_new(a, 7, "u1", 1700000000000);
    Shopstream__V1__StockLine *line = shop_arena_alloc(a, sizeof(*line)), **lines = shop_arena_alloc(a, sizeof(*lines));
    shopstream__v1__stock_line__init(line);
    line->product_id = (char *)"p1";
    line->quantity = 2;
    line->amount = money(a, 1998, "GBP");
    lines[0] = line;
    ev->payload_case = pc;
    switch (pc) {
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED:
        ev->type = (char *)"inventory.reserved";
        ev->stock_reserved = shop_arena_alloc(a, sizeof(*ev->stock_reserved));
        shopstream__v1__stock_reserved__init(ev->stock_reserved);
        ev->stock_reserved->order_id = (char *)"o1";
        ev->stock_reserved->n_lines = 1;
        ev->stock_reserved->lines = lines;
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED: {
        Shopstream__V1__StockShortLine *sl = shop_arena_alloc(a, sizeof(*sl)), **sls = shop_arena_alloc(a, sizeof(*sls));
        shopstream__v1__stock_short_line__init(sl);
        sl->product_id = (char *)"p1";
        sl->requested = 3;
        sl->available = 1;
        sls[0] = sl;
        ev->type = (char *)"inventory.rejected";
        ev->stock_rejected = shop_arena_alloc(a, sizeof(*ev->stock_rejected));
        shopstream__v1__stock_rejected__init(ev->stock_rejected);
        ev->stock_rejected->order_id = (char *)"o1";
        ev->stock_rejected->reason = (char *)"out_of_stock";
        ev->stock_rejected->n_lines = 1;
        ev->stock_rejected->lines = sls;
        break;
    }
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_COMMITTED:
        ev->type = (char *)"inventory.committed";
        ev->stock_committed = shop_arena_alloc(a, sizeof(*ev->stock_committed));
        shopstream__v1__stock_committed__init(ev->stock_committed);
        ev->stock_committed->order_id = (char *)"o1";
        ev->stock_committed->n_lines = 1;
        ev->stock_committed->lines = lines;
        break;
    case SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RELEASED:
        ev->type = (char *)"inventory.released";
        ev->stock_released = shop_arena_alloc(a, sizeof(*ev->stock_released));
        shopstream__v1__stock_released__init(ev->stock_released);
        ev->stock_released->order_id = (char *)"o1";
        ev->stock_released->n_lines = 1;
        ev->stock_released->lines = lines;
        break;
    default:
        ev->type = (char *)"inventory.low_stock";
        ev->low_stock = shop_arena_alloc(a, sizeof(*ev->low_stock));
        shopstream__v1__low_stock__init(ev->low_stock);
        ev->low_stock->product_id = (char *)"p1";
        break;
    }
    return ev;
}

Test(notify_event, maps_the_inventory_outcomes)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    enum shop_notify_status s;
    cr_assert(shop_notify_status_of(outcome(&a, SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED), &s));
    cr_assert(eq(int, s, SHOP_NOTIFY_CONFIRMED));
    cr_assert(shop_notify_status_of(outcome(&a, SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED), &s));
    cr_assert(eq(int, s, SHOP_NOTIFY_REJECTED));
    cr_assert(shop_notify_status_of(outcome(&a, SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_COMMITTED), &s));
    cr_assert(eq(int, s, SHOP_NOTIFY_SHIPPED));
    cr_assert(shop_notify_status_of(outcome(&a, SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RELEASED), &s));
    cr_assert(eq(int, s, SHOP_NOTIFY_CANCELLED));
    cr_assert(not(shop_notify_status_of(outcome(&a, SHOPSTREAM__V1__EVENT__PAYLOAD_LOW_STOCK), &s)));
    struct shop_notify_msg msg;
    struct shop_err err = {0};
    cr_assert(eq(int, shop_notify_msg_build(outcome(&a, SHOPSTREAM__V1__EVENT__PAYLOAD_LOW_STOCK), &msg, &err),
                 SHOP_EINVAL));
    shop_arena_fini(&a);
}

Test(notify_event, body_and_stable_id)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_notify_msg m1, m2, m3;
    struct shop_err err = {0};
    cr_assert(eq(int, shop_notify_msg_build(outcome(&a, SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED), &m1, &err), 0));
    cr_assert(eq(int, shop_notify_msg_build(outcome(&a, SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED), &m2, &err), 0));
    cr_assert(eq(int, shop_notify_msg_build(outcome(&a, SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_COMMITTED), &m3, &err), 0));
    cr_assert(eq(str, m1.id, m2.id), "the same change must get the same id");
    cr_assert(not(eq(str, m1.id, m3.id)));
    cr_assert(eq(chr, m1.id[14], '5'), "a UUID v5: %s", m1.id);
    cr_assert(eq(str, m1.body, m2.body));
    cr_assert(eq(str, m1.type, "order.confirmed"));
    json_error_t jerr;
    json_t *doc = json_loads(m1.body, 0, &jerr);
    cr_assert(not(eq(ptr, doc, NULL)), "%s", m1.body);
    cr_assert(eq(str, (char *)json_string_value(json_object_get(doc, "id")), m1.id));
    json_t *data = json_object_get(doc, "data");
    cr_assert(eq(str, (char *)json_string_value(json_object_get(data, "order_id")), "o1"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(data, "status")), "confirmed"));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(data, "source_event_type")), "inventory.reserved"));
    json_t *amount = json_object_get(json_array_get(json_object_get(data, "lines"), 0), "amount");
    cr_assert(eq(i64, json_integer_value(json_object_get(amount, "amount_minor")), 1998));
    cr_assert(eq(str, (char *)json_string_value(json_object_get(amount, "currency")), "GBP"));
    json_decref(doc);
    free(m1.body);
    free(m2.body);
    free(m3.body);
    shop_arena_fini(&a);
}

Test(notify_event, rejection_carries_its_reason)
{
    struct shop_arena a = SHOP_ARENA_INIT;
    struct shop_notify_msg m;
    struct shop_err err = {0};
    cr_assert(eq(int, shop_notify_msg_build(outcome(&a, SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED), &m, &err), 0));
    cr_assert(not(eq(ptr, strstr(m.body, "\"reason\":\"out_of_stock\""), NULL)), "%s", m.body);
    cr_assert(not(eq(ptr, strstr(m.body, "\"requested\":3"), NULL)), "%s", m.body);
    free(m.body);
    shop_arena_fini(&a);
}

/* RFC 4231's key "Jefe" over "<t>." + body; the MAC computed independently with
 * printf '%s' '1700000000000.what do ya want for nothing?' | openssl dgst -sha256 -hmac Jefe */
Test(notify_sign, known_answer_and_verify)
{
    const char *body = "what do ya want for nothing?";
    char sig[SHOP_NOTIFY_SIG_MAX];
    cr_assert(eq(int, shop_notify_sign("Jefe", 1700000000000, body, strlen(body), sig, sizeof(sig)), 0));
    cr_assert(eq(str, sig, "t=1700000000000,v1=67c32eec367f08da9b08bed2fa1ad06d820a1b6cf0f7dc32c293102c301c776c"), "%s", sig);
    cr_assert(shop_notify_verify("Jefe", sig, body, strlen(body), 1700000000000, 300000));
    cr_assert(not(shop_notify_verify("Jeff", sig, body, strlen(body), 1700000000000, 300000)));
    cr_assert(not(shop_notify_verify("Jefe", sig, "what do ya want for nothing!", strlen(body), 1700000000000, 300000)));
    cr_assert(not(shop_notify_verify("Jefe", sig, body, strlen(body), 1700000000000 + 300001, 300000)), "too old");
    char two[256];
    snprintf(two, sizeof(two), "t=1700000000000,v0=zz,v1=%064d,%s", 0, strchr(sig, ',') + 1);
    cr_assert(shop_notify_verify("Jefe", two, body, strlen(body), 1700000000000, 300000), "%s", two);
    cr_assert(eq(int, shop_notify_sign("Jefe", 1, body, strlen(body), sig, 10), SHOP_ENOMEM));
}

Test(notify_retry, judge_and_full_jitter)
{
    cr_assert(eq(int, shop_notify_judge(200, 1, 3), SHOP_NOTIFY_DELIVERED));
    cr_assert(eq(int, shop_notify_judge(204, 3, 3), SHOP_NOTIFY_DELIVERED));
    cr_assert(eq(int, shop_notify_judge(500, 1, 3), SHOP_NOTIFY_RETRY));
    cr_assert(eq(int, shop_notify_judge(0, 2, 3), SHOP_NOTIFY_RETRY));
    cr_assert(eq(int, shop_notify_judge(410, 3, 3), SHOP_NOTIFY_PARK));
    cr_assert(eq(int, shop_notify_judge(301, 3, 3), SHOP_NOTIFY_PARK), "a redirect is no delivery");
    struct shop_backoff b;
    shop_backoff_init(&b, 100, 1000);
    int64_t steps[] = {100, 200, 400, 800, 1000, 1000};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct shop_backoff top = b, zero = b;
        cr_assert(eq(i64, shop_notify_retry_delay(&top, UINT32_MAX - (UINT32_MAX % (uint32_t)(steps[i] + 1)) - 1),
                     steps[i]), "step %zu", i);
        cr_assert(eq(i64, shop_notify_retry_delay(&zero, 0), 0), "full jitter reaches 0");
        shop_notify_retry_delay(&b, 12345);
    }
}

Test(notify_window, commits_only_what_every_endpoint_has)
{
    struct shop_notify_window w;
    shop_notify_window_init(&w);
    cr_assert(eq(i64, shop_notify_window_commit(&w), -1));
    shop_notify_window_push(&w, 10, 0);           /* no status change */
    cr_assert(eq(i64, shop_notify_window_commit(&w), 11));
    shop_notify_window_push(&w, 11, 2);
    shop_notify_window_push(&w, 12, 0);
    shop_notify_window_push(&w, 13, 2);
    cr_assert(eq(i64, shop_notify_window_commit(&w), 11));
    cr_assert(eq(int, shop_notify_window_done(&w, 13), 0));
    cr_assert(eq(int, shop_notify_window_done(&w, 13), 0));
    cr_assert(eq(i64, shop_notify_window_commit(&w), 11), "13 is done, 11 is not");
    cr_assert(eq(int, shop_notify_window_done(&w, 13), SHOP_ENOTFOUND));
    cr_assert(eq(int, shop_notify_window_done(&w, 11), 0));
    cr_assert(eq(i64, shop_notify_window_commit(&w), 11));
    cr_assert(eq(int, shop_notify_window_done(&w, 11), 0));
    cr_assert(eq(i64, shop_notify_window_commit(&w), 14));
    cr_assert(eq(int, shop_notify_window_done(&w, 99), SHOP_ENOTFOUND));
    shop_notify_window_fini(&w);
}

Test(notify_window, grows_past_its_ring)
{
    struct shop_notify_window w;
    shop_notify_window_init(&w);
    for (int64_t o = 0; o < 50; o++)
        shop_notify_window_push(&w, o, 1);
    for (int64_t o = 0; o < 40; o++)
        cr_assert(eq(int, shop_notify_window_done(&w, o), 0));
    for (int64_t o = 50; o < 500; o++)       /* wraps, then grows */
        shop_notify_window_push(&w, o, 1);
    cr_assert(eq(i64, shop_notify_window_commit(&w), 40));
    for (int64_t o = 499; o >= 40; o--)
        cr_assert(eq(int, shop_notify_window_done(&w, o), 0), "offset %ld", (long)o);
    cr_assert(eq(i64, shop_notify_window_commit(&w), 500));
    shop_notify_window_fini(&w);
}

Test(notify_metrics, render)
{
    struct shop_notify_metrics m = {.n = 2, .names = {"shop", "bo"}};
    m.ep[0].delivered = 3;
    m.ep[0].failed = 2;
    m.ep[1].parked = 1;
    m.ep[1].pending = 7;
    shop_notify_metrics_observe(&m, 0, 0.003);
    shop_notify_metrics_observe(&m, 0, 0.2);
    shop_notify_metrics_observe(&m, 0, 60);
    char buf[8192];
    size_t len = shop_notify_metrics_render(&m, "notify", "shopstream-\"notify\"", buf, sizeof(buf));
    cr_assert(lt(sz, len, sizeof(buf)));
    const char *want[] = {
        "# TYPE shopstream_notify_deliveries_total counter\n",
        "shopstream_notify_deliveries_total{role=\"notify\",group=\"shopstream-\\\"notify\\\"\",endpoint=\"shop\","
        "result=\"delivered\"} 3\n",
        "shopstream_notify_deliveries_total{role=\"notify\",group=\"shopstream-\\\"notify\\\"\",endpoint=\"shop\","
        "result=\"failed\"} 2\n",
        "endpoint=\"bo\",result=\"parked\"} 1\n",
        "# TYPE shopstream_notify_delivery_duration_seconds histogram\n",
        "endpoint=\"shop\",le=\"0.005\"} 1\n",
        "endpoint=\"shop\",le=\"0.25\"} 2\n",
        "endpoint=\"shop\",le=\"10\"} 2\n",
        "endpoint=\"shop\",le=\"+Inf\"} 3\n",
        "shopstream_notify_delivery_duration_seconds_count{role=\"notify\",group=\"shopstream-\\\"notify\\\"\","
        "endpoint=\"shop\"} 3\n",
        "# TYPE shopstream_notify_pending gauge\n",
        "endpoint=\"bo\"} 7\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        cr_assert(not(eq(ptr, strstr(buf, want[i]), NULL)), "missing %s in:\n%s", want[i], buf);
    char small[16];
    cr_assert(eq(sz, shop_notify_metrics_render(&m, "notify", "g", small, sizeof(small)),
                 shop_notify_metrics_render(&m, "notify", "g", buf, sizeof(buf))), "the length it needs");
}
