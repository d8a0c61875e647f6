/* SPDX-License-Identifier: MIT
 * libFuzzer target for the edge's event count of undecoded bodies
 * (shop_edge_prescan_json / _pb), checked against the real decoders: the first
 * byte picks JSON or protobuf (its low bit) and the count limit (1..64); the
 * rest is the body. Invariant checked: no crash or undefined behaviour, and
 * whenever the decoder accepts a body of n events the prescan said either
 * "don't know" (-1) or exactly min(n, max + 1) — so it never refuses a batch
 * the decoder would take, nor lets an over-long one through uncounted.
 */
#include <stdint.h>
#include <stdlib.h>

#include "edge/core/edge_prescan.h"
#include "proto/core/shop_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t max = 1 + (data[0] >> 1) % 64;
    bool json = (data[0] & 1) != 0;
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    long counted = json ? shop_edge_prescan_json((const char *)body, len, max)
                        : shop_edge_prescan_pb(body, len, max);
    if (counted < -1 || counted > (long)max + 1)
        abort();

    struct shop_event_limits lim = shop_event_limits_default();
    lim.batch_max = SIZE_MAX / 2;   /* the decoder counts everything */
    struct shop_arena arena = SHOP_ARENA_INIT;
    struct shop_problem p = {.index = -1};
    Shopstream__V1__Event **evs = NULL;
    size_t n = 0;
    int rc = json ? shop_event_batch_from_json((const char *)body, len, &lim, &arena, &evs, &n, &p)
                  : shop_event_batch_from_pb(body, len, &lim, &arena, &evs, &n, &p);
    if (rc == 0 && counted != -1 && (size_t)counted != (n <= max ? n : max + 1))
        abort();
    shop_arena_fini(&arena);
    return 0;
}
