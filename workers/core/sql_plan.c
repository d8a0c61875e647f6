/* SPDX-License-Identifier: MIT
 * Plan statements built column by column. Pure.
 */
#include "workers/core/sql_plan.h"

#include <assert.h>

void shop_sql_cols_init(struct shop_sql_cols *c, struct shop_arena *arena, int n_cols)
{
    c->n_cols = n_cols;
    for (int i = 0; i < n_cols; i++)
        shop_sql_array_init(&c->cols[i], arena);
}

void shop_sql_cols_emit(struct shop_sql_cols *c, struct shop_plan *plan, const char *name, const char *sql,
                        const char *const *scalars, int n_scalars)
{
    if (c->cols[0].n == 0)
        return;
    assert(plan->n < SHOP_PLAN_STMTS_MAX);   /* fewer kinds of statement than slots */
    struct shop_sql_stmt *st = &plan->stmts[plan->n++];
    *st = (struct shop_sql_stmt){.name = name, .sql = sql, .n_params = n_scalars + c->n_cols};
    for (int i = 0; i < n_scalars; i++)
        st->params[i] = scalars[i];
    for (int i = 0; i < c->n_cols; i++)
        st->params[n_scalars + i] = shop_sql_array_end(&c->cols[i]);
}
