/* SPDX-License-Identifier: MIT
 * workers/core/mlw_order.c: the ML core's reorder buffer. One total order whatever the
 * interleaving (a property over many seeds, with ties in occurred_at), lateness, the
 * swap limit, the dedup window, late entries, offsets, the lowest offset still held (a
 * scan of the buffer as the reference), and the record: round trip, canonical bytes,
 * rejection without touching the target, and a checkpoint mid-stream.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_rand.h"
#include "workers/core/mlw_order.h"

static struct shop_mlw_order *order_new(int64_t lateness_ms, int64_t window_ms)
{
    struct shop_mlw_order_cfg cfg = {.lateness_ms = lateness_ms, .dedup_window_ms = window_ms, .seed = {3, 4}};
    struct shop_mlw_order *o = NULL;
    cr_assert_eq(shop_mlw_order_new(&cfg, &o, NULL), 0);
    return o;
}

static struct shop_mlw_entry entry(enum shop_stream stream, int32_t partition, int64_t offset, int64_t t,
                                   const char *id)
{
    struct shop_mlw_entry e = {.stream = stream, .partition = partition, .offset = offset, .occurred_at_ms = t};
    snprintf(e.id, sizeof(e.id), "%s", id);
    e.len = strlen(e.id);   /* the payload is the id itself (bytes set by the caller): checked on pop */
    return e;
}

static enum shop_mlw_order_push push(struct shop_mlw_order *o, enum shop_stream stream, int32_t partition,
                                     int64_t offset, int64_t t, const char *id)
{
    struct shop_mlw_entry e = entry(stream, partition, offset, t, id);
    e.bytes = (const uint8_t *)e.id;
    return shop_mlw_order_push(o, &e);
}

/* The id popped next, or "" when nothing may be popped. */
static const char *pop(struct shop_mlw_order *o, bool flush, int64_t limit_ms)
{
    static char id[SHOP_MLW_ID_MAX + 1];
    struct shop_mlw_entry e;
    if (!shop_mlw_order_pop(o, flush, limit_ms, &e))
        return "";
    cr_assert_eq(e.len, strlen(e.id));
    cr_assert(memcmp(e.bytes, e.id, e.len) == 0, "the bytes travel with their entry");
    memcpy(id, e.id, sizeof(id));
    return id;
}

static uint8_t *encode(const struct shop_mlw_order *o, size_t *len)
{
    struct shop_ml_writer w;
    shop_ml_writer_init(&w);
    shop_mlw_order_encode(o, &w);
    return shop_ml_writer_take(&w, len);
}

static void assert_encodes_as(const struct shop_mlw_order *o, const uint8_t *bytes, size_t len)
{
    size_t n;
    uint8_t *b = encode(o, &n);
    cr_assert(n == len && memcmp(b, bytes, len) == 0, "the record differs");
    free(b);
}

/* ---- small cases --------------------------------------------------------------------- */

Test(mlw_order, lateness_holds_entries_until_the_clock_passes_them)
{
    struct shop_mlw_order *o = order_new(100, 1000);
    cr_assert_eq(shop_mlw_order_clock(o), 0);
    cr_assert_eq(push(o, SHOP_STREAM_BROWSE, 0, 0, 1000, "a"), SHOP_MLW_ORDER_BUFFERED);
    cr_assert_str_eq(pop(o, false, INT64_MAX), "");
    cr_assert_eq(push(o, SHOP_STREAM_BROWSE, 0, 1, 1099, "b"), SHOP_MLW_ORDER_BUFFERED);
    cr_assert_str_eq(pop(o, false, INT64_MAX), "", "1000 is not due at clock 1099");
    cr_assert_eq(push(o, SHOP_STREAM_BROWSE, 0, 2, 1100, "c"), SHOP_MLW_ORDER_BUFFERED);
    cr_assert_eq(shop_mlw_order_clock(o), 1100);
    cr_assert_str_eq(pop(o, false, INT64_MAX), "a", "due exactly at clock - lateness");
    cr_assert_str_eq(pop(o, false, INT64_MAX), "");
    cr_assert_eq(shop_mlw_order_buffered(o), 2);
    cr_assert_eq(shop_mlw_order_bytes(o), 2);
    cr_assert_str_eq(pop(o, true, INT64_MAX), "b");
    cr_assert_str_eq(pop(o, true, INT64_MAX), "c");
    cr_assert_str_eq(pop(o, true, INT64_MAX), "");
    cr_assert_eq(shop_mlw_order_buffered(o), 0);
    cr_assert_eq(shop_mlw_order_bytes(o), 0);
    shop_mlw_order_free(o);
}

/* With hold_partitions a partition consumed ahead in event time waits for the others:
 * the kill -9 test's restarts had one partition fetched weeks ahead of the others, whose
 * records then came late. */
