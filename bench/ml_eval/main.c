/* SPDX-License-Identifier: MIT
 * ml-eval: prints the quality and speed of ml/ on the datasets in
 * ../shared/data; each section prints its quality and single-core speed figures.
 * Usage: ml-eval [--data DIR] [--seed N] [--quick] [segment|reco|forecast|all] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

int main(int argc, char **argv)
{
    struct eval_opts o = {.data_dir = "../shared/data", .seed = 42, .quick = 0};
    const char *what = "all";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            o.data_dir = argv[++i];
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            o.seed = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--quick") == 0)
            o.quick = 1;
        else
            what = argv[i];
    }
    int rc = 0;
    int all = strcmp(what, "all") == 0;
    if (all || strcmp(what, "segment") == 0)
        rc |= eval_segment_run(&o);
    if (all || strcmp(what, "reco") == 0)
        rc |= eval_reco_run(&o);
    if (all || strcmp(what, "forecast") == 0)
        rc |= eval_forecast_run(&o);
    if (strcmp(what, "reco-tune") == 0)
        rc |= eval_reco_tune_run(&o);
    return rc ? 1 : 0;
}
