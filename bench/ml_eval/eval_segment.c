/* SPDX-License-Identifier: MIT
 * ml-eval section: segment. Builds RFM features of Online Retail customers through the
 * same per-event path the worker uses, then reports batch K-means against scikit-learn
 * (run in the same process tree via popen), one-pass incremental K-means over shuffles,
 * the choice of k, segment profiles and the cost of one segmentation update. Shell.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eval.h"
#include "ml/ml_features.h"
#include "ml/ml_kmeans.h"
#include "ml/ml_rand.h"
#include "tools/retail/retail.h"

#ifndef ML_EVAL_SRC_DIR
#define ML_EVAL_SRC_DIR "bench/ml_eval"
#endif

#define SNAPSHOT_MS 1323475200000LL   /* 2011-12-10 00:00:00 UTC */
#define CUSTOMER_MAX 100000

struct customers {
    struct shop_ml_user *user;   /* indexed by CustomerID */
    char (*last_invoice)[12];
    size_t n;                    /* customers with at least one order */
    struct shop_ml_scaler scaler;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Replays clean purchases as one order event per invoice, in file (time) order. */
static void build_customers(const struct retail_row *rows, size_t n_rows, struct customers *cu)
{
    cu->user = calloc(CUSTOMER_MAX, sizeof(*cu->user));
    cu->last_invoice = calloc(CUSTOMER_MAX, sizeof(*cu->last_invoice));
    shop_ml_scaler_init(&cu->scaler, SHOP_ML_FEAT_RFM_DIM);
    for (size_t i = 0; i < n_rows;) {
        const struct retail_row *r = &rows[i];
        if (!retail_row_is_purchase(r) || r->customer_id <= 0 || r->customer_id >= CUSTOMER_MAX) {
            i++;
            continue;
        }
        int64_t value = 0;
        size_t j = i;
        for (; j < n_rows && strcmp(rows[j].invoice, r->invoice) == 0; j++)
            if (retail_row_is_purchase(&rows[j]))
                value += (int64_t)rows[j].quantity * rows[j].unit_price_minor;
        struct shop_ml_user *u = &cu->user[r->customer_id];
        if (!u->in_scaler)
            cu->n++;
        if (strcmp(cu->last_invoice[r->customer_id], r->invoice) != 0)
            shop_ml_features_update(u, &cu->scaler, SHOP_ML_EV_ORDER, value, r->invoice_ms, NULL);
        memcpy(cu->last_invoice[r->customer_id], r->invoice, sizeof(r->invoice));
        i = j;
    }
}

static double *feature_matrix(const struct customers *cu, size_t dim)
{
    double *x = malloc(cu->n * dim * sizeof(double));
    size_t row = 0;
    for (size_t id = 0; id < CUSTOMER_MAX; id++)
        if (cu->user[id].in_scaler)
            shop_ml_features_standardise(&cu->scaler, &cu->user[id], SNAPSHOT_MS, x + row++ * dim);
    return x;
}

/* Writes x to a temp file and reads "k inertia" lines from sklearn_ref.py. Returns the
 * number of k values answered (0 when Python or scikit-learn is unavailable). */
static int sklearn_inertia(const double *x, size_t n, size_t dim, const int *ks, int nk,
                           double *out)
{
    char path[] = "/tmp/ml-eval-rfm-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    FILE *f = fdopen(fd, "w");
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < dim; j++)
            fprintf(f, "%.17g%c", x[i * dim + j], j + 1 == dim ? '\n' : ' ');
    fclose(f);
    char cmd[1024];
    int len = snprintf(cmd, sizeof(cmd),
                       "PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3; "
                       "$PY %s/sklearn_ref.py %s", ML_EVAL_SRC_DIR, path);
    for (int i = 0; i < nk; i++)
        len += snprintf(cmd + len, sizeof(cmd) - (size_t)len, " %d", ks[i]);
    FILE *p = popen(cmd, "r");
    int got = 0, k;
    double in;
    while (p && got < nk && fscanf(p, "%d %lf", &k, &in) == 2)
        out[got++] = in;
    if (p)
        pclose(p);
    unlink(path);
    return got;
}

static void shuffle(double *x, size_t n, size_t dim, struct shop_ml_rand *rnd)
{
    double tmp[SHOP_ML_KMEANS_DIM_MAX];
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = shop_ml_rand_below(rnd, i + 1);
        memcpy(tmp, x + i * dim, dim * sizeof(double));
        memcpy(x + i * dim, x + j * dim, dim * sizeof(double));
        memcpy(x + j * dim, tmp, dim * sizeof(double));
    }
}

