/* SPDX-License-Identifier: MIT
 * Helpers of the ML core's tests: events in event time, a synthetic shop, and a sink
 * that writes everything drained as text so two runs can be compared byte for byte.
 */
#ifndef TEST_WORKERS_MLW_FIXTURE_H
#define TEST_WORKERS_MLW_FIXTURE_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "ml/ml_rand.h"
#include "workers/core/mlw.h"

#define T0 INT64_C(1704067200000)   /* 2024-01-01T00:00:00Z */
#define HOUR INT64_C(3600000)
#define DAY (24 * HOUR)

static inline Shopstream__V1__Event *mev_new(struct shop_arena *a, int id, const char *user, int64_t at_ms,
                                             const char *role)
{
    Shopstream__V1__Event *ev = shop_arena_alloc(a, sizeof(*ev));
    shopstream__v1__event__init(ev);
    char *uuid = shop_arena_alloc(a, 37);
    snprintf(uuid, 37, "00000000-0000-4000-8000-%012d", id);
    ev->id = uuid;
    ev->user_id = shop_arena_strdup(a, user);
    ev->occurred_at_ms = at_ms;
    ev->received_at_ms = at_ms;
    ev->source = "test";
    ev->actor_role = (char *)role;
    ev->actor_id = strcmp(role, "shopper") == 0 ? ev->user_id : "inventory";
    return ev;
}

static inline Shopstream__V1__Event *mev_view(struct shop_arena *a, int id, const char *user, const char *product,
                                              int64_t at_ms)
{
    Shopstream__V1__Event *ev = mev_new(a, id, user, at_ms, "shopper");
    ev->type = "product.viewed";
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_PRODUCT_VIEWED;
    ev->product_viewed = shop_arena_alloc(a, sizeof(*ev->product_viewed));
    shopstream__v1__product_viewed__init(ev->product_viewed);
    ev->product_viewed->product_id = shop_arena_strdup(a, product);
    return ev;
}

static inline Shopstream__V1__Event *mev_search(struct shop_arena *a, int id, const char *user, int64_t at_ms)
{
    Shopstream__V1__Event *ev = mev_new(a, id, user, at_ms, "shopper");
    ev->type = "search.performed";
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_SEARCH_PERFORMED;
    ev->search_performed = shop_arena_alloc(a, sizeof(*ev->search_performed));
    shopstream__v1__search_performed__init(ev->search_performed);
    ev->search_performed->query = "socks";
    return ev;
}

static inline Shopstream__V1__Event *mev_add(struct shop_arena *a, int id, const char *user, const char *product,
                                             int64_t at_ms)
{
    Shopstream__V1__Event *ev = mev_new(a, id, user, at_ms, "shopper");
    ev->type = "cart.item_added";
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_CART_ITEM_ADDED;
    ev->cart_item_added = shop_arena_alloc(a, sizeof(*ev->cart_item_added));
    shopstream__v1__cart_item_added__init(ev->cart_item_added);
    ev->cart_item_added->product_id = shop_arena_strdup(a, product);
    ev->cart_item_added->quantity = 1;
    return ev;
}

static inline Shopstream__V1__StockLine **mev_lines(struct shop_arena *a, int n, const char *const *products,
                                                   const int64_t *qty, bool amounts)
{
    Shopstream__V1__StockLine **lines = shop_arena_alloc(a, (size_t)n * sizeof(*lines));
    for (int i = 0; i < n; i++) {
        Shopstream__V1__StockLine *l = shop_arena_alloc(a, sizeof(*l));
        shopstream__v1__stock_line__init(l);
        l->product_id = shop_arena_strdup(a, products[i]);
        l->quantity = qty[i];
        if (amounts) {
            l->amount = shop_arena_alloc(a, sizeof(*l->amount));
            shopstream__v1__money__init(l->amount);
            l->amount->amount_minor = 250 * qty[i];
            l->amount->currency = "GBP";
        }
        lines[i] = l;
    }
    return lines;
}

