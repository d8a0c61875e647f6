/* SPDX-License-Identifier: MIT
 * One partition's offset window: records in offset order, each with the endpoints it
 * still waits for. The group's commit position never passes a record some endpoint
 * has neither received nor parked: at-least-once. Pure.
 */
#include <stdlib.h>
#include <string.h>

#include "base/shop_arena.h"
#include "workers/core/notify.h"

void shop_notify_window_init(struct shop_notify_window *win)
{
    memset(win, 0, sizeof(*win));
    win->next_commit = -1;
}

void shop_notify_window_fini(struct shop_notify_window *win)
{
    free(win->offsets);
    free(win->remaining);
    shop_notify_window_init(win);
}

static void grow(struct shop_notify_window *win)
{
    size_t cap = win->cap > 0 ? win->cap * 2 : 64;
    int64_t *offsets = shop_xcalloc(cap, sizeof(*offsets));
    uint32_t *remaining = shop_xcalloc(cap, sizeof(*remaining));
    for (size_t i = 0; i < win->n; i++) {   /* unwrap the ring */
        offsets[i] = win->offsets[(win->head + i) % win->cap];
        remaining[i] = win->remaining[(win->head + i) % win->cap];
    }
    free(win->offsets);
    free(win->remaining);
    win->offsets = offsets;
    win->remaining = remaining;
    win->head = 0;
    win->cap = cap;
}

static void pop_done(struct shop_notify_window *win)
{
    while (win->n > 0 && win->remaining[win->head] == 0) {
        win->next_commit = win->offsets[win->head] + 1;
        win->head = (win->head + 1) % win->cap;
        win->n--;
    }
}

void shop_notify_window_push(struct shop_notify_window *win, int64_t offset, uint32_t remaining)
{
    if (win->n == 0 && remaining == 0) {     /* nothing waits: done at once */
        win->next_commit = offset + 1;
        return;
    }
    if (win->n == win->cap)
        grow(win);
    size_t slot = (win->head + win->n) % win->cap;
    win->offsets[slot] = offset;
    win->remaining[slot] = remaining;
    win->n++;
    if (win->n == 1 && win->next_commit < 0)
        win->next_commit = offset;           /* nothing before it is ours to hold */
}

int shop_notify_window_done(struct shop_notify_window *win, int64_t offset)
{
    /* Offsets increase along the ring: binary search. */
    size_t lo = 0, hi = win->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (win->offsets[(win->head + mid) % win->cap] < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t slot = (win->head + lo) % win->cap;
    if (lo == win->n || win->offsets[slot] != offset || win->remaining[slot] == 0)
        return SHOP_ENOTFOUND;
    win->remaining[slot]--;
    pop_done(win);
    return 0;
}

int64_t shop_notify_window_commit(const struct shop_notify_window *win)
{
    if (win->n > 0)
        return win->offsets[win->head];
    return win->next_commit;
}
