/* SPDX-License-Identifier: MIT
 * A role's plan: statements with fixed SQL and text-array parameters, built column by
 * column from a fold's rows (one array per column, so a statement carries any number
 * of rows in one round trip). Shared by every role's plan builder. Pure.
 */
#ifndef SHOP_SQL_PLAN_H
#define SHOP_SQL_PLAN_H

#include <stddef.h>

#include "base/shop_arena.h"
#include "workers/core/sql_array.h"

#define SHOP_SQL_PARAMS_MAX 16
#define SHOP_PLAN_STMTS_MAX 24

/** One statement: fixed SQL text and text-format parameters (array literals in the arena).
 *  A COPY ... FROM STDIN statement has no parameters and carries its rows in copy_data. */
struct shop_sql_stmt {
    const char *name;   /* short label for logs and tests, e.g. "cart_add" */
    const char *sql;
    int n_params;
    const char *params[SHOP_SQL_PARAMS_MAX];
    const char *copy_data;   /* COPY text-format rows, or NULL for a plain statement */
    size_t copy_len;
};

struct shop_plan {
    int n;
    struct shop_sql_stmt stmts[SHOP_PLAN_STMTS_MAX];
};

/** The columns of one statement's rows, each a text array literal being built. */
struct shop_sql_cols {
    int n_cols;
    struct shop_sql_array cols[SHOP_SQL_PARAMS_MAX];
};

void shop_sql_cols_init(struct shop_sql_cols *c, struct shop_arena *arena, int n_cols);

/** Appends the statement to plan unless it has no rows: params are scalars[0..n_scalars)
 *  first, then one array per column. */
void shop_sql_cols_emit(struct shop_sql_cols *c, struct shop_plan *plan, const char *name, const char *sql,
                        const char *const *scalars, int n_scalars);

#endif
