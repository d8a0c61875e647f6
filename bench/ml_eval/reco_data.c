/* SPDX-License-Identifier: MIT
 * Loaders for the reco section of ml-eval (MovieLens 100K, Online Retail). Shell.
 */
#define _GNU_SOURCE
#include "reco_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/retail/retail.h"

static int cmp_event(const void *a, const void *b)
{
    const struct reco_event *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    if (x->ts_ms != y->ts_ms)
        return x->ts_ms < y->ts_ms ? -1 : 1;
    if (x->basket != y->basket)
        return x->basket < y->basket ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

int reco_movielens_load(const char *data_dir, struct reco_data *d)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/movielens-100k/u.data", data_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT ? 1 : -1;
    memset(d, 0, sizeof(*d));
    d->name = "MovieLens 100K";
    size_t cap = 100000;
    d->ev = malloc(cap * sizeof(*d->ev));
    unsigned u, i, rating;
    long long ts;
    while (fscanf(f, "%u %u %u %lld", &u, &i, &rating, &ts) == 4) {
        if (u == 0 || i == 0)
            continue;
        if (d->n == cap)
            d->ev = realloc(d->ev, (cap *= 2) * sizeof(*d->ev));
        d->ev[d->n] = (struct reco_event){u - 1, i - 1, (uint32_t)d->n, ts * 1000};
        d->n++;
        d->n_users = u > d->n_users ? u : d->n_users;
        d->n_items = i > d->n_items ? i : d->n_items;
    }
    fclose(f);
    qsort(d->ev, d->n, sizeof(*d->ev), cmp_event);
    return d->n > 0 ? 0 : -1;
}

static int cmp_code(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Dense product ids: the sorted distinct stock codes. */
static const char **product_index(const struct retail_row *rows, size_t n, size_t *n_codes)
{
    const char **codes = malloc((n + 1) * sizeof(*codes));
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (retail_row_is_purchase(&rows[k]))
            codes[m++] = rows[k].stock_code;
    qsort(codes, m, sizeof(*codes), cmp_code);
    size_t w = 0;
    for (size_t k = 0; k < m; k++)
        if (w == 0 || strcmp(codes[w - 1], codes[k]) != 0)
            codes[w++] = codes[k];
    *n_codes = w;
    return codes;
}

int reco_retail_load(const char *data_dir, struct reco_data *d)
{
    char path[1024];
    retail_path(data_dir, path, sizeof(path));
    FILE *probe = fopen(path, "r");
    if (probe == NULL)
        return 1;
    fclose(probe);
    struct retail_row *rows;
    size_t n_rows;
    if (retail_load(path, &rows, &n_rows, NULL, NULL) != 0)
        return -1;
    memset(d, 0, sizeof(*d));
    d->name = "Online Retail";
    size_t n_codes;
    const char **codes = product_index(rows, n_rows, &n_codes);
    int32_t *user_of = calloc(100000, sizeof(*user_of));   /* CustomerID -> dense id + 1 */
    d->ev = malloc((n_rows + 1) * sizeof(*d->ev));
    uint32_t basket = 0;
    for (size_t k = 0; k < n_rows; k++) {
        const struct retail_row *r = &rows[k];
        if (k > 0 && strcmp(r->invoice, rows[k - 1].invoice) != 0)
            basket++;
        if (!retail_row_is_purchase(r) || r->customer_id >= 100000)
            continue;
        if (user_of[r->customer_id] == 0)
            user_of[r->customer_id] = (int32_t)++d->n_users;
        const char *code = r->stock_code;
        const char **hit = bsearch(&code, codes, n_codes, sizeof(*codes), cmp_code);
        d->ev[d->n++] = (struct reco_event){(uint32_t)user_of[r->customer_id] - 1,
                                            (uint32_t)(hit - codes), basket, r->invoice_ms};
    }
    d->n_items = (uint32_t)n_codes;
    free(user_of);
    free(codes);
    free(rows);
    qsort(d->ev, d->n, sizeof(*d->ev), cmp_event);
    return 0;
}

void reco_data_fini(struct reco_data *d)
{
    free(d->ev);
    memset(d, 0, sizeof(*d));
}