/* inventory.reserved of an order of n lines (each 2.50 a unit). */
static inline Shopstream__V1__Event *mev_reserved(struct shop_arena *a, int id, const char *user, const char *order,
                                                  int n, const char *const *products, const int64_t *qty,
                                                  int64_t at_ms)
{
    Shopstream__V1__Event *ev = mev_new(a, id, user, at_ms, "service");
    ev->type = "inventory.reserved";
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED;
    ev->stock_reserved = shop_arena_alloc(a, sizeof(*ev->stock_reserved));
    shopstream__v1__stock_reserved__init(ev->stock_reserved);
    ev->stock_reserved->order_id = shop_arena_strdup(a, order);
    ev->stock_reserved->n_lines = (size_t)n;
    ev->stock_reserved->lines = mev_lines(a, n, products, qty, true);
    return ev;
}

static inline Shopstream__V1__Event *mev_released(struct shop_arena *a, int id, const char *user, const char *order,
                                                  int n, const char *const *products, const int64_t *qty,
                                                  int64_t at_ms)
{
    Shopstream__V1__Event *ev = mev_new(a, id, user, at_ms, "service");
    ev->type = "inventory.released";
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RELEASED;
    ev->stock_released = shop_arena_alloc(a, sizeof(*ev->stock_released));
    shopstream__v1__stock_released__init(ev->stock_released);
    ev->stock_released->order_id = shop_arena_strdup(a, order);
    ev->stock_released->n_lines = (size_t)n;
    ev->stock_released->lines = mev_lines(a, n, products, qty, false);
    return ev;
}

static inline Shopstream__V1__Event *mev_rejected(struct shop_arena *a, int id, const char *user, const char *order,
                                                  const char *product, int64_t at_ms)
{
    Shopstream__V1__Event *ev = mev_new(a, id, user, at_ms, "service");
    ev->type = "inventory.rejected";
    ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_REJECTED;
    Shopstream__V1__StockRejected *r = shop_arena_alloc(a, sizeof(*r));
    shopstream__v1__stock_rejected__init(r);
    r->order_id = shop_arena_strdup(a, order);
    r->reason = "out_of_stock";
    Shopstream__V1__StockShortLine *l = shop_arena_alloc(a, sizeof(*l));
    shopstream__v1__stock_short_line__init(l);
    l->product_id = shop_arena_strdup(a, product);
    l->requested = 1;
    r->n_lines = 1;
    r->lines = shop_arena_alloc(a, sizeof(*r->lines));
    r->lines[0] = l;
    ev->stock_rejected = r;
    return ev;
}

/* ---- a synthetic shop ---------------------------------------------------------------- */

/* One record of a partition. */
struct mrec {
    enum shop_stream stream;
    int32_t partition;
    int64_t offset;
    Shopstream__V1__Event *ev;
};

static inline int mrec_cmp(const void *a, const void *b)
{
    const struct mrec *x = a, *y = b;
    if (x->ev->occurred_at_ms != y->ev->occurred_at_ms)
        return x->ev->occurred_at_ms < y->ev->occurred_at_ms ? -1 : 1;
    return strcmp(x->ev->id, y->ev->id);
}

/* n_users shoppers over n_products products in two taste groups, for days days: views,
 * cart adds and orders (reserved), some released, every one on its stream's partition
 * (browse/cart by user, inventory by order) with rising offsets. */
