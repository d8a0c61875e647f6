/* SPDX-License-Identifier: MIT
 * ml-core-bench: every Online Retail invoice (clean purchases) as one inventory.reserved
 * event of its customer, pushed through the ML core in invoice order over three
 * partitions, released, drained after every push; jobs run inline when taken. Prints
 * the core's CPU time per event (jobs apart) beside the raw limit measured in the same
 * run: packing and decoding the same events (what any consumer of them pays), and the
 * jobs' CPU.
 *
 *   build/bench/ml_core/ml-core-bench [--data ../shared/data] [--factors 64] [--events N]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/shop_arena.h"
#include "proto/core/shop_event.h"
#include "tools/retail/retail.h"
#include "workers/core/mlw.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct counts {
    size_t recs, popular, similar, segments, forecasts, events, models;
};

static void c_recs(void *ctx, const char *u, const struct shop_mlw_item *it, uint32_t n, bool fb, uint64_t v, int64_t at)
{
    ((struct counts *)ctx)->recs++;
}
static void c_pop(void *ctx, const struct shop_mlw_item *it, uint32_t n, uint64_t v, int64_t at)
{
    ((struct counts *)ctx)->popular++;
}
static void c_sim(void *ctx, const char *p, const struct shop_mlw_item *it, uint32_t n, uint64_t v, int64_t at)
{
    ((struct counts *)ctx)->similar++;
}
static void c_seg(void *ctx, const struct shop_mlw_segment *s)
{
    ((struct counts *)ctx)->segments++;
}
static void c_fc(void *ctx, const char *p, const char *m, int64_t s, const double *d, uint32_t n, uint64_t v, int64_t at)
{
    ((struct counts *)ctx)->forecasts++;
}
static void c_model(void *ctx, const struct shop_mlw_model_info *mi)
{
    struct counts *c = ctx;
    c->models++;
    if (strcmp(mi->model, "recommend") == 0 && mi->version % 10 == 0)
        fprintf(stderr, "  recommend v%llu at %lld\n", (unsigned long long)mi->version, (long long)mi->watermark_ms);
}
static void c_event(void *ctx, const struct shop_mlw_out *ev)
{
    ((struct counts *)ctx)->events++;
}

static int cmp_row(const void *a, const void *b)
{
    const struct retail_row *x = a, *y = b;
    if (x->invoice_ms != y->invoice_ms)
        return x->invoice_ms < y->invoice_ms ? -1 : 1;
    int c = strcmp(x->invoice, y->invoice);
    return c != 0 ? c : strcmp(x->stock_code, y->stock_code);
}

int main(int argc, char **argv)
{
    const char *data = "../shared/data";
    unsigned factors = 64;
    size_t limit = SIZE_MAX;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--data") == 0)
            data = argv[i + 1];
        else if (strcmp(argv[i], "--factors") == 0)
            factors = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--events") == 0)
            limit = (size_t)atol(argv[i + 1]);
    }
    struct retail_row *rows;
    size_t n_rows;
    struct shop_err err;
    if (retail_load_dir(data, &rows, &n_rows, NULL, &err) != 0) {
        fprintf(stderr, "ml-core-bench: %s\n", err.msg);
        return 77;
    }
    size_t n = 0;
    for (size_t i = 0; i < n_rows; i++) {
        if (retail_row_is_purchase(&rows[i]) && retail_row_is_product(&rows[i]))
            rows[n++] = rows[i];
    }
    qsort(rows, n, sizeof(*rows), cmp_row);
    /* One event per invoice, lines summed per product, packed once. */
    struct shop_arena arena = SHOP_ARENA_INIT;
    size_t cap = 32768, n_ev = 0, n_lines = 0;
    Shopstream__V1__Event **evs = malloc(cap * sizeof(*evs));
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(rows[j].invoice, rows[i].invoice) == 0)
            j++;
        /* An invoice of more than 100 products (the validator's bound) is split. */
        Shopstream__V1__StockReserved *r = NULL;
        for (size_t k = i; k < j; k++) {
            if (r != NULL && r->n_lines > 0 && strcmp(r->lines[r->n_lines - 1]->product_id, rows[k].stock_code) == 0) {
                r->lines[r->n_lines - 1]->quantity += rows[k].quantity;
                r->lines[r->n_lines - 1]->amount->amount_minor += rows[k].quantity * rows[k].unit_price_minor;
                continue;
            }
            if (r == NULL || r->n_lines == 100) {
                Shopstream__V1__Event *ev = shop_arena_alloc(&arena, sizeof(*ev));
                shopstream__v1__event__init(ev);
                char *id = shop_arena_alloc(&arena, 37), *user = shop_arena_alloc(&arena, 16);
                char *order = shop_arena_alloc(&arena, 40);
                snprintf(id, 37, "00000000-0000-4000-8000-%012zu", n_ev + 1);
                snprintf(user, 16, "c%d", rows[i].customer_id);
                snprintf(order, 40, "%s-%zu", rows[i].invoice, k - i);
                ev->id = id;
                ev->type = "inventory.reserved";
                ev->user_id = user;
                ev->occurred_at_ms = ev->received_at_ms = rows[i].invoice_ms;
                ev->source = "bench";
                ev->actor_id = "inventory";
                ev->actor_role = "service";
                ev->payload_case = SHOPSTREAM__V1__EVENT__PAYLOAD_STOCK_RESERVED;
                r = shop_arena_alloc(&arena, sizeof(*r));
                shopstream__v1__stock_reserved__init(r);
                r->order_id = order;
                r->lines = shop_arena_alloc(&arena, 100 * sizeof(*r->lines));
                ev->stock_reserved = r;
                if (n_ev == cap) {
                    cap *= 2;
                    evs = realloc(evs, cap * sizeof(*evs));
                }
                evs[n_ev++] = ev;
            }
            Shopstream__V1__StockLine *l = shop_arena_alloc(&arena, sizeof(*l));
            shopstream__v1__stock_line__init(l);
            l->product_id = rows[k].stock_code;
            l->quantity = rows[k].quantity;
            l->amount = shop_arena_alloc(&arena, sizeof(*l->amount));
            shopstream__v1__money__init(l->amount);
            l->amount->amount_minor = rows[k].quantity * rows[k].unit_price_minor;
            l->amount->currency = "GBP";
            r->lines[r->n_lines++] = l;
            n_lines++;
        }
        i = j;
    }
    if (n_ev > limit) {
        n_ev = limit;
        n_lines = 0;
        for (size_t i = 0; i < n_ev; i++)
            n_lines += evs[i]->stock_reserved->n_lines;
    }
    /* The raw limit: pack and decode every event once. */
    double t0 = cpu_s();
    struct shop_arena scratch = SHOP_ARENA_INIT;
    uint8_t *buf = malloc(1 << 20);
    for (size_t i = 0; i < n_ev; i++) {
        size_t len = shopstream__v1__event__pack(evs[i], buf);
        Shopstream__V1__Event *out;
        shop_arena_reset(&scratch);
        if (shop_event_decode(buf, len, NULL, &scratch, &out, &err) != 0) {
            fprintf(stderr, "ml-core-bench: event %zu: %s\n", i, err.msg);
            return 1;
        }
    }
    double raw = cpu_s() - t0;

    struct shop_mlw_cfg cfg;
    shop_mlw_cfg_default(&cfg);
    cfg.als.factors = factors;
    struct shop_mlw *m;
    if (shop_mlw_new(&cfg, &m, &err) != 0) {
        fprintf(stderr, "ml-core-bench: %s\n", err.msg);
        return 1;
    }
    struct counts c = {0};
    struct shop_mlw_sink sink = {&c, c_recs, c_pop, c_sim, NULL, c_seg, c_fc, c_model, c_event};
    double jobs_s = 0, worst_job = 0;
    int64_t offs[3] = {0};
    t0 = cpu_s();
    for (size_t i = 0; i <= n_ev; i++) {
        if (i < n_ev) {
            int32_t part = (int32_t)(i % 3);
            shop_mlw_push(m, SHOP_STREAM_INVENTORY, part, offs[part]++, evs[i]);
        }
        for (;;) {
            shop_mlw_release(m, i == n_ev);
            struct shop_mlw_job *job = shop_mlw_job_take(m);
            if (job == NULL)
                break;
            double j0 = cpu_s();
            shop_mlw_job_run(job);
            double dj = cpu_s() - j0;
            jobs_s += dj;
            if (dj > worst_job)
                worst_job = dj;
            shop_mlw_job_finish(m, job);
        }
        shop_mlw_drain(m, &sink);
        if (i == n_ev && (shop_mlw_buffered(m) > 0 || shop_mlw_job_out(m)))
            i--;   /* flush until everything is in */
    }
    double total = cpu_s() - t0;
    struct shop_mlw_stats st;
    shop_mlw_stats(m, &st);
    double core = total - jobs_s;
    printf("events %zu (lines %zu) users %llu items %llu jobs %llu (recommend v%llu, segment v%llu, forecast v%llu)\n",
           n_ev, n_lines, (unsigned long long)st.users, (unsigned long long)st.items, (unsigned long long)st.jobs,
           (unsigned long long)st.version[0], (unsigned long long)st.version[1], (unsigned long long)st.version[2]);
    printf("drained: %zu lists, %zu popular, %zu similar, %zu segments, %zu forecasts, %zu models, %zu events\n", c.recs,
           c.popular, c.similar, c.segments, c.forecasts, c.models, c.events);
    printf("core (jobs apart): %.3f s CPU, %.1f us/event, %.1f us/line\n", core, core / (double)n_ev * 1e6,
           core / (double)n_lines * 1e6);
    printf("raw limit (pack + decode): %.3f s CPU, %.2f us/event; core / raw = %.0fx\n", raw, raw / (double)n_ev * 1e6,
           core / raw);
    printf("jobs: %.3f s CPU in total, worst %.3f s\n", jobs_s, worst_job);
    shop_mlw_free(m);
    free(buf);
    free(evs);
    free(rows);
    shop_arena_fini(&scratch);
    shop_arena_fini(&arena);
    return 0;
}
