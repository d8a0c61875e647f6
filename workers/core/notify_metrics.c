/* SPDX-License-Identifier: MIT
 * The notify role's per-endpoint series in Prometheus text (the issue 10 metric
 * contract): deliveries by result, each attempt's duration, the pending gauge. Pure:
 * the shell keeps the counters and serves the text.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "workers/core/notify.h"

const double shop_notify_bucket_le[SHOP_NOTIFY_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

void shop_notify_metrics_observe(struct shop_notify_metrics *m, int i, double seconds)
{
    struct shop_notify_ep_metrics *e = &m->ep[i];
    int b = 0;
    while (b < SHOP_NOTIFY_BUCKETS && seconds > shop_notify_bucket_le[b])
        b++;
    if (b < SHOP_NOTIFY_BUCKETS)
        e->buckets[b]++;
    e->count++;
    e->sum_s += seconds;
}

struct out {
    char *buf;
    size_t n, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(o->len < o->n ? o->buf + o->len : NULL, o->len < o->n ? o->n - o->len : 0, fmt, ap);
    va_end(ap);
    if (w > 0)
        o->len += (size_t)w;
}

/* Prometheus label value escaping: backslash, double quote and newline. */
static void escape_label(const char *s, char *out, size_t n)
{
    size_t len = 0;
    for (; *s != '\0' && len + 3 < n; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            out[len++] = '\\';
            out[len++] = *s == '\n' ? 'n' : *s;
        } else {
            out[len++] = *s;
        }
    }
    out[len] = '\0';
}

static void render_histogram(struct out *o, const struct shop_notify_metrics *m, const char *labels[])
{
    put(o, "# HELP shopstream_notify_delivery_duration_seconds Duration of each webhook attempt, answered or not.\n"
           "# TYPE shopstream_notify_delivery_duration_seconds histogram\n");
    for (int i = 0; i < m->n; i++) {
        const struct shop_notify_ep_metrics *e = &m->ep[i];
        uint64_t cum = 0;
        for (int b = 0; b < SHOP_NOTIFY_BUCKETS; b++) {
            cum += e->buckets[b];
            put(o, "shopstream_notify_delivery_duration_seconds_bucket{%s,le=\"%g\"} %" PRIu64 "\n", labels[i],
                shop_notify_bucket_le[b], cum);
        }
        put(o, "shopstream_notify_delivery_duration_seconds_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", labels[i], e->count);
        put(o, "shopstream_notify_delivery_duration_seconds_sum{%s} %.6f\n", labels[i], e->sum_s);
        put(o, "shopstream_notify_delivery_duration_seconds_count{%s} %" PRIu64 "\n", labels[i], e->count);
    }
}

size_t shop_notify_metrics_render(const struct shop_notify_metrics *m, const char *role, const char *group,
                                  char *buf, size_t n)
{
    struct out o = {.buf = buf, .n = n};
    char label_buf[SHOP_NOTIFY_ENDPOINTS_MAX][768];
    const char *labels[SHOP_NOTIFY_ENDPOINTS_MAX];
    if (n > 0)
        buf[0] = '\0';
    /* Endpoint names are [a-z0-9_-]; the role and group are escaped as label values. */
    char role_esc[128], group_esc[512];
    escape_label(role, role_esc, sizeof(role_esc));
    escape_label(group, group_esc, sizeof(group_esc));
    for (int i = 0; i < m->n; i++) {
        snprintf(label_buf[i], sizeof(label_buf[i]), "role=\"%s\",group=\"%s\",endpoint=\"%s\"", role_esc,
                 group_esc, m->names[i]);
        labels[i] = label_buf[i];
    }
    put(&o, "# HELP shopstream_notify_deliveries_total Webhook deliveries by endpoint and result (failed counts "
            "each failed attempt).\n# TYPE shopstream_notify_deliveries_total counter\n");
    for (int i = 0; i < m->n; i++) {
        put(&o, "shopstream_notify_deliveries_total{%s,result=\"delivered\"} %" PRIu64 "\n", labels[i],
            m->ep[i].delivered);
        put(&o, "shopstream_notify_deliveries_total{%s,result=\"failed\"} %" PRIu64 "\n", labels[i], m->ep[i].failed);
        put(&o, "shopstream_notify_deliveries_total{%s,result=\"parked\"} %" PRIu64 "\n", labels[i], m->ep[i].parked);
    }
    render_histogram(&o, m, labels);
    put(&o, "# HELP shopstream_notify_pending Status changes consumed and not yet delivered or parked, per endpoint.\n"
            "# TYPE shopstream_notify_pending gauge\n");
    for (int i = 0; i < m->n; i++)
        put(&o, "shopstream_notify_pending{%s} %" PRId64 "\n", labels[i], m->ep[i].pending);
    return o.len;
}
