/* SPDX-License-Identifier: MIT
 * ml-eval section: forecast. Daily demand (units) of the 100 best-selling Online Retail
 * products; the last 28 days are the test period. Reports MASE (MAE over the in-sample
 * MAE of the weekly seasonal-naive step) per method, for the per-product selection, and
 * for the seasonal-naive forecast itself; then the same from 4 rolling origins 28 days
 * apart (each refitted on the days before it), plus the cost of a fit and of one daily
 * update. Shell.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval.h"
#include "ml/ml_forecast.h"
#include "tools/retail/retail.h"

#define TOP_N 100
#define TEST_DAYS 28
#define HOLDOUT_DAYS 28
#define ORIGINS 4
#define DAY_MS 86400000LL

struct product {
    char code[16];
    double total;
    double *daily;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int by_total_desc(const void *a, const void *b)
{
    const struct product *pa = a, *pb = b;
    return (pa->total < pb->total) - (pa->total > pb->total);
}

static int by_code(const void *a, const void *b)
{
    return strcmp(((const struct product *)a)->code, ((const struct product *)b)->code);
}

/* Products are real stock codes (5 digits first); POST, M, DOT and the like are fees. */
static int is_product(const struct retail_row *r)
{
    return retail_row_is_purchase(r) && r->stock_code[0] >= '0' && r->stock_code[0] <= '9';
}

/* Builds the daily series of the TOP_N products by units sold net of cancellations (one
 * 80,995-unit order that was cancelled the same day must not make a best seller). Returns the number of days. */
static size_t top_products(const struct retail_row *rows, size_t n_rows, struct product **out,
                           int64_t *day0_out)
{
    int64_t first = INT64_MAX, last = INT64_MIN;
    struct product *p = calloc(8192, sizeof(*p));
    size_t np = 0;
    for (size_t i = 0; i < n_rows; i++) {
        if (!is_product(&rows[i]) && !(rows[i].cancelled && rows[i].customer_id > 0))
            continue;
        first = rows[i].invoice_ms < first ? rows[i].invoice_ms : first;
        last = rows[i].invoice_ms > last ? rows[i].invoice_ms : last;
        struct product key, *hit;
        memcpy(key.code, rows[i].stock_code, sizeof(key.code));
        hit = np ? bsearch(&key, p, np, sizeof(*p), by_code) : NULL;
        if (hit == NULL && np < 8192) {
            hit = &p[np++];
            memset(hit, 0, sizeof(*hit));
            memcpy(hit->code, key.code, sizeof(key.code));
            qsort(p, np, sizeof(*p), by_code);
            hit = bsearch(&key, p, np, sizeof(*p), by_code);
        }
        hit->total += rows[i].quantity;   /* net of cancellations: "best-selling" */
    }
    int64_t day0 = first / DAY_MS;
    size_t days = (size_t)(last / DAY_MS - day0 + 1);
    qsort(p, np, sizeof(*p), by_total_desc);
    for (size_t j = 0; j < TOP_N && j < np; j++)
        p[j].daily = calloc(days, sizeof(double));
    qsort(p, TOP_N, sizeof(*p), by_code);
    for (size_t i = 0; i < n_rows; i++) {
        struct product key, *hit;
        if (!is_product(&rows[i]))
            continue;
        memcpy(key.code, rows[i].stock_code, sizeof(key.code));
        hit = bsearch(&key, p, TOP_N, sizeof(*p), by_code);
        if (hit)
            hit->daily[rows[i].invoice_ms / DAY_MS - day0] += rows[i].quantity;
    }
    *out = p;
    *day0_out = day0;
    return days;
}

/* In-sample MAE of the one-step weekly seasonal-naive forecast: MASE's denominator. */
static double mase_scale(const double *y, size_t n)
{
    double s = 0;
    for (size_t t = SHOP_ML_FC_SEASON; t < n; t++)
        s += fabs(y[t] - y[t - SHOP_ML_FC_SEASON]);
    return s / (double)(n - SHOP_ML_FC_SEASON);
}

static double test_mae(const struct shop_ml_forecast *m, const double *y_test)
{
    double s = 0;
    for (unsigned h = 1; h <= TEST_DAYS; h++)
        s += fabs(y_test[h - 1] - shop_ml_forecast_at(m, h));
    return s / TEST_DAYS;
}

