/* SPDX-License-Identifier: MIT
 * libFuzzer target for the ML core's checkpoint state record (workers/core/mlw_ckpt.c).
 * The input is the payload of the "state" part; a valid header and CRC are put around it
 * and the other parts are an empty state's, so that the fuzzer reaches the content
 * checks. Invariants: no crash, no leak, no undefined behaviour; a failed restore leaves
 * the target empty; a restored state checkpoints again and goes on applying events.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_codec.h"
#include "workers/core/mlw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shop_mlw_cfg cfg;
    shop_mlw_cfg_default(&cfg);
    cfg.als.factors = 4;
    struct shop_err err;
    struct shop_mlw *empty = NULL, *m = NULL;
    if (shop_mlw_new(&cfg, &empty, &err) != 0 || shop_mlw_new(&cfg, &m, &err) != 0)
        abort();
    struct shop_mlw_part parts[SHOP_MLW_PARTS_MAX];
    int n = shop_mlw_checkpoint(empty, parts, SHOP_MLW_PARTS_MAX, &err);
    if (n < 1 || strcmp(parts[0].model, "state") != 0)
        abort();
    struct shop_ml_writer w;
    shop_ml_writer_init(&w);
    shop_ml_writer_begin(&w, "MLWS");
    shop_ml_put_bytes(&w, data, size);
    shop_ml_writer_end(&w);
    size_t len;
    uint8_t *state = shop_ml_writer_take(&w, &len);
    parts[0].bytes = state;
    parts[0].len = len;
    if (shop_mlw_restore(m, parts, (size_t)n, &err) == 0) {
        struct shop_mlw_part again[SHOP_MLW_PARTS_MAX];
        if (shop_mlw_checkpoint(m, again, SHOP_MLW_PARTS_MAX, &err) < 1)
            abort();
        shop_mlw_release(m, true);
        struct shop_mlw_job *job = shop_mlw_job_take(m);
        if (job != NULL) {
            shop_mlw_job_run(job);
            shop_mlw_job_finish(m, job);
            shop_mlw_release(m, true);
        }
        struct shop_mlw_sink none = {0};
        shop_mlw_drain(m, &none);
    } else {
        struct shop_mlw_stats st;
        shop_mlw_stats(m, &st);
        if (st.users != 0 || st.items != 0 || shop_mlw_buffered(m) != 0)
            abort();
    }
    free(state);
    shop_mlw_free(m);
    shop_mlw_free(empty);
    return 0;
}
