/* SPDX-License-Identifier: MIT
 * ml-eval sections. Each runs one part of the evaluation and prints its
 * figures; returns 0, or non-zero when a dataset is missing or a step failed. */
#ifndef ML_EVAL_H
#define ML_EVAL_H

struct eval_opts {
    const char *data_dir;   /* ../shared/data by default */
    unsigned seed;
    int quick;              /* smaller runs, for smoke tests */
};

int eval_segment_run(const struct eval_opts *o);
int eval_reco_run(const struct eval_opts *o);
/** Online Retail parameter grid on a validation split carved from training. */
int eval_reco_tune_run(const struct eval_opts *o);
int eval_forecast_run(const struct eval_opts *o);

#endif
