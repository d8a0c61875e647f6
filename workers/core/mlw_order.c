/* SPDX-License-Identifier: MIT
 * The ML core's reorder buffer, offsets and dedup window (mlw_order.h). Pure.
 * Two binary heaps by key: the buffered entries (popped in order) and every remembered
 * id (forgotten from the front, since what may be forgotten is always a prefix of the
 * key order); an open-addressing set of the remembered ids; the offsets in a small
 * sorted array (one row per partition), each row with the offsets of its buffered entries
 * in ascending order (popped ones marked dead and trimmed from the front), so the lowest
 * held offset is O(1) and a pop O(log n).
 */
#include "workers/core/mlw_order.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"

struct key {
    int64_t t;                      /* occurred_at_ms */
    int32_t stream;
    char id[SHOP_MLW_ID_MAX + 1];
};

/* The key comes first so that both heaps can compare their elements as keys. */
struct item {
    struct key k;
    int32_t partition;
    int64_t offset;
    uint8_t *bytes;
    size_t len;
};

/* Offsets of one partition's buffered entries that carry bytes, ascending in v[lo, n).
 * A popped one is marked dead (-1 - offset) until the front passes it; v[lo] is always
 * live. Consumption order is offset order, so an add is nearly always an append. */
struct held {
    int64_t *v;
    size_t lo, n, cap, dead;
};

struct offset_row {
    int32_t stream;
    int32_t partition;
    int64_t next;
    /* Not in the record (they say where the consumer is now, not what was consumed): */
    int64_t max_at;     /* the largest occurred_at pushed on it since start; INT64_MIN before any */
    bool idle;          /* the caller says it is consumed up to its end */
    struct held held;   /* rebuilt from the buffered entries on decode */
};

struct heap {
    uint8_t *v;
    size_t esz, n, cap;
};

struct shop_mlw_order {
    struct shop_mlw_order_cfg cfg;
    struct heap buf;                /* struct item, least key on top */
    size_t bytes;
    struct heap exp;                /* struct key of every remembered id */
    char (*ids)[SHOP_MLW_ID_MAX + 1];   /* "" is an empty slot */
    size_t ids_cap, ids_n;          /* cap a power of two, at most half full */
    struct offset_row *offs;
    size_t n_offs, cap_offs;
    int64_t clock;
    bool has_last;
    struct key last;
    uint8_t *held;                  /* the bytes of the last pop, until the next call */
};

static int key_cmp(const struct key *a, const struct key *b)
{
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    if (a->stream != b->stream)
        return a->stream < b->stream ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* ---- binary heap of fixed-size elements that start with a struct key ---------- */

#define HEAP_TMP_MAX sizeof(struct item)

static void *heap_at(const struct heap *h, size_t i)
{
    return h->v + i * h->esz;
}

static bool heap_less(const struct heap *h, size_t i, size_t j)
{
    return key_cmp(heap_at(h, i), heap_at(h, j)) < 0;
}

static void heap_swap(struct heap *h, size_t i, size_t j)
{
    uint8_t tmp[HEAP_TMP_MAX];
    memcpy(tmp, heap_at(h, i), h->esz);
    memcpy(heap_at(h, i), heap_at(h, j), h->esz);
    memcpy(heap_at(h, j), tmp, h->esz);
}

static void heap_push(struct heap *h, const void *e)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->v = shop_xrealloc(h->v, h->cap * h->esz);
    }
    memcpy(heap_at(h, h->n), e, h->esz);
    for (size_t i = h->n++; i > 0 && heap_less(h, i, (i - 1) / 2); i = (i - 1) / 2)
        heap_swap(h, i, (i - 1) / 2);
}

/* Removes the top into out (h->esz bytes). */
static void heap_pop(struct heap *h, void *out)
{
    assert(h->n > 0);
    memcpy(out, heap_at(h, 0), h->esz);
    if (--h->n == 0)
        return;
    memcpy(heap_at(h, 0), heap_at(h, h->n), h->esz);
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && heap_less(h, l, m))
            m = l;
        if (r < h->n && heap_less(h, r, m))
            m = r;
        if (m == i)
            break;
        heap_swap(h, i, m);
        i = m;
    }
}