static inline struct mrec *mshop(struct shop_arena *a, int n_users, int n_products, int days, uint64_t seed,
                                 size_t *n_out)
{
    struct shop_ml_rand r;
    shop_ml_rand_init(&r, seed);
    size_t cap = 1024, n = 0;
    struct mrec *v = malloc(cap * sizeof(*v));
    int64_t offs[SHOP_STREAM_COUNT][2] = {{0}};
    int id = 1, order = 1;
    for (int d = 0; d < days; d++) {
        for (int u = 0; u < n_users; u++) {
            if (shop_ml_rand_unit(&r) < 0.5)
                continue;
            char user[32];
            snprintf(user, sizeof(user), "u%03d", u);
            int group = u % 2;
            int64_t at = T0 + d * DAY + (int64_t)shop_ml_rand_below(&r, (uint64_t)(20 * HOUR));
            int n_ev = 1 + (int)shop_ml_rand_below(&r, 4);
            for (int e = 0; e < n_ev; e++) {
                if (n + 4 > cap) {
                    cap *= 2;
                    v = realloc(v, cap * sizeof(*v));
                }
                int p = (int)shop_ml_rand_below(&r, (uint64_t)(n_products / 2)) * 2 + group;
                if (shop_ml_rand_unit(&r) < 0.1)
                    p = (int)shop_ml_rand_below(&r, (uint64_t)n_products);
                char product[32];
                snprintf(product, sizeof(product), "p%03d", p);
                double x = shop_ml_rand_unit(&r);
                at += (int64_t)shop_ml_rand_below(&r, (uint64_t)(10 * 60000));
                struct mrec rec = {0};
                int part = u % 2;
                if (x < 0.5) {
                    rec = (struct mrec){SHOP_STREAM_BROWSE, part, 0, mev_view(a, id++, user, product, at)};
                } else if (x < 0.7) {
                    rec = (struct mrec){SHOP_STREAM_CART, part, 0, mev_add(a, id++, user, product, at)};
                } else if (x < 0.75) {
                    rec = (struct mrec){SHOP_STREAM_BROWSE, part, 0, mev_search(a, id++, user, at)};
                } else {
                    char oid[32];
                    snprintf(oid, sizeof(oid), "o%05d", order);
                    int op = order++ % 2;
                    char p2[32];
                    snprintf(p2, sizeof(p2), "p%03d", (p + 2) % n_products);
                    const char *prods[2] = {product, p2};
                    int64_t qty[2] = {1 + (int64_t)shop_ml_rand_below(&r, 3), 1};
                    int nl = p2[3] == product[3] ? 1 : 2;
                    rec = (struct mrec){SHOP_STREAM_INVENTORY, op, 0, mev_reserved(a, id++, user, oid, nl, prods, qty, at)};
                    rec.offset = offs[rec.stream][rec.partition]++;
                    v[n++] = rec;
                    if (shop_ml_rand_unit(&r) < 0.1) {
                        rec = (struct mrec){SHOP_STREAM_INVENTORY, op, 0,
                                            mev_released(a, id++, user, oid, nl, prods, qty, at + 30 * 60000)};
                    } else {
                        continue;
                    }
                }
                rec.offset = offs[rec.stream][rec.partition]++;
                v[n++] = rec;
            }
        }
    }
    /* Each partition in event time, as producers write them. */
    qsort(v, n, sizeof(*v), mrec_cmp);
    for (size_t i = 0; i < n; i++)
        v[i].offset = offs[v[i].stream][v[i].partition]++ + 1000000;
    *n_out = n;
    return v;
}

/* Two records far past every swap point close a stream: the first may take a retrain by
 * the schedule, the second passes its swap point (a job taken near the end of a stream
 * swaps only once the stream reaches its swap point). */
static inline void mclose(struct shop_arena *a, struct shop_mlw *m)
{
    shop_mlw_push(m, SHOP_STREAM_BROWSE, 1, 99999998, mev_view(a, 999998, "zz-end", "p-end", T0 + 400 * DAY));
    shop_mlw_push(m, SHOP_STREAM_BROWSE, 1, 99999999, mev_view(a, 999999, "zz-end", "p-end", T0 + 400 * DAY + 2 * HOUR));
}

/* ---- a sink that writes text ----------------------------------------------------------- */

struct mtext {
    char *buf;
    size_t len, cap;
    size_t recs, fallback, segments, forecasts, similar, events, models, popular, user_segments, encode_failed;
    double min_forecast;
};

static inline void mt_printf(struct mtext *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(tmp))
        n = sizeof(tmp) - 1;
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, tmp, (size_t)n);
    t->len += (size_t)n;
    t->buf[t->len] = '\0';
}

static inline void mt_items(struct mtext *t, const struct shop_mlw_item *items, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        mt_printf(t, " %s:%.17g", items[i].product_id, items[i].score);
    mt_printf(t, "\n");
}

static inline void mt_user_recs(void *ctx, const char *user_id, const struct shop_mlw_item *items, uint32_t n,
                                bool fallback, uint64_t version, int64_t at_ms)
{
    struct mtext *t = ctx;
    t->recs++;
    t->fallback += fallback;
    mt_printf(t, "recs %s %d v%" PRIu64 " @%" PRId64 ":", user_id, fallback, version, at_ms);
    mt_items(t, items, n);
}

static inline void mt_popular(void *ctx, const struct shop_mlw_item *items, uint32_t n, uint64_t version, int64_t at_ms)
{
    struct mtext *t = ctx;
    t->popular++;
    mt_printf(t, "popular v%" PRIu64 " @%" PRId64 ":", version, at_ms);
    mt_items(t, items, n);
}

