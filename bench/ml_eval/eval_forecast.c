/* SPDX-License-Identifier: MIT
 * ml-eval section: forecast. (placeholder until the section lands) */
#include <stdio.h>
#include "eval.h"

int eval_forecast_run(const struct eval_opts *o)
{
    (void)o;
    fprintf(stderr, "ml-eval: section forecast not implemented yet\n");
    return 1;
}
