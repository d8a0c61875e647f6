/* SPDX-License-Identifier: MIT
 * The ML core's checkpoints (mlw.h) and counters. Pure.
 */
#include <stdlib.h>
#include <string.h>

#include "workers/core/mlw_internal.h"

void shop_mlw_stats(const struct shop_mlw *m, struct shop_mlw_stats *out)
{
    *out = m->stats;
    out->users = m->n_users;
    out->items = m->n_products;
    for (int w = 0; w < MLW_MODELS; w++)
        out->version[w] = m->model[w].version;
}
