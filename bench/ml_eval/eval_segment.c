/* SPDX-License-Identifier: MIT
 * ml-eval section: segment. (placeholder until the section lands) */
#include <stdio.h>
#include "eval.h"

int eval_segment_run(const struct eval_opts *o)
{
    (void)o;
    fprintf(stderr, "ml-eval: section segment not implemented yet\n");
    return 1;
}
