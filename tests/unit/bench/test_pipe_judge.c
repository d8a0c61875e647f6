/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include "bench/pipeline/pipe_judge.h"

/* Samples every 0.2 s over 10 s: base + growth_per_s x t, with a projector-batch sawtooth. */
static size_t samples(struct pipe_lag_sample *out, double base, double growth_per_s, double saw)
{
    size_t n = 0;
    for (double t = 0.1; t < 10; t += 0.2, n++)
        out[n] = (struct pipe_lag_sample){.t_s = t, .lag = (int64_t)(base + growth_per_s * t + (n % 3) * saw)};
    return n;
}

static struct pipe_step at(double rate, const struct pipe_lag_sample *s, size_t n)
{
    return (struct pipe_step){.offered_rate = rate, .seconds = 10, .achieved_rate = rate * 0.995, .lag = s,
                              .n_lag = n};
}

Test(pipe_judge, a_bounded_sawtooth_is_flat)
{
    struct pipe_lag_sample s[64];
    struct pipe_step st = at(50000, s, samples(s, 2000, 0, 5000));
    struct pipe_flat_rule r = pipe_flat_rule_default();
    struct pipe_verdict v;
    pipe_judge_step(&st, &r, &v);
    cr_expect(v.flat);
    cr_expect(v.kept_up);
    cr_expect_str_eq(v.why, "flat");
    cr_expect_eq(v.lag_max, 12000);
}

Test(pipe_judge, lag_growing_by_more_than_the_share_of_the_rate_is_not_flat)
{
    struct pipe_lag_sample s[64];
    struct pipe_flat_rule r = pipe_flat_rule_default();
    struct pipe_verdict v;
    /* 3 % of 50 000/s is 1500/s (more than one 5000-record batch over the 5 s half):
     * 1000/s passes, 2000/s does not. */
    struct pipe_step st = at(50000, s, samples(s, 1000, 1000, 0));
    pipe_judge_step(&st, &r, &v);
    cr_expect(v.flat, "slope %.0f", v.slope);
    st = at(50000, s, samples(s, 1000, 2000, 0));
    pipe_judge_step(&st, &r, &v);
    cr_expect_not(v.flat);
    cr_expect_str_eq(v.why, "lag growing");
    cr_expect_float_eq(v.slope, 2000, 1);
}

Test(pipe_judge, growth_below_one_batch_over_the_half_is_flat_at_low_rates)
{
    struct pipe_lag_sample s[64];
    struct pipe_flat_rule r = pipe_flat_rule_default();
    struct pipe_verdict v;
    /* 3 % of 10 000/s is 300/s, but 900/s over 5 s is 4500 records, less than a batch. */
    struct pipe_step st = at(10000, s, samples(s, 0, 900, 0));
    pipe_judge_step(&st, &r, &v);
    cr_expect(v.flat, "%s slope %.0f", v.why, v.slope);
    st = at(10000, s, samples(s, 0, 1100, 0));
    pipe_judge_step(&st, &r, &v);
    cr_expect_str_eq(v.why, "lag growing");
}

Test(pipe_judge, only_the_second_half_counts)
{
    struct pipe_lag_sample s[64];
    size_t n = samples(s, 0, 0, 0);
    for (size_t i = 0; i < n; i++)
        s[i].lag = s[i].t_s < 5 ? (int64_t)(s[i].t_s * 3000) : 15000;   /* a ramp, then a plateau */
    struct pipe_step st = at(50000, s, n);
    struct pipe_flat_rule r = pipe_flat_rule_default();
    struct pipe_verdict v;
    pipe_judge_step(&st, &r, &v);
    cr_expect(v.flat, "%s", v.why);
}

Test(pipe_judge, a_high_plateau_is_not_flat)
{
    struct pipe_lag_sample s[64];
    /* 0.5 s of 50 000/s = 25 000 records. */
    struct pipe_step st = at(50000, s, samples(s, 30000, 0, 0));
    struct pipe_flat_rule r = pipe_flat_rule_default();
    struct pipe_verdict v;
    pipe_judge_step(&st, &r, &v);
    cr_expect_not(v.flat);
    cr_expect_str_eq(v.why, "lag too high");
    /* Below the floor whatever the rate. */
    st = at(2000, s, samples(s, 15000, 0, 0));
    pipe_judge_step(&st, &r, &v);
    cr_expect(v.flat);
}

