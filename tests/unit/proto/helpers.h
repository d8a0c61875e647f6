/* SPDX-License-Identifier: MIT
 * Test helpers for the event core: build one stamped event from JSON text. */
#ifndef TEST_PROTO_HELPERS_H
#define TEST_PROTO_HELPERS_H

#include "proto/core/shop_event.h"

#define T_RECEIVED_MS INT64_C(1700000000000) /* 2023-11-14T22:13:20Z */
#define T_SUBJECT "user-1"
#define T_UUID "0b7e4c1a-93f2-4d5e-8a6b-1c2d3e4f5a6b"
#define T_SOURCE "shopstream-edge/test"

/** Copy of text with every ' turned into ", so JSON in tests reads without escapes. */
char *t_json(struct shop_arena *arena, const char *text);
/** Parses {"events":[event_json]} (single quotes allowed, see t_json) and returns events[0]; aborts the test on failure. */
Shopstream__V1__Event *t_parse_one(struct shop_arena *arena, const char *event_json);
/** t_parse_one, then shop_event_stamp with the T_* values; aborts the test on failure. */
Shopstream__V1__Event *t_event(struct shop_arena *arena, const char *event_json);
/** Packs ev into the arena. */
uint8_t *t_pack(struct shop_arena *arena, const Shopstream__V1__Event *ev, size_t *len);

#define A8 "aaaaaaaa"
#define A64 A8 A8 A8 A8 A8 A8 A8 A8
#define A128 A64 A64
#define A256 A128 A128
#define MONEY(amount, cur) "{'amount_minor':" #amount ",'currency':'" cur "'}"

/* Criterion may run each test in a re-executed process (BoxFort), where pointers in
 * copied parameters are stale; so tables stay at file scope and parameters are indices. */
#define T_INDEX_PARAMS(table)                                                                      \
    do {                                                                                           \
        static size_t idx_[sizeof(table) / sizeof(table[0])];                                      \
        for (size_t i_ = 0; i_ < sizeof(table) / sizeof(table[0]); i_++)                           \
            idx_[i_] = i_;                                                                         \
        return cr_make_param_array(size_t, idx_, sizeof(table) / sizeof(table[0]));                \
    } while (0)

#endif
