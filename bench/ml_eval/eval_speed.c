/* SPDX-License-Identifier: MIT
 * ml-eval section: speed. (placeholder until the section lands) */
#include <stdio.h>
#include "eval.h"

int eval_speed_run(const struct eval_opts *o)
{
    (void)o;
    fprintf(stderr, "ml-eval: section speed not implemented yet\n");
    return 1;
}