Test(mlw_order, a_partition_ahead_waits_for_the_others_unless_they_are_idle)
{
    struct shop_mlw_order_cfg cfg = {.lateness_ms = 10, .dedup_window_ms = 1000, .seed = {3, 4},
                                     .hold_partitions = true};
    struct shop_mlw_order *o = NULL;
    cr_assert_eq(shop_mlw_order_new(&cfg, &o, NULL), 0);
    push(o, SHOP_STREAM_BROWSE, 0, 0, 100, "b0");
    push(o, SHOP_STREAM_INVENTORY, 0, 0, 100, "i0");
    for (int k = 1; k <= 5; k++) {   /* the inventory runs 500 ahead */
        char id[8];
        snprintf(id, sizeof(id), "i%d", k);
        push(o, SHOP_STREAM_INVENTORY, 0, k, 100 + 100 * k, id);
    }
    cr_assert_eq(shop_mlw_order_clock(o), 600);
    cr_assert_eq(shop_mlw_order_due(o), 100, "browse has pushed nothing after 100");
    cr_assert_str_eq(pop(o, false, INT64_MAX), "", "nothing is 10 behind what browse has reached");
    push(o, SHOP_STREAM_BROWSE, 0, 1, 150, "b1");   /* browse's next record: older than the inventory's */
    cr_assert_str_eq(pop(o, false, INT64_MAX), "b0");
    cr_assert_str_eq(pop(o, false, INT64_MAX), "i0");
    cr_assert_str_eq(pop(o, false, INT64_MAX), "", "b1 is not due yet: browse is at 150");
    shop_mlw_order_set_idle(o, SHOP_STREAM_BROWSE, 0, true);   /* browse reached its end */
    cr_assert_eq(shop_mlw_order_due(o), 600);
    const char *want[] = {"b1", "i1", "i2", "i3", "i4"};
    for (size_t i = 0; i < 5; i++)
        cr_assert_str_eq(pop(o, false, INT64_MAX), want[i]);
    cr_assert_str_eq(pop(o, false, INT64_MAX), "", "i5 is the clock itself");
    push(o, SHOP_STREAM_BROWSE, 0, 2, 700, "b2");   /* records again: browse holds again */
    cr_assert_eq(shop_mlw_order_due(o), 600);
    shop_mlw_order_free(o);

    /* After a decode no partition has pushed since start: every one seen holds. */
    o = NULL;
    cr_assert_eq(shop_mlw_order_new(&cfg, &o, NULL), 0);
    push(o, SHOP_STREAM_BROWSE, 0, 0, 100, "b0");
    push(o, SHOP_STREAM_CART, 0, 0, 500, "c0");
    size_t len;
    uint8_t *rec = encode(o, &len);
    struct shop_mlw_order *r = NULL;
    cr_assert_eq(shop_mlw_order_new(&cfg, &r, NULL), 0);
    cr_assert_eq(shop_mlw_order_decode(r, rec, len, NULL, NULL), 0);
    cr_assert_eq(shop_mlw_order_due(r), INT64_MIN, "a partition not pushed since the restore holds everything");
    cr_assert_str_eq(pop(r, false, INT64_MAX), "");
    push(r, SHOP_STREAM_CART, 0, 1, 600, "c1");
    cr_assert_str_eq(pop(r, false, INT64_MAX), "", "browse still holds");
    push(r, SHOP_STREAM_BROWSE, 0, 1, 600, "b1");
    cr_assert_str_eq(pop(r, false, INT64_MAX), "b0");
    cr_assert_str_eq(pop(r, false, INT64_MAX), "c0");
    free(rec);
    shop_mlw_order_free(r);
    shop_mlw_order_free(o);
}

Test(mlw_order, ties_in_time_pop_by_stream_then_id)
{
    struct shop_mlw_order *o = order_new(0, 1000);
    push(o, SHOP_STREAM_INVENTORY, 0, 0, 5, "b");
    push(o, SHOP_STREAM_CART, 0, 0, 5, "z");
    push(o, SHOP_STREAM_CART, 1, 0, 5, "a");
    push(o, SHOP_STREAM_BROWSE, 0, 0, 6, "0");
    push(o, SHOP_STREAM_BROWSE, 1, 0, 5, "y");
    const char *want[] = {"y", "a", "z", "b", "0"};
    for (size_t i = 0; i < 5; i++)
        cr_assert_str_eq(pop(o, true, INT64_MAX), want[i]);
    int64_t t;
    enum shop_stream s;
    char id[SHOP_MLW_ID_MAX + 1];
    cr_assert(shop_mlw_order_last(o, &t, &s, id));
    cr_assert(t == 6 && s == SHOP_STREAM_BROWSE && strcmp(id, "0") == 0);
    shop_mlw_order_free(o);
}

Test(mlw_order, limit_stops_before_the_swap_point_even_when_flushing)
{
    struct shop_mlw_order *o = order_new(0, 1000);
    push(o, SHOP_STREAM_BROWSE, 0, 0, 10, "a");
    push(o, SHOP_STREAM_BROWSE, 0, 1, 20, "b");
    push(o, SHOP_STREAM_BROWSE, 0, 2, 30, "c");
    cr_assert_str_eq(pop(o, true, 20), "a");
    cr_assert_str_eq(pop(o, true, 20), "", "occurred_at == limit is not popped");
    cr_assert_str_eq(pop(o, false, 21), "b");
    cr_assert_str_eq(pop(o, false, INT64_MAX), "c");
    shop_mlw_order_free(o);
}

Test(mlw_order, duplicates_inside_the_window_and_forgotten_after_it)
{
    struct shop_mlw_order *o = order_new(10, 500);
    cr_assert_eq(push(o, SHOP_STREAM_CART, 0, 0, 0, "a"), SHOP_MLW_ORDER_BUFFERED);
    cr_assert_eq(push(o, SHOP_STREAM_CART, 0, 1, 0, "a"), SHOP_MLW_ORDER_DUPLICATE);
    cr_assert_eq(push(o, SHOP_STREAM_BROWSE, 0, 0, 0, "a"), SHOP_MLW_ORDER_DUPLICATE, "the id alone decides");
    cr_assert_eq(shop_mlw_order_buffered(o), 1);
    cr_assert_eq(push(o, SHOP_STREAM_CART, 0, 2, 400, "b"), SHOP_MLW_ORDER_BUFFERED);
    cr_assert_eq(push(o, SHOP_STREAM_CART, 0, 3, 9000, "b"), SHOP_MLW_ORDER_DUPLICATE);
    cr_assert_eq(shop_mlw_order_clock(o), 400, "a duplicate does not move the clock");
    cr_assert_str_eq(pop(o, false, INT64_MAX), "a");
    cr_assert_eq(push(o, SHOP_STREAM_CART, 0, 4, 0, "a"), SHOP_MLW_ORDER_DUPLICATE, "popped, still in the window");
    cr_assert_eq(shop_mlw_order_remembered(o), 2);
    cr_assert_eq(push(o, SHOP_STREAM_CART, 0, 5, 500, "c"), SHOP_MLW_ORDER_BUFFERED);
    cr_assert_eq(shop_mlw_order_remembered(o), 3, "clock 500 is not more than 500 past 0");
    cr_assert_eq(push(o, SHOP_STREAM_CART, 0, 6, 501, "d"), SHOP_MLW_ORDER_BUFFERED);
    cr_assert_eq(shop_mlw_order_remembered(o), 3, "a is forgotten");
    cr_assert_eq(push(o, SHOP_STREAM_CART, 0, 7, 0, "a"), SHOP_MLW_ORDER_LATE, "forgotten, so late, not a duplicate");
    cr_assert_eq(shop_mlw_order_remembered(o), 3, "and forgotten at once: already out of the window");
    shop_mlw_order_free(o);
}