static size_t count_zero_days(const double *y, size_t n)
{
    size_t z = 0;
    for (size_t t = 0; t < n; t++)
        z += !(y[t] > 0);
    return z;
}

/* Sums over (product, origin) cases of one evaluation. */
struct fc_score {
    double mase[SHOP_ML_FC_METHODS];
    double mase_sel;
    int sel_beats[SHOP_ML_FC_METHODS];   /* cases where the selection has the lower MASE */
    int sel_ties[SHOP_ML_FC_METHODS];    /* ... the same MASE (it chose that method) */
    int chosen[SHOP_ML_FC_METHODS];
    int cases;
    double t_fit;                        /* seconds spent in shop_ml_forecast_select() */
};

/* Forecasts every product from origin (days [0, origin) known) for TEST_DAYS days. */
static void score_origin(const struct product *p, size_t origin, struct fc_score *sc)
{
    for (size_t j = 0; j < TOP_N; j++) {
        const double *y = p[j].daily;
        double scale = mase_scale(y, origin), e[SHOP_ML_FC_METHODS];
        if (!(scale > 0))
            fprintf(stderr, "ml-eval forecast: product %s: MASE undefined (flat training)\n",
                    p[j].code);
        for (int k = 0; k < SHOP_ML_FC_METHODS; k++) {
            struct shop_ml_forecast m;
            shop_ml_forecast_fit(&m, (enum shop_ml_fc_method)k, y, origin, NULL);
            e[k] = test_mae(&m, y + origin) / scale;
            sc->mase[k] += e[k];
        }
        struct shop_ml_forecast sel;
        double t0 = now_s();
        shop_ml_forecast_select(&sel, y, origin, HOLDOUT_DAYS, NULL, NULL);
        sc->t_fit += now_s() - t0;
        double s = test_mae(&sel, y + origin) / scale;
        sc->mase_sel += s;
        for (int k = 0; k < SHOP_ML_FC_METHODS; k++) {
            sc->sel_beats[k] += s < e[k];
            sc->sel_ties[k] += !(s < e[k]) && !(s > e[k]);
        }
        sc->chosen[sel.method]++;
        sc->cases++;
    }
}

static void print_single(const struct fc_score *sc)
{
    double n = sc->cases, naive = sc->mase[SHOP_ML_FC_SNAIVE] / n;
    printf("\n%-34s %10s\n", "method (28-day horizon)", "mean MASE");
    for (int k = 0; k < SHOP_ML_FC_METHODS; k++)
        printf("%-34s %10.4f\n", shop_ml_forecast_method_name((enum shop_ml_fc_method)k),
               sc->mase[k] / n);
    printf("%-34s %10.4f   (vs seasonal-naive %.4f: %s)\n", "selected per product (holdout 28d)",
           sc->mase_sel / n, naive, sc->mase_sel / n < naive ? "better" : "WORSE");
    printf("selection beats seasonal-naive on %d of %d products; chosen:",
           sc->sel_beats[SHOP_ML_FC_SNAIVE], sc->cases);
    for (int k = 1; k < SHOP_ML_FC_METHODS; k++)
        printf(" %s %d", shop_ml_forecast_method_name((enum shop_ml_fc_method)k), sc->chosen[k]);
    printf("\n");
}

static void print_score_row(const char *label, const struct fc_score *sc)
{
    printf("%-24s", label);
    for (int k = 0; k < SHOP_ML_FC_METHODS; k++)
        printf(" %8.4f", sc->mase[k] / sc->cases);
    printf(" %8.4f\n", sc->mase_sel / sc->cases);
}

/* Rolling origin: ORIGINS forecasts TEST_DAYS apart, the last one ending on the last day;
 * each refits and reselects on the days before its origin only. */
