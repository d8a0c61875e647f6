/* SPDX-License-Identifier: MIT
 * Session generator for the demo replay. Pure: no I/O, no clock; randomness
 * from a seeded splitmix64, ids from UUID v5, JSON through jansson. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "tools/replay/replay_gen.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"

#define MIN_MS 60000LL
#define DAY_MS 86400000LL

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* True with probability pct/100. */
static int chance(struct rng *r, unsigned pct)
{
    return rng_next(r) % 100 < pct;
}

void replay_event_id(uint64_t seed, const char *name, unsigned seq, char out[37])
{
    static const uuid_t ns = {0x5b, 0x1c, 0x6f, 0x2e, 0x8a, 0x41, 0x4d, 0x3b,
                              0x9e, 0x07, 0x3c, 0x55, 0xa1, 0x2d, 0x90, 0x11};
    char key[160];
    int n = snprintf(key, sizeof(key), "%llu/%s/%u", (unsigned long long)seed, name, seq);
    uuid_t u;
    uuid_generate_sha1(u, ns, key, (size_t)n);
    uuid_unparse_lower(u, out);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (as tools/retail's). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int replay_parse_time(const char *text, int64_t *out_ms)
{
    int y, mo, d, h = 0, mi = 0, s = 0, end = 0;
    size_t len = strlen(text);
    if (len == 10) {
        if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &end) != 3)
            return SHOP_EINVAL;
    } else if (len == 19) {
        if (sscanf(text, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &end) != 6)
            return SHOP_EINVAL;
    } else {
        return SHOP_EINVAL;
    }
    if ((size_t)end != len || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 || h < 0 ||
        mi < 0 || s < 0)
        return SHOP_EINVAL;
    *out_ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + s * 1000LL;
    return 0;
}

/* ---- products -------------------------------------------------------------- */

struct product {
    const struct retail_row *first;  /* first sighting: name and price */
    int64_t units;                   /* units ordered in the replayed slice */
};

static int cmp_code(const void *a, const void *b)
{
    return strcmp((*(const struct retail_row *const *)a)->stock_code, (*(const struct retail_row *const *)b)->stock_code);
}

static int cmp_invoice(const void *a, const void *b)
{
    const struct retail_row *x = *(const struct retail_row *const *)a, *y = *(const struct retail_row *const *)b;
    if (x->invoice_ms != y->invoice_ms)
        return x->invoice_ms < y->invoice_ms ? -1 : 1;
    int c = strcmp(x->invoice, y->invoice);
    return c != 0 ? c : (x < y ? -1 : x > y);
}

static json_t *money(int64_t minor)
{
    return json_pack("{s:I,s:s}", "amount_minor", (json_int_t)minor, "currency", "GBP");
}

/* The last word of a description is a usable pseudo-category ("HOLDER", "LANTERN"). */
static const char *category_of(const char *desc, char *buf, size_t size)
{
    const char *sp = strrchr(desc, ' '), *w = sp ? sp + 1 : desc;
    size_t n = strnlen(w, size - 1);
    memcpy(buf, w, n);
    buf[n] = '\0';
    return buf[0] ? buf : "MISC";
}

/* ---- request building ------------------------------------------------------ */

struct builder {
    struct replay_plan *plan;
    size_t cap;
    uint64_t seed;
    json_t *events;        /* the open request's events */
    char user[24];
    int admin;
    unsigned seq;          /* per open request, for ids */
    char id_scope[48];
};

static void open_request(struct builder *b, const char *user, int admin, const char *scope)
{
    b->events = json_array();
    snprintf(b->user, sizeof(b->user), "%s", user);
    snprintf(b->id_scope, sizeof(b->id_scope), "%s", scope);
    b->admin = admin;
    b->seq = 0;
}