Test(mlw_order, a_buffered_id_is_never_forgotten)
{
    struct shop_mlw_order *o = order_new(0, 10);
    push(o, SHOP_STREAM_BROWSE, 0, 0, 0, "x");
    push(o, SHOP_STREAM_BROWSE, 0, 1, 1000, "y");
    /* x is due and out of the window, but the caller has not popped it (a swap point) */
    cr_assert_eq(push(o, SHOP_STREAM_BROWSE, 0, 2, 0, "x"), SHOP_MLW_ORDER_DUPLICATE);
    cr_assert_eq(shop_mlw_order_buffered(o), 2);
    cr_assert_str_eq(pop(o, false, INT64_MAX), "x");
    cr_assert_eq(push(o, SHOP_STREAM_BROWSE, 0, 3, 5000, "z"), SHOP_MLW_ORDER_BUFFERED);
    cr_assert_eq(shop_mlw_order_remembered(o), 2, "x goes once popped");
    shop_mlw_order_free(o);
}

Test(mlw_order, entries_behind_the_last_pop_are_late)
{
    struct shop_mlw_order *o = order_new(0, 1000);
    cr_assert_eq(push(o, SHOP_STREAM_CART, 0, 0, 10, "m"), SHOP_MLW_ORDER_BUFFERED);
    cr_assert_str_eq(pop(o, false, INT64_MAX), "m");
    cr_assert_eq(push(o, SHOP_STREAM_CART, 1, 0, 5, "n"), SHOP_MLW_ORDER_LATE);
    cr_assert_eq(push(o, SHOP_STREAM_CART, 1, 1, 10, "a"), SHOP_MLW_ORDER_LATE, "same time and stream, smaller id");
    cr_assert_eq(push(o, SHOP_STREAM_BROWSE, 0, 0, 10, "z"), SHOP_MLW_ORDER_LATE, "same time, earlier stream");
    cr_assert_eq(push(o, SHOP_STREAM_CART, 1, 2, 10, "n2"), SHOP_MLW_ORDER_BUFFERED, "same time, larger id");
    cr_assert_eq(push(o, SHOP_STREAM_INVENTORY, 0, 0, 10, "0"), SHOP_MLW_ORDER_BUFFERED, "later stream");
    cr_assert_eq(shop_mlw_order_buffered(o), 2, "late entries are not held");
    cr_assert_eq(push(o, SHOP_STREAM_CART, 1, 3, 5, "n"), SHOP_MLW_ORDER_DUPLICATE, "a late id is remembered");
    cr_assert_eq(shop_mlw_order_clock(o), 10);
    cr_assert_str_eq(pop(o, false, INT64_MAX), "n2");
    cr_assert_str_eq(pop(o, false, INT64_MAX), "0");
    shop_mlw_order_free(o);
}

struct seen {
    int n;
    enum shop_stream s[8];
    int32_t p[8];
    int64_t next[8];
};

static void on_offset(void *ctx, enum shop_stream stream, int32_t partition, int64_t next)
{
    struct seen *v = ctx;
    v->s[v->n] = stream;
    v->p[v->n] = partition;
    v->next[v->n++] = next;
}

Test(mlw_order, offsets_for_every_push_in_partition_order)
{
    struct shop_mlw_order *o = order_new(0, 1000);
    int64_t next;
    cr_assert_eq(shop_mlw_order_offset(o, SHOP_STREAM_CART, 0, &next), SHOP_ENOTFOUND);
    push(o, SHOP_STREAM_INVENTORY, 2, 40, 10, "a");
    push(o, SHOP_STREAM_CART, 1, 7, 20, "b");
    push(o, SHOP_STREAM_CART, 1, 8, 20, "b");            /* duplicate */
    pop(o, false, INT64_MAX);
    pop(o, false, INT64_MAX);
    push(o, SHOP_STREAM_CART, 0, 3, 1, "c");             /* late */
    push(o, SHOP_STREAM_INVENTORY, 0, 0, 30, "d");
    cr_assert_eq(shop_mlw_order_offset(o, SHOP_STREAM_CART, 1, &next), 0);
    cr_assert_eq(next, 9, "the duplicate's offset counts");
    cr_assert_eq(shop_mlw_order_offset(o, SHOP_STREAM_CART, 0, &next), 0);
    cr_assert_eq(next, 4, "the late entry's offset counts");
    cr_assert_eq(shop_mlw_order_offset(o, SHOP_STREAM_BROWSE, 0, &next), SHOP_ENOTFOUND);
    struct seen v = {0};
    shop_mlw_order_offsets(o, on_offset, &v);
    cr_assert_eq(v.n, 4);
    enum shop_stream s[] = {SHOP_STREAM_CART, SHOP_STREAM_CART, SHOP_STREAM_INVENTORY, SHOP_STREAM_INVENTORY};
    int32_t p[] = {0, 1, 0, 2};
    int64_t n[] = {4, 9, 1, 41};
    for (int i = 0; i < 4; i++)
        cr_assert(v.s[i] == s[i] && v.p[i] == p[i] && v.next[i] == n[i], "row %d", i);
    shop_mlw_order_free(o);
}

