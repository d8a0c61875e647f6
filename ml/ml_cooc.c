/* SPDX-License-Identifier: MIT
 * Incremental item co-occurrence over open-addressing hash tables, its batch recount,
 * cosine neighbours and the "COOC" record. Pure.
 */
#include "ml/ml_cooc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "ml/ml_codec.h"

#define PAIR_EMPTY UINT64_MAX
#define HIST_MAX_LIMIT 65536u

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static uint64_t pair_key(uint32_t i, uint32_t j)
{
    return i < j ? ((uint64_t)i << 32 | j) : ((uint64_t)j << 32 | i);
}

static void pm_init(struct shop_ml_pairmap *m, size_t cap, bool with_val)
{
    m->cap = cap;
    m->len = 0;
    m->key = shop_xmalloc(cap * sizeof(*m->key));
    memset(m->key, 0xff, cap * sizeof(*m->key));
    m->val = with_val ? shop_xcalloc(cap, sizeof(*m->val)) : NULL;
}

static void pm_fini(struct shop_ml_pairmap *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof(*m));
}

static size_t pm_slot(const struct shop_ml_pairmap *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    size_t s = (size_t)mix64(key) & mask;
    while (m->key[s] != key && m->key[s] != PAIR_EMPTY)
        s = (s + 1) & mask;
    return s;
}

static void pm_grow(struct shop_ml_pairmap *m)
{
    struct shop_ml_pairmap old = *m;
    pm_init(m, old.cap * 2, old.val != NULL);
    for (size_t s = 0; s < old.cap; s++) {
        if (old.key[s] == PAIR_EMPTY)
            continue;
        size_t t = pm_slot(m, old.key[s]);
        m->key[t] = old.key[s];
        if (m->val)
            m->val[t] = old.val[s];
    }
    m->len = old.len;
    pm_fini(&old);
}

/* Returns the slot of key, inserting it (value 0) if absent; *added says which. */
static size_t pm_upsert(struct shop_ml_pairmap *m, uint64_t key, bool *added)
{
    /* Load factor at most 1/2 keeps linear probes short. */
    if (2 * (m->len + 1) > m->cap)
        pm_grow(m);
    size_t s = pm_slot(m, key);
    *added = m->key[s] == PAIR_EMPTY;
    if (*added) {
        m->key[s] = key;
        m->len++;
    }
    return s;
}

static void grow_users(struct shop_ml_cooc *c, uint32_t n_users)
{
    if (n_users > c->cap_users) {
        uint32_t cap = c->cap_users ? c->cap_users : 64;
        while (cap < n_users)
            cap = cap > UINT32_MAX / 2 ? UINT32_MAX : cap * 2;
        c->touches = shop_xrealloc(c->touches, (size_t)cap * sizeof(*c->touches));
        c->hist = shop_xrealloc(c->hist, (size_t)cap * c->hist_max * sizeof(*c->hist));
        memset(c->touches + c->cap_users, 0, (size_t)(cap - c->cap_users) * sizeof(*c->touches));
        memset(c->hist + (size_t)c->cap_users * c->hist_max, 0,
               (size_t)(cap - c->cap_users) * c->hist_max * sizeof(*c->hist));
        c->cap_users = cap;
    }
    if (n_users > c->n_users)
        c->n_users = n_users;
}

static void grow_items(struct shop_ml_cooc *c, uint32_t n_items)
{
    if (n_items > c->cap_items) {
        uint32_t cap = c->cap_items ? c->cap_items : 64;
        while (cap < n_items)
            cap = cap > UINT32_MAX / 2 ? UINT32_MAX : cap * 2;
        c->item_count = shop_xrealloc(c->item_count, (size_t)cap * sizeof(*c->item_count));
        memset(c->item_count + c->cap_items, 0,
               (size_t)(cap - c->cap_items) * sizeof(*c->item_count));
        c->cap_items = cap;
    }
    if (n_items > c->n_items)
        c->n_items = n_items;
}

int shop_ml_cooc_init(struct shop_ml_cooc *c, uint32_t hist_max, struct shop_err *err)
{
    memset(c, 0, sizeof(*c));
    if (hist_max < 1 || hist_max > HIST_MAX_LIMIT)
        return shop_err_set(err, SHOP_EINVAL, "history bound must be in 1..%u: %u",
                            HIST_MAX_LIMIT, hist_max);
    c->hist_max = hist_max;
    pm_init(&c->pairs, 1024, true);
    pm_init(&c->seen, 1024, false);
    return 0;
}

void shop_ml_cooc_fini(struct shop_ml_cooc *c)
{
    free(c->item_count);
    free(c->touches);
    free(c->hist);
    pm_fini(&c->pairs);
    pm_fini(&c->seen);
    memset(c, 0, sizeof(*c));
}

