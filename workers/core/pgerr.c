/* SPDX-License-Identifier: MIT
 * SQLSTATE classes to what the worker does about them. Pure.
 */
#include "workers/core/pgerr.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Classes whose errors depend on the values a statement carries. 54 (program limit,
 * e.g. a statement too large) shrinks with the batch, so splitting is the cure too. */
static const char poison_classes[][3] = {
    "21", /* cardinality violation: ON CONFLICT touching one row twice */
    "22", /* data exception: out of range, invalid text representation */
    "23", /* integrity constraint violation: check, not null, unique, foreign key */
    "27", /* triggered data change violation */
    "2F", /* SQL routine exception */
    "38", /* external routine exception */
    "39", /* external routine invocation exception */
    "44", /* with check option violation */
    "54", /* program limit exceeded */
    "P0", /* PL/pgSQL raise (a trigger refusing a row) */
};

/* Classes that no record can cause with fixed SQL texts: a missing migration, a
 * privilege taken away, a server without a feature. */
static const char fatal_classes[][3] = {
    "0A", /* feature not supported */
    "3F", /* invalid schema name */
    "42", /* syntax error or access rule violation */
};

static bool in_classes(const char *sqlstate, const char (*classes)[3], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (sqlstate[0] == classes[i][0] && sqlstate[1] == classes[i][1])
            return true;
    }
    return false;
}

enum shop_pgerr_kind shop_pgerr_classify(const char *sqlstate)
{
    if (sqlstate == NULL || strlen(sqlstate) != 5)
        return SHOP_PGERR_TRANSIENT;
    if (in_classes(sqlstate, poison_classes, sizeof(poison_classes) / sizeof(poison_classes[0])))
        return SHOP_PGERR_POISON;
    if (in_classes(sqlstate, fatal_classes, sizeof(fatal_classes) / sizeof(fatal_classes[0])))
        return SHOP_PGERR_FATAL;
    /* Lost a race with another transaction, which has gone on; nothing is wrong with the
     * server nor with the data. The rest of class 40 (40002, 40003) stays transient. */
    if (strcmp(sqlstate, "40P01") == 0 || strcmp(sqlstate, "40001") == 0)
        return SHOP_PGERR_RACE;
    /* 08 connection, 40 other rollbacks, 53 resources, 57 operator
     * (statement_timeout, admin shutdown), 58 system, 55 lock not available, 25, 28, XX
     * and anything unknown: the server's state, not the data. */
    return SHOP_PGERR_TRANSIENT;
}

const char *shop_pgerr_kind_name(enum shop_pgerr_kind kind)
{
    switch (kind) {
    case SHOP_PGERR_POISON:
        return "poison";
    case SHOP_PGERR_FATAL:
        return "fatal";
    case SHOP_PGERR_RACE:
        return "race";
    default:
        return "transient";
    }
}