static void rolling_origin(const struct product *p, size_t days, int64_t day0,
                           struct fc_score *all)
{
    printf("\nrolling origin: %d origins %d days apart, each forecasting the next %d days "
           "(mean MASE)\n%-24s", ORIGINS, TEST_DAYS, TEST_DAYS, "origin (days before)");
    for (int k = 0; k < SHOP_ML_FC_METHODS; k++)
        printf(" %8s", shop_ml_forecast_method_name((enum shop_ml_fc_method)k));
    printf(" %8s\n", "selected");
    memset(all, 0, sizeof(*all));
    for (int r = ORIGINS; r >= 1; r--) {
        struct fc_score sc = {0};
        size_t origin = days - (size_t)r * TEST_DAYS;
        char label[32];
        time_t at = (time_t)((day0 + (int64_t)origin) * (DAY_MS / 1000));
        struct tm tm;
        gmtime_r(&at, &tm);
        score_origin(p, origin, &sc);
        snprintf(label, sizeof(label), "%04d-%02d-%02d (%zu)", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, origin);
        print_score_row(label, &sc);
        for (int k = 0; k < SHOP_ML_FC_METHODS; k++) {
            all->mase[k] += sc.mase[k];
            all->sel_beats[k] += sc.sel_beats[k];
            all->sel_ties[k] += sc.sel_ties[k];
            all->chosen[k] += sc.chosen[k];
        }
        all->mase_sel += sc.mase_sel;
        all->cases += sc.cases;
        all->t_fit += sc.t_fit;
    }
    print_score_row("all origins", all);
    printf("selected per product vs each method over %d (product, origin) cases "
           "(lower / same / higher MASE):\n", all->cases);
    for (int k = 0; k < SHOP_ML_FC_METHODS; k++)
        printf("  vs %-8s %3d / %3d / %3d\n",
               shop_ml_forecast_method_name((enum shop_ml_fc_method)k), all->sel_beats[k],
               all->sel_ties[k],
               all->cases - all->sel_beats[k] - all->sel_ties[k]);
    printf("chosen:");
    for (int k = 1; k < SHOP_ML_FC_METHODS; k++)
        printf(" %s %d", shop_ml_forecast_method_name((enum shop_ml_fc_method)k), all->chosen[k]);
    double naive = all->mase[SHOP_ML_FC_SNAIVE] / all->cases, sel = all->mase_sel / all->cases;
    printf("\nrolling-origin selected MASE %.4f vs seasonal-naive %.4f: %s\n", sel, naive,
           sel < naive ? "better" : "WORSE");
    printf("check: rolling-origin selection below seasonal-naive: %s\n",
           sel < naive ? "ok" : "FAILED");
}

static double zero_share(const struct product *p, size_t train)
{
    double z = 0;
    for (size_t j = 0; j < TOP_N; j++)
        z += (double)count_zero_days(p[j].daily, train) / (double)train / TOP_N;
    return z;
}

int eval_forecast_run(const struct eval_opts *o)
{
    struct retail_row *rows;
    size_t n_rows;
    struct shop_err err = {0};
    if (retail_load_dir(o->data_dir, &rows, &n_rows, NULL, &err) != 0) {
        fprintf(stderr, "ml-eval forecast: %s\n", err.msg);
        return 1;
    }
    struct product *p;
    int64_t day0;
    size_t days = top_products(rows, n_rows, &p, &day0);
    free(rows);
    size_t train = days - TEST_DAYS;
    printf("== forecast: Online Retail daily units of the %d best-selling products, %zu days "
           "(train %zu, test last %d; %.0f%% of training days have no sale)\n",
           TOP_N, days, train, TEST_DAYS, 100 * zero_share(p, train));
    struct fc_score single = {0}, rolling;
    score_origin(p, train, &single);
    print_single(&single);
    rolling_origin(p, days, day0, &rolling);

    /* Example: days to stock-out of the best seller from its mean fortnight of stock. */
    struct shop_ml_forecast m;
    shop_ml_forecast_select(&m, p[0].daily, days, HOLDOUT_DAYS, NULL, NULL);
    double stock = 14 * p[0].total / (double)days;
    printf("\nexample: product %s (%s), stock %.0f units -> %.1f days to stock-out\n",
           p[0].code, shop_ml_forecast_method_name(m.method), stock,
           shop_ml_forecast_days_to_stockout(&m, stock, 365));

    size_t ops = 10000000;
    double sink = 0, t0 = now_s();
    for (size_t i = 0; i < ops; i++) {
        shop_ml_forecast_observe(&m, (double)(i & 15));
        sink += shop_ml_forecast_at(&m, 1);
    }
    double dt = now_s() - t0;
    printf("speed: model selection per product %.2f ms; one daily update + forecast %.1f ns "
           "(one core) [%g]\n", rolling.t_fit / rolling.cases * 1e3, dt / (double)ops * 1e9,
           fmod(sink, 2));
    for (size_t j = 0; j < TOP_N; j++)
        free(p[j].daily);
    free(p);
    return rolling.mase_sel < rolling.mase[SHOP_ML_FC_SNAIVE] ? 0 : 1;
}