/* ---- the set of remembered ids ---------------------------------------------------- */

static size_t id_home(const struct shop_mlw_order *o, const char *id)
{
    return (size_t)shop_siphash(1, 3, o->cfg.seed, id, strlen(id)) & (o->ids_cap - 1);
}

/* The slot holding id, or the empty slot where it would go. */
static size_t id_slot(const struct shop_mlw_order *o, const char *id)
{
    size_t i = id_home(o, id);
    while (o->ids[i][0] != '\0' && strcmp(o->ids[i], id) != 0)
        i = (i + 1) & (o->ids_cap - 1);
    return i;
}

static bool id_has(const struct shop_mlw_order *o, const char *id)
{
    return o->ids[id_slot(o, id)][0] != '\0';
}

static void id_grow(struct shop_mlw_order *o)
{
    char (*old)[SHOP_MLW_ID_MAX + 1] = o->ids;
    size_t old_cap = o->ids_cap;
    o->ids_cap = old_cap ? 2 * old_cap : 64;
    o->ids = shop_xcalloc(o->ids_cap, sizeof(*o->ids));
    for (size_t i = 0; i < old_cap; i++)
        if (old[i][0] != '\0')
            memcpy(o->ids[id_slot(o, old[i])], old[i], sizeof(*old));
    free(old);
}

/* Adds id unless present; false when it was. */
static bool id_add(struct shop_mlw_order *o, const char *id)
{
    if (2 * (o->ids_n + 1) > o->ids_cap)
        id_grow(o);
    size_t i = id_slot(o, id);
    if (o->ids[i][0] != '\0')
        return false;
    memcpy(o->ids[i], id, strlen(id) + 1);
    o->ids_n++;
    return true;
}

/* Linear probing's deletion by backward shift: no tombstones, so probe chains never rot. */
static void id_remove(struct shop_mlw_order *o, const char *id)
{
    size_t mask = o->ids_cap - 1, i = id_slot(o, id);
    assert(o->ids[i][0] != '\0');
    for (size_t j = (i + 1) & mask; o->ids[j][0] != '\0'; j = (j + 1) & mask) {
        size_t h = id_home(o, o->ids[j]);
        /* j's entry may move into the hole at i unless its home lies in (i, j]. */
        bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
        if (!stays) {
            memcpy(o->ids[i], o->ids[j], sizeof(*o->ids));
            i = j;
        }
    }
    o->ids[i][0] = '\0';
    o->ids_n--;
}

/* ---- the held offsets of a partition ------------------------------------------------- */

static int64_t held_val(int64_t v)
{
    return v < 0 ? -1 - v : v;
}

static void held_compact(struct held *h)
{
    size_t o = 0;
    for (size_t i = h->lo; i < h->n; i++)
        if (h->v[i] >= 0)
            h->v[o++] = h->v[i];
    h->lo = 0;
    h->n = o;
    h->dead = 0;
}

/* Appends off (order is restored by held_sort, or kept by held_add). */
static void held_append(struct held *h, int64_t off)
{
    if (h->n == h->cap && h->lo + h->dead >= h->cap / 2 && h->lo + h->dead > 0)
        held_compact(h);
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 16;
        h->v = shop_xrealloc(h->v, h->cap * sizeof(*h->v));
    }
    h->v[h->n++] = off;
}

/* First index in [lo, n) whose offset is > off (upper) or >= off (!upper). */
static size_t held_bound(const struct held *h, int64_t off, bool upper)
{
    size_t a = h->lo, b = h->n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        int64_t v = held_val(h->v[m]);
        if (upper ? v > off : v >= off)
            b = m;
        else
            a = m + 1;
    }
    return a;
}

