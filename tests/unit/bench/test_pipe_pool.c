/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bench/pipeline/pipe_pool.h"

/* A plan by hand: the catalog, then u1 (two requests, an order), then u2. */
static struct replay_request reqs[4];
static struct replay_plan plan;

static void setup(void)
{
    const char *bodies[4] = {
        "{\"events\":[{\"type\":\"catalog.product_upserted\",\"id\":\"00000000-0000-4000-8000-000000000001\","
        "\"product_id\":\"p1\",\"name\":\"Mug\"}]}",
        "{\"events\":[{\"type\":\"product.viewed\",\"id\":\"00000000-0000-4000-8000-000000000002\",\"product_id\":\"p1\"},"
        "{\"type\":\"cart.item_added\",\"id\":\"00000000-0000-4000-8000-000000000003\",\"product_id\":\"p1\","
        "\"quantity\":1}]}",
        "{\"events\":[{\"type\":\"order.placed\",\"id\":\"00000000-0000-4000-8000-000000000004\",\"order_id\":\"536365\","
        "\"lines\":[{\"product_id\":\"p1\",\"quantity\":1,\"unit_price\":{\"amount_minor\":5,\"currency\":\"GBP\"}}],"
        "\"total\":{\"amount_minor\":5,\"currency\":\"GBP\"}},"
        "{\"type\":\"order.paid\",\"id\":\"00000000-0000-4000-8000-000000000005\",\"order_id\":\"536365\","
        "\"amount\":{\"amount_minor\":5,\"currency\":\"GBP\"},\"payment_ref\":\"536365\"}]}",
        "{\"events\":[{\"type\":\"search.performed\",\"id\":\"00000000-0000-4000-8000-000000000006\",\"query\":\"mug\"}]}",
    };
    const char *users[4] = {"catalog-admin", "u1", "u1", "u2"};
    for (int i = 0; i < 4; i++) {
        snprintf(reqs[i].user_id, sizeof(reqs[i].user_id), "%s", users[i]);
        reqs[i].admin = i == 0;
        reqs[i].body = strdup(bodies[i]);
        reqs[i].n_events = i == 1 || i == 2 ? 2 : 1;
    }
    plan = (struct replay_plan){.reqs = reqs, .n_reqs = 4};
}

static void teardown(void)
{
    for (int i = 0; i < 4; i++)
        free(reqs[i].body);
}

TestSuite(pipe_pool, .init = setup, .fini = teardown);

static int is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL)
            return 0;
    }
    return 1;
}

Test(pipe_pool, shoppers_only_cut_into_batches_of_one_user_interleaved)
{
    struct pipe_pool p;
    size_t n = pipe_pool_build(&p, &plan, 100, 3, 100, 0xabcdef01u, NULL, NULL);
    cr_assert_eq(n, 5);
    cr_assert_eq(p.n_users, 2);
    cr_expect_str_eq(p.users[0], "u1");
    /* u1's four events: [3] + [1]; u2's one: [1]; interleaved: u1's first, u2's first, u1's second. */
    cr_assert_eq(p.n_reqs, 3);
    cr_expect_eq(p.reqs[0].user, 0);
    cr_expect_eq(p.reqs[0].n, 3);
    cr_expect_eq(p.reqs[1].user, 1);
    cr_expect_eq(p.reqs[2].user, 0);
    cr_expect_eq(p.reqs[2].first, 3);
    pipe_pool_free(&p);
}

Test(pipe_pool, at_most_per_user_events_of_each_shopper)
{
    struct pipe_pool p;
    size_t n = pipe_pool_build(&p, &plan, 100, 100, 2, 1, NULL, NULL);
    cr_expect_eq(n, 3);     /* u1's first two, u2's one */
    pipe_pool_free(&p);
}

Test(pipe_pool, rendering_numbers_ids_renames_orders_by_pass_and_appends_the_probe)
{
    struct pipe_pool p;
    pipe_pool_build(&p, &plan, 100, 3, 100, 0xabcdef01u, NULL, NULL);
    char *buf = NULL;
    size_t cap = 0;
    uint64_t seq = 41;
    size_t len = pipe_pool_render(&p, &p.reqs[0], 0x1f, &seq, "probe-x", &buf, &cap);
    cr_expect_eq(len, strlen(buf));
    cr_expect_eq(seq, 45);
    json_error_t jerr;
    json_t *root = json_loads(buf, 0, &jerr);
    cr_assert_not_null(root, "%s: %s", jerr.text, buf);
    json_t *evs = json_object_get(root, "events");
    cr_assert_eq(json_array_size(evs), 4);
    for (size_t i = 0; i < 4; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(evs, i), "id"));
        cr_expect(is_uuid(id), "%s", id);
        char want[37];
        pipe_event_id(0xabcdef01u, 41 + i, want);
        cr_expect_str_eq(id, want);
    }
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(evs, 2), "order_id")), "536365-001f");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(evs, 2), "type")), "order.placed");
    json_t *probe = json_array_get(evs, 3);
    cr_expect_str_eq(json_string_value(json_object_get(probe, "type")), "product.viewed");
    cr_expect_str_eq(json_string_value(json_object_get(probe, "product_id")), "probe-x");
    /* Every event names the pass's user (posted with the service role, on their behalf). */
    char user[40];
    pipe_pool_subject(&p, p.reqs[0].user, 0x1f, user);
    for (size_t i = 0; i < 4; i++)
        cr_expect_str_eq(json_string_value(json_object_get(json_array_get(evs, i), "user_id")), user);
    json_decref(root);
    /* The template is untouched: the next pass gets its own order id. */
    pipe_pool_render(&p, &p.reqs[0], 0x20, &seq, NULL, &buf, &cap);
    root = json_loads(buf, 0, &jerr);
    cr_assert_not_null(root);
    cr_expect_eq(json_array_size(json_object_get(root, "events")), 3);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(root, "events"), 2), "order_id")),
                     "536365-0020");
    json_decref(root);
    char sub[40];
    pipe_pool_subject(&p, 1, 0x20, sub);
    cr_expect_str_eq(sub, "u2-p0020");
    free(buf);
    pipe_pool_free(&p);
}

static int no_cart_adds(const char *json, const char *user, void *ud)
{
    (*(int *)ud)++;
    cr_expect(strcmp(user, "u1") == 0 || strcmp(user, "u2") == 0, "%s", user);
    return strstr(json, "cart.item_added") == NULL;
}

Test(pipe_pool, events_the_edge_would_refuse_are_left_out)
{
    struct pipe_pool p;
    int calls = 0;
    size_t n = pipe_pool_build(&p, &plan, 100, 100, 100, 1, no_cart_adds, &calls);
    cr_expect_eq(calls, 5);
    cr_expect_eq(n, 4);
    for (size_t i = 0; i < p.n_evs; i++)
        cr_expect_null(strstr(p.evs[i].json, "cart.item_added"));
    pipe_pool_free(&p);
}