/* The lowest offset still held, per partition: what consumer_offsets may say was applied. */
static int64_t held(const struct shop_mlw_order *o, enum shop_stream stream, int32_t partition)
{
    int64_t off;
    return shop_mlw_order_held(o, stream, partition, &off) ? off : -1;
}

Test(mlw_order, held_is_the_lowest_offset_still_buffered)
{
    struct shop_mlw_order *o = order_new(100, 1000);
    cr_assert_eq(held(o, SHOP_STREAM_BROWSE, 0), -1, "a partition never pushed holds nothing");
    push(o, SHOP_STREAM_BROWSE, 0, 0, 1000, "a");
    cr_assert_eq(held(o, SHOP_STREAM_BROWSE, 0), 0);
    push(o, SHOP_STREAM_BROWSE, 0, 1, 900, "b");
    push(o, SHOP_STREAM_BROWSE, 0, 2, 1000, "a");        /* duplicate: dropped, holds nothing */
    struct shop_mlw_entry empty = entry(SHOP_STREAM_BROWSE, 1, 5, 950, "e");
    empty.len = 0;                                      /* a non-input: nothing to apply */
    cr_assert_eq(shop_mlw_order_push(o, &empty), SHOP_MLW_ORDER_BUFFERED);
    cr_assert_eq(held(o, SHOP_STREAM_BROWSE, 1), -1, "an empty entry holds nothing");
    push(o, SHOP_STREAM_BROWSE, 0, 3, 1200, "c");
    cr_assert_eq(held(o, SHOP_STREAM_BROWSE, 0), 0);
    cr_assert_str_eq(pop(o, false, INT64_MAX), "b");
    cr_assert_eq(held(o, SHOP_STREAM_BROWSE, 0), 0, "offset 1 was applied, offset 0 is still held");
    struct shop_mlw_entry out;
    cr_assert(shop_mlw_order_pop(o, false, INT64_MAX, &out) && strcmp(out.id, "e") == 0 && out.len == 0);
    cr_assert_str_eq(pop(o, false, INT64_MAX), "a");
    cr_assert_eq(held(o, SHOP_STREAM_BROWSE, 0), 3, "0..2 applied or dropped");
    cr_assert_eq(push(o, SHOP_STREAM_BROWSE, 0, 4, 500, "d"), SHOP_MLW_ORDER_LATE);
    cr_assert_eq(held(o, SHOP_STREAM_BROWSE, 0), 3, "a late entry is applied at once");
    size_t len;
    uint8_t *rec = encode(o, &len);
    struct shop_mlw_order *back = order_new(100, 1000);
    cr_assert_eq(shop_mlw_order_decode(back, rec, len, NULL, NULL), 0);
    cr_assert_eq(held(back, SHOP_STREAM_BROWSE, 0), 3, "the record's buffered entries hold again");
    cr_assert_str_eq(pop(o, true, INT64_MAX), "c");
    cr_assert_eq(held(o, SHOP_STREAM_BROWSE, 0), -1);
    int64_t next;
    cr_assert_eq(shop_mlw_order_offset(o, SHOP_STREAM_BROWSE, 0, &next), 0);
    cr_assert_eq(next, 5, "the offsets go on past what is held");
    free(rec);
    shop_mlw_order_free(back);
    shop_mlw_order_free(o);
}

/* Against a scan of what is buffered: pops far out of offset order (one entry per 50 is far
 * ahead in time, so thousands pop behind it), re-deliveries of older offsets under new ids,
 * empty entries, late ones, and a record round trip now and then. */
#define HS_PARTS 3
#define HS_OPS 20000

struct hs_rec {
    int32_t partition;
    int64_t offset;
    bool buffered;
};

static void hs_check(const struct shop_mlw_order *o, const struct hs_rec *r, int n, int op)
{
    for (int32_t p = 0; p < HS_PARTS; p++) {
        int64_t want = -1;
        for (int i = 0; i < n; i++)
            if (r[i].buffered && r[i].partition == p && (want < 0 || r[i].offset < want))
                want = r[i].offset;
        cr_assert_eq(held(o, SHOP_STREAM_CART, p), want, "partition %d after op %d", (int)p, op);
    }
}

Test(mlw_order, held_matches_a_scan_of_the_buffer)
{
    static struct hs_rec r[HS_OPS];
    struct shop_ml_rand g;
    shop_ml_rand_init(&g, 11);
    struct shop_mlw_order *o = order_new(100, 0);
    int64_t next[HS_PARTS] = {0}, t = 1000;
    int n = 0;
    for (int op = 0; op < HS_OPS; op++) {
        if (shop_ml_rand_below(&g, 3) != 0) {
            int32_t p = (int32_t)shop_ml_rand_below(&g, HS_PARTS);
            int64_t off = next[p]++;
            if (off > 5 && shop_ml_rand_below(&g, 20) == 0)
                off -= 1 + (int64_t)shop_ml_rand_below(&g, 5);   /* consumed again */
            t += (int64_t)shop_ml_rand_below(&g, 5);
            int64_t at = shop_ml_rand_below(&g, 50) == 0 ? t + 3000 : t - (int64_t)shop_ml_rand_below(&g, 150);
            char id[16];
            snprintf(id, sizeof(id), "r%d", n);
            struct shop_mlw_entry e = entry(SHOP_STREAM_CART, p, off, at, id);
            e.bytes = (const uint8_t *)e.id;
            if (shop_ml_rand_below(&g, 10) == 0)
                e.len = 0;
            enum shop_mlw_order_push res = shop_mlw_order_push(o, &e);
            r[n++] = (struct hs_rec){.partition = p, .offset = off, .buffered = res == SHOP_MLW_ORDER_BUFFERED && e.len > 0};
        } else {
            struct shop_mlw_entry e;
            bool flush = shop_ml_rand_below(&g, 500) == 0;
            while (shop_mlw_order_pop(o, flush, INT64_MAX, &e)) {
                int i = atoi(e.id + 1);
                cr_assert(i >= 0 && i < n && r[i].offset == e.offset && r[i].partition == e.partition);
                r[i].buffered = false;
            }
        }
        if (op % 997 == 0) {
            size_t len;
            uint8_t *rec = encode(o, &len);
            shop_mlw_order_free(o);
            o = order_new(100, 0);
            cr_assert_eq(shop_mlw_order_decode(o, rec, len, NULL, NULL), 0);
            free(rec);
        }
        if (op % 61 == 0 || op == HS_OPS - 1)
            hs_check(o, r, n, op);
    }
    shop_mlw_order_free(o);
}