static void add_event(struct builder *b, json_t *ev, const char *type, int64_t at_ms)
{
    char id[37];
    replay_event_id(b->seed, b->id_scope, b->seq++, id);
    json_object_set_new(ev, "type", json_string(type));
    json_object_set_new(ev, "id", json_string(id));
    json_object_set_new(ev, "at", json_integer(at_ms));
    /* A replay is an import: posted by a service on behalf of the customer it names. */
    if (!b->admin)
        json_object_set_new(ev, "user_id", json_string(b->user));
    json_array_append_new(b->events, ev);
}

static void close_request(struct builder *b)
{
    size_t n = json_array_size(b->events);
    if (n > 0) {
        struct replay_plan *p = b->plan;
        if (p->n_reqs == b->cap)
            p->reqs = shop_xrealloc(p->reqs, (b->cap = b->cap ? b->cap * 2 : 256) * sizeof(*p->reqs));
        struct replay_request *r = &p->reqs[p->n_reqs++];
        json_t *body = json_pack("{s:o}", "events", b->events);
        snprintf(r->user_id, sizeof(r->user_id), "%s", b->user);
        r->admin = b->admin;
        r->body = json_dumps(body, JSON_COMPACT);
        r->n_events = n;
        p->n_events += n;
        json_decref(body);
    } else {
        json_decref(b->events);
    }
    b->events = NULL;
}

/* Views (and for some an add then a remove) of a product the shopper does not buy. */
static void browse_extra(struct builder *b, struct rng *r, struct product *prods, size_t n_prods, int64_t at)
{
    const struct retail_row *x = prods[rng_next(r) % n_prods].first;
    add_event(b, json_pack("{s:s,s:s}", "product_id", x->stock_code, "referrer", "recommendations"), "product.viewed", at);
    b->plan->n_views++;
    if (chance(r, 40)) {
        add_event(b, json_pack("{s:s,s:i,s:o}", "product_id", x->stock_code, "quantity", 1, "unit_price",
                               money(x->unit_price_minor)), "cart.item_added", at + MIN_MS);
        add_event(b, json_pack("{s:s}", "product_id", x->stock_code), "cart.item_removed", at + 2 * MIN_MS);
        b->plan->n_cart_adds++;
    }
}

/* One invoice: a session of views and cart adds, then the real order and its lifecycle. */
static void invoice_session(struct builder *b, struct rng *r, const struct retail_row *const *lines, size_t n,
                            struct product *prods, size_t n_prods)
{
    int64_t t = lines[0]->invoice_ms - 30 * MIN_MS, total = 0;
    char word[32];
    if (chance(r, 30)) {
        add_event(b, json_pack("{s:s,s:i}", "query", category_of(lines[0]->description, word, sizeof(word)), "results",
                               (int)(rng_next(r) % 40) + 1), "search.performed", t);
    }
    json_t *order_lines = json_array();
    for (size_t i = 0; i < n; i++, t += 20000) {
        const struct retail_row *l = lines[i];
        add_event(b, json_pack("{s:s}", "product_id", l->stock_code), "product.viewed", t);
        add_event(b, json_pack("{s:s,s:i,s:o}", "product_id", l->stock_code, "quantity", l->quantity, "unit_price",
                               money(l->unit_price_minor)), "cart.item_added", t + 5000);
        json_array_append_new(order_lines, json_pack("{s:s,s:i,s:o}", "product_id", l->stock_code, "quantity",
                                                     l->quantity, "unit_price", money(l->unit_price_minor)));
        total += l->unit_price_minor * l->quantity;
        b->plan->n_views++;
        b->plan->n_cart_adds++;
    }
    if (chance(r, 30))
        browse_extra(b, r, prods, n_prods, t);
    int64_t at = lines[0]->invoice_ms;
    const char *oid = lines[0]->invoice;
    add_event(b, json_pack("{s:s,s:o,s:o}", "order_id", oid, "lines", order_lines, "total", money(total)),
              "order.placed", at);
    add_event(b, json_object(), "cart.cleared", at + 1000);
    b->plan->n_orders++;
    if (chance(r, 3)) {
        add_event(b, json_pack("{s:s,s:s}", "order_id", oid, "reason", "customer request"), "order.cancelled", at + 10 * MIN_MS);
        return;
    }
    add_event(b, json_pack("{s:s,s:o,s:s}", "order_id", oid, "amount", money(total), "payment_ref", oid),
              "order.paid", at + 5 * MIN_MS);
    if (chance(r, 85))
        add_event(b, json_pack("{s:s,s:s}", "order_id", oid, "carrier", "Royal Mail"), "order.shipped", at + DAY_MS);
    else
        return;
    if (chance(r, 70))
        add_event(b, json_pack("{s:s}", "order_id", oid), "order.delivered", at + 3 * DAY_MS);
}