int shop_ml_cooc_add(struct shop_ml_cooc *c, uint32_t user, uint32_t item, struct shop_err *err)
{
    if (user == UINT32_MAX || item == UINT32_MAX)
        return shop_err_set(err, SHOP_EINVAL, "id out of range: user %u, item %u", user, item);
    bool added;
    pm_upsert(&c->seen, (uint64_t)user << 32 | item, &added);
    if (!added)
        return 0;
    grow_users(c, user + 1);
    grow_items(c, item + 1);
    c->item_count[item]++;
    uint32_t *ring = c->hist + (size_t)user * c->hist_max;
    uint32_t t = c->touches[user];
    uint32_t h = t < c->hist_max ? t : c->hist_max;
    /* The ring holds distinct items (first touches only), never item itself. */
    for (uint32_t s = 0; s < h; s++) {
        size_t slot = pm_upsert(&c->pairs, pair_key(item, ring[s]), &added);
        c->pairs.val[slot]++;
    }
    ring[t % c->hist_max] = item;
    c->touches[user] = t + 1;
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Appends pair keys of one user's first touches (in order) to keys; returns the new count. */
static size_t recount_user(struct shop_ml_cooc *c, uint32_t user, const uint32_t *first,
                           uint32_t n_first, uint64_t *keys, size_t n_keys)
{
    uint32_t *ring = c->hist + (size_t)user * c->hist_max;
    for (uint32_t p = 0; p < n_first; p++) {
        uint32_t from = p > c->hist_max ? p - c->hist_max : 0;
        for (uint32_t q = from; q < p; q++)
            keys[n_keys++] = pair_key(first[p], first[q]);
        c->item_count[first[p]]++;
        bool added;
        pm_upsert(&c->seen, (uint64_t)user << 32 | first[p], &added);
        ring[p % c->hist_max] = first[p];
    }
    c->touches[user] = n_first;
    return n_keys;
}

static size_t count_pair_keys(const struct shop_ml_cooc *c, const size_t *start,
                              const uint32_t *order, uint32_t *mark)
{
    size_t total = 0;
    for (uint32_t u = 0; u < c->n_users; u++) {
        uint64_t n_first = 0;
        for (size_t k = start[u]; k < start[u + 1]; k++)
            if (mark[order[k]] != u + 1) {
                mark[order[k]] = u + 1;
                n_first++;
            }
        uint64_t h = c->hist_max;
        total += n_first <= h ? n_first * (n_first - (n_first > 0)) / 2
                              : h * (h - 1) / 2 + (n_first - h) * h;
    }
    return total;
}

int shop_ml_cooc_recount(struct shop_ml_cooc *c, const struct shop_ml_touch *ev, size_t n,
                         struct shop_err *err)
{
    uint32_t n_users = 0, n_items = 0;
    for (size_t k = 0; k < n; k++) {
        if (ev[k].user == UINT32_MAX || ev[k].item == UINT32_MAX)
            return shop_err_set(err, SHOP_EINVAL, "event %zu: id out of range", k);
        n_users = ev[k].user + 1 > n_users ? ev[k].user + 1 : n_users;
        n_items = ev[k].item + 1 > n_items ? ev[k].item + 1 : n_items;
    }
    grow_users(c, n_users);
    grow_items(c, n_items);
    /* Stable counting sort by user keeps each user's events in stream order. */
    size_t *start = shop_xcalloc((size_t)n_users + 2, sizeof(*start));
    for (size_t k = 0; k < n; k++)
        start[ev[k].user + 2]++;
    for (uint32_t u = 0; u < n_users; u++)
        start[u + 2] += start[u + 1];
    uint32_t *order = shop_xmalloc((n ? n : 1) * sizeof(*order));
    for (size_t k = 0; k < n; k++)
        order[start[ev[k].user + 1]++] = ev[k].item;
    uint32_t *mark = shop_xcalloc((size_t)n_items + 1, sizeof(*mark));
    size_t n_keys = count_pair_keys(c, start, order, mark);
    uint64_t *keys = shop_xmalloc((n_keys ? n_keys : 1) * sizeof(*keys));
    uint32_t *first = shop_xmalloc((n ? n : 1) * sizeof(*first));
    memset(mark, 0, ((size_t)n_items + 1) * sizeof(*mark));
    size_t at = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        uint32_t n_first = 0;
        for (size_t k = start[u]; k < start[u + 1]; k++)
            if (mark[order[k]] != u + 1) {
                mark[order[k]] = u + 1;
                first[n_first++] = order[k];
            }
        at = recount_user(c, u, first, n_first, keys, at);
    }
    qsort(keys, n_keys, sizeof(*keys), cmp_u64);
    for (size_t k = 0; k < n_keys;) {
        size_t e = k;
        while (e < n_keys && keys[e] == keys[k])
            e++;
        bool added;
        size_t slot = pm_upsert(&c->pairs, keys[k], &added);
        c->pairs.val[slot] += (uint32_t)(e - k);
        k = e;
    }
    free(first);
    free(keys);
    free(mark);
    free(order);
    free(start);
    return 0;
}

