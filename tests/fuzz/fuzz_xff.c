/* SPDX-License-Identifier: MIT
 * libFuzzer target for the client-controlled inputs of the rate limiter: X-Forwarded-For
 * (shop_rl_client_addr), trusted-proxy lists (shop_rl_proxies_parse) and keys hashed into
 * the bounded bucket table. Invariants: no crash, no undefined behaviour; the client is the
 * peer or an address that parses; the proxy list stays bounded; the table never holds more
 * entries than it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/core/edge_ratelimit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct shop_rl_table table;
    if (table.entries == NULL)
        shop_rl_table_init(&table, 64, 1, 2);
    /* The first half is the proxy list (NUL-terminated copy), the rest is X-Forwarded-For. */
    size_t half = size / 2;
    char *list = malloc(half + 1);
    memcpy(list, data, half);
    list[half] = '\0';
    struct shop_rl_proxies p;
    struct shop_err err = {0};
    if (shop_rl_proxies_parse(&p, list, &err) != 0)
        shop_rl_proxies_parse(&p, "10.0.0.0/8,127.0.0.1,::1", &err);
    if (p.n < 0 || p.n > SHOP_RL_PROXIES_MAX)
        abort();
    uint8_t peer[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}, out[16];
    shop_rl_client_addr(&p, peer, (const char *)data + half, size - half, out);
    uint64_t h = shop_rl_hash(&table, out, sizeof(out));
    struct shop_rl_policy pol = {.quota = 1 + (size % 1000), .window_s = 1 + (size % 60)};
    struct shop_rl_result r;
    shop_rl_take(&table, h, &pol, (int64_t)size * 1000, &r);
    if (r.remaining < 0 || (!r.allowed && r.retry_after_s < 1))
        abort();
    free(list);
    return 0;
}