Test(mlw_order, rejects_negative_windows)
{
    struct shop_mlw_order_cfg cfg = {.lateness_ms = -1, .dedup_window_ms = 10};
    struct shop_mlw_order *o = NULL;
    struct shop_err err = {0};
    cr_assert_eq(shop_mlw_order_new(&cfg, &o, &err), SHOP_EINVAL);
    cr_assert(strstr(err.msg, "lateness_ms") != NULL);
    cfg = (struct shop_mlw_order_cfg){.lateness_ms = 1, .dedup_window_ms = -1};
    cr_assert_eq(shop_mlw_order_new(&cfg, &o, &err), SHOP_EINVAL);
    cr_assert(strstr(err.msg, "dedup_window_ms") != NULL);
}

/* ---- the property: any interleaving pops one total order -------------------------------
 * Each partition's records are fixed; an interleaving gives each record an arrival time,
 * occurred_at plus a random delay below DELAY, in partition order (never before the
 * previous record of its partition). Times within a partition go back by less than
 * JITTER, so a record arrives less than JITTER + DELAY after its occurred_at: with that
 * below LATENESS nothing is ever late, and every interleaving must pop the same
 * sequence: the unique records sorted by (occurred_at, stream, id). */

#define LATENESS 100
#define JITTER 30
#define DELAY 60
#define N_PARTS 6
#define PER_PART 150
#define N_REC (N_PARTS * PER_PART)

static const enum shop_stream part_stream[N_PARTS] = {SHOP_STREAM_BROWSE,    SHOP_STREAM_BROWSE,
                                                      SHOP_STREAM_CART,      SHOP_STREAM_INVENTORY,
                                                      SHOP_STREAM_INVENTORY, SHOP_STREAM_INVENTORY};

struct rec {
    struct shop_mlw_entry e;
    int64_t arrival;
    bool dup;   /* a re-delivery of an earlier record of its partition */
};

struct world {
    struct rec r[N_REC];
};

static void world_make(struct world *w, uint64_t seed)
{
    struct shop_ml_rand g;
    shop_ml_rand_init(&g, seed);
    for (int p = 0; p < N_PARTS; p++) {
        int64_t base = 1000;
        for (int k = 0; k < PER_PART; k++) {
            struct rec *r = &w->r[p * PER_PART + k];
            memset(r, 0, sizeof(*r));
            if (k > 2 && shop_ml_rand_u64(&g) % 10 == 0) {   /* a re-delivery: same id and time */
                r->e = w->r[p * PER_PART + k - 1 - (int)(shop_ml_rand_u64(&g) % 3)].e;
                r->dup = true;
            } else {
                base += 10 * (int64_t)(shop_ml_rand_u64(&g) % 3);          /* coarse: many ties */
                int64_t t = base + 10 * (int64_t)(shop_ml_rand_u64(&g) % (JITTER / 10));
                char id[SHOP_MLW_ID_MAX + 1];
                snprintf(id, sizeof(id), "%08x-0000-4000-8000-%012x", (unsigned)(shop_ml_rand_u64(&g) % 16),
                         p * PER_PART + k);   /* few prefixes: ties in time often compare ids */
                r->e = entry(part_stream[p], p, 0, t, id);
            }
            r->e.partition = p;
            r->e.offset = k;
        }
    }
    for (int i = 0; i < N_REC; i++)   /* the bytes point into the world, which does not move */
        w->r[i].e.bytes = (const uint8_t *)w->r[i].e.id;
}

/* One interleaving of w into order[] (keeps each partition's order). */
static void interleave(struct world *w, uint64_t seed, struct rec **order)
{
    struct shop_ml_rand g;
    shop_ml_rand_init(&g, seed);
    for (int p = 0; p < N_PARTS; p++) {
        int64_t prev = 0;
        for (int k = 0; k < PER_PART; k++) {
            struct rec *r = &w->r[p * PER_PART + k];
            int64_t a = r->e.occurred_at_ms + (int64_t)(shop_ml_rand_u64(&g) % DELAY);
            r->arrival = prev = a > prev ? a : prev;
        }
    }
    /* merge by arrival; among equal arrivals, a random partition goes first */
    int head[N_PARTS] = {0};
    for (int i = 0; i < N_REC; i++) {
        int best = -1, ties = 0;
        for (int p = 0; p < N_PARTS; p++) {
            if (head[p] == PER_PART)
                continue;
            int64_t a = w->r[p * PER_PART + head[p]].arrival;
            int64_t b = best < 0 ? 0 : w->r[best * PER_PART + head[best]].arrival;
            if (best < 0 || a < b) {
                best = p;
                ties = 1;
            } else if (a == b && shop_ml_rand_below(&g, (uint64_t)++ties) == 0) {
                best = p;
            }
        }
        order[i] = &w->r[best * PER_PART + head[best]++];
    }
}