/* One pass over a shuffled copy: the first batch seeds, every later point is seen once. */
static double incremental_pass(const double *x, size_t n, size_t dim, size_t k, size_t seed_n,
                               size_t batch, uint64_t seed)
{
    double *xs = malloc(n * dim * sizeof(double));
    memcpy(xs, x, n * dim * sizeof(double));
    struct shop_ml_rand rnd;
    shop_ml_rand_init(&rnd, seed);
    shuffle(xs, n, dim, &rnd);
    struct shop_ml_kmeans *km = shop_ml_kmeans_new(k, dim);
    shop_ml_kmeans_partial_fit(km, xs, seed_n, &rnd, NULL);
    for (size_t i = seed_n; i < n; i += batch)
        shop_ml_kmeans_partial_fit(km, xs + i * dim, i + batch <= n ? batch : n - i, &rnd, NULL);
    double in = shop_ml_kmeans_inertia(km, x, n);
    shop_ml_kmeans_free(km);
    free(xs);
    return in;
}

static void report_batch(const double *x, size_t n, size_t dim, unsigned seed, int quick,
                         double *batch_in)
{
    static const int ks[] = {4, 5, 8};
    double ref[3] = {0};
    int got = quick ? 0 : sklearn_inertia(x, n, dim, ks, 3, ref);   /* --quick: no Python */
    printf("\nbatch k-means (k-means++, 10 restarts, Lloyd) vs scikit-learn KMeans(n_init=10)\n");
    printf("%4s %14s %14s %8s %10s\n", "k", "ours", "sklearn", "ratio", "silhouette");
    uint32_t *labels = malloc(n * sizeof(uint32_t));
    for (int i = 0; i < 3; i++) {
        struct shop_ml_rand rnd;
        shop_ml_rand_init(&rnd, seed + (unsigned)i);
        struct shop_ml_kmeans *km = shop_ml_kmeans_new((size_t)ks[i], dim);
        shop_ml_kmeans_fit(km, x, n, NULL, &rnd, &batch_in[i], NULL);
        for (size_t p = 0; p < n; p++)
            labels[p] = (uint32_t)shop_ml_kmeans_nearest(km, x + p * dim, NULL);
        double sil = shop_ml_silhouette(x, n, dim, labels, (size_t)ks[i], 0, &rnd);
        if (i < got)
            printf("%4d %14.3f %14.3f %8.4f %10.4f\n", ks[i], batch_in[i], ref[i],
                   batch_in[i] / ref[i], sil);
        else
            printf("%4d %14.3f %14s %8s %10.4f\n", ks[i], batch_in[i], "n/a", "n/a", sil);
        shop_ml_kmeans_free(km);
    }
    free(labels);
    if (quick)
        printf("(scikit-learn reference skipped in --quick mode)\n");
    else if (got < 3)
        printf("(scikit-learn reference unavailable: install python3-sklearn)\n");
}

static void report_incremental(const double *x, size_t n, size_t dim, unsigned seed,
                               unsigned shuffles, const double *batch_in)
{
    static const int ks[] = {4, 5, 8};
    size_t seed_n = n / 10, batch = 100;
    printf("\nincremental one pass (first %zu shuffled points seed the centres, then "
           "mini-batches of %zu, each point seen once), %u shuffles\n", seed_n, batch, shuffles);
    printf("%4s %14s %14s %10s %10s %16s\n", "k", "batch", "mean incr", "mean/batch",
           "worst/batch", "per-event mean");
    for (int i = 0; i < 3; i++) {
        double sum = 0, worst = 0, one = 0;
        for (unsigned s = 0; s < shuffles; s++) {
            double in = incremental_pass(x, n, dim, (size_t)ks[i], seed_n, batch, seed * 100u + s);
            sum += in;
            worst = in > worst ? in : worst;
            one += incremental_pass(x, n, dim, (size_t)ks[i], seed_n, 1, seed * 100u + s) /
                   shuffles;
        }
        printf("%4d %14.3f %14.3f %10.4f %10.4f %16.4f\n", ks[i], batch_in[i], sum / shuffles,
               sum / shuffles / batch_in[i], worst / batch_in[i], one / batch_in[i]);
    }
    printf("(per-event mean: the same pass with batches of one, as the worker updates)\n");
}

static size_t report_choose_k(const double *x, size_t n, size_t dim, unsigned seed)
{
    enum { K_MIN = 2, K_MAX = 10 };
    double inertia[K_MAX - K_MIN + 1], sil[K_MAX - K_MIN + 1];
    size_t best = 0;
    struct shop_ml_rand rnd;
    shop_ml_rand_init(&rnd, seed);
    shop_ml_kmeans_choose_k(x, n, dim, K_MIN, K_MAX, 2000, NULL, &rnd, inertia, sil, &best, NULL);
    printf("\nchoosing k (silhouette on a 2000-point sample)\n%4s %14s %10s\n", "k", "inertia",
           "silhouette");
    for (int k = K_MIN; k <= K_MAX; k++)
        printf("%4d %14.3f %10.4f%s\n", k, inertia[k - K_MIN], sil[k - K_MIN],
               (size_t)k == best ? "  <- default k" : "");
    return best;
}

