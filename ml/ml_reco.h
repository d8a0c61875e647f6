/* SPDX-License-Identifier: MIT
 * Recommendation serving: top-N for a user (ALS factors or item-to-item), similar
 * items, popularity for cold users and items, and the bounded heap behind them. Pure.
 * Invariant: rankings are total orders - score descending, then item id ascending -
 * so equal inputs give byte-equal outputs on every host.
 */
#ifndef SHOP_ML_RECO_H
#define SHOP_ML_RECO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"

struct shop_ml_als;
struct shop_ml_similar;
struct shop_ml_writer;

struct shop_ml_scored {
    uint32_t item;
    double score;
};

/** Bounded top-N heap over caller memory (cap entries). The root is the worst kept. */
struct shop_ml_topn {
    struct shop_ml_scored *v;
    uint32_t cap;
    uint32_t len;
};

/** True when a ranks before b: higher score, or equal score and lower item id. */
static inline bool shop_ml_scored_before(const struct shop_ml_scored *a,
                                         const struct shop_ml_scored *b)
{
    return a->score > b->score || (!(a->score < b->score) && a->item < b->item);
}

void shop_ml_topn_init(struct shop_ml_topn *h, struct shop_ml_scored *buf, uint32_t cap);
/** Offers (item, score); kept if among the cap best so far. NaN scores are ignored. */
void shop_ml_topn_push(struct shop_ml_topn *h, uint32_t item, double score);
/** Sorts the kept entries best first (in h->v) and returns their number. */
uint32_t shop_ml_topn_finish(struct shop_ml_topn *h);

/** Item popularity: a (decayed or plain) interaction weight per item. Owns score. */
struct shop_ml_pop {
    uint32_t n_items;
    double *score;
};

void shop_ml_pop_init(struct shop_ml_pop *pop, uint32_t n_items);
void shop_ml_pop_fini(struct shop_ml_pop *pop);
/** Adds weight w to item, growing the table for a new id. */
void shop_ml_pop_add(struct shop_ml_pop *pop, uint32_t item, double w);
/** Record "POPM". Loading replaces pop's contents; SHOP_EBADMSG on a bad record. */
void shop_ml_pop_encode(const struct shop_ml_pop *pop, struct shop_ml_writer *w);
int shop_ml_pop_decode(struct shop_ml_pop *pop, const uint8_t *buf, size_t len, size_t *used,
                       struct shop_err *err);

/* Serving. exclude is a sorted list of item ids not to return (e.g. already bought);
 * out has room for n entries and *n_out gets how many were written. */

/** The n most popular items. */
void shop_ml_reco_popular(const struct shop_ml_pop *pop, const uint32_t *exclude, size_t n_exclude,
                          uint32_t n, struct shop_ml_scored *out, uint32_t *n_out);

/** Top-n items for the user vector x (als->k doubles, e.g. from a fold-in); a user
 *  with no signal (x NULL or all zero) gets popularity instead. */
void shop_ml_reco_user(const struct shop_ml_als *als, const double *x, const struct shop_ml_pop *pop,
                       const uint32_t *exclude, size_t n_exclude, uint32_t n,
                       struct shop_ml_scored *out, uint32_t *n_out);

/** Items similar to item from a neighbour table; a cold item (no neighbours) gets
 *  popularity, never itself. */
void shop_ml_reco_similar(const struct shop_ml_similar *sim, const struct shop_ml_pop *pop,
                          uint32_t item, uint32_t n, struct shop_ml_scored *out, uint32_t *n_out);

/** Item-to-item scores for a user with history items[i] weighted by w[i] (w may be NULL
 *  for 1): scores[j] = sum_i w_i * sim(items[i], j). scores has sim->n_items entries. */
void shop_ml_reco_item_scores(const struct shop_ml_similar *sim, const uint32_t *items,
                              const double *w, size_t n_hist, double *scores);

/** Top-n of a dense score vector (n_items entries), skipping exclude. */
void shop_ml_reco_top(const double *scores, uint32_t n_items, const uint32_t *exclude,
                      size_t n_exclude, uint32_t n, struct shop_ml_scored *out, uint32_t *n_out);

#endif
