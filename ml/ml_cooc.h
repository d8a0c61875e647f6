/* SPDX-License-Identifier: MIT
 * Exactly incremental item-to-item co-occurrence. When a user first touches an item,
 * the item's count goes up by one and so does its pair count with each item of the
 * user's bounded recent history (the last hist_max first touches). Cosine similarity
 * is c_ij / sqrt(c_i c_j). Pure. Invariant: after any stream, the counts equal
 * shop_ml_cooc_recount() of the same events.
 */
#ifndef SHOP_ML_COOC_H
#define SHOP_ML_COOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "ml/ml_reco.h"

struct shop_ml_writer;

/** Open-addressing set/map keyed by two 32-bit ids packed into a u64. */
struct shop_ml_pairmap {
    uint64_t *key;   /* SHOP_ML_PAIR_EMPTY marks a free slot */
    uint32_t *val;   /* NULL for a set */
    size_t cap;      /* power of two */
    size_t len;
};

struct shop_ml_cooc {
    uint32_t n_users;      /* ids seen so far are < these (tables grow on demand) */
    uint32_t n_items;
    uint32_t hist_max;     /* bound of the per-user recent history */
    uint32_t cap_users;    /* allocated rows of touches/hist */
    uint32_t cap_items;    /* allocated entries of item_count */
    uint32_t *item_count;  /* users who touched each item */
    uint32_t *touches;     /* per user: first touches so far */
    uint32_t *hist;        /* per user: ring of hist_max item ids, slot = touch % hist_max */
    struct shop_ml_pairmap pairs;  /* (lo, hi) with lo < hi -> users who touched both */
    struct shop_ml_pairmap seen;   /* (user, item) touched at least once */
};

/** One interaction, in stream order. */
struct shop_ml_touch {
    uint32_t user;
    uint32_t item;
};

/** Neighbour table: up to k best cosine neighbours per item, best first. Owns its arrays. */
struct shop_ml_similar {
    uint32_t n_items;
    uint32_t k;
    uint32_t *len;                /* n_items */
    struct shop_ml_scored *nb;    /* n_items * k */
};

/** Prepares an empty model; hist_max >= 1. Owns memory until shop_ml_cooc_fini(). */
int shop_ml_cooc_init(struct shop_ml_cooc *c, uint32_t hist_max, struct shop_err *err);
void shop_ml_cooc_fini(struct shop_ml_cooc *c);

/** Records that user touched item. Returns 1 when it was the user's first touch of the
 *  item (counts updated), 0 for a repeat, SHOP_EINVAL for an id of UINT32_MAX. */
int shop_ml_cooc_add(struct shop_ml_cooc *c, uint32_t user, uint32_t item, struct shop_err *err);

/** Batch recount of events (in stream order) into an empty, initialised c, by a separate
 *  path (per-user grouping and sorting of pair keys); used to check the streamed counts. */
int shop_ml_cooc_recount(struct shop_ml_cooc *c, const struct shop_ml_touch *ev, size_t n,
                         struct shop_err *err);

/** True when both hold the same item and pair counts. */
bool shop_ml_cooc_counts_equal(const struct shop_ml_cooc *a, const struct shop_ml_cooc *b);

uint32_t shop_ml_cooc_item(const struct shop_ml_cooc *c, uint32_t item);
uint32_t shop_ml_cooc_pair(const struct shop_ml_cooc *c, uint32_t i, uint32_t j);
/** Cosine similarity of two items (0 when either is unseen or i == j). */
double shop_ml_cooc_cosine(const struct shop_ml_cooc *c, uint32_t i, uint32_t j);

/** Builds the top-k neighbour table (one pass over the pairs) into sim, which the caller
 *  releases with shop_ml_similar_fini(). */
void shop_ml_cooc_similar(const struct shop_ml_cooc *c, uint32_t k, struct shop_ml_similar *sim);
void shop_ml_similar_fini(struct shop_ml_similar *sim);

/** Record "COOC" with counts, histories and the seen set, so a new instance resumes
 *  exactly. Loading replaces c (initialised or zeroed); SHOP_EBADMSG on a bad record. */
void shop_ml_cooc_encode(const struct shop_ml_cooc *c, struct shop_ml_writer *w);
int shop_ml_cooc_decode(struct shop_ml_cooc *c, const uint8_t *buf, size_t len, size_t *used,
                        struct shop_err *err);

#endif