Test(pipe_judge, the_edge_must_keep_up_without_503s_or_failures)
{
    struct pipe_lag_sample s[64];
    struct pipe_flat_rule r = pipe_flat_rule_default();
    struct pipe_verdict v;
    struct pipe_step st = at(50000, s, samples(s, 1000, 0, 0));
    st.achieved_rate = 47000;
    pipe_judge_step(&st, &r, &v);
    cr_expect_not(v.flat);
    cr_expect_str_eq(v.why, "edge behind");
    st.achieved_rate = 49500;
    st.rejected_503 = 1;
    pipe_judge_step(&st, &r, &v);
    cr_expect_str_eq(v.why, "503s");
    st.rejected_503 = 0;
    st.failed = 2;
    pipe_judge_step(&st, &r, &v);
    cr_expect_str_eq(v.why, "failed requests");
}

Test(pipe_judge, too_few_samples_is_not_flat)
{
    struct pipe_lag_sample s[2] = {{.t_s = 6, .lag = 0}, {.t_s = 8, .lag = 0}};
    struct pipe_step st = at(50000, s, 2);
    struct pipe_flat_rule r = pipe_flat_rule_default();
    struct pipe_verdict v;
    pipe_judge_step(&st, &r, &v);
    cr_expect_not(v.flat);
    cr_expect_str_eq(v.why, "too few lag samples");
}

Test(pipe_search, grows_then_bisects_to_the_precision)
{
    struct pipe_search s;
    pipe_search_init(&s, 20000, 1000, 400000);
    double r = pipe_search_first(&s);
    cr_expect_float_eq(r, 20000, 0.5);
    /* The pipeline is flat up to 50 000/s. */
    double seen[32];
    int n = 0;
    while (r > 0 && n < 32) {
        seen[n++] = r;
        r = pipe_search_next(&s, r, r <= 50000);
    }
    cr_expect_float_eq(seen[1], 30000, 0.5);
    cr_expect_float_eq(seen[2], 45000, 0.5);
    cr_expect_float_eq(seen[3], 68000, 0.5);    /* 67 500 rounded */
    cr_expect_float_eq(seen[4], 57000, 0.5);    /* (45 000 + 68 000) / 2, rounded */
    cr_expect_lt(n, 12);
    cr_expect_leq(s.best_flat, 50000);
    cr_expect_geq(s.lowest_failed, 50000);
    cr_expect_leq(s.lowest_failed, s.best_flat * 1.05 + 1000);
    cr_expect_eq(s.steps, n);
}

Test(pipe_search, halves_when_the_start_fails_and_stops_at_the_minimum)
{
    struct pipe_search s;
    pipe_search_init(&s, 20000, 1000, 400000);
    double r = pipe_search_first(&s);
    int n = 0;
    while (r > 0 && n < 32) {
        r = pipe_search_next(&s, r, 0);
        n++;
    }
    cr_expect_float_eq(s.best_flat, 0, 0.5);
    cr_expect_lt(n, 8);
}

Test(pipe_search, stops_at_the_maximum)
{
    struct pipe_search s;
    pipe_search_init(&s, 20000, 1000, 40000);
    double r = pipe_search_first(&s);
    r = pipe_search_next(&s, r, 1);
    cr_expect_float_eq(r, 30000, 0.5);
    r = pipe_search_next(&s, r, 1);
    cr_expect_float_eq(r, 40000, 0.5);
    r = pipe_search_next(&s, r, 1);
    cr_expect_float_eq(r, 0, 0.5);
    cr_expect_float_eq(s.best_flat, 40000, 0.5);
}

Test(pipe_percentile, nearest_rank)
{
    double v[] = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    cr_expect_float_eq(pipe_percentile(v, 10, 50), 5, 1e-9);
    cr_expect_float_eq(pipe_percentile(v, 10, 99), 10, 1e-9);
    cr_expect_float_eq(pipe_percentile(v, 10, 0), 1, 1e-9);
    cr_expect_float_eq(pipe_percentile(v, 0, 50), 0, 1e-9);
}