bool shop_ml_cooc_counts_equal(const struct shop_ml_cooc *a, const struct shop_ml_cooc *b)
{
    uint32_t n = a->n_items > b->n_items ? a->n_items : b->n_items;
    for (uint32_t i = 0; i < n; i++)
        if (shop_ml_cooc_item(a, i) != shop_ml_cooc_item(b, i))
            return false;
    if (a->pairs.len != b->pairs.len)
        return false;
    for (size_t s = 0; s < a->pairs.cap; s++) {
        uint64_t key = a->pairs.key[s];
        if (key == PAIR_EMPTY)
            continue;
        if (shop_ml_cooc_pair(b, (uint32_t)(key >> 32), (uint32_t)key) != a->pairs.val[s])
            return false;
    }
    return true;
}

uint32_t shop_ml_cooc_item(const struct shop_ml_cooc *c, uint32_t item)
{
    return item < c->n_items ? c->item_count[item] : 0;
}

uint32_t shop_ml_cooc_pair(const struct shop_ml_cooc *c, uint32_t i, uint32_t j)
{
    if (i == j || c->pairs.cap == 0)
        return 0;
    size_t s = pm_slot(&c->pairs, pair_key(i, j));
    return c->pairs.key[s] == PAIR_EMPTY ? 0 : c->pairs.val[s];
}

static double cosine(uint32_t cij, uint32_t ci, uint32_t cj)
{
    return cij ? (double)cij / sqrt((double)ci * (double)cj) : 0.0;
}

double shop_ml_cooc_cosine(const struct shop_ml_cooc *c, uint32_t i, uint32_t j)
{
    return cosine(shop_ml_cooc_pair(c, i, j), shop_ml_cooc_item(c, i), shop_ml_cooc_item(c, j));
}

void shop_ml_cooc_similar(const struct shop_ml_cooc *c, uint32_t k, struct shop_ml_similar *sim)
{
    sim->n_items = c->n_items;
    sim->k = k;
    sim->len = shop_xcalloc((size_t)c->n_items + 1, sizeof(*sim->len));
    sim->nb = shop_xmalloc(((size_t)c->n_items * k + 1) * sizeof(*sim->nb));
    struct shop_ml_topn *heap = shop_xmalloc(((size_t)c->n_items + 1) * sizeof(*heap));
    for (uint32_t i = 0; i < c->n_items; i++)
        shop_ml_topn_init(&heap[i], sim->nb + (size_t)i * k, k);
    for (size_t s = 0; s < c->pairs.cap; s++) {
        uint64_t key = c->pairs.key[s];
        if (key == PAIR_EMPTY)
            continue;
        uint32_t i = (uint32_t)(key >> 32), j = (uint32_t)key;
        double cos = cosine(c->pairs.val[s], c->item_count[i], c->item_count[j]);
        shop_ml_topn_push(&heap[i], j, cos);
        shop_ml_topn_push(&heap[j], i, cos);
    }
    for (uint32_t i = 0; i < c->n_items; i++)
        sim->len[i] = shop_ml_topn_finish(&heap[i]);
    free(heap);
}

void shop_ml_similar_fini(struct shop_ml_similar *sim)
{
    free(sim->len);
    free(sim->nb);
    memset(sim, 0, sizeof(*sim));
}

/* Keys of a map in increasing order (canonical encoding); caller frees. */
static uint64_t *sorted_slots(const struct shop_ml_pairmap *m, size_t **slots)
{
    uint64_t *keys = shop_xmalloc((m->len + 1) * sizeof(*keys));
    size_t n = 0;
    for (size_t s = 0; s < m->cap; s++)
        if (m->key[s] != PAIR_EMPTY)
            keys[n++] = m->key[s];
    qsort(keys, n, sizeof(*keys), cmp_u64);
    if (slots) {
        *slots = shop_xmalloc((n + 1) * sizeof(**slots));
        for (size_t k = 0; k < n; k++)
            (*slots)[k] = pm_slot(m, keys[k]);
    }
    return keys;
}

