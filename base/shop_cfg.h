/* SPDX-License-Identifier: MIT
 * Helpers for pure configuration loaders. A loader reads variables through a
 * shop_getenv_fn (getenv in main, a table in tests), collects *all* errors in
 * a struct shop_cfg_errs, and never calls getenv itself.
 */
#ifndef SHOP_CFG_H
#define SHOP_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef const char *(*shop_getenv_fn)(const char *name);

#define SHOP_CFG_ERRS_MAX 16

struct shop_cfg_errs {
    int count;
    char msg[SHOP_CFG_ERRS_MAX][160];
};

/** getenv() with the shop_getenv_fn signature; the one place main() passes in. */
const char *shop_cfg_getenv(const char *name);

/** Value of name, or def when unset or empty. Never NULL unless def is. */
const char *shop_cfg_str(shop_getenv_fn get, const char *name, const char *def);

/** Integer in [min, max]; records an error naming the variable otherwise. */
int64_t shop_cfg_int(shop_getenv_fn get, const char *name, int64_t def, int64_t min, int64_t max,
                     struct shop_cfg_errs *errs);
/** A finite number in [min, max]; def when unset (an error is recorded otherwise). */
double shop_cfg_double(shop_getenv_fn get, const char *name, double def, double min, double max,
                       struct shop_cfg_errs *errs);

/** "1/true/yes/on" or "0/false/no/off"; records an error otherwise. */
bool shop_cfg_bool(shop_getenv_fn get, const char *name, bool def, struct shop_cfg_errs *errs);

void shop_cfg_errorf(struct shop_cfg_errs *errs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Test helper: a getenv over a NULL-terminated {name, value, name, value, NULL} table set by
 *  shop_cfg_table_use(). Not thread-safe; for tests and tools only. */
void shop_cfg_table_use(const char *const *table);
const char *shop_cfg_table_get(const char *name);

#endif
