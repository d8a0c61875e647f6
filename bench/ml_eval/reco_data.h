/* SPDX-License-Identifier: MIT
 * Interaction datasets for the reco section of ml-eval: MovieLens 100K ratings (every
 * rating a positive) and Online Retail purchases (customer x product, invoice = basket).
 * Shell: reads the files under the data dir; nothing is copied into the repository.
 */
#ifndef RECO_DATA_H
#define RECO_DATA_H

#include <stddef.h>
#include <stdint.h>

struct reco_event {
    uint32_t user;     /* dense, 0-based */
    uint32_t item;     /* dense, 0-based */
    uint32_t basket;   /* invoice (retail) or event index (MovieLens): the hold-out unit */
    int64_t ts_ms;
};

struct reco_data {
    const char *name;
    uint32_t n_users;
    uint32_t n_items;
    size_t n;
    struct reco_event *ev;   /* sorted by user, time, basket, item */
};

/** Loads <dir>/movielens-100k/u.data. Returns 0, 1 when the file is absent, -1 on error. */
int reco_movielens_load(const char *data_dir, struct reco_data *d);
/** Loads clean purchases of <dir>/online-retail. Returns 0, 1 when absent, -1 on error. */
int reco_retail_load(const char *data_dir, struct reco_data *d);
void reco_data_fini(struct reco_data *d);

#endif
