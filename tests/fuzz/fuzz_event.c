/* SPDX-License-Identifier: MIT
 * libFuzzer target for the event core's untrusted inputs: a Kafka record
 * value (shop_event_decode), a POST /v1/events JSON body
 * (shop_event_batch_from_json) and protobuf body (shop_event_batch_from_pb),
 * plus stamping, validation, headers, duplicate ids and packing of whatever
 * parses. Invariant checked: no crash, no leak, problems are JSON-safe, a protobuf
 * batch's events carry no unknown field at their top level once decoded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/core/shop_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(Shopstream__V1__Event *ev, int i, struct shop_arena *arena)
{
    struct shop_problem p = {.index = -1};
    struct shop_header h[SHOP_CE_HEADERS_MAX];
    if (shop_event_stamp(ev, i, "fuzz-user", "00000000-0000-4000-8000-000000000000",
                         INT64_C(1700000000000), "fuzz", arena, &p) == 0 &&
        shop_event_validate(ev, NULL, &p) == 0)
        shop_event_ce_headers(ev, NULL, arena, h);
    shop_problem_json(&p, 400, NULL, arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_err err = {0};
    Shopstream__V1__Event *ev = NULL;
    if (shop_event_decode(data, size, NULL, &arena, &ev, &err) == 0)
        exercise(ev, 0, &arena);

    Shopstream__V1__Event **evs = NULL;
    size_t n = 0;
    struct shop_problem p = {.index = -1};
    if (shop_event_batch_from_json((const char *)data, size, NULL, &arena, &evs, &n, &p) == 0)
        for (size_t i = 0; i < n; i++)
            exercise(evs[i], (int)i, &arena);
    else
        shop_problem_json(&p, 400, NULL, &arena);

    if (shop_event_batch_from_pb(data, size, NULL, &arena, &evs, &n, &p) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (evs[i]->base.n_unknown_fields != 0)
                abort();   /* the edge would republish them */
            exercise(evs[i], (int)i, &arena);
            uint8_t *buf = shop_arena_alloc(&arena, shopstream__v1__event__get_packed_size(evs[i]) + 1);
            shopstream__v1__event__pack(evs[i], buf);
        }
        shop_event_batch_duplicate(evs, n, &arena);
    }
    shop_arena_fini(&arena);
    return 0;
}
