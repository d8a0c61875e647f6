/* SPDX-License-Identifier: MIT
 * Test helpers for the event core. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

char *t_json(struct shop_arena *arena, const char *text)
{
    char *s = shop_arena_strdup(arena, text);
    for (char *c = s; *c != '\0'; c++)
        if (*c == '\'')
            *c = '"';
    return s;
}

Shopstream__V1__Event *t_parse_one(struct shop_arena *arena, const char *event_json)
{
    size_t n = strlen(event_json) + 32;
    char *body = shop_arena_alloc(arena, n);
    snprintf(body, n, "{\"events\":[%s]}", t_json(arena, event_json));
    Shopstream__V1__Event **evs = NULL;
    size_t n_evs = 0;
    struct shop_problem p = {0};
    int rc = shop_event_batch_from_json(body, strlen(body), NULL, arena, &evs, &n_evs, &p);
    cr_assert_eq(rc, 0, "parse %s: field %s: %s", event_json, p.field, p.detail);
    cr_assert_eq(n_evs, 1);
    return evs[0];
}

Shopstream__V1__Event *t_event(struct shop_arena *arena, const char *event_json)
{
    Shopstream__V1__Event *ev = t_parse_one(arena, event_json);
    struct shop_problem p = {0};
    int rc = shop_event_stamp(ev, 0, T_SUBJECT, T_UUID, T_RECEIVED_MS, T_SOURCE, arena, &p);
    cr_assert_eq(rc, 0, "stamp: field %s: %s", p.field, p.detail);
    return ev;
}

uint8_t *t_pack(struct shop_arena *arena, const Shopstream__V1__Event *ev, size_t *len)
{
    *len = shopstream__v1__event__get_packed_size(ev);
    uint8_t *buf = shop_arena_alloc(arena, *len ? *len : 1);
    cr_assert_eq(shopstream__v1__event__pack(ev, buf), *len);
    return buf;
}
