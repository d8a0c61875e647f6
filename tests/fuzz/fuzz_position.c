/* SPDX-License-Identifier: MIT
 * libFuzzer target for the read-your-writes position token (X-Shopstream-After, any
 * bytes a client sends) and the Prefer header. Invariants: no crash, no undefined
 * behaviour; a token taken as "mine" holds ascending, in-range entries and encodes back
 * to the very same text (one text per position); Prefer's wait is within 0..10.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/core/edge_position.h"
#include "proto/core/shop_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[SHOP_POS_KEY_LEN] = {42};
static struct shop_position pos;
static char back[SHOP_POS_TOKEN_MAX + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *why = NULL;
    enum shop_pos_result r = shop_position_decode(text, size, key, "fuzz", &pos, &why);
    if (why == NULL)
        abort();
    if (r == SHOP_POS_MINE) {
        for (size_t i = 0; i < pos.n; i++) {
            if (pos.e[i].stream < 0 || pos.e[i].stream >= SHOP_STREAM_COUNT || pos.e[i].partition < 0 ||
                pos.e[i].offset < 0)
                abort();
            if (i > 0 && (pos.e[i - 1].stream > pos.e[i].stream ||
                          (pos.e[i - 1].stream == pos.e[i].stream && pos.e[i - 1].partition >= pos.e[i].partition)))
                abort();
        }
        size_t n = shop_position_encode(&pos, key, "fuzz", back, sizeof(back));
        if (n != size || memcmp(back, text, size) != 0)
            abort();
    }
    int w = -1;
    if (shop_prefer_wait(text, size, &w) && (w < 0 || w > SHOP_POS_WAIT_MAX_S))
        abort();
    return 0;
}
