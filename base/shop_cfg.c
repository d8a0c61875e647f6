/* SPDX-License-Identifier: MIT
 * Environment-variable parsing helpers. Pure: values come through a function
 * pointer, errors are collected, nothing is printed. */
#define _POSIX_C_SOURCE 200809L
#include "base/shop_cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void shop_cfg_errorf(struct shop_cfg_errs *errs, const char *fmt, ...)
{
    if (errs == NULL || errs->count >= SHOP_CFG_ERRS_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errs->msg[errs->count++], sizeof(errs->msg[0]), fmt, ap);
    va_end(ap);
}

const char *shop_cfg_getenv(const char *name)
{
    return getenv(name);
}

const char *shop_cfg_str(shop_getenv_fn get, const char *name, const char *def)
{
    const char *v = get(name);
    return (v == NULL || v[0] == '\0') ? def : v;
}

int64_t shop_cfg_int(shop_getenv_fn get, const char *name, int64_t def, int64_t min, int64_t max,
                     struct shop_cfg_errs *errs)
{
    const char *v = get(name);
    if (v == NULL || v[0] == '\0')
        return def;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max) {
        shop_cfg_errorf(errs, "%s must be an integer in [%lld, %lld], got \"%s\"", name, (long long)min,
                        (long long)max, v);
        return def;
    }
    return n;
}

double shop_cfg_double(shop_getenv_fn get, const char *name, double def, double min, double max,
                       struct shop_cfg_errs *errs)
{
    const char *v = get(name);
    if (v == NULL || v[0] == '\0')
        return def;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || *end != '\0' || !(d >= min && d <= max)) {
        shop_cfg_errorf(errs, "%s must be a number in [%g, %g], got \"%s\"", name, min, max, v);
        return def;
    }
    return d;
}

bool shop_cfg_bool(shop_getenv_fn get, const char *name, bool def, struct shop_cfg_errs *errs)
{
    const char *v = get(name);
    if (v == NULL || v[0] == '\0')
        return def;
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return true;
        if (strcasecmp(v, no[i]) == 0)
            return false;
    }
    shop_cfg_errorf(errs, "%s must be true or false, got \"%s\"", name, v);
    return def;
}

static const char *const *cfg_table;

void shop_cfg_table_use(const char *const *table)
{
    cfg_table = table;
}

const char *shop_cfg_table_get(const char *name)
{
    for (const char *const *p = cfg_table; p != NULL && p[0] != NULL; p += 2) {
        if (strcmp(p[0], name) == 0)
            return p[1];
    }
    return NULL;
}