/* A session that ends with items left in the cart. */
static void abandoned_session(struct builder *b, struct rng *r, struct product *prods, size_t n_prods, int64_t at)
{
    size_t k = 1 + rng_next(r) % 3;
    for (size_t i = 0; i < k; i++, at += MIN_MS) {
        const struct retail_row *x = prods[rng_next(r) % n_prods].first;
        add_event(b, json_pack("{s:s}", "product_id", x->stock_code), "product.viewed", at);
        add_event(b, json_pack("{s:s,s:i,s:o}", "product_id", x->stock_code, "quantity", (int)(1 + rng_next(r) % 4),
                               "unit_price", money(x->unit_price_minor)), "cart.item_added", at + 10000);
        b->plan->n_views++;
        b->plan->n_cart_adds++;
    }
    b->plan->n_abandoned++;
}

/* ---- plan ------------------------------------------------------------------ */

static int select_rows(const struct retail_row *rows, size_t n_rows, const struct replay_opts *o,
                       const struct retail_row ***out, size_t *n_out)
{
    /* Customers in order of first purchase; keep the first o->customers of them. */
    const struct retail_row **sel = shop_xmalloc(n_rows * sizeof(*sel));
    size_t n = 0;
    for (size_t i = 0; i < n_rows; i++)
        if (retail_row_is_purchase(&rows[i]) && retail_row_is_product(&rows[i]))
            sel[n++] = &rows[i];
    qsort(sel, n, sizeof(*sel), cmp_invoice);
    int32_t *chosen = shop_xcalloc(o->customers ? o->customers : 1, sizeof(*chosen));
    size_t n_chosen = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < n_chosen && chosen[j] != sel[i]->customer_id)
            j++;
        if (j == n_chosen && n_chosen < o->customers)
            chosen[n_chosen++] = sel[i]->customer_id;
        if (j < n_chosen)
            sel[m++] = sel[i];
    }
    free(chosen);
    *out = sel;
    *n_out = m;
    return m > 0 ? 0 : SHOP_EINVAL;
}

/* at_ms 0: each product a day before its first sighting; else every product at at_ms. */
static size_t build_catalog(struct builder *b, const struct retail_row *const *sel, size_t n, int64_t at_ms,
                            struct product **out)
{
    const struct retail_row **by_code = shop_xmalloc(n * sizeof(*by_code));
    memcpy(by_code, sel, n * sizeof(*by_code));
    qsort(by_code, n, sizeof(*by_code), cmp_code);
    struct product *prods = shop_xcalloc(n, sizeof(*prods));
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        if (np == 0 || strcmp(prods[np - 1].first->stock_code, by_code[i]->stock_code) != 0)
            prods[np++].first = by_code[i];
        prods[np - 1].units += by_code[i]->quantity;
    }
    free(by_code);
    struct rng r = {b->seed ^ 0xca7a106ULL};
    open_request(b, "catalog-admin", 1, "catalog");
    for (size_t i = 0; i < np; i++) {
        char cat[32];
        const struct retail_row *x = prods[i].first;
        /* Enough stock for the replayed orders plus the abandoned carts' worth of slack. */
        int64_t stock = prods[i].units + 20 + (int64_t)(rng_next(&r) % 200);
        add_event(b, json_pack("{s:s,s:s,s:s,s:o,s:I}", "product_id", x->stock_code, "name",
                               x->description[0] ? x->description : x->stock_code, "category",
                               category_of(x->description, cat, sizeof(cat)), "price", money(x->unit_price_minor),
                               "stock", (json_int_t)stock), "catalog.product_upserted",
                  at_ms != 0 ? at_ms : x->invoice_ms - DAY_MS);
        if (json_array_size(b->events) == 500) {
            close_request(b);
            open_request(b, "catalog-admin", 1, "catalog");
            b->seq = (unsigned)i + 1;
        }
    }
    close_request(b);
    *out = prods;
    return np;
}

