/* SPDX-License-Identifier: MIT
 * shop_prom: the Prometheus text writer's families, escaping, numbers and histograms. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_prom.h"

static char *take(struct shop_prom *p)
{
    size_t len = 0;
    char *text = shop_prom_take(p, &len);
    cr_assert(eq(sz, len, strlen(text)));
    return text;
}

Test(prom, family_and_plain_sample)
{
    struct shop_prom p = SHOP_PROM_INIT;
    shop_prom_family(&p, "x_total", "counter", "Things.");
    shop_prom_sample_u64(&p, "x_total", NULL, 0, 7);
    char *text = take(&p);
    cr_assert(eq(str, text, "# HELP x_total Things.\n# TYPE x_total counter\nx_total 7\n"));
    free(text);
}

Test(prom, empty_take_is_an_empty_string)
{
    struct shop_prom p = SHOP_PROM_INIT;
    char *text = take(&p);
    cr_assert(eq(str, text, ""));
    free(text);
}

Test(prom, label_values_are_escaped)
{
    struct shop_prom p = SHOP_PROM_INIT;
    struct shop_prom_label l[2] = {{"a", "q\"b\\s\nn"}, {"b", NULL}};
    shop_prom_sample_i64(&p, "g", l, 2, -3);
    char *text = take(&p);
    cr_assert(eq(str, text, "g{a=\"q\\\"b\\\\s\\nn\",b=\"\"} -3\n"));
    free(text);
}

Test(prom, help_escapes_backslash_and_newline_not_quotes)
{
    struct shop_prom p = SHOP_PROM_INIT;
    shop_prom_family(&p, "g", "gauge", "a \"b\" c\\d\ne");
    char *text = take(&p);
    cr_assert(eq(str, text, "# HELP g a \"b\" c\\\\d\\ne\n# TYPE g gauge\n"));
    free(text);
}

Test(prom, special_floats)
{
    struct shop_prom p = SHOP_PROM_INIT;
    shop_prom_sample_f64(&p, "f", NULL, 0, NAN);
    shop_prom_sample_f64(&p, "f", NULL, 0, INFINITY);
    shop_prom_sample_f64(&p, "f", NULL, 0, -INFINITY);
    shop_prom_sample_f64(&p, "f", NULL, 0, 0.25);
    char *text = take(&p);
    cr_assert(eq(str, text, "f NaN\nf +Inf\nf -Inf\nf 0.25\n"));
    free(text);
}

Test(prom, histogram_is_cumulative_with_le_last)
{
    static const double bounds[] = {1, 5};
    struct shop_prom_hist h;
    shop_prom_hist_init(&h, bounds, 2);
    shop_prom_hist_observe(&h, 1);     /* on the bound: le="1" */
    shop_prom_hist_observe(&h, 3);
    shop_prom_hist_observe(&h, 9);     /* past every bound: +Inf only */
    cr_assert(eq(u64, shop_prom_hist_count(&h), 3));
    struct shop_prom p = SHOP_PROM_INIT;
    struct shop_prom_label l[1] = {{"role", "ml"}};
    shop_prom_histogram(&p, "h", l, 1, &h);
    char *text = take(&p);
    cr_assert(eq(str, text,
                 "h_bucket{role=\"ml\",le=\"1\"} 1\n"
                 "h_bucket{role=\"ml\",le=\"5\"} 2\n"
                 "h_bucket{role=\"ml\",le=\"+Inf\"} 3\n"
                 "h_sum{role=\"ml\"} 13\n"
                 "h_count{role=\"ml\"} 3\n"));
    free(text);
}

Test(prom, grows_past_its_first_buffer)
{
    struct shop_prom p = SHOP_PROM_INIT;
    char big[10000];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct shop_prom_label l[1] = {{"k", big}};
    shop_prom_sample_u64(&p, "m", l, 1, 1);
    char *text = take(&p);
    cr_assert(eq(sz, strlen(text), strlen("m{k=\"\"} 1\n") + sizeof(big) - 1));
    free(text);
}
