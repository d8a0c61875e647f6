/* SPDX-License-Identifier: MIT
 * A Prometheus text exposition (format 0.0.4) writer: a growing buffer, metric
 * families (HELP, TYPE), samples with escaped label values, and histograms from
 * per-bucket counts. Pure: no I/O, no clock; text is never cut off (the buffer
 * grows, allocation aborts on OOM). Not thread-safe: one writer per scrape.
 */
#ifndef SHOP_PROM_H
#define SHOP_PROM_H

#include <stddef.h>
#include <stdint.h>

/** The text being written; zero-initialised (SHOP_PROM_INIT) or shop_prom_init. */
struct shop_prom {
    char *buf;          /* NUL-terminated once anything was written; owned */
    size_t len, cap;
};

#define SHOP_PROM_INIT {NULL, 0, 0}

/** One label: name (a valid label name, not escaped) and value (escaped on output). */
struct shop_prom_label {
    const char *name;
    const char *value;
};

/** The largest number of finite bucket bounds a histogram may have. */
#define SHOP_PROM_BUCKETS_MAX 24

/** A histogram's state: counts[i] observations <= bounds[i] (and above the bound
 *  before), counts[n_bounds] the ones above every bound (+Inf). bounds ascend and
 *  are borrowed (a static table of the caller). */
struct shop_prom_hist {
    const double *bounds;
    size_t n_bounds;
    uint64_t counts[SHOP_PROM_BUCKETS_MAX + 1];
    double sum;
};

void shop_prom_init(struct shop_prom *p);
void shop_prom_fini(struct shop_prom *p);
/** Hands the text over: a malloc'd NUL-terminated string (never NULL) the caller frees,
 *  its length in *len; p is empty afterwards. */
char *shop_prom_take(struct shop_prom *p, size_t *len);

/** Appends text already in the exposition format (a role's own rendered families). */
void shop_prom_text(struct shop_prom *p, const char *text, size_t n);

/** "# HELP name help" (help escaped: backslash, newline) and "# TYPE name type". */
void shop_prom_family(struct shop_prom *p, const char *name, const char *type, const char *help);
/** One sample: name{labels} value. Label values are escaped (backslash, quote, newline). */
void shop_prom_sample_u64(struct shop_prom *p, const char *name, const struct shop_prom_label *labels,
                          size_t n_labels, uint64_t value);
void shop_prom_sample_i64(struct shop_prom *p, const char *name, const struct shop_prom_label *labels,
                          size_t n_labels, int64_t value);
/** A float value; NaN and infinities as Prometheus spells them (NaN, +Inf, -Inf). */
void shop_prom_sample_f64(struct shop_prom *p, const char *name, const struct shop_prom_label *labels,
                          size_t n_labels, double value);
/** The samples of one histogram series: name_bucket for every bound and +Inf
 *  (cumulative, "le" after labels), name_sum and name_count (= the +Inf bucket). The
 *  family line is the caller's (shop_prom_family with type "histogram"). */
void shop_prom_histogram(struct shop_prom *p, const char *name, const struct shop_prom_label *labels,
                         size_t n_labels, const struct shop_prom_hist *h);

/** An empty histogram over bounds[0..n_bounds) (at most SHOP_PROM_BUCKETS_MAX). */
void shop_prom_hist_init(struct shop_prom_hist *h, const double *bounds, size_t n_bounds);
/** Counts one observation in the first bucket whose bound is >= value. */
void shop_prom_hist_observe(struct shop_prom_hist *h, double value);
/** Total observations. */
uint64_t shop_prom_hist_count(const struct shop_prom_hist *h);

#endif
