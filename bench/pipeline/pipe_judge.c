/* SPDX-License-Identifier: MIT
 * Flat-lag verdicts and the rate search of shopstream-bench-pipeline. Pure. */
#include "bench/pipeline/pipe_judge.h"

#include <math.h>
#include <stdlib.h>

struct pipe_flat_rule pipe_flat_rule_default(void)
{
    return (struct pipe_flat_rule){.keep_up_min = 0.97, .slope_max = 0.03, .growth_floor = 5000, .lag_max_s = 0.5, .lag_floor = 20000};
}

void pipe_judge_step(const struct pipe_step *s, const struct pipe_flat_rule *r, struct pipe_verdict *v)
{
    *v = (struct pipe_verdict){.why = "flat"};
    double half = s->seconds / 2, sx = 0, sy = 0, sxx = 0, sxy = 0;
    size_t n = 0;
    for (size_t i = 0; i < s->n_lag; i++) {
        const struct pipe_lag_sample *p = &s->lag[i];
        v->lag_end = p->lag;
        if (p->t_s < half || p->t_s > s->seconds)
            continue;
        double x = p->t_s, y = (double)p->lag;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        n++;
        if (p->lag > v->lag_max)
            v->lag_max = p->lag;
    }
    double den = (double)n * sxx - sx * sx;
    v->slope = n >= 3 && den > 0 ? ((double)n * sxy - sx * sy) / den : 0;
    v->kept_up = s->achieved_rate >= r->keep_up_min * s->offered_rate && s->rejected_503 == 0 && s->failed == 0;
    double bound = r->lag_max_s * s->offered_rate;
    if (bound < (double)r->lag_floor)
        bound = (double)r->lag_floor;
    double slope_bound = r->slope_max * s->offered_rate;
    if (half > 0 && slope_bound < (double)r->growth_floor / half)
        slope_bound = (double)r->growth_floor / half;
    v->lag_flat = n >= 3 && v->slope <= slope_bound && (double)v->lag_max <= bound;
    v->flat = v->kept_up && v->lag_flat;
    if (s->rejected_503 > 0)
        v->why = "503s";
    else if (s->failed > 0)
        v->why = "failed requests";
    else if (!v->kept_up)
        v->why = "edge behind";
    else if (n < 3)
        v->why = "too few lag samples";
    else if (v->slope > slope_bound)
        v->why = "lag growing";
    else if (!v->lag_flat)
        v->why = "lag too high";
}

void pipe_search_init(struct pipe_search *s, double start, double min, double max)
{
    *s = (struct pipe_search){.start = start, .min = min, .max = max, .growth = 1.5, .precision = 0.05,
                              .quantum = 1000};
}

static double quantize(const struct pipe_search *s, double rate)
{
    double q = round(rate / s->quantum) * s->quantum;
    return q < s->quantum ? s->quantum : q;
}

double pipe_search_first(const struct pipe_search *s)
{
    return quantize(s, s->start < s->max ? s->start : s->max);
}

double pipe_search_next(struct pipe_search *s, double rate, int flat)
{
    s->steps++;
    if (flat && rate > s->best_flat)
        s->best_flat = rate;
    if (!flat && (s->lowest_failed <= 0 || rate < s->lowest_failed))
        s->lowest_failed = rate;
    double next;
    if (s->lowest_failed <= 0) {
        if (rate >= s->max)
            return 0;
        next = quantize(s, rate * s->growth);
        if (next > s->max)
            next = quantize(s, s->max);
    } else if (s->best_flat <= 0) {
        next = quantize(s, rate / 2);
        if (rate / 2 < s->min || next >= rate)
            return 0;
    } else {
        if (s->lowest_failed <= s->best_flat * (1 + s->precision))
            return 0;
        next = quantize(s, (s->best_flat + s->lowest_failed) / 2);
    }
    /* Rounding can land on a rate already decided: nothing left to learn. */
    if (next <= s->best_flat || (s->lowest_failed > 0 && next >= s->lowest_failed))
        return 0;
    return next;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double pipe_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    return v[i > 0 ? i - 1 : 0];
}