void shop_ml_cooc_encode(const struct shop_ml_cooc *c, struct shop_ml_writer *w)
{
    shop_ml_writer_begin(w, "COOC");
    shop_ml_put_u32(w, c->hist_max);
    shop_ml_put_u32(w, c->n_users);
    shop_ml_put_u32(w, c->n_items);
    for (uint32_t i = 0; i < c->n_items; i++)
        shop_ml_put_u32(w, c->item_count[i]);
    for (uint32_t u = 0; u < c->n_users; u++)
        shop_ml_put_u32(w, c->touches[u]);
    for (size_t k = 0; k < (size_t)c->n_users * c->hist_max; k++)
        shop_ml_put_u32(w, c->hist[k]);
    uint64_t *seen = sorted_slots(&c->seen, NULL);
    shop_ml_put_u64(w, c->seen.len);
    for (size_t k = 0; k < c->seen.len; k++)
        shop_ml_put_u64(w, seen[k]);
    free(seen);
    size_t *slots;
    uint64_t *pairs = sorted_slots(&c->pairs, &slots);
    shop_ml_put_u64(w, c->pairs.len);
    for (size_t k = 0; k < c->pairs.len; k++) {
        shop_ml_put_u64(w, pairs[k]);
        shop_ml_put_u32(w, c->pairs.val[slots[k]]);
    }
    free(slots);
    free(pairs);
    shop_ml_writer_end(w);
}

static size_t remaining(const struct shop_ml_reader *r, size_t elem)
{
    return (size_t)(r->end - r->p) / elem;
}

/* Reads n u32 into v, failing unless every value is < bound. */
static int get_u32s(struct shop_ml_reader *r, uint32_t *v, size_t n, uint64_t bound)
{
    for (size_t k = 0; k < n; k++)
        if (shop_ml_get_u32(r, &v[k]) != 0 || v[k] >= bound)
            return SHOP_EBADMSG;
    return 0;
}

/* Reads count strictly increasing u64 keys into the map; each (hi, lo) half checked. */
static int get_keys(struct shop_ml_reader *r, struct shop_ml_cooc *c, struct shop_ml_pairmap *m,
                    uint64_t hi_bound, bool pair)
{
    size_t count;
    if (shop_ml_get_count(r, remaining(r, pair ? 12 : 8), &count) != 0)
        return SHOP_EBADMSG;
    uint64_t prev = 0;
    for (size_t k = 0; k < count; k++) {
        uint64_t key;
        uint32_t val = 0;
        if (shop_ml_get_u64(r, &key) != 0 || (pair && shop_ml_get_u32(r, &val) != 0))
            return SHOP_EBADMSG;
        uint32_t hi = (uint32_t)(key >> 32), lo = (uint32_t)key;
        if ((k > 0 && key <= prev) || hi >= hi_bound || lo >= c->n_items ||
            (pair && (hi >= lo || val == 0)))
            return SHOP_EBADMSG;
        bool added;
        size_t s = pm_upsert(m, key, &added);
        if (pair)
            m->val[s] = val;
        prev = key;
    }
    return 0;
}

static int cooc_read(struct shop_ml_reader *r, struct shop_ml_cooc *c, uint32_t hist_max)
{
    uint32_t n_users, n_items;
    if (shop_ml_get_u32(r, &n_users) != 0 || shop_ml_get_u32(r, &n_items) != 0 ||
        n_items > remaining(r, 4) || n_users > remaining(r, 4) / (1 + (size_t)hist_max))
        return SHOP_EBADMSG;
    grow_users(c, n_users);
    grow_items(c, n_items);
    if (get_u32s(r, c->item_count, n_items, n_users + 1ull) != 0 ||
        get_u32s(r, c->touches, n_users, UINT32_MAX) != 0 ||
        get_u32s(r, c->hist, (size_t)n_users * hist_max, n_items) != 0)
        return SHOP_EBADMSG;
    if (get_keys(r, c, &c->seen, n_users, false) != 0 ||
        get_keys(r, c, &c->pairs, n_items, true) != 0)
        return SHOP_EBADMSG;
    uint64_t touches = 0;
    for (uint32_t u = 0; u < n_users; u++)
        touches += c->touches[u];
    return touches == c->seen.len ? 0 : SHOP_EBADMSG;
}

int shop_ml_cooc_decode(struct shop_ml_cooc *c, const uint8_t *buf, size_t len, size_t *used,
                        struct shop_err *err)
{
    struct shop_ml_reader r;
    int rc = shop_ml_reader_open(&r, buf, len, "COOC", used, err);
    if (rc != 0)
        return rc;
    uint32_t hist_max;
    if (shop_ml_get_u32(&r, &hist_max) != 0 || hist_max < 1 || hist_max > HIST_MAX_LIMIT)
        return shop_err_set(err, SHOP_EBADMSG, "co-occurrence record: bad history bound");
    struct shop_ml_cooc fresh;
    shop_ml_cooc_init(&fresh, hist_max, NULL);
    if (cooc_read(&r, &fresh, hist_max) != 0 || shop_ml_reader_close(&r, err) != 0) {
        shop_ml_cooc_fini(&fresh);
        return shop_err_set(err, SHOP_EBADMSG, "co-occurrence record: inconsistent payload");
    }
    shop_ml_cooc_fini(c);
    *c = fresh;
    return 0;
}
