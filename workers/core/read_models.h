/* SPDX-License-Identifier: MIT
 * The read models an operator rebuilds (shopstream-admin rebuild --model M): each names
 * the tables of shop_models (workers/core/roles.h) it swaps and the role whose fold
 * writes them. A rebuild runs that role's real fold into a shadow schema, where every
 * table of the role must exist (search_path would send a missing one to the live
 * table), and swaps only the model's tables. Pure.
 */
#ifndef SHOP_WORKER_READ_MODELS_H
#define SHOP_WORKER_READ_MODELS_H

#include <stddef.h>

#include "workers/core/roles.h"

#define SHOP_READ_MODEL_TABLES_MAX 16

struct shop_read_model {
    const char *name;                                 /* --model */
    enum shop_worker_role role;                       /* whose fold writes the tables */
    const char *tables[SHOP_READ_MODEL_TABLES_MAX];   /* swapped; NULL-terminated */
    const char *note;
};

extern const struct shop_read_model shop_read_models[];
extern const size_t shop_read_models_count;

/** The model named name; NULL for an unknown one. */
const struct shop_read_model *shop_read_model_find(const char *name);

/** "products, carts, ...": every model's name, for error messages. Returns the length
 *  written (truncated to n - 1). */
size_t shop_read_model_list(char *buf, size_t n);

/** The tables of shop_models role writes, up to max into out: every one of them must be
 *  in a rebuild's shadow schema. Returns how many. */
int shop_read_model_role_tables(enum shop_worker_role role, const char **out, size_t max);

#endif
