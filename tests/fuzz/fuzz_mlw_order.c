/* SPDX-License-Identifier: MIT
 * libFuzzer target for the ML reorder buffer's record (workers/core/mlw_order.c). The
 * input is the payload; a valid header and CRC are put around it so that the fuzzer
 * reaches the content checks. Invariants: no crash, no leak, no undefined behaviour;
 * whatever decodes encodes back to the same bytes (canonical); a failed decode leaves
 * the target as it was; a decoded buffer pops in strictly increasing key order and
 * ends empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_version.h"
#include "workers/core/mlw_order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *encode(const struct shop_mlw_order *o, size_t *len)
{
    struct shop_ml_writer w;
    shop_ml_writer_init(&w);
    shop_mlw_order_encode(o, &w);
    return shop_ml_writer_take(&w, len);
}

static uint8_t *wrap(const uint8_t *data, size_t size, size_t *len)
{
    struct shop_ml_writer w;
    shop_ml_writer_init(&w);
    shop_ml_writer_begin(&w, "MLWO");
    shop_ml_put_bytes(&w, data, size);
    shop_ml_writer_end(&w);
    return shop_ml_writer_take(&w, len);
}

static void drain(struct shop_mlw_order *o)
{
    struct shop_mlw_entry e;
    int64_t t = INT64_MIN;
    enum shop_stream s = 0;
    char id[SHOP_MLW_ID_MAX + 1] = "";
    bool first = !shop_mlw_order_last(o, &t, &s, id);
    while (shop_mlw_order_pop(o, true, INT64_MAX, &e)) {
        int c = e.occurred_at_ms != t ? (e.occurred_at_ms < t ? -1 : 1)
                : e.stream != s       ? (e.stream < s ? -1 : 1)
                                      : strcmp(e.id, id);
        if (!first && c <= 0)
            abort();
        first = false;
        t = e.occurred_at_ms;
        s = e.stream;
        memcpy(id, e.id, sizeof(id));
    }
    if (shop_mlw_order_buffered(o) != 0 || shop_mlw_order_bytes(o) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the widest window: decode then encode gives the input back (but see below) */
    struct shop_mlw_order_cfg cfg = {.lateness_ms = 0, .dedup_window_ms = INT64_MAX};
    struct shop_mlw_order *o;
    if (shop_mlw_order_new(&cfg, &o, NULL) != 0)
        abort();
    size_t before_len, len;
    uint8_t *before = encode(o, &before_len);
    uint8_t *rec = wrap(data, size, &len);
    if (shop_mlw_order_decode(o, rec, len, NULL, NULL) == 0) {
        size_t again_len;
        uint8_t *again = encode(o, &again_len);
        /* only ids more than INT64_MAX before the clock can be forgotten, and each one
         * forgotten shortens the record; otherwise the bytes must come back unchanged */
        if (again_len > len || (again_len == len && memcmp(again, rec, len) != 0))
            abort();
        if (again_len < len) {
            struct shop_mlw_order *o2;
            size_t third_len;
            if (shop_mlw_order_new(&cfg, &o2, NULL) != 0 || shop_mlw_order_decode(o2, again, again_len, NULL, NULL) != 0)
                abort();
            uint8_t *third = encode(o2, &third_len);
            if (third_len != again_len || memcmp(third, again, again_len) != 0)
                abort();
            free(third);
            shop_mlw_order_free(o2);
        }
        free(again);
        drain(o);
    } else {
        size_t now_len;
        uint8_t *now = encode(o, &now_len);
        if (now_len != before_len || memcmp(now, before, before_len) != 0)
            abort();
        free(now);
    }
    free(rec);
    free(before);
    shop_mlw_order_free(o);
    return 0;
}
