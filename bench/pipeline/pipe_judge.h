/* SPDX-License-Identifier: MIT
 * The pipeline benchmark's decisions, pure (no I/O, no clock): whether one load
 * step kept the projector's lag flat, which rate to try next, percentiles.
 */
#ifndef SHOP_PIPE_JUDGE_H
#define SHOP_PIPE_JUDGE_H

#include <stddef.h>
#include <stdint.h>

/** One reading of the projector's lag: records in the topics it has not committed. */
struct pipe_lag_sample {
    double t_s;       /* seconds since the step started */
    int64_t lag;
};

/** What one step at a constant offered rate did. */
struct pipe_step {
    double offered_rate, seconds;      /* events/s offered, length of the offering */
    double achieved_rate;              /* events answered 202 per second over the second half */
    size_t rejected_503, failed;       /* 503 answers; other non-202 answers and transport errors */
    const struct pipe_lag_sample *lag; /* samples taken during [0, seconds], in time order */
    size_t n_lag;
};

/** "Flat": the edge kept up (achieved >= keep_up_min x offered, no 503, no failure) and, over
 *  the step's second half, the lag's least-squares slope stayed <= slope_max x offered rate
 *  (the projector applied at least 1 - slope_max of what came in) or grew by less than
 *  growth_floor records over that half (one projector batch: the sawtooth of batches, not a
 *  trend), and no sample exceeded max(lag_max_s x offered rate, lag_floor) records (a bounded
 *  backlog, not one that merely stopped growing at a high level). */
struct pipe_flat_rule {
    double keep_up_min;     /* 0.97 */
    double slope_max;       /* 0.03 */
    int64_t growth_floor;   /* 5000: SHOPSTREAM_BATCH_MAX's default */
    double lag_max_s;       /* 0.5 */
    int64_t lag_floor;      /* 20000: a few projector batches, whatever the rate */
};

struct pipe_verdict {
    double slope;           /* records/s over the second half (> 0: growing) */
    int64_t lag_end;        /* last sample */
    int64_t lag_max;        /* largest sample of the second half */
    int kept_up, lag_flat, flat;
    const char *why;        /* first reason it is not flat, or "flat" */
};

struct pipe_flat_rule pipe_flat_rule_default(void);

/** Judges s by rule r. Fewer than 3 samples in the second half: not flat ("too few lag samples"). */
void pipe_judge_step(const struct pipe_step *s, const struct pipe_flat_rule *r, struct pipe_verdict *v);

/** Search for the highest flat rate: grow by `growth` from `start` until a step fails (or
 *  `max` passes), then bisect between the highest flat and the lowest failed rate until they
 *  are within `precision` of each other; halve from `start` when even that fails, down to
 *  `min`. Rates are rounded to multiples of `quantum`. */
struct pipe_search {
    double start, min, max, growth, precision, quantum;
    double best_flat;       /* highest flat rate so far (0: none) */
    double lowest_failed;   /* lowest rate that was not flat (0: none) */
    int steps;
};

void pipe_search_init(struct pipe_search *s, double start, double min, double max);

/** The rate of the first step. */
double pipe_search_first(const struct pipe_search *s);

/** Records that `rate` was flat or not and returns the next rate to try, or 0 when the
 *  search is over (then s->best_flat is the answer). */
double pipe_search_next(struct pipe_search *s, double rate, int flat);

/** p-th percentile (0..100, nearest rank) of v[0..n); sorts v. 0 when n == 0. */
double pipe_percentile(double *v, size_t n, double p);

#endif