static int cmp_total(const void *a, const void *b)
{
    const struct shop_mlw_entry *x = &(*(const struct rec *const *)a)->e;
    const struct shop_mlw_entry *y = &(*(const struct rec *const *)b)->e;
    if (x->occurred_at_ms != y->occurred_at_ms)
        return x->occurred_at_ms < y->occurred_at_ms ? -1 : 1;
    if (x->stream != y->stream)
        return x->stream < y->stream ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Pushes order[from..to), popping what is due after each push; appends popped ids. */
static void run(struct shop_mlw_order *o, struct rec **order, int from, int to, char (*popped)[SHOP_MLW_ID_MAX + 1],
                int *n_popped, int *dups)
{
    for (int i = from; i < to; i++) {
        enum shop_mlw_order_push rc = shop_mlw_order_push(o, &order[i]->e);
        cr_assert_neq(rc, SHOP_MLW_ORDER_LATE, "nothing is late by construction");
        cr_assert_eq(rc == SHOP_MLW_ORDER_DUPLICATE, order[i]->dup, "record %s", order[i]->e.id);
        *dups += rc == SHOP_MLW_ORDER_DUPLICATE;
        struct shop_mlw_entry e;
        while (shop_mlw_order_pop(o, false, INT64_MAX, &e)) {
            cr_assert_leq(e.occurred_at_ms, shop_mlw_order_clock(o) - LATENESS, "popped before due");
            memcpy(popped[(*n_popped)++], e.id, sizeof(e.id));
        }
    }
}

static int flush(struct shop_mlw_order *o, char (*popped)[SHOP_MLW_ID_MAX + 1], int n_popped)
{
    struct shop_mlw_entry e;
    while (shop_mlw_order_pop(o, true, INT64_MAX, &e))
        memcpy(popped[n_popped++], e.id, sizeof(e.id));
    return n_popped;
}

/* The expected sequence, computed without the buffer. */
static int expected(struct world *w, char (*want)[SHOP_MLW_ID_MAX + 1])
{
    struct rec *u[N_REC];
    int n = 0;
    for (int i = 0; i < N_REC; i++)
        if (!w->r[i].dup)
            u[n++] = &w->r[i];
    qsort(u, (size_t)n, sizeof(*u), cmp_total);
    for (int i = 0; i < n; i++)
        memcpy(want[i], u[i]->e.id, sizeof(want[i]));
    return n;
}

static void assert_same_ids(char (*a)[SHOP_MLW_ID_MAX + 1], char (*b)[SHOP_MLW_ID_MAX + 1], int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(a[i], b[i], "position %d", i);
}

static char popped[N_REC][SHOP_MLW_ID_MAX + 1], want[N_REC][SHOP_MLW_ID_MAX + 1];

Test(mlw_order, any_interleaving_pops_one_total_order)
{
    static struct world w;
    struct rec *order[N_REC];
    for (uint64_t seed = 1; seed <= 30; seed++) {
        world_make(&w, seed);
        int n_want = expected(&w, want);
        for (uint64_t mix = 0; mix < 5; mix++) {
            interleave(&w, seed * 1000 + mix, order);
            struct shop_mlw_order *o = order_new(LATENESS, 3 * LATENESS);
            int n = 0, dups = 0;
            run(o, order, 0, N_REC, popped, &n, &dups);
            cr_assert_gt(n, N_REC / 2, "most records pop before the flush (seed %llu)", (unsigned long long)seed);
            cr_assert_lt(shop_mlw_order_remembered(o), N_REC / 2, "the window forgets");
            n = flush(o, popped, n);
            cr_assert_eq(n, n_want);
            cr_assert_eq(n + dups, N_REC);
            assert_same_ids(popped, want, n);
            for (int p = 0; p < N_PARTS; p++) {
                int64_t next;
                cr_assert_eq(shop_mlw_order_offset(o, part_stream[p], p, &next), 0);
                cr_assert_eq(next, PER_PART);
            }
            shop_mlw_order_free(o);
        }
    }
}

Test(mlw_order, a_checkpoint_mid_stream_changes_nothing)
{
    static struct world w;
    struct rec *order[N_REC];
    for (uint64_t seed = 1; seed <= 10; seed++) {
        world_make(&w, seed);
        int n_want = expected(&w, want);
        interleave(&w, seed, order);
        int cut = (int)(seed * N_REC / 11);
        struct shop_mlw_order *o = order_new(LATENESS, 3 * LATENESS);
        int n = 0, dups = 0;
        run(o, order, 0, cut, popped, &n, &dups);
        size_t len;
        uint8_t *rec = encode(o, &len);
        shop_mlw_order_free(o);
        o = order_new(LATENESS, 3 * LATENESS);
        size_t used = 0;
        cr_assert_eq(shop_mlw_order_decode(o, rec, len, &used, NULL), 0);
        cr_assert_eq(used, len);
        assert_encodes_as(o, rec, len);
        free(rec);
        run(o, order, cut, N_REC, popped, &n, &dups);
        n = flush(o, popped, n);
        cr_assert_eq(n, n_want);
        assert_same_ids(popped, want, n);
        shop_mlw_order_free(o);
    }
}

/* Interleavings give the same content once all is pushed (and after equal pops): equal bytes. */
Test(mlw_order, the_record_does_not_depend_on_push_order)
{
    static struct world w;
    struct rec *order[N_REC];
    world_make(&w, 7);
    uint8_t *first[3] = {0};
    size_t first_len[3] = {0};
    for (uint64_t mix = 0; mix < 4; mix++) {
        interleave(&w, 70 + mix, order);
        struct shop_mlw_order *o = order_new(LATENESS, 3 * LATENESS);
        for (int i = 0; i < N_REC; i++)
            shop_mlw_order_push(o, &order[i]->e);
        for (int stage = 0; stage < 3; stage++) {
            size_t len;
            uint8_t *b = encode(o, &len);
            if (mix == 0) {
                first[stage] = b;
                first_len[stage] = len;
            } else {
                cr_assert(len == first_len[stage] && memcmp(b, first[stage], len) == 0, "stage %d mix %llu",
                          stage, (unsigned long long)mix);
                free(b);
            }
            for (int k = 0; k < N_REC / 3; k++)
                pop(o, true, INT64_MAX);
        }
        shop_mlw_order_free(o);
    }
    for (int stage = 0; stage < 3; stage++)
        free(first[stage]);
}

/* ---- the record -------------------------------------------------------------------------- */

/* A buffer with a bit of everything: offsets, remembered ids behind the last pop, buffered. */
static struct shop_mlw_order *sample(void)
{
    struct shop_mlw_order *o = order_new(10, 1000);
    push(o, SHOP_STREAM_CART, 1, 5, 100, "c1");
    push(o, SHOP_STREAM_BROWSE, 0, 9, 100, "b1");
    push(o, SHOP_STREAM_BROWSE, 0, 10, 200, "b2");
    push(o, SHOP_STREAM_INVENTORY, 3, 0, 250, "i1");
    pop(o, false, INT64_MAX);
    pop(o, false, INT64_MAX);
    push(o, SHOP_STREAM_BROWSE, 2, 1, 50, "late");
    return o;
}

Test(mlw_order, round_trip_is_byte_identical)
{
    struct shop_mlw_order *o = sample();
    size_t len;
    uint8_t *rec = encode(o, &len);
    struct shop_mlw_order *back = order_new(10, 1000);
    cr_assert_eq(shop_mlw_order_decode(back, rec, len, NULL, NULL), 0);
    assert_encodes_as(back, rec, len);
    cr_assert_eq(shop_mlw_order_buffered(back), 2);
    cr_assert_eq(shop_mlw_order_bytes(back), 4);
    cr_assert_eq(shop_mlw_order_remembered(back), 5);
    cr_assert_eq(shop_mlw_order_clock(back), 250);
    int64_t next;
    cr_assert_eq(shop_mlw_order_offset(back, SHOP_STREAM_BROWSE, 0, &next), 0);
    cr_assert_eq(next, 11);
    cr_assert_eq(push(back, SHOP_STREAM_CART, 1, 6, 100, "c1"), SHOP_MLW_ORDER_DUPLICATE);
    cr_assert_eq(push(back, SHOP_STREAM_CART, 1, 7, 50, "late"), SHOP_MLW_ORDER_DUPLICATE);
    cr_assert_eq(push(back, SHOP_STREAM_CART, 1, 8, 99, "x"), SHOP_MLW_ORDER_LATE);
    cr_assert_str_eq(pop(back, true, INT64_MAX), "b2");
    cr_assert_str_eq(pop(back, true, INT64_MAX), "i1");
    free(rec);
    shop_mlw_order_free(back);
    shop_mlw_order_free(o);
}

Test(mlw_order, decode_leaves_the_target_untouched_on_any_damage)
{
    struct shop_mlw_order *o = sample();
    size_t len, tlen;
    uint8_t *rec = encode(o, &len);
    struct shop_mlw_order *target = order_new(10, 1000);
    push(target, SHOP_STREAM_ORDER, 4, 4, 4, "keep");
    uint8_t *before = encode(target, &tlen);
    struct shop_err err = {0};
    for (size_t n = 0; n < len; n++) {
        cr_assert_eq(shop_mlw_order_decode(target, rec, n, NULL, &err), SHOP_EBADMSG, "truncated to %zu", n);
        assert_encodes_as(target, before, tlen);
    }
    uint8_t *bad = malloc(len);
    for (size_t bit = 0; bit < 8 * len; bit++) {
        memcpy(bad, rec, len);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cr_assert_eq(shop_mlw_order_decode(target, bad, len, NULL, &err), SHOP_EBADMSG, "bit %zu", bit);
        assert_encodes_as(target, before, tlen);
    }
    /* another model's magic, with a CRC that matches it */
    memcpy(bad, rec, len);
    memcpy(bad, "COOC", 4);
    uint32_t crc = shop_ml_crc32(bad, len - 4);
    for (int i = 0; i < 4; i++)
        bad[len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
    cr_assert_eq(shop_mlw_order_decode(target, bad, len, NULL, &err), SHOP_EBADMSG);
    assert_encodes_as(target, before, tlen);
    free(bad);
    free(before);
    free(rec);
    shop_mlw_order_free(target);
    shop_mlw_order_free(o);
}

/* ---- records with a valid CRC and wrong content -------------------------------------------- */

struct rkey {
    int64_t t;
    uint8_t stream;
    const char *id;
};

static void put_key(struct shop_ml_writer *w, struct rkey k)
{
    shop_ml_put_i64(w, k.t);
    shop_ml_put_u8(w, k.stream);
    shop_ml_put_u8(w, (uint8_t)strlen(k.id));
    shop_ml_put_bytes(w, k.id, strlen(k.id));
}

struct raw {
    int64_t clock;
    uint8_t has_last;
    struct rkey last;
    int n_offs;
    uint8_t off_stream[3];
    uint32_t off_part[3];
    int64_t off_next[3];
    int n_past;
    struct rkey past[3];
    int n_buf;
    struct rkey buf[3];
    uint32_t buf_part[3];
    int64_t buf_offset[3];
    const char *buf_bytes[3];
};

static struct raw raw_good(void)
{
    return (struct raw){.clock = 100,
                        .has_last = 1,
                        .last = {50, SHOP_STREAM_CART, "b"},
                        .n_offs = 2,
                        .off_stream = {SHOP_STREAM_BROWSE, SHOP_STREAM_CART},
                        .off_part = {0, 1},
                        .off_next = {4, 2},
                        .n_past = 2,
                        .past = {{40, SHOP_STREAM_BROWSE, "a"}, {50, SHOP_STREAM_CART, "b"}},
                        .n_buf = 2,
                        .buf = {{60, SHOP_STREAM_BROWSE, "c"}, {100, SHOP_STREAM_BROWSE, "d"}},
                        .buf_part = {0, 0},
                        .buf_offset = {2, 3},
                        .buf_bytes = {"cc", "ddd"}};
}

static int raw_decode(const struct raw *r)
{
    struct shop_ml_writer w;
    shop_ml_writer_init(&w);
    shop_ml_writer_begin(&w, "MLWO");
    shop_ml_put_i64(&w, r->clock);
    shop_ml_put_u8(&w, r->has_last);
    if (r->has_last)
        put_key(&w, r->last);
    shop_ml_put_u64(&w, (uint64_t)r->n_offs);
    for (int i = 0; i < r->n_offs; i++) {
        shop_ml_put_u8(&w, r->off_stream[i]);
        shop_ml_put_u32(&w, r->off_part[i]);
        shop_ml_put_i64(&w, r->off_next[i]);
    }
    shop_ml_put_u64(&w, (uint64_t)r->n_past);
    for (int i = 0; i < r->n_past; i++)
        put_key(&w, r->past[i]);
    shop_ml_put_u64(&w, (uint64_t)r->n_buf);
    for (int i = 0; i < r->n_buf; i++) {
        put_key(&w, r->buf[i]);
        shop_ml_put_u32(&w, r->buf_part[i]);
        shop_ml_put_i64(&w, r->buf_offset[i]);
        shop_ml_put_u64(&w, strlen(r->buf_bytes[i]));
        shop_ml_put_bytes(&w, r->buf_bytes[i], strlen(r->buf_bytes[i]));
    }
    shop_ml_writer_end(&w);
    size_t len;
    uint8_t *b = shop_ml_writer_take(&w, &len);
    struct shop_mlw_order *o = order_new(10, 1000);
    push(o, SHOP_STREAM_ORDER, 4, 4, 4, "keep");
    size_t before_len;
    uint8_t *before = encode(o, &before_len);
    int rc = shop_mlw_order_decode(o, b, len, NULL, NULL);
    if (rc == 0)   /* whatever decodes must encode back to the same bytes */
        assert_encodes_as(o, b, len);
    else
        assert_encodes_as(o, before, before_len);
    free(before);
    free(b);
    shop_mlw_order_free(o);
    return rc;
}

Test(mlw_order, decode_checks_the_content)
{
    struct raw r = raw_good();
    cr_assert_eq(raw_decode(&r), 0, "the good record decodes");

#define BAD(what, ...)                                                                                     \
    do {                                                                                                      \
        r = raw_good();                                                                                       \
        __VA_ARGS__;                                                                                          \
        cr_assert_eq(raw_decode(&r), SHOP_EBADMSG, what);                                                     \
    } while (0)
    BAD("negative clock", r.clock = -1);
    BAD("has_last not 0/1", r.has_last = 2);
    BAD("last ahead of the clock", r.last.t = 101);
    BAD("stream out of range", r.last.stream = SHOP_STREAM_COUNT);
    BAD("empty id", r.last.id = "");
    BAD("offsets out of order", (r.off_stream[0] = SHOP_STREAM_CART, r.off_part[0] = 1));
    BAD("offset row stream out of range", r.off_stream[1] = 200);
    BAD("partition above INT32_MAX", r.off_part[1] = 0x80000000u);
    BAD("next offset below 1", r.off_next[0] = 0);
    BAD("remembered ids out of order", (r.past[0] = r.past[1], r.past[1] = (struct rkey){40, 0, "a"}));
    BAD("remembered id ahead of the last pop", r.past[1].t = 51);
    BAD("remembered ids without a last pop", r.has_last = 0);
    BAD("remembered ids without a last pop, before time 0", r.has_last = 0, r.n_past = 1, r.past[0].t = -5);
    BAD("buffered entry at the last pop", r.buf[0] = r.last);
    BAD("buffered entry behind the last pop", r.buf[0] = (struct rkey){45, SHOP_STREAM_BROWSE, "c"});
    BAD("buffered entries out of order", (r.buf[0].t = 100, r.buf[1].t = 60));
    BAD("buffered entry ahead of the clock", r.buf[1].t = 101);
    BAD("buffered id also remembered", r.buf[1].id = "a");
    BAD("buffered ids repeated", r.buf[1].id = "c");
    BAD("buffered entry from an unknown partition", r.buf_part[1] = 7);
    BAD("negative offset", r.buf_offset[0] = -1);
#undef BAD
}

Test(mlw_order, decode_keeps_the_targets_window)
{
    struct shop_mlw_order *o = sample();   /* window 1000: remembers b1, c1 and late */
    size_t len;
    uint8_t *rec = encode(o, &len);
    struct shop_mlw_order *narrow = order_new(10, 100);
    cr_assert_eq(shop_mlw_order_decode(narrow, rec, len, NULL, NULL), 0);
    cr_assert_eq(shop_mlw_order_remembered(narrow), 2, "at clock 250, late, b1 and c1 are more than 100 behind");
    cr_assert_eq(push(narrow, SHOP_STREAM_CART, 1, 6, 100, "c1"), SHOP_MLW_ORDER_LATE);
    cr_assert_eq(push(narrow, SHOP_STREAM_BROWSE, 0, 11, 200, "b2"), SHOP_MLW_ORDER_DUPLICATE, "buffered");
    free(rec);
    shop_mlw_order_free(narrow);
    shop_mlw_order_free(o);
}