static void report_profiles(const double *x, size_t n, size_t dim, size_t k, unsigned seed)
{
    struct shop_ml_rand rnd;
    shop_ml_rand_init(&rnd, seed);
    struct shop_ml_kmeans *km = shop_ml_kmeans_new(k, dim);
    shop_ml_kmeans_fit(km, x, n, NULL, &rnd, NULL, NULL);
    printf("\nsegments at k=%zu (centre in standard deviations: recency, log frequency, "
           "log monetary)\n", k);
    for (size_t c = 0; c < k; c++) {
        char prof[128];
        const double *ce = km->centre + c * dim;
        shop_ml_features_profile(ce, dim, prof, sizeof(prof));
        printf("  segment %u: %6.0f customers  (%+.2f %+.2f %+.2f)  %s\n", km->id[c],
               km->weight[c], ce[0], ce[1], ce[2], prof);
    }
    /* Refit the same model from another seed: matched ids must name the same customers. */
    uint32_t *before = malloc(n * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
        before[i] = shop_ml_kmeans_segment(km, x + i * dim);
    shop_ml_rand_init(&rnd, seed + 7919);
    shop_ml_kmeans_fit(km, x, n, NULL, &rnd, NULL, NULL);
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += before[i] == shop_ml_kmeans_segment(km, x + i * dim);
    printf("  refit from another seed: %.1f%% of customers keep their segment id\n",
           100.0 * (double)same / (double)n);
    free(before);
    shop_ml_kmeans_free(km);
}

/* Cost of the worker's per-event step: features update, standardise, assign, move centre. */
static void report_speed(struct customers *cu, const double *x, size_t n, unsigned seed, int quick)
{
    size_t dim = SHOP_ML_FEAT_DIM, k = 8, ops = quick ? 200000 : 2000000;
    struct shop_ml_rand rnd;
    shop_ml_rand_init(&rnd, seed);
    struct shop_ml_scaler sc;
    shop_ml_scaler_init(&sc, dim);
    struct shop_ml_user *users = calloc(cu->n, sizeof(*users));
    double *z = malloc(cu->n * dim * sizeof(double));
    for (size_t i = 0; i < cu->n; i++)
        for (int e = 0; e < 4; e++)
            shop_ml_features_update(&users[i], &sc, (enum shop_ml_user_event)e, 1000,
                                    SNAPSHOT_MS - (int64_t)i * 1000, z + i * dim);
    struct shop_ml_kmeans *km = shop_ml_kmeans_new(k, dim);
    shop_ml_kmeans_fit(km, z, cu->n, NULL, &rnd, NULL, NULL);
    shop_ml_kmeans_set_half_life(km, 1e6);
    double zz[SHOP_ML_FEAT_DIM];
    uint64_t sink = 0;
    double t0 = now_s();
    for (size_t i = 0; i < ops; i++) {
        struct shop_ml_user *u = &users[(i * 2654435761u) % cu->n];
        shop_ml_features_update(u, &sc, (enum shop_ml_user_event)(i & 3), 1500,
                                SNAPSHOT_MS + (int64_t)i, zz);
        shop_ml_kmeans_partial_fit(km, zz, 1, &rnd, NULL);
        sink += shop_ml_kmeans_segment(km, zz);
    }
    double dt = now_s() - t0;
    printf("\nspeed: one segmentation update (event -> features -> standardise -> assign -> "
           "move centre), %zu features, k=%zu, one core: %.0f ns/op (%.3f us) [%llu]\n",
           dim, k, dt / (double)ops * 1e9, dt / (double)ops * 1e6, (unsigned long long)(sink & 1));
    shop_ml_kmeans_free(km);
    free(users);
    free(z);
    (void)x;
    (void)n;
}

int eval_segment_run(const struct eval_opts *o)
{
    struct retail_row *rows;
    size_t n_rows;
    struct shop_err err = {0};
    if (retail_load_dir(o->data_dir, &rows, &n_rows, NULL, &err) != 0) {
        fprintf(stderr, "ml-eval segment: %s\n", err.msg);
        return 1;
    }
    struct customers cu = {0};
    build_customers(rows, n_rows, &cu);
    free(rows);
    size_t dim = SHOP_ML_FEAT_RFM_DIM;
    double *x = feature_matrix(&cu, dim);
    printf("== segment: Online Retail RFM, %zu customers (snapshot 2011-12-10; recency in days, "
           "log1p frequency and monetary; standardised)\n", cu.n);
    double batch_in[3];
    report_batch(x, cu.n, dim, o->seed, o->quick, batch_in);
    report_incremental(x, cu.n, dim, o->seed, o->quick ? 1 : 5, batch_in);
    size_t best = report_choose_k(x, cu.n, dim, o->seed);
    report_profiles(x, cu.n, dim, best, o->seed);
    report_speed(&cu, x, cu.n, o->seed, o->quick);
    free(x);
    free(cu.user);
    free(cu.last_invoice);
    return 0;
}