static void held_add(struct held *h, int64_t off)
{
    held_append(h, off);
    if (h->n - 1 == h->lo || held_val(h->v[h->n - 2]) <= off)
        return;
    /* Behind the last one (a record consumed again): slot it in. */
    h->n--;
    size_t i = held_bound(h, off, true);
    memmove(&h->v[i + 1], &h->v[i], (h->n - i) * sizeof(*h->v));
    h->v[i] = off;
    h->n++;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void held_sort(struct held *h)
{
    if (h->n > h->lo)
        qsort(&h->v[h->lo], h->n - h->lo, sizeof(*h->v), cmp_i64);
}

static void held_remove(struct held *h, int64_t off)
{
    size_t i = held_bound(h, off, false);
    while (i < h->n && h->v[i] < 0 && held_val(h->v[i]) == off)
        i++;
    assert(i < h->n && h->v[i] == off);
    h->v[i] = -1 - off;
    h->dead++;
    while (h->lo < h->n && h->v[h->lo] < 0) {
        h->lo++;
        h->dead--;
    }
    if (h->lo == h->n)
        h->lo = h->n = 0;
    else if (h->dead > 64 && h->dead > h->n - h->lo - h->dead)
        held_compact(h);   /* dead ones behind a long-held entry: amortised O(1) */
}

/* ---- offsets ------------------------------------------------------------------------ */

static int row_cmp(int32_t s, int32_t p, const struct offset_row *r)
{
    if (s != r->stream)
        return s < r->stream ? -1 : 1;
    return p < r->partition ? -1 : p > r->partition;
}

/* Index of (stream, partition), or where it would be inserted; *found says which. */
static size_t row_find(const struct shop_mlw_order *o, int32_t s, int32_t p, bool *found)
{
    size_t lo = 0, hi = o->n_offs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = row_cmp(s, p, &o->offs[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

static void row_set(struct shop_mlw_order *o, int32_t s, int32_t p, int64_t next)
{
    bool found;
    size_t i = row_find(o, s, p, &found);
    if (!found) {
        if (o->n_offs == o->cap_offs) {
            o->cap_offs = o->cap_offs ? 2 * o->cap_offs : 16;
            o->offs = shop_xrealloc(o->offs, o->cap_offs * sizeof(*o->offs));
        }
        memmove(&o->offs[i + 1], &o->offs[i], (o->n_offs - i) * sizeof(*o->offs));
        o->n_offs++;
        o->offs[i] = (struct offset_row){s, p, 0, INT64_MIN, false, {0}};
    }
    o->offs[i].next = next;
}

/* The time an entry must be lateness behind to be due: the clock, or with hold_partitions
 * the least of it and every partition's newest event, idle ones apart. */
static int64_t due_clock(const struct shop_mlw_order *o)
{
    int64_t due = o->clock;
    for (size_t i = 0; o->cfg.hold_partitions && i < o->n_offs; i++)
        if (!o->offs[i].idle && o->offs[i].max_at < due)
            due = o->offs[i].max_at;
    return due;
}

int64_t shop_mlw_order_due(const struct shop_mlw_order *o)
{
    return due_clock(o);
}

void shop_mlw_order_set_idle(struct shop_mlw_order *o, enum shop_stream stream, int32_t partition, bool idle)
{
    bool found;
    size_t i = row_find(o, (int32_t)stream, partition, &found);
    if (found)
        o->offs[i].idle = idle;
}

/* ---- the buffer ---------------------------------------------------------------------- */

int shop_mlw_order_new(const struct shop_mlw_order_cfg *cfg, struct shop_mlw_order **out, struct shop_err *err)
{
    if (cfg->lateness_ms < 0)
        return shop_err_set(err, SHOP_EINVAL, "lateness_ms must not be negative");
    if (cfg->dedup_window_ms < 0)
        return shop_err_set(err, SHOP_EINVAL, "dedup_window_ms must not be negative");
    struct shop_mlw_order *o = shop_xcalloc(1, sizeof(*o));
    o->cfg = *cfg;
    o->buf.esz = sizeof(struct item);
    o->exp.esz = sizeof(struct key);
    id_grow(o);
    *out = o;
    return 0;
}

static void release_held(struct shop_mlw_order *o)
{
    free(o->held);
    o->held = NULL;
}

/* Frees what o owns, leaving cfg. */
static void order_fini(struct shop_mlw_order *o)
{
    for (size_t i = 0; i < o->buf.n; i++)
        free(((struct item *)heap_at(&o->buf, i))->bytes);
    free(o->buf.v);
    free(o->exp.v);
    free(o->ids);
    for (size_t i = 0; i < o->n_offs; i++)
        free(o->offs[i].held.v);
    free(o->offs);
    free(o->held);
}

void shop_mlw_order_free(struct shop_mlw_order *o)
{
    if (o == NULL)
        return;
    order_fini(o);
    free(o);
}

/* Forgets the ids the window lets go: behind the last pop (so not buffered) and more
 * than dedup_window_ms behind the clock. Both hold for a prefix of the key order. */
static void expire(struct shop_mlw_order *o)
{
    int64_t horizon = o->clock - o->cfg.dedup_window_ms;
    while (o->has_last && o->exp.n > 0) {
        const struct key *k = heap_at(&o->exp, 0);
        if (k->t >= horizon || key_cmp(k, &o->last) > 0)
            break;
        struct key gone;
        heap_pop(&o->exp, &gone);
        id_remove(o, gone.id);
    }
}

enum shop_mlw_order_push shop_mlw_order_push(struct shop_mlw_order *o, const struct shop_mlw_entry *e)
{
    const char *nul = memchr(e->id, '\0', sizeof(e->id));
    size_t id_len = nul ? (size_t)(nul - e->id) : sizeof(e->id);
    assert((unsigned)e->stream < SHOP_STREAM_COUNT && e->partition >= 0);
    assert(e->offset >= 0 && e->offset < INT64_MAX && id_len >= 1 && id_len <= SHOP_MLW_ID_MAX);
    (void)id_len;
    release_held(o);
    row_set(o, (int32_t)e->stream, e->partition, e->offset + 1);
    bool found;
    struct offset_row *row = &o->offs[row_find(o, (int32_t)e->stream, e->partition, &found)];
    row->idle = false;   /* records flow on it: its newest event holds the others back */
    if (e->occurred_at_ms > row->max_at)
        row->max_at = e->occurred_at_ms;
    if (id_has(o, e->id))
        return SHOP_MLW_ORDER_DUPLICATE;
    if (e->occurred_at_ms > o->clock)
        o->clock = e->occurred_at_ms;
    struct key k = {.t = e->occurred_at_ms, .stream = (int32_t)e->stream};
    memcpy(k.id, e->id, id_len + 1);
    bool late = o->has_last && key_cmp(&k, &o->last) <= 0;
    id_add(o, k.id);
    heap_push(&o->exp, &k);
    if (!late) {
        struct item it = {.k = k, .partition = e->partition, .offset = e->offset, .len = e->len};
        if (e->len > 0) {
            it.bytes = shop_xmalloc(e->len);
            memcpy(it.bytes, e->bytes, e->len);
        }
        heap_push(&o->buf, &it);
        o->bytes += e->len;
        if (e->len > 0)
            held_add(&row->held, e->offset);
    }
    expire(o);
    return late ? SHOP_MLW_ORDER_LATE : SHOP_MLW_ORDER_BUFFERED;
}

bool shop_mlw_order_pop(struct shop_mlw_order *o, bool flush, int64_t limit_ms, struct shop_mlw_entry *out)
{
    release_held(o);
    if (o->buf.n == 0)
        return false;
    const struct item *top = heap_at(&o->buf, 0);
    int64_t due = due_clock(o);
    /* due - lateness, saturating: a partition with nothing pushed yet holds everything. */
    bool not_due = due < INT64_MIN + o->cfg.lateness_ms || top->k.t > due - o->cfg.lateness_ms;
    if (top->k.t >= limit_ms || (!flush && not_due))
        return false;
    struct item it;
    heap_pop(&o->buf, &it);
    o->bytes -= it.len;
    if (it.len > 0) {
        bool found;
        size_t r = row_find(o, it.k.stream, it.partition, &found);
        assert(found);
        held_remove(&o->offs[r].held, it.offset);
    }
    o->held = it.bytes;
    o->last = it.k;
    o->has_last = true;
    expire(o);
    *out = (struct shop_mlw_entry){.stream = (enum shop_stream)it.k.stream, .partition = it.partition,
                                   .offset = it.offset, .occurred_at_ms = it.k.t, .bytes = it.bytes,
                                   .len = it.len};
    memcpy(out->id, it.k.id, sizeof(out->id));
    return true;
}

size_t shop_mlw_order_buffered(const struct shop_mlw_order *o)
{
    return o->buf.n;
}

size_t shop_mlw_order_bytes(const struct shop_mlw_order *o)
{
    return o->bytes;
}

size_t shop_mlw_order_remembered(const struct shop_mlw_order *o)
{
    return o->ids_n;
}

int64_t shop_mlw_order_clock(const struct shop_mlw_order *o)
{
    return o->clock;
}

bool shop_mlw_order_last(const struct shop_mlw_order *o, int64_t *occurred_at_ms, enum shop_stream *stream,
                         char *id)
{
    if (!o->has_last)
        return false;
    *occurred_at_ms = o->last.t;
    *stream = (enum shop_stream)o->last.stream;
    if (id != NULL)
        memcpy(id, o->last.id, sizeof(o->last.id));
    return true;
}

int shop_mlw_order_offset(const struct shop_mlw_order *o, enum shop_stream stream, int32_t partition,
                          int64_t *next)
{
    bool found;
    size_t i = row_find(o, (int32_t)stream, partition, &found);
    if (!found)
        return SHOP_ENOTFOUND;
    *next = o->offs[i].next;
    return 0;
}

bool shop_mlw_order_held(const struct shop_mlw_order *o, enum shop_stream stream, int32_t partition, int64_t *offset)
{
    bool found;
    size_t i = row_find(o, (int32_t)stream, partition, &found);
    if (!found || o->offs[i].held.lo == o->offs[i].held.n)
        return false;
    *offset = o->offs[i].held.v[o->offs[i].held.lo];
    return true;
}

void shop_mlw_order_offsets(const struct shop_mlw_order *o,
                            void (*cb)(void *ctx, enum shop_stream stream, int32_t partition, int64_t next),
                            void *ctx)
{
    for (size_t i = 0; i < o->n_offs; i++)
        cb(ctx, (enum shop_stream)o->offs[i].stream, o->offs[i].partition, o->offs[i].next);
}

/* ---- the record ------------------------------------------------------------------------
 * i64 clock | u8 has_last [key] | u64 n, n x (u8 stream, u32 partition, i64 next)
 * | u64 n, n x key (remembered, at or behind the last pop)
 * | u64 n, n x (key, u32 partition, i64 offset, u64 len, len bytes) (buffered)
 * key = i64 occurred_at | u8 stream | u8 id length | id. Every list strictly increasing. */

#define KEY_MIN_SIZE 11u
#define ITEM_MIN_SIZE (KEY_MIN_SIZE + 20u)
#define ROW_SIZE 13u

static void put_key(struct shop_ml_writer *w, const struct key *k)
{
    size_t n = strlen(k->id);
    shop_ml_put_i64(w, k->t);
    shop_ml_put_u8(w, (uint8_t)k->stream);
    shop_ml_put_u8(w, (uint8_t)n);
    shop_ml_put_bytes(w, k->id, n);
}

static int cmp_key_ptr(const void *a, const void *b)
{
    return key_cmp(*(const struct key *const *)a, *(const struct key *const *)b);
}

/* Pointers to the heap's elements that pass keep (NULL: all), sorted by key; caller frees. */
static const struct key **sorted(const struct heap *h, const struct key *at_most, size_t *n)
{
    const struct key **v = shop_xmalloc((h->n + 1) * sizeof(*v));
    *n = 0;
    for (size_t i = 0; i < h->n; i++) {
        const struct key *k = heap_at(h, i);
        if (at_most == NULL || key_cmp(k, at_most) <= 0)
            v[(*n)++] = k;
    }
    qsort(v, *n, sizeof(*v), cmp_key_ptr);
    return v;
}

void shop_mlw_order_encode(const struct shop_mlw_order *o, struct shop_ml_writer *w)
{
    shop_ml_writer_begin(w, "MLWO");
    shop_ml_put_i64(w, o->clock);
    shop_ml_put_u8(w, o->has_last);
    if (o->has_last)
        put_key(w, &o->last);
    shop_ml_put_u64(w, o->n_offs);
    for (size_t i = 0; i < o->n_offs; i++) {
        shop_ml_put_u8(w, (uint8_t)o->offs[i].stream);
        shop_ml_put_u32(w, (uint32_t)o->offs[i].partition);
        shop_ml_put_i64(w, o->offs[i].next);
    }
    size_t n = 0;
    const struct key **v = o->has_last ? sorted(&o->exp, &o->last, &n) : NULL;
    shop_ml_put_u64(w, n);
    for (size_t i = 0; i < n; i++)
        put_key(w, v[i]);
    free(v);
    v = sorted(&o->buf, NULL, &n);
    shop_ml_put_u64(w, n);
    for (size_t i = 0; i < n; i++) {
        const struct item *it = (const struct item *)v[i];
        put_key(w, &it->k);
        shop_ml_put_u32(w, (uint32_t)it->partition);
        shop_ml_put_i64(w, it->offset);
        shop_ml_put_u64(w, it->len);
        shop_ml_put_bytes(w, it->bytes, it->len);
    }
    free(v);
    shop_ml_writer_end(w);
}

static size_t remaining(const struct shop_ml_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* A key no later than the clock, with a valid stream and a non-empty id without NULs. */
static int get_key(struct shop_ml_reader *r, int64_t clock, struct key *k)
{
    uint8_t stream, n;
    memset(k, 0, sizeof(*k));
    if (shop_ml_get_i64(r, &k->t) != 0 || shop_ml_get_u8(r, &stream) != 0 || shop_ml_get_u8(r, &n) != 0 ||
        stream >= SHOP_STREAM_COUNT || n < 1 || n > SHOP_MLW_ID_MAX || shop_ml_get_bytes(r, k->id, n) != 0)
        return SHOP_EBADMSG;
    k->stream = stream;
    return strlen(k->id) == n && k->t <= clock ? 0 : SHOP_EBADMSG;
}

static int get_offsets(struct shop_ml_reader *r, struct shop_mlw_order *o)
{
    size_t n;
    if (shop_ml_get_count(r, remaining(r) / ROW_SIZE, &n) != 0)
        return SHOP_EBADMSG;
    for (size_t i = 0; i < n; i++) {
        uint8_t stream;
        uint32_t partition;
        int64_t next;
        if (shop_ml_get_u8(r, &stream) != 0 || shop_ml_get_u32(r, &partition) != 0 ||
            shop_ml_get_i64(r, &next) != 0 || stream >= SHOP_STREAM_COUNT || partition > INT32_MAX || next < 1)
            return SHOP_EBADMSG;
        if (i > 0 && row_cmp(stream, (int32_t)partition, &o->offs[i - 1]) <= 0)
            return SHOP_EBADMSG;
        row_set(o, stream, (int32_t)partition, next);
    }
    return 0;
}

/* The ids remembered behind the last pop: increasing, at or behind it, unique. */
static int get_past(struct shop_ml_reader *r, struct shop_mlw_order *o)
{
    size_t n;
    struct key prev = {0}, k;
    if (shop_ml_get_count(r, remaining(r) / KEY_MIN_SIZE, &n) != 0 || (n > 0 && !o->has_last))
        return SHOP_EBADMSG;
    for (size_t i = 0; i < n; i++) {
        if (get_key(r, o->clock, &k) != 0 || (i > 0 && key_cmp(&prev, &k) >= 0) ||
            key_cmp(&k, &o->last) > 0 || !id_add(o, k.id))
            return SHOP_EBADMSG;
        heap_push(&o->exp, &k);
        prev = k;
    }
    return 0;
}

/* The buffered entries: increasing, ahead of the last pop, ids unique among all
 * remembered, each from a partition the offsets know. */
static int get_buffered(struct shop_ml_reader *r, struct shop_mlw_order *o)
{
    size_t n;
    struct key prev = {0};
    if (shop_ml_get_count(r, remaining(r) / ITEM_MIN_SIZE, &n) != 0)
        return SHOP_EBADMSG;
    for (size_t i = 0; i < n; i++) {
        struct item it = {0};
        uint32_t partition;
        uint64_t len;
        bool found;
        if (get_key(r, o->clock, &it.k) != 0 || shop_ml_get_u32(r, &partition) != 0 ||
            shop_ml_get_i64(r, &it.offset) != 0 || shop_ml_get_u64(r, &len) != 0 || partition > INT32_MAX ||
            it.offset < 0 || len > remaining(r))
            return SHOP_EBADMSG;
        it.partition = (int32_t)partition;
        it.len = (size_t)len;
        size_t row = row_find(o, it.k.stream, it.partition, &found);
        if (!found || (i > 0 && key_cmp(&prev, &it.k) >= 0) || (o->has_last && key_cmp(&it.k, &o->last) <= 0) ||
            !id_add(o, it.k.id))
            return SHOP_EBADMSG;
        if (it.len > 0) {
            it.bytes = shop_xmalloc(it.len);
            (void)shop_ml_get_bytes(r, it.bytes, it.len);
        }
        heap_push(&o->exp, &it.k);
        heap_push(&o->buf, &it);
        o->bytes += it.len;
        if (it.len > 0)
            held_append(&o->offs[row].held, it.offset);   /* sorted below: the list is in key order */
        prev = it.k;
    }
    for (size_t i = 0; i < o->n_offs; i++)
        held_sort(&o->offs[i].held);
    return 0;
}

static int order_read(struct shop_ml_reader *r, struct shop_mlw_order *o)
{
    uint8_t has_last;
    if (shop_ml_get_i64(r, &o->clock) != 0 || o->clock < 0 || shop_ml_get_u8(r, &has_last) != 0 || has_last > 1)
        return SHOP_EBADMSG;
    o->has_last = has_last;
    if (has_last && get_key(r, o->clock, &o->last) != 0)
        return SHOP_EBADMSG;
    if (get_offsets(r, o) != 0 || get_past(r, o) != 0 || get_buffered(r, o) != 0)
        return SHOP_EBADMSG;
    return 0;
}

int shop_mlw_order_decode(struct shop_mlw_order *o, const uint8_t *buf, size_t len, size_t *used,
                          struct shop_err *err)
{
    struct shop_ml_reader r;
    int rc = shop_ml_reader_open(&r, buf, len, "MLWO", used, err);
    if (rc != 0)
        return rc;
    struct shop_mlw_order *fresh;
    rc = shop_mlw_order_new(&o->cfg, &fresh, err);
    assert(rc == 0);
    if (order_read(&r, fresh) != 0 || shop_ml_reader_close(&r, err) != 0) {
        shop_mlw_order_free(fresh);
        return shop_err_set(err, SHOP_EBADMSG, "reorder buffer record: inconsistent payload");
    }
    order_fini(o);
    *o = *fresh;
    free(fresh);
    expire(o);
    return 0;
}