static inline void mt_similar(void *ctx, const char *product_id, const struct shop_mlw_item *items, uint32_t n,
                              uint64_t version, int64_t at_ms)
{
    struct mtext *t = ctx;
    t->similar++;
    mt_printf(t, "similar %s v%" PRIu64 " @%" PRId64 ":", product_id, version, at_ms);
    mt_items(t, items, n);
}

static inline void mt_user_segment(void *ctx, const char *user_id, uint32_t segment, const double *f, size_t dim,
                                   uint64_t version, int64_t at_ms)
{
    struct mtext *t = ctx;
    t->user_segments++;
    mt_printf(t, "user_segment %s %u v%" PRIu64 " @%" PRId64 ":", user_id, segment, version, at_ms);
    for (size_t i = 0; i < dim; i++)
        mt_printf(t, " %.17g", f[i]);
    mt_printf(t, "\n");
}

static inline void mt_segment(void *ctx, const struct shop_mlw_segment *s)
{
    struct mtext *t = ctx;
    t->segments++;
    mt_printf(t, "segment %u v%" PRIu64 " size %" PRIu64 " '%s':", s->id, s->version, s->size, s->label);
    for (size_t i = 0; i < s->dim; i++)
        mt_printf(t, " %s=%.17g/%.17g", s->names[i], s->centre[i], s->plain[i]);
    mt_printf(t, "\n");
}

static inline void mt_forecast(void *ctx, const char *product_id, const char *method, int64_t start, const double *daily,
                               uint32_t n, uint64_t version, int64_t at_ms)
{
    struct mtext *t = ctx;
    t->forecasts++;
    mt_printf(t, "forecast %s %s v%" PRIu64 " from %" PRId64 " @%" PRId64 ":", product_id, method, version, start, at_ms);
    for (uint32_t i = 0; i < n; i++) {
        mt_printf(t, " %.17g", daily[i]);
        if (daily[i] < t->min_forecast)
            t->min_forecast = daily[i];
    }
    mt_printf(t, "\n");
}

static inline void mt_model(void *ctx, const struct shop_mlw_model_info *mi)
{
    struct mtext *t = ctx;
    t->models++;
    mt_printf(t, "model %s v%" PRIu64 " trained %" PRId64 " watermark %" PRId64 ":", mi->model, mi->version,
              mi->trained_at_ms, mi->watermark_ms);
    for (size_t i = 0; i < mi->n_metrics; i++)
        mt_printf(t, " %s=%.17g", mi->metrics[i].name, mi->metrics[i].value);
    mt_printf(t, "\n");
}

static inline void mt_event(void *ctx, const struct shop_mlw_out *ev)
{
    struct mtext *t = ctx;
    t->events++;
    struct shop_arena a = SHOP_ARENA_INIT;
    uint8_t *bytes;
    size_t len;
    struct shop_err err;
    if (shop_mlw_out_encode(ev, &a, &bytes, &len, &err) != 0) {
        t->encode_failed++;
        fprintf(stderr, "encode: %s\n", err.msg);
    }
    shop_arena_fini(&a);
    mt_printf(t, "event %" PRIu64 " %d %s %s @%" PRId64 " %" PRId64 "->%" PRId64 " v%" PRIu64 "\n", ev->seq, ev->kind,
              ev->event_id, ev->key, ev->occurred_at_ms, ev->old_segment, ev->new_segment, ev->model_version);
}

static inline struct shop_mlw_sink mt_sink(struct mtext *t)
{
    return (struct shop_mlw_sink){t, mt_user_recs, mt_popular, mt_similar, mt_user_segment,
                                  mt_segment, mt_forecast, mt_model, mt_event};
}

/* The tests' small configuration: models small enough to train in milliseconds. */
static inline struct shop_mlw_cfg mlw_small_cfg(void)
{
    struct shop_mlw_cfg c;
    shop_mlw_cfg_default(&c);
    c.lateness_ms = HOUR;
    c.min_users = 5;
    c.als.factors = 8;
    c.top_n = 20;
    c.similar_k = 10;
    c.forecast_days = 7;
    c.segments = 3;
    return c;
}

/* A new state; NULL with the reason in err (the caller asserts, so the fixture needs no
 * test framework). */
static inline struct shop_mlw *mlw_make_or(const struct shop_mlw_cfg *c, struct shop_err *err)
{
    struct shop_mlw *m = NULL;
    return shop_mlw_new(c, &m, err) == 0 ? m : NULL;
}

#endif