static int cmp_user_then_time(const void *a, const void *b)
{
    const struct retail_row *x = *(const struct retail_row *const *)a, *y = *(const struct retail_row *const *)b;
    if (x->customer_id != y->customer_id)
        return x->customer_id < y->customer_id ? -1 : 1;
    return cmp_invoice(a, b);
}

static int in_window(const struct replay_opts *o, int64_t ms)
{
    return (o->from_ms == 0 || ms >= o->from_ms) && (o->until_ms == 0 || ms < o->until_ms);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_invoice_id(const void *a, const void *b)
{
    const struct retail_row *x = *(const struct retail_row *const *)a, *y = *(const struct retail_row *const *)b;
    int c = strcmp(x->invoice, y->invoice);
    return c != 0 ? c : cmp_invoice(a, b);
}

struct invoice_group {
    size_t first, n;
    int64_t ms;   /* its first line's time: 30 invoices of the data span two minutes */
};

static int cmp_group(const void *a, const void *b)
{
    const struct invoice_group *x = a, *y = b;
    return x->ms != y->ms ? (x->ms < y->ms ? -1 : 1) : (x->first > y->first) - (x->first < y->first);
}

/* One invoice (lines l[0..k), one customer) as orders of at most order_lines_max lines. */
static void import_invoice(struct builder *b, const struct retail_row *const *l, size_t k, int64_t at,
                           const struct replay_opts *o)
{
    struct replay_plan *p = b->plan;
    char user[24];
    snprintf(user, sizeof(user), "c%d", l[0]->customer_id);
    size_t per = o->order_lines_max > 0 ? o->order_lines_max : k, parts = (k + per - 1) / per;
    p->n_split_invoices += parts > 1;
    for (size_t part = 0; part < parts; part++) {
        char oid[40];
        if (part == 0)
            snprintf(oid, sizeof(oid), "%s", l[0]->invoice);
        else
            snprintf(oid, sizeof(oid), "%s-%zu", l[0]->invoice, part + 1);
        size_t first = part * per, nl = part + 1 < parts ? per : k - first;
        json_t *lines = json_array();
        int64_t total = 0;
        for (size_t x = first; x < first + nl; x++) {
            json_array_append_new(lines, json_pack("{s:s,s:i,s:o}", "product_id", l[x]->stock_code, "quantity",
                                                   l[x]->quantity, "unit_price", money(l[x]->unit_price_minor)));
            total += l[x]->unit_price_minor * l[x]->quantity;
        }
        open_request(b, user, 0, oid);
        add_event(b, json_pack("{s:s,s:o,s:o}", "order_id", oid, "lines", lines, "total", money(total)),
                  "order.placed", at);
        close_request(b);
        p->n_orders++;
    }
}

/* The history import of the window's rows sel[0..n): invoices in time order. */
static void import_orders(struct builder *b, const struct retail_row **sel, size_t n, const struct replay_opts *o)
{
    struct replay_plan *p = b->plan;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (o->quantity_max > 0 && sel[i]->quantity > o->quantity_max)
            p->n_dropped_lines++;
        else
            sel[m++] = sel[i];
    }
    qsort(sel, m, sizeof(*sel), cmp_invoice_id);
    struct invoice_group *g = shop_xmalloc((m ? m : 1) * sizeof(*g));
    int32_t *custs = shop_xmalloc((m ? m : 1) * sizeof(*custs));
    size_t ng = 0;
    for (size_t i = 0; i < m; i++) {
        if (ng == 0 || strcmp(sel[g[ng - 1].first]->invoice, sel[i]->invoice) != 0) {
            custs[ng] = sel[i]->customer_id;
            g[ng++] = (struct invoice_group){.first = i, .ms = sel[i]->invoice_ms};
        }
        g[ng - 1].n++;
    }
    qsort(g, ng, sizeof(*g), cmp_group);
    for (size_t i = 0; i < ng; i++)
        import_invoice(b, sel + g[i].first, g[i].n, g[i].ms, o);
    qsort(custs, ng, sizeof(*custs), cmp_i32);
    for (size_t i = 0; i < ng; i++)
        p->n_users += i == 0 || custs[i] != custs[i - 1];
    free(custs);
    free(g);
}

