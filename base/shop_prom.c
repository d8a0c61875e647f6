/* SPDX-License-Identifier: MIT
 * Prometheus text exposition writer (base/shop_prom.h). Pure.
 */
#include "base/shop_prom.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"

void shop_prom_init(struct shop_prom *p)
{
    *p = (struct shop_prom)SHOP_PROM_INIT;
}

void shop_prom_fini(struct shop_prom *p)
{
    free(p->buf);
    shop_prom_init(p);
}

char *shop_prom_take(struct shop_prom *p, size_t *len)
{
    char *text = p->buf != NULL ? p->buf : shop_xcalloc(1, 1);
    *len = p->len;
    shop_prom_init(p);
    return text;
}

/* Room for n more bytes and a NUL: a scrape is a few KiB, so doubling from 4 KiB is
 * one or two reallocations. */
static void reserve(struct shop_prom *p, size_t n)
{
    if (p->len + n + 1 <= p->cap)
        return;
    size_t cap = p->cap != 0 ? p->cap : 4096;
    while (cap < p->len + n + 1)
        cap *= 2;
    p->buf = shop_xrealloc(p->buf, cap);
    p->cap = cap;
}

static void put_bytes(struct shop_prom *p, const char *s, size_t n)
{
    reserve(p, n);
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static void put_str(struct shop_prom *p, const char *s)
{
    put_bytes(p, s, strlen(s));
}

void shop_prom_text(struct shop_prom *p, const char *text, size_t n)
{
    put_bytes(p, text, n);
}

__attribute__((format(printf, 2, 3))) static void put_fmt(struct shop_prom *p, const char *fmt, ...)
{
    char small[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    assert(n >= 0 && (size_t)n < sizeof(small));   /* numbers only */
    put_bytes(p, small, (size_t)n);
}

/* Escapes what the format reserves: backslash and newline everywhere, the double quote
 * inside a label value. */
static void put_escaped(struct shop_prom *p, const char *s, int quote)
{
    for (const char *c = s; *c != '\0'; c++) {
        if (*c == '\\')
            put_str(p, "\\\\");
        else if (*c == '\n')
            put_str(p, "\\n");
        else if (*c == '"' && quote)
            put_str(p, "\\\"");
        else
            put_bytes(p, c, 1);
    }
}

void shop_prom_family(struct shop_prom *p, const char *name, const char *type, const char *help)
{
    put_str(p, "# HELP ");
    put_str(p, name);
    put_str(p, " ");
    put_escaped(p, help, 0);
    put_str(p, "\n# TYPE ");
    put_str(p, name);
    put_str(p, " ");
    put_str(p, type);
    put_str(p, "\n");
}

/* name{a="x",b="y",extra="v"} with extra the histogram's le (NULL for none). */
static void put_series(struct shop_prom *p, const char *name, const char *suffix, const struct shop_prom_label *labels,
                       size_t n, const char *le)
{
    put_str(p, name);
    put_str(p, suffix);
    if (n == 0 && le == NULL) {
        put_str(p, " ");
        return;
    }
    put_str(p, "{");
    for (size_t i = 0; i < n; i++) {
        put_str(p, i > 0 ? "," : "");
        put_str(p, labels[i].name);
        put_str(p, "=\"");
        put_escaped(p, labels[i].value != NULL ? labels[i].value : "", 1);
        put_str(p, "\"");
    }
    if (le != NULL) {
        put_str(p, n > 0 ? ",le=\"" : "le=\"");
        put_str(p, le);
        put_str(p, "\"");
    }
    put_str(p, "} ");
}

void shop_prom_sample_u64(struct shop_prom *p, const char *name, const struct shop_prom_label *labels,
                          size_t n_labels, uint64_t value)
{
    put_series(p, name, "", labels, n_labels, NULL);
    put_fmt(p, "%" PRIu64 "\n", value);
}

void shop_prom_sample_i64(struct shop_prom *p, const char *name, const struct shop_prom_label *labels,
                          size_t n_labels, int64_t value)
{
    put_series(p, name, "", labels, n_labels, NULL);
    put_fmt(p, "%" PRId64 "\n", value);
}

static void put_double(struct shop_prom *p, double v)
{
    if (isnan(v))
        put_str(p, "NaN");
    else if (isinf(v))
        put_str(p, v > 0 ? "+Inf" : "-Inf");
    else
        put_fmt(p, "%.17g", v);
}

void shop_prom_sample_f64(struct shop_prom *p, const char *name, const struct shop_prom_label *labels,
                          size_t n_labels, double value)
{
    put_series(p, name, "", labels, n_labels, NULL);
    put_double(p, value);
    put_str(p, "\n");
}

void shop_prom_histogram(struct shop_prom *p, const char *name, const struct shop_prom_label *labels,
                         size_t n_labels, const struct shop_prom_hist *h)
{
    uint64_t cum = 0;
    char le[32];
    for (size_t b = 0; b < h->n_bounds; b++) {
        cum += h->counts[b];
        snprintf(le, sizeof(le), "%g", h->bounds[b]);
        put_series(p, name, "_bucket", labels, n_labels, le);
        put_fmt(p, "%" PRIu64 "\n", cum);
    }
    cum += h->counts[h->n_bounds];
    put_series(p, name, "_bucket", labels, n_labels, "+Inf");
    put_fmt(p, "%" PRIu64 "\n", cum);
    put_series(p, name, "_sum", labels, n_labels, NULL);
    put_double(p, h->sum);
    put_str(p, "\n");
    /* The count is the +Inf bucket, so the two agree by construction. */
    put_series(p, name, "_count", labels, n_labels, NULL);
    put_fmt(p, "%" PRIu64 "\n", cum);
}

void shop_prom_hist_init(struct shop_prom_hist *h, const double *bounds, size_t n_bounds)
{
    assert(n_bounds <= SHOP_PROM_BUCKETS_MAX);
    memset(h, 0, sizeof(*h));
    h->bounds = bounds;
    h->n_bounds = n_bounds;
}

void shop_prom_hist_observe(struct shop_prom_hist *h, double value)
{
    size_t b = 0;
    while (b < h->n_bounds && value > h->bounds[b])
        b++;
    h->counts[b]++;
    h->sum += value;
}

uint64_t shop_prom_hist_count(const struct shop_prom_hist *h)
{
    uint64_t n = 0;
    for (size_t b = 0; b <= h->n_bounds; b++)
        n += h->counts[b];
    return n;
}
