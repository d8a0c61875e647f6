/* SPDX-License-Identifier: MIT
 * ml-eval section: reco. (placeholder until the section lands) */
#include <stdio.h>
#include "eval.h"

int eval_reco_run(const struct eval_opts *o)
{
    (void)o;
    fprintf(stderr, "ml-eval: section reco not implemented yet\n");
    return 1;
}