int replay_plan_build(const struct retail_row *rows, size_t n_rows, const struct replay_opts *opts,
                      struct replay_plan *plan)
{
    const struct retail_row **sel;
    size_t n;
    memset(plan, 0, sizeof(*plan));
    if (select_rows(rows, n_rows, opts, &sel, &n) != 0) {
        free(sel);
        return SHOP_EINVAL;
    }
    struct builder b = {.plan = plan, .seed = opts->seed};
    struct product *prods;
    /* sel is in invoice time order: an import's catalog precedes its first invoice. */
    size_t n_prods = build_catalog(&b, sel, n, opts->orders_only ? sel[0]->invoice_ms - DAY_MS : 0, &prods);
    plan->n_products = n_prods;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (in_window(opts, sel[i]->invoice_ms))
            sel[m++] = sel[i];
    n = m;
    if (opts->orders_only) {
        import_orders(&b, sel, n, opts);
        free(prods);
        free(sel);
        return 0;
    }
    qsort(sel, n, sizeof(*sel), cmp_user_then_time);
    for (size_t i = 0; i < n;) {
        int32_t cust = sel[i]->customer_id;
        char user[24];
        snprintf(user, sizeof(user), "c%d", cust);
        struct rng r = {opts->seed ^ ((uint64_t)cust * 0x9e3779b97f4a7c15ULL)};
        plan->n_users++;
        while (i < n && sel[i]->customer_id == cust) {
            size_t j = i;
            while (j < n && strcmp(sel[j]->invoice, sel[i]->invoice) == 0)
                j++;
            if (j - i > opts->order_lines_max) {
                plan->n_skipped_invoices++;
            } else {
                open_request(&b, user, 0, sel[i]->invoice);
                if (chance(&r, 15))
                    abandoned_session(&b, &r, prods, n_prods, sel[i]->invoice_ms - 2 * DAY_MS);
                invoice_session(&b, &r, sel + i, j - i, prods, n_prods);
                close_request(&b);
            }
            i = j;
        }
        /* Some shoppers leave a cart behind after their last order: the demo shows those carts. */
        if (chance(&r, 25)) {
            char scope[40];
            snprintf(scope, sizeof(scope), "%s/last", user);
            open_request(&b, user, 0, scope);
            abandoned_session(&b, &r, prods, n_prods, sel[i - 1]->invoice_ms + DAY_MS);
            close_request(&b);
        }
    }
    free(prods);
    free(sel);
    return 0;
}

void replay_plan_free(struct replay_plan *plan)
{
    for (size_t i = 0; i < plan->n_reqs; i++)
        free(plan->reqs[i].body);
    free(plan->reqs);
    memset(plan, 0, sizeof(*plan));
}
