/* SPDX-License-Identifier: MIT
 * A bump allocator whose memory is freed all at once (h2o's pool,
 * PostgreSQL's per-message context). Pure. Allocation aborts on OOM, so
 * callers never check for NULL. Not thread-safe: one arena per owner.
 */
#ifndef SHOP_ARENA_H
#define SHOP_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct shop_arena_chunk;

struct shop_arena {
    struct shop_arena_chunk *head;
    size_t used;       /* bytes used in head */
    size_t total;      /* bytes handed out since the last reset */
};

#define SHOP_ARENA_INIT {NULL, 0, 0}

/** Returns size bytes aligned for any type, zeroed; lives until reset/fini. */
void *shop_arena_alloc(struct shop_arena *arena, size_t size);
/** Like shop_arena_alloc, but the bytes are not zeroed (for callers that fill them). */
void *shop_arena_alloc_uninit(struct shop_arena *arena, size_t size);
/** True when p points into one of the chunks arena holds now. Walks the
 *  arena's chunks (a handful: each is at least twice the last, up to 512 KiB). */
bool shop_arena_owns(const struct shop_arena *arena, const void *p);
/** Copies n bytes of s plus a NUL terminator into the arena. */
char *shop_arena_strndup(struct shop_arena *arena, const char *s, size_t n);
char *shop_arena_strdup(struct shop_arena *arena, const char *s);
/** Frees everything but the first chunk, which is kept for reuse. */
void shop_arena_reset(struct shop_arena *arena);
/** Frees all memory; the arena may be used again afterwards. */
void shop_arena_fini(struct shop_arena *arena);

/** malloc/calloc/realloc/strdup that abort on OOM (Redis zmalloc). */
void *shop_xmalloc(size_t size);
void *shop_xcalloc(size_t n, size_t size);
void *shop_xrealloc(void *p, size_t size);
char *shop_xstrdup(const char *s);

#endif
